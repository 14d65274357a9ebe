//! Operations from the keyboard against a real cluster with REST basic auth on: the same
//! keys a person presses, through the same `update` and effect runner as the TUI.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use patrol::app::App;
use patrol::app::members::RestHealth;
use patrol::app::ops::Settle;
use patrol::runtime::Headless;
use ratatui::crossterm::event::KeyCode;
use support::TestCluster;
use support::drive::{describe, keys, last_op, press, rt, select, settings};

use support::healthy;

/// The outcome lines; each must follow its intent line (same session and op).
fn audit_lines(p: &Path) -> Vec<serde_json::Value> {
    let all: Vec<serde_json::Value> = std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
        .collect();
    let id = |l: &serde_json::Value| (l["session"].clone(), l["op"].clone());
    for (n, o) in all
        .iter()
        .enumerate()
        .filter(|(_, l)| l["phase"] == "outcome")
    {
        assert!(
            all[..n]
                .iter()
                .any(|i| i["phase"] == "intent" && id(i) == id(o)),
            "no intent line before {o}"
        );
    }
    all.into_iter()
        .filter(|l| l["phase"] == "outcome")
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

#[test]
fn switchover_scheduled_flush_and_failover() {
    let c = TestCluster::start(3);
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    rt().block_on(async {
        let mut h = start(c.config_path(), Some(audit.clone())).await;
        let leader = h.app.rows()[0].name.clone();

        // switchover to a chosen candidate: the second one in the list
        press(&mut h, KeyCode::Char('s'));
        press(&mut h, KeyCode::Down);
        press(&mut h, KeyCode::Enter);
        let shown = h
            .app
            .session
            .dialog
            .as_ref()
            .and_then(|d| d.shown.clone())
            .expect("request shown");
        let target = shown
            .body
            .as_ref()
            .and_then(|b| b["candidate"].as_str())
            .expect("candidate")
            .to_string();
        assert_ne!(target, leader);
        press(&mut h, KeyCode::Char('y'));
        let s = last_op(&mut h, Duration::from_secs(60)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains(&format!("{target} leads"))),
            "{s:?}\n{}",
            describe(&h.app)
        );
        assert_eq!(
            c.leader().as_deref(),
            Some(target.as_str()),
            "patronictl agrees"
        );
        assert!(
            h.until(Duration::from_secs(60), healthy).await,
            "{}",
            describe(&h.app)
        );

        // a scheduled switchover shows up, and x cancels it
        let when = humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(3600))
            .to_string();
        press(&mut h, KeyCode::Char('s'));
        press(&mut h, KeyCode::Char('t'));
        keys(&mut h, &when);
        press(&mut h, KeyCode::Enter);
        press(&mut h, KeyCode::Enter);
        press(&mut h, KeyCode::Char('y'));
        let s = last_op(&mut h, Duration::from_secs(30)).await;
        assert!(matches!(&s, Settle::Done(m) if m.contains("202")), "{s:?}");
        let ok = h
            .until(Duration::from_secs(10), |a| {
                a.cluster()
                    .and_then(|c| c.failover.as_ref())
                    .is_some_and(|f| f.scheduled_at.is_some())
            })
            .await;
        assert!(ok, "scheduled switchover in the model");
        press(&mut h, KeyCode::Char('x'));
        press(&mut h, KeyCode::Char('y'));
        let s = last_op(&mut h, Duration::from_secs(30)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("no switchover scheduled")),
            "{s:?}"
        );
        assert_eq!(
            c.etcd_get("failover")
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty() && *v != "{}"),
            None
        );

        // failover to a named candidate, the cluster name typed
        let now_leader = h.app.rows()[0].name.clone();
        let cand = h.app.rows()[2].name.clone();
        press(&mut h, KeyCode::Char('f'));
        for _ in 0..3 {
            if h.app
                .session
                .dialog
                .as_ref()
                .expect("dialog")
                .candidate
                .as_ref()
                == Some(&cand)
            {
                break;
            }
            press(&mut h, KeyCode::Down);
        }
        press(&mut h, KeyCode::Enter);
        press(&mut h, KeyCode::Char('y'));
        assert_eq!(
            h.app.session.ops.len(),
            3,
            "y alone does not confirm a failover"
        );
        press(&mut h, KeyCode::Backspace); // the "y" went into the name field
        keys(&mut h, "dem");
        press(&mut h, KeyCode::Enter);
        assert_eq!(h.app.session.ops.len(), 3, "a wrong name does not confirm");
        keys(&mut h, "o");
        press(&mut h, KeyCode::Enter);
        let s = last_op(&mut h, Duration::from_secs(90)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains(&format!("{cand} leads"))),
            "{s:?}\n{}",
            describe(&h.app)
        );
        assert_ne!(c.leader(), Some(now_leader));
        assert!(
            h.until(Duration::from_secs(90), healthy).await,
            "{}",
            describe(&h.app)
        );

        // the leader's REST API stops answering (its Patroni is frozen): the switchover
        // goes through the DCS `failover` key instead, as patronictl falls back to
        let frozen = h.app.rows()[0].name.clone();
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
        assert!(
            ok,
            "frozen leader's API shown unreachable:\n{}",
            describe(&h.app)
        );
        let before = h.app.session.ops.len();
        press(&mut h, KeyCode::Char('s'));
        press(&mut h, KeyCode::Enter);
        press(&mut h, KeyCode::Char('d'));
        keys(&mut h, "demo");
        press(&mut h, KeyCode::Enter);
        let n = h.app.session.ops.len();
        assert_eq!(
            n,
            before + 1,
            "the etcd write was confirmed:\n{}",
            describe(&h.app)
        );
        assert!(matches!(
            h.app.session.ops[n - 1].request.target,
            patrol::write::Target::EtcdPut { .. }
        ));
        let ok = h
            .until(Duration::from_secs(10), |a| {
                a.session.ops[n - 1].reply.is_some()
            })
            .await;
        sig("-CONT");
        assert!(ok, "the etcd write answered:\n{}", describe(&h.app));
        let s = last_op(&mut h, Duration::from_secs(90)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("leads")),
            "{s:?}\n{}",
            describe(&h.app)
        );
        assert_ne!(c.leader(), Some(frozen));
    });
    let lines = audit_lines(&audit);
    let actions: Vec<String> = lines
        .iter()
        .map(|l| l["action"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        actions,
        [
            "switchover",
            "switchover",
            "flush switchover",
            "failover",
            "switchover via etcd"
        ],
        "{lines:?}"
    );
    for l in &lines {
        assert!(
            l["outcome"].as_str().is_some_and(|o| o.starts_with("done")),
            "{l}"
        );
        assert!(l["user"].as_str().is_some_and(|u| !u.is_empty()));
        assert!(
            !l.to_string().contains(support::REST_PASSWORD),
            "no secrets in the audit log"
        );
    }
}

