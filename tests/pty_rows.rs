//! Rows at 80x24 on the real binary and a real cluster: after pause and resume (Patroni
//! answers each with the whole dynamic config) the operations panel is one row per
//! operation and the cluster pane is still on screen; `D` takes the panel away at once.

mod support;

use std::io::Write;
use std::time::Duration;

use support::pty::spawn;
use support::{TestCluster, eventually};

/// The rows of the operations panel between its title and its bottom border.
fn panel(text: &str) -> Option<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let top = lines.iter().position(|l| l.contains("┌ Operations"))?;
    let n = lines[top + 1..].iter().position(|l| l.starts_with('└'))?;
    Some(
        lines[top + 1..top + 1 + n]
            .iter()
            .map(|l| l.to_string())
            .collect(),
    )
}

#[test]
fn pause_and_resume_at_80x24_leave_one_row_each_and_d_dismisses_them() {
    let c = TestCluster::start(2);
    let cfg = c.config_path().to_string_lossy().to_string();
    let audit = c
        .dir()
        .join("audit-rows.jsonl")
        .to_string_lossy()
        .to_string();
    let (mut child, mut keys, screen) = spawn(&["-c", &cfg, "--audit-log", &audit], &[], 80, 24);
    eventually(Duration::from_secs(20), "the cluster on screen", || {
        screen.text().contains("streaming").then_some(())
    });
    // p opens the pause's confirmation; y sends it (a person's pace: not a burst)
    std::thread::sleep(Duration::from_millis(500));
    keys.write_all(b"p").expect("p");
    std::thread::sleep(Duration::from_millis(1200));
    keys.write_all(b"y").expect("y");
    eventually(Duration::from_secs(30), "the pause settles", || {
        screen
            .text()
            .contains("every member reports maintenance mode")
            .then_some(())
    });
    std::thread::sleep(Duration::from_millis(1500));
    keys.write_all(b"p").expect("p");
    std::thread::sleep(Duration::from_millis(1200));
    keys.write_all(b"y").expect("y");
    let text = eventually(Duration::from_secs(30), "the resume settles", || {
        let t = screen.text();
        let rows = panel(&t)?;
        (rows.len() == 2 && rows.iter().all(|r| r.contains("done:"))).then_some(t)
    });
    let rows = panel(&text).unwrap_or_else(|| panic!("no operations panel:\n{text}"));
    assert!(rows.iter().all(|r| r.contains("· HTTP 20")), "{text}");
    // the reply (the whole dynamic config) is cut to its row, not spread under it
    let after = text
        .lines()
        .skip_while(|l| !l.contains("┌ Operations"))
        .nth(4)
        .unwrap_or_default();
    assert!(after.starts_with("┌ Members"), "{text}");
    assert!(
        text.contains("┌ Cluster"),
        "the cluster pane stays:\n{text}"
    );
    assert!(text.contains("┌ Events"), "{text}");
    keys.write_all(b"D").expect("D");
    let text = eventually(Duration::from_secs(5), "the panel goes at D", || {
        let t = screen.text();
        (!t.contains("┌ Operations")).then_some(t)
    });
    assert!(
        text.contains("resume: done"),
        "the event log has it:\n{text}"
    );
    // the audit log has Patroni's whole reply of each
    let audit_text = std::fs::read_to_string(&audit).expect("audit log");
    let outcomes: Vec<&str> = audit_text
        .lines()
        .filter(|l| l.contains("\"phase\":\"outcome\""))
        .collect();
    assert_eq!(outcomes.len(), 2, "{audit_text}");
    assert!(
        outcomes.iter().all(|l| l.contains("loop_wait")),
        "{audit_text}"
    );
    keys.write_all(b"q").expect("q");
    let st = eventually(Duration::from_secs(10), "patrol exits", || {
        child.try_wait().ok().flatten()
    });
    assert!(st.success(), "{st:?}");
}
