//! The console's loop without a terminal: the same tasks, messages and `update`, for tests,
//! benchmarks and anything that wants the live model.

use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::mpsc;

use super::effects::Runner;
use super::tui::{apply, drained};
use super::{spawn_dcs, tasks};
use crate::app::{App, AppConfig, Msg};
use crate::config::Settings;
use crate::patroni::RestClient;

/// The TUI's loop without a terminal: the same tasks, messages and `update`, for tests,
/// benchmarks and anything that wants the live model.
pub struct Headless {
    pub app: App,
    rx: mpsc::Receiver<Msg>,
    runner: Runner,
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
    /// which loads every cluster in it into `app.model.clusters`).
    pub fn start_watching(
        settings: &Settings,
        prefix: String,
        interval: Duration,
        timeout: Duration,
    ) -> Result<Headless> {
        let client = RestClient::new(&settings.rest, timeout).wrap_err("REST client")?;
        let (tx, rx) = mpsc::channel::<Msg>(4096);
        let mut cfg = AppConfig::for_settings(settings);
        cfg.rest_interval = interval;
        let mut app = App::new(cfg, Instant::now());
        let (dcs, newest) = spawn_dcs(settings, prefix, tx.clone())?;
        let clock = tasks::spawn_clock(tx.clone());
        let mut runner = Runner::new(client, settings.dcs.clone(), interval, tx, false, None);
        runner.set_newest(newest);
        let info = runner.start_info(&settings.dcs, &settings.cluster_prefix());
        runner.run(app.start());
        Ok(Headless {
            app,
            rx,
            runner,
            _dcs: dcs,
            _clock: clock,
            _info: info,
        })
    }

    /// Write confirmed actions to this audit log; `read_only` as `--read-only`.
    pub fn configure(&mut self, audit_log: Option<std::path::PathBuf>, read_only: bool) {
        self.runner.set_audit_log(audit_log, read_only);
        self.app.read_only = read_only;
    }

    /// Follow the members' logs through this source (`--logs`).
    pub fn set_logs(&mut self, spec: Option<crate::logs::LogSourceSpec>) {
        let follow = self.app.model.set_log_sources(spec, Default::default());
        self.runner.run(follow);
    }

    /// Read these HAProxies' stats from now on (`--haproxy`), replacing any before.
    pub fn set_haproxy(&mut self, specs: Vec<crate::haproxy::HaproxySpec>) {
        self.app.model.routing = crate::app::routing::Routing::new(specs.clone());
        self.runner
            .run(vec![crate::app::Effect::PollHaproxy(specs)]);
    }

    /// How many writes have left the process since start (counted where they leave).
    pub fn writes_sent(&self) -> usize {
        self.runner.writes_sent()
    }

    /// How many REST pollers run (bounded by `Model::MAX_POLLED` whatever etcd holds).
    pub fn pollers(&self) -> usize {
        self.runner.pollers()
    }

    /// Deliver one message (a key, say) as the TUI loop would, running its effects.
    pub fn send(&mut self, msg: Msg) {
        let backlog = !self.rx.is_empty();
        apply(&mut self.app, &mut self.runner, msg, backlog);
    }

    /// Apply messages until `done(&app)` holds (true) or `timeout` passes (false). `done` is
    /// asked when the TUI would draw: once the messages waiting are applied, or a frame
    /// interval after it was last asked while they keep coming. (Asked between two messages
    /// of one etcd response, it would see a state no screen shows: an event applied, the
    /// revision that says so still queued behind it.)
    pub async fn until(&mut self, timeout: Duration, mut done: impl FnMut(&App) -> bool) -> bool {
        const FRAME: Duration = Duration::from_millis(33);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut asked = tokio::time::Instant::now();
        loop {
            if self.rx.is_empty() || asked.elapsed() >= FRAME {
                if done(&self.app) {
                    return true;
                }
                asked = tokio::time::Instant::now();
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => {
                    let backlog = !self.rx.is_empty();
                    apply(&mut self.app, &mut self.runner, m, backlog);
                    if self.rx.is_empty() {
                        drained(&mut self.app, &mut self.runner);
                    }
                }
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
