//! patroni.yml / patronictl.yaml as `-c` reads it; the first line also as a `-d` DCS URL
//! (alone and overriding the file).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use patrol::config::{self, ConfigSource};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Some(Path::new("/etc/patroni/patroni.yml"));
    if let Ok(s) = config::from_str(text, path, &ConfigSource::default()) {
        // no etcd section is REST-only mode (members from `restapi`), never an empty DCS
        assert!(s.rest_only || !s.dcs.endpoints.is_empty());
        assert!(s.namespace.starts_with('/') && s.namespace.ends_with('/'));
        let _ = s.cluster_prefix();
    }
    let first = text.lines().next().unwrap_or("");
    let _ = config::parse_dcs_url(first);
    let src = ConfigSource {
        dcs_url: Some(first.to_string()),
        scope: Some("demo".into()),
        ..ConfigSource::default()
    };
    let _ = config::from_str(text, path, &src);
});
