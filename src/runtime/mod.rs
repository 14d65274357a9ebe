//! IO lives here: the terminal, the tasks that feed the one channel, and the loop that
//! owns the `App`, applies messages, runs effects and draws.

pub mod oneshot;
pub mod tasks;
mod terminal;

use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::mpsc;

use crate::app::{App, Effect, Msg};
use crate::config::{DcsApi, Settings};
use crate::patroni::RestClient;
use crate::theme::Theme;
pub use terminal::TerminalGuard;

/// At most ~30 frames per second, however fast events arrive.
const FRAME: Duration = Duration::from_millis(33);

pub struct Options {
    pub interval: Duration,
    pub timeout: Duration,
    pub theme: Theme,
    pub read_only: bool,
}

/// Start the DCS source for `settings` feeding `tx`, watching `prefix` (the cluster's, or
/// the whole namespace for a fleet view).
pub fn spawn_dcs(
    settings: &Settings,
    prefix: String,
    tx: mpsc::Sender<Msg>,
) -> Result<tokio::task::JoinHandle<()>> {
    match settings.dcs.api {
        DcsApi::V3 => Ok(tokio::spawn(crate::dcs::run_v3(
            settings.dcs.clone(),
            prefix,
            tx,
            |ev| Msg::Dcs(Instant::now(), ev),
        ))),
        DcsApi::V2 => Err(color_eyre::eyre::eyre!(
            "this configuration uses `etcd:` (the etcd v2 API); patrol reads `etcd3:` clusters so far"
        )),
    }
}

pub fn run_tui(settings: Settings, opts: Options) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?;
    rt.block_on(tui_main(settings, opts))
}

async fn tui_main(settings: Settings, opts: Options) -> Result<()> {
    let client = RestClient::new(&settings.rest, opts.timeout).wrap_err("REST client")?;
    let (tx, mut rx) = mpsc::channel::<Msg>(4096);
    let now = Instant::now();
    let mut app = App::new(
        &settings.scope,
        &settings.namespace,
        settings.dcs.endpoints.clone(),
        now,
    );
    app.rest_interval = opts.interval;
    app.read_only = opts.read_only;

    // The guard is created before any task can fail, and dropped on every way out.
    let mut guard = TerminalGuard::enter().wrap_err("cannot set up the terminal")?;
    let _signals = tasks::spawn_signals(tx.clone()).wrap_err("signal handlers")?;
    let _input = tasks::spawn_input(tx.clone());
    let _clock = tasks::spawn_clock(tx.clone());
    let _dcs = spawn_dcs(&settings, settings.cluster_prefix(), tx.clone())?;
    let mut pollers = tasks::Pollers::new(client, opts.interval, tx.clone());
    drop(tx);

    let mut last_draw: Option<tokio::time::Instant> = None;
    loop {
        if app.dirty {
            if let Some(t) = last_draw {
                // coalesce bursts: wait out the frame, taking messages meanwhile
                let deadline = t + FRAME;
                while tokio::time::Instant::now() < deadline {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(m)) => apply(&mut app, &mut pollers, m),
                        Ok(None) => break,
                        Err(_) => break,
                    }
                }
            }
            if app.quit.is_some() {
                break;
            }
            guard
                .terminal
                .draw(|f| crate::ui::render(f, &app, &opts.theme))
                .wrap_err("drawing failed")?;
            app.dirty = false;
            last_draw = Some(tokio::time::Instant::now());
        }
        let Some(msg) = rx.recv().await else { break };
        apply(&mut app, &mut pollers, msg);
        while let Ok(m) = rx.try_recv() {
            apply(&mut app, &mut pollers, m);
        }
        if app.quit.is_some() {
            break;
        }
    }
    drop(pollers);
    drop(guard);
    if let Some(why) = app.quit.as_deref() {
        tracing::info!(why, "patrol exiting");
    }
    Ok(())
}

fn apply(app: &mut App, pollers: &mut tasks::Pollers, msg: Msg) {
    for eff in app.update(msg) {
        match eff {
            Effect::PollMembers(set) => pollers.set(&set),
        }
    }
}

/// The TUI's loop without a terminal: the same tasks, messages and `update`, for tests,
/// benchmarks and anything that wants the live model.
pub struct Headless {
    pub app: App,
    rx: mpsc::Receiver<Msg>,
    pollers: tasks::Pollers,
    _dcs: tokio::task::JoinHandle<()>,
    _clock: tokio::task::JoinHandle<()>,
}

impl Headless {
    /// Must be called inside a tokio runtime.
    pub fn start(settings: &Settings, interval: Duration, timeout: Duration) -> Result<Headless> {
        Self::start_watching(settings, settings.cluster_prefix(), interval, timeout)
    }

    /// Like `start`, watching `prefix` instead of the cluster's own (e.g. the namespace,
    /// which loads every cluster in it into `app.clusters`).
    pub fn start_watching(
        settings: &Settings,
        prefix: String,
        interval: Duration,
        timeout: Duration,
    ) -> Result<Headless> {
        let client = RestClient::new(&settings.rest, timeout).wrap_err("REST client")?;
        let (tx, rx) = mpsc::channel::<Msg>(4096);
        let mut app = App::new(
            &settings.scope,
            &settings.namespace,
            settings.dcs.endpoints.clone(),
            Instant::now(),
        );
        app.rest_interval = interval;
        let dcs = spawn_dcs(settings, prefix, tx.clone())?;
        let clock = tasks::spawn_clock(tx.clone());
        let pollers = tasks::Pollers::new(client, interval, tx);
        Ok(Headless {
            app,
            rx,
            pollers,
            _dcs: dcs,
            _clock: clock,
        })
    }

    /// Apply messages until `done(&app)` holds (true) or `timeout` passes (false).
    pub async fn until(&mut self, timeout: Duration, mut done: impl FnMut(&App) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if done(&self.app) {
                return true;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => apply(&mut self.app, &mut self.pollers, m),
                Ok(None) | Err(_) => return done(&self.app),
            }
        }
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        self._dcs.abort();
        self._clock.abort();
    }
}
