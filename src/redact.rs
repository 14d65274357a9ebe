//! The one redaction of secrets inside values from etcd or REST (the dynamic config above
//! all). Applied where the config enters the model (`dcs::keys::parse_config`), so no view,
//! event, export, log line or `show-config` downstream ever holds the clear value; nothing
//! in patrol needs it.
//!
//! What goes: the value under a key whose name ends in a secret word ([`is_secret_key`]),
//! and inside any string the `password=` parts of libpq connection strings (plain, libpq-
//! quoted, shell-quoted; also `PGPASSWORD=` in a command), URI userinfo
//! (`postgresql://user:secret@host`) and secret query parameters (`?password=`).
//! Redaction errs towards hiding too much: a value is cut at whitespace, never at a quote
//! or `&` that may be part of the password.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

use serde_json::Value;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Key names ending in one of these (any case) hold a secret.
const SECRET_SUFFIXES: [&str; 4] = ["password", "passwd", "secret", "token"];

/// Does this key (of a config map, a URI query or a `key=value` string) name a secret?
pub fn is_secret_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    SECRET_SUFFIXES.iter().any(|s| k.ends_with(s))
}

/// `v` with every secret replaced by [`MASK`] (see the module documentation).
pub fn value(v: &Value) -> Value {
    redact_value(v, "", &mut None)
}

/// [`value`], and for each leaf it changed (by its path, as `events::flatten` names it:
/// `a.b.c`) a tag of the clear value: a hash keyed with a random key made once per process,
/// so that a change of a hidden value can still be told as a change, while the tag says
/// nothing about the value to anyone who sees it.
pub fn value_with_tags(v: &Value) -> (Value, BTreeMap<String, u64>) {
    let mut tags = Some(BTreeMap::new());
    let out = redact_value(v, "", &mut tags);
    (out, tags.unwrap_or_default())
}

fn tag(v: &Value) -> u64 {
    static KEY: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    let mut h = KEY
        .get_or_init(std::collections::hash_map::RandomState::new)
        .build_hasher();
    h.write(v.to_string().as_bytes());
    h.finish()
}

fn note(tags: &mut Option<BTreeMap<String, u64>>, path: &str, clear: &Value) {
    if let Some(t) = tags.as_mut() {
        t.insert(path.to_string(), tag(clear));
    }
}

fn redact_value(v: &Value, path: &str, tags: &mut Option<BTreeMap<String, u64>>) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let k2 = text(k).into_owned();
                    let p = if path.is_empty() {
                        k2.clone()
                    } else {
                        format!("{path}.{k2}")
                    };
                    if is_secret_key(k) && !v.is_null() {
                        note(tags, &p, v);
                        (k2, Value::String(MASK.into()))
                    } else {
                        (k2, redact_value(v, &p, tags))
                    }
                })
                .collect(),
        ),
        // flatten keeps an array whole under its key: its tag is the array's
        Value::Array(a) => {
            let out: Vec<Value> = a.iter().map(|x| redact_value(x, path, &mut None)).collect();
            let out = Value::Array(out);
            if &out != v {
                note(tags, path, v);
            }
            out
        }
        Value::String(s) => match text(s) {
            Cow::Borrowed(_) => v.clone(),
            Cow::Owned(r) => {
                note(tags, path, v);
                Value::String(r)
            }
        },
        other => other.clone(),
    }
}

/// `s` with URI userinfo, secret query parameters and `password=` values replaced by
/// [`MASK`]. Borrowed when there is nothing to hide.
pub fn text(s: &str) -> Cow<'_, str> {
    let a = userinfo(s);
    match key_values(&a) {
        Cow::Borrowed(_) => a,
        Cow::Owned(o) => Cow::Owned(o),
    }
}

fn ends_span(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\'' | '"')
}

