//! A burst of new member keys, then a change, against a real etcd + Patroni + PostgreSQL
//! cluster: the header is never `live` while patrol is behind etcd, and the change reaches
//! the screen. And values too large to hold (over the snapshot's page, over the watch's
//! message limit): patrol stays up and names what it skipped. Every wait is a generous
//! bound, not a speed assertion.

mod support;

use std::time::Duration;

use etcd_client::{Client, Txn, TxnOp};
use patrol::app::App;
use patrol::config::{self, ConfigSource, Settings};
use patrol::runtime::Headless;
use support::{ClusterOptions, TestCluster};

const BURST: usize = 10_000;
/// Keys per txn: one revision each, so the burst is many revisions, not a few.
const PER_TXN: usize = 16;
const INTERVAL: Duration = Duration::from_millis(500);

/// etcd takes requests up to 24 MiB here: room for values larger than one answer patrol
/// reads (16 MiB) and than a snapshot page (4 MiB). Set once, before any cluster starts.
fn big_requests() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: called first in each test of this binary, before any thread reads the
    // environment (the Once makes the other test wait for it)
    ONCE.call_once(|| unsafe {
        std::env::set_var(
            "PATROL_ETCD_MAX_REQUEST_BYTES",
            (24 * 1024 * 1024).to_string(),
        )
    });
}

fn settings(c: &TestCluster) -> Settings {
    config::load(&ConfigSource {
        file: Some(c.config_path().to_path_buf()),
        ..Default::default()
    })
    .expect("the sandbox's patronictl.yaml loads")
}

fn members(a: &App) -> usize {
    a.cluster().map_or(0, |c| c.members.len())
}

fn describe(a: &App) -> String {
    format!(
        "loaded {} dcs {:?} members {} revisions (newest, applied) {:?} gap {:?} behind {:?} paused {:?}",
        a.model.loaded,
        a.model.dcs,
        members(a),
        a.model.revisions(),
        a.model.revision_gap(),
        a.model.behind(),
        a.cluster().map(|c| c.is_paused()),
    )
}

#[test]
fn a_burst_of_member_keys_is_never_shown_live_while_behind_and_the_change_after_it_arrives() {
    big_requests();
    let c = TestCluster::start_with(ClusterOptions::new(2));
    c.wait_healthy(Duration::from_secs(60));
    let rt = support::drive::rt();
    rt.block_on(async {
        let s = settings(&c);
        let mut h = Headless::start(&s, INTERVAL, Duration::from_secs(2)).expect("start");
        // log followers on, as with --logs: each new member key asks for a plan
        let spec = format!("file:{}/{{member}}/log/patroni.log", c.dir().display());
        h.set_logs(Some(patrol::logs::LogSourceSpec::parse(&spec).expect("spec")));
        assert!(
            h.until(Duration::from_secs(30), |a| {
                a.cluster().is_some_and(|c| c.leader.is_some())
                    && a.model.revision_gap().is_none()
            })
            .await,
            "loaded, not behind: {}",
            describe(&h.app)
        );
        let base = members(&h.app);

        // the burst, written while patrol's loop applies nothing: its queue fills, the rest
        // waits in etcd's stream
        let mut etcd = Client::connect([c.etcd_url()], None)
            .await
            .expect("connect to etcd");
        let prefix = c.key_prefix();
        let value = r#"{"conn_url":"postgres://127.0.0.1:1/postgres","api_url":"http://127.0.0.1:1/patroni","state":"running","role":"replica"}"#;
        let names: Vec<String> = (0..BURST).map(|i| format!("burst{i:05}")).collect();
        for chunk in names.chunks(PER_TXN) {
            let ops: Vec<TxnOp> = chunk
                .iter()
                .map(|n| TxnOp::put(format!("{prefix}members/{n}"), value, None))
                .collect();
            etcd.txn(Txn::new().and_then(ops)).await.expect("txn");
        }
        // then the change: maintenance mode on (the header says so)
        let key = format!("{prefix}config");
        let resp = etcd.get(key.as_str(), None).await.expect("get config");
        let raw = resp.kvs().first().map(|kv| kv.value().to_vec());
        let mut cfg: serde_json::Value = raw
            .as_deref()
            .and_then(|v| serde_json::from_slice(v).ok())
            .unwrap_or_else(|| serde_json::json!({}));
        cfg["pause"] = serde_json::Value::Bool(true);
        let put = etcd
            .put(key.as_str(), cfg.to_string(), None)
            .await
            .expect("put config");
        let change = put.header().map(|h| h.revision()).expect("revision");

        // from here until the change is applied, patrol is behind etcd: never `live`
        let mut seen = 0usize;
        let mut wrong: Option<String> = None;
        let arrived = h
            .until(Duration::from_secs(50), |a| {
                seen += 1;
                // (the first call sees the state from before the burst, before patrol's
                // loop has taken anything: no frame is drawn from it)
                let behind = seen > 1 && a.model.revisions().1 < change;
                if behind && wrong.is_none() {
                    let said = a.model.revision_gap().is_some()
                        || a.model.unanswered().is_some()
                        || a.model.behind().is_some();
                    // (the whole screen now and then: rendering 10,000 rows is not free)
                    let live_drawn = seen % 2000 == 1
                        && support::drive::screen(a).contains("● live");
                    if !said || live_drawn {
                        wrong = Some(format!("message {seen}: {}", describe(a)));
                    }
                }
                a.cluster().is_some_and(|c| c.is_paused())
            })
            .await;
        assert_eq!(wrong, None, "the header said live while behind etcd");
        assert!(
            arrived,
            "the change reached the model: {} after {seen} messages",
            describe(&h.app)
        );
        assert_eq!(members(&h.app), base + BURST);
        let screen = support::drive::screen(&h.app);
        assert!(screen.contains("MAINTENANCE MODE"), "{screen}");
        // and once caught up, live again (the lateness of the last change applied counts
        // until the next message from the watch: its probe comes after 2 s of silence)
        assert!(
            h.until(Duration::from_secs(20), |a| a.model.revision_gap().is_none()
                && a.model.behind().is_none()
                && a.model.newest_unconfirmed().is_none())
                .await,
            "caught up: {}",
            describe(&h.app)
        );
        let screen = support::drive::screen(&h.app);
        assert!(screen.contains("● live"), "{screen}");
        // the log followers stayed within their cap
        assert!(h.app.model.log_warnings.contains_key("logs"));
    });
}

