//! The one place that decides whether a frame is due: from what a message changed (the
//! model and the session say what, never whether it is on screen) and what is on screen.
//! An idle healthy cluster must cost no frames: Patroni rewrites its keys every loop_wait
//! and the REST answers repeat themselves, so most messages change nothing drawn.

use std::ops::BitOrAssign;

use super::View;
use super::members::{LagSource, RestHealth};
use super::model::{DcsHealth, Model};
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
}

impl Redraw {
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
            // healthy cluster costs nothing
            if second != self.drawn_second {
                self.drawn_second = second;
                due |= clock_on_screen(model, screen);
            }
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

/// Is any age (which changes by itself as time passes) on screen?
fn clock_on_screen(model: &Model, screen: &Screen) -> bool {
    // (patrol's own log is read from its buffer when drawn: refresh it with the clock)
    // (a revision gap's "~T s" counts up too)
    if !matches!(model.dcs, DcsHealth::Live { .. })
        || *screen.view() == View::OwnLog
        || model.revision_gap().is_some()
        // a scheduled switchover's countdown in the header
        || model
            .cluster()
            .and_then(|c| c.failover.as_ref())
            .is_some_and(|f| f.scheduled_at.is_some())
    {
        return true;
    }
    // only the rows that can be on screen: the clock must not cost every member key
    model
        .rows_near(screen.selected.as_deref(), screen.rows_near())
        .iter()
        .any(|r| {
            r.gone.is_some()
                || matches!(r.rest, RestHealth::Unreachable { .. })
                || r.lag_age.is_some()
                || (matches!(r.lag_source, LagSource::Dcs(_))
                    && (r.receive_lag.is_some() || r.replay_lag.is_some()))
        })
}
