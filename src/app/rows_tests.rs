//! Rows that must not be wasted: a finished operation is one line in the panel, goes into
//! the event log, leaves the panel after [`ops::LINGER`] or at the dismiss key; the Events
//! view scrolls and filters; an export names its cluster and dates each line.

use std::time::Instant;

use ratatui::crossterm::event::KeyCode;

use super::sample::*;
use super::tests::{key, press};
use super::*;

/// The dynamic config as Patroni's PATCH /config answers it: JSON over several lines.
const CONFIG_REPLY: &str = "{\n  \"loop_wait\": 10,\n  \"maximum_lag_on_failover\": 1048576,\n  \"pause\": true,\n  \"retry_timeout\": 10,\n  \"ttl\": 30\n}";

/// Reload pg1 (selected) and answer with `body`: (app, op id).
fn reloaded(now: Instant, code: u16, body: &str) -> (App, u64) {
    let mut a = healthy_live(now);
    a.update(key('L'));
    let Some(Effect::Send { op, .. }) = a
        .update(key('y'))
        .into_iter()
        .find(|e| matches!(e, Effect::Send { .. }))
    else {
        panic!("reload not sent: {:?}", a.session.dialog)
    };
    a.update(Msg::OpReply {
        op,
        at: now,
        reply: ops::Reply::Status {
            code,
            body: body.into(),
        },
    });
    (a, op)
}

#[test]
fn a_finished_operation_is_one_line_with_status_and_message_and_its_reply_is_in_the_event_log() {
    let now = Instant::now();
    let (a, _) = reloaded(now, 200, CONFIG_REPLY);
    let o = &a.session.ops[0];
    assert!(o.settle.finished(), "{:?}", o.settle);
    let line = o.summary();
    assert!(!line.contains('\n'), "{line:?}");
    assert!(line.starts_with("done: HTTP 200: {"), "{line:?}");
    // the event log has the outcome at once, and the whole reply as its detail
    let e = a.model.events.back().expect("an event");
    assert_eq!(e.kind.text(), format!("reload pg1: {line}"));
    let detail = e.kind.detail();
    assert_eq!(detail.first(), Some(&"HTTP 200:"));
    assert!(detail.contains(&"  \"ttl\": 30"), "{detail:?}");
    assert_eq!(detail.len(), 8, "{detail:?}");
}

#[test]
fn a_refusal_says_its_status_and_message_once() {
    let now = Instant::now();
    let (a, _) = reloaded(now, 412, "not allowed");
    assert_eq!(a.session.ops[0].summary(), "failed: HTTP 412: not allowed");
    assert!(a.model.events.back().is_some_and(|e| e.kind.is_alarm()));
    // and the event log does not repeat a one-line reply under the line that says it
    let e = a.model.events.back().expect("an event");
    assert!(
        e.kind.text().contains("HTTP 412: not allowed"),
        "{}",
        e.kind.text()
    );
    assert!(e.kind.detail().is_empty(), "{:?}", e.kind.detail());
}

#[test]
fn a_finished_operation_leaves_the_panel_after_the_linger_and_stays_in_the_event_log() {
    let now = Instant::now();
    let (mut a, _) = reloaded(now, 202, "reload scheduled");
    let events = a.model.events.len();
    a.update(Msg::Tick(
        now + ops::LINGER - std::time::Duration::from_secs(1),
    ));
    assert_eq!(a.session.panel().count(), 1, "still within the linger");
    a.dirty = false;
    a.update(Msg::Tick(now + ops::LINGER));
    assert_eq!(a.session.panel().count(), 0, "{:?}", a.session.ops);
    assert!(a.dirty, "the panel going is drawn");
    assert_eq!(
        a.model.events.len(),
        events,
        "logged once, when it finished"
    );
}

#[test]
fn the_dismiss_key_empties_the_panel_at_once_and_is_offered_only_then() {
    let now = Instant::now();
    let a = healthy_live(now);
    assert!(!a.available(Context::Main, Action::Dismiss));
    assert!(!a.hints().iter().any(|(_, w)| *w == "dismiss"));
    let (mut a, _) = reloaded(now, 202, "reload scheduled");
    assert!(a.available(Context::Main, Action::Dismiss));
    assert!(a.hints().iter().any(|(k, w)| k == "D" && *w == "dismiss"));
    a.update(key('D'));
    assert_eq!(a.session.panel().count(), 0);
    assert!(
        a.model
            .events
            .iter()
            .any(|e| e.kind.text() == "reload pg1: done: HTTP 202: reload scheduled")
    );
}

