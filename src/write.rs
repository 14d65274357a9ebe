//! A write to the cluster, exactly as it will leave the process: a request to one member's
//! Patroni REST API, or a put into etcd (the switchover fallback). Built by the operations
//! in `app::ops`, carried out once by the runtime, read by the audit log; the replies come
//! back as [`Reply`]. Neither the REST client nor etcd's is imported by `app`.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// An HTTP request to a member's Patroni REST API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestRequest {
    /// `http://host:port` (the member's `api_url` without `/patroni`).
    pub base: String,
    pub method: Method,
    /// The URL path.
    pub path: String,
}

impl RestRequest {
    /// The URL to send to, only when the base is exactly what [`write_base`] makes of it
    /// (a request built any other way is refused by the client, not sent).
    pub fn url(&self) -> Result<String, ApiUrlError> {
        match write_base(&self.base)? {
            b if b == self.base => Ok(format!("{b}{}", self.path)),
            _ => Err(ApiUrlError::Path),
        }
    }
}

/// Why a member's `api_url` cannot give the base of a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiUrlError {
    #[error("its scheme is not http or https")]
    Scheme,
    #[error("its host is not a host name or address: {0}")]
    Host(crate::logs::WordError),
    #[error("its port is not a number from 1 to 65535")]
    Port,
    #[error("it carries a user name or password (patrol uses the configured REST credentials)")]
    Userinfo,
    #[error("its path is not /patroni")]
    Path,
    #[error("it has a query ('?')")]
    Query,
    #[error("it has a fragment ('#')")]
    Fragment,
}

/// The base of every request to a member's REST API: `scheme://host[:port]` from its
/// `api_url`, the host checked with the grammar of log followers (`SafeHost`), nothing
/// else kept. `extra` is the first thing `api_url` carried besides (and besides `/patroni`):
/// polls (GET) go to `{base}/patroni` all the same, writes are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBase {
    pub base: String,
    pub extra: Option<ApiUrlError>,
}

impl ApiBase {
    /// Err when there is no base at all (a scheme other than http(s), a bad host or port).
    pub fn parse(api_url: &str) -> Result<ApiBase, ApiUrlError> {
        let (scheme, rest) = api_url.split_once("://").ok_or(ApiUrlError::Scheme)?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(ApiUrlError::Scheme);
        }
        let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((_, h)) => (true, h),
            None => (false, authority),
        };
        let (host, port) = match hostport.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((_, p)) => (&hostport[..hostport.len() - p.len()], p),
                None => return Err(ApiUrlError::Host(crate::logs::WordError::Host)),
            },
            None => match hostport.rsplit_once(':') {
                Some((h, _)) => (h, &hostport[h.len()..]),
                None => (hostport, ""),
            },
        };
        let port = match port {
            "" => None,
            p => {
                let digits = p.strip_prefix(':').ok_or(ApiUrlError::Port)?;
                if digits.is_empty()
                    || digits.len() > 5
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(ApiUrlError::Port);
                }
                match digits.parse::<u16>() {
                    Ok(n) if n > 0 => Some(n),
                    _ => return Err(ApiUrlError::Port),
                }
            }
        };
        let host = crate::logs::SafeHost::parse(host).map_err(ApiUrlError::Host)?;
        let host = match host.as_str() {
            h if h.contains(':') => format!("[{h}]"),
            h => h.to_string(),
        };
        let base = match port {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        };
        let (rest, fragment) = match tail.split_once('#') {
            Some((r, _)) => (r, true),
            None => (tail, false),
        };
        let (path, query) = match rest.split_once('?') {
            Some((p, _)) => (p, true),
            None => (rest, false),
        };
        let extra = if userinfo {
            Some(ApiUrlError::Userinfo)
        } else if !matches!(path, "" | "/" | "/patroni" | "/patroni/") {
            Some(ApiUrlError::Path)
        } else if query {
            Some(ApiUrlError::Query)
        } else if fragment {
            Some(ApiUrlError::Fragment)
        } else {
            None
        };
        Ok(ApiBase { base, extra })
    }
}

/// The base of a write to the member whose `api_url` this is: only when `api_url` is
/// `scheme://host[:port]` with at most `/patroni` after it; anything else refuses the
/// member's writes, with the reason.
pub fn write_base(api_url: &str) -> Result<String, ApiUrlError> {
    let b = ApiBase::parse(api_url)?;
    match b.extra {
        Some(e) => Err(e),
        None => Ok(b.base),
    }
}

