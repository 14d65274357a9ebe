//! Real-cluster benchmarks, driven by `scripts/bench` (which starts the cluster, runs these,
//! and writes docs/benchmarks.md). Each subcommand prints one JSON document to `--out`.
//!
//! ```text
//! live events     --config F [--viewers patrol,floor,patronictl] --samples N --slow-samples M --out F
//! live switchover --config F --rounds N --out F
//! live firstframe --config F --pairs N --out F
//! live scale      --config F --workdir D --clusters 200 --members 5 --burst 10000 --reps 20 --out F
//! live junk       --config F --keys 10000 --big 3 --timeout 60 --out F
//! live burst      --config F --sizes 10000,30000,100000 --samples 20 --idle 10 --out F
//! live info       --config F --out F
//! live etcdkill   --samples 20 --out F   (its own 3-member etcd: see `etcdkill`)
//! live crash        --samples 20 --out F  (its own sandbox: the leader crashes)
//! live replica-stop --samples 20 --out F  (its own sandbox: a replica stops)
//! live haproxy      --samples 20 --hold 6 --out F  (its own sandbox: HAProxy MAINT)
//! ```
//!
//! Every screen is a real process in a pseudo-terminal (120x40) read through vt100, as a
//! person would see it; a reader thread stamps the moment the bytes that make a watched
//! predicate true arrive from the terminal. Without a subcommand (as `cargo test
//! --all-targets` runs it) it does nothing.

mod stats;
mod synth;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use color_eyre::eyre::{Result, WrapErr, bail, eyre};
use etcd_client::{Client, DeleteOptions, EventType, GetOptions, Txn, TxnOp};
use futures::StreamExt;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use serde_json::{Value, json};
use tokio::sync::Notify;

use patrol::config::{self, ConfigSource, Settings};

const COLS: u16 = 120;
const ROWS: u16 = 40;

// ------------------------------------------------------------------------------- options

struct Opts {
    cmd: String,
    kv: BTreeMap<String, String>,
}

impl Opts {
    fn parse() -> Option<Opts> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let cmd = args.first()?.clone();
        if cmd.starts_with('-') {
            return None;
        }
        let mut kv = BTreeMap::new();
        let mut it = args.into_iter().skip(1);
        while let Some(a) = it.next() {
            if let Some(k) = a.strip_prefix("--") {
                if k == "bench" {
                    continue;
                }
                kv.insert(k.to_string(), it.next().unwrap_or_default());
            }
        }
        Some(Opts { cmd, kv })
    }
    fn get(&self, k: &str, default: &str) -> String {
        self.kv
            .get(k)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }
    fn num(&self, k: &str, default: u64) -> u64 {
        self.kv
            .get(k)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
    fn need(&self, k: &str) -> Result<String> {
        self.kv
            .get(k)
            .cloned()
            .ok_or_else(|| eyre!("missing --{k}"))
    }
    fn patrol(&self) -> String {
        self.get("patrol", env!("CARGO_BIN_EXE_patrol"))
    }
    fn patronictl(&self) -> String {
        self.get("patronictl", "patronictl")
    }
    fn etcdctl(&self) -> String {
        self.get("etcdctl", "etcdctl")
    }
    fn settings(&self) -> Result<Settings> {
        let file = PathBuf::from(self.need("config")?);
        config::load(&ConfigSource {
            file: Some(file),
            ..Default::default()
        })
        .map_err(|e| eyre!("{e}"))
    }
}

// ------------------------------------------------------------------------------- helpers

/// xorshift64*: randomised moments without a dependency.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            | 1;
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [lo, hi) milliseconds.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo).max(1))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Signed milliseconds from `a` to `b`.
fn ms_between(a: Instant, b: Instant) -> f64 {
    if b >= a { ms(b - a) } else { -ms(a - b) }
}

/// (VmHWM, VmRSS) in KiB and CPU time (user + system) of a live process.
#[derive(Debug, Clone, Copy, Default)]
struct ProcStat {
    hwm_kib: u64,
    rss_kib: u64,
    cpu: Duration,
}

fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100)
}

fn proc_stat(pid: u32) -> ProcStat {
    let mut s = ProcStat::default();
    if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
        for l in status.lines() {
            let num = || {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            if l.starts_with("VmHWM:") {
                s.hwm_kib = num();
            } else if l.starts_with("VmRSS:") {
                s.rss_kib = num();
            }
        }
    }
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // fields after the ")" of the command name: state is field 3; utime 14, stime 15
        if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let t = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            let ticks = t(11) + t(12);
            s.cpu = Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64);
        }
    }
    s
}

// ------------------------------------------------------------------------------- terminal

/// A predicate over (screen text, bytes received since the watch was armed, CR removed).
type Pred = Box<dyn Fn(&str, &str) -> bool + Send>;

struct Watch {
    id: u64,
    pred: Pred,
    /// Offset into `raw` where this watch started.
    from: usize,
    seen: Option<Instant>,
    /// The screen when `pred` first held (what it said, e.g. whom it named).
    shown: Option<String>,
}

struct TermState {
    parser: vt100::Parser,
    raw: Vec<u8>,
    bytes: u64,
    first_byte: Option<Instant>,
    /// Arrival times of the most recent output chunks (a chunk is about one frame).
    chunks: std::collections::VecDeque<Instant>,
    watches: Vec<Watch>,
    next_id: u64,
}

