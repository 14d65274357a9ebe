//! The operations session: the open dialog, the operations sent and how each settles, the
//! rolling restart. It reads the model (to plan and to settle) and never draws; a write
//! leaves only as `Effect::Send`, produced by a confirmation here and nowhere else.

use std::time::{Duration, Instant};

use super::Effect;
use super::checks;
use super::dialog::{Dialog, Step};
use super::judgement::same_checks;
use super::keymap::{Action, Key};
use super::model::Model;
use super::ops::{
    self, OpKind, Operation, Reply, Request, Rollout, RolloutState, RolloutStep, Settle,
};
use super::plan::Plan;

/// A send key closer than this behind the key before it is not a person's answer to what
/// is on screen: a paste (without bracketed paste), `tmux send-keys` or a key burst arrives
/// within a few milliseconds, and SSH jitter bunches keys by tens; a person needs about
/// 250 ms to see a new screen and react to it (simple visual reaction time), so a deliberate
/// press after reading is never refused. It also stops key repeat: a held key repeats every
/// 30-40 ms, so none of its repeats sends.
pub const BURST: Duration = Duration::from_millis(200);

/// After the request shown changes (the cluster moved), the send key does nothing for this
/// long: the new request must be on screen and read, not sent by the second press of a
/// double tap or a bounce.
pub const READ_CHANGED: Duration = Duration::from_secs(1);

/// Finished operations kept in the session (the event log and the audit log have them all).
pub const MAX_KEPT: usize = 64;

/// How the send key came, beyond which key it is: the gates in front of a write.
#[derive(Debug, Clone, Copy)]
pub struct Press<'a> {
    /// When the input task read the key.
    pub at: Instant,
    /// Since the key (or paste) before it; None: the first key.
    pub gap: Option<Duration>,
    /// The whole review (every check and the exact request line) is on screen.
    pub review_fits: bool,
    /// The plan on screen when it came (the app's judgement): the send key answers by it.
    pub shown: Option<&'a Plan>,
}

#[derive(Debug, Clone, Default)]
pub struct Session {
    /// The open operation dialog, if any.
    pub dialog: Option<Dialog>,
    /// Operations sent in this session, newest last (the last [`MAX_KEPT`] finished ones);
    /// the panel shows those not retired ([`Session::panel`]).
    pub ops: Vec<Operation>,
    /// A rolling restart in progress (or the last one).
    pub rollout: Option<Rollout>,
    next_op: u64,
}

impl Session {
    pub fn new() -> Session {
        Session {
            dialog: None,
            ops: Vec::new(),
            rollout: None,
            next_op: 1,
        }
    }

    /// Open the dialog of `kind` (on `member`), planned against the model now. A dialog
    /// that picks a candidate picks the member under the cursor when it is one, else the
    /// best one now.
    pub fn open(
        &mut self,
        model: &Model,
        kind: OpKind,
        member: Option<String>,
        cursor: Option<&str>,
    ) {
        let mut d = Dialog::new(kind, member);
        if kind.has_candidates() {
            let candidates = model.plan(&d).candidates;
            let at_cursor = cursor.filter(|n| candidates.iter().any(|c| c.name == *n));
            d.candidate = at_cursor
                .map(str::to_string)
                .or_else(|| candidates.first().map(|c| c.name.clone()));
        }
        if d.step == Step::Confirm {
            d.shown = model.plan(&d).request;
        }
        self.dialog = Some(d);
    }

    /// The review shows what the cluster calls for *now*: when the request or the checks
    /// judged after a batch of messages differ from the ones on screen (`old`), the new
    /// ones are shown at once and the send key waits [`READ_CHANGED`]. Says whether it
    /// held the send key.
    pub fn judged(
        &mut self,
        model: &Model,
        old: Option<&Plan>,
        new: Option<&Plan>,
        now: Instant,
        send_key: &str,
    ) -> bool {
        let (Some(d), Some(new)) = (self.dialog.as_mut(), new) else {
            return false;
        };
        if d.step != Step::Confirm || d.editing.is_some() {
            return false;
        }
        if new.request != d.shown {
            show_changed(model, d, new.request.clone(), now, send_key, "request");
            return true;
        }
        if old.is_some_and(|o| !same_checks(&o.checks, &new.checks)) {
            show_changed(model, d, new.request.clone(), now, send_key, "checks");
            return true;
        }
        false
    }

    /// Patroni's answer to an operation's request.
    pub fn reply(&mut self, op: u64, reply: Reply) -> bool {
        match self.ops.iter_mut().find(|o| o.id == op) {
            Some(o) => {
                o.reply = Some(reply);
                true
            }
            None => false,
        }
    }

