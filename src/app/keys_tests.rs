//! Keys in every context, through `update`: what read-only refuses, what a rebinding
//! changes, and that every hint on screen names a key that does something there.

use std::collections::BTreeMap;
use std::time::Instant;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::config::patrol::KeysEntry;
use dialog::Options;
use keymap::Key;
use ops::{OpKind, RolloutStep};

use super::keymap::tests::flat;
use super::sample::*;
use super::tests::{key, press, sends};

fn log_line(member: &str, text: &str) -> Msg {
    Msg::Log(crate::logs::parse_line(
        member,
        &format!("2026-11-26 00:24:45,401 INFO: {text}"),
    ))
}

/// Every printable key and the named ones: what a person can press.
fn every_key() -> Vec<KeyEvent> {
    let mut keys: Vec<KeyEvent> = (b'!'..=b'~')
        .map(|c| KeyEvent::new(KeyCode::Char(c as char), KeyModifiers::NONE))
        .collect();
    for code in [
        KeyCode::Enter,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::Tab,
        KeyCode::Backspace,
        KeyCode::Char(' '),
    ] {
        keys.push(KeyEvent::new(code, KeyModifiers::NONE));
    }
    keys
}

#[test]
fn read_only_opens_every_view_and_refuses_exactly_the_writes() {
    let now = Instant::now();
    let mut a = healthy_live_with(
        |c| {
            c.read_only = true;
            c.logs = crate::logs::LogSourceSpec::parse("file:/tmp/{member}.log").ok();
        },
        now,
    );
    let views: [(Msg, View); 7] = [
        (press_msg(KeyCode::Enter), View::Detail("pg1".into())),
        (key('h'), View::History),
        (key('c'), View::Config),
        (key('e'), View::Etcd),
        (key('l'), View::Logs(Some("pg1".into()))),
        (key('A'), View::Logs(None)),
        (key('o'), View::OwnLog),
    ];
    for (k, v) in views {
        a.update(k);
        assert_eq!(*a.screen.view(), v, "read-only still shows {v:?}");
        assert!(a.screen.flash.is_none(), "{v:?}: {:?}", a.screen.flash);
        a.update(Msg::Key(
            human(),
            KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        ));
    }
    a.update(key('d'));
    assert_eq!(*a.screen.view(), View::Dsn(0));
    let eff = a.update(key('y'));
    assert!(matches!(eff.as_slice(), [Effect::Copy(_)]), "{eff:?}");
    a.update(Msg::Key(
        human(),
        KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
    ));
    let eff = a.update(key('E'));
    assert!(
        matches!(eff.as_slice(), [Effect::WriteFile { .. }]),
        "{eff:?}"
    );

    // in every context reachable in read-only mode, no key sends or opens a dialog
    for open in [None, Some('l'), Some('d'), Some('?'), Some('h'), Some('e')] {
        for ev in every_key() {
            let mut b = a.clone();
            b.screen.open(View::Main);
            if let Some(o) = open {
                b.update(key(o));
            }
            let eff = b.update(Msg::Key(human(), ev));
            assert_eq!(sends(&eff).len(), 0, "{ev:?} after {open:?}");
            assert!(
                b.session.dialog.is_none(),
                "{ev:?} after {open:?} opened a dialog"
            );
            if let Some(w) = b.keys.action(Context::Main, &ev).filter(|w| w.writes())
                && open.is_none()
            {
                assert!(
                    b.screen
                        .flash
                        .as_ref()
                        .is_some_and(|(m, _)| m.contains("read-only")),
                    "{w:?} is refused with the reason"
                );
            }
        }
    }
    // and the help lists the views but no write
    a.screen.open(View::Main);
    let help = a.help_rows();
    assert!(help.iter().any(|(_, d)| d.contains("timeline history")));
    assert!(help.iter().any(|(_, d)| d.contains("connection strings")));
    for w in Action::ALL.into_iter().filter(|a| a.writes()) {
        assert!(
            help.iter().all(|(_, d)| *d != w.describe(Context::Main)),
            "{w:?} hidden"
        );
    }
}

