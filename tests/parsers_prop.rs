//! Property tests: every parser of outside input (etcd keys, `/patroni`, patroni.yml,
//! patrol's config, themes, key names, `--logs` specs, log lines, `-d` URLs) returns a value
//! or an error for any input, never panics; text that reaches a terminal holds no control
//! or bidi character. Arbitrary bytes and strings, plus structure-aware documents (the
//! right keys, hostile values) so the fields themselves are reached, not only the
//! tokenizer. The cargo-fuzz targets in `fuzz/` run the same entry points for longer.

use std::collections::BTreeMap;
use std::time::Instant;

use patrol::app::ClusterState;
use patrol::app::keymap::Key;
use patrol::config::{self, ConfigSource};
use patrol::dcs::keys::{self, KeyKind, KeyValue, MemberData};
use patrol::logs::{LogSourceSpec, SafeHost, SafeMember, parse_line};
use patrol::patroni::PatroniStatus;
use patrol::text::{redact_url, sanitize};
use patrol::theme::Theme;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // a failure is kept as a named regression test below, not in a side file
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The bidi controls that can make text read as something else (Trojan Source).
const BIDI: [char; 12] = [
    '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
];

/// What must never reach a terminal: C0, DEL, C1 and the bidi controls.
fn forbidden(c: char) -> bool {
    c.is_control() || BIDI.contains(&c)
}

const PUNCT: [char; 29] = [
    '"', '\'', '\\', '{', '}', '[', ']', ':', ',', '/', '@', '?', '#', '&', '*', '!', '-', '|',
    '>', '%', '=', '.', ' ', '\n', '\t', '\r', 'é', '节', '\u{feff}',
];

/// Characters an attacker would pick, mixed with any character at all. One `u32` per
/// character (its low bits pick the class): far cheaper to generate than a union of
/// strategies, which matters in a debug test run.
fn hostile_char_of(n: u32) -> char {
    let p = n >> 4;
    let pick = |s: &[char]| s[p as usize % s.len()];
    match n & 15 {
        0..=3 => char::from_u32(p % 0x11_0000).unwrap_or('\u{fffd}'),
        4 | 5 => char::from_u32(p % 0x20).unwrap_or('\0'),
        6 => '\u{7f}',
        7 | 8 => char::from_u32(0x80 + p % 0x20).unwrap_or('\u{80}'),
        9 | 10 => pick(&BIDI),
        11 | 12 => pick(&PUNCT),
        13 | 14 => char::from_u32('a' as u32 + p % 26).unwrap_or('a'),
        _ => char::from_u32('0' as u32 + p % 10).unwrap_or('0'),
    }
}

fn hostile_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u32>(), 0..max)
        .prop_map(|v| v.into_iter().map(hostile_char_of).collect())
}

/// A member name or host: mostly near the grammar (so both sides of it are reached).
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => hostile_string(16),
        2 => "[-a-zA-Z0-9._:]{0,20}",
        1 => "\\[[0-9a-fA-F:.%a-z]{0,40}\\]",
        1 => "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,4}",
        1 => prop::sample::select(vec!["-oProxyCommand=touch x", "x;touch y", ".", "..", "a..b", "[::1]", "::1"])
            .prop_map(str::to_string),
        1 => (250usize..260).prop_map(|n| "a".repeat(n)),
    ]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..512)
}

/// Number literals as they may appear in JSON or YAML text, most of them out of range for
/// the field they land in.
fn number_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "0",
            "-0",
            "-1",
            "1",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "9223372036854775807",
            "340282366920938463463374607431768211456",
            "1e308",
            "-1e308",
            "1e309",
            "1e-400",
            "0.5",
            "-0.5",
            "1.5e3",
            "4294967296",
            "65535",
            "65536",
            "3.0",
            "1E2",
            "-0.0",
            "123456789012345678901234567890123456789012345678901234567890",
        ])
        .prop_map(str::to_string),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
    ]
}

