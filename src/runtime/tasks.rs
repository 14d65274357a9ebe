//! The tasks that feed the one channel: input, signals, clock, DCS, REST pollers.

use std::time::{Duration, Instant};

use futures::StreamExt;
use ratatui::crossterm::event::{Event, EventStream};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

use crate::app::Msg;
use crate::patroni::RestClient;

pub fn spawn_input(tx: Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(ev) = events.next().await {
            let msg = match ev {
                // stamped as read: keys read together came together (a burst, a paste)
                Ok(Event::Key(k)) => Msg::Key(Instant::now(), k),
                Ok(Event::Paste(text)) => Msg::Paste(Instant::now(), text),
                Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                Ok(_) => continue,
                // the terminal is gone (SSH hang-up): nothing left to show things on
                Err(e) => Msg::Shutdown(format!("terminal input failed: {e}")),
            };
            if tx.send(msg).await.is_err() {
                return;
            }
        }
        let _ = tx.send(Msg::Shutdown("terminal closed".into())).await;
    })
}

pub fn spawn_signals(tx: Sender<Msg>) -> std::io::Result<JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut quit = signal(SignalKind::quit())?;
    Ok(tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = hup.recv() => "SIGHUP",
            _ = int.recv() => "SIGINT",
            _ = quit.recv() => "SIGQUIT",
        };
        let _ = tx.send(Msg::Shutdown(format!("received {name}"))).await;
    }))
}

pub fn spawn_clock(tx: Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        // ages on screen are whole seconds
        let mut iv = tokio::time::interval(Duration::from_secs(1));
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            iv.tick().await;
            if tx.send(Msg::Tick(Instant::now())).await.is_err() {
                return;
            }
        }
    })
}

/// A member that has never answered is asked less and less often, up to this: a key
/// naming an API that refuses or hangs must not cost as much as a real member.
const NEVER_ANSWERED_MAX: Duration = Duration::from_secs(30);

/// How long to wait before the next poll: the interval, or for a member that has never
/// answered (after `failures` failures in a row) twice as long each time, up to
/// [`NEVER_ANSWERED_MAX`].
pub fn poll_delay(interval: Duration, ever_answered: bool, failures: u32) -> Duration {
    if ever_answered || failures == 0 {
        return interval;
    }
    let factor = 1u32 << failures.min(16);
    interval
        .saturating_mul(factor)
        .min(NEVER_ANSWERED_MAX.max(interval))
}

/// One polling task per member; at most one request in flight each, at most
/// [`crate::app::Model::MAX_POLLED`] of them.
pub struct Pollers {
    client: RestClient,
    interval: Duration,
    tx: Sender<Msg>,
    running: super::taskset::TaskSet<String, String>,
}

impl Pollers {
    pub fn new(client: RestClient, interval: Duration, tx: Sender<Msg>) -> Pollers {
        Pollers {
            client,
            interval,
            tx,
            running: super::taskset::TaskSet::new(),
        }
    }

    /// How many pollers run.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    pub fn set(&mut self, want: &[(String, String)]) {
        // the app never asks for more; defence in depth
        let want = want
            .iter()
            .take(crate::app::Model::MAX_POLLED)
            .map(|(n, u)| (n, u));
        let (client, tx, interval) = (&self.client, &self.tx, self.interval);
        self.running.reconcile(want, |name, url| {
            let (client, tx) = (client.clone(), tx.clone());
            let (member, api) = (name.clone(), url.clone());
            tokio::spawn(async move {
                let (mut answered, mut failures) = (false, 0u32);
                loop {
                    let started = tokio::time::Instant::now();
                    let result = client
                        .status(&api)
                        .await
                        .map(Box::new)
                        .map_err(|e| e.to_string());
                    if result.is_ok() {
                        (answered, failures) = (true, 0);
                    } else {
                        failures = failures.saturating_add(1);
                    }
                    let msg = Msg::Rest {
                        member: member.clone(),
                        at: Instant::now(),
                        result,
                    };
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                    tokio::time::sleep_until(started + poll_delay(interval, answered, failures))
                        .await;
                }
            })
        });
    }
}

/// REST-only mode: asks the candidates for `/cluster` in order until one answers, once per
/// interval (twice the REST interval: membership changes less often than a member's state),
/// starting with the one that answered last. One task, one request in flight.
pub fn spawn_cluster_poller(
    client: RestClient,
    candidates: Vec<(String, String)>,
    interval: Duration,
    tx: Sender<Msg>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = interval.saturating_mul(2).max(Duration::from_secs(1));
        let mut first = 0usize;
        loop {
            let started = tokio::time::Instant::now();
            let mut errors = Vec::new();
            let mut msg = None;
            for i in 0..candidates.len() {
                let k = (first + i) % candidates.len();
                let (label, url) = &candidates[k];
                match client.cluster(url).await {
                    Ok(keys) => {
                        first = k;
                        msg = Some(Msg::RestCluster {
                            from: label.clone(),
                            at: Instant::now(),
                            result: Ok(Box::new(keys)),
                        });
                        break;
                    }
                    Err(e) => errors.push(format!("{}: {e}", crate::text::redact_url(label))),
                }
            }
            let msg = msg.unwrap_or_else(|| Msg::RestCluster {
                from: String::new(),
                at: Instant::now(),
                result: Err(if errors.is_empty() {
                    "no member to ask".into()
                } else {
                    errors.join("; ")
                }),
            });
            if tx.send(msg).await.is_err() {
                return;
            }
            tokio::time::sleep_until(started + every).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_that_never_answered_back_off_to_a_bound() {
        let iv = Duration::from_millis(500);
        assert_eq!(poll_delay(iv, false, 0), iv);
        assert_eq!(poll_delay(iv, false, 1), iv * 2);
        assert_eq!(poll_delay(iv, false, 3), iv * 8);
        assert_eq!(poll_delay(iv, false, 40), NEVER_ANSWERED_MAX);
        // a member that answered once is real: its recovery is seen on time
        assert_eq!(poll_delay(iv, true, 5), iv);
    }
}
