//! Render snapshots of the main view at 80x24 and 120x40 (ratatui TestBackend + insta).
//! States are whole cluster states captured on a real cluster by `scripts/capture-states`
//! (tests/fixtures/states); `both` refuses to record one no real cluster can be in.

use std::time::Instant;

use patrol as patrol_crate;
use patrol::app::{App, AppConfig, Msg};
use patrol::dcs::DcsEvent;
use patrol::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

mod sample;
use sample::*;

fn draw(app: &App, w: u16, h: u16) -> String {
    let theme = Theme::load(None, false).expect("built-in theme");
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| patrol::ui::render(f, app, &theme))
        .expect("draw");
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Every snapshot records a state a real cluster can be in.
fn both(name: &str, app: &App) {
    assert_consistent(app);
    insta::assert_snapshot!(format!("{name}_80x24"), draw(app, 80, 24));
    insta::assert_snapshot!(format!("{name}_120x40"), draw(app, 120, 40));
}

#[test]
fn healthy_cluster() {
    let now = Instant::now();
    let app = live("lagging", now);
    both("healthy", &app);
}

#[test]
fn leaderless_cluster() {
    let now = Instant::now();
    // the moment the leader key has expired and no member holds the lock yet
    let kvs = state("lagging")
        .kvs
        .into_iter()
        .filter(|k| !k.key.ends_with("/leader"))
        .collect();
    let app = app(kvs, now);
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("NO LEADER"), "{screen}");
    both("leaderless", &app);
}

#[test]
fn unreachable_member() {
    let now = Instant::now();
    let mut app = live("lagging", now);
    rest_err(
        &mut app,
        "pg3",
        "error sending request: connection refused",
        later(now, 3),
    );
    // the others keep answering what they answered (replica first, as captured)
    for (m, s) in state("lagging")
        .rest
        .into_iter()
        .filter(|(m, _)| m != "pg3")
    {
        rest_ok(&mut app, &m, s, later(now, 12));
    }
    app.update(Msg::Tick(later(now, 12)));
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("✗ 12s"), "{screen}");
    both("unreachable_member", &app);
}

#[test]
fn paused_with_scheduled_switchover() {
    // pg2 leads (TL 2); a switchover pg2 -> pg1 was scheduled, then the cluster paused
    let now = Instant::now();
    let app = live("paused", now);
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("MAINTENANCE MODE"), "{screen}");
    assert!(screen.contains("switchover pg2→pg1"), "{screen}");
    both("paused", &app);
}

#[test]
fn etcd_down_is_stale_and_garbage_key_warns() {
    let now = Instant::now();
    let mut app = live("lagging", now);
    app.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv("members/pg2", b"{\"state\": \x1b[31m")),
    ));
    app.update(Msg::Dcs(
        later(now, 2),
        DcsEvent::Down {
            endpoint: "http://127.0.0.1:24000".into(),
            error: "etcd unavailable (down, or not listening there)".into(),
        },
    ));
    app.update(Msg::Tick(later(now, 40)));
    let screen = draw(&app, 120, 40);
    assert!(screen.contains("STALE"), "{screen}");
    // etcd away for more than 5 s: the members are being asked (REST-only), nothing answered
    // (in a word where the worst finding's text needs the room, in full where there is some)
    assert!(screen.contains(" REST-only: asking… "), "{screen}");
    assert!(
        screen.contains("⚠ 3: pg3 lags 1.5 MiB (maximum_lag_on_failover 1.0 MiB)"),
        "{screen}"
    );
    let wide = draw(&app, 200, 40);
    assert!(wide.contains("REST-only: asking the members"), "{wide}");
    assert!(
        wide.contains("STALE: etcd data is 38s old") && wide.matches("STALE").count() == 1,
        "stale once, judged once: {wide}"
    );
    // what reaches the terminal is asserted on the real binary's bytes: tests/pty_hostile.rs
    both("etcd_down", &app);
}

#[test]
fn connecting_and_help() {
    let now = Instant::now();
    let mut app = App::new(
        AppConfig::new("demo", "/service/", vec!["http://127.0.0.1:24000".into()]),
        now,
    );
    insta::assert_snapshot!("connecting_80x24", draw(&app, 80, 24));
    app.screen.show_help = true;
    both("help", &app);
}

#[test]
fn any_size_down_to_1x1_never_panics() {
    let now = Instant::now();
    let mut app = live("lagging", now);
    for (w, h) in [
        (1, 1),
        (2, 1),
        (1, 5),
        (20, 5),
        (39, 7),
        (40, 8),
        (41, 9),
        (60, 10),
        (250, 3),
    ] {
        draw(&app, w, h);
    }
    app.screen.show_help = true;
    for (w, h) in [(1, 1), (20, 5), (40, 8), (45, 12)] {
        draw(&app, w, h);
    }
    insta::assert_snapshot!("tiny_20x5", draw(&live("lagging", now), 20, 5));
}

fn press(app: &mut App, c: ratatui::crossterm::event::KeyCode) {
    use ratatui::crossterm::event::{KeyEvent, KeyModifiers};
    app.update(Msg::Key(
        sample::human(),
        KeyEvent::new(c, KeyModifiers::NONE),
    ));
}