/// Where a write goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Rest(RestRequest),
    /// A put of the body into this etcd key.
    EtcdPut {
        key: String,
    },
}

/// One write, exactly as it will be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The member whose API receives it (for an etcd put: who is expected to act on it).
    pub member: String,
    pub target: Target,
    pub body: Option<Value>,
}

impl Request {
    pub fn new(
        member: &str,
        api_url: &str,
        method: Method,
        path: &'static str,
        body: Option<Value>,
    ) -> Request {
        // scheme, host and port only, whatever else api_url carries (a path, a query, a
        // fragment, userinfo): the plan refuses such a member's writes (`api_base`), and an
        // api_url without a valid host leaves an empty base, which the client refuses
        let base = ApiBase::parse(api_url).map(|b| b.base).unwrap_or_default();
        Request {
            member: member.to_string(),
            target: Target::Rest(RestRequest {
                base,
                method,
                path: path.to_string(),
            }),
            body,
        }
    }

    /// A put into etcd (`member` is who is expected to act on it).
    pub fn etcd_put(member: &str, key: String, value: Value) -> Request {
        Request {
            member: member.to_string(),
            target: Target::EtcdPut { key },
            body: Some(value),
        }
    }

    /// `POST`, `etcd PUT`.
    pub fn method_label(&self) -> &'static str {
        match &self.target {
            Target::Rest(r) => r.method.as_str(),
            Target::EtcdPut { .. } => "etcd PUT",
        }
    }

    /// The URL path, or the etcd key.
    pub fn path(&self) -> &str {
        match &self.target {
            Target::Rest(r) => &r.path,
            Target::EtcdPut { key } => key,
        }
    }

    /// The whole URL, or the etcd key (may carry userinfo from etcd: redact before showing).
    pub fn url(&self) -> String {
        match &self.target {
            Target::Rest(r) => format!("{}{}", r.base, r.path),
            Target::EtcdPut { key } => key.clone(),
        }
    }

    /// `POST http://127.0.0.1:8008/switchover {"leader": ...}`: what the dialog shows.
    pub fn display(&self) -> String {
        let body = self
            .body
            .as_ref()
            .map(|b| format!(" {b}"))
            .unwrap_or_default();
        // the base is a member's api_url from etcd: shown without credentials
        let to = match &self.target {
            Target::Rest(r) => format!("{}{}", crate::text::redact_url(&r.base), r.path),
            Target::EtcdPut { key } => key.clone(),
        };
        format!("{} {to}{body}", self.method_label())
    }
}

/// What came back. `NotSent` is certain (connection refused before any byte left, or the
/// audit intent could not be written); `Failed` is a definitive refusal that is not an HTTP
/// status (etcd said no); `Unknown` is not certain (timeout, reset, a 503 without Patroni's
/// answer): the operation may or may not have happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Status { code: u16, body: String },
    NotSent(String),
    Failed(String),
    Unknown(String),
}

/// Patroni's own 503 texts that say the operation did not happen or failed (patroni/api.py:
/// `do_POST_restart` with `Ha.restart`'s reasons, `do_POST_reinitialize` with
/// `Ha.reinitialize`'s, `do_POST_failover` and `poll_failover_result`). Anything else with a
/// 503 (`Switchover status unknown`, `postgres is still starting`, a proxy's page, nothing)
/// is no answer about the outcome.
fn patroni_refused_503(body: &str) -> bool {
    let b = body.trim();
    matches!(
        b,
        "restart failed"
            | "restart conditions are not satisfied"
            | "Cluster has no leader, can not reinitialize"
            | "I am the leader, can not reinitialize"
            | "Switchover failed"
            | "Failover failed"
            | "failed to write failover key into DCS"
    ) || (b.ends_with(" already in progress") && !b.contains('\n') && b.len() < 100)
}