fn press_msg(code: KeyCode) -> Msg {
    Msg::Key(human(), KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn s_enter_enter_sends_nothing() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let mut eff = a.update(key('s'));
    eff.extend(press(&mut a, KeyCode::Enter));
    eff.extend(press(&mut a, KeyCode::Enter));
    eff.extend(press(&mut a, KeyCode::Enter));
    assert_eq!(sends(&eff).len(), 0);
    let notice = a.session.dialog.as_ref().and_then(|d| d.notice.clone());
    assert!(
        notice.as_deref().is_some_and(|n| n.contains("press y")),
        "{notice:?}"
    );
    assert_eq!(
        sends(&a.update(key('y'))).len(),
        1,
        "y is the key that sends"
    );
}

#[test]
fn rebound_switchover_works_in_main_and_never_in_the_log_view() {
    let now = Instant::now();
    let keys = KeymapSet::with_overrides(&flat(&[("switchover", &["S"])])).unwrap();
    let mut a = healthy_live_with(
        |c| {
            c.keys = keys;
            c.logs = crate::logs::LogSourceSpec::parse("file:/tmp/{member}.log").ok();
        },
        now,
    );
    a.update(key('s'));
    assert!(
        a.session.dialog.is_none(),
        "the default s no longer opens it"
    );
    a.update(key('S'));
    assert_eq!(
        a.session.dialog.as_ref().map(|d| d.kind),
        Some(OpKind::Switchover)
    );
    a.session.dialog = None;
    assert!(a.hints().contains(&("S".to_string(), "switchover")));
    a.update(key('l'));
    assert!(matches!(a.screen.view(), View::Logs(_)));
    a.update(key('S'));
    assert!(a.session.dialog.is_none(), "no operation from the log view");
    assert!(a.hints().iter().all(|(_, w)| *w != "switchover"));
}

/// Every action of every context, rebound in that context's own table to a key no context
/// uses: the new key does it, the old one no longer does.
#[test]
fn a_rebound_key_works_in_every_context_and_the_default_no_longer_does() {
    let free = Key::parse("ctrl-z").unwrap();
    for ctx in Context::ALL {
        for a in ctx.actions() {
            let mut o = BTreeMap::new();
            o.insert(
                ctx.name().to_string(),
                KeysEntry::Context(BTreeMap::from([(a.name(), vec!["ctrl-z".to_string()])])),
            );
            let k = KeymapSet::with_overrides(&o).unwrap_or_else(|e| panic!("{ctx:?} {a:?}: {e}"));
            let ev = KeyEvent::new(free.code, KeyModifiers::CONTROL);
            assert_eq!(k.action(ctx, &ev), Some(a), "{ctx:?} {a:?}");
            for old in KeymapSet::default().keys_for(ctx, a) {
                let m = if old.ctrl {
                    KeyModifiers::CONTROL
                } else {
                    KeyModifiers::NONE
                };
                assert_ne!(
                    k.action(ctx, &KeyEvent::new(old.code, m)),
                    Some(a),
                    "{ctx:?} {a:?}: {old} still does it"
                );
            }
        }
    }
}

#[test]
fn a_rebound_send_key_sends_and_the_prompt_names_it() {
    let now = Instant::now();
    let mut o = BTreeMap::new();
    o.insert(
        "confirm".to_string(),
        KeysEntry::Context(BTreeMap::from([(
            "send".to_string(),
            vec!["Y".to_string()],
        )])),
    );
    let keys = KeymapSet::with_overrides(&o).unwrap();
    let mut a = healthy_live_with(|c| c.keys = keys, now);
    a.update(key('s'));
    press(&mut a, KeyCode::Enter);
    assert_eq!(sends(&a.update(key('y'))).len(), 0, "y no longer sends");
    assert!(a.hints().contains(&("Y".to_string(), "send once")));
    press(&mut a, KeyCode::Enter);
    let notice = a.session.dialog.as_ref().and_then(|d| d.notice.clone());
    assert!(notice.is_some_and(|n| n.contains("press Y")));
    assert_eq!(sends(&a.update(key('Y'))).len(), 1);
}

fn pending(mut s: crate::patroni::PatroniStatus) -> crate::patroni::PatroniStatus {
    s.pending_restart = true;
    s
}

#[test]
fn the_rolling_restart_toggle_changes_the_plan() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut a, "pg1", pending(leader), now);
    rest_ok(&mut a, "pg2", pending(replica_behind(0)), now);
    a.update(key('R'));
    let steps = |a: &App| a.model.plan(a.session.dialog.as_ref().unwrap()).steps;
    assert!(steps(&a).contains(&RolloutStep::SwitchoverFrom("pg1".into())));
    assert!(a.hints().contains(&("s".to_string(), "switch over first")));
    a.update(key('s'));
    assert!(matches!(
        a.session.dialog.as_ref().map(|d| &d.options),
        Some(Options::Rolling {
            switch_first: false
        })
    ));
    assert_eq!(
        steps(&a),
        vec![
            RolloutStep::Restart("pg2".into()),
            RolloutStep::Restart("pg1".into())
        ],
        "no switchover first: the leader restarts in place"
    );
    a.update(key('s'));
    assert!(steps(&a).contains(&RolloutStep::SwitchoverFrom("pg1".into())));
}

