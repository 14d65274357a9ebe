//! What a dialog would do in the current state: candidates, checks, the exact request and
//! the outcome to wait for. Pure; computed for display and again at confirmation. Each
//! operation plans itself (`app/ops/<operation>.rs`); this is what they share.

use super::checks::{self, Candidate, Check, Level};
use super::cluster::ClusterState;
use super::dialog::{Dialog, Options};
use super::members::{MemberRow, RestHealth};
use super::model::Model;
use super::ops::{Expect, OpKind, Request, RolloutStep, spec};

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

impl Default for Plan {
    /// Nothing planned: no candidates, no checks, no request.
    fn default() -> Plan {
        Plan {
            candidates: Vec::new(),
            checks: Vec::new(),
            request: None,
            expect: Expect::Reply,
            must_type: None,
            steps: Vec::new(),
        }
    }
}

impl Plan {
    pub fn pass(&mut self, text: impl Into<String>) {
        self.checks.push(Check {
            level: Level::Pass,
            text: text.into(),
        });
    }
    pub fn warn(&mut self, text: impl Into<String>) {
        self.checks.push(Check {
            level: Level::Warn,
            text: text.into(),
        });
    }
    pub fn fail(&mut self, text: impl Into<String>) {
        self.checks.push(Check {
            level: Level::Fail,
            text: text.into(),
        });
    }

    /// The dialog's schedule as sent (ISO 8601; None: now); a bad one is a failed check.
    pub fn schedule(&mut self, d: &Dialog, m: &Model) -> Option<String> {
        match super::schedule::parse(d.options.schedule(), m.wall_now(), &m.tz) {
            Ok(w) => w.map(|w| w.iso()),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }
}

/// Has this member's REST API answered recently (its row says `Live`)?
fn rest_live(rows: &[MemberRow], member: &str) -> bool {
    rows.iter()
        .any(|r| r.name == member && r.rest == RestHealth::Live)
}

/// What every operation's plan reads, derived once per plan.
pub struct Ctx<'a> {
    pub model: &'a Model,
    pub cluster: &'a ClusterState,
    pub rows: Vec<MemberRow>,
    /// The member holding the leader key.
    pub leader: Option<String>,
    /// The timeline of the leader's row.
    pub leader_tl: Option<u64>,
}

impl Ctx<'_> {
    /// The row of the dialog's member.
    pub fn member_row(&self, d: &Dialog) -> Option<&MemberRow> {
        d.member
            .as_ref()
            .and_then(|m| self.rows.iter().find(|r| &r.name == m))
    }

    pub fn api_url(&self, member: &str) -> Option<String> {
        self.cluster.members.get(member)?.api_url.clone()
    }

    pub fn rest_live(&self, member: &str) -> bool {
        rest_live(&self.rows, member)
    }

    /// Where cluster-wide writes (pause, flush switchover) go: the leader, else any member
    /// whose API answers.
    pub fn any_api(&self) -> Option<(String, String)> {
        let leader = self.leader.clone().filter(|l| self.rest_live(l));
        let name = leader.or_else(|| {
            self.rows
                .iter()
                .find(|r| r.rest == RestHealth::Live)
                .map(|r| r.name.clone())
        })?;
        let url = self.api_url(&name)?;
        Some((name, url))
    }

    /// The candidates now, and the dialog's one among them (none chosen, as in a rolling
    /// restart's step: the best one now); a chosen one no longer listed is a failed check.
    pub fn candidate(&self, d: &Dialog, p: &mut Plan) -> Option<Candidate> {
        p.candidates = checks::candidates(self.cluster, self.model.now, self.model.rest_interval);
        let cand = match &d.candidate {
            Some(_) => d.selected(&p.candidates).cloned(),
            None => p.candidates.first().cloned(),
        };
        if let (None, Some(n)) = (&cand, &d.candidate) {
            p.fail(format!("{n} is no longer a candidate: pick another"));
        }
        cand
    }

    /// Wait for a new postmaster start time (the one known now is the "before").
    pub fn restarted(&self, member: &str) -> Expect {
        let before = self
            .cluster
            .rest
            .get(member)
            .and_then(|s| s.ok.as_ref())
            .and_then(|(_, s)| s.postmaster_start_time.clone());
        Expect::Restarted {
            member: member.to_string(),
            before,
        }
    }
}

impl Model {
    /// Is there a leader whose REST API does not answer? (The DCS fallback's case.)
    pub fn leader_api_down(&self) -> bool {
        self.cluster()
            .and_then(|c| c.leader.as_deref())
            .is_some_and(|l| !rest_live(&self.rows(), l))
    }

    /// The plan of one rolling-restart step, in the state as it is when the step starts.
    pub fn step_plan(&self, step: &RolloutStep) -> Plan {
        match step {
            RolloutStep::Restart(m) => {
                let mut d = Dialog::new(OpKind::Restart, Some(m.clone()));
                if let Options::Restart { pending_only, .. } = &mut d.options {
                    *pending_only = true;
                }
                self.plan(&d)
            }
            RolloutStep::SwitchoverFrom(l) => {
                let mut p = self.plan(&Dialog::new(OpKind::Switchover, None));
                if self.cluster().and_then(|c| c.leader.as_ref()) != Some(l) {
                    p.fail(format!("{l} is no longer the leader"));
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

    /// What the dialog would send now, after which checks, waiting for what.
    pub fn plan(&self, d: &Dialog) -> Plan {
        let mut p = Plan {
            candidates: Vec::new(),
            checks: vec![self.state_check()],
            request: None,
            expect: Expect::Reply,
            must_type: None,
            steps: Vec::new(),
        };
        p.checks.extend(self.dcs_write_check(d.kind));
        let s = spec(d.kind);
        if let Some(plan) = s.plan_alone {
            // an operation made of other operations' plans (the rolling restart)
            let mut p = plan(self, d, p);
            self.api_url_check(&mut p);
            return p;
        }
        let Some(cluster) = self.cluster() else {
            p.fail("no cluster state yet");
            return p;
        };
        let rows = self.rows();
        let leader_tl = rows
            .iter()
            .find(|r| r.role.is_leader())
            .and_then(|r| r.timeline);
        let ctx = Ctx {
            model: self,
            cluster,
            leader: cluster.leader.clone(),
            leader_tl,
            rows,
        };
        (s.plan)(&ctx, d, &mut p);
        self.api_url_check(&mut p);
        p
    }

    /// A REST write goes to scheme, host and port of the member's `api_url` only; an
    /// `api_url` carrying anything else (a path such as `/restart`, a query, a fragment,
    /// userinfo) or no valid host refuses the member's writes, and this check says why.
    fn api_url_check(&self, p: &mut Plan) {
        let Some(r) = &p.request else { return };
        if !matches!(r.target, crate::write::Target::Rest(_)) {
            return;
        }
        let url = self
            .cluster()
            .and_then(|c| c.members.get(&r.member))
            .and_then(|m| m.api_url.clone());
        let why = match url.as_deref().map(crate::write::write_base) {
            Some(Ok(_)) => return,
            Some(Err(e)) => e.to_string(),
            None => "there is none".to_string(),
        };
        p.fail(format!(
            "{}'s api_url {}: {why}; its writes are refused",
            crate::text::sanitize(&r.member),
            url.as_deref()
                .map(crate::text::redact_url)
                .unwrap_or_default(),
        ));
    }
}
