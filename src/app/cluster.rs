//! One cluster's state as patrol knows it: what etcd says plus what each member's REST
//! API says. Applying DCS events is pure.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use crate::dcs::keys::{
    self, DynConfig, Failover, HistoryEntry, KeyValue, MemberData, Status, Sync,
};
use crate::patroni::PatroniStatus;

#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    pub leader: Option<String>,
    pub leader_lease: i64,
    /// Boxed: a member key's value is ~400 bytes, and a B-tree node holds eleven values and is
    /// half empty after the inserts of a burst (30,000 keys: 19 MB of nodes, 7 MB boxed).
    pub members: BTreeMap<String, Box<MemberData>>,
    /// When each member key was last written (the age of DCS-derived figures).
    pub member_written: BTreeMap<String, Instant>,
    pub config: Option<DynConfig>,
    pub initialize: Option<String>,
    pub history: Vec<HistoryEntry>,
    pub failover: Option<Failover>,
    pub sync: Option<Sync>,
    pub status: Option<Status>,
    pub failsafe: Option<BTreeMap<String, String>>,
    /// Keys whose value could not be parsed: key -> message.
    pub warnings: BTreeMap<String, String>,
    pub rest: BTreeMap<String, RestState>,
    /// Members seen in this session whose key has gone (stopped, crashed, removed), for
    /// [`GONE_KEEP`] and at most [`MAX_GONE`] of them.
    pub gone: BTreeMap<String, Instant>,
    /// Members whose key names an `api_url`: the candidates for polling.
    pub with_api: BTreeSet<String>,
    /// Of those, the ones whose key is bound to a lease (Patroni binds its member key to its
    /// own lease; a key written by hand usually is not).
    pub leased_api: BTreeSet<String>,
    /// Members whose REST API has answered in this session (an index of `rest`).
    pub answered: BTreeSet<String>,
    /// A hash of the last value (and lease) of each key patrol reads, so a rewrite that
    /// changes nothing (Patroni on etcd v2 rewrites `leader` and `members/*` every loop)
    /// costs a hash and no parse, redraw or event. Keys patrol does not read are not kept:
    /// junk under the prefix must not grow this.
    /// Keyed by the key's own hash (random-keyed SipHash, as the values'): the key strings
    /// cost more than the map at 30,000 member keys, and a collision needs two keys of one
    /// cluster to agree on 64 bits of both hashes.
    values: HashMap<u64, u64>,
    /// Keyed at random per cluster state: a hostile value cannot be made to collide.
    hasher: RandomState,
}

/// How long a member whose key went stays listed as `gone`.
pub const GONE_KEEP: Duration = Duration::from_secs(600);
/// At most this many `gone` rows (the newest kept): deleting thousands of keys must not
/// leave thousands of rows.
pub const MAX_GONE: usize = 64;
/// A member key larger than this is not parsed (Patroni's are under 2 KiB): a warning.
pub const MAX_MEMBER_VALUE: usize = 64 * 1024;
/// Any other key larger than this is not parsed (a long `history` stays far below it).
pub const MAX_VALUE: usize = crate::dcs::MAX_VALUE;

/// The last REST answers from one member.
#[derive(Debug, Clone, Default)]
pub struct RestState {
    pub ok: Option<(Instant, PatroniStatus)>,
    pub error: Option<(Instant, String)>,
    /// The WAL positions of the last few good answers, oldest first: a replica's position
    /// is paired with the leader's taken after it (see `members::pair`).
    pub positions: VecDeque<Positions>,
}

/// The WAL positions one `GET /patroni` answer reported, and when it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Positions {
    pub at: Instant,
    /// A primary's current position (`xlog.location`).
    pub location: Option<u64>,
    pub received: Option<u64>,
    pub replayed: Option<u64>,
}

impl RestState {
    /// Enough to pair across a few intervals; bounded whatever the member sends.
    pub const POSITIONS: usize = 8;

