//! The log view's filter: what the operator types after `/`, read as a small query so the
//! once-a-second `no action` heartbeat can be hidden and only warnings shown.
//!
//! Words are separated by spaces and all must hold:
//! - `word`, `two words` or `"a phrase"`: the line contains it (case-insensitive,
//!   highlighted); plain words one after another are one phrase, as typed;
//! - `!word`, `!two words`, `!"a phrase"`: the line does not contain it (plain words after
//!   a `!word` go on its phrase);
//! - `/regex/` (and `!/regex/`): the line matches (case-insensitive, highlighted);
//! - `level:warning` (also `lvl:`; `debug`, `info`, `warn`, `error`, `critical`, or their
//!   first letters): the line's level is at least that. Lines without a level (a traceback's
//!   continuation, patrol's own notices) are kept: they belong to the line above them.
//!
//! The filter is typed by the operator, not read from outside; a regex is still built with a
//! size limit, so a pattern cannot make every frame slow.

use std::cell::RefCell;
use std::rc::Rc;

use super::{Level, LogLine};

#[derive(Debug)]
enum Clause {
    Has(String),
    Re(regex::Regex),
    Not(String),
    NotRe(regex::Regex),
    MinLevel(Level),
}

/// A parsed filter: its clauses and what could not be read (shown in the title).
#[derive(Debug, Default)]
pub struct Query {
    clauses: Vec<Clause>,
    errors: Vec<String>,
}

fn rank(l: Level) -> u8 {
    match l {
        Level::Debug => 0,
        Level::Info => 1,
        Level::Warning => 2,
        Level::Error => 3,
        Level::Critical => 4,
        Level::Other => 0,
    }
}

fn level_named(w: &str) -> Option<Level> {
    let w = w.to_ascii_lowercase();
    let is = |full: &str| !w.is_empty() && full.starts_with(&w);
    if is("debug") {
        Some(Level::Debug)
    } else if is("info") {
        Some(Level::Info)
    } else if is("warning") {
        Some(Level::Warning)
    } else if is("error") {
        Some(Level::Error)
    } else if is("critical") || w == "fatal" {
        Some(Level::Critical)
    } else {
        None
    }
}

fn level_label(l: Level) -> &'static str {
    match l {
        Level::Debug => "DEBUG",
        Level::Info => "INFO",
        Level::Warning => "WARNING",
        Level::Error => "ERROR",
        Level::Critical => "CRITICAL",
        Level::Other => "any",
    }
}

/// Split into words: spaces separate, `"..."` and `/.../` keep theirs (a `\/` inside a
/// regex is a slash). Each word comes back with whether it was negated and its kind.
fn words(f: &str) -> Vec<(bool, char, String)> {
    let mut out = Vec::new();
    let mut it = f.chars().peekable();
    loop {
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
        let Some(&first) = it.peek() else { break };
        let neg = first == '!';
        if neg {
            it.next();
        }
        match it.peek().copied() {
            Some(q @ ('"' | '/')) => {
                it.next();
                let mut w = String::new();
                while let Some(c) = it.next() {
                    if c == q {
                        break;
                    }
                    if c == '\\' && q == '/' && it.peek() == Some(&'/') {
                        w.push('/');
                        it.next();
                        continue;
                    }
                    w.push(c);
                }
                out.push((neg, q, w));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = it.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    w.push(c);
                    it.next();
                }
                out.push((neg, ' ', w));
            }
        }
    }
    out
}

fn regex(p: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(p)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => format!("/{p}/ is too large"),
            _ => format!("/{p}/ is not a regex"),
        })
}

/// Read a filter.
pub fn parse(f: &str) -> Query {
    let mut q = Query::default();
    // the clause before was a plain word (not quoted, negated, a regex or a level)
    let mut last_plain = false;
    for (neg, kind, w) in words(f) {
        if w.is_empty() {
            continue;
        }
        let level = (kind == ' ' && !neg)
            .then(|| {
                w.strip_prefix("level:")
                    .or_else(|| w.strip_prefix("lvl:"))
                    .map(str::to_string)
            })
            .flatten();
        let clause = match (kind, neg, level) {
            (' ', false, Some(l)) => match level_named(&l) {
                Some(l) => Clause::MinLevel(l),
                None => {
                    q.errors.push(format!("no level {l:?}"));
                    continue;
                }
            },
            ('/', n, _) => match regex(&w) {
                Ok(r) if n => Clause::NotRe(r),
                Ok(r) => Clause::Re(r),
                Err(e) => {
                    q.errors.push(e);
                    continue;
                }
            },
            // `!no action` hides the heartbeat: the plain words after a `!word` go on its
            // phrase, as they do after a plain word (it was `not "no"` and `"action"`)
            (' ', true, _) => {
                last_plain = true;
                q.clauses.push(Clause::Not(w));
                continue;
            }
            (_, true, _) => Clause::Not(w),
            // plain words typed one after another are the phrase they form (`no action`)
            (' ', false, _) => {
                if let (Some(Clause::Has(prev) | Clause::Not(prev)), true) =
                    (q.clauses.last_mut(), last_plain)
                {
                    prev.push(' ');
                    prev.push_str(&w);
                    continue;
                }
                last_plain = true;
                q.clauses.push(Clause::Has(w));
                continue;
            }
            (_, false, _) => Clause::Has(w),
        };
        last_plain = false;
        q.clauses.push(clause);
    }
    q
}

