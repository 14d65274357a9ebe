//! The console's loop: owns the `App`, applies messages as they come, runs their effects,
//! and draws when `update` says a frame is due, within the frame budget.

use std::io::Write;
use std::time::Instant;

use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::mpsc;

use super::effects::Runner;
use super::frames::FrameBudget;
use super::{Options, TerminalGuard, spawn_dcs, tasks};
use crate::app::{App, AppConfig, Msg};
use crate::config::Settings;
use crate::patroni::RestClient;

/// How long the exit waits for the audit log's last lines (the outcomes of unfinished
/// operations) before it goes on without them and says so.
const EXIT_AUDIT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Run the console until it is quit. Ok(false): it ended because the terminal went away
/// (the exit status says so); everything was still cleaned up.
pub fn run_tui(settings: Settings, opts: Options) -> Result<bool> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?;
    let r = rt.block_on(tui_main(settings, opts));
    // bounded: a blocking task stuck on a hung file system must not hold the exit
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    r
}

async fn tui_main(settings: Settings, opts: Options) -> Result<bool> {
    let client = RestClient::new(&settings.rest, opts.timeout).wrap_err("REST client")?;
    let (tx, mut rx) = mpsc::channel::<Msg>(4096);
    let now = Instant::now();
    let mut cfg = AppConfig::for_settings(&settings);
    cfg.rest_interval = opts.interval;
    cfg.read_only = opts.read_only;
    cfg.wall_clock = Some(std::time::SystemTime::now());
    cfg.time_zone = jiff::tz::TimeZone::system();
    if let Some(d) = opts.audit_log.parent() {
        cfg.export_dir = d.to_path_buf();
    }
    cfg.keys = opts.keys.clone();
    cfg.logs = opts.logs.clone();
    cfg.logs_by_member = opts.logs_by_member.clone();
    cfg.thresholds = opts.thresholds.clone();
    cfg.bell = opts.bell;
    cfg.haproxy = opts.haproxy.clone();
    let mut app = App::new(cfg, now);

    // The guard is created before any task can fail, and dropped on every way out.
    let mut guard = TerminalGuard::enter().wrap_err("cannot set up the terminal")?;
    guard.set_sync(opts.sync_output);
    // the size before any key: the send key works only when the review fits on it
    if let Ok(size) = guard.terminal.size() {
        app.update(Msg::Resize(size.width, size.height));
    }
    let _signals = tasks::spawn_signals(tx.clone()).wrap_err("signal handlers")?;
    let _input = tasks::spawn_input(tx.clone());
    let _clock = tasks::spawn_clock(tx.clone());
    let (_dcs, newest) = spawn_dcs(&settings, settings.cluster_prefix(), tx.clone())?;
    let mut runner = Runner::new(
        client,
        settings.dcs.clone(),
        opts.interval,
        tx,
        opts.read_only,
        Some(opts.audit_log.clone()),
    );
    runner.set_newest(newest);
    let _info = runner.start_info(&settings.dcs, &settings.cluster_prefix());
    let follow = app.start();
    runner.run(follow);

    let mut frames = FrameBudget::new(tokio::time::Instant::now());
    // a draw that failed: the terminal is gone. Kept as the io::Error: an eyre Report would
    // capture and resolve a backtrace (with RUST_BACKTRACE set: seconds in a debug build)
    // before anything below is cleaned up, and there is no terminal to show it on.
    let mut failed: Option<std::io::Error> = None;
    loop {
        if app.dirty {
            if let Some(deadline) = frames.wait_until(tokio::time::Instant::now()) {
                // coalesce a burst: wait for the next frame, taking messages meanwhile
                while tokio::time::Instant::now() < deadline {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(m)) => apply(&mut app, &mut runner, m, !rx.is_empty()),
                        Ok(None) => break,
                        Err(_) => break,
                    }
                }
            }
            if app.quit.is_some() {
                break;
            }
            drained(&mut app, &mut runner);
            // patrol's own log: moved from tui-logger's intake here, not by its 10 ms thread
            tui_logger::move_events();
            // not `?`: the outcome lines of unfinished operations are still written below
            let began = tokio::time::Instant::now();
            if let Err(e) = guard.draw(|f| crate::ui::render(f, &app, &opts.theme)) {
                failed = Some(e);
                break;
            }
            app.drawn(crate::ui::ages_drawn());
            frames.spend_drawn(began, tokio::time::Instant::now());
        }
        // etcd's newest revision is judged as soon as the side task learns it, and again
        // when it has stood unconfirmed long enough for the header to say `checking`; a
        // health evaluation skipped inside its interval runs at the interval's end: an idle
        // loop waited for the next message or tick (up to a second) for each
        let due = app.wake_at().map(tokio::time::Instant::from_std);
        let msg = tokio::select! {
            m = rx.recv() => match m {
                Some(m) => m,
                None => break,
            },
            Some(revision) = runner.newest_changed() => {
                let ev = crate::dcs::DcsEvent::Newest { revision, backlog: !rx.is_empty() };
                Msg::Dcs(Instant::now(), ev)
            }
            () = sleep_until_some(due), if due.is_some() => Msg::Tick(Instant::now()),
        };
        apply(&mut app, &mut runner, msg, !rx.is_empty());
        while let Ok(m) = rx.try_recv() {
            apply(&mut app, &mut runner, m, !rx.is_empty());
        }
        drained(&mut app, &mut runner);
        if app.quit.is_some() {
            break;
        }
    }
    // The terminal first (the operator gets the shell back at once); a terminal that is
    // gone is no reason to skip anything below.
    let restored = guard.restore();
    let problems = runner
        .shutdown(app.audit_unfinished(), EXIT_AUDIT_WAIT)
        .await;
    drop(runner);
    if let Some(why) = app.quit.as_deref() {
        tracing::info!(why, "patrol exiting");
    }
    for p in &problems {
        tracing::error!("{p}");
        // the terminal is restored (or gone): stderr is safe to try, and never panics
        let _ = writeln!(std::io::stderr(), "patrol: {p}");
    }
    if let Some(e) = failed {
        tracing::error!("the terminal is gone (drawing failed: {e}): exited without it");
        return Ok(false);
    }
    if let Err(e) = restored {
        tracing::error!("the terminal is gone ({e}): exited without it");
        return Ok(false);
    }
    Ok(true)
}

/// Every waiting message is applied: what the burst made due is done once (see
/// `Msg::Drained`).
pub(super) fn drained(app: &mut App, runner: &mut Runner) {
    let effects = app.update(Msg::Drained(Instant::now()));
    runner.run(effects);
}

/// Sleep until `at` (never, without one: the branch is disabled then anyway).
async fn sleep_until_some(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// One message through `update`, its effects run (shared with [`super::Headless`]);
/// `backlog`: more messages wait in the queue behind it.
pub(super) fn apply(app: &mut App, runner: &mut Runner, msg: Msg, backlog: bool) {
    // etcd's newest revision, from aside the queue: how far behind what waits in it is
    if let Some(revision) = runner.newest() {
        let ev = crate::dcs::DcsEvent::Newest { revision, backlog };
        let effects = app.update(Msg::Dcs(Instant::now(), ev));
        runner.run(effects);
    }
    if matches!(msg, Msg::Dcs(..)) {
        // the change carries when the watch received it; the model compares (`behind`)
        let effects = app.update(Msg::Now(Instant::now()));
        runner.run(effects);
    }
    let effects = app.update(msg);
    runner.run(effects);
}