#[test]
fn a_paused_log_view_does_not_move() {
    let now = Instant::now();
    let mut a = healthy_live_with(
        |c| c.logs = crate::logs::LogSourceSpec::parse("file:/tmp/{member}.log").ok(),
        now,
    );
    for i in 0..5 {
        a.update(log_line("pg1", &format!("line {i}")));
    }
    a.update(key('l'));
    a.update(key('f'));
    assert!(!a.screen.log_view.follow);
    a.update(key('k'));
    assert_eq!(a.screen.log_view.scroll, 1);
    a.update(log_line("pg1", "new 1"));
    a.update(log_line("pg2", "another member's"));
    a.update(log_line("pg1", "new 2"));
    assert_eq!(
        a.screen.log_view.scroll, 3,
        "two new lines of this view: the window stays on the same lines"
    );
    // following again jumps to the newest and moves with it
    a.update(key('f'));
    assert_eq!(a.screen.log_view.scroll, 0);
    a.update(log_line("pg1", "new 3"));
    assert_eq!(a.screen.log_view.scroll, 0);
}

#[test]
fn help_scrolls_and_stays_within_its_lines() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(key('?'));
    assert_eq!(a.context(), Context::Help);
    let n = a.help_len();
    for _ in 0..n + 10 {
        a.update(key('j'));
    }
    assert_eq!(a.screen.help_scroll, n - 1, "bounded by its lines");
    a.update(key('g'));
    assert_eq!(a.screen.help_scroll, 0);
    // j scrolls the help, not the member selection
    let sel = a.screen.selected.clone();
    a.update(key('j'));
    assert_eq!(a.screen.selected, sel);
    press(&mut a, KeyCode::Esc);
    assert!(!a.screen.show_help);
    assert_eq!(a.context(), Context::Main);
}

/// The state a key press can change, to tell "did something" from "nothing happened".
fn visible(a: &App) -> String {
    format!(
        "{:?} {:?} {:?} {:?}",
        a.screen, a.session.dialog, a.quit, a.session.ops
    )
}

/// Apps in every context, each in a state where moving is possible both ways.
fn in_every_context(read_only: bool) -> Vec<(String, App)> {
    let now = Instant::now();
    let mut base = healthy_live_with(
        |c| {
            c.read_only = read_only;
            c.logs = crate::logs::LogSourceSpec::parse("file:/tmp/{member}.log").ok();
        },
        now,
    );
    for i in 0..30 {
        base.update(log_line("pg2", &format!("line {i}")));
    }
    base.screen.selected = Some("pg2".into());
    let mut out = vec![("main".to_string(), base.clone())];
    let mut with = |name: &str, keys: &[Msg]| {
        let mut a = base.clone();
        for k in keys {
            a.update(k.clone());
        }
        out.push((name.to_string(), a));
    };
    with("detail", &[press_msg(KeyCode::Enter)]);
    with("logs", &[key('l'), key('k'), key('k')]);
    with("log filter", &[key('l'), key('/'), key('x')]);
    with("dsn", &[key('d'), key('j')]);
    with("help", &[key('?'), key('j')]);
    if !read_only {
        with("switchover options", &[key('s')]);
        with("switchover confirm", &[key('s'), press_msg(KeyCode::Enter)]);
        with("restart options", &[key('r')]);
        with("restart field", &[key('r'), key('t'), key('1')]);
        with("reinit options", &[key('I')]);
        with("reinit typed", &[key('I'), press_msg(KeyCode::Enter)]);
        with("failover typed", &[key('f'), press_msg(KeyCode::Enter)]);
        with("pause confirm", &[key('p')]);
    }
    let mut r = base.clone();
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut r, "pg1", pending(leader), now);
    rest_ok(&mut r, "pg2", pending(replica_behind(0)), now);
    if !read_only {
        r.update(key('R'));
        out.push(("rolling restart options".into(), r));
    }
    // the leader's API down: the DCS fallback is offered
    let mut d = base.clone();
    rest_err(&mut d, "pg1", "connection refused", now);
    d.update(Msg::Tick(later(now, 30)));
    if !read_only {
        d.update(key('s'));
        press(&mut d, KeyCode::Enter);
        out.push(("switchover confirm, leader API down".into(), d));
    }
    out
}

