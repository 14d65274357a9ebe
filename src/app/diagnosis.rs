//! Health rules as data: each [`Rule`] has an id, a severity, a condition over one
//! cluster's [`Model`] and a message built from the facts. [`evaluate`] is pure (no screen,
//! no clock of its own: the model's time), so the TUI, `patrol check` and, later, a fleet
//! row judge a cluster the same way. [`Health`] keeps what is active between evaluations:
//! since when each finding holds, raised and cleared as events, like `events::diff` does for
//! summaries. Nothing here sends anything: a rule may only *name* the operation that
//! addresses it ([`Remedy`]), which opens the usual dialog behind the usual confirmation.
//!
//! Cost: member rules look at the members that matter and are bounded whatever etcd holds
//! (the leader, the synchronous standbys, the polled members, the gone ones: at most
//! `Model::MAX_POLLED` + `cluster::MAX_GONE` + a few rows), never at every member key, and
//! `Health` evaluates at most every [`Health::EVERY`]. The next-leader prediction (issue 19
//! §2) goes beside these rules, over `checks::candidates`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::cluster::ClusterState;
use super::members::{self, MemberRow, RestHealth};
use super::model::Model;
use super::routing::{Purpose, Severity as RoutingSeverity};
use crate::dcs::keys::SyncMode;

/// How bad a finding is; ordered, worst last. Nagios' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    Cluster,
    Member(String),
    /// An etcd endpoint (its URL without credentials).
    Etcd(String),
    /// A listener of a configured HAProxy (`HAPROXY LISTENER`), or the HAProxy itself.
    Haproxy(String),
    /// A replication slot on the leader (its sanitized name).
    Slot(String),
}

impl Subject {
    pub fn member(&self) -> Option<&str> {
        match self {
            Subject::Member(m) => Some(m),
            _ => None,
        }
    }
}

/// The operation that addresses a finding: one key in the Health view opens its dialog
/// (or view) for the finding's member, behind the usual confirmation. Never sent by a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// The member's Patroni log.
    Logs,
    Restart,
    Reinit,
    /// Flush the scheduled switchover.
    Flush,
}

impl Remedy {
    pub fn label(self) -> &'static str {
        match self {
            Remedy::Logs => "its log",
            Remedy::Restart => "restart it",
            Remedy::Reinit => "reinit it",
            Remedy::Flush => "flush the scheduled switchover",
        }
    }
}

/// The figures rules compare with, from patrol's config (`[check]`); Patroni's own limits
/// (`maximum_lag_on_failover`, the TTL) come from the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// A member's `dcs_last_seen` older than this many seconds: it cannot reach etcd.
    pub dcs_last_seen_secs: u64,
    /// Maintenance mode on for longer than this many seconds.
    pub paused_secs: u64,
    /// A PostgreSQL restart stays a finding this many seconds.
    pub restarted_secs: u64,
    /// A replication slot retaining more WAL than this many bytes (the leader's position
    /// minus the slot's, from the `status` key).
    pub slot_retained_bytes: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            dcs_last_seen_secs: 60,
            paused_secs: 3600,
            restarted_secs: 300,
            slot_retained_bytes: 1 << 30,
        }
    }
}

/// Everything a rule reads, gathered once per evaluation.
pub struct Facts<'a> {
    pub model: &'a Model,
    pub c: &'a ClusterState,
    pub th: &'a Thresholds,
    /// The rows of the members rules look at (see the module's cost note), by name.
    pub rows: BTreeMap<String, MemberRow>,
    /// The leader's row, if it has a key.
    pub leader: Option<&'a str>,
    /// Members whose PostgreSQL restarted within the window, with when it started: one
    /// pass over the event log per evaluation, not one per member row.
    pub restarts: HashMap<&'a str, &'a str>,
}

impl Facts<'_> {
    fn leader_row(&self) -> Option<&MemberRow> {
        self.rows.get(self.leader?)
    }
    fn fresh(&self, name: &str) -> Option<&crate::patroni::PatroniStatus> {
        self.c.rest.get(name)?.fresh(
            self.model.now,
            members::rest_max_age(self.model.rest_interval),
        )
    }
}

type ClusterCheck = fn(&Facts) -> Vec<(Subject, String)>;
type MemberCheck = fn(&Facts, &MemberRow) -> Option<String>;

/// How a rule looks at the cluster: once, or once per member row.
#[derive(Clone, Copy)]
pub enum Check {
    Cluster(ClusterCheck),
    Member(MemberCheck),
}

/// One health rule.
#[derive(Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// What it means, for the docs and the help (`patrol check --rules`).
    pub about: &'static str,
    /// Raised only once the condition has held this long (a transition Patroni finishes
    /// within a loop is not a finding).
    pub after: Duration,
    pub remedy: Option<Remedy>,
    pub check: Check,
}

const NOW: Duration = Duration::ZERO;

