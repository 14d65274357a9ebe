//! The log view when no log source is configured: how to configure one, in full, in the
//! view itself (a status line would be cut at 80 columns and gone at the next key).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::App;
use crate::theme::Theme;

/// Every line fits an 80-column terminal inside the view's border.
pub const EXPLANATION: &[&str] = &[
    "No log source is configured: patrol has no Patroni log to show.",
    "",
    "Tell patrol where each member's Patroni log is, on the command line:",
    "  patrol --logs 'file:/var/log/patroni/{member}.log'",
    "  patrol --logs 'cmd:ssh {host} journalctl -u patroni -f -o cat'",
    "or in PATROL_LOGS, or in patrol's config (`patrol config init` writes one):",
    "  logs = \"file:/var/log/patroni/{member}.log\"",
    "  [logs_by_member]        # another source for some members",
    "  pg3 = \"cmd:ssh pg3 tail -F /var/log/patroni.log\"",
    "",
    "{member} is the member's name, {host} the host of its REST API.",
];

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let back = app
        .keys
        .key_label(
            crate::app::keymap::Context::Logs,
            crate::app::keymap::Action::Back,
        )
        .unwrap_or_else(|| "esc".into());
    let mut lines: Vec<Line> = EXPLANATION
        .iter()
        .map(|l| Line::styled(*l, theme.text))
        .collect();
    lines.push(Line::default());
    lines.push(Line::styled(format!("{back}: back"), theme.muted));
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(" logs: no log source ", theme.title)),
        ),
        area,
    );
}

#[cfg(test)]
mod tests {
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn the_explanation_fits_80_columns_inside_the_border() {
        for l in super::EXPLANATION {
            assert!(l.width() <= 78, "{} columns: {l}", l.width());
        }
    }
}
