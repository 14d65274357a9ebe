//! `update` sequences: messages in, state and effects out.

use std::time::Instant;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate as patrol_crate;
use crate::dcs::RawKv;

#[path = "../../tests/sample/mod.rs"]
mod sample;
use sample::*;

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[test]
fn snapshot_builds_the_cluster_and_asks_to_poll_every_member() {
    let now = Instant::now();
    let mut a = App::new("demo", "/service/", vec!["http://e:1".into()], now);
    let eff = a.update(Msg::Dcs(now, snapshot(healthy_kvs())));
    assert_eq!(
        eff,
        vec![Effect::PollMembers(vec![
            ("pg1".into(), "http://127.0.0.1:24011/patroni".into()),
            ("pg2".into(), "http://127.0.0.1:24012/patroni".into()),
            ("pg3".into(), "http://127.0.0.1:24013/patroni".into()),
        ])]
    );
    assert!(a.loaded);
    assert!(matches!(a.dcs, DcsHealth::Live { revision: 42, .. }));
    let rows = a.rows();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].name, "pg1");
    assert_eq!(rows[0].role, Role::Leader);
    assert_eq!(rows[0].state, "running");
    assert_eq!(rows[1].role, Role::Replica);
    assert_eq!(rows[1].state, "streaming");
    // no REST yet: lag comes from the DCS and says so
    assert!(matches!(rows[1].lag_source, members::LagSource::Dcs(_)));
    assert_eq!(rows[1].receive_lag, Some(0));
    // a second identical snapshot does not restart the pollers
    assert!(a.update(Msg::Dcs(now, snapshot(healthy_kvs()))).is_empty());
}

#[test]
fn live_lag_from_rest_beats_dcs() {
    let now = Instant::now();
    let a = healthy_live(now);
    let rows = a.rows();
    let pg3 = rows.iter().find(|r| r.name == "pg3").unwrap();
    assert_eq!(pg3.lag_source, members::LagSource::Live);
    assert_eq!(pg3.replay_lag, Some(1536 * 1024));
    assert_eq!(pg3.receive_lag, Some(768 * 1024));
    // 1.5 MiB is above maximum_lag_on_failover (1 MiB) in the captured config
    assert!(pg3.lagging);
    let pg2 = rows.iter().find(|r| r.name == "pg2").unwrap();
    assert_eq!(pg2.replay_lag, Some(0));
    assert!(!pg2.lagging);
}

#[test]
fn unreachable_member_keeps_dcs_data_and_shows_age() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    rest_err(&mut a, "pg3", "connection refused", later(now, 5));
    rest_ok(
        &mut a,
        "pg1",
        status("rest/patroni_leader.json"),
        later(now, 6),
    );
    rest_ok(&mut a, "pg2", replica_behind(0), later(now, 6));
    a.update(Msg::Tick(later(now, 7)));
    let rows = a.rows();
    let pg3 = rows.iter().find(|r| r.name == "pg3").unwrap();
    match &pg3.rest {
        members::RestHealth::Unreachable { error, last_ok } => {
            assert_eq!(error, "connection refused");
            assert_eq!(*last_ok, Some(std::time::Duration::from_secs(7)));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(pg3.lag_source, members::LagSource::Dcs(_)));
    // the others stay live
    assert!(
        rows.iter()
            .filter(|r| r.name != "pg3")
            .all(|r| r.rest == members::RestHealth::Live)
    );
}

#[test]
fn leader_change_by_watch_events() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    a.update(Msg::Dcs(
        now,
        DcsEvent::Delete {
            key: "/service/demo/leader".into(),
        },
    ));
    assert!(a.rows().iter().all(|r| !r.role.is_leader()));
    a.update(Msg::Dcs(now, DcsEvent::Put(kv("leader", b"pg2"))));
    let rows = a.rows();
    assert_eq!(rows[0].name, "pg2", "leader sorts first");
    assert_eq!(rows[0].role, Role::Leader);
}

#[test]
fn selection_follows_the_member_when_rows_reorder() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    a.update(key('j'));
    assert_eq!(a.selected.as_deref(), Some("pg2"));
    a.update(Msg::Dcs(now, DcsEvent::Put(kv("leader", b"pg2"))));
    let rows = a.rows();
    assert_eq!(rows[a.selected_index(&rows)].name, "pg2");
    assert_eq!(a.selected_index(&rows), 0);
}

#[test]
fn member_leaving_and_coming_back() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    let eff = a.update(Msg::Dcs(
        now,
        DcsEvent::Delete {
            key: "/service/demo/members/pg3".into(),
        },
    ));
    assert_eq!(eff.len(), 1, "poll set shrinks");
    let rows = a.rows();
    let pg3 = rows.iter().find(|r| r.name == "pg3").unwrap();
    assert!(pg3.gone.is_some());
    assert_eq!(rows.last().unwrap().name, "pg3", "gone members sort last");
    let eff = a.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv("members/pg3", &pg3_replica())),
    ));
    assert_eq!(eff.len(), 1, "poll set grows");
    assert!(a.rows().iter().all(|r| r.gone.is_none()));
}