/// Every rule, in the order the docs list them.
pub const RULES: &[Rule] = &[
    Rule {
        id: "no-leader",
        severity: Severity::Critical,
        about: "no member holds the leader key",
        after: NOW,
        remedy: None,
        check: Check::Cluster(no_leader),
    },
    Rule {
        id: "leader-rest-down",
        severity: Severity::Critical,
        about: "the leader's REST API does not answer while it holds the lock",
        after: NOW,
        remedy: Some(Remedy::Logs),
        check: Check::Cluster(leader_rest_down),
    },
    Rule {
        id: "lock-not-renewed",
        severity: Severity::Critical,
        about: "under a third of the leader lock's TTL is left: Patroni is not renewing it",
        after: NOW,
        remedy: None,
        check: Check::Cluster(lock_not_renewed),
    },
    Rule {
        id: "two-primaries",
        severity: Severity::Critical,
        about: "more than one member claims to be primary (leader key, DCS role, REST role)",
        after: Duration::from_secs(3),
        remedy: None,
        check: Check::Cluster(two_primaries),
    },
    Rule {
        id: "member-gone",
        severity: Severity::Warning,
        about: "a member's key is gone from etcd (stopped, crashed or removed)",
        after: NOW,
        remedy: Some(Remedy::Logs),
        check: Check::Member(member_gone),
    },
    Rule {
        id: "member-not-running",
        severity: Severity::Warning,
        about: "a member is stopped, restarting, starting or crashed",
        after: NOW,
        remedy: Some(Remedy::Logs),
        check: Check::Member(member_not_running),
    },
    Rule {
        id: "rest-unreachable",
        severity: Severity::Warning,
        about: "a replica's REST API does not answer (TLS failures say why)",
        after: NOW,
        remedy: Some(Remedy::Logs),
        check: Check::Member(rest_unreachable),
    },
    Rule {
        id: "role-disagrees",
        severity: Severity::Warning,
        about: "the member's own role (REST) disagrees with the leader key",
        after: Duration::from_secs(5),
        remedy: None,
        check: Check::Member(role_disagrees),
    },
    Rule {
        id: "state-disagrees",
        severity: Severity::Warning,
        about: "REST and the member key disagree on state or timeline for longer than a loop",
        after: Duration::from_secs(15),
        remedy: None,
        check: Check::Member(state_disagrees),
    },
    Rule {
        id: "not-replicating",
        severity: Severity::Warning,
        about: "a replica says `streaming` but the leader's replication list lacks it",
        after: Duration::from_secs(5),
        remedy: None,
        check: Check::Member(not_replicating),
    },
    Rule {
        id: "timeline-ahead",
        severity: Severity::Critical,
        about: "a member is on a timeline ahead of the leader's (a fork: reinit it)",
        after: Duration::from_secs(5),
        remedy: Some(Remedy::Reinit),
        check: Check::Member(timeline_ahead),
    },
    Rule {
        id: "history-diverged",
        severity: Severity::Critical,
        about: "a replica on an older timeline than the leader's has replayed past the point where the leader's history (`history` key) left that timeline: it forked and needs pg_rewind or a reinit",
        after: Duration::from_secs(5),
        remedy: Some(Remedy::Reinit),
        check: Check::Cluster(history_diverged),
    },
    Rule {
        id: "dcs-last-seen-old",
        severity: Severity::Warning,
        about: "a member's Patroni last reached etcd long ago (`dcs_last_seen`)",
        after: NOW,
        remedy: Some(Remedy::Logs),
        check: Check::Member(dcs_last_seen_old),
    },
    Rule {
        id: "lag-over-limit",
        severity: Severity::Warning,
        about: "receive or replay lag over `maximum_lag_on_failover`",
        after: NOW,
        remedy: None,
        check: Check::Member(lag_over_limit),
    },
    Rule {
        id: "sync-standby-missing",
        severity: Severity::Warning,
        about: "synchronous mode without a healthy synchronous standby",
        after: Duration::from_secs(5),
        remedy: None,
        check: Check::Cluster(sync_missing_lenient),
    },
    Rule {
        id: "sync-strict-blocked",
        severity: Severity::Critical,
        about: "synchronous_mode_strict without a healthy synchronous standby: writes are blocked",
        after: Duration::from_secs(5),
        remedy: None,
        check: Check::Cluster(sync_missing_strict),
    },
    Rule {
        id: "quorum-no-margin",
        severity: Severity::Warning,
        about: "synchronous_mode quorum: one more member lost and commits stop",
        after: Duration::from_secs(5),
        remedy: None,
        check: Check::Cluster(quorum_margin),
    },
    Rule {
        id: "failsafe-active",
        severity: Severity::Critical,
        about: "failsafe mode is active (`/patroni` `failsafe_mode_is_active`): Patroni cannot reach etcd and the primary runs without the leader lock; no failover can happen while it lasts",
        after: NOW,
        remedy: None,
        check: Check::Cluster(failsafe_active),
    },
    Rule {
        id: "failsafe-missing",
        severity: Severity::Warning,
        about: "failsafe mode on, and members are missing from the `failsafe` key",
        after: Duration::from_secs(15),
        remedy: None,
        check: Check::Cluster(failsafe_missing),
    },
    Rule {
        id: "slot-retains-much",
        severity: Severity::Warning,
        about: "a replication slot on the leader retains more WAL than `[check] slot_retained_bytes` (leader position minus slot position, `status` key)",
        after: NOW,
        remedy: None,
        check: Check::Cluster(slot_retains_much),
    },
    Rule {
        id: "slot-orphan",
        severity: Severity::Warning,
        about: "a replication slot on the leader belongs to no member and is not a permanent slot (Patroni keeps a gone member's for `member_slots_ttl`): it retains WAL for nobody",
        after: Duration::from_secs(15),
        remedy: None,
        check: Check::Cluster(slot_orphan),
    },
    Rule {
        id: "pending-restart",
        severity: Severity::Warning,
        about: "a member needs a restart for a parameter change",
        after: NOW,
        remedy: Some(Remedy::Restart),
        check: Check::Member(pending_restart),
    },
    Rule {
        id: "postgres-restarted",
        severity: Severity::Warning,
        about: "PostgreSQL restarted (its postmaster start time changed) recently",
        after: NOW,
        remedy: Some(Remedy::Logs),
        check: Check::Member(restarted),
    },
    Rule {
        id: "paused-long",
        severity: Severity::Warning,
        about: "maintenance mode (pause) on for longer than the threshold",
        after: NOW,
        remedy: None,
        check: Check::Cluster(paused_long),
    },
    Rule {
        id: "switchover-target-ineligible",
        severity: Severity::Warning,
        about: "a scheduled switchover names a member that is not eligible now",
        after: Duration::from_secs(5),
        remedy: Some(Remedy::Flush),
        check: Check::Cluster(switchover_ineligible),
    },
    Rule {
        id: "routing-rw",
        severity: Severity::Critical,
        about: "HAProxy's read-write listener does not route to exactly the leader, for longer than its check window (inter × rise/fall)",
        after: NOW,
        remedy: None,
        check: Check::Cluster(routing_rw),
    },
    Rule {
        id: "routing-ro",
        severity: Severity::Warning,
        about: "an HAProxy read-only listener routes to a member that is not a healthy replica (or nowhere while one is), for longer than its check window",
        after: NOW,
        remedy: None,
        check: Check::Cluster(routing_ro),
    },
    Rule {
        id: "haproxy-down",
        severity: Severity::Warning,
        about: "a configured HAProxy's stats do not answer: what clients reach is unknown",
        after: Duration::from_secs(5),
        remedy: None,
        check: Check::Cluster(haproxy_down),
    },
    Rule {
        id: "version-skew",
        severity: Severity::Warning,
        about: "members run different Patroni or PostgreSQL major versions",
        after: NOW,
        remedy: None,
        check: Check::Cluster(version_skew),
    },
    Rule {
        id: "etcd-endpoint-down",
        severity: Severity::Warning,
        about: "an etcd endpoint does not answer its status request",
        after: NOW,
        remedy: None,
        check: Check::Cluster(etcd_endpoint_down),
    },
    Rule {
        id: "etcd-no-quorum",
        severity: Severity::Critical,
        about: "etcd's members answer but none has a raft leader",
        after: NOW,
        remedy: None,
        check: Check::Cluster(etcd_no_quorum),
    },
    Rule {
        id: "etcd-stale",
        severity: Severity::Critical,
        about: "the data shown is older than etcd lets patrol know (etcd down or silent)",
        after: NOW,
        remedy: None,
        check: Check::Cluster(etcd_stale),
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// One rule's condition holding for one subject, now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule: &'static str,
    pub severity: Severity,
    pub subject: Subject,
    /// Built from the facts (names and values from etcd/REST: sanitize to draw).
    pub message: String,
}

/// The members rules look at: the leader, the synchronous standbys, the polled members
/// and the gone ones (bounded: see the module's cost note).
fn subjects(model: &Model, c: &ClusterState) -> BTreeSet<String> {
    let mut s: BTreeSet<String> = c.leader.iter().cloned().collect();
    s.extend(c.sync.iter().flat_map(|s| s.sync_standby.iter().cloned()));
    s.extend(model.polled().iter().map(|(m, _)| m.clone()));
    s.extend(c.gone.keys().cloned());
    s
}

/// Every rule over the cluster on screen, now. Pure.
pub fn evaluate(model: &Model, th: &Thresholds) -> Vec<Hit> {
    judge(model, th).hits
}

/// The rules' hits, and the facts shown beside them.
#[derive(Default)]
struct Judged {
    hits: Vec<Hit>,
    slots: Vec<SlotFact>,
    tls: Vec<(String, String)>,
}

/// The rules' hits, and the facts the screen shows beside them (the leader's slots, the
/// members whose REST API refused the handshake).
fn judge(model: &Model, th: &Thresholds) -> Judged {
    let Some(c) = model.cluster() else {
        return Judged::default();
    };
    let rows = subjects(model, c)
        .into_iter()
        .filter_map(|n| {
            let r = members::member_row(c, &n, model.now, model.rest_interval)?;
            Some((n, r))
        })
        .collect();
    let f = Facts {
        model,
        c,
        th,
        rows,
        leader: c.leader.as_deref(),
        restarts: restarts(model, th),
    };
    let mut out = Vec::new();
    for rule in RULES {
        match rule.check {
            Check::Cluster(check) => {
                out.extend(check(&f).into_iter().map(|(subject, message)| Hit {
                    rule: rule.id,
                    severity: rule.severity,
                    subject,
                    message,
                }))
            }
            Check::Member(check) => out.extend(f.rows.values().filter_map(|r| {
                check(&f, r).map(|message| Hit {
                    rule: rule.id,
                    severity: rule.severity,
                    subject: Subject::Member(r.name.clone()),
                    message,
                })
            })),
        }
    }
    Judged {
        hits: out,
        slots: slots(c, &f.rows),
        tls: tls_failures(f.rows.values()),
    }
}

/// Members whose REST API refused the handshake, one entry per distinct reason: (who,
/// `REST TLS: …`). A certificate problem is the configuration's, and the API column's `✗`
/// does not say why. Over the rows the rules look at (every polled member).
pub fn tls_failures<'a>(rows: impl Iterator<Item = &'a MemberRow>) -> Vec<(String, String)> {
    let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in rows {
        if let RestHealth::Unreachable { error, .. } = &r.rest
            && error.starts_with("TLS: ")
        {
            by_reason.entry(error).or_default().push(&r.name);
        }
    }
    by_reason
        .into_iter()
        .map(|(why, names)| {
            // the member count is etcd's: name a few
            let mut who = names.iter().take(4).copied().collect::<Vec<_>>().join(", ");
            if names.len() > 4 {
                who.push_str(&format!(" +{}", names.len() - 4));
            }
            (who, format!("REST {why}"))
        })
        .collect()
}

