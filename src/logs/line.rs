//! One log line: who wrote it, its (sanitized) text, level and timestamp.

use crate::text::sanitize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
    /// Unknown format, continuation lines (tracebacks) and patrol's own notices.
    Other,
}

impl Level {
    /// Python's level names as Patroni writes them, and PostgreSQL's (for sources that
    /// follow the server log).
    fn from_word(w: &str) -> Option<Level> {
        Some(match w {
            "DEBUG" | "DEBUG1" | "DEBUG2" | "DEBUG3" | "DEBUG4" | "DEBUG5" => Level::Debug,
            "INFO" | "LOG" | "NOTICE" => Level::Info,
            "WARNING" | "WARN" => Level::Warning,
            "ERROR" => Level::Error,
            "CRITICAL" | "FATAL" | "PANIC" => Level::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
            Level::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The member whose source produced the line, as given (not sanitized: it is the key
    /// the app filters by; the UI sanitizes it like every member name).
    pub member: String,
    /// The whole line, control characters replaced.
    pub text: String,
    pub level: Level,
    /// The line's own timestamp as written (`2026-11-26 00:24:45,401`,
    /// `2026-11-26T00:24:45+0000`), if it starts with one.
    pub ts: Option<String>,
}

impl LogLine {
    /// A line patrol itself adds to a member's log (file missing, command exited ...).
    pub fn notice(member: &str, message: &str) -> LogLine {
        LogLine {
            member: member.to_string(),
            text: sanitize(message),
            level: Level::Other,
            ts: None,
        }
    }
}

/// Parse one line (already decoded, lossily if need be). Understands Patroni's default
/// `%(asctime)s %(levelname)s: %(message)s`, journald `-o cat` (the same line),
/// `short-iso` / `short-iso-precise` / `short` (a `host ident[pid]: ` prefix before it) and
/// PostgreSQL's `%m [%p] LEVEL:  ...`. Anything else is kept whole with level `Other`.
pub fn parse_line(member: &str, raw: &str) -> LogLine {
    let raw = raw.strip_suffix('\n').unwrap_or(raw);
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    // journald's formats put `host ident[pid]: ` after their date; Patroni's and
    // PostgreSQL's (a space, not `T`, in the date) do not
    let (ts, msg, journal) = match leading_ts(raw) {
        Some((ts, rest)) => (Some(ts), rest, ts.as_bytes().get(10) == Some(&b'T')),
        None => match skip_syslog_date(raw) {
            Some(rest) => (None, rest, true),
            None => (None, raw, false),
        },
    };
    let msg = match journal {
        true => strip_journal_prefix(msg).unwrap_or(msg),
        false => msg,
    };
    // the message may carry Patroni's own timestamp (journald short formats)
    let (inner_ts, msg) = match leading_ts(msg) {
        Some((t, m)) => (Some(t), m),
        None => (None, msg),
    };
    let dated = ts.is_some() || inner_ts.is_some() || journal;
    LogLine {
        member: member.to_string(),
        text: sanitize(raw),
        level: level_of(msg, dated),
        ts: ts.or(inner_ts).map(str::to_string),
    }
}

/// After a date, the first of the next few words that is `LEVEL:` (PostgreSQL puts a
/// zone and `[pid]` before it); without one, only a leading `LEVEL:` counts.
fn level_of(msg: &str, dated: bool) -> Level {
    msg.split_ascii_whitespace()
        .take(if dated { 3 } else { 1 })
        .find_map(|w| w.strip_suffix(':').and_then(Level::from_word))
        .unwrap_or(Level::Other)
}

fn digits(b: &[u8], at: usize, n: usize) -> bool {
    b.len() >= at + n && b[at..at + n].iter().all(u8::is_ascii_digit)
}

/// `YYYY-MM-DD[ T]HH:MM:SS[,.]frac` and an optional `Z` / `+hh:mm` / `+hhmm`, followed by
/// whitespace or the end. Returns the timestamp and what follows it, trimmed.
fn leading_ts(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let shape = digits(b, 0, 4)
        && b.get(4) == Some(&b'-')
        && digits(b, 5, 2)
        && b.get(7) == Some(&b'-')
        && digits(b, 8, 2)
        && matches!(b.get(10), Some(b' ' | b'T'))
        && digits(b, 11, 2)
        && b.get(13) == Some(&b':')
        && digits(b, 14, 2)
        && b.get(16) == Some(&b':')
        && digits(b, 17, 2);
    if !shape {
        return None;
    }
    let mut end = 19;
    if matches!(b.get(end), Some(b',' | b'.')) && digits(b, end + 1, 1) {
        end += 1;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    }
    match b.get(end) {
        Some(b'Z') => end += 1,
        Some(b'+' | b'-') if digits(b, end + 1, 2) => {
            if b.get(end + 3) == Some(&b':') && digits(b, end + 4, 2) {
                end += 6;
            } else if digits(b, end + 3, 2) {
                end += 5;
            }
        }
        _ => {}
    }
    match b.get(end) {
        None => Some((s, "")),
        Some(c) if c.is_ascii_whitespace() => Some((&s[..end], s[end..].trim_start())),
        _ => None,
    }
}

/// journald's `short` date, `Nov 26 00:24:45 ` (no year: not kept as a timestamp).
fn skip_syslog_date(s: &str) -> Option<&str> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = s.as_bytes();
    let month = s.get(..3).is_some_and(|m| MONTHS.contains(&m));
    let shape = month
        && b.get(3) == Some(&b' ')
        && matches!(b.get(4), Some(b' ' | b'0'..=b'9'))
        && digits(b, 5, 1)
        && b.get(6) == Some(&b' ')
        && digits(b, 7, 2)
        && b.get(9) == Some(&b':')
        && digits(b, 10, 2)
        && b.get(12) == Some(&b':')
        && digits(b, 13, 2)
        && b.get(15) == Some(&b' ');
    shape.then(|| &s[16..])
}

/// `host ident[pid]: message` -> `message`.
fn strip_journal_prefix(s: &str) -> Option<&str> {
    let (host, rest) = s.split_once(' ')?;
    let (ident, msg) = rest.split_once(": ")?;
    // `INFO: a: b` after a plain date is a message, not a host and an ident
    let plausible = !host.ends_with(':') && !ident.is_empty() && !ident.contains(' ');
    plausible.then_some(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patroni_levels() {
        for (word, level) in [
            ("DEBUG", Level::Debug),
            ("INFO", Level::Info),
            ("WARNING", Level::Warning),
            ("ERROR", Level::Error),
            ("CRITICAL", Level::Critical),
        ] {
            let raw = format!(
                "2026-11-26 00:24:45,401 {word}: no action. I am (pg1), the leader with the lock"
            );
            let l = parse_line("pg1", &raw);
            assert_eq!(l.level, level, "{raw}");
            assert_eq!(l.ts.as_deref(), Some("2026-11-26 00:24:45,401"));
            assert_eq!(l.text, raw);
            assert_eq!(l.member, "pg1");
        }
    }

    #[test]
    fn journald_cat_short_iso_and_short() {
        // -o cat of a Patroni unit is Patroni's own line
        let l = parse_line("pg1", "2026-11-26 00:24:45,401 WARNING: Request failed");
        assert_eq!(
            (l.level, l.ts.as_deref()),
            (Level::Warning, Some("2026-11-26 00:24:45,401"))
        );

        let raw = "2026-11-26T00:24:45+0000 db1 patroni[812]: 2026-11-26 00:24:45,401 ERROR: boom";
        let l = parse_line("pg1", raw);
        assert_eq!(
            (l.level, l.ts.as_deref()),
            (Level::Error, Some("2026-11-26T00:24:45+0000"))
        );
        assert_eq!(l.text, raw);

        let l = parse_line(
            "pg1",
            "2026-11-26T00:24:45.123456+01:00 db1 patroni[812]: INFO: no action",
        );
        assert_eq!(
            (l.level, l.ts.as_deref()),
            (Level::Info, Some("2026-11-26T00:24:45.123456+01:00"))
        );

        // short: no year, so the inner Patroni timestamp is the one kept
        let l = parse_line(
            "pg1",
            "Nov  6 00:24:45 db1 patroni[812]: 2026-11-06 00:24:45,401 CRITICAL: x",
        );
        assert_eq!(
            (l.level, l.ts.as_deref()),
            (Level::Critical, Some("2026-11-06 00:24:45,401"))
        );

        // journald lines of something that is not Patroni: kept whole
        let l = parse_line(
            "pg1",
            "2026-11-26T00:24:45+0000 db1 systemd[1]: Started patroni.service.",
        );
        assert_eq!(
            (l.level, l.ts.as_deref()),
            (Level::Other, Some("2026-11-26T00:24:45+0000"))
        );
        assert_eq!(
            l.text,
            "2026-11-26T00:24:45+0000 db1 systemd[1]: Started patroni.service."
        );
    }

    #[test]
    fn postgres_lines() {
        let l = parse_line(
            "pg1",
            "2026-11-26 00:24:45.401 UTC [123] FATAL:  the database system is starting up",
        );
        assert_eq!(
            (l.level, l.ts.as_deref()),
            (Level::Critical, Some("2026-11-26 00:24:45.401"))
        );
        assert_eq!(
            parse_line("pg1", "2026-11-26 00:24:45.401 UTC [9] LOG:  ok").level,
            Level::Info
        );
    }

    #[test]
    fn odd_input() {
        let l = parse_line("pg1", "");
        assert_eq!((l.text.as_str(), l.level, l.ts), ("", Level::Other, None));

        let l = parse_line("pg1", "\x1b[2J\x07evil\u{202E}txt\r\n");
        assert_eq!(l.text, "?[2J?evil?txt");
        assert_eq!(l.level, Level::Other);

        // a traceback line: no timestamp, no level
        let l = parse_line(
            "pg1",
            "  File \"/usr/lib/python3/dist-packages/patroni/ha.py\", line 1, in run",
        );
        assert_eq!((l.level, l.ts), (Level::Other, None));
        assert_eq!(
            parse_line("pg1", "Traceback (most recent call last):").level,
            Level::Other
        );

        // a level word without a timestamp still counts; one deep in the message does not
        assert_eq!(parse_line("pg1", "ERROR: x").level, Level::Error);
        assert_eq!(
            parse_line("pg1", "the thing said ERROR: x").level,
            Level::Other
        );
        assert_eq!(
            parse_line("pg1", "2026-11-26 00:24:45,401 error: x").level,
            Level::Other
        );

        // almost-timestamps are not timestamps
        for s in [
            "2026-11-26 00:24",
            "2026-11-26 00:24:45x INFO: y",
            "202X-11-26 00:24:45 INFO: y",
        ] {
            assert_eq!(parse_line("pg1", s).ts, None, "{s}");
        }
        assert_eq!(
            parse_line("pg1", "2026-11-26 00:24:45").ts.as_deref(),
            Some("2026-11-26 00:24:45")
        );
        // multi-byte text right where a timestamp would end is not sliced mid-character
        assert_eq!(parse_line("pg1", "2026-11-26 00:24:45é").ts, None);
        assert_eq!(parse_line("pg1", "Nov 2é").ts, None);
        assert_eq!(parse_line("pg1", "节点一 INFO: x").level, Level::Other);
        // a colon in the message is not taken for a journald `ident:`
        let l = parse_line(
            "pg1",
            "2026-11-26T00:24:45Z INFO: Lock owner: pg2; I am pg1",
        );
        assert_eq!(l.level, Level::Info);
        let l = parse_line("pg1", "2026-11-26 00:24:45,401 INFO: establishing: x");
        assert_eq!(l.level, Level::Info);
    }

    #[test]
    fn notices_are_sanitized() {
        let n = LogLine::notice("pg1", "[file /x\x1b is missing]");
        assert_eq!(
            (n.text.as_str(), n.level, n.ts),
            ("[file /x? is missing]", Level::Other, None)
        );
    }
}
