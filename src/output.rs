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

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}: {}", text(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Every format is safe to print on a terminal (see `text::is_unsafe`): JSON escapes the
/// unsafe characters (the same value to any reader), TSV cleans each cell (a tab or newline
/// inside a value cannot shift a column or forge a row), YAML and the table clean each line.
pub fn render(app: &App, format: Format, extended: bool) -> String {
    let (cols, recs) = records(app, extended);
    let lines = |s: String| {
        s.lines()
            .map(crate::text::clean)
            .collect::<Vec<_>>()
            .join("\n")
    };
    match format {
        Format::Json | Format::Yaml => {
            // like patronictl: machine formats leave out empty values
            let arr: Vec<Value> = recs
                .into_iter()
                .map(|m| Value::Object(m.into_iter().filter(|(_, v)| v != &json!("")).collect()))
                .collect();
            if format == Format::Json {
                crate::text::json_escape_unsafe(&python_json(&Value::Array(arr))).into_owned()
            } else {
                // saphyr escapes controls itself (`\e`, `\x9B`) but writes bidi controls raw
                lines(
                    serde_saphyr::to_string(&arr)
                        .unwrap_or_default()
                        .trim_end()
                        .to_string(),
                )
            }
        }
        Format::Tsv => {
            let mut out = vec![cols.join("\t")];
            for r in &recs {
                out.push(
                    cols.iter()
                        .map(|c| crate::text::sanitize(&text(&r[*c])))
                        .collect::<Vec<_>>()
                        .join("\t"),
                );
            }
            out.join("\n")
        }
        Format::Pretty => lines(pretty(app, &cols, &recs)),
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

fn pretty(app: &App, cols: &[&str], recs: &[Map<String, Value>]) -> String {
    // patronictl prints the cluster once in the title and shows both lags as "Lag"
    let cols: Vec<&str> = cols.iter().skip(1).copied().collect();
    let head: Vec<&str> = cols
        .iter()
        .map(|c| if c.ends_with(" Lag") { "Lag" } else { c })
        .collect();
    let cells: Vec<Vec<String>> = recs
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| crate::text::sanitize(&text(&r[*c])))
                .collect()
        })
        .collect();
    let w: Vec<usize> = (0..cols.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([head[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let right = |c: &str| {
        matches!(
            c,
            "TL" | "Receive LSN" | "Replay LSN" | "Receive Lag" | "Replay Lag"
        )
    };
    let rule = format!(
        "+{}+",
        w.iter()
            .map(|n| "-".repeat(n + 2))
            .collect::<Vec<_>>()
            .join("+")
    );
    let line = |vals: &[String]| {
        let parts: Vec<String> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| {
                // padded by hand: `{:width$}` panics on a width over u16::MAX, and a member
                // name from etcd can be that long
                let pad = " ".repeat(w[i].saturating_sub(v.chars().count()));
                if right(cols[i]) {
                    format!(" {pad}{v} ")
                } else {
                    format!(" {v}{pad} ")
                }
            })
            .collect();
        format!("|{}|", parts.join("|"))
    };
    let sysid = app
        .cluster()
        .and_then(|c| c.initialize.clone())
        .unwrap_or_else(|| "uninitialized".into());
    let title = format!(
        " Cluster: {} ({}) ",
        crate::text::sanitize(&app.model.scope),
        crate::text::sanitize(&sysid)
    );
    let mut top = rule.clone();
    if top.len() > title.len() + 2 {
        top.replace_range(1..1 + title.len(), &title);
    }
    let mut out = vec![
        top,
        line(&head.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        rule.clone(),
    ];
    for r in &cells {
        out.push(line(r));
    }
    out.push(rule);
    if let Some(c) = app.cluster() {
        if c.is_paused() {
            out.push(" Maintenance mode: on".into());
        }
        if let Some(at) = c.failover.as_ref().and_then(|f| f.scheduled_at.as_ref()) {
            out.push(format!(
                " Switchover scheduled at: {}",
                crate::text::sanitize(at)
            ));
        }
    }
    out.join("\n")
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
