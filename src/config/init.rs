//! `patrol config init`: patrol's own config file with every key and its default, commented
//! out, so that a user changes what they need and sees what the rest is.

use std::fmt::Write as _;
use std::path::Path;

use crate::app::keymap::Context;

/// How often each member's REST API is asked, unless `--interval` or the config says.
pub const DEFAULT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
/// The timeout of one REST request, unless `--timeout` or the config says.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The file's text. Every setting line is a comment: uncommented, each one says what
/// patrol does without it (a test parses it that way).
pub fn template(audit_log: &Path) -> String {
    let themes: Vec<&str> = crate::theme::BUILTIN.iter().map(|(n, _)| *n).collect();
    let mut s = String::new();
    s.push_str(
        "# patrol's own settings (`patrol config init` wrote this file).\n\
         # Every key is shown with its default, commented out; the command line wins over it.\n\
         # Unknown keys and bad key names are errors at start.\n\n",
    );
    let _ = writeln!(
        s,
        "# {}; or a file ~/.config/patrol/themes/NAME.toml, or a path",
        themes.join(", ")
    );
    s.push_str("# theme = \"default\"\n\n");
    s.push_str("# hide and refuse every action that changes the cluster\n# read_only = false\n\n");
    s.push_str(
        "# synchronized output (DEC mode 2026) around each frame: auto | on | off\n\
         # (auto: off inside tmux, some versions of which resend the whole pane each frame)\n\
         # sync_output = \"auto\"\n\n",
    );
    let _ = writeln!(
        s,
        "# how often each member's REST API is asked, and how long one request may take\n\
         # interval = \"{}\"\n# timeout = \"{}\"\n",
        humantime::format_duration(DEFAULT_INTERVAL),
        humantime::format_duration(DEFAULT_TIMEOUT)
    );
    let _ = writeln!(
        s,
        "# where confirmed operations are recorded, one JSON line each, flushed before sending\n\
         # audit_log = {:?}\n",
        audit_log.display().to_string()
    );
    s.push_str(
        "# where each member's Patroni log is ({member} and {host} are checked words):\n\
         # `file:PATH` or `cmd:COMMAND`. No default: logs are not followed.\n\
         # logs = \"cmd:ssh -o BatchMode=yes {host} journalctl -u patroni -f -o cat\"\n\n\
         # per member, over `logs`\n\
         # [logs_by_member]\n\
         # pg1 = \"file:/var/log/patroni/patroni.log\"\n\n",
    );
    s.push_str(
        "# an HAProxy in front of the cluster (repeatable; the routing view, `b`): its stats\n\
         # page (the CSV is read at URL;csv) or its runtime API socket; the listeners' names\n\
         # (else guessed), what clients connect to, its checks' inter. No default.\n\
         # [[haproxy]]\n\
         # url = \"http://10.0.0.5:7000/\"\n\
         # (or socket = \"/run/haproxy/admin.sock\")\n\
         # name = \"lb1\"\n\
         # rw = \"pg_rw\"\n\
         # ro = [\"pg_ro\"]\n\
         # rw_address = \"10.0.0.5:5000\"\n\
         # ro_address = \"10.0.0.5:5001\"\n\
         # inter = \"2s\"\n\n",
    );
    s.push_str(
        "# Keys, per context (`[keys] action = [...]` rebinds an action everywhere it is).\n\
         # Names: a character, ctrl-X, up down left right home end pageup pagedown enter\n\
         # esc tab backspace space. A key bound twice in one context is an error.\n",
    );
    for ctx in Context::ALL {
        let _ = writeln!(s, "\n# [keys.{}]", ctx.name());
        for (action, keys) in ctx.default_keys() {
            let quoted: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
            let line = format!("# {} = [{}]", action.name(), quoted.join(", "));
            let _ = writeln!(s, "{line:<40} # {}", action.describe(ctx));
        }
    }
    s
}

/// Write the template to `path`, never over an existing file unless `force`.
pub fn write(path: &Path, audit_log: &Path, force: bool) -> Result<(), String> {
    if path.exists() && !force {
        return Err(format!(
            "{} exists: not overwritten (--force replaces it)",
            path.display()
        ));
    }
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    std::fs::write(path, template(audit_log)).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keymap::{Action, KeymapSet};

    /// The template with its setting lines uncommented (the prose comments stay).
    fn uncommented(t: &str) -> String {
        t.lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest.starts_with('[')
                        || rest.split_once(" = ").is_some_and(|(k, _)| {
                            !k.is_empty()
                                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                        }) =>
                {
                    rest.to_string()
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_template_uncommented_is_a_valid_config_of_the_defaults() {
        let t = template(Path::new("/var/log/patrol/audit.jsonl"));
        let c = crate::config::patrol::parse(&uncommented(&t)).expect("parses");
        assert_eq!(c.theme.as_deref(), Some("default"));
        assert_eq!(c.read_only, Some(false));
        assert_eq!(c.sync_output, Some(crate::config::patrol::SyncOutput::Auto));
        assert_eq!(c.interval, Some(DEFAULT_INTERVAL));
        assert_eq!(c.timeout, Some(DEFAULT_TIMEOUT));
        assert_eq!(
            c.audit_log.as_deref(),
            Some(Path::new("/var/log/patrol/audit.jsonl"))
        );
        assert!(c.logs.is_some() && c.logs_by_member.len() == 1);
        assert_eq!(c.haproxy.len(), 1, "the [[haproxy]] example");
        assert_eq!(c.haproxy[0].ro, ["pg_ro"]);
        // every context's every default key is written, and binding them changes nothing
        let keys = KeymapSet::with_overrides(&c.keys).expect("the keys bind");
        let def = KeymapSet::default();
        for ctx in Context::ALL {
            for a in Action::ALL.into_iter().filter(|a| ctx.has(*a)) {
                assert_eq!(keys.keys_for(ctx, a), def.keys_for(ctx, a), "{ctx:?} {a:?}");
            }
        }
        // the untouched template is a valid, empty config
        assert_eq!(
            crate::config::patrol::parse(&t).expect("parses"),
            Default::default()
        );
    }

    #[test]
    fn init_never_overwrites_without_force() {
        let dir = std::env::temp_dir().join(format!("patrol-init-{}", std::process::id()));
        let p = dir.join("patrol/config.toml");
        let audit = Path::new("/tmp/a.jsonl");
        write(&p, audit, false).expect("first write");
        std::fs::write(&p, "theme = \"light\"\n").expect("edit");
        let e = write(&p, audit, false).unwrap_err();
        assert!(e.contains("not overwritten"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "theme = \"light\"\n");
        write(&p, audit, true).expect("forced");
        assert!(
            std::fs::read_to_string(&p)
                .unwrap()
                .contains("# [keys.main]")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
