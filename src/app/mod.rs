//! The pure model: all state, one message enum, one `update` that returns effects.
//! No IO here; time arrives in messages.

pub mod checks;
pub mod cluster;
pub mod dialog;
pub mod events;
mod follow;
pub mod keymap;
pub mod members;
pub mod ops;
mod plan;

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::dcs::{self, DcsEvent};
use crate::patroni::PatroniStatus;
pub use cluster::{ClusterState, RestState};
use dialog::{Dialog, Field, Step};
pub use follow::{FOLLOW_GONE_FOR, MAX_LOG_FOLLOWERS};
use keymap::{Action, Keymap};
pub use members::{MemberRow, Role};
use ops::{OpKind, Operation, Reply, Request, Rollout, RolloutState, RolloutStep, Settle};
pub use plan::Plan;

/// Everything that can happen to the app.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resize,
    /// The clock: ages on screen tick over.
    Tick(Instant),
    /// An etcd change, with when the watch received it.
    Dcs(Instant, DcsEvent),
    /// The runtime's clock as it applies the next message: with the time an etcd change
    /// was received, how far the screen is behind etcd.
    Now(Instant),
    Rest {
        member: String,
        at: Instant,
        result: Result<Box<PatroniStatus>, String>,
    },
    /// SIGTERM, SIGHUP, SIGINT, or the terminal went away.
    Shutdown(String),
    /// Patroni's answer to an operation's request.
    OpReply {
        op: u64,
        at: Instant,
        reply: Reply,
    },
    /// etcd endpoint health and the leader lease's TTL.
    Info(crate::dcs::info::InfoEvent),
    /// A line from a member's Patroni log.
    Log(crate::logs::LogLine),
    /// A file was written (or not).
    Wrote(Result<std::path::PathBuf, String>),
}

/// What the runtime should do on the app's behalf.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Poll exactly these members' REST APIs: (member, api_url). Replaces the previous set.
    PollMembers(Vec<(String, String)>),
    /// Send this request once, never retried; answer with `Msg::OpReply`. Only ever
    /// produced by a confirmation in a dialog. `intent` is the audit line the runtime must
    /// append and flush to disk before the request leaves; if it cannot, nothing is sent and
    /// the reply is `NotSent` saying why.
    Send {
        op: u64,
        request: Request,
        intent: serde_json::Value,
    },
    /// Append one line to the audit log (the runtime adds time and user).
    Audit(serde_json::Value),
    /// Ask for the TTL of this lease (the leader key's; 0: none).
    WatchLease(i64),
    /// Follow these members' logs from these sources. Replaces the previous set.
    FollowLogs(Vec<(crate::logs::SafeMember, crate::logs::ResolvedSource)>),
    /// Put this (sanitized) warning in patrol's own log.
    LogWarning(String),
    /// Put this text on the terminal's clipboard (OSC 52: works over SSH).
    Copy(String),
    /// Write a file; answer with `Msg::Wrote`.
    WriteFile {
        path: std::path::PathBuf,
        content: String,
    },
}

/// What fills the screen under the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Main,
    Detail(String),
    History,
    Config,
    Etcd,
    /// One member's Patroni log, or all members merged by time (None).
    Logs(Option<String>),
    /// Connection strings; the index of the selected one.
    Dsn(usize),
    /// patrol's own diagnostic log.
    OwnLog,
}

/// The log view's own state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogView {
    pub follow: bool,
    pub wrap: bool,
    pub filter: String,
    pub editing_filter: bool,
    /// Lines scrolled up from the end (0 = the newest at the bottom).
    pub scroll: usize,
}

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

/// What part of the event-log summary a message can change.
enum Touch {
    Nothing,
    Member(String),
    All,
}

#[derive(Debug, Clone)]
pub struct App {
    /// The summary the event log compares the next change with.
    news_baseline: events::Summary,
    /// The leader-lock seconds last put on screen.
    lock_shown: Option<(i64, i64)>,
    /// Bytes of text in `events`.
    events_bytes: usize,
    /// How late the last etcd change was applied after the watch received it, when that
    /// was noticeable: the screen is behind etcd.
    dcs_behind: Option<Duration>,
    /// When the runtime applies the next etcd change (`Msg::Now`).
    applied_at: Option<Instant>,
    /// The cluster on screen (the config's scope).
    pub scope: String,
    pub namespace: String,
    pub endpoints: Vec<String>,
    /// Keyed by cluster name so a namespace-wide view can follow.
    pub clusters: BTreeMap<String, ClusterState>,
    pub dcs: DcsHealth,
    /// Has a snapshot ever arrived?
    pub loaded: bool,
    /// The selected member, by name: rows reorder when the leader changes.
    pub selected: Option<String>,
    pub view: View,
    pub show_help: bool,
    pub keymap: Keymap,
    pub read_only: bool,
    pub rest_interval: Duration,
    pub now: Instant,
    /// Something on screen changed since the last draw.
    pub dirty: bool,
    pub quit: Option<String>,
    /// The open operation dialog, if any.
    pub dialog: Option<Dialog>,
    /// Operations sent in this session, newest last.
    pub ops: Vec<Operation>,
    /// A rolling restart in progress (or the last one).
    pub rollout: Option<Rollout>,
    /// What changed, newest last; bounded.
    pub events: VecDeque<events::Event>,
    /// Wall-clock time at `started`, to print event times (None in tests: relative times).
    pub wall0: Option<SystemTime>,
    /// Each etcd endpoint's last status answer.
    pub etcd_status: Vec<crate::dcs::info::EndpointStatus>,
    /// (lease, ttl, granted, when asked) of the leader key's lease.
    pub lease_ttl: Option<(i64, i64, i64, Instant)>,
    /// Recent live replay lag of each replica, one sample per REST answer, oldest first.
    pub lag_history: BTreeMap<String, VecDeque<u64>>,
    /// Agent log lines of every followed member (bounded).
    pub logs: crate::logs::LogBuffer,
    pub log_view: LogView,
    /// Are log sources configured at all?
    pub logs_configured: bool,
    /// Why members' logs are not followed: key (`members/NAME`, or `logs`) -> message.
    /// Shown with the key warnings.
    pub log_warnings: BTreeMap<String, String>,
    /// Where exported event logs go.
    pub export_dir: std::path::PathBuf,
    watched_lease: i64,
    /// `--logs` and its per-member overrides.
    log_sources: (
        Option<crate::logs::LogSourceSpec>,
        BTreeMap<String, crate::logs::LogSourceSpec>,
    ),
    followed: BTreeMap<crate::logs::SafeMember, crate::logs::ResolvedSource>,
    /// A one-line message for the status bar (refusals, "nothing scheduled" ...).
    pub flash: Option<(String, Instant)>,
    next_op: u64,
    polled: Vec<(String, String)>,
    /// The second-resolution clock last drawn: ages only change when it does.
    drawn_second: u64,
    started: Instant,
}

