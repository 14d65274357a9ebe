//! The pure core: one message enum, one `update` that owns all state and returns effects.
//! No IO here; time arrives in messages. The state is four parts that never reach into
//! each other: the cluster [`Model`], the [`Screen`] (what the operator looks at), the
//! operations [`Session`] (dialogs, writes in flight) and the [`KeymapSet`]; `update`
//! dispatches to them and then asks [`Redraw`] once whether a frame is due.

pub mod change;
pub mod checks;
pub mod cluster;
pub mod diagnosis;
pub mod dialog;
pub mod election;
pub mod events;
mod follow;
mod input;
pub mod judgement;
pub mod keymap;
pub mod members;
pub mod model;
pub mod ops;
mod plan;
mod quorum;
pub mod redraw;
pub mod rest_only;
pub mod routing;
pub mod schedule;
pub mod screen;
pub mod session;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use ratatui::crossterm::event::KeyEvent;

use crate::dcs::DcsEvent;
use crate::patroni::PatroniStatus;
pub use cluster::{ClusterState, RestState};
pub use follow::{FOLLOW_GONE_FOR, MAX_LOG_FOLLOWERS};
pub use judgement::Judgement;
pub use keymap::{Action, Context, KeymapSet};
pub use members::{MemberRow, Role};
pub use model::{DcsHealth, Liveness, Model};
use ops::{Reply, Request};
pub use plan::Plan;
pub use redraw::{Changed, Redraw};
pub use screen::{LogView, Screen, View};
pub use session::Session;

/// Everything that can happen to the app.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key press, with when the input task read it: keys that arrive faster than a person
    /// types (a paste without bracketed paste, `tmux send-keys`) never send.
    Key(Instant, KeyEvent),
    /// Text pasted into the terminal (bracketed paste): text for a text field, never keys.
    Paste(Instant, String),
    /// The terminal's size (columns, rows): whether a dialog's review fits on it.
    Resize(u16, u16),
    /// The clock: ages on screen tick over.
    Tick(Instant),
    /// An etcd change, with when the watch received it.
    Dcs(Instant, DcsEvent),
    /// The runtime has applied every message that was waiting (sent by the loop, not by a
    /// task): work a burst made due is done once here (the log followers' plan).
    Drained(Instant),
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
    OpReply { op: u64, at: Instant, reply: Reply },
    /// etcd endpoint health and the leader lease's TTL.
    Info(crate::dcs::info::InfoEvent),
    /// A line from a member's Patroni log.
    Log(crate::logs::LogLine),
    /// A file was written (or not).
    Wrote(Result<std::path::PathBuf, String>),
    /// REST-only mode: `from`'s `/cluster` as DCS keys, or why no candidate answered.
    RestCluster {
        from: String,
        at: Instant,
        result: Result<Box<crate::patroni::cluster::ClusterKeys>, String>,
    },
    /// HAProxy number `source` (of `AppConfig::haproxy`): its stats, or why not.
    Haproxy {
        source: usize,
        at: Instant,
        result: Result<Box<crate::haproxy::Stats>, String>,
    },
    /// One round of a member's health endpoints: (label, HTTP status or why none).
    Health {
        member: String,
        at: Instant,
        answers: Vec<(String, Result<u16, String>)>,
    },
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
    /// REST-only mode: ask these APIs (member or seed, status URL) for `/cluster`, in order
    /// until one answers, every poll interval; answer with `Msg::RestCluster`. Replaces the
    /// previous set; empty: stop.
    PollCluster(Vec<(String, String)>),
    /// Ring the terminal's bell (`--bell`: a health rule was raised).
    Bell,
    /// Read these HAProxies' stats every poll interval, one task each; answer with
    /// `Msg::Haproxy` (the index in this list). Replaces the previous set.
    PollHaproxy(Vec<crate::haproxy::HaproxySpec>),
    /// Ask these members' health endpoints (`routing::HEALTH_LABELS`, GET only) every poll
    /// interval; answer with `Msg::Health`. Replaces the previous set; empty: stop.
    PollHealth(Vec<routing::HealthTarget>),
    /// Write a file; answer with `Msg::Wrote`.
    WriteFile {
        path: std::path::PathBuf,
        content: String,
    },
}

