//! What etcd holds must not decide how much patrol does or keeps: each bound, in `update`
//! terms (messages in, state and effects out). No timing here: the work per message is
//! measured by what it asks the runtime to do.

use std::time::{Duration, Instant};

use super::*;
use crate::dcs::RawKv;

use super::sample::*;

fn junk(name: &str) -> RawKv {
    kv(
        &format!("members/{name}"),
        br#"{"conn_url":"postgres://127.0.0.1:1/postgres","api_url":"http://127.0.0.1:1/patroni","state":"running","role":"replica"}"#,
    )
}

fn put(a: &mut App, kv: RawKv, at: Instant) -> Vec<Effect> {
    a.update(Msg::Dcs(at, DcsEvent::Put(kv)))
}

fn delete(a: &mut App, rel: &str, at: Instant) -> Vec<Effect> {
    a.update(Msg::Dcs(
        at,
        DcsEvent::Delete {
            key: format!("/service/demo/{rel}"),
        },
    ))
}

/// Members in the poll sets asked for by these effects.
fn poll_items(eff: &[Effect]) -> usize {
    eff.iter()
        .map(|e| match e {
            Effect::PollMembers(v) => v.len(),
            _ => 0,
        })
        .sum()
}

#[test]
fn ten_thousand_junk_members_cost_bounded_work_each_and_a_capped_poll_set() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    let n = 10_000;
    let (mut items, mut most) = (0usize, 0usize);
    for i in 0..n {
        let eff = put(&mut a, junk(&format!("junk{i:05}")), now);
        items += poll_items(&eff);
        most = most.max(poll_items(&eff));
    }
    for i in 0..n {
        let eff = a.update(Msg::Rest {
            member: format!("junk{i:05}"),
            at: now,
            result: Err("connection refused".into()),
        });
        items += poll_items(&eff);
    }
    assert_eq!(a.cluster().map(|c| c.members.len()), Some(n + 3));
    // every member is listed, only MAX_POLLED are polled, and the real ones among them
    assert_eq!(a.rows().len(), n + 3);
    assert!(most <= Model::MAX_POLLED, "a poll set of {most}");
    assert_eq!(a.model.polled().len(), Model::MAX_POLLED);
    assert_eq!(a.model.pollable(), n + 3);
    assert!(
        a.model.polled().iter().any(|(m, _)| m == "pg1"),
        "the leader"
    );
    // each new key changed the poll set at most until it was full: not O(n) per key
    assert!(
        items <= Model::MAX_POLLED * (Model::MAX_POLLED + 3),
        "{items} poll entries sent for {n} keys"
    );
    // and the junk goes again: no gone rows beyond the bound
    for i in 0..n {
        delete(&mut a, &format!("members/junk{i:05}"), now);
    }
    assert_eq!(a.cluster().map(|c| c.members.len()), Some(3));
    assert!(a.rows().len() <= 3 + cluster::MAX_GONE);
}

#[test]
fn members_that_answer_or_hold_a_lease_are_polled_before_junk() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    // junk sorting before the real replicas, more than the cap
    for i in 0..(Model::MAX_POLLED * 2) {
        put(&mut a, junk(&format!("aaa{i:03}")), now);
    }
    // pg2 is bound to a lease, as Patroni's member keys are
    let mut pg2 = kv("members/pg2", &fixture("etcd/member_replica.json"));
    pg2.lease = 7;
    put(&mut a, pg2, now);
    let polled = |a: &App, m: &str| a.model.polled().iter().any(|(n, _)| n == m);
    assert!(polled(&a, "pg1") && polled(&a, "pg2"));
    assert!(!polled(&a, "pg3"), "pg3 ranks with the junk by name");
    // pg3 answers once (it was polled before the junk came): it ranks above the junk
    rest_ok(&mut a, "pg3", replica_behind(0), now);
    assert!(polled(&a, "pg3"));
    assert_eq!(a.model.polled().len(), Model::MAX_POLLED);
}

