//! Full-screen views under the header: member detail, timeline history, dynamic config.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use serde_json::Value;

use crate::app::App;
use crate::app::events::EventKind;
use crate::app::members::{MemberRow, RestHealth, human_bytes};
use crate::dcs::keys::format_lsn;
use crate::text::{redact_url, sanitize};
use crate::theme::Theme;

fn block<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title))
}

fn kv<'a>(k: &str, v: String, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!(" {k:<20}"), theme.header_key),
        Span::styled(v, theme.text),
    ])
}

/// `150018` -> `15.18`, `90624` -> `9.6.24`.
pub fn pg_version(v: u64) -> String {
    if v >= 100_000 {
        format!("{}.{}", v / 10_000, v % 10_000)
    } else {
        format!("{}.{}.{}", v / 10_000, (v / 100) % 100, v % 100)
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn detail(
    f: &mut Frame,
    area: Rect,
    app: &App,
    rows: &[MemberRow],
    member: &str,
    theme: &Theme,
) {
    let mut lines = Vec::new();
    let Some(row) = rows.iter().find(|r| r.name == member) else {
        f.render_widget(
            Paragraph::new(Line::styled(
                format!(" {} is not in the cluster any more", sanitize(member)),
                theme.muted,
            ))
            .block(block(format!(" {} ", sanitize(member)), theme)),
            area,
        );
        return;
    };
    let c = app.cluster();
    let data = c.and_then(|c| c.members.get(member));
    let rest = c.and_then(|c| c.rest.get(member));
    let live = rest.and_then(|r| r.ok.as_ref()).map(|(at, s)| (*at, s));

    let health = match &row.rest {
        RestHealth::Live => "REST ok".to_string(),
        RestHealth::Unknown => "REST not asked yet".to_string(),
        RestHealth::Unreachable { error, last_ok } => format!(
            "REST unreachable ({}), last answer {}",
            sanitize(error),
            last_ok
                .map(|a| format!("{} ago", super::ago(a)))
                .unwrap_or_else(|| "never".into())
        ),
    };
    lines.push(Line::from(vec![
        Span::styled(format!(" {} ", sanitize(&row.name)), theme.title),
        Span::styled(
            format!("{} · {} · ", row.role.label(), sanitize(&row.state)),
            theme.text,
        ),
        Span::styled(
            health,
            if row.rest == RestHealth::Live {
                theme.healthy
            } else {
                theme.warning
            },
        ),
    ]));
    if let Some((at, s)) = live {
        lines.push(kv(
            "versions",
            format!(
                "Patroni {} · PostgreSQL {}",
                s.patroni
                    .version
                    .as_deref()
                    .map(sanitize)
                    .unwrap_or_else(|| "?".into()),
                s.server_version
                    .map(pg_version)
                    .unwrap_or_else(|| "?".into())
            ),
            theme,
        ));
        lines.push(kv(
            "postmaster started",
            s.postmaster_start_time
                .as_deref()
                .map(sanitize)
                .unwrap_or_default(),
            theme,
        ));
        lines.push(kv(
            "REST answered",
            format!(
                "{} ago",
                super::ago(app.model.now.saturating_duration_since(at))
            ),
            theme,
        ));
        if let Some(seen) = s.dcs_last_seen {
            let txt = match app.model.wall_now_unix() {
                Some(now) => format!(
                    "{} ago",
                    super::ago(std::time::Duration::from_secs(now.saturating_sub(seen)))
                ),
                None => format!("unix {seen}"),
            };
            lines.push(kv("dcs_last_seen", txt, theme));
        }
    }
    lines.push(kv(
        "timeline",
        row.timeline
            .map(|t| t.to_string())
            .unwrap_or_else(|| "?".into()),
        theme,
    ));
    if !row.role.is_leader() {
        // the table's figure, from the same source, with the same marks
        let pos = |l: Option<u64>, lag: Option<u64>| match (l, lag) {
            (Some(l), Some(_)) => format!(
                "{} (lag {})",
                format_lsn(l),
                super::members::lag_text(row, Some(l), lag)
            ),
            (Some(l), None) if row.lag_waiting => {
                format!("{} ({})", format_lsn(l), crate::app::members::LAG_WAITING)
            }
            (Some(l), None) => format!("{} (lag unknown)", format_lsn(l)),
            _ => "?".into(),
        };
        lines.push(kv("received", pos(row.receive_lsn, row.receive_lag), theme));
        lines.push(kv("replayed", pos(row.replay_lsn, row.replay_lag), theme));
        if let Some(d) = app.model.replay_delay(row) {
            lines.push(kv(
                "replay delay",
                format!(
                    "≥{} (the leader was past the replayed position that long before)",
                    super::span(d)
                ),
                theme,
            ));
        }
        if let Some(ts) = live.and_then(|(_, s)| s.xlog.replayed_timestamp.as_deref()) {
            lines.push(kv("last replayed xact", sanitize(ts), theme));
        }
    } else if let Some(loc) = live.and_then(|(_, s)| s.xlog.location) {
        lines.push(kv("WAL position", format_lsn(loc), theme));
    }
    if let Some(d) = data {
        if let Some(u) = &d.conn_url {
            lines.push(kv("conn_url", redact_url(u), theme));
        }
        if let Some(u) = &d.api_url {
            lines.push(kv("api_url", redact_url(u), theme));
            // what the plan of any write to this member would refuse, said before one is asked
            if let Err(e) = crate::write::write_base(u) {
                lines.push(Line::styled(
                    format!(" {:<20}{e}: writes to this member are refused", ""),
                    theme.lagging,
                ));
            }
        }
    }
    // pending restart reasons as `param: old -> new`
    let reasons = live
        .and_then(|(_, s)| s.pending_restart_reason.clone())
        .or_else(|| data.and_then(|d| d.pending_restart_reason.as_deref().cloned()));
    if row.pending_restart {
        let txt = match reasons {
            Some(r) if !r.is_empty() => r
                .iter()
                .map(|(k, v)| {
                    let old = v.get("old_value").map(scalar).unwrap_or_default();
                    let new = v.get("new_value").map(scalar).unwrap_or_default();
                    format!("{k}: {old} -> {new}")
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => "yes".into(),
        };
        lines.push(kv("pending restart", sanitize(&txt), theme));
    }
    if let Some(s) = &row.scheduled_restart {
        lines.push(kv("scheduled restart", sanitize(s), theme));
    }
    if !row.tags.is_empty() {
        let t: Vec<String> = row
            .tags
            .iter()
            .map(|(k, v)| format!("{k}: {}", scalar(v)))
            .collect();
        lines.push(kv("tags", sanitize(&t.join(", ")), theme));
    }
    // the leader: who would follow it, by Patroni's rules (the same ranking as the dialogs)
    if row.role.is_leader()
        && let Some(r) = &app.judgement.election
        && r.leader.as_deref() == Some(member)
    {
        lines.push(kv("next leader", sanitize(&r.if_failed()), theme));
    }
    // what the tags and the state mean for failover: judged once per update, with the
    // rule and the figures the switchover dialog's checks use
    if !row.role.is_leader()
        && let Some((_, k)) = app.judgement.detail.as_ref().filter(|(m, _)| m == member)
    {
        let txt = match k {
            Some(k) if k.eligible() => match &k.standing {
                Some(st) => {
                    let l = (app.judgement.election.as_ref())
                        .and_then(|r| r.leader.as_deref())
                        .unwrap_or("the leader");
                    format!("eligible as switchover / failover candidate · if {l} failed now: {st}")
                }
                None => "eligible as switchover / failover candidate".to_string(),
            },
            Some(k) => format!("not a candidate: {}", k.reasons.join(", ")),
            None => "not a candidate".into(),
        };
        lines.push(kv("failover", sanitize(&txt), theme));
    }
    if let Some((_, s)) = live
        && !s.replication.is_empty()
    {
        lines.push(Line::styled(" replication connections", theme.header_key));
        for r in &s.replication {
            lines.push(Line::styled(
                sanitize(&format!(
                    "   {} from {} as {} · {} · {}",
                    r.application_name.as_deref().unwrap_or("?"),
                    r.client_addr.as_deref().unwrap_or("local"),
                    r.usename.as_deref().unwrap_or("?"),
                    r.state.as_deref().unwrap_or("?"),
                    r.sync_state.as_deref().unwrap_or("?"),
                )),
                theme.text,
            ));
        }
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(
                format!(" Member {} · j/k: other members ", sanitize(member)),
                theme,
            )),
        area,
    );
}

pub fn history(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(c) = app.cluster() else { return };
    let mut h = c.history.clone();
    h.sort_by_key(|e| std::cmp::Reverse(e.timeline));
    let since = h
        .first()
        .and_then(|e| e.timestamp.as_deref())
        .and_then(|ts| app.model.age_of_timestamp(ts))
        .map(|a| format!(" · last leader change {} ago", super::ago(a)))
        .unwrap_or_default();
    let n = h.len();
    let title = format!(
        " Timeline history ({n} change{}){since} ",
        if n == 1 { "" } else { "s" }
    );
    if h.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled(
                " no timeline change yet: the history key is empty",
                theme.muted,
            ))
            .block(block(title, theme)),
            area,
        );
        return;
    }
    let header =
        Row::new(["TL", "LSN", "Reason", "Timestamp", "New Leader"]).style(theme.table_header);
    let rows: Vec<Row> = h
        .iter()
        .map(|e| {
            Row::new([
                Cell::from(e.timeline.to_string()),
                Cell::from(format_lsn(e.lsn)),
                Cell::from(sanitize(&e.reason)),
                Cell::from(e.timestamp.as_deref().map(sanitize).unwrap_or_default()),
                Cell::from(e.new_leader.as_deref().map(sanitize).unwrap_or_default()),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(4),
            Constraint::Length(12),
            Constraint::Fill(2),
            Constraint::Length(33),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .block(block(title, theme));
    f.render_widget(table, area);
}

pub fn config(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(k) = app.cluster().and_then(|c| c.config.as_ref()) else {
        f.render_widget(
            Paragraph::new(Line::styled(" no config key in etcd", theme.muted))
                .block(block(" Dynamic config ".into(), theme)),
            area,
        );
        return;
    };
    // keys changed in this session's last config change are highlighted
    let changed: Vec<String> = app
        .model
        .events
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::ConfigChanged(c) => Some(c.iter().map(|(k, _, _)| k.clone()).collect()),
            _ => None,
        })
        .unwrap_or_default();
    let leaf = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    let leaves: Vec<String> = changed.iter().map(|k| leaf(k)).collect();
    let text = serde_saphyr::to_string(&k.raw).unwrap_or_else(|_| k.raw.to_string());
    let lines: Vec<Line> = text
        .lines()
        .map(|l| {
            let key = l.trim_start().split(':').next().unwrap_or("").trim();
            let hot = !key.is_empty() && leaves.iter().any(|x| x == key);
            Line::styled(
                format!(" {}", sanitize(l)),
                if hot { theme.lagging } else { theme.text },
            )
        })
        .collect();
    let title = if changed.is_empty() {
        " Dynamic config (show-config) ".to_string()
    } else {
        format!(
            " Dynamic config · changed: {} ",
            sanitize(&changed.join(", "))
        )
    };
    f.render_widget(Paragraph::new(lines).block(block(title, theme)), area);
}

pub fn etcd(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let header = Row::new([
        "Endpoint",
        "Health",
        "Version",
        "DB size",
        "Raft leader",
        "Term",
        "Errors",
    ])
    .style(theme.table_header);
    // one state per endpoint, the header's too
    let endpoints = app.model.endpoints_state();
    // as wide as the longest endpoint (they are all alike), within reason
    let endpoint_w = endpoints
        .iter()
        .map(|e| redact_url(&e.endpoint).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 40) as u16;
    // Health, Version, DB size, Raft leader, Term; Errors takes the rest
    const FIXED: [u16; 5] = [7, 7, 9, 16, 4];
    // what the Errors column has room for (borders, the other columns, a gap before each
    // but the first); a longer text is pointed to the full list under the table, not cut
    let taken = 2 + endpoint_w + FIXED.iter().sum::<u16>() + FIXED.len() as u16 + 1;
    let errors_w = usize::from(area.width.saturating_sub(taken));
    let error_cell = |text: String| {
        if text.chars().count() <= errors_w {
            Cell::from(Span::styled(text, theme.warning))
        } else {
            Cell::from(Span::styled("↓ below", theme.muted))
        }
    };
    let rows: Vec<Row> = endpoints
        .iter()
        .map(|e| match &e.result {
            Ok(i) => Row::new([
                Cell::from(redact_url(&e.endpoint)),
                Cell::from(Span::styled("healthy", theme.healthy)),
                Cell::from(sanitize(&i.version)),
                // etcd's v2 API says neither (negative size, term 0): "n/a"
                Cell::from(if i.db_size < 0 {
                    "n/a".to_string()
                } else {
                    human_bytes(i.db_size as u64)
                }),
                Cell::from(if i.leader == 0 {
                    // a member that lost its quorum (etcd also says "no leader" in Errors)
                    Span::styled("none", theme.down)
                } else if i.leader == i.member_id {
                    Span::styled("this one", theme.leader)
                } else {
                    Span::raw(format!("{:x}", i.leader))
                }),
                Cell::from(if i.raft_term == 0 {
                    "n/a".to_string()
                } else {
                    i.raft_term.to_string()
                }),
                error_cell(endpoint_errors(e).unwrap_or_default()),
            ]),
            Err(_) => Row::new([
                Cell::from(redact_url(&e.endpoint)),
                Cell::from(Span::styled("down", theme.down)),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                error_cell(endpoint_errors(e).unwrap_or_default()),
            ]),
        })
        .collect();
    let lease = match app.model.lock_left() {
        Some((left, granted)) => format!(" · leader lock {left}s of {granted}s"),
        None => String::new(),
    };
    let n = endpoints.len().max(app.model.endpoints.len());
    let title = format!(
        " etcd ({n} endpoint{}){lease} ",
        if n == 1 { "" } else { "s" }
    );
    if rows.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled(" asking the endpoints…", theme.muted))
                .block(block(title, theme)),
            area,
        );
        return;
    }
    // the errors in full, wrapped, under the table: the column only has what fits
    let errors: Vec<Line> = endpoints
        .iter()
        .filter_map(|e| {
            Some(Line::from(vec![
                Span::styled(format!(" {}: ", redact_url(&e.endpoint)), theme.header_key),
                Span::styled(endpoint_errors(e)?, theme.warning),
            ]))
        })
        .collect();
    let (table_area, errors_area) = if errors.is_empty() {
        (area, None)
    } else {
        let [t, e] = Layout::vertical([
            Constraint::Length((rows.len() as u16).saturating_add(3)),
            Constraint::Min(0),
        ])
        .areas(area);
        (t, (e.height > 2).then_some(e))
    };
    let table = Table::new(
        rows,
        [Constraint::Length(endpoint_w)]
            .into_iter()
            .chain(FIXED.map(Constraint::Length))
            .chain([Constraint::Fill(1)]),
    )
    .header(header)
    .block(block(title, theme));
    f.render_widget(table, table_area);
    if let Some(e) = errors_area {
        f.render_widget(
            Paragraph::new(errors)
                .wrap(Wrap { trim: false })
                .block(block(" Errors ".to_string(), theme)),
            e,
        );
    }
}

