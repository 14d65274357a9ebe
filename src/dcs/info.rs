//! etcd's own health, and the leader lease's remaining TTL. Neither can be watched: the
//! endpoints' status is asked every few seconds, the lease's TTL once a second while there
//! is a leader lease (Patroni refreshes it every loop_wait, which no watch reports).

use std::time::{Duration, Instant};

use etcd_client::{Client, ConnectOptions};
use tokio::sync::{mpsc, watch};

use crate::config::DcsSettings;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointStatus {
    pub endpoint: String,
    pub result: Result<EndpointInfo, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointInfo {
    pub version: String,
    /// Negative when the API does not say (etcd v2): shown as "n/a".
    pub db_size: i64,
    pub member_id: u64,
    /// The raft leader's member id.
    pub leader: u64,
    /// 0 when the API did not say (etcd v2 without a leader key): shown as "n/a".
    pub raft_term: u64,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoEvent {
    Endpoints(Vec<EndpointStatus>),
    /// `ttl` seconds left of `granted` on `lease`, as of `at`; -1: the lease has expired.
    LeaseTtl {
        lease: i64,
        ttl: i64,
        granted: i64,
        at: Instant,
    },
}

const STATUS_EVERY: Duration = Duration::from_secs(5);
const LEASE_EVERY: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_secs(2);

async fn client(s: &DcsSettings, ep: &str) -> Result<Client, String> {
    let mut o = ConnectOptions::new()
        .with_connect_timeout(TIMEOUT)
        .with_timeout(TIMEOUT);
    if let (Some(u), Some(p)) = (&s.username, &s.password) {
        o = o.with_user(u.clone(), p.expose().to_string());
    }
    if ep.starts_with("https://") {
        o = o.with_tls(super::v3::tls_options(s).await?);
    }
    Client::connect([ep], Some(o))
        .await
        .map_err(|e| super::v3::describe_for(s, &e))
}

/// Ask one endpoint for its status over `conn`, kept between rounds (a new gRPC
/// connection every few seconds costs more than the question) and dropped on any error.
async fn status(s: &DcsSettings, ep: &str, conn: &mut Option<Client>) -> EndpointStatus {
    let result = async {
        if conn.is_none() {
            *conn = Some(client(s, ep).await?);
        }
        let Some(c) = conn.as_mut() else {
            return Err("no connection".to_string());
        };
        let r = match tokio::time::timeout(TIMEOUT, c.status()).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                *conn = None;
                return Err(super::v3::describe_for(s, &e));
            }
            Err(_) => {
                *conn = None;
                return Err(format!("no answer within {TIMEOUT:?}"));
            }
        };
        Ok(EndpointInfo {
            version: r.version().to_string(),
            db_size: r.db_size(),
            member_id: r.header().map(|h| h.member_id()).unwrap_or(0),
            leader: r.leader(),
            raft_term: r.raft_term(),
            errors: r.errors().to_vec(),
        })
    }
    .await;
    EndpointStatus {
        endpoint: ep.to_string(),
        result,
    }
}

/// Report endpoint health every few seconds and the lease TTL of `lease` (0: none) every
/// second, until the receiver goes away.
pub async fn run_info<M: Send + 'static>(
    s: DcsSettings,
    mut lease: watch::Receiver<i64>,
    tx: mpsc::Sender<M>,
    wrap: impl Fn(InfoEvent) -> M + Send + 'static,
) {
    let mut last_status: Option<Instant> = None;
    let mut lease_client: Option<Client> = None;
    // the endpoint the lease is asked at: the next one after a failure (connecting is lazy,
    // so a dead or hung first endpoint would otherwise be asked for ever)
    let mut lease_ep = 0usize;
    let mut conns: Vec<Option<Client>> = s.endpoints.iter().map(|_| None).collect();
    loop {
        if last_status.is_none_or(|t| t.elapsed() >= STATUS_EVERY) {
            last_status = Some(Instant::now());
            let all = futures::future::join_all(
                s.endpoints
                    .iter()
                    .zip(conns.iter_mut())
                    .map(|(ep, conn)| status(&s, ep, conn)),
            )
            .await;
            if tx.send(wrap(InfoEvent::Endpoints(all))).await.is_err() {
                return;
            }
        }
        let id = *lease.borrow_and_update();
        if id != 0 {
            if lease_client.is_none() && !s.endpoints.is_empty() {
                let ep = &s.endpoints[lease_ep % s.endpoints.len()];
                match client(&s, ep).await {
                    Ok(c) => lease_client = Some(c),
                    Err(_) => lease_ep = lease_ep.wrapping_add(1),
                }
            }
            if let Some(c) = lease_client.as_mut() {
                match tokio::time::timeout(TIMEOUT, c.lease_time_to_live(id, None)).await {
                    Ok(Ok(r)) => {
                        let ev = InfoEvent::LeaseTtl {
                            lease: id,
                            ttl: r.ttl(),
                            granted: r.granted_ttl(),
                            at: Instant::now(),
                        };
                        if tx.send(wrap(ev)).await.is_err() {
                            return;
                        }
                    }
                    // a broken connection: make a new one next time, at the next endpoint
                    _ => {
                        lease_client = None;
                        lease_ep = lease_ep.wrapping_add(1);
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(LEASE_EVERY) => {}
            // a new leader lease: ask at once
            r = lease.changed() => if r.is_err() { return },
        }
    }
}
