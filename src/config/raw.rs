//! The YAML shapes as Patroni accepts them, and their resolution into [`Settings`].

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::{
    ConfigSource, DcsApi, DcsSettings, RestSettings, RestTlsKeys, Secret, Settings,
    normalize_namespace, parse_dcs_url,
};

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawConfig {
    scope: Option<Scalar>,
    namespace: Option<Scalar>,
    etcd3: Option<RawEtcd>,
    etcd: Option<RawEtcd>,
    restapi: Option<RawRest>,
    ctl: Option<RawCtl>,
    // DCSs patrol cannot read: their presence means REST-only mode
    consul: Option<de::IgnoredAny>,
    zookeeper: Option<de::IgnoredAny>,
    exhibitor: Option<de::IgnoredAny>,
    kubernetes: Option<de::IgnoredAny>,
    raft: Option<de::IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
struct RawEtcd {
    host: Option<Scalar>,
    hosts: Option<Hosts>,
    url: Option<Scalar>,
    proxy: Option<Scalar>,
    srv: Option<Scalar>,
    protocol: Option<Scalar>,
    username: Option<Scalar>,
    password: Option<Secret>,
    cacert: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
struct RawAuth {
    username: Option<Scalar>,
    password: Option<Secret>,
}

#[derive(Debug, Default, Deserialize)]
struct RawRest {
    connect_address: Option<Scalar>,
    authentication: Option<RawAuth>,
    cafile: Option<PathBuf>,
    certfile: Option<PathBuf>,
    keyfile: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
struct RawCtl {
    authentication: Option<RawAuth>,
    insecure: Option<bool>,
    cacert: Option<PathBuf>,
    certfile: Option<PathBuf>,
    keyfile: Option<PathBuf>,
}

/// A YAML scalar read as text: `scope: 12` and `scope: "12"` mean the same to Patroni.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `hosts:` as a YAML list or a comma-separated string, as Patroni accepts both.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hosts(Vec<String>);

impl<'de> Deserialize<'de> for Hosts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Hosts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of host:port or a comma-separated string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Hosts, E> {
                Ok(Hosts(
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                ))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Hosts, A::Error> {
                let mut out = Vec::new();
                while let Some(Scalar(s)) = seq.next_element::<Scalar>()? {
                    out.push(s.trim().to_string());
                }
                Ok(Hosts(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `host:port` (port defaulting to 2379) into a URL with the given scheme; a value that is
/// already a URL keeps its scheme.
pub(super) fn endpoint(scheme: &str, hostport: &str) -> String {
    let hp = hostport.trim().trim_end_matches('/');
    if hp.contains("://") {
        return hp.to_string();
    }
    let has_port = match hp.rsplit_once(':') {
        // `[::1]:2379` or `host:2379`; a bare IPv6 address has more colons and no brackets
        Some((h, p)) => {
            p.chars().all(|c| c.is_ascii_digit()) && (!h.contains(':') || h.ends_with(']'))
        }
        None => false,
    };
    if has_port {
        format!("{scheme}://{hp}")
    } else {
        format!("{scheme}://{hp}:2379")
    }
}

fn rel(base: Option<&Path>, p: Option<PathBuf>) -> Option<PathBuf> {
    // Patroni resolves relative paths against its working directory; patrol is usually run
    // elsewhere, so the config file's directory is the better guess.
    p.map(|p| match base.and_then(Path::parent) {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p,
    })
}

impl RawConfig {
    pub(super) fn resolve(
        self,
        path: Option<&Path>,
        src: &ConfigSource,
    ) -> Result<Settings, String> {
        let (url_dcs, url_ns) = match &src.dcs_url {
            Some(u) => {
                let (api, ep, ns) = parse_dcs_url(u)?;
                (Some((api, ep)), ns)
            }
            None => (None, None),
        };

        let scope = src
            .scope
            .clone()
            .or_else(|| self.scope.map(|s| s.0))
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                "no `scope:` (the cluster name) in the configuration; add it or name the cluster on the command line"
                    .to_string()
            })?;
        let namespace = normalize_namespace(
            &url_ns
                .or_else(|| self.namespace.map(|s| s.0))
                .unwrap_or_else(|| "/service/".into()),
        );

        let other_dcs = [
            ("consul", self.consul.is_some()),
            ("zookeeper", self.zookeeper.is_some()),
            ("exhibitor", self.exhibitor.is_some()),
            ("kubernetes", self.kubernetes.is_some()),
            ("raft", self.raft.is_some()),
        ]
        .into_iter()
        .find(|(_, present)| *present)
        .map(|(name, _)| name);
        let no_etcd = self.etcd3.is_none() && self.etcd.is_none() && url_dcs.is_none();
        let (api, etcd) = match (self.etcd3, self.etcd) {
            (Some(e), _) => (DcsApi::V3, e),
            (None, Some(e)) => (DcsApi::V2, e),
            (None, None) => (DcsApi::V3, RawEtcd::default()),
        };
        // REST-only: asked for, or there is no etcd to ask
        let restapi = self.restapi.unwrap_or_default();
        let mut api_seeds = Vec::new();
        for a in &src.api {
            api_seeds.push(super::api_status_url(a, false).map_err(|e| format!("--api {e}"))?);
        }
        if let Some(addr) = &restapi.connect_address {
            let tls = restapi.certfile.is_some();
            let url = super::api_status_url(&addr.0, tls)
                .map_err(|e| format!("restapi.connect_address {e}"))?;
            if !api_seeds.contains(&url) {
                api_seeds.push(url);
            }
        }
        let rest_only =
            src.rest_only || (no_etcd && (other_dcs.is_some() || !api_seeds.is_empty()));
        if rest_only && api_seeds.is_empty() {
            return Err(match other_dcs {
                Some(d) => format!(
                    "this configuration uses {d}, which patrol cannot read: REST-only mode needs a Patroni API to ask (`restapi.connect_address`, or --api HOST:PORT)"
                ),
                None => "REST-only mode needs a Patroni API to ask: `restapi.connect_address` in the config, or --api HOST:PORT".into(),
            });
        }
        if etcd.srv.is_some() && url_dcs.is_none() {
            return Err("etcd `srv:` discovery is not supported by patrol yet; list the endpoints in `hosts:`".into());
        }
        let tls = etcd.cacert.is_some() || etcd.cert.is_some();
        let scheme = match etcd.protocol.as_ref().map(|s| s.0.as_str()) {
            Some("https") => "https",
            Some("http") => "http",
            Some(other) => return Err(format!("etcd protocol {other:?}: expected http or https")),
            None if tls => "https",
            None => "http",
        };
        let (api, endpoints) = if let Some((api, ep)) = url_dcs {
            (api, vec![ep])
        } else {
            let mut eps: Vec<String> = Vec::new();
            if let Some(Hosts(hs)) = etcd.hosts {
                eps.extend(hs.iter().map(|h| endpoint(scheme, h)));
            } else if let Some(u) = etcd.url.or(etcd.proxy) {
                eps.push(endpoint(scheme, &u.0));
            } else if let Some(h) = etcd.host {
                eps.push(endpoint(scheme, &h.0));
            }
            if eps.is_empty() && !rest_only {
                return Err(
                    "no etcd endpoints: expected `etcd3:` with `hosts:`, `host:` or `url:` (or pass --dcs-url, or --api HOST:PORT for REST-only mode)"
                        .into(),
                );
            }
            (api, eps)
        };

        let base = path;
        let dcs = DcsSettings {
            api,
            endpoints,
            username: etcd.username.map(|s| s.0),
            password: etcd.password,
            cacert: rel(base, etcd.cacert),
            cert: rel(base, etcd.cert),
            key: rel(base, etcd.key),
        };

        // `ctl:` wins over `restapi:`, field by field, as in patronictl.
        let ctl = self.ctl.unwrap_or_default();
        let auth = ctl
            .authentication
            .or(restapi.authentication)
            .unwrap_or_default();
        let keys = RestTlsKeys {
            cacert: if ctl.cacert.is_some() {
                "ctl.cacert"
            } else {
                "restapi.cafile"
            },
            cert: if ctl.certfile.is_some() {
                "ctl.certfile"
            } else {
                "restapi.certfile"
            },
            key: if ctl.keyfile.is_some() {
                "ctl.keyfile"
            } else {
                "restapi.keyfile"
            },
        };
        let rest = RestSettings {
            username: auth.username.map(|s| s.0),
            password: auth.password,
            cacert: rel(base, ctl.cacert.or(restapi.cafile)),
            cert: rel(base, ctl.certfile.or(restapi.certfile)),
            key: rel(base, ctl.keyfile.or(restapi.keyfile)),
            insecure: src.insecure || ctl.insecure.unwrap_or(false),
            keys,
        };

        Ok(Settings {
            source: path.map(Path::to_path_buf),
            scope,
            namespace,
            dcs,
            rest,
            rest_only,
            api_seeds,
            warnings: Vec::new(),
        })
    }
}