#[test]
fn switchover_dialog_options_and_confirm() {
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    let mut app = live("lagging", now);
    press(&mut app, KeyCode::Char('s'));
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("lag 1.5 MiB above maximum_lag_on_failover"),
        "{screen}"
    );
    both("switchover_options", &app);
    press(&mut app, KeyCode::Enter);
    let screen = draw(&app, 120, 40);
    assert!(
        screen.contains(
            r#"POST http://127.0.0.1:24011/switchover {"leader":"pg1","candidate":"pg2"}"#
        ),
        "{screen}"
    );
    both("switchover_confirm", &app);
}

#[test]
fn failover_typed_confirmation_and_operations_panel() {
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    let mut app = live("lagging", now);
    press(&mut app, KeyCode::Char('f'));
    press(&mut app, KeyCode::Enter);
    for c in "dem".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("type demo to confirm"), "{screen}");
    both("failover_confirm", &app);
    press(&mut app, KeyCode::Char('o'));
    press(&mut app, KeyCode::Enter);
    assert!(app.session.dialog.is_none());
    app.update(Msg::OpReply {
        op: 1,
        at: now,
        reply: patrol::app::ops::Reply::Status {
            code: 412,
            body: "failover is not possible: cluster does not have members except leader".into(),
        },
    });
    let screen = draw(&app, 120, 40);
    assert!(
        screen.contains("HTTP 412: failover is not possible"),
        "{screen}"
    );
    both("operations_panel", &app);
    // the panel's "Ns ago" is an age: the frame says so, and the next second redraws it
    let before = draw(&app, 120, 40);
    app.drawn(patrol::ui::ages_drawn());
    assert!(!app.dirty);
    app.update(Msg::Tick(app.model.now + std::time::Duration::from_secs(2)));
    assert!(
        app.dirty,
        "an idle second with the panel on screen draws a frame"
    );
    let after = draw(&app, 120, 40);
    let ago = |s: &str| {
        s.lines()
            .find(|l| l.contains(" ago "))
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert_ne!(ago(&before), ago(&after), "{after}");
}

#[test]
fn header_sign_of_life_and_its_warning() {
    let now = Instant::now();
    let mut app = live("lagging", now);
    app.update(Msg::Dcs(now, DcsEvent::Progress { revision: 42 }));
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("as of +1s"), "{screen}");
    both("sign_of_life", &app);
    // neither etcd nor any REST API has answered for 10 s
    app.update(Msg::Tick(now + std::time::Duration::from_secs(10)));
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("STALLED: etcd 10s REST 10s"), "{screen}");
    both("sign_of_life_stalled", &app);
}

#[test]
fn restart_and_rolling_restart_dialogs() {
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    // every member has a pending restart (max_connections changed)
    let mut app = live("pending", now);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('r'));
    press(&mut app, KeyCode::Char('p'));
    both("restart_options", &app);
}

#[test]
fn member_detail_history_and_config_views() {
    use ratatui::crossterm::event::KeyCode;
    // TL 2 after a switchover pg1 -> pg2: a pending restart everywhere, pg3 tagged
    // nofailover with a restart scheduled
    let now = Instant::now();
    let mut app = live("pending", now);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("Member pg3"), "{screen}");
    assert!(screen.contains("max_connections: 50 -> 60"), "{screen}");
    assert!(screen.contains("PostgreSQL 15.18"), "{screen}");
    assert!(screen.contains("nofailover: true"), "{screen}");
    both("detail", &app);
    press(&mut app, KeyCode::Char('k'));
    assert!(
        draw(&app, 80, 24).contains("Member pg1"),
        "detail follows the selection"
    );
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('h'));
    let screen = draw(&app, 120, 40);
    assert!(screen.contains("no recovery target specified"), "{screen}");
    both("history", &app);
    press(&mut app, KeyCode::Char('c'));
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("maximum_lag_on_failover: 1048576"),
        "{screen}"
    );
    both("config", &app);
}

#[test]
fn logs_and_etcd_views() {
    use patrol::dcs::info::{EndpointInfo, EndpointStatus, InfoEvent};
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    let mut app = live("lagging", now);
    app.model.logs_configured = true;
    for (m, l) in [
        (
            "pg1",
            "2026-11-26 00:24:45,401 INFO: no action. I am (pg1), the leader with the lock",
        ),
        (
            "pg2",
            "2026-11-26 00:24:45,988 INFO: no action. I am (pg2), a secondary, and following a leader (pg1)",
        ),
        (
            "pg1",
            "2026-11-26 00:24:46,100 WARNING: Request failed to pg3: GET http://127.0.0.1:24013/patroni",
        ),
        (
            "pg1",
            "2026-11-26 00:24:47,000 ERROR: \x1b[31mpoisoned\x07 line",
        ),
    ] {
        app.update(Msg::Log(patrol::logs::parse_line(m, l)));
    }
    press(&mut app, KeyCode::Char('l'));
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("WARNING: Request failed"), "{screen}");
    // ratatui would drop the ESC by itself: the `?` says the sanitizer saw it
    assert!(screen.contains("ERROR: ?[31mpoisoned? line"), "{screen}");
    both("logs_member", &app);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('A'));
    press(&mut app, KeyCode::Char('/'));
    for c in "no action".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    let screen = draw(&app, 120, 40);
    assert!(screen.contains("filter: \"no action\""), "{screen}");
    assert!(!screen.contains("WARNING"), "filtered out: {screen}");
    both("logs_all_filtered", &app);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);
    app.update(Msg::Info(InfoEvent::Endpoints(vec![
        EndpointStatus {
            endpoint: "http://127.0.0.1:24000".into(),
            result: Ok(EndpointInfo {
                version: "3.4.23".into(),
                db_size: 57344,
                member_id: 0xf72add2a04326779,
                leader: 0xf72add2a04326779,
                raft_term: 2,
                errors: vec![],
            }),
        },
        EndpointStatus {
            endpoint: "http://127.0.0.2:2379".into(),
            result: Err("etcd unavailable (down, or not listening there)".into()),
        },
    ])));
    press(&mut app, KeyCode::Char('e'));
    let screen = draw(&app, 120, 40);
    assert!(
        screen.contains("this one") && screen.contains("down"),
        "{screen}"
    );
    both("etcd", &app);
}

