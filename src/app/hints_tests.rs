//! What the status bar, the hints and a scheduled time say: read-only refusals as
//! sentences, a key bound to nothing, the time a schedule resolves to and its countdown.

use std::time::{Duration, Instant, UNIX_EPOCH};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, ModifierKeyCode};
use unicode_width::UnicodeWidthStr;

use super::sample::*;
use super::tests::{key, press, sends};
use super::*;

fn flash(a: &App) -> Option<&str> {
    a.screen.flash.as_ref().map(|(m, _)| m.as_str())
}

fn ev(code: KeyCode, m: KeyModifiers) -> Msg {
    Msg::Key(human(), KeyEvent::new(code, m))
}

/// The whole screen as text.
fn draw(a: &App, w: u16, h: u16) -> String {
    let theme = crate::theme::Theme::load(None, false).expect("built-in theme");
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("tb");
    t.draw(|f| crate::ui::render(f, a, &theme)).expect("draw");
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// Wall clock 2026-11-26 00:25:00 UTC at `now`, in a zone one hour east of UTC.
fn pin_clock(a: &mut App, now: Instant) {
    a.model.wall0 = Some(UNIX_EPOCH + Duration::from_secs(1_795_652_700));
    a.model.started_at_for_tests(now);
    a.model.tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(1));
}

#[test]
fn read_only_refusals_are_sentences_naming_the_action() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.read_only = true;
    for (k, what) in [
        ('s', "switchover"),
        ('f', "failover"),
        ('r', "restart"),
        ('R', "rolling restart"),
        ('L', "reload"),
        ('I', "reinit"),
        ('p', "pause"),
        ('x', "flush"),
    ] {
        a.update(key(k));
        let want = format!("read-only: {what} not sent (patrol was started read-only)");
        assert_eq!(flash(&a), Some(want.as_str()), "{k}");
        assert!(
            want.width() <= 78,
            "fits 80 columns with the bar's margins: {want}"
        );
        assert!(a.session.dialog.is_none());
    }
    // the toggle names what it would have done
    a.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv("config", b"{\"pause\": true}")),
    ));
    a.update(key('p'));
    assert_eq!(
        flash(&a),
        Some("read-only: resume not sent (patrol was started read-only)")
    );
    // every write has its own words (a new one without them would say "request")
    for w in keymap::Action::ALL
        .into_iter()
        .filter(|x| x.writes() && *x != keymap::Action::Send)
    {
        let s = input::read_only_refusal(w, false);
        assert!(!s.contains("request"), "{w:?}: {s}");
        assert!(s.width() <= 78, "{s}");
    }
}

#[test]
fn a_key_bound_to_nothing_says_so_where_it_was_pressed() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('z'));
    assert_eq!(flash(&a), Some("z is not bound here; ? for help"));
    a.update(ev(KeyCode::Char(':'), KeyModifiers::NONE));
    assert_eq!(flash(&a), Some(": is not bound here; ? for help"));
    a.update(ev(KeyCode::Char('z'), KeyModifiers::CONTROL));
    assert_eq!(flash(&a), Some("ctrl-z is not bound here; ? for help"));
    a.update(ev(KeyCode::F(5), KeyModifiers::NONE));
    assert_eq!(flash(&a), Some("F5 is not bound here; ? for help"));
    // any character: one that would reorder, hide or control the terminal is named, not drawn
    for (c, name) in [
        ('\u{202e}', "U+202E"),
        ('\u{1b}', "U+001B"),
        ('\u{200b}', "U+200B"),
        ('\u{0301}', "U+0301"),
        ('\u{a0}', "U+00A0"),
    ] {
        a.update(ev(KeyCode::Char(c), KeyModifiers::NONE));
        assert_eq!(
            flash(&a),
            Some(format!("{name} is not bound here; ? for help").as_str())
        );
    }
    a.update(ev(KeyCode::Char('é'), KeyModifiers::NONE));
    assert_eq!(flash(&a), Some("é is not bound here; ? for help"));
    // a modifier alone, a lock key: nothing to say (and the last message is gone)
    for code in [
        KeyCode::Modifier(ModifierKeyCode::LeftShift),
        KeyCode::Modifier(ModifierKeyCode::RightControl),
        KeyCode::CapsLock,
    ] {
        a.update(ev(code, KeyModifiers::SHIFT));
        assert_eq!(flash(&a), None, "{code:?}");
    }
    // a paste is not a key
    a.update(Msg::Paste(human(), "zzz".into()));
    assert!(flash(&a).is_some_and(|m| m.starts_with("pasted text ignored")));
    // the help key as rebound is the one named; in the help itself, no "? for help"
    press(&mut a, KeyCode::Char('?'));
    a.update(key('z'));
    assert_eq!(flash(&a), Some("z is not bound here"));
    press(&mut a, KeyCode::Esc);
    // a bound key says nothing
    a.update(key('j'));
    assert_eq!(flash(&a), None);
}

