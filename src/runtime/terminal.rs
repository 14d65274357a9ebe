//! The terminal guard: whatever way patrol ends (quit, error, panic, SIGTERM, SIGHUP, a
//! terminal that went away), the terminal gets its cooked mode, main screen and cursor back
//! if it is still there, and nothing here panics or prints if it is not.

use std::io::{self, Stdout, Write};
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::{cursor, execute};
use ratatui::layout::{Position, Size};

/// Raw mode and the alternate screen are on (set by `enter`, cleared by the first restore).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// A synchronized update has begun and not ended (a draw that panicked).
static SYNC_OPEN: AtomicBool = AtomicBool::new(false);

/// Give the terminal back (cooked mode, main screen, cursor), once; for the guard and the
/// panic hook. Never prints and never panics: after a hang-up there is no terminal, and a
/// panic while panicking aborts (no destructor runs, no follower is killed). Err says the
/// terminal could not be written to.
pub fn restore_terminal() -> io::Result<()> {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let mut out = io::stdout();
    let mut result = Ok(());
    let mut keep = |r: io::Result<()>| {
        if let Err(e) = r
            && result.is_ok()
        {
            result = Err(e);
        }
    };
    if SYNC_OPEN.swap(false, Ordering::SeqCst) {
        keep(execute!(out, crossterm::terminal::EndSynchronizedUpdate));
    }
    keep(crossterm::terminal::disable_raw_mode());
    keep(execute!(
        out,
        DisableBracketedPaste,
        crossterm::terminal::LeaveAlternateScreen,
        cursor::Show
    ));
    keep(out.flush());
    result
}

pub struct TerminalGuard {
    /// Never dropped: ratatui's `Terminal::drop` shows the cursor and `eprintln!`s when that
    /// fails, which panics on a terminal that is gone. `restore_terminal` shows it instead.
    pub terminal: ManuallyDrop<Terminal<CleanBackend<CrosstermBackend<Stdout>>>>,
    /// Frames are wrapped in synchronized output (DEC mode 2026).
    sync: bool,
}

impl TerminalGuard {
    /// Enter raw mode and the alternate screen. Not `ratatui::try_init`: its panic hook
    /// `eprintln!`s when the restore fails (a panic inside the panic hook: abort). main's
    /// panic hook calls [`restore_terminal`] instead.
    pub fn enter() -> io::Result<TerminalGuard> {
        crossterm::terminal::enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        // a paste arrives as one text event, never as key presses (`s`, Enter, `y` ...)
        let entered = execute!(
            io::stdout(),
            crossterm::terminal::EnterAlternateScreen,
            EnableBracketedPaste
        )
        .and_then(|()| Terminal::new(CleanBackend(CrosstermBackend::new(io::stdout()))));
        match entered {
            Ok(terminal) => Ok(TerminalGuard {
                terminal: ManuallyDrop::new(terminal),
                sync: false,
            }),
            Err(e) => {
                let _ = restore_terminal();
                Err(e)
            }
        }
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
            SYNC_OPEN.store(true, Ordering::SeqCst);
            crossterm::queue!(self.terminal.backend_mut().0, BeginSynchronizedUpdate)?;
        }
        let drawn = self.terminal.draw(f).map(|_| ());
        if self.sync {
            // ended even when the draw failed: a terminal left in the mode stops showing
            execute!(self.terminal.backend_mut().0, EndSynchronizedUpdate)?;
            SYNC_OPEN.store(false, Ordering::SeqCst);
        }
        drawn
    }

    /// Give the terminal back now; Err: it could not be written to (it is gone).
    pub fn restore(self) -> io::Result<()> {
        restore_terminal()
        // Drop runs next and finds nothing left to do
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // Errors are ignored on purpose: after a hang-up there is no terminal to write to.
        let _ = restore_terminal();
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