#[test]
fn connection_strings_view() {
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    let mut app = live("lagging", now);
    press(&mut app, KeyCode::Char('d'));
    let screen = draw(&app, 120, 40);
    assert!(screen.contains("host=127.0.0.1 port=24021"), "{screen}");
    assert!(
        screen.contains("target_session_attrs=read-write"),
        "{screen}"
    );
    // at 80 columns a long string goes on under itself, not in column 0
    let narrow = draw(&app, 80, 24);
    assert!(
        narrow.contains("│   t_session_attrs=read-write"),
        "{narrow}"
    );
    both("dsn", &app);
    press(&mut app, KeyCode::Char('j'));
    let eff = app.update(Msg::Key(
        sample::human(),
        ratatui::crossterm::event::KeyEvent::new(
            KeyCode::Char('y'),
            ratatui::crossterm::event::KeyModifiers::NONE,
        ),
    ));
    assert_eq!(
        eff,
        vec![patrol::app::Effect::Copy(
            "postgresql://127.0.0.1:24021,127.0.0.1:24022,127.0.0.1:24023/postgres?target_session_attrs=read-write"
                .into()
        )]
    );
}

#[test]
fn many_members_scroll_with_the_selection() {
    // 60 members: only the rows in view are drawn, and the selection stays on screen
    let now = Instant::now();
    let mut kvs = state("lagging").kvs;
    let pg3 = kvs
        .iter()
        .find(|k| k.key.ends_with("/members/pg3"))
        .map(|k| k.value.clone())
        .expect("pg3's key");
    for i in 4..=60 {
        let v = String::from_utf8_lossy(&pg3)
            .replace("24023", &format!("{}", 25000 + i))
            .replace("24013", &format!("{}", 26000 + i))
            .into_bytes();
        kvs.push(kv(&format!("members/pg{i:02}"), &v));
    }
    let mut app = app(kvs, now);
    let top = draw(&app, 120, 40);
    assert!(top.contains("pg1 ") && top.contains("pg04"), "{top}");
    press(&mut app, ratatui::crossterm::event::KeyCode::End);
    let bottom = draw(&app, 120, 40);
    assert!(bottom.contains("▸ pg60"), "{bottom}");
    assert!(bottom.contains("Members 27–60 of 60"), "{bottom}");
    assert!(!bottom.contains("pg04"), "{bottom}");
    both("many_members_bottom", &app);
}

/// The help at 80x24 does not fit: it says so, and scrolling shows every line of it.
#[test]
fn help_at_80x24_scrolls_to_every_line() {
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    let mut app = live("lagging", now);
    press(&mut app, KeyCode::Char('?'));
    let first = draw(&app, 80, 24);
    assert!(
        first.contains("more"),
        "a cut help says there is more:\n{first}"
    );
    let mut seen = first.clone();
    for _ in 0..app.help_len() {
        press(&mut app, KeyCode::Char('j'));
        seen.push_str(&draw(&app, 80, 24));
    }
    for (_, d) in app.help_rows() {
        assert!(seen.contains(d), "{d:?} is reachable by scrolling");
    }
    // the notes under the keys too, each whole (not cut at the popup's edge)
    for note in patrol::app::HELP_NOTE {
        // wrapped to the popup: its first words start a row
        let start: String = note.chars().take(30).collect();
        assert!(
            seen.contains(&format!("│ {start}")),
            "{note:?} reachable by scrolling:\n{seen}"
        );
    }
    assert!(seen.contains("quit patrol"));
    let last = draw(&app, 80, 24);
    assert!(
        !last.contains("↓ "),
        "at the end nothing more below:\n{last}"
    );
    insta::assert_snapshot!("help_80x24_end", last);
    // at 120x40 it fits whole
    press(&mut app, KeyCode::Char('g'));
    let big = draw(&app, 120, 40);
    assert!(!big.contains("more ("), "{big}");
    for note in patrol::app::HELP_NOTE {
        assert!(
            big.contains(note),
            "{note:?} on one row at 120 columns:\n{big}"
        );
    }
}

/// A paused log view keeps the same lines on screen while new ones arrive.
#[test]
fn a_paused_log_view_stays_where_it_is() {
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    let mut app = live("lagging", now);
    app.model.logs_configured = true;
    let line = |i: usize| {
        Msg::Log(patrol::logs::parse_line(
            "pg1",
            &format!("2026-11-26 00:24:45,401 INFO: line number {i:03}"),
        ))
    };
    for i in 0..60 {
        app.update(line(i));
    }
    press(&mut app, KeyCode::Char('l'));
    press(&mut app, KeyCode::Char('f'));
    press(&mut app, KeyCode::Char('k'));
    let body = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.contains("line number"))
            .map(str::to_string)
            .collect()
    };
    let before = body(&draw(&app, 80, 24));
    assert!(!before.is_empty());
    for i in 60..70 {
        app.update(line(i));
    }
    let after = body(&draw(&app, 80, 24));
    assert_eq!(before, after, "paused: the same lines");
    assert!(draw(&app, 80, 24).contains("paused"));
    // following again shows the newest
    press(&mut app, KeyCode::Char('f'));
    assert!(draw(&app, 80, 24).contains("line number 069"));
}

