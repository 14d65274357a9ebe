//! The only door from a key press to an action: the context comes from the screen and the
//! session, the action from that context's key map, and each context's handler does what
//! the action says there. Hints and help ask [`App::available`], the same rule the keys
//! obey.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use std::time::Instant;

use super::keymap::{Action, Context, Key};
use super::ops::{OpKind, RolloutState};
use super::redraw::Changed;
use super::session::Press;
use super::{App, Effect, View};

impl App {
    /// Where a key press lands now.
    pub fn context(&self) -> Context {
        if let Some(d) = &self.session.dialog {
            return d.context();
        }
        if self.screen.show_help {
            return Context::Help;
        }
        self.view_context()
    }

    /// The context of the view on screen, under any help or dialog: what the help lists.
    pub fn view_context(&self) -> Context {
        match self.screen.view() {
            View::Logs(_) if self.screen.log_view.editing_filter => Context::LogFilter,
            View::Logs(_) => Context::Logs,
            View::Dsn(_) => Context::Dsn,
            View::Events if self.screen.events_view.editing_filter => Context::LogFilter,
            View::Events => Context::Events,
            _ => Context::Main,
        }
    }

    /// Can `a` be used in `ctx` now? Read-only refuses exactly the actions that write; a
    /// dialog offers only its own kind's options. Hints and help show exactly these.
    pub fn available(&self, ctx: Context, a: Action) -> bool {
        if !ctx.has(a) || (self.read_only && a.writes()) {
            return false;
        }
        match (&self.session.dialog, ctx) {
            (Some(d), Context::Options | Context::Confirm | Context::Typed | Context::Field) => {
                d.offers(a) && (a != Action::DcsFallback || self.model.leader_api_down())
            }
            // esc in the main view goes back from a view; on the member table, nowhere
            (_, Context::Main) => match a {
                Action::Back => *self.screen.view() != View::Main,
                Action::Dismiss => self.session.dismissable(),
                _ => true,
            },
            _ => true,
        }
    }

    /// Hint-bar items of the context now: (key, word). Only what works: without a log
    /// source there is no `l logs` to offer, and the log view's own keys have nothing to
    /// move (the view explains how to configure one).
    pub fn hints(&self) -> Vec<(String, &'static str)> {
        let ctx = self.context();
        let logs = self.model.logs_configured;
        // a toggle names what it does now: `p resume` while paused, `f pause` while following
        let paused = self.cluster().is_some_and(|c| c.is_paused());
        let following = self.screen.log_view.follow;
        self.keys.hints_with(
            ctx,
            |a| {
                self.available(ctx, a)
                    && (logs
                        || match ctx {
                            Context::Main => a != Action::Logs,
                            Context::Logs => matches!(a, Action::Help | Action::Back),
                            _ => true,
                        })
            },
            |a, w| match a {
                Action::Pause if paused => "resume",
                Action::Follow if following => "pause",
                _ => w,
            },
        )
    }

    /// Help rows of the view on screen: (keys, description).
    pub fn help_rows(&self) -> Vec<(String, &'static str)> {
        let ctx = self.view_context();
        self.keys.help(ctx, |a| self.available(ctx, a))
    }

    /// Lines the help overlay has at most (its rows and the notes under them, each note
    /// wrapped to at most three rows at 40 columns or more; the view clamps the scroll).
    pub fn help_len(&self) -> usize {
        self.help_rows().len() + 3 * crate::app::HELP_NOTE.len() + 1
    }

