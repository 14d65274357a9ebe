//! Keys map to named actions, one table per context: the main view, the log view, the
//! connection strings, the help, each step of a dialog, the text fields. The hint bar and
//! the help are generated from the active context's table, so they cannot drift from what
//! the keys do, and a key means something only where its context says so (`S` rebound to
//! switchover does nothing in the log view, which has no switchover).
//!
//! Users rebind in patrol's config: `[keys] quit = ["q", "ctrl-c"]` rebinds the action in
//! every context that has it; `[keys.logs] follow = ["F"]` in that context only. A key bound
//! to two actions of one context is an error at start that names both.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub use crate::config::patrol::KeysEntry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    // moving: what moves (the member, the log, the candidate, the help) is the context's
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Help,
    Back,
    Quit,
    // views
    Detail,
    History,
    Config,
    Etcd,
    Logs,
    AllLogs,
    Dsn,
    ExportEvents,
    Events,
    OwnLog,
    /// The Health view: every active finding of the health rules.
    Health,
    /// Open the operation that addresses the selected member's finding (its dialog, behind
    /// the usual confirmation; a log view for a log).
    Remedy,
    /// What the HAProxies route to, and the members' health endpoints.
    Routing,
    /// Take finished operations out of the panel (the event log keeps them).
    Dismiss,
    /// Freeze the event stream (the pane and the Events view) while it is read; again:
    /// resume. New events are still recorded, and counted in the title.
    Freeze,
    // operations: each opens its dialog
    Switchover,
    Failover,
    Restart,
    RollingRestart,
    Reload,
    Reinit,
    Pause,
    Flush,
    // the log view
    Follow,
    Wrap,
    Filter,
    // the connection strings
    Copy,
    // dialogs
    Review,
    Send,
    Cancel,
    DcsFallback,
    Schedule,
    PgVersion,
    Timeout,
    PendingOnly,
    Force,
    FromLeader,
    SwitchFirst,
    // text fields
    Done,
    Delete,
}

impl Action {
    pub const ALL: [Action; 49] = [
        Action::Up,
        Action::Down,
        Action::Top,
        Action::Bottom,
        Action::PageUp,
        Action::PageDown,
        Action::Detail,
        Action::Logs,
        Action::AllLogs,
        Action::History,
        Action::Config,
        Action::Etcd,
        Action::Dsn,
        Action::ExportEvents,
        Action::Events,
        Action::OwnLog,
        Action::Health,
        Action::Remedy,
        Action::Routing,
        Action::Dismiss,
        Action::Freeze,
        Action::Switchover,
        Action::Failover,
        Action::Restart,
        Action::RollingRestart,
        Action::Reload,
        Action::Reinit,
        Action::Pause,
        Action::Flush,
        Action::Follow,
        Action::Wrap,
        Action::Filter,
        Action::Copy,
        Action::Schedule,
        Action::PgVersion,
        Action::Timeout,
        Action::PendingOnly,
        Action::Force,
        Action::FromLeader,
        Action::SwitchFirst,
        Action::Review,
        Action::DcsFallback,
        Action::Send,
        Action::Cancel,
        Action::Done,
        Action::Delete,
        Action::Help,
        Action::Back,
        Action::Quit,
    ];

