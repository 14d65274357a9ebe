//! Routing truth: what each configured HAProxy routes to (its stats, `Msg::Haproxy`), what
//! each member's health endpoints answer as a load balancer polls them (`Msg::Health`), and
//! the pure judgement over both and the cluster: does the read-write listener route to
//! exactly the leader, the read-only ones only to healthy replicas? ([`listeners`],
//! [`problems`]). No IO here; the polling is `runtime/haproxy.rs`.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::cluster::ClusterState;
use crate::haproxy::{HaproxySpec, Server, Stats};

/// The health endpoints a load balancer polls, by label (`/replica?lag` asks with the
/// cluster's `maximum_lag_on_failover`).
pub const HEALTH_LABELS: [&str; 7] = [
    "/primary",
    "/replica",
    "/replica?lag",
    "/read-only",
    "/sync",
    "/async",
    "/health",
];

/// The paths to ask for each label, with `lag` bytes for `/replica?lag`.
pub fn health_paths(lag: u64) -> Vec<(&'static str, String)> {
    HEALTH_LABELS
        .iter()
        .map(|l| {
            let path = if *l == "/replica?lag" {
                format!("/replica?lag={lag}")
            } else {
                l.to_string()
            };
            (*l, path)
        })
        .collect()
}

/// How far back flips of a health answer are counted.
pub const FLIP_WINDOW: Duration = Duration::from_secs(300);
/// Flips kept per endpoint (a flapping member must not grow memory).
const MAX_FLIPS: usize = 64;

/// One endpoint's last answer and its recent changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status, or why there was none (sanitized).
    pub code: Result<u16, String>,
    pub at: Option<Instant>,
    /// When the answer changed (code to another code, or to/from no answer).
    pub flips: VecDeque<Instant>,
}

impl Answer {
    /// Changes within [`FLIP_WINDOW`] before `now`.
    pub fn flips_since(&self, now: Instant) -> usize {
        self.flips
            .iter()
            .filter(|t| now.saturating_duration_since(**t) <= FLIP_WINDOW)
            .count()
    }
}

/// Whom the health endpoints are polled for: (member, api_url, lag for `/replica?lag`).
pub type HealthTarget = (String, String, u64);

/// One HAProxy as patrol knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub spec: HaproxySpec,
    /// The last stats that parsed, and when.
    pub stats: Option<(Instant, Stats)>,
    /// The last failure (and when); cleared by the next answer.
    pub error: Option<(Instant, String)>,
    /// Per listener: what was wrong as of the last stats, and since when (judged once per
    /// stats answer, so the health rules read it without mapping servers to members).
    judged: Vec<(String, Judged)>,
}

/// Everything routing-related the model keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Routing {
    pub sources: Vec<Source>,
    /// Per member, per label ([`HEALTH_LABELS`]).
    pub health: BTreeMap<String, BTreeMap<&'static str, Answer>>,
    /// The health targets polled now (what the last `Effect::PollHealth` asked).
    pub health_polled: Vec<HealthTarget>,
    /// One look (`patrol check`): no history to wait on, so a wrong listener is reported
    /// without HAProxy's check window, like every other rule's grace there.
    pub one_look: bool,
}

impl Routing {
    pub fn new(specs: Vec<HaproxySpec>) -> Routing {
        Routing {
            sources: specs
                .into_iter()
                .map(|spec| Source {
                    spec,
                    stats: None,
                    error: None,
                    judged: Vec::new(),
                })
                .collect(),
            ..Default::default()
        }
    }

    pub fn configured(&self) -> bool {
        !self.sources.is_empty()
    }

