//! etcd v2: Patroni rewrites `leader` and every member key each loop with a TTL. A rewrite
//! that changes nothing must cost no parse, frame or event; the lock countdown comes from
//! the leader key's own TTL.

use std::time::Instant;

use super::sample::*;
use super::*;
use crate::dcs::DcsEvent;

fn ttl(a: &mut App, rel: &str, ttl: i64, at: Instant) {
    a.update(Msg::Dcs(
        at,
        DcsEvent::Ttl {
            key: format!("/service/demo/{rel}"),
            ttl,
        },
    ));
}

fn put_at(a: &mut App, rel: &str, value: &[u8], at: Instant) {
    a.update(Msg::Dcs(at, DcsEvent::Put(kv(rel, value))));
}

#[test]
fn unchanged_rewrites_cost_no_frame_and_no_event() {
    let now = Instant::now();
    let mut a = healthy_live(now);
    let kvs = healthy_kvs();
    // the REST answers settle the model first (trend column, pollers)
    a.update(Msg::Tick(later(now, 1)));
    a.dirty = false;
    let events = a.model.events.len();
    for s in 2..20 {
        // the REST answers of that second (they move the header's sign of life)
        let mut leader = status("rest/patroni_leader.json");
        leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
        rest_ok(&mut a, "pg1", leader, later(now, s));
        rest_ok(&mut a, "pg2", replica_behind(0), later(now, s));
        rest_ok(&mut a, "pg3", replica_behind(1536 * 1024), later(now, s));
        a.drawn(false);
        // one Patroni loop: every key rewritten as it was, the index moving on
        for k in &kvs {
            a.update(Msg::Dcs(later(now, s), DcsEvent::Put(k.clone())));
        }
        assert!(
            !a.dirty,
            "loop {s}: a rewrite of the same values is not drawn"
        );
        a.update(Msg::Dcs(
            later(now, s),
            DcsEvent::Progress {
                revision: 100 + s as i64,
            },
        ));
        // (the header's sign of life moves with the second's answers: one frame for it)
        a.drawn(false);
        assert!(
            a.model.take_changed().is_empty(),
            "loop {s}: nothing changed"
        );
    }
    assert_eq!(a.model.events.len(), events, "no event-log entry");
    // the revision moved without a frame; the next frame shows it
    assert!(matches!(a.model.dcs, DcsHealth::Live { revision: 119, .. }));
    // a rewrite still says the member key is current (the age of DCS-derived figures)
    assert_eq!(
        a.cluster().unwrap().member_written.get("pg2"),
        Some(&later(now, 19))
    );

    // a real change is drawn and logged
    let paused = String::from_utf8_lossy(&fixture("etcd/member_replica.json"))
        .replace("\"state\": \"running\"", "\"state\": \"stopped\"")
        .replace("\"state\":\"running\"", "\"state\":\"stopped\"");
    assert!(paused.contains("stopped"), "fixture has a running state");
    put_at(&mut a, "members/pg2", paused.as_bytes(), later(now, 20));
    assert!(a.dirty, "a changed member key is drawn");
    // the same key written back is a change again, then its rewrite is not
    put_at(
        &mut a,
        "members/pg2",
        &fixture("etcd/member_replica.json"),
        later(now, 21),
    );
    a.dirty = false;
    put_at(
        &mut a,
        "members/pg2",
        &fixture("etcd/member_replica.json"),
        later(now, 22),
    );
    assert!(!a.dirty);
}

#[test]
fn a_deleted_key_written_again_is_a_change() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    a.update(Msg::Dcs(
        later(now, 1),
        DcsEvent::Delete {
            key: "/service/demo/leader".into(),
        },
    ));
    assert_eq!(a.cluster().unwrap().leader, None);
    a.dirty = false;
    put_at(&mut a, "leader", b"pg1", later(now, 2));
    assert_eq!(a.cluster().unwrap().leader.as_deref(), Some("pg1"));
    assert!(a.dirty);
}

#[test]
fn the_lock_counts_down_from_the_leader_keys_own_ttl() {
    let now = Instant::now();
    let mut a = app(healthy_kvs(), now);
    assert_eq!(a.model.lock_left(), None);
    // another key's TTL (a member's) is not the lock
    ttl(&mut a, "members/pg1", 7, now);
    assert_eq!(a.model.lock_left(), None);
    // the snapshot's TTL is what is left; the config's ttl is what was granted
    ttl(&mut a, "leader", 13, now);
    let granted = a
        .cluster()
        .and_then(|c| c.config.as_ref())
        .and_then(|k| k.ttl)
        .map_or(13, |t| (t as i64).max(13));
    assert_eq!(a.model.lock_left(), Some((13, granted)));
    a.update(Msg::Tick(later(now, 5)));
    assert_eq!(a.model.lock_left(), Some((8, granted)));
    // Patroni's next loop rewrites the key: the countdown starts again, and the unchanged
    // value costs no frame for the cluster (only the lock's figure, when it changes)
    put_at(&mut a, "leader", b"pg1", later(now, 6));
    ttl(&mut a, "leader", 20, later(now, 6));
    assert_eq!(a.model.lock_left(), Some((20, granted.max(20))));
    assert!(a.model.events.is_empty());
    // the key expires: no lock
    a.update(Msg::Dcs(
        later(now, 30),
        DcsEvent::Delete {
            key: "/service/demo/leader".into(),
        },
    ));
    assert_eq!(a.model.lock_left(), None);
    // no v3 lease is asked for on v2 (no lease on any key)
    let eff = a.update(Msg::Dcs(later(now, 31), snapshot(healthy_kvs())));
    assert!(
        !eff.iter().any(|e| matches!(e, Effect::WatchLease(_))),
        "{eff:?}"
    );
    assert_eq!(a.model.lock_left(), None, "the snapshot's Ttl follows it");
}
