//! Synthetic cluster data shaped like what Patroni 4.1 writes (see tests/fixtures/etcd),
//! shared by the benchmarks: member keys, a cluster's keys, and ready-built `App` states.
#![allow(dead_code)]

use std::time::Instant;

use patrol::app::{App, AppConfig, Msg};
use patrol::dcs::{DcsEvent, RawKv};
use patrol::patroni::{PatroniStatus, Xlog};

/// Where a synthetic cluster's WAL starts (the leader's position).
pub const TOP_LSN: u64 = 67_108_864 + 5 * 1024 * 1024;

/// The `config` key Patroni writes for the sandbox settings.
pub const CONFIG_JSON: &str = r#"{"ttl":20,"loop_wait":1,"retry_timeout":3,"maximum_lag_on_failover":1048576,"postgresql":{"use_pg_rewind":true,"use_slots":true,"parameters":{"max_connections":50}}}"#;

/// A member key as Patroni 4.1 writes it. `api` is the REST base (`http://h:p`), or None for
/// a member whose key carries no `api_url` (patrol then has nothing to poll).
pub fn member_json(
    name_port: u16,
    leader: bool,
    xlog: u64,
    api: Option<&str>,
    state: &str,
) -> String {
    let api = api
        .map(|a| format!(r#""api_url":"{a}/patroni","#))
        .unwrap_or_default();
    if leader {
        format!(
            r#"{{"conn_url":"postgres://127.0.0.1:{name_port}/postgres",{api}"state":"{state}","role":"primary","version":"4.1.5","xlog_location":{xlog},"timeline":1}}"#
        )
    } else {
        format!(
            r#"{{"conn_url":"postgres://127.0.0.1:{name_port}/postgres",{api}"state":"{state}","role":"replica","version":"4.1.5","xlog_location":{xlog},"replay_lsn":{xlog},"receive_lsn":{xlog},"replication_state":"streaming","timeline":1}}"#
        )
    }
}

/// Member `i` (1-based) of a synthetic cluster is called `m<i>`; `m1` leads.
pub fn member_name(i: usize) -> String {
    format!("m{i}")
}

/// All keys of one synthetic cluster `scope` under `namespace` with `members` members.
/// `apis` are REST bases handed out round-robin (empty: no `api_url`).
pub fn cluster_kvs(namespace: &str, scope: &str, members: usize, apis: &[String]) -> Vec<RawKv> {
    let key = |rel: &str| format!("{namespace}{scope}/{rel}");
    let mut kvs = vec![
        RawKv {
            key: key("config"),
            value: CONFIG_JSON.as_bytes().to_vec(),
            lease: 0,
        },
        RawKv {
            key: key("initialize"),
            value: b"7712271428798985829".to_vec(),
            lease: 0,
        },
        RawKv {
            key: key("leader"),
            value: member_name(1).into_bytes(),
            lease: 0,
        },
    ];
    for i in 1..=members {
        let api = (!apis.is_empty()).then(|| apis[(i - 1) % apis.len()].as_str());
        kvs.push(RawKv {
            key: key(&format!("members/{}", member_name(i))),
            value: member_json(
                5400 + (i % 1000) as u16,
                i == 1,
                TOP_LSN - (i as u64 % 7) * 4096,
                api,
                "running",
            )
            .into_bytes(),
            lease: 0,
        });
    }
    kvs
}

/// A live `GET /patroni` answer for member `i` (1-based; 1 is the leader).
pub fn rest_status(i: usize) -> PatroniStatus {
    if i == 1 {
        PatroniStatus {
            state: Some("running".into()),
            role: Some("primary".into()),
            timeline: Some(1),
            server_version: Some(150018),
            xlog: Xlog {
                location: Some(TOP_LSN),
                ..Default::default()
            },
            ..Default::default()
        }
    } else {
        let behind = (i as u64 % 13) * 1024 * 64;
        PatroniStatus {
            state: Some("running".into()),
            role: Some("replica".into()),
            timeline: Some(1),
            server_version: Some(150018),
            replication_state: Some("streaming".into()),
            xlog: Xlog {
                received_location: Some(TOP_LSN - behind / 2),
                replayed_location: Some(TOP_LSN - behind),
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// One cluster of `members` members on screen, every member's REST API answering (live lag).
pub fn one_cluster_app(members: usize, now: Instant) -> App {
    let apis: Vec<String> = (0..members)
        .map(|i| format!("http://127.0.0.1:{}", 8000 + i % 1000))
        .collect();
    let mut app = App::new(
        AppConfig::new("big", "/service/", vec!["http://127.0.0.1:2379".into()]),
        now,
    );
    app.update(Msg::Dcs(
        now,
        DcsEvent::Snapshot {
            endpoint: "http://127.0.0.1:2379".into(),
            revision: 1,
            kvs: cluster_kvs("/service/", "big", members, &apis),
        },
    ));
    answer_all(&mut app, members, now);
    app
}

/// Every member of `scope` has answered `GET /patroni` at `now` (through `update`, so the lag
/// history and everything else a REST answer feeds is filled in as in the TUI).
fn answer_all(app: &mut App, members: usize, now: Instant) {
    for i in 1..=members {
        app.update(Msg::Rest {
            member: member_name(i),
            at: now,
            result: Ok(Box::new(rest_status(i))),
        });
    }
    app.update(Msg::Tick(now));
}

/// A namespace of `clusters` clusters x `members` members (`c000`, `c001`, ...), the first
/// one on screen with live REST answers.
pub fn namespace_app(clusters: usize, members: usize, now: Instant) -> App {
    let apis: Vec<String> = (0..members)
        .map(|i| format!("http://127.0.0.1:{}", 8000 + i))
        .collect();
    let mut kvs = Vec::new();
    for c in 0..clusters {
        kvs.extend(cluster_kvs("/service/", &scope_name(c), members, &apis));
    }
    let mut app = App::new(
        AppConfig::new(
            &scope_name(0),
            "/service/",
            vec!["http://127.0.0.1:2379".into()],
        ),
        now,
    );
    app.update(Msg::Dcs(
        now,
        DcsEvent::Snapshot {
            endpoint: "http://127.0.0.1:2379".into(),
            revision: 1,
            kvs,
        },
    ));
    answer_all(&mut app, members, now);
    app
}

pub fn scope_name(c: usize) -> String {
    format!("c{c:03}")
}
