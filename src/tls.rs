//! TLS for every client patrol builds (etcd v3 over gRPC, the members' REST APIs, and etcd
//! v2 over HTTP): the files from the configuration, each with the key that named it, an HTTP
//! client set up from them, the key files' permissions, and a failed handshake said in words
//! that name the member's or endpoint's file to look at.

use std::error::Error as StdError;
use std::path::PathBuf;

/// One file from the configuration and the key that named it (`ctl.cacert`, `etcd3.key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFile {
    pub key: &'static str,
    pub path: PathBuf,
}

impl TlsFile {
    pub fn new(key: &'static str, path: Option<&PathBuf>) -> Option<TlsFile> {
        path.map(|p| TlsFile {
            key,
            path: p.clone(),
        })
    }

    /// `ctl.cacert /etc/patroni/ca.pem`: what an error points at.
    pub fn named(&self) -> String {
        format!("{} {}", self.key, self.path.display())
    }
}

/// The CA to trust and the client certificate to present, as the configuration gives them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsFiles {
    pub cacert: Option<TlsFile>,
    pub cert: Option<TlsFile>,
    pub key: Option<TlsFile>,
}

impl TlsFiles {
    /// The files of the `etcd3:` (or `etcd:`) section.
    pub fn for_dcs(s: &crate::config::DcsSettings) -> TlsFiles {
        let (ca, cert, key) = match s.api {
            crate::config::DcsApi::V3 => ("etcd3.cacert", "etcd3.cert", "etcd3.key"),
            crate::config::DcsApi::V2 => ("etcd.cacert", "etcd.cert", "etcd.key"),
        };
        TlsFiles {
            cacert: TlsFile::new(ca, s.cacert.as_ref()),
            cert: TlsFile::new(cert, s.cert.as_ref()),
            key: TlsFile::new(key, s.key.as_ref()),
        }
    }

    /// The files patrol uses towards the members' REST APIs (`ctl:` wins over `restapi:`).
    pub fn for_rest(s: &crate::config::RestSettings) -> TlsFiles {
        let k = &s.keys;
        TlsFiles {
            cacert: TlsFile::new(k.cacert, s.cacert.as_ref()),
            cert: TlsFile::new(k.cert, s.cert.as_ref()),
            key: TlsFile::new(k.key, s.key.as_ref()),
        }
    }

    /// The certificate and key files, which must not be readable by others.
    fn private(&self) -> impl Iterator<Item = &TlsFile> {
        // a client certificate file may hold the key too (no separate `key`)
        let cert_holds_key = self.key.is_none();
        self.key
            .iter()
            .chain(self.cert.iter().filter(move |_| cert_holds_key))
    }

    /// What to read before a request can leave: the CA, then the identity (certificate and
    /// key as one PEM). Errors name the key and the file, never the content.
    pub fn read(&self) -> Result<Pems, String> {
        let read = |f: &TlsFile| {
            crate::files::read_bounded(&f.path, crate::files::MAX_PEM)
                .map_err(|e| format!("{}: {e}", f.named()))
        };
        let ca = self.cacert.as_ref().map(read).transpose()?;
        let id = match &self.cert {
            None => None,
            Some(c) => {
                let mut pem = read(c)?;
                if let Some(k) = &self.key {
                    pem.extend_from_slice(b"\n");
                    pem.extend(read(k)?);
                }
                Some(pem)
            }
        };
        Ok(Pems { ca, identity: id })
    }
}

/// The files' contents, as read by [`TlsFiles::read`].
pub struct Pems {
    /// The CA bundle to trust.
    pub ca: Option<Vec<u8>>,
    /// The client certificate followed by its private key.
    pub identity: Option<Vec<u8>>,
}

/// Trust the configured CA and present the configured client certificate. `insecure` (`-k`,
/// `ctl.insecure`) is the only way to skip verifying the server. For the members' REST APIs
/// and the etcd v2 HTTP API alike.
pub fn reqwest_tls(
    mut b: reqwest::ClientBuilder,
    files: &TlsFiles,
    insecure: bool,
) -> Result<reqwest::ClientBuilder, String> {
    let Pems { ca, identity: id } = files.read()?;
    if let (Some(pem), Some(f)) = (ca, &files.cacert) {
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("{}: not a PEM certificate ({e})", f.named()))?;
        if certs.is_empty() {
            return Err(format!("{}: no certificate in it", f.named()));
        }
        // that CA only, as patronictl does: not also every CA the system trusts
        b = b.tls_certs_only(certs);
    } else if !insecure && !system_roots() {
        // reqwest's default verifier is built from the system's CA certificates and refuses
        // to be built without any (a minimal host without Debian's ca-certificates): then
        // no CA is trusted but a configured one; plain http works and an https member says
        // why its handshake fails (see `say`)
        b = b.tls_certs_only(Vec::<reqwest::Certificate>::new());
    }
    if let (Some(pem), Some(f)) = (id, &files.cert) {
        // the error must not quote the PEM: it holds the private key
        let id = reqwest::Identity::from_pem(&pem).map_err(|_| {
            format!(
                "{}{}: not a PEM certificate with its private key",
                f.named(),
                files
                    .key
                    .as_ref()
                    .map(|k| format!(" + {}", k.named()))
                    .unwrap_or_default()
            )
        })?;
        b = b.identity(id);
    }
    if insecure {
        b = b.danger_accept_invalid_certs(true);
    }
    Ok(b)
}

