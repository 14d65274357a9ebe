//! Failover: promote a picked candidate, also without a healthy leader; the cluster name is
//! typed to confirm.

use serde_json::json;

use super::super::checks;
use super::super::dialog::{Dialog, Options};
use super::super::plan::{Ctx, Plan};
use super::spec::OpSpec;
use super::{Expect, Method, OpKind, Request};

pub const SPEC: OpSpec = OpSpec {
    kind: OpKind::Failover,
    label: "failover",
    typed: true,
    candidates: true,
    options: || Options::None,
    member_scoped: false,
    plan,
    plan_alone: None,
};

fn plan(x: &Ctx, d: &Dialog, p: &mut Plan) {
    let cand = x.candidate(d, p);
    p.checks.extend(checks::failover(x.cluster, cand.as_ref()));
    p.must_type = Some(x.model.scope.clone());
    if let Some(k) = &cand {
        // the leader's API when it answers, else the candidate's
        let target = x
            .leader
            .clone()
            .filter(|l| x.rest_live(l))
            .unwrap_or(k.name.clone());
        p.request = x.api_url(&target).map(|u| {
            Request::new(
                &target,
                &u,
                Method::Post,
                "/failover",
                Some(json!({"candidate": k.name})),
            )
        });
    }
    p.expect = Expect::NewLeader {
        from: x.leader.clone(),
        to: cand.map(|k| k.name),
        timeline: x.leader_tl,
        old_streams: false,
    };
}
