//! IO lives here: the terminal, the tasks that feed the one channel, and the loop that
//! owns the `App`, applies messages, runs effects and draws.

pub mod oneshot;
pub mod tasks;
mod terminal;

use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::mpsc;

use crate::app::{App, Effect, Msg};
use crate::config::{DcsApi, Settings};
use crate::patroni::RestClient;
use crate::theme::Theme;
pub use terminal::TerminalGuard;

/// Frames: at most 30 a second in a sustained burst, but the first few changes after a
/// quiet moment draw at once. (A fixed 33 ms window after every frame made a switchover's
/// leader key wait up to 33 ms behind the member-key changes just before it.)
const FRAME_RATE: f64 = 30.0;
const FRAME_BURST: f64 = 3.0;

/// A token bucket of frames.
#[derive(Debug)]
struct FrameBudget {
    tokens: f64,
    at: tokio::time::Instant,
}

impl FrameBudget {
    fn new(now: tokio::time::Instant) -> Self {
        FrameBudget {
            tokens: FRAME_BURST,
            at: now,
        }
    }

    fn refill(&mut self, now: tokio::time::Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * FRAME_RATE).min(FRAME_BURST);
        self.at = now;
    }

    /// None: draw now. Some(t): the next frame is allowed at `t`.
    fn wait_until(&mut self, now: tokio::time::Instant) -> Option<tokio::time::Instant> {
        self.refill(now);
        (self.tokens < 1.0).then(|| now + Duration::from_secs_f64((1.0 - self.tokens) / FRAME_RATE))
    }

    fn spend(&mut self, now: tokio::time::Instant) {
        self.refill(now);
        self.tokens -= 1.0;
    }
}

pub struct Options {
    pub interval: Duration,
    pub timeout: Duration,
    pub theme: Theme,
    pub read_only: bool,
    /// Where confirmed actions are appended (one JSON line each).
    pub audit_log: std::path::PathBuf,
    /// `--logs`: how to reach each member's Patroni log.
    pub logs: Option<crate::logs::LogSourceSpec>,
    /// Per-member overrides of `logs` (patrol's config file).
    pub logs_by_member: std::collections::BTreeMap<String, crate::logs::LogSourceSpec>,
    /// Key rebinding from patrol's config file.
    pub keys: std::collections::BTreeMap<crate::app::keymap::Action, Vec<String>>,
}

/// The default audit log: `$XDG_STATE_HOME/patrol/audit.jsonl` (~/.local/state/...).
pub fn default_audit_log() -> std::path::PathBuf {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("patrol")
        .join("audit.jsonl")
}

/// Runs the effects `update` returns: pollers, writes (once each), audit lines.
pub struct Runner {
    pollers: tasks::Pollers,
    client: RestClient,
    /// For the one etcd write patrol may make (the switchover fallback).
    dcs: crate::config::DcsSettings,
    tx: mpsc::Sender<Msg>,
    read_only: bool,
    audit_log: Option<std::path::PathBuf>,
    /// Names this run in the audit log: with an operation's id it joins the intent line to
    /// the outcome line (ids start again in every run).
    session: String,
    /// The leader lease the info task asks about.
    lease: Option<tokio::sync::watch::Sender<i64>>,
    /// The log followers `update` asked for: member -> (source, task).
    log_tasks: std::collections::BTreeMap<
        crate::logs::SafeMember,
        (crate::logs::ResolvedSource, tokio::task::JoinHandle<()>),
    >,
}

impl Runner {
    /// Start the etcd info task (endpoint health, leader lease TTL).
    pub fn start_info(&mut self, dcs: &crate::config::DcsSettings) -> tokio::task::JoinHandle<()> {
        let (ltx, lrx) = tokio::sync::watch::channel(0i64);
        self.lease = Some(ltx);
        tokio::spawn(crate::dcs::info::run_info(
            dcs.clone(),
            lrx,
            self.tx.clone(),
            Msg::Info,
        ))
    }

