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
        let line = format!("{record}\n");
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
