//! When each shown value last changed (issue 19 §4, "seeing change"): a cell of the members
//! table, or the header's leader and timeline, whose value just changed is highlighted for
//! [`FADE`], in [`STEPS`] fading steps. Stamped in `update` from the same before/after
//! summaries the event log compares (`Model::member_news` and its siblings), so a value
//! merely re-written unchanged is no change, and an unknown value (a member not answering
//! for a moment) is not one either: it keeps its last known one.
//!
//! Bounded: stamps are kept only for the polled members and the leader (at most
//! `Model::MAX_POLLED` + 1), and only while they fade; the view reads them and the clock.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::events::{MemberSummary, Summary};

/// How long a changed value stays highlighted.
pub const FADE: Duration = Duration::from_millis(4500);
/// The fade's steps: 0 (just changed, strongest) to `STEPS - 1` (faintest).
pub const STEPS: u8 = 3;

/// A member's cell whose change is highlighted (the table's columns from its summary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    Role,
    State,
    Api,
    Timeline,
    Pending,
}

const FIELDS: usize = 5;

impl Field {
    fn index(self) -> usize {
        self as usize
    }
}

/// The fade step of a change `age` old: None once it has faded.
pub fn step(age: Duration) -> Option<u8> {
    (age < FADE).then(|| {
        let per = FADE.as_millis() / u128::from(STEPS);
        (age.as_millis() / per).min(u128::from(STEPS - 1)) as u8
    })
}

/// Which of a member's cells differ between its summaries `b` (before) and `a` (after):
/// a value not known before is no change.
fn differs(b: &MemberSummary, a: &MemberSummary) -> [(Field, bool); FIELDS] {
    [
        (Field::Role, b.role.is_some() && b.role != a.role),
        (Field::State, b.state.is_some() && b.state != a.state),
        (Field::Api, b.rest.is_some() && b.rest != a.rest),
        (
            Field::Timeline,
            b.timeline.is_some() && b.timeline != a.timeline,
        ),
        (Field::Pending, b.pending_restart != a.pending_restart),
    ]
}

/// The change stamps (in `Model::changes`).
#[derive(Debug, Clone, Default)]
pub struct Changes {
    members: BTreeMap<String, [Option<Instant>; FIELDS]>,
    leader: Option<Instant>,
    timeline: Option<Instant>,
}

impl Changes {
    /// Stamp what differs between the baseline `before` and the (carried) `after`, at
    /// `at`, for the members `stamped` says may be stamped (polled, or the leader). Only
    /// values known before: a member that appears is no changed cell; before the first
    /// snapshot nothing is a change.
    pub fn note(
        &mut self,
        before: &Summary,
        after: &Summary,
        names: &[&str],
        at: Instant,
        stamped: impl Fn(&str) -> bool,
    ) {
        if !before.loaded || !after.loaded {
            return;
        }
        if before.leader != after.leader {
            self.leader = Some(at);
        }
        if before.timeline.is_some() && before.timeline != after.timeline {
            self.timeline = Some(at);
        }
        for name in names {
            let (Some(b), Some(a)) = (before.members.get(*name), after.members.get(*name)) else {
                continue;
            };
            let differs = differs(b, a);
            // (asked only of a change: most summaries compared are the same)
            if differs.iter().any(|(_, d)| *d) && stamped(name) {
                self.member(name, differs, at);
            }
        }
    }

    fn member(&mut self, name: &str, differs: [(Field, bool); FIELDS], at: Instant) {
        let stamps = self.members.entry(name.to_string()).or_default();
        for (f, d) in differs {
            if d {
                stamps[f.index()] = Some(at);
            }
        }
    }

    /// Forget what has faded (on the clock's tick): the map holds only live highlights.
    pub fn expire(&mut self, now: Instant) {
        let live = |t: &Option<Instant>| t.is_some_and(|t| now.saturating_duration_since(t) < FADE);
        self.members.retain(|_, s| s.iter().any(live));
        if !live(&self.leader) {
            self.leader = None;
        }
        if !live(&self.timeline) {
            self.timeline = None;
        }
    }

    /// The fade step of a member's cell now (None: not recently changed).
    pub fn of(&self, member: &str, field: Field, now: Instant) -> Option<u8> {
        let t = self.members.get(member)?[field.index()]?;
        step(now.saturating_duration_since(t))
    }

    /// The fade step of the header's leader.
    pub fn leader(&self, now: Instant) -> Option<u8> {
        step(now.saturating_duration_since(self.leader?))
    }

