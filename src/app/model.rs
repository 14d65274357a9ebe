//! The model of one cluster as etcd and the members' REST APIs show it: DCS state, REST
//! observations, the member rows derived from them, the event log, lag trends, agent log
//! lines, and which members to poll and follow. No screen in it (no selection, no view, no
//! dialog, no redraw), so several can live side by side and one can be fed from recorded
//! messages. Time arrives in messages; nothing here does IO.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use crate::dcs::{self, DcsEvent};
use crate::patroni::PatroniStatus;

use super::cluster::ClusterState;
use super::events;
use super::members::{self, MemberRow};
use super::redraw::Changed;
use super::{Effect, Msg};

/// How the DCS connection is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DcsHealth {
    Connecting {
        endpoint: String,
        since: Instant,
    },
    Live {
        endpoint: String,
        since: Instant,
        revision: i64,
    },
    Down {
        endpoint: String,
        error: String,
        since: Instant,
        /// When the data on screen was last known to be current.
        last_live: Option<Instant>,
    },
}

/// An etcd error in a word or two, for the header (the etcd view has the whole text).
pub fn short_reason(error: &str) -> &'static str {
    let e = error.to_ascii_lowercase();
    let has = |w: &[&str]| w.iter().any(|w| e.contains(w));
    if has(&["tls", "certificate", "handshake"]) {
        "TLS"
    } else if has(&[
        "credential",
        "password",
        "unauthenticated",
        "permission denied",
        "auth",
    ]) {
        "auth"
    } else if has(&["refused"]) {
        "refused"
    } else if has(&["timed out", "timeout", "deadline"]) {
        "timeout"
    } else if has(&["no leader", "quorum"]) {
        "no quorum"
    } else if has(&["dns", "resolve", "name or service"]) {
        "DNS"
    } else if has(&[
        "unreachable",
        "no route",
        "unavailable",
        "connect error",
        "not listening",
    ]) {
        "unreachable"
    } else {
        "error"
    }
}

/// What part of the event-log summary a message can change.
enum Touch {
    Nothing,
    Member(String),
    /// The clock: the members whose REST answer can age (`ClusterState::rest`), not all.
    Timed,
    /// A cluster-wide key of the cluster on screen (leader, sync, config, status, ...): the
    /// cluster-wide fields and the members whose role it can change (the leader and the
    /// synchronous standbys before and after), not every member key.
    Cluster(std::collections::BTreeSet<String>),
    All,
}

/// A row's lag as drawn, ages aside: (source, receive lag, replay lag, not yet known).
type LagFigure = (
    std::mem::Discriminant<members::LagSource>,
    Option<u64>,
    Option<u64>,
    bool,
);

/// One entry of the connection strings view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnString {
    pub label: String,
    /// The string (from outside: sanitize to draw it).
    pub text: String,
    /// Why it is not copied: a host in it failed the host grammar.
    pub refused: Option<String>,
}

/// The header's sign of life ([`Model::liveness`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// Not everything has answered once yet (the header says what is awaited).
    Waiting,
    /// The clock time (`HH:MM:SS`) by which etcd and the REST API last both confirmed
    /// the state shown: it moves at most once a second.
    Confirmed(String),
    /// etcd and/or the REST API stopped confirming, this long ago.
    Stalled {
        etcd: Option<Duration>,
        rest: Option<Duration>,
    },
}

#[derive(Debug, Clone)]
pub struct Model {
    /// The summary the event log compares the next change with.
    news_baseline: events::Summary,
    /// Bytes of text in `events`.
    events_bytes: usize,
    /// Events ever recorded (the log keeps the newest): a frozen event pane counts what is
    /// new from it.
    events_pushed: u64,
    /// How late the last etcd change was applied after the watch received it, when that
    /// was noticeable: the screen is behind etcd.
    dcs_behind: Option<Duration>,
    /// When the runtime applies the next etcd change (`Msg::Now`).
    applied_at: Option<Instant>,
    /// When the DCS source last reported something, and since when it has been asking
    /// etcd for a sign of life (`DcsEvent::Probing`) without an answer.
    dcs_heard: Option<Instant>,
    dcs_probing: Option<Instant>,
    /// When a member of the cluster on screen last answered `GET /patroni` (any member):
    /// with `dcs_heard`, the header's sign that patrol is alive ([`Model::liveness`]).
    rest_heard: Option<Instant>,
    /// The newest revision etcd has said it has (`DcsEvent::Head`, `Progress`, the
    /// snapshot's), the revision whose changes are all applied here, and since when the
    /// first is ahead of the second: the screen is behind by that gap, whatever the
    /// connection's health says.
    dcs_head: i64,
    dcs_applied: i64,
    gap_since: Option<Instant>,
    /// etcd's current revision asked aside from the watch (`DcsEvent::Newest`), and since
    /// when it has been ahead of what is applied: a gap from it may be keys outside the
    /// prefix until a progress answer says so, so it counts after [`Model::NEWEST_GRACE`].
    dcs_newest: i64,
    newest_since: Option<Instant>,
    /// The member keys changed since the log followers were last planned: they are planned
    /// once the runtime has applied what was waiting (`Msg::Drained`), not per key (a burst
    /// of n new member keys cost n plans of n members each).
    follow_due: bool,
    /// When the followers were last planned, and how many times (tests count plans).
    planned_at: Option<Instant>,
    pub(super) plans: u64,
    /// What the messages since the last [`Model::take_changed`] changed.
    changed: Changed,
    /// The cluster this model is about (the config's scope).
    pub scope: String,
    pub namespace: String,
    pub endpoints: Vec<String>,
    /// Keyed by cluster name: a namespace-wide watch loads every cluster of it.
    pub clusters: BTreeMap<String, ClusterState>,
    pub dcs: DcsHealth,
    /// Has a snapshot ever arrived?
    pub loaded: bool,
    pub rest_interval: Duration,
    pub now: Instant,
    /// What changed, newest last; bounded.
    pub events: VecDeque<events::Event>,
    /// Wall-clock time at `started`, to print event times (None in tests: relative times).
    pub wall0: Option<SystemTime>,
    /// The local time zone, to read `16:30` and say scheduled times back (UTC in tests).
    pub tz: jiff::tz::TimeZone,
    /// Each etcd endpoint's last status answer.
    pub etcd_status: Vec<crate::dcs::info::EndpointStatus>,
    /// (lease, ttl, granted, when asked) of the leader key's lease.
    pub lease_ttl: Option<(i64, i64, i64, Instant)>,
    /// Recent live replay lag of each polled replica: (trend bar, largest lag in it),
    /// oldest first, at most [`Model::TREND_WIDTH`] bars.
    pub lag_history: BTreeMap<String, VecDeque<(u64, u64)>>,
    /// Agent log lines of every followed member (bounded).
    pub logs: crate::logs::LogBuffer,
    /// Are log sources configured at all?
    pub logs_configured: bool,
    /// Why members' logs are not followed: key (`members/NAME`, or `logs`) -> message.
    /// Shown with the key warnings.
    pub log_warnings: BTreeMap<String, String>,
    /// From the configuration, said from the start: (config key, message).
    pub config_warnings: Vec<(String, String)>,
    watched_lease: i64,
    /// `--logs` and its per-member overrides.
    pub(super) log_sources: (
        Option<crate::logs::LogSourceSpec>,
        BTreeMap<String, crate::logs::LogSourceSpec>,
    ),
    pub(super) followed: BTreeMap<crate::logs::SafeMember, crate::logs::ResolvedSource>,
    polled: Vec<(String, String)>,
    started: Instant,
    /// Membership from a member's `/cluster` when etcd is not there (`rest_only.rs`).
    pub rest_only: super::rest_only::RestOnly,
    /// What the configured HAProxies route to, and the members' health endpoints
    /// (`routing.rs`).
    pub routing: super::routing::Routing,
    /// When each shown value last changed, while it fades (`change.rs`).
    pub changes: super::change::Changes,
}