    /// A key in the open dialog: `action` is what the dialog's context maps it to (None:
    /// unbound; a printable one is text in a text field). Returns the `Send` effect only on
    /// a valid confirmation.
    pub fn dialog_key(
        &mut self,
        model: &Model,
        action: Option<Action>,
        key: Key,
        send_key: &str,
        read_only: bool,
        press: Press,
    ) -> Vec<Effect> {
        let Some(mut d) = self.dialog.take() else {
            return Vec::new();
        };
        let text = match key.code {
            ratatui::crossterm::event::KeyCode::Char(c) if key.is_text() => Some(c),
            _ => None,
        };
        // a text field being edited takes every printable key
        if let Some(f) = d.editing {
            match (action, text) {
                (Some(Action::Done), _) => {
                    d.editing = None;
                    // `+15m` and `16:30` mean a time from now: fixed once, here, so the
                    // review shows and the send key sends one time (the ISO form)
                    if f == super::dialog::Field::Schedule
                        && let Some(v) = d.options.field_mut(f)
                        && let Ok(Some(w)) = super::schedule::parse(v, model.wall_now(), &model.tz)
                    {
                        *v = w.iso();
                    }
                }
                (Some(Action::Delete), _) => {
                    if let Some(v) = d.options.field_mut(f) {
                        v.pop();
                    }
                }
                (None, Some(c)) => {
                    if let Some(v) = d.options.field_mut(f).filter(|v| v.len() < 64) {
                        v.push(c);
                    }
                }
                _ => {}
            }
            self.dialog = Some(d);
            return Vec::new();
        }
        let typed = d.step == Step::Confirm && d.kind.typed_confirmation();
        if typed && action.is_none() {
            // the name being typed; the send key sends only once a key press after
            // reaching this step edited it (`armed`), so neither `s` Enter Enter nor a
            // bouncing Enter can both advance and send
            if let Some(c) = text
                && d.typed.len() < 128
            {
                d.typed.push(c);
                d.armed = true;
            }
            self.dialog = Some(d);
            return Vec::new();
        }
        let Some(a) = action.filter(|a| d.offers(*a)) else {
            self.dialog = Some(d);
            return Vec::new();
        };
        match (d.step, a) {
            (_, Action::Back) => {
                if d.kind == OpKind::DcsSwitchover {
                    d.kind = OpKind::Switchover;
                    d.typed.clear();
                    d.armed = false;
                    d.notice = None;
                    d.shown = model.plan(&d).request;
                } else if d.step == Step::Confirm && d.kind.has_options() {
                    d.step = Step::Options;
                    d.typed.clear();
                    d.notice = None;
                } else {
                    return Vec::new(); // closed: nothing sent
                }
            }
            (_, Action::Cancel) => return Vec::new(),
            (Step::Options, Action::Up | Action::Down) => {
                d.move_selection(&model.plan(&d).candidates, a == Action::Up)
            }
            (Step::Options, Action::Review) => {
                let p = model.plan(&d);
                d.step = Step::Confirm;
                d.shown = p.request;
                d.notice = None;
                d.typed.clear();
                d.armed = false;
            }
            (Step::Options, a) => {
                if let Some(f) = d.options.apply(a) {
                    d.editing = Some(f);
                }
            }
            // the DCS fallback, offered when the leader's API is unreachable; its own
            // dialog and its own (typed) confirmation
            (Step::Confirm, Action::DcsFallback) if model.leader_api_down() => {
                d.kind = OpKind::DcsSwitchover;
                d.typed.clear();
                d.armed = false;
                d.notice = None;
                d.shown = model.plan(&d).request;
            }
            (Step::Confirm, Action::Delete) if typed => {
                d.typed.pop();
                d.armed = true;
            }
            (Step::Confirm, Action::Send) if !typed || d.armed => {
                if let Some(why) = refused(model, &d, press, send_key) {
                    d.notice = Some(why);
                } else {
                    return self.confirm(model, press.shown, d, read_only, press.at, send_key);
                }
            }
            (Step::Confirm, Action::Send) => {
                d.notice = Some(format!("type the name, then {send_key}; nothing sent"))
            }
            (Step::Confirm, Action::Review) => {
                d.notice = Some(format!(
                    "Enter only reviews: press {send_key} to send; nothing sent"
                ));
            }
            _ => {}
        }
        self.dialog = Some(d);
        Vec::new()
    }

