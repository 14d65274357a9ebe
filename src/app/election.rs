//! Who Patroni 4.1 would elect if the leader went away now, and why each other member would
//! not be: a pure function of one cluster's state, made once per model update (see
//! `judgement.rs`).
//!
//! It follows Patroni's own rules (`patroni/ha.py`): every replica runs
//! `is_healthiest_node` → `_is_healthiest_node` on its own; it gives up if it is tagged
//! `nofailover` (or `failover_priority` ≤ 0, `patroni/tags.py`), if its position
//! (`_wal_position`: the larger of received and replayed) is more than
//! `maximum_lag_on_failover` behind the leader's last position in the `status` key
//! (`is_lagging`), if `check_timeline` is on and its timeline is behind the cluster's, if
//! synchronous mode is active and it is not in `/sync`; then it asks every other member
//! (`fetch_nodes_statuses`) and gives up if one that may promote is ahead of it, or at the
//! same position with a higher `failover_priority`, or still running as primary. In quorum
//! mode it also needs `quorum` votes from the voters (`patroni/quorum.py`, the `/sync` key).
//! Several replicas can pass their own check (the same position and priority): they race
//! for the leader key, and this says so rather than guess.
//!
//! Where patrol knows less than Patroni: Patroni asks each member live at the moment of the
//! election; patrol has the last REST poll (positions up to one interval old, a member that
//! died since the last poll still counted as reachable), and the `status` key as last
//! written by the leader. So this is a prediction, checked after each election (the event
//! log says whether it held).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::cluster::ClusterState;
use super::members::{MemberRow, RestHealth, human_bytes, member_row};
use crate::dcs::keys::SyncMode;

/// One member as the election sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entrant {
    pub name: String,
    /// Its REST API answered at the last poll (Patroni: `_MemberStatus.reachable`).
    pub reachable: bool,
    /// `nofailover`, or `failover_priority` ≤ 0 (`Tags.nofailover`).
    pub nofailover: bool,
    /// `failover_priority` (`Tags.failover_priority`: 1 when not set).
    pub priority: i64,
    /// PostgreSQL's state (`running`, `streaming`, `stopped`, `starting` ...).
    pub state: String,
    /// Runs as a primary (Patroni: `in_recovery` false).
    pub primary: bool,
    /// `max(received, replayed)` (`_wal_position`); None: not known.
    pub position: Option<u64>,
    pub timeline: Option<u64>,
}

/// The cluster-wide facts the rules compare against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// The leader assumed gone (the lock holder, else the former leader in `/sync`).
    pub leader: Option<String>,
    /// The leader's last position from the `status` key (`cluster.status.last_lsn`; 0 when
    /// absent, and then nobody is lagging, as in Patroni).
    pub last_lsn: u64,
    pub max_lag: u64,
    pub sync_mode: SyncMode,
    /// `/sync`: its leader, its standbys, its quorum.
    pub sync_leader: Option<String>,
    pub sync_standby: Vec<String>,
    pub quorum: u64,
    pub check_timeline: bool,
    pub standby_cluster: bool,
    /// `cluster.timeline`: the last `history` entry's timeline + 1 (1 with no history).
    pub cluster_timeline: u64,
    /// The member a switchover or failover request names (the `failover` key's `member`),
    /// not scheduled for later.
    pub requested: Option<String>,
    /// Maintenance mode: `is_healthiest_node` returns False for every replica unless a
    /// request names it.
    pub paused: bool,
}

impl Rules {
    /// `sync_mode_is_active`: synchronous mode on and `/sync` names a leader.
    fn sync_active(&self) -> bool {
        self.sync_mode != SyncMode::Off
            && self.sync_leader.as_deref().is_some_and(|l| !l.is_empty())
    }
    fn quorum_active(&self) -> bool {
        self.sync_mode == SyncMode::Quorum && self.sync_active()
    }
    /// `SyncState.matches(name, check_leader=True)`.
    fn in_sync(&self, name: &str) -> bool {
        self.sync_leader
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case(name))
            || self
                .sync_standby
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name))
    }
    /// `sync.members` in quorum mode: the voters (Patroni: leader and standbys).
    fn voter(&self, name: &str) -> bool {
        self.in_sync(name)
    }
}

