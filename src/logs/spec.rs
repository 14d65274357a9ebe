//! Where a member's log comes from: `file:PATH` or `cmd:COMMAND`, with `{member}` and
//! `{host}` placeholders.

use std::fmt;
use std::str::FromStr;

use super::word::{SafeHost, SafeMember};

/// A configured log source, before or after placeholder substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSourceSpec {
    /// A file followed like `tail -F`.
    File(String),
    /// A shell command (`sh -c`) whose stdout and stderr are the log.
    Cmd(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("log source {0:?}: expected file:PATH or cmd:COMMAND")]
    Kind(String),
    #[error("log source {0:?}: the path is empty")]
    EmptyPath(String),
    #[error("log source {0:?}: the command is empty")]
    EmptyCommand(String),
}

impl LogSourceSpec {
    pub fn parse(s: &str) -> Result<LogSourceSpec, SpecError> {
        let s = s.trim();
        // the spec may come from a config file: show it sanitized in errors
        let shown = || crate::text::sanitize(s);
        if let Some(path) = s.strip_prefix("file:") {
            let path = path.trim();
            if path.is_empty() {
                return Err(SpecError::EmptyPath(shown()));
            }
            Ok(LogSourceSpec::File(path.to_string()))
        } else if let Some(cmd) = s.strip_prefix("cmd:") {
            let cmd = cmd.trim();
            if cmd.is_empty() {
                return Err(SpecError::EmptyCommand(shown()));
            }
            Ok(LogSourceSpec::Cmd(cmd.to_string()))
        } else {
            Err(SpecError::Kind(shown()))
        }
    }

    /// Substitute `{member}` and `{host}`. Both come from etcd, so only words that passed
    /// the grammar in [`super::word`] are taken: letters, digits, `.`, `_`, `-`, `:`, never a
    /// leading `-`. Such a word is neither an option nor anything a shell treats specially,
    /// also where the command is parsed a second time (`ssh` joins its arguments and hands
    /// them to the remote shell). In a command they are shell-quoted all the same, as
    /// defence in depth for the local `sh -c`.
    ///
    /// `host` is None when the member has no usable host: a template that needs one cannot
    /// be resolved then.
    pub fn resolve(
        &self,
        member: &SafeMember,
        host: Option<&SafeHost>,
    ) -> Result<ResolvedSource, ResolveError> {
        if host.is_none() && self.uses_host() {
            return Err(ResolveError::NoHost);
        }
        Ok(ResolvedSource(match self {
            LogSourceSpec::File(p) => LogSourceSpec::File(substitute(p, member, host, false)),
            LogSourceSpec::Cmd(c) => LogSourceSpec::Cmd(substitute(c, member, host, true)),
        }))
    }

    /// True when the template mentions `{host}` (the caller may need to know a host first).
    pub fn uses_host(&self) -> bool {
        match self {
            LogSourceSpec::File(s) | LogSourceSpec::Cmd(s) => s.contains("{host}"),
        }
    }
}

impl FromStr for LogSourceSpec {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogSourceSpec::parse(s)
    }
}

impl fmt::Display for LogSourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogSourceSpec::File(p) => write!(f, "file:{p}"),
            LogSourceSpec::Cmd(c) => write!(f, "cmd:{c}"),
        }
    }
}

/// A log source with its placeholders filled in from checked words only: made by
/// [`LogSourceSpec::resolve`] and nothing else, so the runtime can only ever follow one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSource(LogSourceSpec);

impl ResolvedSource {
    pub fn spec(&self) -> &LogSourceSpec {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("the log source needs {{host}} and the member has no valid host")]
    NoHost,
}

/// One pass over the template, so a value that itself contains `{host}` is not expanded
/// again.
fn substitute(template: &str, member: &SafeMember, host: Option<&SafeHost>, quote: bool) -> String {
    let mut out = String::with_capacity(template.len() + 2 * super::word::MAX_LEN);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let (value, len) = if tail.starts_with("{member}") {
            (Some(member.as_str()), "{member}".len())
        } else if let (true, Some(h)) = (tail.starts_with("{host}"), host) {
            (Some(h.as_str()), "{host}".len())
        } else {
            (None, 1)
        };
        match value {
            Some(v) if quote => out.push_str(&shell_quote(v)),
            Some(v) => out.push_str(v),
            None => out.push('{'),
        }
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

/// Characters that are never special to a POSIX shell, so such words need no quotes.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '-' | '_' | '.' | ',' | ':' | '/' | '@' | '%' | '+' | '=')
}

fn needs_quoting(value: &str) -> bool {
    value.is_empty() || !value.chars().all(is_plain)
}

