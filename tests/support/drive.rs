//! Driving patrol in-process, as the TUI does: a `Headless` loop on a real cluster, keys
//! pressed one by one, and what an assertion message should show when it fails.

use std::path::Path;
use std::time::Duration;

use patrol::app::ops::Settle;
use patrol::app::{App, Msg};
use patrol::config::{self, ConfigSource, Settings};
use patrol::runtime::Headless;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The settings of a patroni.yml, as `patrol -c` loads them.
pub fn settings(path: &Path) -> Settings {
    config::load(&ConfigSource {
        file: Some(path.to_path_buf()),
        ..Default::default()
    })
    .expect("config loads")
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A deliberate person's pace: keys pressed in-process come at least this far apart, past
/// the burst window and the hold after a changed request (the PTY tests type in real time).
pub const HUMAN: Duration = Duration::from_millis(1100);

thread_local! {
    static TYPIST: std::cell::Cell<Option<std::time::Instant>> = const { std::cell::Cell::new(None) };
}

/// When a person's next key arrives: now, or one [`HUMAN`] after the last one if that is
/// later (a test presses keys much faster than that).
pub fn human() -> std::time::Instant {
    TYPIST.with(|t| {
        let now = std::time::Instant::now();
        let next = t.get().map_or(now, |last| (last + HUMAN).max(now));
        t.set(Some(next));
        next
    })
}

pub fn press(h: &mut Headless, code: KeyCode) {
    h.send(Msg::Key(human(), KeyEvent::new(code, KeyModifiers::NONE)));
}

/// Type these characters, one key press each.
pub fn keys(h: &mut Headless, s: &str) {
    for c in s.chars() {
        press(h, KeyCode::Char(c));
    }
}

/// Move the selection onto `member`.
pub fn select(h: &mut Headless, member: &str) {
    press(h, KeyCode::Char('g'));
    for _ in 0..10 {
        let rows = h.app.rows();
        if rows[h.app.screen.selected_index(&rows)].name == member {
            return;
        }
        press(h, KeyCode::Char('j'));
    }
    panic!("cannot select {member}");
}

/// The members, the operations and the dialog, for a failing assertion's message.
pub fn describe(app: &App) -> String {
    let mut s: Vec<String> = app
        .rows()
        .iter()
        .map(|r| {
            format!(
                "{} {:?} {} TL{:?} {:?} pending {} scheduled {:?}",
                r.name, r.role, r.state, r.timeline, r.rest, r.pending_restart, r.scheduled_restart
            )
        })
        .collect();
    s.extend(
        app.session
            .ops
            .iter()
            .map(|o| format!("op {}: {:?} reply {:?}", o.title, o.settle, o.reply)),
    );
    if let Some(d) = &app.session.dialog {
        s.push(format!("dialog {:?} notice {:?}", d.kind, d.notice));
    }
    s.join("\n")
}

/// Wait for the newest operation to finish; return its settle state.
pub async fn last_op(h: &mut Headless, timeout: Duration) -> Settle {
    let n = h.app.session.ops.len();
    assert!(n > 0, "an operation was sent:\n{}", describe(&h.app));
    let ok = h
        .until(timeout, |a| a.session.ops[n - 1].settle.finished())
        .await;
    assert!(ok, "operation finished:\n{}", describe(&h.app));
    h.app.session.ops[n - 1].settle.clone()
}

/// The main view as text, the way a user sees it at 120x40 (trailing blanks trimmed).
pub fn screen(app: &App) -> String {
    let theme = patrol::theme::Theme::load(None, false).expect("built-in theme");
    let backend = ratatui::backend::TestBackend::new(120, 40);
    let mut t = ratatui::Terminal::new(backend).expect("test backend");
    t.draw(|f| patrol::ui::render(f, app, &theme))
        .expect("draw");
    let buf = t.backend().buffer();
    (0..40)
        .map(|y| {
            (0..120)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