struct Shared {
    st: Mutex<TermState>,
    notify: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, TermState> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A process in a pseudo-terminal of COLS x ROWS, its screen kept by vt100.
struct Term {
    sh: Arc<Shared>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
    pid: u32,
    started: Instant,
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap_or(std::num::NonZeroU16::MIN)
}

impl Term {
    fn spawn(program: &str, args: &[String], env: &[(&str, &str)]) -> Result<Term> {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| eyre!("openpty: {e}"))?;
        // portable-pty looks a relative path up in PATH: make it absolute
        let program = if program.contains('/') {
            std::fs::canonicalize(program)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| program.to_string())
        } else {
            program.to_string()
        };
        let program = program.as_str();
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("LC_ALL", "C.UTF-8");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let sh = Arc::new(Shared {
            st: Mutex::new(TermState {
                parser: vt100::Parser::new(nz(ROWS), nz(COLS), 0),
                raw: Vec::new(),
                bytes: 0,
                first_byte: None,
                chunks: std::collections::VecDeque::new(),
                watches: Vec::new(),
                next_id: 0,
            }),
            notify: Notify::new(),
        });
        let mut reader = pty
            .master
            .try_clone_reader()
            .map_err(|e| eyre!("pty reader: {e}"))?;
        let writer = pty
            .master
            .take_writer()
            .map_err(|e| eyre!("pty writer: {e}"))?;
        let started = Instant::now();
        let child = pty
            .slave
            .spawn_command(cmd)
            .map_err(|e| eyre!("spawn {program}: {e}"))?;
        drop(pty.slave);
        let pid = child.process_id().unwrap_or(0);
        let s = sh.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let t = Instant::now();
                let mut st = s.lock();
                let st = &mut *st;
                st.first_byte.get_or_insert(t);
                if st.chunks.len() >= 256 {
                    st.chunks.pop_front();
                }
                st.chunks.push_back(t);
                st.bytes += n as u64;
                st.parser.process(&buf[..n]);
                if st.watches.is_empty() {
                    st.raw.clear();
                    continue;
                }
                st.raw.extend_from_slice(&buf[..n]);
                let screen = st.parser.screen().contents();
                let mut hit = false;
                for w in st.watches.iter_mut().filter(|w| w.seen.is_none()) {
                    let raw = String::from_utf8_lossy(&st.raw[w.from..]).replace('\r', "");
                    if (w.pred)(&screen, &raw) {
                        w.seen = Some(t);
                        w.shown = Some(screen.clone());
                        hit = true;
                    }
                }
                if hit {
                    s.notify.notify_waiters();
                }
            }
        });
        Ok(Term {
            sh,
            child,
            writer,
            _master: pty.master,
            pid,
            started,
        })
    }

    fn text(&self) -> String {
        self.sh.lock().parser.screen().contents()
    }

    fn bytes(&self) -> u64 {
        self.sh.lock().bytes
    }

    fn first_byte(&self) -> Option<Instant> {
        self.sh.lock().first_byte
    }

    /// The last output before `t` (how long before `t` the screen last changed).
    fn output_before(&self, t: Instant) -> Option<Instant> {
        self.sh
            .lock()
            .chunks
            .iter()
            .rev()
            .find(|c| **c < t)
            .copied()
    }

    /// Start watching for `pred`. With `fresh`, it is an error if it already holds.
    fn arm(&self, pred: Pred, fresh: bool) -> Result<u64> {
        let mut st = self.sh.lock();
        let screen = st.parser.screen().contents();
        if fresh && pred(&screen, "") {
            bail!("the screen already shows what the next event should bring:\n{screen}");
        }
        let id = st.next_id;
        st.next_id += 1;
        let from = st.raw.len();
        let seen = (!fresh && pred(&screen, "")).then(Instant::now);
        let shown = seen.map(|_| screen.clone());
        st.watches.push(Watch {
            id,
            pred,
            from,
            seen,
            shown,
        });
        Ok(id)
    }

    /// When the watch `id` was satisfied, waiting up to `timeout`; the watch is removed.
    async fn wait(&self, id: u64, timeout: Duration) -> Option<Instant> {
        self.wait_shown(id, timeout).await.map(|(t, _)| t)
    }

    /// When the watch `id` was satisfied and the screen then, waiting up to `timeout`; the
    /// watch is removed.
    async fn wait_shown(&self, id: u64, timeout: Duration) -> Option<(Instant, String)> {
        let deadline = tokio::time::Instant::now() + timeout;
        let take = |w: Watch| w.seen.map(|t| (t, w.shown.unwrap_or_default()));
        loop {
            let notified = self.sh.notify.notified();
            {
                let mut st = self.sh.lock();
                let pos = st.watches.iter().position(|w| w.id == id)?;
                if st.watches[pos].seen.is_some() {
                    return take(st.watches.remove(pos));
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let mut st = self.sh.lock();
                let pos = st.watches.iter().position(|w| w.id == id)?;
                return take(st.watches.remove(pos));
            }
        }
    }

    /// Type `keys` into the process's terminal.
    fn keys(&mut self, keys: &[u8]) -> Result<()> {
        self.writer.write_all(keys)?;
        self.writer.flush()?;
        Ok(())
    }

    async fn until(&self, timeout: Duration, what: &str, pred: Pred) -> Result<Instant> {
        let id = self.arm(pred, false)?;
        match self.wait(id, timeout).await {
            Some(t) => Ok(t),
            None => bail!(
                "timed out after {timeout:?} waiting for {what}; screen:\n{}",
                self.text()
            ),
        }
    }

    fn stat(&self) -> ProcStat {
        proc_stat(self.pid)
    }

    /// Quit with `q` (patrol) or kill; wait for the process to go.
    async fn stop(mut self, quit_key: bool) {
        if quit_key {
            let _ = self.writer.write_all(b"q");
            let _ = self.writer.flush();
            for _ in 0..50 {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        let _ = self.child.kill();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A step that fails (`?`, a panic) must not leave its viewers running.
impl Drop for Term {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Does the table of `patronictl list` show `member` as the leader?
fn patronictl_leader(screen: &str, member: &str) -> bool {
    let cell = format!("| {member} ");
    screen
        .lines()
        .any(|l| l.contains(&cell) && l.contains("| Leader"))
}

/// Does patrol's header name `member` as the leader?
fn patrol_leader(screen: &str, member: &str) -> bool {
    screen.lines().any(|l| {
        l.split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w == ["leader", member])
    })
}

// ------------------------------------------------------------------------------- viewers

#[derive(Clone, Copy, PartialEq, Eq)]
enum Viewer {
    Patrol,
    Patronictl,
    Floor,
}

impl Viewer {
    fn parse(s: &str) -> Result<Viewer> {
        Ok(match s {
            "patrol" => Viewer::Patrol,
            "patronictl" => Viewer::Patronictl,
            "floor" => Viewer::Floor,
            _ => bail!("unknown viewer {s}"),
        })
    }
    fn name(self) -> &'static str {
        match self {
            Viewer::Patrol => "patrol",
            Viewer::Patronictl => "patronictl list -W",
            // on an `etcd:` config the floor is curl on the v2 watch (see `Env::spawn`)
            Viewer::Floor => "etcdctl watch",
        }
    }
}

struct Env {
    settings: Settings,
    config: String,
    endpoint: String,
    patrol: String,
    patronictl: String,
    etcdctl: String,
}

impl Env {
    fn new(o: &Opts) -> Result<Env> {
        let settings = o.settings()?;
        let endpoint = settings
            .dcs
            .endpoints
            .first()
            .cloned()
            .ok_or_else(|| eyre!("no etcd endpoint in the config"))?;
        Ok(Env {
            settings,
            config: o.need("config")?,
            endpoint,
            patrol: o.patrol(),
            patronictl: o.patronictl(),
            etcdctl: o.etcdctl(),
        })
    }

    async fn etcd(&self) -> Result<Client> {
        Client::connect([self.endpoint.as_str()], None)
            .await
            .wrap_err("connect to etcd")
    }

    /// Start `viewer` on `scope` (`watch`: the key prefix the floor prints).
    fn spawn(&self, viewer: Viewer, scope: &str, watch: &str, config: &str) -> Result<Term> {
        match viewer {
            Viewer::Patrol => Term::spawn(
                &self.patrol,
                &["-c".into(), config.into(), "--cluster".into(), scope.into()],
                &[],
            ),
            Viewer::Patronictl => Term::spawn(
                &self.patronictl,
                &[
                    "-c".into(),
                    config.into(),
                    "list".into(),
                    scope.into(),
                    "-W".into(),
                ],
                &[],
            ),
            // v2: a raw long poll, kept open for every event (`stream=true`), printed as it
            // comes: the least any v2 reader can take
            Viewer::Floor if self.settings.dcs.api == patrol::config::DcsApi::V2 => Term::spawn(
                "curl",
                &[
                    "-sN".into(),
                    format!(
                        "{}/v2/keys{}?wait=true&recursive=true&stream=true",
                        self.endpoint.trim_end_matches('/'),
                        patrol::dcs::v2::encode_path(watch.trim_end_matches('/'))
                    ),
                ],
                &[],
            ),
            Viewer::Floor => Term::spawn(
                &self.etcdctl,
                &[
                    "--endpoints".into(),
                    self.endpoint.clone(),
                    "watch".into(),
                    "--prefix".into(),
                    watch.into(),
                ],
                &[("ETCDCTL_API", "3")],
            ),
        }
    }
}

/// Count, spread and centre of `xs` as JSON (percentiles as defined in benches/stats).
fn summary(xs: &[f64]) -> Value {
    match stats::summarize(xs) {
        None => json!(null),
        Some(s) => json!({
            "n": s.n,
            "min": s.min,
            "p25": s.p25,
            "median": s.median,
            "p75": s.p75,
            "p95": s.p95,
            "p99": s.p99,
            "max": s.max,
            "mean": s.mean,
        }),
    }
}

// ------------------------------------------------------------------------------- events

/// Where the events bench writes: the v3 key space, or the v2 one (an `etcd:` config) over
/// its HTTP API, so that patrol, the floor and patronictl all read what they read in use.
enum Store {
    V3(Box<Client>),
    V2 {
        http: reqwest::Client,
        endpoint: String,
    },
}

impl Store {
    async fn open(env: &Env) -> Result<Store> {
        Ok(match env.settings.dcs.api {
            patrol::config::DcsApi::V3 => Store::V3(Box::new(env.etcd().await?)),
            patrol::config::DcsApi::V2 => Store::V2 {
                http: {
                    patrol::install_crypto_provider();
                    reqwest::Client::builder().no_proxy().build()?
                },
                endpoint: env.endpoint.trim_end_matches('/').to_string(),
            },
        })
    }

    async fn put(&mut self, key: String, value: String) -> Result<()> {
        match self {
            Store::V3(c) => {
                c.put(key, value, None).await?;
            }
            Store::V2 { http, endpoint } => {
                let url = format!("{endpoint}/v2/keys{}", patrol::dcs::v2::encode_path(&key));
                let r = http
                    .put(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("value={}", patrol::dcs::v2::encode_form(&value)))
                    .send()
                    .await?;
                if !r.status().is_success() {
                    bail!("v2 put {key}: HTTP {}", r.status());
                }
            }
        }
        Ok(())
    }

    async fn delete_prefix(&mut self, prefix: String) -> Result<()> {
        match self {
            Store::V3(c) => {
                c.delete(prefix, Some(DeleteOptions::new().with_prefix()))
                    .await?;
            }
            Store::V2 { http, endpoint } => {
                let dir = prefix.trim_end_matches('/');
                let url = format!(
                    "{endpoint}/v2/keys{}?recursive=true",
                    patrol::dcs::v2::encode_path(dir)
                );
                // 404: nothing there yet
                http.delete(url).send().await?;
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Kind {
    State,
    NewMember,
    Leader,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::State => "member state",
            Kind::NewMember => "new member key",
            Kind::Leader => "leader key",
        }
    }
}

struct EventRun<'a> {
    env: &'a Env,
    etcd: Store,
    rng: Rng,
    serial: u64,
    session: u64,
    ns: String,
    scope: &'static str,
    prefix: String,
}

impl EventRun<'_> {
    /// One viewer process: a fresh synthetic cluster, `n` changes at random moments.
    async fn session(&mut self, viewer: Viewer, n: usize, gap: (u64, u64)) -> Result<Vec<Value>> {
        self.session += 1;
        let (prefix, scope) = (self.prefix.clone(), self.scope);
        self.etcd.delete_prefix(prefix.clone()).await?;
        for kv in synth::cluster_kvs(&self.ns, scope, 3, &[]) {
            self.etcd
                .put(kv.key, String::from_utf8_lossy(&kv.value).into_owned())
                .await?;
        }
        let term = self.env.spawn(viewer, scope, &prefix, &self.env.config)?;
        match viewer {
            Viewer::Patrol => {
                term.until(
                    Duration::from_secs(20),
                    "patrol showing evbench",
                    Box::new(|s, _| patrol_leader(s, "m1") && s.contains("m3")),
                )
                .await?;
            }
            Viewer::Patronictl => {
                term.until(
                    Duration::from_secs(20),
                    "patronictl showing evbench",
                    Box::new(|s, _| patronictl_leader(s, "m1") && s.contains("| m3 ")),
                )
                .await?;
            }
            Viewer::Floor => {
                // the watch is up once a probe write shows
                let mut ok = false;
                for i in 0..40 {
                    let tok = format!("probe{}x{i}", self.session);
                    let t = tok.clone();
                    let id = term.arm(Box::new(move |_, raw| raw.contains(&t)), true)?;
                    self.etcd.put(format!("{prefix}probe"), tok).await?;
                    if term.wait(id, Duration::from_millis(500)).await.is_some() {
                        ok = true;
                        break;
                    }
                }
                if !ok {
                    bail!("etcdctl watch never printed a probe: {}", term.text());
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;

        let mut rows = Vec::new();
        let mut newest: Option<String> = None;
        for k in 0..n {
            self.serial += 1;
            let serial = self.serial;
            let kind = match k % 3 {
                0 => Kind::State,
                1 => Kind::NewMember,
                _ => Kind::Leader,
            };
            let (key, value, token) = match kind {
                Kind::State => {
                    let tok = format!("s{serial:05}");
                    (
                        format!("{prefix}members/m2"),
                        synth::member_json(5402, false, synth::TOP_LSN, None, &tok)
                            .replace(r#""replication_state":"streaming","#, ""),
                        tok,
                    )
                }
                Kind::NewMember => {
                    let name = format!("n{serial:05}");
                    newest = Some(name.clone());
                    (
                        format!("{prefix}members/{name}"),
                        synth::member_json(6000, false, synth::TOP_LSN, None, "running")
                            .replace(r#""replication_state":"streaming","#, ""),
                        name,
                    )
                }
                Kind::Leader => {
                    let name = newest.clone().unwrap_or_else(|| "m3".into());
                    (format!("{prefix}leader"), name.clone(), name)
                }
            };
            let t = token.clone();
            let pred: Pred = match (viewer, kind) {
                (Viewer::Floor, _) => Box::new(move |_, raw| raw.contains(&t)),
                (Viewer::Patrol, Kind::Leader) => Box::new(move |s, _| patrol_leader(s, &t)),
                (Viewer::Patronictl, Kind::Leader) => {
                    Box::new(move |s, _| patronictl_leader(s, &t))
                }
                _ => Box::new(move |s, _| s.contains(&t)),
            };
            tokio::time::sleep(self.rng.millis(gap.0, gap.1)).await;
            let id = term.arm(pred, true)?;
            let t0 = Instant::now();
            self.etcd.put(key, value).await?;
            let ack = t0.elapsed();
            let seen = term.wait(id, Duration::from_secs(10)).await;
            rows.push(json!({
                "kind": kind.name(),
                "session": self.session,
                "ms": seen.map(|t| ms_between(t0, t)),
                "put_ack_ms": ms(ack),
                // when the screen last changed before this write (frame coalescing)
                "screen_changed_before_ms": term.output_before(t0).map(|o| ms_between(o, t0)),
            }));
        }
        term.stop(viewer == Viewer::Patrol).await;
        Ok(rows)
    }
}

/// Event to screen: a change written to etcd, the time until the viewer's screen shows it.
/// A synthetic cluster `evbench` in the real cluster's etcd (so Patroni is undisturbed); its
/// members carry no `api_url`, so patrol's REST polling plays no part: this is the etcd to
/// screen path alone. Sessions of the viewers are interleaved (patrol, floor, patronictl,
/// patrol, ...) so that all of them meet the same background load.
async fn events(o: &Opts) -> Result<Value> {
    let env = Env::new(o)?;
    let viewers = o
        .get("viewers", "patrol,floor,patronictl")
        .split(',')
        .map(Viewer::parse)
        .collect::<Result<Vec<_>>>()?;
    let samples = o.num("samples", 150) as usize;
    let slow_samples = o.num("slow-samples", 102) as usize;
    let per_session = o.num("per-session", 30) as usize;
    let slow_per_session = o.num("slow-per-session", 34) as usize;
    let gap = (o.num("gap-min-ms", 0), o.num("gap-max-ms", 800));
    let slow_gap = (o.num("gap-min-ms", 0), o.num("slow-gap-max-ms", 2000));
    let ns = env.settings.namespace.clone();
    let scope = "evbench";
    let prefix = format!("{ns}{scope}/");
    let mut run = EventRun {
        env: &env,
        etcd: Store::open(&env).await?,
        rng: Rng::new(),
        serial: 0,
        session: 0,
        ns,
        scope,
        prefix: prefix.clone(),
    };
    // patronictl redraws every 2 s: its pauses must cover that cycle, and it gets fewer samples
    let plan = |v: Viewer| {
        if v == Viewer::Patronictl {
            (slow_samples, slow_per_session, slow_gap)
        } else {
            (samples, per_session, gap)
        }
    };
    let mut rows: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    loop {
        let mut any = false;
        for &v in &viewers {
            let (want, per, g) = plan(v);
            let have = rows.get(v.name()).map_or(0, Vec::len);
            if have >= want {
                continue;
            }
            any = true;
            let got = run.session(v, per.min(want - have), g).await?;
            rows.entry(v.name()).or_default().extend(got);
        }
        if !any {
            break;
        }
    }
    run.etcd.delete_prefix(prefix).await?;
    let mut out = serde_json::Map::new();
    for &v in &viewers {
        let rows = rows.remove(v.name()).unwrap_or_default();
        let lat: Vec<f64> = rows.iter().filter_map(|r| r["ms"].as_f64()).collect();
        let missed = rows.iter().filter(|r| r["ms"].is_null()).count();
        let mut by_kind = serde_json::Map::new();
        for k in [Kind::State, Kind::NewMember, Kind::Leader] {
            let xs: Vec<f64> = rows
                .iter()
                .filter(|r| r["kind"] == k.name())
                .filter_map(|r| r["ms"].as_f64())
                .collect();
            by_kind.insert(k.name().into(), summary(&xs));
        }
        let key = match v {
            Viewer::Patrol => "patrol",
            Viewer::Patronictl => "patronictl",
            Viewer::Floor => "floor",
        };
        let (_, _, g) = plan(v);
        out.insert(
            key.into(),
            json!({
                "viewer": v.name(),
                "gap_ms": [g.0, g.1],
                "summary": summary(&lat),
                "by_kind": by_kind,
                "missed": missed,
                "samples": rows,
            }),
        );
    }
    Ok(Value::Object(out))
}

// ------------------------------------------------------------------------------- switchover

struct Member {
    name: String,
    role: String,
    state: String,
    api: String,
}

/// The cluster as the members' `GET /cluster` sees it (api_urls from the member keys).
async fn cluster_view(etcd: &mut Client, http: &reqwest::Client, prefix: &str) -> Vec<Member> {
    let Ok(resp) = etcd
        .get(
            format!("{prefix}members/"),
            Some(GetOptions::new().with_prefix()),
        )
        .await
    else {
        return Vec::new();
    };
    let mut apis = BTreeMap::new();
    for kv in resp.kvs() {
        let name = String::from_utf8_lossy(kv.key())
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        if let Ok(v) = serde_json::from_slice::<Value>(kv.value())
            && let Some(api) = v["api_url"].as_str()
        {
            apis.insert(name, api.trim_end_matches("/patroni").to_string());
        }
    }
    for api in apis.values() {
        let Ok(r) = http.get(format!("{api}/cluster")).send().await else {
            continue;
        };
        let Ok(v) = r.json::<Value>().await else {
            continue;
        };
        let members = v["members"].as_array().cloned().unwrap_or_default();
        return members
            .iter()
            .map(|m| {
                let name = m["name"].as_str().unwrap_or_default().to_string();
                Member {
                    api: apis.get(&name).cloned().unwrap_or_default(),
                    name,
                    role: m["role"].as_str().unwrap_or_default().to_string(),
                    state: m["state"].as_str().unwrap_or_default().to_string(),
                }
            })
            .collect();
    }
    Vec::new()
}

/// Wait for one running leader and every other member streaming; (leader, replicas).
async fn healthy(
    etcd: &mut Client,
    http: &reqwest::Client,
    prefix: &str,
    want: usize,
) -> Result<(Member, Vec<Member>)> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let ms = cluster_view(etcd, http, prefix).await;
        let leaders = ms
            .iter()
            .filter(|m| m.role == "leader" && m.state == "running")
            .count();
        let streaming = ms
            .iter()
            .filter(|m| m.role != "leader" && m.state == "streaming")
            .count();
        if ms.len() == want && leaders == 1 && streaming == want - 1 {
            let (l, r): (Vec<Member>, Vec<Member>) =
                ms.into_iter().partition(|m| m.role == "leader");
            if let Some(l) = l.into_iter().next() {
                return Ok((l, r));
            }
        }
        if Instant::now() > deadline {
            bail!("the cluster did not become healthy within 90 s");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Switchover visibility: a real switchover; the time from etcd's leader key naming the new
/// leader (seen by this process's own watch) to each screen showing it. Rounds alternate
/// between patrol and `patronictl list -W` (one heavy viewer at a time); the floor, a raw
/// `etcdctl watch` of the leader key, runs in every round.
async fn switchover(o: &Opts) -> Result<Value> {
    let env = Env::new(o)?;
    let rounds = o.num("rounds", 6) as usize;
    let s = &env.settings;
    let prefix = s.cluster_prefix();
    let leader_key = format!("{prefix}leader");
    let mut etcd = env.etcd().await?;
    patrol::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .no_proxy()
        .build()?;
    let (user, pass) = (
        s.rest.username.clone().unwrap_or_default(),
        s.rest
            .password
            .as_ref()
            .map(|p| p.expose().to_string())
            .unwrap_or_default(),
    );
    let members = cluster_view(&mut etcd, &http, &prefix).await.len().max(1);

    // this process's own watch of the leader key: when etcd named the new leader
    // (when, the new value; None for a delete)
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Option<String>)>();
    let mut wc = env.etcd().await?;
    let mut stream = wc.watch(leader_key.clone(), None).await?;
    let watcher = tokio::spawn(async move {
        while let Ok(Some(resp)) = stream.message().await {
            let t = Instant::now();
            for ev in resp.events() {
                let v = match (ev.event_type(), ev.kv()) {
                    (EventType::Put, Some(kv)) => {
                        Some(String::from_utf8_lossy(kv.value()).into_owned())
                    }
                    _ => None,
                };
                let _ = tx.send((t, v));
            }
        }
    });

    let mut rng = Rng::new();
    let mut rows = Vec::new();
    for r in 0..rounds {
        let viewer = if r % 2 == 0 {
            Viewer::Patrol
        } else {
            Viewer::Patronictl
        };
        let (leader, replicas) = healthy(&mut etcd, &http, &prefix, members).await?;
        let mut names: Vec<&str> = replicas.iter().map(|m| m.name.as_str()).collect();
        names.sort();
        let cand = names
            .iter()
            .find(|n| **n > leader.name.as_str())
            .or(names.first())
            .map(|n| n.to_string())
            .ok_or_else(|| eyre!("no replica to switch over to"))?;
        let term = env.spawn(viewer, &s.scope, &leader_key, &env.config)?;
        let floor = Term::spawn(
            &env.etcdctl,
            &[
                "--endpoints".into(),
                env.endpoint.clone(),
                "watch".into(),
                leader_key.clone(),
            ],
            &[("ETCDCTL_API", "3")],
        )?;
        let l = leader.name.clone();
        match viewer {
            Viewer::Patrol => {
                term.until(
                    Duration::from_secs(20),
                    "patrol showing the leader",
                    Box::new(move |s, _| patrol_leader(s, &l) && s.matches(" ok ").count() >= 2),
                )
                .await?
            }
            _ => {
                term.until(
                    Duration::from_secs(20),
                    "patronictl showing the leader",
                    Box::new(move |s, _| patronictl_leader(s, &l)),
                )
                .await?
            }
        };
        // a random moment (patronictl redraws every 2 s; patrol polls REST every 1 s)
        tokio::time::sleep(Duration::from_millis(500) + rng.millis(0, 2000)).await;
        let c1 = cand.clone();
        let pred: Pred = match viewer {
            Viewer::Patrol => Box::new(move |s, _| patrol_leader(s, &c1)),
            _ => Box::new(move |s, _| patronictl_leader(s, &c1)),
        };
        let vid = term.arm(pred, true)?;
        let floor_tok = format!("leader\n{cand}");
        let fid = floor.arm(Box::new(move |_, raw| raw.contains(&floor_tok)), true)?;
        while rx.try_recv().is_ok() {}
        let t_post = Instant::now();
        let post = {
            let http = http.clone();
            let url = format!("{}/switchover", leader.api);
            let body = json!({"leader": leader.name, "candidate": cand});
            let (user, pass) = (user.clone(), pass.clone());
            tokio::spawn(async move {
                let r = http
                    .post(url)
                    .basic_auth(user, Some(pass))
                    .json(&body)
                    .send()
                    .await;
                match r {
                    Ok(r) => {
                        let st = r.status().as_u16();
                        (st, r.text().await.unwrap_or_default(), Instant::now())
                    }
                    Err(e) => (0, format!("{e:#}"), Instant::now()),
                }
            })
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let (mut t_etcd, mut t_delete) = (None, None);
        while let Ok(Some((t, v))) = tokio::time::timeout_at(deadline, rx.recv()).await {
            match v {
                None => t_delete = Some(t),
                Some(v) if v == cand => {
                    t_etcd = Some(t);
                    break;
                }
                Some(_) => {}
            }
        }
        let seen = term.wait(vid, Duration::from_secs(30)).await;
        // frame coalescing: how long before the leader's put had the screen last changed?
        let prev_output = t_etcd.and_then(|t| term.output_before(t).map(|o| ms_between(o, t)));
        let floor_seen = floor.wait(fid, Duration::from_secs(10)).await;
        let (status, text, t_reply) = post.await.unwrap_or((0, "join error".into(), t_post));
        let row = json!({
            "viewer": viewer.name(),
            "from": leader.name,
            "to": cand,
            "http_status": status,
            "reply": text.chars().take(120).collect::<String>(),
            "post_to_etcd_ms": t_etcd.map(|t| ms_between(t_post, t)),
            "post_to_reply_ms": ms_between(t_post, t_reply),
            "viewer_ms": t_etcd.zip(seen).map(|(a, b)| ms_between(a, b)),
            "leader_key_deleted_before_ms": t_delete.zip(t_etcd).map(|(a, b)| ms_between(a, b)),
            "screen_changed_before_ms": prev_output,
            "floor_ms": t_etcd.zip(floor_seen).map(|(a, b)| ms_between(a, b)),
        });
        eprintln!("switchover {}: {row}", r + 1);
        rows.push(row);
        term.stop(viewer == Viewer::Patrol).await;
        floor.stop(false).await;
    }
    watcher.abort();
    let pick = |v: &str, k: &str| -> Vec<f64> {
        rows.iter()
            .filter(|r| v.is_empty() || r["viewer"] == v)
            .filter_map(|r| r[k].as_f64())
            .collect()
    };
    Ok(json!({
        "patrol": summary(&pick(Viewer::Patrol.name(), "viewer_ms")),
        "patronictl": summary(&pick(Viewer::Patronictl.name(), "viewer_ms")),
        "floor": summary(&pick("", "floor_ms")),
        "switchover_ms": summary(&pick("", "post_to_etcd_ms")),
        "rounds": rows,
    }))
}

// ------------------------------------------------------------------------------- start-up

/// Start to first complete frame: patrol's TUI until every member shows `ok` in the API
/// column (REST data in), against `patronictl list -W` until its table lists every member.
/// Pairs interleaved, the order alternating.
async fn firstframe(o: &Opts) -> Result<Value> {
    let env = Env::new(o)?;
    let pairs = o.num("pairs", 8) as usize;
    let s = &env.settings;
    let mut etcd = env.etcd().await?;
    let resp = etcd
        .get(
            format!("{}members/", s.cluster_prefix()),
            Some(GetOptions::new().with_prefix()),
        )
        .await?;
    let names: Vec<String> = resp
        .kvs()
        .iter()
        .filter_map(|kv| {
            String::from_utf8_lossy(kv.key())
                .rsplit('/')
                .next()
                .map(str::to_string)
        })
        .collect();
    // A switchover just before (the previous step) leaves the old leader restarting: start
    // measuring once every member streams again, or the first run waits for the cluster.
    patrol::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()?;
    healthy(&mut etcd, &http, &s.cluster_prefix(), names.len()).await?;
    let mut rows = Vec::new();
    for i in 0..pairs {
        let order = if i % 2 == 0 {
            [Viewer::Patrol, Viewer::Patronictl]
        } else {
            [Viewer::Patronictl, Viewer::Patrol]
        };
        for v in order {
            let term = env.spawn(v, &s.scope, "", &env.config)?;
            let n1 = names.clone();
            let n2 = names.clone();
            let (listed, complete): (Pred, Pred) = match v {
                Viewer::Patrol => (
                    Box::new(move |s, _| {
                        n1.iter()
                            .all(|m| s.lines().any(|l| l.contains(&format!(" {m} "))))
                    }),
                    Box::new(move |s, _| {
                        n2.iter().all(|m| {
                            s.lines()
                                .any(|l| l.contains(&format!(" {m} ")) && l.contains(" ok "))
                        })
                    }),
                ),
                _ => (
                    Box::new(move |s, _| n1.iter().all(|m| s.contains(&format!("| {m} ")))),
                    Box::new(move |s, _| n2.iter().all(|m| s.contains(&format!("| {m} ")))),
                ),
            };
            let a = term.arm(listed, false)?;
            let b = term.arm(complete, false)?;
            let t_listed = term.wait(a, Duration::from_secs(30)).await;
            let t_complete = term.wait(b, Duration::from_secs(30)).await;
            let st = term.stat();
            let row = json!({
                "viewer": v.name(),
                "first_output_ms": term.first_byte().map(|t| ms_between(term.started, t)),
                "members_listed_ms": t_listed.map(|t| ms_between(term.started, t)),
                "complete_ms": t_complete.map(|t| ms_between(term.started, t)),
                "rss_kib": st.rss_kib,
                "hwm_kib": st.hwm_kib,
            });
            rows.push(row);
            term.stop(v == Viewer::Patrol).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    let pick = |v: Viewer, k: &str| -> Vec<f64> {
        rows.iter()
            .filter(|r| r["viewer"] == v.name())
            .filter_map(|r| r[k].as_f64())
            .collect()
    };
    Ok(json!({
        "patrol": {
            "complete_ms": summary(&pick(Viewer::Patrol, "complete_ms")),
            "members_listed_ms": summary(&pick(Viewer::Patrol, "members_listed_ms")),
            "first_output_ms": summary(&pick(Viewer::Patrol, "first_output_ms")),
            "hwm_kib": summary(&pick(Viewer::Patrol, "hwm_kib")),
        },
        "patronictl": {
            "complete_ms": summary(&pick(Viewer::Patronictl, "complete_ms")),
            "first_output_ms": summary(&pick(Viewer::Patronictl, "first_output_ms")),
            "hwm_kib": summary(&pick(Viewer::Patronictl, "hwm_kib")),
        },
        "runs": rows,
    }))
}

// ------------------------------------------------------------------------------- scale

const SCALE_NS: &str = "/bench-scale/";

/// `n` member-key rewrites spread over the `scopes` x `members` (the xlog position moves).
fn burst_kvs(
    n: usize,
    scopes: &[String],
    members: usize,
    ns: &str,
    base: u64,
    apis: &[String],
) -> Vec<(String, String)> {
    let clusters = scopes.len().max(1);
    (0..n)
        .map(|i| {
            let c = i % clusters;
            let m = 1 + (i / clusters) % members;
            // the same api_url as `synth::cluster_kvs` gave member m: a rewrite, not a move
            let api = (!apis.is_empty()).then(|| apis[(m - 1) % apis.len()].as_str());
            (
                format!("{ns}{}/members/{}", scopes[c], synth::member_name(m)),
                synth::member_json(
                    5400 + (m % 1000) as u16,
                    m == 1,
                    base + i as u64 * 8,
                    api,
                    "running",
                ),
            )
        })
        .collect()
}

async fn put_all(client: &Client, kvs: Vec<(String, String)>, in_flight: usize) -> Result<()> {
    let results: Vec<Result<(), etcd_client::Error>> = futures::stream::iter(kvs)
        .map(|(k, v)| {
            let mut kv = client.kv_client();
            async move { kv.put(k, v, None).await.map(|_| ()) }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    for r in results {
        r?;
    }
    Ok(())
}

/// The scale namespace's config file (scope c000), for patrol and patronictl. It carries no
/// REST credentials: nothing in this step writes to a member, and Patroni's GETs need none.
fn write_scale_config(env: &Env, path: &Path) -> Result<()> {
    let host = env
        .endpoint
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    std::fs::write(
        path,
        format!(
            "scope: {}\nnamespace: {SCALE_NS}\netcd3:\n  hosts: {host}\n",
            synth::scope_name(0)
        ),
    )?;
    Ok(())
}

/// The member count in patrol's header (`members N`, members whose key is present).
fn header_members(screen: &str) -> Option<usize> {
    screen.lines().take(3).find_map(|l| {
        let rest = &l[l.find("members ")? + "members ".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// Scale: a synthetic namespace of `clusters` x `members` member keys (plus leader, config,
/// initialize each), and the real binary's TUI on one cluster of it while that cluster takes
/// `reps` bursts of `burst` key updates; then the same on a cluster of `big` members.
async fn scale(o: &Opts) -> Result<Value> {
    let env = Env::new(o)?;
    let clusters = o.num("clusters", 200) as usize;
    let members = o.num("members", 5) as usize;
    let burst = o.num("burst", 10_000) as usize;
    let reps = o.num("reps", 20).max(1) as usize;
    let in_flight = o.num("in-flight", 32) as usize;
    let workdir = PathBuf::from(o.need("workdir")?);
    std::fs::create_dir_all(&workdir)?;
    let scale_cfg = workdir.join("scale.yaml");
    write_scale_config(&env, &scale_cfg)?;
    let mut etcd = env.etcd().await?;

    // REST bases of the real members, handed out round-robin: patrol's pollers do real work
    let mut apis = Vec::new();
    let resp = etcd
        .get(
            format!("{}members/", env.settings.cluster_prefix()),
            Some(GetOptions::new().with_prefix()),
        )
        .await?;
    for kv in resp.kvs() {
        if let Ok(v) = serde_json::from_slice::<Value>(kv.value())
            && let Some(a) = v["api_url"].as_str()
        {
            apis.push(a.trim_end_matches("/patroni").to_string());
        }
    }

    // populate, 100 keys per transaction
    etcd.delete(SCALE_NS, Some(DeleteOptions::new().with_prefix()))
        .await?;
    let t = Instant::now();
    let mut all = Vec::new();
    for c in 0..clusters {
        all.extend(synth::cluster_kvs(
            SCALE_NS,
            &synth::scope_name(c),
            members,
            &apis,
        ));
    }
    let n_keys = all.len();
    for chunk in all.chunks(100) {
        let ops: Vec<TxnOp> = chunk
            .iter()
            .map(|kv| TxnOp::put(kv.key.clone(), kv.value.clone(), None))
            .collect();
        etcd.txn(Txn::new().and_then(ops)).await?;
    }
    let populate = t.elapsed();
    eprintln!("scale: {n_keys} keys written in {populate:?}");

    // A. the real TUI on c000 (its members polled every second) while c000 takes the bursts
    let c0 = synth::scope_name(0);
    let tui = tui_burst(
        &etcd,
        env.spawn(Viewer::Patrol, &c0, "", &scale_cfg.to_string_lossy())?,
        &c0,
        members,
        (burst, reps, in_flight),
        &apis,
        Box::new(|s, _| {
            patrol_leader(s, "m1") && s.contains(" m5 ") && s.matches(" ok ").count() >= 5
        }),
        Duration::from_secs(60),
    )
    .await?;
    eprintln!("scale: TUI under burst: {tui}");

    // B. the real TUI on one cluster of `big` members (no api_url: no REST), the same bursts
    let big_n = o.num("big", 1000) as usize;
    for kv in synth::cluster_kvs(SCALE_NS, "big", big_n, &[]).chunks(100) {
        let ops: Vec<TxnOp> = kv
            .iter()
            .map(|kv| TxnOp::put(kv.key.clone(), kv.value.clone(), None))
            .collect();
        etcd.txn(Txn::new().and_then(ops)).await?;
    }
    let tui_big = tui_burst(
        &etcd,
        env.spawn(Viewer::Patrol, "big", "", &scale_cfg.to_string_lossy())?,
        "big",
        big_n,
        (burst, reps, in_flight),
        &[],
        Box::new(move |s, _| patrol_leader(s, "m1") && header_members(s) == Some(big_n)),
        Duration::from_secs(o.num("big-timeout", 180)),
    )
    .await?;
    eprintln!("scale: TUI on {big_n} members under burst: {tui_big}");
    // bench/run.py lists a cluster of it next, then runs `scale-clean`
    if o.num("keep-namespace", 0) == 0 {
        etcd.delete(SCALE_NS, Some(DeleteOptions::new().with_prefix()))
            .await?;
    }
    Ok(json!({
        "clusters": clusters,
        "members": members,
        "keys": n_keys,
        "populate_s": populate.as_secs_f64(),
        "scale_config": scale_cfg,
        "tui": tui,
        "big_members": big_n,
        "tui_big": tui_big,
    }))
}

/// The real TUI `term` on `scope` while `reps` times `burst` updates of its member keys are
/// written (`in_flight` at a time), each burst followed by a new member key (the sentinel):
/// how long after etcd took the sentinel does the header's member count show it?
#[allow(clippy::too_many_arguments)]
async fn tui_burst(
    etcd: &Client,
    term: Term,
    scope: &str,
    members: usize,
    (burst, reps, in_flight): (usize, usize, usize),
    apis: &[String],
    ready: Pred,
    timeout: Duration,
) -> Result<Value> {
    term.until(Duration::from_secs(30), "patrol on the cluster", ready)
        .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = term.stat();
    let bytes0 = term.bytes();
    let mut rows = Vec::new();
    let mut busy = Duration::ZERO;
    for r in 0..reps {
        let want = members + r + 1;
        let id = term.arm(Box::new(move |s, _| header_members(s) == Some(want)), true)?;
        let kvs = burst_kvs(
            burst,
            &[scope.to_string()],
            members,
            SCALE_NS,
            synth::TOP_LSN * (3 + r as u64),
            apis,
        );
        let t = Instant::now();
        put_all(etcd, kvs, in_flight).await?;
        let writes = t.elapsed();
        etcd.kv_client()
            .put(
                format!("{SCALE_NS}{scope}/members/z{r:03}"),
                synth::member_json(5999, false, synth::TOP_LSN, None, "running"),
                None,
            )
            .await?;
        let t_sentinel = Instant::now();
        let seen = term.wait(id, timeout).await;
        busy += seen.unwrap_or_else(Instant::now) - t;
        rows.push(json!({
            "write_s": writes.as_secs_f64(),
            "write_eps": burst as f64 / writes.as_secs_f64(),
            "backlog_ms": seen.map(|s| ms_between(t_sentinel, s)),
            "consumed_eps": seen.map(|s| (burst + 1) as f64 / (s - t).as_secs_f64()),
        }));
        if seen.is_none() {
            // the next sentinel would be judged against a screen that is still behind
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let after = term.stat();
    let pick = |k: &str| -> Vec<f64> { rows.iter().filter_map(|r| r[k].as_f64()).collect() };
    let cpu = after.cpu.saturating_sub(before.cpu);
    let out = json!({
        "members": members,
        "burst": burst,
        "reps": reps,
        "missed": rows.iter().filter(|r| r["backlog_ms"].is_null()).count(),
        "write_eps": summary(&pick("write_eps")),
        "backlog_ms": summary(&pick("backlog_ms")),
        "consumed_eps": summary(&pick("consumed_eps")),
        "timeout_s": timeout.as_secs_f64(),
        "cpu_s": cpu.as_secs_f64(),
        "busy_s": busy.as_secs_f64(),
        "cpu_pct_of_core": 100.0 * cpu.as_secs_f64() / busy.as_secs_f64().max(1e-9),
        "bytes_to_terminal": term.bytes() - bytes0,
        "hwm_kib": after.hwm_kib,
        "rss_kib": after.rss_kib,
        "rounds": rows,
    });
    term.stop(true).await;
    Ok(out)
}

// ------------------------------------------------------------------------------- junk

/// Open file descriptors of a live process.
fn open_fds(pid: u32) -> Option<usize> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(|d| d.count())
}

/// Peak open fds and peak VmRSS of `pid`, sampled every 100 ms until the flag drops.
struct Sampler {
    stop: Arc<std::sync::atomic::AtomicBool>,
    peak: Arc<Mutex<(usize, u64)>>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let peak = Arc::new(Mutex::new((0usize, 0u64)));
        let (s, p) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                let fds = open_fds(pid).unwrap_or(0);
                let rss = proc_stat(pid).rss_kib;
                if let Ok(mut g) = p.lock() {
                    g.0 = g.0.max(fds);
                    g.1 = g.1.max(rss);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Sampler { stop, peak }
    }
    /// (peak fds, peak sampled RSS KiB) so far.
    fn peak(&self) -> (usize, u64) {
        self.peak.lock().map(|g| *g).unwrap_or((0, 0))
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// How many member keys etcd holds under `prefix`.
async fn etcd_members(etcd: &mut Client, prefix: &str) -> Result<usize> {
    let r = etcd
        .get(
            format!("{prefix}members/"),
            Some(GetOptions::new().with_prefix().with_count_only()),
        )
        .await?;
    Ok(usize::try_from(r.count()).unwrap_or(usize::MAX))
}

/// The `config` key with `"pause"` set to `paused`: a real change patrol must show (the
/// header's MAINTENANCE MODE badge), the same change `patronictl pause` makes.
fn with_pause(config: &[u8], paused: bool) -> Result<String> {
    let mut v: Value = serde_json::from_slice(config).wrap_err("the config key is not JSON")?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| eyre!("the config key is not a JSON object"))?;
    obj.insert("pause".into(), json!(paused));
    Ok(v.to_string())
}

// ------------------------------------------------------------------------------ burst

/// What patrol's header says about etcd, in a word: `live`, `behind by` (revisions),
/// `behind` (time), `no answer`, `DOWN`, `connecting`, or `other`.
fn header_state(screen: &str) -> &'static str {
    let head: String = screen.lines().take(2).collect::<Vec<_>>().join(" ");
    if head.contains("● live") {
        "live"
    } else if head.contains("● behind by") {
        "behind by"
    } else if head.contains("● behind") {
        "behind"
    } else if head.contains("● no answer") {
        "no answer"
    } else if head.contains("DOWN") {
        "DOWN"
    } else if head.contains("connecting") {
        "connecting"
    } else {
        "other"
    }
}

/// Burst: for each size in `sizes` and with and without log followers (`--logs` with a
/// `file:` source of the members' own logs), `samples` times: a running patrol, `n` new
/// member keys written at once (transactions of 100 puts, 16 in flight), then a real change
/// (the config key's `pause`). Measured: from the change's write to the screen showing it,
/// what the header said from the burst's start until then (and whether it said `live` more
/// than 1 s after the change was written and before it was shown), peak RSS, and idle CPU
/// for `idle` seconds once the screen counts every member. The keys are always deleted.
async fn burst(o: &Opts) -> Result<Value> {
    let env = Env::new(o)?;
    let real = env.settings.cluster_prefix();
    let mut etcd = env.etcd().await?;
    // The bursts go into a copy of the cluster's keys under a scope of its own: Patroni
    // makes a replication slot for every member key of its own scope and takes minutes to
    // recover from 30,000 of them, which left one sample per size. The copy's members keep
    // their api_url, so patrol polls the real REST APIs as it would the real scope.
    let scope = format!("{}-burst", env.settings.scope);
    let ns = real
        .trim_end_matches('/')
        .rsplit_once('/')
        .map_or("", |(ns, _)| ns);
    let prefix = format!("{ns}/{scope}/");
    etcd.delete(prefix.clone(), Some(DeleteOptions::new().with_prefix()))
        .await?;
    let resp = etcd
        .get(real.clone(), Some(GetOptions::new().with_prefix()))
        .await?;
    for kv in resp.kvs() {
        let key = format!("{prefix}{}", &kv.key_str()?[real.len()..]);
        etcd.put(key, kv.value().to_vec(), None).await?;
    }
    let r = burst_sizes(o, &env, &mut etcd, &prefix, &scope).await;
    etcd.delete(prefix.clone(), Some(DeleteOptions::new().with_prefix()))
        .await
        .wrap_err("delete the copy")?;
    r
}

async fn burst_sizes(
    o: &Opts,
    env: &Env,
    etcd: &mut Client,
    prefix: &str,
    scope: &str,
) -> Result<Value> {
    let cfg_key = format!("{prefix}config");
    let original = etcd
        .get(cfg_key.clone(), None)
        .await?
        .kvs()
        .first()
        .map(|kv| kv.value().to_vec())
        .ok_or_else(|| eyre!("the cluster has no config key"))?;
    patrol::install_crypto_provider();
    let sizes: Vec<usize> = o
        .get("sizes", "10000,30000,100000")
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .collect();
    let samples = o.num("samples", 20) as usize;
    let logs_dir = Path::new(&env.config)
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|| ".".into());
    let mut out = Vec::new();
    for &n in &sizes {
        for logs in [false, true] {
            let mut runs = Vec::new();
            for i in 0..samples {
                let r = burst_run(o, env, etcd, prefix, scope, &original, n, logs, &logs_dir).await;
                // whatever happened: the keys deleted, the config key as it was
                let deleted = etcd
                    .delete(
                        format!("{prefix}members/burst"),
                        Some(DeleteOptions::new().with_prefix()),
                    )
                    .await;
                etcd.put(cfg_key.clone(), original.clone(), None)
                    .await
                    .wrap_err("restore the config key")?;
                deleted.wrap_err("delete the burst keys")?;
                // keep etcd's history from growing by a burst per sample (100,000 keys x 20)
                if let Ok(st) = etcd.status().await {
                    let rev = st.header().map_or(0, |h| h.revision());
                    let _ = etcd.compact(rev, None).await;
                }
                let r = r?;
                eprintln!("burst: {n} keys, logs {logs}, sample {i}: {r}");
                runs.push(r);
                // let etcd and the cluster settle (Patroni rewrites its keys)
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            let col = |k: &str| -> Vec<f64> { runs.iter().filter_map(|r| r[k].as_f64()).collect() };
            out.push(json!({
                "keys": n,
                "logs": logs,
                "samples": runs.len(),
                "change_to_screen_ms": summary(&col("change_to_screen_ms")),
                "timeouts": runs.iter().filter(|r| r["change_to_screen_ms"].is_null()).count(),
                "hwm_kib": summary(&col("hwm_kib")),
                "idle_cpu_pct": summary(&col("idle_cpu_pct")),
                "said_live_while_behind": runs.iter().filter(|r| r["said_live_while_behind"] == json!(true)).count(),
                "runs": runs,
            }));
        }
    }
    Ok(json!({ "sizes": sizes, "samples": samples, "cases": out }))
}

#[allow(clippy::too_many_arguments)]
async fn burst_run(
    o: &Opts,
    env: &Env,
    etcd: &mut Client,
    prefix: &str,
    scope: &str,
    original: &[u8],
    n: usize,
    logs: bool,
    logs_dir: &str,
) -> Result<Value> {
    let timeout = Duration::from_secs(o.num("timeout", 120));
    let idle_secs = o.num("idle", 10);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()?;
    let real = cluster_view(etcd, &http, prefix).await.len().max(1);
    healthy(etcd, &http, prefix, real).await?;
    let cfg_key = format!("{prefix}config");
    let paused = with_pause(original, true)?;
    let refused = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let api = format!("http://127.0.0.1:{refused}");
    let value = synth::member_json(5400, false, synth::TOP_LSN, Some(&api), "running");
    let mut args = vec![
        "-c".to_string(),
        env.config.clone(),
        "--cluster".into(),
        scope.to_string(),
    ];
    if logs {
        args.push("--logs".into());
        args.push(format!("file:{logs_dir}/{{member}}/log/patroni.log"));
    }
    let term = Term::spawn(&env.patrol, &args, &[])?;
    term.until(
        Duration::from_secs(30),
        "patrol showing the cluster",
        Box::new(move |s, _| header_members(s) == Some(real) && s.contains("● live")),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // every screen from here on: its header state and when (the reader thread calls this)
    let log: Arc<Mutex<Vec<(Instant, &'static str)>>> = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let rec = term.arm(
        Box::new(move |s, _| {
            if let Ok(mut g) = l.lock() {
                let st = header_state(s);
                if g.last().is_none_or(|(_, last)| *last != st) {
                    g.push((Instant::now(), st));
                }
            }
            false
        }),
        false,
    )?;
    let t0 = Instant::now();
    let ops: Vec<Vec<String>> = (0..n)
        .map(|i| format!("{prefix}members/burst{i:06}"))
        .collect::<Vec<_>>()
        .chunks(100)
        .map(<[_]>::to_vec)
        .collect();
    let results: Vec<Result<(), etcd_client::Error>> = futures::stream::iter(ops)
        .map(|chunk| {
            let mut kv = etcd.kv_client();
            let value = value.clone();
            async move {
                let ops: Vec<TxnOp> = chunk
                    .into_iter()
                    .map(|k| TxnOp::put(k, value.clone(), None))
                    .collect();
                kv.txn(Txn::new().and_then(ops)).await.map(|_| ())
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for r in results {
        r.wrap_err("write the burst")?;
    }
    let write = t0.elapsed();
    let id = term.arm(Box::new(|s, _| s.contains("MAINTENANCE MODE")), true)?;
    let t_change = Instant::now();
    etcd.put(cfg_key, paused, None).await?;
    let seen = term.wait(id, timeout).await;
    let hwm = term.stat().hwm_kib;
    let states = log.lock().map(|g| g.clone()).unwrap_or_default();
    // `live` on a screen drawn more than 1 s after the change was written, before it showed
    let until = seen.unwrap_or_else(Instant::now);
    let live_behind = states.iter().enumerate().any(|(i, (t, st))| {
        let next = states.get(i + 1).map_or(until, |x| x.0);
        *st == "live" && next > t_change + Duration::from_secs(1) && *t < until
    });
    // time in each state from the burst's start until the change showed
    let mut time_in: BTreeMap<&str, f64> = BTreeMap::new();
    for (i, (t, st)) in states.iter().enumerate() {
        let from = (*t).max(t0);
        let to = states.get(i + 1).map_or(until, |x| x.0).min(until);
        if to > from {
            *time_in.entry(st).or_default() += ms_between(from, to);
        }
    }
    // idle afterwards: once the screen counts every member
    let all = real + n;
    let caught = term
        .wait(
            term.arm(Box::new(move |s, _| header_members(s) == Some(all)), false)?,
            timeout,
        )
        .await;
    let mut idle_pct = None;
    if caught.is_some() {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let a = term.stat();
        let t = Instant::now();
        tokio::time::sleep(Duration::from_secs(idle_secs)).await;
        let b = term.stat();
        idle_pct =
            Some(100.0 * b.cpu.saturating_sub(a.cpu).as_secs_f64() / t.elapsed().as_secs_f64());
    }
    let header_at_end = term.text().lines().take(2).collect::<Vec<_>>().join("\n");
    let _ = term.wait(rec, Duration::ZERO).await;
    term.stop(true).await;
    Ok(json!({
        "write_s": write.as_secs_f64(),
        "change_to_screen_ms": seen.map(|t| ms_between(t_change, t)),
        "said_live_while_behind": live_behind,
        "header_ms": time_in,
        "hwm_kib": hwm,
        "idle_cpu_pct": idle_pct,
        "caught_up": caught.is_some(),
        "header_at_end": header_at_end,
    }))
}

/// Junk: `keys` junk member keys (each `api_url` a refused port) and `big` member keys of
/// `big-bytes` each, written at once into the real cluster's prefix, while patrol watches it.
/// Measured: how long a real change (the config key's `pause`) takes to reach patrol's screen
/// during the flood, when the header's member count equals etcd's, patrol's peak RSS and open
/// fds; then a fresh patrol started with the junk in place (does the prefix load at all?); then
/// the junk deleted. A timeout is a result, not an error. The junk is always deleted.
async fn junk(o: &Opts) -> Result<Value> {
    let env = Env::new(o)?;
    let prefix = env.settings.cluster_prefix();
    let mut etcd = env.etcd().await?;
    let cfg_key = format!("{prefix}config");
    let original = etcd
        .get(cfg_key.clone(), None)
        .await?
        .kvs()
        .first()
        .map(|kv| kv.value().to_vec())
        .ok_or_else(|| eyre!("the cluster has no config key"))?;
    let result = junk_run(o, &env, &mut etcd, &prefix, &original).await;
    // whatever happened: the junk deleted, the config key as it was
    let deleted = etcd
        .delete(
            format!("{prefix}members/junk"),
            Some(DeleteOptions::new().with_prefix()),
        )
        .await;
    etcd.put(cfg_key, original, None)
        .await
        .wrap_err("restore the config key")?;
    deleted.wrap_err("delete the junk keys")?;
    result
}

async fn junk_run(
    o: &Opts,
    env: &Env,
    etcd: &mut Client,
    prefix: &str,
    original: &[u8],
) -> Result<Value> {
    let n = o.num("keys", 10_000) as usize;
    let n_big = o.num("big", 3) as usize;
    // etcd refuses a request over 1.5 MiB (--max-request-bytes): 1 KiB under it, for the key
    let big_bytes = o.num("big-bytes", 1536 * 1024 - 1024) as usize;
    let timeout = Duration::from_secs(o.num("timeout", 60));
    let settings = &env.settings;
    patrol::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()?;
    let real = cluster_view(etcd, &http, prefix).await.len().max(1);
    healthy(etcd, &http, prefix, real).await?;
    let cfg_key = format!("{prefix}config");
    let (paused, unpaused) = (with_pause(original, true)?, with_pause(original, false)?);
    // a port nothing listens on: bound, then let go
    let refused = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let api = format!("http://127.0.0.1:{refused}");
    let mut kvs: Vec<(String, String)> = (0..n)
        .map(|i| {
            (
                format!("{prefix}members/junk{i:05}"),
                synth::member_json(5400, false, synth::TOP_LSN, Some(&api), "running"),
            )
        })
        .collect();
    for i in 0..n_big {
        let head = format!(
            r#"{{"conn_url":"postgres://127.0.0.1:5400/postgres","api_url":"{api}/patroni","state":"running","role":"replica","version":"4.1.5","xlog_location":0,"timeline":1,"pad":""#
        );
        let pad = "x".repeat(big_bytes.saturating_sub(head.len() + 2));
        kvs.push((
            format!("{prefix}members/junkbig{i}"),
            format!("{head}{pad}\"}}"),
        ));
    }
    let junk_bytes: usize = kvs.iter().map(|(k, v)| k.len() + v.len()).sum();

    // 1. patrol running when the junk arrives
    let term = env.spawn(Viewer::Patrol, &settings.scope, "", &env.config)?;
    term.until(
        Duration::from_secs(30),
        "patrol showing the cluster",
        Box::new(move |s, _| header_members(s) == Some(real) && s.matches(" ok ").count() >= real),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = term.stat();
    let fds_before = open_fds(term.pid);
    let sampler = Sampler::start(term.pid);
    let t0 = Instant::now();
    // "at once": transactions of 100 puts (etcd allows 128 per txn), 16 in flight; the big
    // values one transaction each (etcd takes at most 1.5 MiB per request), in the same stream
    let (small, bigs) = kvs.split_at(n);
    let ops: Vec<Vec<(String, String)>> = small
        .chunks(100)
        .map(<[_]>::to_vec)
        .chain(bigs.iter().map(|kv| vec![kv.clone()]))
        .collect();
    let results: Vec<Result<(), etcd_client::Error>> = futures::stream::iter(ops)
        .map(|chunk| {
            let mut kv = etcd.kv_client();
            async move {
                let ops: Vec<TxnOp> = chunk
                    .into_iter()
                    .map(|(k, v)| TxnOp::put(k, v, None))
                    .collect();
                kv.txn(Txn::new().and_then(ops)).await.map(|_| ())
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for r in results {
        r.wrap_err("write the junk")?;
    }
    let write = t0.elapsed();
    let in_etcd = etcd_members(etcd, prefix).await?;
    // the big values are over patrol's limit for a member key by construction: it warns about
    // them and lists the others, so the count to reach is etcd's minus those
    let readable = if big_bytes > patrol::app::cluster::MAX_MEMBER_VALUE {
        in_etcd.saturating_sub(n_big)
    } else {
        in_etcd
    };
    eprintln!(
        "junk: {} keys ({junk_bytes} bytes) written in {write:?}; etcd holds {in_etcd} member keys",
        kvs.len()
    );

    // the real change, right after the flood was acknowledged
    let id = term.arm(Box::new(|s, _| s.contains("MAINTENANCE MODE")), true)?;
    let t_change = Instant::now();
    etcd.put(cfg_key.clone(), paused.clone(), None).await?;
    let change_seen = term.wait(id, timeout).await;
    let count_id = term.arm(
        Box::new(move |s, _| header_members(s) == Some(readable)),
        false,
    )?;
    let count_seen = term
        .wait(count_id, timeout.saturating_sub(t0.elapsed()))
        .await;
    let shown = header_members(&term.text());
    let live_behind = count_seen.is_none() && term.text().contains("● live");
    let after = term.stat();
    let (fds_peak, _) = sampler.peak();
    drop(sampler);
    let running = json!({
        "change_to_screen_ms": change_seen.map(|t| ms_between(t_change, t)),
        "count_equal_ms": count_seen.map(|t| ms_between(t0, t)),
        "members_shown_at_end": shown,
        "said_live_while_behind": live_behind,
        "hwm_kib": after.hwm_kib,
        "hwm_before_kib": before.hwm_kib,
        "fds_before": fds_before,
        "fds_peak": fds_peak,
        "cpu_s": after.cpu.saturating_sub(before.cpu).as_secs_f64(),
    });
    eprintln!("junk: patrol running during the flood: {running}");
    term.stop(true).await;

    // 2. a fresh patrol with the junk already in etcd: does the prefix load?
    let term = env.spawn(Viewer::Patrol, &settings.scope, "", &env.config)?;
    let sampler = Sampler::start(term.pid);
    let load_id = term.arm(
        Box::new(move |s, _| header_members(s) == Some(readable) && s.contains("MAINTENANCE MODE")),
        false,
    )?;
    let loaded = term.wait(load_id, timeout).await;
    let load_ms = loaded.map(|t| ms_between(term.started, t));
    let mut unpause_ms = None;
    if loaded.is_some() {
        let id = term.arm(Box::new(|s, _| !s.contains("MAINTENANCE MODE")), true)?;
        let t = Instant::now();
        etcd.put(cfg_key.clone(), unpaused.clone(), None).await?;
        unpause_ms = term.wait(id, timeout).await.map(|s| ms_between(t, s));
    }
    let header_at_end = term.text().lines().take(3).collect::<Vec<_>>().join("\n");
    let fresh_st = term.stat();
    let (fresh_fds, _) = sampler.peak();

    // 3. the junk deleted: when does the screen count the real members again?
    etcd.delete(
        format!("{prefix}members/junk"),
        Some(DeleteOptions::new().with_prefix()),
    )
    .await?;
    let t_del = Instant::now();
    let back_id = term.arm(Box::new(move |s, _| header_members(s) == Some(real)), false)?;
    let back = term.wait(back_id, timeout).await;
    let end_st = term.stat();
    let (end_fds, _) = sampler.peak();
    drop(sampler);
    term.stop(true).await;
    Ok(json!({
            "keys": n,
            "big": n_big,
            "big_bytes": big_bytes,
            "junk_bytes": junk_bytes,
            "real_members": real,
            "etcd_members": in_etcd,
            "readable_members": readable,
            "write_s": write.as_secs_f64(),
            "timeout_s": timeout.as_secs_f64(),
            "running": running,
            "fresh": {
                "loaded": loaded.is_some(),
                "load_ms": load_ms,
                "unpause_to_screen_ms": unpause_ms,
                "header_at_end": header_at_end,
                "hwm_kib": fresh_st.hwm_kib,
                "fds_peak": fresh_fds,
            },
            "deleted": {
                "count_back_ms": back.map(|t| ms_between(t_del, t)),
                "hwm_kib": end_st.hwm_kib,
                "fds_peak": end_fds,
            },
    }))
}

// ------------------------------------------------------------------------------- info

/// The cluster the figures were taken on, for the report's prose: its members, its dynamic
/// configuration (ttl, loop_wait ...) and how many etcd members serve it.
async fn info(o: &Opts) -> Result<Value> {
    let env = Env::new(o)?;
    let prefix = env.settings.cluster_prefix();
    let mut etcd = env.etcd().await?;
    let members = etcd_members(&mut etcd, &prefix).await?;
    let config = etcd
        .get(format!("{prefix}config"), None)
        .await?
        .kvs()
        .first()
        .and_then(|kv| serde_json::from_slice::<Value>(kv.value()).ok())
        .unwrap_or(Value::Null);
    let etcd_nodes = etcd.member_list().await?.members().len();
    Ok(json!({"members": members, "config": config, "etcd_members": etcd_nodes}))
}

// ------------------------------------------------------------------------------- etcd kill

/// A sandbox of its own (`scripts/cluster`, 3 etcd members, one Patroni member), stopped
/// and removed on drop.
struct OwnCluster {
    dir: PathBuf,
    script: PathBuf,
}

impl OwnCluster {
    fn start(etcd_members: usize) -> Result<OwnCluster> {
        let members = etcd_members.to_string();
        OwnCluster::start_with(&[("PATROL_ETCD_MEMBERS", &members), ("PATROL_MEMBERS", "1")])
    }

    /// A sandbox with `env` (`PATROL_MEMBERS`, `PATROL_ETCD_MEMBERS`, `PATROL_HAPROXY` ...).
    fn start_with(env: &[(&str, &str)]) -> Result<OwnCluster> {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::Builder::new()
            .prefix("patrol-bench-own-")
            .tempdir_in("/tmp")?
            .keep();
        // the run user (postgres, when we are root) must traverse it
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        let c = OwnCluster {
            dir,
            script: repo.join("scripts/cluster"),
        };
        c.run(&["start"], env)?;
        Ok(c)
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Result<String> {
        let mut cmd = std::process::Command::new(&self.script);
        cmd.args(args).env("PATROL_CLUSTER_DIR", &self.dir);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd
            .stdin(std::process::Stdio::null())
            .output()
            .wrap_err("run scripts/cluster")?;
        if !out.status.success() {
            bail!(
                "scripts/cluster {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `scripts/cluster env` as a map.
    fn env(&self) -> Result<BTreeMap<String, String>> {
        Ok(self
            .run(&["env"], &[])?
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    fn etcd_pid(&self, k: usize) -> Result<u32> {
        let p = std::fs::read_to_string(self.dir.join(format!("etcd{k}.pid")))?;
        p.trim().parse().wrap_err("etcd pid")
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = self.run(&["stop", "--fast"], &[]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The endpoint patrol's header calls live (`● live http://127.0.0.1:PORT`), if it does.
fn live_endpoint(screen: &str) -> Option<String> {
    let line = screen.lines().next()?;
    let rest = line.split("● live ").nth(1)?;
    rest.split_whitespace().next().map(str::to_string)
}

/// Kill to screen: the etcd member patrol's watch is on is SIGKILLed, a change is written at
/// once through another member, and the time until patrol's screen shows it is taken (from
/// just before the kill; spawning kill(1) is in the figure, about a millisecond). The
/// synthetic cluster `killbench` has no `api_url`s: this is the etcd path alone. Each sample
/// first restarts the member the previous one killed and waits for patrol to be live again.
async fn etcdkill(o: &Opts) -> Result<Value> {
    let samples = o.num("samples", 20) as usize;
    let patrol = o.patrol();
    let cluster = OwnCluster::start(3)?;
    let env = cluster.env()?;
    let config = env
        .get("PATROL_CONFIG")
        .cloned()
        .ok_or_else(|| eyre!("no PATROL_CONFIG from scripts/cluster env"))?;
    let ns = env
        .get("PATROL_NAMESPACE")
        .cloned()
        .unwrap_or_else(|| "/service/".into());
    let endpoints: Vec<String> = (1..=3)
        .map(|k| {
            env.get(&format!("PATROL_ETCD_{k}"))
                .map(|e| format!("http://{e}"))
                .ok_or_else(|| eyre!("no PATROL_ETCD_{k}"))
        })
        .collect::<Result<_>>()?;
    let scope = "killbench";
    let prefix = format!("{ns}{scope}/");
    {
        let mut c = Client::connect(&endpoints, None).await?;
        for kv in synth::cluster_kvs(&ns, scope, 3, &[]) {
            c.put(kv.key, kv.value, None).await?;
        }
    }
    let term = Term::spawn(
        &patrol,
        &["-c".into(), config, "--cluster".into(), scope.into()],
        &[],
    )?;
    term.until(
        Duration::from_secs(30),
        "patrol showing killbench",
        Box::new(|s, _| patrol_leader(s, "m1") && s.contains("m3")),
    )
    .await?;
    let mut rng = Rng::new();
    let mut rows = Vec::new();
    let mut killed: Option<usize> = None;
    for i in 0..samples {
        if let Some(k) = killed.take() {
            cluster.run(&["start-etcd", &k.to_string()], &[])?;
        }
        // live on a member, and settled there
        term.until(
            Duration::from_secs(30),
            "patrol live on an etcd member",
            Box::new(|s, _| live_endpoint(s).is_some()),
        )
        .await?;
        tokio::time::sleep(rng.millis(500, 1500)).await;
        let text = term.text();
        let Some(k) = live_endpoint(&text).and_then(|e| endpoints.iter().position(|x| *x == e))
        else {
            bail!("patrol is not live on one of {endpoints:?}:\n{text}");
        };
        let k = k + 1;
        let others: Vec<&String> = endpoints
            .iter()
            .enumerate()
            .filter(|(j, _)| j + 1 != k)
            .map(|(_, e)| e)
            .collect();
        let mut writer = Client::connect(&others, None).await?;
        // the writer is connected before the clock starts
        writer.get(format!("{prefix}leader"), None).await?;
        // killing the raft leader holds every write for an election: say which it was
        let st = writer.status().await?;
        let mut probe = Client::connect([endpoints[k - 1].as_str()], None).await?;
        let was_leader = probe.status().await?.header().map(|h| h.member_id()) == Some(st.leader());
        drop(probe);
        let tok = format!("k{i:03}x{}", rng.next() % 1000);
        let t = tok.clone();
        let id = term.arm(Box::new(move |s, _| s.contains(&t)), true)?;
        let pid = cluster.etcd_pid(k)?;
        let t0 = Instant::now();
        let st = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()?;
        if !st.success() {
            bail!("kill -KILL {pid} failed");
        }
        let killed_at = t0.elapsed();
        killed = Some(k);
        let value = synth::member_json(5402, false, synth::TOP_LSN, None, &tok)
            .replace(r#""replication_state":"streaming","#, "");
        // (the bench's own write may wait for a new raft leader: retried, bounded)
        let key = format!("{prefix}members/m2");
        let mut tries = 0;
        loop {
            tries += 1;
            match writer.put(key.clone(), value.clone(), None).await {
                Ok(_) => break,
                Err(e) if t0.elapsed() < Duration::from_secs(15) => {
                    eprintln!("etcdkill: put after the kill: {e} (again)");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let ack = t0.elapsed();
        let seen = term.wait(id, Duration::from_secs(30)).await;
        let now_on = live_endpoint(&term.text());
        rows.push(json!({
            "ms": seen.map(|t| ms_between(t0, t)),
            "killed": endpoints[k - 1],
            "kill_ms": ms(killed_at),
            "put_ack_ms": ms(ack),
            "put_tries": tries,
            "killed_raft_leader": was_leader,
            "then_on": now_on,
        }));
    }
    term.stop(true).await;
    let lat = |leader: Option<bool>| -> Vec<f64> {
        rows.iter()
            .filter(|r| leader.is_none_or(|l| r["killed_raft_leader"] == l))
            .filter_map(|r| r["ms"].as_f64())
            .collect()
    };
    // after the write was acknowledged: patrol's part, without etcd's election
    let after_ack: Vec<f64> = rows
        .iter()
        .filter_map(|r| Some(r["ms"].as_f64()? - r["put_ack_ms"].as_f64()?))
        .collect();
    let missed = rows.iter().filter(|r| r["ms"].is_null()).count();
    Ok(json!({
        "summary": summary(&lat(None)),
        "killed_follower": summary(&lat(Some(false))),
        "killed_raft_leader": summary(&lat(Some(true))),
        "after_put_ack": summary(&after_ack),
        "missed": missed,
        "samples": rows,
    }))
}

// ------------------------------------------------------------------------------- incidents

/// Is `name` a word of `line`? (`pg1` must not match `pg10`, and may end in `:` or `'s`.)
fn has_word(line: &str, name: &str) -> bool {
    line.split(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .any(|w| w == name)
}

/// patrol's health badge, `⚠ N: <the worst finding> <age>` on the header's third line.
fn patrol_badge(screen: &str) -> Option<&str> {
    screen.lines().take(3).find(|l| l.contains("⚠ "))
}

/// The members patrol's Cluster pane names as the next leader (`next leader   pg2 or pg3
/// (a race …)`); None while it names none.
fn patrol_next_leader(screen: &str) -> Option<Vec<String>> {
    let line = screen.lines().find(|l| l.contains("next leader"))?;
    let rest = line.split("next leader").nth(1)?;
    let head = rest.split(['(', ';', '│']).next()?.trim();
    let names: Vec<String> = head
        .split(" or ")
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    (!names.is_empty() && names != ["none"]).then_some(names)
}

/// The line of patrol's event log that says whether its prediction held
/// (`predicted pg2 or pg3: right`, `predicted pg2, elected pg3: wrong`).
fn patrol_prediction_event(screen: &str) -> Option<String> {
    screen
        .lines()
        .find(|l| l.contains("predicted ") && (l.contains(": right") || l.contains(": wrong")))
        .map(|l| {
            l.trim_matches(|c: char| c == '│' || c.is_whitespace())
                .to_string()
        })
}

/// One row of `patronictl list`.
struct CtlRow {
    name: String,
    role: String,
    state: String,
}

/// The rows of `patronictl list`'s table once all of it is on screen (its closing border:
/// `-W` clears the screen and redraws, and a read may end halfway through the table).
fn ctl_rows(screen: &str) -> Option<Vec<CtlRow>> {
    let mut borders = 0;
    let mut rows = Vec::new();
    for l in screen.lines().map(str::trim_end) {
        if l.starts_with('+') {
            borders += 1;
            if borders == 3 {
                return Some(rows);
            }
        } else if borders == 2 && l.starts_with('|') {
            let c: Vec<&str> = l.split('|').map(str::trim).collect();
            let cell = |i: usize| c.get(i).copied().unwrap_or_default().to_string();
            rows.push(CtlRow {
                name: cell(1),
                role: cell(3),
                state: cell(4),
            });
        }
    }
    None
}

/// The healthy picture: `leader` the running Leader, every other member a streaming Replica.
fn ctl_healthy(rows: &[CtlRow], leader: &str, members: usize) -> bool {
    rows.len() == members
        && rows.iter().all(|r| {
            if r.name == leader {
                r.role == "Leader" && r.state == "running"
            } else {
                r.role == "Replica" && r.state == "streaming"
            }
        })
}

/// The leader's row no longer `Leader running`, or another member shown as the Leader.
fn ctl_leader_wrong(rows: &[CtlRow], leader: &str) -> bool {
    let mine = rows
        .iter()
        .find(|r| r.name == leader)
        .is_some_and(|r| r.role == "Leader" && r.state == "running");
    !mine || rows.iter().any(|r| r.name != leader && r.role == "Leader")
}

/// `pg3` → 3: the member number `scripts/cluster` takes.
fn member_number(name: &str) -> Result<String> {
    name.strip_prefix("pg")
        .filter(|n| n.parse::<u32>().is_ok())
        .map(str::to_string)
        .ok_or_else(|| eyre!("not a sandbox member name: {name}"))
}

fn signal(pid: u32, sig: &str) -> Result<()> {
    let st = std::process::Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .status()?;
    if !st.success() {
        bail!("kill -{sig} {pid} failed");
    }
    Ok(())
}

/// One command on HAProxy's runtime API socket (it answers nothing on success).
fn haproxy_cmd(sock: &str, cmd: &str) -> Result<()> {
    let mut s = std::os::unix::net::UnixStream::connect(sock)
        .wrap_err_with(|| format!("connect to HAProxy's socket {sock}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(format!("{cmd}\n").as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    if !out.trim().is_empty() {
        bail!("HAProxy: {cmd}: {}", out.trim());
    }
    Ok(())
}

/// A 3-member sandbox of its own (`scripts/cluster`: one etcd, Patroni + PostgreSQL per
/// member, HAProxy in front) for the steps that crash, stop or unroute members: the shared
/// bench cluster stays as the other steps expect it. Stopped and removed on drop.
struct Sandbox {
    cluster: OwnCluster,
    env: BTreeMap<String, String>,
    config: String,
    prefix: String,
    etcd: Client,
    http: reqwest::Client,
    members: usize,
    patrol: String,
    patronictl: String,
}

impl Sandbox {
    async fn start(o: &Opts) -> Result<Sandbox> {
        let members = o.num("members", 3) as usize;
        let n = members.to_string();
        let cluster = OwnCluster::start_with(&[
            ("PATROL_ETCD_MEMBERS", "1"),
            ("PATROL_MEMBERS", &n),
            ("PATROL_HAPROXY", "1"),
        ])?;
        let env = cluster.env()?;
        let get = |k: &str| {
            env.get(k)
                .cloned()
                .ok_or_else(|| eyre!("no {k} from scripts/cluster env"))
        };
        let config = get("PATROL_CONFIG")?;
        let prefix = format!("{}{}/", get("PATROL_NAMESPACE")?, get("PATROL_SCOPE")?);
        let etcd = Client::connect([get("PATROL_ETCD_URL")?], None).await?;
        patrol::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .no_proxy()
            .build()?;
        Ok(Sandbox {
            cluster,
            env,
            config,
            prefix,
            etcd,
            http,
            members,
            patrol: o.patrol(),
            patronictl: o.patronictl(),
        })
    }

    async fn healthy(&mut self) -> Result<(Member, Vec<Member>)> {
        healthy(&mut self.etcd, &self.http, &self.prefix, self.members).await
    }

    /// After a failed sample: every member started (a running one is left alone) and every
    /// HAProxy server ready again.
    fn restore(&self) -> Result<()> {
        for n in 1..=self.members {
            self.cluster.run(&["start-member", &n.to_string()], &[])?;
            if let Some(sock) = self.env.get("PATROL_HAPROXY_SOCKET") {
                for l in ["rw", "ro"] {
                    let _ = haproxy_cmd(sock, &format!("set server {l}/pg{n} state ready"));
                }
            }
        }
        Ok(())
    }

    /// patrol's TUI, REST polled every second (the default, said out loud).
    fn patrol(&self, extra: &[String]) -> Result<Term> {
        let mut args = vec![
            "-c".into(),
            self.config.clone(),
            "--interval".into(),
            "1s".into(),
        ];
        args.extend_from_slice(extra);
        Term::spawn(&self.patrol, &args, &[])
    }

    fn patronictl(&self) -> Result<Term> {
        Term::spawn(
            &self.patronictl,
            &["-c".into(), self.config.clone(), "list".into(), "-W".into()],
            &[],
        )
    }

    fn patroni_pid(&self, member: &str) -> Result<u32> {
        let f = self.cluster.dir.join(member).join("patroni.pid");
        std::fs::read_to_string(&f)
            .wrap_err_with(|| format!("read {}", f.display()))?
            .trim()
            .parse()
            .wrap_err("patroni pid")
    }

    /// Both viewers showing the healthy cluster led by `leader`: patrol with every member's
    /// REST answer in and no finding, patronictl's table as it is when all is well.
    async fn settled(
        &self,
        patrol: &Term,
        ctl: &Term,
        leader: &str,
        names: &[String],
    ) -> Result<()> {
        let (l, n) = (leader.to_string(), names.to_vec());
        patrol
            .until(
                Duration::from_secs(30),
                "patrol showing the healthy cluster",
                Box::new(move |s, _| {
                    patrol_leader(s, &l)
                        && patrol_badge(s).is_none()
                        && n.iter().all(|m| {
                            s.lines()
                                .any(|x| x.contains(&format!(" {m} ")) && x.contains(" ok "))
                        })
                }),
            )
            .await?;
        let (l, m) = (leader.to_string(), self.members);
        ctl.until(
            Duration::from_secs(30),
            "patronictl showing the healthy cluster",
            Box::new(move |s, _| ctl_rows(s).is_some_and(|r| ctl_healthy(&r, &l, m))),
        )
        .await?;
        Ok(())
    }

    /// The leader key naming another member than `old`: who and when (polled every 50 ms).
    async fn new_leader(&mut self, old: &str, deadline: Instant) -> Option<(String, Instant)> {
        let key = format!("{}leader", self.prefix);
        while Instant::now() < deadline {
            if let Ok(r) = self.etcd.get(key.as_str(), None).await
                && let Some(kv) = r.kvs().first()
            {
                let v = String::from_utf8_lossy(kv.value()).into_owned();
                if v != old {
                    return Some((v, Instant::now()));
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

/// What remains of `deadline`.
fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// Summaries of `key` over `rows`, and how many samples lack it (timed out: never
/// dropped). A sample that failed before its incident (`error`) is counted apart.
fn figure(rows: &[Value], key: &str) -> Value {
    let ran: Vec<&Value> = rows.iter().filter(|r| r.get("error").is_none()).collect();
    let xs: Vec<f64> = ran.iter().filter_map(|r| r[key].as_f64()).collect();
    json!({
        "summary": summary(&xs),
        "timeouts": ran.len() - xs.len(),
    })
}

/// A sample that failed (the cluster did not settle, a command failed): recorded with why,
/// then the step goes on from a restored cluster; the report counts these apart.
fn failed_sample(step: &str, i: usize, e: &color_eyre::eyre::Report) -> Value {
    let why: String = format!("{e:#}").chars().take(400).collect();
    eprintln!("{step} {}: failed: {why}", i + 1);
    json!({ "error": why })
}

/// The leader crashes: its Patroni is SIGKILLed and its PostgreSQL stopped at once
/// (`scripts/cluster kill-member`: a node gone). From just before the SIGKILL: patrol's
/// health badge naming the leader's rule, patrol's Cluster pane naming the next leader,
/// and `patronictl list -W` (watching at the same time) showing anything but the healthy
/// table, and its leader row no longer `Leader running`. Then which member etcd's leader
/// key names, against the prediction first shown and against patrol's own verdict in its
/// event log. The crashed member is started again and the cluster is healthy before the
/// next sample; the member that leads is the one killed, whoever it is.
async fn crash(o: &Opts) -> Result<Value> {
    let samples = o.num("samples", 20) as usize;
    let mut sb = Sandbox::start(o).await?;
    let mut rng = Rng::new();
    let mut rows = Vec::new();
    for i in 0..samples {
        match crash_sample(&mut sb, &mut rng).await {
            Ok(row) => {
                eprintln!("crash {}: {row}", i + 1);
                rows.push(row);
            }
            Err(e) => {
                rows.push(failed_sample("crash", i, &e));
                sb.restore()?;
            }
        }
    }
    let count = |f: &dyn Fn(&Value) -> bool| rows.iter().filter(|r| f(r)).count();
    Ok(json!({
        "members": sb.members,
        "interval_ms": 1000,
        "failed": count(&|r| r.get("error").is_some()),
        "patrol_rule": figure(&rows, "patrol_rule_ms"),
        "patrol_next_leader": figure(&rows, "patrol_next_leader_ms"),
        "patronictl_any": figure(&rows, "patronictl_any_ms"),
        "patronictl_leader": figure(&rows, "patronictl_leader_ms"),
        "elected": figure(&rows, "elected_ms"),
        "predictions": {
            "right": count(&|r| r["right"] == true),
            "wrong": count(&|r| r["right"] == false),
            "undecided": count(&|r| r.get("error").is_none() && r["right"].is_null()),
            "one_name": count(&|r| r["predicted"].as_array().is_some_and(|p| p.len() == 1)),
            "a_race": count(&|r| r["predicted"].as_array().is_some_and(|p| p.len() > 1)),
            "patrol_said_right": count(&|r| r["patrol_said"].as_str().is_some_and(|s| s.ends_with(": right"))),
            "patrol_said_wrong": count(&|r| r["patrol_said"].as_str().is_some_and(|s| s.ends_with(": wrong"))),
        },
        "samples": rows,
    }))
}

/// One crash: the cluster healthy on both screens, the leader killed, the figures; the
/// killed member started again.
async fn crash_sample(sb: &mut Sandbox, rng: &mut Rng) -> Result<Value> {
    let (leader, replicas) = sb.healthy().await?;
    let l = leader.name.clone();
    let mut names: Vec<String> = replicas.iter().map(|m| m.name.clone()).collect();
    names.push(l.clone());
    let patrol = sb.patrol(&[])?;
    let ctl = sb.patronictl()?;
    sb.settled(&patrol, &ctl, &l, &names).await?;
    // a random moment against patrol's 1 s poll and patronictl's 2 s redraw
    tokio::time::sleep(rng.millis(500, 2500)).await;
    let l1 = l.clone();
    let rule = patrol.arm(
        Box::new(move |s, _| {
            patrol_badge(s).is_some_and(|b| has_word(b, &l1) || b.contains("no leader"))
        }),
        true,
    )?;
    let next = patrol.arm(Box::new(|s, _| patrol_next_leader(s).is_some()), true)?;
    let said = patrol.arm(Box::new(|s, _| patrol_prediction_event(s).is_some()), true)?;
    let (l2, m) = (l.clone(), sb.members);
    let ctl_any = ctl.arm(
        Box::new(move |s, _| ctl_rows(s).is_some_and(|r| !ctl_healthy(&r, &l2, m))),
        true,
    )?;
    let l3 = l.clone();
    let ctl_lead = ctl.arm(
        Box::new(move |s, _| ctl_rows(s).is_some_and(|r| ctl_leader_wrong(&r, &l3))),
        true,
    )?;
    let pid = sb.patroni_pid(&l)?;
    let num = member_number(&l)?;
    let t0 = Instant::now();
    signal(pid, "KILL")?;
    let kill_ms = ms(t0.elapsed());
    sb.cluster.run(&["kill-member", &num], &[])?;
    let node_down_ms = ms(t0.elapsed());
    let deadline = t0 + Duration::from_secs(90);
    let elected = sb.new_leader(&l, deadline).await;
    let rule_at = patrol.wait_shown(rule, left(deadline)).await;
    let next_at = patrol.wait_shown(next, left(deadline)).await;
    let any_at = ctl.wait(ctl_any, left(deadline)).await;
    // patronictl redraws every 2 s: give it one more round after the election
    let after = elected.as_ref().map_or(deadline, |(_, t)| {
        (*t + Duration::from_secs(5)).min(deadline)
    });
    let lead_at = ctl.wait(ctl_lead, left(after)).await;
    let said_at = patrol.wait_shown(said, left(after)).await;
    let predicted = next_at.as_ref().and_then(|(_, s)| patrol_next_leader(s));
    let right = match (&predicted, &elected) {
        (Some(p), Some((e, _))) => Some(p.contains(e)),
        _ => None,
    };
    let row = json!({
        "leader": l,
        "kill_ms": kill_ms,
        "node_down_ms": node_down_ms,
        "patrol_rule_ms": rule_at.as_ref().map(|(t, _)| ms_between(t0, *t)),
        "patrol_next_leader_ms": next_at.as_ref().map(|(t, _)| ms_between(t0, *t)),
        // what the badge said when it named the leader, and when the next leader first showed
        "patrol_badge": rule_at.as_ref().and_then(|(_, s)| patrol_badge(s)).map(|b| b.trim().to_string()),
        "badge_when_predicted": next_at.as_ref().and_then(|(_, s)| patrol_badge(s)).map(|b| b.trim().to_string()),
        "predicted": predicted,
        "elected": elected.as_ref().map(|(e, _)| e.clone()),
        "elected_ms": elected.as_ref().map(|(_, t)| ms_between(t0, *t)),
        "right": right,
        "patrol_said": said_at.as_ref().and_then(|(_, s)| patrol_prediction_event(s)),
        "patronictl_any_ms": any_at.map(|t| ms_between(t0, t)),
        "patronictl_leader_ms": lead_at.map(|t| ms_between(t0, t)),
    });
    patrol.stop(true).await;
    ctl.stop(false).await;
    sb.cluster.run(&["start-member", &num], &[])?;
    Ok(row)
}

/// A replica stops (its Patroni gets SIGTERM, as `systemctl stop` sends: it stops
/// PostgreSQL and says `stopped` in its member key). From just before the signal: patrol's
/// health badge naming the replica, `patronictl list -W` (watching at the same time)
/// showing its row other than `streaming`. Then it is started again and the time until
/// patrol's badge no longer names it (the rule cleared) is taken from the start command.
/// The replicas take turns.
async fn replica_stop(o: &Opts) -> Result<Value> {
    let samples = o.num("samples", 20) as usize;
    let mut sb = Sandbox::start(o).await?;
    let mut rng = Rng::new();
    let mut rows = Vec::new();
    for i in 0..samples {
        match replica_sample(&mut sb, &mut rng, i).await {
            Ok(row) => {
                eprintln!("replica {}: {row}", i + 1);
                rows.push(row);
            }
            Err(e) => {
                rows.push(failed_sample("replica", i, &e));
                sb.restore()?;
            }
        }
    }
    Ok(json!({
        "members": sb.members,
        "interval_ms": 1000,
        "failed": rows.iter().filter(|r| r.get("error").is_some()).count(),
        "patrol_rule": figure(&rows, "patrol_rule_ms"),
        "patronictl": figure(&rows, "patronictl_ms"),
        "cleared": figure(&rows, "cleared_after_start_ms"),
        "samples": rows,
    }))
}

/// One stop: replica number `i` of the sorted replicas (turn by turn) stopped, the figures,
/// then started again.
async fn replica_sample(sb: &mut Sandbox, rng: &mut Rng, i: usize) -> Result<Value> {
    let (leader, replicas) = sb.healthy().await?;
    let l = leader.name.clone();
    let mut names: Vec<String> = replicas.iter().map(|m| m.name.clone()).collect();
    names.sort();
    let r = names
        .get(i % names.len().max(1))
        .cloned()
        .ok_or_else(|| eyre!("no replica"))?;
    names.push(l.clone());
    let patrol = sb.patrol(&[])?;
    let ctl = sb.patronictl()?;
    sb.settled(&patrol, &ctl, &l, &names).await?;
    tokio::time::sleep(rng.millis(500, 2500)).await;
    let r1 = r.clone();
    let rule = patrol.arm(
        Box::new(move |s, _| patrol_badge(s).is_some_and(|b| has_word(b, &r1))),
        true,
    )?;
    let r2 = r.clone();
    let ctl_row = ctl.arm(
        Box::new(move |s, _| {
            ctl_rows(s)
                .is_some_and(|rows| !rows.iter().any(|x| x.name == r2 && x.state == "streaming"))
        }),
        true,
    )?;
    let pid = sb.patroni_pid(&r)?;
    let num = member_number(&r)?;
    let t0 = Instant::now();
    signal(pid, "TERM")?;
    let deadline = t0 + Duration::from_secs(60);
    let rule_at = patrol.wait_shown(rule, left(deadline)).await;
    let ctl_at = ctl.wait_shown(ctl_row, left(deadline)).await;
    // stopped for good (bounded by scripts/cluster), then back
    sb.cluster.run(&["stop-member", &num], &[])?;
    // cleared: the badge no longer names it, or names it only for the restart itself
    // (`postgres-restarted`, a warning for a while after PostgreSQL started again)
    let r3 = r.clone();
    let cleared = patrol.arm(
        Box::new(move |s, _| {
            patrol_badge(s).is_none_or(|b| {
                !has_word(b, &r3) || b.contains(&format!("{r3}: PostgreSQL restarted"))
            })
        }),
        false,
    )?;
    let t1 = Instant::now();
    sb.cluster.run(&["start-member", &num], &[])?;
    let cleared_at = patrol.wait_shown(cleared, Duration::from_secs(90)).await;
    let row = json!({
        "replica": r,
        "patrol_rule_ms": rule_at.as_ref().map(|(t, _)| ms_between(t0, *t)),
        "patrol_badge": rule_at.as_ref().and_then(|(_, s)| patrol_badge(s)).map(|b| b.trim().to_string()),
        "patronictl_ms": ctl_at.as_ref().map(|(t, _)| ms_between(t0, *t)),
        "patronictl_state": ctl_at.as_ref().and_then(|(_, s)| ctl_rows(s)).and_then(|rows| {
            rows.into_iter().find(|x| x.name == r).map(|x| x.state)
        }),
        "cleared_after_start_ms": cleared_at.as_ref().map(|(t, _)| ms_between(t1, *t)),
        "badge_when_cleared": cleared_at.as_ref().and_then(|(_, s)| patrol_badge(s)).map(|b| b.trim().to_string()),
    });
    patrol.stop(true).await;
    ctl.stop(false).await;
    Ok(row)
}

/// HAProxy stops routing writes to the leader: its server in the read-write listener is
/// put into MAINT through the runtime API socket (what an operator or a script does by
/// mistake). One patrol (`--haproxy` as the sandbox gives it, the routing view `b` open)
/// and one `patronictl list -W` watch throughout; from just before the command: the view
/// showing the listener routing nowhere, and the judged finding (after HAProxy's own check
/// window, `inter` × rise/fall); patronictl, which cannot see HAProxy, is watched for
/// `--hold` seconds. Then the server is made ready again and the view must say `✓`.
async fn haproxy(o: &Opts) -> Result<Value> {
    let samples = o.num("samples", 20) as usize;
    let hold = Duration::from_secs(o.num("hold", 6));
    let mut sb = Sandbox::start(o).await?;
    let get = |k: &str| {
        sb.env
            .get(k)
            .cloned()
            .ok_or_else(|| eyre!("no {k} from scripts/cluster env (no HAProxy?)"))
    };
    let spec = format!(
        "{},rw_address={},ro_address={},inter=1s",
        get("PATROL_HAPROXY_URL")?,
        get("PATROL_HAPROXY_RW")?,
        get("PATROL_HAPROXY_RO")?
    );
    let sock = get("PATROL_HAPROXY_SOCKET")?;
    let (leader, replicas) = sb.healthy().await?;
    let mut names: Vec<String> = replicas.iter().map(|m| m.name.clone()).collect();
    names.push(leader.name.clone());
    let mut patrol = sb.patrol(&["--haproxy".into(), spec.clone()])?;
    let ctl = sb.patronictl()?;
    sb.settled(&patrol, &ctl, &leader.name, &names).await?;
    patrol.keys(b"b")?;
    let mut rng = Rng::new();
    let mut rows = Vec::new();
    for i in 0..samples {
        // nothing here moves the leader; asked again all the same
        let (leader, _) = sb.healthy().await?;
        let l = leader.name.clone();
        let l1 = l.clone();
        patrol
            .until(
                Duration::from_secs(30),
                "the routing view: rw routes to the leader",
                Box::new(move |s, _| {
                    s.lines().any(|x| {
                        x.contains(" rw ") && x.contains(&format!("→ {l1} ")) && x.contains('✓')
                    })
                }),
            )
            .await?;
        tokio::time::sleep(rng.millis(500, 2500)).await;
        let changed = patrol.arm(
            Box::new(|s, _| {
                s.lines()
                    .any(|x| x.contains(" rw ") && x.contains("→ nowhere"))
            }),
            true,
        )?;
        let judged = patrol.arm(
            Box::new(|s, _| {
                s.lines().any(|x| {
                    x.contains("✗ rw routes writes nowhere") && !x.contains("check window")
                })
            }),
            true,
        )?;
        let (l2, m) = (l.clone(), sb.members);
        let ctl_any = ctl.arm(
            Box::new(move |s, _| ctl_rows(s).is_some_and(|r| !ctl_healthy(&r, &l2, m))),
            true,
        )?;
        let t0 = Instant::now();
        haproxy_cmd(&sock, &format!("set server rw/{l} state maint"))?;
        let ack_ms = ms(t0.elapsed());
        let deadline = t0 + Duration::from_secs(20);
        let changed_at = patrol.wait(changed, left(deadline)).await;
        let judged_at = patrol.wait(judged, left(deadline)).await;
        let ctl_at = ctl.wait(ctl_any, left(t0 + hold)).await;
        haproxy_cmd(&sock, &format!("set server rw/{l} state ready"))?;
        let row = json!({
            "leader": l,
            "ack_ms": ack_ms,
            "patrol_changed_ms": changed_at.map(|t| ms_between(t0, t)),
            "patrol_judged_ms": judged_at.map(|t| ms_between(t0, t)),
            "patronictl_ms": ctl_at.map(|t| ms_between(t0, t)),
        });
        eprintln!("haproxy {}: {row}", i + 1);
        rows.push(row);
    }
    patrol.stop(true).await;
    ctl.stop(false).await;
    Ok(json!({
        "members": sb.members,
        "haproxy": spec,
        "hold_ms": ms(hold),
        "patrol_changed": figure(&rows, "patrol_changed_ms"),
        "patrol_judged": figure(&rows, "patrol_judged_ms"),
        "patronictl": figure(&rows, "patronictl_ms"),
        "samples": rows,
    }))
}

// ------------------------------------------------------------------------------- main

fn main() {
    let Some(o) = Opts::parse() else {
        println!("live bench: nothing to do without a subcommand; run it through scripts/bench");
        return;
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("live: {e}");
            std::process::exit(1);
        }
    };
    let result = rt.block_on(async {
        let v = match o.cmd.as_str() {
            "events" => events(&o).await?,
            "switchover" => switchover(&o).await?,
            "firstframe" => firstframe(&o).await?,
            "scale" => scale(&o).await?,
            "junk" => junk(&o).await?,
            "burst" => burst(&o).await?,
            "info" => info(&o).await?,
            "etcdkill" => etcdkill(&o).await?,
            "crash" => crash(&o).await?,
            "replica-stop" => replica_stop(&o).await?,
            "haproxy" => haproxy(&o).await?,
            "scale-clean" => {
                Env::new(&o)?
                    .etcd()
                    .await?
                    .delete(SCALE_NS, Some(DeleteOptions::new().with_prefix()))
                    .await?;
                json!({"deleted": SCALE_NS})
            }
            other => bail!("unknown subcommand {other}"),
        };
        let text = serde_json::to_string_pretty(&v)?;
        match o.kv.get("out") {
            Some(p) => std::fs::write(p, text + "\n").wrap_err_with(|| format!("write {p}"))?,
            None => println!("{text}"),
        }
        Ok::<(), color_eyre::eyre::Report>(())
    });
    if let Err(e) = result {
        eprintln!("live {}: {e:#}", o.cmd);
        std::process::exit(1);
    }
}
