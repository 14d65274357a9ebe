//! What a burst of member keys costs, counted (plans, rows derived), not timed; and the
//! header while etcd has revisions the screen has not applied.

use std::time::Instant;

use super::members::ROWS_BUILT;
use super::sample::*;
use super::{App, Effect, Msg};
use crate::dcs::{DcsEvent, RawKv};
use crate::logs::LogSourceSpec;

const SOURCE: &str = "cmd:tail -F /var/log/{member}.log";

/// A junk-ish member key: a name, an API to poll, nothing else.
fn member(i: usize) -> RawKv {
    let v = format!(
        r#"{{"conn_url":"postgres://10.1.{}.{}:5432/postgres","api_url":"http://10.1.{}.{}:8008/patroni","state":"running"}}"#,
        i / 250,
        i % 250,
        i / 250,
        i % 250
    );
    kv(&format!("members/burst{i:06}"), v.as_bytes())
}

/// The healthy sample cluster and `n` junk-ish member keys.
fn with_members(n: usize, now: Instant) -> App {
    let mut kvs = healthy_kvs();
    kvs.extend((0..n).map(member));
    app(kvs, now)
}

fn with_logs(now: Instant) -> App {
    let mut a = healthy_live(now);
    let spec = LogSourceSpec::parse(SOURCE).expect("spec");
    a.model.set_log_sources(Some(spec), Default::default());
    a
}

/// Plans of the log followers made while `n` new member keys are applied one by one and
/// the queue then drains once.
fn plans_for_burst(n: usize) -> (u64, Vec<Effect>) {
    let now = Instant::now();
    let mut a = with_logs(now);
    let before = a.model.plans;
    let mut eff = Vec::new();
    for i in 0..n {
        eff.extend(a.update(Msg::Dcs(later(now, 1), DcsEvent::Put(member(i)))));
    }
    eff.extend(a.update(Msg::Drained(later(now, 1))));
    (a.model.plans - before, eff)
}

#[test]
fn a_burst_of_member_keys_plans_the_log_followers_once_not_per_key() {
    for n in [10, 3000] {
        let (plans, eff) = plans_for_burst(n);
        assert_eq!(plans, 1, "{n} new member keys");
        // the one plan still does the work: the followers fill up to the cap
        let followed = eff.iter().rev().find_map(|e| match e {
            Effect::FollowLogs(v) => Some(v.len()),
            _ => None,
        });
        assert_eq!(followed, Some((n + 3).min(crate::app::MAX_LOG_FOLLOWERS)));
    }
}

#[test]
fn a_drained_queue_plans_at_most_every_plan_every_and_the_clock_catches_up() {
    let now = Instant::now();
    let mut a = with_logs(now);
    let before = a.model.plans;
    // many small batches within PLAN_EVERY: one plan, the rest waits
    let t = later(now, 1);
    for i in 0..50 {
        a.update(Msg::Dcs(t, DcsEvent::Put(member(i))));
        a.update(Msg::Drained(t));
    }
    assert_eq!(a.model.plans - before, 1);
    a.update(Msg::Dcs(t, DcsEvent::Put(member(50))));
    a.update(Msg::Drained(t));
    assert_eq!(a.model.plans - before, 1, "rate-limited");
    // the tick plans what is still due, even if nothing else comes
    let eff = a.update(Msg::Tick(later(now, 2)));
    assert_eq!(a.model.plans - before, 2);
    assert!(eff.iter().any(|e| matches!(e, Effect::FollowLogs(_))));
    // and nothing is due after that
    a.update(Msg::Drained(later(now, 5)));
    a.update(Msg::Tick(later(now, 6)));
    assert_eq!(a.model.plans - before, 2);
}

/// Rows derived by one tick (the model's news and the redraw's look at what is on screen)
/// with `n` member keys that nobody polls.
fn rows_per_tick(n: usize) -> u64 {
    let now = Instant::now();
    let mut a = with_members(n, now);
    rest_ok(&mut a, "pg1", status("rest/patroni_leader.json"), now);
    rest_ok(&mut a, "pg2", replica_behind(0), now);
    a.update(Msg::Tick(later(now, 1)));
    let before = ROWS_BUILT.with(|c| c.get());
    a.update(Msg::Tick(later(now, 2)));
    ROWS_BUILT.with(|c| c.get()) - before
}

#[test]
fn a_tick_costs_what_is_polled_and_on_screen_not_every_member_key() {
    let small = rows_per_tick(3 * super::Model::ROWS_NEAR);
    let large = rows_per_tick(30 * super::Model::ROWS_NEAR);
    assert_eq!(small, large, "the tick grew with unpolled member keys");
    // bounded by the rows a screen can show around the selection, plus those polled
    assert!(small <= 2 * super::Model::ROWS_NEAR as u64 + 8, "{small}");
}

