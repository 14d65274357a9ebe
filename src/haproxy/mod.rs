//! HAProxy as patrol reads it: where to ask ([`HaproxySpec`], from `--haproxy` or
//! `[[haproxy]]`) and the stats CSV (`show stat`, or the stats page's `;csv`) parsed into
//! proxies and servers. Pure: the fetching is a runtime task (`runtime/haproxy.rs`).
//!
//! The CSV comes from outside: its size is bounded before parsing, every field is cut to
//! [`MAX_FIELD`] characters and sanitized, and at most [`MAX_ROWS`] rows are kept.

use std::time::Duration;

/// A stats answer larger than this is not read (a proxy with 1,000 servers is ~400 KiB).
pub const MAX_CSV: usize = 4 * 1024 * 1024;
/// Rows kept of one answer (proxies and servers together).
pub const MAX_ROWS: usize = 10_000;
/// Characters kept of one field.
pub const MAX_FIELD: usize = 200;

/// HAProxy's default `inter` (the time between two checks) when patrol is not told.
pub const DEFAULT_INTER: Duration = Duration::from_secs(2);

/// Where one HAProxy's stats are read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    /// The stats page; the CSV is at `{url};csv`.
    Url(String),
    /// The runtime API's socket: `show stat`.
    Socket(std::path::PathBuf),
}

/// One HAProxy patrol is told about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HaproxySpec {
    /// How it is called on screen (default: the URL's host:port or the socket's path).
    pub name: String,
    pub endpoint: Endpoint,
    /// The read-write listener's name; None: guessed from the names.
    pub rw: Option<String>,
    /// The read-only listeners' names; empty: guessed from the names.
    pub ro: Vec<String>,
    /// What clients connect to (`host:port`) for reads and writes: the connection strings.
    pub rw_address: Option<String>,
    pub ro_address: Option<String>,
    /// HAProxy's `inter`: with each server's rise and fall, how long its checks take to
    /// follow a change (the routing judgement waits that long).
    pub inter: Duration,
}

impl HaproxySpec {
    /// `URL` or `/path/to/socket`, then optional `,key=value` pairs (`name`, `rw`, `ro`,
    /// `rw_address`, `ro_address`, `inter`), as `--haproxy` takes it.
    pub fn parse(arg: &str) -> Result<HaproxySpec, String> {
        let mut parts = arg.split(',');
        let first = parts.next().unwrap_or("").trim();
        let mut spec = HaproxySpec::new(endpoint(first)?);
        for p in parts {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("'{p}': expected key=value after the URL"))?;
            spec.set(k.trim(), v.trim())?;
        }
        Ok(spec)
    }

    pub fn new(endpoint: Endpoint) -> HaproxySpec {
        let name = match &endpoint {
            // host:port, without any `user:password@`
            Endpoint::Url(u) => {
                let rest = u.split_once("://").map(|(_, r)| r).unwrap_or(u);
                let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
                let host = authority
                    .rsplit_once('@')
                    .map(|(_, h)| h)
                    .unwrap_or(authority);
                crate::text::sanitize(host)
            }
            Endpoint::Socket(p) => p.display().to_string(),
        };
        HaproxySpec {
            name,
            endpoint,
            rw: None,
            ro: Vec::new(),
            rw_address: None,
            ro_address: None,
            inter: DEFAULT_INTER,
        }
    }

    /// One `key=value` of `--haproxy` (the same keys as `[[haproxy]]`).
    pub fn set(&mut self, k: &str, v: &str) -> Result<(), String> {
        let nonempty = |v: &str| {
            if v.is_empty() {
                Err(format!("{k}: empty"))
            } else {
                Ok(v.to_string())
            }
        };
        match k {
            "name" => self.name = nonempty(v)?,
            "rw" => self.rw = Some(nonempty(v)?),
            "ro" => self.ro.push(nonempty(v)?),
            "rw_address" => self.rw_address = Some(address(v)?),
            "ro_address" => self.ro_address = Some(address(v)?),
            "inter" => {
                self.inter = crate::cli::parse_duration(v).map_err(|e| format!("inter: {e}"))?
            }
            _ => {
                return Err(format!(
                    "unknown key '{k}' (name, rw, ro, rw_address, ro_address, inter)"
                ));
            }
        }
        Ok(())
    }
}