// ---------------------------------------------------------------- the rules' conditions

fn no_leader(f: &Facts) -> Vec<(Subject, String)> {
    if f.leader.is_some() || !f.model.loaded {
        return Vec::new();
    }
    vec![(
        Subject::Cluster,
        "no leader: nobody holds the leader key".into(),
    )]
}

fn leader_rest_down(f: &Facts) -> Vec<(Subject, String)> {
    let Some(l) = f.leader_row() else {
        return Vec::new();
    };
    let RestHealth::Unreachable { error, .. } = &l.rest else {
        return Vec::new();
    };
    let mut m = format!(
        "leader {} holds the lock but its REST API fails ({error})",
        l.name
    );
    if let Some((left, _)) = f.model.lock_left() {
        m.push_str(&format!("; the lock expires in {left}s"));
    }
    vec![(Subject::Member(l.name.clone()), m)]
}

fn lock_not_renewed(f: &Facts) -> Vec<(Subject, String)> {
    let (Some(l), Some((left, granted))) = (f.leader, f.model.lock_left()) else {
        return Vec::new();
    };
    if granted > 0 && left.saturating_mul(3) < granted {
        return vec![(
            Subject::Member(l.to_string()),
            format!("{l}'s leader lock is not renewed: {left}s of {granted}s left"),
        )];
    }
    Vec::new()
}

