//! The operations and options `tests/e2e_ops.rs` does not cover, from the keyboard against a
//! real cluster with REST basic auth on: restart with each of its options (pending only,
//! PostgreSQL version, timeout, a time), flushing a scheduled restart, reinit with force and
//! from the leader. Each is checked in the cluster itself (Patroni's REST API, the member key
//! in etcd, the postmaster start time), not only in patrol's model, and in the audit log.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use patrol::app::ops::{Reply, Settle};
use patrol::runtime::Headless;
use ratatui::crossterm::event::KeyCode;
use serde_json::{Value, json};
use support::drive::{describe, keys, last_op, press, rt, select, settings};
use support::{TestCluster, eventually};

use support::healthy;

/// The request body the open dialog shows (what `y` promises to send).
fn shown_body(h: &Headless) -> Value {
    h.app
        .session
        .dialog
        .as_ref()
        .and_then(|d| d.shown.as_ref())
        .and_then(|r| r.body.clone())
        .unwrap_or_else(|| panic!("a request with a body is shown:\n{}", describe(&h.app)))
}

/// Confirm the open dialog with `y` (never Enter: Enter reviews) and expect one request out.
fn confirm(h: &mut Headless) {
    let before = h.app.session.ops.len();
    press(h, KeyCode::Char('y'));
    assert_eq!(
        h.app.session.ops.len(),
        before + 1,
        "sent:\n{}",
        describe(&h.app)
    );
}

/// The audit lines that record an outcome: `(action, outcome word, request body)`.
fn audit_outcomes(p: &Path) -> Vec<(String, String, Value)> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("audit line is JSON"))
        .filter(|l| l["outcome"].as_str().is_some_and(|o| !o.is_empty()))
        .map(|l| {
            let word = l["outcome"]
                .as_str()
                .unwrap_or("")
                .split(':')
                .next()
                .unwrap_or("")
                .to_string();
            (
                l["action"].as_str().unwrap_or("").to_string(),
                word,
                l["request"]["body"].clone(),
            )
        })
        .collect()
}

async fn start(cfg: &Path, audit: Option<PathBuf>) -> Headless {
    let mut h = Headless::start(
        &settings(cfg),
        Duration::from_millis(500),
        Duration::from_secs(2),
    )
    .expect("start");
    h.configure(audit, false);
    let ok = h.until(Duration::from_secs(30), healthy).await;
    assert!(ok, "healthy:\n{}", describe(&h.app));
    h
}

/// Wait until every member's API answers again (a busy machine can miss a poll), so the
/// dialog's checks see what the cluster is.
async fn ready(h: &mut Headless) {
    let ok = h.until(Duration::from_secs(60), healthy).await;
    assert!(ok, "healthy:\n{}", describe(&h.app));
}