    pub(super) fn on_key(&mut self, at: Instant, ev: KeyEvent) -> Vec<Effect> {
        if ev.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let gap = self.last_input.map(|t| at.saturating_duration_since(t));
        self.last_input = Some(self.last_input.map_or(at, |t| t.max(at)));
        self.changed.mark(Changed::SCREEN);
        // a message in the status bar lasts until the next key
        self.screen.flash = None;
        let ctx = self.context();
        let action = self.keys.action(ctx, &ev);
        if action == Some(Action::Quit) {
            self.quit = Some("quit".into());
            return Vec::new();
        }
        if let Some(a) = action
            && a.writes()
            && self.read_only
        {
            let paused = self.model.cluster().is_some_and(|c| c.is_paused());
            self.flash(read_only_refusal(a, paused));
            return Vec::new();
        }
        let key = Key::from_event(&ev);
        if action.is_none()
            && let Some(msg) = self.not_bound(ctx, &ev)
        {
            // in the status bar, also under a dialog: its own notice may say why nothing
            // was sent, and that must stay
            self.flash(msg);
            return Vec::new();
        }
        match ctx {
            Context::Options | Context::Confirm | Context::Typed | Context::Field => {
                let send = self.send_label(ctx);
                let press = Press {
                    at,
                    gap,
                    // laid out only for the send key: that is the one it gates
                    review_fits: action != Some(Action::Send) || self.review_fits(),
                    shown: self.judgement.plan.as_ref(),
                };
                self.session
                    .dialog_key(&self.model, action, key, &send, self.read_only, press)
            }
            Context::Help => {
                self.help_key(action);
                Vec::new()
            }
            Context::LogFilter => {
                // the filter of the view on screen: the log view's or the events'
                let (filter, editing) = if *self.screen.view() == View::Events {
                    let ev = &mut self.screen.events_view;
                    ev.scroll = 0;
                    (&mut ev.filter, &mut ev.editing_filter)
                } else {
                    let lv = &mut self.screen.log_view;
                    (&mut lv.filter, &mut lv.editing_filter)
                };
                match (action, key.code) {
                    (Some(Action::Done), _) => *editing = false,
                    (Some(Action::Delete), _) => {
                        filter.pop();
                    }
                    (None, KeyCode::Char(c)) if key.is_text() && filter.len() < 100 => {
                        filter.push(c)
                    }
                    _ => {}
                }
                Vec::new()
            }
            Context::Events => match action {
                Some(a) => self.events_act(a),
                None => Vec::new(),
            },
            Context::Logs => match action {
                Some(a) => self.logs_act(a),
                None => Vec::new(),
            },
            Context::Dsn => match action {
                Some(a) => self.dsn_act(a),
                None => Vec::new(),
            },
            Context::Main => match action {
                Some(a) => self.act(a),
                None => Vec::new(),
            },
        }
    }

    /// What to say about a key bound to nothing in `ctx`: nothing for a modifier alone, nor
    /// where a key is text (a field, the filter, a typed name).
    fn not_bound(&self, ctx: Context, ev: &KeyEvent) -> Option<String> {
        if ctx.takes_text() {
            return None;
        }
        let name = key_name(ev.code, ev.modifiers.contains(KeyModifiers::CONTROL))?;
        let help = (ctx != Context::Help && self.available(ctx, Action::Help))
            .then(|| self.keys.key_label(ctx, Action::Help))
            .flatten();
        Some(match help {
            Some(h) => format!("{name} is not bound here; {h} for help"),
            None => format!("{name} is not bound here"),
        })
    }

    /// The send key to name in a dialog's notices.
    fn send_label(&self, ctx: Context) -> String {
        self.keys
            .key_label(ctx, Action::Send)
            .or_else(|| self.keys.key_label(Context::Confirm, Action::Send))
            .unwrap_or_else(|| "the send key".into())
    }

    /// Is the open dialog's whole review (every check, the exact request line) on the
    /// terminal now? Asked of the view's own layout, so the two never disagree. Without a
    /// terminal (headless) nothing is drawn and nothing can be cut off.
    pub fn review_fits(&self) -> bool {
        match (&self.session.dialog, self.screen.size) {
            (Some(d), Some((w, h))) => crate::ui::review_fits(self, d, w, h),
            _ => true,
        }
    }

