//! etcd content must not decide how much patrol does: thousands of junk member keys and a
//! cluster prefix over 4 MiB, against a real etcd + Patroni + PostgreSQL cluster. Every
//! wait is a generous bound, not a speed assertion.

mod support;

use std::time::Duration;

use etcd_client::{Client, GetOptions, Txn, TxnOp};
use patrol::app::{App, members::rest_max_age};
use patrol::config::{self, ConfigSource, Settings};
use patrol::runtime::Headless;
use support::TestCluster;

const JUNK: usize = 5000;
const INTERVAL: Duration = Duration::from_millis(500);

fn settings(c: &TestCluster) -> Settings {
    config::load(&ConfigSource {
        file: Some(c.config_path().to_path_buf()),
        ..Default::default()
    })
    .expect("the sandbox's patronictl.yaml loads")
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// The leader's REST answer is fresh and its lease TTL known: not starved by the junk.
fn leader_fresh(a: &App) -> bool {
    let Some(c) = a.cluster() else { return false };
    let Some(l) = c.leader.as_deref() else {
        return false;
    };
    c.rest.get(l).is_some_and(|r| {
        r.fresh(a.model.now, rest_max_age(a.model.rest_interval))
            .is_some()
    }) && a
        .model
        .lock_left()
        .is_some_and(|(left, granted)| granted > 0 && left > 0)
}

fn members(a: &App) -> usize {
    a.cluster().map_or(0, |c| c.members.len())
}

fn describe(a: &App, h: &Headless) -> String {
    let c = a.cluster();
    format!(
        "loaded {} dcs {:?} members {} warnings {} pollers {} behind {:?} lock {:?} leader rest {:?}",
        a.model.loaded,
        a.model.dcs,
        members(a),
        c.map_or(0, |c| c.warnings.len()),
        h.pollers(),
        a.model.behind(),
        a.model.lock_left(),
        c.and_then(|c| c.leader.as_ref().and_then(|l| c.rest.get(l)))
            .map(|r| (r.ok.as_ref().map(|o| o.0), r.error.clone())),
    )
}

#[test]
fn junk_member_keys_and_a_large_prefix_stay_bounded() {
    let c = TestCluster::start(3);
    c.wait_healthy(Duration::from_secs(60));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let s = settings(&c);
        let mut h = Headless::start(&s, INTERVAL, Duration::from_secs(2)).expect("start");
        assert!(
            h.until(Duration::from_secs(30), leader_fresh).await,
            "healthy before the junk: {}",
            describe(&h.app, &h)
        );
        let fds_before = open_fds();

        // 5000 junk member keys whose API refuses connections, written as fast as etcd
        // takes them (txns of 128 puts, etcd's default limit), while patrol watches
        let mut etcd = Client::connect([c.etcd_url()], None)
            .await
            .expect("connect to etcd");
        let prefix = c.key_prefix();
        let value = r#"{"conn_url":"postgres://127.0.0.1:1/postgres","api_url":"http://127.0.0.1:1/patroni","state":"running","role":"replica","version":"4.1.0"}"#;
        let names: Vec<String> = (0..JUNK).map(|i| format!("junk{i:05}")).collect();
        for chunk in names.chunks(128) {
            let ops: Vec<TxnOp> = chunk
                .iter()
                .map(|n| TxnOp::put(format!("{prefix}members/{n}"), value, None))
                .collect();
            etcd.txn(Txn::new().and_then(ops)).await.expect("txn");
        }
        // and a prefix over 4 MiB: four member keys of 1.4 MiB (over patrol's 64 KiB)
        let big = format!(r#"{{"api_url":"http://127.0.0.1:1/patroni","x":"{}"}}"#, "x".repeat(1400 * 1024));
        for i in 0..4 {
            etcd.put(format!("{prefix}members/big{i}"), big.as_str(), None)
                .await
                .expect("put a big value");
        }
        let in_etcd = etcd
            .get(
                format!("{prefix}members/"),
                Some(GetOptions::new().with_prefix().with_count_only()),
            )
            .await
            .expect("count")
            .count() as usize;
        assert_eq!(in_etcd, JUNK + 3 + 4);

        // the model catches up with etcd: every parsable member key, the big ones warned
        let caught_up = |a: &App| {
            members(a) == JUNK + 3
                && a.cluster().is_some_and(|c| {
                    (0..4).all(|i| c.warnings.contains_key(&format!("members/big{i}")))
                })
        };
        assert!(
            h.until(Duration::from_secs(30), caught_up).await,
            "caught up with etcd ({in_etcd} member keys): {}",
            describe(&h.app, &h)
        );
        // the real leader is still polled on time, its lock still counted
        assert!(
            h.until(Duration::from_secs(30), |a| leader_fresh(a) && a.model.behind().is_none())
                .await,
            "leader REST fresh, lease TTL known, not behind: {}",
            describe(&h.app, &h)
        );
        // and stays so for a while, with a bounded number of pollers and descriptors
        let t = tokio::time::Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            h.until(Duration::from_millis(200), |_| false).await;
            assert!(
                h.pollers() <= patrol::app::Model::MAX_POLLED,
                "{} pollers",
                h.pollers()
            );
            assert!(
                open_fds() < fds_before + 200,
                "{} fds open (before the junk: {fds_before})",
                open_fds()
            );
        }
        assert!(
            leader_fresh(&h.app),
            "leader still fresh: {}",
            describe(&h.app, &h)
        );
        assert_eq!(h.app.model.polled().len(), patrol::app::Model::MAX_POLLED);
        assert!(h.app.model.polled().iter().any(|(m, _)| m.starts_with("pg")));

        // a fresh start loads the whole prefix (over 4 MiB) in one snapshot
        let mut h2 = Headless::start(&s, INTERVAL, Duration::from_secs(2)).expect("start");
        assert!(
            h2.until(Duration::from_secs(30), |a| a.model.loaded && caught_up(a))
                .await,
            "the large prefix loads: {}",
            describe(&h2.app, &h2)
        );
        assert!(
            h2.until(Duration::from_secs(30), leader_fresh).await,
            "leader fresh after a large snapshot: {}",
            describe(&h2.app, &h2)
        );
        assert!(h2.pollers() <= patrol::app::Model::MAX_POLLED);
    });
}
