use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};
use serde_json::Value;

use crate::app::members::{LagSource, MemberRow, RestHealth, Role, Window, human_bytes};
use crate::app::{App, DcsHealth};
use crate::dcs::keys::format_lsn;
use crate::text::sanitize;
use crate::theme::Theme;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Member,
    Host,
    Role,
    State,
    Api,
    Tl,
    ReceiveLsn,
    ReceiveLag,
    ReplayLsn,
    ReplayLag,
    Trend,
    Pending,
    Tags,
}

impl Col {
    fn numeric(self) -> bool {
        matches!(
            self,
            Col::Tl | Col::ReceiveLsn | Col::ReceiveLag | Col::ReplayLsn | Col::ReplayLag
        )
    }

    fn title(self, wide: bool) -> &'static str {
        match (self, wide) {
            (Col::Member, _) => "Member",
            (Col::Host, _) => "Host",
            (Col::Role, _) => "Role",
            (Col::State, _) => "State",
            (Col::Api, _) => "API",
            (Col::Tl, _) => "TL",
            (Col::ReceiveLsn, true) => "Receive LSN",
            (Col::ReceiveLsn, false) => "Recv LSN",
            (Col::ReceiveLag, true) => "Receive Lag",
            (Col::ReceiveLag, false) => "Recv Lag",
            (Col::ReplayLsn, _) => "Replay LSN",
            (Col::ReplayLag, _) => "Replay Lag",
            (Col::Trend, _) => "Trend",
            (Col::Pending, true) => "Pending restart",
            (Col::Pending, false) => "Pend",
            (Col::Tags, _) => "Tags",
        }
    }
}

/// Columns in display order, and the order they are dropped in when space runs out.
const ORDER: [Col; 13] = [
    Col::Member,
    Col::Host,
    Col::Role,
    Col::State,
    Col::Api,
    Col::Tl,
    Col::ReceiveLsn,
    Col::ReceiveLag,
    Col::ReplayLsn,
    Col::ReplayLag,
    Col::Trend,
    Col::Pending,
    Col::Tags,
];
const DROP_FIRST: [Col; 6] = [
    Col::ReceiveLsn,
    Col::ReplayLsn,
    Col::Tags,
    Col::Trend,
    Col::Host,
    Col::Pending,
];

/// A replica's trend as a one-line sparkline of its last `width` bars (bar numbers and the
/// largest lag in each), scaled to the failover limit (or the largest lag, if larger): a flat
/// line means no lag, a bar without a sample is blank.
pub fn sparkline(bars: &[(u64, u64)], limit: Option<u64>, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let Some(&(newest, _)) = bars.last() else {
        return String::new();
    };
    let first = newest.saturating_sub(width.saturating_sub(1) as u64);
    let shown: Vec<&(u64, u64)> = bars.iter().filter(|(b, _)| *b >= first).collect();
    let oldest = shown.first().map_or(newest, |(b, _)| *b);
    let top = shown
        .iter()
        .map(|(_, v)| *v)
        .max()
        .unwrap_or(0)
        .max(limit.unwrap_or(1))
        .max(1);
    (oldest..=newest)
        .map(|b| match shown.iter().find(|(x, _)| *x == b) {
            Some((_, v)) => BARS[((*v as f64 / top as f64) * 7.0).round().clamp(0.0, 7.0) as usize],
            None => ' ',
        })
        .collect()
}

/// The tags worth showing: `false` and `null` say nothing.
fn shown_tags(r: &MemberRow) -> impl Iterator<Item = (&String, &Value)> {
    r.tags
        .iter()
        .filter(|(_, v)| !matches!(v, Value::Bool(false) | Value::Null))
}

