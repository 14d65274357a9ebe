//! The cluster pane under the member table: dynamic config that matters during an
//! incident, the last timeline change, and where the data comes from.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::members::human_bytes;
use crate::app::{App, DcsHealth};
use crate::dcs::keys::SyncMode;
use crate::text::{redact_url, sanitize};
use crate::theme::Theme;

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" Cluster ", theme.title));
    let label = |s: &'static str| Span::styled(format!("{s:<14}"), theme.header_key);
    let mut lines = Vec::new();
    // first: when the leader is in doubt, who comes next is what matters most
    if let (Some(r), Some(_)) = (&app.judgement.election, app.judgement.watch) {
        let mut s = r.verdict();
        let ex = r.exclusions();
        if !ex.is_empty() {
            s.push_str("; ");
            s.push_str(&ex);
        }
        lines.push(Line::from(vec![
            label("next leader"),
            Span::styled(sanitize(&s), theme.warning),
        ]));
    }
    if let Some(c) = app.cluster() {
        let mut cfg = vec![label("config")];
        match &c.config {
            Some(k) => {
                let secs =
                    |v: Option<u64>| v.map(|v| format!("{v}s")).unwrap_or_else(|| "?".into());
                cfg.push(Span::styled(
                    format!(
                        "ttl {} · loop_wait {} · retry_timeout {} · max lag {} · sync {}",
                        secs(k.ttl),
                        secs(k.loop_wait),
                        secs(k.retry_timeout),
                        match k.maximum_lag_on_failover {
                            Some(v) => human_bytes(v),
                            None => format!(
                                "{} (default)",
                                human_bytes(crate::dcs::keys::DEFAULT_MAXIMUM_LAG_ON_FAILOVER)
                            ),
                        },
                        match k.synchronous_mode {
                            SyncMode::Off => "off",
                            SyncMode::On => "on",
                            SyncMode::Quorum => "quorum",
                        }
                    ),
                    theme.text,
                ));
            }
            None => cfg.push(Span::styled("no config key", theme.muted)),
        }
        lines.push(Line::from(cfg));
        let mut hist = vec![label("last failover")];
        match c.history.iter().max_by_key(|h| h.timeline) {
            Some(h) => {
                // a timeline from etcd can be anything, u64::MAX included
                let next = h
                    .timeline
                    .checked_add(1)
                    .map_or("?".into(), |t| t.to_string());
                let mut s = format!("TL {} → {next}", h.timeline);
                if let Some(ts) = &h.timestamp {
                    s.push_str(&format!(" at {}", short_ts(&sanitize(ts))));
                }
                if let Some(l) = &h.new_leader {
                    s.push_str(&format!(" · new leader {}", sanitize(l)));
                }
                if !h.reason.is_empty() {
                    s.push_str(&format!(" · {}", sanitize(&h.reason)));
                }
                hist.push(Span::styled(s, theme.text));
            }
            None => hist.push(Span::styled("none: no timeline change yet", theme.muted)),
        }
        lines.push(Line::from(hist));
    }
    let mut src = vec![label("etcd")];
    let rev = match &app.model.dcs {
        DcsHealth::Live { revision, .. } => format!("watching at revision {revision} · "),
        _ => String::new(),
    };
    let text = if app.model.rest_only.mode == crate::app::rest_only::Mode::Explicit {
        // no etcd is asked: naming endpoints would suggest one is
        "not used: REST-only, membership from the members' /cluster".to_string()
    } else {
        let at = format!(
            "{rev}{}{}/ · ",
            sanitize(&app.model.namespace),
            sanitize(&app.model.scope),
        );
        // the rows left under the lines above (they wrap too): the list is counted when
        // it would wrap out of the pane (the etcd view lists them, the header names the
        // one in use)
        let width = area.width.saturating_sub(2);
        let used: usize = lines.iter().map(|l| hung_rows(l, width)).sum();
        let left = usize::from(area.height.saturating_sub(2)).saturating_sub(used);
        let all = format!("{at}endpoints {}", endpoints(app));
        let full = Line::from(vec![label("etcd"), Span::raw(all.clone())]);
        if hung_rows(&full, width) <= left {
            all
        } else {
            let n = app.model.endpoints.len();
            format!("{at}{n} endpoint{}", if n == 1 { "" } else { "s" })
        }
    };
    src.push(Span::styled(text, theme.muted));
    lines.push(Line::from(src));
    // a long value goes on under itself, not under its label; when that does not fit (the
    // event log keeps its rows), each line is one row, cut, in the order above
    let width = usize::from(area.width.saturating_sub(2));
    let hung: Vec<Line> = lines
        .iter()
        .cloned()
        .flat_map(|l| super::events::hang(l, width, LABEL))
        .collect();
    let lines: Vec<Line> = if hung.len() <= usize::from(area.height.saturating_sub(2)) {
        hung
    } else {
        lines.into_iter().map(|l| cut_words(l, width)).collect()
    };
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// `line` in one row of `width` cells: cut after its last whole word that fits (and a
/// `·` separator before it), an ellipsis where it was cut. The label (first span) stays.
fn cut_words(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let mut cut = super::dialog::cut_line(line, width);
    // the last span is the ellipsis; the one before it ends mid-word
    let n = cut.spans.len();
    if n >= 3
        && let Some(sp) = cut.spans.get_mut(n - 2)
    {
        let text = sp.content.to_string();
        let whole = match text.rfind(' ') {
            Some(i) => text[..i].trim_end_matches([' ', '·']),
            None => "",
        };
        sp.content = format!("{whole} ").into();
    }
    cut
}

/// The label column's width.
const LABEL: usize = 14;

/// How many rows `line` takes, hung under its label.
fn hung_rows(line: &Line<'static>, width: u16) -> usize {
    super::events::hang(line.clone(), usize::from(width), LABEL).len()
}

/// `2026-11-26T00:33:37.315710+00:00` -> `2026-11-26 00:33:37 UTC`: seconds are enough here.
fn short_ts(ts: &str) -> String {
    match (ts.get(..19), ts.ends_with("+00:00") || ts.ends_with('Z')) {
        (Some(head), true) => format!("{} UTC", head.replacen('T', " ", 1)),
        (Some(head), false) => format!(
            "{} {}",
            head.replacen('T', " ", 1),
            ts.get(ts.len().saturating_sub(6)..).unwrap_or("")
        ),
        (None, _) => ts.to_string(),
    }
}

/// The configured etcd endpoints as shown: without credentials.
pub fn endpoints(app: &App) -> String {
    let shown: Vec<String> = app.model.endpoints.iter().map(|e| redact_url(e)).collect();
    shown.join(", ")
}