/// `scheme://user:secret@host` → `scheme://***@host`: everything between `://` and the last
/// `@` before the next whitespace or quote (a password may hold `/`, `?`, `#` or `:` when
/// its writer did not percent-encode it). The user goes too, as in `text::redact_url`: in
/// `https://TOKEN@host` the user is the secret.
fn userinfo(s: &str) -> Cow<'_, str> {
    if !s.contains("://") || !s.contains('@') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let span_end = tail.find(ends_span).unwrap_or(tail.len());
        let span = &tail[..span_end];
        // a second URI inside the span starts its own
        let span = match span.find("://") {
            Some(j) => &span[..j],
            None => span,
        };
        match span.rfind('@') {
            Some(at) if at > 0 => {
                out.push_str(MASK);
                rest = &tail[at..];
            }
            _ => rest = tail,
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `password=secret`, `password = 'se cret'` (libpq quoting, `\'` inside), `PGPASSWORD="x"`,
/// `?password=x&`, `"password": "x"`: the value becomes [`MASK`] (inside its quotes, if
/// quoted). An unquoted value runs to whitespace (a `\` escapes the next character, as libpq
/// reads it); in a URI query (after `?` or `&`) also to `&` or `#`.
fn key_values(s: &str) -> Cow<'_, str> {
    let lower = s.to_ascii_lowercase();
    if !SECRET_SUFFIXES.iter().any(|w| lower.contains(w)) {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut i = 0;
    let mut changed = false;
    while i < b.len() {
        // the start of a word
        let starts = is_word(b[i] as char) && (i == 0 || !is_word(b[i - 1] as char));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && is_word(b[j] as char) {
            j += 1;
        }
        let key = &s[i..j];
        if !is_secret_key(key) {
            i = j;
            continue;
        }
        let in_query = i > 0 && matches!(b[i - 1], b'?' | b'&');
        // a key written as a JSON or YAML string: `"password": ...`
        let mut k = j;
        if k < b.len() && matches!(b[k], b'"' | b'\'') && i > 0 && b[i - 1] == b[k] {
            k += 1;
        }
        while k < b.len() && b[k] == b' ' {
            k += 1;
        }
        if k >= b.len() || !matches!(b[k], b'=' | b':') {
            i = j;
            continue;
        }
        k += 1;
        while k < b.len() && b[k] == b' ' {
            k += 1;
        }
        let (start, end, after) = match b.get(k) {
            Some(&q @ (b'\'' | b'"')) => {
                // quoted: to the closing quote not escaped by `\` (or to the end)
                let mut e = k + 1;
                while e < b.len() && b[e] != q {
                    e += if b[e] == b'\\' { 2 } else { 1 };
                }
                let e = e.min(b.len());
                (k + 1, e, e)
            }
            _ => {
                let mut e = k;
                while e < b.len() {
                    let c = b[e];
                    if c.is_ascii_whitespace() || (in_query && matches!(c, b'&' | b'#')) {
                        break;
                    }
                    e += if c == b'\\' { 2 } else { 1 };
                }
                let e = e.min(b.len());
                (k, e, e)
            }
        };
        // no value, nothing to hide (`password=` alone, `password: '...'` already masked)
        if start < end && &s[start..end] != MASK {
            out.push_str(&s[copied..start]);
            out.push_str(MASK);
            copied = end;
            changed = true;
        }
        i = after.max(j);
    }
    if !changed {
        return Cow::Borrowed(s);
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_key_names_in_any_case() {
        for k in [
            "password",
            "PASSWORD",
            "sslpassword",
            "superuser_password",
            "PGPASSWORD",
            "passwd",
            "client_secret",
            "token",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["username", "pgpass", "password_encryption_x", "host", "ttl"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn libpq_keyword_values_plain_and_quoted() {
        let cases = [
            (
                "host=h password=secret port=5432",
                "host=h password=*** port=5432",
            ),
            ("host=h password = secret", "host=h password = ***"),
            (
                r"host=h password='se cret \' x' user=u",
                r"host=h password='***' user=u",
            ),
            (r"password=se\ cret user=u", "password=*** user=u"),
            ("PASSWORD=secret", "PASSWORD=***"),
            ("sslpassword=secret", "sslpassword=***"),
            // a quote inside an unquoted value is part of it: hidden with it
            ("password=se'cret host=h", "password=*** host=h"),
            // a shell command around a conninfo
            (
                "PGPASSWORD=\"se cret\" pg_basebackup -d 'host=h password=s2'",
                "PGPASSWORD=\"***\" pg_basebackup -d 'host=h password=***",
            ),
            // unterminated quote: to the end
            ("password='secret", "password='***"),
            ("password=", "password="),
        ];
        for (input, want) in cases {
            assert_eq!(text(input), want, "{input}");
        }
    }

    #[test]
    fn uris_userinfo_and_query() {
        let cases = [
            (
                "postgresql://user:secret@host:5432/db",
                "postgresql://***@host:5432/db",
            ),
            ("postgresql://user@host/db", "postgresql://***@host/db"),
            // an unencoded '/' or '@' in the password
            ("postgres://u:se/cr@et@host/db", "postgres://***@host/db"),
            (
                "postgresql://host/db?sslmode=require&password=secret&user=u",
                "postgresql://host/db?sslmode=require&password=***&user=u",
            ),
            (
                "postgresql://h/db?password=secret#frag",
                "postgresql://h/db?password=***#frag",
            ),
            (
                "pg_basebackup -d postgresql://rep:secret@h1,h2/db -X stream",
                "pg_basebackup -d postgresql://***@h1,h2/db -X stream",
            ),
            (
                "a http://u:one@h1/x and https://t:two@h2",
                "a http://***@h1/x and https://***@h2",
            ),
            ("http://h/x?token=abc", "http://h/x?token=***"),
            // nothing to hide: the same text, borrowed
            ("postgresql://host:5432/db", "postgresql://host:5432/db"),
        ];
        for (input, want) in cases {
            assert_eq!(text(input), want, "{input}");
        }
        assert!(matches!(text("host=h port=1"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_and_yaml_inside_a_string() {
        assert_eq!(
            text(r#"{"user": "u", "password": "secret"}"#),
            r#"{"user": "u", "password": "***"}"#
        );
        assert_eq!(text("password: secret\nx: 1"), "password: ***\nx: 1");
    }

    #[test]
    fn nested_json_and_arrays() {
        let v = json!({
            "ttl": 30,
            "postgresql": {
                "authentication": {"replication": {"username": "rep", "password": "s1"},
                                   "superuser": {"Password": {"nested": "s2"}}},
                "parameters": {"max_connections": 100},
                "recovery_conf": {"restore_command": "cp x %p # password=s3"},
                "pg_hba": ["host all all 0.0.0.0/0 md5", "x postgresql://u:s4@h/db"],
            },
            "standby_cluster": {"primary_conninfo": "host=h password='s 5'"},
            "nothing": {"password": null},
            "list": [{"token": "s6"}],
        });
        let (r, tags) = value_with_tags(&v);
        let s = r.to_string();
        for secret in ["s1", "s2", "s3", "s4", "s 5", "s6"] {
            assert!(!s.contains(&format!("\"{secret}")), "{secret} in {s}");
            assert!(!s.contains(&format!("={secret}")), "{secret} in {s}");
        }
        assert!(!s.contains("u:s4"), "{s}");
        assert_eq!(r["ttl"], 30);
        assert_eq!(r["postgresql"]["parameters"]["max_connections"], 100);
        assert_eq!(
            r["postgresql"]["authentication"]["replication"]["username"],
            "rep"
        );
        assert_eq!(
            r["postgresql"]["authentication"]["replication"]["password"],
            MASK
        );
        assert_eq!(
            r["postgresql"]["authentication"]["superuser"]["Password"],
            MASK
        );
        assert_eq!(
            r["postgresql"]["recovery_conf"]["restore_command"],
            "cp x %p # password=***"
        );
        assert_eq!(
            r["postgresql"]["pg_hba"],
            json!(["host all all 0.0.0.0/0 md5", "x postgresql://***@h/db"])
        );
        assert_eq!(r["nothing"]["password"], Value::Null, "null stays null");
        assert_eq!(r, value(&v));
        let paths: Vec<&str> = tags.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "list",
                "postgresql.authentication.replication.password",
                "postgresql.authentication.superuser.Password",
                "postgresql.pg_hba",
                "postgresql.recovery_conf.restore_command",
                "standby_cluster.primary_conninfo",
            ]
        );
    }

    #[test]
    fn a_changed_secret_changes_its_tag_only() {
        let a = json!({"x": {"password": "one"}, "c": "host=h password=p1"});
        let b = json!({"x": {"password": "two"}, "c": "host=h password=p1"});
        let (ra, ta) = value_with_tags(&a);
        let (rb, tb) = value_with_tags(&b);
        assert_eq!(ra, rb, "the redacted documents are the same");
        assert_ne!(ta["x.password"], tb["x.password"]);
        assert_eq!(ta["c"], tb["c"]);
        let (_, ta2) = value_with_tags(&a);
        assert_eq!(ta, ta2, "the same value, the same tag");
    }
}