/// What went wrong with one endpoint, as drawn: etcd's own errors, or why it did not answer.
fn endpoint_errors(e: &crate::dcs::info::EndpointStatus) -> Option<String> {
    match &e.result {
        Ok(i) if i.errors.is_empty() => None,
        Ok(i) => Some(sanitize(&i.errors.join("; "))),
        Err(err) => Some(sanitize(err)),
    }
}

pub fn logs(f: &mut Frame, area: Rect, app: &App, member: Option<&str>, theme: &Theme) {
    use crate::logs::{Level, matches};
    let lv = &app.screen.log_view;
    let lines: Vec<&crate::logs::LogLine> = match member {
        Some(m) => app.model.logs.member(m).collect(),
        None => app.model.logs.merged(),
    };
    let filtered: Vec<(&crate::logs::LogLine, Vec<(usize, usize)>)> = lines
        .into_iter()
        .filter_map(|l| matches(l, &lv.filter).map(|r| (l, r)))
        .collect();
    let inner_h = area.height.saturating_sub(2) as usize;
    let inner_w = area.width.saturating_sub(2) as usize;
    // counted in screen rows: following, the newest line ends on the last row, wrapped or not
    let merged = member.is_none();
    let rows_of = |i: usize| super::logwin::line_rows(filtered[i].0, merged, inner_w, lv.wrap);
    let win = super::logwin::window(filtered.len(), rows_of, lv.scroll, inner_h);
    let out: Vec<Line> = filtered[win.start..win.end]
        .iter()
        .flat_map(|(l, ranges)| {
            let st = match l.level {
                Level::Error | Level::Critical => theme.down,
                Level::Warning => theme.warning,
                Level::Debug => theme.muted,
                _ => theme.text,
            };
            let mut spans = Vec::new();
            if merged {
                spans.push(Span::styled(super::logwin::prefix(l), theme.header_key));
            }
            // highlight the filter's matches inside the line
            let mut pos = 0;
            for (a, b) in ranges {
                if let (Some(pre), Some(hit)) = (l.text.get(pos..*a), l.text.get(*a..*b)) {
                    spans.push(Span::styled(pre.to_string(), st));
                    spans.push(Span::styled(hit.to_string(), theme.selected));
                    pos = *b;
                }
            }
            spans.push(Span::styled(
                l.text.get(pos..).unwrap_or("").to_string(),
                st,
            ));
            if lv.wrap {
                super::logwin::wrap(spans, inner_w)
            } else {
                vec![Line::from(spans)]
            }
        })
        .skip(win.skip)
        .collect();
    let who = member.map(sanitize).unwrap_or_else(|| "all members".into());
    // while typing, the text; after, how it was read (`!x` is `not "x"`, a bad regex says so)
    let filter = if lv.editing_filter {
        format!(" · filter: {}▏", sanitize(&lv.filter))
    } else if lv.filter.is_empty() {
        String::new()
    } else {
        format!(
            " · filter: {}",
            sanitize(&crate::logs::filter::query(&lv.filter).describe())
        )
    };
    let title = format!(
        " Log {who} · {} lines{filter} · {}{} ",
        filtered.len(),
        if lv.follow { "following" } else { "paused" },
        if lv.wrap { " · wrap" } else { "" }
    );
    // wrapped above, by the same rule that counted the rows
    let p = Paragraph::new(out).block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Span::styled(title, theme.title)),
    );
    f.render_widget(p, area);
}

