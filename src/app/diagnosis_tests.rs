//! Every health rule raised and cleared by `update` sequences over the captured states
//! (tests/fixtures), and the raises and clears in the event log.

use std::time::{Duration, Instant};

use super::diagnosis::{Severity, Subject};
use super::events::EventKind;
use super::sample::*;
use super::{App, Msg};
use crate::dcs::DcsEvent;
use crate::dcs::info::{EndpointInfo, EndpointStatus, InfoEvent};

/// The message of the active finding of `rule`, if any.
fn message<'a>(a: &'a App, rule: &str) -> Option<&'a str> {
    a.health
        .findings()
        .iter()
        .find(|f| f.rule == rule)
        .map(|f| f.message.as_str())
}

/// The findings after the runtime drained its queue at `at`: (rule, subject).
fn judge(a: &mut App, at: Instant) -> Vec<(String, Subject)> {
    a.update(Msg::Drained(at));
    a.health
        .findings()
        .iter()
        .map(|f| (f.rule.to_string(), f.subject.clone()))
        .collect()
}

fn has(found: &[(String, Subject)], rule: &str, subject: &Subject) -> bool {
    found.iter().any(|(r, s)| r == rule && s == subject)
}

fn member(m: &str) -> Subject {
    Subject::Member(m.into())
}

/// The finding events in the log: (rule, raised).
fn finding_events(a: &App) -> Vec<(String, bool)> {
    a.model
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Finding { rule, raised, .. } => Some((rule.clone(), *raised)),
            _ => None,
        })
        .collect()
}

/// The sample cluster, every member live and caught up: nothing to find.
fn healthy(now: Instant) -> App {
    let mut a = healthy_live(now);
    rest_ok(&mut a, "pg3", replica_behind(0), now);
    let mut l = status("rest/patroni_leader.json");
    l.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut a, "pg1", l, now);
    a
}

fn leader_at(now: Instant) -> crate::patroni::PatroniStatus {
    let mut l = status("rest/patroni_leader.json");
    l.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    let _ = now;
    l
}

/// One polling round at `at`: replicas first, the leader last (so the pairs are live).
fn round(
    a: &mut App,
    at: Instant,
    pg2: crate::patroni::PatroniStatus,
    pg3: crate::patroni::PatroniStatus,
) {
    rest_ok(a, "pg2", pg2, at);
    rest_ok(a, "pg3", pg3, at);
    rest_ok(a, "pg1", leader_at(at), at);
}

/// Whether `rule` is among the findings judged at `t`.
fn raised(a: &mut App, t: Instant, rule: &str) -> bool {
    judge(a, t).iter().any(|(r, _)| r == rule)
}

#[test]
fn a_healthy_cluster_has_no_findings_and_logs_none() {
    let now = Instant::now();
    let mut a = healthy(now);
    assert_eq!(judge(&mut a, now), vec![]);
    assert!(finding_events(&a).is_empty());
    assert_eq!(a.health.worst(), None);
}

#[test]
fn a_stopped_replica_is_raised_then_cleared_with_events() {
    let now = Instant::now();
    let mut a = healthy(now);
    judge(&mut a, now);
    let stopped = String::from_utf8_lossy(&fixture("etcd/member_stopped.json")).to_string();
    a.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Put(kv("members/pg3", stopped.as_bytes())),
    ));
    // its REST API says so too (Patroni answers while PostgreSQL is stopped)
    let mut p = replica_behind(0);
    p.state = Some("stopped".into());
    p.replication_state = None;
    round(&mut a, later(now, 1), replica_behind(0), p);
    let found = judge(&mut a, later(now, 1));
    assert!(
        has(&found, "member-not-running", &member("pg3")),
        "{found:?}"
    );
    let f = a.health.of_member("pg3").expect("pg3's finding");
    assert_eq!(f.message, "pg3 stopped");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.since, later(now, 1));
    // still there a while later, since when it became true
    a.update(Msg::Tick(later(now, 5)));
    assert_eq!(
        a.health.of_member("pg3").map(|f| f.since),
        Some(later(now, 1))
    );
    assert_eq!(
        finding_events(&a),
        vec![("member-not-running".into(), true)]
    );
    // back: cleared, and the clear is an event too
    a.update(Msg::Dcs(
        later(now, 6),
        DcsEvent::Put(kv("members/pg3", &pg3_replica())),
    ));
    round(&mut a, later(now, 6), replica_behind(0), replica_behind(0));
    let found = judge(&mut a, later(now, 6));
    assert!(
        !has(&found, "member-not-running", &member("pg3")),
        "{found:?}"
    );
    assert_eq!(
        finding_events(&a),
        vec![
            ("member-not-running".into(), true),
            ("member-not-running".into(), false)
        ]
    );
    let text = a
        .model
        .events
        .back()
        .map(|e| e.kind.text())
        .unwrap_or_default();
    assert_eq!(text, "✓ cleared [member-not-running] pg3 stopped");
}

