//! One judgement for the table, the detail, the dialog and the send key (issue 18 §1): the
//! same state gives the same answer everywhere, a change while the dialog is open is shown
//! before anything is refused or sent, and right after start the lag is "not yet known".

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::checks::Level;
use super::members::{LAG_WAITING, LagSource, ROWS_BUILT};
use super::sample::*;
use super::tests::{key, sends};
use super::{App, Effect, Msg, View};
use crate::dcs::DcsEvent;

const B: u64 = 0x5000_0000;

fn at(now: Instant, ms: u64) -> Instant {
    now + Duration::from_millis(ms)
}

fn key_at(a: &mut App, t: Instant, code: KeyCode) -> Vec<Effect> {
    a.update(Msg::Key(t, KeyEvent::new(code, KeyModifiers::NONE)))
}

/// The leader at `lsn`, answering at `t`.
fn leader(a: &mut App, lsn: u64, t: Instant) {
    let mut s = status("rest/patroni_leader.json");
    s.xlog.location = Some(lsn);
    rest_ok(a, "pg1", s, t);
}

/// A replica having received and replayed up to `lsn`, answering at `t`.
fn replica(a: &mut App, name: &str, lsn: u64, t: Instant) {
    let mut s = status("rest/patroni_replica.json");
    s.xlog.received_location = Some(lsn);
    s.xlog.replayed_location = Some(lsn);
    rest_ok(a, name, s, t);
}