/// Every field name the etcd and REST parsers look at, at any depth.
const JSON_KEYS: &[&str] = &[
    // member key
    "conn_url",
    "api_url",
    "state",
    "role",
    "timeline",
    "xlog_location",
    "receive_lsn",
    "replay_lsn",
    "replication_state",
    "tags",
    "pending_restart",
    "pending_restart_reason",
    "scheduled_restart",
    "pause",
    "version",
    "nofailover",
    "noloadbalance",
    "clonefrom",
    "nosync",
    "failover_priority",
    // config
    "ttl",
    "loop_wait",
    "retry_timeout",
    "maximum_lag_on_failover",
    "synchronous_mode",
    "standby_cluster",
    "check_timeline",
    "postgresql",
    "parameters",
    // failover, sync, status
    "leader",
    "member",
    "scheduled_at",
    "sync_standby",
    "quorum",
    "optime",
    "slots",
    "retain_slots",
    // /patroni
    "server_version",
    "postmaster_start_time",
    "xlog",
    "location",
    "received_location",
    "replayed_location",
    "replayed_timestamp",
    "paused",
    "replication",
    "usename",
    "application_name",
    "client_addr",
    "sync_state",
    "sync_priority",
    "cluster_unlocked",
    "dcs_last_seen",
    "database_system_identifier",
    "patroni",
    "scope",
    "name",
];

fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => hostile_string(24),
        1 => prop::sample::select(vec![
            "postgres://u:pw@10.0.0.1:5432/postgres", "http://127.0.0.1:8008/patroni",
            "postgres://[::1]:5432/x", "postgres://[::1", "postgres://h:99999/x",
            "postgres://-oProxyCommand=touch /tmp/x:5432/x", "quorum", "true", "on", "1",
            "", " ", "running", "streaming", "primary", "replica", "sync", "pg1,pg2, ,pg3",
        ])
        .prop_map(str::to_string),
        1 => (1usize..5000).prop_map(|n| "x".repeat(n)),
    ]
    .prop_map(|s| serde_json::to_string(&s).unwrap_or_default())
}

/// JSON text (not a `Value`: number literals beyond f64 and duplicate keys must reach the
/// parser as they would from etcd), objects keyed mostly by the real field names.
fn json_text() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        3 => number_literal(),
        3 => json_string(),
        1 => prop::sample::select(vec!["true", "false", "null", "[]", "{}"]).prop_map(str::to_string),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        let key = prop_oneof![
            4 => prop::sample::select(JSON_KEYS.to_vec()).prop_map(|k| format!("\"{k}\"")),
            1 => json_string(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key, inner), 0..10).prop_map(|kv| {
                let parts: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", parts.join(","))
            }),
        ]
    })
    .boxed()
}

/// A JSON object at the top (what most keys hold), sometimes something else.
fn json_doc() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(
            (prop::sample::select(JSON_KEYS.to_vec()), json_text()), 0..12
        )
        .prop_map(|kv| {
            let parts: Vec<String> = kv.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", parts.join(","))
        }),
        1 => json_text(),
        // history: an array of rows
        1 => prop::collection::vec(prop::collection::vec(json_text(), 0..6), 0..6).prop_map(|rows| {
            let rows: Vec<String> = rows.into_iter().map(|r| format!("[{}]", r.join(","))).collect();
            format!("[{}]", rows.join(","))
        }),
        // the plain-text keys and the old optime format
        1 => number_literal(),
    ]
}

const RELATIVE_KEYS: &[&str] = &[
    "leader",
    "members/pg1",
    "config",
    "initialize",
    "history",
    "failover",
    "sync",
    "status",
    "failsafe",
    "optime/leader",
];

fn relative_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(RELATIVE_KEYS.to_vec()).prop_map(str::to_string),
        1 => hostile_string(16).prop_map(|s| format!("members/{s}")),
        1 => hostile_string(24),
    ]
}

/// Parse one key and apply it as the app does; the warnings say exactly which failed.
fn put_and_check(relative: &str, value: &[u8]) {
    let parsed = keys::parse(relative, value);
    if let Ok(KeyValue::Member(_, m)) = &parsed {
        member_accessors(m);
    }
    let mut state = ClusterState::default();
    state.put(relative, value, 7, Instant::now());
    assert_eq!(
        state.warnings.contains_key(relative),
        parsed.is_err(),
        "{relative}: a value that does not parse is a warning, one that does is not"
    );
    state.delete(relative, Instant::now());
    assert!(state.warnings.is_empty());
}

fn member_accessors(m: &MemberData) {
    let _ = m.host_port();
    // URLs from member keys are shown redacted (what is shown: the sanitiser property)
    for url in [&m.conn_url, &m.api_url].into_iter().flatten() {
        let _ = redact_url(url);
    }
    for tag in ["nofailover", "noloadbalance", "nosync", "clonefrom"] {
        let _ = m.tag_bool(tag);
    }
    for lsn in [m.xlog_location, m.receive_lsn, m.replay_lsn]
        .into_iter()
        .flatten()
    {
        let _ = keys::format_lsn(lsn);
    }
}

