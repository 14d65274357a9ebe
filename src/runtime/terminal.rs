//! The terminal guard: whatever way patrol ends (quit, error, panic, SIGTERM, SIGHUP), the
//! terminal gets its cooked mode, main screen and cursor back.

use std::io::{self, Write};

use ratatui::DefaultTerminal;
use ratatui::crossterm::{cursor, execute};

pub struct TerminalGuard {
    pub terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Enter raw mode and the alternate screen. `ratatui::try_init` also chains a panic hook
    /// that restores the terminal before color-eyre's hook prints the report.
    pub fn enter() -> io::Result<TerminalGuard> {
        let terminal = ratatui::try_init()?;
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // Errors are ignored on purpose: after SIGHUP there is no terminal to write to.
        let _ = ratatui::try_restore();
        let mut out = io::stdout();
        let _ = execute!(out, cursor::Show);
        let _ = out.flush();
    }
}
