//! `patrol check`: the health rules of the console (`app::diagnosis`) judged once over a
//! model collected like `patrol list`'s, printed as a Nagios/Icinga plugin (or JSON) with
//! the plugin's exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
//!
//! One look cannot wait for a rule's grace (`Rule::after`, for conditions Patroni clears
//! within a loop): every condition that holds is reported.

use std::fmt::Write as _;

use crate::app::diagnosis::{self, Hit, Severity, Subject, Thresholds};
use crate::app::members;
use crate::app::model::Model;
use crate::text::sanitize;

/// How `check` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Nagios,
    Json,
}

/// The plugin's verdict, and its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Status {
    pub fn code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Unknown => 3,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }
}

fn status_of(hits: &[Hit]) -> Status {
    match hits.iter().map(|h| h.severity).max() {
        None => Status::Ok,
        Some(Severity::Warning) => Status::Warning,
        Some(Severity::Critical) => Status::Critical,
    }
}

/// A perfdata label: Nagios quotes labels with `'`; anything outside a plain name is `_`.
fn label(name: &str) -> String {
    sanitize(name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Each replica's lag (the larger of receive and replay) among the members patrol polled.
fn lags(model: &Model) -> Vec<(String, u64)> {
    let Some(c) = model.cluster() else {
        return Vec::new();
    };
    model
        .polled()
        .iter()
        .filter_map(|(m, _)| {
            let r = members::member_row(c, m, model.now, model.rest_interval)?;
            if r.role.is_leader() || r.gone.is_some() {
                return None;
            }
            Some((r.name.clone(), diagnosis::worst_lag(&r)?))
        })
        .collect()
}

fn subject_text(s: &Subject) -> String {
    match s {
        Subject::Cluster => "cluster".into(),
        Subject::Member(m) => sanitize(m),
        Subject::Etcd(e) => sanitize(e),
        Subject::Haproxy(h) => sanitize(h),
        Subject::Slot(s) => format!("slot {}", sanitize(s)),
    }
}

/// Judge `model` once and say it as `format`: (status, text to print).
pub fn report(model: &Model, th: &Thresholds, format: CheckFormat) -> (Status, String) {
    let mut hits = diagnosis::evaluate(model, th);
    hits.sort_by_key(|h| std::cmp::Reverse(h.severity));
    let status = status_of(&hits);
    let limit = model
        .cluster()
        .map(|c| crate::dcs::keys::maximum_lag_on_failover(c.config.as_ref()))
        .unwrap_or(crate::dcs::keys::DEFAULT_MAXIMUM_LAG_ON_FAILOVER);
    let lags = lags(model);
    let scope = sanitize(&model.scope);
    match format {
        CheckFormat::Json => {
            let v = serde_json::json!({
                "status": status.label(),
                "code": status.code(),
                "cluster": scope,
                "leader": model.cluster().and_then(|c| c.leader.as_deref()).map(sanitize),
                "findings": hits.iter().map(|h| serde_json::json!({
                    "rule": h.rule,
                    "severity": h.severity.label(),
                    "subject": subject_text(&h.subject),
                    "message": sanitize(&h.message),
                })).collect::<Vec<_>>(),
                "lag_bytes": lags.iter().map(|(m, l)| (sanitize(m), serde_json::json!(l)))
                    .collect::<serde_json::Map<_, _>>(),
                "maximum_lag_on_failover": limit,
            });
            (status, v.to_string())
        }
        CheckFormat::Nagios => {
            let mut out = format!("PATROL {} - {scope}: ", status.label());
            if hits.is_empty() {
                let members = model.cluster().map_or(0, |c| c.members.len());
                let leader = model
                    .cluster()
                    .and_then(|c| c.leader.as_deref())
                    .map(sanitize)
                    .unwrap_or_else(|| "none".into());
                let _ = write!(out, "{members} members, leader {leader}, no findings");
            } else {
                let first = sanitize(&hits[0].message);
                let _ = write!(
                    out,
                    "{} finding{}: {first}",
                    hits.len(),
                    if hits.len() == 1 { "" } else { "s" }
                );
            }
            // perfdata: each replica's lag in bytes, warning at Patroni's limit
            let perf: Vec<String> = lags
                .iter()
                .map(|(m, l)| format!("'lag_{}'={l}B;{limit};;0", label(m)))
                .collect();
            if !perf.is_empty() {
                let _ = write!(out, " | {}", perf.join(" "));
            }
            // long output: every finding, one a line
            for h in &hits {
                let _ = write!(
                    out,
                    "\n{} [{}] {}",
                    h.severity.label(),
                    h.rule,
                    sanitize(&h.message)
                );
            }
            (status, out)
        }
    }
}

/// What `check` prints when it could not look at the cluster at all.
pub fn unknown(why: &str, format: CheckFormat) -> String {
    let why = sanitize(why);
    match format {
        CheckFormat::Nagios => format!("PATROL UNKNOWN - {why}"),
        CheckFormat::Json => serde_json::json!({
            "status": "UNKNOWN",
            "code": 3,
            "error": why,
        })
        .to_string(),
    }
}
