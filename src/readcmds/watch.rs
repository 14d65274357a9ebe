//! `patrol list -W` / `-w SECONDS` (and `topology -W`): the console's loop without a
//! terminal (`runtime::Headless`: the etcd watch and the REST pollers feeding the same
//! `update`), printing the rendered output again only when it differs from what was last
//! printed, and at most once every `every`. patronictl reprints on a timer whether or not
//! anything changed; an idle cluster here prints nothing new.

use std::io::Write;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};

use crate::app::App;
use crate::config::Settings;
use crate::runtime::Headless;

/// How the watch prints.
pub struct Watch<'a> {
    pub every: Duration,
    /// A timestamp line before each output (`-t`); not part of the comparison.
    pub timestamp: bool,
    /// Clear the screen before each output, as patronictl does on a terminal.
    pub clear: bool,
    pub render: &'a dyn Fn(&App) -> String,
}

/// Has the first view settled: etcd answered and every polled member's API has answered
/// (or failed) once? Printing before would print a half-known table and, at once, another.
fn settled(app: &App) -> bool {
    let Some(c) = app.cluster() else {
        return false;
    };
    // the model holds an empty cluster from the start: wait for etcd's snapshot (or, in
    // REST-only mode, a membership)
    let known =
        matches!(app.model.dcs, crate::app::DcsHealth::Live { .. }) || !c.members.is_empty();
    known
        && app.model.polled().iter().all(|(m, _)| {
            c.rest
                .get(m)
                .is_some_and(|r| r.ok.is_some() || r.error.is_some())
        })
        // a replica's live lag needs a leader sample taken after its own (`members::pair`)
        && app.rows().iter().all(|r| {
            r.role.is_leader()
                || r.rest != crate::app::members::RestHealth::Live
                || r.replay_lag.is_some()
        })
}

/// Runs until Ctrl-C (Ok) or until stdout goes away (Ok: `| head` is a normal way to stop).
pub async fn run(
    settings: &Settings,
    interval: Duration,
    timeout: Duration,
    w: Watch<'_>,
    out: &mut dyn Write,
) -> Result<()> {
    let mut h = Headless::start(settings, interval, timeout).wrap_err("start the watch")?;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    // the first view: bounded, then printed however much is known
    let first = timeout * 2 + interval + Duration::from_secs(3);
    tokio::select! {
        _ = h.until(first, settled) => {}
        _ = &mut ctrl_c => return Ok(()),
    }
    let mut last = String::new();
    loop {
        let now = (w.render)(&h.app);
        if now != last {
            let mut text = String::new();
            if w.clear {
                text.push_str("\x1b[2J\x1b[1;1H");
            }
            if w.timestamp {
                text.push_str(&super::timestamp_line());
                text.push('\n');
            }
            text.push_str(&now);
            if out
                .write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .is_err()
            {
                return Ok(());
            }
            last = now;
        }
        // at most one output per `every`: what arrives meanwhile is applied, not printed
        tokio::select! {
            _ = h.until(w.every, |_| false) => {}
            _ = &mut ctrl_c => return Ok(()),
        }
        // then wait for the output to differ (an hour at a time: nothing to do meanwhile)
        tokio::select! {
            _ = h.until(Duration::from_secs(3600), |a| (w.render)(a) != last) => {}
            _ = &mut ctrl_c => return Ok(()),
        }
    }
}