proptest! {
    #![proptest_config(config())]

    // ---- etcd keys and their dispatch in ClusterState::put

    #[test]
    fn every_key_survives_arbitrary_bytes(rel in relative_key(), value in bytes()) {
        put_and_check(&rel, &value);
    }

    #[test]
    fn every_key_survives_hostile_json(rel in relative_key(), doc in json_doc()) {
        put_and_check(&rel, doc.as_bytes());
    }

    #[test]
    fn any_key_name_is_classified(rel in hostile_string(40)) {
        let kind = KeyKind::classify(&rel);
        if let KeyKind::Member(name) = kind {
            prop_assert!(!name.is_empty() && !name.contains('/'));
        }
        let _ = patrol::dcs::split_key("/service/", &rel);
    }

    #[test]
    fn member_urls_never_panic(conn in hostile_string(48), api in hostile_string(48)) {
        let m = MemberData {
            conn_url: Some(conn.clone()),
            api_url: Some(api),
            ..MemberData::default()
        };
        member_accessors(&m);
        let m = MemberData { conn_url: Some(format!("postgres://{conn}")), ..MemberData::default() };
        member_accessors(&m);
    }

    /// A write's base from any api_url: no panic; when there is one it is only
    /// `scheme://host[:port]`, safe to print, and the client takes it as it is.
    #[test]
    fn api_url_bases_are_scheme_host_and_port(
        scheme in prop::sample::select(vec!["http", "HTTPS", "ftp", ""]),
        host in word(),
        tail in hostile_string(24),
        raw in hostile_string(48),
    ) {
        for url in [format!("{scheme}://{host}{tail}"), format!("{scheme}://{host}:8008/patroni"), raw] {
            if let Ok(b) = patrol::write::ApiBase::parse(&url) {
                prop_assert!(b.base.starts_with("http://") || b.base.starts_with("https://"), "{url:?}");
                prop_assert!(!b.base.chars().any(patrol::text::is_unsafe), "{url:?}");
                let after = &b.base[b.base.find("://").unwrap_or(0) + 3..];
                prop_assert!(!after.contains(['/', '?', '#', '@']), "{url:?}: {}", b.base);
                prop_assert_eq!(patrol::write::write_base(&b.base), Ok(b.base.clone()));
                prop_assert_eq!(patrol::write::write_base(&url).is_ok(), b.extra.is_none());
            } else {
                prop_assert!(patrol::write::write_base(&url).is_err());
            }
        }
    }

    /// The redaction of any text: no panic, and a `password=` value put into it is gone.
    #[test]
    fn redaction_of_any_text_hides_a_password_in_it(
        before in hostile_string(40),
        after in hostile_string(40),
    ) {
        let _ = patrol::redact::text(&before);
        let s = format!("{before} password=Zq7secretZq7 {after}");
        let r = patrol::redact::text(&s);
        prop_assert!(!r.contains("Zq7secretZq7"), "{s:?} -> {r:?}");
        let v = serde_json::json!({"a": before, "b": [after], "password": "Zq7secretZq7"});
        let r = patrol::redact::value(&v).to_string();
        prop_assert!(!r.contains("Zq7secretZq7"), "{r}");
    }

    // ---- REST: GET /patroni (the only REST body patrol parses)

    #[test]
    fn patroni_status_survives_arbitrary_bytes(body in bytes()) {
        let _ = PatroniStatus::parse(&body);
    }

    #[test]
    fn patroni_status_survives_hostile_json(doc in json_doc()) {
        let _ = PatroniStatus::parse(doc.as_bytes());
    }

    // ---- patroni.yml / patronictl.yaml and -d URLs

    #[test]
    fn patroni_yaml_survives_arbitrary_text(text in hostile_string(256)) {
        let _ = config::from_str(&text, None, &ConfigSource::default());
    }

    #[test]
    fn patroni_yaml_survives_hostile_documents(text in yaml_doc(), src in config_source()) {
        if let Ok(s) = config::from_str(&text, Some(std::path::Path::new("/etc/patroni/p.yml")), &src) {
            prop_assert!(s.namespace.starts_with('/') && s.namespace.ends_with('/'));
            // something to ask: etcd, or in REST-only mode a Patroni API that passed the
            // host grammar
            prop_assert!(!s.dcs.endpoints.is_empty() || (s.rest_only && !s.api_seeds.is_empty()));
            for u in &s.api_seeds {
                prop_assert!(u.starts_with("http://") || u.starts_with("https://"), "{u}");
                prop_assert!(u.ends_with("/patroni"), "{u}");
                prop_assert!(!u.chars().any(|c| c.is_whitespace() || c.is_control() || c == '@'), "{u}");
            }
        }
    }

    #[test]
    fn dcs_urls_never_panic(url in prop_oneof![
        hostile_string(48),
        hostile_string(40).prop_map(|s| format!("etcd3://{s}")),
        hostile_string(40).prop_map(|s| format!("etcd://{s}")),
    ]) {
        if let Ok((_, endpoint, ns)) = config::parse_dcs_url(&url) {
            prop_assert!(endpoint.contains("://"));
            let _ = config::normalize_namespace(ns.as_deref().unwrap_or(""));
        }
    }

    // ---- patrol's own config, themes, key names, durations

    #[test]
    fn patrol_config_survives_arbitrary_text(text in hostile_string(256)) {
        let _ = config::patrol::parse(&text);
    }

    #[test]
    fn patrol_config_survives_hostile_documents(text in patrol_toml()) {
        let _ = config::patrol::parse(&text);
    }

    #[test]
    fn themes_survive_arbitrary_and_hostile_documents(
        text in prop_oneof![hostile_string(200), theme_toml()],
        no_color in any::<bool>(),
    ) {
        let _ = Theme::load(Some(&text), no_color);
    }

    #[test]
    fn key_names_never_panic(name in prop_oneof![
        hostile_string(12),
        hostile_string(4).prop_map(|s| format!("ctrl-{s}")),
        hostile_string(4).prop_map(|s| format!("c-{s}")),
    ]) {
        if let Ok(k) = Key::parse(&name) {
            let _ = k.to_string();
        }
    }

    #[test]
    fn durations_never_panic(s in prop_oneof![
        hostile_string(16),
        (number_literal(), prop::sample::select(vec!["", "ms", "s", "m", "h", "µs"]))
            .prop_map(|(n, u)| format!("{n}{u}")),
    ]) {
        if let Ok(d) = patrol::cli::parse_duration(&s) {
            prop_assert!(d.as_secs_f64() <= 3600.0);
        }
    }

    // ---- --logs specs and log lines

    #[test]
    fn log_specs_never_panic(
        spec in prop_oneof![
            hostile_string(64),
            hostile_string(48).prop_map(|s| format!("cmd:{s}")),
            hostile_string(48).prop_map(|s| format!("file:{s}")),
        ],
        member in word(),
        host in word(),
    ) {
        match LogSourceSpec::parse(&spec) {
            Ok(s) => {
                if let Ok(m) = SafeMember::parse(&member) {
                    let h = SafeHost::parse(&host).ok();
                    if let Ok(r) = s.resolve(&m, h.as_ref()) {
                        let _ = r.spec().to_string();
                    }
                }
                let _ = s.uses_host();
            }
            Err(e) => prop_assert!(!e.to_string().chars().any(char::is_control), "{e}"),
        }
    }

    /// The words that may reach a `--logs` template: whatever is accepted is inside the
    /// grammar, whatever the input (a member key's name, a conn_url's host).
    #[test]
    fn template_words_stay_inside_their_grammar(
        w in word(),
        url in prop_oneof![
            hostile_string(48),
            (word(), word()).prop_map(|(u, h)| format!("postgres://{u}@{h}/db")),
            (word(), hostile_string(6)).prop_map(|(h, p)| format!("postgres://[{h}]:{p}/db")),
        ],
    ) {
        let plain = |s: &str, extra: &[u8]| {
            !s.is_empty()
                && !s.starts_with('-')
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
        };
        if let Ok(m) = SafeMember::parse(&w) {
            prop_assert!(plain(m.as_str(), b"._-") && m.as_str() != "." && m.as_str() != "..");
        }
        for h in [SafeHost::parse(&w), SafeHost::from_conn_url(&url)].into_iter().flatten() {
            prop_assert!(plain(h.as_str(), b".-:"), "{h}");
        }
    }

    #[test]
    fn log_lines_never_panic_and_are_sanitised(
        raw in prop_oneof![hostile_string(160), log_line()],
        member in hostile_string(8),
    ) {
        let l = parse_line(&member, &raw);
        prop_assert!(!l.text.chars().any(forbidden), "{:?}", l.text);
        if let Some(ts) = &l.ts {
            prop_assert!(raw.contains(ts.as_str()));
            // the timestamp is drawn too, and is not passed through the sanitiser
            prop_assert!(!ts.chars().any(forbidden), "{ts:?}");
        }
    }

    // ---- the sanitiser itself

    #[test]
    fn sanitised_text_holds_no_control_or_bidi_character(s in hostile_string(128)) {
        let out = sanitize(&s);
        prop_assert!(!out.chars().any(forbidden), "{s:?} -> {out:?}");
        let url = redact_url(&format!("postgres://u:pw@{s}"));
        prop_assert!(!url.chars().any(forbidden), "{url:?}");
    }
}

