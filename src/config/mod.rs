//! Reading the patroni.yml / patronictl.yaml that `patronictl -c` takes, unchanged.
//!
//! Only the sections patrol needs are typed; everything else in a node's patroni.yml is
//! ignored. Secrets are wrapped in [`Secret`] so they cannot end up in a `Debug` print.

pub mod init;
pub mod patrol;
mod raw;
mod secret;

use std::path::{Path, PathBuf};

pub use secret::Secret;

/// Where the cluster's state lives and how to reach the members' REST APIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The file the settings came from (None when everything came from `--dcs-url`).
    pub source: Option<PathBuf>,
    pub scope: String,
    /// Always with a leading and trailing slash, e.g. `/service/`.
    pub namespace: String,
    pub dcs: DcsSettings,
    pub rest: RestSettings,
    /// No etcd: membership from the members' `GET /cluster` (`--rest-only`, or the config
    /// names no etcd, e.g. Patroni on Consul, ZooKeeper, Kubernetes or raft).
    pub rest_only: bool,
    /// Patroni APIs to ask for `/cluster` (status URLs ending in `/patroni`): `--api`, then
    /// the config's `restapi.connect_address`. Checked URLs, never shell words.
    pub api_seeds: Vec<String>,
    /// Worth saying on screen, not worth refusing to start: (config key, message), such as
    /// a private key file others may read. Filled by [`load`], which looks at the files.
    pub warnings: Vec<(String, String)>,
}

impl Settings {
    /// The etcd key prefix of this cluster, e.g. `/service/demo/`.
    pub fn cluster_prefix(&self) -> String {
        format!("{}{}/", self.namespace, self.scope)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DcsApi {
    /// `etcd3:`: the v3 gRPC key space.
    V3,
    /// `etcd:`: the v2 HTTP key space (etcd 3.4/3.5 with `--enable-v2`).
    V2,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcsSettings {
    pub api: DcsApi,
    /// `http://host:port` or `https://host:port`, in the order given.
    pub endpoints: Vec<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub cacert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestSettings {
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub cacert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// `ctl.insecure` / `-k`: do not verify the members' certificates.
    pub insecure: bool,
    /// Which key named each file (`ctl.cacert` or `restapi.cafile` ...), for errors.
    pub keys: RestTlsKeys,
}

/// The configuration keys the REST certificate files came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestTlsKeys {
    pub cacert: &'static str,
    pub cert: &'static str,
    pub key: &'static str,
}

impl Default for RestTlsKeys {
    fn default() -> Self {
        RestTlsKeys {
            cacert: "ctl.cacert",
            cert: "ctl.certfile",
            key: "ctl.keyfile",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
}

/// What the command line and environment say about where the config is.
#[derive(Debug, Clone, Default)]
pub struct ConfigSource {
    /// `-c FILE` or `PATRONICTL_CONFIG_FILE` (clap fills both into one field).
    pub file: Option<PathBuf>,
    /// `-d etcd3://host:port/namespace` or `DCS_URL`.
    pub dcs_url: Option<String>,
    /// `-k/--insecure`.
    pub insecure: bool,
    /// A cluster name given on the command line wins over `scope`.
    pub scope: Option<String>,
    /// `--rest-only`: never ask etcd.
    pub rest_only: bool,
    /// `--api URL` (repeatable): Patroni REST APIs to ask for `/cluster`.
    pub api: Vec<String>,
}

/// The patronictl default: `~/.config/patroni/patronictl.yaml`.
pub fn default_config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("patroni").join("patronictl.yaml"))
}

/// Load settings as patronictl does: the explicit file must exist; the default file is
/// optional when `--dcs-url` and a cluster name are given.
pub fn load(src: &ConfigSource) -> Result<Settings, ConfigError> {
    let (path, explicit) = match &src.file {
        Some(p) => (Some(p.clone()), true),
        None => (default_config_path(), false),
    };
    let loaded = match path {
        Some(p) if explicit || p.exists() => {
            let text = crate::files::read_bounded_string(&p, crate::files::MAX_CONFIG).map_err(
                |source| ConfigError::Read {
                    path: p.clone(),
                    source,
                },
            )?;
            Some((p, text))
        }
        _ => None,
    };
    let mut settings = match loaded {
        Some((p, text)) => from_str(&text, Some(&p), src)?,
        None => {
            if src.dcs_url.is_none() && src.api.is_empty() {
                let default = default_config_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "~/.config/patroni/patronictl.yaml".into());
                return Err(ConfigError::Usage(format!(
                    "no configuration: pass -c /etc/patroni/patroni.yml (or set PATRONICTL_CONFIG_FILE), \
                     or --dcs-url etcd3://host:2379 with a cluster name; {default} does not exist"
                )));
            }
            from_str("{}", None, src)?
        }
    };
    let (dcs, rest) = (
        crate::tls::TlsFiles::for_dcs(&settings.dcs),
        crate::tls::TlsFiles::for_rest(&settings.rest),
    );
    settings.warnings = crate::tls::key_permission_warnings(&[&dcs, &rest]);
    Ok(settings)
}

/// Parse the text of a config file and apply the command-line overrides.
pub fn from_str(
    text: &str,
    path: Option<&Path>,
    src: &ConfigSource,
) -> Result<Settings, ConfigError> {
    let shown = path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("<command line>"));
    let raw: raw::RawConfig = if text.trim().is_empty() {
        raw::RawConfig::default()
    } else {
        serde_saphyr::from_str_with_options(text, yaml_options()).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            ConfigError::Syntax {
                path: shown.clone(),
                line,
                column,
                message: first_line(&e.to_string()),
            }
        })?
    };
    raw.resolve(path, src)
        .map_err(|message| ConfigError::Invalid {
            path: shown,
            message,
        })
}

