//! The routing judgement from recorded HAProxy stats (the sandbox's HAProxy 2.6, ports
//! moved onto the sample cluster's) and the sample cluster's recorded etcd keys.

use std::time::{Duration, Instant};

use super::super::sample::{self, app_with, fixture, healthy_kvs, kv, later};
use super::*;
use crate::app::{App, Effect, Msg, View};
use crate::haproxy::{HaproxySpec, ServerStatus, parse_csv};

/// A recorded stats CSV with the sandbox's ports (41021..) as the sample's (24021..).
fn csv(name: &str) -> Stats {
    let text =
        String::from_utf8_lossy(&fixture(&format!("haproxy/{name}"))).replace("4102", "2402");
    parse_csv(text.as_bytes()).expect("recorded CSV parses")
}

fn spec() -> HaproxySpec {
    let mut s = HaproxySpec::parse("http://127.0.0.1:24032/").expect("spec");
    s.rw_address = Some("127.0.0.1:24030".into());
    s.ro_address = Some("127.0.0.1:24031".into());
    s
}

/// The healthy sample cluster (pg1 leads, pg2 and pg3 stream) with one HAProxy.
/// The sandbox's stats with the leader's server of the rw listener put into MAINT.
fn leader_rw_in_maint() -> Stats {
    let mut s = csv("sandbox.csv");
    let rw = s.proxies.iter_mut().find(|p| p.name == "rw").expect("rw");
    rw.servers[0].status = ServerStatus::Maint;
    s
}

fn app(now: Instant) -> App {
    app_with(|c| c.haproxy = vec![spec()], healthy_kvs(), now)
}

fn stats(app: &mut App, at: Instant, s: Stats) {
    app.update(Msg::Haproxy {
        source: 0,
        at,
        result: Ok(Box::new(s)),
    });
}

fn views(app: &App) -> Vec<ListenerView> {
    let facts = Facts::of(app.model.cluster());
    listeners(
        &app.model.routing.sources[0],
        &facts,
        &app.model.routing.health,
    )
}

fn listener<'a>(v: &'a [ListenerView], name: &str) -> &'a ListenerView {
    v.iter().find(|l| l.name == name).expect("listener")
}

#[test]
fn start_asks_for_each_haproxy_and_nothing_without_one() {
    let now = Instant::now();
    let mut a = app(now);
    let eff = a.start();
    assert!(eff.contains(&Effect::PollHaproxy(vec![spec()])), "{eff:?}");
    let mut plain = sample::app(healthy_kvs(), now);
    assert!(
        !plain
            .start()
            .iter()
            .any(|e| matches!(e, Effect::PollHaproxy(_))),
        "no HAProxy configured, none read"
    );
}

#[test]
fn a_healthy_cluster_routes_as_it_should() {
    let now = Instant::now();
    let mut a = app(now);
    stats(&mut a, now, csv("sandbox.csv"));
    let v = views(&a);
    let rw = listener(&v, "rw");
    assert_eq!(rw.purpose, Some((Purpose::ReadWrite, KnownBy::Name)));
    assert_eq!(rw.routes_to, ["pg1"]);
    assert_eq!(rw.wrong, None);
    // no addresses on this page (no show-legends): the server names are the members'
    assert_eq!(
        rw.servers[0].member,
        Some(("pg1".to_string(), MappedBy::Name))
    );
    let ro = listener(&v, "ro");
    assert_eq!(ro.purpose, Some((Purpose::ReadOnly, KnownBy::Name)));
    // pg3 is `UP 1/2` (one failed check): still routed to
    assert_eq!(ro.routes_to, ["pg2", "pg3"]);
    assert_eq!(ro.wrong, None);
    assert_eq!(ro.window, Duration::from_secs(4), "inter 2s × rise/fall 2");
    assert!(problems(&a.model.routing, later(now, 60)).is_empty());
    // the stats proxy has no servers: not a listener
    assert!(v.iter().all(|l| l.name != "stats"));
}