/// Table-driven over every action in every context: its hint is on screen exactly when
/// pressing its key does something there. (A hint for a key nobody handles, like the
/// rolling restart's old `(s)`, fails here; so does a working key the bar hides.)
#[test]
fn every_hint_names_a_key_that_works_and_every_working_key_with_a_word_is_hinted() {
    for read_only in [false, true] {
        for (name, a) in in_every_context(read_only) {
            let ctx = a.context();
            let hints = a.hints();
            for action in Action::ALL {
                let Some(word) = action.hint(ctx) else {
                    continue;
                };
                let Some(k) = a.keys.keys_for(ctx, action).into_iter().next() else {
                    continue;
                };
                let mods = if k.ctrl {
                    KeyModifiers::CONTROL
                } else {
                    KeyModifiers::NONE
                };
                let mut b = a.clone();
                let eff = b.update(Msg::Key(human(), KeyEvent::new(k.code, mods)));
                let refused = b
                    .screen
                    .flash
                    .as_ref()
                    .is_some_and(|(m, _)| m.contains("read-only"));
                let did = !refused && (!eff.is_empty() || visible(&b) != visible(&a));
                let hinted = hints.iter().any(|(_, w)| *w == word);
                assert_eq!(
                    hinted, did,
                    "{name} ({ctx:?}, read-only {read_only}): {action:?} ({k}) hinted {hinted}, does something {did}"
                );
            }
        }
    }
}

// ------------------------------------------- keys faster than a person, pastes, small screens

/// A key at exactly `at` (the gate tests give their own times).
fn key_at(a: &mut App, at: Instant, code: KeyCode) -> Vec<Effect> {
    a.update(Msg::Key(at, KeyEvent::new(code, KeyModifiers::NONE)))
}

fn notice(a: &App) -> String {
    a.session
        .dialog
        .as_ref()
        .and_then(|d| d.notice.clone())
        .unwrap_or_default()
}

fn ms(n: u64) -> std::time::Duration {
    std::time::Duration::from_millis(n)
}

#[test]
fn a_paste_never_opens_advances_or_sends() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let t = human();
    // in the main view: `s`, a line break and `y` pasted are not keys
    let mut eff = a.update(Msg::Paste(t, "s\ry\n".into()));
    assert!(a.session.dialog.is_none(), "a paste opened a dialog");
    let flash = a.screen.flash.clone().map(|(m, _)| m).unwrap_or_default();
    assert!(flash.contains("pasted text ignored"), "{flash}");
    // in the options step: the pasted Enter does not review
    eff.extend(key_at(&mut a, t + ms(1000), KeyCode::Char('s')));
    eff.extend(a.update(Msg::Paste(t + ms(2000), "\ry".into())));
    let d = a.session.dialog.as_ref().expect("the dialog stays");
    assert_eq!(d.step, dialog::Step::Options, "a paste advanced the dialog");
    // in the review: a pasted y does not send
    eff.extend(key_at(&mut a, t + ms(3000), KeyCode::Enter));
    eff.extend(a.update(Msg::Paste(t + ms(4000), "y".into())));
    assert!(sends(&eff).is_empty(), "{eff:?}");
    assert!(notice(&a).contains("pasted text ignored"), "{}", notice(&a));
    assert!(a.session.ops.is_empty());
    // the key itself, pressed by a person, still sends
    let eff = key_at(&mut a, t + ms(5000), KeyCode::Char('y'));
    assert_eq!(sends(&eff).len(), 1);
}

