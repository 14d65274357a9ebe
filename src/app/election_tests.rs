//! The election rules, each against the Patroni 4.1 code it follows (`patroni/ha.py`,
//! `patroni/tags.py`, `patroni/quorum.py` in the venv).

use super::*;

fn e(name: &str, pos: u64) -> Entrant {
    Entrant {
        name: name.into(),
        reachable: true,
        nofailover: false,
        priority: 1,
        state: "streaming".into(),
        primary: false,
        position: Some(pos),
        timeline: Some(1),
    }
}

fn rules() -> Rules {
    Rules {
        leader: Some("p1".into()),
        last_lsn: 1000,
        max_lag: 1 << 20,
        cluster_timeline: 1,
        ..Rules::default()
    }
}

fn winners(r: &Ranking) -> Vec<&str> {
    r.winners()
}

fn excluded<'a>(r: &'a Ranking, n: &str) -> Option<&'a Exclusion> {
    r.excluded.iter().find(|(m, _)| m == n).map(|(_, e)| e)
}

// _is_healthiest_node: a member ahead of me that may promote → I give up ("Wal position of
// %s is ahead of my wal position"); the most advanced wins.
#[test]
fn the_most_advanced_wins() {
    let r = rank(&rules(), &[e("p1", 0), e("p2", 990), e("p3", 1000)]);
    assert_eq!(winners(&r), ["p3"]);
    assert_eq!(r.ranked[1].name, "p2");
    assert_eq!(
        r.ranked[1].loses,
        Some(Exclusion::Behind {
            of: "p3".into(),
            bytes: 10
        })
    );
    assert_eq!(r.line(), "next leader: p3 (most advanced, 0 B behind)");
    assert!(
        r.place("p1").is_none() && excluded(&r, "p1").is_none(),
        "the leader is not an entrant"
    );
}

// _is_healthiest_node: equal position and equal failover_priority: neither gives up; both
// race for the leader key. Named as a tie, never a guess.
#[test]
fn equal_position_and_priority_is_a_race() {
    let r = rank(&rules(), &[e("p3", 1000), e("p2", 1000)]);
    assert_eq!(winners(&r), ["p2", "p3"]);
    assert_eq!(
        r.line(),
        "next leader: p2 or p3 (a race: same position and priority)"
    );
}

// _is_healthiest_node: `low_priority = my_wal_position == st.wal_position and
// self.patroni.failover_priority < st.failover_priority` → the lower priority gives up.
#[test]
fn failover_priority_breaks_a_tie_but_not_a_position() {
    let mut p2 = e("p2", 1000);
    p2.priority = 5;
    let r = rank(&rules(), &[p2.clone(), e("p3", 1000)]);
    assert_eq!(winners(&r), ["p2"]);
    assert_eq!(
        r.ranked[1].loses,
        Some(Exclusion::LowerPriority { of: "p2".into() })
    );
    // a higher priority behind in position still loses to the more advanced one
    p2.position = Some(999);
    let r = rank(&rules(), &[p2, e("p3", 1000)]);
    assert_eq!(winners(&r), ["p3"]);
}

// is_healthiest_node: `if self.patroni.nofailover: return False`; tags.py: nofailover is
// also true when failover_priority <= 0, and a member tagged so is not asked
// (`failover_limitation` "not allowed to promote"), so it does not hold others back.
#[test]
fn nofailover_and_priority_zero_exclude_and_do_not_block() {
    let mut p2 = e("p2", 2000);
    p2.nofailover = true;
    let r = rank(&rules(), &[p2, e("p3", 1000)]);
    assert_eq!(winners(&r), ["p3"]);
    assert_eq!(excluded(&r, "p2"), Some(&Exclusion::NoFailover));
    assert_eq!(
        r.line(),
        "next leader: p3 (most advanced, 0 B behind); p2 excluded: nofailover"
    );
    let tags = |j: serde_json::Value| failover_tags(&serde_json::from_value(j).expect("a tag map"));
    assert_eq!(tags(serde_json::json!({})), (false, 1));
    assert_eq!(tags(serde_json::json!({"nofailover": true})), (true, 0));
    assert_eq!(tags(serde_json::json!({"failover_priority": 0})), (true, 0));
    assert_eq!(
        tags(serde_json::json!({"failover_priority": -2})),
        (true, -2)
    );
    assert_eq!(
        tags(serde_json::json!({"failover_priority": "3"})),
        (false, 3)
    );
    // `_bool_tag`: the bool tag takes precedence over the priority one
    assert_eq!(
        tags(serde_json::json!({"nofailover": false, "failover_priority": 0})),
        (false, 0)
    );
}