#[test]
fn an_operation_in_flight_is_not_dismissed() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('L'));
    a.update(key('y'));
    assert_eq!(a.session.ops.len(), 1);
    assert!(!a.available(Context::Main, Action::Dismiss));
    a.update(key('D'));
    a.update(Msg::Tick(now + ops::LINGER * 2));
    // no reply yet: it is still in flight (or timed out, then finished just now)
    assert_eq!(a.session.ops.len(), 1);
    assert!(
        a.session.ops[0].summary().contains("waiting for reply")
            || a.session.ops[0].settle.finished()
    );
}

fn with_events(now: Instant, n: usize) -> App {
    let mut a = healthy_live(now);
    for i in 0..n {
        let paused = i % 2 == 0;
        a.model.test_event(events::EventKind::Paused(paused));
    }
    a
}

#[test]
fn the_events_view_scrolls_by_event_and_filters_with_the_log_grammar() {
    let now = Instant::now();
    let mut a = with_events(now, 30);
    a.model
        .test_event(events::EventKind::RestLost("pg2".into()));
    a.update(key('v'));
    assert_eq!(*a.screen.view(), View::Events);
    assert_eq!(a.context(), Context::Events);
    let all = a.shown_events().len();
    assert_eq!(all, a.model.events.len());
    assert_eq!(
        a.shown_events()[0].kind,
        events::EventKind::RestLost("pg2".into())
    );
    a.update(key('j'));
    a.update(key('j'));
    assert_eq!(a.screen.events_view.scroll, 2);
    a.update(key('G'));
    assert_eq!(a.screen.events_view.scroll, 0, "G: the newest");
    a.update(key('g'));
    assert_eq!(a.screen.events_view.scroll, all - 1, "g: the oldest");
    // `/` then text: the log filter's grammar over the events' text
    a.update(key('/'));
    assert_eq!(a.context(), Context::LogFilter);
    for c in "resumed".chars() {
        a.update(key(c));
    }
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.screen.events_view.filter, "resumed");
    assert_eq!(a.screen.events_view.scroll, 0);
    assert_eq!(a.shown_events().len(), 15);
    assert!(
        a.screen.log_view.filter.is_empty(),
        "the log view's filter is its own"
    );
    // a level keeps the alarms only
    a.screen.events_view.filter = "level:warning".into();
    assert_eq!(a.shown_events().len(), 1);
    a.screen.events_view.filter = "!resumed".into();
    assert!(
        a.shown_events()
            .iter()
            .all(|e| !e.kind.text().contains("resumed"))
    );
    // esc clears the filter, then goes back
    press(&mut a, KeyCode::Esc);
    assert!(a.screen.events_view.filter.is_empty());
    press(&mut a, KeyCode::Esc);
    assert_eq!(*a.screen.view(), View::Main);
}

#[test]
fn an_export_names_its_cluster_and_dates_every_line_with_its_zone() {
    let now = Instant::now();
    let mut a = healthy_live_with(
        |c| {
            c.wall_clock =
                Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_765_000_000))
        },
        now,
    );
    a.model.started_at_for_tests(now);
    a.model.test_event(events::EventKind::Paused(true));
    let eff = a.update(key('E'));
    let Some(Effect::WriteFile { content, .. }) = eff.first() else {
        panic!("{eff:?}")
    };
    let mut lines = content.lines();
    assert_eq!(
        lines.next(),
        Some(
            "# patrol event log of cluster demo (namespace /service/), written 2025-12-06T05:46:40Z"
        )
    );
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("# times are UTC;"))
    );
    let last = content.lines().last().unwrap_or_default();
    assert_eq!(last, "2025-12-06T05:46:40Z maintenance mode on (paused)");
}

#[test]
fn an_event_from_an_earlier_day_shows_its_date() {
    let now = Instant::now();
    let mut a = healthy_live_with(
        |c| {
            c.wall_clock =
                Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_765_065_000))
        },
        now,
    );
    a.model.started_at_for_tests(now);
    let before = a.model.now;
    assert_eq!(a.model.date_if_not_today(before), None);
    a.update(Msg::Tick(now + std::time::Duration::from_secs(24 * 3600)));
    assert_eq!(
        a.model.date_if_not_today(before).as_deref(),
        Some("2025-12-06")
    );
}