fn claims_primary(r: &MemberRow) -> bool {
    matches!(r.own_role.as_deref(), Some("primary" | "master"))
}

fn two_primaries(f: &Facts) -> Vec<(Subject, String)> {
    let mut who: Vec<&str> = f
        .rows
        .values()
        .filter(|r| r.gone.is_none())
        .filter(|r| claims_primary(r) || (r.role.is_leader() && r.own_role.is_none()))
        .map(|r| r.name.as_str())
        .collect();
    if let Some(l) = f.leader
        && !who.contains(&l)
    {
        who.push(l);
    }
    if who.len() < 2 {
        return Vec::new();
    }
    who.sort_unstable();
    vec![(
        Subject::Cluster,
        format!(
            "{} members claim to be primary: {}",
            who.len(),
            who.join(", ")
        ),
    )]
}

fn member_gone(_: &Facts, r: &MemberRow) -> Option<String> {
    r.gone
        .map(|_| format!("{} gone (member key left etcd)", r.name))
}

/// Is a member's state one Patroni reports for a working member? (The table colours the
/// state by it; `member-not-running` raises the others.)
pub fn state_ok(state: &str) -> bool {
    matches!(state, "running" | "streaming")
}

fn member_not_running(_: &Facts, r: &MemberRow) -> Option<String> {
    if r.gone.is_some() || state_ok(&r.state) || r.state.is_empty() {
        return None;
    }
    Some(format!("{} {}", r.name, r.state))
}

fn rest_unreachable(f: &Facts, r: &MemberRow) -> Option<String> {
    if Some(r.name.as_str()) == f.leader || r.gone.is_some() {
        return None;
    }
    match &r.rest {
        RestHealth::Unreachable { error, .. } => {
            Some(format!("{}: REST API unreachable ({error})", r.name))
        }
        _ => None,
    }
}

fn role_disagrees(f: &Facts, r: &MemberRow) -> Option<String> {
    f.fresh(&r.name)?;
    let own = r.own_role.as_deref()?;
    let own_leads = matches!(own, "primary" | "master" | "standby_leader");
    if own_leads == r.role.is_leader() {
        return None;
    }
    Some(format!(
        "{}: says it is {own}, the leader key says {}",
        r.name,
        if r.role.is_leader() {
            "it leads"
        } else {
            "it does not lead"
        }
    ))
}

fn state_disagrees(f: &Facts, r: &MemberRow) -> Option<String> {
    let rest = f.fresh(&r.name)?;
    let key = f.c.members.get(&r.name)?;
    let mut diff = Vec::new();
    if let (Some(a), Some(b)) = (&rest.state, &key.state)
        && a != b
    {
        diff.push(format!("state {a} (REST) vs {b} (etcd)"));
    }
    if let (Some(a), Some(b)) = (rest.timeline, key.timeline)
        && a != b
    {
        diff.push(format!("timeline {a} (REST) vs {b} (etcd)"));
    }
    (!diff.is_empty()).then(|| format!("{}: {}", r.name, diff.join(", ")))
}

fn not_replicating(f: &Facts, r: &MemberRow) -> Option<String> {
    if r.role.is_leader() {
        return None;
    }
    let mine = f.fresh(&r.name)?;
    if mine.replication_state.as_deref() != Some("streaming") {
        return None;
    }
    let leader = f.fresh(f.leader?)?;
    let listed = leader
        .replication
        .iter()
        .any(|c| c.application_name.as_deref() == Some(r.name.as_str()));
    (!listed).then(|| {
        format!(
            "{} says it is streaming, but the leader's replication list lacks it",
            r.name
        )
    })
}

fn timeline_ahead(f: &Facts, r: &MemberRow) -> Option<String> {
    let leader_tl = f.leader_row()?.timeline?;
    let tl = r.timeline?;
    (r.gone.is_none() && !r.role.is_leader() && tl > leader_tl).then(|| {
        format!(
            "{} is on timeline {tl}, ahead of the leader's {leader_tl}: it forked",
            r.name
        )
    })
}