// is_lagging: `self.cluster.status.last_lsn - wal_position > maximum_lag_on_failover`, and
// the position is `_wal_position`: max(received, replayed), so replay lag alone does not
// exclude.
#[test]
fn lag_is_received_or_replayed_against_the_status_key() {
    let mut r = rules();
    r.last_lsn = 10 << 20;
    let mut p2 = e("p2", 0);
    // replayed far behind, received close: not lagging
    p2.position = Some((10 << 20) - 100);
    let p3 = e("p3", 8 << 20);
    let k = rank(&r, &[p2, p3]);
    assert_eq!(winners(&k), ["p2"]);
    assert_eq!(
        excluded(&k, "p3"),
        Some(&Exclusion::Lagging {
            behind: 2 << 20,
            max: 1 << 20
        })
    );
    assert!(
        k.line()
            .contains("p3 excluded: 2.0 MiB behind the leader's last position"),
        "{}",
        k.line()
    );
    // the entrant from a row takes the larger of the two positions
    let row = MemberRow {
        receive_lsn: Some(500),
        replay_lsn: Some(20),
        ..blank_row("p4")
    };
    let c = crate::app::ClusterState::default();
    let at = std::time::Instant::now();
    let row_entrant = entrant(&c, &row, at, std::time::Duration::from_secs(1));
    assert_eq!(row_entrant.position, Some(500));
    // no status key: last_lsn is 0 in Patroni and nobody is lagging
    r.last_lsn = 0;
    let k = rank(&r, &[e("p3", 8 << 20)]);
    assert_eq!(winners(&k), ["p3"]);
    assert!(!k.has_status);
}

// A lagging member excludes itself but is still asked by the others: `failover_limitation`
// does not look at lag, so one that is ahead of me still makes me give up (here it cannot
// be ahead and lagging at once, since lag is measured from the same position).
#[test]
fn a_lagging_member_is_asked_but_cannot_be_ahead() {
    let mut r = rules();
    r.last_lsn = 5 << 20;
    let k = rank(&r, &[e("p2", 1), e("p3", (5 << 20) - 10)]);
    assert_eq!(winners(&k), ["p3"]);
}

// is_healthiest_node in synchronous mode: `if not self.cluster.sync.matches(name, True):
// return False`, and only /sync members are compared.
#[test]
fn synchronous_mode_only_promotes_sync_standbys() {
    let mut r = rules();
    r.sync_mode = SyncMode::On;
    r.sync_leader = Some("p1".into());
    r.sync_standby = vec!["p3".into()];
    let k = rank(&r, &[e("p2", 1000), e("p3", 900)]);
    assert_eq!(winners(&k), ["p3"], "the async one ahead is not asked");
    assert_eq!(excluded(&k, "p2"), Some(&Exclusion::NotSync));
    // sync_mode_is_active needs a leader in /sync: without one, the usual rules
    r.sync_leader = None;
    let k = rank(&r, &[e("p2", 1000), e("p3", 900)]);
    assert_eq!(winners(&k), ["p2"]);
}