#[test]
fn the_trend_keeps_one_bar_per_step_for_the_last_minutes_only() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.model.started_at_for_tests(now);
    // pg3 is 1.5 MiB behind; for one second in the second bar it is 4 MiB behind
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    for s in 1..=600u64 {
        let lag = if s == 40 {
            4 * 1024 * 1024
        } else {
            1536 * 1024
        };
        rest_ok(&mut a, "pg1", leader.clone(), later(now, s));
        rest_ok(&mut a, "pg3", replica_behind(lag), later(now, s));
    }
    let h = &a.model.lag_history["pg3"];
    assert_eq!(h.len(), Model::TREND_WIDTH, "bounded: {h:?}");
    let newest = a.model.trend_bar(later(now, 600));
    assert_eq!(h.back().map(|b| b.0), Some(newest));
    assert_eq!(
        h.front().map(|b| b.0),
        Some(newest + 1 - Model::TREND_WIDTH as u64)
    );
    assert!(
        h.iter().all(|(_, v)| *v == 1536 * 1024),
        "the spike is older than the window"
    );
    // the largest lag of a bar is kept, not its last sample
    let mut b = healthy_live(now);
    b.model.started_at_for_tests(now);
    rest_ok(&mut b, "pg1", leader.clone(), later(now, 31));
    rest_ok(
        &mut b,
        "pg3",
        replica_behind(4 * 1024 * 1024),
        later(now, 31),
    );
    rest_ok(&mut b, "pg1", leader, later(now, 32));
    rest_ok(&mut b, "pg3", replica_behind(0), later(now, 32));
    assert_eq!(
        b.model.lag_history["pg3"].back(),
        Some(&(1, 4 * 1024 * 1024))
    );
}

#[test]
fn an_endpoint_the_watch_found_down_is_down_in_the_etcd_view_too() {
    use crate::dcs::info::{EndpointInfo, EndpointStatus, InfoEvent};
    let now = Instant::now();
    let mut a = healthy_live(now);
    let ep = "http://127.0.0.1:24000".to_string();
    a.update(Msg::Info(InfoEvent::Endpoints(vec![EndpointStatus {
        endpoint: ep.clone(),
        result: Ok(EndpointInfo {
            version: "3.5.17".into(),
            db_size: 1,
            member_id: 1,
            leader: 1,
            raft_term: 2,
            errors: Vec::new(),
        }),
    }])));
    assert!(a.model.endpoints_state()[0].result.is_ok());
    let why = "transport error: tcp connect error: Connection refused (os error 111)";
    a.update(Msg::Dcs(
        later(now, 1),
        crate::dcs::DcsEvent::Down {
            endpoint: ep.clone(),
            error: why.into(),
        },
    ));
    let st = a.model.endpoints_state();
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].result, Err(why.to_string()));
    assert_eq!(model::short_reason(why), "refused");
}

#[test]
fn etcd_errors_have_a_word_for_the_header() {
    for (text, word) in [
        (
            "TLS: certificate signed by an unknown authority (etcd3.cacert /x)",
            "TLS",
        ),
        (
            "etcd refused the user name or password (etcd3.username / etcd3.password)",
            "auth",
        ),
        ("etcd unavailable: connection refused", "refused"),
        ("no answer within 5s (timed out)", "timeout"),
        ("etcdserver: no leader", "no quorum"),
        // what the sandbox said with nothing on the port (the header read 'error')
        (
            "etcd unavailable (down, or not listening there): tcp connect error",
            "unreachable",
        ),
        ("something else entirely", "error"),
    ] {
        assert_eq!(model::short_reason(text), word, "{text}");
    }
}

#[test]
fn a_secret_in_a_reply_reaches_neither_the_panel_nor_the_event_log() {
    let now = Instant::now();
    let body = r#"{"postgresql": {"parameters": {"password": "hunter2"}}, "url": "postgres://u:hunter2@h/db"}"#;
    let (a, _) = reloaded(now, 200, body);
    let o = &a.session.ops[0];
    assert!(!o.summary().contains("hunter2"), "{}", o.summary());
    let e = a.model.events.back().expect("an event");
    assert!(!e.kind.text().contains("hunter2"), "{}", e.kind.text());
    assert!(
        e.kind.detail().iter().all(|l| !l.contains("hunter2")),
        "{:?}",
        e.kind.detail()
    );
}