/// Patroni's own test before it rewinds (`Rewind._check_timeline_and_lsn`, a replica):
/// walking the leader's history, the row of the replica's timeline says where the leader
/// left it; replayed beyond that point, the replica forked. A row of a later timeline
/// first: its timeline is not in the leader's history at all. Not found (the key trimmed
/// by `max_timelines_history`, or missing): nothing is said. The history is walked only
/// when a replica is on an older timeline than the leader's, once per evaluation.
fn history_diverged(f: &Facts) -> Vec<(Subject, String)> {
    let Some(leader_tl) = f.leader_row().and_then(|l| l.timeline) else {
        return Vec::new();
    };
    let behind: Vec<(&str, u64, u64)> = f
        .rows
        .values()
        .filter(|r| r.gone.is_none() && !r.role.is_leader())
        .filter_map(|r| {
            let s = f.fresh(&r.name)?;
            let tl = s.timeline.filter(|t| *t < leader_tl)?;
            Some((r.name.as_str(), tl, s.xlog.replayed_location?))
        })
        .collect();
    if behind.is_empty() {
        return Vec::new();
    }
    behind
        .into_iter()
        .filter_map(|(name, tl, replayed)| {
            let row = f.c.history.iter().find(|h| h.timeline >= tl)?;
            let m = if row.timeline > tl {
                format!(
                    "{name} is on timeline {tl}, which the leader's history does not contain: it forked (pg_rewind or reinit)"
                )
            } else if replayed > row.lsn {
                format!(
                    "{name} replayed to {} on timeline {tl}, past where the leader's history left it ({}): it forked (pg_rewind or reinit)",
                    crate::dcs::keys::format_lsn(replayed),
                    crate::dcs::keys::format_lsn(row.lsn)
                )
            } else {
                return None;
            };
            Some((Subject::Member(name.to_string()), m))
        })
        .collect()
}

fn dcs_last_seen_old(f: &Facts, r: &MemberRow) -> Option<String> {
    let seen = f.fresh(&r.name)?.dcs_last_seen?;
    let now = f.model.wall_now_unix()?;
    let age = now.saturating_sub(seen);
    (age > f.th.dcs_last_seen_secs)
        .then(|| format!("{}: Patroni last reached etcd {age}s ago", r.name))
}

/// The larger of a row's receive and replay lag, when either is known.
pub fn worst_lag(r: &MemberRow) -> Option<u64> {
    r.receive_lag.max(r.replay_lag)
}

fn lag_over_limit(f: &Facts, r: &MemberRow) -> Option<String> {
    if r.role.is_leader() || r.gone.is_some() {
        return None;
    }
    let max = crate::dcs::keys::maximum_lag_on_failover(f.c.config.as_ref());
    let lag = worst_lag(r)?;
    (lag > max).then(|| {
        format!(
            "{} lags {} (maximum_lag_on_failover {})",
            r.name,
            members::human_bytes(lag),
            members::human_bytes(max)
        )
    })
}

/// `synchronous_mode_strict` from the dynamic config (not a typed field of it).
fn strict(c: &ClusterState) -> bool {
    c.config.as_ref().is_some_and(|k| {
        k.raw
            .get("synchronous_mode_strict")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    })
}

fn healthy_standby(f: &Facts, name: &str) -> bool {
    f.rows.get(name).is_some_and(|r| {
        r.gone.is_none()
            && matches!(r.state.as_str(), "running" | "streaming")
            && !matches!(r.rest, RestHealth::Unreachable { .. })
    })
}

fn sync_missing(f: &Facts, want_strict: bool) -> Vec<(Subject, String)> {
    let mode = f.c.config.as_ref().map(|k| k.synchronous_mode);
    if mode != Some(SyncMode::On) || f.leader.is_none() || strict(f.c) != want_strict {
        return Vec::new();
    }
    let named: Vec<&String> = f.c.sync.iter().flat_map(|s| &s.sync_standby).collect();
    if named.iter().any(|n| healthy_standby(f, n)) {
        return Vec::new();
    }
    let m = if want_strict {
        "synchronous_mode_strict and no healthy synchronous standby: writes are blocked"
    } else {
        "synchronous mode without a healthy synchronous standby: commits are not confirmed by any replica"
    };
    vec![(Subject::Cluster, m.to_string())]
}

fn sync_missing_lenient(f: &Facts) -> Vec<(Subject, String)> {
    sync_missing(f, false)
}

fn sync_missing_strict(f: &Facts) -> Vec<(Subject, String)> {
    sync_missing(f, true)
}

fn quorum_margin(f: &Facts) -> Vec<(Subject, String)> {
    let mode = f.c.config.as_ref().map(|k| k.synchronous_mode);
    let Some(sync) = f.c.sync.as_ref() else {
        return Vec::new();
    };
    if mode != Some(SyncMode::Quorum) || f.leader.is_none() {
        return Vec::new();
    }
    let need = sync.quorum.unwrap_or(1);
    let healthy = sync
        .sync_standby
        .iter()
        .filter(|n| healthy_standby(f, n))
        .count() as u64;
    let may_fail = healthy.saturating_sub(need);
    if may_fail > 0 {
        return Vec::new();
    }
    vec![(
        Subject::Cluster,
        format!(
            "quorum commit needs {need} of the standbys, {healthy} are healthy: {}",
            if healthy < need {
                "commits are blocked"
            } else {
                "one more lost and commits stop"
            }
        ),
    )]
}

fn failsafe_active(f: &Facts) -> Vec<(Subject, String)> {
    let said: Vec<(&str, bool)> = f
        .rows
        .keys()
        .filter_map(|n| {
            let s = f.fresh(n)?;
            let primary = matches!(s.role.as_deref(), Some("primary" | "master"));
            s.failsafe_mode_is_active.then_some((n.as_str(), primary))
        })
        .collect();
    if said.is_empty() {
        return Vec::new();
    }
    let who: Vec<&str> = said.iter().map(|(n, _)| *n).collect();
    let m = match said.iter().find(|(_, p)| *p) {
        Some((p, _)) => format!(
            "failsafe mode active: {p} stays primary without the leader lock (Patroni cannot reach etcd; every member of the failsafe key answered it){}",
            if who.len() > 1 {
                format!("; said by {}", who.join(", "))
            } else {
                String::new()
            }
        ),
        None => format!(
            "failsafe mode active (said by {}): the primary runs without the leader lock",
            who.join(", ")
        ),
    };
    vec![(Subject::Cluster, m)]
}