// ---- structure-aware documents

/// A double-quoted YAML / TOML string holding `s` exactly: every character outside
/// printable ASCII escaped (both formats read `\uXXXX` and `\UXXXXXXXX`), so control
/// and bidi characters reach the parsed value instead of failing the tokenizer.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A YAML scalar an attacker (or a typo) might write: numbers out of range, YAML 1.1
/// booleans, tags, anchors and aliases, quoted control characters, long strings.
fn yaml_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => number_literal(),
        3 => hostile_string(24).prop_map(|s| quoted(&s)),
        2 => "[a-z0-9.:/-]{0,24}",
        1 => prop::sample::select(vec![
            "~", "null", "yes", "no", "on", "off", "true", "false", "!!binary aGk=", "!!int 3",
            "!!str 1", "&a x", "*a", "*nope", "[]", "{}", "'", "\"", "|", ">", "- -", "? x",
            ".inf", "-.inf", ".nan", "0x1F", "0o17", "1_000", "2001-12-14t21:59:43.10-05:00",
            "etcd3://h:2379/ns", "http://[::1]:2379", "[::1]", "h1:1,h2:2, ,h3", "https", "http",
        ])
        .prop_map(str::to_string),
        1 => (1usize..3000).prop_map(|n| "y".repeat(n)),
    ]
}

