//! Reload one member's configuration.

use super::super::checks;
use super::super::dialog::{Dialog, Options};
use super::super::plan::{Ctx, Plan};
use super::spec::OpSpec;
use super::{Method, OpKind, Request};

pub const SPEC: OpSpec = OpSpec {
    kind: OpKind::Reload,
    label: "reload",
    typed: false,
    candidates: false,
    options: || Options::None,
    member_scoped: true,
    plan,
    plan_alone: None,
};

fn plan(x: &Ctx, d: &Dialog, p: &mut Plan) {
    let row = x.member_row(d);
    p.checks.extend(checks::member_op(row, "reload", false));
    if let Some(r) = row {
        p.request = x
            .api_url(&r.name)
            .map(|u| Request::new(&r.name, &u, Method::Post, "/reload", None));
    }
}
