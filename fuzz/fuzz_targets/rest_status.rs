//! A member's `GET /patroni` answer, bytes as they came over HTTP.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patrol::patroni::PatroniStatus;

fuzz_target!(|data: &[u8]| {
    let _ = PatroniStatus::parse(data);
});