#[test]
fn a_paste_into_a_typed_confirmation_is_refused() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let t = human();
    key_at(&mut a, t, KeyCode::Char('f'));
    key_at(&mut a, t + ms(1000), KeyCode::Enter);
    assert_eq!(a.context(), Context::Typed);
    let mut eff = a.update(Msg::Paste(t + ms(2000), "demo".into()));
    let d = a.session.dialog.as_ref().expect("dialog");
    assert_eq!(d.typed, "", "the paste typed the name");
    assert!(!d.armed);
    assert!(
        notice(&a).contains("a paste is not typing"),
        "{}",
        notice(&a)
    );
    eff.extend(key_at(&mut a, t + ms(3000), KeyCode::Enter));
    assert!(sends(&eff).is_empty(), "{eff:?}");
    // a pasted name with its Enter is refused just the same
    eff.extend(a.update(Msg::Paste(t + ms(4000), "demo\r".into())));
    assert!(sends(&eff).is_empty());
    assert_eq!(
        a.session.dialog.as_ref().map(|d| d.typed.as_str()),
        Some("")
    );
    // typed by hand it sends
    for (i, c) in "demo".chars().enumerate() {
        key_at(&mut a, t + ms(5000 + 300 * i as u64), KeyCode::Char(c));
    }
    let eff = key_at(&mut a, t + ms(7000), KeyCode::Enter);
    assert_eq!(sends(&eff).len(), 1, "{}", notice(&a));
}

#[test]
fn a_paste_is_text_in_a_text_field_and_nowhere_else() {
    let now = Instant::now();
    let mut a = healthy_live_with(
        |c| c.logs = crate::logs::LogSourceSpec::parse("file:/tmp/{member}.log").ok(),
        now,
    );
    // the schedule field: the text goes in, the line break is not Enter (still editing)
    a.update(key('s'));
    a.update(key('t'));
    assert_eq!(a.context(), Context::Field);
    a.update(Msg::Paste(human(), "2026-11-26T02:00+00:00\ny".into()));
    let d = a.session.dialog.as_ref().expect("dialog");
    assert_eq!(d.options.schedule(), "2026-11-26T02:00+00:00y");
    assert_eq!(
        a.context(),
        Context::Field,
        "the pasted newline ended editing"
    );
    a.session.dialog = None;
    // the log filter
    a.update(key('l'));
    a.update(key('/'));
    assert_eq!(a.context(), Context::LogFilter);
    a.update(Msg::Paste(human(), "ERROR\r".into()));
    assert_eq!(a.screen.log_view.filter, "ERROR");
    assert_eq!(a.context(), Context::LogFilter);
}

#[test]
fn a_send_key_in_a_burst_is_refused_and_a_later_one_sends() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let t = human();
    // `s` Enter `y` in one read, as a paste without bracketed paste or tmux send-keys
    let mut eff = key_at(&mut a, t, KeyCode::Char('s'));
    eff.extend(key_at(&mut a, t, KeyCode::Enter));
    eff.extend(key_at(&mut a, t, KeyCode::Char('y')));
    assert!(sends(&eff).is_empty(), "a burst sent: {eff:?}");
    let n = notice(&a);
    assert!(n.contains("y came 0 ms after the key before it"), "{n}");
    assert!(n.contains("nothing sent"), "{n}");
    // held down, y repeats every 33 ms: none of its repeats sends
    for i in 1..=40 {
        let eff = key_at(&mut a, t + ms(33 * i), KeyCode::Char('y'));
        assert!(sends(&eff).is_empty(), "repeat {i} sent");
    }
    // just inside the window (199 ms after the key before), then past it
    let last = t + ms(33 * 40);
    assert!(sends(&key_at(&mut a, last + ms(199), KeyCode::Char('y'))).is_empty());
    let eff = key_at(&mut a, last + ms(199 + 250), KeyCode::Char('y'));
    assert_eq!(sends(&eff).len(), 1, "{}", notice(&a));
}

#[test]
fn a_send_key_right_behind_the_key_that_opened_the_review_is_refused() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let t = human();
    key_at(&mut a, t, KeyCode::Char('s'));
    key_at(&mut a, t + ms(1000), KeyCode::Enter);
    // 150 ms after the Enter that showed the request: faster than anyone reads it
    assert!(sends(&key_at(&mut a, t + ms(1150), KeyCode::Char('y'))).is_empty());
    // the typed confirmation: a name typed in a burst does not send either
    let mut b = healthy_live(now);
    key_at(&mut b, t, KeyCode::Char('f'));
    key_at(&mut b, t + ms(1000), KeyCode::Enter);
    for c in "demo".chars() {
        key_at(&mut b, t + ms(2000), KeyCode::Char(c));
    }
    assert!(sends(&key_at(&mut b, t + ms(2000), KeyCode::Enter)).is_empty());
    assert!(
        notice(&b).contains("ms after the key before it"),
        "{}",
        notice(&b)
    );
    assert_eq!(
        sends(&key_at(&mut b, t + ms(2500), KeyCode::Enter)).len(),
        1
    );
}