impl Query {
    /// Byte ranges to highlight when `line` passes, `None` when it does not.
    pub fn matches(&self, line: &LogLine) -> Option<Vec<(usize, usize)>> {
        let text = line.text.as_str();
        let mut ranges = Vec::new();
        for c in &self.clauses {
            match c {
                Clause::Has(w) => ranges.extend(super::buffer::find_text(text, w)?),
                Clause::Not(w) => {
                    if super::buffer::find_text(text, w).is_some() {
                        return None;
                    }
                }
                Clause::Re(r) => {
                    let found: Vec<(usize, usize)> = r
                        .find_iter(text)
                        .filter(|m| !m.is_empty())
                        .map(|m| (m.start(), m.end()))
                        .collect();
                    if found.is_empty() && !r.is_match(text) {
                        return None;
                    }
                    ranges.extend(found);
                }
                Clause::NotRe(r) => {
                    if r.is_match(text) {
                        return None;
                    }
                }
                Clause::MinLevel(min) => {
                    if line.level != Level::Other && rank(line.level) < rank(*min) {
                        return None;
                    }
                }
            }
        }
        // the view draws them in order and without overlap
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        Some(merged)
    }

    /// How the filter was read, for the view's title: `level ≥ WARNING · not "no action"`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .clauses
            .iter()
            .map(|c| match c {
                Clause::Has(w) => format!("{w:?}"),
                Clause::Not(w) => format!("not {w:?}"),
                Clause::Re(r) => format!("/{}/", r.as_str()),
                Clause::NotRe(r) => format!("not /{}/", r.as_str()),
                Clause::MinLevel(l) => format!("level ≥ {}", level_label(*l)),
            })
            .collect();
        parts.extend(self.errors.iter().map(|e| format!("({e}: ignored)")));
        parts.join(" · ")
    }
}

thread_local! {
    /// The last filter read: the view and `update` ask for the same one for every line.
    static LAST: RefCell<Option<(String, Rc<Query>)>> = const { RefCell::new(None) };
}

/// `filter` read once per change of its text.
pub fn query(filter: &str) -> Rc<Query> {
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((f, q)) = last.as_ref()
            && f == filter
        {
            return q.clone();
        }
        let q = Rc::new(parse(filter));
        *last = Some((filter.to_string(), q.clone()));
        q
    })
}

/// Byte ranges of `filter`'s matches in the line, for highlighting; `None` when the line
/// does not pass. An empty filter passes everything with no ranges.
pub fn matches(line: &LogLine, filter: &str) -> Option<Vec<(usize, usize)>> {
    if filter.is_empty() {
        return Some(Vec::new());
    }
    query(filter).matches(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(level: Level, text: &str) -> LogLine {
        LogLine {
            member: "pg1".into(),
            ts: None,
            level,
            text: text.into(),
        }
    }

    #[test]
    fn words_exclusions_regexes_and_levels_all_hold() {
        let hb = l(
            Level::Info,
            "INFO: no action. I am (pg1), the leader with the lock",
        );
        let warn = l(
            Level::Warning,
            "WARNING: Request failed to pg2: GET /patroni",
        );
        let tb = l(Level::Other, "  File \"ha.py\", line 3, in run");
        assert_eq!(matches(&hb, "!\"no action\""), None);
        assert!(matches(&warn, "!\"no action\"").is_some());
        assert_eq!(matches(&hb, "level:warning"), None);
        assert!(matches(&warn, "level:w").is_some());
        assert!(matches(&tb, "lvl:error").is_some(), "a continuation stays");
        assert_eq!(matches(&warn, "level:error"), None);
        assert_eq!(
            matches(&warn, "/fail(ed|ure)/"),
            Some(vec![(17, 23)]),
            "{}",
            &warn.text
        );
        assert_eq!(matches(&hb, "!/lea.er/"), None);
        assert!(matches(&warn, "request !leader level:warn").is_some());
        assert_eq!(matches(&warn, "request pg3"), None);
        // plain words are the phrase they form; quoted ones each hold, highlighted in order
        assert_eq!(matches(&warn, "request failed"), Some(vec![(9, 23)]));
        assert_eq!(matches(&warn, "pg2 request"), None);
        assert_eq!(
            matches(&warn, "\"pg2\" \"request\""),
            Some(vec![(9, 16), (27, 30)])
        );
        assert_eq!(
            parse("no  action !x").describe(),
            "\"no action\" · not \"x\""
        );
        // a negated word takes the plain words after it, as typed: the heartbeat goes
        assert_eq!(
            parse("!no action level:i").describe(),
            "not \"no action\" · level ≥ INFO"
        );
        assert_eq!(matches(&hb, "!no action"), None);
        assert!(matches(&warn, "!no action").is_some());
        assert_eq!(
            parse("!x  y \"z\" w").describe(),
            "not \"x y\" · \"z\" · \"w\""
        );
    }

    #[test]
    fn what_cannot_be_read_is_said_and_ignored() {
        let q = parse("/x(/ level:loud !\"no action\"");
        assert_eq!(
            q.describe(),
            "not \"no action\" · (/x(/ is not a regex: ignored) · (no level \"loud\": ignored)"
        );
        assert!(q.matches(&l(Level::Info, "anything")).is_some());
        assert_eq!(parse("level:e /a\\/b/").describe(), "level ≥ ERROR · /a/b/");
    }

    #[test]
    fn a_huge_regex_is_refused_not_built() {
        let q = parse("/(a{1000}){1000}/");
        assert!(q.describe().contains("too large"), "{}", q.describe());
    }
}