/// `http(s)://...` (the stats page) or an absolute path (the runtime API socket).
pub fn endpoint(s: &str) -> Result<Endpoint, String> {
    if s.starts_with('/') {
        return Ok(Endpoint::Socket(s.into()));
    }
    if (s.starts_with("http://") || s.starts_with("https://")) && s.len() > "https://".len() {
        return Ok(Endpoint::Url(s.to_string()));
    }
    Err(format!(
        "'{}': expected the stats page's http(s) URL or the runtime API socket's absolute path",
        crate::text::sanitize(s)
    ))
}

/// `host:port` with a port (what a client connects to).
fn address(s: &str) -> Result<String, String> {
    match s.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok() => Ok(s.to_string()),
        _ => Err(format!(
            "'{}': expected host:port",
            crate::text::sanitize(s)
        )),
    }
}

/// A server's state as HAProxy reports it (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServerStatus {
    Up,
    Down,
    /// Administratively out (`set server ... state maint`, `disabled`).
    Maint,
    /// Takes no new connections (`state drain`, weight 0).
    Drain,
    /// Up, but its check says "no load balancing" (e.g. a 404 with `http-check disable-on-404`).
    Nolb,
    /// Not checked: HAProxy routes to it whatever it is.
    NoCheck,
    /// Anything else HAProxy may say.
    Unknown,
}

impl ServerStatus {
    pub fn label(self) -> &'static str {
        match self {
            ServerStatus::Up => "UP",
            ServerStatus::Down => "DOWN",
            ServerStatus::Maint => "MAINT",
            ServerStatus::Drain => "DRAIN",
            ServerStatus::Nolb => "NOLB",
            ServerStatus::NoCheck => "no check",
            ServerStatus::Unknown => "?",
        }
    }

    /// Does HAProxy send new connections to a server in this state?
    pub fn routes(self) -> bool {
        matches!(self, ServerStatus::Up | ServerStatus::NoCheck)
    }
}

/// One server line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    /// `host:port` it connects to (`addr`, HAProxy ≥ 1.9), sanitized.
    pub addr: Option<String>,
    pub status: ServerStatus,
    /// `UP 1/2`: going down (1 failed check of 2); `DOWN 1/2`: going up.
    pub transition: Option<(u32, u32)>,
    /// `check_status` (`L7OK`, `L7STS`, `L4CON` ...) and the HTTP code of the last check.
    pub check_status: String,
    pub check_code: Option<u16>,
    /// `check_desc` / `last_chk`: what the last check said, in words.
    pub check_desc: String,
    pub last_chk: String,
    /// Current sessions.
    pub sessions: Option<u64>,
    /// Seconds since its status last changed.
    pub lastchg: Option<u64>,
    pub rise: Option<u32>,
    pub fall: Option<u32>,
    /// A backup server (`bck`): used only when no active one is up.
    pub backup: bool,
}

/// One frontend or backend line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyLine {
    pub status: String,
    pub sessions: Option<u64>,
}

/// One proxy (a `listen` section is a frontend and a backend of the same name).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Proxy {
    pub name: String,
    pub frontend: Option<ProxyLine>,
    pub backend: Option<ProxyLine>,
    pub servers: Vec<Server>,
}

/// One stats answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    pub proxies: Vec<Proxy>,
    /// Rows dropped past [`MAX_ROWS`].
    pub dropped: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("the stats answer is {0} bytes, over the {MAX_CSV} patrol reads")]
    TooLarge(usize),
    #[error("not HAProxy's stats CSV: no '# pxname,svname,...' header line")]
    NoHeader,
    #[error("the CSV header has no '{0}' column")]
    Missing(&'static str),
}