#[test]
fn a_member_whose_key_left_is_gone_until_it_returns() {
    let now = Instant::now();
    let mut a = healthy(now);
    a.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Delete {
            key: "/service/demo/members/pg3".into(),
        },
    ));
    assert!(has(
        &judge(&mut a, later(now, 1)),
        "member-gone",
        &member("pg3")
    ));
    a.update(Msg::Dcs(
        later(now, 2),
        DcsEvent::Put(kv("members/pg3", &pg3_replica())),
    ));
    assert!(!has(
        &judge(&mut a, later(now, 2)),
        "member-gone",
        &member("pg3")
    ));
}

#[test]
fn no_leader_and_the_leaders_rest_api_down_are_critical() {
    let now = Instant::now();
    let mut a = healthy(now);
    a.update(Msg::Info(InfoEvent::LeaseTtl {
        lease: 0,
        ttl: 18,
        granted: 20,
        at: now,
    }));
    rest_err(&mut a, "pg1", "connection refused", later(now, 1));
    let found = judge(&mut a, later(now, 1));
    assert!(has(&found, "leader-rest-down", &member("pg1")), "{found:?}");
    let f = &a.health.findings()[0];
    assert_eq!(f.severity, Severity::Critical, "the worst first");
    assert!(
        f.message.contains("connection refused") && f.message.contains("expires in 17s"),
        "{}",
        f.message
    );
    // the lock runs down without renewal: under a third left
    a.update(Msg::Tick(later(now, 14)));
    let found = judge(&mut a, later(now, 14));
    assert!(has(&found, "lock-not-renewed", &member("pg1")), "{found:?}");
    // the key expires: no leader, and the leader's rules clear
    a.update(Msg::Dcs(
        later(now, 19),
        DcsEvent::Delete {
            key: "/service/demo/leader".into(),
        },
    ));
    let found = judge(&mut a, later(now, 19));
    assert!(has(&found, "no-leader", &Subject::Cluster), "{found:?}");
    assert!(!has(&found, "leader-rest-down", &member("pg1")));
    a.update(Msg::Dcs(
        later(now, 20),
        DcsEvent::Put(kv("leader", b"pg2")),
    ));
    let found = judge(&mut a, later(now, 20));
    assert!(!has(&found, "no-leader", &Subject::Cluster), "{found:?}");
    let events = finding_events(&a);
    assert!(events.contains(&("no-leader".into(), true)));
    assert!(events.contains(&("no-leader".into(), false)));
}

#[test]
fn lag_over_the_limit_is_raised_and_cleared_as_it_crosses() {
    let now = Instant::now();
    let mut a = healthy(now);
    judge(&mut a, now);
    // maximum_lag_on_failover is 1 MiB in the fixture's config
    round(
        &mut a,
        later(now, 1),
        replica_behind(0),
        replica_behind(3 << 20),
    );
    let found = judge(&mut a, later(now, 1));
    assert!(has(&found, "lag-over-limit", &member("pg3")), "{found:?}");
    let m = &a.health.of_member("pg3").expect("finding").message;
    assert!(m.contains("3.0 MiB") && m.contains("1.0 MiB"), "{m}");
    // just under it: cleared
    round(
        &mut a,
        later(now, 2),
        replica_behind(0),
        replica_behind(1 << 19),
    );
    let found = judge(&mut a, later(now, 2));
    assert!(!has(&found, "lag-over-limit", &member("pg3")), "{found:?}");
}

#[test]
fn a_streaming_replica_missing_from_the_leaders_list_waits_then_is_raised() {
    let now = Instant::now();
    let mut a = healthy(now);
    let mut l = leader_at(now);
    l.replication
        .retain(|c| c.application_name.as_deref() != Some("pg3"));
    let at = |s| later(now, s);
    for s in 1..=7 {
        rest_ok(&mut a, "pg2", replica_behind(0), at(s));
        rest_ok(&mut a, "pg3", replica_behind(0), at(s));
        rest_ok(&mut a, "pg1", l.clone(), at(s));
        let found = judge(&mut a, at(s));
        // the rule waits 5 s: a replica reconnecting is not a finding
        assert_eq!(
            has(&found, "not-replicating", &member("pg3")),
            s >= 6,
            "at {s}s"
        );
    }
    assert_eq!(a.health.of_member("pg3").map(|f| f.since), Some(at(1)));
    round(&mut a, at(8), replica_behind(0), replica_behind(0));
    assert!(!has(
        &judge(&mut a, at(8)),
        "not-replicating",
        &member("pg3")
    ));
}

