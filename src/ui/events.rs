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
        .model
        .events
        .iter()
        .rev()
        .take(n)
        .map(|e| {
            let st = if e.kind.is_alarm() {
                theme.warning
            } else {
                theme.text
            };
            Line::from(vec![
                Span::styled(format!(" {} ", app.model.clock(e.at)), theme.muted),
                Span::styled(sanitize(&e.kind.text()), st),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled(
            " nothing has changed since patrol started",
            theme.muted,
        ));
    }
    let title = format!(" Events ({}) ", app.model.events.len());
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
