//! The test harness itself against a real cluster: bring-up, stopping and restarting a replica.
mod support;

use std::time::Duration;

use support::{TestCluster, eventually};

#[test]
fn cluster_comes_up_and_a_replica_stops_and_rejoins() {
    let c = TestCluster::start(3);

    // 1 running Leader + 2 streaming Replicas
    let list = c.patronictl_json_list();
    let rows = list
        .as_array()
        .expect("patronictl list -f json is an array");
    assert_eq!(rows.len(), 3, "three members listed: {list}");
    let leaders: Vec<_> = rows
        .iter()
        .filter(|r| r["Role"] == "Leader" && r["State"] == "running")
        .collect();
    let streaming: Vec<_> = rows
        .iter()
        .filter(|r| r["Role"] == "Replica" && r["State"] == "streaming")
        .collect();
    assert_eq!(leaders.len(), 1, "one running leader: {list}");
    assert_eq!(streaming.len(), 2, "two streaming replicas: {list}");
    for r in rows {
        assert_eq!(r["Cluster"], "demo");
    }

    let leader = c.leader().expect("a leader");
    assert_eq!(
        c.etcd_get("leader").as_deref(),
        Some(leader.as_str()),
        "etcd leader key"
    );
    assert!(
        c.log_path(&leader).is_file(),
        "Patroni log at {}",
        c.log_path(&leader).display()
    );
    let config = std::fs::read_to_string(c.config_path()).expect("read the patronictl config");
    assert!(
        config.contains("ctl:") && config.contains("authentication:"),
        "config:\n{config}"
    );
    assert!(
        config.contains(&c.etcd_endpoint()),
        "config names etcd {}:\n{config}",
        c.etcd_endpoint()
    );

    // stop a replica: it disappears or shows as stopped
    let replica = c
        .member_names()
        .into_iter()
        .find(|m| *m != leader)
        .expect("a replica");
    c.stop_member(&replica);
    assert_eq!(c.patroni_pid(&replica), None, "{replica}'s Patroni is gone");
    eventually(
        Duration::from_secs(40),
        &format!("{replica} stopped or gone"),
        || match c.member_status(&replica) {
            None => Some(()),
            Some((_, state)) if state != "streaming" && state != "running" => Some(()),
            Some(_) => None,
        },
    );
    assert_eq!(
        c.leader().as_deref(),
        Some(leader.as_str()),
        "leader unchanged"
    );

    // start it again: it streams again
    c.start_member(&replica);
    eventually(
        Duration::from_secs(60),
        &format!("{replica} streaming again"),
        || {
            c.member_status(&replica)
                .filter(|(_, state)| state == "streaming")
                .map(|_| ())
        },
    );
    let now = c.wait_healthy(Duration::from_secs(60));
    assert_eq!(now, leader, "leader unchanged after the replica rejoined");
}
