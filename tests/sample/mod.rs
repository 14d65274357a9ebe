//! Sample cluster states built from the fixtures captured on a real cluster
//! (tests/fixtures). Shared by the unit tests of `app` and the render snapshots.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use super::patrol_crate::app::{App, AppConfig, Msg};
use super::patrol_crate::dcs::{DcsEvent, RawKv};
use super::patrol_crate::patroni::PatroniStatus;

/// A deliberate person's pace: each key of these tests comes this long after the one
/// before, past both the burst window and the hold after a changed request, so the tests of
/// everything else never meet those gates (the tests of the gates give their own times).
pub const HUMAN: Duration = Duration::from_millis(1100);

thread_local! {
    static TYPIST: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// When the next key of a deliberate person arrives: one [`HUMAN`] after the last.
pub fn human() -> Instant {
    TYPIST.with(|t| {
        let next = t.get().map_or_else(Instant::now, |last| last + HUMAN);
        t.set(Some(next));
        next
    })
}

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
    app_with(|_| {}, kvs, now)
}

/// Like [`app`], with the config changed by `f` first (keys, read-only, logs ...).
pub fn app_with(f: impl FnOnce(&mut AppConfig), kvs: Vec<RawKv>, now: Instant) -> App {
    let mut cfg = AppConfig::new("demo", "/service/", vec!["http://127.0.0.1:24000".into()]);
    f(&mut cfg);
    let mut app = App::new(cfg, now);
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
    healthy_live_with(|_| {}, now)
}

/// Like [`healthy_live`], with the config changed by `f` first.
pub fn healthy_live_with(f: impl FnOnce(&mut AppConfig), now: Instant) -> App {
    let mut a = app_with(f, healthy_kvs(), now);
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut a, "pg1", leader, now);
    rest_ok(&mut a, "pg2", replica_behind(0), now);
    rest_ok(&mut a, "pg3", replica_behind(1536 * 1024), now);
    assert_consistent(&a);
    a
}

pub fn later(now: Instant, secs: u64) -> Instant {
    now + Duration::from_secs(secs)
}

// ------------------------------------------------------------------ whole captured states

/// One cluster state captured as a whole by `scripts/capture-states`
/// (`tests/fixtures/states/<name>/`): every key under the prefix and every member's
/// `GET /patroni`, the replicas read before the leader.
pub struct State {
    pub kvs: Vec<RawKv>,
    /// `(member, body)`, replicas first, the leader last (the order they were read in).
    pub rest: Vec<(String, PatroniStatus)>,
}

/// `etcdctl get --prefix` output: a key line, then its value line.
fn parse_get_prefix(text: &str) -> Vec<RawKv> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(2)
        .map(|kv| {
            let [k, v] = kv else {
                panic!("etcdctl output ends with a key and no value: {kv:?}")
            };
            RawKv {
                key: k.to_string(),
                value: v.as_bytes().to_vec(),
                lease: 0,
            }
        })
        .collect()
}

pub fn state(name: &str) -> State {
    let dir = format!("states/{name}");
    let kvs = parse_get_prefix(&String::from_utf8_lossy(&fixture(&format!(
        "{dir}/etcd.txt"
    ))));
    let leader = kvs
        .iter()
        .find(|k| k.key.ends_with("/leader"))
        .map(|k| String::from_utf8_lossy(&k.value).to_string());
    let mut members: Vec<String> = kvs
        .iter()
        .filter_map(|k| k.key.rsplit_once("/members/").map(|(_, m)| m.to_string()))
        .collect();
    // the leader last: it was read last
    members.sort_by_key(|m| Some(m) == leader.as_ref());
    let rest = members
        .into_iter()
        .map(|m| {
            let s = status(&format!("{dir}/rest_{m}.json"));
            (m, s)
        })
        .collect();
    State { kvs, rest }
}

/// The app after the state's snapshot and two polling rounds (1 s apart, the second at
/// `now`) in which every member answered what it answered in the capture; panics when the
/// result is not a state a real cluster can be in.
pub fn live(name: &str, now: Instant) -> App {
    let State { kvs, rest } = state(name);
    let first = now.checked_sub(Duration::from_secs(1)).unwrap_or(now);
    let mut a = app(kvs, first);
    for at in [first, now] {
        for (m, s) in &rest {
            rest_ok(&mut a, m, s.clone(), at);
        }
    }
    assert_consistent(&a);
    a
}

/// Why this app's cluster is not a state a real cluster can be in (empty: it can be).
/// Positions are compared only within one timeline.
pub fn inconsistencies(app: &App) -> Vec<String> {
    let mut out = Vec::new();
    let Some(c) = app.cluster() else {
        return out;
    };
    let Some(leader) = c.leader.clone() else {
        return out;
    };
    let key = c.members.get(&leader);
    let rest = c
        .rest
        .get(&leader)
        .and_then(|r| r.ok.as_ref())
        .map(|(_, s)| s);
    let tl = rest
        .and_then(|s| s.timeline)
        .or(key.and_then(|k| k.timeline));
    // positions: what the leader's key says, and what its REST API said
    let key_top = key.and_then(|k| k.xlog_location);
    let rest_top = rest.and_then(|s| s.xlog.location);
    for (m, k) in &c.members {
        if *m == leader || k.timeline != tl {
            continue;
        }
        for (what, v) in [
            ("receive_lsn", k.receive_lsn),
            ("replay_lsn", k.replay_lsn),
            ("xlog_location", k.xlog_location),
        ] {
            if let (Some(v), Some(top)) = (v, key_top)
                && v > top
            {
                out.push(format!(
                    "{m}'s key has {what} {v}, ahead of leader {leader}'s {top}"
                ));
            }
        }
        if let Some(s) = c.rest.get(m).and_then(|r| r.ok.as_ref()).map(|(_, s)| s)
            && s.timeline == tl
        {
            for (what, v) in [
                ("received_location", s.xlog.received_location),
                ("replayed_location", s.xlog.replayed_location),
            ] {
                if let (Some(v), Some(top)) = (v, rest_top)
                    && v > top
                {
                    out.push(format!(
                        "{m}'s REST {what} {v} is ahead of leader {leader}'s location {top}"
                    ));
                }
            }
        }
    }
    if let Some(f) = &c.failover
        && let Some(from) = &f.leader
        && *from != leader
    {
        out.push(format!(
            "the failover key switches over from {from}, but {leader} leads"
        ));
    }
    if let Some(f) = &c.failover
        && f.member.as_ref() == Some(&leader)
    {
        out.push(format!(
            "the failover key's candidate {leader} already leads"
        ));
    }
    match (c.history.last(), tl) {
        (Some(h), Some(tl)) if h.timeline + 1 != tl => out.push(format!(
            "history ends with timeline {}, but the leader is on timeline {tl}",
            h.timeline
        )),
        (None, Some(tl)) if tl != 1 => {
            out.push(format!("no history, but the leader is on timeline {tl}"))
        }
        _ => {}
    }
    if let (Some(h), Some(top)) = (c.history.last(), rest_top.or(key_top))
        && h.lsn > top
    {
        out.push(format!(
            "history's last switch point {} is ahead of the leader's position {top}",
            h.lsn
        ));
    }
    out
}

pub fn assert_consistent(app: &App) {
    let bad = inconsistencies(app);
    assert!(
        bad.is_empty(),
        "not a state a real cluster can be in:\n  {}",
        bad.join("\n  ")
    );
}