    /// The fade step of the header's timeline.
    pub fn timeline(&self, now: Instant) -> Option<u8> {
        step(now.saturating_duration_since(self.timeline?))
    }

    /// Every live highlight and its step now (`None` for the member: the header's
    /// leader and timeline), in a stable order: a frame is due when this differs from what
    /// the last frame showed (`Redraw`). Empty, without allocating, when nothing fades.
    pub fn steps(&self, now: Instant) -> Vec<(Option<&str>, u8, u8)> {
        let mut v = Vec::new();
        let header = [(0, self.leader), (1, self.timeline)];
        for (i, t) in header {
            if let Some(s) = t.and_then(|t| step(now.saturating_duration_since(t))) {
                v.push((None, i, s));
            }
        }
        for (name, stamps) in &self.members {
            for (i, t) in stamps.iter().enumerate() {
                if let Some(s) = t.and_then(|t| step(now.saturating_duration_since(t))) {
                    v.push((Some(name.as_str()), i as u8, s));
                }
            }
        }
        v
    }

    /// How many members have stamps (tests: the map is bounded).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::sample::*;
    use super::super::{App, Msg};
    use super::{FADE, Field, step};
    use crate::dcs::DcsEvent;

    fn at(now: Instant, ms: u64) -> Instant {
        now + Duration::from_millis(ms)
    }

    /// Every (member, field) stamped now.
    fn stamped(a: &App) -> Vec<(String, Field)> {
        let c = a.cluster().expect("a cluster");
        let mut v = Vec::new();
        for m in c.members.keys() {
            for f in [
                Field::Role,
                Field::State,
                Field::Api,
                Field::Timeline,
                Field::Pending,
            ] {
                if a.model.changes.of(m, f, a.model.now).is_some() {
                    v.push((m.clone(), f));
                }
            }
        }
        v
    }

    #[test]
    fn the_first_snapshot_and_values_rewritten_unchanged_are_no_change() {
        let now = Instant::now();
        let mut a = healthy_live(now);
        assert!(
            a.model.changes.is_empty(),
            "the first state is the baseline"
        );
        // Patroni rewrites its member key every loop_wait, and the answers repeat
        let pg2 = fixture("etcd/member_replica.json");
        a.update(Msg::Dcs(
            later(now, 1),
            DcsEvent::Put(kv("members/pg2", &pg2)),
        ));
        rest_ok(&mut a, "pg2", replica_behind(0), later(now, 1));
        a.update(Msg::Dcs(later(now, 1), DcsEvent::Put(kv("leader", b"pg1"))));
        a.update(Msg::Tick(later(now, 1)));
        assert_eq!(stamped(&a), [], "nothing changed");
        assert_eq!(a.model.changes.leader(a.model.now), None);
    }

    #[test]
    fn a_changed_state_stamps_that_cell_only_and_it_fades_in_three_steps() {
        let now = Instant::now();
        let mut a = healthy_live(now);
        let mut s = replica_behind(0);
        // (a replica shows its replication state while it has one: stopping, it has none)
        s.state = Some("stopping".into());
        s.replication_state = None;
        rest_ok(&mut a, "pg2", s.clone(), at(now, 1000));
        assert_eq!(stamped(&a), [("pg2".to_string(), Field::State)]);
        let of = |a: &App| a.model.changes.of("pg2", Field::State, a.model.now);
        assert_eq!(of(&a), Some(0));
        // it keeps answering the same: no new change, the first one fades
        rest_ok(&mut a, "pg2", s.clone(), at(now, 2600));
        a.update(Msg::Tick(at(now, 2600)));
        assert_eq!(of(&a), Some(1));
        rest_ok(&mut a, "pg2", s.clone(), at(now, 4100));
        a.update(Msg::Tick(at(now, 4100)));
        assert_eq!(of(&a), Some(2));
        rest_ok(&mut a, "pg2", s, at(now, 1000) + FADE);
        a.update(Msg::Tick(at(now, 1000) + FADE));
        assert_eq!(of(&a), None, "faded");
        assert!(a.model.changes.is_empty(), "and forgotten");
    }

    #[test]
    fn an_unknown_value_is_no_change_and_a_failing_api_is_one() {
        let now = Instant::now();
        let mut a = healthy_live(now);
        // the API fails: its cell changes (ok → ✗) with the first failure
        rest_err(&mut a, "pg3", "connection refused", later(now, 1));
        assert_eq!(stamped(&a), [("pg3".to_string(), Field::Api)]);
        // failing again is the same value
        a.update(Msg::Tick(later(now, 7)));
        rest_err(&mut a, "pg3", "connection refused", later(now, 7));
        assert_eq!(stamped(&a), [], "faded, and no new change");
        // its state and role are unknown meanwhile: the last known stays, no change
        a.update(Msg::Tick(later(now, 9)));
        assert_eq!(stamped(&a), []);
        // back with the same state: the API cell changes again, nothing else
        rest_ok(&mut a, "pg3", replica_behind(0), later(now, 10));
        assert_eq!(stamped(&a), [("pg3".to_string(), Field::Api)]);
    }

