//! `GET /cluster` (with `/config` and `/history`): a member's own view of the whole cluster,
//! for REST-only mode, when etcd is not there to ask.
//!
//! The answer is turned into the DCS keys Patroni would have written (`members/<name>`,
//! `leader`, `sync`, `config`, `history`), so that it passes through exactly the same
//! grammar and size limits as a value read from etcd (`dcs::keys::parse`) and lands in the
//! same model state. The member's JSON is hostile like etcd's: nothing here trusts a field.

use serde_json::{Map, Value, json};

/// At most this many members are taken from one answer: a hostile or broken member must not
/// decide how much patrol keeps.
pub const MAX_MEMBERS: usize = 256;

/// The DCS keys (relative to the cluster prefix) that a `/cluster` answer stands for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterKeys {
    /// (`members/pg1`, value), (`leader`, name), ... in the order to apply them.
    pub kvs: Vec<(String, Vec<u8>)>,
    /// Members the answer listed beyond [`MAX_MEMBERS`], not taken.
    pub dropped: usize,
}

/// The member's `/cluster` body (and its `/config` and `/history` bodies, when they were
/// read) as DCS keys.
pub fn to_keys(
    cluster: &[u8],
    config: Option<&[u8]>,
    history: Option<&[u8]>,
) -> Result<ClusterKeys, String> {
    let v: Value =
        serde_json::from_slice(cluster).map_err(|e| format!("/cluster: not valid JSON ({e})"))?;
    let obj = v.as_object().ok_or("/cluster: not a JSON object")?;
    let members = obj
        .get("members")
        .and_then(Value::as_array)
        .ok_or("/cluster: no `members` list")?;
    let mut out = ClusterKeys::default();
    let mut leader = None;
    let mut sync = Vec::new();
    for m in members {
        let Some(m) = m.as_object() else { continue };
        let Some(name) = m.get("name").and_then(Value::as_str) else {
            continue;
        };
        if out.kvs.len() >= MAX_MEMBERS {
            out.dropped += 1;
            continue;
        }
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        // the member key's words for what /cluster calls the roles
        let key_role = match role {
            "leader" => {
                leader = Some(name.to_string());
                "primary"
            }
            "standby_leader" => {
                leader = Some(name.to_string());
                "standby_leader"
            }
            "sync_standby" | "quorum_standby" => {
                sync.push(name.to_string());
                "replica"
            }
            _ => "replica",
        };
        let mut data = Map::new();
        data.insert("role".into(), key_role.into());
        for k in [
            "state",
            "api_url",
            "timeline",
            "tags",
            "pending_restart",
            "pending_restart_reason",
            "scheduled_restart",
        ] {
            if let Some(x) = m.get(k) {
                data.insert(k.into(), x.clone());
            }
        }
        if let Some(host) = m.get("host").and_then(Value::as_str) {
            let port = m
                .get("port")
                .and_then(Value::as_u64)
                .map(|p| format!(":{p}"))
                .unwrap_or_default();
            // the member key's own form; its host part is checked where it is used
            data.insert(
                "conn_url".into(),
                format!("postgres://{host}{port}/postgres").into(),
            );
        }
        for (lsn, key) in [("receive_lsn", "receive_lsn"), ("replay_lsn", "replay_lsn")] {
            if let Some(p) = m.get(lsn).and_then(Value::as_str).and_then(parse_lsn) {
                data.insert(key.into(), p.into());
            }
        }
        if let Some(p) = m.get("lsn").and_then(Value::as_str).and_then(parse_lsn) {
            data.insert("xlog_location".into(), p.into());
        }
        let bytes = serde_json::to_vec(&Value::Object(data)).map_err(|e| e.to_string())?;
        out.kvs.push((format!("members/{name}"), bytes));
    }
    if let Some(l) = &leader {
        out.kvs.push(("leader".into(), l.clone().into_bytes()));
        if !sync.is_empty() {
            let s = json!({"leader": l, "sync_standby": sync.join(",")});
            out.kvs.push(("sync".into(), s.to_string().into_bytes()));
        }
    }
    let paused = obj.get("pause").and_then(Value::as_bool).unwrap_or(false);
    let mut cfg = config
        .and_then(|c| serde_json::from_slice::<Value>(c).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    // /cluster's `pause` is the member's current view; /config may be a loop older
    if let Some(o) = cfg.as_object_mut() {
        o.insert("pause".into(), paused.into());
    }
    out.kvs
        .push(("config".into(), cfg.to_string().into_bytes()));
    if let Some(h) = history {
        out.kvs.push(("history".into(), h.to_vec()));
    }
    if let Some(s) = obj.get("scheduled_switchover").and_then(Value::as_object) {
        let mut f = Map::new();
        for (from, to) in [("at", "scheduled_at"), ("from", "leader"), ("to", "member")] {
            if let Some(x) = s.get(from) {
                f.insert(to.into(), x.clone());
            }
        }
        out.kvs
            .push(("failover".into(), Value::Object(f).to_string().into_bytes()));
    }
    Ok(out)
}

/// `0/3000148` as a byte position.
fn parse_lsn(s: &str) -> Option<u64> {
    let (hi, lo) = s.split_once('/')?;
    let hi = u64::from_str_radix(hi, 16).ok()?;
    let lo = u64::from_str_radix(lo, 16).ok()?;
    (hi <= u32::MAX as u64 && lo <= u32::MAX as u64).then_some((hi << 32) | lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcs::keys::{self, KeyValue};

    /// What Patroni 4.1 answers, trimmed from a real sandbox.
    const CLUSTER: &str = r#"{"members": [
        {"name": "pg1", "role": "leader", "state": "running",
         "api_url": "http://127.0.0.1:24011/patroni", "host": "127.0.0.1", "port": 24021,
         "timeline": 3},
        {"name": "pg2", "role": "sync_standby", "state": "streaming",
         "api_url": "http://127.0.0.1:24012/patroni", "host": "127.0.0.1", "port": 24022,
         "timeline": 3, "tags": {"nofailover": true}, "receive_lsn": "0/3000148",
         "receive_lag": 0, "replay_lsn": "0/3000100", "replay_lag": 72, "lsn": "0/3000148",
         "lag": 0},
        {"name": "pg3", "role": "replica", "state": "stopped", "api_url": null,
         "lsn": "unknown", "lag": "unknown"}],
      "scope": "demo", "pause": true}"#;

    fn parsed(k: &ClusterKeys, rel: &str) -> KeyValue {
        let (_, v) = k.kvs.iter().find(|(r, _)| r == rel).expect("key present");
        keys::parse(rel, v).expect("parses as the DCS key would")
    }

    #[test]
    fn a_cluster_answer_becomes_the_keys_patroni_writes() {
        let k = to_keys(
            CLUSTER.as_bytes(),
            Some(br#"{"ttl": 30, "loop_wait": 10}"#),
            None,
        )
        .unwrap();
        assert_eq!(k.dropped, 0);
        let KeyValue::Member(name, m) = parsed(&k, "members/pg2") else {
            panic!("not a member")
        };
        assert_eq!(name, "pg2");
        assert_eq!(m.role.as_deref(), Some("replica"));
        assert_eq!(m.state.as_deref(), Some("streaming"));
        assert_eq!(
            m.conn_url.as_deref(),
            Some("postgres://127.0.0.1:24022/postgres")
        );
        assert_eq!(m.api_url.as_deref(), Some("http://127.0.0.1:24012/patroni"));
        assert_eq!(m.timeline, Some(3));
        assert_eq!(m.receive_lsn, Some(0x3000148));
        assert_eq!(m.replay_lsn, Some(0x3000100));
        assert!(m.tags.contains_key("nofailover"));
        let KeyValue::Member(_, m3) = parsed(&k, "members/pg3") else {
            panic!("not a member")
        };
        assert_eq!(m3.api_url, None, "null api_url stays absent");
        assert_eq!(m3.xlog_location, None, "`unknown` is no position");
        assert_eq!(parsed(&k, "leader"), KeyValue::Leader("pg1".into()));
        let KeyValue::Config(c) = parsed(&k, "config") else {
            panic!("not config")
        };
        assert!(c.pause, "/cluster's pause wins");
        assert_eq!(c.ttl, Some(30));
        let KeyValue::Sync(s) = parsed(&k, "sync") else {
            panic!("not sync")
        };
        assert_eq!(s.leader.as_deref(), Some("pg1"));
    }

    #[test]
    fn garbage_is_an_error_and_junk_members_are_skipped() {
        assert!(to_keys(b"not json", None, None).is_err());
        assert!(to_keys(b"[]", None, None).is_err());
        assert!(to_keys(br#"{"members": 3}"#, None, None).is_err());
        let k = to_keys(
            br#"{"members": [1, "x", {"role": "leader"}, {"name": "a"}]}"#,
            None,
            None,
        )
        .unwrap();
        let rels: Vec<&str> = k.kvs.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(rels, ["members/a", "config"], "no leader without a name");
    }

    #[test]
    fn a_huge_member_list_is_capped() {
        let ms: Vec<Value> = (0..MAX_MEMBERS + 10)
            .map(|i| json!({"name": format!("m{i}"), "role": "replica"}))
            .collect();
        let body = json!({ "members": ms }).to_string();
        let k = to_keys(body.as_bytes(), None, None).unwrap();
        assert_eq!(k.dropped, 10);
        assert_eq!(
            k.kvs
                .iter()
                .filter(|(r, _)| r.starts_with("members/"))
                .count(),
            MAX_MEMBERS
        );
    }

    #[test]
    fn lsns_parse_as_patroni_prints_them() {
        assert_eq!(parse_lsn("0/3000148"), Some(0x3000148));
        assert_eq!(parse_lsn("1/0"), Some(1 << 32));
        assert_eq!(parse_lsn("unknown"), None);
        assert_eq!(parse_lsn("100000000/0"), None);
    }
}