fn failsafe_missing(f: &Facts) -> Vec<(Subject, String)> {
    let on = f.c.config.as_ref().is_some_and(|k| {
        k.raw
            .get("failsafe_mode")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    });
    let Some(fs) = f.c.failsafe.as_ref().filter(|_| on) else {
        return Vec::new();
    };
    let missing: Vec<&str> = f
        .rows
        .values()
        .filter(|r| r.gone.is_none() && !fs.contains_key(&r.name))
        .map(|r| r.name.as_str())
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    vec![(
        Subject::Cluster,
        format!(
            "failsafe mode is on; missing from the failsafe key: {}",
            missing.join(", ")
        ),
    )]
}

/// Patroni's `slot_name_from_member_name`: lower case, `-` and `.` as `_`, any other
/// character outside `[a-z0-9_]` as `u` and its code point in four decimal digits, cut to
/// 63 characters.
pub fn slot_name(member: &str) -> String {
    let mut out = String::new();
    for c in member.to_lowercase().chars() {
        match c {
            'a'..='z' | '0'..='9' | '_' => out.push(c),
            '-' | '.' => out.push('_'),
            c => out.push_str(&format!("u{:04}", u32::from(c))),
        }
    }
    out.chars().take(63).collect()
}

/// Whom a slot of the leader serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotOwner {
    /// A member with a key (its name).
    Member(String),
    /// A permanent slot of the dynamic config (`slots` / `permanent_slots`).
    Permanent,
    /// A member whose key left etcd in this session (its name).
    Gone(String),
    /// No member's and no permanent slot.
    Nobody,
    /// Not known without looking at every member key (more members than patrol looks at).
    Unknown,
}

/// One replication slot of the leader, from the `status` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotFact {
    /// Sanitized when read (`dcs::keys::MAX_SLOTS` of them at most).
    pub name: String,
    /// The WAL it retains: the leader's position minus the slot's, both from the same
    /// `status` write (None: no leader position in it).
    pub retains: Option<u64>,
    pub owner: SlotOwner,
}

fn permanent_slot(c: &ClusterState, name: &str) -> bool {
    c.config.as_ref().is_some_and(|k| {
        ["slots", "permanent_slots"]
            .iter()
            .any(|key| k.raw.get(*key).and_then(|v| v.get(name)).is_some())
    })
}

/// The leader's slots with what each retains and whose it is. Bounded: the status key's
/// slots are at most `dcs::keys::MAX_SLOTS`, and an owner is looked up by name, then among
/// the rows the rules look at (the module's cost note), never across every member key.
pub fn slots(c: &ClusterState, rows: &BTreeMap<String, MemberRow>) -> Vec<SlotFact> {
    let Some(st) = c.status.as_ref() else {
        return Vec::new();
    };
    let looked_at_all = c.members.len() <= rows.values().filter(|r| r.gone.is_none()).count();
    st.slots
        .iter()
        .map(|(name, pos)| {
            let owner = if c.members.contains_key(name) {
                SlotOwner::Member(name.clone())
            } else if permanent_slot(c, name) {
                SlotOwner::Permanent
            } else if let Some(r) = rows.values().find(|r| slot_name(&r.name) == *name) {
                match r.gone {
                    Some(_) => SlotOwner::Gone(r.name.clone()),
                    None => SlotOwner::Member(r.name.clone()),
                }
            } else if looked_at_all {
                SlotOwner::Nobody
            } else {
                SlotOwner::Unknown
            };
            SlotFact {
                name: name.clone(),
                retains: st.optime.map(|o| o.saturating_sub(*pos)),
                owner,
            }
        })
        .collect()
}

fn slot_retains_much(f: &Facts) -> Vec<(Subject, String)> {
    let limit = f.th.slot_retained_bytes;
    slots(f.c, &f.rows)
        .into_iter()
        .filter_map(|s| {
            let r = s.retains.filter(|r| *r > limit)?;
            Some((
                Subject::Slot(s.name.clone()),
                format!(
                    "slot {} retains {} of WAL on the leader (over {})",
                    s.name,
                    members::human_bytes(r),
                    members::human_bytes(limit)
                ),
            ))
        })
        .collect()
}

fn slot_orphan(f: &Facts) -> Vec<(Subject, String)> {
    slots(f.c, &f.rows)
        .into_iter()
        .filter_map(|s| {
            let whose = match &s.owner {
                SlotOwner::Gone(m) => format!("{m}'s key left etcd"),
                SlotOwner::Nobody => "no member has this slot's name".to_string(),
                _ => return None,
            };
            let retains = s
                .retains
                .map(|r| format!(", retains {}", members::human_bytes(r)))
                .unwrap_or_default();
            Some((
                Subject::Slot(s.name.clone()),
                format!("slot {} belongs to no member ({whose}){retains}", s.name),
            ))
        })
        .collect()
}

fn pending_restart(_: &Facts, r: &MemberRow) -> Option<String> {
    if !r.pending_restart || r.gone.is_some() {
        return None;
    }
    let mut m = format!("{}: pending restart", r.name);
    if !r.pending_restart_reason.is_empty() {
        m.push_str(&format!(" ({})", r.pending_restart_reason.join(", ")));
    }
    Some(m)
}

fn restarted(f: &Facts, r: &MemberRow) -> Option<String> {
    let at = f.restarts.get(r.name.as_str())?;
    Some(format!("{}: PostgreSQL restarted (started {at})", r.name))
}

/// Each member's latest restart within the window (the newest event wins).
fn restarts<'a>(model: &'a Model, th: &Thresholds) -> HashMap<&'a str, &'a str> {
    let window = Duration::from_secs(th.restarted_secs);
    let mut out = HashMap::new();
    for e in model
        .events
        .iter()
        .rev()
        .take_while(|e| model.now.saturating_duration_since(e.at) < window)
    {
        if let super::events::EventKind::Restarted { member, at } = &e.kind {
            out.entry(member.as_str()).or_insert(at.as_str());
        }
    }
    out
}