/// POSIX single-quoting: inside '...' nothing is special except ' itself.
pub fn shell_quote(value: &str) -> String {
    if !needs_quoting(value) {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_file_and_cmd() {
        assert_eq!(
            "file:/var/log/patroni/{member}.log".parse(),
            Ok(LogSourceSpec::File("/var/log/patroni/{member}.log".into()))
        );
        assert_eq!(
            LogSourceSpec::parse(" cmd: ssh {host} journalctl -u patroni -f -o cat "),
            Ok(LogSourceSpec::Cmd(
                "ssh {host} journalctl -u patroni -f -o cat".into()
            ))
        );
        assert_eq!(
            LogSourceSpec::parse("cmd:tail -F x").map(|s| s.to_string()),
            Ok("cmd:tail -F x".to_string())
        );
    }

    #[test]
    fn rejects_other_kinds_with_a_clear_message() {
        let e = LogSourceSpec::parse("/var/log/x.log").unwrap_err();
        assert_eq!(e, SpecError::Kind("/var/log/x.log".into()));
        assert_eq!(
            e.to_string(),
            "log source \"/var/log/x.log\": expected file:PATH or cmd:COMMAND"
        );
        assert!(matches!(
            LogSourceSpec::parse("file:  "),
            Err(SpecError::EmptyPath(_))
        ));
        assert!(matches!(
            LogSourceSpec::parse("cmd:"),
            Err(SpecError::EmptyCommand(_))
        ));
        assert!(matches!(LogSourceSpec::parse(""), Err(SpecError::Kind(_))));
        assert!(matches!(
            LogSourceSpec::parse("FILE:/x"),
            Err(SpecError::Kind(_))
        ));
        // control characters from the config do not reach the terminal through the error
        let e = LogSourceSpec::parse("x\x1b[2J").unwrap_err().to_string();
        assert!(!e.contains('\x1b'), "{e}");
    }

    fn m(s: &str) -> SafeMember {
        SafeMember::parse(s).unwrap()
    }

    fn h(s: &str) -> SafeHost {
        SafeHost::parse(s).unwrap()
    }

    fn resolved(spec: &LogSourceSpec, member: &str, host: &str) -> LogSourceSpec {
        spec.resolve(&m(member), Some(&h(host)))
            .unwrap()
            .spec()
            .clone()
    }

    #[test]
    fn file_placeholders_are_substituted() {
        let s = LogSourceSpec::File("/logs/{host}/{member}-{member}.log".into());
        assert_eq!(
            resolved(&s, "pg1", "10.0.0.1"),
            LogSourceSpec::File("/logs/10.0.0.1/pg1-pg1.log".into())
        );
        assert_eq!(
            resolved(&s, "pg1", "[fe80::1]"),
            LogSourceSpec::File("/logs/fe80::1/pg1-pg1.log".into())
        );
    }

    #[test]
    fn cmd_placeholders_are_substituted() {
        let s = LogSourceSpec::parse("cmd:ssh {host} journalctl -u patroni@{member} -f").unwrap();
        assert_eq!(
            resolved(&s, "pg1", "db1.example.com"),
            LogSourceSpec::Cmd("ssh db1.example.com journalctl -u patroni@pg1 -f".into())
        );
    }

    #[test]
    fn a_template_with_host_needs_a_host() {
        let s = LogSourceSpec::parse("cmd:ssh {host} cat /x/{member}").unwrap();
        assert_eq!(s.resolve(&m("pg1"), None), Err(ResolveError::NoHost));
        let f = LogSourceSpec::parse("file:/x/{member}.log").unwrap();
        assert_eq!(
            f.resolve(&m("pg1"), None).map(|r| r.spec().clone()),
            Ok(LogSourceSpec::File("/x/pg1.log".into()))
        );
    }

    #[test]
    fn other_braces_are_left_alone() {
        let s = LogSourceSpec::Cmd("echo {member} {host} {other} {".into());
        assert_eq!(
            resolved(&s, "pg1", "h"),
            LogSourceSpec::Cmd("echo pg1 h {other} {".into())
        );
        assert!(s.uses_host());
        assert!(!LogSourceSpec::File("/l/{member}".into()).uses_host());
    }

    /// The local quoting is still there, checked by the shell itself.
    #[test]
    fn quoted_values_reach_the_command_as_one_word() {
        for evil in [
            "x; echo pwned",
            "a'b",
            "$(id)",
            "`id`",
            "a\nb",
            "*",
            "-n",
            "",
        ] {
            let cmd = format!("printf '%s|' {}", shell_quote(evil));
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&cmd)
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!("{evil}|"),
                "{cmd}"
            );
        }
    }
}
