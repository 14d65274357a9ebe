//! The lines kept in memory: bounded, oldest dropped first.

use std::collections::{HashMap, VecDeque};

use super::line::LogLine;

/// Sort key of a timestamp: wall-clock digits (`YYYYMMDDhhmmss`, microseconds). A zone
/// suffix is ignored, so members compare correctly when they share a zone, whatever the
/// format (Patroni writes local time without one).
type TsKey = (u64, u32);

#[derive(Debug, Clone)]
struct Entry {
    line: LogLine,
    /// Own timestamp, else inherited (see [`LogBuffer::push`]).
    key: TsKey,
}

#[derive(Debug, Clone)]
pub struct LogBuffer {
    entries: VecDeque<Entry>,
    max_lines: usize,
    /// Bytes of text held (lines, member names, timestamps), bounded by `max_bytes`.
    bytes: usize,
    max_bytes: usize,
    dropped: u64,
    last_key_of: HashMap<String, TsKey>,
    last_key: TsKey,
}

impl Default for LogBuffer {
    fn default() -> Self {
        LogBuffer::new(LogBuffer::DEFAULT_MAX_LINES)
    }
}

impl LogBuffer {
    pub const DEFAULT_MAX_LINES: usize = 5000;
    /// The lines kept are bounded in bytes too: a source can write very long lines.
    pub const DEFAULT_MAX_BYTES: usize = 4 * 1024 * 1024;
    /// One line is cut to this many bytes.
    pub const MAX_LINE_BYTES: usize = 4096;

    /// `max_lines` is over all members together (at least 1).
    pub fn new(max_lines: usize) -> LogBuffer {
        let max_lines = max_lines.max(1);
        LogBuffer {
            entries: VecDeque::with_capacity(max_lines.min(1024)),
            max_lines,
            bytes: 0,
            max_bytes: LogBuffer::DEFAULT_MAX_BYTES,
            dropped: 0,
            last_key_of: HashMap::new(),
            last_key: (0, 0),
        }
    }

    /// Add a line, dropping the oldest beyond the bound. A line without a timestamp (a
    /// traceback's continuation, a notice, a source without dates) sorts right after the
    /// member's previous dated line, else after the latest dated line of any member: it
    /// stays next to what it arrived with.
    pub fn push(&mut self, mut line: LogLine) {
        crate::clip::clip_bytes(&mut line.text, Self::MAX_LINE_BYTES);
        if let Some(ts) = &mut line.ts {
            crate::clip::clip_bytes(ts, 64);
        }
        let key = match line.ts.as_deref().and_then(ts_key) {
            Some(k) => {
                match self.last_key_of.get_mut(&line.member) {
                    Some(last) => *last = k,
                    None => {
                        self.last_key_of.insert(line.member.clone(), k);
                    }
                }
                self.last_key = self.last_key.max(k);
                k
            }
            None => self
                .last_key_of
                .get(&line.member)
                .copied()
                .unwrap_or(self.last_key),
        };
        self.bytes += size_of_line(&line);
        self.entries.push_back(Entry { line, key });
        while self.entries.len() > self.max_lines
            || (self.bytes > self.max_bytes && self.entries.len() > 1)
        {
            let Some(old) = self.entries.pop_front() else {
                break;
            };
            self.bytes = self.bytes.saturating_sub(size_of_line(&old.line));
            self.dropped += 1;
        }
    }

    /// Bytes of text held (bounded by `max_bytes`).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Bound the bytes held (at least one line is always kept).
    pub fn with_max_bytes(mut self, max_bytes: usize) -> LogBuffer {
        self.max_bytes = max_bytes;
        self
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn max_lines(&self) -> usize {
        self.max_lines
    }

    /// How many lines were dropped to stay within the bound.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.last_key_of.clear();
        self.last_key = (0, 0);
    }

    /// Every line in arrival order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &LogLine> + ExactSizeIterator {
        self.entries.iter().map(|e| &e.line)
    }

    /// One member's lines in arrival order.
    pub fn member<'a>(&'a self, member: &'a str) -> impl DoubleEndedIterator<Item = &'a LogLine> {
        self.iter().filter(move |l| l.member == member)
    }

    /// All members merged by time: ordered by timestamp, arrival order among equal ones.
    pub fn merged(&self) -> Vec<&LogLine> {
        let mut v: Vec<&Entry> = self.entries.iter().collect();
        // stable: equal keys keep arrival order
        v.sort_by_key(|e| e.key);
        v.into_iter().map(|e| &e.line).collect()
    }
}

