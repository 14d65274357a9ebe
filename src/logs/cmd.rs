//! `cmd:` sources: a command whose output is the log (`ssh db1 journalctl -f ...`).

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc::Sender;

use super::line::{LogLine, parse_line};

/// A line longer than this is cut (output without newlines must not grow memory).
const MAX_LINE: usize = 64 << 10;
/// After the command exits, output still in the pipes is read for at most this long (a
/// background grandchild may keep them open forever).
const DRAIN: Duration = Duration::from_secs(2);

/// Delay before restarting a command that exited: doubles up to `max`; back to `initial`
/// after a run that lasted at least `max` (a long-lived `ssh` that dropped is no crash loop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
        }
    }
}

/// Run `sh -c command` and send its stdout and stderr lines, until `tx`'s receiver is
/// dropped (the child is killed then). When it exits, one notice
/// `[command exited: status N; restarting in Ns]` and a restart after the backoff.
///
/// The command runs in its own process group with stdin from /dev/null: it cannot read
/// the operator's keyboard (an `ssh` asking for a password stops instead of eating keys:
/// use `ssh -o BatchMode=yes`). The command text is never logged (it may hold a password).
pub async fn follow_cmd(command: String, member: String, tx: Sender<LogLine>, backoff: Backoff) {
    let mut delay = backoff.initial;
    loop {
        let started = Instant::now();
        let what = match run_once(&command, &member, &tx).await {
            Outcome::ReceiverGone => return,
            Outcome::Exited(status) => format!("command exited: {}", describe(status)),
            Outcome::Failed(msg) => msg,
        };
        if started.elapsed() >= backoff.max {
            delay = backoff.initial;
        }
        let notice = format!(
            "[{what}; restarting in {}]",
            humantime::format_duration(delay)
        );
        if tx.send(LogLine::notice(&member, &notice)).await.is_err() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = tx.closed() => return,
        }
        delay = (delay * 2).min(backoff.max).max(backoff.initial);
    }
}

/// SIGKILLs a process group when dropped. `kill_on_drop` reaches only `sh`; the commands it
/// started (a pipeline, `ssh`) would live on, one set more for every follower stopped.
struct KillGroupOnDrop(u32);

impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        kill_group(self.0);
        if let Ok(mut g) = GROUPS.lock() {
            g.remove(&self.0);
        }
    }
}

/// SIGKILL the process group `pgid` (made with `process_group(0)`, so its id is the
/// leader's pid).
fn kill_group(pgid: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid)
        && pgid > 1
    {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// Every follower's process group that runs, and whether patrol is exiting (then no
/// command is started any more). Kept outside the tasks so that an exit that never drops
/// them (a panic, a runtime that is not shut down) still kills every group.
static GROUPS: std::sync::Mutex<std::collections::BTreeSet<u32>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());
static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Patrol is exiting: start no command any more and SIGKILL every follower's process group.
/// Returns the groups killed. For the panic hook too, so it never waits for the lock.
pub fn kill_all_commands() -> Vec<u32> {
    STOPPING.store(true, std::sync::atomic::Ordering::SeqCst);
    let Ok(groups) = GROUPS.try_lock() else {
        return Vec::new();
    };
    let groups: Vec<u32> = groups.iter().copied().collect();
    for &g in &groups {
        kill_group(g);
    }
    groups
}

