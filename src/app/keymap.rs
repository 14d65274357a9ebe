//! Keys map to named actions; help and the hint bar are generated from this table, so they
//! cannot drift from what the keys do. Users rebind with `[keys]` in patrol's config:
//! `quit = ["q", "ctrl-c"]`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Up,
    Down,
    Top,
    Bottom,
    Help,
    Back,
    Quit,
    Detail,
    History,
    Config,
    Etcd,
    Logs,
    AllLogs,
    Dsn,
    ExportEvents,
    OwnLog,
    Switchover,
    Failover,
    Restart,
    RollingRestart,
    Reload,
    Reinit,
    Pause,
    Flush,
}

impl Action {
    pub const ALL: [Action; 24] = [
        Action::Up,
        Action::Down,
        Action::Top,
        Action::Bottom,
        Action::Detail,
        Action::Logs,
        Action::AllLogs,
        Action::History,
        Action::Config,
        Action::Etcd,
        Action::Dsn,
        Action::ExportEvents,
        Action::OwnLog,
        Action::Switchover,
        Action::Failover,
        Action::Restart,
        Action::RollingRestart,
        Action::Reload,
        Action::Reinit,
        Action::Pause,
        Action::Flush,
        Action::Help,
        Action::Back,
        Action::Quit,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Action::Up => "select previous member",
            Action::Down => "select next member",
            Action::Top => "select first member",
            Action::Bottom => "select last member",
            Action::Help => "show / hide this help",
            Action::Back => "close the popup",
            Action::Quit => "quit patrol",
            Action::Detail => "member detail: everything its REST API says",
            Action::History => "timeline history (like patronictl history)",
            Action::Config => "dynamic configuration (like patronictl show-config)",
            Action::Etcd => "etcd: endpoints, health, raft leader and term, DB size",
            Action::Logs => "the selected member's Patroni log (f follow, w wrap, / filter)",
            Action::AllLogs => "every member's Patroni log, merged by time",
            Action::Dsn => "connection strings (read-write, read-only); y copies (OSC 52)",
            Action::ExportEvents => "write the event log to a file",
            Action::OwnLog => "patrol's own log: connections, retries, what was sent",
            Action::Switchover => "switchover: pick a candidate, see the checks, confirm",
            Action::Failover => "failover, also without a leader (type the cluster name)",
            Action::Restart => "restart the selected member (options: pending, time, version)",
            Action::RollingRestart => "rolling restart of every member with a pending restart",
            Action::Reload => "reload the selected member's configuration",
            Action::Reinit => "reinitialize the selected replica (type its name)",
            Action::Pause => "pause / resume automatic failover (maintenance mode)",
            Action::Flush => "flush a scheduled switchover or restart",
        }
    }

    /// The word in the hint bar; None: not worth the space there.
    pub fn hint(self) -> Option<&'static str> {
        match self {
            Action::Down => Some("select"),
            Action::Help => Some("help"),
            Action::Quit => Some("quit"),
            Action::Switchover => Some("switchover"),
            Action::Restart => Some("restart"),
            Action::Pause => Some("pause"),
            Action::Logs => Some("logs"),
            _ => None,
        }
    }

    /// Does this action change the cluster? Read-only mode hides and refuses these.
    /// Listed the other way round on purpose: a new action is mutating until it is added
    /// here, so read-only mode can never let one through by omission.
    pub fn is_mutating(self) -> bool {
        !matches!(
            self,
            Action::Up
                | Action::Down
                | Action::Top
                | Action::Bottom
                | Action::Help
                | Action::Back
                | Action::Quit
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub fn from_event(ev: &KeyEvent) -> Key {
        // Shift is part of the character for letters ('G'); keep only ctrl as a modifier.
        Key {
            code: ev.code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
        }
    }

    pub fn parse(s: &str) -> Result<Key, String> {
        let (ctrl, rest) = match s.strip_prefix("ctrl-").or_else(|| s.strip_prefix("c-")) {
            Some(r) => (true, r),
            None => (false, s),
        };
        let code = match rest.to_ascii_lowercase().as_str() {
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "space" => KeyCode::Char(' '),
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => return Err(format!("unknown key {s:?}")),
                }
            }
        };
        Ok(Key { code, ctrl })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        match self.code {
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: HashMap<Key, Action>,
}

impl Default for Keymap {
    fn default() -> Self {
        let mut k = Keymap {
            bindings: HashMap::new(),
        };
        for (keys, action) in [
            (&["k", "up"][..], Action::Up),
            (&["j", "down"][..], Action::Down),
            (&["g", "home"][..], Action::Top),
            (&["G", "end"][..], Action::Bottom),
            (&["?"][..], Action::Help),
            (&["esc"][..], Action::Back),
            (&["q", "ctrl-c"][..], Action::Quit),
            (&["enter"][..], Action::Detail),
            (&["h"][..], Action::History),
            (&["c"][..], Action::Config),
            (&["e"][..], Action::Etcd),
            (&["l"][..], Action::Logs),
            (&["A"][..], Action::AllLogs),
            (&["d"][..], Action::Dsn),
            (&["E"][..], Action::ExportEvents),
            (&["o"][..], Action::OwnLog),
            (&["s"][..], Action::Switchover),
            (&["f"][..], Action::Failover),
            (&["r"][..], Action::Restart),
            (&["R"][..], Action::RollingRestart),
            (&["L"][..], Action::Reload),
            (&["I"][..], Action::Reinit),
            (&["p"][..], Action::Pause),
            (&["x"][..], Action::Flush),
        ] {
            for key in keys {
                if let Ok(key) = Key::parse(key) {
                    k.bindings.insert(key, action);
                }
            }
        }
        k
    }
}

impl Keymap {
    pub fn action(&self, ev: &KeyEvent) -> Option<Action> {
        self.bindings.get(&Key::from_event(ev)).copied()
    }

    /// Replace the keys of the named actions (from patrol's config file).
    pub fn rebind(&mut self, overrides: &BTreeMap<Action, Vec<String>>) -> Result<(), String> {
        for (action, keys) in overrides {
            let parsed = keys
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<Vec<_>, _>>()?;
            self.bindings.retain(|_, a| a != action);
            for key in parsed {
                self.bindings.insert(key, *action);
            }
        }
        Ok(())
    }

    /// The keys bound to an action, in a stable order.
    pub fn keys_for(&self, action: Action) -> Vec<Key> {
        let mut keys: Vec<Key> = self
            .bindings
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|(k, _)| *k)
            .collect();
        // letters before named keys, then alphabetical: stable across runs
        keys.sort_by_key(|k| (!matches!(k.code, KeyCode::Char(_)), k.ctrl, k.to_string()));
        keys
    }

    /// Help rows: (keys, description), one per bound action.
    pub fn help(&self, read_only: bool) -> Vec<(String, &'static str)> {
        Action::ALL
            .iter()
            .filter(|a| !(read_only && a.is_mutating()))
            .filter_map(|a| {
                let keys = self.keys_for(*a);
                (!keys.is_empty()).then(|| {
                    let k: Vec<String> = keys.iter().map(Key::to_string).collect();
                    (k.join(" "), a.describe())
                })
            })
            .collect()
    }

    /// Hint-bar items: (first key, word).
    pub fn hints(&self, read_only: bool) -> Vec<(String, &'static str)> {
        Action::ALL
            .iter()
            .filter(|a| !(read_only && a.is_mutating()))
            .filter_map(|a| {
                let word = a.hint()?;
                let keys = self.keys_for(*a);
                // prefer a letter over an arrow: it is what people type
                let key = keys
                    .iter()
                    .find(|k| matches!(k.code, KeyCode::Char(_)) && !k.ctrl)
                    .or(keys.first())?;
                Some((key.to_string(), word))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn default_bindings() {
        let k = Keymap::default();
        assert_eq!(
            k.action(&ev(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            k.action(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            k.action(&ev(KeyCode::Char('c'), KeyModifiers::NONE)),
            Some(Action::Config),
            "ctrl matters"
        );
        assert_eq!(k.action(&ev(KeyCode::Char('z'), KeyModifiers::NONE)), None);
        assert_eq!(
            k.action(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            k.action(&ev(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Down)
        );
    }

    #[test]
    fn help_and_hints_follow_rebinding() {
        let mut k = Keymap::default();
        let mut o = BTreeMap::new();
        o.insert(Action::Quit, vec!["x".to_string()]);
        k.rebind(&o).unwrap();
        assert_eq!(k.action(&ev(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert_eq!(
            k.action(&ev(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert!(
            k.help(false)
                .iter()
                .any(|(keys, d)| keys == "x" && *d == "quit patrol")
        );
        assert!(k.hints(false).contains(&("x".to_string(), "quit")));
        o.insert(Action::Help, vec!["nope-key".to_string()]);
        assert!(k.rebind(&o).is_err());
    }
}
