use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::{Action, App, Context};
use crate::theme::Theme;

/// The help overlay of the view on screen, generated from its key map. When it does not
/// fit, it scrolls, and its border says how many lines are above and below.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.help_rows();
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
    // the notes are paragraphs, wrapped to the popup: as wide as the terminal allows (one
    // row each at 120 columns), never narrower than the key rows
    let keys_w = lines.iter().map(Line::width).max().unwrap_or(20);
    let inner = keys_w.max(usize::from(area.width.saturating_sub(5)).min(120));
    for note in crate::app::HELP_NOTE {
        let para = Line::from(vec![Span::raw(" "), Span::styled(note, theme.muted)]);
        lines.extend(super::events::hang(para, inner, 1));
    }
    let w = lines.iter().map(Line::width).max().unwrap_or(20) as u16 + 3;
    let h = (lines.len() as u16).saturating_add(2).min(area.height);
    let [popup] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(popup);
    let visible = usize::from(h.saturating_sub(2));
    let top = app
        .screen
        .help_scroll
        .min(lines.len().saturating_sub(visible));
    let below = lines.len().saturating_sub(top + visible);
    let close = app
        .keys
        .key_label(Context::Help, Action::Back)
        .unwrap_or_else(|| "esc".into());
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(
            format!(" help · {close} closes "),
            theme.title,
        ));
    if top > 0 {
        block =
            block.title_top(Line::styled(format!(" ↑ {top} more "), theme.warning).right_aligned());
    }
    if below > 0 {
        let down = app
            .keys
            .key_label(Context::Help, Action::Down)
            .unwrap_or_else(|| "↓".into());
        block = block.title_bottom(
            Line::styled(format!(" ↓ {below} more ({down} scrolls) "), theme.warning)
                .right_aligned(),
        );
    }
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines.split_off(top.min(lines.len()))).block(block),
        popup,
    );
}
