use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::members::MemberRow;
use crate::app::{App, DcsHealth};
use crate::text::{redact_url, sanitize};
use crate::theme::Theme;

pub fn render(f: &mut Frame, area: Rect, app: &App, rows: &[MemberRow], theme: &Theme) {
    let cluster = app.cluster();

    // line 1: which cluster, where from, how fresh
    let mut l1 = vec![
        Span::styled(" patrol ", theme.title),
        Span::styled(sanitize(&app.model.scope), theme.title),
    ];
    if let Some(id) = cluster.and_then(|c| c.initialize.as_deref()) {
        l1.push(Span::styled(
            format!("  sysid {}", sanitize(id)),
            theme.muted,
        ));
    }
    l1.push(Span::styled("  etcd ", theme.header_key));
    match &app.model.dcs {
        // no etcd to watch: the badge line says where the membership comes from
        _ if app.model.rest_only.mode == crate::app::rest_only::Mode::Explicit => {
            l1.push(Span::styled("not used (REST-only)", theme.muted));
        }
        DcsHealth::Connecting { endpoint, since } => {
            l1.push(Span::styled(
                format!(
                    "connecting {} ({})",
                    redact_url(endpoint),
                    super::ago(app.model.now.saturating_duration_since(*since))
                ),
                theme.warning,
            ));
        }
        DcsHealth::Live { endpoint, .. } => {
            let gap = app.model.revision_gap();
            match (app.model.unanswered(), gap, app.model.behind()) {
                // connected, but the endpoint does not answer (hangs?): not live
                (Some(quiet), _, _) => l1.push(Span::styled(
                    format!("● no answer for {} ", super::ago(quiet)),
                    theme.warning,
                )),
                // etcd has revisions not applied yet (waiting in the stream or the queue)
                (None, Some((n, late)), _) => l1.push(Span::styled(
                    format!(
                        "● behind by {n} revision{} / ~{} ",
                        if n == 1 { "" } else { "s" },
                        super::ago(late)
                    ),
                    theme.warning,
                )),
                // applying etcd's changes late: not live, however connected
                (None, None, Some(late)) => l1.push(Span::styled(
                    format!("● behind {} ", super::ago(late)),
                    theme.warning,
                )),
                // etcd said it is further on than what is applied, and the watch has not
                // said yet whether that is this prefix: not live until it does
                (None, None, None) if app.model.newest_unconfirmed().is_some() => {
                    l1.push(Span::styled("● checking ", theme.warning))
                }
                (None, None, None) => l1.push(Span::styled("● live ", theme.healthy)),
            }
            l1.push(Span::styled(redact_url(endpoint), theme.muted));
        }
        DcsHealth::Down {
            endpoint,
            error,
            since,
            ..
        } => {
            let age = super::ago(app.model.now.saturating_duration_since(*since));
            let full = format!("{}: {}", redact_url(endpoint), sanitize(error));
            let used: usize = l1.iter().map(|s| s.width()).sum();
            let room = usize::from(area.width).saturating_sub(used + 10 + age.len());
            if unicode_width::UnicodeWidthStr::width(full.as_str()) <= room {
                l1.push(Span::styled(format!("✗ DOWN {age} "), theme.down));
                l1.push(Span::styled(full, theme.warning));
            } else {
                // the reason in a word, before the endpoint: the whole text is in `e`
                let short = crate::app::model::short_reason(error);
                let head = Span::styled(format!("✗ DOWN {age} {short} "), theme.down);
                let url = Span::styled(redact_url(endpoint), theme.warning);
                // which endpoint failed matters now, the system id does not: at 80 columns
                // the endpoint's port was cut off
                let used: usize = l1.iter().map(|s| s.width()).sum();
                if used + head.width() + url.width() > usize::from(area.width) {
                    l1.retain(|s| !s.content.starts_with("  sysid "));
                }
                l1.push(head);
                l1.push(url);
            }
        }
    }

    // line 2: leader, timeline, modes
    let mut l2 = vec![Span::raw(" ")];
    match rows.iter().find(|r| r.role.is_leader()) {
        Some(l) => {
            l2.push(Span::styled("leader ", theme.header_key));
            // a leader or timeline that just changed fades like a table cell
            let changed = |step: Option<u8>, st: ratatui::style::Style| match step {
                Some(s) => st.patch(theme.changed[usize::from(s)]),
                None => st,
            };
            let now = app.model.now;
            l2.push(Span::styled(
                sanitize(&l.name),
                changed(app.model.changes.leader(now), theme.leader),
            ));
            if let Some(tl) = l.timeline {
                l2.push(Span::styled("  TL ", theme.header_key));
                l2.push(Span::styled(
                    tl.to_string(),
                    changed(app.model.changes.timeline(now), theme.text),
                ));
            }
            if let Some((left, granted)) = app.model.lock_left() {
                l2.push(Span::styled("  lock ", theme.header_key));
                // judged by the health rules (`lock-not-renewed`), not here
                let st = if app.health.active("lock-not-renewed") {
                    theme.down
                } else {
                    theme.text
                };
                l2.push(Span::styled(format!("{left}s/{granted}s"), st));
            }
        }
        None if app.model.loaded => l2.push(Span::styled(" NO LEADER ", theme.danger)),
        None => l2.push(Span::styled("waiting for etcd…", theme.muted)),
    }
    if app.model.loaded {
        // (counted from etcd's keys: the rows a frame reads are a window of them)
        let present = app.cluster().map_or(0, |c| c.members.len());
        l2.push(Span::styled("  members ", theme.header_key));
        l2.push(Span::styled(present.to_string(), theme.text));
        // members beyond the poll cap are listed from etcd only: say so
        let (polled, pollable) = (app.model.polled().len(), app.model.pollable());
        if pollable > polled {
            l2.push(Span::styled(
                format!("  REST polled for {polled} of {pollable}"),
                theme.warning,
            ));
        }
    }
    // patrol's sign of life: quiet while etcd and REST keep answering, a warning when not
    match app.model.liveness() {
        crate::app::Liveness::Waiting => {}
        crate::app::Liveness::Confirmed(at) => {
            l2.push(Span::styled(format!("  as of {at}"), theme.muted));
        }
        crate::app::Liveness::Stalled { etcd, rest } => {
            let mut t = String::from(" STALLED:");
            if let Some(d) = etcd {
                t.push_str(&format!(" etcd {}", super::ago(d)));
            }
            if let Some(d) = rest {
                t.push_str(&format!(" REST {}", super::ago(d)));
            }
            l2.push(Span::raw(" "));
            l2.push(Span::styled(format!("{t} "), theme.down));
        }
    }
    let l3 = badges(app, theme, usize::from(area.width));
    let mut lines = vec![Line::from(l1), Line::from(l2)];
    if !l3.is_empty() {
        lines.push(Line::from(l3));
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// ` in 14m, at 2026-12-07 16:30:00 +01:00`: a scheduled time from etcd as a countdown
/// and in the local zone; text that is not a time is shown as it is, sanitized.
fn scheduled_at(app: &App, at: &str) -> String {
    use crate::app::schedule;
    let m = &app.model;
    match schedule::parse(at, None, &m.tz) {
        Ok(Some(w)) => {
            let local = schedule::When {
                at: w.at,
                offset: m.tz.to_offset(w.at),
            };
            match m.wall_now() {
                Some(now) => format!(" {}, at {}", super::countdown(now, w.at), local.shown()),
                None => format!(" at {}", local.shown()),
            }
        }
        _ => format!(" at {}", sanitize(at)),
    }
}

/// How many lines the header needs: a third one carries the mode badges.
pub fn height(app: &App, _theme: &Theme) -> u16 {
    let shown = mode_badges(app);
    if shown.is_empty() && health_badge(app, &shown).is_none() {
        2
    } else {
        3
    }
}

/// One badge of the badge line: its full text, and a shorter one for narrow terminals.
struct Badge {
    long: String,
    short: String,
    kind: Kind,
    /// The finding it shows, if it is one (the health badge then shows another).
    rule: Option<&'static str>,
}

#[derive(Clone, Copy)]
enum Kind {
    Paused,
    /// A scheduled switchover (its time is in the detail).
    Switchover,
    /// REST-only: where the membership comes from.
    RestOnly,
    RestOnlyStale,
    /// etcd without quorum (why: the etcd view).
    Down,
    /// Stale or no etcd data (the short form keeps the age).
    Stale,
    /// The health badge.
    Warning,
    Critical,
}

impl Kind {
    /// Which badge is shortened first when the line is too narrow: the one whose short
    /// form loses least (maintenance mode has none).
    fn shrink_rank(self) -> u8 {
        match self {
            Kind::RestOnly | Kind::RestOnlyStale => 0,
            Kind::Switchover => 1,
            Kind::Stale => 2,
            Kind::Down => 3,
            Kind::Paused | Kind::Warning | Kind::Critical => 4,
        }
    }
}

impl Badge {
    fn new(long: String, short: String, kind: Kind) -> Badge {
        Badge {
            long,
            short,
            kind,
            rule: None,
        }
    }
    fn style(&self, theme: &Theme) -> ratatui::style::Style {
        match self.kind {
            Kind::Paused => theme.paused,
            Kind::Warning | Kind::Switchover | Kind::RestOnly => theme.warning,
            Kind::Down | Kind::Critical => theme.down,
            Kind::Stale | Kind::RestOnlyStale => theme.stale,
        }
    }
}

fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// Maintenance mode, a scheduled switchover, stale data: things that change what an
/// operator may do, then the worst health finding not already among them, within `room`
/// columns. Too narrow for all of it: the mode badges take their short forms and the
/// finding keeps the rest, its text cut last (a count alone says nothing). Maintenance
/// mode is never shortened.
fn badges<'a>(app: &App, theme: &Theme, room: usize) -> Vec<Span<'a>> {
    let modes = mode_badges(app);
    let health = health_badge(app, &modes);
    // shorten one badge at a time, the one that loses least first, until the finding fits
    // whole; when nothing makes it fit, only until it has FINDING_MIN columns (a message
    // cut anyway is no reason to cut maintenance mode down too)
    let mut order: Vec<usize> = (0..modes.len()).collect();
    order.sort_by_key(|i| modes[*i].kind.shrink_rank());
    let modes_width = |short: &[bool]| -> usize {
        modes
            .iter()
            .zip(short)
            .map(|(b, s)| 1 + width(if *s { &b.short } else { &b.long }))
            .sum()
    };
    let shrink = |need: usize| -> Vec<bool> {
        let mut short = vec![false; modes.len()];
        for i in &order {
            if modes_width(&short) + need <= room {
                break;
            }
            short[*i] = true;
        }
        short
    };
    let need = health.as_ref().map_or(0, |(h, _)| 1 + width(&h.long));
    let mut short = shrink(need);
    if modes_width(&short) + need > room {
        short = shrink(need.min(1 + FINDING_MIN));
    }
    let mut out = Vec::new();
    let mut used = 0;
    for (b, s) in modes.iter().zip(&short) {
        let t = if *s { &b.short } else { &b.long };
        out.push(Span::raw(" "));
        out.push(Span::styled(t.clone(), b.style(theme)));
        used += 1 + width(t);
    }
    if let Some((h, head)) = health {
        let left = room.saturating_sub(used + 1);
        let text = if width(&h.long) <= left {
            h.long.clone()
        } else {
            // `⚠ N: ` and as much of the message as fits, cut with `…`
            cut(&h.short, left.max(width(&head) + 2))
        };
        out.push(Span::raw(" "));
        out.push(Span::styled(text, h.style(theme)));
    }
    out
}

/// The columns the worst finding keeps before the mode badges give up their long forms.
const FINDING_MIN: usize = 48;

/// `text` cut to `room` columns, ending in `…` when cut.
fn cut(text: &str, room: usize) -> String {
    if width(text) <= room {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if width(&out) + unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) + 1 > room {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// The worst active health finding not already shown as a mode badge, and how many
/// findings there are (`H` lists them all): the badge, and its head (`⚠ N: `).
fn health_badge(app: &App, modes: &[Badge]) -> Option<(Badge, String)> {
    let findings = app.health.findings();
    let shown = |rule: &str| modes.iter().any(|b| b.rule == Some(rule));
    let worst = findings.iter().find(|f| !shown(f.rule))?;
    let kind = match worst.severity {
        crate::app::diagnosis::Severity::Critical => Kind::Critical,
        crate::app::diagnosis::Severity::Warning => Kind::Warning,
    };
    let age = super::ago(app.model.now.saturating_duration_since(worst.since));
    let more = if findings.len() > 1 { " · …" } else { "" };
    let head = format!(" ⚠ {}: ", findings.len());
    let msg = sanitize(&worst.message);
    Some((
        Badge::new(
            format!("{head}{msg} {age}{more} "),
            format!("{head}{msg}"),
            kind,
        ),
        head,
    ))
}

fn mode_badges(app: &App) -> Vec<Badge> {
    let mut l2 = Vec::new();
    let findings = app.health.findings();
    if let Some(c) = app.cluster() {
        if c.is_paused() {
            // never shortened: what an operator may do now
            let text = " MAINTENANCE MODE (paused) ".to_string();
            l2.push(Badge::new(text.clone(), text, Kind::Paused));
        }
        if let Some(fo) = &c.failover {
            let mut s = String::from(" switchover");
            match (&fo.leader, &fo.member) {
                (Some(from), Some(to)) => {
                    s.push_str(&format!(" {}→{}", sanitize(from), sanitize(to)))
                }
                (None, Some(to)) => s.push_str(&format!(" to {}", sanitize(to))),
                (Some(from), None) => s.push_str(&format!(" from {}", sanitize(from))),
                (None, None) => {}
            }
            let short = s.clone();
            if let Some(at) = &fo.scheduled_at {
                s.push_str(&scheduled_at(app, at));
            }
            l2.push(Badge::new(s, short, Kind::Switchover));
        }
    }
    // why etcd is away, when its members can say (the `etcd-no-quorum` rule judges it)
    if let Some(f) = findings.iter().find(|f| f.rule == "etcd-no-quorum") {
        let why = f
            .message
            .strip_prefix("etcd has no quorum: ")
            .unwrap_or(&f.message);
        let mut b = Badge::new(
            format!(" etcd NO QUORUM: {} ", sanitize(why)),
            " etcd NO QUORUM ".into(),
            Kind::Down,
        );
        b.rule = Some(f.rule);
        l2.push(b);
    }
    let ro = &app.model.rest_only;
    if ro.active() {
        // the short forms keep where the membership comes from, or that none came
        let (text, short, kind) = match (&ro.from, app.model.rest_only_age()) {
            (Some((from, _)), Some(age)) => (
                format!(
                    " REST-only: membership from {}'s /cluster, {} old ",
                    sanitize(from),
                    super::ago(age)
                ),
                format!(" REST-only: membership from {} ", sanitize(from)),
                if app.model.rest_only_fresh() {
                    Kind::RestOnly
                } else {
                    Kind::RestOnlyStale
                },
            ),
            _ => match &ro.error {
                Some(e) => (
                    format!(" REST-only: no /cluster answer: {} ", sanitize(e)),
                    " REST-only: no /cluster answer ".to_string(),
                    Kind::RestOnlyStale,
                ),
                None => (
                    " REST-only: asking the members for /cluster… ".to_string(),
                    " REST-only: asking… ".to_string(),
                    Kind::RestOnlyStale,
                ),
            },
        };
        l2.push(Badge::new(text, short, kind));
    }
    // stale data is judged once, by the `etcd-stale` rule; before any snapshot there is no
    // data to be old, only etcd not answering
    if let Some(f) = findings.iter().find(|f| f.rule == "etcd-stale") {
        let age = f
            .message
            .strip_prefix("etcd data is ")
            .and_then(|m| m.strip_suffix(" old"))
            .map(sanitize);
        let mut b = Badge::new(
            format!(" STALE: {} ", sanitize(&f.message)),
            match age {
                Some(a) => format!(" STALE {a} "),
                None => " STALE ".into(),
            },
            Kind::Stale,
        );
        b.rule = Some(f.rule);
        l2.push(b);
    } else if !app.model.loaded && app.model.stale_for().is_some() && !app.model.rest_only_fresh() {
        let text = match &app.model.dcs {
            DcsHealth::Down { error, .. } => format!(" no etcd data yet: {} ", sanitize(error)),
            _ => " no etcd data yet: etcd does not answer ".to_string(),
        };
        l2.push(Badge::new(text, " no etcd data yet ".into(), Kind::Stale));
    }
    l2
}

pub fn warning_lines(app: &App) -> u16 {
    let keys = app.cluster().map(|c| c.warnings.len()).unwrap_or(0);
    let n = keys
        .saturating_add(app.model.log_warnings.len())
        .saturating_add(app.model.config_warnings.len())
        .saturating_add(app.health.tls_failures().len());
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// What the configuration warns about, members whose REST API refused the handshake,
/// keys whose values could not be parsed, and members whose logs are not followed (and
/// why): shown, never fatal.
pub fn render_warnings(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let keys = app.cluster().map(|c| &c.warnings);
    // judged with the health rules (`diagnosis::tls_failures`), not here
    let tls = app.health.tls_failures();
    let n = keys.map_or(0, |w| w.len())
        + app.model.log_warnings.len()
        + app.model.config_warnings.len()
        + tls.len();
    let config = app.model.config_warnings.iter().map(|(k, m)| (k, m));
    let all = config
        .chain(tls.iter().map(|(k, m)| (k, m)))
        .chain(keys.into_iter().flatten())
        .chain(&app.model.log_warnings);
    let lines: Vec<Line> = all
        .take(area.height as usize)
        .enumerate()
        .map(|(i, (k, m))| {
            let more = if i + 1 == area.height as usize && n > i + 1 {
                format!(" (+{} more)", n - i - 1)
            } else {
                String::new()
            };
            Line::from(vec![
                Span::styled(" ⚠ ", theme.warning),
                Span::styled(
                    format!("{}: {}{more}", sanitize(k), sanitize(m)),
                    theme.warning,
                ),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines), area);
}