#[test]
fn garbage_member_key_is_a_warning_and_keeps_the_last_value() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    a.update(Msg::Dcs(now, DcsEvent::Put(kv("members/pg2", b"{garbage"))));
    let c = a.cluster().unwrap();
    assert!(
        c.warnings
            .get("members/pg2")
            .is_some_and(|w| w.contains("JSON"))
    );
    assert_eq!(a.rows().len(), 3);
    a.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv("members/pg2", &fixture("etcd/member_replica.json"))),
    ));
    assert!(a.cluster().unwrap().warnings.is_empty());
}

#[test]
fn etcd_down_marks_stale_and_recovers() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    a.update(Msg::Dcs(
        later(now, 10),
        DcsEvent::Down {
            endpoint: "http://e:1".into(),
            error: "etcd unavailable\x1b[2J".into(),
        },
    ));
    a.update(Msg::Tick(later(now, 25)));
    assert_eq!(a.stale_for(), Some(std::time::Duration::from_secs(15)));
    assert_eq!(a.rows().len(), 3, "last state is kept");
    match &a.dcs {
        DcsHealth::Down { error, .. } => assert!(!error.contains('\x1b'), "sanitized"),
        other => panic!("{other:?}"),
    }
    a.update(Msg::Dcs(later(now, 26), snapshot(healthy_kvs())));
    assert_eq!(a.stale_for(), None);
}

#[test]
fn snapshot_after_reconnect_reports_members_that_left_meanwhile() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    let without_pg3: Vec<RawKv> = healthy_kvs()
        .into_iter()
        .filter(|k| !k.key.ends_with("pg3"))
        .collect();
    a.update(Msg::Dcs(now, snapshot(without_pg3)));
    let rows = a.rows();
    assert!(
        rows.iter()
            .find(|r| r.name == "pg3")
            .is_some_and(|r| r.gone.is_some())
    );
}

#[test]
fn rest_reply_for_unknown_member_is_ignored() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    a.dirty = false;
    rest_ok(&mut a, "intruder", status("rest/patroni_leader.json"), now);
    assert!(!a.dirty);
    assert!(!a.cluster().unwrap().rest.contains_key("intruder"));
}

#[test]
fn idle_cluster_does_not_redraw_on_ticks_or_identical_replies() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.dirty = false;
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    for s in 1..5 {
        // what an idle cluster sends: the same answers, once a second
        rest_ok(&mut a, "pg1", leader.clone(), later(now, s));
        rest_ok(&mut a, "pg2", replica_behind(0), later(now, s));
        rest_ok(&mut a, "pg3", replica_behind(1536 * 1024), later(now, s));
        a.update(Msg::Tick(later(now, s)));
    }
    assert!(!a.dirty, "no age on screen: ticks change nothing");
    rest_ok(&mut a, "pg2", replica_behind(0), later(now, 5));
    assert!(!a.dirty, "same answer again: nothing to draw");
    rest_ok(&mut a, "pg2", replica_behind(4096), later(now, 6));
    assert!(a.dirty, "new position: draw");
}

#[test]
fn keys_move_selection_and_quit() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    a.update(key('j'));
    a.update(key('j'));
    a.update(key('j'));
    assert_eq!(
        a.selected.as_deref(),
        Some("pg3"),
        "clamped to the last row"
    );
    a.update(key('k'));
    assert_eq!(a.selected.as_deref(), Some("pg2"));
    a.update(key('g'));
    assert_eq!(a.selected.as_deref(), Some("pg1"));
    a.update(key('?'));
    assert!(a.show_help);
    a.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert!(!a.show_help);
    assert!(a.quit.is_none());
    a.update(key('q'));
    assert!(a.quit.is_some());
}

#[test]
fn paused_and_scheduled_switchover_are_in_the_model() {
    let now = Instant::now();
    let mut kvs = healthy_kvs();
    kvs.push(kv("config", &fixture("etcd/config_paused.json")));
    kvs.push(kv("failover", &fixture("etcd/failover_scheduled.json")));
    let a = app(kvs, now);
    let c = a.cluster().unwrap();
    assert!(c.is_paused());
    assert_eq!(
        c.failover.as_ref().and_then(|f| f.member.as_deref()),
        Some("pg1")
    );
}

#[test]
fn sync_standby_role_in_synchronous_mode() {
    let now = Instant::now();
    let mut kvs = healthy_kvs();
    kvs.push(kv("config", br#"{"synchronous_mode": true}"#));
    kvs.push(kv("sync", br#"{"leader":"pg1","sync_standby":"pg3"}"#));
    let a = app(kvs, now);
    let rows = a.rows();
    assert_eq!(
        rows.iter().find(|r| r.name == "pg3").unwrap().role,
        Role::SyncStandby
    );
    assert_eq!(
        rows.iter().find(|r| r.name == "pg2").unwrap().role,
        Role::Replica
    );
}
