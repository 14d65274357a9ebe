use super::*;
use crate::dcs::keys::{HistoryEntry, MemberData};

fn m(name: &str, leader: bool, from: Option<&str>) -> (String, bool, Option<String>) {
    (name.to_string(), leader, from.map(str::to_string))
}

fn names(members: &[(String, bool, Option<String>)]) -> Vec<String> {
    topology_order(members)
        .into_iter()
        .map(|(i, level)| format!("{}{}", level, members[i].0))
        .collect()
}

#[test]
fn topology_cascades_by_replicatefrom_like_patronictl() {
    // pg3 replicates from pg2, pg4 from pg3: leader, then depth first in name order
    let ms = [
        m("pg1", false, None),
        m("pg2", true, None),
        m("pg3", false, Some("pg1")),
        m("pg4", false, Some("pg3")),
        m("pg5", false, None),
    ];
    assert_eq!(names(&ms), ["0pg2", "1pg1", "2pg3", "3pg4", "1pg5"]);
    // an unknown upstream, itself, or the leader by name: under the leader
    let ms = [
        m("a", true, None),
        m("b", false, Some("nobody")),
        m("c", false, Some("c")),
        m("d", false, Some("a")),
    ];
    assert_eq!(names(&ms), ["0a", "1b", "1c", "1d"]);
    // no leader: every replica at level 1 (patronictl's `+ name`)
    let ms = [m("a", false, None), m("b", false, Some("a"))];
    assert_eq!(names(&ms), ["1a", "2b"]);
    // a cycle written into etcd: left out as patronictl leaves it out, and no loop
    let ms = [
        m("a", true, None),
        m("b", false, Some("c")),
        m("c", false, Some("b")),
    ];
    assert_eq!(names(&ms), ["0a"]);
}

#[test]
fn table_like_prettytable() {
    let t = table::pretty(
        " Cluster: x (1) ",
        &["A", "Bcd"],
        &["A"],
        &[
            vec!["xxxxxx".into(), "y\nzz".into()],
            vec!["x".into(), "y".into()],
        ],
    );
    assert_eq!(
        t,
        "+ Cluster: x (1+\n|      A | Bcd |\n+--------+-----+\n| xxxxxx | y   |\n\
         |        | zz  |\n+--------+-----+\n|      x | y   |\n+--------+-----+"
    );
    // no rows: the header alone, as patronictl history on a new cluster
    assert_eq!(
        table::pretty("", &["TL", "LSN"], &["TL"], &[]),
        "+----+-----+\n| TL | LSN |\n+----+-----+\n+----+-----+"
    );
}

fn cluster() -> ClusterState {
    let mut c = ClusterState::default();
    c.leader = Some("pg2".into());
    for (n, url, role) in [
        ("pg1", "postgres://127.0.0.1:5433/postgres", "replica"),
        (
            "pg2",
            "postgres://u:secret@DB2.Example:5434/postgres",
            "primary",
        ),
        ("pg3", "postgres://[::1]/postgres", "replica"),
    ] {
        c.members.insert(
            n.into(),
            Box::new(MemberData {
                conn_url: Some(url.into()),
                role: Some(role.into()),
                ..Default::default()
            }),
        );
    }
    c
}

