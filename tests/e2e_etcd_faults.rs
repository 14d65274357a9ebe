//! patrol on a real 3-member etcd under the faults an on-call engineer meets: the member
//! patrol watches SIGKILLed or hung (SIGSTOP), the raft leader killed, the watched revision
//! compacted, a dead member named first in every endpoint list, quorum lost and back. Each
//! test has its own cluster (`scripts/cluster` with `PATROL_ETCD_MEMBERS=3`) and drives the
//! real runtime headless; every wait is bounded (a bound on how long patrol may take to show
//! the truth, not a speed assertion) and nothing is skipped.
//!
//! The test thread and patrol's tasks share one current-thread runtime: while the test runs
//! a blocking command (a kill, an `etcdctl put`), patrol does nothing, so "a change made
//! while patrol moves" is made before patrol can have seen it, every time.

mod support;

use std::cell::Cell;
use std::time::Duration;

use patrol::app::checks::Level;
use patrol::app::dialog::Dialog;
use patrol::app::ops::{OpKind, Settle};
use patrol::app::{App, DcsHealth};
use patrol::runtime::Headless;
use ratatui::crossterm::event::KeyCode;
use serde_json::{Value, json};
use support::drive::{describe, last_op, press, rt, screen, settings};
use support::{Options, TestCluster, healthy};

const MIB: u64 = 1024 * 1024;

fn start3() -> TestCluster {
    TestCluster::start_with(Options::new(3).etcd_members(3))
}

fn headless(c: &TestCluster) -> Headless {
    Headless::start(
        &settings(c.config_path()),
        Duration::from_millis(500),
        Duration::from_secs(2),
    )
    .expect("start")
}

/// What a failing assertion should show: the screen, the DCS state and the events.
fn show(app: &App) -> String {
    let events: Vec<String> = app.model.events.iter().map(|e| e.kind.text()).collect();
    format!(
        "{}\ndcs: {:?}\netcd: {:?}\nevents: {events:#?}\n{}",
        screen(app),
        app.model.dcs,
        app.model.etcd_status,
        describe(app)
    )
}

/// The etcd member (1..3) patrol's watch is live on.
fn in_use(c: &TestCluster, a: &App) -> Option<usize> {
    match &a.model.dcs {
        DcsHealth::Live { endpoint, .. } if a.model.unanswered().is_none() => {
            c.etcd_member_of(endpoint)
        }
        _ => None,
    }
}

/// Write `maximum_lag_on_failover` (in MiB) into the dynamic config key, straight into etcd (Patroni
/// reads it and does not write it back): a change that shows on screen as "max lag".
fn set_max_lag(c: &TestCluster, mib: u64) {
    let cfg = c.etcd_get("config").expect("a config key");
    let mut v: Value = serde_json::from_str(&cfg).expect("config is JSON");
    v["maximum_lag_on_failover"] = json!(mib * MIB);
    c.etcd_put("config", &v.to_string());
}

fn max_lag(a: &App) -> Option<u64> {
    a.cluster()?.config.as_ref()?.maximum_lag_on_failover
}

/// The change is in the model, on screen, and in the event log (each change is delivered,
/// not only the state after it).
fn shows_max_lag(a: &App, mib: u64) -> bool {
    max_lag(a) == Some(mib * MIB)
        && screen(a).contains(&format!("max lag {mib}.0 MiB"))
        && a.model.events.iter().any(|e| {
            let t = e.kind.text();
            t.contains("maximum_lag_on_failover") && t.contains(&(mib * MIB).to_string())
        })
}

async fn live_and_healthy(c: &TestCluster, h: &mut Headless) -> usize {
    let ok = h
        .until(Duration::from_secs(60), |a| {
            healthy(a) && in_use(c, a).is_some() && a.model.etcd_status.len() == 3
        })
        .await;
    assert!(ok, "healthy and live:\n{}", show(&h.app));
    in_use(c, &h.app).expect("live")
}

