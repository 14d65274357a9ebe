//! The tasks that feed the one channel: input, signals, clock, DCS, REST pollers.

use std::collections::BTreeMap;
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
                Ok(Event::Key(k)) => Msg::Key(k),
                Ok(Event::Resize(_, _)) => Msg::Resize,
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

/// One polling task per member; at most one request in flight each.
pub struct Pollers {
    client: RestClient,
    interval: Duration,
    tx: Sender<Msg>,
    running: BTreeMap<String, (String, JoinHandle<()>)>,
}

impl Pollers {
    pub fn new(client: RestClient, interval: Duration, tx: Sender<Msg>) -> Pollers {
        Pollers {
            client,
            interval,
            tx,
            running: BTreeMap::new(),
        }
    }

    pub fn set(&mut self, want: &[(String, String)]) {
        self.running.retain(|name, (url, h)| {
            let keep = want.iter().any(|(n, u)| n == name && u == url);
            if !keep {
                h.abort();
            }
            keep
        });
        for (name, url) in want {
            if self.running.contains_key(name) {
                continue;
            }
            let (client, tx, interval) = (self.client.clone(), self.tx.clone(), self.interval);
            let (member, api) = (name.clone(), url.clone());
            let h = tokio::spawn(async move {
                loop {
                    let started = tokio::time::Instant::now();
                    let result = client
                        .status(&api)
                        .await
                        .map(Box::new)
                        .map_err(|e| e.to_string());
                    let msg = Msg::Rest {
                        member: member.clone(),
                        at: Instant::now(),
                        result,
                    };
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                    tokio::time::sleep_until(started + interval).await;
                }
            });
            self.running.insert(name.clone(), (url.clone(), h));
        }
    }
}

impl Drop for Pollers {
    fn drop(&mut self) {
        for (_, (_, h)) in std::mem::take(&mut self.running) {
            h.abort();
        }
    }
}
