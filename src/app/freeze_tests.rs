//! The event stream frozen while it is read (issue 19 §4): `F` in the main view and the
//! Events view; new events are still recorded (bounded as always) and counted, `F` again
//! (or esc in the view) resumes and shows them.

use std::time::Instant;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::sample::*;
use super::tests::key;
use super::{App, Msg, View};
use crate::dcs::DcsEvent;

fn esc() -> Msg {
    Msg::Key(human(), KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE))
}

/// A leader change: one event each.
fn leader(a: &mut App, name: &str, s: u64) {
    let now = a.model.started();
    a.update(Msg::Dcs(
        later(now, s),
        DcsEvent::Put(kv("leader", name.as_bytes())),
    ));
}

fn texts(a: &App) -> Vec<String> {
    a.visible_events().map(|e| e.kind.text()).collect()
}

#[test]
fn frozen_events_are_recorded_and_counted_not_shown_and_resuming_shows_them() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    leader(&mut a, "pg2", 1);
    let before = texts(&a);
    assert!(!before.is_empty());
    assert_eq!(a.frozen_new(), None);

    a.update(key('F'));
    assert_eq!(a.frozen_new(), Some(0));
    let at = a.model.events_pushed();
    leader(&mut a, "pg3", 2);
    leader(&mut a, "pg1", 3);
    // (a leader change is several events: the leader, the roles, the health rules)
    let new = a.model.events_pushed() - at;
    assert!(new >= 2, "{new}");
    // recorded: the log has them; the pane shows what it showed, the title counts them
    let all: Vec<String> = a.model.events.iter().map(|e| e.kind.text()).collect();
    assert!(
        all.contains(&"leader changed: pg3 → pg1".to_string()),
        "{all:?}"
    );
    assert_eq!(texts(&a), before);
    assert_eq!(a.frozen_new(), Some(new));
    assert!(a.dirty, "the count in the title is drawn");

    a.update(key('F'));
    assert_eq!(a.frozen_new(), None);
    assert!(texts(&a).contains(&"leader changed: pg3 → pg1".to_string()));
    assert_eq!(
        texts(&a).len(),
        a.model.events.len(),
        "every event shown again"
    );
}

#[test]
fn in_the_events_view_esc_resumes_before_it_clears_the_filter_or_goes_back() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    leader(&mut a, "pg2", 1);
    a.update(key('v'));
    assert_eq!(*a.screen.view(), View::Events);
    a.update(key('F'));
    leader(&mut a, "pg3", 2);
    assert!(a.frozen_new().is_some_and(|n| n >= 1));
    assert!(
        a.shown_events()
            .iter()
            .all(|e| e.kind.text() != "leader changed: pg2 → pg3"),
        "the view is frozen too"
    );
    // scrolling reads the frozen list: it does not shift under the reader
    a.update(key('j'));
    assert_eq!(a.screen.events_view.scroll, 1);
    a.update(esc());
    assert_eq!(a.frozen_new(), None, "esc resumed");
    assert_eq!(*a.screen.view(), View::Events, "and stayed in the view");
    assert_eq!(a.screen.events_view.scroll, 0, "at the newest");
    assert!(
        a.shown_events()
            .iter()
            .any(|e| e.kind.text() == "leader changed: pg2 → pg3")
    );
    a.update(esc());
    assert_eq!(*a.screen.view(), View::Main);
}

#[test]
fn frozen_the_log_stays_bounded_and_every_new_event_is_counted() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('F'));
    let at = a.model.events_pushed();
    let n = super::Model::MAX_EVENTS + 10;
    for i in 0..n {
        leader(&mut a, if i % 2 == 0 { "pg2" } else { "pg1" }, 1);
    }
    assert!(a.model.events.len() <= super::Model::MAX_EVENTS);
    let new = a.model.events_pushed() - at;
    assert!(new >= n as u64, "{new}");
    assert_eq!(a.frozen_new(), Some(new));
    // nothing had happened when it froze: nothing shown, and said so
    assert_eq!(a.visible_events().count(), 0);
    a.update(key('F'));
    assert_eq!(a.visible_events().count(), a.model.events.len());
}