    /// The moment of confirming: check again against the state *now*; send only if the
    /// request and the checks are still the ones the operator saw (`shown`) and nothing
    /// blocks it. A refusal names a check that is on screen.
    fn confirm(
        &mut self,
        model: &Model,
        shown: Option<&Plan>,
        mut d: Dialog,
        read_only: bool,
        at: Instant,
        send_key: &str,
    ) -> Vec<Effect> {
        // (read-only refuses the send key before it gets here: refused again at the last step)
        if read_only {
            d.notice = Some("read-only: nothing sent".into());
            self.dialog = Some(d);
            return Vec::new();
        }
        let p = model.plan(&d);
        if let Some(must) = &p.must_type
            && d.typed != *must
        {
            d.notice = Some(format!("type {must:?} exactly to confirm; nothing sent"));
            self.dialog = Some(d);
            return Vec::new();
        }
        // judged again since the frame on screen, and it says something else: show that
        // first (the app judges again after this key), refuse nothing on unseen grounds
        if shown.is_none_or(|s| !same_checks(&s.checks, &p.checks)) {
            show_changed(model, &mut d, p.request, at, send_key, "checks");
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
        if let Some(busy) = self.busy_with(&model.scope, d.kind, &request.member) {
            d.notice = Some(format!(
                "not sent: {} is still in flight ({}); wait until it settles",
                busy.title,
                busy.settle.label()
            ));
            self.dialog = Some(d);
            return Vec::new();
        }
        if d.shown.as_ref() != Some(&request) {
            show_changed(model, &mut d, Some(request), at, send_key, "request");
            self.dialog = Some(d);
            return Vec::new();
        }
        if d.kind == OpKind::RollingRestart {
            let Some(first) = p.steps.first().cloned() else {
                return Vec::new();
            };
            let (id, eff) = self.start_op(
                model,
                first_kind(&first),
                d.member.clone(),
                request,
                p.expect,
            );
            self.rollout = Some(Rollout {
                steps: p.steps,
                current: 0,
                op: Some(id),
                state: RolloutState::Running,
                results: Vec::new(),
            });
            return eff;
        }
        self.start_op(model, d.kind, d.member.clone(), request, p.expect)
            .1
    }

    /// An operation not yet settled that a new write of `kind` to `member` would overlap:
    /// any unsettled operation for a cluster-wide write (switchover, failover, pause ...) or
    /// while one is in flight, the same member's for a member's own (restart, reload ...),
    /// and the current step of a running rolling restart for anything.
    fn busy_with(&self, scope: &str, kind: OpKind, member: &str) -> Option<&Operation> {
        let own = |k: OpKind| ops::spec(k).member_scoped;
        let rollout_op = self
            .rollout
            .as_ref()
            .filter(|r| r.state == RolloutState::Running)
            .and_then(|r| r.op);
        self.ops.iter().find(|o| {
            !o.settle.finished()
                && o.cluster == scope
                && (!own(kind)
                    || !own(o.kind)
                    || o.request.member == member
                    || rollout_op == Some(o.id))
        })
    }

    /// Record an operation and ask the runtime to send its request, once.
    fn start_op(
        &mut self,
        model: &Model,
        kind: OpKind,
        member: Option<String>,
        request: Request,
        expect: ops::Expect,
    ) -> (u64, Vec<Effect>) {
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
            cluster: model.scope.clone(),
            title,
            request: request.clone(),
            expect,
            started: model.now,
            reply: None,
            settle: Settle::Sending,
            timeout: ops::SETTLE_TIMEOUT,
            audited: false,
            settled_at: None,
            logged: false,
            retired: false,
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
    fn advance_rollout(&mut self, model: &Model) -> Vec<Effect> {
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
                && !model
                    .rows()
                    .iter()
                    .any(|x| &x.name == m && x.pending_restart)
            {
                r.results
                    .push(format!("restart {m}: skipped, no longer pending"));
                continue;
            }
            let p = model.step_plan(&step);
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
            let (id, e) = self.start_op(model, first_kind(&step), None, request, p.expect);
            r.op = Some(id);
            eff = e;
            break;
        }
        self.rollout = Some(r);
        eff
    }

    /// Move every open operation forward; audit the ones that just finished. Also says
    /// whether anything the operations pane shows changed.
    pub fn settle(&mut self, model: &Model) -> (Vec<Effect>, bool) {
        let rollout_before = self.rollout.clone();
        let (mut eff, changed) = self.settle_each(model);
        eff.extend(self.advance_rollout(model));
        let rollout_changed = self.rollout != rollout_before;
        (eff, changed || rollout_changed)
    }

    fn settle_each(&mut self, model: &Model) -> (Vec<Effect>, bool) {
        let (now, interval) = (model.now, model.rest_interval);
        let cluster = model.clusters.get(&model.scope);
        let mut eff = Vec::new();
        let mut changed = false;
        for o in self.ops.iter_mut() {
            changed |= o.advance(cluster, now, interval);
            if o.settle.finished() && !o.audited {
                o.audited = true;
                eff.push(Effect::Audit(ops::audit_record(o)));
            }
        }
        (eff, changed)
    }

    /// Take finished operations out of the panel: those finished [`ops::LINGER`] before
    /// `now`, or all of them (`all`: the dismiss key), and a finished rolling restart with
    /// them once none of its operations is left. Their outcomes are in the event log already
    /// ([`Session::unlogged`]). Returns whether the panel changed.
    pub fn retire(&mut self, now: Instant, all: bool) -> bool {
        let before = (self.panel().count(), self.rollout.is_some());
        let running_op = self
            .rollout
            .as_ref()
            .filter(|r| r.state == RolloutState::Running)
            .and_then(|r| r.op);
        for o in self.ops.iter_mut() {
            o.retired |= o.logged
                && Some(o.id) != running_op
                && o.settled_at
                    .is_some_and(|t| all || now.saturating_duration_since(t) >= ops::LINGER);
        }
        // the session's history is bounded: the oldest retired ones go
        while self.ops.len() > MAX_KEPT {
            match self.ops.iter().position(|o| o.retired) {
                Some(i) => {
                    self.ops.remove(i);
                }
                None => break,
            }
        }
        let finished_rollout = self
            .rollout
            .as_ref()
            .is_some_and(|r| r.state != RolloutState::Running);
        if finished_rollout && (all || self.panel().count() == 0) {
            self.rollout = None;
        }
        before != (self.panel().count(), self.rollout.is_some())
    }

    /// The operations in the panel: in flight, or finished and not retired yet.
    pub fn panel(&self) -> impl Iterator<Item = &Operation> {
        self.ops.iter().filter(|o| !o.retired)
    }

    /// Is there anything finished the dismiss key would take away?
    pub fn dismissable(&self) -> bool {
        self.panel().any(|o| o.settle.finished())
            || self
                .rollout
                .as_ref()
                .is_some_and(|r| r.state != RolloutState::Running)
    }

    /// Finished operations whose outcome is not in the event log yet; marked as logged.
    pub fn unlogged(&mut self) -> Vec<&Operation> {
        let mut out = Vec::new();
        for o in self.ops.iter_mut() {
            if o.settle.finished() && !o.logged {
                o.logged = true;
                out.push(&*o);
            }
        }
        out
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
}

/// The request (or the checks: `what`) shown changed at `at`: show the new one, and hold
/// the send key until it has been on screen for [`READ_CHANGED`].
fn show_changed(
    model: &Model,
    d: &mut Dialog,
    request: Option<Request>,
    at: Instant,
    send_key: &str,
    what: &'static str,
) {
    let from = at + READ_CHANGED;
    d.shown = request;
    d.hold_until = Some(from);
    // a new review: a typed confirmation is typed again, for this request
    d.typed.clear();
    d.armed = false;
    let it = if what == "checks" { "them" } else { "it" };
    d.notice = Some(format!(
        "the {what} changed: read {it}; {send_key} sends from {} (in {} s); nothing sent",
        model.clock(from),
        READ_CHANGED.as_secs()
    ));
    d.held = Some(what);
}

/// Why this press of the send key must not send, before anything is planned: it came in a
/// burst, the request shown changed less than [`READ_CHANGED`] ago, or the review is not
/// all on screen.
fn refused(model: &Model, d: &Dialog, press: Press, send_key: &str) -> Option<String> {
    if let Some(gap) = press.gap.filter(|g| *g < BURST) {
        return Some(format!(
            "{send_key} came {} ms after the key before it, faster than anyone reads (a paste?): ignored, nothing sent; read the request, then press {send_key}",
            gap.as_millis()
        ));
    }
    if let Some(from) = d.hold_until.filter(|f| press.at < *f) {
        let left = from.saturating_duration_since(press.at);
        let what = d.held.unwrap_or("request");
        let it = if what == "checks" { "them" } else { "it" };
        return Some(format!(
            "the {what} changed: read {it}; {send_key} sends from {} (in {} s); nothing sent",
            model.clock(from),
            left.as_millis().div_ceil(1000)
        ));
    }
    if !press.review_fits {
        return Some(format!(
            "the request is not all on screen: enlarge the window; {send_key} sends only what is shown; nothing sent"
        ));
    }
    None
}

fn first_kind(step: &RolloutStep) -> OpKind {
    match step {
        RolloutStep::Restart(_) => OpKind::Restart,
        RolloutStep::SwitchoverFrom(_) => OpKind::Switchover,
    }
}
