//! Pre-flight checks: pure functions of the cluster state, shown in every operation dialog
//! and run again at the moment of confirming.

use std::time::Instant;

use super::cluster::ClusterState;
use super::election::{self, Ranking};
use super::members::{MemberRow, RestHealth, member_row, member_rows};
use crate::dcs::keys::SyncMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Pass,
    Warn,
    /// The operation must not be sent.
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub level: Level,
    pub text: String,
}

impl Check {
    pub(crate) fn pass(t: impl Into<String>) -> Check {
        Check {
            level: Level::Pass,
            text: t.into(),
        }
    }
    pub(crate) fn warn(t: impl Into<String>) -> Check {
        Check {
            level: Level::Warn,
            text: t.into(),
        }
    }
    pub(crate) fn fail(t: impl Into<String>) -> Check {
        Check {
            level: Level::Fail,
            text: t.into(),
        }
    }
}

pub fn blocked(checks: &[Check]) -> Option<&Check> {
    checks.iter().find(|c| c.level == Level::Fail)
}

/// A member that could take over, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub name: String,
    /// Why it is not a switchover candidate. Empty: eligible.
    pub reasons: Vec<String>,
    /// Those of `reasons` that also block a failover (see [`failover`]); the others are
    /// warnings there.
    pub blocks_failover: Vec<String>,
    /// Asynchronous while the cluster runs in synchronous mode (failover may lose data).
    pub async_in_sync_mode: bool,
    /// Where it stands in the prediction (`election`) if the leader went away now: `first`,
    /// `in a race with p3`, `second: 1.0 KiB behind p2`; None: excluded there (the reason
    /// is among `blocks_failover`) or no prediction.
    pub standing: Option<String>,
}

impl Candidate {
    pub fn eligible(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// The tags as Patroni reads them (`patroni/tags.py`, via [`election::failover_tags`]):
/// the same rule for the dialogs and the prediction.
fn tag_says_no(r: &MemberRow) -> Option<String> {
    let (nofailover, priority) = election::failover_tags(&r.tags);
    if !nofailover {
        return None;
    }
    Some(if r.tags.contains_key("nofailover") {
        "nofailover tag".into()
    } else {
        format!("failover_priority {priority}")
    })
}

/// What a candidate is measured against: the cluster's failover limit, sync mode and the
/// leader's timeline, read once per list.
struct Measure<'a> {
    c: &'a ClusterState,
    ranking: &'a Ranking,
    leader_tl: Option<u64>,
    max_lag: Option<u64>,
    sync_mode: SyncMode,
}

impl<'a> Measure<'a> {
    fn new(c: &'a ClusterState, leader: Option<&MemberRow>, ranking: &'a Ranking) -> Self {
        Measure {
            c,
            ranking,
            leader_tl: leader
                .filter(|r| r.role.is_leader())
                .and_then(|r| r.timeline),
            max_lag: Some(crate::dcs::keys::maximum_lag_on_failover(c.config.as_ref())),
            sync_mode: c
                .config
                .as_ref()
                .map(|k| k.synchronous_mode)
                .unwrap_or_default(),
        }
    }