impl Model {
    pub fn new(scope: &str, namespace: &str, endpoints: Vec<String>, now: Instant) -> Model {
        let mut clusters = BTreeMap::new();
        clusters.insert(scope.to_string(), ClusterState::default());
        Model {
            scope: scope.to_string(),
            namespace: namespace.to_string(),
            dcs: DcsHealth::Connecting {
                endpoint: endpoints.first().cloned().unwrap_or_default(),
                since: now,
            },
            endpoints,
            clusters,
            loaded: false,
            rest_interval: Duration::from_secs(1),
            now,
            events: VecDeque::new(),
            wall0: None,
            tz: jiff::tz::TimeZone::UTC,
            etcd_status: Vec::new(),
            lease_ttl: None,
            lag_history: BTreeMap::new(),
            logs: crate::logs::LogBuffer::default(),
            logs_configured: false,
            log_warnings: BTreeMap::new(),
            config_warnings: Vec::new(),
            log_sources: (None, BTreeMap::new()),
            watched_lease: 0,
            followed: BTreeMap::new(),
            polled: Vec::new(),
            routing: Default::default(),
            changes: Default::default(),
            started: now,
            news_baseline: events::Summary::default(),
            events_bytes: 0,
            events_pushed: 0,
            dcs_behind: None,
            applied_at: None,
            dcs_heard: None,
            rest_heard: None,
            dcs_probing: None,
            dcs_head: 0,
            dcs_applied: 0,
            gap_since: None,
            dcs_newest: 0,
            newest_since: None,
            follow_due: false,
            planned_at: None,
            plans: 0,
            changed: Changed::default(),
            rest_only: super::rest_only::RestOnly::new(false, Vec::new()),
        }
    }

    /// Tests: the event log's baseline.
    #[cfg(test)]
    pub(crate) fn news_baseline(&self) -> &events::Summary {
        &self.news_baseline
    }

    /// When this model started (ages and event times count from here).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// What changed since the last call, for the redraw decision.
    pub fn take_changed(&mut self) -> Changed {
        std::mem::take(&mut self.changed)
    }

    pub(super) fn mark(&mut self, bit: u16) {
        self.changed.mark(bit);
    }

