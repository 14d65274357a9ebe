//! The only values from outside that may reach a `--logs` template: a member name and a
//! host, each checked against a strict grammar. A [`SafeMember`] or [`SafeHost`] can only be
//! built by parsing, and [`LogSourceSpec::resolve`](super::LogSourceSpec::resolve) takes
//! nothing else, so no raw string from etcd can become part of a path or a command.
//!
//! Every accepted word is made of ASCII letters, digits and `.` `_` `-` `:` only, and never
//! starts with `-`: not an option to any program, nothing special to a shell (so it is safe
//! also where a command is parsed twice, as `ssh` hands its arguments to the remote shell),
//! and never `.`, `..` or anything with a `/` (so it cannot leave a `file:` directory).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A DNS name is at most 253 characters; a member name gets the same bound (Kubernetes pod
/// names, often used as Patroni names, are DNS subdomains).
pub const MAX_LEN: usize = 253;
const MAX_LABEL: usize = 63;

/// Why a value was refused. The value itself is not kept: it may be anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WordError {
    #[error("it is empty")]
    Empty,
    #[error("it is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("it starts with '-'")]
    LeadingDash,
    #[error("'.' and '..' are not names")]
    Dots,
    #[error("only ASCII letters, digits, '.', '_' and '-' are allowed")]
    MemberChars,
    #[error("not a DNS name, an IPv4 address or a bracketed IPv6 address")]
    Host,
    #[error("no host in conn_url")]
    NoHost,
}

/// A member name as Patroni allows it: ASCII letters, digits, `.`, `_`, `-`; not starting
/// with `-`; not `.` or `..`; at most [`MAX_LEN`] characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SafeMember(String);

impl SafeMember {
    pub fn parse(s: &str) -> Result<SafeMember, WordError> {
        Self::check(s)?;
        Ok(SafeMember(s.to_string()))
    }

