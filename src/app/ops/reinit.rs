//! Reinitialize a replica from scratch; its name is typed to confirm.

use serde_json::json;

use super::super::checks;
use super::super::dialog::{Dialog, Options};
use super::super::plan::{Ctx, Plan};
use super::spec::OpSpec;
use super::{Method, OpKind, Request};

pub const SPEC: OpSpec = OpSpec {
    kind: OpKind::Reinit,
    label: "reinit",
    typed: true,
    candidates: false,
    options: || Options::Reinit {
        force: false,
        from_leader: false,
    },
    member_scoped: true,
    plan,
    plan_alone: None,
};

fn plan(x: &Ctx, d: &Dialog, p: &mut Plan) {
    let row = x.member_row(d);
    p.checks.extend(checks::member_op(row, "reinit", true));
    let Some(r) = row else {
        return;
    };
    let (force, from_leader) = match d.options {
        Options::Reinit { force, from_leader } => (force, from_leader),
        _ => (false, false),
    };
    p.must_type = Some(r.name.clone());
    p.request = x.api_url(&r.name).map(|u| {
        Request::new(
            &r.name,
            &u,
            Method::Post,
            "/reinitialize",
            Some(json!({"force": force, "from_leader": from_leader})),
        )
    });
    p.expect = x.restarted(&r.name);
}
