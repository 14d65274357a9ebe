//! Sample cluster states built from the fixtures captured on a real cluster
//! (tests/fixtures). Shared by the unit tests of `app` and the render snapshots.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use super::patrol_crate::app::{App, Msg};
use super::patrol_crate::dcs::{DcsEvent, RawKv};
use super::patrol_crate::patroni::PatroniStatus;

pub fn fixture(rel: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn kv(rel: &str, value: &[u8]) -> RawKv {
    RawKv {
        key: format!("/service/demo/{rel}"),
        value: value.to_vec(),
        lease: 0,
    }
}

/// pg3 is pg2's replica key with its own ports.
pub fn pg3_replica() -> Vec<u8> {
    String::from_utf8_lossy(&fixture("etcd/member_replica.json"))
        .replace("24022", "24023")
        .replace("24012", "24013")
        .into_bytes()
}

/// The healthy TL 1 cluster: pg1 leads, pg2 and pg3 stream.
pub fn healthy_kvs() -> Vec<RawKv> {
    vec![
        kv("config", &fixture("etcd/config.json")),
        kv("initialize", &fixture("etcd/initialize.txt")),
        kv("leader", &fixture("etcd/leader.txt")),
        kv("members/pg1", &fixture("etcd/member_leader.json")),
        kv("members/pg2", &fixture("etcd/member_replica.json")),
        kv("members/pg3", &pg3_replica()),
        kv("status", &fixture("etcd/status_before_switchover.json")),
    ]
}

pub fn snapshot(kvs: Vec<RawKv>) -> DcsEvent {
    DcsEvent::Snapshot {
        endpoint: "http://127.0.0.1:24000".into(),
        revision: 42,
        kvs,
    }
}

pub fn app(kvs: Vec<RawKv>, now: Instant) -> App {
    let mut app = App::new(
        "demo",
        "/service/",
        vec!["http://127.0.0.1:24000".into()],
        now,
    );
    app.update(Msg::Dcs(now, snapshot(kvs)));
    app
}

pub fn status(rel: &str) -> PatroniStatus {
    PatroniStatus::parse(&fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn rest_ok(app: &mut App, member: &str, s: PatroniStatus, at: Instant) {
    app.update(Msg::Rest {
        member: member.into(),
        at,
        result: Ok(Box::new(s)),
    });
}

pub fn rest_err(app: &mut App, member: &str, e: &str, at: Instant) {
    app.update(Msg::Rest {
        member: member.into(),
        at,
        result: Err(e.into()),
    });
}

/// A replica whose live position trails the leader by `behind` bytes.
pub fn replica_behind(behind: u64) -> PatroniStatus {
    let mut s = status("rest/patroni_replica.json");
    let top = 67108864 + 5 * 1024 * 1024;
    s.xlog.received_location = Some(top - behind / 2);
    s.xlog.replayed_location = Some(top - behind);
    s
}

/// Healthy cluster with every member answering REST; pg3 is 1.5 MiB behind on replay.
pub fn healthy_live(now: Instant) -> App {
    let mut a = app(healthy_kvs(), now);
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut a, "pg1", leader, now);
    rest_ok(&mut a, "pg2", replica_behind(0), now);
    rest_ok(&mut a, "pg3", replica_behind(1536 * 1024), now);
    a
}

pub fn later(now: Instant, secs: u64) -> Instant {
    now + Duration::from_secs(secs)
}