fn paused_long(f: &Facts) -> Vec<(Subject, String)> {
    if !f.c.is_paused() {
        return Vec::new();
    }
    let limit = Duration::from_secs(f.th.paused_secs);
    let now = f.model.now;
    // since when: the event that said so; unknown (paused before patrol started) counts
    // from the start
    let since = f
        .model
        .events
        .iter()
        .rev()
        .find(|e| matches!(e.kind, super::events::EventKind::Paused(true)))
        .map_or(f.model.started(), |e| e.at);
    let d = now.saturating_duration_since(since);
    if d <= limit {
        return Vec::new();
    }
    vec![(
        Subject::Cluster,
        format!(
            "maintenance mode on for at least {}: Patroni does not fail over",
            members::human_age(d)
        ),
    )]
}

fn switchover_ineligible(f: &Facts) -> Vec<(Subject, String)> {
    let Some(to) = f.c.failover.as_ref().and_then(|fo| fo.member.as_deref()) else {
        return Vec::new();
    };
    // the same prediction the dialog and the detail view judge against (made here only
    // while a switchover is scheduled)
    let (now, interval) = (f.model.now, f.model.rest_interval);
    let ranking = super::election::of(f.c, now, interval);
    let c = super::checks::candidate(f.c, to, now, interval, &ranking);
    match c {
        Some(c) if c.eligible() => Vec::new(),
        Some(c) => vec![(
            Subject::Cluster,
            format!(
                "the scheduled switchover's target {to} is not eligible: {}",
                c.reasons.join("; ")
            ),
        )],
        None => vec![(
            Subject::Cluster,
            format!("the scheduled switchover's target {to} is not a replica now"),
        )],
    }
}

/// The routing findings of one kind (`routing::problems`: each listener as HAProxy's last
/// stats showed it, once its check window has passed). A listener that only leaves out a
/// healthy replica is shown in the routing view, not raised.
fn routing_of(f: &Facts, want: Option<Purpose>) -> Vec<(Subject, String)> {
    if !f.model.routing.configured() {
        return Vec::new();
    }
    f.model
        .routing_problems()
        .into_iter()
        .filter(|p| p.purpose == want && p.severity > RoutingSeverity::Info)
        .map(|p| {
            let subject = if p.listener.is_empty() {
                p.haproxy
            } else {
                format!("{} {}", p.haproxy, p.listener)
            };
            (Subject::Haproxy(subject), p.message)
        })
        .collect()
}

fn routing_rw(f: &Facts) -> Vec<(Subject, String)> {
    routing_of(f, Some(Purpose::ReadWrite))
}

fn routing_ro(f: &Facts) -> Vec<(Subject, String)> {
    routing_of(f, Some(Purpose::ReadOnly))
}

fn haproxy_down(f: &Facts) -> Vec<(Subject, String)> {
    routing_of(f, None)
}

fn version_skew(f: &Facts) -> Vec<(Subject, String)> {
    let mut patroni: BTreeSet<String> = BTreeSet::new();
    let mut pg: BTreeSet<u64> = BTreeSet::new();
    for name in f.rows.keys() {
        if let Some(s) = f.fresh(name) {
            if let Some(v) = &s.patroni.version {
                patroni.insert(v.clone());
            }
            // PostgreSQL 10 and later: the major version is server_version / 10000
            if let Some(v) = s.server_version {
                pg.insert(v / 10000);
            }
        }
    }
    let mut parts = Vec::new();
    if patroni.len() > 1 {
        parts.push(format!(
            "Patroni {}",
            patroni.into_iter().collect::<Vec<_>>().join(" / ")
        ));
    }
    if pg.len() > 1 {
        let v: Vec<String> = pg.into_iter().map(|v| v.to_string()).collect();
        parts.push(format!("PostgreSQL {}", v.join(" / ")));
    }
    if parts.is_empty() {
        return Vec::new();
    }
    vec![(
        Subject::Cluster,
        format!("version skew: {}", parts.join(", ")),
    )]
}

fn etcd_endpoint_down(f: &Facts) -> Vec<(Subject, String)> {
    if f.model.rest_only.mode == super::rest_only::Mode::Explicit {
        return Vec::new();
    }
    f.model
        .endpoints_state()
        .into_iter()
        .filter_map(|e| {
            let why = e.result.err()?;
            let ep = crate::text::redact_url(&e.endpoint);
            let short = super::model::short_reason(&why);
            Some((
                Subject::Etcd(ep.clone()),
                format!("etcd {ep} down ({short})"),
            ))
        })
        .collect()
}

fn etcd_no_quorum(f: &Facts) -> Vec<(Subject, String)> {
    match f.model.etcd_no_quorum() {
        Some((answering, asked)) => vec![(
            Subject::Cluster,
            format!("etcd has no quorum: {answering} of {asked} members answer, none has a leader"),
        )],
        None => Vec::new(),
    }
}

fn etcd_stale(f: &Facts) -> Vec<(Subject, String)> {
    if !f.model.loaded || f.model.rest_only.mode == super::rest_only::Mode::Explicit {
        return Vec::new();
    }
    match f.model.stale_for() {
        // a fresh REST-only answer is the state now
        Some(_) if f.model.rest_only_fresh() => Vec::new(),
        Some(age) => vec![(
            Subject::Cluster,
            format!("etcd data is {} old", members::human_age(age)),
        )],
        None => Vec::new(),
    }
}

// ------------------------------------------------------------------ findings over time

/// One active finding: a rule's condition that has held since `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub subject: Subject,
    pub message: String,
    /// Model time when the condition became true (before the rule's `after`, if any).
    pub since: Instant,
    pub remedy: Option<Remedy>,
}

/// A raise or a clear, for the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub raised: bool,
}