impl Reply {
    pub fn accepted(&self) -> bool {
        matches!(
            self,
            Reply::Status {
                code: 200..=202,
                ..
            }
        )
    }
    pub fn unknown(&self) -> bool {
        match self {
            Reply::Unknown(_) => true,
            Reply::Status { code: 503, body } => !patroni_refused_503(body),
            _ => false,
        }
    }
    /// Patroni's own words, verbatim (sanitized for the terminal).
    pub fn message(&self) -> String {
        match self {
            Reply::Status { code, body } => {
                format!("HTTP {code}: {}", crate::text::sanitize(body.trim()))
            }
            Reply::NotSent(e) => format!("not sent: {}", crate::text::sanitize(e)),
            Reply::Failed(e) => format!("refused: {}", crate::text::sanitize(e)),
            Reply::Unknown(e) => format!("result unknown: {}", crate::text::sanitize(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_base_is_scheme_host_and_port_only() {
        for (url, base) in [
            ("http://127.0.0.1:8008/patroni", "http://127.0.0.1:8008"),
            ("http://127.0.0.1:8008/patroni/", "http://127.0.0.1:8008"),
            ("http://127.0.0.1:8008", "http://127.0.0.1:8008"),
            ("http://127.0.0.1:8008/", "http://127.0.0.1:8008"),
            (
                "HTTPS://pg-1.example.com:8443/patroni",
                "https://pg-1.example.com:8443",
            ),
            ("http://[::1]:8008/patroni", "http://[::1]:8008"),
            (
                "http://[2001:DB8:0:0::1]:8008/patroni",
                "http://[2001:db8::1]:8008",
            ),
            ("http://pg1/patroni", "http://pg1"),
        ] {
            assert_eq!(write_base(url).as_deref(), Ok(base), "{url}");
            assert_eq!(
                ApiBase::parse(url),
                Ok(ApiBase {
                    base: base.into(),
                    extra: None
                })
            );
        }
    }

    #[test]
    fn anything_else_in_api_url_refuses_writes_but_keeps_the_base_for_polls() {
        for (url, why) in [
            ("http://127.0.0.1:8008/restart", ApiUrlError::Path),
            ("http://127.0.0.1:8008/restart#", ApiUrlError::Path),
            ("http://127.0.0.1:8008/patroni/restart", ApiUrlError::Path),
            ("http://127.0.0.1:8008/patroni#", ApiUrlError::Fragment),
            ("http://127.0.0.1:8008#", ApiUrlError::Fragment),
            (
                "http://127.0.0.1:8008/patroni?token=abc",
                ApiUrlError::Query,
            ),
            ("http://127.0.0.1:8008?", ApiUrlError::Query),
            (
                "http://admin:pw@127.0.0.1:8008/patroni",
                ApiUrlError::Userinfo,
            ),
            ("http://evil@127.0.0.1:8008/patroni", ApiUrlError::Userinfo),
            ("http://127.0.0.1:8008/x/../patroni", ApiUrlError::Path),
        ] {
            assert_eq!(write_base(url), Err(why.clone()), "{url}");
            let b = ApiBase::parse(url).expect(url);
            assert_eq!(b.base, "http://127.0.0.1:8008", "{url}");
            assert_eq!(b.extra, Some(why), "{url}");
            // and a request built from it never carries the rest
            let r = Request::new("pg1", url, Method::Post, "/reload", None);
            assert_eq!(r.url(), "http://127.0.0.1:8008/reload", "{url}");
        }
    }

    #[test]
    fn no_base_without_http_a_valid_host_and_port() {
        for url in [
            "ftp://127.0.0.1:8008/patroni",
            "127.0.0.1:8008/patroni",
            "unix:///run/patroni.sock",
            "http://:8008/patroni",
            "http://127.0.0.1:0/patroni",
            "http://127.0.0.1:65536/patroni",
            "http://127.0.0.1:80a/patroni",
            "http://127.0.0.1:/patroni",
            "http://[::1/patroni",
            "http://[::1]x:8008/patroni",
            "http://::1:8008/patroni",
            "http://-h:8008/patroni",
            "http://h_1:8008/patroni",
            "http://h\n:8008/patroni",
            "http://h\u{1b}[31m:8008/patroni",
            "http://a%2Fb:8008/patroni",
        ] {
            assert!(ApiBase::parse(url).is_err(), "{url:?}");
            assert!(write_base(url).is_err(), "{url:?}");
            // the request has an empty base: the client refuses it
            let r = Request::new("pg1", url, Method::Post, "/reload", None);
            let Target::Rest(rest) = &r.target else {
                panic!()
            };
            assert!(rest.url().is_err(), "{url:?}: {:?}", rest.url());
        }
    }

    #[test]
    fn a_rest_request_is_sent_only_with_a_base_write_base_made() {
        let ok = RestRequest {
            base: "http://h:8008".into(),
            method: Method::Post,
            path: "/reload".into(),
        };
        assert_eq!(ok.url().as_deref(), Ok("http://h:8008/reload"));
        for base in [
            "http://h:8008/restart",
            "http://u:p@h:8008",
            "",
            "http://h:8008#",
        ] {
            let r = RestRequest {
                base: base.into(),
                ..ok.clone()
            };
            assert!(r.url().is_err(), "{base}");
        }
    }
}