    /// Judge what is on screen again (see [`super::Judgement`]), once: the dialog's plan
    /// and the detail's member. What a dialog shows follows the cluster: when its request
    /// or its checks changed while the operator did not touch it (`before`: the dialog as
    /// it was before this update), the new ones are shown at once and the send key waits
    /// until they have been read.
    pub(super) fn judge(&mut self, before: Option<super::dialog::JudgedAs>) {
        let detail = match self.screen.view() {
            View::Detail(m) => Some(m.as_str()),
            _ => None,
        };
        let new = super::Judgement::of(&self.model, self.session.dialog.as_ref(), detail);
        let untouched =
            before.is_some() && self.session.dialog.as_ref().map(|d| d.judged_as()) == before;
        if untouched && let Some(ctx) = self.session.dialog.as_ref().map(|d| d.context()) {
            let send = self.send_label(ctx);
            // the latest time known: a key may be newer than the last message's time
            let now = self
                .last_input
                .map_or(self.model.now, |t| t.max(self.model.now));
            let old = self.judgement.plan.as_ref();
            if self
                .session
                .judged(&self.model, old, new.plan.as_ref(), now, &send)
            {
                self.changed.mark(Changed::SCREEN);
            }
        }
        if new != self.judgement {
            self.changed.mark(Changed::SCREEN);
            self.judgement = new;
        }
    }

    /// After judging: when the leader lock changed hands, the event log says whether the
    /// prediction held, and a wrong one is a warning in patrol's own log with its facts.
    pub(super) fn check_prediction(&mut self) -> Vec<Effect> {
        let leader = self.model.cluster().and_then(|c| c.leader.clone());
        let Some(o) = super::election::follow(
            &mut self.held,
            leader.as_deref(),
            self.judgement.election.as_ref(),
        ) else {
            return Vec::new();
        };
        self.model.log_prediction(o.event());
        if o.right {
            return Vec::new();
        }
        vec![Effect::LogWarning(crate::text::sanitize(&format!(
            "next-leader prediction wrong: predicted {}, elected {}; the prediction was: {}",
            o.predicted, o.elected, o.facts
        )))]
    }

    /// Pasted text (bracketed paste) is text, never keys: it goes into the text field being
    /// edited (the log filter, a dialog's field), and nowhere else. A typed confirmation is
    /// typed, so a paste there is refused; anywhere else it is dropped with a notice.
    pub(super) fn on_paste(&mut self, at: Instant, text: &str) {
        self.last_input = Some(self.last_input.map_or(at, |t| t.max(at)));
        self.changed.mark(Changed::SCREEN);
        self.screen.flash = None;
        // a pasted line break is not Enter, nor any control character a key
        let clean = || text.chars().filter(|c| !c.is_control());
        match self.context() {
            Context::LogFilter => {
                let f = if *self.screen.view() == View::Events {
                    &mut self.screen.events_view.filter
                } else {
                    &mut self.screen.log_view.filter
                };
                for c in clean() {
                    if f.len() >= 100 {
                        break;
                    }
                    f.push(c);
                }
            }
            Context::Field => {
                if let Some(d) = self.session.dialog.as_mut()
                    && let Some(f) = d.editing
                    && let Some(v) = d.options.field_mut(f)
                {
                    for c in clean() {
                        if v.len() >= 64 {
                            break;
                        }
                        v.push(c);
                    }
                }
            }
            Context::Typed => {
                if let Some(d) = self.session.dialog.as_mut() {
                    d.notice =
                        Some("a paste is not typing: type the name yourself; nothing sent".into());
                }
            }
            Context::Options | Context::Confirm => {
                if let Some(d) = self.session.dialog.as_mut() {
                    d.notice =
                        Some("pasted text ignored: a dialog takes keys; nothing sent".into());
                }
            }
            Context::Main | Context::Logs | Context::Dsn | Context::Events | Context::Help => {
                self.flash("pasted text ignored: patrol takes keys, not pasted text".into())
            }
        }
    }

