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
//! [keys]                    # rebind actions; help and the hint bar follow
//! switchover = ["S"]
//! quit = ["q", "ctrl-q"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::app::keymap::Action;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatrolConfig {
    pub theme: Option<String>,
    pub read_only: Option<bool>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub audit_log: Option<PathBuf>,
    pub logs: Option<String>,
    #[serde(default)]
    pub logs_by_member: BTreeMap<String, String>,
    #[serde(default)]
    pub keys: BTreeMap<Action, Vec<String>>,
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
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse(text: &str) -> Result<PatrolConfig, String> {
    let c: PatrolConfig = toml::from_str(text).map_err(|e| e.to_string())?;
    // validate now, so a typo is an error at start, not a surprise later
    let mut km = crate::app::keymap::Keymap::default();
    km.rebind(&c.keys)?;
    for spec in c.logs.iter().chain(c.logs_by_member.values()) {
        crate::logs::LogSourceSpec::parse(spec).map_err(|e| e.to_string())?;
    }
    Ok(c)
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
            c.keys.get(&Action::Switchover),
            Some(&vec!["S".to_string()])
        );
        assert_eq!(c.logs_by_member.len(), 1);
    }

    #[test]
    fn mistakes_are_named() {
        assert!(parse("colour = 1").unwrap_err().contains("colour"));
        assert!(
            parse("[keys]\nswitchover = [\"nope-key\"]")
                .unwrap_err()
                .contains("nope-key")
        );
        assert!(parse("[keys]\nteleport = [\"t\"]").is_err());
        assert!(
            parse("logs = \"/var/log/x\"")
                .unwrap_err()
                .contains("file:")
        );
        assert_eq!(parse("").unwrap(), PatrolConfig::default());
    }
}
