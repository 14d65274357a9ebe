//! Log lines as a follower reads them (decoded lossily, one per line), and the first line
//! as a `--logs` spec resolved with the next two as member and host (when they pass the
//! template-word grammar); and the first line as the log view's filter over the others: the
//! ranges it highlights are sliced out of the drawn text, so they must fall on character
//! boundaries, in order and without overlap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patrol::logs::{LogSourceSpec, SafeHost, SafeMember, parse_line};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for raw in text.split_inclusive('\n') {
        let l = parse_line("pg1", raw);
        // the text is drawn as is: the sanitiser must have removed every control character
        assert!(!l.text.chars().any(char::is_control), "{:?}", l.text);
        if let Some(ts) = &l.ts {
            assert!(raw.contains(ts.as_str()));
            // the timestamp is drawn too, and is not passed through the sanitiser
            assert!(!ts.chars().any(char::is_control), "{ts:?}");
        }
    }
    let mut lines = text.lines();
    let q = patrol::logs::filter::parse(lines.next().unwrap_or(""));
    let _ = q.describe();
    for raw in lines.clone() {
        let l = parse_line("pg1", raw);
        if let Some(ranges) = q.matches(&l) {
            let mut end = 0;
            for (a, b) in ranges {
                assert!(a >= end && a < b && b <= l.text.len(), "{a}..{b} in {:?}", l.text);
                assert!(l.text.is_char_boundary(a) && l.text.is_char_boundary(b));
                end = b;
            }
        }
    }
    let mut lines = text.lines();
    let spec = lines.next().unwrap_or("");
    let member = lines.next().unwrap_or("");
    let host = lines.next().unwrap_or("");
    if let (Ok(s), Ok(m)) = (LogSourceSpec::parse(spec), SafeMember::parse(member)) {
        let h = SafeHost::parse(host).ok();
        if let Ok(r) = s.resolve(&m, h.as_ref()) {
            let _ = r.spec().to_string();
        }
    }
});