#[test]
fn the_endpoint_in_use_sigkilled_patrol_moves_on_and_misses_no_change() {
    let c = start3();
    rt().block_on(async {
        let mut h = headless(&c);
        let k = live_and_healthy(&c, &mut h).await;

        // killed, and a change written before patrol can react
        c.kill_etcd(k);
        set_max_lag(&c, 2);
        let ok = h
            .until(Duration::from_secs(30), |a| {
                in_use(&c, a).is_some_and(|m| m != k) && shows_max_lag(a, 2)
            })
            .await;
        assert!(
            ok,
            "moved off etcd{k}, the change on screen:\n{}",
            show(&h.app)
        );

        // the watch goes on from the new member
        set_max_lag(&c, 3);
        let ok = h
            .until(Duration::from_secs(15), |a| shows_max_lag(a, 3))
            .await;
        assert!(ok, "the next change:\n{}", show(&h.app));
        // (etcd's revision asked aside may be a moment ahead: `checking` until the watch's
        // progress answer confirms it)
        h.until(Duration::from_secs(3), |a| screen(a).contains("● live"))
            .await;
        let text = screen(&h.app);
        assert!(text.contains("● live"), "{text}");
        assert!(!text.contains("STALE"), "{text}");

        // the etcd view shows the killed member down
        press(&mut h, KeyCode::Char('e'));
        let dead = c.etcd_member_url(k);
        let ok = h
            .until(Duration::from_secs(15), |a| {
                a.model
                    .etcd_status
                    .iter()
                    .any(|e| e.endpoint == dead && e.result.is_err())
            })
            .await;
        assert!(ok, "etcd{k} shown down:\n{}", show(&h.app));
        let text = screen(&h.app);
        assert!(text.contains("down"), "{text}");
    });
}

#[test]
fn the_endpoint_in_use_hung_for_30s_is_not_shown_live_and_blocks_nothing() {
    let c = start3();
    let audit = tempfile::tempdir().expect("tempdir");
    rt().block_on(async {
        let mut h = headless(&c);
        h.configure(Some(audit.path().join("audit.jsonl")), false);
        let k = live_and_healthy(&c, &mut h).await;
        let hung_url = c.etcd_member_url(k);

        c.stop_etcd(k);
        let stopped = std::time::Instant::now();
        set_max_lag(&c, 2);

        // The screen never calls the hung member live once its silence is noticeable:
        // either it says "no answer for ..." or patrol has left it.
        let saw_unanswered = Cell::new(false);
        let looked_live_late = Cell::new(false);
        let ok = h
            .until(Duration::from_secs(30), |a| {
                if a.model.unanswered().is_some() {
                    saw_unanswered.set(true);
                }
                let on_hung = matches!(&a.model.dcs,
                    DcsHealth::Live { endpoint, .. } if *endpoint == hung_url);
                // PROBE_AFTER + PROBE_TIMEOUT + a second of slack
                if on_hung
                    && a.model.unanswered().is_none()
                    && stopped.elapsed() > Duration::from_secs(7)
                {
                    looked_live_late.set(true);
                }
                in_use(&c, a).is_some_and(|m| m != k) && shows_max_lag(a, 2)
            })
            .await;
        assert!(ok, "moved off the hung etcd{k}:\n{}", show(&h.app));
        assert!(
            !looked_live_late.get(),
            "the hung member was shown live long after it stopped answering"
        );
        assert!(
            saw_unanswered.get(),
            "its silence was shown (\"no answer for ...\") before patrol left it"
        );

        // REST reads go on, and an operation goes through while etcd{k} still hangs
        let ok = h.until(Duration::from_secs(20), healthy).await;
        assert!(ok, "healthy while etcd{k} hangs:\n{}", show(&h.app));
        press(&mut h, KeyCode::Char('L'));
        press(&mut h, KeyCode::Char('y'));
        let s = last_op(&mut h, Duration::from_secs(20)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("HTTP 202")),
            "reload while etcd{k} hangs: {s:?}\n{}",
            show(&h.app)
        );
        set_max_lag(&c, 3);
        let ok = h
            .until(Duration::from_secs(15), |a| shows_max_lag(a, 3))
            .await;
        assert!(ok, "the watch goes on:\n{}", show(&h.app));

        // 30 s of hang, then it comes back and is shown healthy again
        let left = Duration::from_secs(30).saturating_sub(stopped.elapsed());
        h.until(left, |_| false).await;
        assert!(
            h.app
                .model
                .etcd_status
                .iter()
                .any(|e| e.endpoint == hung_url && e.result.is_err()),
            "the hung member is shown down in the etcd view:\n{}",
            show(&h.app)
        );
        c.cont_etcd(k);
        let ok = h
            .until(Duration::from_secs(30), |a| {
                a.model.etcd_status.iter().all(|e| e.result.is_ok())
            })
            .await;
        assert!(ok, "etcd{k} healthy again:\n{}", show(&h.app));
    });
}