#[test]
fn dsn_picks_members_as_patronictl_does() {
    let c = cluster();
    let d = |r, m| dsn(Some(&c), r, m);
    assert_eq!(d(None, None).unwrap(), "host=db2.example port=5434\n");
    assert_eq!(
        d(Some(DsnRole::Primary), None).unwrap(),
        "host=db2.example port=5434\n"
    );
    assert!(d(Some(DsnRole::StandbyLeader), None).is_err());
    assert_eq!(
        d(Some(DsnRole::Replica), None).unwrap(),
        "host=127.0.0.1 port=5433\n"
    );
    assert_eq!(
        d(Some(DsnRole::Any), None).unwrap(),
        "host=127.0.0.1 port=5433\n"
    );
    assert_eq!(d(None, Some("pg3")).unwrap(), "host=::1 port=5432\n");
    assert!(d(None, Some("pg9")).is_err());
    assert!(d(Some(DsnRole::Any), Some("pg1")).is_err());
    // never the user or the password of conn_url
    assert!(!d(None, None).unwrap().contains("secret"));
    // a standby cluster's leader
    let mut s = cluster();
    s.members.get_mut("pg2").unwrap().role = Some("standby_leader".into());
    assert!(dsn(Some(&s), Some(DsnRole::Primary), None).is_err());
    assert!(dsn(Some(&s), Some(DsnRole::StandbyLeader), None).is_ok());
    // no leader
    s.leader = None;
    assert!(dsn(Some(&s), None, None).is_err());
}

#[test]
fn history_formats() {
    let mut c = ClusterState::default();
    c.history.push(HistoryEntry {
        timeline: 1,
        lsn: 25165984,
        reason: "no recovery target specified".into(),
        timestamp: Some("2026-05-01T10:20:30.123456+00:00".into()),
        new_leader: Some("pg\u{1b}2".into()),
    });
    let y = history(Some(&c), Format::Yaml);
    assert_eq!(
        y,
        "- LSN: 25165984\n  New Leader: \"pg\\e2\"\n  Reason: no recovery target specified\n  \
         TL: 1\n  Timestamp: '2026-05-01T10:20:30.123456+00:00'\n\n"
    );
    let j = history(Some(&c), Format::Json);
    assert!(j.starts_with(r#"[{"TL": 1, "LSN": 25165984, "#), "{j}");
    assert!(j.contains(r#""New Leader": "pg\u001b2""#), "{j}");
    let t = history(Some(&c), Format::Tsv);
    assert!(t.ends_with("\tpg?2\n"), "{t:?}");
    assert!(!history(Some(&c), Format::Pretty).contains('\u{1b}'));
    assert_eq!(
        history(None, Format::Tsv),
        "TL\tLSN\tReason\tTimestamp\tNew Leader\n"
    );
}

#[test]
fn show_config_hides_passwords_and_keeps_the_rest() {
    let mut c = ClusterState::default();
    assert_eq!(show_config(Some(&c)), "");
    let raw = serde_json::json!({"ttl": 20, "standby_cluster": {"host": "h", "password": "pw"},
        "postgresql": {"parameters": {"hot_standby": "on"}}});
    c.config = crate::dcs::keys::parse_config(raw).ok();
    let out = show_config(Some(&c));
    assert!(!out.contains("pw"), "{out}");
    assert_eq!(
        out,
        "postgresql:\n  parameters:\n    hot_standby: 'on'\nstandby_cluster:\n  host: h\n  \
         password: '***'\nttl: 20\n\n"
    );
}

#[test]
fn versions_and_json() {
    assert_eq!(format_pg_version(90624), "9.6.24");
    assert_eq!(format_pg_version(100000), "10.0");
    assert_eq!(format_pg_version(150010), "15.10");
    assert_eq!(
        py_json(&serde_json::json!({"a": "é😀"})),
        r#"{"a": "\u00e9\ud83d\ude00"}"#
    );
    assert!(version(None, &[]).starts_with("patrol version "));
}

#[test]
fn a_reason_over_fifty_characters_names_only_its_parameter() {
    let fifty = format!("work_mem: 4MB->{}", "9".repeat(35));
    assert_eq!(fifty.chars().count(), 50);
    assert_eq!(hide_long(&fifty), fifty);
    let long = format!("{fifty}9");
    assert_eq!(hide_long(&long), "work_mem: [hidden - too long]");
}

#[test]
fn json_escapes_del_which_python_leaves_raw() {
    assert_eq!(py_json(&serde_json::json!("a\u{7f}b")), "\"a\\u007fb\"");
}