#[test]
fn rw_to_a_replica_is_a_problem_once_the_check_window_passed() {
    let now = Instant::now();
    let mut a = app(now);
    // recorded after a restart made pg3 the leader: rw routes to pg3; here pg1 leads
    stats(&mut a, now, csv("sandbox-legends.csv"));
    let v = views(&a);
    let rw = listener(&v, "rw");
    assert_eq!(
        rw.servers[2].member,
        Some(("pg3".to_string(), MappedBy::Address)),
        "mapped by the address HAProxy shows and the member's conn_url"
    );
    let w = rw.wrong.as_ref().expect("wrong");
    assert_eq!(w.severity, Severity::Critical);
    assert_eq!(w.message, "rw routes writes to pg3, not the leader pg1");
    assert_eq!(rw.servers[0].note.as_deref(), Some("leader, but DOWN"));
    // within HAProxy's window (2s × 2) it may be following a switchover: not yet
    let at = |a: &App, s| problems(&a.model.routing, later(now, s));
    assert!(at(&a, 3).is_empty(), "{:?}", at(&a, 3));
    // the same answer again later does not restart the clock
    stats(&mut a, later(now, 2), csv("sandbox-legends.csv"));
    let p = at(&a, 4);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(p[0].listener, "rw");
    assert_eq!(p[0].since, now);
    assert_eq!(p[0].message, "rw routes writes to pg3, not the leader pg1");
    // and ro routes reads to the leader pg1
    assert_eq!(p[1].listener, "ro");
    assert_eq!(p[1].severity, Severity::Warning);
    assert_eq!(
        p[1].message,
        "ro routes reads to pg1 (the leader): not a healthy replica"
    );
    // HAProxy catches up: gone at once
    stats(&mut a, later(now, 5), csv("sandbox.csv"));
    assert!(at(&a, 6).is_empty(), "{:?}", at(&a, 6));
    assert_eq!(a.model.routing_problems(), Vec::new());
}

#[test]
fn a_server_in_maint_shows_and_the_leader_in_maint_breaks_writes() {
    let now = Instant::now();
    let mut a = app(now);
    stats(&mut a, now, csv("sandbox-maint.csv"));
    let v = views(&a);
    let ro = listener(&v, "ro");
    let pg3 = ro
        .servers
        .iter()
        .find(|s| s.server.name == "pg3")
        .expect("pg3");
    assert_eq!(pg3.server.status, ServerStatus::Maint);
    assert!(!pg3.routes);
    assert_eq!(pg3.note.as_deref(), Some("healthy, but MAINT"));
    let w = ro.wrong.as_ref().expect("left out");
    assert_eq!(w.severity, Severity::Info);
    assert_eq!(w.message, "ro leaves out healthy replica pg3 (MAINT)");
    // the leader's rw server put into MAINT: writes go nowhere
    stats(&mut a, later(now, 1), leader_rw_in_maint());
    let p = problems(&a.model.routing, later(now, 10));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].severity, Severity::Critical);
    assert_eq!(
        p[0].message,
        "rw routes writes nowhere: the leader pg1 is MAINT there"
    );
}

#[test]
fn a_switchover_moves_the_expected_route() {
    let now = Instant::now();
    let mut a = app(now);
    stats(&mut a, now, csv("sandbox.csv"));
    // pg2 takes over (the keys recorded after a real switchover)
    a.update(Msg::Dcs(
        later(now, 1),
        crate::dcs::DcsEvent::Put(kv("leader", b"pg2")),
    ));
    a.update(Msg::Dcs(
        later(now, 1),
        crate::dcs::DcsEvent::Put(kv(
            "members/pg2",
            &fixture("etcd/member_leader_after_switchover.json"),
        )),
    ));
    let v = views(&a);
    assert_eq!(
        listener(&v, "rw")
            .wrong
            .as_ref()
            .map(|w| w.message.as_str()),
        Some("rw routes writes to pg1, not the leader pg2")
    );
}

#[test]
fn an_haproxy_that_does_not_answer_is_said() {
    let now = Instant::now();
    let mut a = app(now);
    a.update(Msg::Haproxy {
        source: 0,
        at: now,
        result: Err("connection refused\x1b[2J".into()),
    });
    let p = problems(&a.model.routing, now);
    assert_eq!(p.len(), 1);
    assert_eq!(
        p[0].message,
        "HAProxy 127.0.0.1:24032 does not answer: connection refused?[2J"
    );
    assert!(!p[0].message.contains('\x1b'));
}

#[test]
fn configured_listeners_win_and_the_others_are_not_judged() {
    let now = Instant::now();
    let mut a = app_with(
        |c| {
            let mut s = spec();
            // the names say the opposite: the config is believed
            s.rw = Some("ro".into());
            c.haproxy = vec![s];
        },
        healthy_kvs(),
        now,
    );
    stats(&mut a, now, csv("sandbox.csv"));
    let v = views(&a);
    assert_eq!(
        listener(&v, "ro").purpose,
        Some((Purpose::ReadWrite, KnownBy::Config))
    );
    assert_eq!(listener(&v, "rw").purpose, None);
    assert_eq!(listener(&v, "rw").wrong, None);
}

