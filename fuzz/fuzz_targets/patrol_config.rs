//! patrol's own config.toml (with its `[keys]` through the key map) and a theme file; each line also as a key name (`[keys]`) and
//! a duration (`interval`, `--timeout`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use patrol::app::keymap::Key;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // the `[keys]` table is given meaning by the key map: every context, every action
    if let Ok(c) = patrol::config::patrol::parse(text) {
        let _ = patrol::app::KeymapSet::with_overrides(&c.keys);
    }
    let _ = patrol::theme::Theme::load(Some(text), false);
    let _ = patrol::theme::Theme::load(Some(text), true);
    for line in text.lines().take(64) {
        if let Ok(k) = Key::parse(line) {
            let _ = k.to_string();
        }
        if let Ok(d) = patrol::cli::parse_duration(line) {
            assert!(d.as_secs_f64() <= 3600.0);
        }
    }
});
