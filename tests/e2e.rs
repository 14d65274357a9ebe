//! patrol against a real etcd + Patroni + PostgreSQL cluster on 127.0.0.1, started by the
//! project's own harness. Every wait is bounded; nothing here skips.

mod support;

use support::drive::rt;

use std::time::{Duration, Instant};

use patrol::app::{App, members::RestHealth};
use patrol::config::{self, ConfigSource, Settings};
use patrol::runtime::Headless;
use serde_json::Value;
use support::TestCluster;

fn settings(c: &TestCluster) -> Settings {
    config::load(&ConfigSource {
        file: Some(c.config_path().to_path_buf()),
        ..Default::default()
    })
    .expect("the sandbox's patronictl.yaml loads")
}

fn describe(app: &App) -> String {
    app.rows()
        .iter()
        .map(|r| {
            format!(
                "{} {:?} {} TL{:?} {:?} gone={:?}",
                r.name, r.role, r.state, r.timeline, r.rest, r.gone
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn event_texts(app: &App) -> Vec<String> {
    app.model.events.iter().map(|e| e.kind.text()).collect()
}

use support::healthy;

#[test]
fn live_model_follows_switchover_and_a_stopped_member() {
    let c = TestCluster::start(3);
    let rt = rt();
    rt.block_on(async {
        let s = settings(&c);
        let mut h =
            Headless::start(&s, Duration::from_millis(500), Duration::from_secs(2)).expect("start");

        let t = Instant::now();
        let ok = h.until(Duration::from_secs(30), healthy).await;
        assert!(
            ok,
            "1 leader + 2 streaming replicas with live REST:\n{}",
            describe(&h.app)
        );
        eprintln!("first complete model after {:?}", t.elapsed());
        let leader = h.app.rows()[0].name.clone();
        assert_eq!(
            Some(leader.clone()),
            c.leader(),
            "same leader as patronictl"
        );
        let tl = h.app.rows()[0].timeline.expect("leader timeline");
        let revision = |a: &App| match a.model.dcs {
            patrol::app::DcsHealth::Live { revision, .. } => revision,
            _ => 0,
        };
        let rev0 = revision(&h.app);
        // live lag: both ends from REST, once the leader has been sampled after each replica
        // (the first complete model may hold only unpaired samples)
        let live_lag = |a: &App| {
            a.rows().iter().filter(|r| !r.role.is_leader()).all(|r| {
                r.replay_lag.is_some() && r.lag_source == patrol::app::members::LagSource::Live
            })
        };
        assert!(
            h.until(Duration::from_secs(5), live_lag).await,
            "live lag for every replica:\n{}",
            describe(&h.app)
        );

        // a switchover made with patronictl shows up in patrol's model
        let candidate = h.app.rows()[1].name.clone();
        let out = c.patronictl(&[
            "switchover",
            "--leader",
            &leader,
            "--candidate",
            &candidate,
            "--force",
        ]);
        assert!(out.status.success(), "patronictl switchover: {out:?}");
        let t = Instant::now();
        let ok = h
            .until(Duration::from_secs(60), |a| {
                let rows = a.rows();
                rows.first().is_some_and(|r| {
                    r.name == candidate && r.role.is_leader() && r.timeline == Some(tl + 1)
                })
            })
            .await;
        assert!(
            ok,
            "{candidate} leads on TL {}:\n{}",
            tl + 1,
            describe(&h.app)
        );
        eprintln!(
            "new leader in the model {:?} after patronictl returned",
            t.elapsed()
        );
        // the revision shown in the cluster pane follows the watch, not just the snapshot
        assert!(
            revision(&h.app) > rev0,
            "revision {} after the switchover, {rev0} before",
            revision(&h.app)
        );
        let ok = h.until(Duration::from_secs(60), healthy).await;
        assert!(ok, "old leader streams again:\n{}", describe(&h.app));
        let hist = &h.app.cluster().expect("cluster").history;
        assert!(
            hist.iter().any(|e| e.timeline == tl),
            "history row for TL {tl}: {hist:?}"
        );
        // the event log saw it
        let texts = event_texts(&h.app);
        // (often in two steps: the old leader lets go of the key, the new one takes it)
        assert!(
            texts.iter().any(|t| t.starts_with("leader changed:") && t.ends_with(&format!("→ {candidate}"))),
            "leader changed to {candidate} in {texts:?}"
        );
        assert!(texts.iter().any(|t| t.starts_with(&format!("leader changed: {leader} →"))), "{texts:?}");
        let want = format!("timeline incremented: {tl} → {}", tl + 1);
        assert!(texts.contains(&want), "{want} in {texts:?}");

        // a restart made elsewhere (patronictl) is an event too: the start time moved
        // (the switchover restarted the old leader's PostgreSQL already: one more is counted)
        let replica = leader.clone();
        let want = format!("{replica}: PostgreSQL restarted");
        let count = |a: &App| event_texts(a).iter().filter(|t| **t == want).count();
        let before = count(&h.app);
        let out = c.patronictl(&["restart", "demo", &replica, "--force"]);
        assert!(out.status.success(), "patronictl restart: {out:?}");
        let ok = h
            .until(Duration::from_secs(30), |a| count(a) > before)
            .await;
        assert!(ok, "{want} in {:?}", event_texts(&h.app));
        let ok = h.until(Duration::from_secs(60), healthy).await;
        assert!(ok, "streaming again after the restart:\n{}", describe(&h.app));

        // a stopped member is shown as down, then gone
        let victim = h.app.rows()[2].name.clone();
        c.stop_member(&victim);
        let t = Instant::now();
        let ok = h
            .until(Duration::from_secs(60), |a| {
                a.rows().iter().any(|r| {
                    r.name == victim
                        && (r.gone.is_some()
                            || (r.state != "streaming"
                                && matches!(r.rest, RestHealth::Unreachable { .. })))
                })
            })
            .await;
        assert!(ok, "{victim} shown as down or gone:\n{}", describe(&h.app));
        eprintln!("stopped member shown down after {:?}", t.elapsed());
        let ok = h
            .until(Duration::from_secs(60), |a| {
                a.rows()
                    .iter()
                    .any(|r| r.name == victim && r.gone.is_some())
            })
            .await;
        assert!(
            ok,
            "{victim}'s key expires and it is shown as gone:\n{}",
            describe(&h.app)
        );

        assert!(event_texts(&h.app).contains(&format!("{victim} left (member key gone)")));

        // it comes back
        c.start_member(&victim);
        let ok = h.until(Duration::from_secs(90), healthy).await;
        assert!(ok, "{victim} streams again:\n{}", describe(&h.app));
        assert!(event_texts(&h.app).contains(&format!("{victim} joined")));
    });
}

#[test]
fn list_json_equals_patronictl_and_garbage_keys_do_not_hurt() {
    let c = TestCluster::start(3);
    let bin = env!("CARGO_BIN_EXE_patrol");
    let ours = std::process::Command::new(bin)
        .args(["-c"])
        .arg(c.config_path())
        .args(["list", "-f", "json"])
        .output()
        .expect("run patrol list");
    assert!(ours.status.success(), "patrol list: {ours:?}");
    let ours: Value = serde_json::from_slice(&ours.stdout).expect("patrol list -f json is JSON");
    let theirs = c.patronictl_json_list();
    let pick = |v: &Value| -> Vec<(String, String, String, String, String)> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|r| {
                let s = |k: &str| r.get(k).map(|v| v.to_string()).unwrap_or_default();
                (s("Cluster"), s("Member"), s("Role"), s("State"), s("TL"))
            })
            .collect()
    };
    assert_eq!(
        pick(&ours),
        pick(&theirs),
        "patrol: {ours}\npatronictl: {theirs}"
    );
    // same keys per row, in the same order (lag values are live in patrol, so not compared)
    let keys = |v: &Value| -> Vec<Vec<String>> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|r| r.as_object().expect("object").keys().cloned().collect())
            .collect()
    };
    assert_eq!(keys(&ours), keys(&theirs));

    // a host without CA certificates (a minimal Debian without ca-certificates; here: the
    // system's store pointed at nothing) must still reach etcd and plain-http members: the
    // package check on a clean root found `list` failing there with "builder error"
    let bare = std::process::Command::new(bin)
        .env("SSL_CERT_FILE", "/nonexistent/patrol-test-ca.pem")
        .env("SSL_CERT_DIR", "/nonexistent/patrol-test-certs")
        .args(["-c"])
        .arg(c.config_path())
        .args(["list", "-f", "json"])
        .output()
        .expect("run patrol list without system CA certificates");
    assert!(
        bare.status.success(),
        "patrol list without system CA certificates: {bare:?}"
    );
    let bare: Value = serde_json::from_slice(&bare.stdout).expect("JSON");
    assert_eq!(pick(&bare), pick(&theirs));

    // garbage in a member key: a warning, the rest stays live
    let key = format!("{}members/pg9", c.key_prefix());
    let out = c.etcdctl(&["put", &key, "{not json\x1b[2J"]);
    assert!(out.status.success(), "etcdctl put: {out:?}");
    let rt = rt();
    rt.block_on(async {
        let mut h = Headless::start(
            &settings(&c),
            Duration::from_millis(500),
            Duration::from_secs(2),
        )
        .expect("start");
        let ok = h
            .until(Duration::from_secs(30), |a| {
                healthy(a)
                    && a.cluster()
                        .is_some_and(|c| c.warnings.contains_key("members/pg9"))
            })
            .await;
        assert!(
            ok,
            "healthy model plus a warning for members/pg9:\n{}",
            describe(&h.app)
        );

        // several endpoints, the first one dead: patrol uses the one that answers
        let mut two = settings(&c);
        two.dcs.endpoints.insert(0, "http://127.0.0.1:9".into());
        let mut h2 = Headless::start(&two, Duration::from_millis(500), Duration::from_secs(2))
            .expect("start");
        let ok = h2.until(Duration::from_secs(30), healthy).await;
        assert!(
            ok,
            "healthy through the second endpoint: {:?}\n{}",
            h2.app.model.dcs,
            describe(&h2.app)
        );
        match &h2.app.model.dcs {
            patrol::app::DcsHealth::Live { endpoint, .. } => assert_eq!(endpoint, &c.etcd_url()),
            other => panic!("not live: {other:?}"),
        }
        drop(h2);

        // the garbage key goes away again, and so does the warning
        let out = c.etcdctl(&["del", &key]);
        assert!(out.status.success(), "etcdctl del: {out:?}");
        let ok = h
            .until(Duration::from_secs(10), |a| {
                a.cluster().is_some_and(|c| c.warnings.is_empty())
            })
            .await;
        assert!(ok, "warning cleared");

        // etcd down: the last state stays, marked stale; etcd back: live again by itself
        let pid = std::fs::read_to_string(c.dir().join("etcd.pid")).expect("etcd.pid");
        let st = std::process::Command::new("kill")
            .arg(pid.trim())
            .status()
            .expect("kill etcd");
        assert!(st.success());
        let ok = h
            .until(Duration::from_secs(30), |a| a.model.stale_for().is_some())
            .await;
        assert!(ok, "etcd down is noticed: {:?}", h.app.model.dcs);
        assert_eq!(h.app.rows().len(), 3, "last state kept while etcd is down");
        let out = c.script(&["start"]);
        assert!(out.status.success(), "restart etcd: {out:?}");
        let ok = h
            .until(Duration::from_secs(60), |a| {
                a.model.stale_for().is_none()
                    && matches!(a.model.dcs, patrol::app::DcsHealth::Live { .. })
                    && healthy(a)
            })
            .await;
        assert!(
            ok,
            "live again after etcd returns: {:?}\n{}",
            h.app.model.dcs,
            describe(&h.app)
        );
    });
    let out = std::process::Command::new(bin)
        .arg("-c")
        .arg(c.config_path())
        .arg("list")
        .output()
        .expect("run patrol list");
    assert!(out.status.success(), "{out:?}");

    // etcd unreachable: a clear message and a non-zero exit
    let out = std::process::Command::new(bin)
        .args([
            "--dcs-url",
            "etcd3://127.0.0.1:9/service",
            "--cluster",
            "demo",
            "list",
        ])
        .output()
        .expect("run patrol list");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach etcd"), "{err}");
}