/// `GET /patroni` of a member, straight from Patroni (not through patrol).
fn patroni(c: &TestCluster, member: &str) -> Value {
    let out = std::process::Command::new("curl")
        .args(["-sf", &format!("{}/patroni", c.rest_url(member))])
        .output()
        .expect("curl");
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn postmaster_started(c: &TestCluster, member: &str) -> Option<String> {
    patroni(c, member)["postmaster_start_time"]
        .as_str()
        .map(str::to_string)
}

/// The member's key in etcd, parsed.
fn member_key(c: &TestCluster, member: &str) -> Value {
    c.etcd_get(&format!("members/{member}"))
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or(Value::Null)
}

#[test]
fn restart_options_a_scheduled_restart_and_its_flush() {
    let c = TestCluster::start(3);
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    rt().block_on(async {
        let mut h = start(c.config_path(), Some(audit.clone())).await;
        let replica = h.app.rows()[1].name.clone();
        let before = postmaster_started(&c, &replica).expect("postmaster start time");

        // version 15.0 is not newer than the running 15.x: Patroni refuses, nothing restarts
        select(&mut h, &replica);
        press(&mut h, KeyCode::Char('r'));
        press(&mut h, KeyCode::Char('v'));
        keys(&mut h, "15.0");
        press(&mut h, KeyCode::Enter); // ends the field
        press(&mut h, KeyCode::Enter); // reviews
        assert_eq!(shown_body(&h), json!({"postgres_version": "15.0"}));
        confirm(&mut h);
        // a refusal settles at once, or (while a 503 reads as "unknown") when it times out
        let s = last_op(&mut h, Duration::from_secs(120)).await;
        let reply = h.app.session.ops.last().and_then(|o| o.reply.clone());
        assert!(
            matches!(&reply, Some(Reply::Status { code: 503, body })
                if body.contains("restart conditions are not satisfied")),
            "Patroni's refusal: {reply:?} ({s:?})"
        );
        assert!(!matches!(s, Settle::Done(_)), "{s:?}");
        assert_eq!(postmaster_started(&c, &replica), Some(before.clone()));

        // version 16.0 with a timeout: it restarts
        ready(&mut h).await;
        press(&mut h, KeyCode::Char('r'));
        press(&mut h, KeyCode::Char('v'));
        keys(&mut h, "16.0");
        press(&mut h, KeyCode::Enter);
        press(&mut h, KeyCode::Char('o'));
        keys(&mut h, "60");
        press(&mut h, KeyCode::Enter);
        press(&mut h, KeyCode::Enter);
        assert_eq!(
            shown_body(&h),
            json!({"postgres_version": "16.0", "timeout": 60})
        );
        confirm(&mut h);
        let s = last_op(&mut h, Duration::from_secs(60)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("streams again")),
            "{s:?}\n{}",
            describe(&h.app)
        );
        let after_version = postmaster_started(&c, &replica).expect("start time");
        assert_ne!(after_version, before, "Patroni restarted it");

        // pending only: a parameter that needs a restart, then r p
        let out = c.patronictl(&["edit-config", "-p", "max_connections=60", "--force"]);
        assert!(out.status.success(), "edit-config: {out:?}");
        eventually(Duration::from_secs(60), "a pending restart", || {
            (patroni(&c, &replica)["pending_restart"] == json!(true)).then_some(())
        });
        assert!(
            h.until(Duration::from_secs(30), |a| a
                .rows()
                .iter()
                .any(|r| r.name == replica && r.pending_restart))
                .await,
            "{}",
            describe(&h.app)
        );
        ready(&mut h).await;
        press(&mut h, KeyCode::Char('r'));
        press(&mut h, KeyCode::Char('p'));
        press(&mut h, KeyCode::Enter);
        assert_eq!(shown_body(&h), json!({"restart_pending": true}));
        confirm(&mut h);
        let s = last_op(&mut h, Duration::from_secs(60)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("streams again")),
            "{s:?}\n{}",
            describe(&h.app)
        );
        assert_ne!(postmaster_started(&c, &replica), Some(after_version));
        eventually(Duration::from_secs(30), "no pending restart left", || {
            (patroni(&c, &replica)["pending_restart"].is_null()).then_some(())
        });

        // a restart scheduled an hour ahead: Patroni and etcd both hold it
        let when = humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(3600))
            .to_string();
        ready(&mut h).await;
        let started = postmaster_started(&c, &replica);
        press(&mut h, KeyCode::Char('r'));
        press(&mut h, KeyCode::Char('t'));
        keys(&mut h, &when);
        press(&mut h, KeyCode::Enter);
        press(&mut h, KeyCode::Enter);
        assert!(
            shown_body(&h)["schedule"].is_string(),
            "{:?}",
            shown_body(&h)
        );
        confirm(&mut h);
        let s = last_op(&mut h, Duration::from_secs(30)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("202")),
            "{s:?}\n{}",
            describe(&h.app)
        );
        eventually(
            Duration::from_secs(10),
            "scheduled_restart in GET /patroni",
            || {
                patroni(&c, &replica)["scheduled_restart"]["schedule"]
                    .is_string()
                    .then_some(())
            },
        );
        eventually(
            Duration::from_secs(10),
            "scheduled_restart in the member key",
            || {
                member_key(&c, &replica)["scheduled_restart"]["schedule"]
                    .is_string()
                    .then_some(())
            },
        );
        assert!(
            h.until(Duration::from_secs(10), |a| a
                .rows()
                .iter()
                .any(|r| r.name == replica && r.scheduled_restart.is_some()))
                .await,
            "patrol shows it:\n{}",
            describe(&h.app)
        );

        // x flushes it: gone from Patroni and from etcd, and nothing restarted
        ready(&mut h).await;
        press(&mut h, KeyCode::Char('x'));
        assert_eq!(
            h.app.session.dialog.as_ref().map(|d| d.kind),
            Some(patrol::app::ops::OpKind::FlushRestart),
            "{}",
            describe(&h.app)
        );
        confirm(&mut h);
        let n = h.app.session.ops.len();
        assert_eq!(h.app.session.ops[n - 1].request.method_label(), "DELETE");
        assert_eq!(h.app.session.ops[n - 1].request.path(), "/restart");
        let s = last_op(&mut h, Duration::from_secs(30)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("no scheduled restart")),
            "{s:?}\n{}",
            describe(&h.app)
        );
        assert!(patroni(&c, &replica)["scheduled_restart"].is_null());
        eventually(Duration::from_secs(10), "gone from the member key", || {
            member_key(&c, &replica)["scheduled_restart"]
                .is_null()
                .then_some(())
        });
        assert_eq!(postmaster_started(&c, &replica), started);
    });
    let got = audit_outcomes(&audit);
    let actions: Vec<(&str, &str)> = got
        .iter()
        .map(|(a, o, _)| (a.as_str(), o.as_str()))
        .collect();
    assert_eq!(actions.len(), 5, "{got:?}");
    assert_eq!(actions[0].0, "restart");
    assert_ne!(actions[0].1, "done", "{got:?}");
    assert_eq!(
        actions[1..],
        [
            ("restart", "done"),
            ("restart", "done"),
            ("restart", "done"),
            ("flush restart", "done")
        ],
        "{got:?}"
    );
    assert_eq!(got[1].2, json!({"postgres_version": "16.0", "timeout": 60}));
    assert_eq!(got[2].2, json!({"restart_pending": true}));
    assert!(got[3].2["schedule"].is_string(), "{got:?}");
}