/// At most this many YAML events copied into anchors, and replayed from aliases, per file.
/// A patroni.yml reuses an anchor or two, if any. The parser's default is a million: an
/// anchor made of ten aliases of the anchor before, six deep, is 400 bytes the parser copied
/// a million events for before it gave up (14 s in the fuzz build).
const MAX_ALIAS_EVENTS: usize = 10_000;

/// The parser's defaults, with alias expansion bounded by [`MAX_ALIAS_EVENTS`], and a key
/// given twice taking its last value, as Patroni's own YAML loader (PyYAML) does: a file
/// Patroni runs with must open in patrol.
fn yaml_options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    o.alias_limits.max_total_replayed_events = MAX_ALIAS_EVENTS;
    let mut budget = o.budget.take().unwrap_or_default();
    budget.max_recorded_anchor_events = MAX_ALIAS_EVENTS;
    o.budget = Some(budget);
    o
}

/// serde-saphyr's messages can carry a code snippet; one line is enough for the UI.
fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

/// Parse `etcd3://host:port/namespace` (patronictl's `--dcs-url`). The namespace part is
/// optional.
pub fn parse_dcs_url(url: &str) -> Result<(DcsApi, String, Option<String>), String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        format!("invalid DCS URL {url:?}: expected etcd3://host:port[/namespace]")
    })?;
    let api = match scheme {
        "etcd3" => DcsApi::V3,
        "etcd" => DcsApi::V2,
        other => {
            return Err(format!(
                "unsupported DCS {other:?} in {url:?}: patrol speaks etcd3:// and etcd://"
            ));
        }
    };
    let (hostport, ns) = match rest.split_once('/') {
        Some((h, n)) if !n.trim_matches('/').is_empty() => (h, Some(n.to_string())),
        Some((h, _)) => (h, None),
        None => (rest, None),
    };
    if hostport.is_empty() {
        return Err(format!("invalid DCS URL {url:?}: no host"));
    }
    Ok((api, raw::endpoint("http", hostport), ns))
}

/// `/service/` from `service`, `/service`, `service/` ...
pub fn normalize_namespace(ns: &str) -> String {
    let t = ns.trim().trim_matches('/');
    if t.is_empty() {
        "/".into()
    } else {
        format!("/{t}/")
    }
}

#[cfg(test)]
mod tests;

/// `--api` / `restapi.connect_address` as the status URL patrol polls: `host:port`,
/// `http(s)://host:port[/patroni]`. The host must pass the host-name grammar: this URL is
/// asked from patrol's process, and shown.
pub fn api_status_url(addr: &str, tls: bool) -> Result<String, String> {
    let a = addr.trim();
    let (scheme, rest) = match a.split_once("://") {
        Some((s @ ("http" | "https"), r)) => (s, r),
        Some((s, _)) => return Err(format!("{a:?}: scheme {s:?}, expected http or https")),
        None => (if tls { "https" } else { "http" }, a),
    };
    let rest = rest.trim_end_matches('/');
    let hostport = rest.strip_suffix("/patroni").unwrap_or(rest);
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("{a:?}: unclosed ["))?;
        match after {
            "" => (&hostport[..h.len() + 2], None),
            p => (
                &hostport[..h.len() + 2],
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| format!("{a:?}: junk after ]"))?,
                ),
            ),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let ok_host = !bare.is_empty()
        && bare.len() <= 253
        && (bare.parse::<std::net::IpAddr>().is_ok() || bare.split('.').all(label_ok));
    if !ok_host {
        return Err(format!("{a:?}: not a host name or IP address"));
    }
    let port = match port {
        Some(p) => format!(
            ":{}",
            p.parse::<u16>()
                .map_err(|_| format!("{a:?}: port {p:?} is not a number"))?
        ),
        None => String::new(),
    };
    Ok(format!("{scheme}://{host}{port}/patroni"))
}