#[test]
fn not_bound_in_a_dialog_keeps_the_dialog_and_text_stays_text() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('s'));
    a.update(key('z'));
    assert_eq!(flash(&a), Some("z is not bound here"));
    assert!(a.session.dialog.is_some(), "still open");
    // in the time field every character is text
    a.update(key('t'));
    a.update(key('z'));
    assert_eq!(flash(&a), None);
    assert_eq!(
        a.session.dialog.as_ref().map(|d| d.options.schedule()),
        Some("z")
    );
    // in the log filter too
    let mut b = healthy_live_with(
        |c| c.logs = crate::logs::LogSourceSpec::parse("file:/tmp/{member}.log").ok(),
        now,
    );
    b.update(key('l'));
    b.update(key('/'));
    b.update(key('z'));
    assert_eq!(flash(&b), None);
    assert_eq!(b.screen.log_view.filter, "z");
}

#[test]
fn without_a_log_source_the_log_view_explains_in_full_at_80x24() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    assert!(a.hints().iter().all(|(_, w)| *w != "logs"));
    a.update(key('l'));
    let screen = draw(&a, 80, 24);
    for l in crate::ui::NO_LOG_SOURCE {
        assert!(screen.contains(l), "{l:?} whole on screen:\n{screen}");
    }
    assert!(flash(&a).is_none());
    // with a source, `l logs` is hinted again
    let b = healthy_live_with(
        |c| c.logs = crate::logs::LogSourceSpec::parse("file:/tmp/{member}.log").ok(),
        now,
    );
    assert!(b.hints().iter().any(|(_, w)| *w == "logs"));
}

#[test]
fn a_relative_time_is_fixed_when_typed_and_sent_as_shown() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    pin_clock(&mut a, now);
    a.update(key('s'));
    a.update(key('t'));
    for c in "+15m".chars() {
        a.update(key(c));
    }
    press(&mut a, KeyCode::Enter); // done editing: resolved once, here
    assert_eq!(
        a.session.dialog.as_ref().map(|d| d.options.schedule()),
        Some("2026-11-26T01:40:00+01:00")
    );
    press(&mut a, KeyCode::Enter); // review
    let screen = draw(&a, 80, 24);
    assert!(
        screen.contains("at 2026-11-26 01:40:00 +01:00 (in 15m)"),
        "{screen}"
    );
    let shown = a
        .session
        .dialog
        .as_ref()
        .and_then(|d| d.shown.clone())
        .expect("request shown");
    // a second later the review still shows, and sends, the same time
    a.update(Msg::Tick(later(now, 1)));
    let eff = a.update(key('y'));
    let s = sends(&eff);
    assert_eq!(s.len(), 1, "{:?}", a.session.dialog);
    assert_eq!(*s[0], shown);
    assert_eq!(
        s[0].body.as_ref().map(|b| b["scheduled_at"].clone()),
        Some(serde_json::json!("2026-11-26T01:40:00+01:00"))
    );
}

#[test]
fn a_past_or_garbage_time_is_a_failed_check_and_nothing_is_sent() {
    let now = Instant::now();
    for text in ["2026-11-26T00:20:00+00:00", "+15", "+45d"] {
        let mut a = healthy_live(now);
        pin_clock(&mut a, now);
        a.update(key('s'));
        a.update(key('t'));
        for c in text.chars() {
            a.update(key(c));
        }
        press(&mut a, KeyCode::Enter);
        press(&mut a, KeyCode::Enter);
        assert!(sends(&a.update(key('y'))).is_empty(), "{text}");
    }
}

#[test]
fn a_scheduled_switchover_counts_down_in_the_header() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    pin_clock(&mut a, now);
    a.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv(
            "failover",
            br#"{"leader": "pg1", "member": "pg2", "scheduled_at": "2026-11-26T00:39:00+00:00"}"#,
        )),
    ));
    let screen = draw(&a, 120, 40);
    assert!(
        screen.contains("switchover pg1→pg2 in 14m, at 2026-11-26 01:39:00 +01:00"),
        "{screen}"
    );
    // the countdown moves with the clock
    a.dirty = false;
    a.update(Msg::Tick(later(now, 60)));
    assert!(a.dirty, "a countdown on screen redraws");
    assert!(draw(&a, 120, 40).contains("switchover pg1→pg2 in 13m"));
    // text that is not a time is shown as it is, sanitized
    a.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv(
            "failover",
            b"{\"member\": \"pg2\", \"scheduled_at\": \"soon\\u001b[2J\"}",
        )),
    ));
    let screen = draw(&a, 120, 40);
    assert!(screen.contains("switchover to pg2 at soon?[2J"), "{screen}");
}
