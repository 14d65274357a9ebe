use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::theme::Theme;

/// Key hints of the context the keys go to now, generated from its key map. (An open
/// dialog shows its own on its prompt line, where the eyes are.)
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if let Some((msg, _)) = &app.screen.flash {
        let line = Line::from(vec![
            Span::styled(format!(" {} ", crate::text::sanitize(msg)), theme.warning),
            Span::styled(" esc", theme.key),
        ]);
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    let mut spans = vec![Span::raw(" ")];
    if app.session.dialog.is_none() {
        for (key, word) in app.hints() {
            spans.push(Span::styled(key, theme.key));
            spans.push(Span::styled(format!(" {word}  "), theme.muted));
        }
    }
    if app.read_only {
        spans.push(Span::styled("read-only", theme.warning));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
