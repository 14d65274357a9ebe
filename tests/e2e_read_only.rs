//! `--read-only` on a real cluster: every view opens, every key of every context is
//! pressed, and no write leaves the process (counted where writes leave, in the runtime's
//! effect runner, and in the audit log); the same count moves for a write outside read-only
//! mode, so it can fail.

mod support;

use std::path::Path;
use std::time::Duration;

use patrol::app::View;
use patrol::logs::LogSourceSpec;
use patrol::runtime::Headless;
use ratatui::crossterm::event::KeyCode;
use support::drive::{press, rt, settings};
use support::{TestCluster, healthy};

fn every_key() -> Vec<KeyCode> {
    let mut keys: Vec<KeyCode> = (b'!'..=b'~')
        .map(|c| KeyCode::Char(c as char))
        .filter(|c| *c != KeyCode::Char('q'))
        .collect();
    keys.extend([
        KeyCode::Enter,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Tab,
        KeyCode::Backspace,
        KeyCode::Char(' '),
    ]);
    keys
}

async fn start(c: &TestCluster, audit: &Path, read_only: bool) -> Headless {
    let settings = settings(c.config_path());
    let mut h = Headless::start(
        &settings,
        Duration::from_millis(500),
        Duration::from_secs(2),
    )
    .expect("start");
    h.configure(Some(audit.to_path_buf()), read_only);
    h.set_logs(Some(
        LogSourceSpec::parse(&format!(
            "file:{}/{{member}}/log/patroni.log",
            c.dir().display()
        ))
        .expect("spec"),
    ));
    assert!(h.until(Duration::from_secs(30), healthy).await, "healthy");
    h
}

#[test]
fn read_only_opens_every_view_and_no_write_leaves() {
    let c = TestCluster::start(3);
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    rt().block_on(async {
        let mut h = start(&c, &audit, true).await;
        let views = [
            (KeyCode::Enter, "detail"),
            (KeyCode::Char('h'), "history"),
            (KeyCode::Char('c'), "config"),
            (KeyCode::Char('e'), "etcd"),
            (KeyCode::Char('l'), "logs"),
            (KeyCode::Char('A'), "all logs"),
            (KeyCode::Char('d'), "dsn"),
            (KeyCode::Char('o'), "own log"),
            (KeyCode::Char('b'), "routing"),
        ];
        for (k, name) in views {
            press(&mut h, k);
            assert_ne!(
                *h.app.screen.view(),
                View::Main,
                "{name} opens in read-only"
            );
            assert!(
                h.app.screen.flash.is_none(),
                "{name}: {:?}",
                h.app.screen.flash
            );
            // every key a person can press, in this view (and in the help over it)
            for key in every_key() {
                press(&mut h, key);
                assert!(
                    h.app.session.dialog.is_none(),
                    "{name}: {key:?} opened a dialog"
                );
            }
            h.app.screen.open(View::Main);
            h.app.screen.show_help = false;
            h.app.screen.log_view.editing_filter = false;
        }
        for key in every_key() {
            press(&mut h, key);
            h.app.screen.open(View::Main);
            h.app.screen.show_help = false;
        }
        // let anything that was (wrongly) spawned arrive
        h.until(Duration::from_secs(2), |_| false).await;
        assert_eq!(h.writes_sent(), 0, "no write left the process");
        let audit_text = std::fs::read_to_string(&audit).unwrap_or_default();
        assert!(audit_text.is_empty(), "nothing audited: {audit_text}");
        assert!(h.app.session.ops.is_empty());
    });

    // the same seam counts a write when one is allowed: a reload, confirmed with y
    rt().block_on(async {
        let mut h = start(&c, &audit, false).await;
        press(&mut h, KeyCode::Char('L'));
        press(&mut h, KeyCode::Char('y'));
        let ok = h
            .until(Duration::from_secs(20), |a| {
                a.session.ops.first().is_some_and(|o| o.reply.is_some())
            })
            .await;
        assert!(ok, "Patroni answered the reload");
        // counted when it leaves, after its intent line is on disk (the audit thread)
        assert_eq!(h.writes_sent(), 1, "the reload left");
    });
}