// Quorum mode (_is_healthiest_node): a member outside the voters may run; it needs
// `quorum` votes from voters not ahead of it (`quorum_votes` starts at 0 for a voter, -1
// otherwise).
#[test]
fn quorum_mode_needs_votes() {
    let mut r = rules();
    r.sync_mode = SyncMode::Quorum;
    r.sync_leader = Some("p1".into());
    r.sync_standby = vec!["p2".into(), "p3".into()];
    r.quorum = 1;
    let k = rank(&r, &[e("p2", 1000), e("p3", 1000)]);
    assert_eq!(winners(&k), ["p2", "p3"], "each gets the other's vote");
    // p3 gone: p2 alone has 0 votes of 1
    let mut p3 = e("p3", 1000);
    p3.reachable = false;
    let k = rank(&r, &[e("p2", 1000), p3]);
    assert_eq!(winners(&k), Vec::<&str>::new());
    assert_eq!(
        k.ranked[0].loses,
        Some(Exclusion::Quorum {
            votes: 0,
            needed: 1
        })
    );
    assert_eq!(k.verdict(), "none (quorum: 0 of 1 votes)");
}

// _is_healthiest_node with check_timeline: `my_timeline < cluster_timeline` → False, and an
// unknown timeline ("Can not figure out my timeline") too; cluster.timeline is the last
// history entry + 1.
#[test]
fn check_timeline_excludes_an_old_timeline() {
    let mut r = rules();
    r.check_timeline = true;
    r.cluster_timeline = 3;
    let mut p2 = e("p2", 1000);
    p2.timeline = Some(2);
    let mut p4 = e("p4", 1000);
    p4.timeline = None;
    let mut p3 = e("p3", 900);
    p3.timeline = Some(3);
    let k = rank(&r, &[p2.clone(), p3.clone(), p4]);
    assert_eq!(
        excluded(&k, "p2"),
        Some(&Exclusion::Timeline {
            own: Some(2),
            cluster: 3
        })
    );
    assert!(matches!(
        excluded(&k, "p4"),
        Some(Exclusion::Timeline { own: None, .. })
    ));
    // p2 is excluded but still asked, and ahead: p3 gives up too; nobody wins, said so
    assert_eq!(winners(&k), Vec::<&str>::new());
    assert!(k.verdict().starts_with("none ("), "{}", k.verdict());
    // off: no timeline rule
    r.check_timeline = false;
    assert_eq!(winners(&rank(&r, &[p2, p3])), ["p2"]);
}

// fetch_node_status failing → `failover_limitation` "not reachable": not asked, and a
// member whose Patroni is down cannot run for the lock either.
#[test]
fn an_unreachable_member_is_excluded_and_not_asked() {
    let mut p2 = e("p2", 2000);
    p2.reachable = false;
    let k = rank(&rules(), &[p2, e("p3", 1000)]);
    assert_eq!(winners(&k), ["p3"]);
    assert_eq!(excluded(&k, "p2"), Some(&Exclusion::Unreachable));
}

// _is_healthiest_node: `if st.in_recovery is False: 'Primary (%s) is still alive' → False`.
#[test]
fn a_primary_still_alive_holds_everyone_back() {
    let mut p4 = e("p4", 0);
    p4.primary = true;
    p4.position = None;
    let k = rank(&rules(), &[e("p2", 1000), p4]);
    assert_eq!(winners(&k), Vec::<&str>::new());
    assert_eq!(
        k.ranked[0].loses,
        Some(Exclusion::PrimaryAlive("p4".into()))
    );
}

// is_starting → False; a stopped PostgreSQL cannot be promoted.
#[test]
fn a_member_not_running_is_excluded() {
    let mut p2 = e("p2", 1000);
    p2.state = "stopped".into();
    let k = rank(&rules(), &[p2, e("p3", 10)]);
    assert_eq!(
        excluded(&k, "p2"),
        Some(&Exclusion::NotRunning("stopped".into()))
    );
    assert_eq!(winners(&k), ["p3"]);
}

