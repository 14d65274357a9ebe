use super::*;

/// Every case of `golden.json` (written by `scripts/pyyaml-golden` from PyYAML itself, as
/// patronictl calls it) comes out byte for byte the same.
#[test]
fn same_bytes_as_pyyaml_for_every_golden_case() {
    let rows: Vec<Value> =
        serde_json::from_str(include_str!("golden.json")).expect("golden.json is JSON");
    assert!(rows.len() > 1000, "golden cases: {}", rows.len());
    let mut failed = Vec::new();
    for r in &rows {
        let flow = r["flow"].as_bool().unwrap_or(false);
        let want = r["output"].as_str().unwrap_or_default();
        let got = dump(&r["input"], flow);
        if got != want {
            failed.push(format!(
                "input {} flow={flow}\n want {want:?}\n  got {got:?}",
                r["input"]
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} differ:\n{}",
        failed.len(),
        rows.len(),
        failed[..failed.len().min(15)].join("\n")
    );
}

#[test]
fn python_float_repr() {
    for (f, s) in [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (0.5, "0.5"),
        (1e15, "1000000000000000.0"),
        (1e16, "1.0e+16"),
        (1.5e16, "1.5e+16"),
        (1e-4, "0.0001"),
        (1e-5, "1.0e-05"),
        (1.5e-7, "1.5e-07"),
        (0.1, "0.1"),
        (1e300, "1.0e+300"),
    ] {
        assert_eq!(py_float(f), s, "{f}");
    }
}

#[test]
fn strings_that_read_back_as_something_else_are_quoted() {
    for s in [
        "on",
        "Off",
        "yes",
        "1",
        "0x1F",
        "1.5",
        ".inf",
        "~",
        "",
        "2026-01-01",
        "<<",
    ] {
        assert!(resolves_to_non_str(s), "{s:?}");
    }
    for s in ["pg1", "y", "08", "1e5", "replica", "0.0.0.0/0"] {
        assert!(!resolves_to_non_str(s), "{s:?}");
    }
    assert_eq!(
        dump(&serde_json::json!({"hot_standby": "on", "b": true}), false),
        "b: true\nhot_standby: 'on'\n"
    );
}
