//! patronictl's read commands: `topology`, `history`, `show-config`, `dsn`, `version`, and
//! `list -t` / `-W` / `-w`. Each renders from the same `App` the console uses (one etcd
//! snapshot plus one round of REST calls, `runtime::oneshot`; the watch runs the console's
//! loop without a terminal), in patronictl 4.1's exact shapes. What these functions return
//! is exactly what goes to stdout, trailing newlines included.
//!
//! Every value from etcd or a REST API is sanitized before it is returned.

pub mod table;
pub mod watch;

use serde_json::{Map, Value, json};

use crate::app::App;
use crate::app::cluster::ClusterState;
use crate::cli::Format;
use crate::text::{clean, sanitize};

/// Each line of `s` through `text::clean` (YAML and JSON escape controls themselves; bidi
/// controls and the like they write raw).
pub(crate) fn clean_lines(s: &str) -> String {
    s.split('\n').map(clean).collect::<Vec<_>>().join("\n")
}

/// Python's `json.dumps` (ensure_ascii): spaced like Python, every non-ASCII character as
/// `\uXXXX`, so the bytes equal patronictl's (and DEL too, which Python leaves raw).
pub fn py_json(v: &Value) -> String {
    let s = crate::output::python_json(v);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        // DEL is ASCII and Python writes it raw; a terminal must not get it (text::is_unsafe)
        if c.is_ascii() && c != '\x7f' {
            out.push(c);
        } else {
            // outside strings JSON is ASCII: every such character is inside a string
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// A cell of `list -f tsv`: what [`cell`] makes of it, on one line (a newline would forge a
/// row: patronictl writes it raw, patrol a `?`).
pub(crate) fn tsv_cell(v: &Value) -> String {
    sanitize(&cell(v))
}

/// A cell of the list/topology table: tags in YAML flow style (`{nofailover: true}`), as
/// patronictl writes them for `topology` and `tsv`.
fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => sanitize(s),
        Value::Object(_) => clean_lines(crate::pyyaml::dump(v, true).trim()),
        other => sanitize(&other.to_string()),
    }
}

// ------------------------------------------------------------------------ topology

/// patronictl's `topology_sort`: the leader, then each member under its upstream, indented
/// two spaces per level with `+ `. A replica's upstream is its `replicatefrom` tag when that
/// names another replica, else the leader. Returns (index into `members`, level) in order.
/// `members` are (name, is_leader, replicatefrom), sorted by name.
pub fn topology_order(members: &[(String, bool, Option<String>)]) -> Vec<(usize, usize)> {
    let leader = members.iter().position(|m| m.1);
    let replicas: std::collections::BTreeSet<&str> = members
        .iter()
        .filter(|m| !m.1)
        .map(|m| m.0.as_str())
        .collect();
    // parent name (None: no leader) -> children, in member order
    let mut children: std::collections::BTreeMap<Option<&str>, Vec<usize>> = Default::default();
    for (i, (name, is_leader, from)) in members.iter().enumerate() {
        if *is_leader {
            continue;
        }
        let parent = match from.as_deref() {
            Some(p) if !p.is_empty() && p != name && replicas.contains(p) => Some(p),
            _ => leader.map(|l| members[l].0.as_str()),
        };
        children.entry(parent).or_default().push(i);
    }
    let mut out = Vec::new();
    // Depth first, as generate_topology recurses; an explicit stack and a visited set, so
    // a `replicatefrom` cycle written into etcd cannot loop (patronictl leaves such
    // members out: nothing reaches them from the leader; so does this).
    let mut seen = vec![false; members.len()];
    let mut stack: Vec<(Option<usize>, usize)> = vec![(leader, 0)];
    while let Some((node, level)) = stack.pop() {
        let name = match node {
            Some(i) => {
                if std::mem::replace(&mut seen[i], true) {
                    continue;
                }
                out.push((i, level));
                Some(members[i].0.as_str())
            }
            None => None,
        };
        if let Some(kids) = children.get(&name) {
            for &k in kids.iter().rev() {
                stack.push((Some(k), level + 1));
            }
        }
    }
    out
}

/// A pending restart's reason line as the tables show it (patronictl's `format_diff` with
/// `hide_long`): one over 50 characters names only its parameter.
fn hide_long(line: &str) -> String {
    if line.chars().count() <= 50 {
        return line.to_string();
    }
    let param = line.split_once(": ").map_or(line, |(p, _)| p);
    format!("{param}: [hidden - too long]")
}

/// The cells of the pretty tables (`list`, `topology`): tags as YAML (`block` style for
/// `list`, flow for `topology`, as patronictl writes them), long reasons shortened.
fn table_cell(col: &str, v: &Value, block: bool) -> String {
    match (col, v) {
        ("Tags", Value::Object(_)) if block => clean_lines(crate::pyyaml::dump(v, false).trim()),
        ("Pending restart reason", Value::String(s)) => s
            .split('\n')
            .map(|l| sanitize(&hide_long(l)))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => cell(v),
    }
}