    fn help_key(&mut self, action: Option<Action>) {
        let last = self.help_len().saturating_sub(1);
        let s = &mut self.screen;
        match action {
            Some(Action::Up) => s.help_scroll = s.help_scroll.saturating_sub(1),
            Some(Action::Down) => s.help_scroll = (s.help_scroll + 1).min(last),
            Some(Action::PageUp) => s.help_scroll = s.help_scroll.saturating_sub(10),
            Some(Action::PageDown) => s.help_scroll = (s.help_scroll + 10).min(last),
            Some(Action::Top) => s.help_scroll = 0,
            Some(Action::Bottom) => s.help_scroll = last,
            Some(Action::Help | Action::Back) => {
                s.show_help = false;
                s.help_scroll = 0;
            }
            _ => {}
        }
    }

    /// The log view's own actions; the views it shares with the main view go there.
    fn logs_act(&mut self, a: Action) -> Vec<Effect> {
        // a page is the view's height; the scroll stops where the oldest lines fill the view,
        // so a key back down moves at once (as laid out by `ui::logwin`)
        let (page, max) = match self.log_page() {
            Some((h, max)) => (h.max(1), max),
            None => (20, self.model.logs.len()),
        };
        let lv = &mut self.screen.log_view;
        match a {
            Action::Follow => {
                lv.follow = !lv.follow;
                if lv.follow {
                    lv.scroll = 0;
                }
            }
            Action::Wrap => lv.wrap = !lv.wrap,
            Action::Filter => lv.editing_filter = true,
            Action::Up => {
                lv.follow = false;
                lv.scroll = lv.scroll.saturating_add(1).min(max);
            }
            Action::Down => lv.scroll = lv.scroll.min(max).saturating_sub(1),
            Action::PageUp => {
                lv.follow = false;
                lv.scroll = lv.scroll.saturating_add(page).min(max);
            }
            Action::PageDown => lv.scroll = lv.scroll.min(max).saturating_sub(page),
            Action::Top => {
                lv.follow = false;
                lv.scroll = max;
            }
            Action::Bottom => {
                lv.scroll = 0;
                lv.follow = true;
            }
            Action::Back if !lv.filter.is_empty() => lv.filter.clear(),
            a => return self.act(a),
        }
        Vec::new()
    }

    /// The log view's height in rows and the farthest it can scroll, when a terminal is
    /// there to lay it out on.
    fn log_page(&self) -> Option<(usize, usize)> {
        let View::Logs(m) = self.screen.view() else {
            return None;
        };
        let (w, h) = crate::ui::logwin::page(self)?;
        let lv = &self.screen.log_view;
        let lines: Vec<&crate::logs::LogLine> = match m {
            Some(m) => self.model.logs.member(m).collect(),
            None => self.model.logs.merged(),
        };
        let shown: Vec<&crate::logs::LogLine> = lines
            .into_iter()
            .filter(|l| crate::logs::matches(l, &lv.filter).is_some())
            .collect();
        let rows = |i: usize| crate::ui::logwin::line_rows(shown[i], m.is_none(), w, lv.wrap);
        Some((h, crate::ui::logwin::max_scroll(shown.len(), rows, h)))
    }

    /// The Events view's own actions: it scrolls by event, newest first.
    fn events_act(&mut self, a: Action) -> Vec<Effect> {
        let n = self.shown_events().len();
        let last = n.saturating_sub(1);
        let page = self
            .screen
            .size
            .map_or(10, |(_, h)| usize::from(h).saturating_sub(8).max(1));
        let ev = &mut self.screen.events_view;
        match a {
            Action::Up => ev.scroll = ev.scroll.saturating_sub(1),
            Action::Down => ev.scroll = (ev.scroll + 1).min(last),
            Action::PageUp => ev.scroll = ev.scroll.saturating_sub(page),
            Action::PageDown => ev.scroll = (ev.scroll + page).min(last),
            Action::Top => ev.scroll = last,
            Action::Bottom => ev.scroll = 0,
            Action::Filter => ev.editing_filter = true,
            // esc resumes first: the newest events are what a frozen reader came back for
            Action::Back if ev.frozen.is_some() => return self.act(Action::Freeze),
            Action::Back if !ev.filter.is_empty() => {
                ev.filter.clear();
                ev.scroll = 0;
            }
            a => return self.act(a),
        }
        Vec::new()
    }