#[test]
fn gone_rows_expire_and_are_capped() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    delete(&mut a, "members/pg3", now);
    assert!(a.rows().iter().any(|r| r.name == "pg3" && r.gone.is_some()));
    a.update(Msg::Tick(now + cluster::GONE_KEEP - Duration::from_secs(1)));
    assert!(a.rows().iter().any(|r| r.name == "pg3"), "still listed");
    a.update(Msg::Tick(now + cluster::GONE_KEEP));
    assert!(!a.rows().iter().any(|r| r.name == "pg3"), "expired");
    // thousands of members going at once leave at most MAX_GONE rows
    for i in 0..1000 {
        put(&mut a, junk(&format!("j{i:04}")), now);
    }
    for i in 0..1000 {
        delete(&mut a, &format!("members/j{i:04}"), now);
    }
    let gone = a.rows().iter().filter(|r| r.gone.is_some()).count();
    assert_eq!(gone, cluster::MAX_GONE);
    // the newest are kept
    assert!(a.rows().iter().any(|r| r.name == "j0999"));
}

#[test]
fn lag_history_goes_with_the_member() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    assert!(a.model.lag_history.contains_key("pg3"));
    delete(&mut a, "members/pg3", now);
    a.update(Msg::Tick(later(now, 1)));
    assert!(!a.model.lag_history.contains_key("pg3"));
    assert!(a.model.lag_history.contains_key("pg2"));
}

#[test]
fn the_event_log_is_bounded_in_bytes() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let big = "v".repeat(4 * 1024);
    // each config change changes 100 parameters of 4 KiB
    for i in 0..120 {
        let params: serde_json::Map<String, serde_json::Value> = (0..100)
            .map(|k| (format!("p{k}"), format!("{i}{big}").into()))
            .collect();
        let cfg = serde_json::json!({"ttl": 20, "postgresql": {"parameters": params}});
        put(&mut a, kv("config", cfg.to_string().as_bytes()), now);
    }
    let texts: Vec<String> = a.model.events.iter().map(|e| e.kind.text()).collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    assert!(texts.len() >= 10, "{} events", texts.len());
    assert!(bytes <= Model::MAX_EVENT_BYTES, "{bytes} bytes of events");
    assert!(
        texts.iter().all(|t| t.len() <= 64 * 1024),
        "one event is small"
    );
    assert_eq!(bytes, a.model.events_bytes());
}

#[test]
fn a_huge_member_value_is_a_warning_not_parsed() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    let tag = "x".repeat(cluster::MAX_MEMBER_VALUE);
    let v = format!(
        r#"{{"conn_url":"postgres://127.0.0.1:1/postgres","api_url":"http://127.0.0.1:1/patroni","state":"running","role":"replica","tags":{{"t":"{tag}"}}}}"#
    );
    put(&mut a, kv("members/huge", v.as_bytes()), now);
    let c = a.cluster().expect("cluster");
    assert!(!c.members.contains_key("huge"));
    let w = c.warnings.get("members/huge").expect("a warning");
    assert!(w.contains("over patrol's limit"), "{w}");
    // the rest is untouched
    assert_eq!(a.rows().len(), 3);
}

#[test]
fn the_model_knows_when_it_applies_etcd_changes_late() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    assert_eq!(a.model.behind(), None);
    // received at `now`, applied 5 s later: behind
    a.update(Msg::Now(later(now, 5)));
    a.dirty = false;
    put(&mut a, kv("leader", b"pg1"), now);
    assert_eq!(a.model.behind(), Some(Duration::from_secs(5)));
    assert!(a.dirty);
    // applied as it arrives: live again
    a.update(Msg::Now(later(now, 6)));
    a.update(Msg::Dcs(later(now, 6), DcsEvent::Progress { revision: 43 }));
    assert_eq!(a.model.behind(), None);
    // a change without an apply time (tests, replays) says nothing about lateness
    put(&mut a, kv("leader", b"pg1"), now);
    assert_eq!(a.model.behind(), None);
}