/// Whether this host has CA certificates of its own (`/etc/ssl/certs`, `SSL_CERT_FILE`),
/// read once per process.
pub fn system_roots() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| !rustls_native_certs::load_native_certs().certs.is_empty())
}

/// As ssh does for its keys: a private key file that group or others may read is worth a
/// warning (`permissions 0644 for '/path' are too open`); patrol still starts. One
/// (config key, message) per such file; a file that cannot be looked at is left to the
/// error reading it gives.
pub fn key_permission_warnings(files: &[&TlsFiles]) -> Vec<(String, String)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out: Vec<(String, String)> = Vec::new();
    for f in files.iter().flat_map(|f| f.private()) {
        let Ok(meta) = std::fs::metadata(&f.path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 && !out.iter().any(|(k, _)| k == f.key) {
            out.push((
                f.key.to_string(),
                format!(
                    "permissions {mode:04o} for '{}' are too open: anyone who can read it is this client (chmod 600)",
                    f.path.display()
                ),
            ));
        }
    }
    out
}

/// Which file a handshake failure points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blame {
    /// The CA we trust did not sign what the server showed.
    Ca,
    /// The server refused (or wanted) our client certificate.
    ClientCert,
    /// Something about the server's certificate or port: no file of ours to name.
    Server,
}

/// A TLS failure in words, with the file to look at (`TLS: certificate signed by an
/// unknown authority (ctl.cacert /etc/patroni/ca.pem)`), when `err` or its causes are one.
pub fn explain(err: &(dyn StdError + 'static), files: &TlsFiles) -> Option<String> {
    let (what, blame) = find(err)?;
    Some(say(what, blame, files))
}

/// The same from an error's text (etcd's gRPC statuses keep the cause only as text).
pub fn explain_text(text: &str, files: &TlsFiles) -> Option<String> {
    let (what, blame) = from_text(text)?;
    Some(say(what, blame, files))
}

fn say(what: &str, blame: Blame, files: &TlsFiles) -> String {
    let file = match blame {
        Blame::Ca => Some(
            files
                .cacert
                .as_ref()
                .map(TlsFile::named)
                .unwrap_or_else(|| {
                    if system_roots() {
                        "no CA file configured".into()
                    } else {
                        "no CA file configured, and this host has no CA certificates: \
                         install ca-certificates or set cacert"
                            .into()
                    }
                }),
        ),
        Blame::ClientCert => Some(match (&files.cert, &files.key) {
            (Some(c), Some(k)) => format!("{} + {}", c.named(), k.named()),
            (Some(c), None) => c.named(),
            _ => "no client certificate configured".into(),
        }),
        Blame::Server => None,
    };
    match file {
        Some(f) => format!("TLS: {what} ({f})"),
        None => format!("TLS: {what}"),
    }
}

/// Walk the causes: a rustls error is read by its variant; `io::Error` hides its inner
/// error from `source()`, so it is opened by hand; the rest is read by its text.
fn find(err: &(dyn StdError + 'static)) -> Option<(&'static str, Blame)> {
    let mut cur = Some(err);
    let mut depth = 0;
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return from_rustls(r);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && let Some(r) = inner.downcast_ref::<rustls::Error>()
        {
            return from_rustls(r);
        }
        if let Some(x) = from_text(&e.to_string()) {
            return Some(x);
        }
        depth += 1;
        if depth > 16 {
            break;
        }
        cur = e.source();
    }
    None
}

fn from_rustls(e: &rustls::Error) -> Option<(&'static str, Blame)> {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    Some(match e {
        E::InvalidCertificate(c) => match c {
            C::UnknownIssuer => ("certificate signed by an unknown authority", Blame::Ca),
            C::NotValidForName | C::NotValidForNameContext { .. } => (
                "the server's certificate is not valid for this host name",
                Blame::Server,
            ),
            C::Expired | C::ExpiredContext { .. } => {
                ("the server's certificate has expired", Blame::Server)
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                ("the server's certificate is not valid yet", Blame::Server)
            }
            C::Revoked => ("the server's certificate is revoked", Blame::Server),
            _ => ("the server's certificate was not accepted", Blame::Ca),
        },
        E::AlertReceived(a) => match a {
            A::CertificateRequired => (
                "the server requires a client certificate",
                Blame::ClientCert,
            ),
            A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::AccessDenied
            | A::DecryptError => (
                "the server refused patrol's client certificate",
                Blame::ClientCert,
            ),
            A::HandshakeFailure => (
                "handshake failed (the server may require a client certificate)",
                Blame::ClientCert,
            ),
            _ => ("the server ended the handshake", Blame::Server),
        },
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => (
            "the server does not speak TLS there (plain http?)",
            Blame::Server,
        ),
        E::NoCertificatesPresented => ("the server showed no certificate", Blame::Server),
        _ => return None,
    })
}