    #[test]
    fn a_new_leader_stamps_the_header_and_both_roles() {
        let now = Instant::now();
        let mut a = healthy_live(now);
        a.update(Msg::Dcs(later(now, 1), DcsEvent::Put(kv("leader", b"pg2"))));
        let mut s2 = status("rest/patroni_leader_after_switchover.json");
        s2.patroni.name = Some("pg2".into());
        rest_ok(&mut a, "pg2", s2, later(now, 1));
        let t = a.model.now;
        assert_eq!(a.model.changes.leader(t), Some(0));
        assert_eq!(a.model.changes.timeline(t), Some(0));
        let got = stamped(&a);
        assert!(got.contains(&("pg2".to_string(), Field::Role)), "{got:?}");
        assert!(
            got.contains(&("pg2".to_string(), Field::Timeline)),
            "{got:?}"
        );
    }

    #[test]
    fn the_steps_cover_the_fade_and_end() {
        assert_eq!(step(Duration::ZERO), Some(0));
        assert_eq!(step(FADE / 3 - Duration::from_millis(1)), Some(0));
        assert_eq!(step(FADE / 3), Some(1));
        assert_eq!(step(FADE * 2 / 3), Some(2));
        assert_eq!(step(FADE - Duration::from_millis(1)), Some(2));
        assert_eq!(step(FADE), None);
    }

    #[test]
    fn a_fading_cell_draws_a_frame_per_step_and_none_once_faded() {
        let now = Instant::now();
        let mut a = healthy_live(now);
        let mut leader = status("rest/patroni_leader.json");
        leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
        let mut stopping = replica_behind(0);
        stopping.state = Some("stopping".into());
        stopping.replication_state = None;
        // an idle cluster's second, with pg2's state changed from second 1 on; the tick on
        // the second draws (the sign of life moved); returns whether the tick half a
        // second later draws: only the fade can make it
        let mut half_second_draws = Vec::new();
        for s in 1..9 {
            let t = later(now, s);
            rest_ok(&mut a, "pg1", leader.clone(), t);
            rest_ok(&mut a, "pg2", stopping.clone(), t);
            rest_ok(&mut a, "pg3", replica_behind(1536 * 1024), t);
            a.update(Msg::Dcs(t, DcsEvent::Progress { revision: 42 }));
            a.update(Msg::Tick(t));
            a.drawn(false);
            a.update(Msg::Tick(at(t, 500)));
            if a.dirty {
                half_second_draws.push(s * 10 + 5);
                a.drawn(false);
            }
        }
        // changed at 1.0 s: step 1 from 2.5 s, step 2 from 4.0 s (drawn on the second
        // anyway), faded at 5.5 s; nothing after
        assert_eq!(half_second_draws, [25, 55]);
    }

    #[test]
    fn stamps_are_kept_for_the_polled_members_only_never_per_member_key() {
        let now = Instant::now();
        let member = |i: usize, state: &str| {
            let v = format!(
                r#"{{"conn_url":"postgres://10.1.{a}.{b}:5432/postgres","api_url":"http://10.1.{a}.{b}:8008/patroni","state":"{state}"}}"#,
                a = i / 250,
                b = i % 250,
            );
            kv(&format!("members/burst{i:06}"), v.as_bytes())
        };
        let n = 3000;
        let kvs = |state: &str| {
            let mut kvs = healthy_kvs();
            kvs.extend((0..n).map(|i| member(i, state)));
            kvs
        };
        let mut a = app(kvs("running"), now);
        // every member key changes its state: one snapshot, and then key by key
        a.update(Msg::Dcs(later(now, 1), snapshot(kvs("stopped"))));
        for i in 0..n {
            a.update(Msg::Dcs(
                later(now, 2),
                DcsEvent::Put(member(i, "starting")),
            ));
        }
        let polled = a.model.polled().len();
        assert!(polled <= super::super::Model::MAX_POLLED);
        assert!(!a.model.changes.is_empty(), "the polled ones are stamped");
        assert!(
            a.model.changes.len() <= polled + 1,
            "{} stamped, {polled} polled",
            a.model.changes.len()
        );
    }
}
