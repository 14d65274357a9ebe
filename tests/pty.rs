//! The real binary in a pseudo-terminal, read through vt100 as a person would see it.

mod support;

use std::io::Write;
use std::time::Duration;

use support::pty::spawn;
use support::{TestCluster, eventually};

#[test]
fn shows_the_cluster_and_quits_cleanly() {
    let c = TestCluster::start(3);
    let leader = c.leader().expect("leader");
    let cfg = c.config_path().to_string_lossy().to_string();
    let logs = format!("file:{}/{{member}}/log/patroni.log", c.dir().display());
    let (mut child, mut keys, screen) = spawn(&["-c", &cfg, "--logs", &logs], &[], 120, 40);

    let text = eventually(
        Duration::from_secs(20),
        "all three members and the leader on screen",
        || {
            let t = screen.text();
            let ok = ["pg1", "pg2", "pg3"].iter().all(|m| t.contains(m))
                && t.contains(&format!("leader {leader}"))
                && t.matches("streaming").count() >= 2
                && t.contains("etcd ● live");
            ok.then_some(t)
        },
    );
    assert!(screen.alternate(), "the TUI runs on the alternate screen");
    assert!(text.contains("etcd ● live"), "{text}");

    // help is generated from the keymap
    keys.write_all(b"?").expect("send ?");
    eventually(Duration::from_secs(5), "help overlay", || {
        screen.text().contains("quit patrol").then_some(())
    });
    keys.write_all(b"\x1b").expect("send esc");
    eventually(Duration::from_secs(5), "help closed", || {
        (!screen.text().contains("quit patrol")).then_some(())
    });

    // l: the selected member's (the leader's) Patroni log
    keys.write_all(b"l").expect("send l");
    eventually(
        Duration::from_secs(15),
        "Patroni log lines on screen",
        || {
            let t = screen.text();
            (t.contains(&format!("Log {leader}")) && t.contains("INFO: no action")).then_some(())
        },
    );
    keys.write_all(b"\x1b").expect("send esc");
    eventually(Duration::from_secs(5), "back to the members", || {
        screen.text().contains("Members").then_some(())
    });

    keys.write_all(b"q").expect("send q");
    let status = eventually(Duration::from_secs(10), "patrol exits after q", || {
        child.try_wait().ok().flatten()
    });
    assert!(status.success(), "exit status {status:?}");
    eventually(Duration::from_secs(5), "terminal restored", || {
        (!screen.alternate() && !screen.cursor_hidden()).then_some(())
    });
}

fn leader_line(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix("leader "))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
}