    /// A stats answer (or failure) of source `i`. Returns whether anything shown changed.
    pub fn on_stats(
        &mut self,
        i: usize,
        at: Instant,
        result: Result<Box<Stats>, String>,
        cluster: Option<&ClusterState>,
    ) -> bool {
        let facts = Facts::of(cluster);
        let health = self.health.clone();
        let Some(src) = self.sources.get_mut(i) else {
            return false;
        };
        match result {
            Ok(stats) => {
                let before = src.stats.as_ref().map(|(_, s)| s);
                let changed = before != Some(&stats) || src.error.is_some();
                src.stats = Some((at, *stats));
                src.error = None;
                // what is wrong now, and since when (kept while it stays the same); without
                // the cluster yet there is no leader to judge against
                let now_wrong: Vec<(String, Judged)> = listeners(src, &facts, &health)
                    .into_iter()
                    .filter(|_| cluster.is_some())
                    .filter_map(|l| {
                        let wrong = l.wrong?;
                        let judged = Judged {
                            wrong,
                            purpose: l.purpose.map(|p| p.0),
                            window: l.window,
                            since: at,
                        };
                        Some((l.name, judged))
                    })
                    .collect();
                let before = std::mem::take(&mut src.judged);
                src.judged = now_wrong
                    .into_iter()
                    .map(|(k, mut j)| {
                        let same = before.iter().find(|(b, _)| *b == k);
                        if let Some((_, b)) = same.filter(|(_, b)| b.wrong == j.wrong) {
                            j.since = b.since;
                        }
                        (k, j)
                    })
                    .collect();
                changed
            }
            Err(e) => {
                let changed = src.error.as_ref().map(|(_, m)| m) != Some(&e);
                src.error = Some((at, crate::text::sanitize(&e)));
                changed
            }
        }
    }

    /// One round of a member's health answers. Returns whether a code changed.
    pub fn on_health(
        &mut self,
        member: &str,
        at: Instant,
        answers: Vec<(String, Result<u16, String>)>,
    ) -> bool {
        // answers for a member no longer polled are late: dropped
        if !self.health_polled.iter().any(|(m, _, _)| m == member) {
            return false;
        }
        let mine = self.health.entry(member.to_string()).or_default();
        let mut changed = false;
        for (label, code) in answers {
            let Some(label) = HEALTH_LABELS.iter().find(|l| **l == label) else {
                continue;
            };
            let code = code.map_err(|e| crate::text::sanitize(&e));
            let a = mine.entry(label).or_insert_with(|| Answer {
                code: code.clone(),
                at: None,
                flips: VecDeque::new(),
            });
            if a.at.is_some() && a.code != code {
                a.flips.push_back(at);
                if a.flips.len() > MAX_FLIPS {
                    a.flips.pop_front();
                }
                changed = true;
            }
            changed |= a.at.is_none();
            a.code = code;
            a.at = Some(at);
        }
        changed
    }

    /// Poll these targets' health endpoints from now on: `Some(set)` when it differs from
    /// what is polled (the answers of members dropped from it go with them).
    pub fn want_health(&mut self, want: Vec<HealthTarget>) -> Option<Vec<HealthTarget>> {
        if want == self.health_polled {
            return None;
        }
        self.health
            .retain(|m, _| want.iter().any(|(w, _, _)| w == m));
        self.health_polled = want.clone();
        Some(want)
    }
}

/// What the judgement needs of the cluster: the leader, and each member's role, state and
/// PostgreSQL address (from its `conn_url`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub leader: Option<String>,
    pub members: BTreeMap<String, MemberFact>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberFact {
    pub role: String,
    pub state: String,
    pub addr: Option<(String, u16)>,
}

impl MemberFact {
    /// A replica that serves reads: not the primary, and streaming (or running, as a
    /// replica without a receiver yet says).
    pub fn healthy_replica(&self) -> bool {
        !matches!(
            self.role.as_str(),
            "primary" | "master" | "leader" | "standby_leader"
        ) && matches!(self.state.as_str(), "streaming" | "running")
    }
}

impl Facts {
    pub fn of(cluster: Option<&ClusterState>) -> Facts {
        let Some(c) = cluster else {
            return Facts::default();
        };
        Facts {
            leader: c.leader.clone(),
            members: c
                .members
                .iter()
                .map(|(n, m)| {
                    let addr = m.host_port().and_then(|(h, p)| {
                        Some((h.trim_matches(['[', ']']).to_ascii_lowercase(), p?))
                    });
                    (
                        n.clone(),
                        MemberFact {
                            role: m.role.clone().unwrap_or_default(),
                            state: m.state.clone().unwrap_or_default(),
                            addr,
                        },
                    )
                })
                .collect(),
        }
    }
}