/// The screen with its colours: each line's text, then the style runs that differ from
/// the terminal's default (`col+len fg/bg/modifiers`), so a theme's snapshot shows what
/// each thing is drawn in.
fn draw_styled(app: &App, theme: &Theme, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| patrol::ui::render(f, app, theme)).expect("draw");
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        let mut runs: Vec<(u16, u16, String)> = Vec::new();
        for x in 0..w {
            let c = &buf[(x, y)];
            line.push_str(c.symbol());
            let st = format!("{:?}/{:?}/{:?}", c.fg, c.bg, c.modifier);
            match runs.last_mut() {
                Some((_, n, s)) if *s == st => *n += 1,
                _ => runs.push((x, 1, st)),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
        let styled: Vec<String> = runs
            .into_iter()
            .filter(|(_, _, s)| s != "Reset/Reset/NONE")
            .map(|(x, n, s)| format!("{x}+{n} {s}"))
            .collect();
        if !styled.is_empty() {
            out.push_str(&format!("    {}\n", styled.join("  ")));
        }
    }
    out
}

#[test]
fn every_built_in_theme_draws_the_main_view() {
    use patrol::theme::{BUILTIN, Depth};
    let now = Instant::now();
    let app = live("lagging", now);
    for (name, _) in BUILTIN {
        let theme = Theme::resolve(Some(name), Depth::TrueColor).expect("built-in theme");
        insta::assert_snapshot!(
            format!("theme_{name}_80x24"),
            draw_styled(&app, &theme, 80, 24)
        );
    }
    // the default theme as a 16-colour terminal shows it
    let theme = Theme::resolve(None, Depth::Ansi16).expect("default theme");
    insta::assert_snapshot!(
        "theme_default_ansi16_80x24",
        draw_styled(&app, &theme, 80, 24)
    );
}

/// A key at exactly `at`: these snapshots print times, so the keys' times are fixed.
fn press_at(app: &mut App, at: Instant, c: ratatui::crossterm::event::KeyCode) {
    use ratatui::crossterm::event::{KeyEvent, KeyModifiers};
    app.update(Msg::Key(at, KeyEvent::new(c, KeyModifiers::NONE)));
}

#[test]
fn switchover_review_on_a_terminal_too_small_for_it() {
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    let mut app = live("lagging", now);
    app.update(Msg::Resize(50, 12));
    press(&mut app, KeyCode::Char('s'));
    press(&mut app, KeyCode::Enter);
    let screen = draw(&app, 50, 12);
    // the view and the send key ask the same layout
    assert!(!app.review_fits());
    assert!(screen.contains("enlarge the window"), "{screen}");
    press(&mut app, KeyCode::Char('y'));
    assert!(app.session.ops.is_empty(), "sent what is not on screen");
    assert_consistent(&app);
    insta::assert_snapshot!("switchover_review_too_small_50x12", draw(&app, 50, 12));
    // enlarged: no warning, the whole review on screen
    app.update(Msg::Resize(80, 24));
    assert!(app.review_fits());
    let screen = draw(&app, 80, 24);
    assert!(!screen.contains("request cut off"), "{screen}");
    assert!(
        screen.contains("POST http://127.0.0.1:24011/switchover"),
        "{screen}"
    );
}

#[test]
fn switchover_review_after_the_request_changed() {
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    let mut app = live("lagging", now);
    press_at(
        &mut app,
        now + std::time::Duration::from_secs(2),
        KeyCode::Char('s'),
    );
    press_at(
        &mut app,
        now + std::time::Duration::from_secs(3),
        KeyCode::Enter,
    );
    // the leader's REST API moved while the review was open: another request
    let kv = state("lagging")
        .kvs
        .into_iter()
        .find(|k| k.key.ends_with("/members/pg1"))
        .expect("pg1's key");
    let moved = String::from_utf8_lossy(&kv.value).replace("127.0.0.1:24011", "127.0.0.1:24019");
    app.update(Msg::Dcs(
        now,
        DcsEvent::Put(patrol::dcs::RawKv {
            value: moved.into_bytes(),
            ..kv
        }),
    ));
    // judged once the batch is applied, before the frame (as the runtime does)
    app.update(Msg::Drained(now));
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("the request changed: read it; y sends from +5s (in 1 s)"),
        "{screen}"
    );
    assert!(screen.contains("127.0.0.1:24019/switchover"), "{screen}");
    both("switchover_request_changed", &app);
}

