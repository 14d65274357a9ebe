//! The pure model: all state, one message enum, one `update` that returns effects.
//! No IO here; time arrives in messages.

pub mod cluster;
pub mod keymap;
pub mod members;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyEvent, KeyEventKind};

use crate::dcs::{self, DcsEvent};
use crate::patroni::PatroniStatus;
pub use cluster::{ClusterState, RestState};
use keymap::{Action, Keymap};
pub use members::{MemberRow, Role};

/// Everything that can happen to the app.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resize,
    /// The clock: ages on screen tick over.
    Tick(Instant),
    Dcs(Instant, DcsEvent),
    Rest {
        member: String,
        at: Instant,
        result: Result<Box<PatroniStatus>, String>,
    },
    /// SIGTERM, SIGHUP, SIGINT, or the terminal went away.
    Shutdown(String),
}

/// What the runtime should do on the app's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Poll exactly these members' REST APIs: (member, api_url). Replaces the previous set.
    PollMembers(Vec<(String, String)>),
}

/// How the DCS connection is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DcsHealth {
    Connecting {
        endpoint: String,
        since: Instant,
    },
    Live {
        endpoint: String,
        since: Instant,
        revision: i64,
    },
    Down {
        endpoint: String,
        error: String,
        since: Instant,
        /// When the data on screen was last known to be current.
        last_live: Option<Instant>,
    },
}

#[derive(Debug, Clone)]
pub struct App {
    /// The cluster on screen (the config's scope).
    pub scope: String,
    pub namespace: String,
    pub endpoints: Vec<String>,
    /// Keyed by cluster name so a namespace-wide view can follow.
    pub clusters: BTreeMap<String, ClusterState>,
    pub dcs: DcsHealth,
    /// Has a snapshot ever arrived?
    pub loaded: bool,
    /// The selected member, by name: rows reorder when the leader changes.
    pub selected: Option<String>,
    pub show_help: bool,
    pub keymap: Keymap,
    pub read_only: bool,
    pub rest_interval: Duration,
    pub now: Instant,
    /// Something on screen changed since the last draw.
    pub dirty: bool,
    pub quit: Option<String>,
    polled: Vec<(String, String)>,
    /// The second-resolution clock last drawn: ages only change when it does.
    drawn_second: u64,
    started: Instant,
}

impl App {
    pub fn new(scope: &str, namespace: &str, endpoints: Vec<String>, now: Instant) -> App {
        let mut clusters = BTreeMap::new();
        clusters.insert(scope.to_string(), ClusterState::default());
        App {
            scope: scope.to_string(),
            namespace: namespace.to_string(),
            dcs: DcsHealth::Connecting {
                endpoint: endpoints.first().cloned().unwrap_or_default(),
                since: now,
            },
            endpoints,
            clusters,
            loaded: false,
            selected: None,
            show_help: false,
            keymap: Keymap::default(),
            read_only: false,
            rest_interval: Duration::from_secs(1),
            now,
            dirty: true,
            quit: None,
            polled: Vec::new(),
            drawn_second: 0,
            started: now,
        }
    }

    pub fn cluster(&self) -> Option<&ClusterState> {
        self.clusters.get(&self.scope)
    }

    pub fn rows(&self) -> Vec<MemberRow> {
        self.cluster()
            .map(|c| members::member_rows(c, self.now, self.rest_interval))
            .unwrap_or_default()
    }

    /// Is the data on screen older than the DCS connection allows us to know?
    pub fn stale_for(&self) -> Option<Duration> {
        match &self.dcs {
            DcsHealth::Down {
                last_live, since, ..
            } => Some(
                self.now
                    .saturating_duration_since(last_live.unwrap_or(*since)),
            ),
            _ => None,
        }
    }

    /// The row of the selected member (the first row when none or it vanished).
    pub fn selected_index(&self, rows: &[MemberRow]) -> usize {
        self.selected
            .as_ref()
            .and_then(|n| rows.iter().position(|r| &r.name == n))
            .unwrap_or(0)
    }

    /// Is any age (which changes by itself as time passes) on screen?
    fn clock_on_screen(&self) -> bool {
        if !matches!(self.dcs, DcsHealth::Live { .. }) {
            return true;
        }
        self.rows().iter().any(|r| {
            r.gone.is_some()
                || matches!(r.rest, members::RestHealth::Unreachable { .. })
                || (matches!(r.lag_source, members::LagSource::Dcs(_))
                    && (r.receive_lag.is_some() || r.replay_lag.is_some()))
        })
    }