/// What a listener is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    ReadWrite,
    ReadOnly,
}

impl Purpose {
    pub fn label(self) -> &'static str {
        match self {
            Purpose::ReadWrite => "read-write",
            Purpose::ReadOnly => "read-only",
        }
    }
}

/// How patrol knows what a listener is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownBy {
    /// `rw` / `ro` in the config.
    Config,
    /// Its name (`rw`, `pg_write`, `replicas` ...).
    Name,
    /// Its servers' last check codes equal what `/primary` (or `/replica`) answers for
    /// each member: that is the path it checks.
    Checks,
}

impl KnownBy {
    pub fn label(self) -> &'static str {
        match self {
            KnownBy::Config => "configured",
            KnownBy::Name => "by its name",
            KnownBy::Checks => "by its checks",
        }
    }
}

/// How a server was matched to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappedBy {
    /// Its address equals the member's `conn_url` host and port.
    Address,
    /// Its name is the member's (or holds its host and port, as Patroni's template names
    /// servers: `postgresql_10.0.0.1_5432`).
    Name,
}

/// One server of a listener, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerView {
    pub server: Server,
    pub member: Option<(String, MappedBy)>,
    /// Does HAProxy send new connections to it now?
    pub routes: bool,
    /// What is wrong with it here, in a few words (None: as it should be).
    pub note: Option<String>,
}

/// How bad a routing finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// What is wrong with a listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrong {
    pub severity: Severity,
    pub message: String,
}

/// One listener (a proxy with servers), judged against the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenerView {
    pub name: String,
    pub purpose: Option<(Purpose, KnownBy)>,
    pub servers: Vec<ServerView>,
    /// The members (or unmapped servers, by name) it routes new connections to.
    pub routes_to: Vec<String>,
    pub wrong: Option<Wrong>,
    /// HAProxy's check window: `inter` × the largest of its servers' rise and fall.
    pub window: Duration,
}

/// Which member a server fronts.
fn map_server(s: &Server, facts: &Facts) -> Option<(String, MappedBy)> {
    if let Some(a) = s.addr.as_deref().and_then(crate::haproxy::split_addr) {
        let hit = facts
            .members
            .iter()
            .find(|(_, m)| m.addr.as_ref() == Some(&a));
        if let Some((n, _)) = hit {
            return Some((n.clone(), MappedBy::Address));
        }
    }
    if facts.members.contains_key(&s.name) {
        return Some((s.name.clone(), MappedBy::Name));
    }
    let lower = s.name.to_ascii_lowercase();
    facts.members.iter().find_map(|(n, m)| {
        let (h, p) = m.addr.as_ref()?;
        let tail = [format!("{h}_{p}"), format!("{h}:{p}")];
        tail.iter()
            .any(|t| lower.ends_with(t.as_str()))
            .then(|| (n.clone(), MappedBy::Name))
    })
}

