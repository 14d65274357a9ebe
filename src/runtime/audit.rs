//! The audit log: one JSON line per intent and per outcome, with time, session and the OS
//! user, appended and flushed to disk (the file's data, and the directory's entry when the
//! file is new) before the caller goes on.

use std::path::PathBuf;

pub struct AuditLog {
    path: Option<PathBuf>,
    /// Names this run: with an operation's id it joins the intent line to the outcome line
    /// (ids start again in every run).
    session: String,
}

impl AuditLog {
    pub fn new(path: Option<PathBuf>) -> AuditLog {
        AuditLog {
            path,
            session: format!(
                "{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or(0)
            ),
        }
    }

    /// Append one line (with time and user) and flush it to disk.
    pub fn append(&self, mut record: serde_json::Value) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Err("no audit log configured".into());
        };
        if let Some(o) = record.as_object_mut() {
            o.insert(
                "time".into(),
                humantime::format_rfc3339_millis(std::time::SystemTime::now())
                    .to_string()
                    .into(),
            );
            o.insert("session".into(), self.session.clone().into());
            let who = os_user();
            o.insert("user".into(), who.name.into());
            o.insert("uid".into(), who.uid.into());
            // as claimed by the environment: recorded beside the real user, never instead
            o.insert("sudo_user".into(), who.sudo_user.into());
        }
        let line = line(&record);
        (|| -> std::io::Result<()> {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            if let Some(dir) = dir {
                std::fs::create_dir_all(dir)?;
            }
            let new = !path.exists();
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            f.write_all(line.as_bytes())?;
            f.sync_data()?;
            if new {
                std::fs::File::open(dir.unwrap_or(std::path::Path::new(".")))?.sync_all()?;
            }
            Ok(())
        })()
        .map_err(|e| format!("audit log {}: {e}", path.display()))
    }
}

/// One audit line: the record as JSON, with every character that is unsafe on a terminal
/// (`text::is_unsafe`: C1, DEL, bidi controls, which serde_json writes raw) escaped as
/// `\uXXXX`, as `list -f json` does: a member name with U+202E cannot make the line read
/// otherwise when someone `cat`s the file. Any JSON reader gets the same values.
fn line(record: &serde_json::Value) -> String {
    format!("{}\n", crate::text::json_escape_unsafe(&record.to_string()))
}

/// Who runs patrol, for the audit log.
struct OsUser {
    /// The real uid's login name from /etc/passwd (environment variables can be missing, in
    /// tmux or cron, and are easy to fake); `uid N` when it has none.
    name: String,
    uid: Option<u32>,
    /// `SUDO_USER`, as claimed.
    sudo_user: Option<String>,
}

/// The real uid: the first field of `Uid:` in /proc/self/status (real, effective, saved, fs).
fn real_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn passwd_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
    })
}

fn os_user() -> OsUser {
    let uid = real_uid();
    let name = match uid {
        Some(u) => passwd_name(u).unwrap_or_else(|| format!("uid {u}")),
        None => "unknown".into(),
    };
    OsUser {
        name,
        uid,
        sudo_user: std::env::var("SUDO_USER").ok().filter(|s| !s.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intent_line_escapes_bidi_and_c1_controls_of_a_member_name() {
        use crate::app::ops::{Expect, OpKind, Operation, Settle, intent_record};
        use crate::write::{Method, Request};
        let member = "pg\u{202E}1\u{0085}x\u{009B}31m\u{7F}";
        let op = Operation {
            id: 1,
            kind: OpKind::Restart,
            cluster: "demo".into(),
            title: format!("restart {member}"),
            request: Request::new(
                member,
                "http://h:8008/patroni",
                Method::Post,
                "/restart",
                None,
            ),
            expect: Expect::Reply,
            started: std::time::Instant::now(),
            reply: None,
            settle: Settle::Sending,
            timeout: std::time::Duration::from_secs(1),
            audited: false,
        };
        let record = intent_record(&op);
        assert_eq!(
            record["member"], member,
            "the premise: the raw name in the record"
        );
        let l = line(&record);
        for c in ['\u{202E}', '\u{0085}', '\u{009B}', '\u{7F}'] {
            assert!(!l.contains(c), "{c:?} raw in {l:?}");
            let mut b = [0u8; 4];
            let bytes = c.encode_utf8(&mut b).as_bytes();
            assert!(
                !l.as_bytes().windows(bytes.len()).any(|w| w == bytes),
                "the bytes of {c:?} in {l:?}"
            );
        }
        for esc in ["\\u202e", "\\u0085", "\\u009b", "\\u007f"] {
            assert_eq!(l.matches(esc).count(), 2, "{esc} twice in {l}");
        }
        assert!(l.ends_with("}\n") && l.matches('\n').count() == 1, "{l:?}");
        // the same values to a JSON reader
        let back: serde_json::Value = serde_json::from_str(l.trim_end()).expect("json");
        assert_eq!(back, record);
    }
}
