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
fn builder(
    settings: &RestSettings,
    timeout: Duration,
) -> Result<reqwest::ClientBuilder, RestError> {
    let b = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("patrol/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .no_proxy();
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
            auth,
            tls: crate::tls::TlsFiles::for_rest(settings),
        })
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
        b = b.timeout(WRITE_TIMEOUT);
        // the URL comes from etcd: logged without credentials or control characters
        let shown = crate::text::redact_url(&url);
        tracing::info!(method = req.method.as_str(), url = %shown, body = ?body, "sending");
        let resp = match b.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => return Reply::NotSent(self.classify(e).to_string()),
            Err(e) => return Reply::Unknown(self.classify(e).to_string()),
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
            Err(ReadError::Http(e)) => {
                Reply::Unknown(format!("HTTP {code}, body lost: {}", self.classify(e)))
            }
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
