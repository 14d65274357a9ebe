//! Operations: the exact request a confirmed action sends, what Patroni answered, and how
//! the operation settles as the DCS and the members' REST answers change.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::cluster::ClusterState;

mod dcs_switchover;
mod failover;
mod flush;
mod pause;
mod reinit;
mod reload;
mod restart;
mod rolling;
pub mod spec;
mod switchover;

pub use spec::{OpSpec, spec};

pub use crate::write::{Method, Reply, Request};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Switchover,
    Failover,
    Restart,
    Reload,
    Reinit,
    Pause,
    Resume,
    FlushSwitchover,
    FlushRestart,
    /// Every member with a pending restart, one at a time (a plan of Restart/Switchover
    /// steps, each its own request).
    RollingRestart,
    /// What patronictl falls back to when the leader's REST API cannot be reached: the
    /// switchover request written into the DCS `failover` key, for the leader to act on.
    DcsSwitchover,
}

impl OpKind {
    pub fn label(self) -> &'static str {
        spec(self).label
    }
}

/// How an operation ended, as far as patrol can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Sent (or about to be); waiting for the reply.
    Sending,
    /// Accepted or unknown; watching the DCS for the expected outcome.
    Watching,
    Done(String),
    /// Patroni refused or the request could not be sent.
    Failed(String),
    TimedOut(String),
}

impl Settle {
    pub fn finished(&self) -> bool {
        matches!(
            self,
            Settle::Done(_) | Settle::Failed(_) | Settle::TimedOut(_)
        )
    }
    pub fn label(&self) -> String {
        match self {
            Settle::Sending => "sending…".into(),
            Settle::Watching => "watching…".into(),
            Settle::Done(s) => format!("done: {s}"),
            Settle::Failed(s) => format!("failed: {s}"),
            Settle::TimedOut(s) => format!("timed out: {s}"),
        }
    }
}

/// What the DCS must show for the operation to count as done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// `to` (or anyone but `from`) holds the lock on a timeline above `timeline`; with
    /// `old_streams`, the old leader streams again.
    NewLeader {
        from: Option<String>,
        to: Option<String>,
        timeline: Option<u64>,
        old_streams: bool,
    },
    /// The member's postmaster start time changed and it runs again.
    Restarted {
        member: String,
        before: Option<String>,
    },
    /// Every member reports pause = `on`.
    Paused(bool),
    /// The `failover` key is gone.
    NoScheduledSwitchover,
    /// The member reports no scheduled restart.
    NoScheduledRestart(String),
    /// The reply is the outcome (reload; anything scheduled).
    Reply,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub id: u64,
    pub kind: OpKind,
    pub cluster: String,
    /// `switchover pg1 → pg2`, `restart pg3`: what the operator asked for.
    pub title: String,
    pub request: Request,
    pub expect: Expect,
    pub started: Instant,
    pub reply: Option<Reply>,
    pub settle: Settle,
    pub timeout: Duration,
    /// Written to the audit log once finished.
    pub audited: bool,
    /// When it finished: the panel keeps it [`LINGER`] longer, as one line.
    pub settled_at: Option<Instant>,
    /// Its outcome is in the event log (written once, when it finished).
    pub logged: bool,
    /// Out of the operations panel (after [`LINGER`], or dismissed); kept for the session's
    /// bounded history.
    pub retired: bool,
}

/// How long a finished operation stays in the operations panel (as one line) before only the
/// event log has it; the dismiss key removes it at once.
pub const LINGER: Duration = Duration::from_secs(30);

pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(90);

impl Operation {
    /// Re-evaluate after any change: returns true when the settle state changed.
    pub fn advance(&mut self, c: Option<&ClusterState>, now: Instant, interval: Duration) -> bool {
        let changed = self.step(c, now, interval);
        if self.settle.finished() && self.settled_at.is_none() {
            self.settled_at = Some(now);
        }
        changed
    }

