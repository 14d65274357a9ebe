//! Text from etcd and REST is untrusted: it must not be able to move the cursor, change
//! colours or ring the bell on the operator's terminal.

/// Replace control characters (C0, DEL, C1) with `?`; keep ordinary text and tabs as spaces.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '?',
            // bidi overrides can make a member name read as something else
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => '?',
            c => c,
        })
        .collect()
}

/// Remove a password from a URL such as `postgres://user:pw@host:5432/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return sanitize(url);
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}@{host}")
        }
        None => authority.to_string(),
    };
    // a password can also sit in the query string
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let q: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", q.join("&"))
        }
        None => tail.to_string(),
    };
    sanitize(&format!("{scheme}://{authority}{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(sanitize("pg1\x1b[31mred\x07"), "pg1?[31mred?");
        assert_eq!(sanitize("a\tb\nc\u{9b}d"), "a b?c?d");
        assert_eq!(sanitize("x\u{202E}y"), "x?y");
        assert_eq!(sanitize("节点一"), "节点一");
    }

    #[test]
    fn passwords_are_removed_from_urls() {
        assert_eq!(
            redact_url("postgres://replicator:s3cret@10.0.0.1:5432/postgres"),
            "postgres://replicator@10.0.0.1:5432/postgres"
        );
        assert_eq!(
            redact_url("postgres://10.0.0.1:5432/postgres?password=x&sslmode=require"),
            "postgres://10.0.0.1:5432/postgres?password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:8008/patroni"),
            "http://127.0.0.1:8008/patroni"
        );
    }
}
