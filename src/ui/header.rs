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
                l1.push(Span::styled(format!("✗ DOWN {age} {short} "), theme.down));
                l1.push(Span::styled(redact_url(endpoint), theme.warning));
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
    let l3 = badges(app, theme);
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
pub fn height(app: &App, theme: &Theme) -> u16 {
    if badges(app, theme).is_empty() { 2 } else { 3 }
}

/// Maintenance mode, a scheduled switchover, stale data: things that change what an
/// operator may do, each on the badge line.
fn badges<'a>(app: &App, theme: &Theme) -> Vec<Span<'a>> {
    let mut l2 = mode_badges(app, theme);
    health_badge(app, theme, &mut l2);
    l2
}

/// The worst active health finding and how many there are (`H` lists them all), after the
/// mode badges: those say what an operator may do now, and must not be pushed off the line.
fn health_badge<'a>(app: &App, theme: &Theme, l2: &mut Vec<Span<'a>>) {
    let findings = app.health.findings();
    if let Some(worst) = findings.first() {
        let style = match worst.severity {
            crate::app::diagnosis::Severity::Critical => theme.down,
            crate::app::diagnosis::Severity::Warning => theme.warning,
        };
        let age = super::ago(app.model.now.saturating_duration_since(worst.since));
        let more = if findings.len() > 1 { " · …" } else { "" };
        l2.push(Span::raw(" "));
        l2.push(Span::styled(
            format!(
                " ⚠ {}: {} {age}{more} ",
                findings.len(),
                sanitize(&worst.message)
            ),
            style,
        ));
    }
}

fn mode_badges<'a>(app: &App, theme: &Theme) -> Vec<Span<'a>> {
    let mut l2 = Vec::new();
    let findings = app.health.findings();
    if let Some(c) = app.cluster() {
        if c.is_paused() {
            l2.push(Span::raw(" "));
            l2.push(Span::styled(" MAINTENANCE MODE (paused) ", theme.paused));
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
            if let Some(at) = &fo.scheduled_at {
                s.push_str(&scheduled_at(app, at));
            }
            l2.push(Span::styled(s, theme.warning));
        }
    }
    // why etcd is away, when its members can say (the `etcd-no-quorum` rule judges it)
    if let Some(f) = findings.iter().find(|f| f.rule == "etcd-no-quorum") {
        let why = f
            .message
            .strip_prefix("etcd has no quorum: ")
            .unwrap_or(&f.message);
        l2.push(Span::raw(" "));
        l2.push(Span::styled(
            format!(" etcd NO QUORUM: {} ", sanitize(why)),
            theme.down,
        ));
    }
    let ro = &app.model.rest_only;
    if ro.active() {
        l2.push(Span::raw(" "));
        let (text, style) = match (&ro.from, app.model.rest_only_age()) {
            (Some((from, _)), Some(age)) => (
                format!(
                    " REST-only: membership from {}'s /cluster, {} old ",
                    sanitize(from),
                    super::ago(age)
                ),
                if app.model.rest_only_fresh() {
                    theme.warning
                } else {
                    theme.stale
                },
            ),
            _ => (
                match &ro.error {
                    Some(e) => format!(" REST-only: no /cluster answer: {} ", sanitize(e)),
                    None => " REST-only: asking the members for /cluster… ".to_string(),
                },
                theme.stale,
            ),
        };
        l2.push(Span::styled(text, style));
        // a fresh /cluster answer is the state now; etcd's age is on line 1
        if app.model.rest_only_fresh() {
            return l2;
        }
    }
    if let Some(age) = app.model.stale_for() {
        l2.push(Span::raw(" "));
        // no snapshot ever arrived: there is no data to be old
        let text = match (&app.model.dcs, app.model.loaded) {
            (_, true) => format!(" STALE: etcd data {} old ", super::ago(age)),
            (DcsHealth::Down { error, .. }, false) => {
                format!(" no etcd data yet: {} ", sanitize(error))
            }
            (_, false) => " no etcd data yet: etcd does not answer ".to_string(),
        };
        l2.push(Span::styled(text, theme.stale));
    }
    l2
}

pub fn warning_lines(app: &App, rows: &[MemberRow]) -> u16 {
    let keys = app.cluster().map(|c| c.warnings.len()).unwrap_or(0);
    let n = keys
        .saturating_add(app.model.log_warnings.len())
        .saturating_add(app.model.config_warnings.len())
        .saturating_add(tls_failures(rows).len());
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Members whose REST API refused the handshake, one line per distinct reason: a
/// certificate problem is the configuration's, and the API column's `✗` does not say why.
fn tls_failures(rows: &[MemberRow]) -> Vec<(String, String)> {
    use crate::app::members::RestHealth;
    let mut by_reason: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
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

/// What the configuration warns about, members whose REST API refused the handshake,
/// keys whose values could not be parsed, and members whose logs are not followed (and
/// why): shown, never fatal.
pub fn render_warnings(f: &mut Frame, area: Rect, app: &App, rows: &[MemberRow], theme: &Theme) {
    let keys = app.cluster().map(|c| &c.warnings);
    let tls = tls_failures(rows);
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
