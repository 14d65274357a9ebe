//! REST-only mode on a real cluster: the membership from a member's `GET /cluster` when
//! etcd is not asked (`--rest-only`) or not there (etcd SIGKILLed), and the way back to the
//! watch when etcd returns. Every wait is bounded; nothing here skips.

mod support;

use std::process::Command;
use std::time::Duration;

use patrol::app::{App, DcsHealth, dialog::Dialog, ops::OpKind};
use patrol::runtime::Headless;
use patrol::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;
use support::drive::{rt, settings};
use support::{TestCluster, healthy};

/// The main view as text, the way a user sees it at 120x40.
fn screen(app: &App) -> String {
    let theme = Theme::load(None, false).expect("built-in theme");
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
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

fn rows_of(v: &Value) -> Vec<(String, String, String, String)> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| {
            let s = |k: &str| r.get(k).map(|v| v.to_string()).unwrap_or_default();
            (s("Member"), s("Role"), s("State"), s("TL"))
        })
        .collect()
}

fn etcd_pid(c: &TestCluster) -> u32 {
    let p = c.dir().join("etcd.pid");
    std::fs::read_to_string(&p)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in {}", p.display()))
}

#[test]
fn rest_only_shows_the_cluster_from_one_members_api() {
    let c = TestCluster::start(3);
    let pg2 = format!("127.0.0.1:{}", c.rest_port("pg2"));

    // `patrol list` from pg2's /cluster: the rows patronictl prints from etcd
    let bin = env!("CARGO_BIN_EXE_patrol");
    let out = Command::new(bin)
        .arg("-c")
        .arg(c.config_path())
        .args(["--rest-only", "--api", &pg2, "list", "-f", "json"])
        .output()
        .expect("run patrol list");
    assert!(out.status.success(), "patrol list --rest-only: {out:?}");
    let ours: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let theirs = c.patronictl_json_list();
    assert_eq!(
        rows_of(&ours),
        rows_of(&theirs),
        "patrol: {ours}\npatronictl: {theirs}"
    );

    // an API that is not there: a clear error, not a hang or a panic
    let out = Command::new(bin)
        .arg("-c")
        .arg(c.config_path())
        .args(["--rest-only", "--api", "127.0.0.1:1", "list"])
        .output()
        .expect("run patrol list");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("REST-only") && err.contains("127.0.0.1:1"),
        "{err}"
    );

    rt().block_on(async {
        let mut s = settings(c.config_path());
        s.rest_only = true;
        s.api_seeds = vec![format!("http://{pg2}/patroni")];
        let mut h =
            Headless::start(&s, Duration::from_millis(500), Duration::from_secs(2)).expect("start");
        let ok = h
            .until(Duration::from_secs(30), |a| {
                healthy(a) && a.model.rest_only.from.is_some()
            })
            .await;
        assert!(ok, "healthy from /cluster:\n{}", screen(&h.app));
        let text = screen(&h.app);
        assert!(text.contains("not used (REST-only)"), "{text}");
        assert!(
            text.contains("REST-only: membership from pg2's /cluster"),
            "{text}"
        );
        assert_eq!(h.app.rows().len(), 3, "{text}");

        // a change made through Patroni reaches the screen without etcd
        let out = c.patronictl(&["pause", "--wait"]);
        assert!(out.status.success(), "pause: {out:?}");
        let ok = h
            .until(Duration::from_secs(20), |a| {
                screen(a).contains("MAINTENANCE MODE")
            })
            .await;
        assert!(ok, "pause shown:\n{}", screen(&h.app));
        let _ = c.patronictl(&["resume", "--wait"]);
    });
}

#[test]
fn etcd_gone_falls_back_to_the_members_and_the_watch_comes_back_by_itself() {
    let c = TestCluster::start(3);
    rt().block_on(async {
        let s = settings(c.config_path());
        let mut h =
            Headless::start(&s, Duration::from_millis(500), Duration::from_secs(2)).expect("start");
        assert!(h.until(Duration::from_secs(30), healthy).await, "healthy");
        assert!(!h.app.model.rest_only.active());

        let pid = etcd_pid(&c);
        let st = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        assert!(st.is_ok_and(|s| s.success()), "kill etcd {pid}");

        // etcd refuses: after a few seconds the members are asked instead
        let ok = h
            .until(Duration::from_secs(30), |a| {
                a.model.rest_only.from.is_some() && matches!(a.model.dcs, DcsHealth::Down { .. })
            })
            .await;
        assert!(ok, "REST-only after etcd died:\n{}", screen(&h.app));
        let text = screen(&h.app);
        assert!(text.contains("REST-only: membership from"), "{text}");
        assert!(
            text.contains("DOWN"),
            "etcd's own state still on line 1:\n{text}"
        );
        assert_eq!(h.app.rows().len(), 3, "{text}");
        // the write that needs etcd is refused with the reason
        let p = h.app.model.plan(&Dialog::new(OpKind::DcsSwitchover, None));
        assert!(
            p.checks.iter().any(
                |k| k.text.contains("REST-only") && k.level == patrol::app::checks::Level::Fail
            ),
            "{:?}",
            p.checks
        );

        // etcd back (same data dir): the watch resumes, REST-only ends, no restart
        let out = c.script(&["start"]);
        assert!(out.status.success(), "cluster start: {out:?}");
        let ok = h
            .until(Duration::from_secs(60), |a| {
                matches!(a.model.dcs, DcsHealth::Live { .. }) && !a.model.rest_only.active()
            })
            .await;
        assert!(ok, "live again:\n{}", screen(&h.app));
        assert!(!screen(&h.app).contains("REST-only"));
    });
}
