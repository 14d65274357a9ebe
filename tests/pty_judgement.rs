//! The screen never lies about a write (issue 18 §1), with the real binary on a pty against
//! a real cluster: the switchover dialog is opened the moment the members are on screen
//! (the race where the review showed `✓ p2 is eligible` and `y` answered `not sent: p2 is
//! not eligible: lag unknown`), reviewed, and confirmed at a person's pace. Whatever `y`
//! answers must agree with the checks on the screen when it was pressed: a refusal names a
//! `✗` check that was on it, a send happens only when none was, and a change is shown
//! (with the send key held) before anything is refused on it.

mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use support::pty::{Keys, Screen, spawn};
use support::{TestCluster, eventually};

/// The `✗` checks of the dialog on this screen (the lines between its `checks` and
/// `request` headings), without the popup's border.
fn failing_checks(screen: &str) -> Vec<String> {
    let lines: Vec<&str> = screen.lines().collect();
    let Some(start) = lines.iter().position(|l| l.contains("│ checks")) else {
        return Vec::new();
    };
    // each check with its wrapped continuation lines (which start with no mark)
    let mut checks: Vec<String> = Vec::new();
    for l in lines[start + 1..]
        .iter()
        .take_while(|l| !l.contains("│ request"))
    {
        let t = l.trim_matches(|c: char| c == '│' || c.is_whitespace());
        match checks.last_mut() {
            Some(last) if !t.starts_with(['✓', '!', '✗']) && !t.is_empty() => {
                last.push(' ');
                last.push_str(t);
            }
            _ => checks.push(t.to_string()),
        }
    }
    checks
        .iter()
        .filter_map(|c| c.strip_prefix("✗ ").map(str::to_string))
        .collect()
}

fn press(keys: &mut Keys, k: &[u8]) {
    keys.write_all(k).expect("key");
    keys.flush().expect("flush");
}

/// What the dialog's notice line says, or "sent" once the dialog closed on a switchover.
fn answer(screen: &Screen) -> (String, String) {
    let start = Instant::now();
    loop {
        let t = screen.text();
        if let Some(n) = t
            .lines()
            .map(|l| l.trim_matches(|c: char| c == '│' || c.is_whitespace()))
            .find(|l| l.starts_with("not sent:") || l.contains("changed: read"))
        {
            return (n.to_string(), t);
        }
        if !t.contains("│ checks") && t.contains("switchover") && t.contains("Operations") {
            return ("sent".into(), t);
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no answer to y; the screen:\n{t}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Open the switchover dialog as soon as the members are on screen, review, and press `y`
/// until it is sent or refused by a check; every answer is held against the screen the
/// key was pressed on.
fn race(c: &TestCluster, round: usize) -> String {
    let cfg = c.config_path().to_string_lossy().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl").to_string_lossy().to_string();
    let (_child, mut keys, screen) = spawn(&["-c", &cfg, "--audit-log", &audit], &[], 120, 40);
    // the members on screen: no waiting for their REST answers (that is the race)
    eventually(Duration::from_secs(30), "members on screen", || {
        let t = screen.text();
        (t.contains("Leader") && t.contains("Replica")).then_some(())
    });
    press(&mut keys, b"s");
    eventually(Duration::from_secs(5), "the switchover dialog", || {
        screen.text().contains("│ candidates").then_some(())
    });
    std::thread::sleep(Duration::from_millis(300));
    press(&mut keys, b"\r");
    eventually(Duration::from_secs(5), "the review", || {
        screen.text().contains("│ request").then_some(())
    });
    for attempt in 0..6 {
        // a person reads before the send key (one right behind the Enter is a burst)
        std::thread::sleep(Duration::from_millis(if attempt == 0 { 400 } else { 1200 }));
        let before = screen.text();
        let shown = failing_checks(&before);
        press(&mut keys, b"y");
        let (said, after) = answer(&screen);
        if said == "sent" {
            assert!(
                shown.is_empty(),
                "round {round}: sent while the screen showed failing checks {shown:?}:\n{before}"
            );
            return said;
        }
        if let Some(why) = said.strip_prefix("not sent: ") {
            assert!(
                shown.iter().any(|c| c == why),
                "round {round}: refused for {why:?}, which was not a ✗ check on screen \
                 ({shown:?}):\n{before}\nafter y:\n{after}"
            );
            return said;
        }
        // the checks or the request changed: shown now, the send key held; press again
        // once it has been read
        assert!(
            said.contains("changed: read"),
            "round {round}: {said}\n{after}"
        );
    }
    panic!(
        "round {round}: y was held six times in a row:\n{}",
        screen.text()
    );
}

#[test]
fn what_y_answers_agrees_with_the_checks_on_screen_when_it_was_pressed() {
    let c = TestCluster::start(3);
    let mut answers = Vec::new();
    for round in 0..3 {
        c.wait_healthy(Duration::from_secs(60));
        answers.push(race(&c, round));
    }
    eprintln!("answers: {answers:?}");
}
