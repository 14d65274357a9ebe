//! The real binary with `--haproxy` on a real cluster behind the sandbox's real HAProxy, at
//! 80x24: `b` shows the read-write listener routing to the leader (✓) and every member's
//! health endpoints; the leader's rw server forced into MAINT is on screen as MAINT with the
//! routing finding; `d` shows the strings through HAProxy with where each lands.

mod support;

use std::io::Write;
use std::time::Duration;

use support::pty::spawn;
use support::{Options, TestCluster, eventually};

#[test]
fn the_routing_view_shows_what_haproxy_routes_to_and_maint() {
    let c = TestCluster::start_with(Options::new(2).haproxy());
    let cfg = c.config_path().to_string_lossy().to_string();
    let audit = c.dir().join("audit.jsonl").to_string_lossy().to_string();
    let hap = format!(
        "{},rw_address=127.0.0.1:{},ro_address=127.0.0.1:{},inter=1s",
        c.haproxy_url(),
        c.haproxy_rw_port(),
        c.haproxy_ro_port()
    );
    let (mut child, mut keys, screen) = spawn(
        &["-c", &cfg, "--audit-log", &audit, "--haproxy", &hap],
        &[],
        80,
        24,
    );
    eventually(Duration::from_secs(30), "the cluster on screen", || {
        screen.text().contains("streaming").then_some(())
    });
    let leader = c.leader().expect("leader");
    std::thread::sleep(Duration::from_millis(500));
    keys.write_all(b"b").expect("b");
    let rw = format!("rw  read-write (by its name)  → {leader}  ✓");
    let text = eventually(
        Duration::from_secs(20),
        "rw → the leader, health answers",
        || {
            let t = screen.text();
            // the leader's /primary answered 200 in the health matrix
            let health = t
                .lines()
                .any(|l| l.contains(&format!("│  {leader} ")) && l.contains("200"));
            (t.contains(&rw) && health).then_some(t)
        },
    );
    assert!(text.contains("ro  read-only (by its name)  → "), "{text}");
    assert!(text.contains("/primary"), "{text}");

    c.haproxy_state("maint", &leader, Some("rw"));
    let want = format!("✗ rw routes writes nowhere: the leader {leader} is MAINT there");
    let text = eventually(Duration::from_secs(20), "MAINT and the finding", || {
        let t = screen.text();
        // past the check window the "(within ...)" note is gone
        (t.contains(&want) && !t.contains("check window")).then_some(t)
    });
    assert!(
        text.lines()
            .any(|l| l.contains(&format!("    {leader} ")) && l.contains("MAINT")),
        "{text}"
    );
    // the hostile-free screen: no raw escape reached the text
    assert!(!text.contains('\u{1b}'), "{text}");

    keys.write_all(b"d").expect("d");
    let text = eventually(Duration::from_secs(10), "strings through HAProxy", || {
        let t = screen.text();
        t.contains("read-write through HAProxy").then_some(t)
    });
    assert!(text.contains("(rw: lands nowhere)"), "{text}");
    assert!(
        text.contains(&format!(
            "postgresql://127.0.0.1:{}/postgres",
            c.haproxy_rw_port()
        )),
        "{text}"
    );
    keys.write_all(b"q").expect("q");
    let st = eventually(Duration::from_secs(10), "patrol exits", || {
        child.try_wait().ok().flatten()
    });
    assert!(st.success(), "{st:?}");
}