    /// Feed one message that is not a key press. Returns what the runtime must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        if let Msg::Dcs(at, DcsEvent::Put(kv)) = &msg
            && self.rewrite(*at, kv)
        {
            return Vec::new();
        }
        let touch = self.touches(&msg);
        // An etcd change redraws when it touches the cluster on screen: keys of other
        // clusters in the namespace do not, nor does a progress notification (unless its
        // revision moved, which `on_dcs` sees).
        if matches!(msg, Msg::Dcs(..)) && !matches!(touch, Touch::Nothing) {
            self.mark(Changed::CLUSTER);
        }
        let eff = self.apply(msg);
        match touch {
            Touch::Nothing => {}
            Touch::All => {
                let after = self.summary();
                let news = events::diff(&self.news_baseline, &after);
                let after = after.carry(&self.news_baseline);
                // (the polled members only: never a stamp per member key)
                let names: Vec<&str> = self.polled.iter().map(|(n, _)| n.as_str()).collect();
                self.changes
                    .note(&self.news_baseline, &after, &names, self.now, |_| true);
                self.news_baseline = after;
                for kind in news {
                    self.push_event(kind);
                }
            }
            Touch::Member(name) => self.member_news(name),
            Touch::Cluster(mut names) => {
                names.extend(self.role_holders());
                self.cluster_news(names);
            }
            Touch::Timed => {
                // a member without a REST answer has nothing that changes with time in
                // its summary: the tick costs what is polled, not every member key
                let names: Vec<String> = self
                    .cluster()
                    .map(|c| c.rest.keys().cloned().collect())
                    .unwrap_or_default();
                if names.is_empty() {
                    // (no member by that name: the cluster-wide part only)
                    self.member_news(String::new());
                }
                for name in names {
                    self.member_news(name);
                }
            }
        }
        eff
    }

    pub fn cluster(&self) -> Option<&ClusterState> {
        self.clusters.get(&self.scope)
    }

    pub fn rows(&self) -> Vec<MemberRow> {
        self.cluster()
            .map(|c| members::member_rows(c, self.now, self.rest_interval))
            .unwrap_or_default()
    }

    /// One member's row, without building the others.
    pub fn row(&self, name: &str) -> Option<MemberRow> {
        members::member_row(self.cluster()?, name, self.now, self.rest_interval)
    }

    /// No terminal shows more member rows than this above or below the selected one.
    pub const ROWS_NEAR: usize = 256;

    /// The rows a frame reads (see [`members::Window`]): `near` (at most
    /// [`Model::ROWS_NEAR`]) either side of `selected`, the leader, the polled and gone
    /// members, and `also`.
    pub fn window(
        &self,
        selected: Option<&str>,
        also: Option<&str>,
        near: usize,
    ) -> members::Window {
        self.cluster()
            .map(|c| {
                members::Window::new(
                    c,
                    selected,
                    also,
                    near.min(Self::ROWS_NEAR),
                    self.now,
                    self.rest_interval,
                )
            })
            .unwrap_or_default()
    }

    /// Is the data on screen older than the DCS connection allows us to know?
    pub fn stale_for(&self) -> Option<Duration> {
        match &self.dcs {
            DcsHealth::Down {
                last_live, since, ..
            } => Some(
                self.now
                    .saturating_duration_since(last_live.unwrap_or(*since)),
            ),
            // connected, and not answering: a hung member is not live
            DcsHealth::Live { .. } => self.unanswered(),
            DcsHealth::Connecting { .. } => None,
        }
    }

    /// etcd confirms a live v3 watch at least every `dcs::PROBE_AFTER` (2 s) of silence,
    /// by a change or a progress answer: four of those missed is a stall.
    pub const ETCD_STALLED_AFTER: Duration = Duration::from_secs(8);

    /// patrol's sign of life for the header: when etcd (a watch response or a progress
    /// answer) and the REST API (any member's answer) last confirmed what is shown, or
    /// which of them stopped (etcd after [`Model::ETCD_STALLED_AFTER`], REST after
    /// [`members::rest_max_age`], three intervals) and for how long.
    pub fn liveness(&self) -> Liveness {
        let etcd = (self.rest_only.mode != super::rest_only::Mode::Explicit)
            .then_some((self.dcs_heard, Self::ETCD_STALLED_AFTER));
        let rest = (!self.polled.is_empty() || self.rest_heard.is_some())
            .then(|| (self.rest_heard, members::rest_max_age(self.rest_interval)));
        let quiet = |p: Option<(Option<Instant>, Duration)>| {
            let (heard, limit) = p?;
            let d = self
                .now
                .saturating_duration_since(heard.unwrap_or(self.started));
            (d > limit).then_some(d)
        };
        let (etcd_quiet, rest_quiet) = (quiet(etcd), quiet(rest));
        if etcd_quiet.is_some() || rest_quiet.is_some() {
            return Liveness::Stalled {
                etcd: etcd_quiet,
                rest: rest_quiet,
            };
        }
        let heard = [etcd, rest].into_iter().flatten().map(|(h, _)| h);
        // the older of the two: everything shown was confirmed at least then
        match heard
            .collect::<Option<Vec<_>>>()
            .and_then(|v| v.into_iter().min())
        {
            Some(at) => Liveness::Confirmed(self.clock(at)),
            None => Liveness::Waiting,
        }
    }

    /// A probe unanswered this long makes a live watch look what it is: maybe behind.
    pub const UNANSWERED_AFTER: Duration = Duration::from_secs(1);

    /// How long the live watch has been silent, when the source's progress request has
    /// gone unanswered for [`Model::UNANSWERED_AFTER`] (the endpoint may hang: the source
    /// gives up on it after `dcs::PROBE_TIMEOUT`).
    pub fn unanswered(&self) -> Option<Duration> {
        let asked = self.dcs_probing?;
        if !matches!(self.dcs, DcsHealth::Live { .. })
            || self.now.saturating_duration_since(asked) < Self::UNANSWERED_AFTER
        {
            return None;
        }
        Some(
            self.now
                .saturating_duration_since(self.dcs_heard.unwrap_or(asked)),
        )
    }

    pub const BEHIND_AFTER: Duration = Duration::from_secs(1);

    /// How far the screen is behind what etcd says it has: (revisions, for how long),
    /// while the gap is open on a live watch. A burst of changes waiting in the stream or
    /// in patrol's queue shows here, however fresh each applied change looked.
    pub fn revision_gap(&self) -> Option<(i64, Duration)> {
        if !matches!(self.dcs, DcsHealth::Live { .. }) {
            return None;
        }
        let newest = self
            .newest_since
            .filter(|t| self.now.saturating_duration_since(*t) >= Self::NEWEST_GRACE)
            .map(|t| (self.dcs_newest, t));
        let stream = self.gap_since.map(|t| (self.dcs_head, t));
        let (head, since) = match (stream, newest) {
            (Some((h, t)), Some((n, u))) => (h.max(n), t.min(u)),
            (Some(x), None) | (None, Some(x)) => x,
            (None, None) => return None,
        };
        (head > self.dcs_applied).then(|| {
            (
                head - self.dcs_applied,
                self.now.saturating_duration_since(since),
            )
        })
    }

    /// etcd's revision asked aside from the watch, while it has been ahead of what is
    /// applied for [`Model::CHECKING_AFTER`] but not yet [`Model::NEWEST_GRACE`]: maybe keys
    /// outside the prefix, maybe a change on its way. Not a gap yet, and not `live` either:
    /// the header says it is checking. (Keys outside the prefix are confirmed by the watch's
    /// progress answer within a round trip, before this: a busy namespace does not flicker.)
    pub fn newest_unconfirmed(&self) -> Option<i64> {
        if !matches!(self.dcs, DcsHealth::Live { .. }) || self.revision_gap().is_some() {
            return None;
        }
        let since = self.newest_since?;
        (self.dcs_newest > self.dcs_applied
            && self.now.saturating_duration_since(since) >= Self::CHECKING_AFTER)
            .then_some(self.dcs_newest)
    }

    pub const CHECKING_AFTER: Duration = Duration::from_millis(250);

    /// When the header turns `checking` if nothing confirms etcd's newest revision before
    /// (the runtime wakes then to judge and draw it); None when nothing is pending.
    pub fn checking_due(&self) -> Option<Instant> {
        if !matches!(self.dcs, DcsHealth::Live { .. }) || self.dcs_newest <= self.dcs_applied {
            return None;
        }
        let due = self.newest_since? + Self::CHECKING_AFTER;
        (due > self.now).then_some(due)
    }

    /// A gap from etcd's revision asked aside from the watch counts after this: the
    /// watch's progress answer closes one that is only keys outside the prefix sooner.
    pub const NEWEST_GRACE: Duration = Duration::from_secs(1);

    /// The newest revision etcd has said it has, and the one applied here.
    pub fn revisions(&self) -> (i64, i64) {
        (self.dcs_head, self.dcs_applied)
    }

    /// After a DCS message: open or close the gap, and redraw the header when it moved.
    fn note_revisions(&mut self, at: Instant) {
        let before = self.revision_gap().map(|g| g.0);
        if self.dcs_head > self.dcs_applied {
            self.gap_since.get_or_insert(at);
        } else {
            self.gap_since = None;
        }
        if self.dcs_newest > self.dcs_applied {
            self.newest_since.get_or_insert(at);
        } else {
            self.newest_since = None;
        }
        if before != self.revision_gap().map(|g| g.0) {
            self.mark(Changed::HEADER);
        }
    }

    /// Log followers are planned at most this often (each plan looks at every member key):
    /// a burst's plans cost O(members) per interval, not per key.
    pub const PLAN_EVERY: Duration = Duration::from_millis(500);

    /// The runtime has applied every message that was waiting: plan what the burst asked
    /// for, once.
    fn drained(&mut self, now: Instant) -> Vec<Effect> {
        self.now = self.now.max(now);
        let recent = self
            .planned_at
            .is_some_and(|t| self.now.saturating_duration_since(t) < Self::PLAN_EVERY);
        if !self.follow_due || recent {
            return Vec::new();
        }
        self.plan_followers()
    }

    /// Plan the log followers now (the clock, a drained queue, the start).
    pub(super) fn plan_followers(&mut self) -> Vec<Effect> {
        self.follow_due = false;
        self.planned_at = Some(self.now);
        self.follow_effect()
    }

    /// How far behind etcd the screen is, when it is noticeably (see [`Model::BEHIND_AFTER`]).
    pub fn behind(&self) -> Option<Duration> {
        self.dcs_behind
    }

    fn note_delay(&mut self, late: Duration) {
        let behind = (late > Self::BEHIND_AFTER).then_some(late);
        if behind.map(|d| d.as_secs()) != self.dcs_behind.map(|d| d.as_secs()) {
            self.mark(Changed::HEADER);
        }
        self.dcs_behind = behind;
    }

    pub fn complete(&self) -> bool {
        self.loaded
            && self.cluster().is_some_and(|c| {
                c.members
                    .iter()
                    .filter(|(_, m)| m.api_url.is_some())
                    .all(|(n, _)| {
                        c.rest
                            .get(n)
                            .is_some_and(|r| r.ok.is_some() || r.error.is_some())
                    })
            })
    }

    /// A put that rewrites a key with the value it has: noted (its time, how late it was
    /// applied) and nothing else. Patroni on etcd v2 rewrites `leader` and every member key
    /// each loop; those must not cost a parse, a frame or an event.
    fn rewrite(&mut self, at: Instant, kv: &dcs::RawKv) -> bool {
        let Some((scope, rel)) = dcs::split_key(&self.namespace, &kv.key) else {
            return false;
        };
        let same = self
            .clusters
            .get_mut(scope)
            .is_some_and(|c| c.rewrite(rel, &kv.value, kv.lease, at));
        if same {
            if let Some(t) = self.applied_at.take() {
                self.note_delay(t.saturating_duration_since(at));
            }
            self.now = self.now.max(at);
        }
        same
    }

    fn touches(&self, msg: &Msg) -> Touch {
        let key = match msg {
            // time changes only what a REST answer's age decides (`Touch::Timed`)
            Msg::Tick(_) => return Touch::Timed,
            Msg::Rest { member, .. } => return Touch::Member(member.clone()),
            Msg::Dcs(_, DcsEvent::Put(kv)) => kv.key.as_str(),
            Msg::Dcs(_, DcsEvent::Delete { key } | DcsEvent::Skipped { key, .. }) => key.as_str(),
            Msg::Dcs(
                _,
                DcsEvent::Progress { .. }
                | DcsEvent::Head { .. }
                | DcsEvent::Newest { .. }
                | DcsEvent::Ttl { .. }
                | DcsEvent::Probing,
            ) => {
                return Touch::Nothing;
            }
            Msg::Dcs(..) | Msg::RestCluster { .. } => return Touch::All,
            _ => return Touch::Nothing,
        };
        match dcs::split_key(&self.namespace, key) {
            Some((scope, _)) if scope != self.scope => Touch::Nothing,
            Some((_, rel)) => match rel.strip_prefix("members/") {
                Some(name) if !name.is_empty() && !name.contains('/') => {
                    Touch::Member(name.to_string())
                }
                _ => Touch::Cluster(self.role_holders()),
            },
            None => Touch::Nothing,
        }
    }

    /// The members whose role a cluster-wide key decides (see `members::role_of`): the
    /// leader and the synchronous standbys. Any other member is a replica whatever those
    /// keys say, so a change to them costs these and not every member key.
    fn role_holders(&self) -> std::collections::BTreeSet<String> {
        let Some(c) = self.cluster() else {
            return Default::default();
        };
        c.leader
            .iter()
            .chain(c.sync.iter().flat_map(|s| s.sync_standby.iter()))
            .cloned()
            .collect()
    }

    /// News from a change to a cluster-wide key: the cluster-wide fields, the config, and
    /// the summaries of `names`, compared with the baseline, which is then brought up to
    /// date.
    fn cluster_news(&mut self, names: std::collections::BTreeSet<String>) {
        let mut after = self.summary_head();
        if let Some(k) = self.cluster().and_then(|c| c.config.as_ref()) {
            events::flatten("", &k.raw, &mut after.config);
            after.config_secrets = k.secret_tags.clone();
        }
        let mut before = self.news_baseline.head();
        before.config = std::mem::take(&mut self.news_baseline.config);
        before.config_secrets = std::mem::take(&mut self.news_baseline.config_secrets);
        for name in &names {
            if let Some(r) = self.row(name).filter(|r| r.gone.is_none()) {
                after
                    .members
                    .insert(name.clone(), events::member_summary(&r));
            }
            if let Some(m) = self.news_baseline.members.get(name) {
                before.members.insert(name.clone(), m.clone());
            }
        }
        let news = events::diff(&before, &after);
        let mut after = after.carry(&before);
        let names_ref: Vec<&str> = names.iter().map(String::as_str).collect();
        let polled = &self.polled;
        self.changes
            .note(&before, &after, &names_ref, self.now, |n| {
                after.leader.as_deref() == Some(n) || polled.iter().any(|(p, _)| p == n)
            });
        let mut members = std::mem::take(&mut self.news_baseline.members);
        for name in names {
            match after.members.remove(&name) {
                Some(m) => members.insert(name, m),
                None => members.remove(&name),
            };
        }
        self.news_baseline = events::Summary { members, ..after };
        for kind in news {
            self.push_event(kind);
        }
    }

    /// News from a change to one member: that member's summary and the cluster-wide
    /// fields, compared with the baseline, which is then brought up to date.
    fn member_news(&mut self, name: String) {
        let mut after = self.summary_head();
        if let Some(r) = self
            .cluster()
            .and_then(|c| members::member_row(c, &name, self.now, self.rest_interval))
            .filter(|r| r.gone.is_none())
        {
            after
                .members
                .insert(name.clone(), events::member_summary(&r));
        }
        let mut before = self.news_baseline.head();
        if let Some(m) = self.news_baseline.members.get(&name) {
            before.members.insert(name.clone(), m.clone());
        }
        let news = events::diff(&before, &after);
        // what is unknown now stays as last known
        let mut after = after.carry(&before);
        let polled = &self.polled;
        self.changes
            .note(&before, &after, &[name.as_str()], self.now, |n| {
                after.leader.as_deref() == Some(n) || polled.iter().any(|(p, _)| p == n)
            });
        let members = std::mem::take(&mut self.news_baseline.members);
        let config = std::mem::take(&mut self.news_baseline.config);
        let config_secrets = std::mem::take(&mut self.news_baseline.config_secrets);
        let mine = after.members.remove(&name);
        self.news_baseline = events::Summary {
            members,
            config,
            config_secrets,
            ..after
        };
        match mine {
            Some(m) => self.news_baseline.members.insert(name, m),
            None => self.news_baseline.members.remove(&name),
        };
        for kind in news {
            self.push_event(kind);
        }
    }

    pub const MAX_EVENTS: usize = 2000;
    /// The event log is bounded in bytes of text too: names and values come from etcd.
    pub const MAX_EVENT_BYTES: usize = 1024 * 1024;
    /// Each name or value in one event is cut to this many bytes.
    pub const MAX_EVENT_FIELD: usize = 256;

    /// Whether the next-leader prediction held (see `election::follow`).
    pub fn log_prediction(&mut self, kind: events::EventKind) {
        self.push_event(kind);
    }

    /// A finished operation's outcome, with Patroni's whole reply for the event's detail.
    pub fn log_operation(&mut self, o: &super::ops::Operation) {
        self.push_event(events::EventKind::Operation {
            title: o.title.clone(),
            outcome: o.summary(),
            ok: matches!(o.settle, super::ops::Settle::Done(_)),
            reply: o.full_reply(),
        });
    }

    /// A health rule raised or cleared (`diagnosis::Health`), into the event log.
    pub fn log_finding(&mut self, c: &super::diagnosis::Change) {
        self.push_event(events::EventKind::Finding {
            rule: c.rule.to_string(),
            message: c.message.clone(),
            raised: c.raised,
            critical: c.severity == super::diagnosis::Severity::Critical,
        });
    }

    fn push_event(&mut self, kind: events::EventKind) {
        let kind = kind.clipped(Self::MAX_EVENT_FIELD);
        self.events_bytes += kind.bytes();
        self.events_pushed += 1;
        self.events.push_back(events::Event { at: self.now, kind });
        while self.events.len() > Self::MAX_EVENTS
            || (self.events_bytes > Self::MAX_EVENT_BYTES && self.events.len() > 1)
        {
            let Some(old) = self.events.pop_front() else {
                break;
            };
            self.events_bytes = self.events_bytes.saturating_sub(old.kind.bytes());
        }
        self.mark(Changed::EVENTS);
    }

    /// How many events were ever recorded (more than the log keeps).
    pub fn events_pushed(&self) -> u64 {
        self.events_pushed
    }

    /// Bytes of text in the event log (what [`Model::MAX_EVENT_BYTES`] bounds).
    pub fn events_bytes(&self) -> usize {
        self.events_bytes
    }

    /// The wall-clock time of an instant, `HH:MM:SS` (relative `+12s` without a wall clock).
    pub fn clock(&self, at: Instant) -> String {
        let since = at.saturating_duration_since(self.started);
        match self.wall0 {
            Some(w) => {
                let t = humantime::format_rfc3339_seconds(w + since).to_string();
                t.get(11..19).unwrap_or(&t).to_string()
            }
            None => format!("+{}s", since.as_secs()),
        }
    }

    /// An instant as a full time with its date and zone (`2026-12-07T21:10:23Z`); `+12s`
    /// since start without a wall clock (tests).
    pub fn stamp(&self, at: Instant) -> String {
        let since = at.saturating_duration_since(self.started);
        match self.wall0 {
            Some(w) => humantime::format_rfc3339_seconds(w + since).to_string(),
            None => format!("+{}s", since.as_secs()),
        }
    }

    /// The date of an instant (`2026-12-07`, UTC like the clock), when a wall clock is known
    /// and it is not the date of `now`: an event from an earlier day says which.
    pub fn date_if_not_today(&self, at: Instant) -> Option<String> {
        let (t, today) = (self.stamp(at), self.stamp(self.now));
        let (d, today) = (t.get(..10)?, today.get(..10)?);
        (self.wall0.is_some() && d != today).then(|| d.to_string())
    }

    /// One bar of the trend column covers this long: the largest lag seen in it.
    pub const TREND_STEP: Duration = Duration::from_secs(30);
    /// Bars kept per replica (at most the column's width): 10 × 30 s, the last 5 minutes.
    pub const TREND_WIDTH: usize = 10;

    /// The rows whose lag figure an answer from `member` can move: its own, and the
    /// leader's answer pairs with every polled replica (at most [`Model::MAX_POLLED`]).
    fn pairs_with(&self, member: &str) -> Vec<String> {
        let Some(c) = self.cluster() else {
            return Vec::new();
        };
        if c.leader.as_deref() == Some(member) {
            c.rest.keys().filter(|n| *n != member).cloned().collect()
        } else {
            vec![member.to_string()]
        }
    }

    /// The lag figures of these members' rows as the table shows them (source, figures,
    /// not yet known), ages aside: those the clock redraws.
    fn lag_figures(&self, names: &[String]) -> Vec<LagFigure> {
        let Some(c) = self.cluster() else {
            return Vec::new();
        };
        names
            .iter()
            .filter_map(|n| members::member_row(c, n, self.now, self.rest_interval))
            .map(|r| {
                (
                    std::mem::discriminant(&r.lag_source),
                    r.receive_lag,
                    r.replay_lag,
                    r.lag_waiting,
                )
            })
            .collect()
    }

    /// The trend bar an instant falls in (counted from patrol's start).
    pub fn trend_bar(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_secs() / Self::TREND_STEP.as_secs()
    }

    /// Remember a replica's live replay lag (for the trend column): one bar per
    /// [`Model::TREND_STEP`], the largest lag seen in it, the last [`Model::TREND_WIDTH`]
    /// bars. Only polled members answer, so the memory is bounded by the poll set.
    fn sample_lag(&mut self, member: &str) {
        let Some(r) = self
            .cluster()
            .and_then(|c| members::member_row(c, member, self.now, self.rest_interval))
        else {
            return;
        };
        if r.role.is_leader() || r.lag_source != members::LagSource::Live {
            return;
        }
        let Some(lag) = r.replay_lag.or(r.receive_lag) else {
            return;
        };
        let bar = self.trend_bar(self.now);
        let h = self.lag_history.entry(member.to_string()).or_default();
        // the trend column changes only when a bar starts or its top grows
        let changed = match h.back_mut() {
            Some((b, top)) if *b == bar => {
                let grew = lag > *top;
                *top = (*top).max(lag);
                grew
            }
            _ => {
                h.push_back((bar, lag));
                true
            }
        };
        while h
            .front()
            .is_some_and(|(b, _)| b + (Self::TREND_WIDTH as u64) <= bar)
        {
            h.pop_front();
        }
        if changed {
            self.mark(Changed::TREND);
        }
    }

    /// The connection strings view (like `patronictl dsn`). A string is built from hosts
    /// that passed the host grammar of log followers (`SafeHost`, from the member's
    /// `conn_url`); one with a host that did not is shown (sanitized) but never copied.
    pub fn connection_strings(&self) -> Vec<ConnString> {
        let rows = self.rows();
        let cluster = self.cluster();
        // the checked host of a row, as libpq's `host=` takes it
        let host = |r: &MemberRow| -> Result<String, String> {
            let url = cluster
                .and_then(|c| c.members.get(&r.name))
                .and_then(|m| m.conn_url.as_deref())
                .unwrap_or("");
            crate::logs::SafeHost::from_conn_url(url)
                .map(|h| h.as_str().to_string())
                .map_err(|e| {
                    format!(
                        "the host in {}'s conn_url is refused: {e}",
                        crate::text::sanitize(&r.name)
                    )
                })
        };
        let port = |r: &MemberRow| r.port.map(|p| format!(" port={p}")).unwrap_or_default();
        // `host=...`: the checked host, else the raw one (shown, not copied)
        let keyword = |r: &MemberRow| match host(r) {
            Ok(h) => (format!("host={h}{}", port(r)), None),
            Err(e) => (format!("host={}{}", r.host, port(r)), Some(e)),
        };
        // `host:port` for a URI (an IPv6 address in brackets)
        let hp = |r: &MemberRow| {
            let (h, refused) = match host(r) {
                Ok(h) if h.contains(':') => (format!("[{h}]"), None),
                Ok(h) => (h, None),
                Err(e) => (r.host.clone(), Some(e)),
            };
            let h = match r.port {
                Some(p) => format!("{h}:{p}"),
                None => h,
            };
            (h, refused)
        };
        let uri = |label: String, members: Vec<&MemberRow>, attrs: &str| {
            let parts: Vec<(String, Option<String>)> = members.into_iter().map(hp).collect();
            ConnString {
                label,
                text: format!(
                    "postgresql://{}/postgres?target_session_attrs={attrs}",
                    parts
                        .iter()
                        .map(|(h, _)| h.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                refused: parts.into_iter().find_map(|(_, e)| e),
            }
        };
        let mut out = Vec::new();
        if let Some(l) = rows.iter().find(|r| r.role.is_leader()) {
            let (text, refused) = keyword(l);
            out.push(ConnString {
                label: format!("read-write (leader {})", l.name),
                text,
                refused,
            });
            out.push(uri(
                "read-write, any member (libpq picks the primary)".into(),
                rows.iter().filter(|r| r.gone.is_none()).collect(),
                "read-write",
            ));
        }
        let replicas: Vec<&MemberRow> = rows
            .iter()
            .filter(|r| !r.role.is_leader() && r.gone.is_none() && r.state == "streaming")
            .collect();
        if !replicas.is_empty() {
            out.push(uri(
                "read-only (streaming replicas)".into(),
                replicas,
                "standby",
            ));
        }
        // through HAProxy, as the runbook gives them to clients (`routing.rs`)
        out.extend(self.haproxy_conn_strings());
        for r in rows.iter().filter(|r| r.gone.is_none()) {
            let (text, refused) = keyword(r);
            out.push(ConnString {
                label: format!("{} ({})", r.name, r.role.label()),
                text,
                refused,
            });
        }
        out
    }

    pub fn lock_left(&self) -> Option<(i64, i64)> {
        let (_, ttl, granted, at) = self.lease_ttl?;
        let gone =
            i64::try_from(self.now.saturating_duration_since(at).as_secs()).unwrap_or(i64::MAX);
        // the TTL is etcd's answer: any i64
        Some((ttl.saturating_sub(gone).max(0), granted))
    }

    /// Seconds since the epoch now, when patrol knows the wall clock.
    pub fn wall_now_unix(&self) -> Option<u64> {
        let w = self.wall0? + self.now.saturating_duration_since(self.started);
        w.duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs())
    }

    /// The wall-clock time now, when patrol knows it.
    pub fn wall_now(&self) -> Option<jiff::Timestamp> {
        let w = self.wall0? + self.now.saturating_duration_since(self.started);
        jiff::Timestamp::try_from(w).ok()
    }

    /// Each etcd endpoint's state, one for the whole screen: the last status answer, except
    /// that the endpoint the watch found down is down, with the watch's reason (the header
    /// and the etcd view never disagree).
    pub fn endpoints_state(&self) -> Vec<crate::dcs::info::EndpointStatus> {
        let mut out = self.etcd_status.clone();
        if let DcsHealth::Down {
            endpoint, error, ..
        } = &self.dcs
        {
            let down = Err(error.clone());
            match out.iter_mut().find(|e| &e.endpoint == endpoint) {
                Some(e) => e.result = down,
                None => out.push(crate::dcs::info::EndpointStatus {
                    endpoint: endpoint.clone(),
                    result: down,
                }),
            }
        }
        out
    }

    /// Tests put an event in the log as `update` would.
    #[cfg(test)]
    pub(crate) fn test_event(&mut self, kind: events::EventKind) {
        self.push_event(kind);
    }

    /// Tests pin the wall clock to a known instant.
    #[cfg(test)]
    pub(crate) fn started_at_for_tests(&mut self, at: Instant) {
        self.started = at;
    }

    /// Replay lag in time, from WAL positions alone: the leader was already past the
    /// position the replica had replayed at least this long before the replica reported it
    /// (the earliest leader answer beyond that position, among the last few, to the
    /// replica's answer). A lower bound, and one that means "behind": a caught-up replica
    /// is 0 however idle the cluster (the age of the last replayed transaction, which
    /// this once was, is the idle time there). None: no live figure, or the leader.
    pub fn replay_delay(&self, r: &MemberRow) -> Option<Duration> {
        if r.role.is_leader() || r.lag_source != members::LagSource::Live {
            return None;
        }
        if r.replay_lag? == 0 {
            return Some(Duration::ZERO);
        }
        let replayed = r.replay_lsn?;
        let c = self.cluster()?;
        let replica_at = c
            .rest
            .get(&r.name)?
            .positions
            .iter()
            .rev()
            .find(|p| p.replayed == Some(replayed))?
            .at;
        let leader = c.rest.get(c.leader.as_deref()?)?;
        let passed = leader
            .positions
            .iter()
            .find(|l| l.at <= replica_at && l.location.is_some_and(|l| l > replayed))?;
        Some(replica_at.saturating_duration_since(passed.at))
    }

    /// How long ago an ISO 8601 UTC timestamp (as Patroni writes them) was.
    pub fn age_of_timestamp(&self, ts: &str) -> Option<Duration> {
        // Patroni writes `2026-11-25T23:52:46.335636+00:00`; humantime wants a `Z`
        let t = ts
            .trim()
            .strip_suffix("+00:00")
            .map(|t| format!("{t}Z"))
            .unwrap_or_else(|| ts.trim().to_string());
        let then = humantime::parse_rfc3339_weak(&t).ok()?;
        let now = self.wall0? + self.now.saturating_duration_since(self.started);
        now.duration_since(then).ok()
    }

    /// The parts of the model the event log compares.
    pub fn summary(&self) -> events::Summary {
        let mut s = self.summary_head();
        if let Some(k) = self.cluster().and_then(|c| c.config.as_ref()) {
            events::flatten("", &k.raw, &mut s.config);
            s.config_secrets = k.secret_tags.clone();
        }
        // one row at a time: the summary of 30,000 member keys must not hold 30,000 rows
        if let Some(c) = self.cluster() {
            s.members = members::live_rows(c, self.now, self.rest_interval)
                .map(|r| (r.name.clone(), events::member_summary(&r)))
                .collect();
        }
        s
    }

    /// The cluster-wide part of [`Model::summary`] (no members, no config).
    fn summary_head(&self) -> events::Summary {
        let c = self.cluster();
        events::Summary {
            dcs_live: !matches!(self.dcs, DcsHealth::Down { .. }),
            loaded: self.loaded,
            leader: c.and_then(|c| c.leader.clone()),
            // the timeline of the member holding the leader key, as the table shows it
            timeline: c
                .and_then(|c| {
                    let l = c.leader.as_deref()?;
                    members::member_row(c, l, self.now, self.rest_interval)
                })
                .filter(|r| r.role.is_leader())
                .and_then(|r| r.timeline),
            members: BTreeMap::new(),
            paused: c.is_some_and(|c| c.is_paused()),
            scheduled_switchover: c.and_then(|c| c.failover.as_ref()).map(|f| {
                let mut s = String::new();
                if let (Some(a), Some(b)) = (&f.leader, &f.member) {
                    s.push_str(&format!("{a} → {b}"));
                } else if let Some(b) = &f.member {
                    s.push_str(&format!("to {b}"));
                }
                if let Some(at) = &f.scheduled_at {
                    s.push_str(&format!(" at {at}"));
                }
                s.trim().to_string()
            }),
            config: BTreeMap::new(),
            config_secrets: BTreeMap::new(),
        }
    }

    fn on_dcs(&mut self, at: Instant, ev: DcsEvent) -> Vec<Effect> {
        let mut members_changed = false;
        match ev {
            DcsEvent::Connecting { endpoint } => {
                if let DcsHealth::Connecting { .. } = self.dcs {
                    self.dcs = DcsHealth::Connecting {
                        endpoint,
                        since: at,
                    };
                }
            }
            DcsEvent::Snapshot {
                endpoint,
                revision,
                kvs,
            } => {
                let before: Vec<(String, Vec<String>)> = self
                    .clusters
                    .iter_mut()
                    .map(|(scope, c)| (scope.clone(), c.reset_dcs()))
                    .collect();
                for kv in kvs {
                    self.put(&kv.key, &kv.value, kv.lease, at);
                }
                // members not present again are gone (a put takes a member out of `gone`)
                for (scope, names) in before {
                    if let Some(c) = self.clusters.get_mut(&scope) {
                        for name in names {
                            if !c.members.contains_key(&name) {
                                c.mark_gone(name, at);
                            }
                        }
                    }
                }
                self.loaded = true;
                members_changed = true;
                if self.watched_lease == 0 {
                    // etcd v2: the leader key's TTL follows the snapshot (`DcsEvent::Ttl`)
                    self.lease_ttl = None;
                }
                self.dcs = DcsHealth::Live {
                    endpoint,
                    since: at,
                    revision,
                };
                // a new snapshot is etcd's word afresh (a restored etcd may count lower)
                self.dcs_head = revision;
                self.dcs_applied = revision;
                self.dcs_newest = revision;
                self.note_revisions(at);
                let mut eff = self.rest_only_etcd_back();
                eff.extend(self.after_dcs_change(members_changed));
                return eff;
            }
            DcsEvent::Put(kv) => members_changed = self.put(&kv.key, &kv.value, kv.lease, at),
            DcsEvent::Delete { key } => {
                if let Some((scope, rel)) = dcs::split_key(&self.namespace, &key)
                    && let Some(c) = self.clusters.get_mut(scope)
                {
                    members_changed = c.delete(rel, at);
                    if scope == self.scope && rel == "leader" && self.watched_lease == 0 {
                        // etcd v2: no leader key, no lock
                        self.lease_ttl = None;
                        self.mark(Changed::LEASE);
                    }
                }
            }
            DcsEvent::Resumed { endpoint, revision } => {
                // (the REST-only fallback cannot have replaced etcd's keys meanwhile: a
                // watch resumes within seconds of breaking, the fallback starts later)
                self.dcs = DcsHealth::Live {
                    endpoint,
                    since: at,
                    revision,
                };
                // the events after `revision` follow; the head is known only when they come
                self.dcs_applied = revision;
                self.note_revisions(at);
                self.mark(Changed::HEADER);
                let mut eff = self.rest_only_etcd_back();
                eff.extend(self.after_dcs_change(false));
                return eff;
            }
            DcsEvent::Probing => return Vec::new(),
            DcsEvent::Ttl { key, ttl } => {
                // etcd v2: the lock countdown is the leader key's own TTL (v3 asks for the
                // lease's, `InfoEvent::LeaseTtl`, and sends no `Ttl`)
                if self.watched_lease == 0
                    && dcs::split_key(&self.namespace, &key)
                        .is_some_and(|(scope, rel)| scope == self.scope && rel == "leader")
                {
                    let granted = self
                        .cluster()
                        .and_then(|c| c.config.as_ref())
                        .and_then(|k| k.ttl)
                        .and_then(|t| i64::try_from(t).ok())
                        .map_or(ttl, |t| t.max(ttl));
                    self.lease_ttl = Some((0, ttl, granted, at));
                    self.mark(Changed::LEASE);
                }
                return Vec::new();
            }
            DcsEvent::Progress { revision } => {
                // the revision is small print: the next frame drawn for anything else shows
                // it (on etcd v2 every rewrite moves the index; that must not cost a frame)
                if let DcsHealth::Live { revision: r, .. } = &mut self.dcs {
                    *r = revision;
                }
                self.dcs_applied = self.dcs_applied.max(revision);
                self.dcs_head = self.dcs_head.max(revision);
                self.note_revisions(at);
            }
            DcsEvent::Head { revision } => {
                self.dcs_head = self.dcs_head.max(revision);
                self.note_revisions(at);
                return Vec::new();
            }
            DcsEvent::Newest { revision, backlog } => {
                if backlog {
                    // a queue to work through: certainly behind, no grace
                    self.dcs_head = self.dcs_head.max(revision);
                }
                self.dcs_newest = self.dcs_newest.max(revision);
                self.note_revisions(at);
                return Vec::new();
            }
            DcsEvent::Skipped { key, size, limit } => {
                if let Some((scope, rel)) = dcs::split_key(&self.namespace, &key)
                    && let Some(c) = self.clusters.get_mut(scope)
                {
                    c.skipped(rel, size, limit);
                }
                return Vec::new();
            }
            DcsEvent::Down { endpoint, error } => {
                let last_live = match &self.dcs {
                    DcsHealth::Live { .. } => Some(at),
                    DcsHealth::Down { last_live, .. } => *last_live,
                    DcsHealth::Connecting { .. } => None,
                };
                let since = match &self.dcs {
                    DcsHealth::Down { since, .. } => *since,
                    _ => at,
                };
                self.dcs = DcsHealth::Down {
                    endpoint,
                    error: crate::text::sanitize(&error),
                    since,
                    last_live,
                };
            }
        }
        self.after_dcs_change(members_changed)
    }

    /// After the cluster's keys changed (from etcd or from a `/cluster` answer): what to
    /// poll, follow and ask.
    fn after_dcs_change(&mut self, members_changed: bool) -> Vec<Effect> {
        // the poll set also follows the leader and sync keys: bounded work, asked every time
        let mut eff = self.poll_effect();
        if members_changed {
            // planned once the queue is drained (`Msg::Drained`), not per key
            self.follow_due = true;
            eff.extend(self.cluster_poll_effect());
        }
        let lease = self.cluster().map(|c| c.leader_lease).unwrap_or(0);
        if lease != self.watched_lease {
            self.watched_lease = lease;
            self.lease_ttl = None;
            eff.push(Effect::WatchLease(lease));
        }
        eff
    }

    pub(super) fn put(&mut self, key: &str, value: &[u8], lease: i64, at: Instant) -> bool {
        let Some((scope, rel)) = dcs::split_key(&self.namespace, key) else {
            return false;
        };
        self.clusters
            .entry(scope.to_string())
            .or_default()
            .put(rel, value, lease, at)
    }

    /// At most this many members' REST APIs are polled at once: what etcd holds must not
    /// decide how many connections, tasks and file descriptors patrol keeps (a few
    /// thousand junk member keys made it poll every one of them).
    pub const MAX_POLLED: usize = 64;

    /// The members polled now: (member, api_url), by name.
    pub fn polled(&self) -> &[(String, String)] {
        &self.polled
    }

    /// Members of the cluster on screen whose key names an API to poll.
    pub fn pollable(&self) -> usize {
        self.cluster().map(|c| c.with_api.len()).unwrap_or(0)
    }

    /// The members to poll, at most [`Model::MAX_POLLED`], best first: the leader, the
    /// synchronous standbys, members that have answered, members whose key is bound to a
    /// lease (as Patroni's are), then the rest by name. Each tier is read from an index,
    /// so this costs O(MAX_POLLED log n), not O(n).
    fn poll_set(&self) -> Vec<(String, String)> {
        let Some(c) = self.cluster() else {
            return Vec::new();
        };
        let sync = c
            .sync
            .iter()
            .flat_map(|s| s.sync_standby.iter().map(String::as_str));
        let answered = c.answered.iter().map(String::as_str);
        let tiers = c
            .leader
            .as_deref()
            .into_iter()
            .chain(sync)
            .chain(answered)
            .chain(c.leased_api.iter().map(String::as_str))
            .chain(c.with_api.iter().map(String::as_str));
        let mut want: BTreeMap<&str, &str> = BTreeMap::new();
        for name in tiers {
            if want.len() >= Self::MAX_POLLED {
                break;
            }
            if let Some(url) = c.members.get(name).and_then(|m| m.api_url.as_deref()) {
                want.insert(name, url);
            }
        }
        want.into_iter()
            .map(|(n, u)| (n.to_string(), u.to_string()))
            .collect()
    }

    /// The poll set follows the member keys of the cluster on screen.
    fn poll_effect(&mut self) -> Vec<Effect> {
        let want = self.poll_set();
        if want == self.polled {
            return Vec::new();
        }
        self.polled = want.clone();
        vec![Effect::PollMembers(want)]
    }

    /// The messages the model owns; keys, writes' replies and the rest belong to the app.
    fn apply(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Info(crate::dcs::info::InfoEvent::Endpoints(st)) => {
                if st != self.etcd_status {
                    self.etcd_status = st;
                    self.mark(Changed::ETCD);
                }
                Vec::new()
            }
            Msg::Info(crate::dcs::info::InfoEvent::LeaseTtl {
                lease,
                ttl,
                granted,
                at,
            }) => {
                self.now = self.now.max(at);
                if lease == self.watched_lease {
                    self.lease_ttl = Some((lease, ttl, granted, at));
                    self.mark(Changed::LEASE);
                }
                Vec::new()
            }
            Msg::Log(line) => {
                self.changed.log_of = Some(line.member.clone());
                self.logs.push(line);
                Vec::new()
            }
            Msg::Tick(now) => {
                let quiet = self.unanswered().map(|d| d.as_secs());
                let gap = self.revision_gap().map(|g| g.0);
                let checking = self.newest_unconfirmed();
                self.now = now;
                self.mark(Changed::CLOCK);
                self.changes.expire(now);
                // a gap from etcd's newest revision shows once its grace is over, and
                // `checking` once it has stood unconfirmed a moment
                if gap != self.revision_gap().map(|g| g.0) || checking != self.newest_unconfirmed()
                {
                    self.mark(Changed::HEADER);
                }
                // a hung endpoint's silence counts up in the header
                if quiet != self.unanswered().map(|d| d.as_secs()) {
                    self.mark(Changed::HEADER);
                }
                // bounded memory: gone rows expire, trends of members that left go with them
                let mut expired = false;
                for c in self.clusters.values_mut() {
                    expired |= c.expire_gone(now);
                }
                if expired {
                    self.mark(Changed::CLUSTER);
                }
                if let Some(c) = self.clusters.get(&self.scope) {
                    self.lag_history.retain(|m, _| c.members.contains_key(m));
                }
                let mut eff = self.rest_only_tick();
                if self.follow_due || self.follower_expired() {
                    eff.extend(self.plan_followers());
                }
                eff
            }
            Msg::RestCluster { from, at, result } => {
                self.now = self.now.max(at);
                let changed = self.on_rest_cluster(from, at, result);
                if changed {
                    self.mark(Changed::CLUSTER);
                }
                self.after_dcs_change(changed)
            }
            Msg::Now(t) => {
                self.now = self.now.max(t);
                self.applied_at = Some(t);
                Vec::new()
            }
            Msg::Dcs(at, ev) => {
                if let Some(t) = self.applied_at.take() {
                    self.note_delay(t.saturating_duration_since(at));
                }
                if matches!(ev, DcsEvent::Probing) {
                    self.dcs_probing = self.dcs_probing.or(Some(at));
                } else {
                    if self.unanswered().is_some() {
                        self.mark(Changed::HEADER);
                    }
                    self.dcs_probing = None;
                    // a try or a failure is the source speaking, not etcd: it confirms
                    // nothing (the sign of life moved every second while etcd was down)
                    if !matches!(ev, DcsEvent::Connecting { .. } | DcsEvent::Down { .. }) {
                        self.dcs_heard = Some(at);
                    }
                }
                self.now = self.now.max(at);
                // (whether it redraws is decided in `update`, from what it touches)
                self.on_dcs(at, ev)
            }
            Msg::Rest { member, at, result } => self.on_rest(member, at, result),
            Msg::OpReply { at, .. } => {
                self.now = self.now.max(at);
                Vec::new()
            }
            Msg::Drained(now) => self.drained(now),
            Msg::Haproxy { source, at, result } => {
                self.now = self.now.max(at);
                let cluster = self.clusters.get(&self.scope);
                if self.routing.on_stats(source, at, result, cluster) {
                    self.mark(Changed::ROUTING);
                }
                Vec::new()
            }
            Msg::Health {
                member,
                at,
                answers,
            } => {
                self.now = self.now.max(at);
                if self.routing.on_health(&member, at, answers) {
                    self.mark(Changed::ROUTING);
                }
                Vec::new()
            }
            Msg::Key(..) | Msg::Paste(..) | Msg::Resize(..) | Msg::Shutdown(_) | Msg::Wrote(_) => {
                Vec::new()
            }
        }
    }

    fn on_rest(
        &mut self,
        member: String,
        at: Instant,
        result: Result<Box<PatroniStatus>, String>,
    ) -> Vec<Effect> {
        self.now = self.now.max(at);
        let sample = result.is_ok();
        let name = member.clone();
        let mut first_answer = false;
        let mut changed = Changed::default();
        // an answer that repeats the last one can still pair with another member's (the
        // leader's with every replica's): the lag figures it moves are drawn too, or the
        // table and the checks would show a figure the model no longer has
        let paired = if sample {
            self.pairs_with(&member)
        } else {
            Vec::new()
        };
        let lags_before = self.lag_figures(&paired);
        if let Some(c) = self.clusters.get_mut(&self.scope)
            && c.members.contains_key(&member)
        {
            if sample {
                first_answer = c.answered.insert(member.clone());
                self.rest_heard = Some(at);
            }
            let r = c.rest.entry(member).or_default();
            let was_failing = r.failing().is_some();
            // say what changed: most answers repeat the last one
            match result {
                Ok(s) => {
                    let same_but_last_seen = r.ok.as_ref().is_some_and(|(_, old)| {
                        PatroniStatus {
                            dcs_last_seen: None,
                            ..old.clone()
                        } == PatroniStatus {
                            dcs_last_seen: None,
                            ..(*s).clone()
                        }
                    });
                    let last_seen_moved =
                        r.ok.as_ref()
                            .is_some_and(|(_, old)| old.dcs_last_seen != s.dcs_last_seen);
                    r.record(at, &s);
                    r.ok = Some((at, *s));
                    if !same_but_last_seen || was_failing {
                        changed.mark(Changed::CLUSTER);
                    } else if last_seen_moved {
                        // `dcs_last_seen` moves every loop_wait: only the detail shows it
                        changed.detail_of = Some(name.clone());
                    }
                }
                Err(e) => {
                    let same = r.error.as_ref().is_some_and(|(_, old)| *old == e);
                    r.error = Some((at, e));
                    if !same || !was_failing {
                        changed.mark(Changed::CLUSTER);
                    }
                }
            }
        }
        if !changed.has(Changed::CLUSTER) && self.lag_figures(&paired) != lags_before {
            changed.mark(Changed::CLUSTER);
        }
        self.changed |= changed;
        if sample {
            self.sample_lag(&name);
        }
        // a member that answers ranks above keys that never did
        if first_answer {
            self.poll_effect()
        } else {
            Vec::new()
        }
    }
}