#[test]
fn a_new_member_key_derives_a_bounded_number_of_rows() {
    let count = |n: usize| {
        let now = Instant::now();
        let mut a = with_members(n, now);
        let before = ROWS_BUILT.with(|c| c.get());
        for i in n..n + 100 {
            a.update(Msg::Dcs(later(now, 1), DcsEvent::Put(member(i))));
        }
        ROWS_BUILT.with(|c| c.get()) - before
    };
    assert_eq!(count(100), count(5000));
}

fn draw(app: &App) -> String {
    let theme = crate::theme::Theme::load(None, false).expect("built-in theme");
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).expect("tb");
    t.draw(|f| crate::ui::render(f, app, &theme)).expect("draw");
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..30 {
        for x in 0..120 {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_header_is_never_live_while_etcd_is_ahead_of_what_is_applied() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    assert!(draw(&a).contains("● live"));
    // a watch response says etcd is at 42 + 30000; its events are still to be applied
    a.update(Msg::Dcs(later(now, 1), DcsEvent::Head { revision: 30042 }));
    assert_eq!(a.model.revision_gap().map(|g| g.0), Some(30000));
    for i in 0..100 {
        a.update(Msg::Dcs(later(now, 1), DcsEvent::Put(member(i))));
        // each change looked fresh (applied at once): still behind
        assert!(a.model.behind().is_none());
    }
    a.update(Msg::Dcs(
        later(now, 3),
        DcsEvent::Progress { revision: 142 },
    ));
    a.update(Msg::Tick(later(now, 4)));
    let screen = draw(&a);
    assert!(
        screen.contains("● behind by 29900 revisions / ~3s"),
        "{screen}"
    );
    assert!(!screen.contains("● live"), "{screen}");
    // caught up: live again
    a.update(Msg::Dcs(
        later(now, 5),
        DcsEvent::Progress { revision: 30042 },
    ));
    assert_eq!(a.model.revision_gap(), None);
    assert!(draw(&a).contains("● live"));
    // a later head from a new response opens a new gap, timed from then
    a.update(Msg::Dcs(later(now, 6), DcsEvent::Head { revision: 30043 }));
    a.update(Msg::Tick(later(now, 6)));
    assert!(draw(&a).contains("● behind by 1 revision / ~0s"));
    // a fresh snapshot is etcd's word afresh
    a.update(Msg::Dcs(later(now, 7), snapshot(healthy_kvs())));
    assert_eq!(a.model.revision_gap(), None);
}

#[test]
fn a_skipped_value_is_a_warning_naming_why() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(Msg::Dcs(
        now,
        DcsEvent::Skipped {
            key: "/service/demo/members/huge".into(),
            size: None,
            limit: crate::dcs::MAX_VALUE,
        },
    ));
    let w = &a.cluster().expect("cluster").warnings["members/huge"];
    assert!(w.contains("not even read") && w.contains("skipped"), "{w}");
    assert!(draw(&a).contains("members/huge"));
}