/// `patronictl list` (pretty): the table without its Cluster column, the cluster in the
/// title, then the service lines. No closing newline.
pub(crate) fn list_pretty(app: &App, cols: &[&str], recs: &[Map<String, Value>]) -> String {
    let shown: Vec<&str> = cols.iter().skip(1).copied().collect();
    let rows: Vec<Vec<String>> = recs
        .iter()
        .map(|r| shown.iter().map(|c| table_cell(c, &r[*c], true)).collect())
        .collect();
    member_table(app, &shown, &rows)
}

/// The member table of `list` and `topology` (the columns but Cluster, the lags both
/// headed `Lag`), then the service lines. No closing newline.
fn member_table(app: &App, shown: &[&str], rows: &[Vec<String>]) -> String {
    let head: Vec<&str> = shown
        .iter()
        .map(|c| if c.ends_with(" Lag") { "Lag" } else { c })
        .collect();
    let mut out = table::pretty(
        &list_title(app),
        &head,
        &["TL", "Receive LSN", "Replay LSN", "Lag"],
        rows,
    );
    for l in service_info(app) {
        out.push('\n');
        out.push_str(&l);
    }
    out
}

/// The list table as `patronictl topology` prints it.
pub fn topology(app: &App) -> String {
    let (cols, recs) = crate::output::records(app, false);
    let members: Vec<(String, bool, Option<String>)> = {
        let rows = app.rows();
        recs.iter()
            .map(|r| {
                let name = r["Member"].as_str().unwrap_or_default().to_string();
                let row = rows.iter().find(|m| m.name == name);
                let leader = row.is_some_and(|m| m.role.is_leader());
                let from = row
                    .and_then(|m| m.tags.get("replicatefrom"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                (name, leader, from)
            })
            .collect()
    };
    let order = topology_order(&members);
    let shown: Vec<&str> = cols.iter().skip(1).copied().collect();
    let rows: Vec<Vec<String>> = order
        .iter()
        .map(|&(i, level)| {
            shown
                .iter()
                .map(|c| {
                    let v = table_cell(c, &recs[i][*c], false);
                    if *c == "Member" && level > 0 {
                        format!("{}+ {v}", " ".repeat((level - 1) * 2))
                    } else {
                        v
                    }
                })
                .collect()
        })
        .collect();
    member_table(app, &shown, &rows) + "\n"
}

fn list_title(app: &App) -> String {
    let init = match app.cluster().and_then(|c| c.initialize.as_deref()) {
        None => "uninitialized",
        Some("") => "initializing",
        Some(s) => s,
    };
    format!(
        " Cluster: {} ({}) ",
        sanitize(&app.model.scope),
        sanitize(init)
    )
}

/// The lines patronictl prints under the table: maintenance mode, a scheduled switchover.
fn service_info(app: &App) -> Vec<String> {
    let mut out = Vec::new();
    let Some(c) = app.cluster() else { return out };
    if c.is_paused() {
        out.push(" Maintenance mode: on".to_string());
    }
    if let Some(f) = &c.failover
        && let Some(at) = &f.scheduled_at
    {
        out.push(format!(" Switchover scheduled at: {}", sanitize(at)));
        for (k, v) in [("from", &f.leader), ("to", &f.member)] {
            if let Some(v) = v {
                // inside the same item: no leading space (patronictl joins items with "\n ")
                out.push(format!("{k:>24}: {}", sanitize(v)));
            }
        }
    }
    out
}

// ------------------------------------------------------------------------ history

const HISTORY_COLS: [&str; 5] = ["TL", "LSN", "Reason", "Timestamp", "New Leader"];

/// `patronictl history -f FORMAT`: the DCS `history` key, oldest first.
pub fn history(c: Option<&ClusterState>, format: Format) -> String {
    let rows: Vec<[Value; 5]> = c
        .map(|c| c.history.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|h| {
            [
                json!(h.timeline),
                json!(h.lsn),
                json!(h.reason),
                json!(h.timestamp.clone().unwrap_or_default()),
                json!(h.new_leader.clone().unwrap_or_default()),
            ]
        })
        .collect();
    let text = |v: &Value| match v {
        Value::String(s) => sanitize(s),
        other => other.to_string(),
    };
    match format {
        Format::Pretty => {
            let cells: Vec<Vec<String>> =
                rows.iter().map(|r| r.iter().map(text).collect()).collect();
            format!(
                "{}\n",
                table::pretty("", &HISTORY_COLS, &["TL", "LSN"], &cells)
            )
        }
        Format::Tsv => {
            let mut out = HISTORY_COLS.join("\t");
            out.push('\n');
            for r in &rows {
                out.push_str(&r.iter().map(text).collect::<Vec<_>>().join("\t"));
                out.push('\n');
            }
            out
        }
        Format::Json | Format::Yaml => {
            let list = Value::Array(
                rows.into_iter()
                    .map(|r| {
                        let m: Map<String, Value> =
                            HISTORY_COLS.iter().map(|c| c.to_string()).zip(r).collect();
                        Value::Object(m)
                    })
                    .collect(),
            );
            if format == Format::Json {
                format!("{}\n", py_json(&list))
            } else {
                // click.echo adds a newline to the YAML's own
                format!("{}\n", clean_lines(&crate::pyyaml::dump(&list, false)))
            }
        }
    }
}

// ------------------------------------------------------------------------ show-config

/// `patronictl show-config`: the `config` key as PyYAML writes it, secrets redacted (as it
/// entered the model already; again here, so no other path to `k.raw` can change that);
/// nothing when there is no config key.
pub fn show_config(c: Option<&ClusterState>) -> String {
    match c.and_then(|c| c.config.as_ref()) {
        Some(k) => format!(
            "{}\n",
            clean_lines(&crate::pyyaml::dump(&crate::redact::value(&k.raw), false))
        ),
        None => String::new(),
    }
}

// ------------------------------------------------------------------------ dsn

/// `-r/--role` of `dsn` (patronictl's `CtlPostgresqlRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DsnRole {
    Leader,
    Primary,
    StandbyLeader,
    Replica,
    Standby,
    Any,
}

/// `patronictl dsn`: `host=H port=P` of the leader, or of the first member (by name) with
/// `role`, or of `member`. Never a user or password: patronictl prints none either.
pub fn dsn(
    c: Option<&ClusterState>,
    role: Option<DsnRole>,
    member: Option<&str>,
) -> Result<String, String> {
    if role.is_some() && member.is_some() {
        return Err("--role and --member are mutually exclusive options".into());
    }
    let role = match (role, member) {
        (_, Some(_)) => DsnRole::Any,
        (Some(r), None) => r,
        (None, None) => DsnRole::Leader,
    };
    let none = || "Can not find a suitable member".to_string();
    let c = c.ok_or_else(none)?;
    let leader = c.leader.as_deref();
    let name = match role {
        DsnRole::Leader | DsnRole::Primary | DsnRole::StandbyLeader => {
            let l = leader.ok_or_else(none)?;
            let own = c.members.get(l).and_then(|m| m.role.as_deref());
            let ok = match role {
                DsnRole::Leader => true,
                // as patronictl: a leader is a standby leader unless it says it is a primary
                DsnRole::StandbyLeader => !matches!(own, Some("primary" | "master")),
                _ => own != Some("standby_leader"),
            };
            if !ok {
                return Err(none());
            }
            l
        }
        DsnRole::Replica | DsnRole::Standby | DsnRole::Any => c
            .members
            .keys()
            .map(String::as_str)
            .filter(|m| role == DsnRole::Any || Some(*m) != leader)
            .find(|m| member.is_none_or(|want| want == *m))
            .ok_or_else(none)?,
    };
    if member.is_some_and(|m| m != name) {
        return Err(none());
    }
    let (host, port) = c
        .members
        .get(name)
        .and_then(|m| m.host_port())
        .ok_or_else(|| format!("{}: no conn_url in its member key", sanitize(name)))?;
    // urllib's `hostname` is lower case
    Ok(format!(
        "host={} port={}\n",
        sanitize(&host.to_ascii_lowercase()),
        port.unwrap_or(5432)
    ))
}

// ------------------------------------------------------------------------ version

/// patronictl's `format_pg_version`: 150010 -> 15.10, 90624 -> 9.6.24.
pub fn format_pg_version(v: u64) -> String {
    if v < 100_000 {
        format!("{}.{}.{}", v / 10000, v / 100 % 100, v % 100)
    } else {
        format!("{}.{}", v / 10000, v % 100)
    }
}

/// `patronictl version [CLUSTER [MEMBER...]]`: patrol's version, then each member's (with
/// an API, by name, the ones asked) from its `GET /patroni` answer.
pub fn version(app: Option<&App>, asked: &[String]) -> String {
    let mut out = format!("patrol version {}\n", crate::cli::VERSION);
    let Some(app) = app else { return out };
    out.push('\n');
    let Some(c) = app.cluster() else { return out };
    for (name, m) in &c.members {
        if m.api_url.as_deref().is_none_or(str::is_empty)
            || (!asked.is_empty() && !asked.contains(name))
        {
            continue;
        }
        let rest = c.rest.get(name);
        let line = match rest.map(|r| (&r.ok, r.failing())) {
            Some((Some((_, s)), None)) => {
                let pg = s
                    .server_version
                    .filter(|v| *v > 0)
                    .map(|v| format!(" PostgreSQL {}", format_pg_version(v)))
                    .unwrap_or_default();
                format!(
                    "{}: Patroni {}{pg}",
                    sanitize(name),
                    sanitize(s.patroni.version.as_deref().unwrap_or("None"))
                )
            }
            Some((_, Some((_, e)))) => {
                format!("{}: failed to get version: {}", sanitize(name), sanitize(e))
            }
            _ => format!(
                "{}: failed to get version: not asked (over patrol's limit of members polled)",
                sanitize(name)
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// patronictl's `timestamp(0)`: local time to the second.
pub fn timestamp_line() -> String {
    jiff::Zoned::now().strftime("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests;

// ------------------------------------------------------------------------ dispatch

use std::process::ExitCode;

use crate::cli::Command;
use crate::config::Settings;

/// The cluster a read command names (its positional argument).
pub fn cluster_arg(cmd: &Command) -> Option<String> {
    match cmd {
        Command::List { cluster_name, .. }
        | Command::Topology { cluster_name, .. }
        | Command::History { cluster_name, .. }
        | Command::ShowConfig { cluster_name }
        | Command::Dsn { cluster_name, .. }
        | Command::Version { cluster_name, .. } => cluster_name.clone(),
        _ => None,
    }
}

/// Is this one of the commands [`run`] answers? (`list` without -t/-W/-w stays where it is.)
pub fn handles(cmd: &Command) -> bool {
    match cmd {
        Command::List {
            timestamp,
            watch_2s,
            watch,
            ..
        } => *timestamp || *watch_2s || watch.is_some(),
        Command::Topology { .. }
        | Command::History { .. }
        | Command::ShowConfig { .. }
        | Command::Dsn { .. }
        | Command::Version { .. } => true,
        _ => false,
    }
}

/// `-W` is `-w 2`, as in patronictl.
fn watch_every(w2: bool, w: Option<std::time::Duration>) -> Option<std::time::Duration> {
    w.or(w2.then_some(std::time::Duration::from_secs(2)))
}

/// Run a read command: its output on stdout, a failure on stderr with exit code 1.
pub fn run(
    cmd: &Command,
    settings: &Settings,
    interval: std::time::Duration,
    timeout: std::time::Duration,
) -> color_eyre::eyre::Result<ExitCode> {
    use std::io::{IsTerminal, Write};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let fail = |e: &str| {
        // not eprintln!: it panics when stderr is gone
        let _ = writeln!(std::io::stderr(), "patrol: {e}");
        Ok(ExitCode::from(1))
    };
    // the watches: the console's loop, printing on change
    let watch = match cmd {
        Command::List {
            format,
            extended,
            timestamp,
            watch_2s,
            watch,
            ..
        } => watch_every(*watch_2s, *watch).map(|every| {
            let (format, extended) = (*format, *extended);
            (
                every,
                *timestamp,
                Box::new(move |a: &App| format!("{}\n", crate::output::render(a, format, extended)))
                    as Box<dyn Fn(&App) -> String>,
            )
        }),
        Command::Topology {
            watch_2s, watch, ..
        } => watch_every(*watch_2s, *watch).map(|every| {
            (
                every,
                false,
                Box::new(topology) as Box<dyn Fn(&App) -> String>,
            )
        }),
        _ => None,
    };
    if let Some((every, timestamp, render)) = watch {
        let mut stdout = std::io::stdout();
        let w = watch::Watch {
            every,
            timestamp,
            clear: stdout.is_terminal(),
            render: &*render,
        };
        rt.block_on(watch::run(settings, interval, timeout, w, &mut stdout))?;
        return Ok(ExitCode::SUCCESS);
    }
    let app = match rt.block_on(crate::runtime::oneshot::collect(settings, timeout)) {
        Ok(app) => app,
        Err(e) => return fail(&e),
    };
    let c = app.cluster();
    let text = match cmd {
        Command::List {
            format, extended, ..
        } => format!(
            "{}\n{}\n",
            timestamp_line(),
            crate::output::render(&app, *format, *extended)
        ),
        Command::Topology { .. } => topology(&app),
        Command::History { format, .. } => history(c, *format),
        Command::ShowConfig { .. } => show_config(c),
        Command::Dsn { role, member, .. } => match dsn(c, *role, member.as_deref()) {
            Ok(t) => t,
            Err(e) => return fail(&e),
        },
        Command::Version { member_names, .. } => version(Some(&app), member_names),
        _ => String::new(),
    };
    let mut out = std::io::stdout().lock();
    // a closed pipe (`| head`) is not an error worth a message
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    Ok(ExitCode::SUCCESS)
}