type Key = (&'static str, Subject);

/// What is active, since when, between evaluations (held by the app beside `Judgement`).
#[derive(Debug, Clone, Default)]
pub struct Health {
    pub thresholds: Thresholds,
    /// Active findings, worst first (then oldest first).
    findings: Vec<Finding>,
    /// Conditions that hold but whose rule waits (`after`): since when.
    pending: BTreeMap<Key, Instant>,
    last: Option<Instant>,
    /// The leader's replication slots as of the last evaluation (the Health view's facts).
    slots: Vec<SlotFact>,
    /// Members whose REST API refused the handshake, by reason (the header's warnings).
    tls: Vec<(String, String)>,
    /// How many evaluations ran (tests count them).
    pub evaluations: u64,
    /// An evaluation was asked for inside the interval and skipped: it is owed at the
    /// interval's end (or a failure seen then waits for the next message or tick, ~1 s).
    owed: bool,
}

impl Health {
    /// At most this often: a burst of messages is judged once per interval.
    pub const EVERY: Duration = Duration::from_millis(200);
    /// The findings a screen lists; the rest are counted ("and K more").
    pub const SHOWN: usize = 64;

    pub fn new(thresholds: Thresholds) -> Health {
        Health {
            thresholds,
            ..Default::default()
        }
    }

    /// Active findings, worst first.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The leader's replication slots with the WAL each retains, as last judged.
    pub fn slots(&self) -> &[SlotFact] {
        &self.slots
    }

    /// Members whose REST API refused the handshake: (who, why), one per reason.
    pub fn tls_failures(&self) -> &[(String, String)] {
        &self.tls
    }

    pub fn worst(&self) -> Option<Severity> {
        self.findings.first().map(|f| f.severity)
    }

    /// Is a rule active (for any subject)?
    pub fn active(&self, rule: &str) -> bool {
        self.findings.iter().any(|f| f.rule == rule)
    }

    /// The worst finding about this member.
    pub fn of_member(&self, name: &str) -> Option<&Finding> {
        self.findings
            .iter()
            .find(|f| f.subject.member() == Some(name))
    }

    /// Is an evaluation due at `now`?
    pub fn due(&self, now: Instant) -> bool {
        self.last
            .is_none_or(|t| now.saturating_duration_since(t) >= Self::EVERY)
    }

    /// An evaluation was asked for before it was due: owe it (see [`Health::owed_at`]).
    pub fn owe(&mut self) {
        self.owed = true;
    }

    /// When the skipped evaluation is due, if one was skipped since the last.
    pub fn owed_at(&self) -> Option<Instant> {
        if !self.owed {
            return None;
        }
        self.last.map(|t| t + Self::EVERY)
    }

    /// Evaluate the rules over `model` and bring the findings up to date. Returns the
    /// raises and clears, and whether anything shown changed (a message, a raise, a clear).
    pub fn update(&mut self, model: &Model) -> (Vec<Change>, bool) {
        let now = model.now;
        self.last = Some(now);
        self.owed = false;
        self.evaluations += 1;
        let Judged { hits, slots, tls } = judge(model, &self.thresholds);
        let slots_changed = slots != self.slots || tls != self.tls;
        self.slots = slots;
        self.tls = tls;
        let before: BTreeMap<Key, Finding> = std::mem::take(&mut self.findings)
            .into_iter()
            .map(|f| ((f.rule, f.subject.clone()), f))
            .collect();
        let mut pending = BTreeMap::new();
        let mut now_active: BTreeMap<Key, Finding> = BTreeMap::new();
        for h in hits {
            let key = (h.rule, h.subject.clone());
            let since = before
                .get(&key)
                .map(|f| f.since)
                .or_else(|| self.pending.get(&key).copied())
                .unwrap_or(now);
            let rule = rule(h.rule);
            let after = rule.map_or(Duration::ZERO, |r| r.after);
            if now.saturating_duration_since(since) < after {
                pending.insert(key, since);
                continue;
            }
            now_active.insert(
                key,
                Finding {
                    rule: h.rule,
                    severity: h.severity,
                    subject: h.subject,
                    message: h.message,
                    since,
                    remedy: rule.and_then(|r| r.remedy),
                },
            );
        }
        self.pending = pending;
        let mut changes = Vec::new();
        for (k, f) in &now_active {
            if !before.contains_key(k) {
                changes.push(Change {
                    rule: f.rule,
                    severity: f.severity,
                    message: f.message.clone(),
                    raised: true,
                });
            }
        }
        for (k, f) in &before {
            if !now_active.contains_key(k) {
                changes.push(Change {
                    rule: f.rule,
                    severity: f.severity,
                    message: f.message.clone(),
                    raised: false,
                });
            }
        }
        let shown_changed = !changes.is_empty()
            || slots_changed
            || now_active
                .iter()
                .any(|(k, f)| before.get(k).is_some_and(|b| b.message != f.message));
        let mut findings: Vec<Finding> = now_active.into_values().collect();
        // worst first, then the oldest, then in the rules' order (a stopped member before
        // its lag)
        let rank = |id: &str| RULES.iter().position(|r| r.id == id).unwrap_or(usize::MAX);
        findings.sort_by(|a, b| {
            (
                std::cmp::Reverse(a.severity),
                a.since,
                rank(a.rule),
                &a.subject,
            )
                .cmp(&(
                    std::cmp::Reverse(b.severity),
                    b.since,
                    rank(b.rule),
                    &b.subject,
                ))
        });
        self.findings = findings;
        (changes, shown_changed)
    }
}

/// Nagios' exit code for a set of findings: 0 OK, 1 WARNING, 2 CRITICAL.
pub fn nagios_code(worst: Option<Severity>) -> u8 {
    match worst {
        None => 0,
        Some(Severity::Warning) => 1,
        Some(Severity::Critical) => 2,
    }
}
