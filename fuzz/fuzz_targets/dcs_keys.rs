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
    let mut state = ClusterState::default();
    state.put(&key, value, 1, Instant::now());
    assert_eq!(state.warnings.contains_key(&*key), parsed.is_err());
    state.delete(&key, Instant::now());
    let _ = patrol::dcs::split_key("/service/", &key);
});
