//! etcd v3: one prefix `get` for a snapshot, then a `watch` from the snapshot's revision + 1.
//! Push, not polling: the only periodic traffic is gRPC keep-alive and etcd's progress
//! notifications.

use std::time::Duration;

use etcd_client::{
    Certificate, Client, ConnectOptions, EventType, GetOptions, Identity, TlsOptions, WatchOptions,
};
use tokio::sync::mpsc;

use super::{DcsEvent, RawKv};
use crate::config::DcsSettings;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The most one gRPC response may decode to (tonic's default is 4 MiB, so a cluster prefix
/// over 4 MiB never loaded). The snapshot is read in pages that stay well under it, and one
/// key is at most etcd's `--max-request-bytes` (1.5 MiB by default, 10 MiB recommended max).
const MAX_DECODE: usize = 16 * 1024 * 1024;
/// Keys per page of a snapshot; halved down to 1 when a page is over [`MAX_DECODE`].
const PAGE: i64 = 512;

/// The end of the key range of every key starting with `prefix` (etcd's prefix rule).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Turn an etcd-client error into something an operator can act on. Its gRPC statuses carry
/// no `source()`, so the code is matched here.
pub fn describe(e: &etcd_client::Error) -> String {
    use etcd_client::Error as E;
    match e {
        E::GRpcStatus(s) => {
            let what = match s.code() {
                tonic::Code::Unavailable => "etcd unavailable (down, or not listening there)",
                tonic::Code::DeadlineExceeded => "etcd did not answer in time",
                tonic::Code::Unauthenticated => "etcd refused the credentials",
                tonic::Code::PermissionDenied => {
                    "etcd user lacks permission to read the cluster keys"
                }
                tonic::Code::OutOfRange => "revision compacted",
                _ => "etcd error",
            };
            let msg = s.message().trim();
            if msg.is_empty() {
                what.to_string()
            } else {
                format!("{what}: {msg}")
            }
        }
        E::TransportError(t) => format!("cannot connect to etcd: {}", chain(t)),
        other => format!("etcd: {other}"),
    }
}

/// [`describe`], said for this configuration: a failed handshake names the file to look at
/// (`TLS: certificate signed by an unknown authority (etcd3.cacert /path)`), refused
/// credentials the keys that hold them (never their values).
pub fn describe_for(s: &DcsSettings, e: &etcd_client::Error) -> String {
    let files = crate::tls::TlsFiles::for_dcs(s);
    let section = match s.api {
        crate::config::DcsApi::V3 => "etcd3",
        crate::config::DcsApi::V2 => "etcd",
    };
    // a gRPC status keeps its cause as text, and sometimes as a source too
    let tls = match e {
        etcd_client::Error::GRpcStatus(st) => crate::tls::explain(st, &files)
            .or_else(|| crate::tls::explain_text(st.message(), &files)),
        etcd_client::Error::TransportError(t) => crate::tls::explain(t, &files),
        other => crate::tls::explain(other, &files),
    };
    if let Some(t) = tls {
        return t;
    }
    let plain = describe(e);
    if let etcd_client::Error::GRpcStatus(st) = e {
        let msg = st.message();
        if msg.contains("authentication failed") || st.code() == tonic::Code::Unauthenticated {
            return format!(
                "etcd refused the user name or password ({section}.username / {section}.password): {}",
                msg.trim()
            );
        }
        if st.code() == tonic::Code::PermissionDenied && s.username.is_none() {
            return format!("{plain} (no {section}.username configured: etcd may have auth on)");
        }
        // TLS 1.3: etcd checks the client certificate after the client thinks the handshake
        // is done, and its alert reaches only the connection's task; the request sees a
        // closed connection and nothing more
        if msg.contains("operation was canceled")
            && s.endpoints.iter().any(|e| e.starts_with("https://"))
        {
            let cert = match (&files.cert, &files.key) {
                (Some(c), Some(k)) => format!("it refused {} + {}?", c.named(), k.named()),
                _ => format!("none is configured ({section}.cert, {section}.key)"),
            };
            return format!(
                "{plain}: etcd closed the TLS connection; does it require a client certificate? {cert}"
            );
        }
    }
    plain
}

/// An error and its causes on one line (tonic's transport error says only "transport
/// error" by itself).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !msg.contains(&t) {
            msg.push_str(": ");
            msg.push_str(&t);
        }
        src = s.source();
    }
    msg
}

