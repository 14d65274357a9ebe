use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Parser, Subcommand, ValueEnum};

/// `patrol --version`: the version and the commit it was built from (build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("PATROL_COMMIT"), ")");

/// `--theme`: any name or path is taken (a user theme is looked up when it is used);
/// the built-in names are offered to help and to shell completion.
#[derive(Debug, Clone, Copy)]
pub struct ThemeName;

impl TypedValueParser for ThemeName {
    type Value = String;
    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        Ok(value.to_string_lossy().into_owned())
    }
    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            crate::theme::BUILTIN
                .iter()
                .map(|(n, _)| PossibleValue::new(*n)),
        ))
    }
}

/// A live terminal console for PostgreSQL clusters run by Patroni with etcd.
///
/// Reads the same configuration file as `patronictl -c` (a node's patroni.yml works).
#[derive(Debug, Parser)]
#[command(name = "patrol", version = VERSION, about, long_about = None)]
pub struct Cli {
    /// Patroni / patronictl configuration file
    #[arg(
        short = 'c',
        long = "config-file",
        env = "PATRONICTL_CONFIG_FILE",
        global = true
    )]
    pub config_file: Option<PathBuf>,

    /// DCS URL, e.g. etcd3://127.0.0.1:2379/service (overrides the file's etcd section)
    #[arg(
        short = 'd',
        long = "dcs-url",
        alias = "dcs",
        env = "DCS_URL",
        global = true
    )]
    pub dcs_url: Option<String>,

    /// Do not verify the members' TLS certificates
    #[arg(short = 'k', long, global = true)]
    pub insecure: bool,

    /// How often to ask each member's REST API for its live state [default: 1s]
    #[arg(long, value_parser = parse_duration, global = true)]
    pub interval: Option<Duration>,

    /// Timeout of one REST request [default: 2s]
    #[arg(long, value_parser = parse_duration, global = true)]
    pub timeout: Option<Duration>,

    /// patrol's own settings (theme, keys, log sources ...)
    /// [default: ~/.config/patrol/config.toml if it exists]
    #[arg(long, env = "PATROL_CONFIG", global = true)]
    pub patrol_config: Option<PathBuf>,

    /// Theme: a built-in one (`patrol themes`), ~/.config/patrol/themes/NAME.toml, or a
    /// path to a theme file
    #[arg(long, global = true, value_parser = ThemeName, hide_possible_values = true)]
    pub theme: Option<String>,

    /// Synchronized output (DEC mode 2026) around each frame [default: auto: off inside
    /// tmux, on elsewhere]
    #[arg(long, value_enum, global = true)]
    pub sync_output: Option<crate::config::patrol::SyncOutput>,

    /// Hide and refuse every action that changes the cluster
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Ring the terminal bell when a health rule is raised (off by default)
    #[arg(long)]
    pub bell: bool,

    /// Audit log of confirmed actions, one JSON line each
    /// [default: $XDG_STATE_HOME/patrol/audit.jsonl]
    #[arg(long, env = "PATROL_AUDIT_LOG", global = true)]
    pub audit_log: Option<PathBuf>,

    /// Where each member's Patroni log is: `file:PATH` or `cmd:COMMAND`, with {member} and
    /// {host} placeholders, e.g. `file:/var/log/patroni/{member}.log` or
    /// `cmd:ssh -o BatchMode=yes {host} journalctl -u patroni -f -o cat`
    #[arg(long, env = "PATROL_LOGS", global = true)]
    pub logs: Option<String>,

    /// Append patrol's own diagnostic log to this file
    #[arg(long, global = true)]
    pub log_file: Option<PathBuf>,

    /// Cluster name (default: `scope` from the configuration)
    #[arg(long, global = true)]
    pub cluster: Option<String>,

    /// Never ask etcd: the membership comes from the members' Patroni REST API (`GET
    /// /cluster`), for Patroni on Consul, ZooKeeper, Kubernetes or raft, or etcd without quorum
    #[arg(long, global = true)]
    pub rest_only: bool,

    /// A Patroni REST API to ask for `/cluster` (HOST:PORT or URL; repeatable). Implies
    /// REST-only mode when the config names no etcd
    #[arg(long = "api", value_name = "URL", global = true)]
    pub api: Vec<String>,

    /// An HAProxy in front of the cluster (repeatable): its stats page URL (the CSV is read
    /// at URL;csv) or its runtime API socket's path, optionally followed by
    /// `,rw=LISTENER,ro=LISTENER,rw_address=HOST:PORT,ro_address=HOST:PORT,inter=2s,name=N`.
    /// The routing view (`b`) shows what it routes to
    #[arg(long = "haproxy", value_name = "URL", global = true)]
    pub haproxy: Vec<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the members once, like `patronictl list`
    List {
        /// Cluster name (default: `scope` from the configuration)
        cluster_name: Option<String>,
        /// Output format
        #[arg(short = 'f', long = "format", value_enum, default_value_t = Format::Pretty)]
        format: Format,
        /// Also print Pending restart, Scheduled restart and Tags columns
        #[arg(short = 'e', long)]
        extended: bool,
        /// Print a timestamp line first
        #[arg(short = 't', long)]
        timestamp: bool,
        /// Print again whenever the output changes, at most every 2 seconds
        #[arg(short = 'W')]
        watch_2s: bool,
        /// Print again whenever the output changes, at most every SECONDS
        #[arg(short = 'w', long = "watch", value_name = "SECONDS", value_parser = parse_seconds)]
        watch: Option<Duration>,
    },
    /// Judge the cluster's health once, as a Nagios/Icinga plugin: exit 0 OK, 1 WARNING,
    /// 2 CRITICAL, 3 UNKNOWN (the console's health rules; thresholds in patrol's config)
    Check {
        /// Cluster name (default: `scope` from the configuration)
        cluster_name: Option<String>,
        /// Output format
        #[arg(short = 'f', long = "format", value_enum, default_value_t = crate::check::CheckFormat::Nagios)]
        format: crate::check::CheckFormat,
    },
    /// Print the members as a tree under their upstream, like `patronictl topology`
    Topology {
        /// Cluster name (default: `scope` from the configuration)
        cluster_name: Option<String>,
        /// Print again whenever the output changes, at most every 2 seconds
        #[arg(short = 'W')]
        watch_2s: bool,
        /// Print again whenever the output changes, at most every SECONDS
        #[arg(short = 'w', long = "watch", value_name = "SECONDS", value_parser = parse_seconds)]
        watch: Option<Duration>,
    },
    /// Print the failover/switchover history, like `patronictl history`
    History {
        /// Cluster name (default: `scope` from the configuration)
        cluster_name: Option<String>,
        /// Output format
        #[arg(short = 'f', long = "format", value_enum, default_value_t = Format::Pretty)]
        format: Format,
    },
    /// Print the dynamic configuration as YAML, like `patronictl show-config`
    ShowConfig {
        /// Cluster name (default: `scope` from the configuration)
        cluster_name: Option<String>,
    },
    /// Print `host=H port=P` of the leader (or of a member, or of one with a role), like
    /// `patronictl dsn`; never a password
    Dsn {
        /// Cluster name (default: `scope` from the configuration)
        cluster_name: Option<String>,
        /// A member with this role
        #[arg(short = 'r', long, value_enum)]
        role: Option<crate::readcmds::DsnRole>,
        /// This member
        #[arg(short = 'm', long)]
        member: Option<String>,
    },
    /// Print patrol's version and, given a cluster, each member's Patroni and PostgreSQL
    /// versions, like `patronictl version`
    Version {
        /// Cluster name (no cluster: patrol's version only)
        cluster_name: Option<String>,
        /// Only these members
        member_names: Vec<String>,
    },
    /// List the themes `--theme` takes by name
    Themes,
    /// Print a shell completion script: `patrol completions bash > /etc/bash_completion.d/patrol`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `patrol man | man -l -`
    Man,
    /// patrol's own config file
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Write ~/.config/patrol/config.toml (or --patrol-config FILE) with every key and its
    /// default, commented out
    Init {
        /// Replace the file if it exists
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Pretty,
    Json,
    #[value(alias = "yml")]
    Yaml,
    Tsv,
}

/// `500ms`, `2s`, `1m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("invalid duration unit in {s:?} (use ms, s or m)")),
    };
    if !(0.05..=3600.0).contains(&secs) {
        return Err(format!("duration {s:?} out of range (50ms .. 1h)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `-w SECONDS`: a positive number of seconds, fractions allowed, as patronictl's float.
pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n <= 86400.0 => Ok(Duration::from_secs_f64(n)),
        _ => Err(format!("invalid number of seconds {s:?} (0 < S <= 86400)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("3h").is_err());
    }

    #[test]
    fn config_is_global_before_or_after_subcommand() {
        let a = Cli::try_parse_from(["patrol", "-c", "x.yml", "list", "-f", "json"]).unwrap();
        let b = Cli::try_parse_from(["patrol", "list", "-c", "x.yml", "-f", "json"]).unwrap();
        assert_eq!(a.config_file, b.config_file);
        assert!(matches!(
            a.command,
            Some(Command::List {
                format: Format::Json,
                ..
            })
        ));
    }
}
