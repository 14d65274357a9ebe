//! The one place that decides whether a frame is due: from what a message changed (the
//! model and the session say what, never whether it is on screen) and what is on screen.
//! An idle healthy cluster must cost no frames: Patroni rewrites its keys every loop_wait
//! and the REST answers repeat themselves, so most messages change nothing drawn.

use std::ops::BitOrAssign;

use super::View;
use super::model::{Liveness, Model};
use super::screen::Screen;

/// What a message changed, as far as drawing is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changed {
    bits: u16,
    /// A member's REST fields that only its detail view shows (`dcs_last_seen`).
    pub detail_of: Option<String>,
    /// A new log line of this member.
    pub log_of: Option<String>,
}

impl Changed {
    /// The cluster on screen: members, leader, config, DCS health (everything drawn from it).
    pub const CLUSTER: u16 = 1;
    pub const EVENTS: u16 = 1 << 1;
    /// The header's own figures: the revision, how far behind etcd the screen is.
    pub const HEADER: u16 = 1 << 2;
    /// The leader lease's TTL answer.
    pub const LEASE: u16 = 1 << 3;
    /// The clock moved (a tick).
    pub const CLOCK: u16 = 1 << 4;
    /// etcd endpoints' status.
    pub const ETCD: u16 = 1 << 5;
    /// Operations in flight, the rolling restart.
    pub const OPS: u16 = 1 << 6;
    /// The screen state itself: a key, a resize, a message in the status bar.
    pub const SCREEN: u16 = 1 << 7;
    /// The trend column.
    pub const TREND: u16 = 1 << 8;
    /// HAProxy's stats or the members' health endpoints (the routing and connection
    /// strings views).
    pub const ROUTING: u16 = 1 << 9;

    pub fn mark(&mut self, bit: u16) {
        self.bits |= bit;
    }

    pub fn has(&self, bit: u16) -> bool {
        self.bits & bit != 0
    }

    pub fn is_empty(&self) -> bool {
        self.bits == 0 && self.detail_of.is_none() && self.log_of.is_none()
    }
}

impl BitOrAssign for Changed {
    fn bitor_assign(&mut self, o: Changed) {
        self.bits |= o.bits;
        if o.detail_of.is_some() {
            self.detail_of = o.detail_of;
        }
        if o.log_of.is_some() {
            self.log_of = o.log_of;
        }
    }
}

/// What the last frame showed of things that change by themselves as time passes.
#[derive(Debug, Clone, Default)]
pub struct Redraw {
    /// The second-resolution clock last drawn: ages only change when it does.
    drawn_second: u64,
    /// The leader-lock seconds last put on screen.
    lock_shown: Option<(i64, i64)>,
    /// Did the last frame show a relative time? Told by the runtime after each frame
    /// ([`Redraw::drawn`]), from what the views drew (`ui::ago`), so that no age on screen
    /// can be forgotten here.
    ages_shown: bool,
    /// The header's sign of life last drawn (a stall's ages as zero: they move with the
    /// clock, through `ages_shown`).
    live_shown: Option<Liveness>,
    /// The change highlights the last frame showed and their fade steps (`change.rs`):
    /// a frame is due when a step moves, and none once every highlight has faded.
    fade_shown: Vec<(Option<String>, u8, u8)>,
}

impl Redraw {
    /// What the frame just drawn showed: a relative time (`ui::ages_drawn`).
    /// `second` is the model's clock second it was drawn at: the ages it showed are
    /// those of that second.
    pub fn drawn(&mut self, ages: bool, second: u64, model: &Model) {
        self.ages_shown = ages;
        self.drawn_second = second;
        self.live_shown = Some(sign_shown(model));
        self.fade_shown = model
            .changes
            .steps(model.now)
            .into_iter()
            .map(|(m, f, s)| (m.map(str::to_string), f, s))
            .collect();
    }

    /// Is a frame due after `changed`, given what is on screen?
    pub fn due(&mut self, changed: &Changed, model: &Model, screen: &Screen) -> bool {
        let mut due = changed.has(
            Changed::CLUSTER
                | Changed::EVENTS
                | Changed::HEADER
                | Changed::OPS
                | Changed::SCREEN
                | Changed::TREND,
        );
        let view = screen.view();
        due |= changed.has(Changed::ETCD) && *view == View::Etcd;
        due |= changed.has(Changed::ROUTING) && matches!(view, View::Routing | View::Dsn(_));
        if let Some(m) = &changed.detail_of {
            due |= *view == View::Detail(m.clone());
        }
        if let Some(m) = &changed.log_of {
            due |= match view {
                View::Logs(None) => true,
                View::Logs(Some(v)) => v == m,
                _ => false,
            };
        }
        if changed.has(Changed::CLOCK) {
            let second = model
                .now
                .saturating_duration_since(model.started())
                .as_secs();
            // only redraw for the clock when an age is actually on screen: an idle,
            // healthy cluster costs nothing; and at most once a second
            if second != self.drawn_second {
                self.drawn_second = second;
                // (patrol's own log is read from its buffer when drawn: refresh it with
                // the clock)
                due |= self.ages_shown || *view == View::OwnLog;
            }
            // the sign of life moves with etcd's and REST's answers, but is drawn with the
            // clock's tick: in the same frame as the ages, at most one frame a second
            let live = sign_shown(model);
            if self.live_shown.as_ref() != Some(&live) {
                self.live_shown = Some(live);
                due = true;
            }
            // a changed value fades with the clock: a frame per step, then none
            let steps = model.changes.steps(model.now);
            let same = steps.len() == self.fade_shown.len()
                && steps
                    .iter()
                    .zip(&self.fade_shown)
                    .all(|((m, f, s), (m2, f2, s2))| *m == m2.as_deref() && f == f2 && s == s2);
            due |= !same;
        }
        // Patroni renews the lock every loop_wait, so an idle healthy cluster shows the
        // same figure for ever: redraw when the seconds on screen change
        if changed.has(Changed::CLOCK | Changed::LEASE | Changed::CLUSTER) {
            let lock = model.lock_left();
            if lock != self.lock_shown {
                self.lock_shown = lock;
                due = true;
            }
        }
        due
    }
}

/// The header's sign of life as far as a frame is concerned: a stall's ages move with the
/// clock (through `ages_shown`), not as a change of the sign.
fn sign_shown(model: &Model) -> Liveness {
    match model.liveness() {
        Liveness::Stalled { etcd, rest } => Liveness::Stalled {
            etcd: etcd.map(|_| std::time::Duration::ZERO),
            rest: rest.map(|_| std::time::Duration::ZERO),
        },
        l => l,
    }
}
