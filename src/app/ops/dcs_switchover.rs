//! What patronictl falls back to when the leader's REST API cannot be reached: the
//! switchover written into the DCS `failover` key, for the leader to act on. Its own typed
//! confirmation.

use serde_json::{Map, Value, json};

use super::super::dialog::Dialog;
use super::super::plan::{Ctx, Plan};
use super::spec::OpSpec;
use super::{Expect, OpKind, Request};

/// A switchover (its candidate and time) with its own label, confirmation and plan.
pub const SPEC: OpSpec = OpSpec {
    kind: OpKind::DcsSwitchover,
    label: "switchover via etcd",
    typed: true,
    plan,
    ..super::switchover::SPEC
};

fn plan(x: &Ctx, d: &Dialog, p: &mut Plan) {
    let cand = x.candidate(d, p);
    let when = p.schedule(d, x.model);
    match &x.leader {
        Some(l) => p.pass(format!("{l} holds the leader lock")),
        None => p.fail("no leader to act on the key (use failover)"),
    }
    match &cand {
        Some(k) if k.eligible() || k.reasons.iter().all(|r| r.starts_with("REST")) => {
            p.pass(format!("{} is a candidate", k.name))
        }
        Some(k) => p.fail(format!(
            "{} is not eligible: {}",
            k.name,
            k.reasons.join(", ")
        )),
        None => p.fail("no candidate selected"),
    }
    // the one write that needs the DCS itself
    match (&x.model.dcs, x.model.rest_only.active()) {
        (_, true) => {
            p.fail("REST-only mode: etcd is not reachable, so its failover key cannot be written")
        }
        (crate::app::DcsHealth::Live { .. }, false) => p.pass("etcd answers"),
        _ => p.fail("etcd is not reachable: its failover key cannot be written"),
    }
    p.warn(
        "the leader's REST API does not answer: Patroni acts on this key in its next loop, if it runs",
    );
    p.must_type = Some(x.model.scope.clone());
    if let (Some(l), Some(k)) = (&x.leader, &cand) {
        let mut v = Map::new();
        v.insert("leader".into(), json!(l));
        v.insert("member".into(), json!(k.name));
        if let Some(w) = &when {
            v.insert("scheduled_at".into(), json!(w));
        }
        let key = format!("{}{}/failover", x.model.namespace, x.model.scope);
        p.request = Some(Request::etcd_put(l, key, Value::Object(v)));
    }
    p.expect = Expect::NewLeader {
        from: x.leader.clone(),
        to: cand.map(|k| k.name),
        timeline: x.leader_tl,
        old_streams: false,
    };
}
