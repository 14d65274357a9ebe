//! REST-only mode: the cluster's membership from a member's `GET /cluster` when etcd is not
//! there to ask: the config names no etcd (Patroni on Consul, ZooKeeper, Kubernetes, raft),
//! `--rest-only` was given, or etcd has been unreachable for [`FALLBACK_AFTER`].
//!
//! A `/cluster` answer arrives as the DCS keys it stands for (`patroni::cluster`) and is
//! applied like a snapshot of this cluster's keys, so the rows, checks and operations work on
//! it unchanged. The header says where the membership came from and how old it is; when etcd
//! answers again its snapshot replaces it and the mode ends by itself.

use std::time::{Duration, Instant};

use super::model::{DcsHealth, Model};
use super::{Changed, Effect};
use crate::patroni::cluster::ClusterKeys;

/// etcd unreachable this long: membership comes from `/cluster` instead.
pub const FALLBACK_AFTER: Duration = Duration::from_secs(5);
/// At most this many APIs are asked for `/cluster` (in order, until one answers).
pub const MAX_CANDIDATES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// etcd is the source.
    Off,
    /// No etcd at all: `--rest-only`, or the config names none.
    Explicit,
    /// etcd is unreachable; back to the watch when it answers.
    Fallback { since: Instant },
}

#[derive(Debug, Clone)]
pub struct RestOnly {
    pub mode: Mode,
    /// The member whose `/cluster` answered last, and when.
    pub from: Option<(String, Instant)>,
    /// Why the last round of asking got no answer.
    pub error: Option<String>,
    /// `--api` URLs and `restapi.connect_address`: (label, status URL).
    seeds: Vec<(String, String)>,
    /// What the `/cluster` poller asks now (empty: not running).
    asked: Vec<(String, String)>,
}

impl RestOnly {
    pub fn new(explicit: bool, seeds: Vec<(String, String)>) -> RestOnly {
        RestOnly {
            mode: if explicit { Mode::Explicit } else { Mode::Off },
            from: None,
            error: None,
            seeds,
            asked: Vec::new(),
        }
    }

    pub fn active(&self) -> bool {
        self.mode != Mode::Off
    }
}

impl Model {
    /// The APIs to ask for `/cluster`: the known members' (the leader first), then the
    /// seeds; each URL once, at most [`MAX_CANDIDATES`].
    fn cluster_candidates(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        if let Some(c) = self.cluster() {
            let leader = c.leader.iter();
            let others = c.members.keys().filter(|n| Some(*n) != c.leader.as_ref());
            for name in leader.chain(others) {
                if let Some(url) = c.members.get(name).and_then(|m| m.api_url.as_deref()) {
                    out.push((name.clone(), url.to_string()));
                }
            }
        }
        out.extend(self.rest_only.seeds.iter().cloned());
        let mut seen = std::collections::BTreeSet::new();
        out.retain(|(_, u)| seen.insert(u.clone()));
        out.truncate(MAX_CANDIDATES);
        out
    }

    /// Ask these candidates from now on, if that changed.
    pub(super) fn cluster_poll_effect(&mut self) -> Vec<Effect> {
        let want = if self.rest_only.active() {
            self.cluster_candidates()
        } else {
            Vec::new()
        };
        if want == self.rest_only.asked {
            return Vec::new();
        }
        self.rest_only.asked = want.clone();
        vec![Effect::PollCluster(want)]
    }

    /// The clock: has etcd been away long enough to ask the members instead?
    pub(super) fn rest_only_tick(&mut self) -> Vec<Effect> {
        if self.rest_only.mode != Mode::Off {
            return Vec::new();
        }
        let since = match &self.dcs {
            DcsHealth::Down { since, .. } | DcsHealth::Connecting { since, .. } => *since,
            DcsHealth::Live { .. } => return Vec::new(),
        };
        if self.now.saturating_duration_since(since) < FALLBACK_AFTER {
            return Vec::new();
        }
        if self.cluster_candidates().is_empty() {
            // nobody to ask: the header says etcd is down, and nothing else can be known
            return Vec::new();
        }
        self.rest_only.mode = Mode::Fallback { since: self.now };
        self.mark(Changed::HEADER);
        self.cluster_poll_effect()
    }

    /// etcd answered with a snapshot: a fallback ends.
    pub(super) fn rest_only_etcd_back(&mut self) -> Vec<Effect> {
        if !matches!(self.rest_only.mode, Mode::Fallback { .. }) {
            return Vec::new();
        }
        self.rest_only.mode = Mode::Off;
        self.rest_only.from = None;
        self.rest_only.error = None;
        self.mark(Changed::HEADER);
        self.cluster_poll_effect()
    }