    /// The operation in one line: what it came to, and Patroni's reply (status and message)
    /// when the outcome does not already carry it. Whitespace is collapsed: a reply can be
    /// the whole dynamic config as JSON, and the panel gives each operation one row.
    pub fn summary(&self) -> String {
        let reply = match (&self.settle, &self.reply) {
            // these labels already carry the reply
            (Settle::Failed(_) | Settle::TimedOut(_), _) => None,
            (Settle::Done(s), Some(r)) if *s == r.message() => None,
            // from the raw body: its line breaks are spaces here, not replaced characters
            // (a secret in the reply, a config's password, is masked: this is drawn)
            (_, Some(Reply::Status { code, body })) => Some(format!(
                "HTTP {code}: {}",
                crate::text::sanitize(&crate::redact::text(
                    &body.split_whitespace().collect::<Vec<_>>().join(" ")
                ))
            )),
            (_, Some(r)) => Some(r.message()),
            (Settle::Sending | Settle::Watching, None) => Some("waiting for reply".into()),
            (_, None) => None,
        };
        let mut s = self.settle.label();
        if let Some(r) = reply {
            s.push_str(" · ");
            s.push_str(&r);
        }
        // a done or failed label quotes the reply too: mask a secret in the whole line
        crate::redact::text(&s.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned()
    }

    /// Patroni's whole reply, for the event log's detail: a JSON body (the dynamic config a
    /// PATCH returns) pretty-printed, one line per row. Not sanitized: the view does that.
    pub fn full_reply(&self) -> Option<String> {
        let r = self.reply.as_ref()?;
        Some(match r {
            Reply::Status { code, body } => match serde_json::from_str::<Value>(body.trim()) {
                // secrets masked: the event log is drawn and exported
                Ok(v @ (Value::Object(_) | Value::Array(_))) => format!(
                    "HTTP {code}:\n{}",
                    serde_json::to_string_pretty(&crate::redact::value(&v))
                        .unwrap_or_else(|_| crate::redact::text(body).into_owned())
                ),
                _ => format!("HTTP {code}: {}", crate::redact::text(body.trim())),
            },
            other => other.message(),
        })
    }

    fn step(&mut self, c: Option<&ClusterState>, now: Instant, interval: Duration) -> bool {
        if self.settle.finished() {
            return false;
        }
        let before = self.settle.clone();
        if let Some(reply) = &self.reply {
            if !reply.accepted() && !reply.unknown() {
                self.settle = Settle::Failed(reply.message());
                return true;
            }
            if self.settle == Settle::Sending {
                self.settle = Settle::Watching;
            }
            // a scheduled operation is done when Patroni accepted it
            let scheduled = reply.accepted()
                && matches!(reply, Reply::Status { code: 202, .. })
                && matches!(self.kind, OpKind::Switchover | OpKind::Restart);
            if scheduled || (self.expect == Expect::Reply && reply.accepted()) {
                self.settle = Settle::Done(reply.message());
                return self.settle != before;
            }
        }
        if self.settle == Settle::Watching
            && let Some(c) = c
            && let Some(s) = outcome(&self.expect, c, now, interval)
        {
            self.settle = Settle::Done(s);
        }
        if !self.settle.finished() && now.saturating_duration_since(self.started) > self.timeout {
            let what = match &self.reply {
                Some(r) => r.message(),
                None => "no reply".into(),
            };
            self.settle = Settle::TimedOut(format!(
                "the DCS did not show the expected outcome within {}s ({what})",
                self.timeout.as_secs()
            ));
        }
        self.settle != before
    }
}

fn outcome(e: &Expect, c: &ClusterState, now: Instant, interval: Duration) -> Option<String> {
    let rows = super::members::member_rows(c, now, interval);
    let max_age = super::members::rest_max_age(interval);
    match e {
        Expect::NewLeader {
            from,
            to,
            timeline,
            old_streams,
        } => {
            let leader = rows.iter().find(|r| r.role.is_leader())?;
            let right_one = match (to, from) {
                (Some(t), _) => &leader.name == t,
                (None, Some(f)) => &leader.name != f,
                (None, None) => true,
            };
            let tl_up = match (timeline, leader.timeline) {
                (Some(old), Some(new)) => new > *old,
                (None, _) => true,
                (Some(_), None) => false,
            };
            if !(right_one && tl_up) {
                return None;
            }
            if *old_streams && let Some(f) = from {
                let old = rows.iter().find(|r| &r.name == f)?;
                if old.state != "streaming" {
                    return None;
                }
            }
            Some(format!(
                "{} leads on timeline {}{}",
                leader.name,
                leader.timeline.map(|t| t.to_string()).unwrap_or_default(),
                if *old_streams {
                    from.as_ref()
                        .map(|f| format!(", {f} streams from it"))
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            ))
        }
        Expect::Restarted { member, before } => {
            let s = c.rest.get(member)?.fresh(now, max_age)?;
            let started = s.postmaster_start_time.as_ref()?;
            let row = rows.iter().find(|r| &r.name == member)?;
            // a replica is back when it streams again, not merely when postgres runs
            let back = if row.role.is_leader() {
                s.state.as_deref() == Some("running")
            } else {
                row.state == "streaming"
            };
            if Some(started) != before.as_ref() && back {
                Some(format!(
                    "{member} {} again (postmaster started {started})",
                    if row.role.is_leader() {
                        "runs"
                    } else {
                        "streams"
                    }
                ))
            } else {
                None
            }
        }
        Expect::Paused(on) => {
            let config_ok = c.is_paused() == *on;
            let all = !c.members.is_empty()
                && c.members.keys().all(|m| {
                    c.rest
                        .get(m)
                        .and_then(|r| r.fresh(now, max_age))
                        .is_some_and(|s| s.pause == *on)
                });
            (config_ok && all).then(|| {
                if *on {
                    "every member reports maintenance mode".to_string()
                } else {
                    "every member reports maintenance mode off".to_string()
                }
            })
        }
        Expect::NoScheduledSwitchover => c
            .failover
            .is_none()
            .then(|| "no switchover scheduled".to_string()),
        Expect::NoScheduledRestart(m) => {
            let s = c.rest.get(m)?.fresh(now, max_age)?;
            s.scheduled_restart
                .is_none()
                .then(|| format!("{m} has no scheduled restart"))
        }
        Expect::Reply => None,
    }
}

/// What is asked, of whom: the part both audit lines of an operation share. No secrets: the
/// request body never carries credentials (those travel in the Authorization header).
fn audit_common(op_id: u64, cluster: &str, kind: OpKind, title: &str, req: &Request) -> Value {
    json!({
        "op": op_id,
        "cluster": cluster,
        "member": req.member,
        "action": kind.label(),
        "title": title,
        "request": {
            "method": req.method_label(),
            // an api_url from etcd may carry userinfo: the audit file is read by people
            "url": crate::text::redact_url(&req.url()),
            "body": req.body,
        },
    })
}

/// The first audit line of an operation, written (and flushed to disk) before its request
/// leaves the process; the runtime adds time and user.
pub fn intent_record(op: &Operation) -> Value {
    let mut v = audit_common(op.id, &op.cluster, op.kind, &op.title, &op.request);
    if let Some(o) = v.as_object_mut() {
        o.insert("phase".into(), json!("intent"));
    }
    v
}

/// The second audit line: how it ended (joined to the intent by `op`).
pub fn audit_record(op: &Operation) -> Value {
    let (status, message) = match &op.reply {
        Some(Reply::Status { code, body }) => {
            (json!(code), json!(crate::text::sanitize(body.trim())))
        }
        Some(other) => (Value::Null, json!(other.message())),
        None => (Value::Null, Value::Null),
    };
    let mut v = audit_common(op.id, &op.cluster, op.kind, &op.title, &op.request);
    if let Some(o) = v.as_object_mut() {
        o.insert("phase".into(), json!("outcome"));
        o.insert("status".into(), status);
        o.insert("message".into(), message);
        o.insert("outcome".into(), json!(op.settle.label()));
    }
    v
}

/// One step of a rolling restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutStep {
    Restart(String),
    /// Hand the leadership to the best eligible replica (chosen when the step starts).
    SwitchoverFrom(String),
}

impl RolloutStep {
    pub fn label(&self) -> String {
        match self {
            RolloutStep::Restart(m) => format!("restart {m}"),
            RolloutStep::SwitchoverFrom(m) => format!("switchover away from {m}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutState {
    Running,
    Done,
    Failed(String),
}

/// A confirmed rolling restart in progress: steps run one at a time, each settling before
/// the next starts; the first failure stops it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    pub steps: Vec<RolloutStep>,
    pub current: usize,
    /// The operation of the current step.
    pub op: Option<u64>,
    pub state: RolloutState,
    /// What each finished step came to.
    pub results: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, body: &str) -> Reply {
        Reply::Status {
            code,
            body: body.into(),
        }
    }

    /// Patroni's own 503 texts (patroni/api.py and ha.py): the ones that say it did not
    /// happen are "failed"; the rest of 503s say nothing about the outcome.
    #[test]
    fn a_503_is_failed_only_when_patroni_says_so() {
        for refused in [
            "restart failed",
            "restart conditions are not satisfied",
            "restart already in progress",
            "reinitialize already in progress",
            "Cluster has no leader, can not reinitialize",
            "I am the leader, can not reinitialize",
            "Switchover failed",
            "Failover failed",
            "failed to write failover key into DCS",
        ] {
            let r = status(503, refused);
            assert!(!r.unknown() && !r.accepted(), "{refused:?} is a refusal");
        }
        for unknown in [
            "",
            "Switchover status unknown",
            "Failover status unknown",
            "postgres is still starting",
            "<html><body><h1>503 Service Unavailable</h1></body></html>",
        ] {
            assert!(status(503, unknown).unknown(), "{unknown:?} says nothing");
        }
        assert!(Reply::Unknown("timed out".into()).unknown());
        assert!(!Reply::Failed("etcd refused".into()).unknown());
        assert!(!status(307, "").unknown() && !status(307, "").accepted());
    }

    /// `POST <api>/restart` to pg1, sent, with this reply.
    fn restart_op(id: u64, api_url: &str, reply: Reply) -> Operation {
        Operation {
            id,
            kind: OpKind::Restart,
            cluster: "demo".into(),
            title: "restart pg1".into(),
            request: Request::new("pg1", api_url, Method::Post, "/restart", None),
            expect: Expect::Reply,
            started: Instant::now(),
            reply: Some(reply),
            settle: Settle::Sending,
            timeout: SETTLE_TIMEOUT,
            audited: false,
            settled_at: None,
            logged: false,
            retired: false,
        }
    }

    #[test]
    fn audit_lines_carry_no_userinfo_of_an_api_url_from_etcd() {
        let op = restart_op(
            1,
            "http://admin:S3CRETPW@h:8008/patroni",
            status(200, "restarted"),
        );
        for line in [intent_record(&op), audit_record(&op)] {
            let text = line.to_string();
            assert!(
                !text.contains("S3CRETPW") && !text.contains("admin"),
                "{text}"
            );
            assert!(text.contains("h:8008/restart"), "{text}");
        }
    }

    #[test]
    fn a_patroni_503_refusal_settles_as_failed_with_its_words() {
        let mut op = restart_op(7, "http://h:8008/patroni", status(503, "restart failed"));
        op.advance(None, op.started, Duration::from_secs(1));
        assert_eq!(op.settle, Settle::Failed("HTTP 503: restart failed".into()));
        let (i, o) = (intent_record(&op), audit_record(&op));
        assert_eq!((i["op"].clone(), o["op"].clone()), (json!(7), json!(7)));
        assert_eq!(
            (i["phase"].clone(), o["phase"].clone()),
            (json!("intent"), json!("outcome"))
        );
        assert_eq!(o["status"], 503);
        assert!(i.get("outcome").is_none());
    }
}
