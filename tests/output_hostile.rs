//! `patrol list` in every format is safe to print on a terminal, whatever etcd holds.

use std::time::Instant;

use patrol as patrol_crate;
use patrol::app::App;
use patrol::cli::Format;
use patrol::output::render;
use serde_json::Value;

mod sample;
use sample::*;

const EVIL: &str =
    "ev\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202E}\u{200F}\u{2066}\u{61C}\u{2028}\u{7f}\til\nx";

fn app_with_evil() -> App {
    let e = serde_json::to_string(EVIL).expect("json");
    let member = String::from_utf8_lossy(&pg3_replica()).replace(
        "\"state\":\"running\"",
        &format!("\"state\":{e},\"tags\":{{\"t\":{e}}}"),
    );
    let mut kvs = healthy_kvs();
    kvs.push(kv(&format!("members/{EVIL}"), member.as_bytes()));
    app(kvs, Instant::now())
}

#[test]
fn every_format_is_safe_on_a_terminal() {
    let a = app_with_evil();
    assert!(
        a.rows().iter().any(|r| r.name == EVIL),
        "the hostile member is there"
    );
    for f in [Format::Pretty, Format::Tsv, Format::Yaml, Format::Json] {
        let out = render(&a, f, true);
        let bad: Vec<char> = out
            .chars()
            .filter(|c| {
                patrol::text::is_unsafe(*c) && *c != '\n' && (*c != '\t' || f != Format::Tsv)
            })
            .collect();
        assert!(bad.is_empty(), "{f:?}: {bad:?} in {out}");
    }
    // TSV: the value's tab and newline cannot add a column or a row
    let tsv = render(&a, Format::Tsv, true);
    let width = tsv.lines().next().map(|l| l.split('\t').count());
    assert_eq!(tsv.lines().count(), 1 + a.rows().len(), "{tsv}");
    assert!(
        tsv.lines().all(|l| Some(l.split('\t').count()) == width),
        "{tsv}"
    );
    // JSON keeps the exact value
    let json: Value = serde_json::from_str(&render(&a, Format::Json, true)).expect("json");
    assert!(
        json.as_array()
            .is_some_and(|a| a.iter().any(|m| m["Member"] == EVIL)),
        "{json}"
    );
}
