//! Restart one member: only if a restart is pending, at a time, only below a PostgreSQL
//! version, with a timeout.

use serde_json::{Map, Value, json};

use super::super::checks;
use super::super::dialog::{Dialog, Options};
use super::super::plan::{Ctx, Plan};
use super::spec::OpSpec;
use super::{Method, OpKind, Request};

pub const SPEC: OpSpec = OpSpec {
    kind: OpKind::Restart,
    label: "restart",
    typed: false,
    candidates: false,
    options: || Options::Restart {
        pending_only: false,
        schedule: String::new(),
        pg_version: String::new(),
        timeout: String::new(),
    },
    member_scoped: true,
    plan,
    plan_alone: None,
};

fn plan(x: &Ctx, d: &Dialog, p: &mut Plan) {
    let row = x.member_row(d);
    p.checks.extend(checks::member_op(row, "restart", false));
    let when = p.schedule(d, x.model);
    let Some(r) = row else {
        return;
    };
    let (pending_only, pg_version, timeout) = match &d.options {
        Options::Restart {
            pending_only,
            pg_version,
            timeout,
            ..
        } => (*pending_only, pg_version.as_str(), timeout.as_str()),
        _ => (false, "", ""),
    };
    let mut body = Map::new();
    if pending_only {
        body.insert("restart_pending".into(), json!(true));
        if !r.pending_restart {
            p.warn(format!(
                "{} has no pending restart: Patroni will not restart it",
                r.name
            ));
        }
    }
    if let Some(w) = &when {
        body.insert("schedule".into(), json!(w));
    }
    let v = pg_version.trim();
    if !v.is_empty() {
        body.insert("postgres_version".into(), json!(v));
    }
    let t = timeout.trim();
    if !t.is_empty() {
        match t.trim_end_matches('s').parse::<u64>() {
            Ok(n) => {
                body.insert("timeout".into(), json!(n));
            }
            Err(_) => p.fail(format!("timeout {t:?} is not a number of seconds")),
        }
    }
    p.request = x.api_url(&r.name).map(|u| {
        Request::new(
            &r.name,
            &u,
            Method::Post,
            "/restart",
            Some(Value::Object(body)),
        )
    });
    p.expect = x.restarted(&r.name);
}
