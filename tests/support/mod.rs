//! Test support: a real Patroni + etcd + PostgreSQL cluster per test, driven by `scripts/cluster`.
//!
//! Use from an integration test with `mod support;`. Each [`TestCluster`] lives in its own
//! `/tmp/patrol-test-*` directory on its own ports (bases 25000..34000, step 100), so clusters
//! of different tests do not meet. Dropping it kills every process of the cluster (by pid, via
//! `scripts/cluster stop --fast`) and deletes the directory. A test process killed from outside
//! (SIGKILL, Ctrl-C) leaves its cluster running: `PATROL_CLUSTER_DIR=/tmp/patrol-test-X
//! scripts/cluster stop --purge` cleans it up.
//!
//! Environment:
//! - `PATROL_TEST_KEEP=1`: keep the directory after the test (its path is printed).
//! - `PATROL_TEST_CLUSTERS=N`: at most N clusters run at once in one test binary (default 2;
//!   each is 3 PostgreSQL + 3 Patroni + etcd, and bring-up is CPU bound).
//! - `PATROL_START_TIMEOUT=S`: passed on to `scripts/cluster start` (default here: 180 s).
//! - `PATROL_VENV`: where the Patroni venv is (same rule as `scripts/lib.sh`).
#![allow(dead_code)]

pub mod closed_pipe;
pub mod drive;
pub mod pty;

use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The defaults of `scripts/cluster`, passed explicitly so a developer's environment does not leak in.
pub const SCOPE: &str = "demo";
pub const NAMESPACE: &str = "/service/";
pub const REST_USER: &str = "patrol";
pub const REST_PASSWORD: &str = "sandbox-rest-secret";
/// etcd auth (`ClusterOptions::etcd_auth`): the user Patroni and patronictl.yaml log in as,
/// and root (what [`TestCluster::etcdctl`] uses).
pub const ETCD_USER: &str = "patroni";
pub const ETCD_PASSWORD: &str = "sandbox-etcd-secret";
pub const ETCD_ROOT_PASSWORD: &str = "sandbox-etcd-root-secret";

/// What kind of cluster to start ([`TestCluster::start_with`]).
#[derive(Debug, Clone, Copy)]
pub struct ClusterOptions {
    /// Patroni members, 1..=9.
    pub members: usize,
    /// `PATROL_TLS=1`: etcd and every REST API on https, client certificates required.
    pub tls: bool,
    /// `PATROL_ETCD_AUTH=1`: etcd user/password auth on.
    pub etcd_auth: bool,
    /// `PATROL_DCS=etcd`: the members and patronictl.yaml use an `etcd:` (v2 API) section.
    pub v2: bool,
    /// etcd members, 1..=4 (one raft cluster; `PATROL_ETCD_MEMBERS`).
    pub etcd_members: usize,
    /// Every endpoint list names a dead etcd first (`PATROL_ETCD_DEAD_FIRST`).
    pub dead_first: bool,
    /// A real HAProxy in front of the members (`PATROL_HAPROXY`): rw base+30, ro base+31,
    /// stats base+32, runtime socket `<dir>/haproxy.sock`.
    pub haproxy: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            members: 3,
            tls: false,
            etcd_auth: false,
            v2: false,
            etcd_members: 1,
            dead_first: false,
            haproxy: false,
        }
    }
}

/// `Options::new(3).etcd_members(3)`: the same options, built step by step.
pub type Options = ClusterOptions;

impl ClusterOptions {
    pub fn new(members: usize) -> ClusterOptions {
        ClusterOptions {
            members,
            ..Default::default()
        }
    }

    pub fn etcd_members(mut self, n: usize) -> ClusterOptions {
        self.etcd_members = n;
        self
    }

    pub fn dead_first(mut self) -> ClusterOptions {
        self.dead_first = true;
        self
    }

    pub fn haproxy(mut self) -> ClusterOptions {
        self.haproxy = true;
        self
    }
}

