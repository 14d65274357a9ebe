//! An etcd put as the watch delivers it: the first line names the key (below the cluster
//! prefix), the rest is its value, bytes as they are. Parsed and applied as the app does.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use patrol::app::ClusterState;
use patrol::dcs::keys::{self, KeyValue};
use patrol::logs::{SafeHost, SafeMember};

/// What may reach a `--logs` template: ASCII letters, digits and a few marks, no leading `-`.
fn plain(s: &str, extra: &[u8]) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let (key, value) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"members/pg1"[..], data),
    };
    let key = String::from_utf8_lossy(key);
    let parsed = keys::parse(&key, value);
    if let Ok(KeyValue::Member(name, m)) = &parsed {
        let _ = m.host_port();
        if let Ok(w) = SafeMember::parse(name) {
            assert!(plain(w.as_str(), b"._-") && w.as_str() != "." && w.as_str() != "..");
        }
        if let Some(Ok(h)) = m.conn_url.as_deref().map(SafeHost::from_conn_url) {
            assert!(plain(h.as_str(), b".-:"), "{h}");
        }
        // a write or a poll goes to scheme://host[:port] of api_url and nothing else of it
        if let Some(Ok(b)) = m.api_url.as_deref().map(patrol::write::ApiBase::parse) {
            let (scheme, rest) = b.base.split_once("://").expect("a scheme");
            assert!(scheme == "http" || scheme == "https", "{b:?}");
            assert!(!rest.contains(['/', '?', '#', '@']), "{b:?}");
            assert!(!rest.chars().any(|c| c.is_control() || c.is_whitespace()), "{b:?}");
        }
        // URLs from member keys are shown redacted and sanitised
        for url in [&m.conn_url, &m.api_url].into_iter().flatten() {
            let shown = patrol::text::redact_url(url);
            assert!(!shown.chars().any(char::is_control), "{shown:?}");
        }
        let _ = m.tag_bool("nofailover");
        for lsn in [m.xlog_location, m.receive_lsn, m.replay_lsn].into_iter().flatten() {
            let _ = keys::format_lsn(lsn);
        }
    }
    // any value's text and JSON through the redaction that guards every output
    if let Ok(text) = std::str::from_utf8(value) {
        let _ = patrol::redact::text(text);
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(value) {
        let _ = patrol::redact::value_with_tags(&v);
    }
    let mut state = ClusterState::default();
    state.put(&key, value, 1, Instant::now());
    assert_eq!(state.warnings.contains_key(&*key), parsed.is_err());
    state.delete(&key, Instant::now());
    let _ = patrol::dcs::split_key("/service/", &key);
});
