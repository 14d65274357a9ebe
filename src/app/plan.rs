//! What a dialog would do in the current state: candidates, checks, the exact request and
//! the outcome to wait for. Pure; computed for display and again at confirmation.

use serde_json::{Map, Value, json};

use super::App;
use super::checks::{self, Candidate, Check, Level};
use super::dialog::{Dialog, parse_schedule};
use super::members::RestHealth;
use super::ops::{Expect, Method, OpKind, Request, RolloutStep};

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub candidates: Vec<Candidate>,
    pub checks: Vec<Check>,
    pub request: Option<Request>,
    pub expect: Expect,
    /// The text the operator must type to confirm (failover: the cluster; reinit: the member).
    pub must_type: Option<String>,
    /// Rolling restart: every step; `request` is the first one's.
    pub steps: Vec<RolloutStep>,
}

/// Wait for a new postmaster start time (the one known now is the "before").
fn restarted(c: &super::cluster::ClusterState, member: &str) -> Expect {
    let before = c
        .rest
        .get(member)
        .and_then(|s| s.ok.as_ref())
        .and_then(|(_, s)| s.postmaster_start_time.clone());
    Expect::Restarted {
        member: member.to_string(),
        before,
    }
}

impl App {
    fn api_url(&self, member: &str) -> Option<String> {
        self.cluster()?.members.get(member)?.api_url.clone()
    }

    pub(super) fn rest_live(&self, member: &str) -> bool {
        self.rows()
            .iter()
            .any(|r| r.name == member && r.rest == RestHealth::Live)
    }

    /// Where cluster-wide writes (pause, flush switchover) go: the leader, else any member
    /// whose API answers.
    fn any_api(&self) -> Option<(String, String)> {
        let c = self.cluster()?;
        let leader = c.leader.clone().filter(|l| self.rest_live(l));
        let name = leader.or_else(|| {
            self.rows()
                .into_iter()
                .find(|r| r.rest == RestHealth::Live)
                .map(|r| r.name)
        })?;
        let url = self.api_url(&name)?;
        Some((name, url))
    }

    /// The plan of one rolling-restart step, in the state as it is when the step starts.
    pub fn step_plan(&self, step: &RolloutStep) -> Plan {
        match step {
            RolloutStep::Restart(m) => {
                let mut d = Dialog::new(OpKind::Restart, Some(m.clone()));
                d.pending_only = true;
                self.plan(&d)
            }
            RolloutStep::SwitchoverFrom(l) => {
                let mut p = self.plan(&Dialog::new(OpKind::Switchover, None));
                if self.cluster().and_then(|c| c.leader.as_ref()) != Some(l) {
                    p.checks.push(Check {
                        level: Level::Fail,
                        text: format!("{l} is no longer the leader"),
                    });
                }
                p
            }
        }
    }

    /// Replicas with a pending restart first, then the leader (after a switchover away from
    /// it, when asked).
    pub fn rollout_steps(&self, switch_first: bool) -> Vec<RolloutStep> {
        let rows = self.rows();
        let pending = rows
            .iter()
            .filter(|r| r.pending_restart && r.gone.is_none());
        let mut steps: Vec<RolloutStep> = pending
            .clone()
            .filter(|r| !r.role.is_leader())
            .map(|r| RolloutStep::Restart(r.name.clone()))
            .collect();
        if let Some(l) = pending.clone().find(|r| r.role.is_leader()) {
            if switch_first {
                steps.push(RolloutStep::SwitchoverFrom(l.name.clone()));
            }
            steps.push(RolloutStep::Restart(l.name.clone()));
        }
        steps
    }