#[test]
fn the_check_path_is_guessed_from_the_health_answers() {
    let now = Instant::now();
    let mut a = app(now);
    let mut s = csv("sandbox.csv");
    for p in &mut s.proxies {
        p.name = match p.name.as_str() {
            "rw" => "alpha".into(),
            "ro" => "beta".into(),
            n => n.to_string(),
        };
    }
    stats(&mut a, now, s);
    assert!(
        views(&a).iter().all(|l| l.purpose.is_none()),
        "no names, no answers"
    );
    // the routing view opens: health endpoints asked for the polled members
    a.update(crate::app::tests::key('b'));
    assert_eq!(*a.screen.view(), View::Routing);
    assert_eq!(a.model.routing.health_polled.len(), 3);
    for (m, primary) in [("pg1", 200), ("pg2", 503), ("pg3", 503)] {
        let replica = if primary == 200 { 503 } else { 200 };
        a.update(Msg::Health {
            member: m.into(),
            at: later(now, 1),
            answers: vec![
                ("/primary".into(), Ok(primary)),
                ("/replica".into(), Ok(replica)),
            ],
        });
    }
    let v = views(&a);
    assert_eq!(
        listener(&v, "alpha").purpose,
        Some((Purpose::ReadWrite, KnownBy::Checks))
    );
    assert_eq!(
        listener(&v, "beta").purpose,
        Some((Purpose::ReadOnly, KnownBy::Checks))
    );
}

#[test]
fn health_answers_count_their_flips_and_stop_with_the_view() {
    let now = Instant::now();
    let mut a = app(now);
    let eff = a.update(crate::app::tests::key('b'));
    let Some(Effect::PollHealth(targets)) = eff.iter().find(|e| matches!(e, Effect::PollHealth(_)))
    else {
        panic!("no PollHealth in {eff:?}")
    };
    let names: Vec<&str> = targets.iter().map(|(m, _, _)| m.as_str()).collect();
    assert_eq!(names, ["pg1", "pg2", "pg3"]);
    // the lag asked with /replica?lag is the cluster's maximum_lag_on_failover
    assert!(
        targets.iter().all(|(_, _, lag)| *lag == 1048576),
        "{targets:?}"
    );
    let answer = |a: &mut App, s: u64, code: Result<u16, String>| {
        a.update(Msg::Health {
            member: "pg2".into(),
            at: later(now, s),
            answers: vec![("/replica".into(), code), ("/nonsense".into(), Ok(200))],
        })
    };
    answer(&mut a, 1, Ok(200));
    answer(&mut a, 2, Ok(503));
    answer(&mut a, 3, Err("timed out".into()));
    answer(&mut a, 4, Ok(200));
    answer(&mut a, 5, Ok(200));
    let pg2 = &a.model.routing.health["pg2"];
    assert_eq!(pg2.len(), 1, "unknown labels are dropped");
    let r = &pg2["/replica"];
    assert_eq!(r.code, Ok(200));
    assert_eq!(r.flips_since(later(now, 5)), 3);
    assert_eq!(
        r.flips_since(later(now, 2 + 300 + 1)),
        2,
        "older than 5 min"
    );
    // closing the view stops the polling and forgets the answers
    let eff = a.update(crate::app::tests::key('b'));
    assert!(eff.contains(&Effect::PollHealth(Vec::new())), "{eff:?}");
    assert!(a.model.routing.health.is_empty());
    // a late answer is dropped
    answer(&mut a, 6, Ok(503));
    assert!(a.model.routing.health.is_empty());
}

#[test]
fn connection_strings_through_haproxy_say_where_they_land() {
    let now = Instant::now();
    let mut a = app(now);
    stats(&mut a, now, csv("sandbox.csv"));
    let cs = a.model.connection_strings();
    let hap: Vec<(&str, &str)> = cs
        .iter()
        .filter(|c| c.label.contains("HAProxy"))
        .map(|c| (c.label.as_str(), c.text.as_str()))
        .collect();
    assert_eq!(
        hap,
        [
            (
                "read-write through HAProxy 127.0.0.1:24032 (rw → pg1)",
                "postgresql://127.0.0.1:24030/postgres"
            ),
            (
                "read-only through HAProxy 127.0.0.1:24032 (ro → pg2, pg3)",
                "postgresql://127.0.0.1:24031/postgres"
            ),
        ]
    );
}

#[test]
fn stats_redraw_only_the_views_that_show_them() {
    let now = Instant::now();
    let mut a = app(now);
    a.drawn(false);
    // the main view shows nothing of HAProxy: a new answer costs no frame
    stats(&mut a, now, csv("sandbox.csv"));
    assert!(!a.dirty, "a frame on the main view for HAProxy's stats");
    a.update(crate::app::tests::key('b'));
    a.drawn(false);
    stats(&mut a, later(now, 1), csv("sandbox-maint.csv"));
    assert!(a.dirty, "the routing view shows the new stats");
    a.drawn(false);
    // the same answer again changes nothing drawn
    stats(&mut a, later(now, 2), csv("sandbox-maint.csv"));
    assert!(!a.dirty);
}

