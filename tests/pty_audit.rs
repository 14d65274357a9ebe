//! Write-ahead audit, with the real binary in a pseudo-terminal against a real cluster:
//! confirm a switchover, SIGKILL patrol right after the sending key, and the intent line
//! (the request, the user) is already on disk.

mod support;

use std::io::Write;
use std::time::Duration;

use support::pty::spawn;
use support::{TestCluster, eventually};

#[test]
fn sigkill_right_after_confirming_leaves_the_intent_on_record() {
    let c = TestCluster::start(3);
    let cfg = c.config_path().to_string_lossy().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    let audit_arg = audit.to_string_lossy().to_string();
    let (mut child, mut keys, screen) = spawn(
        &["-c", &cfg, "--audit-log", &audit_arg],
        &[("SUDO_USER", "claimed-admin")],
        120,
        40,
    );
    eventually(Duration::from_secs(30), "cluster on screen", || {
        (screen.text().matches("streaming").count() >= 2).then_some(())
    });
    support::pty::review_switchover(&mut keys, &screen);
    keys.write_all(b"y").expect("y");
    keys.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(100));
    let pid = child.process_id().expect("pid");
    let st = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(st.success());
    eventually(Duration::from_secs(10), "patrol is gone", || {
        child.try_wait().ok().flatten()
    });

    let text = std::fs::read_to_string(&audit).expect("the audit log exists");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
        .collect();
    let intent = lines
        .iter()
        .find(|l| l["phase"] == "intent")
        .unwrap_or_else(|| panic!("an intent line: {text}"));
    assert_eq!(intent["action"], "switchover", "{intent}");
    assert_eq!(intent["cluster"], support::SCOPE);
    assert_eq!(intent["request"]["method"], "POST");
    assert!(
        intent["request"]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/switchover")),
        "{intent}"
    );
    assert!(intent["request"]["body"]["leader"].is_string(), "{intent}");
    let user = intent["user"].as_str().unwrap_or("");
    assert!(!user.is_empty() && user != "claimed-admin", "{intent}");
    assert_eq!(
        intent["sudo_user"], "claimed-admin",
        "beside the user, as claimed"
    );
    assert!(!text.contains(support::REST_PASSWORD), "no secrets");
}