/// The log view counts screen rows, not log lines: with wrap on, following ends with the
/// newest line on the last row at 80x24; `g` shows the oldest lines filling the view, and
/// one `j` then moves it at once.
#[test]
fn log_view_wrapped_follows_the_newest_and_g_fills_the_view() {
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    let mut app = live("lagging", now);
    app.model.logs_configured = true;
    app.update(Msg::Resize(80, 24));
    for i in 0..60 {
        let l = format!(
            "2026-11-26 00:24:{:02},401 INFO: line {i:02} {}",
            i % 60,
            "long words that wrap on an eighty column terminal ".repeat(2)
        );
        app.update(Msg::Log(patrol::logs::parse_line("pg1", &l)));
    }
    press(&mut app, KeyCode::Char('l'));
    press(&mut app, KeyCode::Char('w'));
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("line 59"),
        "the newest line is on screen:\n{screen}"
    );
    let rows: Vec<&str> = screen.lines().collect();
    let last = rows
        .iter()
        .rposition(|r| r.starts_with('│'))
        .expect("a log row");
    let newest = rows
        .iter()
        .rposition(|r| r.contains("line 59"))
        .expect("line 59");
    assert!(
        newest < last && last - newest <= 2,
        "it ends on the last rows:\n{screen}"
    );
    insta::assert_snapshot!("logs_wrapped_following_80x24", screen);

    press(&mut app, KeyCode::Char('g'));
    let top = draw(&app, 80, 24);
    assert!(top.contains("line 00"), "{top}");
    let blank = top
        .lines()
        .filter(|r| r.trim_end() == "│" || r.trim() == "││" || *r == "│")
        .count();
    assert!(blank == 0, "the oldest lines fill the view:\n{top}");
    press(&mut app, KeyCode::Char('j'));
    let moved = draw(&app, 80, 24);
    assert_ne!(moved, top, "one j after g moves the view");
    assert!(!moved.contains("line 00"), "{moved}");
    assert!(moved.contains("line 01"), "{moved}");
}

/// A reload's `done` is Patroni's reply: the panel says it once, not `done: X · X`.
#[test]
fn a_reload_reply_is_said_once_in_the_operations_panel() {
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    let mut app = live("lagging", now);
    press(&mut app, KeyCode::Char('L'));
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(app.session.ops.len(), 1, "the reload was sent");
    app.update(Msg::OpReply {
        op: app.session.ops[0].id,
        at: now,
        reply: patrol::app::ops::Reply::Status {
            code: 202,
            body: "reload scheduled".into(),
        },
    });
    let screen = draw(&app, 120, 40);
    // (the event log has it too, once: the panel's line is the one with an age)
    let panel: Vec<&str> = screen.lines().filter(|l| l.contains(" ago ")).collect();
    assert_eq!(
        panel.concat().matches("reload scheduled").count(),
        1,
        "said once:\n{screen}"
    );
    assert!(
        screen.contains("done: HTTP 202: reload scheduled"),
        "{screen}"
    );
}

/// Pause, and Patroni answers with the whole dynamic config: once every member reports
/// maintenance mode the operation is one line, and the cluster pane and the events keep
/// their rows at 80x24.
fn paused_by_patrol(now: Instant) -> App {
    use ratatui::crossterm::event::KeyCode;
    let mut app = live("lagging", now);
    press(&mut app, KeyCode::Char('p'));
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(app.session.ops.len(), 1, "the pause was sent");
    let st = state("lagging");
    let mut config = None;
    let kvs: Vec<_> = st
        .kvs
        .into_iter()
        .map(|mut k| {
            if k.key.ends_with("/config") {
                let mut v: serde_json::Value =
                    serde_json::from_slice(&k.value).expect("the fixture's config");
                v["pause"] = serde_json::Value::Bool(true);
                k.value = serde_json::to_vec(&v).expect("json");
                config = Some(serde_json::to_string_pretty(&v).expect("json"));
            }
            k
        })
        .collect();
    app.update(Msg::OpReply {
        op: app.session.ops[0].id,
        at: later(now, 1),
        reply: patrol::app::ops::Reply::Status {
            code: 200,
            body: config.expect("a config key"),
        },
    });
    app.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Snapshot {
            endpoint: "http://127.0.0.1:24000".into(),
            revision: 43,
            kvs,
        },
    ));
    for (m, mut s) in st.rest {
        s.pause = true;
        rest_ok(&mut app, &m, s, later(now, 2));
    }
    app.update(Msg::Tick(later(now, 5)));
    app
}

/// The rows inside the main view's Events pane.
fn event_rows(screen: &str) -> usize {
    screen
        .lines()
        .skip_while(|l| !l.starts_with("┌ Events"))
        .skip(1)
        .take_while(|l| !l.starts_with('└'))
        .count()
}

#[test]
fn a_settled_operation_is_one_line_and_the_cluster_pane_stays_at_80x24() {
    let now = Instant::now();
    let mut app = paused_by_patrol(now);
    assert!(
        app.session.ops[0].settle.finished(),
        "{:?}",
        app.session.ops[0].settle
    );
    let screen = draw(&app, 80, 24);
    let panel: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("Operations"))
        .take_while(|l| !l.starts_with("└"))
        .collect();
    assert_eq!(panel.len(), 2, "the title and one line:\n{screen}");
    assert!(
        panel[1].contains("done: every member reports maintenance mode · HTTP 200: {"),
        "{screen}"
    );
    assert!(panel[1].ends_with("…│"), "cut to the line:\n{screen}");
    assert!(screen.contains(" Events "), "{screen}");
    assert!(screen.contains("D: dismiss"), "{screen}");
    // under the banner and the panel the event log keeps five rows; the cluster pane gives
    // up rows instead (its lines cut to one row each, the config and the last failover first)
    assert!(screen.contains("MAINTENANCE MODE"), "{screen}");
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = draw(&app, w, h);
        assert!(event_rows(&screen) >= 5, "{w}x{h}:\n{screen}");
        assert!(screen.contains("│config "), "{w}x{h}:\n{screen}");
        assert!(screen.contains("│last failover "), "{w}x{h}:\n{screen}");
    }
    both("operation_settled", &app);
    // the dismiss key: the panel goes, the outcome stays in the event log
    press(&mut app, ratatui::crossterm::event::KeyCode::Char('D'));
    let screen = draw(&app, 80, 24);
    assert!(!screen.contains("Operations"), "{screen}");
    assert!(
        screen.contains("pause: done: every member reports"),
        "{screen}"
    );
}

