//! Which logs are followed, in `update` terms: messages in, `FollowLogs` out.

use std::time::{Duration, Instant};

use super::*;
use crate::app::{App, AppConfig, Msg};
use crate::dcs::{DcsEvent, RawKv};

fn member(host: &str) -> Vec<u8> {
    serde_json::json!({
        "conn_url": format!("postgres://{host}:5432/postgres"),
        "api_url": "http://127.0.0.1:8008/patroni",
        "state": "running",
        "role": "replica",
    })
    .to_string()
    .into_bytes()
}

fn put(name: &str, value: Vec<u8>) -> DcsEvent {
    DcsEvent::Put(RawKv {
        key: format!("/service/demo/members/{name}"),
        value,
        lease: 0,
    })
}

fn delete(name: &str) -> DcsEvent {
    DcsEvent::Delete {
        key: format!("/service/demo/members/{name}"),
    }
}

/// One etcd event, and the queue drained after it (where the followers are planned).
fn dcs(a: &mut App, (at, ev): (Instant, DcsEvent)) -> Vec<Effect> {
    let mut eff = a.update(Msg::Dcs(at, ev));
    eff.extend(a.update(Msg::Drained(at)));
    eff
}

/// A loaded cluster with these members (name, conn_url host).
fn app(members: &[(&str, &str)], now: Instant) -> App {
    let mut a = App::new(
        AppConfig::new("demo", "/service/", vec!["http://e:1".into()]),
        now,
    );
    let kvs = members
        .iter()
        .map(|(n, h)| RawKv {
            key: format!("/service/demo/members/{n}"),
            value: member(h),
            lease: 0,
        })
        .collect();
    dcs(
        &mut a,
        (
            now,
            DcsEvent::Snapshot {
                endpoint: "http://e:1".into(),
                revision: 1,
                kvs,
            },
        ),
    );
    a
}

/// A loaded cluster of these (name, host) members, its logs followed over ssh from now.
fn following(hosts: &[(String, String)], now: Instant) -> (App, Vec<Effect>) {
    let refs: Vec<(&str, &str)> = hosts
        .iter()
        .map(|(n, h)| (n.as_str(), h.as_str()))
        .collect();
    let mut a = app(&refs, now);
    let eff = a.model.set_log_sources(spec(SSH), Default::default());
    (a, eff)
}

fn spec(s: &str) -> Option<LogSourceSpec> {
    Some(LogSourceSpec::parse(s).unwrap())
}

const SSH: &str = "cmd:ssh -o BatchMode=yes {host} journalctl -u patroni@{member} -f";

/// The (member, source) pairs of the last `FollowLogs` among `eff`.
fn followed(eff: &[Effect]) -> Option<Vec<(String, LogSourceSpec)>> {
    eff.iter().rev().find_map(|e| match e {
        Effect::FollowLogs(v) => Some(
            v.iter()
                .map(|(m, s)| (m.to_string(), s.spec().clone()))
                .collect(),
        ),
        _ => None,
    })
}

fn names(eff: &[Effect]) -> Option<Vec<String>> {
    followed(eff).map(|v| v.into_iter().map(|(m, _)| m).collect())
}

fn later(now: Instant, secs: u64) -> Instant {
    now + Duration::from_secs(secs)
}

