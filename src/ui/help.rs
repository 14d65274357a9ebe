use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::App;
use crate::theme::Theme;

/// The help overlay, generated from the keymap.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.keymap.help(app.read_only);
    let key_w = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = rows
        .iter()
        .map(|(k, d)| {
            Line::from(vec![
                Span::styled(format!(" {k:>key_w$}  "), theme.key),
                Span::styled(*d, theme.text),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " Lag: leader WAL position minus the replica's, live from",
        theme.muted,
    ));
    lines.push(Line::styled(
        " each member's REST API; ~ marks figures from etcd.",
        theme.muted,
    ));
    let w = lines.iter().map(Line::width).max().unwrap_or(20) as u16 + 3;
    let h = lines.len() as u16 + 2;
    let [popup] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(popup);
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(" help · esc closes ", theme.title)),
        ),
        popup,
    );
}
