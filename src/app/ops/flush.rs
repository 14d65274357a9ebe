//! Flush a scheduled switchover (cluster-wide) or a member's scheduled restart.

use super::super::checks;
use super::super::dialog::{Dialog, Options};
use super::super::plan::{Ctx, Plan};
use super::spec::OpSpec;
use super::{Expect, Method, OpKind, Request};

pub const SWITCHOVER: OpSpec = OpSpec {
    kind: OpKind::FlushSwitchover,
    label: "flush switchover",
    typed: false,
    candidates: false,
    options: || Options::None,
    member_scoped: false,
    plan: flush_switchover,
    plan_alone: None,
};

pub const RESTART: OpSpec = OpSpec {
    kind: OpKind::FlushRestart,
    label: "flush restart",
    member_scoped: true,
    plan: flush_restart,
    ..SWITCHOVER
};

fn flush_switchover(x: &Ctx, _d: &Dialog, p: &mut Plan) {
    if x.cluster.failover.is_none() {
        p.fail("no switchover is scheduled");
    }
    match x.any_api() {
        Some((m, u)) => p.request = Some(Request::new(&m, &u, Method::Delete, "/switchover", None)),
        None => p.fail("no member's REST API answers"),
    }
    p.expect = Expect::NoScheduledSwitchover;
}

fn flush_restart(x: &Ctx, d: &Dialog, p: &mut Plan) {
    let row = x.member_row(d);
    p.checks.extend(checks::member_op(row, "restart", false));
    if let Some(r) = row {
        if r.scheduled_restart.is_none() {
            p.fail(format!("{} has no scheduled restart", r.name));
        }
        p.request = x
            .api_url(&r.name)
            .map(|u| Request::new(&r.name, &u, Method::Delete, "/restart", None));
        p.expect = Expect::NoScheduledRestart(r.name.clone());
    }
}
