//! `patrol list` output in patronictl 4.1's shapes: the same columns, JSON keys and values.

use serde_json::{Map, Value, json};

use crate::app::App;
use crate::app::members::MemberRow;
use crate::cli::Format;
use crate::dcs::keys::format_lsn;

/// Python's `round()`: half to even, as patronictl rounds lag to MB.
fn round_half_even(x: f64) -> i64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && (r as i64) % 2 != 0 {
        (r - x.signum()) as i64
    } else {
        r as i64
    }
}

fn lag_mb(b: Option<u64>) -> Value {
    match b {
        Some(b) => json!(round_half_even(b as f64 / 1024.0 / 1024.0)),
        None => Value::String(String::new()),
    }
}

/// The columns patronictl prints, in its order.
fn columns(rows: &[MemberRow], extended: bool) -> Vec<&'static str> {
    let mut c = vec![
        "Cluster",
        "Member",
        "Host",
        "Role",
        "State",
        "TL",
        "Receive LSN",
        "Receive Lag",
        "Replay LSN",
        "Replay Lag",
    ];
    if extended || rows.iter().any(|r| r.pending_restart) {
        c.push("Pending restart");
    }
    if extended || rows.iter().any(|r| !r.pending_restart_reason.is_empty()) {
        c.push("Pending restart reason");
    }
    if extended || rows.iter().any(|r| r.scheduled_restart.is_some()) {
        c.push("Scheduled restart");
    }
    if extended || rows.iter().any(|r| !r.tags.is_empty()) {
        c.push("Tags");
    }
    c
}

/// Rows as (column, value) maps, values typed as patronictl types them.
pub fn records(app: &App, extended: bool) -> (Vec<&'static str>, Vec<Map<String, Value>>) {
    let rows: Vec<MemberRow> = app
        .rows()
        .into_iter()
        .filter(|r| r.gone.is_none())
        .collect();
    let cols = columns(&rows, extended);
    // host:port when anyone runs on a non-standard port or two members share a host
    let mut hosts: Vec<&str> = rows.iter().map(|r| r.host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let append_port =
        rows.iter().any(|r| r.port.is_some_and(|p| p != 5432)) || hosts.len() < rows.len();
    // patronictl sorts by name
    let mut sorted: Vec<&MemberRow> = rows.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let out = sorted
        .into_iter()
        .map(|r| {
            let mut m = Map::new();
            for c in &cols {
                let v = match *c {
                    "Cluster" => json!(app.model.scope),
                    "Member" => json!(r.name),
                    "Host" => match r.port {
                        Some(p) if append_port && !r.host.is_empty() => {
                            json!(format!("{}:{p}", r.host))
                        }
                        _ => json!(r.host),
                    },
                    "Role" => json!(r.role.label()),
                    "State" => json!(r.state),
                    "TL" => r.timeline.map(|t| json!(t)).unwrap_or(json!("")),
                    "Receive LSN" => json!(r.receive_lsn.map(format_lsn).unwrap_or_default()),
                    "Receive Lag" => lag_mb(r.receive_lag),
                    "Replay LSN" => json!(r.replay_lsn.map(format_lsn).unwrap_or_default()),
                    "Replay Lag" => lag_mb(r.replay_lag),
                    "Pending restart" => json!(if r.pending_restart { "*" } else { "" }),
                    // one line per parameter (the tables shorten long ones: `hide_long`)
                    "Pending restart reason" => json!(r.pending_restart_reason.join("\n")),
                    "Scheduled restart" => json!(r.scheduled_restart.clone().unwrap_or_default()),
                    "Tags" if r.tags.is_empty() => json!(""),
                    "Tags" => json!(r.tags),
                    _ => json!(""),
                };
                m.insert((*c).to_string(), v);
            }
            m
        })
        .collect();
    (cols, out)
}

/// Every format is safe to print on a terminal (see `text::is_unsafe`): JSON escapes every
/// non-ASCII character as Python does (`ensure_ascii`), TSV cleans each cell (a tab or
/// newline inside a value cannot shift a column or forge a row), YAML and the table clean
/// each line. Each is patronictl's format: the bytes are compared on a real cluster.
pub fn render(app: &App, format: Format, extended: bool) -> String {
    let (cols, recs) = records(app, extended);
    match format {
        Format::Json | Format::Yaml => {
            // like patronictl: machine formats leave out empty values
            let arr: Vec<Value> = recs
                .into_iter()
                .map(|m| Value::Object(m.into_iter().filter(|(_, v)| v != &json!("")).collect()))
                .collect();
            if format == Format::Json {
                crate::readcmds::py_json(&Value::Array(arr))
            } else {
                // PyYAML's `safe_dump` (sorted keys); its closing newline is patronictl's too
                crate::readcmds::clean_lines(
                    crate::pyyaml::dump(&Value::Array(arr), false).trim_end_matches('\n'),
                ) + "\n"
            }
        }
        Format::Tsv => {
            let mut out = vec![cols.join("\t")];
            for r in &recs {
                out.push(
                    cols.iter()
                        .map(|c| match (*c, &r[*c]) {
                            // one row per member: several reasons on one line (patronictl
                            // writes its newline raw, and the next reason reads as a row)
                            ("Pending restart reason", Value::String(s)) => {
                                crate::readcmds::tsv_cell(&json!(s.replace('\n', ", ")))
                            }
                            (_, v) => crate::readcmds::tsv_cell(v),
                        })
                        .collect::<Vec<_>>()
                        .join("\t"),
                );
            }
            out.join("\n")
        }
        Format::Pretty => crate::readcmds::list_pretty(app, &cols, &recs),
    }
}

/// JSON spaced like Python's `json.dumps` (`", "` and `": "`), so `patrol list -f json`
/// and `patronictl list -f json` can be compared byte for byte.
pub(crate) fn python_json(v: &Value) -> String {
    struct PySpacing;
    impl serde_json::ser::Formatter for PySpacing {
        fn begin_array_value<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first { Ok(()) } else { w.write_all(b", ") }
        }
        fn begin_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first { Ok(()) } else { w.write_all(b", ") }
        }
        fn begin_object_value<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
        ) -> std::io::Result<()> {
            w.write_all(b": ")
        }
    }
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PySpacing);
    match serde::Serialize::serialize(v, &mut ser) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => "[]".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_spaced_like_python() {
        let v = json!([{"a": 1, "b": [1, 2], "c": {"d": "x"}}]);
        assert_eq!(
            python_json(&v),
            r#"[{"a": 1, "b": [1, 2], "c": {"d": "x"}}]"#
        );
    }

    #[test]
    fn python_rounding() {
        assert_eq!(round_half_even(0.5), 0);
        assert_eq!(round_half_even(1.5), 2);
        assert_eq!(round_half_even(2.5), 2);
        assert_eq!(round_half_even(2.6), 3);
        assert_eq!(round_half_even(0.0), 0);
    }
}
