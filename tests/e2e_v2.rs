//! patrol on an etcd **v2** cluster (`etcd:` sections): real etcd 3.4 with `--enable-v2`,
//! Patroni and PostgreSQL on 127.0.0.1, started by the harness with `PATROL_DCS=etcd`.
//! Every wait is bounded; nothing here skips.

mod support;

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use patrol::app::members::RestHealth;
use patrol::app::ops::Settle;
use patrol::runtime::Headless;
use ratatui::crossterm::event::KeyCode;
use serde_json::Value;
use support::drive::{describe, keys, last_op, press, rt, settings};
use support::{ClusterOptions, TestCluster, healthy};

fn start_v2() -> TestCluster {
    TestCluster::start_with(ClusterOptions {
        members: 3,
        v2: true,
        ..Default::default()
    })
}

/// `GET /v2/keys/<prefix><rel>` on the cluster's etcd: the answer's `node`, if the key is set.
fn v2_node(c: &TestCluster, rel: &str) -> Option<Value> {
    let url = format!(
        "{}/v2/keys{}{rel}",
        c.etcd_url().trim_end_matches('/'),
        c.key_prefix()
    );
    let out = Command::new("curl")
        .args(["-s", "--max-time", "5", &url])
        .output()
        .expect("run curl");
    let v: Value = serde_json::from_slice(&out.stdout).ok()?;
    v.get("node").cloned()
}

/// The v3 key space holds nothing of this cluster: what patrol shows came from v2.
fn v3_is_empty(c: &TestCluster) -> bool {
    let out = c.etcdctl(&["get", "--prefix", "--keys-only", &c.key_prefix()]);
    out.status.success() && String::from_utf8_lossy(&out.stdout).trim().is_empty()
}

fn event_texts(h: &Headless) -> Vec<String> {
    h.app.model.events.iter().map(|e| e.kind.text()).collect()
}

