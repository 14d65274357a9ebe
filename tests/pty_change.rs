//! Seeing change (issue 19 §4) with the real binary on a pty against a real cluster: a
//! replica's Patroni stops answering (SIGSTOP), and its API cell turns `✗` highlighted in
//! the theme's `changed` colour (the SGR bytes the binary writes, and the cell the terminal
//! shows), fades through `changed_fading`, and is drawn without either once faded; nothing
//! was highlighted before the change.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::TestCluster;
use support::pty::spawn;

/// The default theme's `changed` and `changed_fading` backgrounds (themes/default.toml).
const CHANGED: (u8, u8, u8) = (0xff, 0xd7, 0x5f);
const FADING: (u8, u8, u8) = (0xaf, 0x87, 0x00);

/// A member's Patroni stopped (SIGSTOP) until dropped: resumed on every way out, so the
/// cluster can be stopped after a failed assertion too.
struct Frozen(u32);

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .status();
    }
}

#[test]
fn a_changed_api_cell_is_highlighted_in_the_terminal_and_gone_after_the_fade() {
    let c = TestCluster::start(2);
    let leader = c.leader().expect("a leader");
    let replica = if leader == "pg1" { "pg2" } else { "pg1" };
    let cfg = c.config_path().to_string_lossy().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl").to_string_lossy().to_string();
    let (_child, _keys, screen) = spawn(
        &["-c", &cfg, "--audit-log", &audit, "--timeout", "1s"],
        &[("COLORTERM", "truecolor")],
        120,
        40,
    );
    // both members answering: `ok` twice in the table
    screen.wait_until("both APIs ok", Duration::from_secs(30), |t| {
        t.lines()
            .filter(|l| l.contains(" ok ") && (l.contains("pg1") || l.contains("pg2")))
            .count()
            == 2
    });
    std::thread::sleep(Duration::from_secs(2));
    let sgr = format!("48;2;{};{};{}m", CHANGED.0, CHANGED.1, CHANGED.2);
    let raw = String::from_utf8_lossy(&screen.raw()).to_string();
    assert!(!raw.contains(&sgr), "a highlight before any change");

    let pid = c.patroni_pid(replica).expect("the replica's Patroni");
    let st = Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(st.success());
    let _frozen = Frozen(pid);

    // its API cell turns ✗, highlighted
    let t0 = Instant::now();
    let lit = loop {
        let cells = screen.cells_with_bg(CHANGED);
        if !cells.is_empty() {
            break cells;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "no highlight; the screen:\n{}",
            screen.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = screen.text();
    let row = text.lines().nth(usize::from(lit[0].0)).unwrap_or_default();
    assert!(
        row.contains(replica),
        "highlighted on the wrong row: {row}\n{text}"
    );
    let lit_text: String = lit.iter().map(|(_, _, s)| s.as_str()).collect();
    assert!(
        lit_text.starts_with('✗'),
        "highlighted: {lit_text:?}\n{text}"
    );
    assert!(
        lit.iter().all(|(r, _, _)| *r == lit[0].0),
        "one cell: {lit:?}"
    );
    let raw = String::from_utf8_lossy(&screen.raw()).to_string();
    assert!(
        raw.contains(&sgr),
        "the SGR of `changed` in the bytes written"
    );

    // it fades: the second step's background, then neither
    screen.wait_until("the fading step", Duration::from_secs(5), |_| {
        !screen.cells_with_bg(FADING).is_empty()
    });
    screen.wait_until("the highlight gone", Duration::from_secs(8), |_| {
        screen.cells_with_bg(CHANGED).is_empty() && screen.cells_with_bg(FADING).is_empty()
    });
    let text = screen.text();
    assert!(
        text.lines().any(|l| l.contains(replica) && l.contains('✗')),
        "still unreachable, drawn plainly:\n{text}"
    );
    // and it stays gone: the value has not changed again
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        screen.cells_with_bg(CHANGED).is_empty(),
        "{}",
        screen.text()
    );
}
