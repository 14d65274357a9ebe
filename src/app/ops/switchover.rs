//! Switchover: the leader hands over to a picked candidate, now or at a time.

use serde_json::{Map, Value, json};

use super::super::checks;
use super::super::dialog::{Dialog, Options};
use super::super::plan::{Ctx, Plan};
use super::spec::OpSpec;
use super::{Expect, Method, OpKind, Request};

pub const SPEC: OpSpec = OpSpec {
    kind: OpKind::Switchover,
    label: "switchover",
    typed: false,
    candidates: true,
    options: || Options::Switchover {
        schedule: String::new(),
    },
    member_scoped: false,
    plan,
    plan_alone: None,
};

fn plan(x: &Ctx, d: &Dialog, p: &mut Plan) {
    let cand = x.candidate(d, p);
    let when = p.schedule(d, x.model);
    let leader_ok = x.leader.as_deref().is_some_and(|l| x.rest_live(l));
    p.checks.extend(checks::switchover(
        x.cluster,
        cand.as_ref(),
        leader_ok,
        when.is_some(),
    ));
    if let (Some(l), Some(k)) = (&x.leader, &cand) {
        let mut body = Map::new();
        body.insert("leader".into(), json!(l));
        body.insert("candidate".into(), json!(k.name));
        if let Some(w) = &when {
            body.insert("scheduled_at".into(), json!(w));
        }
        p.request = x.api_url(l).map(|u| {
            Request::new(
                l,
                &u,
                Method::Post,
                "/switchover",
                Some(Value::Object(body)),
            )
        });
    }
    p.expect = Expect::NewLeader {
        from: x.leader.clone(),
        to: cand.map(|k| k.name),
        timeline: x.leader_tl,
        old_streams: x.leader.is_some(),
    };
}