#[test]
fn etcds_newest_revision_from_aside_counts_after_a_grace_and_a_progress_answer_closes_it() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    // etcd is at 500 (asked aside from the watch): maybe only keys outside the prefix
    a.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Newest {
            revision: 500,
            backlog: false,
        },
    ));
    assert_eq!(a.model.revision_gap(), None, "within the grace");
    // a round trip later a progress answer would have said so: still live
    assert!(draw(&a).contains("● live"));
    // the runtime wakes when `checking` is due (an idle loop would wait for a tick)
    assert_eq!(
        a.model.checking_due(),
        Some(later(now, 1) + super::Model::CHECKING_AFTER)
    );
    // not a gap yet, and not live either: the screen says it is checking
    a.model.take_changed();
    a.model
        .update(Msg::Tick(later(now, 1) + super::Model::CHECKING_AFTER));
    assert!(
        a.model.take_changed().has(super::Changed::HEADER),
        "the tick that makes it `checking` redraws the header"
    );
    assert_eq!(a.model.revision_gap(), None, "within the grace");
    let screen = draw(&a);
    assert!(
        screen.contains("● checking") && !screen.contains("● live"),
        "{screen}"
    );
    assert_eq!(a.model.checking_due(), None, "due once, not again");
    // the watch's progress answer says everything up to 500 is delivered: no gap
    a.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Progress { revision: 500 },
    ));
    a.update(Msg::Tick(later(now, 3)));
    assert_eq!(a.model.revision_gap(), None);
    assert!(
        draw(&a).contains("● live"),
        "the progress answer confirms it"
    );
    // etcd moves on and the watch does not follow (a backlog): behind after the grace
    a.update(Msg::Dcs(
        later(now, 4),
        DcsEvent::Newest {
            revision: 900,
            backlog: false,
        },
    ));
    a.update(Msg::Tick(later(now, 5)));
    assert_eq!(a.model.revision_gap().map(|g| g.0), Some(400));
    let screen = draw(&a);
    assert!(
        screen.contains("● behind by 400 revisions / ~1s"),
        "{screen}"
    );
    assert!(!screen.contains("● live"), "{screen}");
    // applying part of it narrows the gap; all of it closes it
    a.update(Msg::Dcs(
        later(now, 6),
        DcsEvent::Progress { revision: 899 },
    ));
    assert_eq!(a.model.revision_gap().map(|g| g.0), Some(1));
    a.update(Msg::Dcs(
        later(now, 6),
        DcsEvent::Progress { revision: 900 },
    ));
    assert_eq!(a.model.revision_gap(), None);
    assert!(draw(&a).contains("● live"));
    // handed on while messages wait in the queue: behind at once, no grace
    a.update(Msg::Dcs(
        later(now, 7),
        DcsEvent::Newest {
            revision: 950,
            backlog: true,
        },
    ));
    assert_eq!(a.model.revision_gap().map(|g| g.0), Some(50));
    assert!(!draw(&a).contains("● live"));
}

/// Rows derived by drawing one frame (and by one key press moving the selection) with `n`
/// member keys, the selection `at` the i-th of them.
fn rows_per_frame(n: usize, at: Option<usize>) -> (u64, String) {
    let now = Instant::now();
    let mut a = with_members(n, now);
    a.screen.selected = at.map(|i| format!("burst{i:06}"));
    let before = ROWS_BUILT.with(|c| c.get());
    let screen = draw(&a);
    a.update(Msg::Key(
        human(),
        ratatui::crossterm::event::KeyEvent::from(ratatui::crossterm::event::KeyCode::Char('j')),
    ));
    (ROWS_BUILT.with(|c| c.get()) - before, screen)
}

#[test]
fn a_frame_and_a_key_press_derive_the_rows_around_the_selection_not_every_member_key() {
    let near = super::Model::ROWS_NEAR;
    // (the selection with as many members either side in both namespaces)
    for at in [None, Some(0), Some(3 * near)] {
        let (small, _) = rows_per_frame(6 * near, at);
        let (large, screen) = rows_per_frame(60 * near, at);
        assert_eq!(
            small, large,
            "a frame grew with member keys (selection {at:?})"
        );
        assert!(small <= 2 * near as u64 + 8, "{small}");
        // the table still counts and places every member
        let total = 60 * near + 3;
        assert!(
            screen.contains(&format!(" of {total} "))
                && screen.contains(&format!("members {total}")),
            "{screen}"
        );
    }
}

#[test]
fn the_table_window_places_the_selection_where_the_whole_table_would() {
    let now = Instant::now();
    let mut a = with_members(2000, now);
    // the selection 1000 rows down: the title counts from the whole table (leader pg1 first,
    // then by name: burst000000.. before pg2, pg3)
    a.screen.selected = Some("burst000999".into());
    let screen = draw(&a);
    let rows = a.rows();
    let at = rows
        .iter()
        .position(|r| r.name == "burst000999")
        .expect("row");
    assert!(screen.contains("▸ burst000999"), "{screen}");
    assert!(
        screen.contains(&format!("–{} of 2003 ", at + 1)),
        "the selected row is the window's last: {screen}"
    );
}

