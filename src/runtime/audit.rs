//! The audit log: one JSON line per intent and per outcome, with time, session and the OS
//! user, appended and flushed to disk (the file's data, and the directory's entry when the
//! file is new) before the caller goes on.
//!
//! The writing happens on a thread of its own: a home on a hung NFS server must not freeze
//! the console or its exit. The caller waits for the line to be on disk at most
//! [`AUDIT_DEADLINE`]; a write whose intent line is not on disk by then is not sent.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

/// How long a line may take to reach the disk before the caller gives up on it.
pub const AUDIT_DEADLINE: Duration = Duration::from_secs(2);

/// Where audit lines go: appended and durable when `append_line` returns Ok.
pub trait AuditSink: Send + 'static {
    fn append_line(&mut self, line: &str) -> Result<(), String>;
}

/// The audit log file.
pub struct FileSink {
    pub path: PathBuf,
}

impl AuditSink for FileSink {
    fn append_line(&mut self, line: &str) -> Result<(), String> {
        let path = &self.path;
        (|| -> std::io::Result<()> {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            if let Some(dir) = dir {
                std::fs::create_dir_all(dir)?;
            }
            let new = match std::fs::metadata(path) {
                // said plainly (a FIFO without a reader would fail open with ENXIO)
                Ok(m) if !m.is_file() => return Err(std::io::Error::other("not a regular file")),
                Ok(_) => false,
                Err(_) => true,
            };
            // O_NONBLOCK: opening a FIFO for writing would block in open(2) until a reader
            // comes; with it, open returns at once and the check below refuses it. (It
            // changes nothing for a regular file.)
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)?;
            if !f.metadata()?.is_file() {
                return Err(std::io::Error::other("not a regular file"));
            }
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

/// A line handed to the writer thread, with where to say how it went.
struct Job {
    seq: u64,
    record: serde_json::Value,
    done: oneshot::Sender<Result<(), String>>,
}

/// What the writer thread has not finished, and what failed (for the report at exit).
#[derive(Default)]
struct Ledger {
    next: u64,
    pending: BTreeMap<u64, String>,
    failed: Vec<(u64, String)>,
}

pub struct AuditLog {
    /// Where lines go, as said in messages (None: no audit log configured).
    label: Option<String>,
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    ledger: Arc<Mutex<Ledger>>,
    /// The writer thread says here that it has finished (its queue is empty and closed).
    finished: Option<std::sync::mpsc::Receiver<()>>,
    deadline: Duration,
}

impl AuditLog {
    pub fn new(path: Option<PathBuf>) -> AuditLog {
        match path {
            Some(p) => AuditLog::with_sink(
                Box::new(FileSink { path: p.clone() }),
                p.display().to_string(),
                AUDIT_DEADLINE,
            ),
            None => AuditLog {
                label: None,
                jobs: None,
                ledger: Arc::default(),
                finished: None,
                deadline: AUDIT_DEADLINE,
            },
        }
    }

    /// Lines go to `sink` (named `label` in messages) on a thread of their own; a caller
    /// waits at most `deadline` for each.
    pub fn with_sink(sink: Box<dyn AuditSink>, label: String, deadline: Duration) -> AuditLog {
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        let (fin_tx, finished) = std::sync::mpsc::channel::<()>();
        let ledger: Arc<Mutex<Ledger>> = Arc::default();
        // names this run: with an operation's id it joins the intent line to the outcome
        // line (ids start again in every run)
        let (l, sess) = (ledger.clone(), session());
        let spawned = std::thread::Builder::new()
            .name("patrol-audit".into())
            .spawn(move || {
                let mut sink = sink;
                // who runs patrol does not change: asked once, here, off the runtime thread
                let who = os_user();
                for job in rx {
                    let mut record = job.record;
                    if let Some(o) = record.as_object_mut() {
                        o.insert("session".into(), sess.clone().into());
                        o.insert("user".into(), who.name.clone().into());
                        o.insert("uid".into(), who.uid.into());
                        // as claimed by the environment: recorded beside the real user, never
                        // instead
                        o.insert("sudo_user".into(), who.sudo_user.clone().into());
                    }
                    let r = sink.append_line(&line(&record));
                    if let Ok(mut l) = l.lock() {
                        l.pending.remove(&job.seq);
                        if let Err(e) = &r {
                            l.failed.push((job.seq, e.clone()));
                        }
                    }
                    let _ = job.done.send(r);
                }
                let _ = fin_tx.send(());
            });
        AuditLog {
            label: Some(label),
            // a thread that could not start: every append says so, nothing is sent
            jobs: spawned.ok().map(|_| jobs),
            ledger,
            finished: Some(finished),
            deadline,
        }
    }

    /// Queue one line (with time, session and user) and return what waits for it to be on
    /// disk, at most the deadline. Queued at once, in the caller's order; the waiting needs
    /// no `&self`, so the runtime thread never blocks on the disk.
    pub fn append(
        &self,
        mut record: serde_json::Value,
    ) -> impl Future<Output = Result<(), String>> + Send + 'static {
        if let Some(o) = record.as_object_mut() {
            // the time of the decision, not of the disk
            o.insert(
                "time".into(),
                humantime::format_rfc3339_millis(std::time::SystemTime::now())
                    .to_string()
                    .into(),
            );
        }
        let label = self.label.clone().unwrap_or_default();
        let deadline = self.deadline;
        let queued = match (&self.label, &self.jobs) {
            (None, _) => Err("no audit log configured".to_string()),
            (Some(_), None) => Err(format!(
                "audit log {label}: the writer thread did not start"
            )),
            (Some(_), Some(jobs)) => {
                let (done, rx) = oneshot::channel();
                // reported on stderr at exit if never written: escaped like the file's lines
                let line = line(&record).trim_end().to_string();
                let seq = match self.ledger.lock() {
                    Ok(mut l) => {
                        l.next += 1;
                        let seq = l.next;
                        l.pending.insert(seq, line);
                        seq
                    }
                    Err(_) => 0,
                };
                jobs.send(Job { seq, record, done })
                    .map(|()| rx)
                    .map_err(|_| format!("audit log {label}: the writer thread has stopped"))
            }
        };
        async move {
            match tokio::time::timeout(deadline, queued?).await {
                Ok(Ok(r)) => r,
                Ok(Err(_)) => Err(format!("audit log {label}: the writer thread has stopped")),
                Err(_) => Err(format!(
                    "the audit log could not be written within {}: {label}",
                    humantime::format_duration(deadline)
                )),
            }
        }
    }

    /// The number the next line gets: [`AuditLog::finish`] reports failures from there on.
    pub fn mark(&self) -> u64 {
        self.ledger.lock().map(|l| l.next + 1).unwrap_or(0)
    }

    /// No more lines: wait at most `wait` for the queued ones to reach the disk, and return
    /// what is not there (lines still waiting, lines since `since` that failed), as text
    /// for the operator. Never waits longer: a blocked disk must not hold up the exit.
    pub fn finish(&mut self, since: u64, wait: Duration) -> Vec<String> {
        self.jobs = None; // the thread ends once its queue is empty
        if let Some(f) = self.finished.take() {
            let _ = f.recv_timeout(wait);
        }
        let label = self.label.clone().unwrap_or_default();
        let Ok(l) = self.ledger.lock() else {
            return vec![format!("audit log {label}: its state is unknown")];
        };
        let mut out: Vec<String> = l
            .pending
            .values()
            .map(|line| {
                format!(
                    "not written to the audit log {label} within {}: {line}",
                    humantime::format_duration(wait)
                )
            })
            .collect();
        out.extend(
            l.failed
                .iter()
                .filter(|(seq, _)| *seq >= since)
                .map(|(_, e)| e.clone()),
        );
        out
    }
}

fn session() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    )
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
    let status = crate::files::read_bounded_string(
        std::path::Path::new("/proc/self/status"),
        crate::files::MAX_SYSTEM,
    )
    .ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn passwd_name(uid: u32) -> Option<String> {
    let passwd = crate::files::read_bounded_string(
        std::path::Path::new("/etc/passwd"),
        crate::files::MAX_SYSTEM,
    )
    .ok()?;
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
            settled_at: None,
            logged: false,
            retired: false,
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