/// The words of a name: `pg_rw-1` is `pg`, `rw`, `1`.
fn words(name: &str) -> Vec<String> {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `rw`, `write`, `primary`, `master` ...: read-write; `ro`, `read`, `replica(s)` ...:
/// read-only (a name with both, or neither, says nothing).
fn purpose_by_name(name: &str) -> Option<Purpose> {
    const RW: [&str; 9] = [
        "rw",
        "write",
        "writer",
        "readwrite",
        "primary",
        "master",
        "leader",
        "writes",
        "postgres_rw",
    ];
    const RO: [&str; 12] = [
        "ro",
        "read",
        "reader",
        "reads",
        "readonly",
        "replica",
        "replicas",
        "standby",
        "standbys",
        "slave",
        "slaves",
        "postgres_ro",
    ];
    let w = words(name);
    let rw = w.iter().any(|x| RW.contains(&x.as_str()));
    let ro = w.iter().any(|x| RO.contains(&x.as_str()));
    match (rw, ro) {
        (true, false) => Some(Purpose::ReadWrite),
        (false, true) => Some(Purpose::ReadOnly),
        _ => None,
    }
}

/// The check path, from the servers' last check codes against what each member's
/// `/primary` and `/replica` answer now: the one that agrees for every mapped server (and
/// the other does not).
fn purpose_by_checks(
    servers: &[(Server, Option<(String, MappedBy)>)],
    health: &BTreeMap<String, BTreeMap<&'static str, Answer>>,
) -> Option<Purpose> {
    let mut agree = [true, true];
    let mut compared = 0;
    for (s, m) in servers {
        let (Some((m, _)), Some(code)) = (m, s.check_code) else {
            continue;
        };
        let Some(h) = health.get(m) else { continue };
        for (i, label) in ["/primary", "/replica"].iter().enumerate() {
            match h.get(label).map(|a| &a.code) {
                Some(Ok(c)) => agree[i] &= *c == code,
                _ => agree[i] = false,
            }
        }
        compared += 1;
    }
    match (compared > 0, agree) {
        (true, [true, false]) => Some(Purpose::ReadWrite),
        (true, [false, true]) => Some(Purpose::ReadOnly),
        _ => None,
    }
}

/// Every listener of a source, judged: what it routes to against what it should.
pub fn listeners(
    src: &Source,
    facts: &Facts,
    health: &BTreeMap<String, BTreeMap<&'static str, Answer>>,
) -> Vec<ListenerView> {
    let Some((_, stats)) = &src.stats else {
        return Vec::new();
    };
    let spec = &src.spec;
    let mut out = Vec::new();
    for p in stats.proxies.iter().filter(|p| !p.servers.is_empty()) {
        let mapped: Vec<(Server, Option<(String, MappedBy)>)> = p
            .servers
            .iter()
            .map(|s| (s.clone(), map_server(s, facts)))
            .collect();
        let configured = if spec.rw.as_deref() == Some(p.name.as_str()) {
            Some(Purpose::ReadWrite)
        } else if spec.ro.contains(&p.name) {
            Some(Purpose::ReadOnly)
        } else {
            None
        };
        let told = spec.rw.is_some() || !spec.ro.is_empty();
        let purpose = match configured {
            Some(c) => Some((c, KnownBy::Config)),
            // told which ones they are: the others are not judged
            None if told => None,
            None => purpose_by_name(&p.name)
                .map(|x| (x, KnownBy::Name))
                .or_else(|| purpose_by_checks(&mapped, health).map(|x| (x, KnownBy::Checks))),
        };
        // backups take connections only when no active server does
        let active_routes = mapped.iter().any(|(s, _)| !s.backup && s.status.routes());
        let routes = |s: &Server| s.status.routes() && (!s.backup || !active_routes);
        let routes_to: Vec<String> = mapped
            .iter()
            .filter(|(s, _)| routes(s))
            .map(|(s, m)| m.as_ref().map(|(n, _)| n.clone()).unwrap_or(s.name.clone()))
            .collect();
        let rise_fall = (p.servers.iter())
            .map(|s| s.rise.unwrap_or(2).max(s.fall.unwrap_or(3)))
            .max()
            .unwrap_or(3);
        let window = spec.inter.saturating_mul(rise_fall);
        let servers: Vec<ServerView> = mapped
            .iter()
            .map(|(s, m)| {
                let r = routes(s);
                let fact = m.as_ref().and_then(|(n, _)| facts.members.get(n));
                let is_leader = m.as_ref().map(|(n, _)| n) == facts.leader.as_ref();
                let note = match purpose.map(|x| x.0) {
                    _ if m.is_none() => Some("no member at this address".to_string()),
                    Some(Purpose::ReadWrite) if r && !is_leader => Some("not the leader".into()),
                    Some(Purpose::ReadWrite) if !r && is_leader => {
                        Some(format!("leader, but {}", s.status.label()))
                    }
                    Some(Purpose::ReadOnly) if r && !fact.is_some_and(|f| f.healthy_replica()) => {
                        Some("not a healthy replica".into())
                    }
                    Some(Purpose::ReadOnly) if !r && fact.is_some_and(|f| f.healthy_replica()) => {
                        Some(format!("healthy, but {}", s.status.label()))
                    }
                    _ => None,
                };
                ServerView {
                    server: s.clone(),
                    member: m.clone(),
                    routes: r,
                    note,
                }
            })
            .collect();
        let wrong = purpose.and_then(|(pu, _)| judge(&p.name, pu, &routes_to, &servers, facts));
        out.push(ListenerView {
            name: p.name.clone(),
            purpose,
            servers,
            routes_to,
            wrong,
            window,
        });
    }
    out
}

fn judge(
    name: &str,
    purpose: Purpose,
    routes_to: &[String],
    servers: &[ServerView],
    facts: &Facts,
) -> Option<Wrong> {
    let list = |v: &[String]| v.join(", ");
    let crit = |message: String| {
        Some(Wrong {
            severity: Severity::Critical,
            message,
        })
    };
    let warn = |message: String| {
        Some(Wrong {
            severity: Severity::Warning,
            message,
        })
    };
    match purpose {
        Purpose::ReadWrite => {
            let Some(leader) = &facts.leader else {
                // no leader: writes fail wherever they go; only a route is news
                return (!routes_to.is_empty()).then(|| Wrong {
                    severity: Severity::Critical,
                    message: format!(
                        "{name} routes writes to {} while the cluster has no leader",
                        list(routes_to)
                    ),
                });
            };
            if routes_to == std::slice::from_ref(leader) {
                return None;
            }
            let fronted = servers
                .iter()
                .find(|s| s.member.as_ref().map(|(n, _)| n) == Some(leader));
            match (routes_to.is_empty(), fronted) {
                (_, None) => crit(format!(
                    "{name} has no server for the leader {leader}{}",
                    if routes_to.is_empty() {
                        String::new()
                    } else {
                        format!("; it routes writes to {}", list(routes_to))
                    }
                )),
                (true, Some(s)) => crit(format!(
                    "{name} routes writes nowhere: the leader {leader} is {} there",
                    s.server.status.label()
                )),
                (false, Some(_)) if routes_to.contains(leader) => crit(format!(
                    "{name} routes writes to {}, not only the leader {leader}",
                    list(routes_to)
                )),
                (false, Some(_)) => crit(format!(
                    "{name} routes writes to {}, not the leader {leader}",
                    list(routes_to)
                )),
            }
        }
        Purpose::ReadOnly => {
            let bad: Vec<String> = routes_to
                .iter()
                .filter(|n| !facts.members.get(*n).is_some_and(|f| f.healthy_replica()))
                .cloned()
                .collect();
            if !bad.is_empty() {
                let why: Vec<String> = bad
                    .iter()
                    .map(|n| match facts.members.get(n) {
                        None => format!("{n} (not a member)"),
                        Some(_) if facts.leader.as_ref() == Some(n) => format!("{n} (the leader)"),
                        Some(f) => {
                            format!("{n} ({})", if f.state.is_empty() { "?" } else { &f.state })
                        }
                    })
                    .collect();
                return warn(format!(
                    "{name} routes reads to {}: not a healthy replica",
                    why.join(", ")
                ));
            }
            let healthy: Vec<String> = (facts.members.iter())
                .filter(|(_, f)| f.healthy_replica())
                .map(|(n, _)| n.clone())
                .collect();
            if routes_to.is_empty() && !healthy.is_empty() {
                return warn(format!(
                    "{name} routes reads nowhere, though {} {} healthy",
                    list(&healthy),
                    if healthy.len() == 1 { "is" } else { "are" }
                ));
            }
            let left_out: Vec<String> = servers
                .iter()
                .filter(|s| !s.routes && s.note.is_some() && s.member.is_some())
                .map(|s| format!("{} ({})", s.server.name, s.server.status.label()))
                .collect();
            (!left_out.is_empty()).then(|| Wrong {
                severity: Severity::Info,
                message: format!("{name} leaves out healthy replica {}", left_out.join(", ")),
            })
        }
    }
}

/// What was wrong with one listener at the last stats answer, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Judged {
    wrong: Wrong,
    purpose: Option<Purpose>,
    window: Duration,
    since: Instant,
}

