//! `file:` sources: follow a file like `tail -F`.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc::Sender;

use super::line::{LogLine, parse_line};

/// How often an open file is checked for new data, rotation and truncation.
const POLL: Duration = Duration::from_millis(250);
/// How often a missing or unreadable file is tried again: after a second, then less often
/// up to `RETRY_MAX` (64 followers of files that never come must not keep the blocking pool
/// busy), and every second again once it has opened.
const RETRY: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(8);
/// At most this much is read per poll, so one huge append cannot hold memory or the
/// blocking pool for long; the rest is read right after.
const READ_BUDGET: u64 = 1 << 20;
/// The backlog is searched in at most this many bytes from the end.
const BACKLOG_BYTES: u64 = 8 << 20;
/// A line longer than this is cut (a file without newlines must not grow memory).
const MAX_LINE: usize = 64 << 10;
const CHUNK: usize = 64 << 10;

/// Follow `path` until `tx`'s receiver is dropped: first the last `backlog` lines, then
/// whatever is appended. Survives rotation (a new file under the name: the old one is read
/// to its end, then the new one from its start) and truncation (read again from the
/// start). A missing or unreadable file is tried again after 1, 2, 4, then every 8 s, said once.
pub async fn follow_file(path: PathBuf, member: String, tx: Sender<LogLine>, backlog: usize) {
    let mut tailer = Tailer::new(path, backlog);
    let mut retry = RETRY;
    loop {
        // file I/O blocks: keep it off the runtime's worker threads
        let polled = tokio::task::spawn_blocking(move || {
            let p = tailer.poll();
            (tailer, p)
        })
        .await;
        let (t, polled) = match polled {
            Ok(r) => r,
            Err(e) => {
                let member = crate::text::sanitize(&member);
                tracing::warn!(member = %member, "log file follower stopped: {e}");
                return;
            }
        };
        tailer = t;
        for ev in polled.events {
            let line = match ev {
                Event::Line(s) => parse_line(&member, &s),
                Event::Notice(s) => LogLine::notice(&member, &s),
            };
            if tx.send(line).await.is_err() {
                return;
            }
        }
        let pause = if polled.more {
            Duration::ZERO
        } else if tailer.open.is_some() {
            retry = RETRY;
            POLL
        } else {
            let now = retry;
            retry = (retry * 2).min(RETRY_MAX);
            now
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = tx.closed() => return,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Event {
    Line(String),
    Notice(String),
}

#[derive(Debug, Default)]
struct Polled {
    events: Vec<Event>,
    /// The read budget ran out before the end of the file.
    more: bool,
}

struct Open {
    file: File,
    id: (u64, u64),
    pos: u64,
}

/// The synchronous state machine behind [`follow_file`].
struct Tailer {
    path: PathBuf,
    backlog: usize,
    open: Option<Open>,
    /// Only the first file opened starts at the backlog; later ones (rotation, a file that
    /// reappears) are new and read whole.
    opened_before: bool,
    partial: Vec<u8>,
    /// The last problem said, so a retry loop says it once.
    reported: Option<String>,
}

impl Tailer {
    fn new(path: PathBuf, backlog: usize) -> Tailer {
        Tailer {
            path,
            backlog,
            open: None,
            opened_before: false,
            partial: Vec::new(),
            reported: None,
        }
    }

    fn poll(&mut self) -> Polled {
        let mut out = Polled::default();
        let Some(mut o) = self.open.take() else {
            self.try_open(&mut out);
            return out;
        };
        let at_path = std::fs::metadata(&self.path).map(|m| (m.dev(), m.ino()));
        if at_path.as_ref().is_ok_and(|id| *id == o.id) {
            match o.file.metadata() {
                Ok(m) if m.len() < o.pos => {
                    self.flush_partial(&mut out);
                    out.events.push(Event::Notice(format!(
                        "[{} was truncated]",
                        self.path.display()
                    )));
                    o.pos = 0;
                }
                Ok(_) => {}
                Err(e) => {
                    self.fail(&mut out, e);
                    return out;
                }
            }
            match self.read(&mut o, &mut out) {
                Ok(_) => self.open = Some(o),
                Err(e) => self.fail(&mut out, e),
            }
            return out;
        }
        // renamed, replaced or deleted: the old file first, writers may still finish there
        let at_end = match self.read(&mut o, &mut out) {
            Ok(at_end) => at_end,
            Err(e) => {
                self.fail(&mut out, e);
                return out;
            }
        };
        if !at_end {
            self.open = Some(o);
            return out;
        }
        let deleted = o.file.metadata().map(|m| m.nlink() == 0).unwrap_or(true);
        if at_path.is_ok() || deleted {
            self.flush_partial(&mut out);
            self.try_open(&mut out);
        } else {
            // renamed away and nothing new yet: keep following the old file
            self.open = Some(o);
        }
        out
    }

    fn try_open(&mut self, out: &mut Polled) {
        // O_NONBLOCK: a FIFO would block open(2) (and a blocking-pool thread, and the exit)
        // until a writer comes; so it opens at once and is refused below. Reads of a
        // regular file do not change.
        let opened = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&self.path)
        };
        let file = match opened {
            Ok(f) => f,
            Err(e) => {
                let msg = match e.kind() {
                    io::ErrorKind::NotFound => {
                        format!("[{} is missing; waiting for it]", self.path.display())
                    }
                    _ => format!("[cannot open {}: {e}; retrying]", self.path.display()),
                };
                self.report(out, msg);
                return;
            }
        };
        let opened = file.metadata().and_then(|m| {
            // a directory opens fine and a FIFO cannot be read at an offset
            if !m.is_file() {
                return Err(io::Error::other("not a regular file"));
            }
            let pos = match self.opened_before {
                true => 0,
                false => backlog_start(&file, m.len(), self.backlog)?,
            };
            Ok(Open {
                id: (m.dev(), m.ino()),
                pos,
                file,
            })
        });
        let mut o = match opened {
            Ok(o) => o,
            Err(e) => {
                return self.report(
                    out,
                    format!("[cannot read {}: {e}; retrying]", self.path.display()),
                );
            }
        };
        self.opened_before = true;
        match self.read(&mut o, out) {
            Ok(_) => {
                // readable again: the next problem is news
                self.reported = None;
                self.open = Some(o);
            }
            Err(e) => self.fail(out, e),
        }
    }

    fn report(&mut self, out: &mut Polled, msg: String) {
        if self.reported.as_ref() != Some(&msg) {
            out.events.push(Event::Notice(msg.clone()));
            self.reported = Some(msg);
        }
    }

    /// A read error: say it, drop the file and open it again on the next poll.
    fn fail(&mut self, out: &mut Polled, e: io::Error) {
        self.flush_partial(out);
        let msg = format!("[cannot read {}: {e}; retrying]", self.path.display());
        self.report(out, msg);
        self.open = None;
    }

    /// Read from `o.pos` towards the end, within the budget. Ok(true): at the end.
    fn read(&mut self, o: &mut Open, out: &mut Polled) -> io::Result<bool> {
        let mut buf = vec![0u8; CHUNK];
        let mut budget = READ_BUDGET;
        loop {
            if budget == 0 {
                out.more = true;
                return Ok(false);
            }
            let want = buf.len().min(usize::try_from(budget).unwrap_or(usize::MAX));
            let n = match o.file.read_at(&mut buf[..want], o.pos) {
                Ok(0) => return Ok(true),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            o.pos += n as u64;
            budget -= n as u64;
            self.split_lines(&buf[..n], out);
        }
    }

    fn split_lines(&mut self, mut bytes: &[u8], out: &mut Polled) {
        loop {
            let newline = bytes.iter().position(|&b| b == b'\n');
            self.partial
                .extend_from_slice(&bytes[..newline.unwrap_or(bytes.len())]);
            // cut overlong lines; an unterminated one as soon as it cannot grow further
            while self.partial.len() > MAX_LINE
                || (newline.is_none() && self.partial.len() == MAX_LINE)
            {
                let rest = self.partial.split_off(MAX_LINE);
                self.emit_partial(out);
                self.partial = rest;
            }
            let Some(i) = newline else { return };
            self.emit_partial(out);
            bytes = &bytes[i + 1..];
        }
    }

    fn emit_partial(&mut self, out: &mut Polled) {
        let line = String::from_utf8_lossy(&self.partial).into_owned();
        self.partial.clear();
        out.events.push(Event::Line(line));
    }

    /// The unterminated last line of a file that is left behind still counts.
    fn flush_partial(&mut self, out: &mut Polled) {
        if !self.partial.is_empty() {
            self.emit_partial(out);
        }
    }
}

/// Where the last `n` lines of the file start (searching at most [`BACKLOG_BYTES`]).
fn backlog_start(f: &File, len: u64, n: usize) -> io::Result<u64> {
    if n == 0 || len == 0 {
        return Ok(len);
    }
    let floor = len.saturating_sub(BACKLOG_BYTES);
    let mut buf = vec![0u8; CHUNK];
    let mut end = len;
    let mut seen = 0;
    let mut earliest = None;
    while end > floor {
        let start = end.saturating_sub(CHUNK as u64).max(floor);
        let chunk = &mut buf[..usize::try_from(end - start).unwrap_or(CHUNK)];
        f.read_exact_at(chunk, start)?;
        for (i, &b) in chunk.iter().enumerate().rev() {
            let at = start + i as u64;
            // a final newline ends the last line, it does not start another
            if b != b'\n' || at + 1 == len {
                continue;
            }
            seen += 1;
            if seen == n {
                return Ok(at + 1);
            }
            earliest = Some(at + 1);
        }
        end = start;
    }
    // fewer lines than asked: all of them, or from the first whole line within the limit
    Ok(if floor == 0 {
        0
    } else {
        earliest.unwrap_or(floor)
    })
}

#[cfg(test)]
mod tests {
    use super::super::line::Level;
    use super::*;
    use std::io::Write;

    fn lines(p: &Polled) -> Vec<&str> {
        p.events
            .iter()
            .map(|e| match e {
                Event::Line(s) | Event::Notice(s) => s.as_str(),
            })
            .collect()
    }

    fn append(path: &std::path::Path, s: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(s).unwrap();
    }

    #[test]
    fn backlog_starts_at_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, "1\n2\n3\n4\n").unwrap();
        let f = File::open(&p).unwrap();
        assert_eq!(backlog_start(&f, 8, 2).unwrap(), 4);
        assert_eq!(backlog_start(&f, 8, 0).unwrap(), 8);
        assert_eq!(backlog_start(&f, 8, 4).unwrap(), 0);
        assert_eq!(backlog_start(&f, 8, 100).unwrap(), 0);
        std::fs::write(&p, "1\n2\n3\n4").unwrap();
        let f = File::open(&p).unwrap();
        assert_eq!(backlog_start(&f, 7, 1).unwrap(), 6);
        assert_eq!(backlog_start(&f, 7, 2).unwrap(), 4);
    }

    #[test]
    fn partial_lines_wait_for_their_newline_and_long_ones_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, "").unwrap();
        let mut t = Tailer::new(p.clone(), 10);
        assert!(t.poll().events.is_empty());
        append(&p, b"hal");
        assert!(t.poll().events.is_empty());
        append(&p, b"f\xff\nnext\n");
        assert_eq!(lines(&t.poll()), ["half\u{FFFD}", "next"]);
        append(&p, &vec![b'x'; MAX_LINE + 5]);
        let polled = t.poll();
        assert_eq!(polled.events.len(), 1);
        assert!(matches!(&polled.events[0], Event::Line(s) if s.len() == MAX_LINE));
        // a long line read in one go is cut at the same length
        append(
            &p,
            &[b"\n".as_slice(), &vec![b'z'; 2 * MAX_LINE + 1], b"\n"].concat(),
        );
        let lens: Vec<usize> = lines(&t.poll()).iter().map(|s| s.len()).collect();
        assert_eq!(lens, [5, MAX_LINE, MAX_LINE, 1]);
    }

    #[test]
    fn a_path_that_is_not_a_file_is_said_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Tailer::new(dir.path().to_path_buf(), 10);
        let first = t.poll();
        assert_eq!(first.events.len(), 1);
        assert!(lines(&first)[0].contains("not a regular file"), "{first:?}");
        assert!(t.poll().events.is_empty());
        assert!(t.poll().events.is_empty());
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo");
        let c = std::ffi::CString::new(p.to_string_lossy().as_bytes()).unwrap();
        // SAFETY: mkfifo reads the NUL-terminated path and nothing else
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // on a thread: a blocking open must fail the test, not hang it
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut t = Tailer::new(p, 10);
            let _ = tx.send(
                lines(&t.poll())
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>(),
            );
        });
        let said = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("poll returned: the FIFO's open did not block");
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("not a regular file"), "{said:?}");
    }

    #[test]
    fn big_appends_are_read_in_budgeted_polls() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, "").unwrap();
        let mut t = Tailer::new(p.clone(), 0);
        assert!(t.poll().events.is_empty());
        let line = "y".repeat(1023) + "\n";
        append(&p, line.repeat(1536).as_bytes());
        let first = t.poll();
        assert!(first.more);
        assert_eq!(first.events.len(), 1024);
        let second = t.poll();
        assert!(!second.more);
        assert_eq!(second.events.len(), 512);
    }

    async fn next(rx: &mut tokio::sync::mpsc::Receiver<LogLine>) -> LogLine {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(l)) => l,
            Ok(None) => panic!("follower stopped"),
            Err(_) => panic!("no line within 10 s"),
        }
    }

    async fn next_texts(rx: &mut tokio::sync::mpsc::Receiver<LogLine>, n: usize) -> Vec<String> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(next(rx).await.text);
        }
        v
    }

    fn start(path: PathBuf, backlog: usize) -> tokio::sync::mpsc::Receiver<LogLine> {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(follow_file(path, "pg1".into(), tx, backlog));
        rx
    }

    #[tokio::test]
    async fn backlog_then_appends() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("patroni.log");
        std::fs::write(&p, "old1\nold2\n2026-11-26 00:24:45,401 INFO: old3\n").unwrap();
        let mut rx = start(p.clone(), 2);
        assert_eq!(
            next_texts(&mut rx, 2).await,
            ["old2", "2026-11-26 00:24:45,401 INFO: old3"]
        );
        append(&p, b"2026-11-26 00:24:46,000 ERROR: new\n");
        let l = next(&mut rx).await;
        assert_eq!(
            (l.text.as_str(), l.level, l.member.as_str()),
            ("2026-11-26 00:24:46,000 ERROR: new", Level::Error, "pg1")
        );
    }

    #[tokio::test]
    async fn rotation_reads_the_old_file_to_its_end_then_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("patroni.log");
        std::fs::write(&p, "before\n").unwrap();
        let mut rx = start(p.clone(), 10);
        assert_eq!(next_texts(&mut rx, 1).await, ["before"]);
        let rotated = dir.path().join("patroni.log.1");
        std::fs::rename(&p, &rotated).unwrap();
        // a writer still holding the old file finishes its line there
        append(&rotated, b"late\n");
        std::fs::write(&p, "fresh1\nfresh2\n").unwrap();
        assert_eq!(next_texts(&mut rx, 3).await, ["late", "fresh1", "fresh2"]);
        append(&p, b"after\n");
        assert_eq!(next_texts(&mut rx, 1).await, ["after"]);
    }

    #[tokio::test]
    async fn truncation_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("patroni.log");
        std::fs::write(&p, "one\ntwo\n").unwrap();
        let mut rx = start(p.clone(), 10);
        assert_eq!(next_texts(&mut rx, 2).await, ["one", "two"]);
        // like logrotate's copytruncate: same file, shorter
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&p, b"3\n");
        let got = next_texts(&mut rx, 2).await;
        assert!(got[0].contains("was truncated"), "{got:?}");
        assert_eq!(got[1], "3");
    }

    #[tokio::test]
    async fn missing_file_is_said_once_then_followed_when_it_appears() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("later.log");
        let mut rx = start(p.clone(), 10);
        let l = next(&mut rx).await;
        assert_eq!(l.level, Level::Other);
        assert!(l.text.contains("later.log is missing"), "{}", l.text);
        // let a few retries pass: they must stay silent (not a timing assertion)
        tokio::time::sleep(Duration::from_millis(2500)).await;
        std::fs::write(&p, "hello\n").unwrap();
        assert_eq!(next_texts(&mut rx, 1).await, ["hello"]);
    }

    #[tokio::test]
    async fn stops_when_the_receiver_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, "x\n").unwrap();
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let task = tokio::spawn(follow_file(p, "pg1".into(), tx, 10));
        drop(rx);
        let done = tokio::time::timeout(Duration::from_secs(10), task).await;
        assert!(matches!(done, Ok(Ok(()))));
    }
}
