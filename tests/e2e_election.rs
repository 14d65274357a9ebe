//! The next-leader prediction against a real election: SIGKILL the leader with one
//! replica tagged `nofailover`; while the lock still counts down patrol names the other
//! replica, and that member becomes the leader (and the event log says the prediction held).

mod support;

use std::path::Path;
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
    let leader = c.leader().expect("a leader");
    let mut replicas: Vec<String> = ["pg1", "pg2", "pg3"]
        .iter()
        .map(|s| s.to_string())
        .filter(|m| *m != leader)
        .collect();
    let tagged = replicas.remove(0);
    let other = replicas.remove(0);
    // the tag in the member's own config, as an operator sets it, and a reload (SIGHUP):
    // `scripts/cluster start-member` would write the config afresh
    let yml = c.dir().join(&tagged).join("patroni.yml");
    let mut text = std::fs::read_to_string(&yml).expect("patroni.yml");
    text.push_str("\ntags:\n  nofailover: true\n");
    std::fs::write(&yml, text).expect("write patroni.yml");
    c.signal_patroni(&tagged, "-HUP");

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

        c.kill_member(&leader);
        // the prediction is on screen while the old leader still holds the lock
        let shown = h
            .until(Duration::from_secs(15), |a| {
                a.judgement.watch.is_some()
                    && a.cluster().and_then(|c| c.leader.as_deref()) == Some(leader.as_str())
            })
            .await;
        assert!(shown, "no next-leader line in time:\n{}", describe(&h.app));
        let r = h.app.judgement.election.clone().expect("a ranking");
        assert_eq!(r.winners(), [other.as_str()], "{r:?}");
        assert!(
            r.line().contains(&format!("{tagged} excluded: nofailover")),
            "{}",
            r.line()
        );

        let elected = h
            .until(Duration::from_secs(60), |a| {
                a.cluster()
                    .and_then(|c| c.leader.as_deref())
                    .is_some_and(|l| l != leader)
            })
            .await;
        assert!(elected, "no new leader:\n{}", describe(&h.app));
        let now = h.app.cluster().and_then(|c| c.leader.clone());
        assert_eq!(now.as_deref(), Some(other.as_str()), "{}", describe(&h.app));
        let events: Vec<String> = h.app.model.events.iter().map(|e| e.kind.text()).collect();
        assert!(
            events.contains(&format!("predicted {other}: right")),
            "{events:?}"
        );
        assert_eq!(
            c.leader().as_deref(),
            Some(other.as_str()),
            "patronictl agrees"
        );
    });
}