#[test]
fn hostile_names_and_hosts_are_never_substituted_and_are_warned_about() {
    let now = Instant::now();
    let mut a = app(
        &[
            ("pg1", "10.0.0.1"),
            ("pg2", "[fe80::2]"),
            ("evil", "-oProxyCommand=touch x"),
            ("x;touch y", "10.0.0.3"),
            ("-x", "10.0.0.4"),
            ("..", "10.0.0.5"),
        ],
        now,
    );
    let eff = a.model.set_log_sources(spec(SSH), Default::default());
    assert_eq!(
        followed(&eff),
        Some(vec![
            (
                "pg1".into(),
                LogSourceSpec::Cmd(
                    "ssh -o BatchMode=yes 10.0.0.1 journalctl -u patroni@pg1 -f".into()
                )
            ),
            (
                "pg2".into(),
                LogSourceSpec::Cmd(
                    "ssh -o BatchMode=yes fe80::2 journalctl -u patroni@pg2 -f".into()
                )
            ),
        ])
    );
    let keys: Vec<&str> = a.model.log_warnings.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "members/-x",
            "members/..",
            "members/evil",
            "members/x;touch y"
        ]
    );
    assert!(a.model.log_warnings["members/evil"].contains("conn_url host"));
    assert!(a.model.log_warnings["members/x;touch y"].contains("member name"));
    // each also goes to patrol's own log, once
    let logged = eff
        .iter()
        .filter(|e| matches!(e, Effect::LogWarning(w) if w.starts_with("members/")))
        .count();
    assert_eq!(logged, 4);
    let eff = dcs(&mut a, (later(now, 1), put("pg3", member("10.0.0.6"))));
    assert!(!eff.iter().any(|e| matches!(e, Effect::LogWarning(_))));
    assert_eq!(
        names(&eff),
        Some(vec!["pg1".into(), "pg2".into(), "pg3".into()])
    );
}

#[test]
fn a_source_without_host_does_not_need_a_valid_one() {
    let now = Instant::now();
    let mut a = app(&[("pg1", "10.0.0.1"), ("pg2", "-oProxyCommand=x")], now);
    let eff = a
        .model
        .set_log_sources(spec("file:/var/log/{member}.log"), Default::default());
    assert_eq!(
        followed(&eff),
        Some(vec![
            ("pg1".into(), LogSourceSpec::File("/var/log/pg1.log".into())),
            ("pg2".into(), LogSourceSpec::File("/var/log/pg2.log".into())),
        ])
    );
    assert!(
        a.model.log_warnings.is_empty(),
        "{:?}",
        a.model.log_warnings
    );
}

#[test]
fn without_a_log_source_nothing_is_followed_or_warned() {
    let now = Instant::now();
    let mut a = app(&[("pg1", "10.0.0.1"), ("x;y", "-oProxyCommand=x")], now);
    assert!(a.model.set_log_sources(None, Default::default()).is_empty());
    assert!(a.model.log_warnings.is_empty());
}

#[test]
fn a_warning_goes_when_the_key_is_fixed() {
    let now = Instant::now();
    let mut a = app(&[("pg1", "-oProxyCommand=x")], now);
    a.model.set_log_sources(spec(SSH), Default::default());
    assert!(a.model.log_warnings.contains_key("members/pg1"));
    let eff = dcs(&mut a, (later(now, 1), put("pg1", member("10.0.0.1"))));
    assert_eq!(names(&eff), Some(vec!["pg1".into()]));
    assert!(a.model.log_warnings.is_empty());
    // and a host that turns hostile stops the follower
    let eff = dcs(&mut a, (later(now, 2), put("pg1", member("$(id)"))));
    assert_eq!(names(&eff), Some(vec![]));
    assert!(a.model.log_warnings.contains_key("members/pg1"));
}

#[test]
fn a_gone_member_is_followed_for_a_while_then_stopped() {
    let now = Instant::now();
    let mut a = app(&[("pg1", "10.0.0.1"), ("pg2", "10.0.0.2")], now);
    a.model.set_log_sources(spec(SSH), Default::default());
    let eff = dcs(&mut a, (later(now, 10), delete("pg2")));
    assert_eq!(
        names(&eff),
        None,
        "still followed: its log says why it left"
    );
    for s in [11, 60, 300, 309] {
        let eff = a.update(Msg::Tick(later(now, s)));
        assert_eq!(names(&eff), None, "{s}");
    }
    let eff = a.update(Msg::Tick(later(now, 310)));
    assert_eq!(names(&eff), Some(vec!["pg1".into()]));
    // nothing more to do afterwards
    assert_eq!(names(&a.update(Msg::Tick(later(now, 311)))), None);
    // back again: followed again
    let eff = dcs(&mut a, (later(now, 400), put("pg2", member("10.0.0.2"))));
    assert_eq!(names(&eff), Some(vec!["pg1".into(), "pg2".into()]));
}