/// Why a member would not be elected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exclusion {
    /// Its REST API did not answer (`failover_limitation`: "not reachable").
    Unreachable,
    /// `failover_limitation`: "not allowed to promote".
    NoFailover,
    /// PostgreSQL not running or streaming (`is_starting`, or down).
    NotRunning(String),
    /// Synchronous mode is active and it is not in `/sync` (`is_healthiest_node`).
    NotSync,
    /// `is_lagging`: this many bytes behind the `status` key's position, over the limit.
    Lagging { behind: u64, max: u64 },
    /// `check_timeline` and its timeline is behind the cluster's (or unknown).
    Timeline { own: Option<u64>, cluster: u64 },
    /// Its position is not known (no `received`/`replayed` in its last answer).
    NoPosition,
    /// A member that may promote is ahead of it.
    Behind { of: String, bytes: u64 },
    /// Same position, and `of` has a higher `failover_priority`.
    LowerPriority { of: String },
    /// Quorum mode: too few voters at or behind its position (`quorum.py`).
    Quorum { votes: i64, needed: u64 },
    /// Another member still runs as primary: every replica defers to it.
    PrimaryAlive(String),
    /// The switchover or failover request names another member.
    Requested(String),
    /// Maintenance mode: Patroni elects nobody by itself.
    Paused,
}

impl Exclusion {
    /// Does this keep the member from being promoted at all (a failover to it blocked), as
    /// opposed to losing the race to another member?
    pub fn blocks(&self) -> bool {
        !matches!(
            self,
            Exclusion::Behind { .. }
                | Exclusion::LowerPriority { .. }
                | Exclusion::Quorum { .. }
                | Exclusion::Requested(_)
                | Exclusion::Paused
        )
    }

    pub fn text(&self) -> String {
        match self {
            Exclusion::Unreachable => "REST API unreachable".into(),
            Exclusion::NoFailover => "nofailover".into(),
            Exclusion::NotRunning(s) => format!("not running ({s})"),
            Exclusion::NotSync => "not a synchronous standby".into(),
            Exclusion::Lagging { behind, max } => format!(
                "{} behind the leader's last position (maximum_lag_on_failover {})",
                human_bytes(*behind),
                human_bytes(*max)
            ),
            Exclusion::Timeline {
                own: Some(t),
                cluster,
            } => {
                format!("timeline {t} behind the cluster's {cluster}")
            }
            Exclusion::Timeline { own: None, .. } => "timeline unknown".into(),
            Exclusion::NoPosition => "WAL position unknown".into(),
            Exclusion::Behind { of, bytes } => format!("{} behind {of}", human_bytes(*bytes)),
            Exclusion::LowerPriority { of } => format!("lower failover_priority than {of}"),
            Exclusion::Quorum { votes, needed } => {
                format!("quorum: {} of {needed} votes", (*votes).max(0))
            }
            Exclusion::PrimaryAlive(p) => format!("{p} still runs as primary"),
            Exclusion::Requested(m) => format!("the request names {m}"),
            Exclusion::Paused => "paused: Patroni elects nobody by itself".into(),
        }
    }
}

/// A member that passes its own checks, with where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    pub name: String,
    pub position: u64,
    pub priority: i64,
    /// Bytes behind the `status` key's position (None: no `status` key).
    pub behind: Option<u64>,
    /// Would it win the race now (no other member ahead or preferred)? Several: a tie.
    pub wins: bool,
    /// Why it would lose the race to another member, when it does not win.
    pub loses: Option<Exclusion>,
}

/// The prediction for one cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranking {
    /// The leader assumed gone.
    pub leader: Option<String>,
    /// Those that may be promoted, best first (most advanced, then highest priority).
    pub ranked: Vec<Ranked>,
    /// Those that may not, with why, in name order.
    pub excluded: Vec<(String, Exclusion)>,
    /// Did the `status` key give a position to measure lag against?
    pub has_status: bool,
}