#[test]
fn the_events_view_shows_an_operations_whole_reply() {
    let now = Instant::now();
    let mut app = paused_by_patrol(now);
    press(&mut app, ratatui::crossterm::event::KeyCode::Char('v'));
    let screen = draw(&app, 120, 40);
    assert!(screen.contains("\"pause\": true"), "{screen}");
    both("events_view", &app);
}

#[test]
fn the_trend_column_shrinks_at_80_columns_instead_of_going() {
    let now = Instant::now();
    let mut app = live("lagging", now);
    let st = state("lagging");
    // 6 minutes of answers, once a second: more bars than 80 columns have room for
    for s in 1..=360 {
        for (m, r) in &st.rest {
            rest_ok(&mut app, m, r.clone(), later(now, s));
        }
    }
    app.update(Msg::Tick(later(now, 360)));
    for (m, h) in &app.model.lag_history {
        assert!(h.len() <= patrol::app::Model::TREND_WIDTH, "{m}: {h:?}");
    }
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("Trend"), "{screen}");
    let wide = draw(&app, 120, 40);
    assert!(
        wide.contains("▁▁▁▁▁▁▁▁▁▁"),
        "ten bars where they fit:\n{wide}"
    );
    both("trend_after_minutes", &app);
}

#[test]
fn an_etcd_failure_gives_its_reason_in_the_header_and_the_same_state_in_e() {
    let now = Instant::now();
    let mut app = live("lagging", now);
    app.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Down {
            endpoint: "http://127.0.0.1:27999".into(),
            error: "transport error: tcp connect error: Connection refused (os error 111)".into(),
        },
    ));
    app.update(Msg::Tick(later(now, 7)));
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("✗ DOWN 6s refused http://127.0.0.1:27999"),
        "{screen}"
    );
    both("etcd_failure_header", &app);
    press(&mut app, ratatui::crossterm::event::KeyCode::Char('e'));
    let screen = draw(&app, 120, 40);
    assert!(!screen.contains("healthy"), "{screen}");
    assert!(
        screen.contains("Connection refused (os error 111)"),
        "{screen}"
    );
}

