//! Colours keyed by meaning. `themes/default.toml` is embedded; a user file of the same
//! shape overrides it style by style. `NO_COLOR` keeps bold/reverse and drops colours.

use std::collections::BTreeMap;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

pub const DEFAULT_THEME: &str = include_str!("../themes/default.toml");

#[derive(Debug, Clone, Default, Deserialize)]
struct ThemeFile {
    #[serde(default)]
    styles: BTreeMap<String, StyleSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Theme {
    pub title: Style,
    pub text: Style,
    pub muted: Style,
    pub header_key: Style,
    pub leader: Style,
    pub replica: Style,
    pub sync: Style,
    pub healthy: Style,
    pub warning: Style,
    pub lagging: Style,
    pub down: Style,
    pub stale: Style,
    pub danger: Style,
    pub paused: Style,
    pub selected: Style,
    pub table_header: Style,
    pub border: Style,
    pub key: Style,
}

fn color(s: &str) -> Result<Color, String> {
    if let Ok(n) = s.parse::<u8>() {
        return Ok(Color::Indexed(n));
    }
    s.parse::<Color>()
        .map_err(|_| format!("unknown colour {s:?}"))
}

fn modifier(s: &str) -> Result<Modifier, String> {
    Ok(match s {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" => Modifier::UNDERLINED,
        "reversed" => Modifier::REVERSED,
        "crossed_out" => Modifier::CROSSED_OUT,
        other => return Err(format!("unknown modifier {other:?}")),
    })
}

impl StyleSpec {
    fn style(&self, no_color: bool) -> Result<Style, String> {
        let mut st = Style::default();
        if !no_color {
            if let Some(fg) = &self.fg {
                st = st.fg(color(fg)?);
            }
            if let Some(bg) = &self.bg {
                st = st.bg(color(bg)?);
            }
        }
        for m in &self.modifiers {
            st = st.add_modifier(modifier(m)?);
        }
        if no_color && self.bg.is_some() && self.modifiers.is_empty() {
            // a badge that was only a background colour must stay visible
            st = st.add_modifier(Modifier::REVERSED);
        }
        Ok(st)
    }
}

impl Theme {
    /// The embedded default, with `overlay` (a user theme's TOML) on top.
    pub fn load(overlay: Option<&str>, no_color: bool) -> Result<Theme, String> {
        let mut file: ThemeFile =
            toml::from_str(DEFAULT_THEME).map_err(|e| format!("built-in theme: {e}"))?;
        if let Some(text) = overlay {
            let user: ThemeFile = toml::from_str(text).map_err(|e| e.to_string())?;
            file.styles.extend(user.styles);
        }
        let mut t = Theme::default();
        for (name, spec) in &file.styles {
            let st = spec
                .style(no_color)
                .map_err(|e| format!("style {name}: {e}"))?;
            let slot = match name.as_str() {
                "title" => &mut t.title,
                "text" => &mut t.text,
                "muted" => &mut t.muted,
                "header_key" => &mut t.header_key,
                "leader" => &mut t.leader,
                "replica" => &mut t.replica,
                "sync" => &mut t.sync,
                "healthy" => &mut t.healthy,
                "warning" => &mut t.warning,
                "lagging" => &mut t.lagging,
                "down" => &mut t.down,
                "stale" => &mut t.stale,
                "danger" => &mut t.danger,
                "paused" => &mut t.paused,
                "selected" => &mut t.selected,
                "table_header" => &mut t.table_header,
                "border" => &mut t.border,
                "key" => &mut t.key,
                other => return Err(format!("unknown style {other:?}")),
            };
            *slot = st;
        }
        Ok(t)
    }

    /// `--theme NAME`: `~/.config/patrol/themes/NAME.toml`, or a path to a file.
    pub fn resolve(name: Option<&str>, no_color: bool) -> Result<Theme, String> {
        let overlay = match name {
            None | Some("default") => None,
            Some(n) => {
                let path = if n.ends_with(".toml") || n.contains('/') {
                    Path::new(n).to_path_buf()
                } else {
                    dirs::config_dir()
                        .unwrap_or_default()
                        .join("patrol/themes")
                        .join(format!("{n}.toml"))
                };
                Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| format!("theme {}: {e}", path.display()))?,
                )
            }
        };
        Theme::load(overlay.as_deref(), no_color)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_theme_loads_and_no_color_strips_colours() {
        let t = Theme::load(None, false).unwrap();
        assert_eq!(t.leader.fg, Some(Color::Green));
        let n = Theme::load(None, true).unwrap();
        assert_eq!(n.leader.fg, None);
        assert!(n.leader.add_modifier.contains(Modifier::BOLD));
        assert_eq!(n.danger.bg, None);
    }

    #[test]
    fn overlay_overrides_and_errors_are_named() {
        let t = Theme::load(Some("[styles]\nleader = { fg = \"#ff0000\" }\n"), false).unwrap();
        assert_eq!(t.leader.fg, Some(Color::Rgb(255, 0, 0)));
        assert_eq!(t.replica.fg, Some(Color::Cyan));
        let e = Theme::load(Some("[styles]\nleader = { fg = \"nope\" }\n"), false).unwrap_err();
        assert!(e.contains("leader"), "{e}");
        assert!(Theme::load(Some("[styles]\nbogus = {}\n"), false).is_err());
    }
}