impl App {
    pub fn new(scope: &str, namespace: &str, endpoints: Vec<String>, now: Instant) -> App {
        let mut clusters = BTreeMap::new();
        clusters.insert(scope.to_string(), ClusterState::default());
        App {
            scope: scope.to_string(),
            namespace: namespace.to_string(),
            dcs: DcsHealth::Connecting {
                endpoint: endpoints.first().cloned().unwrap_or_default(),
                since: now,
            },
            endpoints,
            clusters,
            loaded: false,
            selected: None,
            view: View::Main,
            show_help: false,
            keymap: Keymap::default(),
            read_only: false,
            rest_interval: Duration::from_secs(1),
            now,
            dirty: true,
            quit: None,
            dialog: None,
            ops: Vec::new(),
            rollout: None,
            events: VecDeque::new(),
            wall0: None,
            etcd_status: Vec::new(),
            lease_ttl: None,
            lag_history: BTreeMap::new(),
            logs: crate::logs::LogBuffer::default(),
            log_view: LogView {
                follow: true,
                ..Default::default()
            },
            logs_configured: false,
            log_warnings: BTreeMap::new(),
            log_sources: (None, BTreeMap::new()),
            export_dir: std::env::temp_dir(),
            watched_lease: 0,
            followed: BTreeMap::new(),
            flash: None,
            next_op: 1,
            polled: Vec::new(),
            drawn_second: 0,
            started: now,
            news_baseline: events::Summary::default(),
            lock_shown: None,
            events_bytes: 0,
            dcs_behind: None,
            applied_at: None,
        }
    }

    pub fn cluster(&self) -> Option<&ClusterState> {
        self.clusters.get(&self.scope)
    }