fn size_of_line(l: &LogLine) -> usize {
    l.text.len() + l.member.len() + l.ts.as_ref().map_or(0, String::len)
}

fn ts_key(ts: &str) -> Option<TsKey> {
    let b = ts.as_bytes();
    let mut secs: u64 = 0;
    let mut n = 0;
    let mut i = 0;
    while n < 14 {
        let c = *b.get(i)?;
        i += 1;
        if c.is_ascii_digit() {
            secs = secs * 10 + u64::from(c - b'0');
            n += 1;
        }
    }
    let mut micros: u32 = 0;
    if matches!(b.get(i), Some(b',' | b'.')) {
        let frac = b[i + 1..].iter().take_while(|c| c.is_ascii_digit());
        let mut places = 0;
        for c in frac.take(6) {
            micros = micros * 10 + u32::from(c - b'0');
            places += 1;
        }
        micros *= 10u32.pow(6 - places);
    }
    Some((secs, micros))
}

/// Byte ranges of the case-insensitive matches of `filter` as plain text in `text`; `None`
/// when there are none. (The log view's filter language is in `logs::filter`.)
pub(super) fn find_text(text: &str, filter: &str) -> Option<Vec<(usize, usize)>> {
    if filter.is_empty() {
        return Some(Vec::new());
    }
    let mut ranges = Vec::new();
    if filter.is_ascii() {
        // fast path, and byte offsets are exact
        let (t, f) = (text.as_bytes(), filter.as_bytes());
        let mut i = 0;
        while i + f.len() <= t.len() {
            if t[i..i + f.len()].eq_ignore_ascii_case(f) {
                ranges.push((i, i + f.len()));
                i += f.len();
            } else {
                i += 1;
            }
        }
    } else {
        // char by char with simple case folding, so ranges stay on char boundaries of the
        // original text even where lower-casing would change lengths
        let f: Vec<char> = filter.chars().map(fold).collect();
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut i = 0;
        while i + f.len() <= chars.len() {
            let hit = chars[i..i + f.len()]
                .iter()
                .zip(&f)
                .all(|((_, c), fc)| fold(*c) == *fc);
            if hit {
                let start = chars[i].0;
                let end = chars.get(i + f.len()).map_or(text.len(), |(o, _)| *o);
                ranges.push((start, end));
                i += f.len();
            } else {
                i += 1;
            }
        }
    }
    (!ranges.is_empty()).then_some(ranges)
}

