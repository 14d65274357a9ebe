//! The next-leader prediction against a real election: SIGKILL the leader while one rule
//! decides the outcome (a replica tagged `nofailover`; `failover_priority` between replicas
//! at the same position; a replica whose received position is behind, its WAL receiver
//! stopped while the leader writes). While the lock still counts down patrol names the
//! winner, and that member becomes the leader (and the event log says the prediction held).

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use patrol::runtime::Headless;
use support::TestCluster;
use support::drive::{describe, rt, settings};
use support::healthy;

async fn start(cfg: &Path) -> Headless {
    let mut h = Headless::start(
        &settings(cfg),
        Duration::from_millis(500),
        Duration::from_secs(2),
    )
    .expect("start");
    h.configure(None, true);
    let ok = h.until(Duration::from_secs(60), healthy).await;
    assert!(ok, "healthy:\n{}", describe(&h.app));
    h
}

#[test]
fn sigkill_the_leader_with_a_nofailover_replica_the_other_is_predicted_and_elected() {
    let c = TestCluster::start(3);
    let (leader, tagged, other) = roles(&c);
    tag(&c, &tagged, "  nofailover: true");

    rt().block_on(async {
        let mut h = start(c.config_path()).await;
        let seen = h
            .until(Duration::from_secs(60), |a| {
                a.judgement.election.as_ref().is_some_and(|r| {
                    r.excluded.iter().any(|(n, e)| {
                        *n == tagged && *e == patrol::app::election::Exclusion::NoFailover
                    }) && r.winners() == [other.as_str()]
                })
            })
            .await;
        assert!(
            seen,
            "the ranking while healthy: {:?}\n{}",
            h.app.judgement.election,
            describe(&h.app)
        );

        // the prediction is on screen while the old leader still holds the lock
        let r = kill_and_check(&mut h, &c, &leader, &other).await;
        assert!(
            r.line().contains(&format!("{tagged} excluded: nofailover")),
            "{}",
            r.line()
        );
    });
}

/// A member's tags in its own config, as an operator sets them, and a reload (SIGHUP):
/// `scripts/cluster start-member` would write the config afresh.
fn tag(c: &TestCluster, member: &str, tags: &str) {
    let yml = c.dir().join(member).join("patroni.yml");
    let mut text = std::fs::read_to_string(&yml).expect("patroni.yml");
    text.push_str(&format!("\ntags:\n{tags}\n"));
    std::fs::write(&yml, text).expect("write patroni.yml");
    c.signal_patroni(member, "-HUP");
}

/// The leader and its two replicas (a 3-member cluster).
fn roles(c: &TestCluster) -> (String, String, String) {
    let leader = c.leader().expect("a leader");
    let mut r: Vec<String> = ["pg1", "pg2", "pg3"]
        .iter()
        .map(|s| s.to_string())
        .filter(|m| *m != leader)
        .collect();
    let b = r.remove(1);
    let a = r.remove(0);
    (leader, a, b)
}

/// SIGKILL `leader`: the prediction, read while the old leader still holds the lock, names
/// `winner` alone; `winner` becomes the leader, patronictl agrees, and the event log says
/// the prediction held. Returns the ranking shown before the election.
async fn kill_and_check(
    h: &mut Headless,
    c: &TestCluster,
    leader: &str,
    winner: &str,
) -> patrol::app::election::Ranking {
    c.kill_member(leader);
    let shown = h
        .until(Duration::from_secs(15), |a| {
            a.judgement.watch.is_some()
                && a.cluster().and_then(|c| c.leader.as_deref()) == Some(leader)
        })
        .await;
    assert!(shown, "no next-leader line in time:\n{}", describe(&h.app));
    let r = h.app.judgement.election.clone().expect("a ranking");
    assert_eq!(r.winners(), [winner], "{r:?}");
    let elected = h
        .until(Duration::from_secs(60), |a| {
            a.cluster()
                .and_then(|c| c.leader.as_deref())
                .is_some_and(|l| l != leader)
        })
        .await;
    assert!(elected, "no new leader:\n{}", describe(&h.app));
    let now = h.app.cluster().and_then(|c| c.leader.clone());
    assert_eq!(now.as_deref(), Some(winner), "{}", describe(&h.app));
    let events: Vec<String> = h.app.model.events.iter().map(|e| e.kind.text()).collect();
    assert!(
        events.contains(&format!("predicted {winner}: right")),
        "{events:?}"
    );
    assert_eq!(c.leader().as_deref(), Some(winner), "patronictl agrees");
    r
}