/// A routing finding for the health rules: which HAProxy, which listener, what, since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub haproxy: String,
    pub listener: String,
    /// What the listener is for; None: the HAProxy itself does not answer.
    pub purpose: Option<Purpose>,
    pub severity: Severity,
    pub message: String,
    /// Since when the stats have said so.
    pub since: Instant,
}

/// The routing findings of a model, once HAProxy's own check window has passed: a
/// listener wrong for less than `inter` × rise/fall may be HAProxy still following a
/// change (a switchover), which is not news. Also: a configured HAProxy that does not
/// answer. Pure, and read from what each stats answer judged (`Routing::on_stats`), so
/// the diagnosis rules pay per listener, not per member key; a change of the cluster
/// alone is judged at the next stats answer (one interval, within HAProxy's own window).
pub fn problems(routing: &Routing, now: Instant) -> Vec<Problem> {
    let mut out = Vec::new();
    for src in &routing.sources {
        if let Some((at, e)) = &src.error {
            // the stats are as old as the failure; the listeners are not judged on them
            if src.stats.as_ref().is_none_or(|(s, _)| s <= at) {
                out.push(Problem {
                    haproxy: src.spec.name.clone(),
                    listener: String::new(),
                    purpose: None,
                    severity: Severity::Warning,
                    message: format!(
                        "HAProxy {} does not answer: {e}",
                        crate::text::sanitize(&src.spec.name)
                    ),
                    since: *at,
                });
                continue;
            }
        }
        for (name, j) in &src.judged {
            if !routing.one_look && now.saturating_duration_since(j.since) < j.window {
                continue;
            }
            out.push(Problem {
                haproxy: src.spec.name.clone(),
                listener: name.clone(),
                purpose: j.purpose,
                severity: j.wrong.severity,
                message: j.wrong.message.clone(),
                since: j.since,
            });
        }
    }
    out
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;

impl super::Model {
    /// The members whose health endpoints the routing view asks: the members polled now
    /// (bounded like them), with the cluster's `maximum_lag_on_failover` for `/replica?lag`.
    pub fn health_targets(&self) -> Vec<HealthTarget> {
        let lag = crate::dcs::keys::maximum_lag_on_failover(
            self.cluster().and_then(|c| c.config.as_ref()),
        );
        self.polled()
            .iter()
            .map(|(m, url)| (m.clone(), url.clone(), lag))
            .collect()
    }

    /// The routing findings now ([`problems`]).
    pub fn routing_problems(&self) -> Vec<Problem> {
        problems(&self.routing, self.now)
    }
}

impl super::Model {
    /// Each HAProxy's read-write and read-only strings (`postgresql://ADDRESS/postgres`,
    /// as the runbook's `haproxy-ip:rw-port/db`), labelled with where each lands now.
    pub fn haproxy_conn_strings(&self) -> Vec<super::model::ConnString> {
        let facts = Facts::of(self.cluster());
        let mut out = Vec::new();
        for src in &self.routing.sources {
            let ls = listeners(src, &facts, &self.routing.health);
            for (purpose, addr) in [
                (Purpose::ReadWrite, &src.spec.rw_address),
                (Purpose::ReadOnly, &src.spec.ro_address),
            ] {
                let l = ls.iter().find(|l| l.purpose.map(|p| p.0) == Some(purpose));
                let lands = match (l, &src.stats) {
                    (_, None) => "not read yet".to_string(),
                    (None, Some(_)) => "no such listener".to_string(),
                    (Some(l), _) if l.routes_to.is_empty() => format!("{}: lands nowhere", l.name),
                    (Some(l), _) => format!("{} → {}", l.name, l.routes_to.join(", ")),
                };
                let label = format!(
                    "{} through HAProxy {} ({lands})",
                    purpose.label(),
                    src.spec.name
                );
                let (text, refused) = match addr {
                    Some(a) => (format!("postgresql://{a}/postgres"), None),
                    None => (
                        "(address unknown)".to_string(),
                        Some(format!(
                            "say it: [[haproxy]] {0}_address = \"HOST:PORT\", or --haproxy URL,{0}_address=HOST:PORT",
                            if purpose == Purpose::ReadWrite {
                                "rw"
                            } else {
                                "ro"
                            }
                        )),
                    ),
                };
                out.push(super::model::ConnString {
                    label,
                    text,
                    refused,
                });
            }
        }
        out
    }
}