const YAML_KEYS: &[&str] = &[
    "scope",
    "namespace",
    "name",
    "etcd3",
    "etcd",
    "host",
    "hosts",
    "url",
    "proxy",
    "srv",
    "protocol",
    "username",
    "password",
    "cacert",
    "cert",
    "key",
    "restapi",
    "authentication",
    "cafile",
    "certfile",
    "keyfile",
    "ctl",
    "insecure",
    "listen",
    "connect_address",
    "postgresql",
    "<<",
];

#[derive(Debug, Clone)]
enum Yaml {
    Scalar(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

fn yaml_tree() -> impl Strategy<Value = Yaml> {
    yaml_scalar()
        .prop_map(Yaml::Scalar)
        .prop_recursive(5, 64, 8, |inner| {
            let key = prop_oneof![
                5 => prop::sample::select(YAML_KEYS.to_vec()).prop_map(str::to_string),
                1 => "[a-z]{1,8}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Yaml::Seq),
                prop::collection::vec((key, inner), 0..8).prop_map(Yaml::Map),
            ]
        })
}

fn render_yaml(y: &Yaml, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match y {
        Yaml::Scalar(s) => {
            out.push(' ');
            out.push_str(s);
            out.push('\n');
        }
        Yaml::Seq(items) => {
            out.push('\n');
            for item in items {
                out.push_str(&pad);
                out.push('-');
                render_yaml(item, indent + 2, out);
            }
        }
        Yaml::Map(kvs) => {
            out.push('\n');
            for (k, v) in kvs {
                out.push_str(&pad);
                out.push_str(k);
                out.push(':');
                render_yaml(v, indent + 2, out);
            }
        }
    }
}

/// A mapping whose fields are each present with their own probability (a union over
/// a list of keys would rarely produce the field combinations that pass validation).
fn fields(spec: Vec<(&'static str, f64, BoxedStrategy<Yaml>)>) -> BoxedStrategy<Yaml> {
    let parts: Vec<BoxedStrategy<Option<(String, Yaml)>>> = spec
        .into_iter()
        .map(|(k, p, v)| prop::option::weighted(p, v.prop_map(move |v| (k.to_string(), v))).boxed())
        .collect();
    parts
        .prop_map(|kv| Yaml::Map(kv.into_iter().flatten().collect()))
        .boxed()
}

/// A scalar, now and then a sequence or a whole tree where a scalar belongs.
fn yaml_value() -> BoxedStrategy<Yaml> {
    prop_oneof![
        12 => yaml_scalar().prop_map(Yaml::Scalar),
        1 => prop::collection::vec(yaml_scalar().prop_map(Yaml::Scalar), 0..4).prop_map(Yaml::Seq),
        1 => yaml_tree(),
    ]
    .boxed()
}

/// A document shaped like patroni.yml (the sections and fields patrol reads, values of
/// every kind, now and then of the wrong kind).
fn yaml_doc() -> impl Strategy<Value = String> {
    let v = yaml_value;
    let hosts = prop_oneof![
        2 => prop::collection::vec(yaml_scalar().prop_map(Yaml::Scalar), 0..4).prop_map(Yaml::Seq),
        1 => yaml_value(),
    ]
    .boxed();
    let protocol = prop_oneof![
        6 => prop::sample::select(vec!["http", "https"]).prop_map(|s| Yaml::Scalar(s.into())),
        1 => yaml_value(),
    ]
    .boxed();
    let etcd = fields(vec![
        ("hosts", 0.5, hosts),
        ("host", 0.4, v()),
        ("url", 0.2, v()),
        ("proxy", 0.1, v()),
        ("srv", 0.05, v()),
        ("protocol", 0.3, protocol),
        ("username", 0.3, v()),
        ("password", 0.3, v()),
        ("cacert", 0.2, v()),
        ("cert", 0.2, v()),
        ("key", 0.2, v()),
    ]);
    let auth = || fields(vec![("username", 0.7, v()), ("password", 0.7, v())]);
    let restapi = fields(vec![
        ("authentication", 0.6, auth()),
        ("cafile", 0.3, v()),
        ("certfile", 0.3, v()),
        ("keyfile", 0.3, v()),
        ("listen", 0.3, v()),
    ]);
    let ctl = fields(vec![
        ("authentication", 0.6, auth()),
        ("insecure", 0.4, prop_oneof![
            4 => prop::sample::select(vec!["true", "false"]).prop_map(|s| Yaml::Scalar(s.into())),
            1 => yaml_value(),
        ].boxed()),
        ("cacert", 0.3, v()),
        ("certfile", 0.3, v()),
        ("keyfile", 0.3, v()),
    ]);
    let dcs = prop_oneof![Just("etcd3"), Just("etcd")];
    (
        fields(vec![
            ("scope", 0.9, v()),
            ("namespace", 0.5, v()),
            ("restapi", 0.5, restapi),
            ("ctl", 0.5, ctl),
            ("postgresql", 0.2, yaml_tree().boxed()),
        ]),
        prop::option::weighted(0.9, (dcs, etcd)),
    )
        .prop_map(|(top, dcs)| {
            let mut out = String::new();
            let Yaml::Map(mut kvs) = top else {
                return out;
            };
            if let Some((name, e)) = dcs {
                kvs.push((name.to_string(), e));
            }
            for (k, v) in kvs {
                out.push_str(&k);
                out.push(':');
                render_yaml(&v, 2, &mut out);
            }
            out
        })
}

fn config_source() -> impl Strategy<Value = ConfigSource> {
    (
        prop::option::of(prop_oneof![
            hostile_string(32),
            "[a-z0-9.:/\\[\\]-]{0,24}".prop_map(|s| format!("etcd3://{s}")),
        ]),
        any::<bool>(),
        prop::option::of(hostile_string(12)),
        any::<bool>(),
        prop::collection::vec(hostile_string(24), 0..3),
    )
        .prop_map(|(dcs_url, insecure, scope, rest_only, api)| ConfigSource {
            file: None,
            dcs_url,
            insecure,
            scope,
            rest_only,
            api,
        })
}

fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => hostile_string(24).prop_map(|s| quoted(&s)),
        2 => number_literal(),
        1 => prop::sample::select(vec![
            "true", "false", "[]", "{}", "[\"q\", \"ctrl-q\"]", "[\"\"]", "[1]", "\"1s\"",
            "\"0ms\"", "\"1e9s\"", "\"cmd:\"", "\"file: \"", "\"cmd:ssh {host} x {member}\"",
            "1979-05-27T07:32:00Z", "inf", "nan", "'''x'''", "\"#ff0000\"", "\"#ff00\"",
            "[\"bold\", \"blink\"]", "{ fg = \"red\" }", "{ bg = 300 }",
        ])
        .prop_map(str::to_string),
        1 => prop::collection::vec(hostile_string(8).prop_map(|s| quoted(&s)), 0..4)
        .prop_map(|v| format!("[{}]", v.join(", "))),
    ]
}

const ACTIONS: &[&str] = &[
    "up",
    "down",
    "top",
    "bottom",
    "help",
    "back",
    "quit",
    "detail",
    "history",
    "config",
    "etcd",
    "logs",
    "all_logs",
    "dsn",
    "export_events",
    "own_log",
    "switchover",
    "failover",
    "restart",
    "rolling_restart",
    "reload",
    "reinit",
    "pause",
    "flush",
];

/// Key names as a user writes them in `[keys]`, valid and not.
fn key_name() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => prop::sample::select(vec![
            "q", "ctrl-q", "c-x", "up", "PgDn", "pageup", "space", "enter", "esc", "tab", "G",
            "é", "?", "ctrl-", "c-", "ctrl-ctrl-a", "\u{1b}", "\u{202e}",
        ])
        .prop_map(str::to_string),
        1 => prop::sample::select(vec!["", "nope-key", "F1"]).prop_map(str::to_string),
        2 => hostile_string(2),
    ]
}