/// Which routing rules are active after the runtime drained its queue at `at`.
fn routing_findings(a: &mut App, at: Instant) -> Vec<(&'static str, String)> {
    a.update(Msg::Drained(at));
    a.health
        .findings()
        .iter()
        .filter(|f| matches!(f.subject, crate::app::diagnosis::Subject::Haproxy(_)))
        .map(|f| (f.rule, f.message.clone()))
        .collect()
}

#[test]
fn routing_problems_are_health_findings_raised_after_the_window_and_cleared() {
    use crate::app::diagnosis::{Severity as Sev, Subject};
    let now = Instant::now();
    let mut a = app(now);
    stats(&mut a, now, csv("sandbox.csv"));
    assert_eq!(routing_findings(&mut a, now), vec![]);
    // the leader's rw server put into MAINT at 1 s: HAProxy's window is 2s × 2
    let maint = leader_rw_in_maint();
    let want = (
        "routing-rw",
        "rw routes writes nowhere: the leader pg1 is MAINT there".to_string(),
    );
    for s in 1..=6 {
        stats(&mut a, later(now, s), maint.clone());
        let found = routing_findings(&mut a, later(now, s));
        assert_eq!(found.contains(&want), s >= 5, "at {s}s: {found:?}");
    }
    let f = a
        .health
        .findings()
        .iter()
        .find(|f| f.rule == "routing-rw")
        .expect("raised");
    assert_eq!(f.severity, Sev::Critical);
    assert_eq!(f.subject, Subject::Haproxy("127.0.0.1:24032 rw".into()));
    assert_eq!(a.health.worst(), Some(Sev::Critical), "the header's badge");
    // ready again: cleared at the next stats, and both are events
    stats(&mut a, later(now, 7), csv("sandbox.csv"));
    assert_eq!(routing_findings(&mut a, later(now, 7)), vec![]);
    let texts: Vec<String> = a.model.events.iter().map(|e| e.kind.text()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("[routing-rw]") && t.contains("MAINT")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("✓ cleared [routing-rw]")),
        "{texts:?}"
    );
}

#[test]
fn reads_routed_to_the_leader_and_an_haproxy_that_stops_answering_are_findings() {
    let now = Instant::now();
    let mut a = app(now);
    // rw → pg3 and ro → pg1 while pg1 leads; only a leave-out (Info) is not raised
    for s in 0..=5 {
        stats(&mut a, later(now, s), csv("sandbox-legends.csv"));
        routing_findings(&mut a, later(now, s));
    }
    let rules: Vec<&str> = routing_findings(&mut a, later(now, 5))
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    assert_eq!(rules, ["routing-rw", "routing-ro"]);
    let mut a = app(now);
    stats(&mut a, now, csv("sandbox-maint.csv"));
    assert_eq!(
        routing_findings(&mut a, later(now, 10)),
        vec![],
        "ro leaving out a healthy replica in MAINT is the routing view's, not a finding"
    );
    // the stats page fails: raised once it failed for 5 s, cleared by the next answer
    for s in 11..=17 {
        a.update(Msg::Haproxy {
            source: 0,
            at: later(now, s),
            result: Err("connection refused".into()),
        });
        let found = routing_findings(&mut a, later(now, s));
        assert_eq!(
            found.iter().any(|(r, _)| *r == "haproxy-down"),
            s >= 16,
            "at {s}s: {found:?}"
        );
    }
    stats(&mut a, later(now, 18), csv("sandbox.csv"));
    assert_eq!(routing_findings(&mut a, later(now, 18)), vec![]);
}

#[test]
fn one_look_reports_a_wrong_listener_without_the_window() {
    let now = Instant::now();
    let mut a = app(now);
    a.model.routing.one_look = true;
    let maint = leader_rw_in_maint();
    stats(&mut a, now, maint);
    let p = problems(&a.model.routing, now);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        p[0].message,
        "rw routes writes nowhere: the leader pg1 is MAINT there"
    );
    // and `patrol check` prints it as the routing-rw finding
    let (st, text) = crate::check::report(
        &a.model,
        &crate::app::diagnosis::Thresholds::default(),
        crate::check::CheckFormat::Nagios,
    );
    assert_eq!(st, crate::check::Status::Critical, "{text}");
    assert!(
        text.lines().any(|l| l
            == "CRITICAL [routing-rw] rw routes writes nowhere: the leader pg1 is MAINT there"),
        "{text}"
    );
}