    /// Does this action write to the cluster (or open the dialog of a write)? Read-only
    /// mode refuses exactly these, and hides them from hints and help. The list names the
    /// writes themselves: every view and every key that only moves stays usable.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Action::Switchover
                | Action::Failover
                | Action::Restart
                | Action::RollingRestart
                | Action::Reload
                | Action::Reinit
                | Action::Pause
                | Action::Flush
                | Action::Send
                | Action::DcsFallback
        )
    }

    /// The name in patrol's config (`[keys] all_logs = ["A"]`).
    pub fn name(self) -> String {
        let dbg = format!("{self:?}");
        let mut out = String::new();
        for (i, c) in dbg.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    /// What the action does in `ctx`, for the help.
    pub fn describe(self, ctx: Context) -> &'static str {
        use Context as C;
        match (self, ctx) {
            (Action::Up, C::Main) => "select previous member",
            (Action::Down, C::Main) => "select next member",
            (Action::Top, C::Main) => "select first member",
            (Action::Bottom, C::Main) => "select last member",
            (Action::Up, C::Logs) => "scroll up (pauses following)",
            (Action::Down, C::Logs) => "scroll down",
            (Action::Up, C::Events) => "scroll to older events",
            (Action::Down, C::Events) => "scroll to newer events",
            (Action::Top, C::Events) => "the oldest event",
            (Action::Bottom, C::Events) => "the newest event",
            (Action::PageUp, C::Events) => "a page of older events",
            (Action::PageDown, C::Events) => "a page of newer events",
            (Action::Filter, C::Events) => "filter the events (type, then enter)",
            (Action::Back, C::Events) => "resume if frozen, else clear the filter, else back",
            (Action::Top, C::Logs) => "oldest line (pauses following)",
            (Action::Bottom, C::Logs) => "newest line, and follow",
            (Action::PageUp, C::Logs) => "a page up (pauses following)",
            (Action::PageDown, C::Logs) => "a page down",
            (Action::Up | Action::Top, C::Dsn) => "previous connection string",
            (Action::Down | Action::Bottom, C::Dsn) => "next connection string",
            (Action::Up | Action::PageUp | Action::Top, C::Help) => "scroll the help up",
            (Action::Down | Action::PageDown | Action::Bottom, C::Help) => "scroll the help down",
            (Action::Up, _) => "previous candidate",
            (Action::Down, _) => "next candidate",
            (Action::Top | Action::PageUp, _) => "to the top",
            (Action::Bottom | Action::PageDown, _) => "to the bottom",
            (Action::Help, _) => "show / hide this help",
            (Action::Back, C::Main) => "close the popup or view",
            (Action::Back, C::Logs) => "clear the filter, else back",
            (Action::Back, C::Options) => "cancel: close the dialog, nothing sent",
            (Action::Back, C::Confirm | C::Typed) => "back to the options, nothing sent",
            (Action::Back, _) => "back",
            (Action::Quit, _) => "quit patrol",
            (Action::Detail, _) => "member detail: everything its REST API says",
            (Action::History, _) => "timeline history (like patronictl history)",
            (Action::Config, _) => "dynamic configuration (like patronictl show-config)",
            (Action::Etcd, _) => "etcd: endpoints, health, raft leader and term, DB size",
            (Action::Logs, _) => "the selected member's Patroni log",
            (Action::AllLogs, _) => "every member's Patroni log, merged by time",
            (Action::Dsn, _) => "connection strings (read-write, read-only)",
            (Action::ExportEvents, _) => "write the event log to a file (dated, with the zone)",
            (Action::Events, _) => "the event log: scroll, filter, operations' whole replies",
            (Action::Dismiss, _) => {
                "dismiss finished operations (else they go after 30 s; the event log keeps them)"
            }
            (Action::OwnLog, _) => "patrol's own log: connections, retries, what was sent",
            (Action::Freeze, _) => "freeze / resume the events; new ones are counted, not lost",
            (Action::Health, _) => "health: the rules' findings, since when, what to do",
            (Action::Remedy, _) => "open what fixes the selected member's finding",
            (Action::Routing, _) => {
                "routing: what HAProxy routes to, the members' health endpoints"
            }
            (Action::Switchover, _) => "switchover: pick a candidate, see the checks, confirm",
            (Action::Failover, _) => "failover, also without a leader (type the cluster name)",
            (Action::Restart, _) => "restart the selected member (options: pending, time, version)",
            (Action::RollingRestart, _) => "rolling restart of every member with a pending restart",
            (Action::Reload, _) => "reload the selected member's configuration",
            (Action::Reinit, _) => "reinitialize the selected replica (type its name)",
            (Action::Pause, _) => "pause / resume automatic failover (maintenance mode)",
            (Action::Flush, _) => "flush a scheduled switchover or restart",
            (Action::Follow, _) => "follow new lines / pause where you are",
            (Action::Wrap, _) => "wrap long lines",
            (Action::Filter, _) => "filter the lines (type, then enter)",
            (Action::Copy, _) => "put it on the terminal's clipboard (OSC 52)",
            (Action::Review, C::Confirm) => "nothing: only the send key sends",
            (Action::Review, _) => "review: the checks and the exact request",
            (Action::Send, C::Typed) => "send once, when the name typed is right",
            (Action::Send, _) => "send the request shown, once",
            (Action::Cancel, _) => "cancel: close the dialog, nothing sent",
            (Action::DcsFallback, _) => "the leader's API is down: write the switchover into etcd",
            (Action::Schedule, _) => "when: +15m, +1h30m, 16:30 (local), ISO 8601; empty: now",
            (Action::PgVersion, _) => "only if PostgreSQL is older than this version",
            (Action::Timeout, _) => "restart timeout in seconds",
            (Action::PendingOnly, _) => "only if a restart is pending",
            (Action::Force, _) => "force, even if it is running",
            (Action::FromLeader, _) => "take the base backup from the leader",
            (Action::SwitchFirst, _) => "switch over before restarting the leader",
            (Action::Done, _) => "done editing",
            (Action::Delete, _) => "delete the last character",
        }
    }

    /// The word in the hint bar; None: not worth the space there.
    pub fn hint(self, ctx: Context) -> Option<&'static str> {
        use Context as C;
        Some(match (self, ctx) {
            (Action::Down, C::Main | C::Dsn) => "select",
            (Action::Down, C::Logs | C::Help | C::Events) => "scroll",
            (Action::Dismiss, C::Main) => "dismiss",
            (Action::Down, C::Options) => "candidate",
            (Action::Help, C::Main | C::Logs | C::Dsn | C::Events) => "help",
            (Action::Quit, C::Main) => "quit",
            (Action::Back, C::Main | C::Logs | C::Dsn | C::Events | C::Confirm | C::Typed) => {
                "back"
            }
            (Action::Back, C::Help) => "close",
            (Action::Back, C::Options) => "cancel",
            (Action::Switchover, _) => "switchover",
            (Action::Restart, _) => "restart",
            (Action::Pause, _) => "pause",
            (Action::Logs, C::Main) => "logs",
            (Action::Follow, _) => "follow",
            (Action::Wrap, _) => "wrap",
            (Action::Filter, _) => "filter",
            (Action::Freeze, C::Events) => "freeze",
            (Action::Copy, _) => "copy",
            (Action::Review, C::Options) => "review",
            (Action::Send, _) => "send once",
            (Action::Cancel, _) => "cancel",
            (Action::DcsFallback, _) => "via etcd",
            (Action::Schedule, _) => "time",
            (Action::PgVersion, _) => "version",
            (Action::Timeout, _) => "timeout",
            (Action::PendingOnly, _) => "pending only",
            (Action::Force, _) => "force",
            (Action::FromLeader, _) => "from leader",
            (Action::SwitchFirst, _) => "switch over first",
            (Action::Done, _) => "done",
            _ => return None,
        })
    }
}

