//! etcd v3: one prefix `get` for a snapshot, then a `watch` from the snapshot's revision + 1.
//! Push, not polling: the only periodic traffic is gRPC keep-alive, etcd's progress
//! notifications, and a progress request after [`PROBE_AFTER`] of silence (a hung member
//! answers no one: keep-alive alone took ~10 s to notice).
//!
//! Every request says it needs a raft leader (etcd's `hasleader` metadata): a member that
//! has lost quorum then refuses new requests at once and cancels the watch after ~3 election
//! timeouts, instead of serving a watch on which nothing will ever happen again.
//!
//! A watch that broke resumes on the next endpoint from the last revision seen, when that
//! is within [`RESUME_WITHIN`] (every change is delivered, none is missed); after that, or
//! when etcd says the revision was compacted, a fresh snapshot.

use std::time::{Duration, Instant};

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
/// Keys per page of a snapshot; halved down to 1 when a page is over [`PAGE_BYTES`], and
/// doubled back after a page that fits.
const PAGE: i64 = 512;
/// The most one snapshot page may decode to: the snapshot's memory is bounded in bytes,
/// not only in keys (300 junk values of 1 MiB passed through whole before). A single value
/// larger than this is skipped unread: its key is learnt from a keys-only read.
const PAGE_BYTES: usize = 4 * 1024 * 1024;

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
/// How often the watch asks etcd's current revision aside from the stream, and how long
/// that answer may take (it is skipped, not waited for, past that).
const HEAD_EVERY: Duration = Duration::from_millis(500);
const HEAD_TIMEOUT: Duration = Duration::from_millis(500);
/// A watch silent this long is asked for its progress ...
pub const PROBE_AFTER: Duration = Duration::from_secs(2);
/// ... and given up when that gets no answer within this (a SIGSTOPped member, say).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// A broken watch resumes from its last revision when the next endpoint takes it within
/// this; later, a fresh snapshot. (Shorter than the model's REST-only fallback, 5 s, so the
/// state a watch resumes onto is etcd's, never one from `/cluster`.)
const RESUME_WITHIN: Duration = Duration::from_secs(3);

