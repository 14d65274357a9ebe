//! Where a member's log comes from: `file:PATH` or `cmd:COMMAND`, with `{member}` and
//! `{host}` placeholders.

use std::fmt;
use std::str::FromStr;

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

    /// Substitute `{member}` and `{host}`. Both come from etcd, so in a command they are
    /// shell-quoted: a member named `x; rm -rf /` stays one word. Write the placeholders
    /// unquoted in the template (`journalctl -u patroni@{member}`), not inside quotes.
    ///
    /// One level of quoting protects the local `sh -c` only: `ssh` joins its arguments and
    /// hands them to the remote shell, which parses them again. Members whose names need
    /// quoting at all are therefore suspect with `cmd:ssh ...` templates; see
    /// [`needs_quoting`].
    pub fn resolve(&self, member: &str, host: &str) -> LogSourceSpec {
        match self {
            LogSourceSpec::File(p) => LogSourceSpec::File(substitute(p, member, host, false)),
            LogSourceSpec::Cmd(c) => LogSourceSpec::Cmd(substitute(c, member, host, true)),
        }
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

/// One pass over the template, so a value that itself contains `{host}` is not expanded
/// again.
fn substitute(template: &str, member: &str, host: &str, quote: bool) -> String {
    let mut out = String::with_capacity(template.len() + member.len() + host.len());
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let (value, len) = if tail.starts_with("{member}") {
            (Some(member), "{member}".len())
        } else if tail.starts_with("{host}") {
            (Some(host), "{host}".len())
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

/// Whether `value` would be quoted when put into a `cmd:` source.
pub fn needs_quoting(value: &str) -> bool {
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

    #[test]
    fn file_placeholders_are_substituted_without_quoting() {
        let s = LogSourceSpec::File("/logs/{host}/{member}-{member}.log".into());
        assert_eq!(
            s.resolve("pg 1", "10.0.0.1"),
            LogSourceSpec::File("/logs/10.0.0.1/pg 1-pg 1.log".into())
        );
    }

    #[test]
    fn cmd_placeholders_are_quoted() {
        let s = LogSourceSpec::parse("cmd:ssh {host} journalctl -u patroni@{member} -f").unwrap();
        assert_eq!(
            s.resolve("pg1", "db1.example.com"),
            LogSourceSpec::Cmd("ssh db1.example.com journalctl -u patroni@pg1 -f".into())
        );
        assert_eq!(
            s.resolve("x; rm -rf /", "h"),
            LogSourceSpec::Cmd("ssh h journalctl -u patroni@'x; rm -rf /' -f".into())
        );
        assert_eq!(
            s.resolve("it's", "$(reboot)"),
            LogSourceSpec::Cmd("ssh '$(reboot)' journalctl -u patroni@'it'\\''s' -f".into())
        );
        assert_eq!(
            LogSourceSpec::Cmd("echo {member}".into()).resolve("", ""),
            LogSourceSpec::Cmd("echo ''".into())
        );
    }

    #[test]
    fn substituted_values_are_not_expanded_again() {
        let s = LogSourceSpec::Cmd("echo {member} {host} {other} {".into());
        assert_eq!(
            s.resolve("{host}", "h"),
            LogSourceSpec::Cmd("echo '{host}' h {other} {".into())
        );
        let f = LogSourceSpec::File("/l/{member}".into());
        assert_eq!(
            f.resolve("{host}", "h"),
            LogSourceSpec::File("/l/{host}".into())
        );
        assert!(s.uses_host());
        assert!(!f.uses_host());
    }

    /// The quoting is checked by the shell itself, not only by string comparison.
    #[test]
    fn quoted_values_reach_the_command_as_one_word() {
        for evil in ["x; echo pwned", "a'b", "$(id)", "`id`", "a\nb", "*", "-n"] {
            let s = LogSourceSpec::Cmd("printf '%s|' {member}".into()).resolve(evil, "");
            let LogSourceSpec::Cmd(cmd) = s else {
                panic!("not a command")
            };
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