    /// One member as a candidate: the rule every list of candidates is made of.
    fn judge(&self, r: &MemberRow) -> Candidate {
        let in_sync = |n: &str| {
            self.c
                .sync
                .as_ref()
                .is_some_and(|s| s.sync_standby.iter().any(|m| m == n))
        };
        // (blocks a failover too, reason)
        let mut why: Vec<(bool, String)> = Vec::new();
        if let Some(t) = tag_says_no(r) {
            why.push((true, t));
        }
        if !matches!(r.state.as_str(), "streaming" | "running") {
            why.push((true, format!("not streaming ({})", r.state)));
        }
        // the figure the table shows for this row, from the same source (`members::live_row`)
        let lag = r.replay_lag.or(r.receive_lag);
        let lower_bound = r.lag_source == super::members::LagSource::AtLeast;
        match (self.max_lag, lag) {
            (Some(max), Some(lag)) if lag > max => why.push((
                true,
                format!(
                    "lag {} above maximum_lag_on_failover {}",
                    super::members::human_bytes(lag),
                    super::members::human_bytes(max)
                ),
            )),
            // right after start the replica has answered and the leader not since: not
            // yet known, which is not "unknown" and never eligible
            (Some(_), None) if r.lag_waiting => {
                why.push((false, super::members::LAG_WAITING.into()))
            }
            // no figure that can be trusted (see `members::live_row`): err towards behind
            (Some(_), None) => why.push((false, "lag unknown".into())),
            (Some(_), Some(lag)) if lower_bound => why.push((
                false,
                format!(
                    "lag unknown (at least {})",
                    super::members::human_bytes(lag)
                ),
            )),
            _ => {}
        }
        if let (Some(l), Some(t)) = (self.leader_tl, r.timeline)
            && t < l
        {
            why.push((true, format!("timeline {t} behind the leader's {l}")));
        }
        match r.rest {
            RestHealth::Unreachable { .. } => why.push((true, "REST API unreachable".into())),
            RestHealth::Unknown => why.push((true, "REST API has not answered yet".into())),
            RestHealth::Live => {}
        }
        let async_in_sync_mode = self.sync_mode != SyncMode::Off && !in_sync(&r.name);
        if async_in_sync_mode {
            why.push((false, "not in /sync (synchronous mode)".into()));
        }
        // One list: what Patroni's own rules exclude (the prediction) is never eligible
        // here. patrol's rules above are stricter in places (replay lag against the
        // leader's live position, any timeline behind the leader's, not in /sync whether
        // or not /sync is active) and keep their own words; a Patroni reason none of them
        // already covers is added, blocking a failover as it blocks Patroni's.
        // Not in /sync is said above already, as a warning for a failover: Patroni's API
        // refuses an async candidate only for a switchover (`api.py` `is_failover_possible`).
        if let Some(ex) = self.ranking.blocked(&r.name)
            && !matches!(ex, election::Exclusion::NotSync)
            && !why.iter().any(|w| w.0)
        {
            why.push((true, format!("Patroni would not promote it: {}", ex.text())));
        }
        Candidate {
            standing: standing(self.ranking, &r.name),
            name: r.name.clone(),
            blocks_failover: why.iter().filter(|w| w.0).map(|w| w.1.clone()).collect(),
            reasons: why.into_iter().map(|w| w.1).collect(),
            async_in_sync_mode,
        }
    }
}

/// Where `name` stands in `ranking`, in words (see [`Candidate::standing`]).
fn standing(ranking: &Ranking, name: &str) -> Option<String> {
    let i = ranking.place(name)?;
    let me = &ranking.ranked[i];
    let others: Vec<&str> = ranking
        .winners()
        .into_iter()
        .filter(|w| *w != name)
        .collect();
    Some(match (&me.loses, others.is_empty()) {
        (None, true) => "first".into(),
        (None, false) => format!("in a race with {}", others.join(" or ")),
        (Some(why), _) => format!("{}: {}", ordinal(i + 1), why.text()),
    })
}

fn ordinal(n: usize) -> String {
    match n {
        1 => "first".into(),
        2 => "second".into(),
        3 => "third".into(),
        n => format!("{n}th"),
    }
}

/// Every non-leader member, eligible first and in the order of the prediction (who
/// Patroni would elect first), with the reasons the others are not. The prediction is made
/// from the same rows, so the dialog and the prediction cannot disagree.
pub fn candidates(c: &ClusterState, now: Instant, interval: std::time::Duration) -> Vec<Candidate> {
    let rows = member_rows(c, now, interval);
    let entrants: Vec<election::Entrant> = rows
        .iter()
        .filter(|r| r.gone.is_none())
        .map(|r| election::entrant(c, r, now, interval))
        .collect();
    let ranking = election::rank(&election::rules(c), &entrants);
    let m = Measure::new(c, rows.iter().find(|r| r.role.is_leader()), &ranking);
    let mut out: Vec<Candidate> = rows
        .iter()
        .filter(|r| !r.role.is_leader() && r.gone.is_none())
        .map(|r| m.judge(r))
        .collect();
    // stable: by name within the excluded ones, as the rows come
    out.sort_by_key(|k| (!k.eligible(), ranking.place(&k.name).unwrap_or(usize::MAX)));
    out
}

/// One member as [`candidates`] judges it, without deriving the other rows (the detail
/// view's member), against the prediction made once for this update; None: the leader,
/// gone, or no such member.
pub fn candidate(
    c: &ClusterState,
    name: &str,
    now: Instant,
    interval: std::time::Duration,
    ranking: &Ranking,
) -> Option<Candidate> {
    let r =
        member_row(c, name, now, interval).filter(|r| !r.role.is_leader() && r.gone.is_none())?;
    let leader = c
        .leader
        .as_deref()
        .and_then(|l| member_row(c, l, now, interval));
    Some(Measure::new(c, leader.as_ref(), ranking).judge(&r))
}

/// Checks common to every write: the data it is based on must be current.
pub fn dcs_is_live(stale: Option<std::time::Duration>) -> Check {
    match stale {
        None => Check::pass("etcd is live: the state shown is current"),
        Some(age) => Check::fail(format!(
            "etcd unreachable for {}: the state shown may be stale",
            super::members::human_age(age)
        )),
    }
}

pub fn switchover(
    c: &ClusterState,
    cand: Option<&Candidate>,
    leader_rest_ok: bool,
    scheduled: bool,
) -> Vec<Check> {
    let mut v = Vec::new();
    match &c.leader {
        Some(l) => v.push(Check::pass(format!("{l} holds the leader lock"))),
        None => v.push(Check::fail(
            "no leader: a switchover needs one (use failover)",
        )),
    }
    if leader_rest_ok {
        v.push(Check::pass("the leader's REST API answers"));
    } else {
        v.push(Check::fail(
            "the leader's REST API does not answer: the request cannot be sent to it",
        ));
    }
    match cand {
        None => v.push(Check::fail("no candidate selected")),
        Some(k) if k.eligible() => v.push(Check::pass(format!("{} is eligible", k.name))),
        Some(k) => v.push(Check::fail(format!(
            "{} is not eligible: {}",
            k.name,
            k.reasons.join(", ")
        ))),
    }
    if c.is_paused() {
        v.push(Check::warn(
            "maintenance mode is on: Patroni will not restart a failed demotion by itself",
        ));
    }
    if c.failover.is_some() {
        v.push(Check::fail(
            "a switchover is already scheduled (flush it first with x)",
        ));
    }
    if scheduled {
        v.push(Check::pass(
            "scheduled: Patroni performs it at the given time (202)",
        ));
    }
    v
}

pub fn failover(c: &ClusterState, cand: Option<&Candidate>) -> Vec<Check> {
    let mut v = Vec::new();
    match cand {
        None => v.push(Check::fail("no candidate selected")),
        Some(k) => {
            // Failover is the last resort, for when no healthy leader can hand over. What
            // makes the candidate unable or unfit to lead blocks it, as a switchover: a
            // nofailover tag or failover_priority 0 (Patroni refuses), a REST API that does
            // not answer (Patroni refuses), not running or streaming, a timeline behind the
            // leader's, lag above maximum_lag_on_failover (the cluster's own limit for a
            // failover). What only risks data is a warning here: not in /sync (the
            // synchronous leader may be the one that is gone) and lag unknown (with the
            // leader gone, nothing may be left to measure against).
            if !k.blocks_failover.is_empty() {
                v.push(Check::fail(format!(
                    "{} cannot take over: {}",
                    k.name,
                    k.blocks_failover.join(", ")
                )));
            } else if k.eligible() {
                v.push(Check::pass(format!("{} is eligible", k.name)));
            } else {
                for r in k.reasons.iter().filter(|r| !r.starts_with("not in /sync")) {
                    v.push(Check::warn(format!("{}: {r}", k.name)));
                }
            }
            if k.async_in_sync_mode {
                v.push(Check::warn(format!(
                    "{} is asynchronous in synchronous mode: committed transactions may be lost",
                    k.name
                )));
            }
        }
    }
    match &c.leader {
        Some(l) => v.push(Check::warn(format!(
            "{l} still holds the leader lock: a failover demotes it without a clean switchover; prefer switchover"
        ))),
        None => v.push(Check::warn("no leader: data written after the candidate's last received LSN is lost")),
    }
    v
}

/// Checks for an operation on one member (restart, reload, reinit).
pub fn member_op(row: Option<&MemberRow>, what: &str, is_reinit: bool) -> Vec<Check> {
    let mut v = Vec::new();
    match row {
        None => v.push(Check::fail("no member selected")),
        Some(r) if r.gone.is_some() => v.push(Check::fail(format!(
            "{} has no member key: it is not running",
            r.name
        ))),
        Some(r) => {
            match r.rest {
                RestHealth::Unreachable { .. } => v.push(Check::fail(format!(
                    "{}'s REST API does not answer",
                    r.name
                ))),
                // never asked, or the answer is overdue: nothing says it would answer
                RestHealth::Unknown => v.push(Check::fail(format!(
                    "{}'s REST API has not answered yet",
                    r.name
                ))),
                RestHealth::Live => v.push(Check::pass(format!("{}'s REST API answers", r.name))),
            }
            if r.role.is_leader() {
                if is_reinit {
                    v.push(Check::fail("the leader cannot be reinitialized"));
                } else {
                    v.push(Check::warn(format!(
                        "{} is the leader: clients see a short {what} outage",
                        r.name
                    )));
                }
            }
            if is_reinit {
                v.push(Check::warn(format!(
                    "{}'s data directory is deleted and copied again from the leader",
                    r.name
                )));
            }
        }
    }
    v
}