pub fn dsn(f: &mut Frame, area: Rect, app: &App, selected: usize, theme: &Theme) {
    let mut lines = Vec::new();
    for (i, c) in app.model.connection_strings().iter().enumerate() {
        let (label, s) = (&c.label, &c.text);
        let st = if i == selected {
            theme.selected
        } else {
            theme.text
        };
        lines.push(Line::styled(
            format!(" {}", sanitize(label)),
            theme.header_key,
        ));
        // a string longer than the row goes on under itself, not in column 0
        let width = usize::from(area.width.saturating_sub(2));
        let hung = |text: String, st| {
            super::events::hang(
                Line::from(vec![Span::raw("   "), Span::styled(text, st)]),
                width,
                3,
            )
        };
        lines.extend(hung(sanitize(s), st));
        if let Some(why) = &c.refused {
            lines.extend(hung(
                format!("not copyable: {}", sanitize(why)),
                theme.lagging,
            ));
        }
    }
    if lines.is_empty() {
        lines.push(Line::styled(" no members yet", theme.muted));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " No passwords here: they come from ~/.pgpass or PGPASSWORD. Through HAProxy (as in the",
        theme.muted,
    ));
    lines.push(Line::styled(
        " runbook), point clients at its read-write and read-only ports instead.",
        theme.muted,
    ));
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(
                    " Connection strings (like patronictl dsn) ",
                    theme.title,
                )),
        ),
        area,
    );
}

