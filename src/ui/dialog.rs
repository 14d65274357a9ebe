//! The operation dialog: candidates and options, pre-flight checks, the exact request, and
//! the confirmation (a key, or a typed name for what can lose data).

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::checks::Level;
use crate::app::dialog::{Dialog, Field, Options, Step};
use crate::app::ops::OpKind;
use crate::app::{Action, App, Context};
use crate::text::sanitize;
use crate::theme::Theme;

fn field<'a>(d: &Dialog, f: Field, value: &str, empty: &'a str, theme: &Theme) -> Span<'a> {
    if d.editing == Some(f) {
        Span::styled(format!("{value}▏"), theme.selected)
    } else if value.is_empty() {
        Span::styled(empty, theme.muted)
    } else {
        Span::styled(sanitize(value), theme.text)
    }
}

fn toggle(on: bool) -> &'static str {
    if on { "[x]" } else { "[ ]" }
}

/// `(t)`: the key of an option, as the key map has it now.
fn key_of(app: &App, a: Action) -> String {
    app.keys
        .key_label(Context::Options, a)
        .map(|k| format!("({k})"))
        .unwrap_or_default()
}

/// A dialog's text: the body lines, how many of them are the review (everything down to
/// the exact request line: what the send key promises), and the prompt.
struct Content<'a> {
    lines: Vec<Line<'a>>,
    review_end: usize,
    keys: Line<'a>,
}

/// Where a dialog goes on a frame of `area`, and whether its whole review is on screen.
struct Placement {
    popup: Rect,
    body: Rect,
    prompt: Rect,
    fits: bool,
}

/// The one layout of a dialog: the view draws by it, and the send key asks it
/// ([`review_fits`]), so what is on screen and what may be sent never disagree.
fn place(area: Rect, c: &Content) -> Placement {
    let w = area.width.min(100);
    let inner_w = w.saturating_sub(2).max(1);
    let rows = |lines: &[Line]| {
        let n = Paragraph::new(lines.to_vec())
            .wrap(Wrap { trim: false })
            .line_count(inner_w);
        u16::try_from(n).unwrap_or(u16::MAX)
    };
    // wrapped height, so the prompt line below never falls off the popup
    let h = rows(&c.lines).saturating_add(4).min(area.height);
    let [popup] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(popup);
    let inner = Block::default().borders(Borders::ALL).inner(popup);
    // the prompt gets the last line whatever the size: it is what the operator acts on
    let [body, _gap, prompt] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let review = c.lines.get(..c.review_end).unwrap_or(&c.lines);
    let fits = review.is_empty() || rows(review) <= body.height;
    Placement {
        popup,
        body,
        prompt,
        fits,
    }
}

/// Would the whole review of `d` (every check and the exact request line) be on a
/// `width` x `height` terminal? The send key sends only then.
pub fn review_fits(app: &App, d: &Dialog, width: u16, height: u16) -> bool {
    let area = Rect::new(0, 0, width, height);
    if !super::full_layout(area) {
        // below this no dialog is drawn at all
        return false;
    }
    place(area, &content(app, d, &Theme::default())).fits
}

pub fn render(f: &mut Frame, area: Rect, app: &App, d: &Dialog, theme: &Theme) {
    let mut c = content(app, d, theme);
    let at = place(area, &c);
    if !at.fits {
        // first, so it is on screen however little room there is
        c.lines.insert(
            0,
            Line::styled(" request cut off: enlarge the window to send", theme.danger),
        );
    }
    let title = format!(" {} · {} ", d.kind.label(), sanitize(&app.model.scope));
    let danger = d.kind.typed_confirmation();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if danger { theme.down } else { theme.border })
        .title(Span::styled(
            title,
            if danger { theme.danger } else { theme.title },
        ));
    f.render_widget(Clear, at.popup);
    f.render_widget(block, at.popup);
    f.render_widget(Paragraph::new(c.lines).wrap(Wrap { trim: false }), at.body);
    f.render_widget(Paragraph::new(c.keys), at.prompt);
}

