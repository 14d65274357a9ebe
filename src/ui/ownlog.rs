//! The own-log view (`o`): patrol's own events, newest at the bottom, each broken between
//! words with its continuation rows hung under its text (not under the time), like the
//! other panes. tui-logger's standard formatter cut rows at the cell, mid-word.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

use crate::text::sanitize;
use crate::theme::Theme;

pub fn render(f: &mut Frame, area: Rect, theme: &Theme) {
    let w = tui_logger::TuiLoggerWidget::default()
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(" patrol's own log ", theme.title)),
        )
        .formatter(Box::new(Rows::new(theme)));
    f.render_widget(w, area);
}

/// tui-logger's formatter for this view: the styles of the theme it was built with.
struct Rows {
    time: Style,
    error: Style,
    warn: Style,
    info: Style,
    debug: Style,
}

impl Rows {
    fn new(theme: &Theme) -> Self {
        Rows {
            time: theme.muted,
            error: theme.down,
            warn: theme.warning,
            info: theme.text,
            debug: theme.muted,
        }
    }
}

impl tui_logger::LogFormatter for Rows {
    fn min_width(&self) -> u16 {
        // the time and level, and room for a word
        20
    }

    fn format(&self, width: usize, evt: &tui_logger::ExtLogRecord) -> Vec<Line<'_>> {
        let (st, lvl) = match evt.level {
            log::Level::Error => (self.error, 'E'),
            log::Level::Warn => (self.warn, 'W'),
            log::Level::Info => (self.info, 'I'),
            log::Level::Debug => (self.debug, 'D'),
            log::Level::Trace => (self.debug, 'T'),
        };
        let head = format!("{} {lvl} ", evt.timestamp.strftime("%H:%M:%S"));
        rows(&head, evt.msg(), self.time, st, width)
    }
}

/// One event in rows of `width` cells: `head` (time and level) then the text, broken
/// between words; every row after the first, and each line of a text of several, starts
/// under the text.
pub fn rows(head: &str, text: &str, head_st: Style, st: Style, width: usize) -> Vec<Line<'static>> {
    let indent = unicode_width::UnicodeWidthStr::width(head);
    let mut out = Vec::new();
    for (i, part) in text.lines().enumerate() {
        let lead = if i == 0 {
            Span::styled(head.to_string(), head_st)
        } else {
            Span::raw(" ".repeat(indent))
        };
        out.extend(super::events::hang(
            Line::from(vec![lead, Span::styled(sanitize(part), st)]),
            width,
            indent,
        ));
    }
    if out.is_empty() {
        out.push(Line::styled(head.to_string(), head_st));
    }
    out
}

#[cfg(test)]
mod tests {
    use ratatui::style::Style;

    fn shown(text: &str, width: usize) -> Vec<String> {
        super::rows(
            "00:31:43 I ",
            text,
            Style::default(),
            Style::default(),
            width,
        )
        .iter()
        .map(|l| l.to_string())
        .collect()
    }

    #[test]
    fn rows_break_between_words_and_hang_under_the_text() {
        let text = "reply url=http://127.0.0.1:24011/reload code=202 body=\"reload scheduled\"";
        assert_eq!(
            shown(text, 48),
            [
                "00:31:43 I reply",
                "           url=http://127.0.0.1:24011/reload",
                "           code=202 body=\"reload scheduled\"",
            ]
        );
        // at any width every row fits, every row after the first hangs under the text, and
        // a word is only cut when it is longer than a row
        for width in 20..100 {
            let got = shown(text, width);
            for r in &got[1..] {
                assert!(r.starts_with(&" ".repeat(11)), "{width}: {got:?}");
            }
            for r in &got {
                assert!(
                    unicode_width::UnicodeWidthStr::width(r.as_str()) <= width,
                    "{got:?}"
                );
            }
            if width >= 11 + 33 {
                let words: Vec<&str> = got.iter().flat_map(|r| r.split_whitespace()).collect();
                let want: Vec<&str> = "00:31:43 I".split(' ').chain(text.split(' ')).collect();
                assert_eq!(words, want, "{width}");
            }
        }
    }

    #[test]
    fn each_line_of_a_text_hangs_and_controls_are_not_drawn() {
        let got = shown("panicked at src/x.rs\n\x1b[2Jbacktrace", 60);
        assert_eq!(
            got,
            [
                "00:31:43 I panicked at src/x.rs",
                "           ?[2Jbacktrace"
            ]
        );
    }
}
