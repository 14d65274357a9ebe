//! The health rules on a real cluster: a stopped replica raises a finding about it (an
//! event, the header's badge), its return clears it; `patrol check` (the real binary) exits
//! 0 on the healthy cluster and 1 or 2 with the replica stopped, naming it.

mod support;

use support::drive::{rt, settings};

use std::process::Output;
use std::time::{Duration, Instant};

use patrol::app::App;
use patrol::app::events::EventKind;
use patrol::runtime::Headless;
use support::{TestCluster, eventually, healthy};

fn check(c: &TestCluster, format: &str) -> Output {
    support::patrol_check(c, &[], format)
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn findings_about(app: &App, member: &str) -> Vec<String> {
    app.health
        .findings()
        .iter()
        .filter(|f| f.subject.member() == Some(member))
        .map(|f| format!("{} {}", f.rule, f.message))
        .collect()
}

fn finding_events(app: &App) -> Vec<(String, String, bool)> {
    app.model
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Finding {
                rule,
                message,
                raised,
                ..
            } => Some((rule.clone(), message.clone(), *raised)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_stopped_replica_is_raised_and_cleared_and_check_exits_by_it() {
    let c = TestCluster::start(3);
    let rt = rt();
    rt.block_on(async {
        let s = settings(c.config_path());
        let mut h =
            Headless::start(&s, Duration::from_millis(500), Duration::from_secs(2)).expect("start");
        let ok = h.until(Duration::from_secs(30), healthy).await;
        assert!(ok, "healthy at first");

        // healthy: OK, exit 0 (within a few tries: a replica may still be catching up)
        let o = eventually(Duration::from_secs(30), "check says OK", || {
            let o = check(&c, "nagios");
            (o.status.code() == Some(0)).then_some(o)
        });
        let text = out(&o);
        assert!(text.starts_with("PATROL OK - "), "{text}");
        assert!(text.contains("'lag_"), "lag perfdata: {text}");

        let victim = h
            .app
            .rows()
            .iter()
            .find(|r| !r.role.is_leader())
            .map(|r| r.name.clone())
            .expect("a replica");
        let stopped_at = Instant::now();
        c.stop_member(&victim);
        let ok = h
            .until(Duration::from_secs(60), |a| {
                !findings_about(a, &victim).is_empty()
            })
            .await;
        assert!(
            ok,
            "a finding about {victim}: {:?}",
            h.app.health.findings()
        );
        eprintln!(
            "stopped replica's finding after {:?}: {:?}",
            stopped_at.elapsed(),
            findings_about(&h.app, &victim)
        );
        assert!(
            finding_events(&h.app)
                .iter()
                .any(|(_, m, raised)| *raised && m.contains(victim.as_str())),
            "raised in the event log: {:?}",
            finding_events(&h.app)
        );

        // check: WARNING or CRITICAL, naming the stopped replica
        let o = check(&c, "nagios");
        let text = out(&o);
        assert!(
            matches!(o.status.code(), Some(1 | 2)),
            "exit {:?}: {text}",
            o.status.code()
        );
        assert!(text.contains(victim.as_str()), "{text}");
        let o = check(&c, "json");
        let v: serde_json::Value = serde_json::from_str(out(&o).trim()).expect("json");
        assert_eq!(v["code"].as_i64(), o.status.code().map(i64::from), "{v}");

        // it comes back: cleared, and the clear is an event; what stays is that its
        // PostgreSQL restarted (a finding for `restarted_secs`, 5 minutes by default)
        c.start_member(&victim);
        let ok = h
            .until(Duration::from_secs(90), |a| {
                healthy(a)
                    && findings_about(a, &victim)
                        .iter()
                        .all(|f| f.starts_with("postgres-restarted "))
            })
            .await;
        assert!(
            ok,
            "{victim}'s findings cleared: {:?}",
            h.app.health.findings()
        );
        assert!(
            finding_events(&h.app)
                .iter()
                .any(|(_, m, raised)| !*raised && m.contains(victim.as_str())),
            "cleared in the event log: {:?}",
            finding_events(&h.app)
        );
        assert!(
            findings_about(&h.app, &victim)
                .iter()
                .any(|f| f.starts_with("postgres-restarted ")),
            "its restart is a finding: {:?}",
            h.app.health.findings()
        );
        // (one look has no history: a restart before it is not news to `check`)
        let o = eventually(Duration::from_secs(30), "check says OK again", || {
            let o = check(&c, "nagios");
            (o.status.code() == Some(0)).then_some(o)
        });
        assert!(out(&o).starts_with("PATROL OK - "));
    });
}