    pub fn rows(&self) -> Vec<MemberRow> {
        self.cluster()
            .map(|c| members::member_rows(c, self.now, self.rest_interval))
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
            _ => None,
        }
    }

    /// The row of the selected member (the first row when none or it vanished).
    pub fn selected_index(&self, rows: &[MemberRow]) -> usize {
        self.selected
            .as_ref()
            .and_then(|n| rows.iter().position(|r| &r.name == n))
            .unwrap_or(0)
    }

    /// An etcd change applied later than this after the watch received it means the screen
    /// is behind etcd, and the header says so instead of `live`.
    pub const BEHIND_AFTER: Duration = Duration::from_secs(1);

    /// How far behind etcd the screen is, when it is noticeably (see [`App::BEHIND_AFTER`]).
    pub fn behind(&self) -> Option<Duration> {
        self.dcs_behind
    }

    fn note_delay(&mut self, late: Duration) {
        let behind = (late > Self::BEHIND_AFTER).then_some(late);
        if behind.map(|d| d.as_secs()) != self.dcs_behind.map(|d| d.as_secs()) {
            self.dirty = true;
        }
        self.dcs_behind = behind;
    }

    /// Is any age (which changes by itself as time passes) on screen?
    fn clock_on_screen(&self) -> bool {
        // (patrol's own log is read from its buffer when drawn: refresh it with the clock)
        if !matches!(self.dcs, DcsHealth::Live { .. }) || self.view == View::OwnLog {
            return true;
        }
        self.rows().iter().any(|r| {
            r.gone.is_some()
                || matches!(r.rest, members::RestHealth::Unreachable { .. })
                || r.lag_age.is_some()
                || (matches!(r.lag_source, members::LagSource::Dcs(_))
                    && (r.receive_lag.is_some() || r.replay_lag.is_some()))
        })
    }

    /// Has every member with an API URL answered (or failed) at least once?
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

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let touch = self.touches(&msg);
        // An etcd change redraws when it touches the cluster on screen: keys of other
        // clusters in the namespace do not, nor does a progress notification (unless its
        // revision moved, which `on_dcs` sees).
        let dcs_news = matches!(msg, Msg::Dcs(..)) && !matches!(touch, Touch::Nothing);
        let mut eff = self.apply(msg);
        self.dirty |= dcs_news;
        match touch {
            Touch::Nothing => {}
            Touch::All => {
                let after = self.summary();
                let news = events::diff(&self.news_baseline, &after);
                self.news_baseline = after.carry(&self.news_baseline);
                for kind in news {
                    self.push_event(kind);
                }
            }
            Touch::Member(name) => self.member_news(name),
        }
        eff.extend(self.settle_ops());
        eff
    }

    /// Which part of the event-log summary a message can change. A member key or a REST
    /// answer changes one member (and the cluster-wide fields); keys of other clusters in
    /// the namespace change nothing on screen. Comparing whole-cluster summaries for every
    /// message cost milliseconds per event at 1000 members (see bench/analysis.md).
    fn touches(&self, msg: &Msg) -> Touch {
        let key = match msg {
            Msg::Tick(_) => return Touch::All,
            Msg::Rest { member, .. } => return Touch::Member(member.clone()),
            Msg::Dcs(_, DcsEvent::Put(kv)) => kv.key.as_str(),
            Msg::Dcs(_, DcsEvent::Delete { key }) => key.as_str(),
            Msg::Dcs(_, DcsEvent::Progress { .. }) => return Touch::Nothing,
            Msg::Dcs(..) => return Touch::All,
            _ => return Touch::Nothing,
        };
        match dcs::split_key(&self.namespace, key) {
            Some((scope, _)) if scope != self.scope => Touch::Nothing,
            Some((_, rel)) => match rel.strip_prefix("members/") {
                Some(name) if !name.is_empty() && !name.contains('/') => {
                    Touch::Member(name.to_string())
                }
                _ => Touch::All,
            },
            None => Touch::Nothing,
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
        let members = std::mem::take(&mut self.news_baseline.members);
        let config = std::mem::take(&mut self.news_baseline.config);
        let mine = after.members.remove(&name);
        self.news_baseline = events::Summary {
            members,
            config,
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

    fn push_event(&mut self, kind: events::EventKind) {
        let kind = kind.clipped(Self::MAX_EVENT_FIELD);
        self.events_bytes += kind.text().len();
        self.events.push_back(events::Event { at: self.now, kind });
        while self.events.len() > Self::MAX_EVENTS
            || (self.events_bytes > Self::MAX_EVENT_BYTES && self.events.len() > 1)
        {
            let Some(old) = self.events.pop_front() else {
                break;
            };
            self.events_bytes = self.events_bytes.saturating_sub(old.kind.text().len());
        }
        self.dirty = true;
    }

    /// Bytes of text in the event log (what [`App::MAX_EVENT_BYTES`] bounds).
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

    pub const LAG_SAMPLES: usize = 120;
    /// Samples in the trend column.
    pub const TREND_WIDTH: usize = 10;

    /// Remember a replica's live replay lag (for the trend column).
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
        let h = self.lag_history.entry(member.to_string()).or_default();
        let shown = |h: &VecDeque<u64>| -> Vec<u64> {
            h.iter().rev().take(Self::TREND_WIDTH).copied().collect()
        };
        let before = shown(h);
        if h.len() >= Self::LAG_SAMPLES {
            h.pop_front();
        }
        h.push_back(lag);
        // the trend column shows the last few samples: redraw only when they change
        if shown(h) != before {
            self.dirty = true;
        }
    }

    /// Connection strings without passwords: (label, string). Read-write goes to the
    /// leader; read-only lists the streaming replicas (libpq picks one).
    pub fn connection_strings(&self) -> Vec<(String, String)> {
        let rows = self.rows();
        let mut out = Vec::new();
        let hp = |r: &MemberRow| match r.port {
            Some(p) => format!("{}:{p}", r.host),
            None => r.host.clone(),
        };
        if let Some(l) = rows.iter().find(|r| r.role.is_leader()) {
            let port = l.port.map(|p| format!(" port={p}")).unwrap_or_default();
            out.push((
                format!("read-write (leader {})", l.name),
                format!("host={}{port}", l.host),
            ));
            out.push((
                "read-write, any member (libpq picks the primary)".into(),
                format!(
                    "postgresql://{}/postgres?target_session_attrs=read-write",
                    rows.iter()
                        .filter(|r| r.gone.is_none())
                        .map(hp)
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            ));
        }
        let replicas: Vec<String> = rows
            .iter()
            .filter(|r| !r.role.is_leader() && r.gone.is_none() && r.state == "streaming")
            .map(hp)
            .collect();
        if !replicas.is_empty() {
            out.push((
                "read-only (streaming replicas)".into(),
                format!(
                    "postgresql://{}/postgres?target_session_attrs=standby",
                    replicas.join(",")
                ),
            ));
        }
        for r in rows.iter().filter(|r| r.gone.is_none()) {
            let port = r.port.map(|p| format!(" port={p}")).unwrap_or_default();
            out.push((
                format!("{} ({})", r.name, r.role.label()),
                format!("host={}{port}", r.host),
            ));
        }
        out
    }

    /// Redraw when the lock's seconds on screen change: Patroni renews the lock every
    /// loop_wait, so an idle healthy cluster shows the same figure for ever.
    fn lock_changed(&mut self) {
        let now = self.lock_left();
        if now != self.lock_shown {
            self.lock_shown = now;
            self.dirty = true;
        }
    }

    /// Seconds left on the leader's lock, counting down between answers from etcd.
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

    /// Tests pin the wall clock to a known instant.
    #[cfg(test)]
    pub(crate) fn started_at_for_tests(&mut self, at: Instant) {
        self.started = at;
    }

    /// Replay lag in time: how long ago the last replayed transaction committed, counted
    /// only while the replica is behind in bytes (an idle primary commits nothing, and a
    /// caught-up replica is not "behind" however old its last transaction is).
    pub fn replay_delay(&self, r: &MemberRow) -> Option<Duration> {
        if r.role.is_leader() || r.lag_source != members::LagSource::Live {
            return None;
        }
        if r.replay_lag? == 0 {
            return Some(Duration::ZERO);
        }
        let ts = self
            .cluster()?
            .rest
            .get(&r.name)?
            .ok
            .as_ref()?
            .1
            .xlog
            .replayed_timestamp
            .clone()?;
        // PostgreSQL's format: `2026-11-26 00:24:45.123+00` (short zone)
        let t = ts.replacen(' ', "T", 1);
        let t = if t.ends_with("+00") {
            format!("{}Z", &t[..t.len() - 3])
        } else {
            t
        };
        self.age_of_timestamp(&t)
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
        }
        s.members = self
            .rows()
            .iter()
            .filter(|r| r.gone.is_none())
            .map(|r| (r.name.clone(), events::member_summary(r)))
            .collect();
        s
    }

    /// The cluster-wide part of [`App::summary`] (no members, no config).
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
        }
    }

    fn apply(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(ev) => {
                if ev.kind == KeyEventKind::Release {
                    return Vec::new();
                }
                // a message in the status bar lasts until the next key
                if self.flash.take().is_some() {
                    self.dirty = true;
                }
                if self.dialog.is_some() {
                    return self.dialog_key(ev);
                }
                if matches!(self.view, View::Logs(_)) && self.logs_key(&ev) {
                    return Vec::new();
                }
                if let View::Dsn(i) = self.view {
                    let n = self.connection_strings().len();
                    match ev.code {
                        KeyCode::Char('j') | KeyCode::Down => {
                            self.view = View::Dsn((i + 1).min(n.saturating_sub(1)))
                        }
                        KeyCode::Char('k') | KeyCode::Up => {
                            self.view = View::Dsn(i.saturating_sub(1))
                        }
                        KeyCode::Char('y') | KeyCode::Enter => {
                            if let Some((label, s)) = self.connection_strings().get(i).cloned() {
                                // OSC 52 has no answer: whether the terminal (or tmux, or
                                // the far end of SSH) put it on a clipboard is unknowable
                                self.flash(format!(
                                    "sent {label} to the terminal's clipboard (OSC 52)"
                                ));
                                return vec![Effect::Copy(s)];
                            }
                        }
                        _ => {}
                    }
                    self.dirty = true;
                }
                match self.keymap.action(&ev) {
                    Some(a) => self.act(a),
                    None => Vec::new(),
                }
            }
            Msg::Info(crate::dcs::info::InfoEvent::Endpoints(st)) => {
                if st != self.etcd_status {
                    self.etcd_status = st;
                    self.dirty |= self.view == View::Etcd;
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
                    self.lock_changed();
                }
                Vec::new()
            }
            Msg::Wrote(r) => {
                match r {
                    Ok(p) => self.flash(format!("written: {}", p.display())),
                    Err(e) => self.flash(format!("could not write: {e}")),
                }
                Vec::new()
            }
            Msg::Log(line) => {
                let shown = match &self.view {
                    View::Logs(None) => true,
                    View::Logs(Some(m)) => *m == line.member,
                    _ => false,
                };
                self.logs.push(line);
                self.dirty |= shown;
                Vec::new()
            }
            Msg::OpReply { op, at, reply } => {
                self.now = self.now.max(at);
                if let Some(o) = self.ops.iter_mut().find(|o| o.id == op) {
                    o.reply = Some(reply);
                    self.dirty = true;
                }
                Vec::new()
            }
            Msg::Resize => {
                self.dirty = true;
                Vec::new()
            }
            Msg::Tick(now) => {
                self.now = now;
                // bounded memory: gone rows expire, trends of members that left go with them
                for c in self.clusters.values_mut() {
                    self.dirty |= c.expire_gone(now);
                }
                if let Some(c) = self.clusters.get(&self.scope) {
                    self.lag_history.retain(|m, _| c.members.contains_key(m));
                }
                let second = now.saturating_duration_since(self.started).as_secs();
                // Only redraw for the clock when an age is actually on screen: an idle,
                // healthy cluster costs nothing.
                if second != self.drawn_second {
                    self.drawn_second = second;
                    if self.clock_on_screen() {
                        self.dirty = true;
                    }
                    // the lock counts down between answers from etcd
                    self.lock_changed();
                }
                if self.follower_expired() {
                    return self.follow_effect();
                }
                Vec::new()
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
                self.now = self.now.max(at);
                // (whether it redraws is decided in `update`, from what it touches)
                self.on_dcs(at, ev)
            }
            Msg::Rest { member, at, result } => {
                self.now = self.now.max(at);
                let sample = result.is_ok();
                let name = member.clone();
                let detail_open = self.view == View::Detail(member.clone());
                let mut first_answer = false;
                if let Some(c) = self.clusters.get_mut(&self.scope)
                    && c.members.contains_key(&member)
                {
                    if sample {
                        first_answer = c.answered.insert(member.clone());
                    }
                    let r = c.rest.entry(member).or_default();
                    let was_failing = r.failing().is_some();
                    // redraw only when what is shown can change
                    let changed = match result {
                        Ok(s) => {
                            // `dcs_last_seen` moves every loop_wait; only the detail view shows it
                            let same = r.ok.as_ref().is_some_and(|(_, old)| {
                                old.dcs_last_seen == s.dcs_last_seen || !detail_open
                            } && PatroniStatus {
                                dcs_last_seen: None,
                                ..old.clone()
                            } == PatroniStatus {
                                dcs_last_seen: None,
                                ..(*s).clone()
                            });
                            r.record(at, &s);
                            r.ok = Some((at, *s));
                            !same || was_failing
                        }
                        Err(e) => {
                            let same = r.error.as_ref().is_some_and(|(_, old)| *old == e);
                            r.error = Some((at, e));
                            !same || !was_failing
                        }
                    };
                    self.dirty |= changed;
                }
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
            Msg::Shutdown(why) => {
                self.dialog = None;
                self.quit = Some(why);
                Vec::new()
            }
        }
    }

    fn act(&mut self, a: Action) -> Vec<Effect> {
        if a.is_mutating() && self.read_only {
            self.flash(format!(
                "read-only: {} refused, nothing sent",
                a.describe().split(':').next().unwrap_or("")
            ));
            return Vec::new();
        }
        let rows = self.rows();
        let n = rows.len();
        let i = self.selected_index(&rows);
        let pick = |i: usize| rows.get(i).map(|r| r.name.clone());
        self.dirty = true;
        match a {
            Action::Up | Action::Down => {
                let j = if a == Action::Up {
                    i.saturating_sub(1)
                } else {
                    (i + 1).min(n.saturating_sub(1))
                };
                self.selected = pick(j);
                // the detail view follows the selection
                if let (View::Detail(_), Some(m)) = (&self.view, pick(j)) {
                    self.view = View::Detail(m);
                }
            }
            Action::Top => self.selected = pick(0),
            Action::Bottom => self.selected = pick(n.saturating_sub(1)),
            Action::Help => self.show_help = !self.show_help,
            Action::Back => {
                if self.show_help || self.flash.is_some() {
                    self.show_help = false;
                    self.flash = None;
                } else {
                    self.view = View::Main;
                }
            }
            Action::Detail => {
                if let Some(m) = pick(i) {
                    self.view = View::Detail(m);
                }
            }
            Action::Dsn => self.view = View::Dsn(0),
            Action::OwnLog => {
                self.view = if self.view == View::OwnLog {
                    View::Main
                } else {
                    View::OwnLog
                }
            }
            Action::ExportEvents => {
                let stamp = self.wall_now_unix().unwrap_or(0);
                let path = self
                    .export_dir
                    .join(format!("patrol-events-{}-{stamp}.txt", self.scope));
                let content: String = self
                    .events
                    .iter()
                    // a file someone will `cat`: one event per line, nothing for the terminal
                    .map(|e| {
                        format!(
                            "{} {}\n",
                            self.clock(e.at),
                            crate::text::sanitize(&e.kind.text())
                        )
                    })
                    .collect();
                return vec![Effect::WriteFile { path, content }];
            }
            Action::Etcd => {
                self.view = if self.view == View::Etcd {
                    View::Main
                } else {
                    View::Etcd
                }
            }
            Action::Logs | Action::AllLogs => {
                if !self.logs_configured {
                    self.flash(
                        "no log source: start patrol with --logs file:/var/log/patroni/{member}.log (or cmd:...)".into(),
                    );
                } else {
                    self.view = View::Logs(if a == Action::Logs { pick(i) } else { None });
                    self.log_view.scroll = 0;
                }
            }
            Action::History => {
                self.view = if self.view == View::History {
                    View::Main
                } else {
                    View::History
                }
            }
            Action::Config => {
                self.view = if self.view == View::Config {
                    View::Main
                } else {
                    View::Config
                }
            }
            Action::Quit => self.quit = Some("quit".into()),
            Action::Switchover => self.open(OpKind::Switchover, None),
            Action::Failover => self.open(OpKind::Failover, None),
            Action::Restart => self.open(OpKind::Restart, pick(i)),
            Action::Reload => self.open(OpKind::Reload, pick(i)),
            Action::RollingRestart => {
                if self
                    .rollout
                    .as_ref()
                    .is_some_and(|r| r.state == RolloutState::Running)
                {
                    self.flash("a rolling restart is already running".into());
                } else if self.rollout_steps(true).is_empty() {
                    self.flash("no member has a pending restart: nothing to roll".into());
                } else {
                    self.open(OpKind::RollingRestart, None)
                }
            }
            Action::Reinit => self.open(OpKind::Reinit, pick(i)),
            Action::Pause => {
                let paused = self.cluster().is_some_and(|c| c.is_paused());
                self.open(
                    if paused {
                        OpKind::Resume
                    } else {
                        OpKind::Pause
                    },
                    None,
                )
            }
            Action::Flush => {
                let member = pick(i);
                let scheduled_sw = self.cluster().is_some_and(|c| c.failover.is_some());
                let scheduled_restart = rows.get(i).is_some_and(|r| r.scheduled_restart.is_some());
                if scheduled_sw {
                    self.open(OpKind::FlushSwitchover, None)
                } else if scheduled_restart {
                    self.open(OpKind::FlushRestart, member)
                } else {
                    self.flash("nothing to flush: no scheduled switchover, and no scheduled restart on the selected member".into());
                }
            }
        }
        Vec::new()
    }

    /// Keys of the log view. Returns false for keys it leaves to the key map (quit, help,
    /// esc, other views); operation keys are not reachable from here on purpose: the log
    /// view uses `f` for follow.
    fn logs_key(&mut self, ev: &KeyEvent) -> bool {
        self.dirty = true;
        let lv = &mut self.log_view;
        if lv.editing_filter {
            match ev.code {
                KeyCode::Enter | KeyCode::Esc => lv.editing_filter = false,
                KeyCode::Backspace => {
                    lv.filter.pop();
                }
                KeyCode::Char(c)
                    if !ev.modifiers.contains(KeyModifiers::CONTROL) && lv.filter.len() < 100 =>
                {
                    lv.filter.push(c)
                }
                _ => {}
            }
            return true;
        }
        match ev.code {
            KeyCode::Char('f') => {
                lv.follow = !lv.follow;
                if lv.follow {
                    lv.scroll = 0;
                }
            }
            KeyCode::Char('w') => lv.wrap = !lv.wrap,
            KeyCode::Char('/') => lv.editing_filter = true,
            KeyCode::Char('k') | KeyCode::Up => {
                lv.follow = false;
                lv.scroll = lv.scroll.saturating_add(1);
            }
            KeyCode::Char('j') | KeyCode::Down => lv.scroll = lv.scroll.saturating_sub(1),
            KeyCode::PageUp => {
                lv.follow = false;
                lv.scroll = lv.scroll.saturating_add(20);
            }
            KeyCode::PageDown => lv.scroll = lv.scroll.saturating_sub(20),
            KeyCode::Char('G') | KeyCode::End => {
                lv.scroll = 0;
                lv.follow = true;
            }
            KeyCode::Esc if !lv.filter.is_empty() => lv.filter.clear(),
            KeyCode::Char('s' | 'r' | 'R' | 'L' | 'I' | 'p' | 'x') => {}
            _ => return false,
        }
        true
    }

    fn flash(&mut self, s: String) {
        self.flash = Some((s, self.now));
        self.dirty = true;
    }

    fn open(&mut self, kind: OpKind, member: Option<String>) {
        self.show_help = false;
        self.flash = None;
        let mut d = Dialog::new(kind, member);
        // the selection is a member, fixed now: the best candidate at the moment of opening
        if matches!(kind, OpKind::Switchover | OpKind::Failover) {
            d.candidate = self.plan(&d).candidates.first().map(|c| c.name.clone());
        }
        if d.step == Step::Confirm {
            d.shown = self.plan(&d).request;
        }
        self.dialog = Some(d);
    }

    /// Keys while a dialog is open. Returns the `Send` effect only on a valid confirmation.
    fn dialog_key(&mut self, ev: KeyEvent) -> Vec<Effect> {
        let Some(mut d) = self.dialog.take() else {
            return Vec::new();
        };
        self.dirty = true;
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && ev.code == KeyCode::Char('c') {
            self.quit = Some("quit".into());
            return Vec::new();
        }
        // a text field being edited takes every key
        if let Some(f) = d.editing {
            match ev.code {
                KeyCode::Enter | KeyCode::Esc | KeyCode::Tab => d.editing = None,
                KeyCode::Backspace => {
                    d.field_mut(f).pop();
                }
                KeyCode::Char(c) if !ctrl && d.field_mut(f).len() < 64 => d.field_mut(f).push(c),
                _ => {}
            }
            self.dialog = Some(d);
            return Vec::new();
        }
        let typed = d.step == Step::Confirm && d.kind.typed_confirmation();
        match (d.step, ev.code) {
            (_, KeyCode::Esc) => {
                if d.kind == OpKind::DcsSwitchover {
                    d.kind = OpKind::Switchover;
                    d.typed.clear();
                    d.armed = false;
                    d.notice = None;
                    d.shown = self.plan(&d).request;
                } else if d.step == Step::Confirm && d.kind.has_options() {
                    d.step = Step::Options;
                    d.typed.clear();
                    d.notice = None;
                } else {
                    return Vec::new(); // closed: nothing sent
                }
            }
            (Step::Options, KeyCode::Up | KeyCode::Char('k')) => {
                d.move_selection(&self.plan(&d).candidates, true)
            }
            (Step::Options, KeyCode::Down | KeyCode::Char('j')) => {
                d.move_selection(&self.plan(&d).candidates, false)
            }
            (Step::Options, KeyCode::Char('t'))
                if matches!(d.kind, OpKind::Switchover | OpKind::Restart) =>
            {
                d.editing = Some(Field::Schedule)
            }
            (Step::Options, KeyCode::Char('v')) if d.kind == OpKind::Restart => {
                d.editing = Some(Field::PgVersion)
            }
            (Step::Options, KeyCode::Char('o')) if d.kind == OpKind::Restart => {
                d.editing = Some(Field::Timeout)
            }
            (Step::Options, KeyCode::Char('p')) if d.kind == OpKind::Restart => {
                d.pending_only = !d.pending_only
            }
            (Step::Options, KeyCode::Char('f')) if d.kind == OpKind::Reinit => d.force = !d.force,
            (Step::Options, KeyCode::Char('l')) if d.kind == OpKind::Reinit => {
                d.from_leader = !d.from_leader
            }
            (Step::Options, KeyCode::Enter) => {
                let p = self.plan(&d);
                d.step = Step::Confirm;
                d.shown = p.request;
                d.notice = None;
                d.typed.clear();
                d.armed = false;
            }
            (Step::Confirm, KeyCode::Char('d')) if d.kind == OpKind::Switchover => {
                // the DCS fallback, offered when the leader's API is unreachable; its own
                // dialog and its own (typed) confirmation
                let leader_down = self
                    .cluster()
                    .and_then(|c| c.leader.clone())
                    .is_some_and(|l| !self.rest_live(&l));
                if leader_down {
                    d.kind = OpKind::DcsSwitchover;
                    d.typed.clear();
                    d.armed = false;
                    d.notice = None;
                    d.shown = self.plan(&d).request;
                }
            }
            // The key that sends is never the key that opened or advanced the dialog: Enter
            // advances to the review, so Enter alone never sends. A `y` confirmation sends on
            // `y` only; a typed one on Enter only once a key press after reaching this step
            // has edited the typed name (`armed`), so neither `s` Enter Enter nor a bouncing
            // Enter can both advance and send.
            (Step::Confirm, KeyCode::Backspace) if typed => {
                d.typed.pop();
                d.armed = true;
            }
            (Step::Confirm, KeyCode::Enter) if typed && d.armed => return self.confirm(d),
            (Step::Confirm, KeyCode::Char(c)) if typed && d.typed.len() < 128 => {
                d.typed.push(c);
                d.armed = true;
            }
            (Step::Confirm, KeyCode::Char('y')) if !typed => return self.confirm(d),
            (Step::Confirm, KeyCode::Enter) => {
                d.notice = Some(if typed {
                    "type the name, then Enter; nothing sent".into()
                } else {
                    "Enter only reviews: press y to send; nothing sent".into()
                });
            }
            (Step::Confirm, KeyCode::Char('n')) => return Vec::new(),
            _ => {}
        }
        self.dialog = Some(d);
        Vec::new()
    }

    /// The moment of confirming: check again against the state *now*; send only if the
    /// request is still the one the operator saw and nothing blocks it.
    fn confirm(&mut self, mut d: Dialog) -> Vec<Effect> {
        if self.read_only {
            self.flash("read-only: nothing sent".into());
            return Vec::new();
        }
        let p = self.plan(&d);
        if let Some(must) = &p.must_type
            && d.typed != *must
        {
            d.notice = Some(format!("type {must:?} exactly to confirm; nothing sent"));
            self.dialog = Some(d);
            return Vec::new();
        }
        if let Some(b) = checks::blocked(&p.checks) {
            d.notice = Some(format!("not sent: {}", b.text));
            d.shown = p.request;
            self.dialog = Some(d);
            return Vec::new();
        }
        let Some(request) = p.request else {
            d.notice = Some("not sent: no request can be built for this state".into());
            self.dialog = Some(d);
            return Vec::new();
        };
        if let Some(busy) = self.busy_with(d.kind, &request.member) {
            d.notice = Some(format!(
                "not sent: {} is still in flight ({}); wait until it settles",
                busy.title,
                busy.settle.label()
            ));
            self.dialog = Some(d);
            return Vec::new();
        }
        if d.shown.as_ref() != Some(&request) {
            d.notice = Some("the cluster changed while this dialog was open: review the new request; nothing sent".into());
            d.shown = Some(request);
            // a new review: a typed confirmation is typed again, for this request
            d.typed.clear();
            d.armed = false;
            self.dialog = Some(d);
            return Vec::new();
        }
        if d.kind == OpKind::RollingRestart {
            let Some(first) = p.steps.first().cloned() else {
                return Vec::new();
            };
            let (id, eff) = self.start_op(&first_kind(&first), d.member.clone(), request, p.expect);
            self.rollout = Some(Rollout {
                steps: p.steps,
                current: 0,
                op: Some(id),
                state: RolloutState::Running,
                results: Vec::new(),
            });
            return eff;
        }
        self.start_op(&d.kind, d.member.clone(), request, p.expect)
            .1
    }

    /// An operation not yet settled that a new write of `kind` to `member` would overlap:
    /// any unsettled operation for a cluster-wide write (switchover, failover, pause ...) or
    /// while one is in flight, the same member's for a member's own (restart, reload ...),
    /// and the current step of a running rolling restart for anything.
    fn busy_with(&self, kind: OpKind, member: &str) -> Option<&Operation> {
        let own = |k: OpKind| {
            matches!(
                k,
                OpKind::Restart | OpKind::Reload | OpKind::Reinit | OpKind::FlushRestart
            )
        };
        let rollout_op = self
            .rollout
            .as_ref()
            .filter(|r| r.state == RolloutState::Running)
            .and_then(|r| r.op);
        self.ops.iter().find(|o| {
            !o.settle.finished()
                && o.cluster == self.scope
                && (!own(kind)
                    || !own(o.kind)
                    || o.request.member == member
                    || rollout_op == Some(o.id))
        })
    }

    /// Record an operation and ask the runtime to send its request, once.
    fn start_op(
        &mut self,
        kind: &OpKind,
        member: Option<String>,
        request: Request,
        expect: ops::Expect,
    ) -> (u64, Vec<Effect>) {
        let kind = *kind;
        let id = self.next_op;
        self.next_op += 1;
        let title = match (&expect, &member) {
            (ops::Expect::NewLeader { from, to, .. }, _) => format!(
                "{} {} → {}",
                kind.label(),
                from.as_deref().unwrap_or("(no leader)"),
                to.as_deref().unwrap_or("?")
            ),
            (_, Some(m)) => format!("{} {m}", kind.label()),
            (_, None) => match &request.member {
                m if kind == OpKind::Restart => format!("{} {m}", kind.label()),
                _ => kind.label().to_string(),
            },
        };
        let op = Operation {
            id,
            kind,
            cluster: self.scope.clone(),
            title,
            request: request.clone(),
            expect,
            started: self.now,
            reply: None,
            settle: Settle::Sending,
            timeout: ops::SETTLE_TIMEOUT,
            audited: false,
        };
        let intent = ops::intent_record(&op);
        self.ops.push(op);
        (
            id,
            vec![Effect::Send {
                op: id,
                request,
                intent,
            }],
        )
    }

    /// After the current step of a rolling restart finishes: start the next one (checked
    /// against the state now), or stop at the first failure.
    fn advance_rollout(&mut self) -> Vec<Effect> {
        let Some(r) = self.rollout.as_ref() else {
            return Vec::new();
        };
        if r.state != RolloutState::Running {
            return Vec::new();
        }
        let Some(op) = r.op.and_then(|id| self.ops.iter().find(|o| o.id == id)) else {
            return Vec::new();
        };
        if !op.settle.finished() {
            return Vec::new();
        }
        let settle = op.settle.clone();
        let title = op.title.clone();
        let mut r = match self.rollout.take() {
            Some(r) => r,
            None => return Vec::new(),
        };
        r.results.push(format!("{title}: {}", settle.label()));
        if !matches!(settle, Settle::Done(_)) {
            r.state = RolloutState::Failed(format!(
                "stopped at step {}: {}",
                r.current + 1,
                settle.label()
            ));
            self.rollout = Some(r);
            self.dirty = true;
            return Vec::new();
        }
        let mut eff = Vec::new();
        loop {
            r.current += 1;
            let Some(step) = r.steps.get(r.current).cloned() else {
                r.state = RolloutState::Done;
                r.op = None;
                break;
            };
            // a member whose restart is no longer pending (the switchover restarted it) is skipped
            if let RolloutStep::Restart(m) = &step
                && !self
                    .rows()
                    .iter()
                    .any(|x| &x.name == m && x.pending_restart)
            {
                r.results
                    .push(format!("restart {m}: skipped, no longer pending"));
                continue;
            }
            let p = self.step_plan(&step);
            if let Some(b) = checks::blocked(&p.checks) {
                r.state = RolloutState::Failed(format!(
                    "step {} ({}) not sent: {}",
                    r.current + 1,
                    step.label(),
                    b.text
                ));
                break;
            }
            let Some(request) = p.request else {
                r.state = RolloutState::Failed(format!(
                    "step {} ({}): no request",
                    r.current + 1,
                    step.label()
                ));
                break;
            };
            let (id, e) = self.start_op(&first_kind(&step), None, request, p.expect);
            r.op = Some(id);
            eff = e;
            break;
        }
        self.rollout = Some(r);
        self.dirty = true;
        eff
    }

    /// Move every open operation forward; audit the ones that just finished.
    fn settle_ops(&mut self) -> Vec<Effect> {
        let mut eff = self.settle_each();
        eff.extend(self.advance_rollout());
        eff
    }

    fn settle_each(&mut self) -> Vec<Effect> {
        let (now, interval) = (self.now, self.rest_interval);
        let cluster = self.clusters.get(&self.scope);
        let mut eff = Vec::new();
        let mut changed = false;
        for o in self.ops.iter_mut() {
            changed |= o.advance(cluster, now, interval);
            if o.settle.finished() && !o.audited {
                o.audited = true;
                eff.push(Effect::Audit(ops::audit_record(o)));
            }
        }
        self.dirty |= changed;
        eff
    }

    /// Operations still open when patrol exits are audited as unknown.
    pub fn audit_unfinished(&mut self) -> Vec<Effect> {
        let mut eff = Vec::new();
        for o in self.ops.iter_mut().filter(|o| !o.audited) {
            o.audited = true;
            o.settle = Settle::TimedOut("patrol exited before the outcome was seen".into());
            eff.push(Effect::Audit(ops::audit_record(o)));
        }
        eff
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
                self.dcs = DcsHealth::Live {
                    endpoint,
                    since: at,
                    revision,
                };
            }
            DcsEvent::Put(kv) => members_changed = self.put(&kv.key, &kv.value, kv.lease, at),
            DcsEvent::Delete { key } => {
                if let Some((scope, rel)) = dcs::split_key(&self.namespace, &key)
                    && let Some(c) = self.clusters.get_mut(scope)
                {
                    members_changed = c.delete(rel, at);
                }
            }
            DcsEvent::Progress { revision } => {
                if let DcsHealth::Live { revision: r, .. } = &mut self.dcs
                    && *r != revision
                {
                    *r = revision;
                    self.dirty = true;
                }
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
        // the poll set also follows the leader and sync keys: bounded work, asked every time
        let mut eff = self.poll_effect();
        if members_changed {
            eff.extend(self.follow_effect());
        }
        let lease = self.cluster().map(|c| c.leader_lease).unwrap_or(0);
        if lease != self.watched_lease {
            self.watched_lease = lease;
            self.lease_ttl = None;
            eff.push(Effect::WatchLease(lease));
        }
        eff
    }

    fn put(&mut self, key: &str, value: &[u8], lease: i64, at: Instant) -> bool {
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

    /// The members to poll, at most [`App::MAX_POLLED`], best first: the leader, the
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
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod bounds_tests;

fn first_kind(step: &RolloutStep) -> OpKind {
    match step {
        RolloutStep::Restart(_) => OpKind::Restart,
        RolloutStep::SwitchoverFrom(_) => OpKind::Switchover,
    }
}
