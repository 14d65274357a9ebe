//! The event log: what changed, derived by comparing two successive summaries of the
//! model. Pure: the same two states always give the same events.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::Value;

use super::members::{MemberRow, RestHealth};

/// What an operator needs to compare between two moments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub dcs_live: bool,
    pub leader: Option<String>,
    pub timeline: Option<u64>,
    pub members: BTreeMap<String, MemberSummary>,
    pub paused: bool,
    pub scheduled_switchover: Option<String>,
    /// The dynamic config, flattened to `a.b.c = value`.
    pub config: BTreeMap<String, String>,
    /// Keyed tags of the clear values behind the config's redacted leaves
    /// (`DynConfig::secret_tags`): a hidden value that changed is still a change.
    pub config_secrets: BTreeMap<String, u64>,
    /// Has the DCS ever been loaded? Before that nothing is "new".
    pub loaded: bool,
}

impl Summary {
    /// This summary with unknown values taken from the baseline `old` (see
    /// [`MemberSummary::carry`]); members that left are not carried.
    pub fn carry(mut self, old: &Summary) -> Summary {
        self.timeline = self.timeline.or(old.timeline);
        let members = std::mem::take(&mut self.members);
        self.members = members
            .into_iter()
            .map(|(n, m)| {
                let m = match old.members.get(&n) {
                    Some(o) => m.carry(o),
                    None => m,
                };
                (n, m)
            })
            .collect();
        self
    }

    /// The cluster-wide fields only (no members, no config).
    pub fn head(&self) -> Summary {
        Summary {
            dcs_live: self.dcs_live,
            leader: self.leader.clone(),
            timeline: self.timeline,
            members: BTreeMap::new(),
            paused: self.paused,
            scheduled_switchover: self.scheduled_switchover.clone(),
            config: BTreeMap::new(),
            config_secrets: BTreeMap::new(),
            loaded: self.loaded,
        }
    }
}

/// One member's observed facts. `None` is "not known now" (a missing value), never a
/// default: an event is derived only from two known values that differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSummary {
    /// Known when the member holds the leader lock, or does not and itself reports a
    /// replica role. A member that still says "primary" without the lock (its key expiring
    /// after a crash, say) has no known role: "not the leader" is not "a replica".
    pub role: Option<String>,
    pub state: Option<String>,
    pub timeline: Option<u64>,
    pub pending_restart: bool,
    /// Some(true): REST answers; Some(false): failing; None: not known yet.
    pub rest: Option<bool>,
    /// When its PostgreSQL started (`postmaster_start_time`): a new one is a restart, made by
    /// patrol, patronictl or anyone else.
    pub started: Option<String>,
}

