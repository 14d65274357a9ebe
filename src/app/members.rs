//! The member table, derived from a [`ClusterState`]: the same rows feed the TUI and
//! `patrol list`. Pure functions of the state and the current time.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::cluster::{ClusterState, Positions};
use crate::dcs::keys::MemberData;
use crate::dcs::keys::SyncMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Leader,
    StandbyLeader,
    SyncStandby,
    QuorumStandby,
    Replica,
}

impl Role {
    /// The label patronictl 4.1 prints.
    pub fn label(self) -> &'static str {
        match self {
            Role::Leader => "Leader",
            Role::StandbyLeader => "Standby Leader",
            Role::SyncStandby => "Sync Standby",
            Role::QuorumStandby => "Quorum Standby",
            Role::Replica => "Replica",
        }
    }
    pub fn is_leader(self) -> bool {
        matches!(self, Role::Leader | Role::StandbyLeader)
    }
}

/// Where a lag figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LagSource {
    /// Both ends from `GET /patroni`: the replica's position and the leader's sampled at
    /// or after it, at most [`pair_window`] later (see [`pair`]).
    Live,
    /// The replica's live position against the leader's last one, taken *before* it: the
    /// leader can only have moved on since, so the figure is a lower bound (`≥`).
    AtLeast,
    /// From the member keys in etcd: no live figure for this long (since the older of
    /// the replica's and the leader's last REST answers with a position; None: never one).
    /// Not the key's age: on an idle cluster Patroni leaves an unchanged key alone.
    Dcs(Option<Duration>),
}

/// How the member's REST API is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestHealth {
    Live,
    /// Not asked yet.
    Unknown,
    /// Failing; `last_ok` is how long ago it last answered (None: never).
    Unreachable {
        error: String,
        last_ok: Option<Duration>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberRow {
    pub name: String,
    /// `host:port` of PostgreSQL, from `conn_url`.
    pub host: String,
    pub port: Option<u16>,
    pub role: Role,
    /// The role the member itself last reported (live REST, else its key): `primary`,
    /// `replica` ... `role` is from the leader lock; this says whether the member agrees.
    pub own_role: Option<String>,
    pub state: String,
    pub timeline: Option<u64>,
    pub receive_lsn: Option<u64>,
    pub receive_lag: Option<u64>,
    pub replay_lsn: Option<u64>,
    pub replay_lag: Option<u64>,
    pub lag_source: LagSource,
    /// A live figure whose pair is older than [`late_after`] (a poll is late): how old.
    pub lag_age: Option<Duration>,
    /// No figure yet because no pair of samples has been possible since the replica began
    /// answering (its every answer came after the leader's last): right after start the
    /// lag is not yet known, which the screen says as [`LAG_WAITING`].
    pub lag_waiting: bool,
    pub pending_restart: bool,
    /// Why a restart is pending: `param: old->new` per parameter, in Patroni's order.
    pub pending_restart_reason: Vec<String>,
    /// When its PostgreSQL started, as its REST API says (`postmaster_start_time`).
    pub postmaster_start: Option<String>,
    pub scheduled_restart: Option<String>,
    pub tags: BTreeMap<String, Value>,
    pub rest: RestHealth,
    /// The member key is gone from etcd: stopped, crashed or removed.
    pub gone: Option<Duration>,
    /// Replay lag above `maximum_lag_on_failover`.
    pub lagging: bool,
}

/// What the table's, the detail's and the checks' lag says while [`MemberRow::lag_waiting`].
pub const LAG_WAITING: &str = "lag: waiting for the first pair of samples";

/// How old a REST answer may be and still count as live.
pub fn rest_max_age(interval: Duration) -> Duration {
    (interval * 3).max(Duration::from_secs(3))
}

/// How long after a replica's sample the leader's may be taken and still pair with it:
/// one interval (every member is polled once per interval, so the leader's next answer is
/// at most one interval away), and half of one for the time the requests take.
pub fn pair_window(interval: Duration) -> Duration {
    interval + interval / 2
}

/// How old a live pair may be before its age is shown. In steady polling the newest pair
/// is up to one interval old plus the leader's answer time and the pollers' drift (at
/// 1.5 intervals an idle sandbox showed `(1s old)` on one row or another); two intervals
/// means a leader poll was missed or late by a whole interval.
pub fn late_after(interval: Duration) -> Duration {
    interval * 2
}

/// A replica's positions and the leader's position sampled at or after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub replica: Positions,
    pub leader_lsn: u64,
    pub leader_at: Instant,
}