fn content<'a>(app: &App, d: &Dialog, theme: &Theme) -> Content<'a> {
    // the plan judged once per update (`App::judge`), the one the send key compares with
    let none = crate::app::Plan::default();
    let plan = app.judgement.plan.as_ref().unwrap_or(&none);
    let (pending_only, force, from_leader, switch_first) = match d.options {
        Options::Restart { pending_only, .. } => (pending_only, false, false, false),
        Options::Reinit { force, from_leader } => (false, force, from_leader, false),
        Options::Rolling { switch_first } => (false, false, false, switch_first),
        _ => (false, false, false, false),
    };
    let mut lines: Vec<Line> = Vec::new();
    let target = d.member.as_deref().map(sanitize).unwrap_or_default();
    let leader = app.cluster().and_then(|c| c.leader.clone());

    match d.kind {
        OpKind::Switchover | OpKind::Failover | OpKind::DcsSwitchover => {
            lines.push(Line::from(vec![
                Span::styled(" leader  ", theme.header_key),
                match &leader {
                    Some(l) => Span::styled(sanitize(l), theme.leader),
                    None => Span::styled("none", theme.danger),
                },
            ]));
            lines.push(Line::styled(" candidates", theme.header_key));
            if plan.candidates.is_empty() {
                lines.push(Line::styled("   (no other member)", theme.muted));
            }
            for c in &plan.candidates {
                let here = d.candidate.as_ref() == Some(&c.name);
                let mark = if here { "▸ " } else { "  " };
                let name = Span::styled(
                    format!(" {mark}{:<12}", sanitize(&c.name)),
                    if here { theme.selected } else { theme.text },
                );
                // ✗ is what blocks this operation; a failover only warns (!) of the rest
                let blocking = if d.kind == OpKind::Failover {
                    &c.blocks_failover
                } else {
                    &c.reasons
                };
                let why = if c.eligible() {
                    Span::styled(" eligible", theme.healthy)
                } else if blocking.is_empty() {
                    Span::styled(
                        format!(" ! {}", sanitize(&c.reasons.join(", "))),
                        theme.warning,
                    )
                } else {
                    Span::styled(
                        format!(" ✗ {}", sanitize(&blocking.join(", "))),
                        theme.warning,
                    )
                };
                lines.push(Line::from(vec![name, why]));
            }
            if matches!(d.kind, OpKind::Switchover | OpKind::DcsSwitchover) {
                lines.push(Line::from(vec![
                    Span::styled(" when    ", theme.header_key),
                    field(d, Field::Schedule, d.options.schedule(), "now", theme),
                    Span::styled(
                        format!("  {} +15m, 16:30 or ISO", key_of(app, Action::Schedule)),
                        theme.muted,
                    ),
                ]));
            }
        }
        OpKind::Restart => {
            lines.push(Line::from(vec![
                Span::styled(" member  ", theme.header_key),
                Span::styled(target.clone(), theme.text),
            ]));
            lines.push(Line::from(vec![
                Span::styled(format!(" {} ", toggle(pending_only)), theme.text),
                Span::styled(
                    format!(
                        "only if a restart is pending {}",
                        key_of(app, Action::PendingOnly)
                    ),
                    theme.text,
                ),
            ]));
            lines.push(Line::from(vec![
                Span::styled(" when    ", theme.header_key),
                field(d, Field::Schedule, d.options.schedule(), "now", theme),
                Span::styled(
                    format!("  {} +15m, 16:30 or ISO", key_of(app, Action::Schedule)),
                    theme.muted,
                ),
            ]));
            lines.push(Line::from(vec![
                Span::styled(" only if PostgreSQL version < ", theme.header_key),
                field(
                    d,
                    Field::PgVersion,
                    d.options.field(Field::PgVersion),
                    "any",
                    theme,
                ),
                Span::styled(format!("  {}", key_of(app, Action::PgVersion)), theme.muted),
            ]));
            lines.push(Line::from(vec![
                Span::styled(" timeout ", theme.header_key),
                field(
                    d,
                    Field::Timeout,
                    d.options.field(Field::Timeout),
                    "Patroni's default",
                    theme,
                ),
                Span::styled(
                    format!("  {} seconds", key_of(app, Action::Timeout)),
                    theme.muted,
                ),
            ]));
        }
        OpKind::Reinit => {
            lines.push(Line::from(vec![
                Span::styled(" member  ", theme.header_key),
                Span::styled(target.clone(), theme.text),
            ]));
            lines.push(Line::raw(format!(
                " {} force, even if it is running {}",
                toggle(force),
                key_of(app, Action::Force)
            )));
            lines.push(Line::raw(format!(
                " {} take the base backup from the leader {}",
                toggle(from_leader),
                key_of(app, Action::FromLeader)
            )));
        }
        OpKind::Reload | OpKind::FlushRestart => {
            lines.push(Line::from(vec![
                Span::styled(" member  ", theme.header_key),
                Span::styled(target.clone(), theme.text),
            ]));
        }
        OpKind::RollingRestart => {
            lines.push(Line::raw(format!(
                " {} switch over before restarting the leader {}",
                toggle(switch_first),
                key_of(app, Action::SwitchFirst)
            )));
            lines.push(Line::styled(
                " steps, one at a time; each must settle before the next",
                theme.header_key,
            ));
            for (i, st) in plan.steps.iter().enumerate() {
                lines.push(Line::raw(format!(
                    "   {}. {}",
                    i + 1,
                    sanitize(&st.label())
                )));
            }
            lines.push(Line::styled("   stops at the first failure", theme.muted));
        }
        OpKind::Pause | OpKind::Resume | OpKind::FlushSwitchover => {}
    }

    lines.push(Line::styled(" checks", theme.header_key));
    for c in &plan.checks {
        let (mark, st) = match c.level {
            Level::Pass => ("✓", theme.healthy),
            Level::Warn => ("!", theme.warning),
            Level::Fail => ("✗", theme.down),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("   {mark} "), st),
            Span::styled(sanitize(&c.text), st),
        ]));
    }

    let mut review_end = 0;
    if d.step == Step::Confirm {
        // the time sent, said back in full with its zone and how far away it is
        let m = &app.model;
        if let Ok(Some(w)) = crate::app::schedule::parse(d.options.schedule(), m.wall_now(), &m.tz)
        {
            let away = m
                .wall_now()
                .map(|now| format!(" ({})", super::countdown(now, w.at)))
                .unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled(" when    ", theme.header_key),
                Span::styled(format!("at {}{away}", w.shown()), theme.warning),
            ]));
        }
        lines.push(Line::styled(" request", theme.header_key));
        match &d.shown {
            Some(r) => lines.push(Line::styled(
                format!("   {}", sanitize(&r.display())),
                theme.text,
            )),
            None => lines.push(Line::styled("   (none can be built)", theme.muted)),
        }
        review_end = lines.len();
    }
    if let Some(n) = &d.notice {
        lines.push(Line::styled(format!(" {}", sanitize(n)), theme.danger));
    }
    // the prompt: what the keys of this step do, from the key map
    let mut keys: Vec<Span> = Vec::new();
    if let (Step::Confirm, Some(must)) = (d.step, &plan.must_type) {
        keys.push(Span::styled(
            format!(" type {} to confirm: ", sanitize(must)),
            theme.warning,
        ));
        keys.push(Span::styled(
            format!("{}▏", sanitize(&d.typed)),
            theme.selected,
        ));
        keys.push(Span::raw(" "));
    }
    // the options name their own keys beside them: the prompt has the step's keys
    let ctx = app.context();
    let prompt = app.keys.hints(ctx, |a| {
        app.available(ctx, a) && !d.options.actions().contains(&a)
    });
    for (k, word) in prompt {
        keys.push(Span::styled(format!(" {k}"), theme.key));
        let word = if word == "send once" && d.kind == crate::app::ops::OpKind::RollingRestart {
            "start (first request above)"
        } else {
            word
        };
        keys.push(Span::styled(format!(": {word} "), theme.muted));
    }
    Content {
        lines,
        review_end,
        keys: Line::from(keys),
    }
}