/// A `--logs` source as written in the config: mostly `file:` / `cmd:` with placeholders.
fn log_spec() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            8 => prop::sample::select(vec!["file:", "cmd:", " cmd: "]),
            1 => prop::sample::select(vec!["FILE:", "", "cmd", "file"]),
        ],
        prop::sample::select(vec![
            "", "{member}", "{host}", "{", "}", "{member", "{{host}}",
        ]),
        hostile_string(16),
    )
        .prop_map(|(kind, ph, rest)| format!("{kind}{rest}{ph}"))
}

/// A document shaped like patrol's config.toml: each field usually of its own type (so the
/// validation after deserializing runs), sometimes of another.
fn patrol_toml() -> impl Strategy<Value = String> {
    // a value of the wrong type, now and then: one per document fails it, so keep it rare
    let wrong = || toml_value();
    let duration = prop_oneof![
        12 => (number_literal(), prop::sample::select(vec!["", "ms", "s", "m", "h"]))
            .prop_map(|(n, u)| quoted(&format!("{n}{u}"))),
        1 => wrong(),
    ];
    let top = (
        prop::option::of(
            prop_oneof![12 => hostile_string(12).prop_map(|s| quoted(&s)), 1 => wrong()],
        ),
        prop::option::of(prop_oneof![
            12 => prop::sample::select(vec!["true".to_string(), "false".to_string()]),
            1 => wrong(),
        ]),
        prop::option::of(duration.clone()),
        prop::option::of(duration),
        prop::option::of(
            prop_oneof![12 => hostile_string(24).prop_map(|s| quoted(&s)), 1 => wrong()],
        ),
        prop::option::of(prop_oneof![12 => log_spec().prop_map(|s| quoted(&s)), 1 => wrong()]),
    );
    let by_member = prop::collection::btree_map(
        "[a-z0-9]{1,6}",
        prop_oneof![12 => log_spec().prop_map(|s| quoted(&s)), 1 => wrong()],
        0..4,
    );
    let keys = prop::collection::btree_map(
        prop_oneof![40 => prop::sample::select(ACTIONS.to_vec()), 1 => Just("teleport")],
        prop_oneof![
            12 => prop::collection::vec(key_name().prop_map(|k| quoted(&k)), 0..3)
                .prop_map(|v| format!("[{}]", v.join(", "))),
            1 => wrong(),
        ],
        0..6,
    );
    let unknown = prop::option::weighted(0.05, Just("colour = 1".to_string()));
    (top, by_member, keys, unknown).prop_map(|(top, by_member, keys, unknown)| {
        let (theme, read_only, interval, timeout, audit_log, logs) = top;
        let mut out = String::new();
        for (k, v) in [
            ("theme", theme),
            ("read_only", read_only),
            ("interval", interval),
            ("timeout", timeout),
            ("audit_log", audit_log),
            ("logs", logs),
        ] {
            if let Some(v) = v {
                out.push_str(&format!("{k} = {v}\n"));
            }
        }
        if let Some(u) = unknown {
            out.push_str(&u);
            out.push('\n');
        }
        out.push_str("[logs_by_member]\n");
        for (k, v) in by_member {
            out.push_str(&format!("{k} = {v}\n"));
        }
        out.push_str("[keys]\n");
        for (k, v) in keys {
            out.push_str(&format!("{k} = {v}\n"));
        }
        out
    })
}