#[test]
fn the_leaders_detail_line() {
    let mut p4 = e("pg4", 1000);
    p4.nofailover = true;
    let k = rank(&rules(), &[e("p2", 1000), e("p3", 900), p4]);
    assert_eq!(
        k.if_failed(),
        "if p1 failed now: p2, then p3; pg4 excluded: nofailover"
    );
}

fn blank_row(name: &str) -> MemberRow {
    MemberRow {
        name: name.into(),
        host: String::new(),
        port: None,
        role: super::super::members::Role::Replica,
        own_role: None,
        state: "streaming".into(),
        timeline: None,
        receive_lsn: None,
        receive_lag: None,
        replay_lsn: None,
        replay_lag: None,
        lag_source: super::super::members::LagSource::Live,
        lag_age: None,
        lag_waiting: false,
        pending_restart: false,
        pending_restart_reason: Vec::new(),
        postmaster_start: None,
        scheduled_restart: None,
        tags: Default::default(),
        rest: RestHealth::Live,
        gone: None,
        lagging: false,
    }
}

mod one_list {
    //! The dialogs' candidates, the detail view's "failover" line and the prediction come
    //! from one ranking and can never disagree.
    use std::time::Instant;

    use crate::app::checks;
    use crate::app::sample::*;
    use crate::app::{App, Judgement};

    /// Every member the dialog calls eligible is one Patroni would promote, the dialog's
    /// first eligible one is a predicted winner when one is eligible, and the detail view
    /// judges each member exactly as the dialog's list does.
    fn agree(a: &App) -> Vec<checks::Candidate> {
        let c = a.cluster().expect("a cluster");
        let list = checks::candidates(c, a.model.now, a.model.rest_interval);
        let ranking = super::of(c, a.model.now, a.model.rest_interval);
        for k in &list {
            if k.eligible() {
                assert!(ranking.blocked(&k.name).is_none(), "{k:?} vs {ranking:?}");
                assert!(ranking.place(&k.name).is_some(), "{k:?} vs {ranking:?}");
            }
            match ranking.blocked(&k.name) {
                // a manual failover to an async standby is Patroni's to allow (api.py)
                Some(super::Exclusion::NotSync) => assert!(!k.eligible(), "{k:?}"),
                Some(ex) => assert!(!k.blocks_failover.is_empty(), "{k:?} vs {ex:?}"),
                None => {}
            }
            let j = Judgement::of(&a.model, None, Some(&k.name));
            assert_eq!(j.election.as_ref(), Some(&ranking));
            assert_eq!(j.detail, Some((k.name.clone(), Some(k.clone()))));
        }
        let winners = ranking.winners();
        if let Some(first) = list.iter().find(|k| k.eligible())
            && list
                .iter()
                .any(|k| k.eligible() && winners.contains(&k.name.as_str()))
        {
            assert!(
                winners.contains(&first.name.as_str()),
                "{list:?} vs {ranking:?}"
            );
        }
        list
    }

    #[test]
    fn healthy_the_most_advanced_first_and_a_tie_named() {
        let now = Instant::now();
        let mut a = healthy_live(now);
        rest_ok(&mut a, "pg2", replica_behind(0), now);
        rest_ok(&mut a, "pg3", replica_behind(0), now);
        let list = agree(&a);
        assert_eq!(list[0].standing.as_deref(), Some("in a race with pg3"));
        rest_ok(&mut a, "pg2", replica_behind(4096), now);
        let list = agree(&a);
        assert_eq!(list[0].name, "pg3");
        assert_eq!(list[0].standing.as_deref(), Some("first"));
        assert_eq!(
            list[1].standing.as_deref(),
            Some("second: 2.0 KiB behind pg3")
        );
    }

