//! What the real binary says at 80x24, read through vt100 as a person would: a key bound to
//! nothing says so (a bidi character named, never written raw to the terminal), and without
//! a log source `l` is not hinted and the log view explains how to configure one, whole.

mod support;

use std::io::Write;
use std::time::Duration;

use support::pty::spawn;
use support::{TestCluster, eventually};

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

#[test]
fn not_bound_keys_and_logs_without_a_source_at_80x24() {
    let c = TestCluster::start(1);
    let cfg = c.config_path().to_string_lossy().to_string();
    // no patrol config of the user's (it could name a log source)
    let home = tempfile::tempdir().expect("tempdir");
    let xdg = home.path().to_string_lossy().to_string();
    let (mut child, mut keys, screen) = spawn(
        &["-c", &cfg],
        &[("XDG_CONFIG_HOME", &xdg), ("HOME", &xdg)],
        80,
        24,
    );
    let mut send = |b: &[u8]| {
        keys.write_all(b).expect("write to the pty");
        keys.flush().expect("flush the pty");
        // a person's pace: not a burst
        std::thread::sleep(Duration::from_millis(300));
    };
    let t = screen.wait_for("the member on screen", "pg1");
    let hints = t.lines().last().unwrap_or_default().to_string();
    assert!(hints.contains("? help"), "the hint bar: {hints:?}\n{t}");
    assert!(
        !hints.contains("l logs"),
        "no log source: l is not hinted: {hints:?}"
    );

    send(b":");
    screen.wait_for("the not-bound message", ": is not bound here; ? for help");

    // a right-to-left override typed: named, and its bytes never reach the terminal
    let before = count(&screen.raw(), "\u{202e}".as_bytes());
    send("\u{202e}".as_bytes());
    screen.wait_for("the bidi key named", "U+202E is not bound here; ? for help");
    assert_eq!(
        count(&screen.raw(), "\u{202e}".as_bytes()),
        before,
        "the character itself was written to the terminal"
    );

    // l: the log view explains, every line of it whole at 80 columns
    send(b"l");
    let t = screen.wait_for("the explanation", "No log source is configured");
    for line in patrol::ui::NO_LOG_SOURCE {
        assert!(t.contains(line), "{line:?} cut or missing:\n{t}");
    }
    assert!(!t.contains("is not bound"), "the last message went: {t}");

    send(b"\x1b");
    screen.wait_for("back to the members", "Members");
    send(b"q");
    let status = eventually(Duration::from_secs(10), "patrol exits after q", || {
        child.try_wait().ok().flatten()
    });
    assert!(status.success(), "exit status {status:?}");
}
