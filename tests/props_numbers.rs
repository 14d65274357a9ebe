//! Hostile numbers from etcd and REST (u64::MAX LSNs, huge or zero timelines, TTLs, leases,
//! lags, timestamps far away or unparsable) go through `update` and every view and dialog,
//! at every size, without a panic. Tests build in debug, so an overflow panics here.

use std::time::{Duration, Instant, SystemTime};

use patrol::app::{App, AppConfig, Msg};
use patrol::dcs::info::{EndpointInfo, EndpointStatus, InfoEvent};
use patrol::dcs::{DcsEvent, RawKv};
use patrol::patroni::PatroniStatus;
use patrol::theme::Theme;
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::{Value, json};

fn kv(rel: &str, value: String) -> RawKv {
    RawKv {
        key: format!("/service/demo/{rel}"),
        value: value.into_bytes(),
        lease: 0,
    }
}

/// A number as etcd or REST may hold it: the edges of u64 and i64, small ones, floats.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(1)),
        Just(json!(u64::MAX)),
        Just(json!(u64::MAX - 1)),
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(-1)),
        Just(json!(1e300)),
        Just(json!(-1e300)),
        Just(json!(0.5)),
        Just(json!("18446744073709551615")),
        Just(json!("nope")),
        any::<u64>().prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        (0u64..1 << 40).prop_map(|n| json!(n)),
    ]
}

/// A timestamp: far past, far future, unparsable, or now-ish.
fn timestamp() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("0001-01-01T00:00:00+00:00")),
        Just(json!("9999-12-31T23:59:59.999999+00:00")),
        Just(json!("2026-11-25 23:52:28.056812+00:00")),
        Just(json!("1970-01-01T00:00:00Z")),
        Just(json!("2026-13-45T99:99:99+99:99")),
        Just(json!("")),
        Just(json!("garbage")),
        Just(json!(u64::MAX)),
        Just(Value::Null),
    ]
}

fn member(n: Value, tl: Value, role: &'static str, ts: Value) -> String {
    json!({
        "conn_url": "postgres://127.0.0.1:5432/postgres",
        "api_url": "http://127.0.0.1:1/patroni",
        "state": if role == "primary" { "running" } else { "streaming" },
        "role": role,
        "version": "4.1.5",
        "xlog_location": n,
        "replay_lsn": n,
        "receive_lsn": n,
        "replication_state": "streaming",
        "timeline": tl,
        "scheduled_restart": {"schedule": ts},
    })
    .to_string()
}

fn rest(lsn: Value, lsn2: Value, tl: Value, ts: Value, seen: Value, primary: bool) -> Msg {
    let body = json!({
        "state": if primary { "running" } else { "streaming" },
        "role": if primary { "primary" } else { "replica" },
        "server_version": lsn2,
        "timeline": tl,
        "postmaster_start_time": ts,
        "xlog": {"location": lsn, "received_location": lsn2, "replayed_location": lsn,
                 "replayed_timestamp": ts},
        "replication": [{"application_name": "pg2", "state": "streaming", "sync_state": "async"}],
        "dcs_last_seen": seen,
        "patroni": {"version": "4.1.5", "scope": "demo"},
    });
    let result = PatroniStatus::parse(body.to_string().as_bytes()).map(Box::new);
    Msg::Rest {
        member: if primary { "pg1" } else { "pg2" }.into(),
        at: Instant::now(),
        result,
    }
}

#[derive(Debug, Clone)]
struct Hostile {
    nums: Vec<Value>,
    tss: Vec<Value>,
    ttl: i64,
    granted: i64,
    db_size: i64,
    tick: u64,
    /// A member whose name and tag are wider than a u16 of cells.
    huge_name: bool,
}

fn hostile() -> impl Strategy<Value = Hostile> {
    (
        prop::collection::vec(number(), 12),
        prop::collection::vec(timestamp(), 4),
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MAX),
            Just(-1i64),
            Just(0),
            any::<i64>()
        ],
        prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0i64), any::<i64>()],
        prop_oneof![Just(i64::MIN), Just(i64::MAX), any::<i64>()],
        prop_oneof![Just(0u64), Just(1), Just(3600 * 24 * 365 * 100)],
        prop::bool::weighted(0.05),
    )
        .prop_map(
            |(nums, tss, ttl, granted, db_size, tick, huge_name)| Hostile {
                nums,
                tss,
                ttl,
                granted,
                db_size,
                tick,
                huge_name,
            },
        )
}