/// patrol's own log (`o`) at 80 columns: each event's message first, each field once, rows
/// broken between words and hung under the text. The events are the ones the real code
/// logs (src/dcs/v3.rs, src/patroni/client.rs), through the layer the binary installs and
/// tui-logger's buffer (the only test in this binary that writes to it). The times are
/// the wall clock's: replaced by `HH:MM:SS`.
#[test]
fn own_log_says_each_word_once_and_wraps_between_words() {
    use tracing_subscriber::layer::SubscriberExt;
    let sub = tracing_subscriber::registry().with(patrol::runtime::ownlog::layer());
    tracing::subscriber::with_default(sub, || {
        let shown = "http://127.0.0.1:24000";
        let (revision, keys, skipped) = (35u64, 7usize, 0usize);
        tracing::info!(endpoint = %shown, revision, keys, skipped, "etcd snapshot loaded; the watch starts after it");
        let url = "http://127.0.0.1:24011/reload";
        tracing::info!(method = "POST", url = %url, body = ?Option::<String>::None, "sending");
        tracing::info!(url = %url, code = 202u16, body = %"reload scheduled", "reply");
        tracing::warn!(
            endpoint = %shown,
            error = %"status: Unavailable, message: \"error trying to connect: tcp connect error: Connection refused (os error 111)\"",
            "etcd watch ended"
        );
    });
    tui_logger::move_events();
    let now = Instant::now();
    let mut app = live("lagging", now);
    press(&mut app, ratatui::crossterm::event::KeyCode::Char('o'));
    let mask = |screen: String| -> String {
        screen
            .lines()
            .map(|l| {
                // `│00:31:43 I ` -> `│HH:MM:SS I `
                let c: Vec<char> = l.chars().collect();
                let is_time = c.len() > 9
                    && c[1..9].iter().enumerate().all(|(i, ch)| {
                        if i % 3 == 2 {
                            *ch == ':'
                        } else {
                            ch.is_ascii_digit()
                        }
                    });
                if is_time {
                    format!("{}HH:MM:SS{}", c[0], c[9..].iter().collect::<String>())
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let small = mask(draw(&app, 80, 24));
    let rows: Vec<&str> = small
        .lines()
        .filter(|l| l.starts_with('│'))
        .map(|l| l.trim_matches('│').trim_end())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        rows.iter().filter(|r| r.starts_with("HH:MM:SS")).count(),
        4,
        "one first row per event:\n{small}"
    );
    for r in &rows {
        assert!(
            r.starts_with("HH:MM:SS ") || r.starts_with(&" ".repeat(11)),
            "a continuation hangs under the text, not under the time:\n{small}"
        );
    }
    // every word of the messages is whole on one row (each fits in a row at 80 columns)
    let words: Vec<&str> = rows.iter().flat_map(|r| r.split_whitespace()).collect();
    for w in [
        "loaded;",
        "endpoint=http://127.0.0.1:24000",
        "revision=35",
        "url=http://127.0.0.1:24011/reload",
        "body=\"reload",
        "scheduled\"",
        "connect:",
        "Connection",
        "refused",
    ] {
        assert!(words.contains(&w), "{w:?} whole on a row:\n{small}");
    }
    assert_eq!(small.matches("revision").count(), 1, "{small}");
    assert_eq!(small.matches("url=").count(), 2, "{small}");
    insta::assert_snapshot!("own_log_80x24", small);
    insta::assert_snapshot!("own_log_120x40", mask(draw(&app, 120, 40)));
}

#[test]
fn health_badge_member_mark_and_the_health_view() {
    let now = Instant::now();
    // the captured lagging state (pg3 over maximum_lag_on_failover), and pg2's
    // PostgreSQL stopped: its key and its REST API say so
    let mut app = live("lagging", now);
    let st = state("lagging");
    let key = st
        .kvs
        .iter()
        .find(|k| k.key.ends_with("/members/pg2"))
        .map(|k| String::from_utf8_lossy(&k.value).replace("\"running\"", "\"stopped\""))
        .expect("pg2's key");
    app.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Put(patrol::dcs::RawKv {
            key: "/service/demo/members/pg2".into(),
            value: key.into_bytes(),
            lease: 0,
        }),
    ));
    for (m, mut s) in st.rest {
        if m == "pg2" {
            s.state = Some("stopped".into());
            s.replication_state = None;
        }
        rest_ok(&mut app, &m, s, later(now, 1));
    }
    app.update(Msg::Drained(later(now, 1)));
    app.update(Msg::Tick(later(now, 3)));
    let screen = draw(&app, 120, 40);
    assert!(screen.contains("⚠ 2: pg2 stopped 2s · …"), "{screen}");
    assert!(screen.contains("pg2 ⚠"), "the member's mark: {screen}");
    insta::assert_snapshot!("health_badge_80x24", draw(&app, 80, 24));
    insta::assert_snapshot!("health_badge_120x40", screen);
    press(&mut app, ratatui::crossterm::event::KeyCode::Char('H'));
    app.screen.selected = Some("pg2".into());
    let screen = draw(&app, 120, 40);
    assert!(screen.contains("Health: 2 findings"), "{screen}");
    assert!(
        screen.contains("a: its log"),
        "the remedy key, for pg2: {screen}"
    );
    insta::assert_snapshot!("health_view_80x24", draw(&app, 80, 24));
    insta::assert_snapshot!("health_view_120x40", screen);
}

/// The healthy sample cluster behind the sandbox's HAProxy (its recorded stats, ports moved
/// onto the sample's), with the routing view open and every health endpoint answered.
fn routing_app(now: Instant, csv: &str) -> App {
    use ratatui::crossterm::event::KeyCode;
    let spec = patrol::haproxy::HaproxySpec::parse(
        "http://127.0.0.1:24032/,rw_address=127.0.0.1:24030,ro_address=127.0.0.1:24031,inter=1s",
    )
    .expect("spec");
    let mut app = healthy_live_with(|c| c.haproxy = vec![spec], now);
    let text = String::from_utf8_lossy(&fixture(&format!("haproxy/{csv}"))).replace("4102", "2402");
    let stats = patrol::haproxy::parse_csv(text.as_bytes()).expect("recorded CSV");
    app.update(Msg::Haproxy {
        source: 0,
        at: now,
        result: Ok(Box::new(stats)),
    });
    press(&mut app, KeyCode::Char('b'));
    for (m, primary) in [("pg1", 200), ("pg2", 503), ("pg3", 503)] {
        let other = if primary == 200 { 503 } else { 200 };
        let answers = patrol::app::routing::HEALTH_LABELS
            .iter()
            .map(|l| {
                let code = match *l {
                    "/primary" => primary,
                    "/replica" | "/replica?lag" | "/async" => other,
                    "/sync" => 503,
                    _ => 200,
                };
                (l.to_string(), Ok(code))
            })
            .collect();
        app.update(Msg::Health {
            member: m.into(),
            at: now,
            answers,
        });
    }
    app
}

#[test]
fn routing_view_healthy_and_with_the_leader_in_maint() {
    let now = Instant::now();
    let app = routing_app(now, "sandbox.csv");
    let screen = draw(&app, 120, 40);
    assert!(
        screen.contains("rw  read-write (by its name)  → pg1  ✓"),
        "{screen}"
    );
    assert!(
        screen.contains("ro  read-only (by its name)  → pg2, pg3  ✓"),
        "{screen}"
    );
    both("routing", &app);
    // rw routes to pg3 while pg1 leads (recorded after a restart moved the leader)
    let app = routing_app(now, "sandbox-legends.csv");
    let screen = draw(&app, 120, 40);
    assert!(
        screen.contains("✗ rw routes writes to pg3, not the leader pg1"),
        "{screen}"
    );
    both("routing_wrong", &app);
}

#[test]
fn connection_strings_through_haproxy() {
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    let mut app = routing_app(now, "sandbox.csv");
    press(&mut app, KeyCode::Char('d'));
    let screen = draw(&app, 120, 40);
    assert!(
        screen.contains("read-write through HAProxy 127.0.0.1:24032 (rw → pg1)"),
        "{screen}"
    );
    assert!(
        screen.contains("postgresql://127.0.0.1:24030/postgres"),
        "{screen}"
    );
    both("dsn_haproxy", &app);
}

/// The leader's REST API stops answering (a SIGKILL as the lock still counts down): the
/// Cluster pane says who Patroni would elect and who it would not, and why; the leader's
/// detail shows the same ranking while it is healthy.
#[test]
fn next_leader_while_the_leader_does_not_answer() {
    use ratatui::crossterm::event::KeyCode;
    // TL 2, pg2 leads; pg1 and pg3 at the leader's position, pg3 tagged nofailover
    let now = Instant::now();
    let mut app = live("pending", now);
    app.update(Msg::Drained(now));
    assert!(
        !draw(&app, 80, 24).contains("next leader"),
        "healthy: no line"
    );
    press(&mut app, KeyCode::Enter);
    let screen = draw(&app, 120, 40);
    assert!(screen.contains("Member pg2"), "{screen}");
    assert!(
        screen.contains("if pg2 failed now: pg1; pg3 excluded: nofailover"),
        "{screen}"
    );
    both("detail_leader_next", &app);
    press(&mut app, KeyCode::Esc);

    rest_err(
        &mut app,
        "pg2",
        "error sending request: connection refused",
        later(now, 2),
    );
    app.update(Msg::Drained(later(now, 2)));
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("next leader   pg1 (most advanced, 0 B behind); pg3 excluded:"),
        "{screen}"
    );
    both("next_leader", &app);
}

