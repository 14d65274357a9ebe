//! The real binary on a pseudo-terminal, as a person runs it: keys go in through the pty,
//! and every byte it writes is kept (`raw`) and parsed into a screen (`text`) by a vt100
//! emulator.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// The patrol process on the pty. Dropped (the test ended, or failed half-way), it is
/// killed and reaped: a failing test leaves no patrol running.
pub struct Child(Box<dyn portable_pty::Child + Send + Sync>);

impl std::ops::Deref for Child {
    type Target = Box<dyn portable_pty::Child + Send + Sync>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Child {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // a process already waited for is not signalled again (its pid may be reused)
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
pub type Keys = Box<dyn Write + Send>;

pub fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap_or(std::num::NonZeroU16::MIN)
}

/// What the binary has written to its terminal.
#[derive(Clone)]
pub struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
}

impl Screen {
    /// The screen as the emulator shows it now.
    pub fn text(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Every byte written so far.
    pub fn raw(&self) -> Vec<u8> {
        self.raw.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The cells whose background is the colour `rgb` now, as (row, column, symbol).
    pub fn cells_with_bg(&self, rgb: (u8, u8, u8)) -> Vec<(u16, u16, String)> {
        let Ok(p) = self.parser.lock() else {
            return Vec::new();
        };
        let s = p.screen();
        let (rows, cols) = s.size();
        let want = vt100::Color::Rgb(rgb.0, rgb.1, rgb.2);
        let mut out = Vec::new();
        for r in 0..rows.get() {
            for c in 0..cols.get() {
                if let Some(cell) = s.cell(r, c)
                    && cell.bgcolor() == want
                {
                    out.push((r, c, cell.contents().to_string()));
                }
            }
        }
        out
    }

    pub fn alternate(&self) -> bool {
        self.parser
            .lock()
            .map(|p| p.screen().alternate_screen())
            .unwrap_or(true)
    }

    pub fn cursor_hidden(&self) -> bool {
        self.parser
            .lock()
            .map(|p| p.screen().hide_cursor())
            .unwrap_or(true)
    }

    /// The screen once it shows `needle`; on timeout the panic shows the screen.
    pub fn wait_for(&self, what: &str, needle: &str) -> String {
        self.wait_until(what, Duration::from_secs(15), |t| t.contains(needle))
    }

    /// The screen once `f` holds for it, within `timeout`.
    pub fn wait_until(&self, what: &str, timeout: Duration, f: impl Fn(&str) -> bool) -> String {
        let start = std::time::Instant::now();
        loop {
            let t = self.text();
            if f(&t) {
                return t;
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {what}; the screen:\n{t}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Start the patrol binary on a `cols`x`rows` pty with these arguments and environment.
pub fn spawn(args: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> (Child, Keys, Screen) {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_patrol"));
    cmd.args(args);
    cmd.env("TERM", "xterm-256color");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = Child(pty.slave.spawn_command(cmd).expect("spawn patrol"));
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().expect("pty reader");
    let keys = pty.master.take_writer().expect("pty writer");
    let parser = Arc::new(Mutex::new(vt100::Parser::new(nz(rows), nz(cols), 0)));
    let raw = Arc::new(Mutex::new(Vec::new()));
    let (p, r) = (parser.clone(), raw.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut r) = r.lock() {
                r.extend_from_slice(&buf[..n]);
            }
            if let Ok(mut p) = p.lock() {
                p.process(&buf[..n]);
            }
        }
    });
    // keep the master alive as long as the child: leak it into the reader's lifetime
    std::mem::forget(pty.master);
    (child, keys, Screen { parser, raw })
}

/// `s`, wait until the switchover dialog lists an eligible candidate (a candidate is
/// eligible once its lag is known: the leader sampled after it), Enter, and wait for the
/// review with the exact request. Nothing is sent: the caller presses the send key.
pub fn review_switchover(keys: &mut Keys, screen: &Screen) {
    keys.write_all(b"s").expect("s");
    super::eventually(
        Duration::from_secs(10),
        "switchover dialog with an eligible candidate",
        || {
            let t = screen.text();
            (t.contains("candidates") && t.contains(" is eligible")).then_some(())
        },
    );
    keys.write_all(b"\r").expect("enter");
    super::eventually(Duration::from_secs(5), "request shown", || {
        screen.text().contains("POST http").then_some(())
    });
    // a person reads the request before the send key: one right behind the Enter is a
    // burst, refused
    std::thread::sleep(Duration::from_millis(500));
}

/// Kills the child when dropped: a failing test leaves no patrol behind.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