/// Everything an [`App`] is built from: settings parsed once, before it exists.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The cluster on screen (the config's scope), its namespace and the etcd endpoints.
    pub scope: String,
    pub namespace: String,
    pub endpoints: Vec<String>,
    /// How often members' REST APIs are polled (what "fresh" means for an answer).
    pub rest_interval: Duration,
    /// Refuse every action that writes to the cluster.
    pub read_only: bool,
    pub keys: KeymapSet,
    /// Where exported event logs go.
    pub export_dir: PathBuf,
    /// The wall clock at start, to print event times (None in tests: relative times).
    pub wall_clock: Option<SystemTime>,
    /// The local time zone (UTC unless the runtime reads the system's).
    pub time_zone: jiff::tz::TimeZone,
    /// `--logs` and its per-member overrides.
    pub logs: Option<crate::logs::LogSourceSpec>,
    pub logs_by_member: BTreeMap<String, crate::logs::LogSourceSpec>,
    /// No etcd: the membership comes from the members' `/cluster` only.
    pub rest_only: bool,
    /// APIs to ask for `/cluster` besides the members etcd named: (label, status URL).
    pub api_seeds: Vec<(String, String)>,
    /// Said under the header from the start: (config key, message), e.g. a key file too open.
    pub warnings: Vec<(String, String)>,
    /// The health rules' thresholds (`[check]` in patrol's config).
    pub thresholds: diagnosis::Thresholds,
    /// Ring the terminal bell when a finding is raised (`--bell`).
    pub bell: bool,
    /// The HAProxies in front of the cluster (`--haproxy`, `[[haproxy]]`).
    pub haproxy: Vec<crate::haproxy::HaproxySpec>,
}

impl AppConfig {
    /// The defaults for a cluster: poll every second, writes allowed, default keys.
    pub fn new(scope: &str, namespace: &str, endpoints: Vec<String>) -> AppConfig {
        AppConfig {
            scope: scope.to_string(),
            namespace: namespace.to_string(),
            endpoints,
            rest_interval: Duration::from_secs(1),
            read_only: false,
            keys: KeymapSet::default(),
            export_dir: std::env::temp_dir(),
            wall_clock: None,
            time_zone: jiff::tz::TimeZone::UTC,
            logs: None,
            logs_by_member: BTreeMap::new(),
            rest_only: false,
            api_seeds: Vec::new(),
            warnings: Vec::new(),
            thresholds: diagnosis::Thresholds::default(),
            bell: false,
            haproxy: Vec::new(),
        }
    }

    /// The defaults for the cluster these settings name (its etcd, or REST-only).
    pub fn for_settings(s: &crate::config::Settings) -> AppConfig {
        let mut c = AppConfig::new(&s.scope, &s.namespace, s.dcs.endpoints.clone());
        c.rest_only = s.rest_only;
        // a seed's label is its URL until its /cluster answer names the member behind it
        c.api_seeds = s.api_seeds.iter().map(|u| (u.clone(), u.clone())).collect();
        c.warnings = s.warnings.clone();
        c
    }
}

#[derive(Debug, Clone)]
pub struct App {
    pub model: Model,
    pub screen: Screen,
    pub session: Session,
    pub keys: KeymapSet,
    /// What the screen shows of the open dialog's plan and the detail view's member, made
    /// once per update that can change it (see [`App::judge`]).
    pub judgement: Judgement,
    /// The health rules' active findings, judged at most every `Health::EVERY` when the
    /// runtime has applied a batch (`Msg::Drained`) or the clock ticks.
    pub health: diagnosis::Health,
    bell: bool,
    /// The last next-leader prediction, checked when the lock changes hands.
    held: Option<election::Held>,
    pub read_only: bool,
    export_dir: PathBuf,
    redraw: Redraw,
    /// What this message changed on the screen side (keys, replies, flashes).
    changed: Changed,
    /// A frame is due (set only by `update`, cleared by the runtime when it draws).
    pub dirty: bool,
    /// When the last key (or paste) arrived: a send key right behind it is a burst.
    last_input: Option<Instant>,
    pub quit: Option<String>,
}

impl App {
    /// The app, complete; [`App::start`] gives the effects it needs at once.
    pub fn new(cfg: AppConfig, now: Instant) -> App {
        let mut model = Model::new(&cfg.scope, &cfg.namespace, cfg.endpoints, now);
        model.rest_interval = cfg.rest_interval;
        model.wall0 = cfg.wall_clock;
        model.tz = cfg.time_zone;
        model.logs_configured = cfg.logs.is_some() || !cfg.logs_by_member.is_empty();
        model.log_sources = (cfg.logs, cfg.logs_by_member);
        model.rest_only = rest_only::RestOnly::new(cfg.rest_only, cfg.api_seeds);
        model.config_warnings = cfg.warnings;
        model.routing = routing::Routing::new(cfg.haproxy);
        App {
            model,
            screen: Screen::default(),
            session: Session::new(),
            keys: cfg.keys,
            judgement: Judgement::default(),
            health: diagnosis::Health::new(cfg.thresholds),
            bell: cfg.bell,
            held: None,
            read_only: cfg.read_only,
            export_dir: cfg.export_dir,
            redraw: Redraw::default(),
            changed: Changed::default(),
            dirty: true,
            last_input: None,
            quit: None,
        }
    }