/// The Health view: every active finding of the health rules, worst first, since when, the
/// facts, and the key that opens what addresses the selected member's finding.
pub fn health(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    use crate::app::diagnosis::{Health, Severity, Subject};
    let findings = app.health.findings();
    let selected = app.screen.selected.as_deref();
    let remedy_key = app
        .keys
        .key_label(crate::app::Context::Main, crate::app::Action::Remedy);
    let mut lines: Vec<Line> = Vec::new();
    if findings.is_empty() {
        lines.push(Line::from(Span::styled(
            " No rule finds anything wrong.",
            theme.healthy,
        )));
    }
    let room = usize::from(area.height.saturating_sub(3)).min(Health::SHOWN);
    for fi in findings.iter().take(room) {
        let (mark, style) = match fi.severity {
            Severity::Critical => ("✗ CRIT", theme.down),
            Severity::Warning => ("⚠ WARN", theme.warning),
        };
        let age = super::ago(app.model.now.saturating_duration_since(fi.since));
        let mut spans = vec![
            Span::styled(format!(" {mark} "), style),
            Span::styled(format!("{:<8}", age), theme.muted),
            Span::styled(sanitize(&fi.message), theme.text),
            Span::styled(format!("  [{}]", fi.rule), theme.muted),
        ];
        let here = match &fi.subject {
            Subject::Member(m) => Some(m.as_str()) == selected,
            _ => false,
        };
        if let (Some(r), Some(k)) = (fi.remedy, remedy_key.as_deref())
            && (here || fi.subject.member().is_none())
        {
            spans.push(Span::styled(
                format!("  {k}: {}", r.label()),
                theme.header_key,
            ));
        } else if let Some(r) = fi.remedy {
            spans.push(Span::styled(format!("  ({})", r.label()), theme.muted));
        }
        lines.push(Line::from(spans));
    }
    if findings.len() > room {
        lines.push(Line::from(Span::styled(
            format!(" and {} more", findings.len() - room),
            theme.muted,
        )));
    }
    if let Some(l) = slots_line(app, theme) {
        lines.push(Line::default());
        lines.push(l);
    }
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(
            format!(
                " Health: {} finding{} ",
                findings.len(),
                if findings.len() == 1 { "" } else { "s" }
            ),
            theme.title,
        ));
    if let Some(k) = remedy_key {
        let who = selected.map(sanitize).unwrap_or_else(|| "no member".into());
        block = block.title_bottom(Span::styled(
            format!(" selected: {who} · {k}: open what addresses its finding, confirmed as usual "),
            theme.muted,
        ));
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// The leader's replication slots and the WAL each retains (the `status` key), as the
/// health rules last judged them.
fn slots_line(app: &App, theme: &Theme) -> Option<Line<'static>> {
    use crate::app::diagnosis::SlotOwner;
    let slots = app.health.slots();
    if slots.is_empty() {
        return None;
    }
    let mut spans = vec![Span::styled(
        " Slots on the leader, WAL retained: ".to_string(),
        theme.muted,
    )];
    for (i, s) in slots.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ".to_string(), theme.muted));
        }
        let retains = s
            .retains
            .map(crate::app::members::human_bytes)
            .unwrap_or_else(|| "?".into());
        let whose = match s.owner {
            SlotOwner::Permanent => " (permanent)",
            SlotOwner::Gone(_) | SlotOwner::Nobody => " (no member)",
            SlotOwner::Member(_) | SlotOwner::Unknown => "",
        };
        spans.push(Span::styled(
            format!("{} {retains}{whose}", sanitize(&s.name)),
            theme.text,
        ));
    }
    let more = app
        .cluster()
        .and_then(|c| c.status.as_ref())
        .map_or(0, |st| st.slots_more);
    if more > 0 {
        spans.push(Span::styled(format!(" · and {more} more"), theme.muted));
    }
    Some(Line::from(spans))
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions() {
        assert_eq!(super::pg_version(150018), "15.18");
        assert_eq!(super::pg_version(90624), "9.6.24");
    }
}