/// §4: a cell whose value just changed (pg3's API stops answering) is highlighted, fades,
/// and is drawn plainly again once faded; the monochrome theme (and NO_COLOR) reverses it.
#[test]
fn a_changed_cell_is_highlighted_then_fades() {
    use patrol::theme::Depth;
    let now = Instant::now();
    let mut app = live("lagging", now);
    rest_err(
        &mut app,
        "pg3",
        "error sending request: connection refused",
        later(now, 1),
    );
    // (the failure is the newest word from pg3: its API cell changes at once)
    app.update(Msg::Tick(later(now, 1)));
    assert_consistent(&app);
    let default = Theme::resolve(None, Depth::TrueColor).expect("default theme");
    let mono = Theme::resolve(Some("monochrome"), Depth::TrueColor).expect("monochrome");
    let fresh = draw_styled(&app, &default, 80, 24);
    insta::assert_snapshot!("changed_cell_fresh_80x24", fresh);
    insta::assert_snapshot!(
        "changed_cell_monochrome_80x24",
        draw_styled(&app, &mono, 80, 24)
    );
    // 2 s later: the second, fainter step
    app.update(Msg::Tick(later(now, 3)));
    let fading = draw_styled(&app, &default, 80, 24);
    assert_ne!(fading, fresh, "the highlight fades");
    insta::assert_snapshot!("changed_cell_fading_80x24", fading);
    // faded: drawn as if it had never changed (the style a table cell has without one)
    app.update(Msg::Tick(later(now, 6)));
    let done = draw_styled(&app, &default, 80, 24);
    // (the first two steps are a background no other style has; the third is coloured
    // text, like a warning)
    for s in &default.changed[..2] {
        let bg = format!("/{:?}/", s.bg.expect("a background"));
        assert!(!done.contains(&bg), "{bg} still drawn:\n{done}");
    }
    assert!(fresh.contains(&format!("/{:?}/", default.changed[0].bg.expect("bg"))));
}

/// §4: the event stream frozen (`F`) while a leader change comes in: the pane keeps what
/// it showed and its title counts the new events; the Events view the same; `F` again
/// shows them.
#[test]
fn frozen_events_pane_and_view_count_what_is_new() {
    use ratatui::crossterm::event::KeyCode;
    let now = Instant::now();
    let mut app = live("lagging", now);
    rest_err(
        &mut app,
        "pg3",
        "error sending request: connection refused",
        later(now, 1),
    );
    app.update(Msg::Tick(later(now, 1)));
    press(&mut app, KeyCode::Char('F'));
    let frozen_at = draw(&app, 80, 24);
    // pg3 answers again while frozen: the event is recorded, not shown
    for (m, s) in state("lagging").rest {
        rest_ok(&mut app, &m, s, later(now, 2));
    }
    app.update(Msg::Tick(later(now, 2)));
    app.update(Msg::Drained(later(now, 2)));
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("frozen ·"), "{screen}");
    assert!(!screen.contains("frozen · 0 new"), "{screen}");
    let pane = |s: &str| -> Vec<String> {
        s.lines()
            .skip_while(|l| !l.contains("Events ("))
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    assert_eq!(pane(&screen), pane(&frozen_at), "the pane's lines stay");
    both("events_frozen", &app);
    press(&mut app, KeyCode::Char('v'));
    both("events_view_frozen", &app);
    press(&mut app, KeyCode::Char('F'));
    let resumed = draw(&app, 120, 40);
    assert!(!resumed.contains("frozen"), "{resumed}");
    assert!(resumed.contains("pg3: REST API answers again"), "{resumed}");
}