impl Ranking {
    /// The members that would win: one, several (a race) or none.
    pub fn winners(&self) -> Vec<&str> {
        self.ranked
            .iter()
            .filter(|r| r.wins)
            .map(|r| r.name.as_str())
            .collect()
    }

    /// Why `name` would never be promoted (a blocking exclusion), if so.
    pub fn blocked(&self, name: &str) -> Option<&Exclusion> {
        self.excluded
            .iter()
            .find(|(n, e)| n == name && e.blocks())
            .map(|(_, e)| e)
    }

    /// Where `name` stands: its index in `ranked`.
    pub fn place(&self, name: &str) -> Option<usize> {
        self.ranked.iter().position(|r| r.name == name)
    }

    /// The winner part of the line: `p2 (most advanced, 0 B behind)`, `p2 or p3 (a race:
    /// same position and priority)`, `none`.
    pub fn verdict(&self) -> String {
        let w = self.winners();
        match w.as_slice() {
            [] => match self.ranked.first().and_then(|r| r.loses.as_ref()) {
                Some(e) => format!("none ({})", e.text()),
                None => "none".into(),
            },
            [one] => {
                let behind = self
                    .ranked
                    .iter()
                    .find(|r| r.name == *one)
                    .and_then(|r| r.behind)
                    .map(|b| format!(", {} behind", human_bytes(b)))
                    .unwrap_or_default();
                format!("{one} (most advanced{behind})")
            }
            many => format!("{} (a race: same position and priority)", many.join(" or ")),
        }
    }