#[test]
fn agent_log_lines_and_the_leader_lock_ttl() {
    let c = TestCluster::start(1);
    let rt = rt();
    rt.block_on(async {
        let s = settings(&c);
        let mut h =
            Headless::start(&s, Duration::from_millis(500), Duration::from_secs(2)).expect("start");
        let spec = format!("file:{}/{{member}}/log/patroni.log", c.dir().display());
        h.set_logs(Some(
            patrol::logs::LogSourceSpec::parse(&spec).expect("spec"),
        ));
        let ok = h
            .until(Duration::from_secs(30), |a| {
                a.model.logs.member("pg1").count() > 0
            })
            .await;
        assert!(ok, "pg1's Patroni log lines arrive");

        // a line appended to the member's log appears
        let marker = format!("patrol-e2e-marker-{}", std::process::id());
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(c.log_path("pg1"))
                .expect("open the Patroni log");
            writeln!(f, "2030-01-01 00:00:00,000 WARNING: {marker}").expect("append");
        }
        let ok = h
            .until(Duration::from_secs(20), |a| {
                a.model
                    .logs
                    .member("pg1")
                    .any(|l| l.text.contains(&marker) && l.level == patrol::logs::Level::Warning)
            })
            .await;
        assert!(ok, "the appended line is shown, as a warning");

        // the lease TTL counts down while Patroni cannot renew it, and resets after
        let ok = h
            .until(Duration::from_secs(20), |a| a.model.lease_ttl.is_some())
            .await;
        assert!(ok, "lease TTL known");
        let sig = |s: &str| c.signal_patroni("pg1", s);
        sig("-STOP");
        let ok = h
            .until(Duration::from_secs(15), |a| {
                a.model.lease_ttl.is_some_and(|(_, ttl, g, _)| ttl <= g - 4)
            })
            .await;
        sig("-CONT");
        assert!(ok, "TTL from etcd counts down: {:?}", h.app.model.lease_ttl);
        let low = h.app.model.lease_ttl.map(|(_, t, _, _)| t).unwrap_or(0);
        let ok = h
            .until(Duration::from_secs(15), |a| {
                a.model
                    .lease_ttl
                    .is_some_and(|(_, ttl, _, _)| ttl > low + 2)
            })
            .await;
        assert!(
            ok,
            "TTL resets once Patroni renews the lease: {:?}",
            h.app.model.lease_ttl
        );
        assert!(!h.app.model.etcd_status.is_empty(), "endpoint status known");
        assert!(
            h.app.model.etcd_status.iter().all(|e| e.result.is_ok()),
            "{:?}",
            h.app.model.etcd_status
        );

        // A healthy etcd keeps the watch for good: a gRPC keep-alive faster than etcd
        // allows once made it hang up every ~8 s (GOAWAY too_many_pings).
        let lost = |a: &App| {
            event_texts(a)
                .iter()
                .any(|t| t.contains("etcd connection lost"))
        };
        let flapped = h.until(Duration::from_secs(20), lost).await;
        assert!(
            !flapped,
            "the watch broke on a healthy etcd: {:?}",
            event_texts(&h.app)
        );
    });
}
