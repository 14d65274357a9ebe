use std::time::Duration;

use crate::config::RestSettings;

use super::PatroniStatus;

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
    #[error("HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("{0}")]
    Body(String),
}

/// One HTTP client shared by every member poller (connection reuse, one TLS setup).
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    timeout: Duration,
    /// Basic auth for writes (`ctl.authentication`, else `restapi.authentication`).
    auth: Option<(String, crate::config::Secret)>,
}

fn read_pem(path: &std::path::Path, what: &str) -> Result<Vec<u8>, RestError> {
    std::fs::read(path).map_err(|e| RestError::Setup(format!("{what} {}: {e}", path.display())))
}

impl RestClient {
    pub fn new(settings: &RestSettings, timeout: Duration) -> Result<RestClient, RestError> {
        crate::install_crypto_provider();
        let mut b = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("patrol/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(2)
            .no_proxy();
        if let Some(ca) = &settings.cacert {
            let pem = read_pem(ca, "CA certificate")?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| RestError::Setup(format!("{e:#}")))?;
            b = b.add_root_certificate(cert);
        }
        if let Some(cert) = &settings.cert {
            let mut pem = read_pem(cert, "client certificate")?;
            if let Some(key) = &settings.key {
                pem.extend_from_slice(b"\n");
                pem.extend(read_pem(key, "client key")?);
            }
            let id = reqwest::Identity::from_pem(&pem)
                .map_err(|e| RestError::Setup(format!("{e:#}")))?;
            b = b.identity(id);
        }
        if settings.insecure {
            b = b.danger_accept_invalid_certs(true);
        }
        let http = b.build().map_err(|e| RestError::Setup(format!("{e:#}")))?;
        let auth = match (&settings.username, &settings.password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            _ => None,
        };
        Ok(RestClient {
            http,
            timeout,
            auth,
        })
    }

    /// `GET {api_url}` (the member's `api_url` already ends in `/patroni`).
    pub async fn status(&self, api_url: &str) -> Result<PatroniStatus, RestError> {
        let resp = self
            .http
            .get(api_url)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| self.classify(e))?;
        // A replica that is not running answers 503 with the same JSON body: still useful.
        if !status.is_success() && !status.is_server_error() {
            return Err(RestError::Status {
                status: status.as_u16(),
                body: crate::text::sanitize(&String::from_utf8_lossy(&body[..body.len().min(200)])),
            });
        }
        PatroniStatus::parse(&body).map_err(RestError::Body)
    }

    /// Send one write, once. Never retried: a timeout is "result unknown", not "failed".
    pub async fn send(&self, req: &crate::app::ops::Request) -> crate::app::ops::Reply {
        use crate::app::ops::{Method, Reply};
        let url = format!("{}{}", req.base, req.path);
        let mut b = match req.method {
            Method::Post => self.http.post(&url),
            Method::Patch => self.http.patch(&url),
            Method::Delete => self.http.delete(&url),
            Method::EtcdPut => {
                return Reply::NotSent("an etcd write is not an HTTP request".into());
            }
        };
        if let Some((u, p)) = &self.auth {
            b = b.basic_auth(u, Some(p.expose()));
        }
        if let Some(body) = &req.body {
            b = b.json(body);
        }
        // Patroni answers a switchover or restart only when it is over: wait for that, not
        // for the short timeout of the status polls.
        b = b.timeout(WRITE_TIMEOUT);
        tracing::info!(method = req.method.as_str(), %url, body = ?req.body, "sending");
        let resp = match b.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => return Reply::NotSent(self.classify(e).to_string()),
            Err(e) => return Reply::Unknown(self.classify(e).to_string()),
        };
        let code = resp.status().as_u16();
        match resp.bytes().await {
            Ok(body) => {
                let text = String::from_utf8_lossy(&body[..body.len().min(4000)]).into_owned();
                tracing::info!(%url, code, body = %text, "reply");
                Reply::Status { code, body: text }
            }
            Err(e) => Reply::Unknown(format!("HTTP {code}, body lost: {}", self.classify(e))),
        }
    }

    fn classify(&self, e: reqwest::Error) -> RestError {
        if e.is_timeout() {
            RestError::Timeout(self.timeout)
        } else {
            // keep the whole cause chain ("connection refused" and so on)
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                let t = s.to_string();
                if !msg.contains(&t) {
                    msg.push_str(": ");
                    msg.push_str(&t);
                }
                src = s.source();
            }
            RestError::Connect(msg)
        }
    }
}