#[test]
fn two_primaries_and_a_role_disagreement() {
    let now = Instant::now();
    let mut a = healthy(now);
    let mut p = replica_behind(0);
    p.role = Some("primary".into());
    for s in 1..=6 {
        round(&mut a, later(now, s), p.clone(), replica_behind(0));
        judge(&mut a, later(now, s));
    }
    let found = judge(&mut a, later(now, 6));
    assert!(has(&found, "two-primaries", &Subject::Cluster), "{found:?}");
    assert!(has(&found, "role-disagrees", &member("pg2")), "{found:?}");
    assert_eq!(
        message(&a, "two-primaries"),
        Some("2 members claim to be primary: pg1, pg2")
    );
}

#[test]
fn a_timeline_ahead_of_the_leaders_is_a_fork_to_reinit() {
    let now = Instant::now();
    let mut a = healthy(now);
    let mut p = replica_behind(0);
    p.timeline = Some(2);
    for s in 1..=6 {
        round(&mut a, later(now, s), replica_behind(0), p.clone());
        judge(&mut a, later(now, s));
    }
    let f = a
        .health
        .findings()
        .iter()
        .find(|f| f.rule == "timeline-ahead")
        .expect("raised");
    assert_eq!(f.remedy, Some(super::diagnosis::Remedy::Reinit));
    assert_eq!(f.severity, Severity::Critical);
}

#[test]
fn rest_and_etcd_disagreeing_on_state_is_raised_after_a_loop() {
    let now = Instant::now();
    let mut a = healthy(now);
    let mut p = replica_behind(0);
    p.state = Some("starting".into());
    for s in 1..=20 {
        round(&mut a, later(now, s), replica_behind(0), p.clone());
        let found = judge(&mut a, later(now, s));
        assert_eq!(
            has(&found, "state-disagrees", &member("pg3")),
            s >= 16,
            "at {s}s: {found:?}"
        );
    }
}

fn with_config(a: &mut App, at: Instant, config: &str) {
    a.update(Msg::Dcs(at, DcsEvent::Put(kv("config", config.as_bytes()))));
}

#[test]
fn synchronous_mode_without_a_healthy_standby_strict_blocks_writes() {
    let now = Instant::now();
    let mut a = healthy(now);
    with_config(
        &mut a,
        now,
        r#"{"ttl":20,"loop_wait":1,"synchronous_mode":true}"#,
    );
    a.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv("sync", br#"{"leader":"pg1","sync_standby":"pg2"}"#)),
    ));
    let at = |s| later(now, s);
    judge(&mut a, at(0));
    assert!(a.health.findings().is_empty(), "{:?}", a.health.findings());
    rest_err(&mut a, "pg2", "connection refused", at(1));
    for s in 1..=6 {
        judge(&mut a, at(s));
    }
    assert!(a.health.active("sync-standby-missing"));
    assert!(!a.health.active("sync-strict-blocked"));
    with_config(
        &mut a,
        at(7),
        r#"{"ttl":20,"loop_wait":1,"synchronous_mode":true,"synchronous_mode_strict":true}"#,
    );
    for s in 7..=13 {
        judge(&mut a, at(s));
    }
    assert!(a.health.active("sync-strict-blocked"));
    assert!(!a.health.active("sync-standby-missing"));
    assert_eq!(a.health.worst(), Some(Severity::Critical));
    round(&mut a, at(14), replica_behind(0), replica_behind(0));
    judge(&mut a, at(14));
    assert!(!a.health.active("sync-strict-blocked"));
}

#[test]
fn quorum_mode_says_when_no_member_may_fail() {
    let now = Instant::now();
    let mut a = healthy(now);
    with_config(
        &mut a,
        now,
        r#"{"ttl":20,"loop_wait":1,"synchronous_mode":"quorum"}"#,
    );
    a.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv(
            "sync",
            br#"{"leader":"pg1","sync_standby":"pg2,pg3","quorum":1}"#,
        )),
    ));
    let at = |s| later(now, s);
    judge(&mut a, at(0));
    assert!(!a.health.active("quorum-no-margin"));
    rest_err(&mut a, "pg3", "connection refused", at(1));
    for s in 1..=6 {
        judge(&mut a, at(s));
    }
    assert_eq!(
        message(&a, "quorum-no-margin"),
        Some(
            "quorum commit needs 1 of the standbys, 1 are healthy: one more lost and commits stop"
        )
    );
}

