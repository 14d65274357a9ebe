//! IO lives here: the terminal, the tasks that feed the one channel, and the loop that
//! owns the `App`, applies messages, runs effects and draws.

mod audit;
mod effects;
mod frames;
mod haproxy;
mod headless;
pub mod oneshot;
pub mod ownlog;
pub mod tasks;
mod taskset;
mod terminal;
mod tui;

use std::time::{Duration, Instant};

use color_eyre::eyre::Result;
use tokio::sync::mpsc;

use crate::app::Msg;
use crate::config::{DcsApi, Settings};
use crate::theme::Theme;
pub use effects::Runner;
pub use headless::Headless;
pub use terminal::{TerminalGuard, restore_terminal};
pub use tui::run_tui;

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
    /// Every context's keys, with patrol's config file's rebinding applied.
    pub keys: crate::app::KeymapSet,
    /// Wrap each frame in synchronized output (DEC mode 2026).
    pub sync_output: bool,
    /// The health rules' thresholds (patrol's config, `[check]`).
    pub thresholds: crate::app::diagnosis::Thresholds,
    /// `--bell`: ring the terminal bell when a health rule is raised.
    pub bell: bool,
    /// The HAProxies in front of the cluster (`--haproxy`, `[[haproxy]]`).
    pub haproxy: Vec<crate::haproxy::HaproxySpec>,
}

/// The default audit log: `$XDG_STATE_HOME/patrol/audit.jsonl` (~/.local/state/...).
pub fn default_audit_log() -> std::path::PathBuf {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("patrol")
        .join("audit.jsonl")
}

/// Start the DCS source for `settings` feeding `tx`, watching `prefix` (the cluster's, or
/// the whole namespace for a fleet view).
/// Also returns etcd's newest revision as the source learns it aside from the queue (v3),
/// for [`Runner::set_newest`].
pub fn spawn_dcs(
    settings: &Settings,
    prefix: String,
    tx: mpsc::Sender<Msg>,
) -> Result<(
    tokio::task::JoinHandle<()>,
    Option<tokio::sync::watch::Receiver<i64>>,
)> {
    if settings.rest_only {
        // no etcd to watch: the model asks the members for /cluster (Effect::PollCluster)
        return Ok((tokio::spawn(async {}), None));
    }
    match settings.dcs.api {
        DcsApi::V3 => {
            let (newest, rx) = tokio::sync::watch::channel(0);
            let task = tokio::spawn(crate::dcs::run_v3(
                settings.dcs.clone(),
                prefix,
                tx,
                |ev| Msg::Dcs(Instant::now(), ev),
                newest,
            ));
            Ok((task, Some(rx)))
        }
        DcsApi::V2 => Ok((
            tokio::spawn(crate::dcs::run_v2(settings.dcs.clone(), prefix, tx, |ev| {
                Msg::Dcs(Instant::now(), ev)
            })),
            None,
        )),
    }
}
