//! The confirmation dialog of an operation: pick, set options, see the checks and the
//! exact request, confirm. Pure state; `App` turns a confirmation into an effect.

use std::time::Instant;

use super::checks::Candidate;
use super::keymap::{Action, Context};
use super::ops::{OpKind, Request, spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Choose a candidate / set options.
    Options,
    /// See the checks and the request; confirm.
    Confirm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Schedule,
    PgVersion,
    Timeout,
}

/// A dialog's options: each kind carries only its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Options {
    None,
    Switchover {
        /// When (empty: now).
        schedule: String,
    },
    Restart {
        pending_only: bool,
        schedule: String,
        pg_version: String,
        timeout: String,
    },
    Reinit {
        force: bool,
        from_leader: bool,
    },
    Rolling {
        /// Switch over before restarting the leader.
        switch_first: bool,
    },
}

impl Options {
    pub fn for_kind(kind: OpKind) -> Options {
        (spec(kind).options)()
    }

    /// The option actions of these options (what the dialog's keys can change).
    pub fn actions(&self) -> &'static [Action] {
        match self {
            Options::None => &[],
            Options::Switchover { .. } => &[Action::Schedule],
            Options::Restart { .. } => &[
                Action::PendingOnly,
                Action::Schedule,
                Action::PgVersion,
                Action::Timeout,
            ],
            Options::Reinit { .. } => &[Action::Force, Action::FromLeader],
            Options::Rolling { .. } => &[Action::SwitchFirst],
        }
    }

    /// Apply an option action: a toggle flips, a text option returns its field to edit.
    pub fn apply(&mut self, a: Action) -> Option<Field> {
        match (self, a) {
            (Options::Switchover { .. } | Options::Restart { .. }, Action::Schedule) => {
                Some(Field::Schedule)
            }
            (Options::Restart { .. }, Action::PgVersion) => Some(Field::PgVersion),
            (Options::Restart { .. }, Action::Timeout) => Some(Field::Timeout),
            (Options::Restart { pending_only, .. }, Action::PendingOnly) => {
                *pending_only = !*pending_only;
                None
            }
            (Options::Reinit { force, .. }, Action::Force) => {
                *force = !*force;
                None
            }
            (Options::Reinit { from_leader, .. }, Action::FromLeader) => {
                *from_leader = !*from_leader;
                None
            }
            (Options::Rolling { switch_first }, Action::SwitchFirst) => {
                *switch_first = !*switch_first;
                None
            }
            _ => None,
        }
    }

    pub fn field_mut(&mut self, f: Field) -> Option<&mut String> {
        match (self, f) {
            (
                Options::Switchover { schedule } | Options::Restart { schedule, .. },
                Field::Schedule,
            ) => Some(schedule),
            (Options::Restart { pg_version, .. }, Field::PgVersion) => Some(pg_version),
            (Options::Restart { timeout, .. }, Field::Timeout) => Some(timeout),
            _ => None,
        }
    }

    pub fn field(&self, f: Field) -> &str {
        match (self, f) {
            (
                Options::Switchover { schedule } | Options::Restart { schedule, .. },
                Field::Schedule,
            ) => schedule,
            (Options::Restart { pg_version, .. }, Field::PgVersion) => pg_version,
            (Options::Restart { timeout, .. }, Field::Timeout) => timeout,
            _ => "",
        }
    }

    pub fn schedule(&self) -> &str {
        self.field(Field::Schedule)
    }
}

/// See [`Dialog::judged_as`]: kind, member, step, candidate, options.
pub type JudgedAs = (OpKind, Option<String>, Step, Option<String>, Options);

#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    pub kind: OpKind,
    /// The member the operation applies to (restart, reload, reinit, flush restart).
    pub member: Option<String>,
    pub step: Step,
    /// The selected candidate (switchover, failover), by name: the list is sorted again on
    /// every plan (eligibility, lag), so a row index would move onto another member.
    pub candidate: Option<String>,
    pub options: Options,
    /// Typed confirmation (cluster or member name).
    pub typed: String,
    pub editing: Option<Field>,
    /// Typed confirmation only: a key press edited `typed` since the confirm step was (re)entered.
    /// Enter sends a typed confirmation only when armed, so the Enter that advanced to the
    /// review (or a second Enter right behind it) can never be the one that sends.
    pub armed: bool,
    /// The request shown on the confirm step: what the send key promises to send.
    pub shown: Option<Request>,
    /// Why nothing was sent, or what changed.
    pub notice: Option<String>,
    /// The request shown changed (the cluster moved): the send key does nothing before
    /// this, so the new request is on screen long enough to be read.
    pub hold_until: Option<Instant>,
    /// What changed to set `hold_until`: "request" or "checks".
    pub held: Option<&'static str>,
}

impl Dialog {
    pub fn new(kind: OpKind, member: Option<String>) -> Dialog {
        let step = if kind.has_options() {
            Step::Options
        } else {
            Step::Confirm
        };
        Dialog {
            kind,
            member,
            step,
            candidate: None,
            options: Options::for_kind(kind),
            typed: String::new(),
            armed: false,
            editing: None,
            shown: None,
            notice: None,
            hold_until: None,
            held: None,
        }
    }

    /// What the dialog's plan depends on, and its step: when these are the same before and
    /// after an update, a new plan came from the cluster, not from the operator.
    pub fn judged_as(&self) -> JudgedAs {
        (
            self.kind,
            self.member.clone(),
            self.step,
            self.candidate.clone(),
            self.options.clone(),
        )
    }

    /// The key context this dialog is in now.
    pub fn context(&self) -> Context {
        match (self.step, self.editing) {
            (_, Some(_)) => Context::Field,
            (Step::Options, None) => Context::Options,
            (Step::Confirm, None) if self.kind.typed_confirmation() => Context::Typed,
            (Step::Confirm, None) => Context::Confirm,
        }
    }

    /// Does this dialog offer `a` in its current step? (The keymap says which keys.)
    pub fn offers(&self, a: Action) -> bool {
        match self.context() {
            Context::Options => match a {
                Action::Up | Action::Down => self.kind.has_candidates(),
                Action::Review | Action::Back | Action::Quit => true,
                a => self.options.actions().contains(&a),
            },
            Context::Confirm => match a {
                Action::DcsFallback => self.kind == OpKind::Switchover,
                _ => true,
            },
            _ => true,
        }
    }

    /// The selected candidate in `candidates` (the current order). `None` when the
    /// selected member is no longer listed: the selection never moves by itself.
    pub fn selected<'a>(&self, candidates: &'a [Candidate]) -> Option<&'a Candidate> {
        let name = self.candidate.as_ref()?;
        candidates.iter().find(|c| &c.name == name)
    }

    /// Move the selection `up` or down one place in the current order of `candidates`.
    pub fn move_selection(&mut self, candidates: &[Candidate], up: bool) {
        let at = self
            .candidate
            .as_ref()
            .and_then(|n| candidates.iter().position(|c| &c.name == n));
        let next = match at {
            Some(i) if up => i.saturating_sub(1),
            Some(i) => (i + 1).min(candidates.len().saturating_sub(1)),
            None => 0,
        };
        if let Some(c) = candidates.get(next) {
            self.candidate = Some(c.name.clone());
        }
    }
}

impl OpKind {
    pub fn has_options(self) -> bool {
        spec(self).has_options()
    }
    /// A candidate is picked in the first step.
    pub fn has_candidates(self) -> bool {
        spec(self).candidates
    }
    /// Operations that can lose data or availability need the name typed, not just `y`.
    pub fn typed_confirmation(self) -> bool {
        spec(self).typed
    }
}
