//! Routing truth on a real cluster behind the sandbox's real HAProxy (Debian's haproxy,
//! the usual Patroni template): patrol's model says what HAProxy routes to, `psql` through
//! the read-write port reaches the leader and through the read-only port a replica, a
//! switchover moves both HAProxy and the model to the new leader, and a server forced into
//! MAINT shows as MAINT and is raised as the `routing-rw` health finding (an event; `patrol
//! check`, the real binary, exits CRITICAL naming it), cleared when it is ready again.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use patrol::app::App;
use patrol::app::routing::{Facts, ListenerView, Severity, listeners};
use patrol::haproxy::{HaproxySpec, ServerStatus};
use patrol::runtime::Headless;
use support::drive::{rt, settings};
use support::{Options, TestCluster, healthy};

const PSQL: &str = "/usr/lib/postgresql/15/bin/psql";
/// scripts/cluster's superuser password (a sandbox secret, not a credential).
const PGPASSWORD: &str = "sandbox-postgres-secret";

/// `select pg_is_in_recovery(), inet_server_port()` through a port: ("f"/"t", port).
fn through(port: u16) -> Option<(String, u16)> {
    let out = Command::new(PSQL)
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-F",
            " ",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
        ])
        .args(["-p", &port.to_string(), "-d", "postgres"])
        .args(["-c", "select pg_is_in_recovery(), inet_server_port()"])
        .env("PGPASSWORD", PGPASSWORD)
        .env("PGCONNECT_TIMEOUT", "3")
        .stdin(Stdio::null())
        .output()
        .expect("run psql");
    if !out.status.success() {
        eprintln!(
            "psql through {port}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (rec, p) = text.split_once(' ')?;
    Some((rec.to_string(), p.parse().ok()?))
}

/// `patrol check -f json` told the sandbox's HAProxy.
fn check_with_haproxy(c: &TestCluster) -> std::process::Output {
    support::patrol_check(c, &["--haproxy", &c.haproxy_url()], "json")
}

fn rw_ro(app: &App) -> Option<(ListenerView, ListenerView)> {
    let src = app.model.routing.sources.first()?;
    let v = listeners(
        src,
        &Facts::of(app.model.cluster()),
        &app.model.routing.health,
    );
    let find = |n: &str| v.iter().find(|l| l.name == n).cloned();
    Some((find("rw")?, find("ro")?))
}

fn describe(app: &App) -> String {
    let mut s = format!(
        "leader: {:?}\n",
        app.cluster().and_then(|c| c.leader.clone())
    );
    if let Some(src) = app.model.routing.sources.first() {
        s.push_str(&format!("error: {:?}\n", src.error));
        for l in listeners(
            src,
            &Facts::of(app.model.cluster()),
            &app.model.routing.health,
        ) {
            s.push_str(&format!(
                "{} → {:?} wrong {:?}\n",
                l.name, l.routes_to, l.wrong
            ));
            for v in &l.servers {
                s.push_str(&format!(
                    "   {} {:?} {:?} {}\n",
                    v.server.name, v.server.status, v.member, v.server.check_status
                ));
            }
        }
    }
    s.push_str(&format!("problems: {:?}\n", app.model.routing_problems()));
    s
}

#[test]
fn haproxy_routes_follow_a_switchover_and_maint_is_reported() {
    let c = TestCluster::start_with(Options::new(3).haproxy());
    let haproxy_pid = c.haproxy_pid().expect("HAProxy runs");
    let rt = rt();
    rt.block_on(async {
        let s = settings(c.config_path());
        let mut h =
            Headless::start(&s, Duration::from_millis(500), Duration::from_secs(2)).expect("start");
        let spec = HaproxySpec::parse(&format!(
            "{},rw_address=127.0.0.1:{},ro_address=127.0.0.1:{},inter=1s",
            c.haproxy_url(),
            c.haproxy_rw_port(),
            c.haproxy_ro_port()
        ))
        .expect("spec");
        h.set_haproxy(vec![spec]);
        assert!(
            h.until(Duration::from_secs(30), healthy).await,
            "healthy model:\n{}",
            describe(&h.app)
        );
        let leader = c.leader().expect("leader");
        // HAProxy's checks settle (rise 2 × inter 1s) and patrol reads them
        let settled = |a: &App, leader: &str| {
            rw_ro(a).is_some_and(|(rw, ro)| {
                rw.routes_to == [leader.to_string()]
                    && rw.wrong.is_none()
                    && ro.routes_to.len() == 2
                    && ro.wrong.is_none()
            })
        };
        assert!(
            h.until(Duration::from_secs(20), |a| settled(a, &leader))
                .await,
            "rw → {leader}, ro → both replicas:\n{}",
            describe(&h.app)
        );
        assert_eq!(h.app.model.routing_problems(), Vec::new());
        // the servers were mapped to members by address (the stats page shows them)
        let (rw, _) = rw_ro(&h.app).expect("listeners");
        assert!(
            rw.servers
                .iter()
                .all(|v| v.member.as_ref().is_some_and(|(m, by)| {
                    *m == v.server.name && *by == patrol::app::routing::MappedBy::Address
                })),
            "{}",
            describe(&h.app)
        );

        // what a client gets through the ports
        let (rec, port) = through(c.haproxy_rw_port()).expect("psql through rw");
        assert_eq!(rec, "f", "rw reaches a primary");
        assert_eq!(port, c.pg_port(&leader), "rw reaches the leader {leader}");
        let (rec, port) = through(c.haproxy_ro_port()).expect("psql through ro");
        assert_eq!(rec, "t", "ro reaches a replica");
        assert_ne!(port, c.pg_port(&leader));

        // a switchover: HAProxy follows, and the model shows it
        let candidate = c
            .member_names()
            .into_iter()
            .find(|m| *m != leader)
            .expect("a replica");
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
        assert!(
            h.until(Duration::from_secs(60), |a| {
                a.cluster().and_then(|c| c.leader.as_deref()) == Some(candidate.as_str())
                    && rw_ro(a).is_some_and(|(rw, _)| rw.routes_to == [candidate.clone()])
            })
            .await,
            "rw → the new leader {candidate}:\n{}",
            describe(&h.app)
        );
        eprintln!(
            "rw backend serving {candidate} in the model {:?} after patronictl returned",
            t.elapsed()
        );
        let mut reached = None;
        for _ in 0..20 {
            reached = through(c.haproxy_rw_port());
            if reached.as_ref().is_some_and(|(r, _)| r == "f") {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let (rec, port) = reached.expect("psql through rw after the switchover");
        assert_eq!(rec, "f");
        assert_eq!(port, c.pg_port(&candidate), "rw reaches the new leader");

        // the leader's read-write server forced into MAINT: shown, and reported once
        // HAProxy's window (inter 1s × rise/fall 2) has passed
        assert!(
            h.until(Duration::from_secs(30), |a| settled(a, &candidate))
                .await,
            "settled after the switchover:\n{}",
            describe(&h.app)
        );
        c.haproxy_state("maint", &candidate, Some("rw"));
        let want = format!("rw routes writes nowhere: the leader {candidate} is MAINT there");
        let t = Instant::now();
        // a health finding like any other: the header's badge, the Health view, an event,
        // `patrol check`
        let raised = |a: &App| {
            a.health.findings().iter().any(|f| {
                f.rule == "routing-rw"
                    && f.message == want
                    && f.severity == patrol::app::diagnosis::Severity::Critical
            })
        };
        assert!(
            h.until(Duration::from_secs(20), |a| {
                raised(a)
                    && a.model
                        .routing_problems()
                        .iter()
                        .any(|p| p.message == want && p.severity == Severity::Critical)
            })
            .await,
            "{want}:\n{}",
            describe(&h.app)
        );
        eprintln!(
            "MAINT reported {:?} after scripts/cluster maint",
            t.elapsed()
        );
        // `patrol check` (the real binary) reads HAProxy once and says the same: CRITICAL
        let o = check_with_haproxy(&c);
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        assert_eq!(o.status.code(), Some(2), "{text}");
        let v: serde_json::Value = serde_json::from_str(text.trim()).expect("check's JSON");
        assert!(
            v["findings"].as_array().is_some_and(|f| f
                .iter()
                .any(|f| f["rule"] == "routing-rw" && f["message"] == want.as_str())),
            "{text}"
        );
        let (rw, _) = rw_ro(&h.app).expect("listeners");
        let server = rw
            .servers
            .iter()
            .find(|v| v.server.name == candidate)
            .expect("the leader's server");
        assert_eq!(server.server.status, ServerStatus::Maint);
        assert!(
            through(c.haproxy_rw_port()).is_none(),
            "no server: psql fails"
        );
        // and back
        c.haproxy_state("ready", &candidate, Some("rw"));
        assert!(
            h.until(Duration::from_secs(20), |a| {
                settled(a, &candidate)
                    && a.model.routing_problems().is_empty()
                    && !a.health.active("routing-rw")
            })
            .await,
            "ready again:\n{}",
            describe(&h.app)
        );
        let events: Vec<String> = h.app.model.events.iter().map(|e| e.kind.text()).collect();
        assert!(
            events
                .iter()
                .any(|e| e.contains("[routing-rw]") && e.contains(&want))
                && events
                    .iter()
                    .any(|e| e.starts_with("✓ cleared [routing-rw]")),
            "the raise and the clear are events: {events:#?}"
        );
    });
    drop(rt);
    drop(c);
    // the cluster's stop took HAProxy with it
    let deadline = Instant::now() + Duration::from_secs(5);
    while support::pid_alive(haproxy_pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !support::pid_alive(haproxy_pid),
        "HAProxy {haproxy_pid} outlived its cluster"
    );
}