fn theme_toml() -> impl Strategy<Value = String> {
    let style = prop::collection::vec(
        (
            prop::sample::select(vec!["fg", "bg", "modifiers", "blink"]),
            toml_value(),
        ),
        0..4,
    );
    prop::collection::vec(
        (
            prop::sample::select(vec!["leader", "replica", "danger", "title", "bogus"]),
            style,
        ),
        0..5,
    )
    .prop_map(|styles| {
        let mut out = String::from("[styles]\n");
        let mut seen = BTreeMap::new();
        for (name, fields) in styles {
            // a repeated table is a TOML error; keep most documents valid so styles are reached
            if seen.insert(name, ()).is_some() {
                continue;
            }
            let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            out.push_str(&format!("{name} = {{ {} }}\n", fields.join(", ")));
        }
        out
    })
}

/// Lines shaped like Patroni's, journald's and PostgreSQL's, with hostile bytes where the
/// parser slices.
fn log_line() -> impl Strategy<Value = String> {
    let ts = prop_oneof![
        Just("2026-11-26 00:24:45,401".to_string()),
        Just("2026-11-26T00:24:45+0000".to_string()),
        Just("2026-11-26T00:24:45.123456+01:00".to_string()),
        Just("2026-11-26T00:24:45Z".to_string()),
        Just("Nov  6 00:24:45".to_string()),
        Just("2026-11-26 00:24:45".to_string()),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}[,.+-]?[0-9:]{0,6}",
        hostile_string(24),
    ];
    let level = prop::sample::select(vec![
        "INFO:",
        "WARNING:",
        "ERROR:",
        "CRITICAL:",
        "DEBUG:",
        "LOG:",
        "FATAL:",
        "PANIC:",
        "",
        "db1 patroni[812]:",
        "UTC [123] FATAL:",
    ]);
    (
        ts,
        level,
        hostile_string(64),
        prop::sample::select(vec!["", "\n", "\r\n", "\r"]),
    )
        .prop_map(|(ts, level, msg, end)| format!("{ts} {level} {msg}{end}"))
}