    /// Events recorded since the stream was frozen (None: not frozen).
    pub fn frozen_new(&self) -> Option<u64> {
        let at = self.screen.events_view.frozen?;
        Some(self.model.events_pushed().saturating_sub(at))
    }

    /// The event log as the pane and the view show it, newest first: while frozen, without
    /// the events recorded since (the log still holds them, bounded as always).
    pub fn visible_events(&self) -> impl Iterator<Item = &super::events::Event> {
        let new = self.frozen_new().unwrap_or(0);
        let skip = usize::try_from(new).unwrap_or(usize::MAX);
        self.model.events.iter().rev().skip(skip)
    }

    /// The events the Events view shows, newest first: those its filter passes (the log
    /// filter's grammar, over the event's text; an alarm counts as a warning).
    pub fn shown_events(&self) -> Vec<&super::events::Event> {
        let filter = &self.screen.events_view.filter;
        self.visible_events()
            .filter(|e| filter.is_empty() || crate::logs::matches(&event_line(e), filter).is_some())
            .collect()
    }

    /// The connection strings' own actions.
    fn dsn_act(&mut self, a: Action) -> Vec<Effect> {
        let View::Dsn(i) = *self.screen.view() else {
            return Vec::new();
        };
        let n = self.model.connection_strings().len();
        let last = n.saturating_sub(1);
        match a {
            Action::Up => self.screen.replace_top(View::Dsn(i.saturating_sub(1))),
            Action::Down => self.screen.replace_top(View::Dsn((i + 1).min(last))),
            Action::Top => self.screen.replace_top(View::Dsn(0)),
            Action::Bottom => self.screen.replace_top(View::Dsn(last)),
            Action::Copy => {
                if let Some(c) = self.model.connection_strings().get(i).cloned() {
                    // only text built from checked hosts: a newline or an end-of-paste
                    // sequence from etcd on the clipboard runs what follows when pasted
                    if let Some(why) = c.refused {
                        self.flash(format!("not copied: {why}"));
                        return Vec::new();
                    }
                    // OSC 52 has no answer: whether the terminal (or tmux, or the far end
                    // of SSH) put it on a clipboard is unknowable
                    self.flash(format!(
                        "sent {} to the terminal's clipboard (OSC 52)",
                        c.label
                    ));
                    return vec![Effect::Copy(c.text)];
                }
            }
            a => return self.act(a),
        }
        Vec::new()
    }

    /// The operation a health finding names, for the selected member's worst finding
    /// with one (else the cluster's): opened exactly as its own key opens it, so the
    /// dialog and its confirmation are the usual ones. Nothing is sent here.
    fn remedy(&mut self, selected: Option<String>) -> Vec<Effect> {
        use super::diagnosis::Remedy;
        let found = self.health.findings().iter().find(|f| {
            f.remedy.is_some() && selected.is_some() && f.subject.member() == selected.as_deref()
        });
        let found = found.or_else(|| {
            (self.health.findings().iter())
                .find(|f| f.remedy.is_some() && f.subject.member().is_none())
        });
        let Some(f) = found.cloned() else {
            self.flash("no finding here names an operation (H lists the findings)".into());
            return Vec::new();
        };
        if let Some(m) = f.subject.member() {
            self.screen.selected = Some(m.to_string());
        }
        let a = match f.remedy {
            Some(Remedy::Logs) => Action::Logs,
            Some(Remedy::Restart) => Action::Restart,
            Some(Remedy::Reinit) => Action::Reinit,
            Some(Remedy::Flush) => Action::Flush,
            None => return Vec::new(),
        };
        // the same gate as the operation's own key
        if a.writes() && self.read_only {
            let paused = self.model.cluster().is_some_and(|c| c.is_paused());
            self.flash(read_only_refusal(a, paused));
            return Vec::new();
        }
        // a view over the table would hide the dialog's member: back to the table first
        while *self.screen.view() != View::Main {
            self.screen.back();
        }
        self.act(a)
    }