#[test]
fn sigkill_the_leader_with_replicas_at_one_position_the_higher_failover_priority_wins() {
    let c = TestCluster::start(3);
    let (leader, low, high) = roles(&c);
    // both replicas say a priority: the default (1) is not what decides
    tag(&c, &high, "  failover_priority: 3");
    tag(&c, &low, "  failover_priority: 2");

    rt().block_on(async {
        let mut h = start(c.config_path()).await;
        // an idle cluster: both replicas at the leader's position, the priority decides
        let seen = h
            .until(Duration::from_secs(60), |a| {
                a.judgement.election.as_ref().is_some_and(|r| {
                    r.winners() == [high.as_str()]
                        && r.ranked.iter().any(|x| {
                            x.name == low
                                && x.loses
                                    == Some(patrol::app::election::Exclusion::LowerPriority {
                                        of: high.clone(),
                                    })
                        })
                })
            })
            .await;
        assert!(
            seen,
            "the ranking while healthy: {:?}\n{}",
            h.app.judgement.election,
            describe(&h.app)
        );
        kill_and_check(&mut h, &c, &leader, &high).await;
    });
}

const PSQL: &str = "/usr/lib/postgresql/15/bin/psql";
/// scripts/cluster's superuser password (a sandbox secret, not a credential).
const PGPASSWORD: &str = "sandbox-postgres-secret";

/// One value of `q` on `member`, as psql prints it unaligned.
fn sql(c: &TestCluster, member: &str, q: &str) -> String {
    let out = Command::new(PSQL)
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"])
        .args(["-p", &c.pg_port(member).to_string(), "-c", q])
        .env("PGPASSWORD", PGPASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql on {member}: {q}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A WAL receiver stopped (SIGSTOP) until dropped: its replica receives nothing meanwhile.
/// Resumed on every way out, a failed assertion too.
struct Stopped(u32);

impl Stopped {
    fn new(pid: u32) -> Stopped {
        let st = Command::new("kill")
            .args(["-STOP", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(st.success(), "kill -STOP {pid}");
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .status();
    }
}

#[test]
fn sigkill_the_leader_with_a_replica_whose_received_position_is_behind_the_other_wins() {
    let c = TestCluster::start(3);
    let (leader, ahead, behind) = roles(&c);
    sql(&c, &leader, "create table election_t (v text)");

    rt().block_on(async {
        let mut h = start(c.config_path()).await;
        let pid: u32 = sql(&c, &behind, "select pid from pg_stat_wal_receiver")
            .parse()
            .expect("the WAL receiver's pid");
        let _stopped = Stopped::new(pid);
        // well under maximum_lag_on_failover (1 MiB): `behind` stays eligible, and loses
        // the race on position alone
        sql(
            &c,
            &leader,
            "insert into election_t select repeat('x', 100) from generate_series(1, 1000)",
        );
        let seen = h
            .until(Duration::from_secs(30), |a| {
                a.judgement.election.as_ref().is_some_and(|r| {
                    r.winners() == [ahead.as_str()]
                        && r.ranked.iter().any(|x| {
                            x.name == behind
                                && matches!(
                                    &x.loses,
                                    Some(patrol::app::election::Exclusion::Behind { of, bytes })
                                        if *of == ahead && *bytes > 0
                                )
                        })
                })
            })
            .await;
        assert!(
            seen,
            "the ranking with {behind}'s receiver stopped: {:?}\n{}",
            h.app.judgement.election,
            describe(&h.app)
        );
        kill_and_check(&mut h, &c, &leader, &ahead).await;
    });
}