pub(super) async fn tls_options(s: &DcsSettings) -> Result<TlsOptions, String> {
    let mut tls = TlsOptions::new();
    let files = crate::tls::TlsFiles::for_dcs(s);
    let read = |f: &crate::tls::TlsFile| {
        let (p, named) = (f.path.clone(), f.named());
        async move {
            tokio::fs::read(&p)
                .await
                .map_err(|e| format!("{named}: {e}"))
        }
    };
    if let Some(ca) = &files.cacert {
        tls = tls.ca_certificate(Certificate::from_pem(read(ca).await?));
    }
    if let (Some(c), Some(k)) = (&files.cert, &files.key) {
        tls = tls.identity(Identity::from_pem(read(c).await?, read(k).await?));
    }
    Ok(tls)
}

async fn options(s: &DcsSettings) -> Result<ConnectOptions, String> {
    let mut o = ConnectOptions::new()
        .with_connect_timeout(CONNECT_TIMEOUT)
        // Keep-alive finds a dead server under a silent watch stream. Not more often than
        // every 5 s: etcd (grpc-go, --grpc-keepalive-min-time 5s) answers faster pings with
        // GOAWAY "too_many_pings", which broke the watch every ~8 s.
        .with_keep_alive(Duration::from_secs(7), Duration::from_secs(3))
        .with_keep_alive_while_idle(true);
    if let (Some(u), Some(p)) = (&s.username, &s.password) {
        o = o.with_user(u.clone(), p.expose().to_string());
    }
    if s.endpoints.iter().any(|e| e.starts_with("https://")) {
        o = o.with_tls(tls_options(s).await?);
    }
    Ok(o)
}

fn raw(kv: &etcd_client::KeyValue) -> RawKv {
    RawKv {
        key: String::from_utf8_lossy(kv.key()).into_owned(),
        value: kv.value().to_vec(),
        lease: kv.lease(),
    }
}

/// Connect to the first endpoint that answers and take a snapshot of `prefix`.
pub async fn snapshot(
    s: &DcsSettings,
    endpoint: &str,
    prefix: &str,
) -> Result<(Client, i64, Vec<RawKv>), String> {
    let opts = options(s).await?;
    let client = Client::connect([endpoint], Some(opts))
        .await
        .map_err(|e| describe_for(s, &e))?;
    // pages of at most PAGE keys, all at the revision of the first: one consistent snapshot,
    // never one response of the whole prefix
    let mut kv = client.kv_client().max_decoding_message_size(MAX_DECODE);
    let end = prefix_end(prefix.as_bytes());
    let mut from = prefix.as_bytes().to_vec();
    let (mut revision, mut limit) = (0i64, PAGE);
    let mut kvs = Vec::new();
    loop {
        let mut o = GetOptions::new().with_range(end.clone()).with_limit(limit);
        if revision > 0 {
            o = o.with_revision(revision);
        }
        let resp = match tokio::time::timeout(CONNECT_TIMEOUT, kv.get(from.clone(), Some(o))).await
        {
            Err(_) => return Err(format!("etcd did not answer within {CONNECT_TIMEOUT:?}")),
            Ok(Err(e)) if limit > 1 && too_large(&e) => {
                limit = (limit / 2).max(1);
                continue;
            }
            Ok(Err(e)) => return Err(describe_for(s, &e)),
            Ok(Ok(r)) => r,
        };
        if revision == 0 {
            revision = resp.header().map(|h| h.revision()).unwrap_or(0);
        }
        kvs.extend(resp.kvs().iter().map(raw));
        match resp.kvs().last() {
            Some(last) if resp.more() => {
                from = last.key().to_vec();
                from.push(0);
            }
            _ => break,
        }
    }
    Ok((client, revision, kvs))
}

