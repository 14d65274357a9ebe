//! The routing view's sources: one task per configured HAProxy reading its stats CSV (the
//! stats page's `;csv`, or `show stat` on the runtime API socket), and one task per member
//! asking its health endpoints while the view is open. Each round is bounded by the
//! timeout; a failure is reported and asked again at the next interval (never sooner).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

use crate::app::Msg;
use crate::haproxy::{Endpoint, HaproxySpec, MAX_CSV};
use crate::patroni::RestClient;

/// HAProxy is read at most this often, whatever the REST interval.
const MIN_EVERY: Duration = Duration::from_secs(1);

/// The HTTP client for stats pages: no redirect followed, nothing retried, no proxy.
pub fn stats_client(timeout: Duration) -> Result<reqwest::Client, String> {
    crate::install_crypto_provider();
    let b = crate::patroni::safe_builder(timeout);
    let b = crate::tls::reqwest_tls(b, &Default::default(), false)?;
    b.build().map_err(|e| crate::text::error_chain(&e))
}

/// One read of the stats, parsed.
pub async fn fetch(
    http: &reqwest::Client,
    spec: &HaproxySpec,
    timeout: Duration,
) -> Result<crate::haproxy::Stats, String> {
    // a stats page's URL may carry `user:password@`: never in a message
    fetch_raw(http, spec, timeout)
        .await
        .map_err(|e| crate::text::redact_url(&e))
}

async fn fetch_raw(
    http: &reqwest::Client,
    spec: &HaproxySpec,
    timeout: Duration,
) -> Result<crate::haproxy::Stats, String> {
    let bytes = match &spec.endpoint {
        Endpoint::Url(u) => {
            let url = format!("{};csv", u.trim_end_matches(';'));
            let mut resp = http
                .get(&url)
                .send()
                .await
                .map_err(|e| crate::text::error_chain(&e))?;
            if !resp.status().is_success() {
                return Err(format!("HTTP {} from {url}", resp.status().as_u16()));
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
                if body.len() + chunk.len() > MAX_CSV {
                    return Err(format!("{url}: answer over {MAX_CSV} bytes, not read"));
                }
                body.extend_from_slice(&chunk);
            }
            body
        }
        Endpoint::Socket(path) => tokio::time::timeout(timeout, show_stat(path))
            .await
            .map_err(|_| format!("{}: no answer within {timeout:?}", path.display()))?
            .map_err(|e| format!("{}: {e}", path.display()))?,
    };
    crate::haproxy::parse_csv(&bytes).map_err(|e| e.to_string())
}

/// `show stat` on the runtime API: it answers and closes the connection.
async fn show_stat(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let mut s = tokio::net::UnixStream::connect(path).await?;
    s.write_all(b"show stat\n").await?;
    let mut out = Vec::new();
    let mut limited = (&mut s).take(MAX_CSV as u64 + 1);
    limited.read_to_end(&mut out).await?;
    if out.len() > MAX_CSV {
        return Err(std::io::Error::other(format!(
            "answer over {MAX_CSV} bytes, not read"
        )));
    }
    Ok(out)
}

/// Read HAProxy number `index` every `interval` (at least [`MIN_EVERY`]) until aborted.
pub fn spawn_stats(
    index: usize,
    spec: HaproxySpec,
    http: reqwest::Client,
    interval: Duration,
    timeout: Duration,
    tx: Sender<Msg>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = interval.max(MIN_EVERY);
        loop {
            let started = tokio::time::Instant::now();
            let result = fetch(&http, &spec, timeout).await.map(Box::new);
            if let Err(e) = &result {
                tracing::debug!(haproxy = %spec.name, error = %e, "HAProxy stats");
            }
            let msg = Msg::Haproxy {
                source: index,
                at: Instant::now(),
                result,
            };
            if tx.send(msg).await.is_err() {
                return;
            }
            tokio::time::sleep_until(started + every).await;
        }
    })
}

/// Ask one member's health endpoints every `interval` (GET only), one round at a time.
pub fn spawn_health(
    client: RestClient,
    member: String,
    api_url: String,
    lag: u64,
    interval: Duration,
    tx: Sender<Msg>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let paths = crate::app::routing::health_paths(lag);
        loop {
            let started = tokio::time::Instant::now();
            let mut answers = Vec::with_capacity(paths.len());
            for (label, path) in &paths {
                let r = client
                    .health(&api_url, path)
                    .await
                    .map_err(|e| e.to_string());
                answers.push((label.to_string(), r));
            }
            let msg = Msg::Health {
                member: member.clone(),
                at: Instant::now(),
                answers,
            };
            if tx.send(msg).await.is_err() {
                return;
            }
            tokio::time::sleep_until(started + interval.max(MIN_EVERY)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};

    /// A stats page stand-in answering every request with `status` and `body`.
    fn page(status: &'static str, body: &'static str) -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for mut c in l.incoming().flatten() {
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                let _ = write!(
                    c,
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        port
    }

    #[tokio::test]
    async fn a_failure_names_the_page_without_its_password() {
        let port = page("500 Internal Server Error", "no");
        let spec =
            HaproxySpec::parse(&format!("http://admin:s3cret@127.0.0.1:{port}/")).expect("spec");
        let http = stats_client(Duration::from_secs(2)).expect("client");
        let e = fetch(&http, &spec, Duration::from_secs(2))
            .await
            .expect_err("500");
        assert!(e.starts_with("HTTP 500 from http://***@127.0.0.1:"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
    }

    #[tokio::test]
    async fn the_page_and_the_socket_give_the_same_stats() {
        const CSV: &str = "# pxname,svname,status\nrw,pg1,UP\nrw,pg2,DOWN\n";
        let port = page("200 OK", CSV);
        let http = stats_client(Duration::from_secs(2)).expect("client");
        let spec = HaproxySpec::parse(&format!("http://127.0.0.1:{port}/")).expect("spec");
        let by_page = fetch(&http, &spec, Duration::from_secs(2))
            .await
            .expect("page");
        // the runtime API: reads `show stat`, answers and closes
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("haproxy.sock");
        let l = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let asked = std::thread::spawn(move || {
            let (mut c, _) = l.accept().expect("accept");
            let mut buf = [0u8; 64];
            let n = c.read(&mut buf).expect("read");
            c.write_all(CSV.as_bytes()).expect("write");
            String::from_utf8_lossy(&buf[..n]).to_string()
        });
        let spec = HaproxySpec::new(Endpoint::Socket(path));
        let by_socket = fetch(&http, &spec, Duration::from_secs(2))
            .await
            .expect("socket");
        assert_eq!(asked.join().expect("server"), "show stat\n");
        assert_eq!(by_page, by_socket);
        assert_eq!(by_page.proxies[0].servers.len(), 2);
    }
}
