//! The routing view: per HAProxy, each listener's servers (status, last check, sessions,
//! the member each fronts) and whether it routes where it should; under it, what each
//! member's health endpoints answer. Reads the model's judgement (`app::routing`), never
//! makes one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::App;
use crate::app::routing::{self, Facts, HEALTH_LABELS, Severity};
use crate::text::sanitize;
use crate::theme::Theme;

/// A cell cut to `w` characters and padded to it.
fn cell(s: &str, w: usize) -> String {
    let cut: String = s.chars().take(w).collect();
    format!("{cut:<w$}")
}

pub fn view(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let model = &app.model;
    let now = model.now;
    let facts = Facts::of(model.cluster());
    let problems = model.routing_problems();
    let mut lines: Vec<Line> = Vec::new();
    if !model.routing.configured() {
        lines.push(Line::styled(" No HAProxy configured.", theme.text));
        lines.push(Line::styled(
            " Tell patrol with --haproxy URL (the stats page; its CSV is URL;csv) or the",
            theme.muted,
        ));
        lines.push(Line::styled(
            " runtime socket's path, or [[haproxy]] url/socket in patrol's config.",
            theme.muted,
        ));
    }
    for src in &model.routing.sources {
        let name = sanitize(&src.spec.name);
        let mut head = vec![Span::styled(format!(" HAProxy {name}"), theme.header_key)];
        match (&src.stats, &src.error) {
            (_, Some((_, e))) => {
                head.push(Span::styled(format!("  not answering: {e}"), theme.down))
            }
            (Some((at, _)), None) => head.push(Span::styled(
                format!(
                    "  read {} ago",
                    super::ago(now.saturating_duration_since(*at))
                ),
                theme.muted,
            )),
            (None, None) => head.push(Span::styled("  not read yet", theme.muted)),
        }
        lines.push(Line::from(head));
        for l in routing::listeners(src, &facts, &model.routing.health) {
            let purpose = match l.purpose {
                Some((p, by)) => format!("{} ({})", p.label(), by.label()),
                None => "not judged (neither read-write nor read-only)".into(),
            };
            let to = if l.routes_to.is_empty() {
                "nowhere".to_string()
            } else {
                l.routes_to.join(", ")
            };
            let mut spans = vec![
                Span::styled(format!("  {}", sanitize(&l.name)), theme.title),
                Span::styled(format!("  {purpose}  → {}", sanitize(&to)), theme.text),
            ];
            let shown = problems
                .iter()
                .any(|p| p.haproxy == src.spec.name && p.listener == l.name);
            // the verdict on a line of its own: at 80 columns it must not be cut off
            let mut verdict = Vec::new();
            match &l.wrong {
                None if l.purpose.is_some() => spans.push(Span::styled("  ✓", theme.healthy)),
                None => {}
                Some(w) => {
                    let st = severity_style(w.severity, theme);
                    verdict.push(Span::styled(format!("   ✗ {}", sanitize(&w.message)), st));
                    if !shown {
                        verdict.push(Span::styled(
                            format!(" (within the {} check window)", super::span(l.window)),
                            theme.muted,
                        ));
                    }
                }
            }
            lines.push(Line::from(spans));
            if !verdict.is_empty() {
                lines.push(Line::from(verdict));
            }
            lines.push(Line::styled(
                format!(
                    "    {}{}{}{}{}",
                    cell("server", 10),
                    cell("status", 9),
                    cell("check", 11),
                    cell("sess", 5),
                    "member"
                ),
                theme.table_header,
            ));
            for s in &l.servers {
                let v = &s.server;
                let status = match v.transition {
                    Some((a, b)) => format!("{} {a}/{b}", v.status.label()),
                    None => v.status.label().to_string(),
                };
                // `* L7STS`: HAProxy marks a check in progress with `* `; code 0: none yet
                let st = v.check_status.trim_start_matches("* ");
                let check = match (st, v.check_code) {
                    ("", _) => v.check_desc.clone(),
                    (st, Some(c)) if c > 0 => format!("{st} {c}"),
                    (st, _) => st.to_string(),
                };
                let member = match &s.member {
                    Some((m, _)) => {
                        let role = facts
                            .members
                            .get(m)
                            .map(|f| {
                                if facts.leader.as_ref() == Some(m) {
                                    "leader".to_string()
                                } else {
                                    format!("{} {}", f.role, f.state)
                                }
                            })
                            .unwrap_or_default();
                        format!("{m} {role}")
                    }
                    None => "?".into(),
                };
                let sst = match v.status {
                    crate::haproxy::ServerStatus::Up => theme.healthy,
                    crate::haproxy::ServerStatus::Down => theme.muted,
                    _ => theme.warning,
                };
                let mut spans = vec![
                    Span::styled(format!("    {}", cell(&sanitize(&v.name), 10)), theme.text),
                    Span::styled(cell(&status, 9), sst),
                    Span::styled(cell(&sanitize(&check), 11), theme.text),
                    Span::styled(
                        cell(&v.sessions.map(|n| n.to_string()).unwrap_or_default(), 5),
                        theme.text,
                    ),
                    Span::styled(sanitize(&member), theme.text),
                ];
                if let Some(n) = &s.note {
                    spans.push(Span::styled(format!("  {}", sanitize(n)), theme.lagging));
                }
                lines.push(Line::from(spans));
            }
        }
        lines.push(Line::raw(""));
    }
    health_matrix(
        &mut lines,
        app,
        usize::from(area.width.saturating_sub(2)),
        theme,
    );
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(
                    " Routing: HAProxy and the health endpoints ",
                    theme.title,
                )),
        ),
        area,
    );
}