/// Is this tonic refusing a response over the decode limit?
fn too_large(e: &etcd_client::Error) -> bool {
    // (tonic says OutOfRange, which etcd also uses for a compacted revision: go by the text)
    matches!(e, etcd_client::Error::GRpcStatus(s)
        if s.code() == tonic::Code::ResourceExhausted
            || s.message().contains("message length too large"))
}

/// Stream the state under `prefix` into `tx` until the receiver goes away.
pub async fn run_v3<M: Send + 'static>(
    settings: DcsSettings,
    prefix: String,
    tx: mpsc::Sender<M>,
    wrap: impl Fn(DcsEvent) -> M + Send + 'static,
) {
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
            match follow(&settings, &endpoint, &prefix, &tx, &wrap).await {
                Follow::ReceiverGone => return,
                Follow::Broken { error, was_live } => {
                    any_ok |= was_live;
                    if was_live {
                        current = idx;
                    }
                    tracing::warn!(
                        endpoint = %crate::text::redact_url(&endpoint),
                        error = %crate::text::sanitize(&error.to_string()),
                        "etcd watch ended"
                    );
                    if tx
                        .send(wrap(DcsEvent::Down { endpoint, error }))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    if was_live {
                        // a stream that was working broke: retry the same endpoint at once
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
    s: &DcsSettings,
    endpoint: &str,
    prefix: &str,
    tx: &mpsc::Sender<M>,
    wrap: &impl Fn(DcsEvent) -> M,
) -> Follow {
    let (client, revision, kvs) = match snapshot(s, endpoint, prefix).await {
        Ok(x) => x,
        Err(error) => {
            return Follow::Broken {
                error,
                was_live: false,
            };
        }
    };
    let shown = crate::text::redact_url(endpoint);
    tracing::info!(endpoint = %shown, revision, keys = kvs.len(), "etcd snapshot; watching from the next revision");
    let snap = DcsEvent::Snapshot {
        endpoint: endpoint.to_string(),
        revision,
        kvs,
    };
    if tx.send(wrap(snap)).await.is_err() {
        return Follow::ReceiverGone;
    }
    // fragment: etcd splits a revision with many or large changes into several responses
    let opts = WatchOptions::new()
        .with_prefix()
        // etcd's number: i64::MAX must not panic (it then fails as a compacted watch would)
        .with_start_revision(revision.saturating_add(1))
        .with_progress_notify()
        .with_fragment();
    let mut watch = client.watch_client().max_decoding_message_size(MAX_DECODE);
    let mut stream = match watch.watch(prefix, Some(opts)).await {
        Ok(s) => s,
        Err(e) => {
            return Follow::Broken {
                error: describe_for(s, &e),
                was_live: true,
            };
        }
    };
    loop {
        match stream.message().await {
            Ok(Some(resp)) => {
                if resp.canceled() {
                    let error = if resp.compact_revision() > 0 {
                        format!(
                            "watch cancelled: revision {} compacted; taking a new snapshot",
                            resp.compact_revision()
                        )
                    } else {
                        format!("watch cancelled by etcd: {}", resp.cancel_reason())
                    };
                    return Follow::Broken {
                        error,
                        was_live: true,
                    };
                }
                for ev in resp.events() {
                    let Some(kv) = ev.kv() else { continue };
                    let msg = match ev.event_type() {
                        EventType::Put => DcsEvent::Put(raw(kv)),
                        EventType::Delete => DcsEvent::Delete {
                            key: String::from_utf8_lossy(kv.key()).into_owned(),
                        },
                    };
                    if tx.send(wrap(msg)).await.is_err() {
                        return Follow::ReceiverGone;
                    }
                }
                // the revision the model is now at (shown in the cluster pane), after
                // events as well as after a progress notification
                if let Some(h) = resp.header()
                    && tx
                        .send(wrap(DcsEvent::Progress {
                            revision: h.revision(),
                        }))
                        .await
                        .is_err()
                {
                    return Follow::ReceiverGone;
                }
            }
            Ok(None) => {
                return Follow::Broken {
                    error: "etcd closed the watch stream".into(),
                    was_live: true,
                };
            }
            Err(e) => {
                return Follow::Broken {
                    error: describe_for(s, &e),
                    was_live: true,
                };
            }
        }
    }
}

/// Why a put did not (certainly) happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PutError {
    /// No endpoint received it: each one failed before the put was sent.
    #[error("{0}")]
    NotSent(String),
    /// etcd answered and refused it (permission, invalid request ...): not written.
    #[error("{0}")]
    Refused(String),
    /// Sent, and then no answer or a failure that does not say whether it was applied.
    #[error("{0}")]
    Unknown(String),
}

/// An error etcd returned for a put that says the put was not applied. Anything else
/// (unavailable, deadline, cancelled, a transport error, `etcdserver: request timed out`,
/// `leader changed`) does not say, and is "result unknown".
fn refused(e: &etcd_client::Error) -> bool {
    use tonic::Code;
    matches!(e, etcd_client::Error::GRpcStatus(s) if matches!(
        s.code(),
        Code::InvalidArgument
            | Code::PermissionDenied
            | Code::Unauthenticated
            | Code::FailedPrecondition
            | Code::Unimplemented
    ))
}

/// One put into etcd, sent at most once. Used only for the switchover fallback that
/// patronictl also uses. The next endpoint is tried only when this one certainly did not
/// receive the put: it could not be reached at all (connect, and a read on the connection,
/// failed before the put was sent). Once the put is sent its result is final: a reply, a
/// refusal, or (timeout, broken connection) unknown. etcd-client retries nothing here (its
/// token refresh-and-resend is off unless `with_auto_token_refresh`, and explicitly off
/// below) and tonic has no retry layer.
pub async fn put(s: &DcsSettings, key: &str, value: &str) -> Result<String, PutError> {
    let mut errors = Vec::new();
    for ep in &s.endpoints {
        let opts = options(s)
            .await
            .map_err(PutError::NotSent)?
            .with_auto_token_refresh(false);
        // The channel connects lazily: a read proves this endpoint is reachable before the
        // write is handed to it (a timeout here leaves the put unsent).
        let reached = async {
            let mut c = Client::connect([ep.as_str()], Some(opts)).await?;
            c.get(key, Some(GetOptions::new().with_count_only()))
                .await?;
            Ok::<_, etcd_client::Error>(c)
        };
        let mut client = match tokio::time::timeout(CONNECT_TIMEOUT, reached).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                errors.push(format!("{ep}: {}", describe_for(s, &e)));
                continue;
            }
            Err(_) => {
                errors.push(format!("{ep}: no answer within {CONNECT_TIMEOUT:?}"));
                continue;
            }
        };
        return match tokio::time::timeout(CONNECT_TIMEOUT, client.put(key, value, None)).await {
            Ok(Ok(r)) => {
                let rev = r.header().map(|h| h.revision()).unwrap_or(0);
                Ok(format!("written to etcd at {ep} (revision {rev})"))
            }
            Ok(Err(e)) if refused(&e) => {
                Err(PutError::Refused(format!("{ep}: {}", describe_for(s, &e))))
            }
            Ok(Err(e)) => Err(PutError::Unknown(format!("{ep}: {}", describe_for(s, &e)))),
            Err(_) => Err(PutError::Unknown(format!(
                "{ep}: sent, no answer within {CONNECT_TIMEOUT:?}"
            ))),
        };
    }
    Err(PutError::NotSent(errors.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_is_the_next_key_after_the_prefix() {
        assert_eq!(prefix_end(b"/service/demo/"), b"/service/demo0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff"), vec![0]);
    }
}