/// pg1's API moved: the switchover request (sent to the leader's API) is another one.
fn leader_api_moved(a: &mut App, at: Instant) {
    let v = String::from_utf8_lossy(&fixture("etcd/member_leader.json"))
        .replace("127.0.0.1:24011", "127.0.0.1:24099");
    a.update(Msg::Dcs(at, DcsEvent::Put(kv("members/pg1", v.as_bytes()))));
}

#[test]
fn a_changed_request_is_shown_at_once_and_a_double_y_does_not_send_it() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let t = human();
    key_at(&mut a, t, KeyCode::Char('s'));
    key_at(&mut a, t + ms(1000), KeyCode::Enter);
    let before = a.session.dialog.as_ref().and_then(|d| d.shown.clone());
    // the cluster changes while the review is open (no key pressed); the runtime judges
    // once the batch is applied, before the next frame
    leader_api_moved(&mut a, now);
    a.update(Msg::Drained(now));
    let d = a.session.dialog.as_ref().expect("dialog");
    let after = d.shown.clone().expect("a request");
    assert_ne!(
        Some(after.clone()),
        before,
        "the review shows the new request"
    );
    assert!(after.display().contains("24099"), "{}", after.display());
    let n = notice(&a);
    assert!(
        n.starts_with("the request changed: read it; y sends from"),
        "{n}"
    );
    assert!(n.contains("(in 1 s)"), "{n}");
    // the change is stamped with the latest time known (the Enter, 1000 ms): a double tap
    // 300 ms and 500 ms later sends nothing
    assert!(sends(&key_at(&mut a, t + ms(1300), KeyCode::Char('y'))).is_empty());
    assert!(sends(&key_at(&mut a, t + ms(1800), KeyCode::Char('y'))).is_empty());
    assert!(notice(&a).contains("the request changed"), "{}", notice(&a));
    // a deliberate press past the second sends exactly the new request
    let eff = key_at(&mut a, t + ms(2100), KeyCode::Char('y'));
    assert_eq!(sends(&eff), vec![&after], "{}", notice(&a));
}

#[test]
fn a_changed_request_found_by_the_send_key_waits_a_second_too() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let t = human();
    key_at(&mut a, t, KeyCode::Char('s'));
    key_at(&mut a, t + ms(1000), KeyCode::Enter);
    // the request shown is made stale behind the review's back (as if the change and
    // the key came in one batch): the send key finds it, refuses, shows the new one
    if let Some(d) = a.session.dialog.as_mut()
        && let Some(r) = d.shown.as_mut()
    {
        r.body = Some(serde_json::json!({"leader": "pg1", "candidate": "pg3"}));
    }
    let y1 = t + ms(2000);
    assert!(sends(&key_at(&mut a, y1, KeyCode::Char('y'))).is_empty());
    assert!(notice(&a).contains("the request changed"), "{}", notice(&a));
    let shown = a.session.dialog.as_ref().and_then(|d| d.shown.clone());
    assert!(sends(&key_at(&mut a, y1 + ms(400), KeyCode::Char('y'))).is_empty());
    let eff = key_at(&mut a, y1 + ms(1100), KeyCode::Char('y'));
    assert_eq!(sends(&eff).first().cloned().cloned(), shown);
}

#[test]
fn on_a_small_terminal_y_sends_only_once_the_review_fits() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    a.update(Msg::Resize(50, 12));
    a.update(key('s'));
    press(&mut a, KeyCode::Enter);
    assert!(!a.review_fits(), "the review fits 50x12?");
    let eff = a.update(key('y'));
    assert!(sends(&eff).is_empty(), "sent a request not on screen");
    assert!(notice(&a).contains("enlarge the window"), "{}", notice(&a));
    // the same dialog on a terminal it fits
    a.update(Msg::Resize(80, 24));
    assert!(a.review_fits());
    assert_eq!(sends(&a.update(key('y'))).len(), 1, "{}", notice(&a));
    // below the full layout no dialog is drawn at all
    let mut b = healthy_live(now);
    b.update(Msg::Resize(30, 6));
    b.update(key('p'));
    assert!(sends(&b.update(key('y'))).is_empty());
}