#[test]
fn v2_console_shows_the_cluster_the_lock_ttl_changes_and_idle_loops_cost_no_events() {
    let c = start_v2();
    assert!(
        v2_node(&c, "leader").is_some(),
        "the harness wrote a v2 cluster"
    );
    assert!(v3_is_empty(&c), "nothing of it in the v3 key space");
    let rt = rt();
    rt.block_on(async {
        let s = settings(c.config_path());
        assert_eq!(s.dcs.api, patrol::config::DcsApi::V2);
        let mut h =
            Headless::start(&s, Duration::from_millis(500), Duration::from_secs(2)).expect("start");
        let t = Instant::now();
        assert!(
            h.until(Duration::from_secs(30), healthy).await,
            "every member, one leader, two streaming replicas:\n{}",
            describe(&h.app)
        );
        eprintln!("v2: complete model after {:?}", t.elapsed());
        assert_eq!(
            h.app
                .rows()
                .iter()
                .find(|r| r.role.is_leader())
                .map(|r| r.name.clone()),
            c.leader(),
            "same leader as patronictl"
        );

        // the lock: the leader key's own TTL (no v3 lease: lease id 0)
        assert!(
            h.until(Duration::from_secs(10), |a| a.model.lock_left().is_some())
                .await,
            "a lock countdown"
        );
        let (left, granted) = h.app.model.lock_left().expect("lock");
        assert_eq!(granted, 20, "the cluster's ttl");
        assert!((15..=20).contains(&left), "renewed every loop: {left}s");
        assert_eq!(h.app.model.lease_ttl.map(|l| l.0), Some(0), "not a lease");
        // the leader stops renewing (its Patroni frozen): the countdown runs down
        let leader = c.leader().expect("leader");
        c.signal_patroni(&leader, "-STOP");
        let t0 = Instant::now();
        let ran_down = h
            .until(Duration::from_secs(8), |a| {
                t0.elapsed() >= Duration::from_secs(4)
                    && a.model.lock_left().is_some_and(|(l, _)| l <= left - 3)
            })
            .await;
        c.signal_patroni(&leader, "-CONT");
        assert!(
            ran_down,
            "lock counts down from {left}s: {:?}",
            h.app.model.lock_left()
        );
        assert!(
            h.until(Duration::from_secs(10), |a| a
                .model
                .lock_left()
                .is_some_and(|(l, _)| l >= 18))
                .await,
            "renewed again: {:?}",
            h.app.model.lock_left()
        );
        assert!(
            h.until(Duration::from_secs(30), healthy).await,
            "{}",
            describe(&h.app)
        );

        // idle: Patroni rewrites `leader` and every member key each loop (the index moves),
        // and none of it is news
        let _ = h.until(Duration::from_secs(3), |_| false).await;
        let before = event_texts(&h);
        let index0 = v2_node(&c, "leader")
            .and_then(|n| n["modifiedIndex"].as_i64())
            .expect("leader index");
        let _ = h.until(Duration::from_secs(15), |_| false).await;
        let index1 = v2_node(&c, "leader")
            .and_then(|n| n["modifiedIndex"].as_i64())
            .expect("leader index");
        assert!(
            index1 > index0 + 5,
            "Patroni rewrote its keys meanwhile ({index0} -> {index1})"
        );
        assert_eq!(
            event_texts(&h),
            before,
            "15 s of idle loops: no event-log entry"
        );
        assert!(healthy(&h.app), "{}", describe(&h.app));

        // a change made with patronictl reaches the model within a bounded wait
        let t = Instant::now();
        let out = c.patronictl(&["pause", "--wait"]);
        assert!(out.status.success(), "patronictl pause: {out:?}");
        assert!(
            h.until(Duration::from_secs(10), |a| a
                .cluster()
                .is_some_and(|c| c.is_paused()))
                .await,
            "paused on screen"
        );
        eprintln!(
            "v2: pause on screen {:?} after patronictl started",
            t.elapsed()
        );
        let out = c.patronictl(&["resume", "--wait"]);
        assert!(out.status.success(), "patronictl resume: {out:?}");
        assert!(
            h.until(Duration::from_secs(10), |a| a
                .cluster()
                .is_some_and(|c| !c.is_paused()))
                .await,
            "resumed on screen"
        );
        let ev = event_texts(&h);
        assert!(
            ev.iter().any(|e| e.contains("pause")),
            "the pause is in the event log: {ev:?}"
        );

        // the etcd view: what the v2 API offers, n/a for the DB size
        assert!(
            h.until(Duration::from_secs(10), |a| a
                .model
                .etcd_status
                .iter()
                .any(|e| e.result.is_ok()))
                .await,
            "etcd status"
        );
        let st = &h.app.model.etcd_status[0];
        let info = st.result.as_ref().expect("healthy endpoint");
        assert!(info.version.starts_with("3.4"), "{info:?}");
        assert_eq!(
            info.leader, info.member_id,
            "a single member leads: {info:?}"
        );
        assert!(info.member_id != 0 && info.raft_term > 0, "{info:?}");
        assert!(info.db_size < 0, "DB size n/a on v2: {info:?}");
        assert!(info.errors.is_empty(), "{info:?}");
    });

    // `patrol list -f json` equals `patronictl list -f json` on the same v2 cluster (an
    // idle cluster: the same positions for both; a moving LSN is retried)
    let bin = env!("CARGO_BIN_EXE_patrol");
    let mut last = String::new();
    let same = (0..5).any(|_| {
        let ours = Command::new(bin)
            .arg("-c")
            .arg(c.config_path())
            .args(["list", "-f", "json"])
            .output()
            .expect("run patrol list");
        assert!(ours.status.success(), "patrol list: {ours:?}");
        let ours: Value = serde_json::from_slice(&ours.stdout).expect("JSON");
        let theirs = c.patronictl_json_list();
        last = format!("patrol    {ours}\npatronictl {theirs}");
        if ours != theirs {
            std::thread::sleep(Duration::from_secs(1));
        }
        ours == theirs
    });
    assert!(same, "list -f json differs:\n{last}");

    // the console itself (the real binary in a pseudo-terminal) shows every member, the
    // leader and the lock
    let (mut child, mut k, screen) = support::pty::spawn(
        &["-c", &c.config_path().display().to_string()],
        &[],
        120,
        40,
    );
    let text = screen.wait_until("members, leader and lock", Duration::from_secs(20), |t| {
        ["pg1", "pg2", "pg3", "Leader", "Replica", "lock "]
            .iter()
            .all(|w| t.contains(w))
            && t.contains("streaming")
    });
    assert!(text.contains("/20s"), "lock of the key's ttl:\n{text}");
    k.write_all(b"q").expect("q");
    let t = Instant::now();
    while child.try_wait().ok().flatten().is_none() {
        assert!(t.elapsed() < Duration::from_secs(10), "patrol quits on q");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn v2_dcs_fallback_switchover_writes_the_v2_failover_key() {
    let c = start_v2();
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    let rt = rt();
    rt.block_on(async {
        let mut h = Headless::start(
            &settings(c.config_path()),
            Duration::from_millis(500),
            Duration::from_secs(2),
        )
        .expect("start");
        h.configure(Some(audit.clone()), false);
        assert!(
            h.until(Duration::from_secs(30), healthy).await,
            "{}",
            describe(&h.app)
        );
        // the leader's REST API stops answering: the switchover goes through the DCS
        let frozen = c.leader().expect("leader");
        let sig = |s: &str| c.signal_patroni(&frozen, s);
        sig("-STOP");
        let ok = h
            .until(Duration::from_secs(20), |a| {
                a.rows()
                    .iter()
                    .any(|r| r.name == frozen && matches!(r.rest, RestHealth::Unreachable { .. }))
            })
            .await;
        if !ok {
            sig("-CONT");
        }
        assert!(ok, "frozen leader unreachable:\n{}", describe(&h.app));
        press(&mut h, KeyCode::Char('s'));
        press(&mut h, KeyCode::Enter);
        press(&mut h, KeyCode::Char('d'));
        keys(&mut h, "demo");
        press(&mut h, KeyCode::Enter);
        let n = h.app.session.ops.len();
        if n == 0 {
            sig("-CONT");
        }
        assert_eq!(n, 1, "the etcd write was confirmed:\n{}", describe(&h.app));
        let key = match &h.app.session.ops[0].request.target {
            patrol::write::Target::EtcdPut { key } => key.clone(),
            other => {
                sig("-CONT");
                panic!("not an etcd put: {other:?}")
            }
        };
        assert_eq!(key, format!("{}failover", c.key_prefix()));
        let ok = h
            .until(Duration::from_secs(10), |a| {
                a.session.ops[0].reply.is_some()
            })
            .await;
        // the key is in the v2 key space (before the leader wakes and acts on it)
        let written = v2_node(&c, "failover");
        sig("-CONT");
        assert!(ok, "the etcd write answered:\n{}", describe(&h.app));
        assert_eq!(h.writes_sent(), 1, "sent once");
        let written = written.expect("v2 failover key written");
        let value: Value =
            serde_json::from_str(written["value"].as_str().unwrap_or("")).expect("JSON value");
        assert_eq!(value["leader"], Value::from(frozen.clone()), "{value}");
        assert!(value["member"].is_string(), "{value}");
        let s = last_op(&mut h, Duration::from_secs(90)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("leads")),
            "{s:?}\n{}",
            describe(&h.app)
        );
        assert_ne!(c.leader(), Some(frozen));
    });
    assert!(v3_is_empty(&c), "nothing written to the v3 key space");
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "intent, then outcome: {lines:?}");
    assert_eq!(lines[0]["phase"], "intent");
    assert_eq!(lines[1]["action"], "switchover via etcd");
    assert!(
        lines[1]["outcome"]
            .as_str()
            .is_some_and(|o| o.starts_with("done")),
        "{lines:?}"
    );
}