/// rustls' own words for the same failures, as they reach us inside other errors' text.
fn from_text(t: &str) -> Option<(&'static str, Blame)> {
    const TABLE: &[(&str, &str, Blame)] = &[
        (
            "UnknownIssuer",
            "certificate signed by an unknown authority",
            Blame::Ca,
        ),
        (
            "certificate not valid for name",
            "the server's certificate is not valid for this host name",
            Blame::Server,
        ),
        (
            "NotValidForName",
            "the server's certificate is not valid for this host name",
            Blame::Server,
        ),
        (
            "certificate expired",
            "the server's certificate has expired",
            Blame::Server,
        ),
        (
            "fatal alert: CertificateRequired",
            "the server requires a client certificate",
            Blame::ClientCert,
        ),
        (
            "fatal alert: BadCertificate",
            "the server refused patrol's client certificate",
            Blame::ClientCert,
        ),
        (
            "fatal alert: UnknownCA",
            "the server refused patrol's client certificate",
            Blame::ClientCert,
        ),
        (
            "fatal alert: CertificateUnknown",
            "the server refused patrol's client certificate",
            Blame::ClientCert,
        ),
        (
            "fatal alert: HandshakeFailure",
            "handshake failed (the server may require a client certificate)",
            Blame::ClientCert,
        ),
        (
            "received corrupt message",
            "the server does not speak TLS there (plain http?)",
            Blame::Server,
        ),
    ];
    TABLE
        .iter()
        .find(|(needle, _, _)| t.contains(needle))
        .map(|(_, what, blame)| (*what, *blame))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> TlsFiles {
        TlsFiles {
            cacert: Some(TlsFile {
                key: "ctl.cacert",
                path: "/etc/patroni/ca.pem".into(),
            }),
            cert: Some(TlsFile {
                key: "ctl.certfile",
                path: "/etc/patroni/ctl.pem".into(),
            }),
            key: Some(TlsFile {
                key: "ctl.keyfile",
                path: "/etc/patroni/ctl.key".into(),
            }),
        }
    }

    #[test]
    fn an_unknown_issuer_names_the_ca_file() {
        let e = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        assert_eq!(
            explain(&io, &files()).as_deref(),
            Some(
                "TLS: certificate signed by an unknown authority (ctl.cacert /etc/patroni/ca.pem)"
            )
        );
        // the same from text only (a gRPC status keeps its cause as text)
        assert_eq!(
            explain_text(
                "etcd unavailable: invalid peer certificate: UnknownIssuer",
                &files()
            )
            .as_deref(),
            Some(
                "TLS: certificate signed by an unknown authority (ctl.cacert /etc/patroni/ca.pem)"
            )
        );
    }

    #[test]
    fn a_refused_client_certificate_names_ours() {
        let e = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired);
        assert_eq!(
            explain(&e, &TlsFiles::default()).as_deref(),
            Some(
                "TLS: the server requires a client certificate (no client certificate configured)"
            )
        );
        assert_eq!(
            explain_text("received fatal alert: BadCertificate", &files()).as_deref(),
            Some(
                "TLS: the server refused patrol's client certificate (ctl.certfile /etc/patroni/ctl.pem + ctl.keyfile /etc/patroni/ctl.key)"
            )
        );
    }

    #[test]
    fn other_errors_are_not_tls() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(explain(&io, &files()), None);
        assert_eq!(explain_text("connection refused", &files()), None);
    }

    #[test]
    fn readable_keys_are_warned_about_like_ssh_does() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("client.key");
        std::fs::write(&key, "not really a key").expect("write");
        let f = TlsFiles {
            key: Some(TlsFile {
                key: "etcd3.key",
                path: key.clone(),
            }),
            ..Default::default()
        };
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let w = key_permission_warnings(&[&f]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].0, "etcd3.key");
        assert!(
            w[0].1.starts_with(&format!(
                "permissions 0644 for '{}' are too open",
                key.display()
            )),
            "{w:?}"
        );
        // the warning names the file, never its content
        assert!(!w[0].1.contains("not really a key"));
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(key_permission_warnings(&[&f]).is_empty());
        // a missing file is the reader's error, not a warning
        let gone = TlsFiles {
            key: Some(TlsFile {
                key: "etcd3.key",
                path: dir.path().join("missing"),
            }),
            ..Default::default()
        };
        assert!(key_permission_warnings(&[&gone]).is_empty());
    }
}