const PORT_RANGE: (u16, u16) = (25000, 34000);
const PORT_STEP: u16 = 100;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Patroni venv, located exactly as `scripts/lib.sh`'s `patrol_venv` does.
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let repo = repo_root();
        let out = Command::new("bash")
            .arg("-c")
            .arg(r#"repo=$1; . "$repo/scripts/lib.sh"; patrol_venv"#)
            .arg("bash")
            .arg(&repo)
            .stderr(Stdio::inherit())
            .output()
            .expect("run bash to locate the Patroni venv");
        assert!(out.status.success(), "locating the venv failed: {out:?}");
        let p = String::from_utf8(out.stdout).expect("venv path is UTF-8");
        PathBuf::from(p.trim())
    })
}

/// `patrol check` on `c` with `args` before the subcommand, and an empty patrol config (a
/// developer's own must not change it).
pub fn patrol_check(c: &TestCluster, args: &[&str], format: &str) -> Output {
    let own = c.dir().join("patrol-check.toml");
    std::fs::write(&own, "").expect("write an empty patrol config");
    Command::new(env!("CARGO_BIN_EXE_patrol"))
        .arg("-c")
        .arg(c.config_path())
        .arg("--patrol-config")
        .arg(&own)
        .args(args)
        .args(["check", "-f", format])
        .stdin(Stdio::null())
        .output()
        .expect("run patrol check")
}

/// Poll `f` every 100 ms until it returns `Some`, or panic after `timeout` naming `what`.
pub fn eventually<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() >= timeout {
            panic!(
                "timed out after {:.1}s waiting for: {what}",
                start.elapsed().as_secs_f64()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ------------------------------------------------------------------------ limits and ports

/// Limits how many clusters one test binary runs at once.
struct Slots {
    used: Mutex<usize>,
    freed: Condvar,
}

fn slots() -> &'static Slots {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    SLOTS.get_or_init(|| Slots {
        used: Mutex::new(0),
        freed: Condvar::new(),
    })
}

fn max_clusters() -> usize {
    std::env::var("PATROL_TEST_CLUSTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(2)
}

/// A held slot; released on drop.
struct Slot;

impl Slot {
    fn acquire() -> Slot {
        let s = slots();
        let mut used = s.used.lock().unwrap_or_else(|e| e.into_inner());
        while *used >= max_clusters() {
            used = s.freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let s = slots();
        let mut used = s.used.lock().unwrap_or_else(|e| e.into_inner());
        *used -= 1;
        s.freed.notify_one();
    }
}

fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// Bases handed out in this process (another test may not have bound them yet).
fn taken_bases() -> &'static Mutex<HashSet<u16>> {
    static TAKEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    TAKEN.get_or_init(|| Mutex::new(HashSet::new()))
}

/// The ports `scripts/cluster` uses for a base: etcd client/peer (base+2(K-1), +1 for each
/// etcd member K; base+8 for a dead endpoint), REST base+10+i, PostgreSQL base+20+i,
/// HAProxy base+30..=32 (asked for whether or not this cluster has one: a base is a block).
fn needed_ports(base: u16, members: usize, etcd_members: usize) -> Vec<u16> {
    let mut ports: Vec<u16> = (0..2 * etcd_members as u16).map(|i| base + i).collect();
    ports.push(base + 8);
    ports.extend([base + 30, base + 31, base + 32]);
    for i in 1..=members as u16 {
        ports.push(base + 10 + i);
        ports.push(base + 20 + i);
    }
    ports
}

fn ports_free(base: u16, members: usize, etcd_members: usize) -> bool {
    // Bind them all at once, then drop the listeners.
    let mut held = Vec::new();
    for p in needed_ports(base, members, etcd_members) {
        match TcpListener::bind(("127.0.0.1", p)) {
            Ok(l) => held.push(l),
            Err(_) => return false,
        }
    }
    true
}

/// Pick a base whose ports are all free, starting at a random base, and reserve it in this process.
fn pick_base(members: usize, etcd_members: usize) -> u16 {
    let n = (PORT_RANGE.1 - PORT_RANGE.0) / PORT_STEP;
    let start = (random_u64() % n as u64) as u16;
    let mut taken = taken_bases().lock().unwrap_or_else(|e| e.into_inner());
    for k in 0..n {
        let base = PORT_RANGE.0 + ((start + k) % n) * PORT_STEP;
        if !taken.contains(&base) && ports_free(base, members, etcd_members) {
            taken.insert(base);
            return base;
        }
    }
    panic!("no free port base in {}..{}", PORT_RANGE.0, PORT_RANGE.1);
}

fn release_base(base: u16) {
    taken_bases()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&base);
}