    /// Remember a good answer's positions.
    pub fn record(&mut self, at: Instant, s: &PatroniStatus) {
        if self.positions.len() >= Self::POSITIONS {
            self.positions.pop_front();
        }
        self.positions.push_back(Positions {
            at,
            location: s.xlog.location,
            received: s.xlog.received_location,
            replayed: s.xlog.replayed_location,
        });
    }

    /// The last good answer, if it is newer than the last failure and not too old.
    pub fn fresh(&self, now: Instant, max_age: std::time::Duration) -> Option<&PatroniStatus> {
        let (at, s) = self.ok.as_ref()?;
        if let Some((err_at, _)) = &self.error
            && err_at > at
        {
            return None;
        }
        (now.saturating_duration_since(*at) <= max_age).then_some(s)
    }

    pub fn failing(&self) -> Option<&(Instant, String)> {
        match (&self.ok, &self.error) {
            (Some((ok, _)), Some(e)) if e.0 > *ok => Some(e),
            (None, Some(e)) => Some(e),
            _ => None,
        }
    }
}

impl ClusterState {
    pub fn is_paused(&self) -> bool {
        self.config.as_ref().is_some_and(|c| c.pause)
    }

    fn key_hash(&self, relative: &str) -> u64 {
        self.hasher.hash_one(relative)
    }

    fn value_hash(&self, value: &[u8], lease: i64) -> u64 {
        self.hasher.hash_one((value, lease))
    }

    /// Is this put the value (and lease) the key already has? Then only its write time is
    /// noted (the age of DCS-derived figures counts from the last rewrite) and nothing else
    /// is done: the caller skips parsing, redrawing and the event log.
    pub fn rewrite(&mut self, relative: &str, value: &[u8], lease: i64, at: Instant) -> bool {
        let Some(old) = self.values.get(&self.key_hash(relative)) else {
            return false;
        };
        if *old != self.value_hash(value, lease) {
            return false;
        }
        if let keys::KeyKind::Member(name) = keys::KeyKind::classify(relative)
            && let Some(t) = self.member_written.get_mut(&name)
        {
            *t = at;
        }
        true
    }

    /// Apply one put. Returns true when the set of members (or their URLs) changed.
    pub fn put(&mut self, relative: &str, value: &[u8], lease: i64, at: Instant) -> bool {
        // what etcd holds must not decide how much patrol parses and keeps
        let kind = keys::KeyKind::classify(relative);
        let max = match kind {
            keys::KeyKind::Member(_) => MAX_MEMBER_VALUE,
            _ => MAX_VALUE,
        };
        if !matches!(kind, keys::KeyKind::Other(_)) && value.len() <= max {
            let h = self.value_hash(value, lease);
            self.values.insert(self.key_hash(relative), h);
        }
        if value.len() > max {
            self.warnings.insert(
                relative.to_string(),
                format!(
                    "value of {} bytes is over patrol's limit of {max}: not read",
                    value.len()
                ),
            );
            return false;
        }
        match keys::parse(relative, value) {
            Err(e) => {
                // keep the last good value; the warning tells the operator why it is old
                self.warnings.insert(relative.to_string(), e.message);
                false
            }
            Ok(v) => {
                self.warnings.remove(relative);
                self.apply(v, lease, at)
            }
        }
    }

    /// The source left this key's value out of the snapshot (too large to hold): said as
    /// for a value over the limit here; the last good value, if any, is gone with the
    /// snapshot that replaced it.
    pub fn skipped(&mut self, relative: &str, size: Option<usize>, limit: usize) {
        self.values.remove(&self.key_hash(relative));
        let w = match size {
            Some(n) => format!("value of {n} bytes is over patrol's limit of {limit}: skipped"),
            None => format!(
                "value is over patrol's limit of {limit} (larger than a snapshot page: not even read): skipped"
            ),
        };
        self.warnings.insert(relative.to_string(), w);
    }

