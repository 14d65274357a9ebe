//! REST-only mode on a real cluster: the membership from a member's `GET /cluster` when
//! etcd is not asked (`--rest-only`) or not there (etcd SIGKILLed), and the way back to the
//! watch when etcd returns. Every wait is bounded; nothing here skips.

mod support;

use std::process::Command;
use std::time::Duration;

use patrol::app::{DcsHealth, dialog::Dialog, ops::OpKind};
use patrol::runtime::Headless;
use serde_json::Value;
use support::drive::{rt, screen, settings};
use support::{TestCluster, healthy};

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
        // pg2 was the seed; after its answer the leader is asked first
        assert!(text.contains("REST-only: membership from pg"), "{text}");
        assert!(text.contains("'s /cluster, "), "{text}");
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

/// A TCP forwarder between patrol and etcd: stopping it is a network partition between
/// the bastion and etcd, while Patroni still reaches etcd (so its `/cluster` answers).
struct Partition {
    port: u16,
    target: std::net::SocketAddr,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Partition {
    async fn open(target: std::net::SocketAddr, port: u16) -> Partition {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the forwarder");
        let port = listener.local_addr().expect("addr").port();
        let tasks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let t2 = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                t2.lock().expect("lock").push(conn);
            }
        });
        tasks.lock().expect("lock").push(accept);
        Partition {
            port,
            target,
            tasks,
        }
    }

    /// Every connection cut, nothing listening.
    fn cut(&self) {
        for t in self.tasks.lock().expect("lock").drain(..) {
            t.abort();
        }
    }
}

fn etcd_addr(c: &TestCluster) -> std::net::SocketAddr {
    let ep = c.etcd_endpoint();
    let hp = ep.rsplit("://").next().unwrap_or(&ep).trim_end_matches('/');
    hp.parse()
        .unwrap_or_else(|e| panic!("etcd endpoint {ep}: {e}"))
}

#[test]
fn etcd_out_of_reach_falls_back_to_the_members_and_the_watch_comes_back_by_itself() {
    let c = TestCluster::start(3);
    rt().block_on(async {
        let fwd = Partition::open(etcd_addr(&c), 0).await;
        let mut s = settings(c.config_path());
        s.dcs.endpoints = vec![format!("http://127.0.0.1:{}", fwd.port)];
        let mut h =
            Headless::start(&s, Duration::from_millis(500), Duration::from_secs(2)).expect("start");
        assert!(h.until(Duration::from_secs(30), healthy).await, "healthy");
        assert!(!h.app.model.rest_only.active());

        // patrol loses etcd; Patroni does not
        fwd.cut();
        let ok = h
            .until(Duration::from_secs(30), |a| {
                a.model.rest_only.from.is_some() && matches!(a.model.dcs, DcsHealth::Down { .. })
            })
            .await;
        assert!(
            ok,
            "REST-only after etcd went out of reach:\n{}",
            screen(&h.app)
        );
        let text = screen(&h.app);
        assert!(text.contains("REST-only: membership from pg"), "{text}");
        assert!(
            text.contains("DOWN"),
            "etcd's own state still on line 1:\n{text}"
        );
        assert!(
            !text.contains("STALE"),
            "a fresh /cluster answer is current:\n{text}"
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
        // a change made meanwhile reaches the screen through /cluster
        let out = c.patronictl(&["pause", "--wait"]);
        assert!(out.status.success(), "pause: {out:?}");
        let ok = h
            .until(Duration::from_secs(20), |a| {
                screen(a).contains("MAINTENANCE MODE")
            })
            .await;
        assert!(ok, "pause shown through /cluster:\n{}", screen(&h.app));

        // etcd in reach again: the watch resumes by itself, REST-only ends
        let _back = Partition::open(fwd.target, fwd.port).await;
        let ok = h
            .until(Duration::from_secs(60), |a| {
                matches!(a.model.dcs, DcsHealth::Live { .. }) && !a.model.rest_only.active()
            })
            .await;
        assert!(ok, "live again:\n{}", screen(&h.app));
        let text = screen(&h.app);
        assert!(
            !text.contains("REST-only") && text.contains("MAINTENANCE MODE"),
            "{text}"
        );
        let _ = c.patronictl(&["resume", "--wait"]);
    });
}

#[test]
fn etcd_dead_for_everyone_says_so_and_keeps_the_members_live_state() {
    let c = TestCluster::start(3);
    rt().block_on(async {
        let s = settings(c.config_path());
        let mut h =
            Headless::start(&s, Duration::from_millis(500), Duration::from_secs(2)).expect("start");
        assert!(h.until(Duration::from_secs(30), healthy).await, "healthy");

        let pid = etcd_pid(&c);
        let st = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        assert!(st.is_ok_and(|s| s.success()), "kill etcd {pid}");

        // Patroni's /cluster needs its DCS too: it cannot answer, and the screen says so
        // while each member's own /patroni still does
        let ok = h
            .until(Duration::from_secs(40), |a| {
                a.model.rest_only.active() && a.model.rest_only.error.is_some()
            })
            .await;
        assert!(ok, "REST-only tried:\n{}", screen(&h.app));
        let text = screen(&h.app);
        assert!(text.contains("REST-only: no /cluster answer"), "{text}");
        assert!(text.contains("STALE"), "{text}");
        assert_eq!(h.app.rows().len(), 3, "the last membership stays:\n{text}");
        assert_eq!(
            h.app.model.state_check().level,
            patrol::app::checks::Level::Fail,
            "operations see that nothing current is known"
        );

        let out = c.script(&["start"]);
        assert!(out.status.success(), "cluster start: {out:?}");
        let ok = h
            .until(Duration::from_secs(60), |a| {
                matches!(a.model.dcs, DcsHealth::Live { .. }) && !a.model.rest_only.active()
            })
            .await;
        assert!(ok, "live again:\n{}", screen(&h.app));
    });
}
