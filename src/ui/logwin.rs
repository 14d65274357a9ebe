//! Which log lines fill the log view, counted in screen rows: with wrap on, a long line takes
//! several rows, and "following" must still end with the newest line on the last row. The
//! view and `update` (which keeps the scroll where it means something) use these functions,
//! so what is drawn and where a key moves agree.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

use crate::app::App;
use crate::logs::LogLine;

/// The member column of the merged view: `pg1    `.
pub fn prefix(l: &LogLine) -> String {
    format!("{:<6} ", crate::text::sanitize(&l.member))
}

fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// Rows `text` takes at `width` columns, wrapped at the character that does not fit (as
/// [`wrap`] lays it out). At least one.
pub fn rows(text: &str, width: usize) -> usize {
    if width == 0 {
        return 1;
    }
    let (mut rows, mut col) = (1usize, 0usize);
    for c in text.chars() {
        let w = char_width(c);
        if w > 0 && col + w > width {
            rows += 1;
            col = 0;
        }
        col += w;
    }
    rows
}

/// `spans` cut into rows of at most `width` columns, at the character that does not fit.
pub fn wrap(spans: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
    if width == 0 {
        return vec![Line::from(spans)];
    }
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut col = 0usize;
    for span in spans {
        let style: Style = span.style;
        let mut piece = String::new();
        for c in span.content.chars() {
            let w = char_width(c);
            if w > 0 && col + w > width {
                if !piece.is_empty() {
                    row.push(Span::styled(std::mem::take(&mut piece), style));
                }
                out.push(Line::from(std::mem::take(&mut row)));
                col = 0;
            }
            piece.push(c);
            col += w;
        }
        if !piece.is_empty() {
            row.push(Span::styled(piece, style));
        }
    }
    out.push(Line::from(row));
    out
}

/// What the view shows: lines `start..end` of the filtered lines, the first `skip` rows of
/// the first one cut off (the top of a long wrapped line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: usize,
    pub end: usize,
    pub skip: usize,
}

/// The window for `n` lines of `rows_of(i)` rows each in `height` rows, `scroll` lines up
/// from the newest. Scrolled past the oldest, the oldest lines fill the view from the top
/// (never one line and blank rows).
pub fn window(n: usize, rows_of: impl Fn(usize) -> usize, scroll: usize, height: usize) -> Window {
    if n == 0 || height == 0 {
        return Window {
            start: 0,
            end: 0,
            skip: 0,
        };
    }
    let mut end = n - scroll.min(n - 1);
    let (mut start, mut used) = (end, 0usize);
    while start > 0 && used < height {
        start -= 1;
        used += rows_of(start);
    }
    if used < height {
        // the oldest line is on screen with room to spare: fill downwards
        while end < n && used < height {
            used += rows_of(end);
            end += 1;
        }
        return Window {
            start,
            end,
            skip: 0,
        };
    }
    Window {
        start,
        end,
        skip: used - height,
    }
}

/// The largest scroll that still moves the view: beyond it the oldest lines fill it from the
/// top, and a key that scrolls down must move at once.
pub fn max_scroll(n: usize, rows_of: impl Fn(usize) -> usize, height: usize) -> usize {
    let (mut fit, mut used) = (0usize, 0usize);
    while fit < n && used + rows_of(fit) <= height {
        used += rows_of(fit);
        fit += 1;
    }
    n.saturating_sub(fit.max(1))
}

/// The log view's filtered lines as `update` sees them, and the inner size of the view
/// (columns, rows) when a terminal is there.
pub fn page(app: &App) -> Option<(usize, usize)> {
    let (w, h) = app.screen.size?;
    let body = super::body_area(app, ratatui::layout::Rect::new(0, 0, w, h))?;
    Some((
        body.width.saturating_sub(2) as usize,
        body.height.saturating_sub(2) as usize,
    ))
}

/// How many rows line `l` takes in the view (`merged`: with the member column).
pub fn line_rows(l: &LogLine, merged: bool, width: usize, wrap: bool) -> usize {
    if !wrap {
        return 1;
    }
    if merged {
        rows(&format!("{}{}", prefix(l), l.text), width)
    } else {
        rows(&l.text, width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn following_ends_with_the_newest_line_on_the_last_row_however_lines_wrap() {
        // 10 lines, every one 3 rows, a view of 8 rows: the newest two whole, and the
        // bottom two rows of the one before
        let w = window(10, |_| 3, 0, 8);
        assert_eq!(
            w,
            Window {
                start: 7,
                end: 10,
                skip: 1
            }
        );
    }

    #[test]
    fn scrolled_past_the_oldest_the_oldest_fill_the_view_and_down_moves_at_once() {
        let one = |_| 1;
        // 30 lines in 10 rows: the farthest useful scroll is 20
        assert_eq!(max_scroll(30, one, 10), 20);
        let top = window(30, one, 20, 10);
        assert_eq!((top.start, top.end, top.skip), (0, 10, 0));
        // a scroll far beyond still shows a full first page, not one line
        assert_eq!(window(30, one, 1000, 10), top);
        // one down from the top moves by one line
        let next = window(30, one, 19, 10);
        assert_eq!((next.start, next.end), (1, 11));
        // fewer lines than rows: all of them, and nothing to scroll
        assert_eq!(max_scroll(3, one, 10), 0);
        assert_eq!(window(3, one, 2, 10), window(3, one, 0, 10));
    }

    #[test]
    fn wrapping_counts_what_it_lays_out() {
        let text = "abcdefghij漢字xyz";
        for width in 2..20 {
            let laid = wrap(vec![Span::raw(text.to_string())], width);
            assert_eq!(laid.len(), rows(text, width), "width {width}");
            assert!(laid.iter().all(|l| l.width() <= width), "width {width}");
        }
    }
}
