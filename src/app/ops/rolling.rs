//! Rolling restart: every member with a pending restart, replicas first, one at a time,
//! then the leader (after a switchover away from it, unless turned off). Each step is its
//! own restart or switchover, planned when it starts; the first failure stops it.

use super::super::dialog::{Dialog, Options};
use super::super::model::Model;
use super::super::plan::Plan;
use super::spec::OpSpec;
use super::{Expect, OpKind};

pub const SPEC: OpSpec = OpSpec {
    kind: OpKind::RollingRestart,
    label: "rolling restart",
    typed: false,
    candidates: false,
    options: || Options::Rolling { switch_first: true },
    member_scoped: false,
    plan: |_, _, _| {},
    plan_alone: Some(plan),
};

fn plan(m: &Model, d: &Dialog, empty: Plan) -> Plan {
    let switch_first = matches!(d.options, Options::Rolling { switch_first: true });
    let steps = m.rollout_steps(switch_first);
    let mut p = match steps.first() {
        Some(first) => m.step_plan(first),
        None => {
            let mut p = empty;
            p.fail("no member has a pending restart");
            p.expect = Expect::Reply;
            p
        }
    };
    p.steps = steps;
    p
}
