use std::time::Duration;

use crate::config::RestSettings;

use super::PatroniStatus;
use crate::write::{Method, Reply, RestRequest};

/// How long a write may take before its result counts as unknown.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Connect(String),
    /// A handshake that failed, in words, with the file to look at.
    #[error("{0}")]
    Tls(String),
    #[error("HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("{0}")]
    Body(String),
    /// The member's `api_url` gives no base to ask (not http(s), no valid host or port).
    #[error("api_url refused: {0}")]
    Url(crate::write::ApiUrlError),
}

/// A REST body larger than this is not read: a member's `/patroni` is a few KiB.
pub const MAX_BODY: usize = 1024 * 1024;

/// Read a response body chunk by chunk, stopping with an error naming `what` as soon as it
/// passes `max` bytes (never the whole body first).
async fn read_capped(
    resp: &mut reqwest::Response,
    max: usize,
    what: &str,
) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Http)? {
        if body.len() + chunk.len() > max {
            return Err(ReadError::TooLarge(format!(
                "{} answered with a body over {max} bytes: not read",
                crate::text::sanitize(&crate::text::redact_url(what))
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

enum ReadError {
    Http(reqwest::Error),
    TooLarge(String),
}

/// One HTTP client shared by every member poller (connection reuse, one TLS setup).
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    /// Writes only: no connection pool, so hyper never resends a request on a stale reused
    /// connection; see `builder`.
    writes: reqwest::Client,
    timeout: Duration,
    /// How long a write waits for its answer ([`WRITE_TIMEOUT`]; tests shorten it).
    write_timeout: Duration,
    /// Basic auth for writes (`ctl.authentication`, else `restapi.authentication`).
    auth: Option<(String, crate::config::Secret)>,
    /// The certificate files and the keys that named them, to say which one a failed
    /// handshake points at.
    tls: crate::tls::TlsFiles,
}

/// Sent once means once: follow no redirect (reqwest's default re-sends a POST on 307/308,
/// Authorization header included, to wherever `Location` points; a poll is not steered to
/// another host either: the 3xx is the answer) and retry nothing (reqwest 0.13's default
/// policy resends on HTTP/2 GOAWAY and REFUSED_STREAM).
/// Every HTTP client patrol builds starts here (the REST API's, HAProxy's stats pages').
pub fn safe_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("patrol/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .no_proxy()
}

fn builder(
    settings: &RestSettings,
    timeout: Duration,
) -> Result<reqwest::ClientBuilder, RestError> {
    let b = safe_builder(timeout);
    crate::tls::reqwest_tls(
        b,
        &crate::tls::TlsFiles::for_rest(settings),
        settings.insecure,
    )
    .map_err(RestError::Setup)
}

impl RestClient {
    pub fn new(settings: &RestSettings, timeout: Duration) -> Result<RestClient, RestError> {
        crate::install_crypto_provider();
        let setup = |e: reqwest::Error| RestError::Setup(crate::text::error_chain(&e));
        let http = builder(settings, timeout)?
            .pool_max_idle_per_host(2)
            .build()
            .map_err(setup)?;
        // hyper's client resends a request that failed on a reused idle connection before it
        // was written ("retry_canceled_requests", not configurable through reqwest): with
        // no idle connections kept, a write always goes out on a fresh one
        // (and HTTP/1 only: Patroni's API speaks nothing else, and no h2 stream is reused)
        let writes = builder(settings, timeout)?
            .pool_max_idle_per_host(0)
            .http1_only()
            .build()
            .map_err(setup)?;
        let auth = match (&settings.username, &settings.password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            _ => None,
        };
        Ok(RestClient {
            http,
            writes,
            timeout,
            write_timeout: WRITE_TIMEOUT,
            auth,
            tls: crate::tls::TlsFiles::for_rest(settings),
        })
    }

    /// How long one read may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Writes wait this long for their answer instead of [`WRITE_TIMEOUT`].
    pub fn with_write_timeout(mut self, d: Duration) -> RestClient {
        self.write_timeout = d;
        self
    }

    /// `GET {base}/patroni`, the base being scheme, host and port of the member's `api_url`
    /// (whatever else it carries is not followed: see `write::ApiBase`).
    pub async fn status(&self, api_url: &str) -> Result<PatroniStatus, RestError> {
        let url = format!(
            "{}/patroni",
            crate::write::ApiBase::parse(api_url)
                .map_err(RestError::Url)?
                .base
        );
        let api_url = url.as_str();
        let resp = self
            .http
            .get(api_url)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let mut resp = resp;
        let status = resp.status();
        let body = match read_capped(&mut resp, MAX_BODY, api_url).await {
            Ok(b) => b,
            Err(ReadError::Http(e)) => return Err(self.classify(e)),
            Err(ReadError::TooLarge(m)) => return Err(RestError::Body(m)),
        };
        // A replica that is not running answers 503 with the same JSON body: still useful.
        if !status.is_success() && !status.is_server_error() {
            return Err(RestError::Status {
                status: status.as_u16(),
                body: crate::text::sanitize(&String::from_utf8_lossy(&body[..body.len().min(200)])),
            });
        }
        PatroniStatus::parse(&body).map_err(RestError::Body)
    }

    /// `GET {base}{path}` of a health endpoint (`/primary`, `/replica?lag=N` ...): only the
    /// status code matters, as to a load balancer; the body is read up to [`MAX_BODY`] and
    /// dropped. No redirect is followed (a 3xx is the answer).
    pub async fn health(&self, api_url: &str, path: &str) -> Result<u16, RestError> {
        let base = crate::write::ApiBase::parse(api_url)
            .map_err(RestError::Url)?
            .base;
        let url = format!("{base}{path}");
        let mut resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let status = resp.status().as_u16();
        match read_capped(&mut resp, MAX_BODY, &url).await {
            Ok(_) => Ok(status),
            Err(ReadError::Http(e)) => Err(self.classify(e)),
            Err(ReadError::TooLarge(m)) => Err(RestError::Body(m)),
        }
    }

    /// `GET {url}`: the body of a 2xx answer, read up to [`MAX_BODY`].
    async fn get_body(&self, url: &str) -> Result<Vec<u8>, RestError> {
        let mut resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let status = resp.status();
        let body = match read_capped(&mut resp, MAX_BODY, url).await {
            Ok(b) => b,
            Err(ReadError::Http(e)) => return Err(self.classify(e)),
            Err(ReadError::TooLarge(m)) => return Err(RestError::Body(m)),
        };
        if !status.is_success() {
            return Err(RestError::Status {
                status: status.as_u16(),
                body: crate::text::sanitize(&String::from_utf8_lossy(&body[..body.len().min(200)])),
            });
        }
        Ok(body)
    }

    /// The member's view of the whole cluster (`/cluster`, `/config`, `/history` of the API
    /// whose status URL is `api_url`), as the DCS keys it stands for (REST-only mode).
    /// `/config` and `/history` are optional: a member that refuses them still gives the
    /// membership.
    pub async fn cluster(&self, api_url: &str) -> Result<super::cluster::ClusterKeys, RestError> {
        let base = crate::write::ApiBase::parse(api_url)
            .map_err(RestError::Url)?
            .base;
        let cluster = self.get_body(&format!("{base}/cluster")).await?;
        let config = self.get_body(&format!("{base}/config")).await.ok();
        let history = self.get_body(&format!("{base}/history")).await.ok();
        super::cluster::to_keys(&cluster, config.as_deref(), history.as_deref())
            .map_err(RestError::Body)
    }

    /// Send one write, once. Never retried: a timeout is "result unknown", not "failed".
    pub async fn send(&self, req: &RestRequest, body: Option<&serde_json::Value>) -> Reply {
        // only scheme, host and port from api_url (the plan refused anything else already)
        let url = match req.url() {
            Ok(u) => u,
            Err(e) => return Reply::NotSent(format!("the member's api_url is refused: {e}")),
        };
        let mut b = match req.method {
            Method::Post => self.writes.post(&url),
            Method::Patch => self.writes.patch(&url),
            Method::Delete => self.writes.delete(&url),
        };
        if let Some((u, p)) = &self.auth {
            b = b.basic_auth(u, Some(p.expose()));
        }
        if let Some(body) = body {
            b = b.json(body);
        }
        // Patroni answers a switchover or restart only when it is over: wait for that, not
        // for the short timeout of the status polls.
        // (The connection itself is bounded by the short timeout: nothing is sent before.)
        b = b.timeout(self.write_timeout);
        // the URL comes from etcd: logged without credentials or control characters
        let shown = crate::text::redact_url(&url);
        tracing::info!(method = req.method.as_str(), url = %shown, body = ?body, "sending");
        // what a timeout says is the time waited, measured, not a configured number
        let started = std::time::Instant::now();
        let resp = match b.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                return Reply::NotSent(self.describe_write(e, started.elapsed()));
            }
            Err(e) => return Reply::Unknown(self.describe_write(e, started.elapsed())),
        };
        let mut resp = resp;
        let code = resp.status().as_u16();
        // a redirect is the answer, not followed: say where it pointed
        let redirect = resp
            .status()
            .is_redirection()
            .then(|| resp.headers().get(reqwest::header::LOCATION))
            .flatten()
            .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
        match read_capped(&mut resp, MAX_BODY, &url).await {
            // the status is known; only the body is not kept
            Err(ReadError::TooLarge(m)) => Reply::Status { code, body: m },
            Err(ReadError::Http(e)) => Reply::Unknown(format!(
                "HTTP {code}, body lost: {}",
                self.describe_write(e, started.elapsed())
            )),
            Ok(body) => {
                let mut text = String::from_utf8_lossy(&body[..body.len().min(4000)]).into_owned();
                if let Some(l) = redirect {
                    text = format!("{} (redirect to {l}, not followed)", text.trim());
                }
                let body = crate::text::sanitize(&text);
                tracing::info!(url = %shown, code, %body, "reply");
                Reply::Status { code, body: text }
            }
        }
    }

    /// A write's error in words; a timeout names the time actually waited (`waited`,
    /// measured around the request), not the polls' timeout.
    fn describe_write(&self, e: reqwest::Error, waited: Duration) -> String {
        let secs = |d: Duration| format!("{:.1}s", d.as_secs_f64());
        match (e.is_timeout(), e.is_connect()) {
            (true, true) => format!("could not connect within {}", secs(waited)),
            (true, false) => format!(
                "no answer after {} (a write waits at most {})",
                secs(waited),
                secs(self.write_timeout)
            ),
            _ => self.classify(e).to_string(),
        }
    }

    fn classify(&self, e: reqwest::Error) -> RestError {
        if e.is_timeout() {
            RestError::Timeout(self.timeout)
        } else if let Some(why) = crate::tls::explain(&e, &self.tls) {
            RestError::Tls(why)
        } else {
            // keep the whole cause chain ("connection refused" and so on)
            let msg = crate::text::error_chain(&e);
            RestError::Connect(msg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A member's API stand-in: reads one request, waits `delay`, then answers 200 (or,
    /// with None, holds the connection open without a word for 10 s).
    fn api(delay: Option<Duration>) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            if let Some(Ok(mut c)) = l.incoming().next() {
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                match delay {
                    Some(d) => {
                        std::thread::sleep(d);
                        let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                    }
                    None => std::thread::sleep(Duration::from_secs(10)),
                }
            }
        });
        port
    }

    fn request(port: u16) -> RestRequest {
        RestRequest {
            base: format!("http://127.0.0.1:{port}"),
            method: Method::Post,
            path: "/switchover".into(),
        }
    }

    /// The polls' timeout (200 ms here) does not cut a write short: a write waits for
    /// Patroni, which answers a switchover only when it is over.
    #[tokio::test]
    async fn a_write_outlasts_the_poll_timeout() {
        let port = api(Some(Duration::from_millis(800)));
        let c = RestClient::new(&RestSettings::default(), Duration::from_millis(200))
            .expect("client")
            .with_write_timeout(Duration::from_secs(5));
        let reply = c.send(&request(port), None).await;
        assert!(
            matches!(&reply, Reply::Status { code: 200, body } if body == "ok"),
            "{reply:?}"
        );
    }

    /// A write that timed out says how long it waited, measured: not the polls' timeout.
    #[tokio::test]
    async fn a_timed_out_write_names_the_time_it_waited() {
        let port = api(None);
        let c = RestClient::new(&RestSettings::default(), Duration::from_millis(200))
            .expect("client")
            .with_write_timeout(Duration::from_millis(1500));
        let started = std::time::Instant::now();
        let reply = c.send(&request(port), None).await;
        let waited = started.elapsed().as_secs_f64();
        let Reply::Unknown(m) = &reply else {
            panic!("a timeout is unknown: {reply:?}");
        };
        let said: f64 = m
            .strip_prefix("no answer after ")
            .and_then(|r| r.split('s').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{m}"));
        // the number is what was waited: at least the write timeout, at most the time the
        // test itself measured around the call
        assert!(
            said >= 1.5 && said <= waited + 0.05,
            "{m} (waited {waited:.2}s)"
        );
        assert!(m.ends_with("(a write waits at most 1.5s)"), "{m}");
        assert!(!m.contains("200ms") && !m.contains("0.2s"), "{m}");
    }
}