    /// `p3 excluded: nofailover; pg4 excluded: REST API unreachable`.
    pub fn exclusions(&self) -> String {
        self.excluded
            .iter()
            .map(|(n, e)| format!("{n} excluded: {}", e.text()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The header's line: `next leader: p2 (most advanced, 0 B behind); p3 excluded: nofailover`.
    pub fn line(&self) -> String {
        let mut s = format!("next leader: {}", self.verdict());
        let ex = self.exclusions();
        if !ex.is_empty() {
            s.push_str("; ");
            s.push_str(&ex);
        }
        s
    }

    /// The leader's detail: `if p1 failed now: p2, then p3; pg4 excluded: nofailover`.
    pub fn if_failed(&self) -> String {
        let who = self.leader.as_deref().unwrap_or("the leader");
        let mut s = format!("if {who} failed now: ");
        let w = self.winners();
        if w.is_empty() {
            s.push_str(&self.verdict());
        } else {
            s.push_str(&w.join(" or "));
            let rest: Vec<&str> = self
                .ranked
                .iter()
                .filter(|r| !r.wins)
                .map(|r| r.name.as_str())
                .collect();
            if !rest.is_empty() {
                s.push_str(", then ");
                s.push_str(&rest.join(", then "));
            }
        }
        let ex = self.exclusions_blocking();
        if !ex.is_empty() {
            s.push_str("; ");
            s.push_str(&ex);
        }
        s
    }

    fn exclusions_blocking(&self) -> String {
        self.excluded
            .iter()
            .filter(|(_, e)| e.blocks())
            .map(|(n, e)| format!("{n} excluded: {}", e.text()))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Rank `entrants` (every member but the leader assumed gone) by Patroni's rules.
pub fn rank(rules: &Rules, entrants: &[Entrant]) -> Ranking {
    let is_leader = |n: &str| rules.leader.as_deref() == Some(n);
    let mut excluded: Vec<(String, Exclusion)> = Vec::new();
    let mut eligible: Vec<(&Entrant, u64)> = Vec::new();
    for e in entrants.iter().filter(|e| !is_leader(&e.name)) {
        // in the order `is_healthiest_node` / `_is_healthiest_node` test them
        let why = if !e.reachable {
            Some(Exclusion::Unreachable)
        } else if e.nofailover {
            Some(Exclusion::NoFailover)
        } else if !matches!(e.state.as_str(), "running" | "streaming") {
            Some(Exclusion::NotRunning(e.state.clone()))
        } else if rules.sync_active() && !rules.quorum_active() && !rules.in_sync(&e.name) {
            Some(Exclusion::NotSync)
        } else if let Some(pos) = e.position {
            // `is_lagging`: last_lsn - wal_position > maximum_lag_on_failover (signed in
            // Python: a replica ahead of a stale status key is not lagging)
            let behind = rules.last_lsn.saturating_sub(pos);
            if behind > rules.max_lag {
                Some(Exclusion::Lagging {
                    behind,
                    max: rules.max_lag,
                })
            } else if rules.check_timeline
                && !rules.standby_cluster
                && e.timeline.is_none_or(|t| t < rules.cluster_timeline)
            {
                Some(Exclusion::Timeline {
                    own: e.timeline,
                    cluster: rules.cluster_timeline,
                })
            } else {
                eligible.push((e, pos));
                None
            }
        } else {
            Some(Exclusion::NoPosition)
        };
        if let Some(w) = why {
            excluded.push((e.name.clone(), w));
        }
    }

    // Whom each one asks (`_is_healthiest_node`'s `members` after `failover_limitation`):
    // reachable, allowed to promote, in `/sync` when synchronous mode is active. The leader
    // assumed gone does not answer. A member whose PostgreSQL is down answers `/patroni`
    // without `xlog`: `from_api_response` raises and `fetch_node_status` counts it as
    // unreachable.
    let asked: Vec<&Entrant> = entrants
        .iter()
        .filter(|o| !is_leader(&o.name) && o.reachable && !o.nofailover)
        .filter(|o| o.primary || matches!(o.state.as_str(), "running" | "streaming"))
        .filter(|o| !rules.sync_active() || rules.in_sync(&o.name))
        .collect();
    let primary_alive = asked.iter().find(|o| o.primary).map(|o| o.name.clone());

    let mut ranked: Vec<Ranked> = eligible
        .iter()
        .map(|(e, pos)| {
            let loses = own_check(rules, e, *pos, &asked, primary_alive.as_deref());
            Ranked {
                name: e.name.clone(),
                position: *pos,
                priority: e.priority,
                behind: (rules.last_lsn > 0).then(|| rules.last_lsn.saturating_sub(*pos)),
                wins: loses.is_none(),
                loses,
            }
        })
        .collect();
    if rules.paused {
        for r in ranked.iter_mut() {
            r.wins = false;
            r.loses = Some(Exclusion::Paused);
        }
    }
    // `manual_failover_process_no_leader`: a named candidate that may promote
    // (`failover_limitation` None) takes over, whatever the positions; one that may not
    // leaves the race to all, as above.
    if let Some(want) = rules.requested.as_deref()
        && let Some(e) = entrants.iter().find(|e| e.name == want)
        && e.reachable
        && !e.nofailover
    {
        for r in ranked.iter_mut() {
            let named = r.name == want;
            r.wins = named;
            r.loses = (!named).then(|| Exclusion::Requested(want.to_string()));
        }
    }
    ranked.sort_by(|a, b| {
        (b.wins, b.position, b.priority, &a.name).cmp(&(a.wins, a.position, a.priority, &b.name))
    });
    excluded.sort_by(|a, b| a.0.cmp(&b.0));
    Ranking {
        leader: rules.leader.clone(),
        ranked,
        excluded,
        has_status: rules.last_lsn > 0,
    }
}

/// The rest of `_is_healthiest_node` for `me` at `pos`: None when it would take the lock.
fn own_check(
    rules: &Rules,
    me: &Entrant,
    pos: u64,
    asked: &[&Entrant],
    primary_alive: Option<&str>,
) -> Option<Exclusion> {
    if let Some(p) = primary_alive.filter(|p| *p != me.name) {
        return Some(Exclusion::PrimaryAlive(p.to_string()));
    }
    let quorum = rules.quorum_active();
    let mut votes: i64 = if quorum && rules.voter(&me.name) {
        0
    } else {
        -1
    };
    for o in asked.iter().filter(|o| o.name != me.name) {
        let Some(theirs) = o.position else { continue };
        if pos < theirs {
            return Some(Exclusion::Behind {
                of: o.name.clone(),
                bytes: theirs - pos,
            });
        }
        if theirs > 0 {
            let vote = quorum && rules.voter(&o.name);
            if pos == theirs && me.priority < o.priority && (!quorum || vote) {
                return Some(Exclusion::LowerPriority { of: o.name.clone() });
            }
            if vote {
                votes += 1;
            }
        }
    }
    if quorum && votes < rules.quorum as i64 {
        return Some(Exclusion::Quorum {
            votes,
            needed: rules.quorum,
        });
    }
    None
}

fn truthy(v: &serde_json::Value) -> Option<bool> {
    match v {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::Null => None,
        // Python's bool() of a YAML string tag: any non-empty string is true
        serde_json::Value::String(s) => Some(!s.is_empty()),
        serde_json::Value::Number(n) => Some(n.as_f64() != Some(0.0)),
        _ => Some(true),
    }
}

fn int(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `Tags.nofailover` and `Tags.failover_priority` of a member's tags.
pub fn failover_tags(tags: &std::collections::BTreeMap<String, serde_json::Value>) -> (bool, i64) {
    let flag = tags.get("nofailover").and_then(truthy);
    let prio = tags.get("failover_priority").and_then(int);
    let nofailover = match flag {
        Some(b) => b,
        None => prio.is_some_and(|p| p <= 0),
    };
    let priority = if flag == Some(true) {
        0
    } else {
        prio.unwrap_or(1)
    };
    (nofailover, priority)
}

/// One member row as an entrant. The position is what the member's own REST API last
/// said (Patroni asks the member: `fetch_node_status`), not the row's figure, which
/// without a leader to pair with falls back to the member key's older `xlog_location`.
pub fn entrant(c: &ClusterState, r: &MemberRow, now: Instant, interval: Duration) -> Entrant {
    let (nofailover, priority) = failover_tags(&r.tags);
    let live = c
        .rest
        .get(&r.name)
        .and_then(|s| s.fresh(now, super::members::rest_max_age(interval)))
        .map(|s| (s.xlog.received_location, s.xlog.replayed_location));
    let (received, replayed) = live.unwrap_or((r.receive_lsn, r.replay_lsn));
    let position = match (received, replayed) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    Entrant {
        name: r.name.clone(),
        // a REST answer not yet had, or failing: Patroni's request would fail too
        reachable: matches!(r.rest, RestHealth::Live) && r.gone.is_none(),
        nofailover,
        priority,
        state: r.state.clone(),
        primary: r
            .own_role
            .as_deref()
            .is_some_and(|o| matches!(o, "primary" | "master" | "standby_leader")),
        position,
        timeline: r.timeline,
    }
}

/// The rules in force in `c`.
pub fn rules(c: &ClusterState) -> Rules {
    let cfg = c.config.as_ref();
    let sync = c.sync.as_ref();
    let leader = c.leader.clone().or_else(|| {
        // the lock has expired: the former leader is the one `/sync` names, as Patroni's
        // `leader_name` in synchronous mode
        sync.and_then(|s| s.leader.clone())
    });
    Rules {
        leader,
        last_lsn: c.status.as_ref().and_then(|s| s.optime).unwrap_or(0),
        max_lag: crate::dcs::keys::maximum_lag_on_failover(cfg),
        sync_mode: cfg.map(|k| k.synchronous_mode).unwrap_or_default(),
        sync_leader: sync.and_then(|s| s.leader.clone()),
        sync_standby: sync.map(|s| s.sync_standby.clone()).unwrap_or_default(),
        quorum: sync.and_then(|s| s.quorum).unwrap_or(0),
        check_timeline: cfg.is_some_and(|k| k.check_timeline),
        standby_cluster: cfg.is_some_and(|k| k.standby_cluster),
        cluster_timeline: c.history.last().map_or(1, |h| h.timeline.saturating_add(1)),
        requested: c
            .failover
            .as_ref()
            .filter(|f| f.scheduled_at.is_none())
            .and_then(|f| f.member.clone()),
        paused: c.is_paused(),
    }
}

/// Why the next leader is worth a line on screen now: the leader unreachable (its REST
/// API failing, or its key gone), the cluster paused, or a switchover pending. None: all
/// is well (the leader's detail view still shows the ranking).
pub fn watching(c: &ClusterState, now: Instant, interval: Duration) -> Option<&'static str> {
    let Some(l) = c.leader.as_deref() else {
        return Some("no leader");
    };
    let rest = member_row(c, l, now, interval).map(|r| r.rest);
    // not asked yet (patrol just started) is not "does not answer"
    if matches!(rest, Some(RestHealth::Unreachable { .. })) {
        return Some("the leader's REST API does not answer");
    }
    if c.failover.is_some() {
        return Some("a switchover is pending");
    }
    if c.is_paused() {
        return Some("paused");
    }
    None
}

/// The members that matter: those with a member key and REST state (polled, so bounded),
/// plus any member in `/sync`. Junk member keys nobody polls are not entrants: Patroni
/// could not reach them either.
fn names(c: &ClusterState) -> BTreeSet<&str> {
    let mut n: BTreeSet<&str> = c
        .rest
        .keys()
        .filter(|k| c.members.contains_key(*k))
        .map(String::as_str)
        .collect();
    if let Some(s) = &c.sync {
        n.extend(
            s.sync_standby
                .iter()
                .filter(|k| c.members.contains_key(*k))
                .map(String::as_str),
        );
    }
    n
}

/// The prediction for `c` now.
pub fn of(c: &ClusterState, now: Instant, interval: Duration) -> Ranking {
    let entrants: Vec<Entrant> = names(c)
        .into_iter()
        .filter_map(|n| member_row(c, n, now, interval))
        .map(|r| entrant(c, &r, now, interval))
        .collect();
    rank(&rules(c), &entrants)
}

/// The last prediction made before the leader changed: what an election is checked against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// The leader it was about.
    pub leader: String,
    pub winners: Vec<String>,
    /// The facts it was made from, for patrol's own log when it was wrong.
    pub facts: String,
}

/// An election and whether the prediction held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub predicted: String,
    pub elected: String,
    pub right: bool,
    pub facts: String,
}

impl Outcome {
    pub fn event(&self) -> super::events::EventKind {
        super::events::EventKind::Prediction {
            predicted: self.predicted.clone(),
            elected: self.elected.clone(),
            right: self.right,
        }
    }
}

/// Carry the prediction across one update: `leader` is the lock holder now, `ranking` the
/// prediction made now. When the lock went to another member, says whether the last
/// prediction about the old leader named it (one of a race counts: a tie was said as one).
/// While no one holds the lock, the prediction follows the facts (the old leader stays
/// the one it is about).
pub fn follow(
    held: &mut Option<Held>,
    leader: Option<&str>,
    ranking: Option<&Ranking>,
) -> Option<Outcome> {
    let mut out = None;
    if let (Some(h), Some(now)) = (held.as_ref(), leader)
        && h.leader != now
    {
        out = Some(Outcome {
            predicted: if h.winners.is_empty() {
                "none".into()
            } else {
                h.winners.join(" or ")
            },
            elected: now.to_string(),
            right: h.winners.iter().any(|w| w == now),
            facts: h.facts.clone(),
        });
        *held = None;
    }
    let Some(r) = ranking else { return out };
    let made = |about: &str| Held {
        leader: about.to_string(),
        winners: r.winners().into_iter().map(String::from).collect(),
        facts: r.line(),
    };
    match leader {
        // made about this leader (not one from before the change this update saw)
        Some(l) if r.leader.as_deref() == Some(l) => *held = Some(made(l)),
        Some(_) => {}
        None => {
            if let Some(h) = held.as_mut() {
                let about = h.leader.clone();
                *h = made(&about);
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "election_tests.rs"]
mod tests;