#[test]
fn followers_are_capped_and_the_cap_is_warned_about() {
    let now = Instant::now();
    let hosts: Vec<(String, String)> = (0..70)
        .map(|i| (format!("m{i:03}"), format!("10.0.1.{i}")))
        .collect();
    let (mut a, eff) = following(&hosts, now);
    let first = names(&eff).unwrap();
    assert_eq!(first.len(), MAX_LOG_FOLLOWERS);
    assert_eq!(first.last().map(|s| s.as_str()), Some("m063"));
    assert_eq!(
        a.model.log_warnings.get("logs").map(|s| s.as_str()),
        Some("6 members' logs not followed: at most 64 followers")
    );
    let logged = |eff: &[Effect]| {
        eff.iter()
            .filter(|e| matches!(e, Effect::LogWarning(w) if w.starts_with("logs: ")))
            .count()
    };
    assert_eq!(logged(&eff), 1);
    // a newcomer does not push out a member already followed (nor logs the cap again)
    let eff = dcs(&mut a, (later(now, 1), put("a0", member("10.0.2.1"))));
    assert_eq!(names(&eff), None);
    assert_eq!(logged(&eff), 0);
    assert!(a.model.log_warnings["logs"].starts_with("7 "));
    // a followed member gone for long enough frees its place for a waiting one
    dcs(&mut a, (later(now, 2), delete("m000")));
    let eff = a.update(Msg::Tick(later(now, 2 + 300)));
    let now_followed = names(&eff).unwrap();
    assert_eq!(now_followed.len(), MAX_LOG_FOLLOWERS);
    assert!(!now_followed.contains(&"m000".to_string()));
    assert_eq!(now_followed.first().map(|s| s.as_str()), Some("a0"));
    assert!(a.model.log_warnings["logs"].starts_with("6 "));
    // the log followers never exceed the cap, whatever etcd holds
    for i in 0..500 {
        let eff = dcs(
            &mut a,
            (
                later(now, 400),
                put(&format!("junk{i}"), member("10.9.9.9")),
            ),
        );
        if let Some(n) = names(&eff) {
            assert!(n.len() <= MAX_LOG_FOLLOWERS);
        }
    }
    // (planned at most every PLAN_EVERY: the last of the burst is planned a moment later)
    a.update(Msg::Drained(later(now, 401)));
    assert!(a.model.log_warnings["logs"].starts_with("506 "));
}

#[test]
fn refusals_are_named_up_to_a_bound_and_counted_beyond_it() {
    let now = Instant::now();
    // 100 members whose conn_url host is refused, 3 good ones
    let hosts: Vec<(String, String)> = (0..100)
        .map(|i| (format!("bad{i:03}"), "$(reboot)".to_string()))
        .chain((0..3).map(|i| (format!("pg{i}"), format!("10.0.0.{i}"))))
        .collect();
    let (a, eff) = following(&hosts, now);
    assert_eq!(names(&eff).unwrap(), vec!["pg0", "pg1", "pg2"]);
    let w = &a.model.log_warnings;
    assert_eq!(w.len(), MAX_LOG_WARNINGS + 1, "{w:?}");
    assert!(w["members/bad000"].contains("conn_url host refused"));
    assert!(!w.contains_key(&format!("members/bad{MAX_LOG_WARNINGS:03}")));
    assert_eq!(
        w["members/…"],
        format!(
            "{} more members' logs not followed: names or hosts refused",
            100 - MAX_LOG_WARNINGS
        )
    );
    // the warnings logged are bounded the same way
    let logged = eff
        .iter()
        .filter(|e| matches!(e, Effect::LogWarning(_)))
        .count();
    assert_eq!(logged, MAX_LOG_WARNINGS + 1);
}