#[test]
fn the_order_walked_without_rows_is_the_tables_order() {
    let now = Instant::now();
    let mut kvs = healthy_kvs();
    // names either side of the leader's, and a member that goes (a gone row, last)
    kvs.extend((0..50).map(member));
    kvs.push(kv("members/aaa", br#"{"state":"running"}"#));
    kvs.push(kv("members/zzz", br#"{"state":"running"}"#));
    let mut a = app(kvs, now);
    a.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Delete {
            key: "/service/demo/members/burst000007".into(),
        },
    ));
    let rows: Vec<String> = a.rows().into_iter().map(|r| r.name).collect();
    assert!(rows.last().is_some_and(|n| n == "burst000007"), "{rows:?}");
    let c = a.model.cluster().expect("cluster");
    let order = super::members::Order::new(c);
    let walked: Vec<&str> = order.iter().collect();
    assert_eq!(walked, rows, "the walk and the sorted rows disagree");
    assert_eq!(order.len(), rows.len());
    for (i, n) in rows.iter().enumerate() {
        assert_eq!(order.index_of(n), Some(i), "{n}");
        assert_eq!(order.name_at(i), Some(n.as_str()));
    }
    assert_eq!(order.index_of("nobody"), None);
}

#[test]
fn a_cluster_wide_key_derives_the_rows_of_the_role_holders_not_every_member_key() {
    let count = |n: usize| {
        let now = Instant::now();
        let mut a = with_members(n, now);
        let before = ROWS_BUILT.with(|c| c.get());
        // the leader key moves, the config changes, the status key is rewritten
        a.update(Msg::Dcs(later(now, 1), DcsEvent::Put(kv("leader", b"pg2"))));
        a.update(Msg::Dcs(
            later(now, 1),
            DcsEvent::Put(kv("config", br#"{"ttl":30,"loop_wait":10}"#)),
        ));
        a.update(Msg::Dcs(
            later(now, 1),
            DcsEvent::Put(kv("status", br#"{"optime":67108864}"#)),
        ));
        (ROWS_BUILT.with(|c| c.get()) - before, a)
    };
    let (small, _) = count(100);
    let (large, a) = count(5000);
    assert_eq!(small, large, "a cluster-wide key grew with member keys");
    // and the news were still told: the leader moved
    let events: Vec<String> = a.model.events.iter().map(|e| e.kind.text()).collect();
    assert!(
        events
            .iter()
            .any(|e| e.contains("pg2") && e.to_lowercase().contains("leader")),
        "{events:?}"
    );
}

/// Rows the health rules derive in one judgement after a burst of `n` new member keys
/// (junk with an API, as Patroni's would be), the queue drained once.
fn rows_per_judgement(n: usize) -> (u64, App) {
    let now = Instant::now();
    let mut a = with_members(3 * super::Model::ROWS_NEAR, now);
    rest_ok(&mut a, "pg1", status("rest/patroni_leader.json"), now);
    rest_ok(&mut a, "pg2", replica_behind(0), now);
    a.update(Msg::Drained(later(now, 1)));
    for i in 0..n {
        a.update(Msg::Dcs(later(now, 2), DcsEvent::Put(member(100_000 + i))));
    }
    let judged = a.health.evaluations;
    let before = ROWS_BUILT.with(|c| c.get());
    a.update(Msg::Drained(later(now, 2)));
    assert_eq!(
        a.health.evaluations,
        judged + 1,
        "judged once after the burst"
    );
    (ROWS_BUILT.with(|c| c.get()) - before, a)
}

#[test]
fn health_rules_cost_what_is_polled_and_role_holding_not_every_member_key() {
    let (small, _) = rows_per_judgement(100);
    let (large, a) = rows_per_judgement(30_000);
    assert_eq!(small, large, "judging grew with member keys");
    // the polled members (at most MAX_POLLED), the leader and sync standbys, the gone
    // ones: bounded whatever etcd holds
    let bound = (super::Model::MAX_POLLED + crate::app::cluster::MAX_GONE + 8) as u64;
    assert!(large <= bound, "{large} rows for one judgement");
    assert!(large > 0, "the rules looked at the members that matter");
    // and what they find stays bounded too: one finding per rule and subject judged
    assert!(a.health.findings().len() <= bound as usize * 4);
}

#[test]
fn a_status_key_with_30000_slots_keeps_and_judges_at_most_the_bound() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let mut text = String::from(r#"{"optime":5000000000,"slots":{"#);
    for i in 0..30_000u64 {
        text.push_str(&format!(r#""junk{i}":{i},"#));
    }
    text.push_str(r#""pg2":5000000000}}"#);
    a.update(Msg::Dcs(now, DcsEvent::Put(kv("status", text.as_bytes()))));
    let max = crate::dcs::keys::MAX_SLOTS;
    let st = a
        .cluster()
        .and_then(|c| c.status.clone())
        .expect("status parsed");
    assert_eq!(st.slots.len(), max, "kept: the bound");
    assert_eq!(st.slots_more, 30_001 - max, "the rest counted");
    for s in 0..=16 {
        a.update(Msg::Drained(later(now, s)));
    }
    // each kept slot retains ~5 GB and belongs to nobody: two findings each, no more
    let slot_findings = a
        .health
        .findings()
        .iter()
        .filter(|f| f.rule.starts_with("slot-"))
        .count();
    assert_eq!(slot_findings, 2 * max);
    assert_eq!(a.health.slots().len(), max);
}