    /// Follow exactly these sources (what `update` decided, resolved from checked words
    /// only): stop the others, start the new or changed ones.
    fn follow_logs(&mut self, members: &[(crate::logs::SafeMember, crate::logs::ResolvedSource)]) {
        self.log_tasks.retain(|m, (src, h)| {
            let keep = members.iter().any(|(n, s)| n == m && s == src);
            if !keep {
                h.abort();
            }
            keep
        });
        for (member, source) in members {
            if self.log_tasks.contains_key(member) {
                continue;
            }
            let (ltx, mut lrx) = mpsc::channel::<crate::logs::LogLine>(256);
            let name = member.to_string();
            let follow = match source.spec() {
                crate::logs::LogSourceSpec::File(p) => {
                    tokio::spawn(crate::logs::follow_file(p.into(), name, ltx, 200))
                }
                crate::logs::LogSourceSpec::Cmd(c) => tokio::spawn(crate::logs::follow_cmd(
                    c.clone(),
                    name,
                    ltx,
                    crate::logs::Backoff::default(),
                )),
            };
            let tx = self.tx.clone();
            // forwards lines into the one channel; ends (and so ends the follower) when
            // patrol goes away or the member is dropped
            let h = tokio::spawn(async move {
                let _follow = AbortOnDrop(follow);
                while let Some(l) = lrx.recv().await {
                    if tx.send(Msg::Log(l)).await.is_err() {
                        break;
                    }
                }
            });
            self.log_tasks.insert(member.clone(), (source.clone(), h));
        }
    }

    pub fn new(
        client: RestClient,
        dcs: crate::config::DcsSettings,
        interval: Duration,
        tx: mpsc::Sender<Msg>,
        read_only: bool,
        audit_log: Option<std::path::PathBuf>,
    ) -> Runner {
        Runner {
            pollers: tasks::Pollers::new(client.clone(), interval, tx.clone()),
            client,
            dcs,
            tx,
            read_only,
            audit_log,
            session: format!(
                "{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or(0)
            ),
            lease: None,
            log_tasks: std::collections::BTreeMap::new(),
        }
    }

    pub fn run(&mut self, effects: Vec<Effect>) {
        for eff in effects {
            match eff {
                Effect::PollMembers(set) => self.pollers.set(&set),
                Effect::Send {
                    op,
                    request,
                    intent,
                } => self.send(op, request, intent),
                Effect::Audit(record) => self.audit(record),
                Effect::WatchLease(id) => {
                    if let Some(l) = &self.lease {
                        let _ = l.send(id);
                    }
                }
                Effect::FollowLogs(members) => self.follow_logs(&members),
                Effect::LogWarning(w) => tracing::warn!("{w}"),
                Effect::Copy(text) => {
                    use base64::Engine;
                    use std::io::Write;
                    // OSC 52: the terminal (also at the far end of SSH, and through tmux with
                    // set-clipboard on) puts the text on its clipboard
                    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                    let mut out = std::io::stdout();
                    let _ = write!(out, "\x1b]52;c;{b64}\x07");
                    let _ = out.flush();
                }
                Effect::WriteFile { path, content } => {
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        let r = async {
                            if let Some(d) = path.parent() {
                                tokio::fs::create_dir_all(d).await?;
                            }
                            tokio::fs::write(&path, content).await
                        }
                        .await
                        .map(|_| path.clone())
                        .map_err(|e| format!("{}: {e}", path.display()));
                        let _ = tx.send(Msg::Wrote(r)).await;
                    });
                }
            }
        }
    }

    /// The one place a write leaves the process. The intent line is appended to the audit
    /// log and flushed to disk first; only then is the request spawned. No intent line, no
    /// request: the operation's reply is `NotSent` with the reason.
    fn send(&self, op: u64, request: crate::app::ops::Request, intent: serde_json::Value) {
        use crate::app::ops::Reply;
        let tx = self.tx.clone();
        let answer = move |reply: Reply| {
            tokio::spawn(async move {
                let _ = tx
                    .send(Msg::OpReply {
                        op,
                        at: Instant::now(),
                        reply,
                    })
                    .await;
            });
        };
        if self.read_only {
            // defence in depth: update() never asks for this in read-only mode
            tracing::error!(?request, "write refused in read-only mode");
            answer(Reply::NotSent("read-only mode".into()));
            return;
        }
        if let Err(e) = self.append_audit(intent) {
            tracing::error!(error = %e, "audit intent not written: request not sent");
            answer(Reply::NotSent(format!("{e}; nothing sent")));
            return;
        }
        let (client, dcs) = (self.client.clone(), self.dcs.clone());
        tokio::spawn(async move {
            let reply = if request.method == crate::app::ops::Method::EtcdPut {
                let value = request
                    .body
                    .as_ref()
                    .map(|b| b.to_string())
                    .unwrap_or_default();
                tracing::info!(key = %request.path, %value, "etcd put");
                match crate::dcs::v3_put(&dcs, &request.path, &value).await {
                    Ok(msg) => Reply::Status {
                        code: 200,
                        body: msg,
                    },
                    Err(crate::dcs::PutError::NotSent(e)) => Reply::NotSent(e),
                    Err(crate::dcs::PutError::Refused(e)) => Reply::Failed(e),
                    Err(crate::dcs::PutError::Unknown(e)) => Reply::Unknown(e),
                }
            } else {
                client.send(&request).await
            };
            answer(reply);
        });
    }

    /// An outcome line; if it cannot be written the status bar says so.
    fn audit(&self, record: serde_json::Value) {
        if let Err(e) = self.append_audit(record) {
            tracing::error!(error = %e, "cannot write the audit log");
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(Msg::Wrote(Err(e))).await;
            });
        }
    }

    /// Append one line (with time and user) and flush it to disk: the file's data, and the
    /// directory's entry when the file is new.
    fn append_audit(&self, mut record: serde_json::Value) -> Result<(), String> {
        let Some(path) = &self.audit_log else {
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

/// Aborts the task when dropped (a follower must not outlive its forwarder).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        for (_, (_, h)) in std::mem::take(&mut self.log_tasks) {
            h.abort();
        }
    }
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