    #[test]
    fn nofailover_unreachable_and_sync_agree() {
        let now = Instant::now();
        let mut kvs = healthy_kvs();
        let tagged = String::from_utf8_lossy(&pg3_replica()).replace(
            "\"timeline\":1",
            "\"timeline\":1,\"tags\":{\"failover_priority\":0}",
        );
        kvs.push(kv("members/pg3", tagged.as_bytes()));
        let mut a = app(kvs, now);
        let mut leader = status("rest/patroni_leader.json");
        leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
        rest_ok(&mut a, "pg1", leader.clone(), now);
        rest_ok(&mut a, "pg2", replica_behind(0), now);
        let mut pg3 = replica_behind(0);
        pg3.tags = serde_json::from_str(r#"{"failover_priority":0}"#).expect("tags");
        rest_ok(&mut a, "pg3", pg3, now);
        let list = agree(&a);
        let pg3 = list.iter().find(|k| k.name == "pg3").expect("pg3");
        assert_eq!(pg3.blocks_failover, ["failover_priority 0"]);
        assert_eq!(pg3.standing, None);
        rest_err(&mut a, "pg2", "refused", later(now, 1));
        let list = agree(&a);
        assert!(list.iter().all(|k| !k.eligible()), "{list:?}");

        let mut kvs = healthy_kvs();
        kvs.push(kv("config", br#"{"synchronous_mode": true}"#));
        kvs.push(kv("sync", br#"{"leader":"pg1","sync_standby":"pg3"}"#));
        let mut a = app(kvs, now);
        rest_ok(&mut a, "pg1", leader, now);
        // the async one is ahead: Patroni does not ask it
        rest_ok(&mut a, "pg2", replica_behind(0), now);
        rest_ok(&mut a, "pg3", replica_behind(4096), now);
        let list = agree(&a);
        assert_eq!(list[0].name, "pg3");
        let r = super::of(a.cluster().expect("cluster"), now, a.model.rest_interval);
        assert_eq!(r.winners(), ["pg3"]);
    }

    // is_lagging compares max(received, replayed) with the status key: replay lag alone does
    // not exclude in Patroni, while patrol's switchover rule (replay lag against the
    // leader's live position) does: two questions, both said.
    #[test]
    fn replay_lag_alone_is_patrols_rule_not_patronis() {
        let now = Instant::now();
        let mut a = healthy_live(now);
        let mut pg2 = replica_behind(0);
        pg2.xlog.replayed_location = Some(67108864 - (3 << 20));
        rest_ok(&mut a, "pg2", pg2, now);
        rest_ok(&mut a, "pg3", replica_behind(0), now);
        let list = agree(&a);
        let pg2 = list.iter().find(|k| k.name == "pg2").expect("pg2");
        assert!(!pg2.eligible());
        let r = super::of(a.cluster().expect("cluster"), now, a.model.rest_interval);
        assert!(r.blocked("pg2").is_none(), "{r:?}");
        assert!(r.winners().contains(&"pg2"), "{r:?}");
    }
}

// manual_failover_process_no_leader: a candidate named in the failover key that may
// promote takes over whatever the positions.
#[test]
fn a_request_naming_a_member_decides() {
    let mut r = rules();
    r.requested = Some("p3".into());
    let k = rank(&r, &[e("p2", 1000), e("p3", 900)]);
    assert_eq!(winners(&k), ["p3"]);
    assert_eq!(k.ranked[1].loses, Some(Exclusion::Requested("p3".into())));
    // named but tagged nofailover: the race is open to all (`failover_limitation`)
    let mut p3 = e("p3", 900);
    p3.nofailover = true;
    let k = rank(&r, &[e("p2", 1000), p3]);
    assert_eq!(winners(&k), ["p2"]);
}

// is_healthiest_node: `if self.is_paused(): return False` for a replica.
#[test]
fn paused_elects_nobody_unless_a_request_names_one() {
    let mut r = rules();
    r.paused = true;
    let k = rank(&r, &[e("p2", 1000)]);
    assert_eq!(winners(&k), Vec::<&str>::new());
    assert_eq!(
        k.line(),
        "next leader: none (paused: Patroni elects nobody by itself)"
    );
    r.requested = Some("p2".into());
    assert_eq!(winners(&rank(&r, &[e("p2", 1000)])), ["p2"]);
}

mod after_the_election {
    //! The prediction checked when the lock changes hands.
    use std::time::Instant;

    use crate::app::sample::*;
    use crate::app::{Effect, Msg};
    use crate::dcs::DcsEvent;

    fn events(a: &crate::app::App) -> Vec<String> {
        a.model.events.iter().map(|e| e.kind.text()).collect()
    }

    /// pg1's REST fails and its key expires; `elected` takes the lock. pg3 is 4 KiB
    /// behind pg2, so the prediction is pg2.
    fn election(elected: &str) -> (Vec<String>, Vec<Effect>) {
        let now = Instant::now();
        let mut a = healthy_live(now);
        rest_ok(&mut a, "pg2", replica_behind(0), now);
        rest_ok(&mut a, "pg3", replica_behind(8192), now);
        a.update(Msg::Drained(now));
        rest_err(&mut a, "pg1", "refused", later(now, 1));
        let eff = a.update(Msg::Drained(later(now, 1)));
        assert!(eff.iter().all(|e| !matches!(e, Effect::LogWarning(_))));
        assert_eq!(
            a.judgement.election.as_ref().map(|r| r.winners()),
            Some(vec!["pg2"])
        );
        assert!(a.judgement.watch.is_some());
        a.update(Msg::Dcs(
            later(now, 2),
            DcsEvent::Delete {
                key: "/service/demo/leader".into(),
            },
        ));
        a.update(Msg::Drained(later(now, 2)));
        a.update(Msg::Dcs(
            later(now, 3),
            DcsEvent::Put(kv("leader", elected.as_bytes())),
        ));
        let eff = a.update(Msg::Drained(later(now, 3)));
        let warnings = eff
            .into_iter()
            .filter(|e| matches!(e, Effect::LogWarning(_)))
            .collect();
        (events(&a), warnings)
    }

    #[test]
    fn a_right_prediction_is_an_event() {
        let (ev, warn) = election("pg2");
        // among the events of that update (health rules clear beside it)
        assert_eq!(
            ev.iter()
                .filter(|e| e.starts_with("predicted"))
                .collect::<Vec<_>>(),
            ["predicted pg2: right"],
            "{ev:?}"
        );
        assert!(warn.is_empty());
    }

    #[test]
    fn a_wrong_one_is_an_event_and_a_warning_with_the_facts() {
        let (ev, warn) = election("pg3");
        // among the events of that update (health rules clear beside it)
        assert_eq!(
            ev.iter()
                .filter(|e| e.starts_with("predicted"))
                .collect::<Vec<_>>(),
            ["predicted pg2, elected pg3: wrong"],
            "{ev:?}"
        );
        let [Effect::LogWarning(w)] = warn.as_slice() else {
            panic!("one warning: {warn:?}");
        };
        assert!(w.contains("next leader: pg2 (most advanced"), "{w}");
    }

    #[test]
    fn a_race_is_right_whichever_of_it_wins() {
        let mut held = None;
        let r = super::rank(
            &super::tests_rules(),
            &[super::e("p2", 1000), super::e("p3", 1000)],
        );
        assert_eq!(super::follow(&mut held, Some("p1"), Some(&r)), None);
        let out = super::follow(&mut held, Some("p3"), None).expect("an election");
        assert_eq!(out.predicted, "p2 or p3");
        assert!(out.right);
        // the first leader patrol sees is no election
        let mut held = None;
        assert_eq!(super::follow(&mut held, Some("p3"), None), None);
    }
}

fn tests_rules() -> Rules {
    rules()
}
