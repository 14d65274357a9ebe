//! etcd v2 (`etcd:` sections; etcd 3.4/3.5 with `--enable-v2`): one recursive `GET` of the
//! prefix for a snapshot, then long polls `?wait=true&recursive=true&waitIndex=N+1`, one event
//! per response. Push, not polling: a long poll is re-issued only after an event, or after
//! [`BODY_WAIT`] without one (with the same or a later wait index) to prove the endpoint alive.
//!
//! etcd answers a long poll's headers (with `X-Etcd-Index`, its index when the watch was
//! registered) at once and the body only when an event comes (checked against etcd
//! 3.4.23). So a short timeout on the headers catches a hung (SIGSTOPped) endpoint, and
//! headers without a body mean no matching event up to that index: the next poll may wait
//! from the header's index + 1, which keeps a quiet prefix out of "index cleared" when the
//! rest of etcd is busy.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::mpsc;

use super::{DcsEvent, PutError, RawKv};
use crate::config::DcsSettings;

/// A request's headers must come within this.
const HEADERS: Duration = Duration::from_secs(3);
/// How long one long poll waits for its event before it is re-issued (and `Progress` sent).
const BODY_WAIT: Duration = Duration::from_secs(5);
/// Headers without a body this long after them: etcd has no event for the poll yet.
const HEADERS_ONLY: Duration = Duration::from_millis(200);
/// A snapshot's body must arrive within this.
const SNAPSHOT_BODY: Duration = Duration::from_secs(10);
/// The most a snapshot may be: what etcd holds must not grow patrol's memory without bound.
pub const MAX_SNAPSHOT: usize = 64 * 1024 * 1024;
/// The most one event may be (a value is at most etcd's `--max-request-bytes`, 1.5 MiB by
/// default; the event carries the previous value too).
pub const MAX_EVENT: usize = 8 * 1024 * 1024;
/// The most a status answer (`/version`, `/v2/stats/self` ...) may be.
const MAX_STATUS: usize = 64 * 1024;
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// etcd v2's "the event in requested index is outdated and cleared".
const INDEX_CLEARED: i64 = 401;
/// etcd v2's "key not found".
const KEY_NOT_FOUND: i64 = 100;