fn make_dir() -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("patrol-test-")
        .tempdir_in("/tmp")
        .expect("create a test directory under /tmp")
        .keep();
    // the postgres user (Patroni runs as it when we are root) must traverse it
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .expect("chmod 0755 the test directory");
    dir
}

/// Does the process exist and is it not a zombie? (Some container inits reap exited
/// orphans only now and then, so a killed process can linger as a zombie for a while.)
pub fn pid_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) S ...": the state follows the last ')'
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state != "Z" && state != "X")
}

fn output_text(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// ------------------------------------------------------------------------ the cluster

/// A running sandbox cluster (scope `demo`, namespace `/service/`, members `pg1`..`pgN`,
/// etcd members 1..K).
pub struct TestCluster {
    pub dir: PathBuf,
    pub base_port: u16,
    pub config_path: PathBuf,
    pub members: usize,
    pub etcd_members: usize,
    pub dead_first: bool,
    pub haproxy: bool,
    pub scope: String,
    pub namespace: String,
    /// The etcd API the members and patronictl.yaml use: `etcd3` or `etcd` (v2).
    pub dcs: &'static str,
    pub tls: bool,
    pub etcd_auth: bool,
    /// etcd members killed or SIGSTOPped by the test: `etcdctl` does not ask them.
    etcd_out: Mutex<HashSet<usize>>,
    _slot: Option<Slot>,
}

impl TestCluster {
    /// Start a cluster of `members` members (1..=9) and one etcd, and wait until it is
    /// healthy: one running leader, the others streaming. Panics with the script's output
    /// when that fails.
    pub fn start(members: usize) -> TestCluster {
        Self::start_with(ClusterOptions::new(members))
    }

    /// Start a cluster as `opts` says (TLS, etcd auth, v2, etcd members) and wait until it
    /// is healthy.
    pub fn start_with(opts: ClusterOptions) -> TestCluster {
        let ClusterOptions {
            members,
            etcd_members,
            dead_first,
            ..
        } = opts;
        assert!(
            (1..=9).contains(&members),
            "members must be 1..=9, got {members}"
        );
        assert!(
            (1..=4).contains(&etcd_members),
            "etcd members must be 1..=4, got {etcd_members}"
        );
        let mut slot = Some(Slot::acquire());
        let mut last_err = String::new();
        for _attempt in 0..3 {
            let base = pick_base(members, etcd_members);
            let dir = make_dir();
            let tc = TestCluster {
                config_path: dir.join("patronictl.yaml"),
                dir,
                base_port: base,
                members,
                etcd_members,
                dead_first,
                haproxy: opts.haproxy,
                scope: SCOPE.to_string(),
                namespace: NAMESPACE.to_string(),
                dcs: if opts.v2 { "etcd" } else { "etcd3" },
                tls: opts.tls,
                etcd_auth: opts.etcd_auth,
                etcd_out: Mutex::new(HashSet::new()),
                _slot: slot.take(),
            };
            // If the start fails, `tc` is dropped (also while panicking): it stops what started.
            let out = tc.script(&["start"]);
            if out.status.success() {
                return tc;
            }
            let text = output_text(&out);
            // Another process grabbed one of our ports between the check and the bind: retry.
            if text.contains("already in use") {
                last_err = text;
                let mut tc = tc;
                slot = tc._slot.take(); // dropping `tc` stops this attempt and frees its dir
                drop(tc);
                continue;
            }
            panic!(
                "scripts/cluster start failed (dir {}, base port {}):\n{text}",
                tc.dir.display(),
                tc.base_port
            );
        }
        panic!("scripts/cluster start failed 3 times on busy ports; last:\n{last_err}");
    }

    /// `scripts/cluster <args>` with this cluster's environment.
    pub fn script(&self, args: &[&str]) -> Output {
        let timeout = std::env::var("PATROL_START_TIMEOUT").unwrap_or_else(|_| "180".into());
        Command::new(repo_root().join("scripts/cluster"))
            .args(args)
            .env("PATROL_CLUSTER_DIR", &self.dir)
            .env("PATROL_BASE_PORT", self.base_port.to_string())
            .env("PATROL_MEMBERS", self.members.to_string())
            .env("PATROL_ETCD_MEMBERS", self.etcd_members.to_string())
            .env(
                "PATROL_ETCD_DEAD_FIRST",
                if self.dead_first { "1" } else { "0" },
            )
            .env("PATROL_HAPROXY", if self.haproxy { "1" } else { "0" })
            .env("PATROL_SCOPE", &self.scope)
            .env("PATROL_NAMESPACE", &self.namespace)
            .env("PATROL_DCS", self.dcs)
            .env("PATROL_REST_USER", REST_USER)
            .env("PATROL_REST_PASSWORD", REST_PASSWORD)
            .env("PATROL_TLS", if self.tls { "1" } else { "0" })
            .env("PATROL_ETCD_AUTH", if self.etcd_auth { "1" } else { "0" })
            .env("PATROL_ETCD_USER", ETCD_USER)
            .env("PATROL_ETCD_PASSWORD", ETCD_PASSWORD)
            .env("PATROL_ETCD_ROOT_PASSWORD", ETCD_ROOT_PASSWORD)
            .env("PATROL_START_TIMEOUT", timeout)
            .env_remove("PATROL_PURGE")
            .stdin(Stdio::null())
            .output()
            .expect("run scripts/cluster")
    }

    fn script_ok(&self, args: &[&str]) -> Output {
        let out = self.script(args);
        assert!(
            out.status.success(),
            "scripts/cluster {} failed:\n{}",
            args.join(" "),
            output_text(&out)
        );
        out
    }

    /// The patronictl/patrol configuration file (`patrol -c <this>`).
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `127.0.0.1:<port>` of etcd's client API (v3, and v2 too).
    pub fn etcd_endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.base_port)
    }

    /// `http(s)://127.0.0.1:<port>` of etcd's client API.
    pub fn etcd_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.base_port)
    }

    fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    /// Where `PATROL_TLS=1` put the CA and the certificates (`ca.crt`, `client.crt`, ...).
    pub fn tls_dir(&self) -> PathBuf {
        self.dir.join("tls")
    }

    /// `pg1`.. `pgN`.
    pub fn member_names(&self) -> Vec<String> {
        (1..=self.members).map(|i| format!("pg{i}")).collect()
    }

    fn member_index(&self, member: &str) -> u16 {
        let n: usize = member
            .strip_prefix("pg")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "not a member name: {member:?} (expected pg1..pg{})",
                    self.members
                )
            });
        assert!(
            (1..=self.members).contains(&n),
            "no member {member} (members: pg1..pg{})",
            self.members
        );
        n as u16
    }

    pub fn rest_port(&self, member: &str) -> u16 {
        self.base_port + 10 + self.member_index(member)
    }

    pub fn pg_port(&self, member: &str) -> u16 {
        self.base_port + 20 + self.member_index(member)
    }

    /// `http(s)://127.0.0.1:<port>` of a member's Patroni REST API (no trailing slash).
    pub fn rest_url(&self, member: &str) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.rest_port(member))
    }

    /// REST basic-auth credentials (also in the config file under `ctl.authentication`).
    pub fn rest_auth(&self) -> (&'static str, &'static str) {
        (REST_USER, REST_PASSWORD)
    }

    /// The member's Patroni log file (`log.dir` + `patroni.log`).
    pub fn log_path(&self, member: &str) -> PathBuf {
        self.member_index(member);
        self.dir.join(member).join("log").join("patroni.log")
    }

    /// The member's Patroni stdout/stderr (PostgreSQL's own log lines land here too).
    pub fn out_path(&self, member: &str) -> PathBuf {
        self.member_index(member);
        self.dir.join(member).join("patroni.out")
    }

    /// Run the venv's `patronictl -c <config> <args>`.
    pub fn patronictl(&self, args: &[&str]) -> Output {
        Command::new(venv().join("bin/patronictl"))
            .arg("-c")
            .arg(&self.config_path)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run patronictl")
    }

    /// `patronictl list -f json`, parsed (an array of rows with `Member`, `Role`, `State`, ...).
    /// Panics when patronictl fails or prints something else.
    pub fn patronictl_json_list(&self) -> Value {
        let out = self.patronictl(&["list", "-f", "json"]);
        assert!(
            out.status.success(),
            "patronictl list failed:\n{}",
            output_text(&out)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "patronictl list -f json is not JSON ({e}):\n{}",
                output_text(&out)
            )
        })
    }

    /// Like [`Self::patronictl_json_list`], but `None` instead of panicking (for polling).
    pub fn try_list(&self) -> Option<Vec<Value>> {
        let out = self.patronictl(&["list", "-f", "json"]);
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice::<Value>(&out.stdout)
            .ok()?
            .as_array()
            .cloned()
    }

    /// `(Role, State)` of a member as patronictl shows it, `None` if it is not listed.
    pub fn member_status(&self, member: &str) -> Option<(String, String)> {
        let rows = self.try_list()?;
        rows.iter().find(|r| r["Member"] == member).map(|r| {
            (
                r["Role"].as_str().unwrap_or_default().to_string(),
                r["State"].as_str().unwrap_or_default().to_string(),
            )
        })
    }

    /// The member patronictl shows as `Leader`.
    pub fn leader(&self) -> Option<String> {
        let rows = self.try_list()?;
        rows.iter()
            .find(|r| r["Role"] == "Leader")
            .and_then(|r| r["Member"].as_str())
            .map(str::to_string)
    }

    /// One running leader and every other member streaming.
    pub fn is_healthy(&self) -> bool {
        let Some(rows) = self.try_list() else {
            return false;
        };
        let leaders = rows
            .iter()
            .filter(|r| r["Role"] == "Leader" && r["State"] == "running")
            .count();
        let streaming = rows
            .iter()
            .filter(|r| r["Role"] != "Leader" && r["State"] == "streaming")
            .count();
        rows.len() == self.members && leaders == 1 && streaming == self.members - 1
    }

    /// Wait until [`Self::is_healthy`]; returns the leader.
    pub fn wait_healthy(&self, timeout: Duration) -> String {
        eventually(
            timeout,
            "cluster healthy (1 running leader, all others streaming)",
            || {
                if self.is_healthy() {
                    self.leader()
                } else {
                    None
                }
            },
        )
    }

    /// Run `etcdctl` (API v3) against this cluster's etcd: every member the test has not
    /// killed or stopped.
    pub fn etcdctl(&self, args: &[&str]) -> Output {
        let out = self.etcd_out.lock().unwrap_or_else(|e| e.into_inner());
        let eps: Vec<String> = (1..=self.etcd_members)
            .filter(|k| !out.contains(k))
            .map(|k| self.etcd_member_endpoint(k))
            .collect();
        drop(out);
        self.etcdctl_at(&eps.join(","), args)
    }

    /// Run `etcdctl` (API v3) against these endpoints (`host:port`, comma-separated), with
    /// the cluster's certificates, and as root when etcd has auth on.
    pub fn etcdctl_at(&self, endpoints: &str, args: &[&str]) -> Output {
        let urls: Vec<String> = endpoints
            .split(',')
            .map(|e| {
                format!(
                    "{}://{}",
                    self.scheme(),
                    e.rsplit("://").next().unwrap_or(e)
                )
            })
            .collect();
        let mut cmd = Command::new("etcdctl");
        cmd.env("ETCDCTL_API", "3")
            .arg(format!("--endpoints={}", urls.join(",")))
            .args(["--dial-timeout=2s", "--command-timeout=5s"]);
        if self.tls {
            let t = self.tls_dir();
            cmd.arg("--cacert")
                .arg(t.join("ca.crt"))
                .arg("--cert")
                .arg(t.join("client.crt"))
                .arg("--key")
                .arg(t.join("client.key"));
        }
        if self.etcd_auth {
            cmd.arg(format!("--user=root:{ETCD_ROOT_PASSWORD}"));
        }
        cmd.args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run etcdctl")
    }

    /// `127.0.0.1:<port>` of etcd member `k` (1..=etcd_members).
    pub fn etcd_member_endpoint(&self, k: usize) -> String {
        assert!(
            (1..=self.etcd_members).contains(&k),
            "no etcd member {k} (1..={})",
            self.etcd_members
        );
        format!("127.0.0.1:{}", self.base_port as usize + 2 * (k - 1))
    }

    /// `http://127.0.0.1:<port>` of etcd member `k`, as patrol names it.
    pub fn etcd_member_url(&self, k: usize) -> String {
        format!("http://{}", self.etcd_member_endpoint(k))
    }

    /// Which etcd member (1..) serves this URL or `host:port`, if any.
    pub fn etcd_member_of(&self, endpoint: &str) -> Option<usize> {
        let hp = endpoint
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/');
        (1..=self.etcd_members).find(|&k| self.etcd_member_endpoint(k) == hp)
    }

    /// The dead endpoint listed first with [`Options::dead_first`].
    pub fn dead_endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.base_port + 8)
    }

    /// Pid of etcd member `k`, if it runs (a SIGSTOPped one runs).
    pub fn etcd_pid(&self, k: usize) -> Option<u32> {
        let file = if self.etcd_members == 1 {
            "etcd.pid".to_string()
        } else {
            format!("etcd{k}.pid")
        };
        let p = std::fs::read_to_string(self.dir.join(file)).ok()?;
        let pid: u32 = p.trim().parse().ok()?;
        pid_alive(pid).then_some(pid)
    }

    fn etcd_cmd(&self, cmd: &str, k: usize, out: bool) {
        self.etcd_member_endpoint(k);
        self.script_ok(&[cmd, &k.to_string()]);
        let mut set = self.etcd_out.lock().unwrap_or_else(|e| e.into_inner());
        if out {
            set.insert(k);
        } else {
            set.remove(&k);
        }
    }

    /// SIGKILL etcd member `k`.
    pub fn kill_etcd(&self, k: usize) {
        self.etcd_cmd("kill-etcd", k, true);
    }

    /// SIGSTOP etcd member `k`: it hangs (its port still accepts connections).
    pub fn stop_etcd(&self, k: usize) {
        self.etcd_cmd("stop-etcd", k, true);
    }

    /// SIGCONT etcd member `k`.
    pub fn cont_etcd(&self, k: usize) {
        self.etcd_cmd("cont-etcd", k, false);
    }

    /// Start etcd member `k` again; returns once it answers `endpoint health` (which needs
    /// a quorum of the others).
    pub fn start_etcd(&self, k: usize) {
        self.etcd_cmd("start-etcd", k, false);
    }

    /// `etcdctl endpoint status -w json` of the members the test has not taken out:
    /// (member k, its id, the raft leader's id (0: none), revision).
    pub fn etcd_status(&self) -> Vec<(usize, u64, u64, i64)> {
        let out = self.etcdctl(&["endpoint", "status", "-w", "json"]);
        if !out.status.success() {
            return Vec::new();
        }
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let k = self.etcd_member_of(e["Endpoint"].as_str()?)?;
                let st = &e["Status"];
                Some((
                    k,
                    st["header"]["member_id"].as_u64()?,
                    st["leader"].as_u64().unwrap_or(0),
                    st["header"]["revision"].as_i64()?,
                ))
            })
            .collect()
    }

    /// The etcd member (1..) that is the raft leader, as the members that answer see it.
    pub fn etcd_leader(&self) -> Option<usize> {
        let st = self.etcd_status();
        let leader = st.iter().map(|s| s.2).find(|&l| l != 0)?;
        st.iter().find(|s| s.1 == leader).map(|s| s.0)
    }

    /// etcd's current revision (from the members that answer).
    pub fn etcd_revision(&self) -> Option<i64> {
        self.etcd_status().iter().map(|s| s.3).max()
    }

    /// `etcdctl compact <revision>`: history before it is gone.
    pub fn compact(&self, revision: i64) {
        let out = self.etcdctl(&["compact", &revision.to_string()]);
        assert!(
            out.status.success(),
            "etcdctl compact {revision} failed:\n{}",
            output_text(&out)
        );
    }

    /// `etcdctl put` of a key under the cluster prefix (`"members/pg1"` ...).
    pub fn etcd_put(&self, key: &str, value: &str) {
        let full = format!("{}{key}", self.key_prefix());
        let out = self.etcdctl(&["put", &full, value]);
        assert!(
            out.status.success(),
            "etcdctl put {full} failed:\n{}",
            output_text(&out)
        );
    }

    /// The DCS key prefix of this cluster: `/service/demo/`.
    pub fn key_prefix(&self) -> String {
        format!("{}{}/", self.namespace, self.scope)
    }

    /// The value of a key under the cluster prefix (`"leader"`, `"members/pg1"`, ...), if set.
    pub fn etcd_get(&self, key: &str) -> Option<String> {
        let full = format!("{}{key}", self.key_prefix());
        let out = self.etcdctl(&["get", "--print-value-only", &full]);
        assert!(
            out.status.success(),
            "etcdctl get {full} failed:\n{}",
            output_text(&out)
        );
        let s = String::from_utf8_lossy(&out.stdout);
        let s = s.strip_suffix('\n').unwrap_or(&s);
        if s.is_empty() {
            None
        } else {
            Some(s.to_string())
        }
    }

    /// Stop a member's Patroni and PostgreSQL (SIGTERM, SIGKILL after a bound); waits for them.
    pub fn stop_member(&self, member: &str) {
        let n = self.member_index(member).to_string();
        self.script_ok(&["stop-member", &n]);
    }

    /// Crash a member: SIGKILL its Patroni, immediate shutdown of its PostgreSQL. If it was the
    /// leader, its leader key stays until the TTL (20 s) expires, then a replica takes over.
    pub fn kill_member(&self, member: &str) {
        let n = self.member_index(member).to_string();
        self.script_ok(&["kill-member", &n]);
    }

    /// HAProxy's stats page (`--haproxy`), read-write and read-only ports.
    pub fn haproxy_url(&self) -> String {
        assert!(
            self.haproxy,
            "started without HAProxy (ClusterOptions::haproxy)"
        );
        format!("http://127.0.0.1:{}/", self.base_port + 32)
    }

    pub fn haproxy_rw_port(&self) -> u16 {
        self.base_port + 30
    }

    pub fn haproxy_ro_port(&self) -> u16 {
        self.base_port + 31
    }

    /// Pid of the HAProxy, if it runs.
    pub fn haproxy_pid(&self) -> Option<u32> {
        let p = std::fs::read_to_string(self.dir.join("haproxy.pid")).ok()?;
        let pid: u32 = p.trim().parse().ok()?;
        pid_alive(pid).then_some(pid)
    }

    /// `scripts/cluster maint|ready N [rw|ro]`: a member's HAProxy servers into MAINT / back.
    pub fn haproxy_state(&self, state: &str, member: &str, listener: Option<&str>) {
        let n = self.member_index(member).to_string();
        let mut args = vec![state, n.as_str()];
        args.extend(listener);
        self.script_ok(&args);
    }

    /// Start a member's Patroni again (returns at once; poll for its state).
    pub fn start_member(&self, member: &str) {
        let n = self.member_index(member).to_string();
        self.script_ok(&["start-member", &n]);
    }

    /// Pid of a member's Patroni, if it runs.
    pub fn patroni_pid(&self, member: &str) -> Option<u32> {
        let p = std::fs::read_to_string(self.dir.join(member).join("patroni.pid")).ok()?;
        let pid: u32 = p.trim().parse().ok()?;
        pid_alive(pid).then_some(pid)
    }

    /// Send `sig` (`-STOP`, `-CONT`) to a member's Patroni: freeze it without killing it.
    pub fn signal_patroni(&self, member: &str, sig: &str) {
        let pid = self
            .patroni_pid(member)
            .unwrap_or_else(|| panic!("{member}'s Patroni is not running"));
        let st = std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .expect("kill");
        assert!(st.success(), "kill {sig} {pid}");
    }

    /// The last `n` lines of a member's Patroni log.
    pub fn log_tail(&self, member: &str, n: usize) -> String {
        let text = std::fs::read_to_string(self.log_path(member)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    fn cleanup(&self) {
        let keep = std::env::var("PATROL_TEST_KEEP").is_ok_and(|v| !v.is_empty() && v != "0");
        if std::thread::panicking() {
            for m in self.member_names() {
                eprintln!(
                    "----- {} (last 15 lines)\n{}",
                    self.log_path(&m).display(),
                    self.log_tail(&m, 15)
                );
            }
        }
        // the directory goes away: kill rather than shut down cleanly (0.2 s instead of ~5 s)
        let out = if keep {
            self.script(&["stop"])
        } else {
            self.script(&["stop", "--fast"])
        };
        if !out.status.success() {
            eprintln!(
                "scripts/cluster stop failed for {}:\n{}",
                self.dir.display(),
                output_text(&out)
            );
        }
        if keep {
            eprintln!("PATROL_TEST_KEEP: keeping {}", self.dir.display());
        } else if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("could not remove {}: {e}", self.dir.display());
        }
        release_base(self.base_port);
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// A healthy model of a 3-member cluster: one running leader, two streaming replicas, every
/// REST API live, and every replica's lag known from a live pair (the leader sampled after
/// the replica: until then the lag is unknown and no replica is an eligible candidate).
pub fn healthy(app: &patrol::app::App) -> bool {
    use patrol::app::members::{LagSource, RestHealth};
    let rows = app.rows();
    rows.len() == 3
        && rows
            .iter()
            .filter(|r| r.role.is_leader() && r.state == "running")
            .count()
            == 1
        && rows
            .iter()
            .filter(|r| !r.role.is_leader() && r.state == "streaming")
            .count()
            == 2
        && rows.iter().all(|r| r.rest == RestHealth::Live)
        && rows
            .iter()
            .filter(|r| !r.role.is_leader())
            .all(|r| r.replay_lag.is_some() && r.lag_source == LagSource::Live)
}