/// Parse `show stat` / `;csv`.
pub fn parse_csv(bytes: &[u8]) -> Result<Stats, CsvError> {
    if bytes.len() > MAX_CSV {
        return Err(CsvError::TooLarge(bytes.len()));
    }
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let header = lines
        .next()
        .and_then(|l| l.strip_prefix('#'))
        .ok_or(CsvError::NoHeader)?;
    let cols: Vec<String> = split_line(header)
        .into_iter()
        .map(|c| c.trim().to_string())
        .collect();
    let col = |name: &'static str| cols.iter().position(|c| c == name);
    let need = |name: &'static str| col(name).ok_or(CsvError::Missing(name));
    let (px, sv, st) = (need("pxname")?, need("svname")?, need("status")?);
    let c = Cols {
        scur: col("scur"),
        check_status: col("check_status"),
        check_code: col("check_code"),
        check_desc: col("check_desc"),
        last_chk: col("last_chk"),
        lastchg: col("lastchg"),
        rise: col("check_rise"),
        fall: col("check_fall"),
        bck: col("bck"),
        addr: col("addr"),
    };
    let mut stats = Stats::default();
    let mut rows = 0usize;
    for line in lines {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if rows >= MAX_ROWS {
            stats.dropped += 1;
            continue;
        }
        rows += 1;
        let f = split_line(line);
        let get = |i: usize| f.get(i).map(|s| clean(s)).unwrap_or_default();
        let opt = |i: Option<usize>| i.map(get).filter(|s| !s.is_empty());
        let num = |i: Option<usize>| opt(i).and_then(|s| s.parse::<u64>().ok());
        let (pxname, svname) = (get(px), get(sv));
        if pxname.is_empty() {
            continue;
        }
        // a proxy's lines come together; a name seen before (out of order) is found again
        let idx = match stats.proxies.iter().rposition(|p| p.name == pxname) {
            Some(i) => i,
            None => {
                stats.proxies.push(Proxy {
                    name: pxname,
                    ..Default::default()
                });
                stats.proxies.len() - 1
            }
        };
        let p = &mut stats.proxies[idx];
        let status = get(st);
        match svname.as_str() {
            "FRONTEND" => {
                p.frontend = Some(ProxyLine {
                    status,
                    sessions: num(c.scur),
                })
            }
            "BACKEND" => {
                p.backend = Some(ProxyLine {
                    status,
                    sessions: num(c.scur),
                })
            }
            _ => {
                let (status, transition) = server_status(&status);
                p.servers.push(Server {
                    name: svname,
                    addr: opt(c.addr),
                    status,
                    transition,
                    check_status: opt(c.check_status).unwrap_or_default(),
                    check_code: num(c.check_code).and_then(|n| u16::try_from(n).ok()),
                    check_desc: opt(c.check_desc).unwrap_or_default(),
                    last_chk: opt(c.last_chk).unwrap_or_default(),
                    sessions: num(c.scur),
                    lastchg: num(c.lastchg),
                    rise: num(c.rise).and_then(|n| u32::try_from(n).ok()),
                    fall: num(c.fall).and_then(|n| u32::try_from(n).ok()),
                    backup: num(c.bck).is_some_and(|n| n > 0),
                });
            }
        }
    }
    Ok(stats)
}

struct Cols {
    scur: Option<usize>,
    check_status: Option<usize>,
    check_code: Option<usize>,
    check_desc: Option<usize>,
    last_chk: Option<usize>,
    lastchg: Option<usize>,
    rise: Option<usize>,
    fall: Option<usize>,
    bck: Option<usize>,
    addr: Option<usize>,
}

/// A field as drawn: sanitized, at most [`MAX_FIELD`] characters.
fn clean(s: &str) -> String {
    let cut: String = s.chars().take(MAX_FIELD).collect();
    crate::text::sanitize(cut.trim())
}

/// `UP`, `DOWN 1/2`, `MAINT(via)`, `no check` ...
fn server_status(s: &str) -> (ServerStatus, Option<(u32, u32)>) {
    let mut words = s.split_whitespace();
    let first = words.next().unwrap_or("");
    let transition = words.next().and_then(|w| {
        let (a, b) = w.split_once('/')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    });
    let st = match first {
        "UP" => ServerStatus::Up,
        "DOWN" => ServerStatus::Down,
        "NOLB" => ServerStatus::Nolb,
        "DRAIN" => ServerStatus::Drain,
        "no" if s.trim() == "no check" => ServerStatus::NoCheck,
        m if m.starts_with("MAINT") => ServerStatus::Maint,
        _ => ServerStatus::Unknown,
    };
    (st, transition)
}

/// One CSV line into fields: HAProxy quotes a field holding a comma or a quote (`"a,b"`,
/// `""` for a quote inside).
fn split_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if cur.is_empty() => quoted = true,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// `host:port` split for matching (`[v6]:port` too); the host lowercased.
pub fn split_addr(addr: &str) -> Option<(String, u16)> {
    let (h, p) = addr.rsplit_once(':')?;
    let h = h.trim_start_matches('[').trim_end_matches(']');
    Some((h.to_ascii_lowercase(), p.parse().ok()?))
}

#[cfg(test)]
mod tests;