fn tags_text(r: &MemberRow) -> String {
    shown_tags(r)
        .map(|(k, v)| match v {
            Value::Bool(true) => k.clone(),
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A lag cell (the detail view says the same): `~` from etcd, `≥` a lower bound, `…` not
/// yet known (right after start), `?` unknown.
pub(super) fn lag_text(r: &MemberRow, lsn: Option<u64>, lag: Option<u64>) -> String {
    match (lag, r.lag_source) {
        // a position without a figure to measure it against: unknown, never "0 B"
        (None, _) if lsn.is_some() && !r.role.is_leader() && r.lag_waiting => "…".into(),
        (None, _) if lsn.is_some() && !r.role.is_leader() => "?".into(),
        (None, _) => String::new(),
        (Some(l), LagSource::Live) => match r.lag_age {
            Some(age) => format!("{} ({} old)", human_bytes(l), super::ago(age)),
            None => human_bytes(l),
        },
        (Some(l), LagSource::AtLeast) => format!("≥{}", human_bytes(l)),
        (Some(l), LagSource::Dcs(_)) => format!("~{}", human_bytes(l)),
    }
}

fn cell(r: &MemberRow, c: Col, theme: &Theme, app: &App) -> (String, Style) {
    let role_style = match r.role {
        Role::Leader | Role::StandbyLeader => theme.leader,
        Role::SyncStandby | Role::QuorumStandby => theme.sync,
        Role::Replica => theme.replica,
    };
    let lag_style = if r.lagging {
        theme.lagging
    } else if matches!(r.lag_source, LagSource::Dcs(_)) {
        theme.muted
    } else {
        theme.text
    };
    match c {
        // a mark when a health rule has a finding about the member (worst: ✗)
        Col::Member => (
            match app.health.of_member(&r.name).map(|f| f.severity) {
                Some(crate::app::diagnosis::Severity::Critical) => {
                    format!("{} ✗", sanitize(&r.name))
                }
                Some(crate::app::diagnosis::Severity::Warning) => {
                    format!("{} ⚠", sanitize(&r.name))
                }
                None => sanitize(&r.name),
            },
            if r.gone.is_some() {
                theme.muted
            } else {
                theme.text
            },
        ),
        Col::Host => {
            let h = match r.port {
                Some(p) => format!("{}:{p}", r.host),
                None => r.host.clone(),
            };
            (sanitize(&h), theme.muted)
        }
        Col::Role if r.gone.is_some() => (String::new(), theme.muted),
        Col::Role => (r.role.label().to_string(), role_style),
        Col::State => match r.gone {
            Some(age) => (format!("gone {}", super::ago(age)), theme.down),
            None => {
                let ok = crate::app::diagnosis::state_ok(&r.state);
                (
                    sanitize(&r.state),
                    if ok { theme.healthy } else { theme.warning },
                )
            }
        },
        Col::Api => match &r.rest {
            _ if r.gone.is_some() => (String::new(), theme.muted),
            RestHealth::Live => ("ok".into(), theme.healthy),
            RestHealth::Unknown => ("…".into(), theme.muted),
            RestHealth::Unreachable {
                last_ok: Some(a), ..
            } => (format!("✗ {}", super::ago(*a)), theme.down),
            RestHealth::Unreachable { last_ok: None, .. } => ("✗ never".into(), theme.down),
        },
        Col::Tl => (
            r.timeline.map(|t| t.to_string()).unwrap_or_default(),
            theme.text,
        ),
        Col::ReceiveLsn => (
            r.receive_lsn.map(format_lsn).unwrap_or_default(),
            theme.muted,
        ),
        Col::ReplayLsn => (
            r.replay_lsn.map(format_lsn).unwrap_or_default(),
            theme.muted,
        ),
        Col::ReceiveLag => (lag_text(r, r.receive_lsn, r.receive_lag), lag_style),
        Col::ReplayLag => {
            let mut t = lag_text(r, r.replay_lsn, r.replay_lag);
            // and in time, when the replica is behind: the leader was past its replayed
            // position at least this long before (a lower bound, from positions alone)
            if let Some(d) = app.model.replay_delay(r).filter(|d| d.as_secs() > 0) {
                t.push_str(&format!(" ≥{}", super::span(d)));
            }
            (t, lag_style)
        }
        Col::Trend => {
            let limit = app
                .cluster()
                .map(|c| crate::dcs::keys::maximum_lag_on_failover(c.config.as_ref()));
            let h: Vec<(u64, u64)> = app
                .model
                .lag_history
                .get(&r.name)
                .map(|h| h.iter().copied().collect())
                .unwrap_or_default();
            if r.role.is_leader() || h.is_empty() {
                (String::new(), theme.muted)
            } else {
                (
                    sparkline(&h, limit, crate::app::Model::TREND_WIDTH),
                    if r.lagging {
                        theme.lagging
                    } else {
                        theme.replica
                    },
                )
            }
        }
        Col::Pending => (
            if r.pending_restart {
                "*".into()
            } else {
                String::new()
            },
            theme.warning,
        ),
        Col::Tags => (sanitize(&tags_text(r)), theme.muted),
    }
}

/// A cell whose value just changed, in its fade step's style (`app::change`): the model
/// says when, the clock how far it has faded.
fn fading(r: &MemberRow, c: Col, st: Style, theme: &Theme, app: &App) -> Style {
    use crate::app::change::Field;
    let field = match c {
        Col::Role => Field::Role,
        Col::State => Field::State,
        Col::Api => Field::Api,
        Col::Tl => Field::Timeline,
        Col::Pending => Field::Pending,
        _ => return st,
    };
    match app.model.changes.of(&r.name, field, app.model.now) {
        Some(step) if r.gone.is_none() => st.patch(theme.changed[usize::from(step)]),
        _ => st,
    }
}

fn width(s: &str) -> u16 {
    unicode_width::UnicodeWidthStr::width(s).min(u16::MAX as usize) as u16
}

/// Does this optional column have anything to show for the row? (Cheap: decided over all
/// rows, while only the rows in view are formatted.)
fn has_value(r: &MemberRow, c: Col, app: &App) -> bool {
    match c {
        Col::Pending => r.pending_restart,
        Col::Tags => shown_tags(r).next().is_some(),
        Col::Trend => {
            !r.role.is_leader()
                && app
                    .model
                    .lag_history
                    .get(&r.name)
                    .is_some_and(|h| !h.is_empty())
        }
        _ => true,
    }
}

/// The footer under figures from the member keys: how long they have gone without a live
/// (REST) confirmation, the longest of those shown.
fn dcs_lag_footer(unconfirmed: Option<std::time::Duration>) -> String {
    match unconfirmed {
        Some(d) => format!(
            " ~ lag from etcd member keys: no live figure for {} ",
            super::ago(d)
        ),
        None => " ~ lag from etcd member keys: no live figure yet ".to_string(),
    }
}

pub fn render(f: &mut Frame, area: Rect, app: &App, win: &Window, theme: &Theme) {
    // the longest a figure shown from the keys has gone without a live one (None: never);
    // decided over the rows the frame read, which hold the polled ones (only the run
    // around the selection is scrolled through)
    let dcs_lag = win
        .rows
        .iter()
        .filter_map(|r| match r.lag_source {
            LagSource::Dcs(age) if r.receive_lag.is_some() || r.replay_lag.is_some() => Some(age),
            _ => None,
        })
        .reduce(|a, b| a.zip(b).map(|(a, b)| a.max(b)));
    // Format only the rows in view (a 40-line terminal shows ~30 of 1000 members): the
    // window ratatui would scroll to, so that the selection stays on screen.
    let visible = usize::from(area.height.saturating_sub(3)).max(1);
    let rows = win.run();
    let selected = app.screen.selected_index(rows);
    // where the screen's window starts in the whole table, and so in the run
    let top = (win.offset + selected + 1).saturating_sub(visible);
    let first = top.saturating_sub(win.offset).min(rows.len());
    let window = &rows[first..(first + visible).min(rows.len())];
    let title = if window.len() < win.total {
        format!(
            " Members {}–{} of {} ",
            win.offset + first + 1,
            win.offset + first + window.len(),
            win.total
        )
    } else {
        " Members ".to_string()
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title));
    if let Some(age) = dcs_lag {
        block = block.title_bottom(Span::styled(dcs_lag_footer(age), theme.muted));
    }
    if rows.is_empty() {
        let msg = if app.model.loaded {
            format!(
                "No members under {}{}/ — is the scope right, and is Patroni running?",
                sanitize(&app.model.namespace),
                sanitize(&app.model.scope)
            )
        } else if app.model.rest_only.active() {
            match &app.model.rest_only.error {
                Some(e) => format!(
                    "REST-only: no Patroni API answered /cluster: {}",
                    sanitize(e)
                ),
                None => "REST-only: asking the Patroni APIs for /cluster…".to_string(),
            }
        } else {
            match &app.model.dcs {
                DcsHealth::Down {
                    endpoint, error, ..
                } => format!(
                    "Cannot reach etcd at {}: {}",
                    crate::text::redact_url(endpoint),
                    sanitize(error)
                ),
                _ => format!("Connecting to etcd ({})…", super::info::endpoints(app)),
            }
        };
        f.render_widget(
            Paragraph::new(Line::styled(sanitize(&msg), theme.muted))
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }

    let inner_w = area.width.saturating_sub(2);
    let wide = inner_w >= 110;
    let texts: Vec<Vec<(String, Style)>> = window
        .iter()
        .map(|r| {
            ORDER
                .iter()
                .map(|c| {
                    let (t, st) = cell(r, *c, theme, app);
                    (t, fading(r, *c, st, theme, app))
                })
                .collect()
        })
        .collect();
    let mut col_w: Vec<u16> = ORDER
        .iter()
        .enumerate()
        .map(|(i, c)| {
            texts
                .iter()
                .map(|t| width(&t[i].0))
                .max()
                .unwrap_or(0)
                .max(width(c.title(wide)))
        })
        .collect();
    // hide columns nobody has a value in, as patronictl does for Pending restart and Tags
    let mut shown: Vec<bool> = ORDER
        .iter()
        .enumerate()
        .map(|(i, c)| {
            !matches!(c, Col::Pending | Col::Tags | Col::Trend)
                || win.rows.iter().any(|r| has_value(r, ORDER[i], app))
        })
        .collect();
    let total = |shown: &[bool], col_w: &[u16]| -> u16 {
        let n = shown.iter().filter(|s| **s).count() as u16;
        shown
            .iter()
            .zip(col_w)
            .filter(|(s, _)| **s)
            // a name or tag from etcd can be 65,535 cells wide: saturate, never overflow
            .fold(0u16, |t, (_, w)| t.saturating_add(*w))
            .saturating_add(n.saturating_sub(1))
            .saturating_add(2) // highlight symbol
    };
    let wanted = shown.clone();
    let mut dropped = Vec::new();
    for d in DROP_FIRST {
        if total(&shown, &col_w) <= inner_w {
            break;
        }
        if let Some(i) = ORDER.iter().position(|c| *c == d)
            && shown[i]
        {
            // the trend shrinks to fewer (newer) bars before it goes: down to its title
            if d == Col::Trend {
                let over = total(&shown, &col_w) - inner_w;
                col_w[i] = col_w[i].saturating_sub(over).max(width(d.title(wide)));
                if total(&shown, &col_w) <= inner_w {
                    break;
                }
            }
            shown[i] = false;
            dropped.push(i);
        }
    }
    // give back what fits again, most important first
    for i in dropped.into_iter().rev() {
        shown[i] = wanted[i];
        if total(&shown, &col_w) > inner_w {
            shown[i] = false;
        }
    }

    let idx: Vec<usize> = (0..ORDER.len()).filter(|i| shown[*i]).collect();
    let header = Row::new(idx.iter().map(|i| {
        let t = Line::from(ORDER[*i].title(wide));
        Cell::from(if ORDER[*i].numeric() {
            t.right_aligned()
        } else {
            t
        })
    }))
    .style(theme.table_header);
    let body: Vec<Row> = texts
        .into_iter()
        .map(|t| {
            Row::new(idx.iter().map(|i| {
                let text = if ORDER[*i] == Col::Trend {
                    // the newest bars that fit the (shrunk) column
                    let n = t[*i].0.chars().count();
                    t[*i]
                        .0
                        .chars()
                        .skip(n.saturating_sub(col_w[*i].into()))
                        .collect()
                } else {
                    t[*i].0.clone()
                };
                let line = Line::from(Span::styled(text, t[*i].1));
                Cell::from(if ORDER[*i].numeric() {
                    line.right_aligned()
                } else {
                    line
                })
            }))
        })
        .collect();
    let widths: Vec<Constraint> = idx.iter().map(|i| Constraint::Length(col_w[*i])).collect();
    let table = Table::new(body, widths)
        .header(header)
        .block(block)
        .column_spacing(1)
        .row_highlight_style(theme.selected)
        .highlight_symbol("▸ ");
    let mut state = TableState::default().with_selected(Some(selected - first));
    f.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    fn bars(v: &[u64]) -> Vec<(u64, u64)> {
        v.iter().enumerate().map(|(i, v)| (i as u64, *v)).collect()
    }

    #[test]
    fn sparkline_scales_to_the_failover_limit() {
        assert_eq!(super::sparkline(&bars(&[0, 0, 0]), Some(1024), 10), "▁▁▁");
        assert_eq!(
            super::sparkline(&bars(&[0, 512, 1024]), Some(1024), 10),
            "▁▅█"
        );
        assert_eq!(super::sparkline(&bars(&[0, 4096]), Some(1024), 10), "▁█");
        assert_eq!(
            super::sparkline(&bars(&[1, 2, 3, 4]), None, 2)
                .chars()
                .count(),
            2
        );
        assert_eq!(super::sparkline(&[], None, 5), "");
    }

    #[test]
    fn a_bar_without_a_sample_is_blank_and_the_window_is_the_newest_bars() {
        assert_eq!(
            super::sparkline(&[(3, 0), (5, 1024)], Some(1024), 10),
            "▁ █"
        );
        // a narrower column shows the newest bars, scaled among those
        assert_eq!(
            super::sparkline(&[(0, 8192), (8, 0), (9, 1024)], Some(1024), 2),
            "▁█"
        );
    }
}