#[test]
fn pending_restart_names_the_restart_and_paused_long_counts_from_the_pause() {
    let now = Instant::now();
    let mut a = live("pending", now);
    let found = judge(&mut a, now);
    let pending: Vec<_> = found
        .iter()
        .filter(|(r, _)| r == "pending-restart")
        .collect();
    assert!(!pending.is_empty(), "{found:?}");
    let f = a
        .health
        .findings()
        .iter()
        .find(|f| f.rule == "pending-restart")
        .expect("finding");
    assert_eq!(f.remedy, Some(super::diagnosis::Remedy::Restart));

    let mut a = app_with(|c| c.thresholds.paused_secs = 10, healthy_kvs(), now);
    with_config(&mut a, later(now, 1), r#"{"ttl":20,"pause":true}"#);
    assert!(!raised(&mut a, later(now, 5), "paused-long"));
    let found = judge(&mut a, later(now, 12));
    assert!(has(&found, "paused-long", &Subject::Cluster), "{found:?}");
    with_config(&mut a, later(now, 13), r#"{"ttl":20}"#);
    assert!(!raised(&mut a, later(now, 13), "paused-long"));
}

#[test]
fn a_postgres_restart_stays_a_finding_for_a_while() {
    let now = Instant::now();
    let mut a = app_with(|c| c.thresholds.restarted_secs = 60, healthy_kvs(), now);
    round(&mut a, now, replica_behind(0), replica_behind(0));
    judge(&mut a, now);
    let mut p = replica_behind(0);
    p.postmaster_start_time = Some("2026-11-26 00:10:00.0+00:00".into());
    round(&mut a, later(now, 1), p.clone(), replica_behind(0));
    assert!(has(
        &judge(&mut a, later(now, 1)),
        "postgres-restarted",
        &member("pg2")
    ));
    round(&mut a, later(now, 62), p, replica_behind(0));
    assert!(!has(
        &judge(&mut a, later(now, 62)),
        "postgres-restarted",
        &member("pg2")
    ));
}

#[test]
fn version_skew_dcs_last_seen_and_a_scheduled_switchover_to_an_ineligible_member() {
    let now = Instant::now();
    let mut a = healthy(now);
    let mut p = replica_behind(0);
    p.patroni.version = Some("4.0.2".into());
    round(&mut a, later(now, 1), replica_behind(0), p);
    let found = judge(&mut a, later(now, 1));
    assert!(has(&found, "version-skew", &Subject::Cluster), "{found:?}");
    assert_eq!(
        message(&a, "version-skew"),
        Some("version skew: Patroni 4.0.2 / 4.1.5")
    );

    // dcs_last_seen against the wall clock: pg2 said it last saw etcd at 1795650761
    let mut a = app_with(
        |c| c.wall_clock = Some(std::time::UNIX_EPOCH + Duration::from_secs(1795650761 + 120)),
        healthy_kvs(),
        now,
    );
    let mut stale = replica_behind(0);
    stale.dcs_last_seen = Some(1795650761);
    let mut fresh = replica_behind(0);
    fresh.dcs_last_seen = Some(1795650761 + 120);
    round(&mut a, now, stale, fresh.clone());
    let found = judge(&mut a, now);
    assert!(
        has(&found, "dcs-last-seen-old", &member("pg2")),
        "{found:?}"
    );
    assert!(
        !has(&found, "dcs-last-seen-old", &member("pg3")),
        "{found:?}"
    );

    // a switchover scheduled to pg3, which lags 3 MiB: flush it
    let mut a = healthy(now);
    a.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv(
            "failover",
            br#"{"leader":"pg1","member":"pg3","scheduled_at":"2026-11-26T01:53:00+00:00"}"#,
        )),
    ));
    for s in 1..=6 {
        round(
            &mut a,
            later(now, s),
            replica_behind(0),
            replica_behind(3 << 20),
        );
        judge(&mut a, later(now, s));
    }
    let f = a
        .health
        .findings()
        .iter()
        .find(|f| f.rule == "switchover-target-ineligible")
        .expect("raised");
    assert_eq!(f.remedy, Some(super::diagnosis::Remedy::Flush));
}

fn endpoint(ep: &str, up: bool) -> EndpointStatus {
    EndpointStatus {
        endpoint: ep.into(),
        result: if up {
            Ok(EndpointInfo {
                version: "3.5.0".into(),
                db_size: 1,
                member_id: 1,
                leader: 1,
                raft_term: 2,
                errors: Vec::new(),
            })
        } else {
            Err("connection refused".into())
        },
    }
}

#[test]
fn an_etcd_endpoint_down_and_etcd_data_going_stale() {
    let now = Instant::now();
    let mut a = healthy(now);
    a.update(Msg::Info(InfoEvent::Endpoints(vec![
        endpoint("http://127.0.0.1:24000", true),
        endpoint("http://user:secret@127.0.0.1:24001", false),
    ])));
    let found = judge(&mut a, now);
    // (the subject as shown: without the credentials)
    let down = Subject::Etcd("http://***@127.0.0.1:24001".into());
    assert!(has(&found, "etcd-endpoint-down", &down), "{found:?}");
    assert!(
        !a.health
            .findings()
            .iter()
            .any(|f| f.message.contains("secret")),
        "no password in a finding"
    );
    a.update(Msg::Info(InfoEvent::Endpoints(vec![
        endpoint("http://127.0.0.1:24000", true),
        endpoint("http://user:secret@127.0.0.1:24001", true),
    ])));
    assert!(!has(
        &judge(&mut a, later(now, 1)),
        "etcd-endpoint-down",
        &down
    ));

    a.update(Msg::Dcs(
        later(now, 2),
        DcsEvent::Down {
            endpoint: "http://127.0.0.1:24000".into(),
            error: "connection refused".into(),
        },
    ));
    a.update(Msg::Tick(later(now, 4)));
    assert!(a.health.active("etcd-stale"));
    assert_eq!(a.health.worst(), Some(Severity::Critical));
}