/// Operations the panel shows at most (the newest); the event log has every outcome.
const MAX_OPS_SHOWN: usize = 4;

/// Rows the operations panel needs inside its border: one per operation, one for a rolling
/// restart.
pub fn ops_rows(app: &App) -> u16 {
    (app.session.panel().count().min(MAX_OPS_SHOWN) + usize::from(app.session.rollout.is_some()))
        as u16
}

/// The operations in flight or finished in the last [`crate::app::ops::LINGER`], one row
/// each, cut to the width: the whole reply is in the event log (the Events view).
pub fn render_ops(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut lines: Vec<Line> = Vec::new();
    if let Some(r) = &app.session.rollout {
        use crate::app::ops::RolloutState;
        let (text, st) = match &r.state {
            RolloutState::Running => (
                format!(
                    " rolling restart: step {}/{}: {}",
                    (r.current + 1).min(r.steps.len()),
                    r.steps.len(),
                    r.steps
                        .get(r.current)
                        .map(|s| s.label())
                        .unwrap_or_default()
                ),
                theme.warning,
            ),
            RolloutState::Done => (
                format!(" rolling restart: done ({} steps)", r.steps.len()),
                theme.healthy,
            ),
            RolloutState::Failed(why) => (format!(" rolling restart: {why}"), theme.down),
        };
        lines.push(Line::styled(sanitize(&text), st));
    }
    let shown: Vec<&crate::app::ops::Operation> = app.session.panel().collect();
    lines.extend(shown.into_iter().rev().take(MAX_OPS_SHOWN).map(|o| {
        let st = match &o.settle {
            crate::app::ops::Settle::Done(_) => theme.healthy,
            crate::app::ops::Settle::Failed(_) => theme.down,
            _ => theme.warning,
        };
        // a finished operation's age is since it finished
        let at = o.settled_at.unwrap_or(o.started);
        let age = super::ago(app.model.now.saturating_duration_since(at));
        Line::from(vec![
            Span::styled(format!(" {age:>6} ago "), theme.muted),
            Span::styled(format!("{}  ", sanitize(&o.title)), theme.text),
            Span::styled(sanitize(&o.summary()), st),
        ])
    }));
    let inner = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = lines.into_iter().map(|l| cut_line(l, inner)).collect();
    let dismiss = app
        .keys
        .key_label(crate::app::Context::Main, crate::app::Action::Dismiss)
        .filter(|_| {
            app.session.dismissable()
                && app.available(crate::app::Context::Main, crate::app::Action::Dismiss)
        })
        .map(|k| format!(" {k}: dismiss "))
        .unwrap_or_default();
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(" Operations ", theme.title))
                .title_bottom(Line::styled(dismiss, theme.muted).right_aligned()),
        ),
        area,
    );
}

/// `line` cut to `width` cells, an ellipsis where it was cut.
pub(super) fn cut_line(line: Line<'static>, width: usize) -> Line<'static> {
    use unicode_width::UnicodeWidthChar;
    if line.width() <= width {
        return line;
    }
    let mut left = width.saturating_sub(1);
    let mut spans = Vec::new();
    for sp in line.spans {
        let mut text = String::new();
        for c in sp.content.chars() {
            let w = c.width().unwrap_or(0);
            if w > left {
                left = 0;
                break;
            }
            left -= w;
            text.push(c);
        }
        let done = left == 0;
        spans.push(Span::styled(text, sp.style));
        if done {
            break;
        }
    }
    spans.push(Span::raw("…"));
    Line::from(spans)
}