/// Turn an etcd-client error into something an operator can act on. Its gRPC statuses carry
/// no `source()`, so the code is matched here.
pub fn describe(e: &etcd_client::Error) -> String {
    use etcd_client::Error as E;
    match e {
        E::GRpcStatus(s) => {
            let what = match s.code() {
                // etcd's ErrGRPCNoLeader, for `hasleader` requests on a member without quorum
                tonic::Code::Unavailable if s.message().contains("no leader") => {
                    return "etcd has no raft leader (quorum lost?): etcdserver: no leader"
                        .to_string();
                }
                tonic::Code::Unavailable => "etcd unavailable (down, or not listening there)",
                tonic::Code::DeadlineExceeded => "etcd did not answer in time",
                tonic::Code::Unauthenticated => "etcd refused the credentials",
                tonic::Code::PermissionDenied => {
                    "etcd user lacks permission to read the cluster keys"
                }
                // (tonic also says OutOfRange for an answer over the decode limit)
                tonic::Code::OutOfRange if s.message().contains("too large") => {
                    "etcd's answer is over patrol's message limit"
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
        E::TransportError(t) => format!("cannot connect to etcd: {}", crate::text::error_chain(t)),
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

pub(super) async fn tls_options(s: &DcsSettings) -> Result<TlsOptions, String> {
    let mut tls = TlsOptions::new();
    let files = crate::tls::TlsFiles::for_dcs(s);
    let read = |f: &crate::tls::TlsFile| {
        let (p, named) = (f.path.clone(), f.named());
        async move {
            // bounded, on a blocking thread (the path may be slow to read)
            tokio::task::spawn_blocking(move || {
                crate::files::read_bounded(&p, crate::files::MAX_PEM)
            })
            .await
            .map_err(|e| format!("{named}: {e}"))?
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
        .with_keep_alive_while_idle(true)
        // no quorum: refused at once (and a watch cancelled), not served from a member that
        // can no longer see changes
        .with_require_leader(true);
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

/// A snapshot of the prefix at one revision.
pub struct Snapshot {
    pub client: Client,
    pub revision: i64,
    pub kvs: Vec<RawKv>,
    /// `DcsEvent::Skipped` for each value left out (over [`super::MAX_VALUE`]).
    pub skipped: Vec<DcsEvent>,
}

/// Connect to the first endpoint that answers and take a snapshot of `prefix`.
pub async fn snapshot(s: &DcsSettings, endpoint: &str, prefix: &str) -> Result<Snapshot, String> {
    let opts = options(s).await?;
    let client = Client::connect([endpoint], Some(opts))
        .await
        .map_err(|e| describe_for(s, &e))?;
    // pages of at most PAGE keys, all at the revision of the first: one consistent snapshot,
    // never one response of the whole prefix
    let mut kv = client.kv_client().max_decoding_message_size(PAGE_BYTES);
    let end = prefix_end(prefix.as_bytes());
    let mut from = prefix.as_bytes().to_vec();
    let (mut revision, mut limit) = (0i64, PAGE);
    let (mut kvs, mut skipped) = (Vec::new(), Vec::new());
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
            Ok(Err(e)) if too_large(&e) => {
                // one value over the page: learn its key (keys only), skip it, go on
                let o = GetOptions::new()
                    .with_range(end.clone())
                    .with_limit(1)
                    .with_keys_only()
                    .with_revision(revision.max(0));
                let keys = tokio::time::timeout(CONNECT_TIMEOUT, kv.get(from.clone(), Some(o)));
                let resp = match keys.await {
                    Err(_) => {
                        return Err(format!("etcd did not answer within {CONNECT_TIMEOUT:?}"));
                    }
                    Ok(Err(e)) => return Err(describe_for(s, &e)),
                    Ok(Ok(r)) => r,
                };
                if revision == 0 {
                    revision = resp.header().map(|h| h.revision()).unwrap_or(0);
                }
                let Some(big) = resp.kvs().first() else {
                    // (gone meanwhile cannot be: the revision is pinned; say what failed)
                    return Err(describe_for(s, &e));
                };
                skipped.push(DcsEvent::Skipped {
                    key: String::from_utf8_lossy(big.key()).into_owned(),
                    size: None,
                    limit: super::MAX_VALUE,
                });
                from = big.key().to_vec();
                from.push(0);
                continue;
            }
            Ok(Err(e)) => return Err(describe_for(s, &e)),
            Ok(Ok(r)) => r,
        };
        if revision == 0 {
            revision = resp.header().map(|h| h.revision()).unwrap_or(0);
        }
        for k in resp.kvs() {
            if k.value().len() > super::MAX_VALUE {
                // never held: the key and its size are all that is kept
                skipped.push(DcsEvent::Skipped {
                    key: String::from_utf8_lossy(k.key()).into_owned(),
                    size: Some(k.value().len()),
                    limit: super::MAX_VALUE,
                });
            } else {
                kvs.push(raw(k));
            }
        }
        limit = (limit * 2).min(PAGE);
        match resp.kvs().last() {
            Some(last) if resp.more() => {
                from = last.key().to_vec();
                from.push(0);
            }
            _ => break,
        }
    }
    Ok(Snapshot {
        client,
        revision,
        kvs,
        skipped,
    })
}

/// Is this tonic refusing a response over the decode limit?
fn too_large(e: &etcd_client::Error) -> bool {
    // (tonic says OutOfRange, which etcd also uses for a compacted revision: go by the text)
    matches!(e, etcd_client::Error::GRpcStatus(s)
        if s.code() == tonic::Code::ResourceExhausted
            || s.message().contains("message length too large"))
}

/// Stream the state under `prefix` into `tx` until the receiver goes away.
/// `newest` gets etcd's current revision about every [`HEAD_EVERY`], from a task of its
/// own: the runtime reads it even while `tx` is full.
pub async fn run_v3<M: Send + 'static>(
    settings: DcsSettings,
    prefix: String,
    tx: mpsc::Sender<M>,
    wrap: impl Fn(DcsEvent) -> M + Send + 'static,
    newest: tokio::sync::watch::Sender<i64>,
) {
    let n = settings.endpoints.len().max(1);
    let mut current = 0usize; // stick to the endpoint that worked last
    let mut backoff = Duration::from_millis(250);
    // (revision, when the watch broke): where the next watch may resume
    let mut resume: Option<(i64, Instant)> = None;
    loop {
        let mut any_ok = false;
        // a watch that had lived a while broke: the next endpoint at once, no back-off
        let mut at_once = false;
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
            resume = resume.filter(|(_, broke)| broke.elapsed() < RESUME_WITHIN);
            let from = resume.map(|(rev, _)| rev);
            let began = Instant::now();
            match follow(&settings, &endpoint, &prefix, from, &tx, &wrap, &newest).await {
                Follow::ReceiverGone => return,
                Follow::Broken {
                    error,
                    was_live,
                    resume_at,
                } => {
                    any_ok |= was_live;
                    resume = match resume_at {
                        Some(rev) if was_live => Some((rev, Instant::now())),
                        Some(_) => resume,
                        None => None,
                    };
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
                        // a stream that was working broke: the next endpoint first (this
                        // one may hang, or have lost its leader), this one last; a
                        // compaction is no fault of the endpoint: a snapshot from it
                        current = if resume_at.is_some() {
                            (idx + 1) % n
                        } else {
                            idx
                        };
                        // (a stream that breaks as soon as it is up backs off: no spinning)
                        at_once = n > 1 && began.elapsed() >= Duration::from_secs(1);
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
        if !at_once {
            tokio::time::sleep(backoff).await;
        }
    }
}

enum Follow {
    ReceiverGone,
    Broken {
        error: String,
        was_live: bool,
        /// The revision a new watch may start from (its events may come again); None: it
        /// is compacted, take a snapshot.
        resume_at: Option<i64>,
    },
}

/// Follow `prefix` on `endpoint`: from `resume` (a revision whose events the model may
/// have seen already: they are applied again, which changes nothing) or, without one, from
/// a fresh snapshot.
async fn follow<M>(
    s: &DcsSettings,
    endpoint: &str,
    prefix: &str,
    resume: Option<i64>,
    tx: &mpsc::Sender<M>,
    wrap: &impl Fn(DcsEvent) -> M,
    newest: &tokio::sync::watch::Sender<i64>,
) -> Follow {
    let shown = crate::text::redact_url(endpoint);
    let broken = |error: String, was_live: bool, resume_at: Option<i64>| Follow::Broken {
        error,
        was_live,
        resume_at,
    };
    let (client, start) = match resume {
        Some(rev) => {
            let opts = match options(s).await {
                Ok(o) => o,
                Err(e) => return broken(e, false, Some(rev)),
            };
            match Client::connect([endpoint], Some(opts)).await {
                Ok(c) => (c, rev),
                Err(e) => return broken(describe_for(s, &e), false, Some(rev)),
            }
        }
        None => {
            let Snapshot {
                client,
                revision,
                kvs,
                skipped,
            } = match snapshot(s, endpoint, prefix).await {
                Ok(x) => x,
                Err(error) => return broken(error, false, None),
            };
            tracing::info!(endpoint = %shown, revision, keys = kvs.len(), skipped = skipped.len(), "etcd snapshot loaded; the watch starts after it");
            let snap = DcsEvent::Snapshot {
                endpoint: endpoint.to_string(),
                revision,
                kvs,
            };
            if tx.send(wrap(snap)).await.is_err() {
                return Follow::ReceiverGone;
            }
            // etcd's word afresh (a restored etcd may count lower than before)
            newest.send_replace(revision);
            for ev in skipped {
                if tx.send(wrap(ev)).await.is_err() {
                    return Follow::ReceiverGone;
                }
            }
            // etcd's number: i64::MAX must not panic (it then fails as a compacted watch would)
            (client, revision.saturating_add(1))
        }
    };
    // the newest revision whose events have all been delivered (or may be again)
    let mut seen = start.saturating_sub(1).max(resume.unwrap_or(0));
    // fragment: etcd splits a revision with many or large changes into several responses
    let opts = WatchOptions::new()
        .with_prefix()
        .with_start_revision(start)
        .with_progress_notify()
        .with_fragment();
    let mut watch = client.watch_client().max_decoding_message_size(MAX_DECODE);
    // a hung member accepts the connection and never answers: bounded
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, watch.watch(prefix, Some(opts))).await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return broken(describe_for(s, &e), resume.is_none(), Some(seen)),
        Err(_) => {
            return broken(
                format!("etcd at {shown} did not start the watch within {CONNECT_TIMEOUT:?}"),
                resume.is_none(),
                Some(seen),
            );
        }
    };
    let (mut requests, mut stream) = stream.split();
    let mut heard = tokio::time::Instant::now();
    let mut asked: Option<tokio::time::Instant> = None;
    let mut resumed = resume.is_none();
    // etcd's current revision, asked aside from the stream by a task of its own: a backlog
    // in the stream (responses that each look current) or in the queue is seen from outside
    let _side = AbortOnDrop(tokio::spawn(ask_newest(
        client.kv_client(),
        prefix.to_string(),
        newest.clone(),
    )));
    let mut head_check = tokio::time::interval(HEAD_EVERY);
    head_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // the last revision reported applied
    let mut applied = seen;
    loop {
        let wake = match asked {
            Some(t) => t + PROBE_TIMEOUT,
            None => heard + PROBE_AFTER,
        };
        let msg = tokio::select! {
            m = stream.message() => m,
            _ = tokio::time::sleep_until(wake) => {
                if asked.is_some() {
                    return broken(
                        format!("etcd at {shown} stopped answering (no progress reply within {PROBE_TIMEOUT:?})"),
                        resumed,
                        Some(seen),
                    );
                }
                if let Err(e) = requests.request_progress().await {
                    return broken(describe_for(s, &e), resumed, Some(seen));
                }
                asked = Some(tokio::time::Instant::now());
                if tx.send(wrap(DcsEvent::Probing)).await.is_err() {
                    return Follow::ReceiverGone;
                }
                continue;
            }
            _ = head_check.tick() => {
                // etcd is past what was applied: a progress answer comes once the watch has
                // delivered everything up to etcd's revision, and closes the gap at once
                // when only keys outside the prefix moved it
                if *newest.borrow() > applied
                    && let Err(e) = requests.request_progress().await
                {
                    return broken(describe_for(s, &e), resumed, Some(seen));
                }
                continue;
            }
        };
        heard = tokio::time::Instant::now();
        asked = None;
        let resp = match msg {
            Ok(Some(resp)) => resp,
            Ok(None) => return broken("etcd closed the watch stream".into(), resumed, Some(seen)),
            // resuming would get the same event again, for ever: a snapshot skips it
            Err(e) if too_large(&e) => {
                let error = format!(
                    "{}; taking a new snapshot (it skips values that large)",
                    describe_for(s, &e)
                );
                return broken(error, true, None);
            }
            Err(e) => return broken(describe_for(s, &e), resumed, Some(seen)),
        };
        if resp.canceled() {
            if resp.compact_revision() > 0 {
                let error = format!(
                    "watch cancelled: revision {} compacted; taking a new snapshot",
                    resp.compact_revision()
                );
                return broken(error, true, None);
            }
            let why = resp.cancel_reason();
            let error = if why.contains("no leader") {
                "etcd has no raft leader (quorum lost?): watch cancelled".to_string()
            } else {
                format!("watch cancelled by etcd: {why}")
            };
            return broken(error, resumed, Some(seen));
        }
        if !resumed && resp.created() {
            resumed = true;
            tracing::info!(endpoint = %shown, from = start, "etcd watch resumed");
            let ev = DcsEvent::Resumed {
                endpoint: endpoint.to_string(),
                revision: seen,
            };
            if tx.send(wrap(ev)).await.is_err() {
                return Follow::ReceiverGone;
            }
        }
        let head = resp.header().map(|h| h.revision());
        // etcd's newest revision first: while these events (and any queued behind them) are
        // applied, the model knows how far behind it is (a catching-up watch's header is
        // etcd's current revision, ahead of its events)
        if let Some(revision) = head
            && (resp.created() || !resp.events().is_empty())
            && tx.send(wrap(DcsEvent::Head { revision })).await.is_err()
        {
            return Follow::ReceiverGone;
        }
        for ev in resp.events() {
            let Some(kv) = ev.kv() else { continue };
            // (a fragment may end inside a revision: resuming from it delivers it again)
            seen = seen.max(kv.mod_revision());
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
        // the revision the model is now at (shown in the cluster pane): after events, the
        // newest of theirs (etcd-client does not say whether the response was a fragment:
        // the rest of that revision follows at once, nothing is waited for); after a progress
        // notification or a probe's answer, the header's (etcd sends those only to a watch
        // that has caught up). The creation answer's header is only a head: the events
        // from the start revision may still be coming. Also: the watch is alive.
        let done = if !resp.events().is_empty() {
            Some(seen)
        } else if resp.created() {
            None
        } else {
            head
        };
        let progress = done.unwrap_or(seen);
        applied = applied.max(progress);
        if tx
            .send(wrap(DcsEvent::Progress { revision: progress }))
            .await
            .is_err()
        {
            return Follow::ReceiverGone;
        }
    }
}

/// Aborts the task when dropped: the side task ends with the watch it serves.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Ask etcd's current revision every [`HEAD_EVERY`] (a count of one key: cheap; a hung
/// endpoint is the watch's probe to find, an answer later than [`HEAD_TIMEOUT`] is skipped).
async fn ask_newest(
    mut kv: etcd_client::KvClient,
    prefix: String,
    newest: tokio::sync::watch::Sender<i64>,
) {
    let mut t = tokio::time::interval(HEAD_EVERY);
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        t.tick().await;
        let o = GetOptions::new().with_count_only();
        if let Ok(Ok(resp)) =
            tokio::time::timeout(HEAD_TIMEOUT, kv.get(prefix.as_str(), Some(o))).await
            && let Some(r) = resp.header().map(|h| h.revision())
        {
            newest.send_if_modified(|v| {
                let newer = r > *v;
                *v = (*v).max(r);
                newer
            });
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
