use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// `GET /patroni`: the member's own live view. All optional: older Patroni versions and
/// members in odd states leave fields out.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PatroniStatus {
    pub state: Option<String>,
    pub role: Option<String>,
    pub server_version: Option<u64>,
    pub timeline: Option<u64>,
    pub postmaster_start_time: Option<String>,
    pub replication_state: Option<String>,
    pub xlog: Xlog,
    pub replication: Vec<ReplicationConn>,
    pub pending_restart: bool,
    pub pending_restart_reason: Option<serde_json::Map<String, Value>>,
    pub scheduled_restart: Option<Value>,
    pub pause: bool,
    pub cluster_unlocked: bool,
    /// Patroni's failsafe: a primary that cannot reach the DCS but reached every member of
    /// the `failsafe` key keeps running without the leader lock (replicas it asked say so
    /// for a while too).
    pub failsafe_mode_is_active: bool,
    pub dcs_last_seen: Option<u64>,
    pub database_system_identifier: Option<String>,
    pub tags: BTreeMap<String, Value>,
    pub patroni: PatroniInfo,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PatroniInfo {
    pub version: Option<String>,
    pub scope: Option<String>,
    pub name: Option<String>,
}

/// `xlog`: `location` on a primary; `received_location` / `replayed_location` on a replica.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Xlog {
    pub location: Option<u64>,
    pub received_location: Option<u64>,
    pub replayed_location: Option<u64>,
    pub replayed_timestamp: Option<String>,
    pub paused: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ReplicationConn {
    pub usename: Option<String>,
    pub application_name: Option<String>,
    pub client_addr: Option<String>,
    pub state: Option<String>,
    pub sync_state: Option<String>,
    pub sync_priority: Option<u64>,
}

impl PatroniStatus {
    pub fn parse(body: &[u8]) -> Result<PatroniStatus, String> {
        let v: Value =
            serde_json::from_slice(body).map_err(|e| format!("response is not JSON ({e})"))?;
        if !v.is_object() {
            return Err("response is not a JSON object".into());
        }
        serde_json::from_value(v).map_err(|e| format!("unexpected /patroni response ({e})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(PatroniStatus::parse(b"<html>").is_err());
        assert!(PatroniStatus::parse(b"[1,2]").is_err());
        assert!(PatroniStatus::parse(b"{\"xlog\": 5}").is_err());
        let s = PatroniStatus::parse(b"{}").unwrap();
        assert_eq!(s, PatroniStatus::default());
    }
}