#[test]
fn restart_reload_reinit_pause_resume_and_a_wrong_password() {
    let c = TestCluster::start(3);
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    rt().block_on(async {
        let mut h = start(c.config_path(), Some(audit.clone())).await;
        let replica = h.app.rows()[1].name.clone();
        let started = |a: &App, m: &str| {
            a.cluster()
                .and_then(|c| c.rest.get(m))
                .and_then(|r| r.ok.as_ref())
                .and_then(|(_, s)| s.postmaster_start_time.clone())
        };
        let before = started(&h.app, &replica).expect("postmaster start time");

        // restart of a replica: its postmaster start time changes
        select(&mut h, &replica);
        press(&mut h, KeyCode::Char('r'));
        press(&mut h, KeyCode::Enter);
        press(&mut h, KeyCode::Char('y'));
        let s = last_op(&mut h, Duration::from_secs(60)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("streams again")),
            "{s:?}"
        );
        let after = started(&h.app, &replica).expect("start time");
        assert_ne!(before, after, "postmaster restarted");

        // reload
        press(&mut h, KeyCode::Char('L'));
        press(&mut h, KeyCode::Char('y'));
        let s = last_op(&mut h, Duration::from_secs(30)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("HTTP 202")),
            "{s:?}"
        );

        // reinit of a replica, its name typed
        let before = started(&h.app, &replica);
        press(&mut h, KeyCode::Char('I'));
        press(&mut h, KeyCode::Enter);
        keys(&mut h, &replica);
        press(&mut h, KeyCode::Enter);
        let s = last_op(&mut h, Duration::from_secs(90)).await;
        assert!(matches!(&s, Settle::Done(_)), "{s:?}\n{}", describe(&h.app));
        assert_ne!(before, started(&h.app, &replica));
        assert!(
            h.until(Duration::from_secs(60), healthy).await,
            "{}",
            describe(&h.app)
        );

        // pause and resume: every member reports it
        press(&mut h, KeyCode::Char('p'));
        press(&mut h, KeyCode::Char('y'));
        let s = last_op(&mut h, Duration::from_secs(30)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("every member reports maintenance mode")),
            "{s:?}"
        );
        assert!(h.app.cluster().is_some_and(|c| c.is_paused()));
        press(&mut h, KeyCode::Char('p'));
        press(&mut h, KeyCode::Char('y'));
        let s = last_op(&mut h, Duration::from_secs(30)).await;
        assert!(matches!(&s, Settle::Done(m) if m.contains("off")), "{s:?}");
        assert!(h.app.cluster().is_some_and(|c| !c.is_paused()));
    });

    // rolling restart: a parameter that needs a restart, then R
    let out = c.patronictl(&["edit-config", "-p", "max_connections=60", "--force"]);
    assert!(out.status.success(), "edit-config: {out:?}");
    rt().block_on(async {
        let mut h = start(c.config_path(), Some(audit.clone())).await;
        let leader = h.app.rows()[0].name.clone();
        let ok = h
            .until(Duration::from_secs(60), |a| {
                a.rows().iter().all(|r| r.pending_restart)
            })
            .await;
        assert!(
            ok,
            "every member has a pending restart:\n{}",
            describe(&h.app)
        );
        press(&mut h, KeyCode::Char('R'));
        press(&mut h, KeyCode::Enter);
        press(&mut h, KeyCode::Char('y'));
        let ok = h
            .until(Duration::from_secs(240), |a| {
                a.session
                    .rollout
                    .as_ref()
                    .is_some_and(|r| r.state != patrol::app::ops::RolloutState::Running)
            })
            .await;
        let r = h.app.session.rollout.clone().expect("rollout");
        assert!(
            ok && r.state == patrol::app::ops::RolloutState::Done,
            "{r:?}\n{}",
            describe(&h.app)
        );
        assert!(
            h.until(Duration::from_secs(60), healthy).await,
            "{}",
            describe(&h.app)
        );
        let ok = h
            .until(Duration::from_secs(30), |a| {
                a.rows().iter().all(|r| !r.pending_restart)
            })
            .await;
        assert!(ok, "no pending restart left:\n{}", describe(&h.app));
        assert_ne!(
            h.app.rows()[0].name,
            leader,
            "the leader was switched over first"
        );
    });

    // a wrong password: Patroni's 401, verbatim, and nothing changes
    let bad = c.dir().join("wrong-password.yaml");
    let text = std::fs::read_to_string(c.config_path()).expect("config");
    assert!(text.contains(support::REST_PASSWORD));
    std::fs::write(
        &bad,
        text.replace(support::REST_PASSWORD, "not-the-password"),
    )
    .expect("write");
    rt().block_on(async {
        let mut h = start(&bad, Some(audit.clone())).await;
        press(&mut h, KeyCode::Char('p'));
        press(&mut h, KeyCode::Char('y'));
        let s = last_op(&mut h, Duration::from_secs(30)).await;
        assert!(
            matches!(&s, Settle::Failed(m) if m.contains("HTTP 401")),
            "{s:?}"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        let _ = h.until(Duration::from_millis(500), |_| false).await;
        assert!(
            h.app.cluster().is_some_and(|c| !c.is_paused()),
            "nothing changed"
        );
    });
    let lines = audit_lines(&audit);
    let summary: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["action"].as_str().unwrap_or("").to_string(),
                l["outcome"]
                    .as_str()
                    .unwrap_or("")
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("restart", "done"),
        ("reload", "done"),
        ("reinit", "done"),
        ("pause", "done"),
        ("resume", "done"),
        ("restart", "done"),
        ("restart", "done"),
        ("switchover", "done"),
        ("pause", "failed"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(summary, want, "{lines:?}");
    assert_eq!(
        lines.last().map(|l| l["status"].clone()),
        Some(serde_json::json!(401))
    );
}
