//! HAProxy's stats CSV (`URL;csv` or `show stat`), bytes as they came: the parser never
//! panics, and what it keeps is bounded and sanitized whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patrol::haproxy::{MAX_FIELD, MAX_ROWS, parse_csv};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = parse_csv(data) {
        let servers: usize = s.proxies.iter().map(|p| p.servers.len()).sum();
        assert!(servers <= MAX_ROWS);
        for p in &s.proxies {
            for v in &p.servers {
                for f in [&v.name, &v.check_desc, &v.last_chk, &v.check_status] {
                    assert!(f.chars().count() <= MAX_FIELD, "{f:?}");
                    assert!(!f.chars().any(|c| c.is_control()), "{f:?}");
                }
            }
        }
    }
});
