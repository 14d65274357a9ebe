//! The keys Patroni keeps under `/<namespace>/<scope>/` and their typed values.
//!
//! Everything here is a pure function of bytes read from etcd: values are untrusted, so
//! every field is optional and parsing never panics. A value that does not parse becomes a
//! [`KeyError`] the UI shows as a warning.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// Which Patroni key a path (relative to the cluster prefix) names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyKind {
    Leader,
    Member(String),
    Config,
    Initialize,
    History,
    Failover,
    Sync,
    Status,
    Failsafe,
    /// `optime/leader`: where Patroni < 2.1 kept the leader's LSN.
    LegacyOptime,
    Other(String),
}

impl KeyKind {
    pub fn classify(relative: &str) -> KeyKind {
        match relative {
            "leader" => KeyKind::Leader,
            "config" => KeyKind::Config,
            "initialize" => KeyKind::Initialize,
            "history" => KeyKind::History,
            "failover" => KeyKind::Failover,
            "sync" => KeyKind::Sync,
            "status" => KeyKind::Status,
            "failsafe" => KeyKind::Failsafe,
            "optime/leader" => KeyKind::LegacyOptime,
            other => match other.strip_prefix("members/") {
                Some(name) if !name.is_empty() && !name.contains('/') => {
                    KeyKind::Member(name.to_string())
                }
                _ => KeyKind::Other(other.to_string()),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct KeyError {
    pub key: String,
    pub message: String,
}

/// A member key: what the member last wrote to etcd (once per `loop_wait`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct MemberData {
    pub conn_url: Option<String>,
    pub api_url: Option<String>,
    pub state: Option<String>,
    pub role: Option<String>,
    #[serde(deserialize_with = "lenient_u64")]
    pub timeline: Option<u64>,
    #[serde(deserialize_with = "lenient_u64")]
    pub xlog_location: Option<u64>,
    #[serde(deserialize_with = "lenient_u64")]
    pub receive_lsn: Option<u64>,
    #[serde(deserialize_with = "lenient_u64")]
    pub replay_lsn: Option<u64>,
    pub replication_state: Option<String>,
    pub tags: BTreeMap<String, Value>,
    #[serde(deserialize_with = "lenient_bool")]
    pub pending_restart: bool,
    /// In Patroni's order (patronictl prints the reasons in it).
    /// Boxed, as `scheduled_restart`: rare, and 72 bytes each inline in every member key.
    pub pending_restart_reason: Option<Box<serde_json::Map<String, Value>>>,
    pub scheduled_restart: Option<Box<Value>>,
    #[serde(deserialize_with = "lenient_bool")]
    pub pause: bool,
    pub version: Option<String>,
}

impl MemberData {
    /// `host` and `port` from `conn_url` (`postgres://[user[:pw]@]host:port/db`), without
    /// any credentials.
    pub fn host_port(&self) -> Option<(String, Option<u16>)> {
        let url = self.conn_url.as_deref()?;
        let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
        let rest = rest.rsplit_once('@').map(|(_, r)| r).unwrap_or(rest);
        let hostport = rest.split(['/', '?']).next().unwrap_or("");
        if hostport.is_empty() {
            return None;
        }
        if let Some(stripped) = hostport.strip_prefix('[') {
            // [v6]:port
            let (h, p) = stripped.split_once(']')?;
            let port = p.strip_prefix(':').and_then(|p| p.parse().ok());
            return Some((h.to_string(), port));
        }
        match hostport.rsplit_once(':') {
            Some((h, p)) => Some((h.to_string(), p.parse().ok())),
            None => Some((hostport.to_string(), None)),
        }
    }

    pub fn tag_bool(&self, tag: &str) -> bool {
        match self.tags.get(tag) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => {
                matches!(s.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1")
            }
            Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
            _ => false,
        }
    }
}

/// The dynamic configuration (`config` key). Only the fields patrol reasons about are
/// typed; the whole document is kept for the config view, with its secrets redacted as it
/// enters (`redact`): nothing downstream (views, events, exports, logs) sees them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DynConfig {
    pub ttl: Option<u64>,
    pub loop_wait: Option<u64>,
    pub retry_timeout: Option<u64>,
    pub maximum_lag_on_failover: Option<u64>,
    /// `synchronous_mode`: `true`, `false` or `"quorum"`.
    pub synchronous_mode: SyncMode,
    pub pause: bool,
    pub standby_cluster: bool,
    pub check_timeline: bool,
    /// The document, secrets replaced by `***`.
    pub raw: Value,
    /// For each redacted leaf (by its flattened path), a keyed tag of its clear value: a
    /// changed password is news even though both values read `***`.
    pub secret_tags: std::collections::BTreeMap<String, u64>,
}

/// Patroni's own default for `maximum_lag_on_failover` (1 MiB), in force when the `config`
/// key leaves it out (or there is no `config` key at all).
pub const DEFAULT_MAXIMUM_LAG_ON_FAILOVER: u64 = 1 << 20;

/// The lag limit Patroni applies: the configured one, else its default. Never "no limit".
pub fn maximum_lag_on_failover(config: Option<&DynConfig>) -> u64 {
    config
        .and_then(|k| k.maximum_lag_on_failover)
        .unwrap_or(DEFAULT_MAXIMUM_LAG_ON_FAILOVER)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SyncMode {
    #[default]
    Off,
    On,
    Quorum,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub timeline: u64,
    pub lsn: u64,
    pub reason: String,
    pub timestamp: Option<String>,
    pub new_leader: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Failover {
    pub leader: Option<String>,
    pub member: Option<String>,
    pub scheduled_at: Option<String>,
}

impl Failover {
    pub fn is_empty(&self) -> bool {
        self.leader.is_none() && self.member.is_none() && self.scheduled_at.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sync {
    pub leader: Option<String>,
    pub sync_standby: Vec<String>,
    pub quorum: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// The leader's last known WAL position.
    pub optime: Option<u64>,
    /// The leader's replication slots (Patroni ≥ 2.1 `slots`: permanent slots, and with
    /// `member_slots_ttl` the members' too) and each one's position: at most [`MAX_SLOTS`],
    /// the ones furthest behind (retaining the most WAL), by name; names sanitized.
    pub slots: Vec<(String, u64)>,
    /// How many more slots the key named (beyond [`MAX_SLOTS`], or without a position).
    pub slots_more: usize,
}

/// The slots of the `status` key kept: a hostile key with 30,000 slots costs one pass over
/// its text and this many entries, never a map of all of them.
pub const MAX_SLOTS: usize = 64;
/// A slot name is cut to this many characters (PostgreSQL's are at most 63 bytes).
const MAX_SLOT_NAME: usize = 64;

/// The `status` key's `slots`, bounded while it is read (see [`MAX_SLOTS`]).
#[derive(Default)]
struct BoundedSlots {
    /// A max-heap by position: the top is the first dropped when full.
    kept: std::collections::BinaryHeap<(u64, String)>,
    more: usize,
}

impl BoundedSlots {
    fn add(&mut self, name: &str, pos: Option<u64>) {
        let Some(pos) = pos else {
            self.more += 1;
            return;
        };
        if self.kept.len() == MAX_SLOTS {
            match self.kept.peek() {
                Some((top, _)) if *top > pos => {
                    self.kept.pop();
                    self.more += 1;
                }
                _ => {
                    self.more += 1;
                    return;
                }
            }
        }
        let name: String = crate::text::sanitize(name)
            .chars()
            .take(MAX_SLOT_NAME)
            .collect();
        self.kept.push((pos, name));
    }
}

impl<'de> Deserialize<'de> for BoundedSlots {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = BoundedSlots;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of slot positions")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = BoundedSlots::default();
                while let Some(name) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    let v: Value = m.next_value()?;
                    out.add(&name, as_u64(&v));
                }
                Ok(out)
            }
            // Patroni reads a JSON text inside the string too; one level only
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let mut de = serde_json::Deserializer::from_str(v);
                Ok(serde::Deserializer::deserialize_map(&mut de, V).unwrap_or_default())
            }
            // anything else is "no slots", as Patroni takes it
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(BoundedSlots::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(BoundedSlots::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(BoundedSlots::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(BoundedSlots::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(BoundedSlots::default())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> Result<Self::Value, A::Error> {
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(BoundedSlots::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// The `status` key as read (`retain_slots` and anything else is skipped unread).
#[derive(Deserialize)]
struct RawStatus {
    #[serde(default)]
    optime: Option<Value>,
    #[serde(default)]
    slots: Option<BoundedSlots>,
}

/// One parsed key.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyValue {
    Leader(String),
    Member(String, Box<MemberData>),
    Config(Box<DynConfig>),
    Initialize(String),
    History(Vec<HistoryEntry>),
    Failover(Failover),
    Sync(Sync),
    Status(Status),
    Failsafe(BTreeMap<String, String>),
    Other(String),
}

/// Parse the value of the key at `relative` (the path below the cluster prefix).
pub fn parse(relative: &str, value: &[u8]) -> Result<KeyValue, KeyError> {
    let err = |message: String| KeyError {
        key: relative.to_string(),
        message,
    };
    let text = std::str::from_utf8(value).map_err(|_| err("value is not UTF-8".into()))?;
    let json = || -> Result<Value, KeyError> {
        serde_json::from_str(text).map_err(|e| err(format!("not valid JSON ({e})")))
    };
    Ok(match KeyKind::classify(relative) {
        KeyKind::Leader => KeyValue::Leader(text.trim().to_string()),
        KeyKind::Initialize => KeyValue::Initialize(text.trim().to_string()),
        KeyKind::Member(name) => {
            let v = json()?;
            if !v.is_object() {
                return Err(err("member data is not a JSON object".into()));
            }
            let m: MemberData = serde_json::from_value(v)
                .map_err(|e| err(format!("unexpected member data ({e})")))?;
            KeyValue::Member(name, Box::new(m))
        }
        KeyKind::Config => KeyValue::Config(Box::new(parse_config(json()?).map_err(err)?)),
        KeyKind::History => KeyValue::History(parse_history(&json()?).map_err(err)?),
        KeyKind::Failover => {
            if text.trim().is_empty() {
                KeyValue::Failover(Failover::default())
            } else {
                let f: Failover = serde_json::from_value(json()?)
                    .map_err(|e| err(format!("unexpected failover data ({e})")))?;
                KeyValue::Failover(f)
            }
        }
        KeyKind::Sync => KeyValue::Sync(parse_sync(&json()?).map_err(err)?),
        KeyKind::Status => KeyValue::Status(parse_status(text).map_err(err)?),
        KeyKind::LegacyOptime => KeyValue::Status(Status {
            optime: text.trim().parse().ok(),
            ..Default::default()
        }),
        KeyKind::Failsafe => {
            let v = json()?;
            let obj = v
                .as_object()
                .ok_or_else(|| err("failsafe is not a JSON object".into()))?;
            KeyValue::Failsafe(
                obj.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect(),
            )
        }
        KeyKind::Other(o) => KeyValue::Other(o),
    })
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "on" | "yes" | "1"),
        Value::Number(n) => n.as_i64().is_some_and(|n| n != 0),
        _ => false,
    }
}

fn lenient_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(as_u64(&Value::deserialize(d)?))
}

fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(as_bool(&Value::deserialize(d)?))
}

pub fn parse_config(v: Value) -> Result<DynConfig, String> {
    let obj = v.as_object().ok_or("config is not a JSON object")?;
    let get = |k: &str| obj.get(k);
    let synchronous_mode = match get("synchronous_mode") {
        Some(Value::String(s)) if s.eq_ignore_ascii_case("quorum") => SyncMode::Quorum,
        Some(v) if as_bool(v) => SyncMode::On,
        _ => SyncMode::Off,
    };
    let (raw, secret_tags) = crate::redact::value_with_tags(&v);
    Ok(DynConfig {
        ttl: get("ttl").and_then(as_u64),
        loop_wait: get("loop_wait").and_then(as_u64),
        retry_timeout: get("retry_timeout").and_then(as_u64),
        maximum_lag_on_failover: get("maximum_lag_on_failover").and_then(as_u64),
        synchronous_mode,
        pause: get("pause").is_some_and(as_bool),
        standby_cluster: get("standby_cluster").is_some_and(|v| v.is_object()),
        check_timeline: get("check_timeline").is_some_and(as_bool),
        raw,
        secret_tags,
    })
}

fn parse_history(v: &Value) -> Result<Vec<HistoryEntry>, String> {
    let rows = v.as_array().ok_or("history is not a JSON array")?;
    rows.iter()
        .map(|row| {
            let r = row.as_array().ok_or("history row is not an array")?;
            let s = |i: usize| r.get(i).and_then(Value::as_str).map(str::to_string);
            Ok(HistoryEntry {
                timeline: r
                    .first()
                    .and_then(as_u64)
                    .ok_or("history row without a timeline")?,
                lsn: r.get(1).and_then(as_u64).unwrap_or(0),
                reason: s(2).unwrap_or_default(),
                timestamp: s(3),
                new_leader: s(4),
            })
        })
        .collect()
}

fn parse_sync(v: &Value) -> Result<Sync, String> {
    let obj = v.as_object().ok_or("sync is not a JSON object")?;
    let sync_standby = match obj.get("sync_standby") {
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    };
    Ok(Sync {
        leader: obj.get("leader").and_then(Value::as_str).map(String::from),
        sync_standby,
        quorum: obj.get("quorum").and_then(as_u64),
    })
}

fn parse_status(text: &str) -> Result<Status, String> {
    // Patroni >= 2.1 writes JSON; a bare number is the old optime format.
    if let Ok(n) = text.trim().parse::<u64>() {
        return Ok(Status {
            optime: Some(n),
            ..Default::default()
        });
    }
    let raw: RawStatus = serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            "status is not a JSON object".to_string()
        } else {
            format!("not valid JSON ({e})")
        }
    })?;
    let slots = raw.slots.unwrap_or_default();
    let mut kept: Vec<(String, u64)> = slots.kept.into_iter().map(|(p, n)| (n, p)).collect();
    kept.sort();
    Ok(Status {
        optime: raw.optime.as_ref().and_then(as_u64),
        slots: kept,
        slots_more: slots.more,
    })
}

/// `0/3000060` as PostgreSQL and patronictl print an LSN.
pub fn format_lsn(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)
}

#[cfg(test)]
mod tests;