#[test]
fn failsafe_mode_names_the_members_missing_from_the_failsafe_key() {
    let now = Instant::now();
    let mut a = healthy(now);
    with_config(
        &mut a,
        now,
        r#"{"ttl":20,"loop_wait":1,"failsafe_mode":true}"#,
    );
    a.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv(
            "failsafe",
            br#"{"pg1":"http://127.0.0.1:24011/patroni","pg2":"http://127.0.0.1:24012/patroni"}"#,
        )),
    ));
    for s in 0..=16 {
        judge(&mut a, later(now, s));
    }
    assert_eq!(
        message(&a, "failsafe-missing"),
        Some("failsafe mode is on; missing from the failsafe key: pg3")
    );
}

#[test]
fn a_burst_is_judged_once_per_interval_not_per_drained_batch() {
    let now = Instant::now();
    let mut a = healthy(now);
    let before = a.health.evaluations;
    for i in 0..100 {
        a.update(Msg::Drained(now + Duration::from_millis(i)));
    }
    assert_eq!(a.health.evaluations - before, 1);
    a.update(Msg::Drained(now + super::diagnosis::Health::EVERY));
    assert_eq!(a.health.evaluations - before, 2);
    // a key or an etcd change alone judges nothing: the drained queue after it does
    a.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Put(kv("members/pg3", &pg3_replica())),
    ));
    assert_eq!(a.health.evaluations - before, 2);
}

fn press(c: char) -> Msg {
    Msg::Key(
        human(),
        ratatui::crossterm::event::KeyEvent::new(
            ratatui::crossterm::event::KeyCode::Char(c),
            ratatui::crossterm::event::KeyModifiers::NONE,
        ),
    )
}

/// pg3 forked (timeline ahead), judged long enough to raise it.
fn forked(a: &mut App, now: Instant) {
    let mut p = replica_behind(0);
    p.timeline = Some(2);
    for s in 1..=6 {
        round(a, later(now, s), replica_behind(0), p.clone());
        judge(a, later(now, s));
    }
}

#[test]
fn the_remedy_key_opens_the_named_operations_dialog_and_sends_nothing() {
    let now = Instant::now();
    let mut a = healthy(now);
    forked(&mut a, now);
    // from the Health view, pg3 selected
    a.update(press('H'));
    assert_eq!(*a.screen.view(), super::View::Health);
    a.screen.selected = Some("pg3".into());
    let eff = a.update(press('a'));
    let d = a.session.dialog.as_ref().expect("the reinit dialog");
    assert_eq!(d.kind, super::ops::OpKind::Reinit);
    assert_eq!(d.member.as_deref(), Some("pg3"));
    assert_eq!(
        d.step,
        super::dialog::Step::Options,
        "the usual steps, from the first"
    );
    assert!(
        !eff.iter().any(|e| matches!(e, super::Effect::Send { .. })),
        "a rule never sends: {eff:?}"
    );

    // read-only: refused like the operation's own key
    let mut a = app_with(|c| c.read_only = true, healthy_kvs(), now);
    forked(&mut a, now);
    a.screen.selected = Some("pg3".into());
    a.update(press('a'));
    assert!(a.session.dialog.is_none());
    assert!(a.screen.flash.is_some());

    // nothing with a remedy: said, nothing opened
    let mut a = healthy(now);
    judge(&mut a, now);
    a.update(press('a'));
    assert!(a.session.dialog.is_none());
    let flash = a
        .screen
        .flash
        .as_ref()
        .map(|f| f.0.clone())
        .unwrap_or_default();
    assert!(flash.contains("no finding"), "{flash}");
}

