//! The terminal guard: whatever way patrol ends (quit, error, panic, SIGTERM, SIGHUP), the
//! terminal gets its cooked mode, main screen and cursor back.

use std::io::{self, Stdout, Write};

use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::{cursor, execute};
use ratatui::layout::{Position, Size};

pub struct TerminalGuard {
    pub terminal: Terminal<CleanBackend<CrosstermBackend<Stdout>>>,
    /// Frames are wrapped in synchronized output (DEC mode 2026).
    sync: bool,
    /// A synchronized update has begun and not ended (a draw that panicked).
    open: bool,
}

impl TerminalGuard {
    /// Enter raw mode and the alternate screen. `ratatui::try_init` also chains a panic hook
    /// that restores the terminal before color-eyre's hook prints the report.
    pub fn enter() -> io::Result<TerminalGuard> {
        // raw mode, alternate screen and the panic hook; the terminal itself is ours
        drop(ratatui::try_init()?);
        // a paste arrives as one text event, never as key presses (`s`, Enter, `y` ...)
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(io::stdout(), DisableBracketedPaste);
            hook(info);
        }));
        execute!(io::stdout(), EnableBracketedPaste)?;
        let terminal = Terminal::new(CleanBackend(CrosstermBackend::new(io::stdout())))?;
        Ok(TerminalGuard {
            terminal,
            sync: false,
            open: false,
        })
    }

    /// Wrap each frame in synchronized output: the terminal shows it whole, never half
    /// drawn (DEC mode 2026; a terminal that does not know it ignores it).
    pub fn set_sync(&mut self, on: bool) {
        self.sync = on;
    }

    /// Draw one frame (inside a synchronized update when that is on).
    pub fn draw(&mut self, f: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
        use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
        if self.sync {
            crossterm::queue!(self.terminal.backend_mut().0, BeginSynchronizedUpdate)?;
            self.open = true;
        }
        let drawn = self.terminal.draw(f).map(|_| ());
        if self.sync {
            // ended even when the draw failed: a terminal left in the mode stops showing
            execute!(self.terminal.backend_mut().0, EndSynchronizedUpdate)?;
            self.open = false;
        }
        drawn
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // Errors are ignored on purpose: after SIGHUP there is no terminal to write to.
        let mut out = io::stdout();
        if self.open {
            let _ = execute!(out, crossterm::terminal::EndSynchronizedUpdate);
        }
        let _ = execute!(out, DisableBracketedPaste);
        let _ = ratatui::try_restore();
        let _ = execute!(out, cursor::Show);
        let _ = out.flush();
    }
}

/// The last edge before the terminal: no cell reaches it with an unsafe character
/// (`text::is_unsafe`), whichever widget drew it and whether or not its text was sanitized.
/// ratatui already drops C0/C1 controls, but appends zero-width characters (bidi controls
/// among them) to the previous cell, and widgets such as the `o` view's draw text we do not
/// format ourselves. Views sanitize what they draw (a visible `?`); this guarantees it.
pub struct CleanBackend<B>(pub B);

/// `cell` with its unsafe characters dropped, or None when it has none (the common case).
pub fn clean_cell(cell: &Cell) -> Option<Cell> {
    let sym = cell.symbol();
    match crate::text::strip(sym) {
        std::borrow::Cow::Borrowed(_) => None,
        std::borrow::Cow::Owned(s) => {
            let mut c = cell.clone();
            // a cell that held only unsafe characters still takes its place on screen
            c.set_symbol(if s.is_empty() { " " } else { &s });
            Some(c)
        }
    }
}

impl<B: Backend> Backend for CleanBackend<B> {
    type Error = B::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let cells: Vec<(u16, u16, &Cell, Option<Cell>)> =
            content.map(|(x, y, c)| (x, y, c, clean_cell(c))).collect();
        self.0.draw(
            cells
                .iter()
                .map(|(x, y, c, clean)| (*x, *y, clean.as_ref().unwrap_or(c))),
        )
    }
    fn append_lines(&mut self, n: u16) -> Result<(), Self::Error> {
        self.0.append_lines(n)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.0.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.0.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.0.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.0.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.0.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.0.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::text::Line;

    #[test]
    fn no_unsafe_character_reaches_the_backend() {
        let mut t = Terminal::new(CleanBackend(TestBackend::new(20, 1))).expect("terminal");
        t.draw(|f| {
            // ratatui appends the zero-width controls to the cell before them
            f.render_widget(
                Line::raw("\u{202E}ab\u{2066}c\u{200F}d\u{1b}]0;x"),
                f.area(),
            )
        })
        .expect("draw");
        let buf = t.backend().0.buffer();
        let row: String = (0..20).map(|x| buf[(x, 0)].symbol().to_string()).collect();
        assert!(!row.chars().any(crate::text::is_unsafe), "{row:?}");
        assert!(row.starts_with("abcd]0;x"), "{row:?}");
    }
}