fn severity_style(s: Severity, theme: &Theme) -> Style {
    match s {
        Severity::Critical => theme.down,
        Severity::Warning => theme.warning,
        Severity::Info => theme.muted,
    }
}

/// Members down, health endpoints across: each answer's status code, and how often it
/// changed in the last five minutes (`×N`).
fn health_matrix(lines: &mut Vec<Line>, app: &App, width: usize, theme: &Theme) {
    // seven columns in what is left of the row after the member's name
    let col = (width.saturating_sub(12) / HEALTH_LABELS.len()).clamp(8, 13);
    let model = &app.model;
    let now = model.now;
    lines.push(Line::styled(
        " Health endpoints (GET, as a load balancer asks; ×N: changes in 5 min)",
        theme.header_key,
    ));
    let mut head = format!("  {}", cell("member", 10));
    for l in HEALTH_LABELS {
        // `/replica?lag` reads as `?lag` where a column is narrow
        let l = if l.len() >= col && l == "/replica?lag" {
            "?lag"
        } else {
            l
        };
        head.push_str(&cell(l, col - 1));
        head.push(' ');
    }
    lines.push(Line::styled(head, theme.table_header));
    if model.routing.health_polled.is_empty() {
        lines.push(Line::styled("  no member to ask yet", theme.muted));
        return;
    }
    for (m, _, _) in &model.routing.health_polled {
        let mut spans = vec![Span::styled(
            format!("  {}", cell(&sanitize(m), 10)),
            theme.text,
        )];
        let answers = model.routing.health.get(m);
        for l in HEALTH_LABELS {
            let (text, st) = match answers.and_then(|a| a.get(l)) {
                None => ("…".to_string(), theme.muted),
                Some(a) => {
                    let flips = a.flips_since(now);
                    let f = if flips > 0 {
                        format!(" ×{flips}")
                    } else {
                        String::new()
                    };
                    match &a.code {
                        Ok(c) if (200..300).contains(c) => (format!("{c}{f}"), theme.healthy),
                        Ok(c) => (format!("{c}{f}"), theme.muted),
                        Err(_) => (format!("—{f}"), theme.down),
                    }
                }
            };
            spans.push(Span::styled(format!("{} ", cell(&text, col - 1)), st));
        }
        lines.push(Line::from(spans));
    }
}