fn fold(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::super::line::{Level, parse_line};
    use super::*;

    fn line(member: &str, text: &str) -> LogLine {
        parse_line(member, text)
    }

    #[test]
    fn bounded_oldest_dropped() {
        let mut b = LogBuffer::new(3);
        for i in 0..5 {
            b.push(line("pg1", &format!("l{i}")));
        }
        assert_eq!(b.len(), 3);
        assert_eq!(b.dropped(), 2);
        let texts: Vec<&str> = b.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["l2", "l3", "l4"]);
        assert_eq!(LogBuffer::new(0).max_lines(), 1);
        assert_eq!(LogBuffer::default().max_lines(), 5000);
        b.clear();
        assert!(b.is_empty());
    }

    #[test]
    fn bounded_in_bytes_and_long_lines_cut() {
        let mut b = LogBuffer::new(1000).with_max_bytes(64 * 1024);
        let long = "x".repeat(1024 * 1024);
        for _ in 0..100 {
            b.push(line("pg1", &long));
        }
        assert!(b.iter().all(|l| l.text.len() <= LogBuffer::MAX_LINE_BYTES));
        assert!(b.bytes() <= 64 * 1024, "{} bytes held", b.bytes());
        assert!(b.len() < 100 && b.dropped() > 0);
        let held: usize = b.iter().map(|l| l.text.len() + l.member.len()).sum();
        assert_eq!(held, b.bytes());
    }

    #[test]
    fn per_member() {
        let mut b = LogBuffer::new(10);
        b.push(line("pg1", "a"));
        b.push(line("pg2", "b"));
        b.push(line("pg1", "c"));
        let texts: Vec<&str> = b.member("pg1").map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["a", "c"]);
        assert_eq!(b.member("pg3").count(), 0);
        // newest first, as a follow view reads it
        assert_eq!(
            b.member("pg1").next_back().map(|l| l.text.as_str()),
            Some("c")
        );
    }

    #[test]
    fn merged_by_time_stable_and_continuations_follow_their_line() {
        let mut b = LogBuffer::new(100);
        b.push(line("pg1", "2026-11-26 00:00:02,000 INFO: pg1 second"));
        b.push(line("pg1", "2026-11-26 00:00:03,500 ERROR: pg1 third"));
        b.push(line("pg1", "Traceback (most recent call last):"));
        b.push(line("pg2", "2026-11-26 00:00:01,000 INFO: pg2 first"));
        b.push(line("pg2", "2026-11-26 00:00:03,000 INFO: pg2 later"));
        b.push(line(
            "pg3",
            "2026-11-26T00:00:02+0000 db3 patroni[1]: INFO: pg3 equal",
        ));
        b.push(line(
            "pg3",
            "2026-11-26T00:00:03.4Z db3 patroni[1]: INFO: pg3 fraction",
        ));
        b.push(LogLine::notice("pg4", "[no timestamp, arrived last]"));
        let merged: Vec<&str> = b
            .merged()
            .iter()
            .map(|l| l.text.rsplit(": ").next().unwrap_or(""))
            .collect();
        assert_eq!(
            merged,
            [
                "pg2 first",
                "pg1 second",
                "pg3 equal", // same second as pg1's: arrival order
                "pg2 later",
                "pg3 fraction",
                "pg1 third",
                "Traceback (most recent call last):",
                "[no timestamp, arrived last]",
            ]
        );
        // arrival order is untouched
        assert_eq!(b.iter().next().map(|l| l.level), Some(Level::Info));
        assert_eq!(b.iter().len(), 8);
    }

    #[test]
    fn ts_keys() {
        assert_eq!(
            ts_key("2026-11-26 00:24:45,401"),
            Some((20261126002445, 401_000))
        );
        assert_eq!(
            ts_key("2026-11-26T00:24:45.1234567+01:00"),
            Some((20261126002445, 123_456))
        );
        assert_eq!(
            ts_key("2026-11-26T00:24:45+0000"),
            Some((20261126002445, 0))
        );
        assert_eq!(ts_key("2026-11-26"), None);
        assert_eq!(ts_key(""), None);
    }

    fn matches(l: &LogLine, f: &str) -> Option<Vec<(usize, usize)>> {
        find_text(&l.text, f)
    }

    #[test]
    fn filter_ranges() {
        let l = line(
            "pg1",
            "2026-11-26 00:24:45,401 INFO: no action. I am (pg1), the leader",
        );
        assert_eq!(matches(&l, "LEADER"), Some(vec![(57, 63)]));
        assert_eq!(&l.text[57..63], "leader");
        assert_eq!(matches(&l, "a"), Some(vec![(33, 34), (43, 44), (59, 60)]));
        assert_eq!(matches(&l, "nope"), None);
        assert_eq!(matches(&l, ""), Some(vec![]));
        // non-overlapping
        assert_eq!(
            matches(&line("pg1", "aaaa"), "aa"),
            Some(vec![(0, 2), (2, 4)])
        );
        assert_eq!(matches(&line("pg1", "a"), "aa"), None);
    }

    #[test]
    fn filter_ranges_unicode() {
        let l = line("pg1", "Ärger über ÄRGER");
        assert_eq!(matches(&l, "ärger"), Some(vec![(0, 6), (13, 19)]));
        // ASCII filter against multi-byte text: ranges still on char boundaries
        let l = line("pg1", "节点一 pg1 节点");
        let r = matches(&l, "PG1").unwrap_or_default();
        assert_eq!(r, vec![(10, 13)]);
        assert_eq!(&l.text[10..13], "pg1");
        // a character whose lower case is longer (İ -> i̇) matches itself, no panic
        let l = line("pg1", "xİy");
        assert_eq!(matches(&l, "İ"), Some(vec![(1, 3)]));
        assert_eq!(matches(&l, "y"), Some(vec![(3, 4)]));
    }
}
