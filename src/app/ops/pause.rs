//! Pause and resume automatic failover (maintenance mode): one `PATCH /config`.

use serde_json::json;

use super::super::dialog::{Dialog, Options};
use super::super::plan::{Ctx, Plan};
use super::spec::OpSpec;
use super::{Expect, Method, OpKind, Request};

pub const PAUSE: OpSpec = OpSpec {
    kind: OpKind::Pause,
    label: "pause",
    typed: false,
    candidates: false,
    options: || Options::None,
    member_scoped: false,
    plan: |x, d, p| plan(x, d, p, true),
    plan_alone: None,
};

pub const RESUME: OpSpec = OpSpec {
    kind: OpKind::Resume,
    label: "resume",
    plan: |x, d, p| plan(x, d, p, false),
    ..PAUSE
};

fn plan(x: &Ctx, _d: &Dialog, p: &mut Plan, on: bool) {
    if x.cluster.is_paused() == on {
        p.fail(format!(
            "maintenance mode is already {}",
            if on { "on" } else { "off" }
        ));
    } else if on {
        p.warn("while paused Patroni does not fail over automatically");
    }
    match x.any_api() {
        Some((m, u)) => {
            let body = if on {
                json!({"pause": true})
            } else {
                json!({"pause": null})
            };
            p.request = Some(Request::new(&m, &u, Method::Patch, "/config", Some(body)));
        }
        None => p.fail("no member's REST API answers"),
    }
    p.expect = Expect::Paused(on);
}