#[test]
fn check_prints_the_same_findings_as_a_nagios_plugin_with_lag_perfdata() {
    use crate::check::{CheckFormat, Status, report};
    let now = Instant::now();
    let th = super::diagnosis::Thresholds::default();
    let a = healthy(now);
    let (st, text) = report(&a.model, &th, CheckFormat::Nagios);
    assert_eq!(st, Status::Ok);
    assert_eq!(
        text,
        "PATROL OK - demo: 3 members, leader pg1, no findings | 'lag_pg2'=0B;1048576;;0 'lag_pg3'=0B;1048576;;0"
    );

    // pg3 stopped and 3 MiB behind pg2: WARNING, each finding a line, the lag in perfdata
    let mut a = healthy(now);
    let stopped = String::from_utf8_lossy(&fixture("etcd/member_stopped.json")).to_string();
    a.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Put(kv("members/pg3", stopped.as_bytes())),
    ));
    let mut p = replica_behind(0);
    p.state = Some("stopped".into());
    p.replication_state = None;
    round(&mut a, later(now, 1), replica_behind(3 << 20), p);
    let (st, text) = report(&a.model, &th, CheckFormat::Nagios);
    assert_eq!(st, Status::Warning, "{text}");
    assert_eq!(st.code(), 1);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("PATROL WARNING - demo: 2 findings: "),
        "{text}"
    );
    assert!(lines[0].contains("'lag_pg2'=3145728B;1048576;;0"), "{text}");
    assert!(
        lines.contains(&"WARNING [member-not-running] pg3 stopped"),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("WARNING [lag-over-limit] pg2 lags 3.0 MiB"))
    );
    // the same judgement as the screen's
    let mut judged = a.clone();
    judged.update(Msg::Drained(later(now, 1)));
    let screen: Vec<&str> = judged.health.findings().iter().map(|f| f.rule).collect();
    let (_, json) = report(&a.model, &th, CheckFormat::Json);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    let mut a1 = screen.clone();
    a1.sort();
    let mut b1 = rules.clone();
    b1.sort();
    assert_eq!(a1, b1);
    assert_eq!(v["code"], 1);
    assert_eq!(v["lag_bytes"]["pg2"], 3145728);

    // the leader's API down: CRITICAL
    let mut a = healthy(now);
    rest_err(&mut a, "pg1", "connection refused", later(now, 1));
    let (st, text) = report(&a.model, &th, CheckFormat::Nagios);
    assert_eq!((st, st.code()), (Status::Critical, 2), "{text}");
}

#[test]
fn check_sanitizes_what_etcd_says_and_keeps_perfdata_labels_plain() {
    use crate::check::{CheckFormat, report};
    let now = Instant::now();
    let mut kvs = healthy_kvs();
    kvs.push(kv(
        "members/ev'il=\u{1b}[2J",
        br#"{"conn_url":"postgres://127.0.0.1:24029/postgres","api_url":"http://127.0.0.1:24019/patroni","state":"stopped\u001b[31m","role":"replica"}"#,
    ));
    let mut a = app(kvs, now);
    rest_ok(&mut a, "pg1", leader_at(now), now);
    rest_ok(&mut a, "ev'il=\u{1b}[2J", replica_behind(0), now);
    let (_, text) = report(
        &a.model,
        &super::diagnosis::Thresholds::default(),
        CheckFormat::Nagios,
    );
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(!text.contains("'ev'"), "a quote in a label ends it: {text}");
    assert!(
        text.contains("'lag_ev_il__"),
        "the member is in the perfdata: {text}"
    );
    assert!(
        text.contains("[state-disagrees] ev'il=?[2J"),
        "and its finding: {text}"
    );
}

#[test]
fn the_bell_rings_on_a_raise_only_when_asked_and_never_on_a_clear() {
    let now = Instant::now();
    let bells = |bell: bool| {
        let mut a = healthy_live_with(|c| c.bell = bell, now);
        rest_ok(&mut a, "pg3", replica_behind(0), now);
        judge(&mut a, now);
        let mut rung = Vec::new();
        // pg3's API fails: raised; it answers again: cleared
        rest_err(&mut a, "pg3", "connection refused", later(now, 1));
        rung.push(
            a.update(Msg::Drained(later(now, 1)))
                .contains(&super::Effect::Bell),
        );
        round(&mut a, later(now, 2), replica_behind(0), replica_behind(0));
        rung.push(
            a.update(Msg::Drained(later(now, 2)))
                .contains(&super::Effect::Bell),
        );
        assert!(!a.health.active("rest-unreachable"));
        rung
    };
    assert_eq!(bells(true), vec![true, false]);
    assert_eq!(bells(false), vec![false, false]);
}

#[test]
fn check_says_unknown_when_it_cannot_look() {
    use crate::check::{CheckFormat, unknown};
    assert_eq!(
        unknown("cannot reach etcd: refused\u{1b}[2J", CheckFormat::Nagios),
        "PATROL UNKNOWN - cannot reach etcd: refused?[2J"
    );
    let v: serde_json::Value =
        serde_json::from_str(&unknown("x", CheckFormat::Json)).expect("json");
    assert_eq!(
        (v["status"].as_str(), v["code"].as_i64()),
        (Some("UNKNOWN"), Some(3))
    );
}

fn with_status(a: &mut App, at: Instant, status: &str) {
    a.update(Msg::Dcs(at, DcsEvent::Put(kv("status", status.as_bytes()))));
}