    /// The grammar alone, without a copy: for counting and refusing member keys by the
    /// thousand.
    pub fn check(s: &str) -> Result<(), WordError> {
        if s.is_empty() {
            return Err(WordError::Empty);
        }
        if s.len() > MAX_LEN {
            return Err(WordError::TooLong);
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(WordError::MemberChars);
        }
        if s.starts_with('-') {
            return Err(WordError::LeadingDash);
        }
        if s == "." || s == ".." {
            return Err(WordError::Dots);
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// lets a map keyed by SafeMember be looked up by a name from etcd (same order as String)
impl std::borrow::Borrow<str> for SafeMember {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SafeMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A host: a DNS name (RFC 1123 labels of letters, digits and inner `-`, joined by dots),
/// an IPv4 address, or an IPv6 address in brackets. Substituted as the name, the dotted
/// quad, or the IPv6 address without brackets in its canonical form (what `ssh` and most
/// tools take as a host argument).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SafeHost(String);

impl SafeHost {
    pub fn parse(s: &str) -> Result<SafeHost, WordError> {
        if s.is_empty() {
            return Err(WordError::Empty);
        }
        if s.len() > MAX_LEN {
            return Err(WordError::TooLong);
        }
        if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            // Ipv6Addr's Display writes only hex digits, ':' and '.'
            return inner
                .parse::<Ipv6Addr>()
                .map(|a| SafeHost(a.to_string()))
                .map_err(|_| WordError::Host);
        }
        if let Ok(a) = s.parse::<Ipv4Addr>() {
            return Ok(SafeHost(a.to_string()));
        }
        if s.starts_with('-') {
            return Err(WordError::LeadingDash);
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= MAX_LABEL
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if s.split('.').all(label_ok) {
            Ok(SafeHost(s.to_string()))
        } else {
            Err(WordError::Host)
        }
    }

    /// The host of a `conn_url` (`postgres://[user[:pw]@]host[:port][/db][?...]`), strictly:
    /// the port, if any, must be digits, and the host must pass [`SafeHost::parse`].
    pub fn from_conn_url(url: &str) -> Result<SafeHost, WordError> {
        let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let hostport = authority
            .rsplit_once('@')
            .map(|(_, h)| h)
            .unwrap_or(authority);
        if hostport.is_empty() {
            return Err(WordError::NoHost);
        }
        let (host, port) = match hostport.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((_, p)) => (&hostport[..hostport.len() - p.len()], p.strip_prefix(':')),
                None => return Err(WordError::Host),
            },
            None => match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            },
        };
        // "[::1]x" or "h:" or "h:5432x": not a host and a port
        let port_ok = match port {
            None => host.len() == hostport.len(),
            Some(p) => !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()),
        };
        if !port_ok {
            return Err(WordError::Host);
        }
        SafeHost::parse(host)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SafeHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words that are hostile as an option, to a shell, or as a path, or that only look
    /// like an allowed word.
    const HOSTILE: &[&str] = &[
        "-oProxyCommand=touch x",
        "-x",
        "x;touch y",
        "$(id)",
        "`id`",
        "a b",
        "a\tb",
        "pg1\n",
        "pg1\r",
        "",
        ".",
        "..",
        "a/b",
        "../etc",
        "x|sh",
        "x&y",
        "x>y",
        "'x'",
        "\"x\"",
        "x\\y",
        "*",
        "~root",
        "pg\u{0031}\u{0307}",
        "рg1",  // Cyrillic р
        "pg１", // fullwidth digit
        "pg\u{200b}1",
        "pg1\0",
        "\x1b[2J",
    ];

    #[test]
    fn members_patroni_allows_are_accepted() {
        for ok in [
            "pg1",
            "db-1.example.com",
            "pg_2",
            "Node.A-1_b",
            "10.0.0.1",
            "a..b",
        ] {
            assert_eq!(SafeMember::parse(ok).map(|m| m.to_string()), Ok(ok.into()));
        }
        assert!(SafeMember::parse(&"a".repeat(MAX_LEN)).is_ok());
    }

    #[test]
    fn hostile_members_are_refused() {
        for bad in HOSTILE {
            assert!(SafeMember::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            SafeMember::parse(&"a".repeat(MAX_LEN + 1)),
            Err(WordError::TooLong)
        );
        assert_eq!(SafeMember::parse("-x"), Err(WordError::LeadingDash));
        assert_eq!(SafeMember::parse(".."), Err(WordError::Dots));
        assert_eq!(SafeMember::parse(""), Err(WordError::Empty));
        assert_eq!(SafeMember::parse("[::1]"), Err(WordError::MemberChars));
    }

    #[test]
    fn hosts_are_dns_names_or_addresses() {
        for (input, word) in [
            ("pg1", "pg1"),
            ("db-1.example.com", "db-1.example.com"),
            ("10.0.0.1", "10.0.0.1"),
            ("[::1]", "::1"),
            ("[fe80::1]", "fe80::1"),
            ("[2001:DB8:0:0:0:0:0:1]", "2001:db8::1"),
            ("[::ffff:10.0.0.1]", "::ffff:10.0.0.1"),
            ("1pg", "1pg"),
        ] {
            assert_eq!(
                SafeHost::parse(input).map(|h| h.to_string()),
                Ok(word.into()),
                "{input}"
            );
        }
        let label = "a".repeat(63);
        assert!(SafeHost::parse(&format!("{label}.{label}.{label}.{}", "b".repeat(61))).is_ok());
    }

    #[test]
    fn hostile_hosts_are_refused() {
        for bad in HOSTILE {
            assert!(SafeHost::parse(bad).is_err(), "{bad:?}");
        }
        for bad in [
            "pg_1",
            "a-.b",
            "a.-b",
            "a..b",
            ".a",
            "a.",
            "::1",
            "[::1",
            "[fe80::1%eth0]",
            "[-oProxyCommand=x]",
            "[pg1]",
        ] {
            assert!(SafeHost::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            SafeHost::parse(&format!("{}.b", "a".repeat(64))),
            Err(WordError::Host)
        );
        let label = "a".repeat(63);
        assert_eq!(
            SafeHost::parse(&format!("{label}.{label}.{label}.{}", "b".repeat(62))),
            Err(WordError::TooLong)
        );
    }

    #[test]
    fn conn_url_hosts_are_taken_strictly() {
        for (url, host) in [
            ("postgres://127.0.0.1:5432/postgres", "127.0.0.1"),
            (
                "postgresql://u:p@db-1.example.com:5432/postgres?x=y",
                "db-1.example.com",
            ),
            ("postgres://[::1]:5432/postgres", "::1"),
            ("postgres://[fe80::1]/postgres", "fe80::1"),
            ("postgres://pg1", "pg1"),
            ("pg1:5432", "pg1"),
        ] {
            assert_eq!(
                SafeHost::from_conn_url(url).map(|h| h.to_string()),
                Ok(host.into()),
                "{url}"
            );
        }
        for url in [
            "postgres://-oProxyCommand=touch x:5432/postgres",
            "postgres://x;touch y:5432/postgres",
            "postgres://$(id):5432/postgres",
            "postgres://a b:5432/postgres",
            "postgres://h:54x32/postgres",
            "postgres://h:/postgres",
            "postgres://[::1]x/postgres",
            "postgres://[::1/postgres",
            "postgres://a:b:c/postgres",
            "postgres:///postgres",
            "postgres://u@/postgres",
            "",
        ] {
            assert!(SafeHost::from_conn_url(url).is_err(), "{url:?}");
        }
    }
}
