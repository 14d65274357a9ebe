//! A switchover scheduled with `+Nm` from the keyboard against a real cluster: the time the
//! review shows is the one sent, the one etcd holds and the one patronictl lists; then `x`
//! cancels it.

mod support;

use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use jiff::tz::{TimeZone, offset};
use patrol::app::ops::Settle;
use patrol::app::schedule;
use patrol::runtime::Headless;
use ratatui::crossterm::event::KeyCode;
use support::TestCluster;
use support::drive::{describe, keys, last_op, press, rt, screen, settings};

use support::healthy;

#[test]
fn a_switchover_in_20_minutes_is_sent_as_shown_then_cancelled() {
    let c = TestCluster::start(3);
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    rt().block_on(async {
        let mut h = Headless::start(
            &settings(c.config_path()),
            Duration::from_millis(500),
            Duration::from_secs(2),
        )
        .expect("start");
        h.configure(Some(audit.clone()), false);
        assert!(
            h.until(Duration::from_secs(30), healthy).await,
            "healthy:\n{}",
            describe(&h.app)
        );
        // the wall clock as the TUI has it, and a zone other than UTC, so the offset typed
        // back is tested too
        let m = &mut h.app.model;
        m.wall0 = Some(SystemTime::now() - m.now.saturating_duration_since(m.started()));
        m.tz = TimeZone::fixed(offset(1));

        let typed_at = Timestamp::now();
        press(&mut h, KeyCode::Char('s'));
        press(&mut h, KeyCode::Char('t'));
        keys(&mut h, "+20m");
        press(&mut h, KeyCode::Enter); // done: +20m becomes one time
        let field = h
            .app
            .session
            .dialog
            .as_ref()
            .map(|d| d.options.schedule().to_string())
            .expect("dialog open");
        let when = schedule::parse(&field, None, &TimeZone::UTC)
            .expect("an ISO time")
            .expect("not now");
        assert!(field.ends_with("+01:00"), "{field}");
        let ahead = when.at.as_second() - typed_at.as_second();
        assert!((1195..=1205).contains(&ahead), "{field}: {ahead} s ahead");

        press(&mut h, KeyCode::Enter); // review
        let text = screen(&h.app);
        let said = format!("at {}", when.shown());
        assert!(text.contains(&said), "{said} in the review:\n{text}");
        assert!(
            text.contains("(in 20m)") || text.contains("(in 19m)"),
            "{text}"
        );
        let shown = h
            .app
            .session
            .dialog
            .as_ref()
            .and_then(|d| d.shown.clone())
            .expect("request shown");
        let body = shown.body.clone().expect("a body");
        assert_eq!(
            body["scheduled_at"],
            serde_json::json!(when.iso()),
            "{body}"
        );
        // (the request line wraps at 120 columns: the body checked is the one drawn there)

        press(&mut h, KeyCode::Char('y'));
        let s = last_op(&mut h, Duration::from_secs(30)).await;
        assert!(matches!(&s, Settle::Done(m) if m.contains("202")), "{s:?}");

        // the intent audited before sending carries the same time
        let audited = std::fs::read_to_string(&audit).expect("audit log");
        assert!(audited.contains(&when.iso()), "{audited}");

        // what Patroni stored is the instant shown
        let fo: serde_json::Value =
            serde_json::from_str(&c.etcd_get("failover").expect("failover key"))
                .expect("failover key is JSON");
        let stored = fo["scheduled_at"].as_str().expect("scheduled_at");
        let stored = schedule::parse(stored, None, &TimeZone::UTC)
            .expect("an ISO time in etcd")
            .expect("a time");
        assert_eq!(
            stored.at, when.at,
            "etcd holds {fo}, the review said {said}"
        );
        // and patronictl lists it
        let out = c.patronictl(&["list", "-f", "pretty"]);
        let listed = String::from_utf8_lossy(&out.stdout).to_string();
        let line = listed
            .lines()
            .find(|l| l.contains("Switchover scheduled at"))
            .unwrap_or_else(|| panic!("patronictl lists the switchover:\n{listed}"));
        let at = line
            .split("at:")
            .nth(1)
            .map(str::trim)
            .expect("a time after at:");
        let listed_at = schedule::parse(at, None, &TimeZone::UTC)
            .expect("patronictl's time parses")
            .expect("a time");
        assert_eq!(listed_at.at, when.at, "{line}");

        // the header counts down to it
        let ok = h
            .until(Duration::from_secs(10), |a| {
                a.cluster()
                    .and_then(|c| c.failover.as_ref())
                    .is_some_and(|f| f.scheduled_at.is_some())
            })
            .await;
        assert!(ok, "scheduled switchover in the model");
        let text = screen(&h.app);
        assert!(
            text.contains("in 20m, at") || text.contains("in 19m, at"),
            "{text}"
        );

        // x cancels it
        press(&mut h, KeyCode::Char('x'));
        press(&mut h, KeyCode::Char('y'));
        let s = last_op(&mut h, Duration::from_secs(30)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("no switchover scheduled")),
            "{s:?}"
        );
        assert_eq!(
            c.etcd_get("failover")
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty() && *v != "{}"),
            None
        );
    });
}
