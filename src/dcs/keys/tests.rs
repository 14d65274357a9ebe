use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/etcd")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn classify_keys() {
    assert_eq!(KeyKind::classify("leader"), KeyKind::Leader);
    assert_eq!(
        KeyKind::classify("members/pg1"),
        KeyKind::Member("pg1".into())
    );
    assert_eq!(
        KeyKind::classify("members/"),
        KeyKind::Other("members/".into())
    );
    assert_eq!(
        KeyKind::classify("members/a/b"),
        KeyKind::Other("members/a/b".into())
    );
    assert_eq!(KeyKind::classify("optime/leader"), KeyKind::LegacyOptime);
    assert_eq!(KeyKind::classify("sync"), KeyKind::Sync);
}

#[test]
fn captured_member_keys() {
    let KeyValue::Member(name, m) = parse("members/pg1", &fixture("member_leader.json")).unwrap()
    else {
        panic!("not a member")
    };
    assert_eq!(name, "pg1");
    assert_eq!(m.role.as_deref(), Some("primary"));
    assert_eq!(m.state.as_deref(), Some("running"));
    assert_eq!(m.timeline, Some(1));
    assert_eq!(m.xlog_location, Some(67108864));
    assert_eq!(m.api_url.as_deref(), Some("http://127.0.0.1:24011/patroni"));
    assert_eq!(m.host_port(), Some(("127.0.0.1".into(), Some(24021))));

    let KeyValue::Member(_, r) = parse("members/pg2", &fixture("member_replica.json")).unwrap()
    else {
        panic!("not a member")
    };
    assert_eq!(r.replication_state.as_deref(), Some("streaming"));
    assert_eq!(r.receive_lsn, Some(67108864));
    assert_eq!(r.replay_lsn, Some(67108864));

    let KeyValue::Member(_, s) = parse("members/pg3", &fixture("member_stopped.json")).unwrap()
    else {
        panic!("not a member")
    };
    assert_eq!(s.state.as_deref(), Some("stopped"));
    assert_eq!(s.timeline, None);
}

#[test]
fn captured_cluster_keys() {
    let KeyValue::Config(c) = parse("config", &fixture("config.json")).unwrap() else {
        panic!()
    };
    assert_eq!(
        (c.ttl, c.loop_wait, c.retry_timeout),
        (Some(20), Some(1), Some(3))
    );
    assert_eq!(c.maximum_lag_on_failover, Some(1048576));
    assert!(!c.pause);
    let KeyValue::Config(p) = parse("config", &fixture("config_paused.json")).unwrap() else {
        panic!()
    };
    assert!(p.pause);

    let KeyValue::Status(s) = parse("status", &fixture("status.json")).unwrap() else {
        panic!()
    };
    assert_eq!(s.optime, Some(67109536));

    let KeyValue::History(h) = parse("history", &fixture("history.json")).unwrap() else {
        panic!()
    };
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].timeline, 1);
    assert_eq!(h[0].lsn, 67109256);
    assert_eq!(h[0].new_leader.as_deref(), Some("pg2"));

    let KeyValue::Failover(f) = parse("failover", &fixture("failover.json")).unwrap() else {
        panic!()
    };
    assert!(
        f.is_empty(),
        "{{}} after a switchover means nothing scheduled"
    );
    let KeyValue::Failover(f) = parse("failover", &fixture("failover_scheduled.json")).unwrap()
    else {
        panic!()
    };
    assert_eq!(f.leader.as_deref(), Some("pg2"));
    assert_eq!(f.member.as_deref(), Some("pg1"));
    assert!(f.scheduled_at.is_some());

    assert_eq!(
        parse("leader", &fixture("leader.txt")).unwrap(),
        KeyValue::Leader("pg1".into())
    );
    assert_eq!(
        parse("initialize", &fixture("initialize.txt")).unwrap(),
        KeyValue::Initialize("7712261232093890864".into())
    );
}