fn draw(a: &App) -> String {
    let theme = crate::theme::Theme::load(None, false).expect("built-in theme");
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    t.draw(|f| crate::ui::render(f, a, &theme)).expect("draw");
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..40 {
        for x in 0..120 {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The table's line of `member` on the main view.
fn table_line(screen: &str, member: &str) -> String {
    let cell = format!(" {member} ");
    (screen.lines())
        .find(|l| l.contains(&cell) && l.contains("Replica"))
        .unwrap_or_else(|| panic!("no row of {member}:\n{screen}"))
        .to_string()
}

fn notice(a: &App) -> String {
    (a.session.dialog.as_ref())
        .and_then(|d| d.notice.clone())
        .unwrap_or_default()
}

/// The failing checks the dialog shows now (what it was drawn from).
fn failing_shown(a: &App) -> Vec<String> {
    let p = a
        .judgement
        .plan
        .as_ref()
        .expect("a dialog's plan is judged");
    (p.checks.iter())
        .filter(|c| c.level == Level::Fail)
        .map(|c| c.text.clone())
        .collect()
}

/// Table, detail, dialog and send key in one state, asked in that order: (the table's
/// line of pg2, the detail's failover line, the dialog's check of pg2, what `y` did).
/// The batch drained at `now`; keys from `t` on, a person's pace apart; leaves the dialog
/// closed and the cursor on the leader.
fn four_answers(a: &mut App, now: Instant, t: Instant) -> (String, String, String, String) {
    a.update(Msg::Drained(now));
    let table = table_line(&draw(a), "pg2");
    // the cursor onto pg2, its detail
    key_at(a, at(t, 0), KeyCode::Char('j'));
    key_at(a, at(t, 1000), KeyCode::Enter);
    assert_eq!(*a.screen.view(), View::Detail("pg2".into()));
    let detail = draw(a);
    let failover = (detail.lines())
        .find(|l| l.contains(" failover "))
        .unwrap_or_else(|| panic!("no failover line:\n{detail}"))
        .trim_matches(['│', ' '])
        .to_string();
    let (_, judged) = a.judgement.detail.clone().expect("the detail is judged");
    let judged = judged.expect("pg2 is a candidate");
    assert!(
        failover.ends_with(&judged.reasons.join(", ")),
        "{failover} / {judged:?}"
    );
    key_at(a, at(t, 2000), KeyCode::Esc);
    // the dialog, on pg2 (under the cursor), reviewed
    key_at(a, at(t, 3000), KeyCode::Char('s'));
    key_at(a, at(t, 4000), KeyCode::Enter);
    let p = a.judgement.plan.clone().expect("judged");
    let check = (p.checks.iter())
        .find(|c| c.text.starts_with("pg2 is"))
        .map(|c| format!("{:?} {}", c.level, c.text))
        .expect("a check of pg2");
    let screen = draw(a);
    let text = check.split_once(' ').map(|x| x.1).unwrap_or_default();
    assert!(screen.contains(text), "{text} is not on screen:\n{screen}");
    let eff = key_at(a, at(t, 5000), KeyCode::Char('y'));
    let answer = match sends(&eff).first() {
        Some(r) => format!("sent {}", r.display()),
        None => notice(a),
    };
    a.session.dialog = None;
    a.screen.selected = None;
    (table, failover, check, answer)
}

#[test]
fn right_after_start_table_detail_dialog_and_send_key_all_say_not_yet_known() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    // the defect's race: the leader answers first, the replicas just after it; no pair yet
    leader(&mut a, B, now);
    replica(&mut a, "pg2", B, at(now, 100));
    replica(&mut a, "pg3", B, at(now, 100));
    let (table, detail, check, answer) = four_answers(&mut a, at(now, 200), at(now, 10_000));
    assert!(table.contains('…'), "{table}");
    assert!(!table.contains("0 B"), "{table}");
    assert_eq!(
        detail,
        format!("failover            not a candidate: {LAG_WAITING}")
    );
    assert_eq!(check, format!("Fail pg2 is not eligible: {LAG_WAITING}"));
    assert_eq!(
        answer,
        format!("not sent: pg2 is not eligible: {LAG_WAITING}")
    );

    // the leader's next answer repeats its last one, and pairs with the replicas': the
    // figure is known now, and drawn (the repeat is not "nothing changed")
    a.dirty = false;
    leader(&mut a, B, at(now, 1000));
    assert!(a.dirty, "a pair formed and nothing was redrawn");
    let r = a.rows().into_iter().find(|r| r.name == "pg2").expect("pg2");
    assert_eq!((r.lag_source, r.replay_lag), (LagSource::Live, Some(0)));
    let (table, detail, check, answer) = four_answers(&mut a, at(now, 1100), at(now, 20_000));
    assert!(table.contains("0 B"), "{table}");
    assert_eq!(
        detail,
        "failover            eligible as switchover / failover candidate · if pg1 failed now: in a race with pg3"
    );
    assert_eq!(check, "Pass pg2 is eligible");
    assert!(
        answer.starts_with("sent POST http://127.0.0.1:24011/switchover"),
        "{answer}"
    );
    assert!(answer.contains(r#""candidate":"pg2""#), "{answer}");
}

#[test]
fn a_judgement_that_changes_while_the_dialog_is_open_is_shown_and_the_next_y_is_refused() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    key_at(&mut a, at(now, 2000), KeyCode::Char('j'));
    key_at(&mut a, at(now, 3000), KeyCode::Char('s'));
    key_at(&mut a, at(now, 4000), KeyCode::Enter);
    assert_eq!(failing_shown(&a), Vec::<String>::new());
    let shown = a.session.dialog.as_ref().and_then(|d| d.shown.clone());
    // pg2 falls 8 MiB behind (its answer, then the leader's that pairs with it)
    replica(&mut a, "pg2", 67108864 - 3 * 1024 * 1024, at(now, 4300));
    leader(&mut a, 67108864 + 5 * 1024 * 1024, at(now, 4310));
    a.dirty = false;
    a.update(Msg::Drained(at(now, 4310)));
    assert!(a.dirty, "the new checks are not drawn");
    let fail = "pg2 is not eligible: lag 8.0 MiB above maximum_lag_on_failover 1.0 MiB";
    assert_eq!(failing_shown(&a), vec![fail.to_string()]);
    assert!(draw(&a).contains(fail), "{}", draw(&a));
    assert!(
        notice(&a).starts_with("the checks changed: read them; y sends from"),
        "{}",
        notice(&a)
    );
    // a press within the second after the change is not an answer to it
    assert!(sends(&key_at(&mut a, at(now, 4700), KeyCode::Char('y'))).is_empty());
    assert!(notice(&a).contains("the checks changed"), "{}", notice(&a));
    // a deliberate press after reading: refused by the check on screen, in its words
    assert!(sends(&key_at(&mut a, at(now, 5400), KeyCode::Char('y'))).is_empty());
    assert_eq!(notice(&a), format!("not sent: {fail}"));
    assert!(a.session.ops.is_empty());

    // it catches up: shown at once, and sent only by a press after it was read
    replica(&mut a, "pg2", 67108864 + 5 * 1024 * 1024, at(now, 5500));
    leader(&mut a, 67108864 + 5 * 1024 * 1024, at(now, 5510));
    a.update(Msg::Drained(at(now, 5510)));
    assert_eq!(failing_shown(&a), Vec::<String>::new());
    assert!(draw(&a).contains("✓ pg2 is eligible"), "{}", draw(&a));
    assert!(sends(&key_at(&mut a, at(now, 5900), KeyCode::Char('y'))).is_empty());
    assert!(notice(&a).contains("the checks changed"), "{}", notice(&a));
    let eff = key_at(&mut a, at(now, 6600), KeyCode::Char('y'));
    assert_eq!(sends(&eff).first().cloned().cloned(), shown);
}

#[test]
fn a_send_in_the_same_batch_as_a_change_is_refused_and_shows_the_new_checks() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    key_at(&mut a, at(now, 2000), KeyCode::Char('j'));
    key_at(&mut a, at(now, 3000), KeyCode::Char('s'));
    key_at(&mut a, at(now, 4000), KeyCode::Enter);
    // pg2's API stops answering, and `y` comes in the same batch: no frame showed it
    leader(&mut a, 67108864 + 5 * 1024 * 1024, at(now, 4400));
    rest_err(&mut a, "pg2", "connection refused", at(now, 4500));
    let eff = key_at(&mut a, at(now, 4600), KeyCode::Char('y'));
    assert!(sends(&eff).is_empty());
    assert!(
        notice(&a).starts_with("the checks changed: read them"),
        "{}",
        notice(&a)
    );
    let fail = failing_shown(&a);
    assert_eq!(
        fail,
        vec!["pg2 is not eligible: REST API unreachable".to_string()]
    );
    let eff = key_at(&mut a, at(now, 5700), KeyCode::Char('y'));
    assert!(sends(&eff).is_empty());
    assert_eq!(notice(&a), format!("not sent: {}", fail[0]));
}

#[test]
fn the_dialog_preselects_the_candidate_under_the_cursor() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    // pg3 caught up: both replicas eligible, pg2 the first
    replica(&mut a, "pg3", 67108864 + 5 * 1024 * 1024, now);
    let candidate = |a: &App| a.session.dialog.as_ref().and_then(|d| d.candidate.clone());
    // the cursor on the leader: not a candidate, the first eligible one
    a.update(key('s'));
    assert_eq!(candidate(&a).as_deref(), Some("pg2"));
    a.update(Msg::Key(
        human(),
        KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
    ));
    // on pg3
    a.update(key('j'));
    a.update(key('j'));
    assert_eq!(a.screen.selected.as_deref(), Some("pg3"));
    a.update(key('s'));
    assert_eq!(candidate(&a).as_deref(), Some("pg3"));
    a.update(Msg::Key(
        human(),
        KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
    ));
    // a candidate that is not eligible is still the one under the cursor: its checks say why
    replica(&mut a, "pg3", 67108864 - 3 * 1024 * 1024, later(now, 1));
    leader(&mut a, 67108864 + 5 * 1024 * 1024, later(now, 1));
    a.update(key('f'));
    assert_eq!(candidate(&a).as_deref(), Some("pg3"));
}

/// A junk member key: a name and an API, nothing else.
fn junk(i: usize) -> crate::dcs::RawKv {
    let v = format!(
        r#"{{"conn_url":"postgres://10.2.0.{}:5432/postgres","api_url":"http://10.2.0.{}:8008/patroni","state":"running"}}"#,
        i % 250,
        i % 250
    );
    kv(&format!("members/junk{i:05}"), v.as_bytes())
}

#[test]
fn a_burst_is_judged_once_when_drained_not_per_message() {
    let now = Instant::now();
    let mut kvs = healthy_kvs();
    kvs.extend((0..300).map(junk));
    let mut a = app(kvs, now);
    key_at(&mut a, at(now, 2000), KeyCode::Char('s'));
    key_at(&mut a, at(now, 3000), KeyCode::Enter);
    let rows = || ROWS_BUILT.with(|c| c.get());
    // what one judgement costs with the dialog open (it plans over every member)
    let before = rows();
    a.update(Msg::Drained(at(now, 3100)));
    let one = rows() - before;
    assert!(one >= 300, "{one}");
    // 100 changes to one junk key, then the queue drains once
    let before = rows();
    for i in 0..100 {
        let v = format!(
            r#"{{"api_url":"http://10.2.0.9:8008/patroni","state":"running","xlog_location":{i}}}"#
        );
        let put = kv("members/junk00009", v.as_bytes());
        a.update(Msg::Dcs(at(now, 3200), DcsEvent::Put(put)));
    }
    a.update(Msg::Drained(at(now, 3200)));
    let burst = rows() - before;
    assert!(
        burst < 2 * one,
        "a burst of 100 cost {burst} rows, one judgement {one}"
    );
}