    /// A round of `/cluster` asking ended: `from` answered with `keys`, or nobody did.
    /// Returns whether the member set changed.
    pub(super) fn on_rest_cluster(
        &mut self,
        from: String,
        at: Instant,
        result: Result<Box<ClusterKeys>, String>,
    ) -> bool {
        // a late answer after etcd came back must not overwrite etcd's snapshot
        if !self.rest_only.active() {
            return false;
        }
        self.mark(Changed::HEADER);
        let keys = match result {
            Ok(k) => k,
            Err(e) => {
                self.rest_only.error = Some(crate::text::sanitize(&e));
                return false;
            }
        };
        self.rest_only.error = None;
        self.rest_only.from = Some((crate::text::sanitize(&from), at));
        let scope = self.scope.clone();
        let prefix = format!("{}{}/", self.namespace, scope);
        let c = self.clusters.entry(scope.clone()).or_default();
        // kept from etcd: what /cluster does not say
        let (initialize, history) = (c.initialize.clone(), c.history.clone());
        let before = c.reset_dcs();
        let mut had_history = false;
        for (rel, value) in &keys.kvs {
            had_history |= rel == "history";
            self.put(&format!("{prefix}{rel}"), value, 0, at);
        }
        if let Some(c) = self.clusters.get_mut(&scope) {
            // a seed is labelled by its URL: name the member behind it when the answer does
            if let Some((label, _)) = &mut self.rest_only.from
                && let Some((name, _)) = c
                    .members
                    .iter()
                    .find(|(_, m)| m.api_url.as_deref() == Some(label.as_str()))
            {
                *label = crate::text::sanitize(name);
            }
            c.initialize = c.initialize.take().or(initialize);
            if !had_history {
                c.history = history;
            }
            for name in before {
                if !c.members.contains_key(&name) {
                    c.mark_gone(name, at);
                }
            }
            if keys.dropped > 0 {
                c.warnings.insert(
                    "/cluster".into(),
                    format!(
                        "the answer listed {} members more than patrol's limit: not shown",
                        keys.dropped
                    ),
                );
            }
        }
        self.loaded = true;
        true
    }

    /// How old the membership on screen is, when it comes from `/cluster`.
    pub fn rest_only_age(&self) -> Option<Duration> {
        let (_, at) = self.rest_only.from.as_ref()?;
        Some(self.now.saturating_duration_since(*at))
    }

    /// The membership on screen is this old, from `/cluster` (None: from etcd, or nothing
    /// has answered yet).
    pub fn rest_only_fresh(&self) -> bool {
        self.rest_only_age()
            .is_some_and(|age| age <= self.rest_interval.max(Duration::from_secs(1)) * 4)
    }