/// Part of a context's default table: (keys, action).
type Group = &'static [(&'static [&'static str], Action)];

/// Where a key press lands: each context has its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Context {
    /// The member table and the views over it (detail, history, config, etcd, own log).
    Main,
    Logs,
    /// Typing the log filter.
    LogFilter,
    /// The connection strings.
    Dsn,
    /// The event log's own view.
    Events,
    /// The help overlay.
    Help,
    /// A dialog's first step: candidate and options.
    Options,
    /// A dialog's review step, confirmed with a key.
    Confirm,
    /// A dialog's review step, confirmed by typing a name.
    Typed,
    /// Editing one of a dialog's text fields.
    Field,
}

impl Context {
    pub const ALL: [Context; 10] = [
        Context::Main,
        Context::Logs,
        Context::LogFilter,
        Context::Dsn,
        Context::Events,
        Context::Help,
        Context::Options,
        Context::Confirm,
        Context::Typed,
        Context::Field,
    ];

    /// The section name in patrol's config (`[keys.logs]`).
    pub fn name(self) -> &'static str {
        match self {
            Context::Main => "main",
            Context::Logs => "logs",
            Context::LogFilter => "log_filter",
            Context::Dsn => "dsn",
            Context::Events => "events",
            Context::Help => "help",
            Context::Options => "dialog",
            Context::Confirm => "confirm",
            Context::Typed => "typed",
            Context::Field => "field",
        }
    }

    pub fn from_name(s: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == s)
    }

    /// The default keys of each action of this context, as patrol's config names them
    /// (`patrol config init` writes them out).
    pub fn default_keys(self) -> Vec<(Action, Vec<&'static str>)> {
        let mut out: Vec<(Action, Vec<&'static str>)> = Vec::new();
        for group in self.defaults() {
            for (keys, a) in group.iter() {
                match out.iter_mut().find(|(x, _)| x == a) {
                    Some((_, v)) => v.extend(keys.iter().copied()),
                    None => out.push((*a, keys.to_vec())),
                }
            }
        }
        out
    }

    /// Contexts where printable characters are text: a plain character cannot be bound.
    pub fn takes_text(self) -> bool {
        matches!(self, Context::LogFilter | Context::Typed | Context::Field)
    }

    /// The default table, in groups shared between contexts: (keys, action).
    fn defaults(self) -> &'static [Group] {
        use Action as A;
        const MOVE: Group = &[
            (&["k", "up"], A::Up),
            (&["j", "down"], A::Down),
            (&["g", "home"], A::Top),
            (&["G", "end"], A::Bottom),
        ];
        const PAGE: Group = &[
            (&["pageup"], A::PageUp),
            (&["pagedown", "space"], A::PageDown),
        ];
        const GLOBAL: Group = &[
            (&["?"], A::Help),
            (&["esc"], A::Back),
            (&["q", "ctrl-c"], A::Quit),
        ];
        const DETAIL: Group = &[(&["enter"], A::Detail)];
        const VIEWS: Group = &[
            (&["h"], A::History),
            (&["c"], A::Config),
            (&["e"], A::Etcd),
            (&["l"], A::Logs),
            (&["A"], A::AllLogs),
            (&["d"], A::Dsn),
            (&["E"], A::ExportEvents),
            (&["o"], A::OwnLog),
            (&["b"], A::Routing),
            (&["v"], A::Events),
            (&["H"], A::Health),
        ];
        const OPS: Group = &[
            (&["s"], A::Switchover),
            (&["f"], A::Failover),
            (&["r"], A::Restart),
            (&["R"], A::RollingRestart),
            (&["L"], A::Reload),
            (&["I"], A::Reinit),
            (&["p"], A::Pause),
            (&["x"], A::Flush),
        ];
        const DISMISS: Group = &[(&["D"], A::Dismiss)];
        const REMEDY: Group = &[(&["a"], A::Remedy)];
        const EVENTS: Group = &[(&["/"], A::Filter)];
        // the Events pane (main view) and the Events view alike
        const FREEZE: Group = &[(&["F"], A::Freeze)];
        // no operation from the log view: it uses f for follow
        const LOG: Group = &[(&["f"], A::Follow), (&["w"], A::Wrap), (&["/"], A::Filter)];
        const COPY: Group = &[(&["y", "enter"], A::Copy)];
        // in a dialog or a text field, q is a letter: ctrl-c quits
        const CTRL_C: Group = &[(&["ctrl-c"], A::Quit)];
        match self {
            Context::Main => &[MOVE, GLOBAL, DETAIL, VIEWS, OPS, DISMISS, REMEDY, FREEZE],
            Context::Events => &[MOVE, PAGE, EVENTS, FREEZE, GLOBAL, VIEWS],
            Context::Logs => &[MOVE, PAGE, LOG, GLOBAL, DETAIL, VIEWS],
            Context::LogFilter => &[
                &[(&["enter", "esc"], A::Done), (&["backspace"], A::Delete)],
                CTRL_C,
            ],
            Context::Dsn => &[MOVE, COPY, GLOBAL, VIEWS],
            Context::Help => &[MOVE, PAGE, GLOBAL],
            Context::Options => &[
                &[
                    (&["k", "up"], A::Up),
                    (&["j", "down"], A::Down),
                    (&["enter"], A::Review),
                    (&["esc"], A::Back),
                    (&["t"], A::Schedule),
                    (&["v"], A::PgVersion),
                    (&["o"], A::Timeout),
                    (&["p"], A::PendingOnly),
                    (&["f"], A::Force),
                    (&["l"], A::FromLeader),
                    (&["s"], A::SwitchFirst),
                ],
                CTRL_C,
            ],
            // Enter is Review here too, never Send: the key that advanced to this step must
            // not be the one that sends (`s` Enter Enter sends nothing)
            Context::Confirm => &[
                &[
                    (&["y"], A::Send),
                    (&["n"], A::Cancel),
                    (&["esc"], A::Back),
                    (&["enter"], A::Review),
                    (&["d"], A::DcsFallback),
                ],
                CTRL_C,
            ],
            Context::Typed => &[
                &[
                    (&["enter"], A::Send),
                    (&["esc"], A::Back),
                    (&["backspace"], A::Delete),
                ],
                CTRL_C,
            ],
            Context::Field => &[
                &[
                    (&["enter", "esc", "tab"], A::Done),
                    (&["backspace"], A::Delete),
                ],
                CTRL_C,
            ],
        }
    }

    /// Every (keys, action) of the default table.
    fn default_bindings(self) -> impl Iterator<Item = &'static (&'static [&'static str], Action)> {
        self.defaults().iter().flat_map(|g| g.iter())
    }

    /// The actions this context has (whether bound now or not).
    pub fn actions(self) -> impl Iterator<Item = Action> {
        self.default_bindings().map(|(_, a)| *a)
    }

    pub fn has(self, a: Action) -> bool {
        self.actions().any(|b| b == a)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub fn from_event(ev: &KeyEvent) -> Key {
        // Shift is part of the character for letters ('G'); keep only ctrl as a modifier.
        Key {
            code: ev.code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
        }
    }

    /// A printable character without ctrl: text in a text field.
    pub fn is_text(&self) -> bool {
        matches!(self.code, KeyCode::Char(_)) && !self.ctrl
    }

    pub fn parse(s: &str) -> Result<Key, String> {
        let (ctrl, rest) = match s.strip_prefix("ctrl-").or_else(|| s.strip_prefix("c-")) {
            Some(r) => (true, r),
            None => (false, s),
        };
        let code = match rest.to_ascii_lowercase().as_str() {
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backspace" | "bksp" => KeyCode::Backspace,
            "space" => KeyCode::Char(' '),
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => return Err(format!("unknown key {s:?}")),
                }
            }
        };
        Ok(Key { code, ctrl })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        match self.code {
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::Backspace => f.write_str("bksp"),
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Every context's table.
#[derive(Debug, Clone)]
pub struct KeymapSet {
    tables: BTreeMap<Context, HashMap<Key, Action>>,
}

impl Default for KeymapSet {
    fn default() -> Self {
        let mut tables = BTreeMap::new();
        for ctx in Context::ALL {
            let mut t = HashMap::new();
            for (keys, action) in ctx.default_bindings() {
                for key in *keys {
                    if let Ok(key) = Key::parse(key) {
                        t.insert(key, *action);
                    }
                }
            }
            tables.insert(ctx, t);
        }
        KeymapSet { tables }
    }
}

impl KeymapSet {
    /// The defaults with the user's `[keys]` applied. Errors name the key, the action and
    /// the context: an unknown action or context, a key that does not parse, a plain
    /// character in a text field's context, and a key bound to two actions in one context.
    pub fn with_overrides(overrides: &BTreeMap<String, KeysEntry>) -> Result<KeymapSet, String> {
        // (context, action) -> keys, the per-context entries winning over the flat ones
        let mut want: BTreeMap<(Context, Action), (Vec<Key>, String)> = BTreeMap::new();
        let parse_keys = |keys: &[String]| -> Result<Vec<Key>, String> {
            keys.iter().map(|k| Key::parse(k)).collect()
        };
        let action_named = |name: &str| -> Result<Action, String> {
            Action::ALL
                .into_iter()
                .find(|a| a.name() == name)
                .ok_or_else(|| format!("unknown action {name:?}"))
        };
        for (name, entry) in overrides {
            if let KeysEntry::Keys(keys) = entry {
                let a = action_named(name)?;
                let keys = parse_keys(keys)?;
                for ctx in Context::ALL.into_iter().filter(|c| c.has(a)) {
                    // a flat rebinding does not steal letters from text fields
                    let keys: Vec<Key> = keys
                        .iter()
                        .copied()
                        .filter(|k| !(ctx.takes_text() && k.is_text()))
                        .collect();
                    want.insert((ctx, a), (keys, format!("[keys] {name}")));
                }
            }
        }
        for (name, entry) in overrides {
            if let KeysEntry::Context(table) = entry {
                let ctx = Context::from_name(name).ok_or_else(|| {
                    format!(
                        "unknown key context [keys.{name}] (one of: {})",
                        Context::ALL.map(|c| c.name()).join(", ")
                    )
                })?;
                for (aname, keys) in table {
                    let a = action_named(aname)?;
                    if !ctx.has(a) {
                        return Err(format!(
                            "[keys.{name}] {aname}: the {name} context has no such action"
                        ));
                    }
                    let keys = parse_keys(keys)?;
                    if let Some(k) = keys.iter().find(|k| ctx.takes_text() && k.is_text()) {
                        return Err(format!(
                            "[keys.{name}] {aname}: {k} is text in a text field; use a named or ctrl- key"
                        ));
                    }
                    want.insert((ctx, a), (keys, format!("[keys.{name}] {aname}")));
                }
            }
        }
        let mut set = KeymapSet::default();
        for ctx in Context::ALL {
            let Some(t) = set.tables.get_mut(&ctx) else {
                continue;
            };
            // first take every rebound action's keys away, then bind: swapping two actions'
            // keys is not a conflict
            t.retain(|_, a| !want.contains_key(&(ctx, *a)));
            for ((c, a), (keys, _)) in want.range((ctx, Action::Up)..) {
                if *c != ctx {
                    break;
                }
                for k in keys {
                    if let Some(other) = t.get(k).copied().filter(|o| o != a) {
                        return Err(format!(
                            "in the {} context, {k} would be bound to both {} and {}",
                            ctx.name(),
                            other.name(),
                            a.name()
                        ));
                    }
                    t.insert(*k, *a);
                }
            }
        }
        set.check_send_keys()?;
        Ok(set)
    }

    /// The invariant a key map must keep, whoever wrote it: a key that opens a dialog, or
    /// advances or reviews in one, never sends. Otherwise pressing it twice (a bounce, key
    /// repeat, a double tap) opens and sends, or reviews and sends, unseen. Checked on the
    /// whole map, the defaults included. (Enter reviews and sends in a typed confirmation:
    /// the name typed between the two is what that confirmation is.)
    pub fn check_send_keys(&self) -> Result<(), String> {
        let opens = Action::ALL
            .into_iter()
            .filter(|a| a.writes() && !matches!(a, Action::Send | Action::DcsFallback));
        // (context, action) pairs whose keys open or advance a dialog
        let mut movers: Vec<(Context, Action)> = Vec::new();
        for ctx in Context::ALL {
            for a in opens.clone().filter(|a| ctx.has(*a)) {
                movers.push((ctx, a));
            }
        }
        for (ctx, a) in [
            (Context::Options, Action::Review),
            (Context::Confirm, Action::Review),
            (Context::Confirm, Action::DcsFallback),
        ] {
            movers.push((ctx, a));
        }
        for send_ctx in [Context::Confirm, Context::Typed] {
            for k in self.keys_for(send_ctx, Action::Send) {
                for (ctx, a) in &movers {
                    // the typed step follows only the first step's review (a name is
                    // typed between) or the switch to etcd; Enter there is nothing to it
                    if send_ctx == Context::Typed && *a == Action::Review {
                        continue;
                    }
                    if self.keys_for(*ctx, *a).contains(&k) {
                        return Err(format!(
                            "{k} is send in the {} context and {} in the {} context: the key that opens or advances a dialog must never be the one that sends; bind send (or {}) to another key",
                            send_ctx.name(),
                            a.name(),
                            ctx.name(),
                            a.name()
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn action(&self, ctx: Context, ev: &KeyEvent) -> Option<Action> {
        self.tables.get(&ctx)?.get(&Key::from_event(ev)).copied()
    }

    /// The keys bound to an action in a context, in a stable order.
    pub fn keys_for(&self, ctx: Context, action: Action) -> Vec<Key> {
        let mut keys: Vec<Key> = self
            .tables
            .get(&ctx)
            .into_iter()
            .flatten()
            .filter(|(_, a)| **a == action)
            .map(|(k, _)| *k)
            .collect();
        // letters before named keys, then alphabetical: stable across runs
        keys.sort_by_key(|k| (!matches!(k.code, KeyCode::Char(_)), k.ctrl, k.to_string()));
        keys
    }

    /// The key to name for an action in prose ("press y to send"): a letter if there is
    /// one, it is what people type.
    pub fn key_label(&self, ctx: Context, action: Action) -> Option<String> {
        let keys = self.keys_for(ctx, action);
        keys.iter()
            .find(|k| matches!(k.code, KeyCode::Char(_)) && !k.ctrl)
            .or(keys.first())
            .map(Key::to_string)
    }

    /// Help rows of a context: (keys, description), one per bound action `available` allows.
    pub fn help(
        &self,
        ctx: Context,
        available: impl Fn(Action) -> bool,
    ) -> Vec<(String, &'static str)> {
        Action::ALL
            .iter()
            .filter(|a| ctx.has(**a) && available(**a))
            .filter_map(|a| {
                let keys = self.keys_for(ctx, *a);
                (!keys.is_empty()).then(|| {
                    let k: Vec<String> = keys.iter().map(Key::to_string).collect();
                    (k.join(" "), a.describe(ctx))
                })
            })
            .collect()
    }

    /// Hint-bar items of a context: (first key, word), for the actions `available` allows.
    pub fn hints(
        &self,
        ctx: Context,
        available: impl Fn(Action) -> bool,
    ) -> Vec<(String, &'static str)> {
        self.hints_with(ctx, available, |_, w| w)
    }

    /// [`KeymapSet::hints`] with each word as `word` says: a toggle names what it will do now.
    pub fn hints_with(
        &self,
        ctx: Context,
        available: impl Fn(Action) -> bool,
        word: impl Fn(Action, &'static str) -> &'static str,
    ) -> Vec<(String, &'static str)> {
        Action::ALL
            .iter()
            .filter(|a| ctx.has(**a) && available(**a))
            .filter_map(|a| {
                let w = word(*a, a.hint(ctx)?);
                Some((self.key_label(ctx, *a)?, w))
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    fn ch(c: char) -> KeyEvent {
        ev(KeyCode::Char(c), KeyModifiers::NONE)
    }

    /// A flat `[keys]` table: action = keys.
    pub(crate) fn flat(pairs: &[(&str, &[&str])]) -> BTreeMap<String, KeysEntry> {
        pairs
            .iter()
            .map(|(a, k)| {
                (
                    a.to_string(),
                    KeysEntry::Keys(k.iter().map(|s| s.to_string()).collect()),
                )
            })
            .collect()
    }

    #[test]
    fn default_bindings() {
        let k = KeymapSet::default();
        let main = Context::Main;
        assert_eq!(k.action(main, &ch('q')), Some(Action::Quit));
        assert_eq!(
            k.action(main, &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            k.action(main, &ch('c')),
            Some(Action::Config),
            "ctrl matters"
        );
        assert_eq!(k.action(main, &ch('z')), None);
        assert_eq!(
            k.action(main, &ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            k.action(main, &ev(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Down)
        );
        // the same letter, another context, another action
        assert_eq!(k.action(Context::Logs, &ch('f')), Some(Action::Follow));
        assert_eq!(k.action(main, &ch('f')), Some(Action::Failover));
    }

    /// The defaults themselves obey the rule a user's file must: no key twice in a context.
    #[test]
    fn defaults_have_no_key_twice_in_a_context() {
        for ctx in Context::ALL {
            let mut seen: HashMap<Key, Action> = HashMap::new();
            for (keys, a) in ctx.default_bindings() {
                for k in *keys {
                    let k = Key::parse(k).expect("default keys parse");
                    if let Some(b) = seen.insert(k, *a) {
                        panic!("{k} is {b:?} and {a:?} in {ctx:?}");
                    }
                    assert!(!(ctx.takes_text() && k.is_text()), "{k} is text in {ctx:?}");
                }
            }
        }
    }

    #[test]
    fn every_action_is_somewhere_and_has_its_own_name() {
        for a in Action::ALL {
            assert!(
                Context::ALL.iter().any(|c| c.has(a)),
                "{a:?} has no context"
            );
            let n = a.name();
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{n}");
            assert_eq!(
                Action::ALL.iter().filter(|b| b.name() == n).count(),
                1,
                "{n} names one action"
            );
        }
    }

    #[test]
    fn help_and_hints_follow_rebinding() {
        // main's x is flush: alone, a conflict; with flush moved away, fine
        let e = KeymapSet::with_overrides(&flat(&[("quit", &["x"])])).unwrap_err();
        assert!(e.contains("flush") && e.contains("quit"), "{e}");
        let k2 = KeymapSet::with_overrides(&flat(&[("quit", &["x"]), ("flush", &["X"])])).unwrap();
        assert_eq!(k2.action(Context::Main, &ch('q')), None);
        assert_eq!(k2.action(Context::Main, &ch('x')), Some(Action::Quit));
        assert!(
            k2.help(Context::Main, |_| true)
                .iter()
                .any(|(keys, d)| keys == "x" && *d == "quit patrol")
        );
        assert!(
            k2.hints(Context::Main, |_| true)
                .contains(&("x".to_string(), "quit"))
        );
        assert!(KeymapSet::with_overrides(&flat(&[("help", &["nope-key"])])).is_err());
        assert!(KeymapSet::with_overrides(&flat(&[("teleport", &["t"])])).is_err());
    }

    #[test]
    fn a_key_bound_twice_in_a_context_names_both_actions() {
        let e = KeymapSet::with_overrides(&flat(&[("switchover", &["r"])])).unwrap_err();
        assert!(
            e.contains("restart") && e.contains("switchover") && e.contains("main"),
            "{e}"
        );
        // swapping two actions' keys is fine
        let k = KeymapSet::with_overrides(&flat(&[("switchover", &["r"]), ("restart", &["s"])]))
            .unwrap();
        assert_eq!(k.action(Context::Main, &ch('r')), Some(Action::Switchover));
        assert_eq!(k.action(Context::Main, &ch('s')), Some(Action::Restart));
    }

    #[test]
    fn a_context_table_rebinds_that_context_only() {
        let mut o = BTreeMap::new();
        o.insert(
            "logs".to_string(),
            KeysEntry::Context(BTreeMap::from([(
                "follow".to_string(),
                vec!["F".to_string()],
            )])),
        );
        let k = KeymapSet::with_overrides(&o).unwrap();
        assert_eq!(k.action(Context::Logs, &ch('F')), Some(Action::Follow));
        assert_eq!(k.action(Context::Logs, &ch('f')), None);
        assert_eq!(k.action(Context::Main, &ch('f')), Some(Action::Failover));
        // an action the context does not have, a letter in a text field, an unknown context
        let bad = |ctx: &str, a: &str, key: &str| {
            let mut o = BTreeMap::new();
            o.insert(
                ctx.to_string(),
                KeysEntry::Context(BTreeMap::from([(a.to_string(), vec![key.to_string()])])),
            );
            KeymapSet::with_overrides(&o).unwrap_err()
        };
        assert!(bad("logs", "switchover", "S").contains("no such action"));
        assert!(bad("typed", "send", "y").contains("text"));
        assert!(bad("nowhere", "send", "y").contains("unknown key context"));
    }

    /// A context table: `[keys.<ctx>] action = keys`.
    fn in_context(ctx: &str, a: &str, keys: &[&str]) -> BTreeMap<String, KeysEntry> {
        BTreeMap::from([(
            ctx.to_string(),
            KeysEntry::Context(BTreeMap::from([(
                a.to_string(),
                keys.iter().map(|s| s.to_string()).collect(),
            )])),
        )])
    }

    #[test]
    fn the_send_key_never_opens_or_advances_a_dialog() {
        KeymapSet::default()
            .check_send_keys()
            .expect("the defaults keep the invariant");
        let err = |o: &BTreeMap<String, KeysEntry>| match KeymapSet::with_overrides(o) {
            Ok(_) => panic!("accepted: {o:?}"),
            Err(e) => e,
        };
        // Enter reviews: in the confirm step itself and in the step before it
        let e = err(&in_context("confirm", "send", &["enter"]));
        assert!(
            e.contains("enter") && e.contains("send") && e.contains("review"),
            "{e}"
        );
        let e = err(&flat(&[("send", &["enter"])]));
        assert!(e.contains("enter") && e.contains("review"), "{e}");
        // with the confirm step's own review moved away, the first step's Enter remains
        let mut o = in_context("confirm", "send", &["enter"]);
        if let Some(KeysEntry::Context(t)) = o.get_mut("confirm") {
            t.insert("review".into(), vec!["ctrl-r".into()]);
        }
        let e = err(&o);
        assert!(
            e.contains("enter is send in the confirm context")
                && e.contains("review in the dialog"),
            "{e}"
        );
        // L opens the reload dialog (straight at its confirm step): L L would reload
        let e = err(&flat(&[("send", &["L"])]));
        assert!(
            e.contains("L is send in the confirm context") && e.contains("reload in the main"),
            "{e}"
        );
        // y reviewing in the first step: s y y would switch over
        let e = err(&in_context("dialog", "review", &["y"]));
        assert!(
            e.contains("y is send in the confirm context") && e.contains("review in the dialog"),
            "{e}"
        );
        // an opening key moved onto the default send key (the other action's default)
        let e = err(&flat(&[("failover", &["y"])]));
        assert!(
            e.contains("y is send") && e.contains("failover in the main"),
            "{e}"
        );
        // the typed confirmation's send key may not open a dialog either
        let e = err(&flat(&[("send", &["ctrl-r"]), ("restart", &["ctrl-r"])]));
        assert!(e.contains("ctrl-r") && e.contains("restart"), "{e}");
        // a send key that does neither is fine
        let k = KeymapSet::with_overrides(&in_context("confirm", "send", &["Y"])).unwrap();
        assert_eq!(k.action(Context::Confirm, &ch('Y')), Some(Action::Send));
    }

    #[test]
    fn a_flat_rebinding_never_takes_a_letter_from_a_text_field() {
        let k = KeymapSet::with_overrides(&flat(&[("quit", &["Q", "ctrl-q"])])).unwrap();
        assert_eq!(k.action(Context::Typed, &ch('Q')), None, "Q is typed");
        assert_eq!(
            k.action(
                Context::Typed,
                &ev(KeyCode::Char('q'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert_eq!(k.action(Context::Main, &ch('Q')), Some(Action::Quit));
    }
}