    /// A frame was drawn: nothing is due until a message says so; `ages` says whether it
    /// showed a relative time (`ui::ages_drawn`), which the clock then keeps moving.
    pub fn drawn(&mut self, ages: bool) {
        self.dirty = false;
        let second = (self.model.now)
            .saturating_duration_since(self.model.started())
            .as_secs();
        self.redraw.drawn(ages, second, &self.model);
    }

    /// What the runtime must start with: the log followers the config names.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut eff: Vec<Effect> = (self.model.config_warnings.iter())
            .map(|(k, m)| Effect::LogWarning(crate::text::sanitize(&format!("{k}: {m}"))))
            .collect();
        eff.extend(self.model.follow_effect());
        // REST-only from the start: ask the seeds at once
        eff.extend(self.model.cluster_poll_effect());
        if self.model.routing.configured() {
            let specs = self.model.routing.sources.iter().map(|s| s.spec.clone());
            eff.push(Effect::PollHaproxy(specs.collect()));
        }
        eff
    }

    /// The cluster on screen.
    pub fn cluster(&self) -> Option<&ClusterState> {
        self.model.cluster()
    }

    pub fn rows(&self) -> Vec<MemberRow> {
        self.model.rows()
    }

    /// The member rows this frame can read: around the selection, and the member whose
    /// detail is open (not every member key: see [`members::Window`]).
    pub fn window(&self) -> members::Window {
        let also = match self.screen.view() {
            View::Detail(m) => Some(m.as_str()),
            _ => None,
        };
        self.model.window(
            self.screen.selected.as_deref(),
            also,
            self.screen.rows_near(),
        )
    }

    /// When the loop must wake with a tick even if no message comes: etcd's newest
    /// revision standing unconfirmed, or a health evaluation skipped inside its interval.
    pub fn wake_at(&self) -> Option<Instant> {
        match (self.model.checking_due(), self.health.owed_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        // judged after a drained batch (never per message of a burst) and after input,
        // which can open, move or review a dialog
        let judge = matches!(
            msg,
            Msg::Drained(_) | Msg::Key(..) | Msg::Paste(..) | Msg::Shutdown(_)
        );
        // health: after a drained batch or a tick, at most every Health::EVERY (a burst
        // of etcd changes is judged once, not per message)
        let diagnose = matches!(msg, Msg::Drained(_) | Msg::Tick(_));
        // the STALE badge is the etcd-stale finding: what makes etcd's old data current
        // again (the connection regained, a /cluster answer in REST-only mode) is judged
        // now, not up to Health::EVERY later, or the header says `live` beside STALE (each
        // is rare: once per reconnection or REST interval)
        let regained = self.model.loaded
            && !matches!(self.model.dcs, DcsHealth::Live { .. })
            && matches!(
                msg,
                Msg::Dcs(_, DcsEvent::Snapshot { .. } | DcsEvent::Resumed { .. })
            );
        let urgent = regained || matches!(msg, Msg::RestCluster { .. });
        let dialog_before = self.session.dialog.as_ref().map(|d| d.judged_as());
        let mut eff = match msg {
            Msg::Key(at, ev) => self.on_key(at, ev),
            Msg::Paste(at, text) => {
                self.on_paste(at, &text);
                Vec::new()
            }
            Msg::Resize(w, h) => {
                self.screen.size = Some((w, h));
                self.changed.mark(Changed::SCREEN);
                Vec::new()
            }
            Msg::Wrote(r) => {
                match r {
                    Ok(p) => self.flash(format!("written: {}", p.display())),
                    Err(e) => self.flash(format!("could not write: {e}")),
                }
                Vec::new()
            }
            Msg::Shutdown(why) => {
                self.session.dialog = None;
                self.quit = Some(why);
                self.changed.mark(Changed::SCREEN);
                Vec::new()
            }
            Msg::OpReply { op, at, reply } => {
                if self.session.reply(op, reply.clone()) {
                    self.changed.mark(Changed::OPS);
                }
                // (the model takes only the time from it)
                self.model.update(Msg::OpReply { op, at, reply })
            }
            Msg::Log(line) => {
                self.hold_paused_log(&line);
                self.model.update(Msg::Log(line))
            }
            msg => self.model.update(msg),
        };
        if judge {
            self.judge(dialog_before);
            eff.extend(self.check_prediction());
        }
        if urgent || (diagnose && self.health.due(self.model.now)) {
            eff.extend(self.diagnose());
        } else if diagnose {
            self.health.owe();
        }
        eff.extend(self.health_poll());
        let (settled, ops_changed) = self.session.settle(&self.model);
        eff.extend(settled);
        if ops_changed {
            self.changed.mark(Changed::OPS);
        }
        // an outcome goes into the event log when it is known; the panel keeps it a while
        for o in self.session.unlogged() {
            self.model.log_operation(o);
        }
        if self.session.retire(self.model.now, false) {
            self.changed.mark(Changed::OPS);
        }
        let mut changed = self.model.take_changed();
        changed |= std::mem::take(&mut self.changed);
        self.dirty |= self.redraw.due(&changed, &self.model, &self.screen);
        // a review's "(in 14m)" counts down while it is open
        self.dirty |= changed.has(Changed::CLOCK)
            && self.session.dialog.as_ref().is_some_and(|d| {
                d.step == dialog::Step::Confirm && !d.options.schedule().trim().is_empty()
            });
        eff
    }

    /// Judge the cluster's health now: raises and clears go into the event log, and a
    /// raise rings the bell when asked to.
    fn diagnose(&mut self) -> Vec<Effect> {
        let (changes, shown) = self.health.update(&self.model);
        if shown {
            self.changed.mark(Changed::HEADER);
            self.changed.mark(Changed::CLUSTER);
        }
        let mut eff = Vec::new();
        for c in &changes {
            self.model.log_finding(c);
        }
        if self.bell && changes.iter().any(|c| c.raised) {
            eff.push(Effect::Bell);
        }
        eff
    }

    /// The members' health endpoints are asked only while the routing view is open (a
    /// load balancer already asks them all the time): the set, when it changed.
    fn health_poll(&mut self) -> Option<Effect> {
        let want = if *self.screen.view() == View::Routing {
            self.model.health_targets()
        } else {
            Vec::new()
        };
        self.model.routing.want_health(want).map(Effect::PollHealth)
    }

    /// A paused log view stays where it is: a new line it shows pushes the scroll up by one.
    fn hold_paused_log(&mut self, line: &crate::logs::LogLine) {
        let shown = match self.screen.view() {
            View::Logs(None) => true,
            View::Logs(Some(m)) => *m == line.member,
            _ => false,
        };
        let lv = &mut self.screen.log_view;
        if shown && !lv.follow && crate::logs::matches(line, &lv.filter).is_some() {
            lv.scroll = lv.scroll.saturating_add(1);
        }
    }

    fn flash(&mut self, s: String) {
        self.screen.flash(s, self.model.now);
        self.changed.mark(Changed::SCREEN);
    }

    /// Operations still open when patrol exits are audited as unknown.
    pub fn audit_unfinished(&mut self) -> Vec<Effect> {
        self.session.audit_unfinished()
    }
}