    /// The main view's actions (and the views' shared ones).
    fn act(&mut self, a: Action) -> Vec<Effect> {
        // walked in the table's order without building rows: a key press must not cost
        // every member key
        let cluster = self.model.cluster();
        let order = cluster.map(super::members::Order::new);
        let n = order.as_ref().map_or(0, |o| o.len());
        let i = self
            .screen
            .selected
            .as_deref()
            .and_then(|s| order.as_ref()?.index_of(s))
            .unwrap_or(0);
        let pick = |i: usize| order.as_ref()?.name_at(i).map(str::to_string);
        match a {
            Action::Up | Action::Down => {
                let j = if a == Action::Up {
                    i.saturating_sub(1)
                } else {
                    (i + 1).min(n.saturating_sub(1))
                };
                self.screen.selected = pick(j);
                // the detail view follows the selection
                if let (View::Detail(_), Some(m)) = (self.screen.view(), pick(j)) {
                    self.screen.replace_top(View::Detail(m));
                }
            }
            Action::Top => self.screen.selected = pick(0),
            Action::Bottom => self.screen.selected = pick(n.saturating_sub(1)),
            Action::Help => {
                self.screen.show_help = !self.screen.show_help;
                self.screen.help_scroll = 0;
            }
            Action::Back => self.screen.back(),
            Action::Detail => {
                if let Some(m) = pick(i) {
                    self.screen.open(View::Detail(m));
                }
            }
            Action::Dsn => self.screen.toggle(View::Dsn(0)),
            Action::OwnLog => self.screen.toggle(View::OwnLog),
            Action::Health => self.screen.toggle(View::Health),
            Action::Remedy => return self.remedy(pick(i)),
            Action::Routing => self.screen.toggle(View::Routing),
            Action::Events => {
                self.screen.toggle(View::Events);
                self.screen.events_view.scroll = 0;
            }
            Action::Freeze => {
                let ev = &mut self.screen.events_view;
                match ev.frozen {
                    // resumed: the newest first, the new ones with them
                    Some(_) => {
                        ev.frozen = None;
                        ev.scroll = 0;
                    }
                    None => ev.frozen = Some(self.model.events_pushed()),
                }
            }
            Action::Dismiss if self.session.retire(self.model.now, true) => {
                self.changed.mark(Changed::OPS);
            }
            Action::Etcd => self.screen.toggle(View::Etcd),
            Action::History => self.screen.toggle(View::History),
            Action::Config => self.screen.toggle(View::Config),
            Action::ExportEvents => return vec![self.export_events()],
            // without a log source the view explains, in full, how to configure one
            Action::Logs | Action::AllLogs => {
                let v = View::Logs(if a == Action::Logs { pick(i) } else { None });
                if *self.screen.view() == v {
                    self.screen.back();
                } else {
                    self.screen.open(v);
                    self.screen.log_view.scroll = 0;
                }
            }
            Action::Switchover => self.open(OpKind::Switchover, None),
            Action::Failover => self.open(OpKind::Failover, None),
            Action::Restart => self.open(OpKind::Restart, pick(i)),
            Action::Reload => self.open(OpKind::Reload, pick(i)),
            Action::RollingRestart => {
                if self
                    .session
                    .rollout
                    .as_ref()
                    .is_some_and(|r| r.state == RolloutState::Running)
                {
                    self.flash("a rolling restart is already running".into());
                } else if self.model.rollout_steps(true).is_empty() {
                    self.flash("no member has a pending restart: nothing to roll".into());
                } else {
                    self.open(OpKind::RollingRestart, None)
                }
            }
            Action::Reinit => self.open(OpKind::Reinit, pick(i)),
            Action::Pause => {
                let paused = self.model.cluster().is_some_and(|c| c.is_paused());
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
                let scheduled_sw = self.model.cluster().is_some_and(|c| c.failover.is_some());
                let scheduled_restart = member
                    .as_deref()
                    .and_then(|m| self.model.row(m))
                    .is_some_and(|r| r.scheduled_restart.is_some());
                if scheduled_sw {
                    self.open(OpKind::FlushSwitchover, None)
                } else if scheduled_restart {
                    self.open(OpKind::FlushRestart, member)
                } else {
                    self.flash("nothing to flush: no scheduled switchover, and no scheduled restart on the selected member".into());
                }
            }
            // the other contexts' own actions never reach the main view
            _ => {}
        }
        Vec::new()
    }

