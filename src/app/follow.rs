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
    /// `MAX_LOG_FOLLOWERS`, those already followed first. Everything refused is a warning.
    fn follow_plan(
        &self,
    ) -> (
        BTreeMap<SafeMember, ResolvedSource>,
        BTreeMap<String, String>,
    ) {
        let mut warnings = BTreeMap::new();
        let (default, by_member) = &self.log_sources;
        let Some(c) = self.cluster().filter(|_| self.logs_configured) else {
            return (BTreeMap::new(), warnings);
        };
        // (newly followed, gone, member, source): the order of who gets a follower
        let mut want = Vec::new();
        for (name, data) in &c.members {
            let key = format!("members/{name}");
            let member = match SafeMember::parse(name) {
                Ok(m) => m,
                Err(e) => {
                    warnings.insert(key, format!("log not followed: member name refused ({e})"));
                    continue;
                }
            };
            let Some(spec) = by_member.get(name).or(default.as_ref()) else {
                continue;
            };
            let host = if spec.uses_host() {
                match data.conn_url.as_deref().map(SafeHost::from_conn_url) {
                    Some(Ok(h)) => Some(h),
                    Some(Err(e)) => {
                        let w = format!("log not followed: conn_url host refused ({e})");
                        warnings.insert(key, w);
                        continue;
                    }
                    None => {
                        warnings.insert(key, "log not followed: no conn_url for {host}".into());
                        continue;
                    }
                }
            } else {
                None
            };
            match spec.resolve(&member, host.as_ref()) {
                Ok(src) => want.push((!self.followed.contains_key(&member), false, member, src)),
                Err(e) => {
                    warnings.insert(key, format!("log not followed: {e}"));
                }
            }
        }
        for (name, at) in &c.gone {
            if self.now.saturating_duration_since(*at) < FOLLOW_GONE_FOR
                && !c.members.contains_key(name)
                && let Some((m, src)) = self.followed.get_key_value(name.as_str())
            {
                want.push((false, true, m.clone(), src.clone()));
            }
        }
        want.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
        let over = want.len().saturating_sub(MAX_LOG_FOLLOWERS);
        if over > 0 {
            warnings.insert(
                "logs".into(),
                format!("{over} members' logs not followed: at most {MAX_LOG_FOLLOWERS} followers"),
            );
        }
        let follow = want
            .into_iter()
            .take(MAX_LOG_FOLLOWERS)
            .map(|(_, _, m, s)| (m, s))
            .collect();
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
