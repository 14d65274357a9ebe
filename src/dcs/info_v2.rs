//! etcd's own health over the v2 HTTP API (`etcd:` sections): what `/health`, `/version`
//! and `/v2/stats/self` say, asked every few seconds. The raft term comes from the
//! `X-Raft-Term` header of a read of the cluster's `leader` key (one small key, capped);
//! the DB size is not in the v2 API (`db_size` is negative: "n/a"). No lease query: the
//! leader lock's countdown comes from the key's own TTL in the watch (`DcsEvent::Ttl`).

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::mpsc;

use super::info::{EndpointInfo, EndpointStatus, InfoEvent};
use crate::config::DcsSettings;

const STATUS_EVERY: Duration = Duration::from_secs(5);
const TIMEOUT: Duration = Duration::from_secs(2);
/// The most one status answer may be.
const MAX: usize = 64 * 1024;
/// `db_size` when the API does not say (v2): shown as "n/a".
pub const DB_SIZE_NA: i64 = -1;

#[derive(Deserialize, Default)]
struct Version {
    #[serde(default)]
    etcdserver: String,
}

#[derive(Deserialize, Default)]
struct Health {
    #[serde(default)]
    health: String,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize, Default)]
struct LeaderInfo {
    #[serde(default)]
    leader: String,
}

#[derive(Deserialize, Default)]
struct SelfStats {
    #[serde(default)]
    id: String,
    #[serde(default, rename = "leaderInfo")]
    leader_info: LeaderInfo,
}

/// A member id as etcd's v2 API writes it (hex, as v3 ids printed in hex).
fn hex_id(s: &str) -> u64 {
    u64::from_str_radix(s.trim(), 16).unwrap_or(0)
}

async fn fetch(
    http: &reqwest::Client,
    s: &DcsSettings,
    url: &str,
) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>), String> {
    let mut r = http.get(url);
    if let (Some(u), Some(p)) = (&s.username, &s.password) {
        r = r.basic_auth(u, Some(p.expose()));
    }
    let go = async {
        let mut resp = r.send().await.map_err(|e| format!("{e:#}"))?;
        let (status, headers) = (resp.status(), resp.headers().clone());
        let mut body = Vec::new();
        while let Some(c) = resp.chunk().await.map_err(|e| format!("{e:#}"))? {
            if body.len() + c.len() > MAX {
                return Err(format!("answer over {MAX} bytes: not read"));
            }
            body.extend_from_slice(&c);
        }
        Ok((status, headers, body))
    };
    match tokio::time::timeout(TIMEOUT, go).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {TIMEOUT:?}")),
    }
}

/// Ask one endpoint what the v2 API offers about it.
async fn status(
    http: &reqwest::Client,
    s: &DcsSettings,
    ep: &str,
    leader_key: &str,
) -> EndpointStatus {
    let base = ep.trim_end_matches('/');
    let result = async {
        let (_, _, v) = fetch(http, s, &format!("{base}/version")).await?;
        let version: Version = serde_json::from_slice(&v).map_err(|e| format!("/version: {e}"))?;
        let (_, _, st) = fetch(http, s, &format!("{base}/v2/stats/self")).await?;
        let me: SelfStats =
            serde_json::from_slice(&st).map_err(|e| format!("/v2/stats/self: {e}"))?;
        let mut errors = Vec::new();
        match fetch(http, s, &format!("{base}/health")).await {
            Ok((_, _, h)) => {
                let h: Health = serde_json::from_slice(&h).unwrap_or_default();
                if h.health != "true" {
                    let why = if h.reason.is_empty() {
                        "not healthy".to_string()
                    } else {
                        h.reason
                    };
                    errors.push(format!("/health: {why}"));
                }
            }
            Err(e) => errors.push(format!("/health: {e}")),
        }
        // the term is only in the headers of a key read (and not of a "not found")
        let term = match fetch(
            http,
            s,
            &format!("{base}/v2/keys{}", super::v2::encode_path(leader_key)),
        )
        .await
        {
            Ok((_, headers, _)) => headers
                .get("x-raft-term")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
            Err(_) => 0,
        };
        Ok(EndpointInfo {
            version: version.etcdserver,
            db_size: DB_SIZE_NA,
            member_id: hex_id(&me.id),
            leader: hex_id(&me.leader_info.leader),
            raft_term: term,
            errors,
        })
    }
    .await;
    EndpointStatus {
        endpoint: ep.to_string(),
        result,
    }
}

/// Report endpoint health every few seconds until the receiver goes away.
pub async fn run_info_v2<M: Send + 'static>(
    s: DcsSettings,
    leader_key: String,
    tx: mpsc::Sender<M>,
    wrap: impl Fn(InfoEvent) -> M + Send + 'static,
) {
    let http = match super::v2::http(&s, false) {
        Ok(h) => h,
        Err(e) => {
            let all = s
                .endpoints
                .iter()
                .map(|ep| EndpointStatus {
                    endpoint: ep.clone(),
                    result: Err(e.clone()),
                })
                .collect();
            let _ = tx.send(wrap(InfoEvent::Endpoints(all))).await;
            return;
        }
    };
    loop {
        let all = futures::future::join_all(
            s.endpoints
                .iter()
                .map(|ep| status(&http, &s, ep, &leader_key)),
        )
        .await;
        if tx.send(wrap(InfoEvent::Endpoints(all))).await.is_err() {
            return;
        }
        tokio::time::sleep(STATUS_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn member_ids_are_hex() {
        assert_eq!(super::hex_id("99bca5ffd3b6b513"), 0x99bc_a5ff_d3b6_b513);
        assert_eq!(super::hex_id("junk"), 0);
    }
}