    fn open(&mut self, kind: OpKind, member: Option<String>) {
        self.screen.show_help = false;
        self.screen.flash = None;
        let cursor = self.screen.selected.clone();
        self.session
            .open(&self.model, kind, member, cursor.as_deref());
    }

    fn export_events(&self) -> Effect {
        let m = &self.model;
        let stamp = m.wall_now_unix().unwrap_or(0);
        let path = self
            .export_dir
            .join(format!("patrol-events-{}-{stamp}.txt", m.scope));
        // a file read days later, elsewhere: it names its cluster, and each time has its
        // date and zone
        let mut content = format!(
            "# patrol event log of cluster {} (namespace {}), written {}\n# times are UTC; {} event{}, oldest first\n",
            crate::text::sanitize(&m.scope),
            crate::text::sanitize(&m.namespace),
            m.stamp(m.now),
            m.events.len(),
            if m.events.len() == 1 { "" } else { "s" },
        );
        for e in &m.events {
            // a file someone will `cat`: one event per line, nothing for the terminal
            content.push_str(&format!(
                "{} {}\n",
                m.stamp(e.at),
                crate::text::sanitize(&e.kind.text())
            ));
            for d in e.kind.detail() {
                content.push_str(&format!("    {}\n", crate::text::sanitize(d)));
            }
        }
        Effect::WriteFile { path, content }
    }
}

/// The refusal of a write in read-only mode, as a sentence naming what was not sent.
pub fn read_only_refusal(a: Action, paused: bool) -> String {
    let what = match a {
        Action::Switchover => "switchover",
        Action::Failover => "failover",
        Action::Restart => "restart",
        Action::RollingRestart => "rolling restart",
        Action::Reload => "reload",
        Action::Reinit => "reinit",
        Action::Pause if paused => "resume",
        Action::Pause => "pause",
        Action::Flush => "flush",
        Action::DcsFallback => "switchover via etcd",
        _ => "request",
    };
    format!("read-only: {what} not sent (patrol was started read-only)")
}

/// A key as the user knows it, safe to draw: a character that would not show as itself (a
/// control, a bidi or zero-width one, a combining mark) as its code point. None for what is
/// not a key of its own: a modifier alone, the lock keys, nothing.
pub fn key_name(code: KeyCode, ctrl: bool) -> Option<String> {
    use unicode_width::UnicodeWidthChar;
    let base = match code {
        KeyCode::Modifier(_)
        | KeyCode::CapsLock
        | KeyCode::NumLock
        | KeyCode::ScrollLock
        | KeyCode::Null => return None,
        KeyCode::Char(c)
            if crate::text::is_unsafe(c)
                || c.is_control()
                || (c.is_whitespace() && c != ' ')
                || c.width().unwrap_or(0) == 0 =>
        {
            format!("U+{:04X}", c as u32)
        }
        KeyCode::F(n) => format!("F{n}"),
        code => Key { code, ctrl: false }.to_string(),
    };
    Some(if ctrl { format!("ctrl-{base}") } else { base })
}

/// An event as a log line, for the log filter's grammar: its time and text, an alarm a
/// warning (`level:warning` keeps only the alarms).
fn event_line(e: &super::events::Event) -> crate::logs::LogLine {
    let mut l = crate::logs::LogLine::notice("", &e.kind.text());
    l.level = if e.kind.is_alarm() {
        crate::logs::Level::Warning
    } else {
        crate::logs::Level::Info
    };
    l
}