/// [`kill_all_commands`], then wait (at most `timeout`) until no process of those groups
/// runs any more. Returns how many processes still ran when the time was up.
pub async fn stop_all_commands(timeout: Duration) -> usize {
    let mut groups = kill_all_commands();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        // a group can be registered just before STOPPING was seen: kill it too
        for g in kill_all_commands() {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        let alive = live_in_groups(&groups);
        if alive == 0 || tokio::time::Instant::now() >= deadline {
            return alive;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How many processes (not zombies: those are dead, only not yet reaped) belong to one of
/// `groups`, from /proc.
fn live_in_groups(groups: &[u32]) -> usize {
    if groups.is_empty() {
        return 0;
    }
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|e| crate::files::read_bounded_string(&e.path().join("stat"), 4096).ok())
        .filter(|stat| {
            // "pid (comm) S ppid pgrp ...": comm may hold anything, so after the last ')'
            let mut f = stat.rsplit(')').next().unwrap_or("").split_whitespace();
            let state = f.next();
            let pgrp = f.nth(1).and_then(|p| p.parse::<u32>().ok());
            state != Some("Z") && pgrp.is_some_and(|p| groups.contains(&p))
        })
        .count()
}

enum Outcome {
    ReceiverGone,
    Exited(ExitStatus),
    Failed(String),
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("status {code}"),
        (None, Some(sig)) => format!("signal {sig}"),
        (None, None) => status.to_string(),
    }
}

/// Start `sh -c command` in a process group of its own, registered in [`GROUPS`] under the
/// lock (so `kill_all_commands` misses no group). None: patrol is exiting.
fn start(
    command: &str,
) -> Option<std::io::Result<(tokio::process::Child, Option<KillGroupOnDrop>)>> {
    let Ok(mut groups) = GROUPS.lock() else {
        return Some(Err(std::io::Error::other(
            "the follower registry is broken",
        )));
    };
    if STOPPING.load(std::sync::atomic::Ordering::SeqCst) {
        return None;
    }
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // not the terminal's foreground group: no reading the keyboard, no terminal signals
        .process_group(0)
        .spawn();
    Some(spawned.map(|child| {
        let group = child.id().map(|id| {
            groups.insert(id);
            KillGroupOnDrop(id)
        });
        (child, group)
    }))
}

async fn run_once(command: &str, member: &str, tx: &Sender<LogLine>) -> Outcome {
    // every return below drops `child`, which kills it if it still runs, and `_group`, which
    // kills what it started: `ssh ... | grep`, a background job
    let (mut child, _group) = match start(command) {
        None => return Outcome::ReceiverGone,
        Some(Ok(c)) => c,
        Some(Err(e)) => return Outcome::Failed(format!("cannot start sh: {e}")),
    };
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Outcome::Failed("cannot read the command's output".to_string());
    };
    let mut out = BufReader::new(stdout);
    let mut err = BufReader::new(stderr);
    let (mut out_buf, mut err_buf) = (Vec::new(), Vec::new());
    let (mut out_open, mut err_open) = (true, true);
    let mut status = None;
    let mut drain_until = None;
    while out_open || err_open {
        // `read_line` keeps partial input in its buffer, so losing the race loses nothing
        let line = tokio::select! {
            r = read_line(&mut out, &mut out_buf), if out_open => take_line(r, &mut out_buf, &mut out_open),
            r = read_line(&mut err, &mut err_buf), if err_open => take_line(r, &mut err_buf, &mut err_open),
            s = child.wait(), if status.is_none() => {
                status = Some(s);
                drain_until = Some(tokio::time::Instant::now() + DRAIN);
                None
            }
            _ = sleep_until(drain_until) => break,
            _ = tx.closed() => return Outcome::ReceiverGone,
        };
        if let Some(line) = line
            && tx.send(parse_line(member, &line)).await.is_err()
        {
            return Outcome::ReceiverGone;
        }
    }
    // an unterminated last line, or what was read when the drain time ran out
    for buf in [out_buf, err_buf] {
        if !buf.is_empty()
            && tx
                .send(parse_line(member, &String::from_utf8_lossy(&buf)))
                .await
                .is_err()
        {
            return Outcome::ReceiverGone;
        }
    }
    let status = match status {
        Some(s) => s,
        // both pipes closed but the command still runs
        None => tokio::select! {
            s = child.wait() => s,
            _ = tx.closed() => return Outcome::ReceiverGone,
        },
    };
    match status {
        Ok(s) => Outcome::Exited(s),
        Err(e) => Outcome::Failed(format!("cannot wait for the command: {e}")),
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn take_line(r: std::io::Result<bool>, buf: &mut Vec<u8>, open: &mut bool) -> Option<String> {
    match r {
        Ok(true) => {
            let line = String::from_utf8_lossy(buf).into_owned();
            buf.clear();
            Some(line)
        }
        // end of output; a read error ends it too (the exit notice follows)
        Ok(false) | Err(_) => {
            *open = false;
            None
        }
    }
}

/// Read up to a newline (not included), [`MAX_LINE`] bytes or the end. Ok(false): the end,
/// nothing left. Cancel-safe as long as `buf` is kept: only `fill_buf` awaits.
async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    loop {
        let avail = r.fill_buf().await?;
        if avail.is_empty() {
            return Ok(!buf.is_empty());
        }
        let room = MAX_LINE - buf.len();
        if let Some(i) = avail.iter().position(|&b| b == b'\n')
            && i <= room
        {
            buf.extend_from_slice(&avail[..i]);
            r.consume(i + 1);
            return Ok(true);
        }
        let n = avail.len().min(room);
        buf.extend_from_slice(&avail[..n]);
        r.consume(n);
        if buf.len() >= MAX_LINE {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::line::Level;
    use super::*;
    use tokio::sync::mpsc;

    async fn next(rx: &mut mpsc::Receiver<LogLine>) -> LogLine {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(l)) => l,
            Ok(None) => panic!("follower stopped"),
            Err(_) => panic!("no line within 10 s"),
        }
    }

    const FAST: Backoff = Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(200),
    };

    fn start(cmd: &str, backoff: Backoff) -> mpsc::Receiver<LogLine> {
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(follow_cmd(cmd.into(), "pg1".into(), tx, backoff));
        rx
    }

    #[tokio::test]
    async fn lines_then_exit_notice_then_restart() {
        let mut rx = start("printf 'a\\nb\\n'", FAST);
        assert_eq!(next(&mut rx).await.text, "a");
        assert_eq!(next(&mut rx).await.text, "b");
        let n = next(&mut rx).await;
        assert_eq!(n.level, Level::Other);
        assert!(
            n.text
                .starts_with("[command exited: status 0; restarting in"),
            "{}",
            n.text
        );
        // restarted
        assert_eq!(next(&mut rx).await.text, "a");
        assert_eq!(next(&mut rx).await.text, "b");
        assert!(
            next(&mut rx)
                .await
                .text
                .starts_with("[command exited: status 0")
        );
    }

    #[tokio::test]
    async fn stderr_status_and_odd_bytes() {
        let mut rx = start(
            "printf '2026-11-26 00:24:45,401 ERROR: bad\\n' >&2; printf 'x\\033[2J\\377y'; exit 3",
            Backoff {
                initial: Duration::from_secs(60),
                max: Duration::from_secs(60),
            },
        );
        let mut got = [next(&mut rx).await, next(&mut rx).await];
        // stdout and stderr race each other: compare as a set
        got.sort_by(|a, b| a.text.cmp(&b.text));
        assert_eq!(got[0].text, "2026-11-26 00:24:45,401 ERROR: bad");
        assert_eq!(got[0].level, Level::Error);
        assert_eq!(got[1].text, "x?[2J\u{FFFD}y");
        let n = next(&mut rx).await;
        assert_eq!(n.text, "[command exited: status 3; restarting in 1m]");
    }

    #[tokio::test]
    async fn backoff_grows_to_its_limit() {
        let mut rx = start("exit 1", FAST);
        let mut delays = Vec::new();
        for _ in 0..4 {
            let t = next(&mut rx).await.text;
            delays.push(t.rsplit("restarting in ").next().unwrap_or("").to_string());
        }
        assert_eq!(delays, ["50ms]", "100ms]", "200ms]", "200ms]"]);
    }

    /// Run `cmd` (which writes a pid to the file `{pid}` and prints "started"), drop the
    /// follower, and wait (bounded) until that process is gone or a zombie.
    async fn dropping_the_follower_ends(cmd: &str) {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let cmd = cmd.replace("{pid}", &pid_file.display().to_string());
        let (tx, mut rx) = mpsc::channel(64);
        let task = tokio::spawn(follow_cmd(cmd, "pg1".into(), tx, FAST));
        assert_eq!(next(&mut rx).await.text, "started");
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .to_string();
        drop(rx);
        let done = tokio::time::timeout(Duration::from_secs(10), task).await;
        assert!(matches!(done, Ok(Ok(()))));
        // gone (or a zombie until it is reaped): poll /proc, bounded
        let stat = format!("/proc/{pid}/stat");
        let gone = tokio::time::timeout(Duration::from_secs(10), async {
            while std::fs::read_to_string(&stat).is_ok_and(|s| {
                !s.rsplit(')')
                    .next()
                    .is_some_and(|r| r.trim_start().starts_with('Z'))
            }) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(gone.is_ok(), "process {pid} still runs");
    }

    #[tokio::test]
    async fn the_child_is_killed_when_the_receiver_is_dropped() {
        dropping_the_follower_ends("echo $$ > {pid}; echo started; exec sleep 1000").await;
    }

    /// `sh` starts a pipeline and a background job: dropping the follower ends them too.
    #[tokio::test]
    async fn everything_the_command_started_is_killed() {
        dropping_the_follower_ends("sleep 1000 & echo $! > {pid}; echo started; sleep 1000 | cat")
            .await;
    }

    #[tokio::test]
    async fn long_lines_are_cut() {
        let mut rx = start(
            &format!("head -c {} /dev/zero | tr '\\0' x; echo", MAX_LINE + 10),
            Backoff {
                initial: Duration::from_secs(60),
                max: Duration::from_secs(60),
            },
        );
        assert_eq!(next(&mut rx).await.text.len(), MAX_LINE);
        assert_eq!(next(&mut rx).await.text, "x".repeat(10));
    }
}