impl MemberSummary {
    /// This summary with what it does not know taken from `old`: the last known value
    /// stays the baseline, so Leader, (unknown), Replica is still one change and
    /// Leader, (unknown), gone is none.
    pub fn carry(self, old: &MemberSummary) -> MemberSummary {
        MemberSummary {
            role: self.role.or_else(|| old.role.clone()),
            state: self.state.or_else(|| old.state.clone()),
            timeline: self.timeline.or(old.timeline),
            rest: self.rest.or(old.rest),
            started: self.started.or_else(|| old.started.clone()),
            ..self
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    LeaderChanged {
        from: Option<String>,
        to: Option<String>,
    },
    TimelineIncremented {
        from: u64,
        to: u64,
    },
    MemberJoined(String),
    MemberLeft(String),
    RoleChanged {
        member: String,
        from: String,
        to: String,
    },
    StateChanged {
        member: String,
        from: String,
        to: String,
    },
    PendingRestart {
        member: String,
        on: bool,
    },
    /// PostgreSQL on `member` started again (`at`: its new start time, as Patroni says it).
    Restarted {
        member: String,
        at: String,
    },
    Paused(bool),
    SwitchoverScheduled(Option<String>),
    ConfigChanged(Vec<(String, Option<String>, Option<String>)>),
    RestLost(String),
    RestRegained(String),
    DcsLost,
    DcsRegained,
    /// After an election: whom patrol predicted (`p2`, `p2 or p3`, `none`) and who took
    /// the leader key.
    Prediction {
        predicted: String,
        elected: String,
        right: bool,
    },
    /// An operation patrol sent finished: `outcome` in one line, `reply` Patroni's whole
    /// answer (shown in the Events view's detail, never in the one-line pane).
    Operation {
        title: String,
        outcome: String,
        ok: bool,
        reply: Option<String>,
    },
    /// A health rule (`diagnosis.rs`) raised or cleared: its id, and its message then.
    Finding {
        rule: String,
        message: String,
        raised: bool,
        critical: bool,
    },
}

impl EventKind {
    /// Is this bad news? (coloured as a warning)
    pub fn is_alarm(&self) -> bool {
        matches!(
            self,
            EventKind::LeaderChanged { to: None, .. }
                | EventKind::MemberLeft(_)
                | EventKind::RestLost(_)
                | EventKind::DcsLost
                | EventKind::Operation { ok: false, .. }
                | EventKind::Finding { raised: true, .. }
                | EventKind::Prediction { right: false, .. }
        )
    }

    /// Bytes of text it holds (what the event log's byte bound counts).
    pub fn bytes(&self) -> usize {
        let reply = match self {
            EventKind::Operation { reply: Some(r), .. } => r.len(),
            _ => 0,
        };
        self.text().len() + reply
    }

    /// The lines under the event in the Events view (an operation's whole reply).
    pub fn detail(&self) -> Vec<&str> {
        match self {
            // a one-line reply the outcome already says is not said twice
            EventKind::Operation {
                reply: Some(r),
                outcome,
                ..
            } if !(r.lines().count() <= 1 && outcome.contains(r.trim())) => r.lines().collect(),
            _ => Vec::new(),
        }
    }

    pub fn text(&self) -> String {
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "none".into());
        match self {
            EventKind::LeaderChanged { from, to } => {
                format!("leader changed: {} → {}", opt(from), opt(to))
            }
            EventKind::TimelineIncremented { from, to } => {
                format!("timeline incremented: {from} → {to}")
            }
            EventKind::MemberJoined(m) => format!("{m} joined"),
            EventKind::MemberLeft(m) => format!("{m} left (member key gone)"),
            EventKind::RoleChanged { member, from, to } => format!("{member}: role {from} → {to}"),
            EventKind::StateChanged { member, from, to } => {
                format!("{member}: state {from} → {to}")
            }
            EventKind::PendingRestart { member, on: true } => format!("{member}: pending restart"),
            EventKind::PendingRestart { member, on: false } => {
                format!("{member}: pending restart cleared")
            }
            // the event's own time says when; the start time is on the detail view
            EventKind::Restarted { member, .. } => format!("{member}: PostgreSQL restarted"),
            EventKind::Paused(true) => "maintenance mode on (paused)".into(),
            EventKind::Paused(false) => "maintenance mode off (resumed)".into(),
            // Patroni writes the failover key for immediate switchovers too
            EventKind::SwitchoverScheduled(Some(s)) => format!("switchover requested: {s}"),
            EventKind::SwitchoverScheduled(None) => "switchover request cleared".into(),
            EventKind::ConfigChanged(changes) => {
                let parts: Vec<String> = changes
                    .iter()
                    .map(|(k, old, new)| match (old, new) {
                        // both redacted alike: the clear value changed, and stays unsaid
                        (Some(a), Some(b)) if a == b => format!("{k}: changed (value hidden)"),
                        _ => format!("{k}: {} → {}", opt(old), opt(new)),
                    })
                    .collect();
                format!("dynamic config changed: {}", parts.join(", "))
            }
            EventKind::RestLost(m) => format!("{m}: REST API unreachable"),
            EventKind::RestRegained(m) => format!("{m}: REST API answers again"),
            EventKind::DcsLost => "etcd connection lost".into(),
            EventKind::DcsRegained => "etcd connection regained".into(),
            EventKind::Operation { title, outcome, .. } => format!("{title}: {outcome}"),
            EventKind::Finding {
                rule,
                message,
                raised: true,
                critical,
            } => {
                let sev = if *critical { "CRITICAL" } else { "WARNING" };
                format!("⚠ {sev} [{rule}] {message}")
            }
            EventKind::Finding {
                rule,
                message,
                raised: false,
                ..
            } => format!("✓ cleared [{rule}] {message}"),
            EventKind::Prediction {
                predicted,
                right: true,
                ..
            } => format!("predicted {predicted}: right"),
            EventKind::Prediction {
                predicted,
                elected,
                right: false,
            } => format!("predicted {predicted}, elected {elected}: wrong"),
        }
    }
}

impl EventKind {
    /// The same event with every name and value cut to `max` bytes, and at most 32
    /// config changes: the text of one event stays small whatever etcd holds.
    pub fn clipped(mut self, max: usize) -> EventKind {
        let cut = |s: &mut String| crate::clip::clip_bytes(s, max);
        let cut_opt = |s: &mut Option<String>| {
            if let Some(s) = s {
                crate::clip::clip_bytes(s, max)
            }
        };
        match &mut self {
            EventKind::LeaderChanged { from, to } => {
                cut_opt(from);
                cut_opt(to);
            }
            EventKind::MemberJoined(m)
            | EventKind::MemberLeft(m)
            | EventKind::RestLost(m)
            | EventKind::RestRegained(m) => cut(m),
            EventKind::RoleChanged { member, from, to }
            | EventKind::StateChanged { member, from, to } => {
                cut(member);
                cut(from);
                cut(to);
            }
            EventKind::PendingRestart { member, .. } => cut(member),
            EventKind::Prediction {
                predicted, elected, ..
            } => {
                cut(predicted);
                cut(elected);
            }
            EventKind::Restarted { member, at } => {
                cut(member);
                cut(at);
            }
            EventKind::SwitchoverScheduled(s) => cut_opt(s),
            EventKind::Finding { rule, message, .. } => {
                cut(rule);
                cut(message);
            }
            EventKind::Operation {
                title,
                outcome,
                reply,
                ..
            } => {
                cut(title);
                cut(outcome);
                // the whole reply is the point of keeping it, within a bound
                if let Some(r) = reply {
                    crate::clip::clip_bytes(r, max.saturating_mul(64));
                }
            }
            EventKind::ConfigChanged(changes) => {
                const MAX_CHANGES: usize = 32;
                if changes.len() > MAX_CHANGES {
                    let more = changes.len() - MAX_CHANGES + 1;
                    changes.truncate(MAX_CHANGES - 1);
                    changes.push((format!("(and {more} more)"), None, None));
                }
                for (k, a, b) in changes.iter_mut() {
                    cut(k);
                    cut_opt(a);
                    cut_opt(b);
                }
            }
            _ => {}
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: Instant,
    pub kind: EventKind,
}

pub fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

pub fn member_summary(r: &MemberRow) -> MemberSummary {
    let says_replica = r
        .own_role
        .as_deref()
        .is_some_and(|o| matches!(o, "replica" | "sync_standby" | "quorum_standby"));
    let role = (r.role.is_leader() || says_replica).then(|| r.role.label().to_string());
    MemberSummary {
        role,
        state: Some(r.state.clone()).filter(|s| !s.is_empty()),
        timeline: r.timeline,
        pending_restart: r.pending_restart,
        rest: match r.rest {
            RestHealth::Live => Some(true),
            RestHealth::Unreachable { .. } => Some(false),
            RestHealth::Unknown => None,
        },
        started: r.postmaster_start.clone(),
    }
}

/// Everything that differs between `a` and `b`, in a stable order.
pub fn diff(a: &Summary, b: &Summary) -> Vec<EventKind> {
    let mut ev = Vec::new();
    if a.dcs_live != b.dcs_live && a.loaded {
        ev.push(if b.dcs_live {
            EventKind::DcsRegained
        } else {
            EventKind::DcsLost
        });
    }
    if !b.loaded || !a.loaded {
        return ev; // the first snapshot is the baseline, not news
    }
    if a.leader != b.leader {
        ev.push(EventKind::LeaderChanged {
            from: a.leader.clone(),
            to: b.leader.clone(),
        });
    }
    if let (Some(x), Some(y)) = (a.timeline, b.timeline)
        && y > x
    {
        ev.push(EventKind::TimelineIncremented { from: x, to: y });
    }
    for (name, m) in &b.members {
        match a.members.get(name) {
            None => ev.push(EventKind::MemberJoined(name.clone())),
            Some(old) => {
                if let (Some(from), Some(to)) = (&old.role, &m.role)
                    && from != to
                {
                    ev.push(EventKind::RoleChanged {
                        member: name.clone(),
                        from: from.clone(),
                        to: to.clone(),
                    });
                }
                if let (Some(from), Some(to)) = (&old.state, &m.state)
                    && from != to
                {
                    ev.push(EventKind::StateChanged {
                        member: name.clone(),
                        from: from.clone(),
                        to: to.clone(),
                    });
                }
                if let (Some(was), Some(now)) = (&old.started, &m.started)
                    && was != now
                {
                    ev.push(EventKind::Restarted {
                        member: name.clone(),
                        at: now.clone(),
                    });
                }
                if old.pending_restart != m.pending_restart {
                    ev.push(EventKind::PendingRestart {
                        member: name.clone(),
                        on: m.pending_restart,
                    });
                }
                match (old.rest, m.rest) {
                    (Some(true), Some(false)) => ev.push(EventKind::RestLost(name.clone())),
                    (Some(false), Some(true)) => ev.push(EventKind::RestRegained(name.clone())),
                    _ => {}
                }
            }
        }
    }
    for name in a.members.keys() {
        if !b.members.contains_key(name) {
            ev.push(EventKind::MemberLeft(name.clone()));
        }
    }
    if a.paused != b.paused {
        ev.push(EventKind::Paused(b.paused));
    }
    if a.scheduled_switchover != b.scheduled_switchover {
        ev.push(EventKind::SwitchoverScheduled(
            b.scheduled_switchover.clone(),
        ));
    }
    if a.config != b.config || a.config_secrets != b.config_secrets {
        let mut keys: Vec<&String> = a.config.keys().chain(b.config.keys()).collect();
        keys.sort();
        keys.dedup();
        let changes: Vec<(String, Option<String>, Option<String>)> = keys
            .into_iter()
            .filter(|k| {
                a.config.get(*k) != b.config.get(*k)
                    || a.config_secrets.get(*k) != b.config_secrets.get(*k)
            })
            // pause has its own event
            .filter(|k| k.as_str() != "pause")
            .map(|k| {
                (
                    k.clone(),
                    a.config.get(k).cloned(),
                    b.config.get(k).cloned(),
                )
            })
            .collect();
        if !changes.is_empty() {
            ev.push(EventKind::ConfigChanged(changes));
        }
    }
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(role: &str, state: &str, tl: u64) -> MemberSummary {
        MemberSummary {
            role: Some(role.into()),
            state: Some(state.into()),
            timeline: Some(tl),
            pending_restart: false,
            rest: Some(true),
            started: None,
        }
    }

    fn base() -> Summary {
        let mut s = Summary {
            dcs_live: true,
            loaded: true,
            leader: Some("pg1".into()),
            timeline: Some(1),
            ..Default::default()
        };
        s.members.insert("pg1".into(), m("Leader", "running", 1));
        s.members.insert("pg2".into(), m("Replica", "streaming", 1));
        s.config.insert("ttl".into(), "20".into());
        s
    }

    #[test]
    fn identical_states_give_nothing() {
        assert!(diff(&base(), &base()).is_empty());
    }

    #[test]
    fn switchover_gives_leader_timeline_and_roles() {
        let a = base();
        let mut b = base();
        b.leader = Some("pg2".into());
        b.timeline = Some(2);
        b.members.insert("pg1".into(), m("Replica", "streaming", 2));
        b.members.insert("pg2".into(), m("Leader", "running", 2));
        let e = diff(&a, &b);
        assert_eq!(
            e[..2],
            [
                EventKind::LeaderChanged {
                    from: Some("pg1".into()),
                    to: Some("pg2".into())
                },
                EventKind::TimelineIncremented { from: 1, to: 2 },
            ]
        );
        assert!(e.contains(&EventKind::RoleChanged {
            member: "pg1".into(),
            from: "Leader".into(),
            to: "Replica".into()
        }));
        assert!(e.contains(&EventKind::StateChanged {
            member: "pg1".into(),
            from: "running".into(),
            to: "streaming".into()
        }));
    }

    #[test]
    fn joins_leaves_pending_pause_schedule_rest_dcs() {
        let a = base();
        let mut b = base();
        b.members.remove("pg2");
        b.members.insert("pg3".into(), m("Replica", "streaming", 1));
        b.members.get_mut("pg1").unwrap().pending_restart = true;
        b.members.get_mut("pg1").unwrap().rest = Some(false);
        b.paused = true;
        b.scheduled_switchover = Some("at 2030".into());
        let e = diff(&a, &b);
        for want in [
            EventKind::MemberJoined("pg3".into()),
            EventKind::MemberLeft("pg2".into()),
            EventKind::PendingRestart {
                member: "pg1".into(),
                on: true,
            },
            EventKind::RestLost("pg1".into()),
            EventKind::Paused(true),
            EventKind::SwitchoverScheduled(Some("at 2030".into())),
        ] {
            assert!(e.contains(&want), "{want:?} in {e:?}");
        }
        let e = diff(&b, &a);
        assert!(e.contains(&EventKind::RestRegained("pg1".into())));
        assert!(e.contains(&EventKind::PendingRestart {
            member: "pg1".into(),
            on: false
        }));
        assert!(e.contains(&EventKind::SwitchoverScheduled(None)));

        let mut down = base();
        down.dcs_live = false;
        assert_eq!(diff(&a, &down), vec![EventKind::DcsLost]);
        assert_eq!(diff(&down, &a), vec![EventKind::DcsRegained]);
    }

    #[test]
    fn config_changes_name_the_keys_old_and_new() {
        let a = base();
        let mut b = base();
        let v: Value = serde_json::json!({"ttl": 30, "postgresql": {"parameters": {"max_connections": 200}}, "pause": true});
        b.config.clear();
        flatten("", &v, &mut b.config);
        let e = diff(&a, &b);
        let Some(EventKind::ConfigChanged(c)) =
            e.iter().find(|e| matches!(e, EventKind::ConfigChanged(_)))
        else {
            panic!("{e:?}")
        };
        assert_eq!(
            c,
            &vec![
                (
                    "postgresql.parameters.max_connections".into(),
                    None,
                    Some("200".into())
                ),
                ("ttl".into(), Some("20".into()), Some("30".into())),
            ]
        );
        assert_eq!(
            EventKind::ConfigChanged(c.clone()).text(),
            "dynamic config changed: postgresql.parameters.max_connections: none → 200, ttl: 20 → 30"
        );
    }

    #[test]
    fn the_first_snapshot_is_not_news() {
        let a = Summary::default();
        assert!(diff(&a, &base()).is_empty());
    }
}