// ---- regressions for inputs the fuzzers found (none yet)

// ---- HAProxy's stats CSV (the routing view)

/// A stats CSV with the real header and hostile rows: quoted fields, odd statuses, any
/// character in names and descriptions.
fn haproxy_csv() -> impl Strategy<Value = String> {
    let status = prop::sample::select(vec![
        "UP",
        "DOWN",
        "MAINT",
        "DRAIN",
        "NOLB",
        "no check",
        "UP 1/2",
        "DOWN 1/3",
        "MAINT(via)",
        "",
        "up",
    ]);
    let row = (
        hostile_string(20),
        hostile_string(20),
        status,
        hostile_string(40),
        "[0-9]{0,25}",
    )
        .prop_map(|(px, sv, st, desc, n)| {
            let q = |s: String| format!("\"{}\"", s.replace('"', "\"\""));
            format!("{},{},{st},{n},{},{n}:{n}", q(px), q(sv), q(desc))
        });
    prop::collection::vec(row, 0..20).prop_map(|rows| {
        let mut s = String::from("# pxname,svname,status,scur,check_desc,addr\n");
        for r in rows {
            s.push_str(&r);
            s.push('\n');
        }
        s
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn haproxy_csv_never_panics_and_keeps_only_clean_bounded_fields(
        csv in haproxy_csv(),
        junk in bytes(),
    ) {
        let _ = patrol::haproxy::parse_csv(&junk);
        let s = patrol::haproxy::parse_csv(csv.as_bytes()).expect("has the header");
        for p in &s.proxies {
            prop_assert!(!p.name.chars().any(forbidden), "{:?}", p.name);
            for v in &p.servers {
                for f in [&v.name, &v.check_desc] {
                    prop_assert!(!f.chars().any(forbidden), "{f:?}");
                    prop_assert!(f.chars().count() <= patrol::haproxy::MAX_FIELD);
                }
            }
        }
    }
}