#[test]
fn the_raft_leader_killed_a_new_leader_is_shown_and_the_watch_goes_on() {
    let c = start3();
    rt().block_on(async {
        let mut h = headless(&c);
        live_and_healthy(&c, &mut h).await;
        let status = c.etcd_status();
        let leader = c.etcd_leader().expect("a raft leader");
        let old_id = status
            .iter()
            .find(|s| s.0 == leader)
            .map(|s| s.1)
            .expect("leader's id");
        // patrol's view agrees before the fault
        let ok = h
            .until(Duration::from_secs(15), |a| {
                a.model
                    .etcd_status
                    .iter()
                    .filter_map(|e| e.result.as_ref().ok())
                    .all(|i| i.leader == old_id)
            })
            .await;
        assert!(ok, "patrol sees etcd{leader} lead:\n{}", show(&h.app));

        c.kill_etcd(leader);
        set_max_lag(&c, 2);
        press(&mut h, KeyCode::Char('e'));
        let ok = h
            .until(Duration::from_secs(30), |a| {
                let answers: Vec<_> = a
                    .model
                    .etcd_status
                    .iter()
                    .filter_map(|e| e.result.as_ref().ok())
                    .collect();
                answers.len() == 2
                    && answers.iter().all(|i| i.leader != 0 && i.leader != old_id)
                    && screen(a).contains("this one")
                    && max_lag(a) == Some(2 * MIB)
                    && in_use(&c, a).is_some()
            })
            .await;
        assert!(
            ok,
            "a new raft leader in the etcd view, the watch goes on:\n{}",
            show(&h.app)
        );
        press(&mut h, KeyCode::Esc);
        assert!(shows_max_lag(&h.app, 2), "{}", show(&h.app));
        let new = c.etcd_leader().expect("a new leader");
        assert_ne!(new, leader);

        set_max_lag(&c, 3);
        let ok = h
            .until(Duration::from_secs(15), |a| shows_max_lag(a, 3))
            .await;
        assert!(ok, "the next change:\n{}", show(&h.app));
    });
}

#[test]
fn the_watched_revision_compacted_while_a_change_is_made_a_fresh_snapshot_shows_it() {
    let c = start3();
    rt().block_on(async {
        let mut h = headless(&c);
        let k = live_and_healthy(&c, &mut h).await;

        // patrol's member hangs, so its watch must go on elsewhere from its last revision;
        // meanwhile a change is made and history up to it compacted
        c.stop_etcd(k);
        set_max_lag(&c, 2);
        let rev = c.etcd_revision().expect("revision");
        c.compact(rev);

        let saw_compacted = Cell::new(false);
        let ok = h
            .until(Duration::from_secs(30), |a| {
                if let DcsHealth::Down { error, .. } = &a.model.dcs
                    && error.contains("compacted")
                {
                    saw_compacted.set(true);
                }
                in_use(&c, a).is_some_and(|m| m != k) && max_lag(a) == Some(2 * MIB)
            })
            .await;
        assert!(ok, "a fresh snapshot shows the change:\n{}", show(&h.app));
        assert!(
            saw_compacted.get(),
            "the resumed watch was refused as compacted (this test must take that path):\n{}",
            show(&h.app)
        );
        assert!(screen(&h.app).contains("max lag 2.0 MiB"));

        set_max_lag(&c, 3);
        let ok = h
            .until(Duration::from_secs(15), |a| shows_max_lag(a, 3))
            .await;
        assert!(
            ok,
            "the watch goes on after the snapshot:\n{}",
            show(&h.app)
        );
        c.cont_etcd(k);
    });
}