    /// The first check of every operation: is what the dialog shows current?
    pub fn state_check(&self) -> super::checks::Check {
        use super::checks::Check;
        if !self.rest_only.active() {
            return super::checks::dcs_is_live(self.stale_for());
        }
        match (&self.rest_only.from, self.rest_only_age()) {
            (Some((from, _)), Some(age)) if self.rest_only_fresh() => Check::pass(format!(
                "REST-only: membership from {from}'s /cluster, {} old",
                super::members::human_age(age)
            )),
            (Some((from, _)), Some(age)) => Check::fail(format!(
                "REST-only: {from}'s /cluster answered {} ago: the state shown may be stale",
                super::members::human_age(age)
            )),
            _ => Check::fail("REST-only: no member's /cluster has answered yet"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::super::sample::*;
    use super::super::*;
    use super::*;
    use crate::dcs::DcsEvent;

    fn cluster_keys(rel: &str) -> Box<ClusterKeys> {
        let body = fixture(rel);
        let config = fixture("rest/config.json");
        let history = fixture("rest/history.json");
        Box::new(
            crate::patroni::cluster::to_keys(&body, Some(&config), Some(&history))
                .expect("a captured /cluster parses"),
        )
    }

    fn down(a: &mut App, at: Instant) {
        a.update(Msg::Dcs(
            at,
            DcsEvent::Down {
                endpoint: "http://e:1".into(),
                error: "connection refused".into(),
            },
        ));
    }

    fn poll_cluster(eff: &[Effect]) -> Option<Vec<(String, String)>> {
        eff.iter().find_map(|e| match e {
            Effect::PollCluster(set) => Some(set.clone()),
            _ => None,
        })
    }

    #[test]
    fn etcd_away_for_a_while_asks_the_members_and_etcd_back_ends_it() {
        let now = Instant::now();
        let mut a = app(healthy_kvs(), now);
        down(&mut a, later(now, 10));
        // a short outage is not worth a mode change
        let eff = a.update(Msg::Tick(later(now, 12)));
        assert_eq!(poll_cluster(&eff), None);
        assert!(!a.model.rest_only.active());
        let eff = a.update(Msg::Tick(later(now, 16)));
        let asked = poll_cluster(&eff).expect("asks for /cluster");
        assert_eq!(asked[0].0, "pg1", "the leader first");
        assert_eq!(asked.len(), 3);
        assert!(matches!(a.model.rest_only.mode, Mode::Fallback { .. }));
        assert!(
            a.model.state_check().level == crate::app::checks::Level::Fail,
            "nothing has answered yet"
        );

        // pg2 answers: the cluster after a switchover, pg3 stopped
        a.update(Msg::RestCluster {
            from: "pg2".into(),
            at: later(now, 17),
            result: Ok(cluster_keys("rest/cluster_member_stopped.json")),
        });
        let c = a.cluster().unwrap();
        assert_eq!(c.leader.as_deref(), Some("pg2"));
        assert_eq!(
            a.model.rest_only.from.as_ref().map(|f| f.0.as_str()),
            Some("pg2")
        );
        let rows = a.rows();
        let pg3 = rows.iter().find(|r| r.name == "pg3").unwrap();
        assert_eq!(pg3.state, "stopped");
        a.update(Msg::Tick(later(now, 19)));
        assert_eq!(a.model.rest_only_age(), Some(Duration::from_secs(2)));
        let check = a.model.state_check();
        assert_eq!(check.level, crate::app::checks::Level::Pass, "{check:?}");
        assert!(check.text.contains("pg2's /cluster, 2s old"), "{check:?}");
        // the one write that needs etcd is refused, with the reason
        let p = a
            .model
            .plan(&dialog::Dialog::new(ops::OpKind::DcsSwitchover, None));
        assert!(
            p.checks.iter().any(|c| c.level == crate::app::checks::Level::Fail
                && c.text.contains("REST-only")),
            "{:?}",
            p.checks
        );

        // etcd is back: its snapshot wins and the poller stops
        let eff = a.update(Msg::Dcs(later(now, 20), snapshot(healthy_kvs())));
        assert_eq!(poll_cluster(&eff), Some(Vec::new()));
        assert!(!a.model.rest_only.active());
        assert_eq!(a.cluster().unwrap().leader.as_deref(), Some("pg1"));
        // a late /cluster answer does not overwrite etcd's state
        a.update(Msg::RestCluster {
            from: "pg2".into(),
            at: later(now, 21),
            result: Ok(cluster_keys("rest/cluster_member_stopped.json")),
        });
        assert_eq!(a.cluster().unwrap().leader.as_deref(), Some("pg1"));
    }

    #[test]
    fn an_old_answer_is_stale_and_a_failed_round_says_why() {
        let now = Instant::now();
        let mut a = app(healthy_kvs(), now);
        down(&mut a, later(now, 1));
        a.update(Msg::Tick(later(now, 7)));
        a.update(Msg::RestCluster {
            from: "pg1".into(),
            at: later(now, 8),
            result: Ok(cluster_keys("rest/cluster.json")),
        });
        a.update(Msg::RestCluster {
            from: String::new(),
            at: later(now, 10),
            result: Err("pg1: connection refused\x1b[2J".into()),
        });
        let e = a.model.rest_only.error.clone().unwrap();
        assert!(!e.contains('\x1b'), "sanitized: {e:?}");
        a.update(Msg::Tick(later(now, 30)));
        assert!(!a.model.rest_only_fresh());
        assert_eq!(
            a.model.state_check().level,
            crate::app::checks::Level::Fail,
            "22 s old is not current"
        );
    }

    #[test]
    fn explicit_mode_asks_the_seeds_from_the_start_and_names_the_member_behind_one() {
        let now = Instant::now();
        let mut cfg = AppConfig::new("demo", "/service/", Vec::new());
        cfg.rest_only = true;
        let seed = "http://127.0.0.1:24012/patroni".to_string();
        cfg.api_seeds = vec![(seed.clone(), seed.clone())];
        let mut a = App::new(cfg, now);
        assert_eq!(
            poll_cluster(&a.start()),
            Some(vec![(seed.clone(), seed.clone())])
        );
        let eff = a.update(Msg::RestCluster {
            from: seed.clone(),
            at: later(now, 1),
            result: Ok(cluster_keys("rest/cluster.json")),
        });
        assert_eq!(
            a.model.rest_only.from.as_ref().map(|f| f.0.as_str()),
            Some("pg2")
        );
        assert!(a.model.loaded);
        assert_eq!(a.rows().len(), 3);
        // every member is polled, and asked for /cluster next time (the leader first)
        assert!(
            eff.iter()
                .any(|e| matches!(e, Effect::PollMembers(s) if s.len() == 3))
        );
        let asked = poll_cluster(&eff).expect("candidates follow the membership");
        assert_eq!(asked[0].0, "pg1");
        assert!(asked.iter().any(|(_, u)| *u == seed));
        // etcd is never asked in explicit mode, so a tick never ends it
        a.update(Msg::Tick(later(now, 60)));
        assert_eq!(a.model.rest_only.mode, Mode::Explicit);
    }

    #[test]
    fn with_nobody_to_ask_etcd_down_stays_etcd_down() {
        let now = Instant::now();
        let mut a = App::new(
            AppConfig::new("demo", "/service/", vec!["http://e:1".into()]),
            now,
        );
        down(&mut a, now);
        let eff = a.update(Msg::Tick(later(now, 30)));
        assert_eq!(poll_cluster(&eff), None);
        assert!(!a.model.rest_only.active());
    }
}