#[test]
fn a_slot_retaining_more_than_the_threshold_is_raised_and_cleared() {
    let now = Instant::now();
    let mut a = app_with(
        |c| c.thresholds.slot_retained_bytes = 1 << 30,
        healthy_kvs(),
        now,
    );
    let optime: u64 = 3 << 30;
    with_status(
        &mut a,
        now,
        &format!(
            r#"{{"optime":{optime},"slots":{{"pg2":{optime},"pg3":{}}}}}"#,
            optime - (2 << 30)
        ),
    );
    let found = judge(&mut a, now);
    assert!(
        has(&found, "slot-retains-much", &Subject::Slot("pg3".into())),
        "{found:?}"
    );
    assert!(
        !has(&found, "slot-retains-much", &Subject::Slot("pg2".into())),
        "{found:?}"
    );
    assert_eq!(
        message(&a, "slot-retains-much"),
        Some("slot pg3 retains 2.0 GiB of WAL on the leader (over 1.0 GiB)")
    );
    // the slot advances: cleared
    with_status(
        &mut a,
        later(now, 1),
        &format!(r#"{{"optime":{optime},"slots":{{"pg2":{optime},"pg3":{optime}}}}}"#),
    );
    assert!(!raised(&mut a, later(now, 1), "slot-retains-much"));
}

#[test]
fn a_slot_of_no_member_is_an_orphan_but_a_permanent_one_is_not() {
    let now = Instant::now();
    let mut a = healthy(now);
    with_config(
        &mut a,
        now,
        r#"{"ttl":20,"loop_wait":1,"slots":{"archiver":{"type":"physical"}}}"#,
    );
    with_status(
        &mut a,
        now,
        r#"{"optime":2000,"slots":{"pg2":2000,"pg3":2000,"old_box":1000,"archiver":10}}"#,
    );
    let at = |s| later(now, s);
    for s in 0..=16 {
        let found = judge(&mut a, at(s));
        assert_eq!(
            has(&found, "slot-orphan", &Subject::Slot("old_box".into())),
            s >= 15,
            "waits 15 s, at {s}s: {found:?}"
        );
        assert!(!has(
            &found,
            "slot-orphan",
            &Subject::Slot("archiver".into())
        ));
    }
    assert_eq!(
        message(&a, "slot-orphan"),
        Some("slot old_box belongs to no member (no member has this slot's name), retains 1000 B")
    );
    // a member whose key left: its slot is named as its
    a.update(Msg::Dcs(
        at(17),
        DcsEvent::Delete {
            key: "/service/demo/members/pg3".into(),
        },
    ));
    for s in 17..=33 {
        judge(&mut a, at(s));
    }
    let found = judge(&mut a, at(33));
    assert!(
        has(&found, "slot-orphan", &Subject::Slot("pg3".into())),
        "{found:?}"
    );
    // Patroni drops them: cleared
    with_status(&mut a, at(34), r#"{"optime":2000,"slots":{"pg2":2000}}"#);
    assert!(!raised(&mut a, at(34), "slot-orphan"));
}

#[test]
fn slot_names_follow_patronis_rule() {
    use super::diagnosis::slot_name;
    assert_eq!(slot_name("pg-1.example"), "pg_1_example");
    assert_eq!(slot_name("PG2"), "pg2");
    // Patroni: f"u{ord(c):04d}"
    assert_eq!(slot_name("a b"), "au0032b");
    assert_eq!(slot_name(&"x".repeat(100)).len(), 63);
}

#[test]
fn failsafe_active_is_raised_while_the_primary_runs_without_the_lock() {
    let now = Instant::now();
    let mut a = healthy(now);
    with_config(
        &mut a,
        now,
        r#"{"ttl":20,"loop_wait":1,"failsafe_mode":true}"#,
    );
    judge(&mut a, now);
    assert!(!a.health.active("failsafe-active"));
    // Patroni lost etcd: the lock expires, pg1 asks every failsafe member and stays primary
    a.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Delete {
            key: "/service/demo/leader".into(),
        },
    ));
    let mut l = leader_at(now);
    l.failsafe_mode_is_active = true;
    l.cluster_unlocked = true;
    let mut r = replica_behind(0);
    r.failsafe_mode_is_active = true;
    rest_ok(&mut a, "pg2", r, later(now, 1));
    rest_ok(&mut a, "pg3", replica_behind(0), later(now, 1));
    rest_ok(&mut a, "pg1", l, later(now, 1));
    judge(&mut a, later(now, 1));
    assert_eq!(
        message(&a, "failsafe-active"),
        Some(
            "failsafe mode active: pg1 stays primary without the leader lock (Patroni cannot reach etcd; every member of the failsafe key answered it); said by pg1, pg2"
        )
    );
    assert_eq!(a.health.worst(), Some(Severity::Critical));
    // etcd back, the lock taken again: cleared
    a.update(Msg::Dcs(later(now, 2), DcsEvent::Put(kv("leader", b"pg1"))));
    round(&mut a, later(now, 2), replica_behind(0), replica_behind(0));
    assert!(!raised(&mut a, later(now, 2), "failsafe-active"));
}

