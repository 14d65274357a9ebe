//! The event log pane: what changed, newest first, with the time it was seen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::App;
use crate::text::sanitize;
use crate::theme::Theme;

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let n = area.height.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = app
        .visible_events()
        .take(n)
        .map(|e| {
            let st = if e.kind.is_alarm() {
                theme.warning
            } else {
                theme.text
            };
            Line::from(vec![
                Span::styled(format!(" {} ", when(app, e.at)), theme.muted),
                Span::styled(sanitize(&e.kind.text()), st),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled(empty(app, false), theme.muted));
    }
    let main = crate::app::Context::Main;
    let title = match app.frozen_new() {
        Some(new) => format!(
            " Events ({}) · {} ",
            app.model.events.len(),
            frozen(new, app.keys.key_label(main, crate::app::Action::Freeze))
        ),
        None => match app.keys.key_label(main, crate::app::Action::Events) {
            Some(k) => format!(" Events ({}) · {k}: all, filter ", app.model.events.len()),
            None => format!(" Events ({}) ", app.model.events.len()),
        },
    };
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(title, theme.title)),
        ),
        area,
    );
}

/// A frozen stream's title part: `frozen · 12 new · F: resume`.
fn frozen(new: u64, key: Option<String>) -> String {
    match key {
        Some(k) => format!("frozen · {new} new · {k}: resume"),
        None => format!("frozen · {new} new"),
    }
}

/// What an empty pane or view says.
fn empty(app: &App, filtered: bool) -> &'static str {
    match app.screen.events_view.frozen {
        _ if filtered => " no event matches the filter",
        Some(0) => " nothing had changed when the events were frozen",
        // every event shown when it froze has been dropped from the bounded log since
        Some(_) => " frozen: the events shown then are no longer kept",
        None => " nothing has changed since patrol started",
    }
}

/// The time of an event, with its date when that is not today.
fn when(app: &App, at: std::time::Instant) -> String {
    let clock = app.model.clock(at);
    match app.model.date_if_not_today(at) {
        Some(d) => format!("{d} {clock}"),
        None => clock,
    }
}

/// The Events view: every event, newest first, scrolled by event; long ones wrap under
/// their text (not into the time column), an operation's whole reply under it.
pub fn view(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let shown = app.shown_events();
    let ev = &app.screen.events_view;
    let inner_w = usize::from(area.width.saturating_sub(2));
    let rows = usize::from(area.height.saturating_sub(2));
    let mut lines: Vec<Line> = Vec::new();
    for e in shown.iter().skip(ev.scroll) {
        if lines.len() >= rows {
            break;
        }
        let st = if e.kind.is_alarm() {
            theme.warning
        } else {
            theme.text
        };
        let head = format!(" {} ", when(app, e.at));
        let indent = unicode_width::UnicodeWidthStr::width(head.as_str());
        for (i, part) in wrap_words(
            &sanitize(&e.kind.text()),
            inner_w.saturating_sub(indent).max(8),
        )
        .into_iter()
        .enumerate()
        {
            let lead = if i == 0 {
                head.clone()
            } else {
                " ".repeat(indent)
            };
            lines.push(Line::from(vec![
                Span::styled(lead, theme.muted),
                Span::styled(part, st),
            ]));
        }
        let pad = " ".repeat(indent + 2);
        for d in e.kind.detail() {
            // a pretty-printed reply keeps its own indentation
            let text = sanitize(d);
            let body = text.trim_start_matches(' ');
            let lead = format!("{pad}{}", " ".repeat(text.len() - body.len()));
            let w = inner_w.saturating_sub(lead.len()).max(8);
            for part in wrap_words(body, w) {
                lines.push(Line::from(vec![
                    Span::raw(lead.clone()),
                    Span::styled(part, theme.muted),
                ]));
            }
        }
    }
    if lines.is_empty() {
        lines.push(Line::styled(empty(app, !ev.filter.is_empty()), theme.muted));
    }
    let total = app.model.events.len();
    let mut title = format!(
        " Events {}–{} of {} ",
        (ev.scroll + 1).min(shown.len()),
        (ev.scroll + rows).min(shown.len()),
        shown.len()
    );
    if !ev.filter.is_empty() || ev.editing_filter {
        let q = crate::logs::filter::query(&ev.filter).describe();
        title.push_str(&format!(
            "· filter {}{} (of {total}) ",
            sanitize(&q),
            if ev.editing_filter { "▏" } else { "" }
        ));
    }
    if let Some(new) = app.frozen_new() {
        let key = app
            .keys
            .key_label(crate::app::Context::Events, crate::app::Action::Freeze);
        title.push_str(&format!("· {} ", frozen(new, key)));
    }
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(title, theme.title)),
        ),
        area,
    );
}

