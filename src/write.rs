//! A write to the cluster, exactly as it will leave the process: a request to one member's
//! Patroni REST API, or a put into etcd (the switchover fallback). Built by the operations
//! in `app::ops`, carried out once by the runtime, read by the audit log; the replies come
//! back as [`Reply`]. Neither the REST client nor etcd's is imported by `app`.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// An HTTP request to a member's Patroni REST API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestRequest {
    /// `http://host:port` (the member's `api_url` without `/patroni`).
    pub base: String,
    pub method: Method,
    /// The URL path.
    pub path: String,
}

/// Where a write goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Rest(RestRequest),
    /// A put of the body into this etcd key.
    EtcdPut {
        key: String,
    },
}

/// One write, exactly as it will be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The member whose API receives it (for an etcd put: who is expected to act on it).
    pub member: String,
    pub target: Target,
    pub body: Option<Value>,
}

impl Request {
    pub fn new(
        member: &str,
        api_url: &str,
        method: Method,
        path: &'static str,
        body: Option<Value>,
    ) -> Request {
        let base = api_url
            .trim_end_matches('/')
            .strip_suffix("/patroni")
            .unwrap_or(api_url)
            .trim_end_matches('/')
            .to_string();
        Request {
            member: member.to_string(),
            target: Target::Rest(RestRequest {
                base,
                method,
                path: path.to_string(),
            }),
            body,
        }
    }

    /// A put into etcd (`member` is who is expected to act on it).
    pub fn etcd_put(member: &str, key: String, value: Value) -> Request {
        Request {
            member: member.to_string(),
            target: Target::EtcdPut { key },
            body: Some(value),
        }
    }

    /// `POST`, `etcd PUT`.
    pub fn method_label(&self) -> &'static str {
        match &self.target {
            Target::Rest(r) => r.method.as_str(),
            Target::EtcdPut { .. } => "etcd PUT",
        }
    }

    /// The URL path, or the etcd key.
    pub fn path(&self) -> &str {
        match &self.target {
            Target::Rest(r) => &r.path,
            Target::EtcdPut { key } => key,
        }
    }

    /// The whole URL, or the etcd key (may carry userinfo from etcd: redact before showing).
    pub fn url(&self) -> String {
        match &self.target {
            Target::Rest(r) => format!("{}{}", r.base, r.path),
            Target::EtcdPut { key } => key.clone(),
        }
    }

    /// `POST http://127.0.0.1:8008/switchover {"leader": ...}`: what the dialog shows.
    pub fn display(&self) -> String {
        let body = self
            .body
            .as_ref()
            .map(|b| format!(" {b}"))
            .unwrap_or_default();
        // the base is a member's api_url from etcd: shown without credentials
        let to = match &self.target {
            Target::Rest(r) => format!("{}{}", crate::text::redact_url(&r.base), r.path),
            Target::EtcdPut { key } => key.clone(),
        };
        format!("{} {to}{body}", self.method_label())
    }
}

/// What came back. `NotSent` is certain (connection refused before any byte left, or the
/// audit intent could not be written); `Failed` is a definitive refusal that is not an HTTP
/// status (etcd said no); `Unknown` is not certain (timeout, reset, a 503 without Patroni's
/// answer): the operation may or may not have happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Status { code: u16, body: String },
    NotSent(String),
    Failed(String),
    Unknown(String),
}

/// Patroni's own 503 texts that say the operation did not happen or failed (patroni/api.py:
/// `do_POST_restart` with `Ha.restart`'s reasons, `do_POST_reinitialize` with
/// `Ha.reinitialize`'s, `do_POST_failover` and `poll_failover_result`). Anything else with a
/// 503 (`Switchover status unknown`, `postgres is still starting`, a proxy's page, nothing)
/// is no answer about the outcome.
fn patroni_refused_503(body: &str) -> bool {
    let b = body.trim();
    matches!(
        b,
        "restart failed"
            | "restart conditions are not satisfied"
            | "Cluster has no leader, can not reinitialize"
            | "I am the leader, can not reinitialize"
            | "Switchover failed"
            | "Failover failed"
            | "failed to write failover key into DCS"
    ) || (b.ends_with(" already in progress") && !b.contains('\n') && b.len() < 100)
}

impl Reply {
    pub fn accepted(&self) -> bool {
        matches!(
            self,
            Reply::Status {
                code: 200..=202,
                ..
            }
        )
    }
    pub fn unknown(&self) -> bool {
        match self {
            Reply::Unknown(_) => true,
            Reply::Status { code: 503, body } => !patroni_refused_503(body),
            _ => false,
        }
    }
    /// Patroni's own words, verbatim (sanitized for the terminal).
    pub fn message(&self) -> String {
        match self {
            Reply::Status { code, body } => {
                format!("HTTP {code}: {}", crate::text::sanitize(body.trim()))
            }
            Reply::NotSent(e) => format!("not sent: {}", crate::text::sanitize(e)),
            Reply::Failed(e) => format!("refused: {}", crate::text::sanitize(e)),
            Reply::Unknown(e) => format!("result unknown: {}", crate::text::sanitize(e)),
        }
    }
}
