//! patrol's own settings: `~/.config/patrol/config.toml` (or `--patrol-config FILE`).
//! Everything here can also be given on the command line, which wins.
//!
//! ```toml
//! theme = "default"
//! read_only = false
//! interval = "1s"
//! audit_log = "/var/log/patrol/audit.jsonl"
//! logs = "cmd:ssh -o BatchMode=yes {host} journalctl -u patroni -f -o cat"
//!
//! [logs_by_member]          # overrides `logs` for some members
//! pg1 = "file:/var/log/patroni/pg1.log"
//!
//! [[haproxy]]               # an HAProxy in front of the cluster (repeatable)
//! url = "http://10.0.0.5:7000/"   # its stats page (CSV at url;csv), or
//! # socket = "/run/haproxy/admin.sock"  # its runtime API (`show stat`)
//! name = "lb1"              # optional
//! rw = "pg_rw"              # optional: the read-write listener (else guessed)
//! ro = ["pg_ro"]            # optional: the read-only ones
//! rw_address = "10.0.0.5:5000"  # optional: what clients connect to (connection strings)
//! ro_address = "10.0.0.5:5001"
//! inter = "2s"              # optional: its checks' `inter` (the routing judgement waits rise/fall × it)
//!
//! [keys]                    # rebind actions; help and the hint bar follow
//! switchover = ["S"]        # in every context that has the action
//! quit = ["q", "ctrl-q"]
//! [keys.logs]               # in one context only (main, logs, dsn, help, dialog ...)
//! follow = ["F"]
//!
//! [check]                   # the health rules' thresholds (the screen and `patrol check`)
//! dcs_last_seen_secs = 60
//! paused_secs = 3600
//! restarted_secs = 300
//! slot_retained_bytes = 1073741824
//! ```
//!
//! The `[keys]` table is kept as text here and given meaning once, at start, by
//! `app::KeymapSet::with_overrides`, which names any mistake.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::logs::LogSourceSpec;

/// One entry of `[keys]`: `action = [keys]`, or `context = { action = [keys] }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum KeysEntry {
    Keys(Vec<String>),
    Context(BTreeMap<String, Vec<String>>),
}

/// patrol's settings, parsed once: durations are durations, log sources are checked specs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatrolConfig {
    pub theme: Option<String>,
    pub sync_output: Option<SyncOutput>,
    pub read_only: Option<bool>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub audit_log: Option<PathBuf>,
    pub logs: Option<LogSourceSpec>,
    pub logs_by_member: BTreeMap<String, LogSourceSpec>,
    /// Given meaning by the key map at start (it names its own mistakes).
    pub keys: BTreeMap<String, KeysEntry>,
    /// `[check]`: the health rules' thresholds.
    pub check: crate::app::diagnosis::Thresholds,
    /// `[[haproxy]]`.
    pub haproxy: Vec<crate::haproxy::HaproxySpec>,
}

/// One `[[haproxy]]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHaproxy {
    url: Option<String>,
    socket: Option<String>,
    name: Option<String>,
    rw: Option<String>,
    #[serde(default)]
    ro: Vec<String>,
    rw_address: Option<String>,
    ro_address: Option<String>,
    inter: Option<String>,
}

impl RawHaproxy {
    fn spec(self, i: usize) -> Result<crate::haproxy::HaproxySpec, String> {
        let at = |e: String| format!("haproxy[{i}]: {e}");
        let endpoint = match (self.url, self.socket) {
            (Some(u), None) => crate::haproxy::endpoint(&u).map_err(at)?,
            (None, Some(s)) if s.starts_with('/') => crate::haproxy::Endpoint::Socket(s.into()),
            (None, Some(_)) => return Err(at("socket: an absolute path".into())),
            _ => return Err(at("give exactly one of url and socket".into())),
        };
        let mut spec = crate::haproxy::HaproxySpec::new(endpoint);
        let pairs = [("name", self.name), ("rw", self.rw)]
            .into_iter()
            .chain(self.ro.into_iter().map(|r| ("ro", Some(r))))
            .chain([
                ("rw_address", self.rw_address),
                ("ro_address", self.ro_address),
                ("inter", self.inter),
            ]);
        for (k, v) in pairs {
            if let Some(v) = v {
                spec.set(k, &v).map_err(at)?;
            }
        }
        Ok(spec)
    }
}

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    theme: Option<String>,
    sync_output: Option<SyncOutput>,
    read_only: Option<bool>,
    interval: Option<String>,
    timeout: Option<String>,
    audit_log: Option<PathBuf>,
    logs: Option<String>,
    #[serde(default)]
    logs_by_member: BTreeMap<String, String>,
    #[serde(default)]
    keys: BTreeMap<String, KeysEntry>,
    #[serde(default)]
    check: crate::app::diagnosis::Thresholds,
    #[serde(default)]
    haproxy: Vec<RawHaproxy>,
}

