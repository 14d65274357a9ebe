//! The time a person types for a scheduled operation (`+15m`, `16:30`, ISO 8601), each line
//! resolved at a fixed now in a few zones: what resolves is in the future, at most 30 days
//! ahead, and its ISO form (what Patroni receives) reads back as the same instant; what does
//! not says why without a character that could reach the terminal raw.
#![no_main]

use jiff::Timestamp;
use jiff::tz::{TimeZone, offset};
use libfuzzer_sys::fuzz_target;
use patrol::app::schedule::{MAX_AHEAD_DAYS, countdown, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(now) = "2026-12-07T15:18:00Z".parse::<Timestamp>() else {
        return;
    };
    for line in text.lines().take(16) {
        for tz in [TimeZone::UTC, TimeZone::fixed(offset(1)), TimeZone::fixed(offset(-9))] {
            match parse(line, Some(now), &tz) {
                Ok(Some(w)) => {
                    assert!(w.at > now, "{line:?}");
                    assert!(w.at.as_second() - now.as_second() <= MAX_AHEAD_DAYS * 86_400);
                    let again = parse(&w.iso(), Some(now), &tz);
                    assert_eq!(again, Ok(Some(w)), "{line:?} -> {}", w.iso());
                    let _ = countdown(now, w.at);
                }
                Ok(None) => {}
                Err(e) => assert!(!e.chars().any(patrol::text::is_unsafe), "{e:?}"),
            }
            // without a wall clock (a value from etcd): never a panic
            let _ = parse(line, None, &tz);
        }
    }
});