/// `text` in lines of at most `width` cells, broken between words; a word longer than a
/// line is cut where the line ends.
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let width = width.max(1);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0;
    for word in text.split(' ') {
        let w = word.width();
        let sep = usize::from(!cur.is_empty());
        if cur_w + sep + w <= width {
            if sep == 1 {
                cur.push(' ');
            }
            cur.push_str(word);
            cur_w += sep + w;
            continue;
        }
        if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
            cur_w = 0;
        }
        // a word wider than the line: cut it
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if cur_w + cw > width {
                out.push(std::mem::take(&mut cur));
                cur_w = 0;
            }
            cur.push(c);
            cur_w += cw;
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

/// `line` in rows of at most `width` cells, broken between words; its first span (a label)
/// is kept as it is, and each row after the first starts with `indent` blanks (under the
/// text after the label, not in column 0). Styles stay with their words.
pub fn hang(line: Line<'static>, width: usize, indent: usize) -> Vec<Line<'static>> {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let width = width.max(indent + 8);
    let mut spans = line.spans.into_iter();
    let Some(first) = spans.next() else {
        return vec![Line::default()];
    };
    // (word, style, a space before it)
    let mut words: Vec<(String, ratatui::style::Style, bool)> = Vec::new();
    let mut space = false;
    for sp in spans {
        for (i, part) in sp.content.split(' ').enumerate() {
            space |= i > 0;
            if !part.is_empty() {
                words.push((part.to_string(), sp.style, space));
                space = false;
            }
        }
    }
    let mut col = first.width();
    let mut cur: Vec<Span<'static>> = vec![first];
    let mut rows: Vec<Line<'static>> = Vec::new();
    // a word wider than a row (a URL) is cut into pieces that fit under the indent
    let room = width - indent;
    let words = words.into_iter().flat_map(|(w, st, sp)| {
        let mut parts: Vec<(String, ratatui::style::Style, bool)> = Vec::new();
        let mut cur = String::new();
        for c in w.chars() {
            if UnicodeWidthStr::width(cur.as_str()) + c.width().unwrap_or(0) > room {
                parts.push((std::mem::take(&mut cur), st, parts.is_empty() && sp));
            }
            cur.push(c);
        }
        parts.push((cur, st, parts.is_empty() && sp));
        parts
    });
    for (w, st, sp) in words {
        let ww = w.width();
        let gap = usize::from(sp);
        if col + gap + ww > width && col > indent {
            rows.push(Line::from(std::mem::take(&mut cur)));
            cur.push(Span::raw(" ".repeat(indent)));
            col = indent;
        } else if gap == 1 {
            cur.push(Span::raw(" "));
            col += 1;
        }
        col += ww;
        cur.push(Span::styled(w, st));
    }
    rows.push(Line::from(cur));
    rows
}

#[cfg(test)]
mod tests {
    use super::{hang, wrap_words};

    #[test]
    fn a_long_line_hangs_under_its_text() {
        use ratatui::text::{Line, Span};
        let l = Line::from(vec![
            Span::raw("etcd          "),
            Span::raw("endpoints http://127.0.0.1:24000, http://127.0.0.1:24001"),
        ]);
        let rows: Vec<String> = hang(l, 40, 14).iter().map(|l| l.to_string()).collect();
        assert_eq!(
            rows,
            [
                "etcd          endpoints",
                "              http://127.0.0.1:24000,",
                "              http://127.0.0.1:24001"
            ]
        );
    }

    #[test]
    fn words_wrap_whole_and_long_ones_are_cut() {
        assert_eq!(
            wrap_words("leader changed: pg1 → pg2", 16),
            ["leader changed:", "pg1 → pg2"]
        );
        assert_eq!(wrap_words("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap_words("", 4), [""]);
        for l in wrap_words("revision 35 of etcd said something rather long here", 10) {
            assert!(
                unicode_width::UnicodeWidthStr::width(l.as_str()) <= 10,
                "{l:?}"
            );
        }
    }
}