/// Start the DCS source for `settings` feeding `tx`, watching `prefix` (the cluster's, or
/// the whole namespace for a fleet view).
pub fn spawn_dcs(
    settings: &Settings,
    prefix: String,
    tx: mpsc::Sender<Msg>,
) -> Result<tokio::task::JoinHandle<()>> {
    match settings.dcs.api {
        DcsApi::V3 => Ok(tokio::spawn(crate::dcs::run_v3(
            settings.dcs.clone(),
            prefix,
            tx,
            |ev| Msg::Dcs(Instant::now(), ev),
        ))),
        DcsApi::V2 => Err(color_eyre::eyre::eyre!(
            "this configuration uses `etcd:` (the etcd v2 API); patrol reads `etcd3:` clusters so far"
        )),
    }
}

pub fn run_tui(settings: Settings, opts: Options) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?;
    rt.block_on(tui_main(settings, opts))
}

async fn tui_main(settings: Settings, opts: Options) -> Result<()> {
    let client = RestClient::new(&settings.rest, opts.timeout).wrap_err("REST client")?;
    let (tx, mut rx) = mpsc::channel::<Msg>(4096);
    let now = Instant::now();
    let mut app = App::new(
        &settings.scope,
        &settings.namespace,
        settings.dcs.endpoints.clone(),
        now,
    );
    app.rest_interval = opts.interval;
    app.read_only = opts.read_only;
    app.wall0 = Some(std::time::SystemTime::now());
    if let Some(d) = opts.audit_log.parent() {
        app.export_dir = d.to_path_buf();
    }
    app.keymap
        .rebind(&opts.keys)
        .map_err(|e| color_eyre::eyre::eyre!("keys in patrol's config: {e}"))?;

    // The guard is created before any task can fail, and dropped on every way out.
    let mut guard = TerminalGuard::enter().wrap_err("cannot set up the terminal")?;
    let _signals = tasks::spawn_signals(tx.clone()).wrap_err("signal handlers")?;
    let _input = tasks::spawn_input(tx.clone());
    let _clock = tasks::spawn_clock(tx.clone());
    let _dcs = spawn_dcs(&settings, settings.cluster_prefix(), tx.clone())?;
    let mut pollers = Runner::new(
        client,
        settings.dcs.clone(),
        opts.interval,
        tx,
        opts.read_only,
        Some(opts.audit_log.clone()),
    );
    let _info = pollers.start_info(&settings.dcs);
    let follow = app.set_log_sources(opts.logs.clone(), opts.logs_by_member.clone());
    pollers.run(follow);

    let mut frames = FrameBudget::new(tokio::time::Instant::now());
    let mut failed = None;
    loop {
        if app.dirty {
            if let Some(deadline) = frames.wait_until(tokio::time::Instant::now()) {
                // coalesce a burst: wait for the next frame, taking messages meanwhile
                while tokio::time::Instant::now() < deadline {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(m)) => apply(&mut app, &mut pollers, m),
                        Ok(None) => break,
                        Err(_) => break,
                    }
                }
            }
            if app.quit.is_some() {
                break;
            }
            // patrol's own log: moved from tui-logger's intake here, not by its 10 ms thread
            tui_logger::move_events();
            // not `?`: the outcome lines of unfinished operations are still written below
            if let Err(e) = guard
                .terminal
                .draw(|f| crate::ui::render(f, &app, &opts.theme))
            {
                failed = Some(color_eyre::eyre::Report::new(e).wrap_err("drawing failed"));
                break;
            }
            app.dirty = false;
            frames.spend(tokio::time::Instant::now());
        }
        let Some(msg) = rx.recv().await else { break };
        apply(&mut app, &mut pollers, msg);
        while let Ok(m) = rx.try_recv() {
            apply(&mut app, &mut pollers, m);
        }
        if app.quit.is_some() {
            break;
        }
    }
    let leftovers = app.audit_unfinished();
    pollers.run(leftovers);
    drop(pollers);
    drop(guard);
    if let Some(why) = app.quit.as_deref() {
        tracing::info!(why, "patrol exiting");
    }
    failed.map_or(Ok(()), Err)
}