    /// Has every member with an API URL answered (or failed) at least once?
    pub fn complete(&self) -> bool {
        self.loaded
            && self.cluster().is_some_and(|c| {
                c.members
                    .iter()
                    .filter(|(_, m)| m.api_url.is_some())
                    .all(|(n, _)| {
                        c.rest
                            .get(n)
                            .is_some_and(|r| r.ok.is_some() || r.error.is_some())
                    })
            })
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(ev) => {
                if ev.kind != KeyEventKind::Release
                    && let Some(a) = self.keymap.action(&ev)
                {
                    self.act(a);
                }
                Vec::new()
            }
            Msg::Resize => {
                self.dirty = true;
                Vec::new()
            }
            Msg::Tick(now) => {
                self.now = now;
                let second = now.saturating_duration_since(self.started).as_secs();
                // Only redraw for the clock when an age is actually on screen: an idle,
                // healthy cluster costs nothing.
                if second != self.drawn_second {
                    self.drawn_second = second;
                    if self.clock_on_screen() {
                        self.dirty = true;
                    }
                }
                Vec::new()
            }
            Msg::Dcs(at, ev) => {
                self.now = self.now.max(at);
                self.dirty = true;
                self.on_dcs(at, ev)
            }
            Msg::Rest { member, at, result } => {
                self.now = self.now.max(at);
                if let Some(c) = self.clusters.get_mut(&self.scope)
                    && c.members.contains_key(&member)
                {
                    let r = c.rest.entry(member).or_default();
                    let was_failing = r.failing().is_some();
                    // redraw only when what is shown can change
                    let changed = match result {
                        Ok(s) => {
                            let same = r.ok.as_ref().is_some_and(|(_, old)| *old == *s);
                            r.ok = Some((at, *s));
                            !same || was_failing
                        }
                        Err(e) => {
                            let same = r.error.as_ref().is_some_and(|(_, old)| *old == e);
                            r.error = Some((at, e));
                            !same || !was_failing
                        }
                    };
                    self.dirty |= changed;
                }
                Vec::new()
            }
            Msg::Shutdown(why) => {
                self.quit = Some(why);
                Vec::new()
            }
        }
    }

    fn act(&mut self, a: Action) {
        let rows = self.rows();
        let n = rows.len();
        let i = self.selected_index(&rows);
        let pick = |i: usize| rows.get(i).map(|r| r.name.clone());
        self.dirty = true;
        match a {
            Action::Up => self.selected = pick(i.saturating_sub(1)),
            Action::Down => self.selected = pick((i + 1).min(n.saturating_sub(1))),
            Action::Top => self.selected = pick(0),
            Action::Bottom => self.selected = pick(n.saturating_sub(1)),
            Action::Help => self.show_help = !self.show_help,
            Action::Back => self.show_help = false,
            Action::Quit => self.quit = Some("quit".into()),
        }
    }

    fn on_dcs(&mut self, at: Instant, ev: DcsEvent) -> Vec<Effect> {
        let mut members_changed = false;
        match ev {
            DcsEvent::Connecting { endpoint } => {
                if let DcsHealth::Connecting { .. } = self.dcs {
                    self.dcs = DcsHealth::Connecting {
                        endpoint,
                        since: at,
                    };
                }
            }
            DcsEvent::Snapshot {
                endpoint,
                revision,
                kvs,
            } => {
                for c in self.clusters.values_mut() {
                    let before = c.reset_dcs();
                    for name in before {
                        c.gone.insert(name, at);
                    }
                }
                for kv in kvs {
                    self.put(&kv.key, &kv.value, kv.lease, at);
                }
                // members present again are not gone
                for c in self.clusters.values_mut() {
                    let present: Vec<String> = c.members.keys().cloned().collect();
                    for p in present {
                        c.gone.remove(&p);
                    }
                }
                self.loaded = true;
                members_changed = true;
                self.dcs = DcsHealth::Live {
                    endpoint,
                    since: at,
                    revision,
                };
            }
            DcsEvent::Put(kv) => members_changed = self.put(&kv.key, &kv.value, kv.lease, at),
            DcsEvent::Delete { key } => {
                if let Some((scope, rel)) = dcs::split_key(&self.namespace, &key)
                    && let Some(c) = self.clusters.get_mut(scope)
                {
                    members_changed = c.delete(rel, at);
                }
            }
            DcsEvent::Progress { revision } => {
                if let DcsHealth::Live { revision: r, .. } = &mut self.dcs {
                    *r = revision;
                }
            }
            DcsEvent::Down { endpoint, error } => {
                let last_live = match &self.dcs {
                    DcsHealth::Live { .. } => Some(at),
                    DcsHealth::Down { last_live, .. } => *last_live,
                    DcsHealth::Connecting { .. } => None,
                };
                let since = match &self.dcs {
                    DcsHealth::Down { since, .. } => *since,
                    _ => at,
                };
                self.dcs = DcsHealth::Down {
                    endpoint,
                    error: crate::text::sanitize(&error),
                    since,
                    last_live,
                };
            }
        }
        if members_changed {
            self.poll_effect()
        } else {
            Vec::new()
        }
    }

    fn put(&mut self, key: &str, value: &[u8], lease: i64, at: Instant) -> bool {
        let Some((scope, rel)) = dcs::split_key(&self.namespace, key) else {
            return false;
        };
        self.clusters
            .entry(scope.to_string())
            .or_default()
            .put(rel, value, lease, at)
    }

    /// The poll set follows the member keys of the cluster on screen.
    fn poll_effect(&mut self) -> Vec<Effect> {
        let want: Vec<(String, String)> = self
            .cluster()
            .map(|c| {
                c.members
                    .iter()
                    .filter_map(|(n, m)| m.api_url.clone().map(|u| (n.clone(), u)))
                    .collect()
            })
            .unwrap_or_default();
        if want == self.polled {
            return Vec::new();
        }
        self.polled = want.clone();
        vec![Effect::PollMembers(want)]
    }
}

#[cfg(test)]
mod tests;