#[test]
fn a_replica_past_the_leaders_switch_point_on_its_old_timeline_has_diverged() {
    let now = Instant::now();
    let mut a = healthy(now);
    // the leader moved to timeline 2 at 0/4000000
    a.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv(
            "history",
            br#"[[1,67108864,"no recovery target specified","2026-11-26T00:00:00+00:00","pg1"]]"#,
        )),
    ));
    let mut l = leader_at(now);
    l.timeline = Some(2);
    let on_tl1 = |replayed: u64| {
        let mut p = replica_behind(0);
        p.timeline = Some(1);
        p.xlog.replayed_location = Some(replayed);
        p.xlog.received_location = Some(replayed);
        p
    };
    let at = |s| later(now, s);
    // pg3 stopped at the switch point on timeline 1: it can follow, nothing to say
    for s in 1..=7 {
        rest_ok(&mut a, "pg2", replica_behind(0), at(s));
        rest_ok(&mut a, "pg3", on_tl1(67108864), at(s));
        rest_ok(&mut a, "pg1", l.clone(), at(s));
        let found = judge(&mut a, at(s));
        assert!(
            !has(&found, "history-diverged", &member("pg3")),
            "{found:?}"
        );
    }
    // past it (it was written to after the leader left timeline 1): forked, after 5 s
    for s in 8..=14 {
        rest_ok(&mut a, "pg2", replica_behind(0), at(s));
        rest_ok(&mut a, "pg3", on_tl1(67108864 + 4096), at(s));
        rest_ok(&mut a, "pg1", l.clone(), at(s));
        let found = judge(&mut a, at(s));
        assert_eq!(
            has(&found, "history-diverged", &member("pg3")),
            s >= 13,
            "at {s}s: {found:?}"
        );
    }
    let f = a.health.of_member("pg3").expect("pg3's finding");
    assert_eq!(f.remedy, Some(super::diagnosis::Remedy::Reinit));
    assert_eq!(
        f.message,
        "pg3 replayed to 0/4001000 on timeline 1, past where the leader's history left it (0/4000000): it forked (pg_rewind or reinit)"
    );
    // reinitialized: on the leader's timeline, cleared
    let mut p = replica_behind(0);
    p.timeline = Some(2);
    rest_ok(&mut a, "pg2", replica_behind(0), at(15));
    rest_ok(&mut a, "pg3", p, at(15));
    rest_ok(&mut a, "pg1", l, at(15));
    assert!(!has(
        &judge(&mut a, at(15)),
        "history-diverged",
        &member("pg3")
    ));
}

#[test]
fn a_failure_inside_the_interval_is_judged_at_its_end_not_at_the_next_tick() {
    let now = Instant::now();
    let mut a = healthy(now);
    judge(&mut a, now);
    assert_eq!(a.wake_at(), None, "nothing owed after an evaluation");
    // the leader's API fails 50 ms after the last evaluation: too soon to judge again
    let t = now + Duration::from_millis(50);
    rest_err(&mut a, "pg1", "connection refused", t);
    a.update(Msg::Drained(t));
    assert!(!a.health.active("leader-rest-down"), "not judged yet");
    // the loop is told to wake when the interval ends, and the tick then judges it
    let due = a.wake_at().expect("an evaluation owed");
    assert_eq!(due, now + super::diagnosis::Health::EVERY);
    a.update(Msg::Tick(due));
    assert!(a.health.active("leader-rest-down"));
    assert_eq!(a.wake_at(), None, "paid");
}

#[test]
fn etcd_regained_within_the_interval_is_judged_at_once() {
    let now = Instant::now();
    let mut a = healthy(now);
    judge(&mut a, now);
    // the connection goes: STALE
    let t = later(now, 1);
    a.update(Msg::Dcs(
        t,
        DcsEvent::Down {
            endpoint: "http://127.0.0.1:24000".into(),
            error: "etcd at 127.0.0.1:24000 stopped answering".into(),
        },
    ));
    judge(&mut a, t);
    assert!(a.health.active("etcd-stale"));
    // and it comes back on another member 50 ms after that evaluation: the header must not
    // say `live` beside a STALE badge until the next one
    a.update(Msg::Dcs(
        t + Duration::from_millis(50),
        DcsEvent::Resumed {
            endpoint: "http://127.0.0.1:24010".into(),
            revision: 41,
        },
    ));
    assert!(!a.health.active("etcd-stale"), "{:?}", a.health.findings());
}