#[test]
fn switchover_by_keys_only_and_read_only_refuses() {
    let c = TestCluster::start(3);
    let cfg = c.config_path().to_string_lossy().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl").to_string_lossy().to_string();

    // --read-only: s does nothing, the hint bar offers no switchover
    let (mut child, mut keys, screen) = spawn(
        &["-c", &cfg, "--read-only", "--audit-log", &audit],
        &[],
        120,
        40,
    );
    let text = eventually(Duration::from_secs(20), "cluster on screen", || {
        let t = screen.text();
        (t.matches("streaming").count() >= 2).then_some(t)
    });
    assert!(!text.contains("s switchover"), "{text}");
    assert!(text.contains("read-only"), "{text}");
    let leader = leader_line(&text).expect("leader in the header");
    keys.write_all(b"s").expect("s");
    eventually(Duration::from_secs(5), "refusal shown", || {
        screen
            .text()
            .contains("read-only: switchover not sent (patrol was started read-only)")
            .then_some(())
    });
    keys.write_all(b"\ry").expect("enter y");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        c.leader().as_deref(),
        Some(leader.as_str()),
        "nothing changed in read-only mode"
    );
    keys.write_all(b"q").expect("q");
    eventually(Duration::from_secs(10), "exit", || {
        child.try_wait().ok().flatten()
    });
    assert!(
        !std::path::Path::new(&audit).exists(),
        "nothing audited: nothing was sent"
    );

    // s, Enter, y: the leader changes and the new one is on screen
    let (mut child, mut keys, screen) = spawn(&["-c", &cfg, "--audit-log", &audit], &[], 120, 40);
    eventually(Duration::from_secs(20), "cluster on screen", || {
        (screen.text().matches("streaming").count() >= 2).then_some(())
    });
    support::pty::review_switchover(&mut keys, &screen);
    let t0 = std::time::Instant::now();
    keys.write_all(b"y").expect("y");
    let new = eventually(Duration::from_secs(60), "a new leader on screen", || {
        leader_line(&screen.text()).filter(|l| *l != leader)
    });
    eprintln!("y -> new leader {new} on screen: {:?}", t0.elapsed());
    assert_eq!(
        c.leader().as_deref(),
        Some(new.as_str()),
        "patronictl agrees"
    );
    eventually(Duration::from_secs(60), "operation settles", || {
        screen.text().contains("done:").then_some(())
    });
    keys.write_all(b"q").expect("q");
    let status = eventually(Duration::from_secs(10), "exit", || {
        child.try_wait().ok().flatten()
    });
    assert!(status.success());
    let audit_text = std::fs::read_to_string(&audit).expect("audit log written");
    // the intent line (before the request left), then the outcome
    assert_eq!(audit_text.lines().count(), 2, "{audit_text}");
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    let c = TestCluster::start(1);
    let cfg = c.config_path().to_string_lossy().to_string();
    for sig in ["TERM", "HUP"] {
        let (mut child, _keys, screen) = spawn(&["-c", &cfg], &[], 80, 24);
        eventually(Duration::from_secs(20), "member on screen", || {
            screen.text().contains("pg1").then_some(())
        });
        let pid = child.process_id().expect("pid");
        let st = std::process::Command::new("kill")
            .args([&format!("-{sig}"), &pid.to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
        let status = eventually(Duration::from_secs(10), "patrol exits on signal", || {
            child.try_wait().ok().flatten()
        });
        assert!(status.success(), "SIG{sig}: exit status {status:?}");
        eventually(Duration::from_secs(5), "terminal restored", || {
            (!screen.alternate() && !screen.cursor_hidden()).then_some(())
        });
    }
}

#[test]
fn broken_config_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("patroni.yml");
    std::fs::write(&bad, "scope: x\netcd3:\n  hosts: [a\n").expect("write");
    let (mut child, _keys, screen) = spawn(&["-c", &bad.to_string_lossy()], &[], 80, 24);
    let status = eventually(Duration::from_secs(10), "patrol exits", || {
        child.try_wait().ok().flatten()
    });
    assert!(!status.success());
    let text = eventually(Duration::from_secs(5), "error on screen", || {
        let t = screen.text();
        t.contains("patroni.yml:").then_some(t)
    });
    assert!(!text.contains("panicked"), "{text}");
    assert!(!screen.alternate());
}

/// How many times these bytes occur in `hay`.
fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

#[test]
fn frames_are_synchronized_outside_tmux_and_not_inside_it_unless_asked() {
    const BEGIN: &[u8] = b"\x1b[?2026h";
    const END: &[u8] = b"\x1b[?2026l";
    let dir = tempfile::tempdir().expect("tempdir");
    // no etcd to reach: the console still draws (connecting ...), which is all this needs
    let cfg = dir.path().join("patronictl.yaml");
    std::fs::write(&cfg, "scope: demo\netcd3:\n  host: 127.0.0.1:1\n").expect("write");
    let cfg = cfg.to_string_lossy().to_string();
    let run = |extra: &[&str], env: &[(&str, &str)]| -> Vec<u8> {
        let mut args = vec!["-c", cfg.as_str()];
        args.extend_from_slice(extra);
        let (mut child, mut keys, screen) = spawn(&args, env, 80, 24);
        screen.wait_for("first frame", "demo");
        // a few clock ticks: more frames
        std::thread::sleep(Duration::from_millis(2200));
        keys.write_all(b"q").expect("q");
        let status = eventually(Duration::from_secs(10), "patrol exits", || {
            child.try_wait().ok().flatten()
        });
        assert!(status.success());
        screen.raw()
    };
    // auto, not in tmux: every frame begins and ends a synchronized update
    let raw = run(&[], &[("TMUX", "")]);
    let (b, e) = (count(&raw, BEGIN), count(&raw, END));
    assert!(b >= 2, "frames are synchronized: {b} begins");
    assert_eq!(b, e, "every synchronized update ends");
    // auto inside tmux: none
    let raw = run(&[], &[("TMUX", "/tmp/tmux-0/default,1,0")]);
    assert_eq!((count(&raw, BEGIN), count(&raw, END)), (0, 0));
    // asked for inside tmux, refused outside it
    let raw = run(
        &["--sync-output", "on"],
        &[("TMUX", "/tmp/tmux-0/default,1,0")],
    );
    assert!(count(&raw, BEGIN) >= 2);
    let raw = run(&["--sync-output", "off"], &[("TMUX", "")]);
    assert_eq!(count(&raw, BEGIN), 0);
}