/// The newest replica sample with a leader sample at or after it, within [`pair_window`].
/// The leader can only have moved on meanwhile, so `leader_lsn - replayed` is never less
/// than the lag at the replica's sample, and more by at most the WAL written in one
/// window. A leader sample taken *before* the replica's would understate it (down to a
/// false `0 B`): it is never used.
pub fn pair(
    replica: &VecDeque<Positions>,
    leader: &VecDeque<Positions>,
    interval: Duration,
) -> Option<Pair> {
    let window = pair_window(interval);
    replica
        .iter()
        .rev()
        .filter(|r| r.received.is_some() || r.replayed.is_some())
        .find_map(|r| {
            let l = leader
                .iter()
                .find(|l| l.at >= r.at && l.location.is_some())?;
            (l.at.saturating_duration_since(r.at) <= window).then_some(Pair {
                replica: *r,
                leader_lsn: l.location?,
                leader_at: l.at,
            })
        })
}

/// The leader's WAL position as etcd has it: the `status` key, else the leader's own
/// member key.
pub fn dcs_leader_lsn(c: &ClusterState) -> Option<u64> {
    c.status.as_ref().and_then(|s| s.optime).or_else(|| {
        c.leader
            .as_ref()
            .and_then(|l| c.members.get(l))
            .and_then(|m| m.xlog_location)
    })
}

pub fn role_of(c: &ClusterState, name: &str) -> Role {
    let cfg = c.config.as_ref();
    if c.leader.as_deref() == Some(name) {
        if cfg.is_some_and(|c| c.standby_cluster) {
            Role::StandbyLeader
        } else {
            Role::Leader
        }
    } else {
        let mode = cfg.map(|c| c.synchronous_mode).unwrap_or_default();
        let in_sync = c
            .sync
            .as_ref()
            .is_some_and(|s| s.sync_standby.iter().any(|m| m == name));
        match mode {
            SyncMode::On if in_sync => Role::SyncStandby,
            SyncMode::Quorum if in_sync => Role::QuorumStandby,
            _ => Role::Replica,
        }
    }
}

fn schedule_text(v: &Value) -> Option<String> {
    let obj = v.as_object()?;
    let mut s = obj.get("schedule")?.as_str()?.to_string();
    if let Some(ver) = obj.get("postgres_version").and_then(Value::as_str) {
        s.push_str(&format!(" if version < {ver}"));
    }
    Some(s)
}

/// What every row of one cluster is measured against, computed once per table.
#[derive(Clone, Copy)]
struct RowCtx<'a> {
    now: Instant,
    interval: Duration,
    max_age: Duration,
    /// The leader's recent live positions.
    leader: Option<&'a VecDeque<Positions>>,
    dcs_top: Option<u64>,
    max_lag: Option<u64>,
}

impl<'a> RowCtx<'a> {
    fn new(c: &'a ClusterState, now: Instant, interval: Duration) -> Self {
        RowCtx {
            now,
            interval,
            max_age: rest_max_age(interval),
            leader: c
                .leader
                .as_ref()
                .and_then(|l| c.rest.get(l))
                .map(|r| &r.positions),
            dcs_top: dcs_leader_lsn(c),
            max_lag: Some(crate::dcs::keys::maximum_lag_on_failover(c.config.as_ref())),
        }
    }
}

/// The rows of the members with a key, in name order, one at a time.
pub fn live_rows(
    c: &ClusterState,
    now: Instant,
    interval: Duration,
) -> impl Iterator<Item = MemberRow> + '_ {
    let ctx = RowCtx::new(c, now, interval);
    c.members
        .iter()
        .map(move |(name, m)| live_row(c, &ctx, name, m))
}

pub fn member_rows(c: &ClusterState, now: Instant, interval: Duration) -> Vec<MemberRow> {
    let ctx = RowCtx::new(c, now, interval);
    let mut rows: Vec<MemberRow> = c
        .members
        .iter()
        .map(|(name, m)| live_row(c, &ctx, name, m))
        .collect();
    for (name, at) in &c.gone {
        rows.push(gone_row(name, now.saturating_duration_since(*at)));
    }
    // leader first, then by name: what an operator scans for first
    rows.sort_by(|a, b| {
        (a.gone.is_some(), !a.role.is_leader(), &a.name).cmp(&(
            b.gone.is_some(),
            !b.role.is_leader(),
            &b.name,
        ))
    });
    rows
}

