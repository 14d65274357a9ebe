//! Colours keyed by meaning. `themes/default.toml` is embedded; a user file of the same
//! shape overrides it style by style. `NO_COLOR` keeps bold/reverse and drops colours.

use std::collections::BTreeMap;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

pub const DEFAULT_THEME: &str = include_str!("../themes/default.toml");

/// The themes built into the binary: (name, TOML). `patrol themes` lists them.
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", DEFAULT_THEME),
    ("light", include_str!("../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../themes/high-contrast.toml"),
    ),
    ("ansi16", include_str!("../themes/ansi16.toml")),
    ("monochrome", include_str!("../themes/monochrome.toml")),
];

#[derive(Debug, Clone, Default, Deserialize)]
struct ThemeFile {
    #[serde(default)]
    meta: Meta,
    #[serde(default)]
    styles: BTreeMap<String, StyleSpec>,
}

/// What a theme is for: shown by `patrol themes`, and what the contrast test judges its
/// colours against (the terminal's own background and text colour).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    description: Option<String>,
    // read by the contrast test: patrol never paints the terminal's background
    #[cfg_attr(not(test), allow(dead_code))]
    background: Option<String>,
    #[cfg_attr(not(test), allow(dead_code))]
    foreground: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

/// How many colours the terminal shows. Themes are written in true colour (or ANSI
/// names) and each colour becomes the nearest one the terminal has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Depth {
    /// `NO_COLOR`: bold, reverse and underline only.
    NoColor,
    Ansi16,
    Ansi256,
    TrueColor,
}

impl Depth {
    /// From the environment, as most terminal programs read it: `NO_COLOR` (any value but
    /// empty) wins; `COLORTERM=truecolor|24bit`; `TERM` naming 256 colours (also inside
    /// tmux and screen); `TERM=dumb` has none; anything else gets the 16 ANSI colours.
    pub fn detect(no_color: Option<&str>, colorterm: Option<&str>, term: Option<&str>) -> Depth {
        if no_color.is_some_and(|v| !v.is_empty()) {
            return Depth::NoColor;
        }
        let ct = colorterm.unwrap_or("").to_ascii_lowercase();
        if ct == "truecolor" || ct == "24bit" {
            return Depth::TrueColor;
        }
        let term = term.unwrap_or("").to_ascii_lowercase();
        if term == "dumb" {
            return Depth::NoColor;
        }
        if term.contains("256") || term.contains("direct") {
            return Depth::Ansi256;
        }
        Depth::Ansi16
    }

    /// This process's environment.
    pub fn from_env() -> Depth {
        let var = |k: &str| std::env::var(k).ok();
        Depth::detect(
            var("NO_COLOR").as_deref(),
            var("COLORTERM").as_deref(),
            var("TERM").as_deref(),
        )
    }
}

/// xterm's default palette: what the 16 ANSI colours look like on most terminals.
const ANSI16: [(u8, u8, u8); 16] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
];

const NAMED: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
    Color::DarkGray,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::White,
];