#[test]
fn reinit_with_force_from_the_leader() {
    let c = TestCluster::start(3);
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    rt().block_on(async {
        let mut h = start(c.config_path(), Some(audit.clone())).await;
        let replica = h.app.rows()[2].name.clone();
        let before = postmaster_started(&c, &replica).expect("postmaster start time");
        select(&mut h, &replica);
        ready(&mut h).await;
        press(&mut h, KeyCode::Char('I'));
        press(&mut h, KeyCode::Char('f'));
        press(&mut h, KeyCode::Char('l'));
        press(&mut h, KeyCode::Enter);
        assert_eq!(shown_body(&h), json!({"force": true, "from_leader": true}));
        press(&mut h, KeyCode::Char('y'));
        assert!(
            h.app.session.ops.is_empty(),
            "y alone does not confirm a reinit"
        );
        press(&mut h, KeyCode::Backspace);
        keys(&mut h, &replica);
        press(&mut h, KeyCode::Enter);
        assert_eq!(h.app.session.ops.len(), 1, "{}", describe(&h.app));
        let s = last_op(&mut h, Duration::from_secs(120)).await;
        assert!(matches!(&s, Settle::Done(_)), "{s:?}\n{}", describe(&h.app));
        assert_ne!(postmaster_started(&c, &replica), Some(before));
        assert!(
            h.until(Duration::from_secs(60), healthy).await,
            "{}",
            describe(&h.app)
        );
        assert!(c.is_healthy(), "patronictl agrees");
    });
    let got = audit_outcomes(&audit);
    assert_eq!(
        got,
        [(
            "reinit".to_string(),
            "done".to_string(),
            json!({"force": true, "from_leader": true})
        )]
    );
}