/// The member table's order (the leader, the other members by name, then the gone ones by
/// name: what [`member_rows`] sorts into), walked without building a row. A frame or a key
/// press reads a window of it, so what they cost does not grow with the member keys etcd
/// holds (a namespace can hold tens of thousands).
pub struct Order<'a> {
    c: &'a ClusterState,
    leader: Option<&'a str>,
}

impl<'a> Order<'a> {
    pub fn new(c: &'a ClusterState) -> Self {
        let leader = c.leader.as_deref().filter(|l| c.members.contains_key(*l));
        Order { c, leader }
    }

    fn gone(&self) -> impl Iterator<Item = &'a str> + 'a {
        let members = &self.c.members;
        self.c
            .gone
            .keys()
            .filter(move |g| !members.contains_key(*g))
            .map(String::as_str)
    }

    /// Rows in the table (at most [`super::cluster::MAX_GONE`] of them gone).
    pub fn len(&self) -> usize {
        self.c.members.len() + self.gone().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let leader = self.leader;
        self.leader
            .into_iter()
            .chain(
                self.c
                    .members
                    .keys()
                    .map(String::as_str)
                    .filter(move |n| Some(*n) != leader),
            )
            .chain(self.gone())
    }

    /// Where `name` is in the table.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        if self.leader == Some(name) {
            return Some(0);
        }
        let lead = usize::from(self.leader.is_some());
        if self.c.members.contains_key(name) {
            let before = self
                .c
                .members
                .range::<str, _>((std::ops::Bound::Unbounded, std::ops::Bound::Excluded(name)))
                .count();
            let leader_before = self.leader.is_some_and(|l| l < name);
            return Some(lead + before - usize::from(leader_before));
        }
        if self.c.gone.contains_key(name) {
            let members = &self.c.members;
            let before = self
                .c
                .gone
                .range::<str, _>((std::ops::Bound::Unbounded, std::ops::Bound::Excluded(name)))
                .filter(|(g, _)| !members.contains_key(*g))
                .count();
            return Some(self.c.members.len() + before);
        }
        None
    }

    pub fn name_at(&self, i: usize) -> Option<&'a str> {
        self.iter().nth(i)
    }
}

/// The member rows a frame reads: a run of the table's order around the selected member
/// (what the table can scroll to), then the rows outside that run which a pane reads
/// anyway (the leader, the polled and gone members, a member whose detail is open).
#[derive(Debug, Default)]
pub struct Window {
    /// The run first (`offset..offset + run_len` of the order), then the others.
    pub rows: Vec<MemberRow>,
    pub run_len: usize,
    pub offset: usize,
    /// Rows in the whole table.
    pub total: usize,
    /// Of those, members with a key (not gone).
    pub present: usize,
}

impl Window {
    /// `near` rows either side of `selected` (or of the top), and the rows named in `also`.
    pub fn new<'a>(
        c: &'a ClusterState,
        selected: Option<&str>,
        also: impl IntoIterator<Item = &'a str>,
        near: usize,
        now: Instant,
        interval: Duration,
    ) -> Self {
        let order = Order::new(c);
        let at = selected.and_then(|s| order.index_of(s)).unwrap_or(0);
        let offset = at.saturating_sub(near);
        let run: Vec<&str> = order.iter().skip(offset).take(2 * near + 1).collect();
        let in_run: std::collections::BTreeSet<&str> = run.iter().copied().collect();
        let mut others: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        others.extend(order.leader);
        others.extend(c.rest.keys().map(String::as_str));
        others.extend(order.gone());
        others.extend(also);
        let ctx = RowCtx::new(c, now, interval);
        let row = |n: &str| match c.members.get_key_value(n) {
            Some((name, m)) => Some(live_row(c, &ctx, name, m)),
            None => c
                .gone
                .get(n)
                .map(|at| gone_row(n, now.saturating_duration_since(*at))),
        };
        let mut rows: Vec<MemberRow> = run.iter().filter_map(|n| row(n)).collect();
        let run_len = rows.len();
        rows.extend(
            others
                .into_iter()
                .filter(|n| !in_run.contains(n))
                .filter_map(row),
        );
        Window {
            rows,
            run_len,
            offset,
            total: order.len(),
            present: c.members.len(),
        }
    }

    /// The run of the table's order, from `offset`.
    pub fn run(&self) -> &[MemberRow] {
        &self.rows[..self.run_len]
    }
}