/// The HTTP client for etcd's v2 API, set up as the REST client is: no redirect followed,
/// nothing retried, no proxy, rustls with the `cacert`/`cert`/`key` of the `etcd:` section.
/// No overall timeout: a long poll is bounded by [`HEADERS`] and [`BODY_WAIT`] instead.
/// `writes`: no idle connection kept, HTTP/1 only, so hyper never resends a put that failed
/// on a stale reused connection.
pub(super) fn http(s: &DcsSettings, writes: bool) -> Result<reqwest::Client, String> {
    crate::install_crypto_provider();
    let mut b = reqwest::Client::builder()
        .connect_timeout(HEADERS)
        .user_agent(concat!("patrol/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .no_proxy();
    // the one place TLS is built (src/tls.rs): only the configured CA is trusted, and a
    // failed handshake is said in words naming the file; etcd is always verified
    b = crate::tls::reqwest_tls(b, &crate::tls::TlsFiles::for_dcs(s), false)?;
    b = if writes {
        b.pool_max_idle_per_host(0).http1_only()
    } else {
        b.pool_max_idle_per_host(2)
    };
    b.build().map_err(|e| {
        format!(
            "cannot set up the etcd HTTP client: {}",
            crate::text::error_chain(&e)
        )
    })
}

fn get(http: &reqwest::Client, s: &DcsSettings, url: &str) -> reqwest::RequestBuilder {
    let r = http.get(url);
    match (&s.username, &s.password) {
        (Some(u), Some(p)) => r.basic_auth(u, Some(p.expose())),
        _ => r,
    }
}

/// Percent-encode a key path for the URL (`/` stays): a scope is the user's word, but it
/// must not turn into a query or another path.
pub fn encode_path(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn encode_form(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn keys_url(endpoint: &str, key: &str) -> String {
    format!(
        "{}/v2/keys{}",
        endpoint.trim_end_matches('/'),
        encode_path(key)
    )
}

/// One node of a v2 answer; a directory has `nodes`.
#[derive(Debug, Deserialize, Default)]
struct Node {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    dir: bool,
    #[serde(default)]
    nodes: Vec<Node>,
    #[serde(default)]
    ttl: Option<i64>,
    #[serde(default, rename = "modifiedIndex")]
    modified_index: Option<i64>,
}

/// A v2 answer: an action on a node, or an error.
#[derive(Debug, Deserialize, Default)]
struct Answer {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    node: Option<Node>,
    #[serde(default, rename = "errorCode")]
    error_code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    cause: Option<String>,
}

impl Answer {
    fn error(&self) -> String {
        let mut s = format!(
            "etcd error {}: {}",
            self.error_code.unwrap_or(0),
            self.message.as_deref().unwrap_or("")
        );
        if let Some(c) = &self.cause {
            s.push_str(&format!(" ({c})"));
        }
        crate::text::sanitize(&s)
    }
}

/// A snapshot, flattened: every key (not directory) under the prefix, with the TTLs of the
/// keys that have one, and the highest index seen.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Flat {
    pub kvs: Vec<RawKv>,
    pub ttls: Vec<(String, i64)>,
    pub max_index: i64,
}

/// Flatten a v2 directory tree (iteratively: the depth is etcd's content, not ours).
fn flatten(root: Node) -> Flat {
    let mut out = Flat::default();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        out.max_index = out.max_index.max(n.modified_index.unwrap_or(0));
        if n.dir {
            stack.extend(n.nodes.into_iter().rev());
            continue;
        }
        let Some(key) = n.key else { continue };
        if let Some(t) = n.ttl {
            out.ttls.push((key.clone(), t));
        }
        out.kvs.push(RawKv {
            key,
            value: n.value.unwrap_or_default().into_bytes(),
            lease: 0,
        });
    }
    out
}

/// Parse a snapshot answer's body (pure; `tests` feed it captured answers).
pub fn parse_snapshot(body: &[u8]) -> Result<Flat, String> {
    let a: Answer = serde_json::from_slice(body).map_err(|e| format!("etcd answer: {e}"))?;
    if a.error_code == Some(KEY_NOT_FOUND) {
        return Ok(Flat::default());
    }
    if a.error_code.is_some() {
        return Err(a.error());
    }
    Ok(a.node.map(flatten).unwrap_or_default())
}

/// What one long poll's event means for the watch.
#[derive(Debug, PartialEq, Eq)]
pub enum Watched {
    /// These events (a put with its TTL, or a delete), then wait from `next`.
    Events { events: Vec<DcsEvent>, next: i64 },
    /// A directory under the prefix was removed or expired (or etcd said the index was
    /// cleared): only a new snapshot says what is left.
    Resnapshot(String),
}

/// Parse one long poll's body (pure).
pub fn parse_event(body: &[u8], waited_from: i64) -> Result<Watched, String> {
    let a: Answer = serde_json::from_slice(body).map_err(|e| format!("etcd event: {e}"))?;
    if a.error_code == Some(INDEX_CLEARED) {
        return Ok(Watched::Resnapshot(a.error()));
    }
    if a.error_code.is_some() {
        return Err(a.error());
    }
    let node = a.node.unwrap_or_default();
    let index = node.modified_index.unwrap_or(waited_from).max(waited_from);
    let next = index.saturating_add(1);
    let Some(key) = node.key else {
        return Ok(Watched::Events {
            events: Vec::new(),
            next,
        });
    };
    let action = a.action.unwrap_or_default();
    let deleted = matches!(action.as_str(), "delete" | "expire" | "compareAndDelete");
    let mut events = Vec::new();
    if node.dir {
        if deleted {
            return Ok(Watched::Resnapshot(format!(
                "directory {} {action}d: taking a new snapshot",
                crate::text::sanitize(&key)
            )));
        }
        // a new (empty) directory holds no keys
    } else if deleted {
        events.push(DcsEvent::Delete { key });
    } else if action == "get" {
        // not an event
    } else {
        let ttl = node.ttl;
        events.push(DcsEvent::Put(RawKv {
            key: key.clone(),
            value: node.value.unwrap_or_default().into_bytes(),
            lease: 0,
        }));
        if let Some(ttl) = ttl {
            events.push(DcsEvent::Ttl { key, ttl });
        }
    }
    Ok(Watched::Events { events, next })
}

fn header_i64(resp: &reqwest::Response, name: &str) -> Option<i64> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Read a body chunk by chunk, failing as soon as it passes `max` bytes.
async fn read_capped(resp: &mut reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("etcd connection broken: {e:#}"))?
    {
        if body.len() + chunk.len() > max {
            return Err(format!(
                "etcd's answer is over patrol's cap of {} MiB ({max} bytes): not read",
                max / (1024 * 1024)
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_connect() {
        format!("cannot connect to etcd: {e:#}")
    } else if e.is_timeout() {
        "etcd did not answer in time".into()
    } else {
        format!("etcd: {e:#}")
    }
}

/// A snapshot of `prefix` from `endpoint`: (index, keys, TTLs).
pub async fn snapshot(
    http: &reqwest::Client,
    s: &DcsSettings,
    endpoint: &str,
    prefix: &str,
) -> Result<(i64, Flat), String> {
    let url = format!("{}?recursive=true", keys_url(endpoint, prefix));
    let mut resp = match tokio::time::timeout(HEADERS, get(http, s, &url).send()).await {
        Err(_) => return Err(format!("etcd did not answer within {HEADERS:?}")),
        Ok(Err(e)) => return Err(describe(&e)),
        Ok(Ok(r)) => r,
    };
    let status = resp.status();
    let index = header_i64(&resp, "x-etcd-index");
    if status.is_redirection() {
        return Err(format!(
            "etcd answered HTTP {status} (redirect not followed)"
        ));
    }
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err("etcd refused the credentials (HTTP 401)".into());
    }
    let body = match tokio::time::timeout(SNAPSHOT_BODY, read_capped(&mut resp, MAX_SNAPSHOT)).await
    {
        Err(_) => return Err(format!("etcd sent no snapshot within {SNAPSHOT_BODY:?}")),
        // etcd v2 has no paged read: say that it is the whole prefix that is too large
        Ok(r) => r.map_err(|e| format!("snapshot of {prefix} (one v2 read): {e}"))?,
    };
    let flat = parse_snapshot(&body).map_err(|e| format!("HTTP {}: {e}", status.as_u16()))?;
    Ok((index.unwrap_or(flat.max_index).max(flat.max_index), flat))
}

/// A snapshot with a client of its own (`patrol list`).
pub async fn snapshot_once(
    s: &DcsSettings,
    endpoint: &str,
    prefix: &str,
) -> Result<(i64, Flat), String> {
    let http = http(s, false)?;
    snapshot(&http, s, endpoint, prefix).await
}

/// Stream the state under `prefix` into `tx` until the receiver goes away; the same
/// contract as `run_v3`.
pub async fn run_v2<M: Send + 'static>(
    settings: DcsSettings,
    prefix: String,
    tx: mpsc::Sender<M>,
    wrap: impl Fn(DcsEvent) -> M + Send + 'static,
) {
    let http = match http(&settings, false) {
        Ok(h) => h,
        Err(error) => {
            let endpoint = settings.endpoints.first().cloned().unwrap_or_default();
            let _ = tx.send(wrap(DcsEvent::Down { endpoint, error })).await;
            return;
        }
    };
    let n = settings.endpoints.len().max(1);
    let mut current = 0usize; // stick to the endpoint that worked last
    let mut backoff = Duration::from_millis(250);
    loop {
        let mut any_ok = false;
        for i in 0..n {
            let idx = (current + i) % n;
            let Some(endpoint) = settings.endpoints.get(idx).cloned() else {
                return;
            };
            if tx
                .send(wrap(DcsEvent::Connecting {
                    endpoint: endpoint.clone(),
                }))
                .await
                .is_err()
            {
                return;
            }
            match follow(&http, &settings, &endpoint, &prefix, &tx, &wrap).await {
                Follow::ReceiverGone => return,
                Follow::Broken { error, was_live } => {
                    any_ok |= was_live;
                    if was_live {
                        current = idx;
                    }
                    tracing::warn!(
                        endpoint = %crate::text::redact_url(&endpoint),
                        error = %crate::text::sanitize(&error),
                        "etcd v2 watch ended"
                    );
                    if tx
                        .send(wrap(DcsEvent::Down { endpoint, error }))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    if was_live {
                        // a watch that was working broke: retry the same endpoint at once
                        break;
                    }
                }
            }
        }
        backoff = if any_ok {
            Duration::from_millis(250)
        } else {
            (backoff * 2).min(MAX_BACKOFF)
        };
        tokio::time::sleep(backoff).await;
    }
}

enum Follow {
    ReceiverGone,
    Broken { error: String, was_live: bool },
}

async fn follow<M>(
    http: &reqwest::Client,
    s: &DcsSettings,
    endpoint: &str,
    prefix: &str,
    tx: &mpsc::Sender<M>,
    wrap: &impl Fn(DcsEvent) -> M,
) -> Follow {
    let shown = crate::text::redact_url(endpoint);
    let mut was_live = false;
    'snapshot: loop {
        let (index, flat) = match snapshot(http, s, endpoint, prefix).await {
            Ok(x) => x,
            Err(error) => return Follow::Broken { error, was_live },
        };
        was_live = true;
        tracing::info!(endpoint = %shown, index, keys = flat.kvs.len(), "etcd v2 snapshot; waiting from the next index");
        let snap = DcsEvent::Snapshot {
            endpoint: endpoint.to_string(),
            revision: index,
            kvs: flat.kvs,
        };
        if tx.send(wrap(snap)).await.is_err() {
            return Follow::ReceiverGone;
        }
        for (key, ttl) in flat.ttls {
            if tx.send(wrap(DcsEvent::Ttl { key, ttl })).await.is_err() {
                return Follow::ReceiverGone;
            }
        }
        let base = keys_url(endpoint, prefix);
        let mut wait = index.saturating_add(1);
        loop {
            let url = format!("{base}?wait=true&recursive=true&waitIndex={wait}");
            let mut resp = match tokio::time::timeout(HEADERS, get(http, s, &url).send()).await {
                Err(_) => {
                    return Follow::Broken {
                        error: format!("etcd did not answer the watch within {HEADERS:?}"),
                        was_live,
                    };
                }
                Ok(Err(e)) => {
                    return Follow::Broken {
                        error: describe(&e),
                        was_live,
                    };
                }
                Ok(Ok(r)) => r,
            };
            let status = resp.status();
            if status.is_redirection() || status == reqwest::StatusCode::UNAUTHORIZED {
                return Follow::Broken {
                    error: format!("etcd answered the watch with HTTP {status}"),
                    was_live,
                };
            }
            let registered_at = header_i64(&resp, "x-etcd-index");
            // etcd's newest index, when it is past what is applied: behind until the events
            // up to it came (or a poll's silence says none of them is under the prefix)
            if let Some(at) = registered_at.filter(|at| *at >= wait)
                && tx
                    .send(wrap(DcsEvent::Head { revision: at }))
                    .await
                    .is_err()
            {
                return Follow::ReceiverGone;
            }
            let read = read_capped(&mut resp, MAX_EVENT);
            tokio::pin!(read);
            // an event etcd already has comes with the headers; headers alone mean none under
            // the prefix up to `registered_at` (other prefixes moved the index): not behind
            let quick = tokio::time::timeout(HEADERS_ONLY, &mut read).await;
            let body = match quick {
                Ok(r) => Ok(r),
                Err(_) => {
                    if let Some(at) = registered_at.filter(|at| *at >= wait)
                        && tx
                            .send(wrap(DcsEvent::Progress { revision: at }))
                            .await
                            .is_err()
                    {
                        return Follow::ReceiverGone;
                    }
                    tokio::time::timeout(BODY_WAIT, &mut read).await
                }
            };
            let body = match body {
                Err(_) => {
                    // headers and no event: nothing under the prefix up to `registered_at`
                    if let Some(at) = registered_at {
                        wait = wait.max(at.saturating_add(1));
                    }
                    let revision = wait.saturating_sub(1);
                    if tx
                        .send(wrap(DcsEvent::Progress { revision }))
                        .await
                        .is_err()
                    {
                        return Follow::ReceiverGone;
                    }
                    continue;
                }
                Ok(Err(error)) => return Follow::Broken { error, was_live },
                Ok(Ok(b)) => b,
            };
            match parse_event(&body, wait) {
                Ok(Watched::Events { events, next }) => {
                    for ev in events {
                        if tx.send(wrap(ev)).await.is_err() {
                            return Follow::ReceiverGone;
                        }
                    }
                    wait = next;
                    let revision = next.saturating_sub(1);
                    if tx
                        .send(wrap(DcsEvent::Progress { revision }))
                        .await
                        .is_err()
                    {
                        return Follow::ReceiverGone;
                    }
                }
                Ok(Watched::Resnapshot(why)) => {
                    tracing::info!(endpoint = %shown, why = %why, "etcd v2: a new snapshot");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue 'snapshot;
                }
                Err(error) => return Follow::Broken { error, was_live },
            }
        }
    }
}

/// One put of `value` into `key` (`PUT /v2/keys<key>`), sent at most once: the switchover
/// fallback patronictl also uses. The next endpoint is tried only when this one could not
/// be connected to (the request was never written). Once sent, the result is final: a
/// reply, a refusal, or (timeout, broken connection, 5xx) unknown. No redirect is followed.
pub async fn put(s: &DcsSettings, key: &str, value: &str) -> Result<String, PutError> {
    let http = http(s, true).map_err(PutError::NotSent)?;
    let mut errors = Vec::new();
    for ep in &s.endpoints {
        let mut r = http
            .put(keys_url(ep, key))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("value={}", encode_form(value)));
        if let (Some(u), Some(p)) = (&s.username, &s.password) {
            r = r.basic_auth(u, Some(p.expose()));
        }
        let mut resp = match tokio::time::timeout(HEADERS, r.send()).await {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) if e.is_connect() => {
                errors.push(format!("{ep}: {}", describe(&e)));
                continue;
            }
            Ok(Err(e)) => return Err(PutError::Unknown(format!("{ep}: {}", describe(&e)))),
            Err(_) => {
                return Err(PutError::Unknown(format!(
                    "{ep}: sent, no answer within {HEADERS:?}"
                )));
            }
        };
        let status = resp.status();
        let index = header_i64(&resp, "x-etcd-index");
        let body = tokio::time::timeout(HEADERS, read_capped(&mut resp, MAX_STATUS))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let said = serde_json::from_slice::<Answer>(&body)
            .ok()
            .filter(|a| a.error_code.is_some())
            .map(|a| a.error())
            .unwrap_or_else(|| crate::text::sanitize(&String::from_utf8_lossy(&body)));
        return if status.is_success() {
            let index = serde_json::from_slice::<Answer>(&body)
                .ok()
                .and_then(|a| a.node)
                .and_then(|n| n.modified_index)
                .or(index)
                .unwrap_or(0);
            Ok(format!("written to etcd at {ep} (index {index})"))
        } else if status.is_redirection() {
            let to = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(|l| crate::text::sanitize(&crate::text::redact_url(l)))
                .unwrap_or_default();
            Err(PutError::Refused(format!(
                "{ep}: HTTP {status}, redirect to {to:?} not followed"
            )))
        } else if status.is_client_error() {
            Err(PutError::Refused(format!("{ep}: HTTP {status}: {said}")))
        } else {
            Err(PutError::Unknown(format!("{ep}: HTTP {status}: {said}")))
        };
    }
    Err(PutError::NotSent(errors.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_snapshot_is_flattened_with_its_ttls_and_highest_index() {
        let body = br#"{"action":"get","node":{"key":"/service/demo","dir":true,"nodes":[
            {"key":"/service/demo/leader","value":"pg1","expiration":"2026-12-02T03:31:54Z","ttl":20,"modifiedIndex":4,"createdIndex":4},
            {"key":"/service/demo/members","dir":true,"nodes":[
                {"key":"/service/demo/members/pg1","value":"{\"a\":1}","ttl":19,"modifiedIndex":9,"createdIndex":5}],
             "modifiedIndex":5,"createdIndex":5},
            {"key":"/service/demo/config","value":"{}","modifiedIndex":2,"createdIndex":2}],
          "modifiedIndex":4,"createdIndex":4}}"#;
        let f = parse_snapshot(body).unwrap();
        let keys: Vec<&str> = f.kvs.iter().map(|k| k.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "/service/demo/leader",
                "/service/demo/members/pg1",
                "/service/demo/config"
            ]
        );
        assert_eq!(f.kvs[1].value, br#"{"a":1}"#);
        assert_eq!(
            f.ttls,
            vec![
                ("/service/demo/leader".to_string(), 20),
                ("/service/demo/members/pg1".to_string(), 19)
            ]
        );
        assert_eq!(f.max_index, 9);
    }

    #[test]
    fn a_missing_prefix_is_an_empty_snapshot_and_other_errors_are_errors() {
        let nf = br#"{"errorCode":100,"message":"Key not found","cause":"/service/x","index":5}"#;
        assert_eq!(parse_snapshot(nf).unwrap(), Flat::default());
        let e = parse_snapshot(
            br#"{"errorCode":110,"message":"The request requires user authentication"}"#,
        )
        .unwrap_err();
        assert!(e.contains("110") && e.contains("authentication"), "{e}");
        assert!(parse_snapshot(b"not json").is_err());
    }

    fn nested(depth: usize) -> String {
        let mut s = String::new();
        for i in 0..depth {
            s.push_str(&format!(r#"{{"key":"/d{i}","dir":true,"nodes":["#));
        }
        s.push_str(r#"{"key":"/leaf","value":"v","modifiedIndex":7}"#);
        for _ in 0..depth {
            s.push_str("]}");
        }
        format!(r#"{{"action":"get","node":{s}}}"#)
    }

    #[test]
    fn deep_directories_flatten_in_a_loop_and_too_deep_ones_are_an_error() {
        let f = parse_snapshot(nested(40).as_bytes()).unwrap();
        assert_eq!(f.kvs.len(), 1);
        assert_eq!(f.max_index, 7);
        // past serde_json's nesting limit: an error that says so, not a stack overflow
        let e = parse_snapshot(nested(10_000).as_bytes()).unwrap_err();
        assert!(e.contains("recursion limit"), "{e}");
    }

    #[test]
    fn events_become_puts_with_their_ttl_deletes_or_a_new_snapshot() {
        let set = br#"{"action":"compareAndSwap","node":{"key":"/service/demo/leader","value":"pg1","ttl":20,"modifiedIndex":31,"createdIndex":4},"prevNode":{"key":"/service/demo/leader","value":"pg1"}}"#;
        assert_eq!(
            parse_event(set, 30).unwrap(),
            Watched::Events {
                events: vec![
                    DcsEvent::Put(RawKv {
                        key: "/service/demo/leader".into(),
                        value: b"pg1".to_vec(),
                        lease: 0
                    }),
                    DcsEvent::Ttl {
                        key: "/service/demo/leader".into(),
                        ttl: 20
                    }
                ],
                next: 32
            }
        );
        let exp = br#"{"action":"expire","node":{"key":"/service/demo/members/pg2","modifiedIndex":40,"createdIndex":7},"prevNode":{"value":"x"}}"#;
        assert_eq!(
            parse_event(exp, 33).unwrap(),
            Watched::Events {
                events: vec![DcsEvent::Delete {
                    key: "/service/demo/members/pg2".into()
                }],
                next: 41
            }
        );
        let rmdir =
            br#"{"action":"delete","node":{"key":"/service/demo","dir":true,"modifiedIndex":50}}"#;
        assert!(matches!(
            parse_event(rmdir, 41).unwrap(),
            Watched::Resnapshot(_)
        ));
        let cleared = br#"{"errorCode":401,"message":"The event in requested index is outdated and cleared","cause":"the requested history has been cleared [18/6]","index":1017}"#;
        assert!(matches!(
            parse_event(cleared, 6).unwrap(),
            Watched::Resnapshot(_)
        ));
        // an index going backwards never moves the wait index back
        let old = br#"{"action":"set","node":{"key":"/k","value":"v","modifiedIndex":3}}"#;
        assert!(matches!(
            parse_event(old, 10).unwrap(),
            Watched::Events { next: 11, .. }
        ));
    }

    #[test]
    fn keys_and_values_are_encoded() {
        assert_eq!(
            encode_path("/service/my demo/?x"),
            "/service/my%20demo/%3Fx"
        );
        assert_eq!(encode_form(r#"{"a":"b c"}"#), "%7B%22a%22%3A%22b%20c%22%7D");
    }
}