#[test]
fn values_too_large_to_hold_are_skipped_named_and_patrol_stays_up() {
    big_requests();
    let c = TestCluster::start_with(ClusterOptions::new(2));
    c.wait_healthy(Duration::from_secs(60));
    let rt = support::drive::rt();
    rt.block_on(async {
        let s = settings(&c);
        let mut h = Headless::start(&s, INTERVAL, Duration::from_secs(2)).expect("start");
        assert!(
            h.until(Duration::from_secs(30), |a| a
                .cluster()
                .is_some_and(|c| c.leader.is_some()))
                .await,
            "loaded: {}",
            describe(&h.app)
        );
        let mut etcd = Client::connect([c.etcd_url()], None)
            .await
            .expect("connect to etcd");
        let prefix = c.key_prefix();
        // over patrol's 1 MiB (skipped with its size), over a 4 MiB snapshot page (skipped
        // unread), over the 16 MiB one answer may be (the watch cannot take it either)
        let sizes = [
            ("big-a", 1200 * 1024),
            ("big-b", 1300 * 1024),
            ("big-c", 5 * 1024 * 1024),
            ("big-d", 17 * 1024 * 1024),
        ];
        for (name, n) in sizes {
            etcd.put(format!("{prefix}members/{name}"), "x".repeat(n), None)
                .await
                .expect("put a big value");
        }
        let warned = |a: &App| {
            a.cluster().is_some_and(|c| {
                sizes.iter().all(|(n, _)| {
                    c.warnings
                        .get(&format!("members/{n}"))
                        .is_some_and(|w| w.contains("over patrol's limit"))
                })
            })
        };
        let live = |a: &App| matches!(a.model.dcs, patrol::app::DcsHealth::Live { .. });
        // the watch broke on the 17 MiB event, took a new snapshot, and skipped it there
        assert!(
            h.until(Duration::from_secs(40), |a| live(a) && warned(a))
                .await,
            "live, the big values warned about: {} warnings {:?}",
            describe(&h.app),
            h.app.cluster().map(|c| c.warnings.clone())
        );
        let screen = support::drive::screen(&h.app);
        assert!(!screen.contains("DOWN"), "{screen}");
        assert!(!screen.contains("compacted"), "{screen}");
        assert!(screen.contains("skipped"), "{screen}");

        // a fresh start: the snapshot pages around them and says what it skipped
        let mut h2 = Headless::start(&s, INTERVAL, Duration::from_secs(2)).expect("start");
        assert!(
            h2.until(Duration::from_secs(30), |a| live(a)
                && a.model.loaded
                && warned(a)
                && a.cluster().is_some_and(|c| c.leader.is_some()))
                .await,
            "a snapshot with the big values: {} warnings {:?}",
            describe(&h2.app),
            h2.app.cluster().map(|c| c.warnings.clone())
        );
        let c2 = h2.app.cluster().expect("cluster");
        assert!(c2.warnings["members/big-d"].contains("not even read"));
        assert!(c2.warnings["members/big-c"].contains("not even read"));
        assert!(c2.warnings["members/big-a"].contains(&format!("{} bytes", 1200 * 1024)));
    });
}