    fn apply(&mut self, v: KeyValue, lease: i64, at: Instant) -> bool {
        match v {
            KeyValue::Leader(name) => {
                self.leader = (!name.is_empty()).then_some(name);
                self.leader_lease = lease;
            }
            KeyValue::Member(name, data) => {
                // api_url: what is polled; conn_url: where its log is followed from
                let changed = self
                    .members
                    .get(&name)
                    .is_none_or(|m| m.api_url != data.api_url || m.conn_url != data.conn_url);
                self.gone.remove(&name);
                if data.api_url.is_some() {
                    self.with_api.insert(name.clone());
                } else {
                    self.with_api.remove(&name);
                }
                if data.api_url.is_some() && lease != 0 {
                    self.leased_api.insert(name.clone());
                } else {
                    self.leased_api.remove(&name);
                }
                self.members.insert(name.clone(), data);
                self.member_written.insert(name, at);
                return changed;
            }
            KeyValue::Config(c) => self.config = Some(*c),
            KeyValue::Initialize(s) => self.initialize = Some(s),
            KeyValue::History(h) => self.history = h,
            KeyValue::Failover(f) => self.failover = (!f.is_empty()).then_some(f),
            KeyValue::Sync(s) => self.sync = Some(s),
            KeyValue::Status(s) => self.status = Some(s),
            KeyValue::Failsafe(f) => self.failsafe = Some(f),
            KeyValue::Other(_) => {}
        }
        false
    }

    /// Apply one delete. Returns true when the member set changed.
    pub fn delete(&mut self, relative: &str, at: Instant) -> bool {
        self.warnings.remove(relative);
        self.values.remove(&self.key_hash(relative));
        match keys::KeyKind::classify(relative) {
            keys::KeyKind::Leader => {
                self.leader = None;
                self.leader_lease = 0;
            }
            keys::KeyKind::Member(name) => {
                let existed = self.members.remove(&name).is_some();
                self.member_written.remove(&name);
                self.rest.remove(&name);
                self.answered.remove(&name);
                self.with_api.remove(&name);
                self.leased_api.remove(&name);
                if existed {
                    self.mark_gone(name, at);
                }
                return existed;
            }
            keys::KeyKind::Config => self.config = None,
            keys::KeyKind::Initialize => self.initialize = None,
            keys::KeyKind::History => self.history.clear(),
            keys::KeyKind::Failover => self.failover = None,
            keys::KeyKind::Sync => self.sync = None,
            keys::KeyKind::Status | keys::KeyKind::LegacyOptime => self.status = None,
            keys::KeyKind::Failsafe => self.failsafe = None,
            keys::KeyKind::Other(_) => {}
        }
        false
    }

    /// List a member as gone since `at`, dropping the oldest beyond [`MAX_GONE`].
    pub fn mark_gone(&mut self, name: String, at: Instant) {
        self.gone.insert(name, at);
        while self.gone.len() > MAX_GONE {
            let Some(oldest) = self
                .gone
                .iter()
                .min_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)))
                .map(|(n, _)| n.clone())
            else {
                break;
            };
            self.gone.remove(&oldest);
        }
    }

    /// Forget `gone` rows older than [`GONE_KEEP`].
    pub fn expire_gone(&mut self, now: Instant) -> bool {
        let before = self.gone.len();
        self.gone
            .retain(|_, at| now.saturating_duration_since(*at) < GONE_KEEP);
        self.gone.len() != before
    }

    /// Forget everything that came from the DCS (before a fresh snapshot), but keep REST
    /// answers and remember which members existed, so a snapshot can report who left.
    pub fn reset_dcs(&mut self) -> Vec<String> {
        let before: Vec<String> = self.members.keys().cloned().collect();
        let rest = std::mem::take(&mut self.rest);
        let answered = std::mem::take(&mut self.answered);
        let gone = std::mem::take(&mut self.gone);
        *self = ClusterState {
            rest,
            answered,
            gone,
            ..Default::default()
        };
        before
    }
}