#[test]
fn a_dead_member_named_first_changes_nothing_but_the_etcd_view() {
    let c = TestCluster::start_with(Options::new(3).etcd_members(3).dead_first());
    rt().block_on(async {
        let s = settings(c.config_path());
        let dead = format!("http://{}", c.dead_endpoint());
        assert_eq!(
            s.dcs.endpoints.first(),
            Some(&dead),
            "{:?}",
            s.dcs.endpoints
        );
        let mut h = headless(&c);
        let ok = h
            .until(Duration::from_secs(60), |a| {
                healthy(a) && in_use(&c, a).is_some() && a.model.etcd_status.len() == 4
            })
            .await;
        assert!(ok, "healthy, live on a real member:\n{}", show(&h.app));
        set_max_lag(&c, 2);
        let ok = h
            .until(Duration::from_secs(15), |a| shows_max_lag(a, 2))
            .await;
        assert!(ok, "changes arrive:\n{}", show(&h.app));

        h.until(Duration::from_secs(3), |a| screen(a).contains("● live"))
            .await;
        let text = screen(&h.app);
        assert!(text.contains("● live"), "{text}");
        assert!(
            !text.contains("STALE") && !text.contains("REST-only"),
            "{text}"
        );
        // no connection event: the one thing said is the health rule's finding about the
        // dead member itself (a cluster running on two of three members has less margin)
        let events: Vec<String> = h.app.model.events.iter().map(|e| e.kind.text()).collect();
        assert!(
            events
                .iter()
                .filter(|e| e.contains("etcd"))
                .all(|e| e.contains("[etcd-endpoint-down]") && e.contains(&dead)),
            "no etcd event for the user but the dead member's finding: {events:?}"
        );
        // only the etcd view tells
        let st = &h.app.model.etcd_status;
        assert!(
            st.iter().all(|e| (e.endpoint == dead) == e.result.is_err()),
            "{st:?}"
        );
        press(&mut h, KeyCode::Char('e'));
        let text = screen(&h.app);
        let row = text
            .lines()
            .find(|l| l.contains(&c.dead_endpoint()))
            .unwrap_or_else(|| panic!("the dead endpoint listed:\n{text}"));
        assert!(row.contains("down"), "{row}");
        assert_eq!(text.matches("healthy").count(), 3, "{text}");
    });
}

#[test]
fn quorum_lost_says_so_falls_back_to_rest_refuses_dcs_writes_and_comes_back() {
    let c = start3();
    rt().block_on(async {
        let mut h = headless(&c);
        let k = live_and_healthy(&c, &mut h).await;
        // the two members patrol does not use: its own connection stays up, on a member
        // that can no longer see any change
        let others: Vec<usize> = (1..=3).filter(|&m| m != k).collect();
        for &m in &others {
            c.kill_etcd(m);
        }

        let saw_stale = Cell::new(false);
        let ok = h
            .until(Duration::from_secs(30), |a| {
                let text = screen(a);
                if text.contains("STALE: etcd data") {
                    saw_stale.set(true);
                }
                matches!(a.model.dcs, DcsHealth::Down { .. })
                    && a.model.etcd_no_quorum() == Some((1, 3))
                    && text.contains("NO QUORUM")
                    && a.model.rest_only.from.is_some()
                    && text.contains("REST-only: membership from")
            })
            .await;
        assert!(ok, "no quorum, REST-only:\n{}", show(&h.app));
        assert!(saw_stale.get(), "the last state was marked stale first");
        let text = screen(&h.app);
        assert!(text.contains("DOWN"), "etcd's age on line 1:\n{text}");
        assert!(!text.contains("● live"), "{text}");
        assert_eq!(h.app.rows().len(), 3, "{text}");

        // every write that needs the DCS is refused, with the reason
        for kind in [
            OpKind::Switchover,
            OpKind::Failover,
            OpKind::Pause,
            OpKind::DcsSwitchover,
        ] {
            let p = h.app.model.plan(&Dialog::new(kind, None));
            assert!(
                p.checks
                    .iter()
                    .any(|k| k.level == Level::Fail && k.text.contains("no quorum")),
                "{kind:?}: {:?}",
                p.checks
            );
        }

        // quorum back: live again, REST-only over, without a restart
        for &m in &others {
            c.start_etcd(m);
        }
        let ok = h
            .until(Duration::from_secs(60), |a| {
                in_use(&c, a).is_some() && !a.model.rest_only.active()
            })
            .await;
        assert!(ok, "live again:\n{}", show(&h.app));
        set_max_lag(&c, 2);
        let ok = h
            .until(Duration::from_secs(30), |a| {
                shows_max_lag(a, 2) && !screen(a).contains("NO QUORUM")
            })
            .await;
        assert!(ok, "changes arrive again:\n{}", show(&h.app));
    });
}
