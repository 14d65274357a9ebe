//! Which members' logs are followed, from what: decided here, in pure `update` terms; the
//! runtime only spawns what `Effect::FollowLogs` names. Nothing from etcd reaches a log
//! source unless it passed the grammar in `logs::word`, and how many followers run does not
//! grow with what someone writes into etcd.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Effect;
use super::model::Model;
use super::redraw::Changed;
use crate::logs::{LogSourceSpec, ResolvedSource, SafeHost, SafeMember};

/// How long a member's log is still followed after its key has gone: its log says why.
pub const FOLLOW_GONE_FOR: Duration = Duration::from_secs(5 * 60);
/// At most this many log followers (for `cmd:`, a process each), whatever etcd holds.
pub const MAX_LOG_FOLLOWERS: usize = 64;
/// At most this many members' refusals are named one by one; the rest are counted: what
/// patrol keeps does not grow with the hostile names someone writes into etcd.
pub const MAX_LOG_WARNINGS: usize = 32;

/// The refusals of one plan: the first `MAX_LOG_WARNINGS` member keys in name order, and how
/// many more there were.
#[derive(Default)]
struct Warnings {
    named: BTreeMap<String, String>,
    more: usize,
}

impl Warnings {
    fn add(&mut self, member: &str, why: String) {
        if self.named.len() < MAX_LOG_WARNINGS {
            self.named.insert(format!("members/{member}"), why);
        } else {
            self.more += 1;
        }
    }

    fn done(mut self) -> BTreeMap<String, String> {
        if self.more > 0 {
            let more = self.more;
            self.named.insert(
                "members/…".into(),
                format!("{more} more members' logs not followed: names or hosts refused"),
            );
        }
        self.named
    }
}

impl Model {
    /// Set the log sources (`--logs`, per-member overrides) and follow at once.
    pub fn set_log_sources(
        &mut self,
        default: Option<LogSourceSpec>,
        by_member: BTreeMap<String, LogSourceSpec>,
    ) -> Vec<Effect> {
        self.logs_configured = default.is_some() || !by_member.is_empty();
        self.log_sources = (default, by_member);
        self.plan_followers()
    }

    /// The log followers as they should be now, and the warnings to show.
    pub(super) fn follow_effect(&mut self) -> Vec<Effect> {
        self.plans += 1;
        let (follow, warnings) = self.follow_plan();
        let mut eff: Vec<Effect> = warnings
            .iter()
            // once per key: the count in the cap's warning changes with every junk key
            .filter(|(k, _)| !self.log_warnings.contains_key(*k))
            .map(|(k, w)| Effect::LogWarning(crate::text::sanitize(&format!("{k}: {w}"))))
            .collect();
        if warnings != self.log_warnings {
            self.log_warnings = warnings;
            self.mark(Changed::CLUSTER);
        }
        if follow != self.followed {
            self.followed = follow;
            let set = self.followed.iter();
            eff.push(Effect::FollowLogs(
                set.map(|(m, s)| (m.clone(), s.clone())).collect(),
            ));
        }
        eff
    }

    /// Whom to follow: every member key whose name (and host, if the source needs one)
    /// passes the grammar in `logs::word`, and members followed before whose key has been
    /// gone less than `FOLLOW_GONE_FOR` (their log says why they are down); at most
    /// `MAX_LOG_FOLLOWERS`, those already followed first, then new ones in name order.
    /// Everything refused is a warning, the first `MAX_LOG_WARNINGS` by name and a count of
    /// the rest. Only the chosen members' sources are resolved: a plan over 30,000 member
    /// keys validates each name once and allocates for at most the followers it keeps.
    fn follow_plan(
        &self,
    ) -> (
        BTreeMap<SafeMember, ResolvedSource>,
        BTreeMap<String, String>,
    ) {
        let mut warnings = Warnings::default();
        let (default, by_member) = &self.log_sources;
        let Some(c) = self.cluster().filter(|_| self.logs_configured) else {
            return (BTreeMap::new(), BTreeMap::new());
        };
        // Why a member's log cannot be followed, or its spec: the grammar, checked without
        // resolving anything.
        let check = |name: &str, data: &crate::dcs::keys::MemberData| {
            let spec = by_member.get(name).or(default.as_ref())?;
            if let Err(e) = SafeMember::check(name) {
                return Some(Err(format!("log not followed: member name refused ({e})")));
            }
            if spec.uses_host() {
                match data.conn_url.as_deref().map(SafeHost::from_conn_url) {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        return Some(Err(format!(
                            "log not followed: conn_url host refused ({e})"
                        )));
                    }
                    None => return Some(Err("log not followed: no conn_url for {host}".into())),
                }
            }
            Some(Ok(spec))
        };
        let resolve = |name: &str, data: &crate::dcs::keys::MemberData, spec: &LogSourceSpec| {
            let member = SafeMember::parse(name).map_err(|e| e.to_string())?;
            let host = match spec.uses_host() {
                true => Some(
                    data.conn_url
                        .as_deref()
                        .map(SafeHost::from_conn_url)
                        .ok_or("no conn_url for {host}")?
                        .map_err(|e| e.to_string())?,
                ),
                false => None,
            };
            spec.resolve(&member, host.as_ref())
                .map(|src| (member, src))
                .map_err(|e| e.to_string())
        };
        let mut follow = BTreeMap::new();
        // 1. those followed now whose key is still there
        for name in self.followed.keys() {
            if let Some(data) = c.members.get(name.as_str())
                && let Some(Ok(spec)) = check(name.as_str(), data)
            {
                match resolve(name.as_str(), data, spec) {
                    Ok((m, src)) => {
                        follow.insert(m, src);
                    }
                    Err(e) => warnings.add(name.as_str(), format!("log not followed: {e}")),
                }
            }
        }
        // 2. those followed now whose key has gone lately: their log says why
        for (name, at) in &c.gone {
            if self.now.saturating_duration_since(*at) < FOLLOW_GONE_FOR
                && !c.members.contains_key(name)
                && let Some((m, src)) = self.followed.get_key_value(name.as_str())
            {
                follow.insert(m.clone(), src.clone());
            }
        }
        // 3. every other member key, in name order, while there is room
        let mut over = 0usize;
        for (name, data) in &c.members {
            match check(name, data) {
                None => {}
                Some(Err(w)) => warnings.add(name, w),
                Some(Ok(_)) if self.followed.contains_key(name.as_str()) => {}
                Some(Ok(_)) if follow.len() >= MAX_LOG_FOLLOWERS => over += 1,
                Some(Ok(spec)) => match resolve(name, data, spec) {
                    Ok((m, src)) => {
                        follow.insert(m, src);
                    }
                    Err(e) => warnings.add(name, format!("log not followed: {e}")),
                },
            }
        }
        let mut warnings = warnings.done();
        if over > 0 {
            warnings.insert(
                "logs".into(),
                format!("{over} members' logs not followed: at most {MAX_LOG_FOLLOWERS} followers"),
            );
        }
        (follow, warnings)
    }

    /// Whether a follower's member has been gone long enough to stop it (cheap: looks at
    /// the followers only, for the clock).
    pub(super) fn follower_expired(&self) -> bool {
        let Some(c) = self.cluster() else {
            return !self.followed.is_empty();
        };
        self.followed.keys().any(|m| {
            !c.members.contains_key(m.as_str())
                && c.gone
                    .get(m.as_str())
                    .is_none_or(|at| self.now.saturating_duration_since(*at) >= FOLLOW_GONE_FOR)
        })
    }
}

#[cfg(test)]
mod tests;