/// `sync_output`: wrap each frame in synchronized output (DEC mode 2026), so a terminal
/// shows it whole. `auto`: on, but off inside tmux, some versions of which resend the whole
/// pane for every synchronized frame (costly over a slow SSH link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SyncOutput {
    #[default]
    Auto,
    On,
    Off,
}

impl SyncOutput {
    /// On or off, for a terminal inside tmux or not (`$TMUX` set and not empty).
    pub fn resolve(self, in_tmux: bool) -> bool {
        match self {
            SyncOutput::Auto => !in_tmux,
            SyncOutput::On => true,
            SyncOutput::Off => false,
        }
    }
}

pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("patrol").join("config.toml"))
}

/// Load the explicit file (which must exist), else the default one if it exists.
pub fn load(explicit: Option<&Path>) -> Result<PatrolConfig, String> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_path() {
            Some(p) if p.exists() => p,
            _ => return Ok(PatrolConfig::default()),
        },
    };
    let text = crate::files::read_bounded_string(&path, crate::files::MAX_CONFIG)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse(text: &str) -> Result<PatrolConfig, String> {
    let r: Raw = toml::from_str(text).map_err(|e| e.to_string())?;
    // checked now, so a typo is an error at start, not a surprise later
    let dur = |v: Option<String>, what: &str| {
        v.as_deref()
            .map(crate::cli::parse_duration)
            .transpose()
            .map_err(|e| format!("{what}: {e}"))
    };
    let spec = |s: &str, what: &str| LogSourceSpec::parse(s).map_err(|e| format!("{what}: {e}"));
    let mut logs_by_member = BTreeMap::new();
    for (m, s) in &r.logs_by_member {
        logs_by_member.insert(m.clone(), spec(s, &format!("logs_by_member.{m}"))?);
    }
    Ok(PatrolConfig {
        theme: r.theme,
        sync_output: r.sync_output,
        read_only: r.read_only,
        interval: dur(r.interval, "interval")?,
        timeout: dur(r.timeout, "timeout")?,
        audit_log: r.audit_log,
        logs: r.logs.as_deref().map(|s| spec(s, "logs")).transpose()?,
        logs_by_member,
        keys: r.keys,
        check: r.check,
        haproxy: (r.haproxy.into_iter().enumerate())
            .map(|(i, h)| h.spec(i))
            .collect::<Result<_, _>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_file() {
        let c = parse(
            r#"
theme = "dark"
read_only = true
interval = "500ms"
logs = "file:/var/log/patroni/{member}.log"
[logs_by_member]
pg1 = "cmd:journalctl -u patroni -f -o cat"
[keys]
switchover = ["S"]
quit = ["q", "ctrl-q"]
"#,
        )
        .unwrap();
        assert_eq!(c.theme.as_deref(), Some("dark"));
        assert_eq!(c.read_only, Some(true));
        assert_eq!(
            c.keys.get("switchover"),
            Some(&KeysEntry::Keys(vec!["S".to_string()]))
        );
        assert_eq!(c.logs_by_member.len(), 1);
        assert_eq!(c.check, crate::app::diagnosis::Thresholds::default());
        let c = parse("[check]\npaused_secs = 60").unwrap();
        assert_eq!(c.check.paused_secs, 60);
        assert!(parse("[check]\npause = 60").unwrap_err().contains("pause"));
    }

    #[test]
    fn haproxy_tables() {
        let c = parse(
            r#"
[[haproxy]]
url = "http://10.0.0.5:7000/"
rw = "pg_rw"
ro = ["pg_ro", "pg_ro2"]
rw_address = "10.0.0.5:5000"
inter = "1s"
[[haproxy]]
socket = "/run/haproxy/admin.sock"
name = "lb2"
"#,
        )
        .unwrap();
        assert_eq!(c.haproxy.len(), 2);
        assert_eq!(c.haproxy[0].name, "10.0.0.5:7000");
        assert_eq!(c.haproxy[0].ro, ["pg_ro", "pg_ro2"]);
        assert_eq!(c.haproxy[0].inter, Duration::from_secs(1));
        assert_eq!(c.haproxy[1].name, "lb2");
        let both = "[[haproxy]]\nurl = \"http://h:1/\"\nsocket = \"/s\"";
        assert!(parse(both).unwrap_err().contains("haproxy[0]"));
        assert!(parse("[[haproxy]]\nname = \"x\"").is_err());
        assert!(
            parse("[[haproxy]]\nurl = \"http://h:1/\"\nrw_address = \"h\"")
                .unwrap_err()
                .contains("host:port")
        );
    }

    #[test]
    fn mistakes_are_named() {
        assert!(parse("colour = 1").unwrap_err().contains("colour"));
        // (what a key or an action in `[keys]` means is checked by the key map)
        assert!(parse("[keys]\nswitchover = 3").is_err());
        assert!(
            parse("logs = \"/var/log/x\"")
                .unwrap_err()
                .contains("file:")
        );
        assert_eq!(parse("").unwrap(), PatrolConfig::default());
    }
}