fn apply(app: &mut App, runner: &mut Runner, msg: Msg) {
    if matches!(msg, Msg::Dcs(..)) {
        // the change carries when the watch received it; the model compares (`behind`)
        let effects = app.update(Msg::Now(Instant::now()));
        runner.run(effects);
    }
    let effects = app.update(msg);
    runner.run(effects);
}

/// The TUI's loop without a terminal: the same tasks, messages and `update`, for tests,
/// benchmarks and anything that wants the live model.
pub struct Headless {
    pub app: App,
    rx: mpsc::Receiver<Msg>,
    pollers: Runner,
    _dcs: tokio::task::JoinHandle<()>,
    _clock: tokio::task::JoinHandle<()>,
    _info: tokio::task::JoinHandle<()>,
}

impl Headless {
    /// Must be called inside a tokio runtime.
    pub fn start(settings: &Settings, interval: Duration, timeout: Duration) -> Result<Headless> {
        Self::start_watching(settings, settings.cluster_prefix(), interval, timeout)
    }

    /// Like `start`, watching `prefix` instead of the cluster's own (e.g. the namespace,
    /// which loads every cluster in it into `app.clusters`).
    pub fn start_watching(
        settings: &Settings,
        prefix: String,
        interval: Duration,
        timeout: Duration,
    ) -> Result<Headless> {
        let client = RestClient::new(&settings.rest, timeout).wrap_err("REST client")?;
        let (tx, rx) = mpsc::channel::<Msg>(4096);
        let mut app = App::new(
            &settings.scope,
            &settings.namespace,
            settings.dcs.endpoints.clone(),
            Instant::now(),
        );
        app.rest_interval = interval;
        let dcs = spawn_dcs(settings, prefix, tx.clone())?;
        let clock = tasks::spawn_clock(tx.clone());
        let mut pollers = Runner::new(client, settings.dcs.clone(), interval, tx, false, None);
        let info = pollers.start_info(&settings.dcs);
        Ok(Headless {
            app,
            rx,
            pollers,
            _dcs: dcs,
            _clock: clock,
            _info: info,
        })
    }

    /// Write confirmed actions to this audit log; `read_only` as `--read-only`.
    pub fn configure(&mut self, audit_log: Option<std::path::PathBuf>, read_only: bool) {
        self.pollers.audit_log = audit_log;
        self.pollers.read_only = read_only;
        self.app.read_only = read_only;
    }

    /// Follow the members' logs through this source (`--logs`).
    pub fn set_logs(&mut self, spec: Option<crate::logs::LogSourceSpec>) {
        let follow = self.app.set_log_sources(spec, Default::default());
        self.pollers.run(follow);
    }

    /// How many REST pollers run (bounded by `App::MAX_POLLED` whatever etcd holds).
    pub fn pollers(&self) -> usize {
        self.pollers.pollers.len()
    }

    /// Deliver one message (a key, say) as the TUI loop would, running its effects.
    pub fn send(&mut self, msg: Msg) {
        apply(&mut self.app, &mut self.pollers, msg);
    }

    /// Apply messages until `done(&app)` holds (true) or `timeout` passes (false).
    pub async fn until(&mut self, timeout: Duration, mut done: impl FnMut(&App) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if done(&self.app) {
                return true;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => apply(&mut self.app, &mut self.pollers, m),
                Ok(None) | Err(_) => return done(&self.app),
            }
        }
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        self._dcs.abort();
        self._clock.abort();
        self._info.abort();
    }
}

#[cfg(test)]
mod frame_tests {
    use super::*;

    #[test]
    fn a_few_frames_draw_at_once_then_thirty_a_second() {
        let t0 = tokio::time::Instant::now();
        let mut b = FrameBudget::new(t0);
        for _ in 0..3 {
            assert_eq!(b.wait_until(t0), None);
            b.spend(t0);
        }
        // the bucket is empty: the next frame is one thirtieth of a second away
        let next = b.wait_until(t0).expect("must wait");
        let wait = next.duration_since(t0).as_secs_f64();
        assert!((wait - 1.0 / 30.0).abs() < 1e-6, "{wait}");
        b.spend(next);
        // a quiet second refills the burst, no more
        let later = next + Duration::from_secs(1);
        for _ in 0..3 {
            assert_eq!(b.wait_until(later), None);
            b.spend(later);
        }
        assert!(b.wait_until(later).is_some());
    }
}