fn feed(h: &Hostile) -> App {
    let now = Instant::now();
    let n = |i: usize| h.nums[i % h.nums.len()].clone();
    let t = |i: usize| h.tss[i % h.tss.len()].clone();
    let mut app = App::new(
        AppConfig::new("demo", "/service/", vec!["http://127.0.0.1:1".into()]),
        now,
    );
    app.model.wall0 = Some(SystemTime::now());
    app.model.logs_configured = true;
    let config = json!({
        "ttl": n(0), "loop_wait": n(1), "retry_timeout": n(2),
        "maximum_lag_on_failover": n(3), "check_timeline": true, "synchronous_mode": true,
    });
    let history = json!([
        [n(4), n(5), "reason", t(0), "pg2"],
        [n(1), n(0), "r", t(1), "pg1"]
    ]);
    let mut kvs = vec![
        kv("config", config.to_string()),
        kv("initialize", "7712261232093890864".into()),
        kv("leader", "pg1".into()),
        kv("members/pg1", member(n(6), n(4), "primary", t(2))),
        kv("members/pg2", member(n(7), n(8), "replica", t(3))),
        kv("members/pg3", member(n(9), n(0), "replica", t(0))),
        kv("history", history.to_string()),
        kv(
            "status",
            json!({"optime": n(10), "slots": {"pg1": n(11), "pg2": n(3)}}).to_string(),
        ),
        kv(
            "failover",
            json!({"leader": "pg1", "member": "pg2", "scheduled_at": t(1)}).to_string(),
        ),
        kv(
            "sync",
            json!({"leader": "pg1", "sync_standby": "pg2"}).to_string(),
        ),
    ];
    if h.huge_name {
        let wide = "W".repeat(70_000);
        let mut m: Value =
            serde_json::from_str(&member(n(3), n(2), "replica", t(1))).expect("json");
        // the tag stays under the member-value cap (64 KiB), so the row is really drawn
        m["tags"] = json!({ "t": "W".repeat(60_000) });
        kvs.push(kv(&format!("members/{wide}"), m.to_string()));
    }
    app.update(Msg::Dcs(
        now,
        DcsEvent::Snapshot {
            endpoint: "http://127.0.0.1:1".into(),
            revision: h.db_size,
            kvs,
        },
    ));
    app.update(Msg::Dcs(now, DcsEvent::Progress { revision: h.ttl }));
    app.update(rest(n(6), n(11), n(4), t(2), n(2), true));
    app.update(rest(n(7), n(10), n(8), t(3), n(5), false));
    app.update(Msg::Info(InfoEvent::LeaseTtl {
        lease: h.granted,
        ttl: h.ttl,
        granted: h.granted,
        at: now,
    }));
    app.update(Msg::Info(InfoEvent::Endpoints(vec![EndpointStatus {
        endpoint: "http://127.0.0.1:1".into(),
        result: Ok(EndpointInfo {
            version: "3.5".into(),
            db_size: h.db_size,
            member_id: h.ttl as u64,
            leader: h.granted as u64,
            raft_term: h.db_size as u64,
            errors: vec![],
        }),
    }])));
    // a second round: changes become events, lag trends get samples
    app.update(Msg::Dcs(
        now,
        DcsEvent::Put(kv("members/pg2", member(n(11), n(1), "replica", t(1)))),
    ));
    app.update(rest(n(10), n(9), n(1), t(0), n(4), false));
    app.update(Msg::Tick(now + Duration::from_secs(h.tick)));
    app
}

fn draw(app: &App, w: u16, h: u16) {
    static THEME: std::sync::OnceLock<Theme> = std::sync::OnceLock::new();
    let theme = THEME.get_or_init(|| Theme::load(None, false).expect("built-in theme"));
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| patrol::ui::render(f, app, theme)).expect("draw");
}

fn press(app: &mut App, c: KeyCode) {
    // (no send is asserted here: the time only has to be a time)
    app.update(Msg::Key(
        Instant::now(),
        KeyEvent::new(c, KeyModifiers::NONE),
    ));
}

fn ch(c: char) -> KeyCode {
    KeyCode::Char(c)
}

/// The tiny layout (below 40x8 only a summary line is drawn), the smallest full one, a
/// common one and the wide one (the cluster pane beside the table).
const SIZES: [(u16, u16); 5] = [(1, 1), (20, 5), (40, 8), (80, 24), (120, 40)];

fn every_size(app: &App) {
    for (w, h) in SIZES {
        draw(app, w, h);
    }
}

/// Views and dialogs: the tiny layout draws none of them, so only the full sizes.
fn view_sizes(app: &App) {
    for (w, h) in &SIZES[2..] {
        draw(app, *w, *h);
    }
}

/// Dialogs are centred popups over the same screen: the wide size adds nothing (and time).
fn dialog_sizes(app: &App) {
    for (w, h) in &SIZES[2..4] {
        draw(app, *w, *h);
    }
}

/// A dialog's options, then its review step, then cancelled.
fn open_and_review(app: &mut App, key: char) {
    press(app, ch(key));
    dialog_sizes(app);
    press(app, KeyCode::Enter);
    dialog_sizes(app);
    press(app, KeyCode::Esc);
    press(app, KeyCode::Esc);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn hostile_numbers_never_panic(h in hostile()) {
        let mut app = feed(&h);
        let _ = app.model.lock_left();
        let _ = patrol::output::render(&app, patrol::cli::Format::Pretty, true);
        let _ = patrol::output::render(&app, patrol::cli::Format::Json, true);
        every_size(&app);
        // every view and dialog about the cluster
        for view in ['h', 'c', 'e', 'A', 'd', 'o'] {
            press(&mut app, ch(view));
            view_sizes(&app);
            press(&mut app, KeyCode::Esc);
        }
        for dialog in ['s', 'f', 'R', 'L', 'p', 'x'] {
            open_and_review(&mut app, dialog);
        }
        // and those about one member, on each of them
        for member in 0..3 {
            press(&mut app, ch('g'));
            for _ in 0..member {
                press(&mut app, ch('j'));
            }
            for view in [KeyCode::Enter, ch('l')] {
                press(&mut app, view);
                view_sizes(&app);
                press(&mut app, KeyCode::Esc);
            }
            for dialog in ['r', 'I'] {
                open_and_review(&mut app, dialog);
            }
        }
        press(&mut app, ch('?'));
        dialog_sizes(&app);
        press(&mut app, ch('E'));
    }
}

#[test]
fn a_member_wider_than_a_u16_of_cells() {
    let h = Hostile {
        nums: vec![json!(1)],
        tss: vec![Value::Null],
        ttl: 20,
        granted: 20,
        db_size: 1,
        tick: 0,
        huge_name: true,
    };
    let app = feed(&h);
    assert!(app.rows().iter().any(|r| r.name.len() == 70_000));
    every_size(&app);
}