    pub fn plan(&self, d: &Dialog) -> Plan {
        if d.kind == OpKind::RollingRestart {
            let steps = self.rollout_steps(d.switch_first);
            let mut p = match steps.first() {
                Some(first) => self.step_plan(first),
                None => Plan {
                    candidates: Vec::new(),
                    checks: vec![
                        checks::dcs_is_live(self.stale_for()),
                        Check {
                            level: Level::Fail,
                            text: "no member has a pending restart".into(),
                        },
                    ],
                    request: None,
                    expect: Expect::Reply,
                    must_type: None,
                    steps: Vec::new(),
                },
            };
            p.steps = steps;
            return p;
        }
        let mut p = Plan {
            candidates: Vec::new(),
            checks: vec![checks::dcs_is_live(self.stale_for())],
            request: None,
            expect: Expect::Reply,
            must_type: None,
            steps: Vec::new(),
        };
        let Some(c) = self.cluster() else {
            p.checks.push(Check {
                level: Level::Fail,
                text: "no cluster state yet".into(),
            });
            return p;
        };
        let rows = self.rows();
        let leader_row = rows.iter().find(|r| r.role.is_leader());
        let leader = c.leader.clone();
        let leader_tl = leader_row.and_then(|r| r.timeline);
        let schedule = |p: &mut Plan| match parse_schedule(&d.schedule) {
            Ok(s) => s,
            Err(e) => {
                p.checks.push(Check {
                    level: Level::Fail,
                    text: e,
                });
                None
            }
        };
        let member_row = d
            .member
            .as_ref()
            .and_then(|m| rows.iter().find(|r| &r.name == m));
        match d.kind {
            OpKind::DcsSwitchover => {
                p.candidates = checks::candidates(c, self.now, self.rest_interval);
                let cand = match &d.candidate {
                    Some(_) => d.selected(&p.candidates).cloned(),
                    // none chosen (a rolling restart's step): the best one now
                    None => p.candidates.first().cloned(),
                };
                if let (None, Some(n)) = (&cand, &d.candidate) {
                    p.checks.push(Check {
                        level: Level::Fail,
                        text: format!("{n} is no longer a candidate: pick another"),
                    });
                }
                let when = schedule(&mut p);
                match &leader {
                    Some(l) => p.checks.push(Check {
                        level: Level::Pass,
                        text: format!("{l} holds the leader lock"),
                    }),
                    None => p.checks.push(Check {
                        level: Level::Fail,
                        text: "no leader to act on the key (use failover)".into(),
                    }),
                }
                match &cand {
                    Some(k) if k.eligible() || k.reasons.iter().all(|r| r.starts_with("REST")) => {
                        p.checks.push(Check {
                            level: Level::Pass,
                            text: format!("{} is a candidate", k.name),
                        })
                    }
                    Some(k) => p.checks.push(Check {
                        level: Level::Fail,
                        text: format!("{} is not eligible: {}", k.name, k.reasons.join(", ")),
                    }),
                    None => p.checks.push(Check {
                        level: Level::Fail,
                        text: "no candidate selected".into(),
                    }),
                }
                p.checks.push(Check {
                    level: Level::Warn,
                    text: "the leader's REST API does not answer: Patroni acts on this key in its next loop, if it runs"
                        .into(),
                });
                p.must_type = Some(self.scope.clone());
                if let (Some(l), Some(k)) = (&leader, &cand) {
                    let mut v = Map::new();
                    v.insert("leader".into(), json!(l));
                    v.insert("member".into(), json!(k.name));
                    if let Some(w) = &when {
                        v.insert("scheduled_at".into(), json!(w));
                    }
                    let key = format!("{}{}/failover", self.namespace, self.scope);
                    p.request = Some(Request::etcd_put(l, key, Value::Object(v)));
                }
                p.expect = Expect::NewLeader {
                    from: leader.clone(),
                    to: cand.map(|k| k.name),
                    timeline: leader_tl,
                    old_streams: false,
                };
            }
            OpKind::Switchover | OpKind::Failover => {
                p.candidates = checks::candidates(c, self.now, self.rest_interval);
                let cand = match &d.candidate {
                    Some(_) => d.selected(&p.candidates).cloned(),
                    // none chosen (a rolling restart's step): the best one now
                    None => p.candidates.first().cloned(),
                };
                if let (None, Some(n)) = (&cand, &d.candidate) {
                    p.checks.push(Check {
                        level: Level::Fail,
                        text: format!("{n} is no longer a candidate: pick another"),
                    });
                }
                let when = if d.kind == OpKind::Switchover {
                    schedule(&mut p)
                } else {
                    None
                };
                if d.kind == OpKind::Switchover {
                    let leader_ok = leader.as_deref().is_some_and(|l| self.rest_live(l));
                    p.checks.extend(checks::switchover(
                        c,
                        cand.as_ref(),
                        leader_ok,
                        when.is_some(),
                    ));
                    if let (Some(l), Some(k)) = (&leader, &cand) {
                        let mut body = Map::new();
                        body.insert("leader".into(), json!(l));
                        body.insert("candidate".into(), json!(k.name));
                        if let Some(w) = &when {
                            body.insert("scheduled_at".into(), json!(w));
                        }
                        p.request = self.api_url(l).map(|u| {
                            Request::new(
                                l,
                                &u,
                                Method::Post,
                                "/switchover",
                                Some(Value::Object(body)),
                            )
                        });
                    }
                } else {
                    p.checks.extend(checks::failover(c, cand.as_ref()));
                    p.must_type = Some(self.scope.clone());
                    if let Some(k) = &cand {
                        // the leader's API when it answers, else the candidate's
                        let target = leader
                            .clone()
                            .filter(|l| self.rest_live(l))
                            .unwrap_or(k.name.clone());
                        p.request = self.api_url(&target).map(|u| {
                            Request::new(
                                &target,
                                &u,
                                Method::Post,
                                "/failover",
                                Some(json!({"candidate": k.name})),
                            )
                        });
                    }
                }
                p.expect = Expect::NewLeader {
                    from: leader.clone(),
                    to: cand.map(|k| k.name),
                    timeline: leader_tl,
                    old_streams: d.kind == OpKind::Switchover && leader.is_some(),
                };
            }
            OpKind::Restart => {
                p.checks
                    .extend(checks::member_op(member_row, "restart", false));
                let when = schedule(&mut p);
                if let Some(r) = member_row {
                    let mut body = Map::new();
                    if d.pending_only {
                        body.insert("restart_pending".into(), json!(true));
                        if !r.pending_restart {
                            p.checks.push(Check {
                                level: Level::Warn,
                                text: format!(
                                    "{} has no pending restart: Patroni will not restart it",
                                    r.name
                                ),
                            });
                        }
                    }
                    if let Some(w) = &when {
                        body.insert("schedule".into(), json!(w));
                    }
                    let v = d.pg_version.trim();
                    if !v.is_empty() {
                        body.insert("postgres_version".into(), json!(v));
                    }
                    let t = d.restart_timeout.trim();
                    if !t.is_empty() {
                        match t.trim_end_matches('s').parse::<u64>() {
                            Ok(n) => {
                                body.insert("timeout".into(), json!(n));
                            }
                            Err(_) => p.checks.push(Check {
                                level: Level::Fail,
                                text: format!("timeout {t:?} is not a number of seconds"),
                            }),
                        }
                    }
                    p.request = self.api_url(&r.name).map(|u| {
                        Request::new(
                            &r.name,
                            &u,
                            Method::Post,
                            "/restart",
                            Some(Value::Object(body)),
                        )
                    });
                    p.expect = restarted(c, &r.name);
                }
            }
            OpKind::Reload => {
                p.checks
                    .extend(checks::member_op(member_row, "reload", false));
                if let Some(r) = member_row {
                    p.request = self
                        .api_url(&r.name)
                        .map(|u| Request::new(&r.name, &u, Method::Post, "/reload", None));
                }
            }
            OpKind::Reinit => {
                p.checks
                    .extend(checks::member_op(member_row, "reinit", true));
                if let Some(r) = member_row {
                    p.must_type = Some(r.name.clone());
                    p.request = self.api_url(&r.name).map(|u| {
                        Request::new(
                            &r.name,
                            &u,
                            Method::Post,
                            "/reinitialize",
                            Some(json!({"force": d.force, "from_leader": d.from_leader})),
                        )
                    });
                    p.expect = restarted(c, &r.name);
                }
            }
            OpKind::Pause | OpKind::Resume => {
                let on = d.kind == OpKind::Pause;
                if c.is_paused() == on {
                    p.checks.push(Check {
                        level: Level::Fail,
                        text: format!(
                            "maintenance mode is already {}",
                            if on { "on" } else { "off" }
                        ),
                    });
                } else if on {
                    p.checks.push(Check {
                        level: Level::Warn,
                        text: "while paused Patroni does not fail over automatically".into(),
                    });
                }
                match self.any_api() {
                    Some((m, u)) => {
                        let body = if on {
                            json!({"pause": true})
                        } else {
                            json!({"pause": null})
                        };
                        p.request =
                            Some(Request::new(&m, &u, Method::Patch, "/config", Some(body)));
                    }
                    None => p.checks.push(Check {
                        level: Level::Fail,
                        text: "no member's REST API answers".into(),
                    }),
                }
                p.expect = Expect::Paused(on);
            }
            OpKind::FlushSwitchover => {
                if c.failover.is_none() {
                    p.checks.push(Check {
                        level: Level::Fail,
                        text: "no switchover is scheduled".into(),
                    });
                }
                match self.any_api() {
                    Some((m, u)) => {
                        p.request = Some(Request::new(&m, &u, Method::Delete, "/switchover", None))
                    }
                    None => p.checks.push(Check {
                        level: Level::Fail,
                        text: "no member's REST API answers".into(),
                    }),
                }
                p.expect = Expect::NoScheduledSwitchover;
            }
            OpKind::RollingRestart => {} // planned above
            OpKind::FlushRestart => {
                p.checks
                    .extend(checks::member_op(member_row, "restart", false));
                if let Some(r) = member_row {
                    if r.scheduled_restart.is_none() {
                        p.checks.push(Check {
                            level: Level::Fail,
                            text: format!("{} has no scheduled restart", r.name),
                        });
                    }
                    p.request = self
                        .api_url(&r.name)
                        .map(|u| Request::new(&r.name, &u, Method::Delete, "/restart", None));
                    p.expect = Expect::NoScheduledRestart(r.name.clone());
                }
            }
        }
        p
    }
}
