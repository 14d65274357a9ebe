//! Keys that no person typed, with the real binary in a pseudo-terminal against a real
//! cluster: a bracketed paste of `s`, Enter, `y` and the same three keys in one write (a
//! terminal without bracketed paste, `tmux send-keys`) send nothing; the screen says why;
//! the audit log (written before any request leaves) stays empty and the leader stays. A
//! deliberate `y` afterwards does send, so the counting would see a request. On a 50x12
//! terminal the review is cut off and `y` sends nothing. Bracketed paste is enabled at start
//! and disabled at exit.

mod support;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use support::pty::{Keys, KillOnDrop, Screen, spawn};
use support::{TestCluster, eventually};

const PASTE_ON: &[u8] = b"\x1b[?2004h";
const PASTE_OFF: &[u8] = b"\x1b[?2004l";

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

fn leader_line(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix("leader "))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
}

/// Lines in the audit log: every request that left the process has its intent line there,
/// written before it was sent.
fn audited(audit: &Path) -> usize {
    std::fs::read_to_string(audit)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// One write to the terminal: every byte arrives in one read.
fn write(keys: &mut Keys, bytes: &[u8]) {
    keys.write_all(bytes).expect("write to the pty");
    keys.flush().expect("flush the pty");
}

/// Nothing sent for `secs` seconds: the leader is `leader` and the audit log is empty.
fn nothing_sent_for(c: &TestCluster, leader: &str, audit: &Path, secs: u64, what: &str) {
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < until {
        assert_eq!(audited(audit), 0, "{what}: a request was audited (sent)");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(
        c.leader().as_deref(),
        Some(leader),
        "{what}: the leader changed"
    );
    assert_eq!(audited(audit), 0, "{what}: a request was audited (sent)");
}

fn wait_eligible(keys: &mut Keys, screen: &Screen) {
    // a candidate is eligible once its lag is known: open the dialog, see it, close it
    write(keys, b"s");
    eventually(Duration::from_secs(15), "an eligible candidate", || {
        screen.text().contains(" eligible").then_some(())
    });
    std::thread::sleep(Duration::from_millis(300));
    write(keys, b"\x1b");
    eventually(Duration::from_secs(5), "the dialog closed", || {
        (!screen.text().contains("switchover ·")).then_some(())
    });
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn a_paste_and_a_burst_of_keys_send_nothing_and_a_small_window_refuses() {
    let c = TestCluster::start(3);
    let cfg = c.config_path().to_string_lossy().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    let audit_arg = audit.to_string_lossy().to_string();
    let (child, mut keys, screen) = spawn(&["-c", &cfg, "--audit-log", &audit_arg], &[], 120, 40);
    let mut child = KillOnDrop(child);
    let text = eventually(Duration::from_secs(30), "cluster on screen", || {
        let t = screen.text();
        (t.matches("streaming").count() >= 2).then_some(t)
    });
    let leader = leader_line(&text).expect("leader in the header");
    assert!(
        count(&screen.raw(), PASTE_ON) >= 1,
        "bracketed paste is enabled"
    );
    wait_eligible(&mut keys, &screen);

    // a bracketed paste of s, Enter, y: text, not keys
    write(&mut keys, b"\x1b[200~s\ry\x1b[201~");
    // counted where requests leave first, then what the screen says
    nothing_sent_for(&c, &leader, &audit, 4, "bracketed paste");
    let t = screen.text();
    assert!(t.contains("pasted text ignored"), "{t}");
    assert!(
        !t.contains("switchover ·"),
        "a paste opened the dialog: {t}"
    );

    // the same keys in one write: s opens, Enter reviews, the y right behind it is refused
    write(&mut keys, b"s\ry");
    nothing_sent_for(&c, &leader, &audit, 4, "key burst");
    let t = screen.text();
    assert!(t.contains("POST http"), "the review is open: {t}");
    assert!(t.contains("faster than anyone reads"), "{t}");

    // a deliberate y, long after the burst: this one sends (so the counting above counts)
    write(&mut keys, b"y");
    let new = eventually(Duration::from_secs(60), "a new leader on screen", || {
        leader_line(&screen.text()).filter(|l| *l != leader)
    });
    assert_eq!(c.leader().as_deref(), Some(new.as_str()));
    assert!(audited(&audit) >= 1, "the deliberate y was audited");
    eventually(Duration::from_secs(60), "operation settles", || {
        screen.text().contains("done:").then_some(())
    });
    write(&mut keys, b"q");
    let status = eventually(Duration::from_secs(10), "patrol exits", || {
        child.0.try_wait().ok().flatten()
    });
    assert!(status.success(), "{status:?}");
    let raw = screen.raw();
    let last_on = raw
        .windows(PASTE_ON.len())
        .rposition(|w| w == PASTE_ON)
        .expect("enabled");
    let last_off = raw.windows(PASTE_OFF.len()).rposition(|w| w == PASTE_OFF);
    assert!(
        last_off.is_some_and(|off| off > last_on),
        "bracketed paste is disabled at exit"
    );
    eventually(Duration::from_secs(5), "terminal restored", || {
        (!screen.alternate()).then_some(())
    });
    let sent = audited(&audit);

    // 50x12: the review does not fit; y sends nothing, and the dialog says why
    let (child, mut keys, screen) = spawn(&["-c", &cfg, "--audit-log", &audit_arg], &[], 50, 12);
    let mut child = KillOnDrop(child);
    eventually(Duration::from_secs(30), "patrol up on 50x12", || {
        screen.text().contains(&new).then_some(())
    });
    // the candidate eligible (its lag known), so nothing but the size stands in the way
    write(&mut keys, b"s");
    eventually(Duration::from_secs(15), "an eligible candidate", || {
        screen.text().contains(" eligible").then_some(())
    });
    std::thread::sleep(Duration::from_millis(700));
    write(&mut keys, b"\r");
    screen.wait_for("the review, cut off", "request cut off: enlarge the window");
    std::thread::sleep(Duration::from_millis(700));
    write(&mut keys, b"y");
    let until = std::time::Instant::now() + Duration::from_secs(4);
    while std::time::Instant::now() < until {
        assert_eq!(audited(&audit), sent, "y sent a request not on screen");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(
        c.leader().as_deref(),
        Some(new.as_str()),
        "the leader moved"
    );
    assert!(
        screen.text().contains("request cut off"),
        "{}",
        screen.text()
    );
    write(&mut keys, b"\x1b");
    std::thread::sleep(Duration::from_millis(300));
    write(&mut keys, b"\x03");
    eventually(Duration::from_secs(10), "patrol exits", || {
        child.0.try_wait().ok().flatten()
    });
    assert!(count(&screen.raw(), PASTE_OFF) >= 1, "disabled at exit");
}