/// The xterm 256-colour palette entry `n` as RGB.
fn rgb_of_index(n: u8) -> (u8, u8, u8) {
    match n {
        0..=15 => ANSI16[n as usize],
        16..=231 => {
            let i = n - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        _ => {
            let g = 8 + (n - 232) * 10;
            (g, g, g)
        }
    }
}

/// A colour as RGB (named colours as xterm shows them); None: the terminal's default.
pub fn rgb(c: Color) -> Option<(u8, u8, u8)> {
    match c {
        Color::Reset => None,
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(n) => Some(rgb_of_index(n)),
        named => NAMED.iter().position(|x| *x == named).map(|i| ANSI16[i]),
    }
}

fn dist((a, b, c): (u8, u8, u8), (x, y, z): (u8, u8, u8)) -> u32 {
    let d = |p: u8, q: u8| (i32::from(p) - i32::from(q)).unsigned_abs();
    d(a, x).pow(2) + d(b, y).pow(2) + d(c, z).pow(2)
}

/// The ANSI colour that stands for `c`: by hue and lightness, not by RGB distance (which
/// makes a soft green the nearest to dark grey). Greys stay greys.
fn nearest16((r, g, b): (u8, u8, u8)) -> Color {
    let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let light = (max + min) / 2.0 / 255.0;
    if max - min < 40.0 {
        return match light {
            l if l < 0.2 => Color::Black,
            l if l < 0.65 => Color::DarkGray,
            l if l < 0.95 => Color::Gray,
            _ => Color::White,
        };
    }
    let d = max - min;
    let hue = if max == r {
        60.0 * (((g - b) / d).rem_euclid(6.0))
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    // red yellow green cyan blue magenta, every 60 degrees
    let sextant = ((hue / 60.0).round() as usize) % 6;
    let bright = light > 0.5;
    let (normal, lit) = [
        (Color::Red, Color::LightRed),
        (Color::Yellow, Color::LightYellow),
        (Color::Green, Color::LightGreen),
        (Color::Cyan, Color::LightCyan),
        (Color::Blue, Color::LightBlue),
        (Color::Magenta, Color::LightMagenta),
    ][sextant];
    if bright { lit } else { normal }
}

/// The colour the terminal of this depth shows for `c`.
pub fn degrade(c: Color, depth: Depth) -> Option<Color> {
    match depth {
        Depth::NoColor => None,
        Depth::TrueColor => Some(c),
        Depth::Ansi256 => match c {
            Color::Rgb(..) => {
                let want = rgb(c)?;
                // only the cube and the grey ramp: 0-15 are whatever the user's palette says
                (16..=255u8)
                    .min_by_key(|n| dist(rgb_of_index(*n), want))
                    .map(Color::Indexed)
            }
            other => Some(other),
        },
        Depth::Ansi16 => match c {
            Color::Rgb(..) | Color::Indexed(16..) => rgb(c).map(nearest16),
            Color::Indexed(n) => Some(NAMED[n as usize]),
            other => Some(other),
        },
    }
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
    /// A value that just changed, by fade step (`app::change`): strongest first.
    pub changed: [Style; 3],
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
    fn style(&self, depth: Depth) -> Result<Style, String> {
        let mut st = Style::default();
        if let Some(fg) = &self.fg
            && let Some(c) = degrade(color(fg)?, depth)
        {
            st = st.fg(c);
        }
        if let Some(bg) = &self.bg
            && let Some(c) = degrade(color(bg)?, depth)
        {
            st = st.bg(c);
        }
        for m in &self.modifiers {
            st = st.add_modifier(modifier(m)?);
        }
        if depth == Depth::NoColor && self.bg.is_some() && self.modifiers.is_empty() {
            // a badge that was only a background colour must stay visible
            st = st.add_modifier(Modifier::REVERSED);
        }
        Ok(st)
    }
}

impl Theme {
    /// The default theme with `overlay` (a user theme's TOML) on top, in true colour (or
    /// none, for `NO_COLOR`).
    pub fn load(overlay: Option<&str>, no_color: bool) -> Result<Theme, String> {
        let depth = if no_color {
            Depth::NoColor
        } else {
            Depth::TrueColor
        };
        Theme::build(DEFAULT_THEME, overlay, depth)
    }

    /// `base` (a built-in theme's TOML), `overlay` on top, as a terminal of `depth` shows it.
    pub fn build(base: &str, overlay: Option<&str>, depth: Depth) -> Result<Theme, String> {
        let mut file: ThemeFile =
            toml::from_str(base).map_err(|e| format!("built-in theme: {e}"))?;
        if let Some(text) = overlay {
            let user: ThemeFile = toml::from_str(text).map_err(|e| e.to_string())?;
            file.styles.extend(user.styles);
        }
        let mut t = Theme::default();
        for (name, spec) in &file.styles {
            let st = spec
                .style(depth)
                .map_err(|e| format!("style {name}: {e}"))?;
            *t.slot(name)? = st;
        }
        Ok(t)
    }

    fn slot(&mut self, name: &str) -> Result<&mut Style, String> {
        Ok(match name {
            "title" => &mut self.title,
            "text" => &mut self.text,
            "muted" => &mut self.muted,
            "header_key" => &mut self.header_key,
            "leader" => &mut self.leader,
            "replica" => &mut self.replica,
            "sync" => &mut self.sync,
            "healthy" => &mut self.healthy,
            "warning" => &mut self.warning,
            "lagging" => &mut self.lagging,
            "down" => &mut self.down,
            "stale" => &mut self.stale,
            "danger" => &mut self.danger,
            "paused" => &mut self.paused,
            "selected" => &mut self.selected,
            "table_header" => &mut self.table_header,
            "border" => &mut self.border,
            "key" => &mut self.key,
            "changed" => &mut self.changed[0],
            "changed_fading" => &mut self.changed[1],
            "changed_faint" => &mut self.changed[2],
            other => return Err(format!("unknown style {other:?}")),
        })
    }

    /// A built-in theme's TOML.
    pub fn builtin(name: &str) -> Option<&'static str> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// `--theme NAME`: a built-in theme, `~/.config/patrol/themes/NAME.toml` (over the
    /// default), or a path to a file (over the default).
    pub fn resolve(name: Option<&str>, depth: Depth) -> Result<Theme, String> {
        let name = name.unwrap_or("default");
        if let Some(base) = Theme::builtin(name) {
            return Theme::build(base, None, depth);
        }
        let path = if name.ends_with(".toml") || name.contains('/') {
            Path::new(name).to_path_buf()
        } else {
            user_dir().join(format!("{name}.toml"))
        };
        let text =
            crate::files::read_bounded_string(&path, crate::files::MAX_THEME).map_err(|e| {
                format!(
                    "theme {}: {e} (built-in themes: {})",
                    path.display(),
                    BUILTIN
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
        Theme::build(DEFAULT_THEME, Some(&text), depth)
    }

    /// Every theme `--theme` takes by name: (name, description), the built-in ones first,
    /// then the user's `~/.config/patrol/themes/*.toml`.
    pub fn list() -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = BUILTIN
            .iter()
            .map(|(n, text)| (n.to_string(), describe(text)))
            .collect();
        if let Ok(rd) = std::fs::read_dir(user_dir()) {
            let mut user: Vec<(String, String)> = rd
                .flatten()
                .filter_map(|e| {
                    let p = e.path();
                    let stem = p.file_stem()?.to_str()?.to_string();
                    (p.extension()? == "toml").then_some(())?;
                    let text = crate::files::read_bounded_string(&p, crate::files::MAX_THEME)
                        .unwrap_or_default();
                    Some((
                        crate::text::sanitize(&stem),
                        format!("{} ({})", describe(&text), p.display()),
                    ))
                })
                .collect();
            user.sort();
            out.extend(user);
        }
        out
    }
}

fn user_dir() -> std::path::PathBuf {
    dirs::config_dir().unwrap_or_default().join("patrol/themes")
}

fn describe(text: &str) -> String {
    toml::from_str::<ThemeFile>(text)
        .ok()
        .and_then(|f| f.meta.description)
        .map(|d| crate::text::sanitize(&d))
        .unwrap_or_else(|| "user theme".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_theme_loads_and_no_color_strips_colours() {
        let t = Theme::load(None, false).unwrap();
        assert_eq!(t.leader.fg, Some(Color::Rgb(0x5f, 0xd7, 0x5f)));
        let n = Theme::load(None, true).unwrap();
        assert_eq!(n.leader.fg, None);
        assert!(n.leader.add_modifier.contains(Modifier::BOLD));
        assert_eq!(n.danger.bg, None);
    }

    #[test]
    fn overlay_overrides_and_errors_are_named() {
        let t = Theme::load(Some("[styles]\nleader = { fg = \"#ff0000\" }\n"), false).unwrap();
        assert_eq!(t.leader.fg, Some(Color::Rgb(255, 0, 0)));
        assert_eq!(t.replica.fg, Some(Color::Rgb(0x5f, 0xaf, 0xd7)));
        let e = Theme::load(Some("[styles]\nleader = { fg = \"nope\" }\n"), false).unwrap_err();
        assert!(e.contains("leader"), "{e}");
        assert!(Theme::load(Some("[styles]\nbogus = {}\n"), false).is_err());
    }

    #[test]
    fn colour_depth_comes_from_the_environment() {
        use Depth::*;
        assert_eq!(
            Depth::detect(Some("1"), Some("truecolor"), Some("xterm-256color")),
            NoColor
        );
        assert_eq!(
            Depth::detect(Some(""), Some("truecolor"), None),
            TrueColor,
            "empty NO_COLOR"
        );
        assert_eq!(Depth::detect(None, Some("24bit"), Some("xterm")), TrueColor);
        assert_eq!(Depth::detect(None, None, Some("tmux-256color")), Ansi256);
        assert_eq!(Depth::detect(None, None, Some("screen-256color")), Ansi256);
        assert_eq!(Depth::detect(None, None, Some("xterm")), Ansi16);
        assert_eq!(Depth::detect(None, None, Some("linux")), Ansi16);
        assert_eq!(Depth::detect(None, None, Some("dumb")), NoColor);
        assert_eq!(Depth::detect(None, None, None), Ansi16);
    }

    #[test]
    fn colours_degrade_to_the_nearest_the_terminal_has() {
        let c = Color::Rgb(0x5f, 0xd7, 0x5f);
        assert_eq!(degrade(c, Depth::TrueColor), Some(c));
        // #5fd75f is exactly cube entry 77
        assert_eq!(degrade(c, Depth::Ansi256), Some(Color::Indexed(77)));
        assert_eq!(degrade(c, Depth::Ansi16), Some(Color::LightGreen));
        assert_eq!(
            degrade(Color::Rgb(0, 0, 0), Depth::Ansi16),
            Some(Color::Black)
        );
        assert_eq!(
            degrade(Color::Indexed(9), Depth::Ansi16),
            Some(Color::LightRed)
        );
        assert_eq!(
            degrade(Color::Indexed(244), Depth::Ansi16),
            Some(Color::DarkGray)
        );
        // by hue, not distance: a soft green stays green, a dark red stays red
        assert_eq!(
            degrade(Color::Rgb(0xaf, 0, 0), Depth::Ansi16),
            Some(Color::Red)
        );
        assert_eq!(
            degrade(Color::Rgb(0xff, 0xd7, 0x5f), Depth::Ansi16),
            Some(Color::LightYellow)
        );
        assert_eq!(
            degrade(Color::Rgb(0x5f, 0xaf, 0xd7), Depth::Ansi16),
            Some(Color::LightCyan)
        );
        assert_eq!(
            degrade(Color::Rgb(0x1c, 0x1c, 0x1c), Depth::Ansi16),
            Some(Color::Black)
        );
        assert_eq!(degrade(Color::Cyan, Depth::Ansi16), Some(Color::Cyan));
        assert_eq!(degrade(Color::Cyan, Depth::NoColor), None);
        assert_eq!(rgb_of_index(16), (0, 0, 0));
        assert_eq!(rgb_of_index(231), (255, 255, 255));
        assert_eq!(rgb_of_index(244), (128, 128, 128));
    }

    /// WCAG 2 relative luminance of an sRGB colour.
    fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
        let ch = |v: u8| {
            let c = f64::from(v) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)
    }

    fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    /// Every style of a theme as the (foreground, background) a view draws with it:
    /// no colour means the terminal's (the theme's `meta`), reversed swaps the two.
    fn pairs(text: &str, depth: Depth) -> Vec<(String, Color, Color)> {
        let f: ThemeFile = toml::from_str(text).unwrap();
        let meta = |c: &Option<String>| degrade(color(c.as_deref().unwrap()).unwrap(), depth);
        let (mfg, mbg) = (meta(&f.meta.foreground), meta(&f.meta.background));
        let t = Theme::build(text, None, depth).unwrap();
        let mut t2 = t.clone();
        f.styles
            .keys()
            .map(|name| {
                let st = *t2.slot(name).unwrap();
                let mut fg = st.fg.or(mfg).unwrap();
                let mut bg = st.bg.or(mbg).unwrap();
                if st.add_modifier.contains(Modifier::REVERSED) {
                    std::mem::swap(&mut fg, &mut bg);
                }
                (name.clone(), fg, bg)
            })
            .collect()
    }

    #[test]
    fn every_theme_has_wcag_contrast_of_at_least_4_5_to_1() {
        for (name, text) in BUILTIN {
            for (style, fg, bg) in pairs(text, Depth::TrueColor) {
                let r = contrast(rgb(fg).unwrap(), rgb(bg).unwrap());
                assert!(r >= 4.5, "{name}: {style} is {fg:?} on {bg:?}: {r:.2}:1");
            }
        }
    }

    #[test]
    fn in_16_colours_no_style_is_a_colour_on_itself() {
        for (name, text) in BUILTIN {
            for (style, fg, bg) in pairs(text, Depth::Ansi16) {
                assert_ne!(fg, bg, "{name}: {style} in 16 colours is {fg:?} on itself");
            }
        }
    }

    #[test]
    fn every_built_in_theme_resolves_by_name_at_every_depth() {
        for (name, _) in BUILTIN {
            for d in [
                Depth::NoColor,
                Depth::Ansi16,
                Depth::Ansi256,
                Depth::TrueColor,
            ] {
                Theme::resolve(Some(name), d).unwrap_or_else(|e| panic!("{name} {d:?}: {e}"));
            }
            assert!(Theme::list().iter().any(|(n, _)| n == name));
        }
        let e = Theme::resolve(Some("no-such-theme"), Depth::TrueColor).unwrap_err();
        assert!(e.contains("built-in themes: default, light"), "{e}");
        let mono = Theme::resolve(Some("monochrome"), Depth::TrueColor).unwrap();
        assert_eq!((mono.down.fg, mono.down.bg), (None, None));
    }
}