// the fixtures of every reducer test (the integration tests share them: tests/sample)
#[cfg(test)]
use crate as patrol_crate;
#[cfg(test)]
#[path = "../../tests/sample/mod.rs"]
mod sample;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod bounds_tests;

#[cfg(test)]
mod keys_tests;

#[cfg(test)]
mod v2_tests;

#[cfg(test)]
mod scale_tests;

#[cfg(test)]
mod judgement_tests;

#[cfg(test)]
mod diagnosis_tests;

#[cfg(test)]
mod rows_tests;

#[cfg(test)]
mod freeze_tests;

/// The note under the help's key list: what the screen shows that no key explains.
pub const HELP_NOTE: [&str; 6] = [
    "as of 21:14:05: when etcd and the REST APIs last both confirmed what is shown; STALLED (red) when one goes quiet.",
    "etcd ● checking: etcd has a newer revision, not yet known to be this cluster's; ● behind: changes applied late.",
    "Operations: a line each until dismissed or 30 s after they finish; the event log keeps outcomes and whole replies.",
    "Lag: leader WAL position minus the replica's, live from each member's REST API; ~ marks figures from etcd.",
    "Replay Lag's ≥Ns: the leader was past the replayed position at least N s before the replica said so.",
    "Trend: one bar per 30 s (the largest replay lag in it), the last 5 minutes; a narrow terminal shows fewer bars.",
];

#[cfg(test)]
mod hints_tests;