/// One member's row, as [`member_rows`] would give it, without building the others
/// (a REST answer or a member key changes one row; at 1000 members that matters).
pub fn member_row(
    c: &ClusterState,
    name: &str,
    now: Instant,
    interval: Duration,
) -> Option<MemberRow> {
    if let Some(m) = c.members.get(name) {
        return Some(live_row(c, &RowCtx::new(c, now, interval), name, m));
    }
    c.gone
        .get(name)
        .map(|at| gone_row(name, now.saturating_duration_since(*at)))
}

#[cfg(test)]
thread_local! {
    /// Tests: how many live rows were derived on this thread (what a tick or an event costs).
    pub static ROWS_BUILT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn live_row(c: &ClusterState, ctx: &RowCtx, name: &str, m: &MemberData) -> MemberRow {
    #[cfg(test)]
    ROWS_BUILT.with(|n| n.set(n.get() + 1));
    let RowCtx {
        now,
        interval,
        max_age,
        leader,
        dcs_top,
        max_lag,
    } = *ctx;
    let role = role_of(c, name);
    let rest_state = c.rest.get(name);
    let live = rest_state.and_then(|r| r.fresh(now, max_age));
    let rest = match rest_state {
        None => RestHealth::Unknown,
        Some(r) => match r.failing() {
            Some((_, e)) if live.is_none() => RestHealth::Unreachable {
                error: e.clone(),
                last_ok: r
                    .ok
                    .as_ref()
                    .map(|(at, _)| now.saturating_duration_since(*at)),
            },
            _ if live.is_some() => RestHealth::Live,
            _ => RestHealth::Unknown,
        },
    };
    // State as patronictl derives it: replicas show their replication state.
    let (state, repl_state, timeline) = match live {
        Some(s) => (
            s.state.clone(),
            s.replication_state.clone(),
            s.timeline.or(m.timeline),
        ),
        None => (m.state.clone(), m.replication_state.clone(), m.timeline),
    };
    let state = if role.is_leader() {
        state
    } else {
        repl_state.filter(|s| !s.is_empty()).or(state)
    }
    .unwrap_or_default();

    let (mut receive_lsn, mut replay_lsn, mut lag_source) = (None, None, LagSource::Live);
    let (mut top, mut lag_age, mut lag_waiting) = (None, None, false);
    if !role.is_leader() {
        // a live figure needs the replica answering now and a sound pair not too old
        let paired = live
            .and(rest_state)
            .zip(leader)
            .and_then(|(r, l)| pair(&r.positions, l, interval))
            .filter(|p| now.saturating_duration_since(p.leader_at) <= max_age);
        match paired {
            Some(p) => {
                receive_lsn = p.replica.received;
                replay_lsn = p.replica.replayed;
                top = Some(p.leader_lsn);
                let age = now.saturating_duration_since(p.leader_at);
                lag_age = (age > late_after(interval)).then_some(age);
            }
            // no pair: the leader's last figure from before the replica's answer
            None if let Some(s) = live
                && let Some(r) = rest_state
                && let Some((r_at, _)) = r.ok.as_ref()
                && let Some(l) = leader.and_then(|l| {
                    l.iter()
                        .rev()
                        .find(|l| l.at <= *r_at && l.location.is_some())
                })
                && now.saturating_duration_since(l.at) <= max_age
                && (s.xlog.received_location.is_some() || s.xlog.replayed_location.is_some()) =>
            {
                receive_lsn = s.xlog.received_location;
                replay_lsn = s.xlog.replayed_location;
                top = l.location;
                lag_source = LagSource::AtLeast;
                // every answer it has given since it began (its history is not full yet)
                // came after the leader's last: no pair was ever possible
                lag_waiting = r.positions.len() < super::cluster::RestState::POSITIONS
                    && leader.is_some_and(|l| {
                        !r.positions
                            .iter()
                            .any(|p| l.iter().any(|l| l.at >= p.at && l.location.is_some()))
                    });
            }
            None => {
                receive_lsn = m.receive_lsn.or(m.xlog_location);
                replay_lsn = m.replay_lsn;
                top = dcs_top;
                // a live figure needs both ends: it was last possible at the older one
                let replica_at = rest_state
                    .and_then(|r| {
                        (r.positions.iter().rev())
                            .find(|p| p.received.is_some() || p.replayed.is_some())
                    })
                    .map(|p| p.at);
                let leader_at = leader
                    .and_then(|l| l.iter().rev().find(|l| l.location.is_some()))
                    .map(|l| l.at);
                let unconfirmed = replica_at
                    .zip(leader_at)
                    .map(|(r, l)| now.saturating_duration_since(r.min(l)));
                lag_source = LagSource::Dcs(unconfirmed);
            }
        }
    }
    // A replica "ahead" of the leader's figure means that figure is older than the
    // replica's: the lag is unknown, not 0.
    // A lower bound of 0 says nothing: unknown too.
    let lag = |lsn: Option<u64>| {
        top?.checked_sub(lsn?)
            .filter(|l| *l > 0 || lag_source != LagSource::AtLeast)
    };
    let receive_lag = lag(receive_lsn);
    let replay_lag = lag(replay_lsn);
    let lagging = match (max_lag, replay_lag.or(receive_lag)) {
        (Some(max), Some(l)) => l > max,
        _ => false,
    };
    let (host, port) = m.host_port().unwrap_or_default();
    let pending_restart = live.map(|s| s.pending_restart).unwrap_or(m.pending_restart);
    let pending_restart_reason = live
        .map(|s| s.pending_restart_reason.as_ref())
        .unwrap_or(m.pending_restart_reason.as_deref())
        .map(restart_reasons)
        .unwrap_or_default();
    let scheduled = live
        .and_then(|s| s.scheduled_restart.as_ref())
        .or(m.scheduled_restart.as_deref())
        .and_then(schedule_text);
    let own_role = live.and_then(|s| s.role.clone()).or_else(|| m.role.clone());
    MemberRow {
        name: name.to_string(),
        host,
        port,
        role,
        own_role,
        state,
        timeline,
        receive_lsn,
        receive_lag,
        replay_lsn,
        replay_lag,
        lag_source,
        lag_age,
        // (only while there is no figure: a lower bound above 0 is a figure)
        lag_waiting: lag_waiting && receive_lag.is_none() && replay_lag.is_none(),
        pending_restart,
        pending_restart_reason,
        postmaster_start: live.and_then(|s| s.postmaster_start_time.clone()),
        scheduled_restart: scheduled,
        // live tags when the member answers (it omits the key when it has none)
        tags: live
            .map(|s| s.tags.clone())
            .unwrap_or_else(|| m.tags.clone()),
        rest,
        gone: None,
        lagging,
    }
}

/// `param: old->new` for each parameter, as patronictl writes them (`format_diff`).
fn restart_reasons(r: &serde_json::Map<String, Value>) -> Vec<String> {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    };
    r.iter()
        .map(|(k, v)| {
            format!(
                "{k}: {}->{}",
                text(v.get("old_value")),
                text(v.get("new_value"))
            )
        })
        .collect()
}

