//! Time on screen, on the real binary in a PTY against the real sandbox cluster: the
//! relative times advance on an idle cluster, and the process stays asleep otherwise (the
//! bytes it writes to its terminal over an idle period are counted).

mod support;

use std::io::Write;
use std::time::Duration;

use support::pty::{KillOnDrop, spawn};
use support::{TestCluster, eventually};

/// The `Ns ago` of the Operations panel's first line.
fn ago_line(text: &str) -> Option<String> {
    text.lines()
        .find(|l| l.contains(" ago ") && l.contains("reload"))
        .map(|l| l.trim().to_string())
}

#[test]
fn ages_advance_on_an_idle_cluster_and_nothing_else_is_drawn() {
    let c = TestCluster::start(2);
    let leader = c.leader().expect("leader");
    let cfg = c.config_path().to_string_lossy().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl").to_string_lossy().to_string();
    // outside tmux: every frame is one synchronized update, so frames can be counted
    let (child, mut keys, screen) = spawn(
        &["-c", &cfg, "--audit-log", &audit],
        &[("TMUX", "")],
        120,
        40,
    );
    let _guard = KillOnDrop(child);
    eventually(
        Duration::from_secs(30),
        "both members streaming, the sign of life on screen",
        || {
            let t = screen.text();
            (t.contains(&format!("leader {leader}"))
                && t.contains("streaming")
                && t.contains("as of "))
            .then_some(())
        },
    );
    // let the trend column fill and the start settle: then the cluster is idle
    std::thread::sleep(Duration::from_secs(12));

    // idle, no relative time on screen: only the sign of life may move, once a second
    let before = screen.raw().len();
    let idle = Duration::from_secs(10);
    std::thread::sleep(idle);
    let written = screen.raw().len() - before;
    let text = screen.text();
    assert!(!text.contains(" ago"), "no relative time on screen: {text}");
    // a wholesale redraw of 120x40 is over 4800 bytes: one a second would be 48 000; the
    // sign of life (8 characters of a clock) is a few dozen bytes a frame
    eprintln!("idle, no age shown: {written} bytes in {idle:?}");
    assert!(
        written <= 10 * 400,
        "{written} bytes in {idle:?} with nothing but the sign of life moving"
    );
    assert!(
        written > 0,
        "the sign of life moves while etcd and REST answer"
    );

    // an operation puts an age on screen: reload the leader (harmless), read it twice
    keys.write_all(b"L").expect("L");
    eventually(Duration::from_secs(5), "the reload dialog", || {
        screen.text().contains("reload · ").then_some(())
    });
    // a person's pace: a send key right behind the key before it is refused as a burst
    std::thread::sleep(Duration::from_millis(1500));
    keys.write_all(b"y").expect("y");
    let first = eventually(Duration::from_secs(10), "the operation's age", || {
        ago_line(&screen.text())
    });
    std::thread::sleep(Duration::from_secs(4));
    let before = screen.raw().len();
    std::thread::sleep(Duration::from_secs(3));
    let written = screen.raw().len() - before;
    let second = ago_line(&screen.text()).expect("the panel is still there");
    assert_ne!(first, second, "the age advances on an idle cluster");
    // `│     6s ago reload pg1 ...`: the word before "ago"
    let secs = |l: &str| -> Option<u64> {
        let words: Vec<&str> = l.split_whitespace().collect();
        let i = words.iter().position(|w| *w == "ago")?;
        words
            .get(i.checked_sub(1)?)?
            .strip_suffix('s')?
            .parse()
            .ok()
    };
    let (a, b) = (secs(&first), secs(&second));
    assert!(
        a.zip(b).is_some_and(|(a, b)| b >= a + 5),
        "{first} then {second}: 7 s later"
    );
    eprintln!("idle, an age shown: {written} bytes in 3 s");
    assert!(written > 0, "an age on screen: frames are written");
    assert!(
        written <= 3 * 800,
        "{written} bytes in 3 s: more than a small frame a second"
    );
    keys.write_all(b"q").expect("q");
}
