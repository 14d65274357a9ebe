//! Text from etcd, REST and logs is untrusted: it must not be able to move the cursor, change
//! colours, set the window title or the clipboard, ring the bell, or make text read in another
//! order than it is stored. This module is the one place that decides what is unsafe; every
//! edge where outside text reaches a terminal or a file someone will `cat` goes through it:
//! the TUI's backend ([`CleanBackend`] in `runtime::terminal`), `patrol list` in every format,
//! the exported event file and patrol's own log file.

use std::borrow::Cow;

/// A character that must not reach a terminal as it is:
/// - C0 controls, DEL and C1 controls (ESC starts CSI/OSC sequences; U+009B *is* CSI for
///   terminals that honour 8-bit controls);
/// - bidi controls (U+061C, U+200E/F, U+202A-202E, U+2066-2069): they make `pg1` read as
///   something else, or hide what follows;
/// - U+2028/2029 line and paragraph separators (a new line where the reader expects none);
/// - invisible format characters that hide or smuggle text: zero width space U+200B, word
///   joiner and invisible operators U+2060-2064, U+FEFF, U+180E, the interlinear annotation
///   controls U+FFF9-FFFB and the tag characters U+E0000-E007F.
///
/// Zero width joiner and non-joiner (U+200C/D) are kept: they are part of emoji sequences and
/// of ordinary Persian and Indic writing, and they cannot reorder or hide text.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// Replace every unsafe character (see [`is_unsafe`]) with `?`, tabs with a space; ordinary
/// text of any script is kept. Borrowed when there is nothing to replace.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\t' => ' ',
                c if is_unsafe(c) => '?',
                c => c,
            })
            .collect(),
    )
}

/// [`clean`], owned.
pub fn sanitize(s: &str) -> String {
    clean(s).into_owned()
}

/// Drop the unsafe characters without a trace: for text already laid out in cells, where a
/// `?` would change the width (ratatui appends zero-width characters to the previous cell).
pub fn strip(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().filter(|c| !is_unsafe(*c)).collect())
}

/// Escape the unsafe characters of serialized JSON as `\uXXXX`. serde_json escapes C0 itself
/// but writes DEL, C1 and bidi controls raw; outside strings JSON is ASCII, so every unsafe
/// character is inside a string, where the escape is the same value to any JSON reader.
pub fn json_escape_unsafe(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_unsafe) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A URL for display: the userinfo (user and password) replaced by `***`, the values of
/// query keys naming a secret (`password=`, `sslpassword=`, `token=`: `redact::is_secret_key`)
/// replaced by `***`, then sanitized. The user name goes too: in
/// `https://TOKEN@host` the "user" is the secret, and Patroni's own URLs carry none.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let (authority, tail) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_string(),
    };
    // a password can also sit in the query string
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let q: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if crate::redact::is_secret_key(k) => {
                        format!("{k}=***")
                    }
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", q.join("&"))
        }
        None => tail.to_string(),
    };
    let shown = match scheme {
        Some(s) => format!("{s}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    };
    sanitize(&shown)
}

/// An `io::Write` that sanitizes every write (patrol's own log file: one formatted event per
/// write, so a newline inside a field cannot forge a second log line).
pub struct CleanWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for CleanWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let s = String::from_utf8_lossy(buf);
        // keep the line ending of the event itself
        let (body, nl) = match s.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (&*s, ""),
        };
        self.0.write_all(clean(body).as_bytes())?;
        self.0.write_all(nl.as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// An error and its causes on one line: reqwest says only "builder error" and tonic only
/// "transport error" by themselves. A cause already in the text is not repeated.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !msg.contains(&t) {
            msg.push_str(": ");
            msg.push_str(&t);
        }
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(sanitize("pg1\x1b[31mred\x07"), "pg1?[31mred?");
        assert_eq!(sanitize("a\tb\nc\u{9b}d\u{7f}"), "a b?c?d?");
        assert_eq!(sanitize("节点一"), "节点一");
    }

    #[test]
    fn bidi_separators_and_invisible_characters_are_replaced() {
        for c in [
            '\u{061C}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{2028}',
            '\u{2029}',
            '\u{200B}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{E0041}',
        ] {
            assert_eq!(sanitize(&format!("x{c}y")), "x?y", "U+{:04X}", c as u32);
        }
        // emoji ZWJ sequences and ZWNJ in Persian stay as they are
        assert_eq!(sanitize("👩\u{200D}💻"), "👩\u{200D}💻");
        assert_eq!(sanitize("می\u{200C}خواهم"), "می\u{200C}خواهم");
    }

    #[test]
    fn strip_drops_and_clean_borrows() {
        assert_eq!(strip("a\u{202E}b\u{1b}"), "ab");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_escapes_are_the_same_value() {
        let v = serde_json::json!({"n": "a\u{1b}]0;x\u{7}\u{9b}\u{202E}\u{7f}\u{E0041}b"});
        let s = serde_json::to_string(&v).expect("json");
        let e = json_escape_unsafe(&s);
        assert!(!e.chars().any(is_unsafe), "{e}");
        let back: serde_json::Value = serde_json::from_str(&e).expect("still json");
        assert_eq!(back, v);
    }

    #[test]
    fn credentials_are_removed_from_urls() {
        assert_eq!(
            redact_url("postgres://replicator:s3cret@10.0.0.1:5432/postgres"),
            "postgres://***@10.0.0.1:5432/postgres"
        );
        assert_eq!(
            redact_url("http://token@127.0.0.1:2379"),
            "http://***@127.0.0.1:2379"
        );
        assert_eq!(
            redact_url(
                "postgres://10.0.0.1:5432/postgres?password=x&sslmode=require&SSLPASSWORD=y"
            ),
            "postgres://10.0.0.1:5432/postgres?password=***&sslmode=require&SSLPASSWORD=***"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:8008/patroni"),
            "http://127.0.0.1:8008/patroni"
        );
        assert_eq!(redact_url("u:p@h:1\x1b"), "***@h:1?");
        // an api_url with a token in its query
        assert_eq!(
            redact_url("http://127.0.0.1:8008/patroni?token=abc&x=1#f"),
            "http://127.0.0.1:8008/patroni?token=***&x=1#f"
        );
    }

    #[test]
    fn the_log_writer_keeps_one_event_on_one_line() {
        use std::io::Write;
        let mut w = CleanWriter(Vec::new());
        w.write_all(b"INFO reply body=\"a\nFORGED \x1b[2J\"\n")
            .expect("write");
        assert_eq!(
            String::from_utf8_lossy(&w.0),
            "INFO reply body=\"a?FORGED ?[2J\"\n"
        );
    }
}