#[test]
fn sync_quorum_and_legacy_shapes() {
    let KeyValue::Sync(s) = parse(
        "sync",
        br#"{"leader":"pg1","sync_standby":"pg2,pg3","quorum":1}"#,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(s.sync_standby, vec!["pg2", "pg3"]);
    assert_eq!(s.quorum, Some(1));
    let KeyValue::Status(s) = parse("status", b"12345").unwrap() else {
        panic!()
    };
    assert_eq!(s.optime, Some(12345));
    let KeyValue::Config(c) = parse("config", br#"{"synchronous_mode":"quorum"}"#).unwrap() else {
        panic!()
    };
    assert_eq!(c.synchronous_mode, SyncMode::Quorum);
    // Patroni before 4 wrote "master" and LSNs as strings in some versions
    let KeyValue::Member(_, m) = parse(
        "members/x",
        br#"{"role":"master","xlog_location":"42","timeline":"3","pending_restart":"true"}"#,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(
        (m.xlog_location, m.timeline, m.pending_restart),
        (Some(42), Some(3), true)
    );
}

#[test]
fn garbage_values_are_errors_not_panics() {
    for (key, val) in [
        ("members/pg1", &b"not json"[..]),
        ("members/pg1", b"[1,2,3]"),
        ("members/pg1", b"\"string\""),
        ("members/pg1", b"{\"tags\": 5}"),
        ("members/pg1", b"\xff\xfe"),
        ("config", b"[]"),
        ("history", b"{}"),
        ("history", b"[[\"x\"]]"),
        ("sync", b"7"),
        ("status", b"{"),
        ("failsafe", b"[]"),
    ] {
        let r = parse(key, val);
        let e = r.expect_err(&format!("{key} {val:?} should not parse"));
        assert_eq!(e.key, key);
        assert!(!e.message.is_empty());
    }
    // unknown keys are fine
    assert_eq!(
        parse("something/new", b"x").unwrap(),
        KeyValue::Other("something/new".into())
    );
}

#[test]
fn lsn_format_matches_patroni() {
    assert_eq!(format_lsn(67108864), "0/4000000");
    assert_eq!(format_lsn(0x1_0000_02A0), "1/2A0");
}

#[test]
fn conn_url_credentials_are_not_part_of_host() {
    let m = MemberData {
        conn_url: Some("postgres://rep:secret@db1.example:5433/postgres".into()),
        ..Default::default()
    };
    assert_eq!(m.host_port(), Some(("db1.example".into(), Some(5433))));
    let v6 = MemberData {
        conn_url: Some("postgres://[::1]:5432/postgres".into()),
        ..Default::default()
    };
    assert_eq!(v6.host_port(), Some(("::1".into(), Some(5432))));
}

#[test]
fn status_slots_are_read_with_their_positions() {
    let KeyValue::Status(s) = parse("status", &fixture("status.json")).unwrap() else {
        panic!()
    };
    assert_eq!(
        s.slots,
        vec![
            ("pg1".to_string(), 67109536),
            ("pg2".to_string(), 67109536),
            ("pg3".to_string(), 67109536)
        ]
    );
    assert_eq!(s.slots_more, 0);
    // Patroni also reads `slots` as a JSON text, and takes anything else as none
    let KeyValue::Status(s) = parse(
        "status",
        br#"{"optime":9,"slots":"{\"a\":\"5\",\"b\":\"x\"}"}"#,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!((s.slots, s.slots_more), (vec![("a".to_string(), 5)], 1));
    for other in [
        &br#"{"optime":9,"slots":[1,2]}"#[..],
        br#"{"optime":9,"slots":null}"#,
    ] {
        let KeyValue::Status(s) = parse("status", other).unwrap() else {
            panic!()
        };
        assert_eq!((s.optime, s.slots.len()), (Some(9), 0));
    }
}

#[test]
fn a_status_key_with_30000_slots_keeps_the_bound_furthest_behind_sanitized() {
    let mut text = String::from(r#"{"optime":1000000,"slots":{"#);
    for i in 0..30_000u64 {
        // positions descend with i: the last ones are furthest behind
        text.push_str(&format!(r#""s{i}\u001b[2J":{},"#, 1_000_000 - i));
    }
    text.push_str(r#""last":1}}"#);
    let KeyValue::Status(s) = parse("status", text.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(s.slots.len(), super::MAX_SLOTS);
    assert_eq!(s.slots_more, 30_001 - super::MAX_SLOTS);
    let lowest = s.slots.iter().map(|(_, p)| *p).min();
    assert_eq!(lowest, Some(1), "the slot retaining the most is kept");
    assert!(s.slots.iter().any(|(n, _)| n == "s29999?[2J"));
    assert!(
        s.slots
            .iter()
            .all(|(n, p)| *p <= 1_000_000 - 30_000 + super::MAX_SLOTS as u64
                && !n.contains('\u{1b}'))
    );
}