fn gone_row(name: &str, gone: Duration) -> MemberRow {
    MemberRow {
        name: name.to_string(),
        host: String::new(),
        port: None,
        role: Role::Replica,
        own_role: None,
        state: "gone".into(),
        timeline: None,
        receive_lsn: None,
        receive_lag: None,
        replay_lsn: None,
        replay_lag: None,
        lag_source: LagSource::Live,
        lag_age: None,
        lag_waiting: false,
        pending_restart: false,
        pending_restart_reason: Vec::new(),
        postmaster_start: None,
        scheduled_restart: None,
        tags: BTreeMap::new(),
        rest: RestHealth::Unknown,
        gone: Some(gone),
        lagging: false,
    }
}

/// `16.0 MiB`, `512 B`: lag in human units.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64 / 1024.0;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if v >= 100.0 {
        format!("{v:.0} {}", UNITS[i])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// `3s`, `2m05s`, `1h02m`, `3d04h`: short ages for narrow cells.
pub fn human_age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86399 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_ages_are_short() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(16 * 1024 * 1024), "16.0 MiB");
        assert_eq!(human_bytes(300 * 1024 * 1024 * 1024), "300 GiB");
        assert_eq!(human_age(Duration::from_secs(5)), "5s");
        assert_eq!(human_age(Duration::from_secs(125)), "2m05s");
        assert_eq!(human_age(Duration::from_secs(3720)), "1h02m");
        assert_eq!(human_age(Duration::from_secs(90000)), "1d01h");
    }
}
