//! The confirmation dialog of an operation: pick, set options, see the checks and the
//! exact request, confirm. Pure state; `App` turns a confirmation into an effect.

use super::checks::Candidate;
use super::ops::{OpKind, Request};

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

#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    pub kind: OpKind,
    /// The member the operation applies to (restart, reload, reinit, flush restart).
    pub member: Option<String>,
    pub step: Step,
    /// The selected candidate (switchover, failover), by name: the list is sorted again on
    /// every plan (eligibility, lag), so a row index would move onto another member.
    pub candidate: Option<String>,
    pub schedule: String,
    pub pg_version: String,
    pub restart_timeout: String,
    pub pending_only: bool,
    pub force: bool,
    pub from_leader: bool,
    /// Rolling restart: switch over before restarting the leader.
    pub switch_first: bool,
    /// Typed confirmation (cluster or member name).
    pub typed: String,
    pub editing: Option<Field>,
    /// Typed confirmation only: a key press edited `typed` since the confirm step was (re)entered.
    /// Enter sends a typed confirmation only when armed, so the Enter that advanced to the
    /// review (or a second Enter right behind it) can never be the one that sends.
    pub armed: bool,
    /// The request shown on the confirm step: what `y` promises to send.
    pub shown: Option<Request>,
    /// Why nothing was sent, or what changed.
    pub notice: Option<String>,
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
            schedule: String::new(),
            pg_version: String::new(),
            restart_timeout: String::new(),
            pending_only: false,
            force: false,
            from_leader: false,
            switch_first: true,
            typed: String::new(),
            armed: false,
            editing: None,
            shown: None,
            notice: None,
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

    pub fn field_mut(&mut self, f: Field) -> &mut String {
        match f {
            Field::Schedule => &mut self.schedule,
            Field::PgVersion => &mut self.pg_version,
            Field::Timeout => &mut self.restart_timeout,
        }
    }
}

impl OpKind {
    pub fn has_options(self) -> bool {
        matches!(
            self,
            OpKind::Switchover
                | OpKind::Failover
                | OpKind::Restart
                | OpKind::Reinit
                | OpKind::RollingRestart
        )
    }
    /// Operations that can lose data or availability need the name typed, not just `y`.
    pub fn typed_confirmation(self) -> bool {
        matches!(
            self,
            OpKind::Failover | OpKind::Reinit | OpKind::DcsSwitchover
        )
    }
}

/// `now` / empty means "immediately". Otherwise an ISO 8601 timestamp with a time zone, as
/// Patroni requires (`2026-11-26T02:00+00:00`, `2026-11-26T02:00:00Z`).
pub fn parse_schedule(s: &str) -> Result<Option<String>, String> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("now") {
        return Ok(None);
    }
    let bad = || {
        format!("{t:?} is not an ISO 8601 time with a zone, e.g. 2026-11-26T02:00+00:00 (or `now`)")
    };
    let (date, time) = t.split_once(['T', ' ']).ok_or_else(bad)?;
    let d: Vec<&str> = date.split('-').collect();
    if d.len() != 3
        || d[0].len() != 4
        || !d
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(bad());
    }
    let has_zone = time.ends_with('Z')
        || time.ends_with('z')
        || time.get(1..).is_some_and(|t| t.contains(['+', '-']));
    if !has_zone {
        return Err(format!("{t:?} has no time zone: add one, e.g. {t}+00:00"));
    }
    let clock = time.trim_end_matches(['Z', 'z']);
    let clock = clock.split(['+', '-']).next().unwrap_or("");
    let parts: Vec<&str> = clock.split(':').collect();
    let ok = (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit() || c == '.'));
    if !ok {
        return Err(bad());
    }
    Ok(Some(t.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        assert_eq!(parse_schedule(""), Ok(None));
        assert_eq!(parse_schedule(" now "), Ok(None));
        assert_eq!(
            parse_schedule("2026-11-26T02:00+00:00"),
            Ok(Some("2026-11-26T02:00+00:00".into()))
        );
        assert!(parse_schedule("2026-11-26T02:00:00Z").unwrap().is_some());
        assert!(
            parse_schedule("2026-11-26 02:00:00-05:00")
                .unwrap()
                .is_some()
        );
        assert!(
            parse_schedule("2026-11-26T02:00")
                .unwrap_err()
                .contains("time zone")
        );
        assert!(parse_schedule("tomorrow").is_err());
        assert!(parse_schedule("26/11/2026T02:00Z").is_err());
        assert!(parse_schedule("2026-11-26T").is_err());
        assert!(parse_schedule("2026-11-26T+").is_err());
    }
}
