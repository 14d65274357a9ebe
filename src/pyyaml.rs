//! JSON values as PyYAML 6 writes them with `yaml.safe_dump(data, default_flow_style=...,
//! allow_unicode=True, width=200)`, which is what patronictl prints (`show-config`, `-f yaml`,
//! the Tags column). A port of PyYAML's emitter (`emitter.py`) and of the implicit resolver
//! that decides whether a string must be quoted (`resolver.py`), for the nodes JSON has:
//! mappings (keys sorted, as `safe_dump` does), sequences, strings, numbers, booleans, null.
//! No crate writes PyYAML's exact choices (quoting `'on'`, `'2024-01-01'`, folding at 200
//! columns, indentless sequences under a key), and byte-identical output is the point.
//!
//! The output is not sanitized here: callers pass it through `text::clean` line by line.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

const BEST_INDENT: usize = 2;
const BEST_WIDTH: usize = 200;

/// `yaml.safe_dump(v, default_flow_style=flow, allow_unicode=True, width=200)`.
pub fn dump(v: &Value, flow: bool) -> String {
    let mut e = Emitter {
        out: String::new(),
        indents: Vec::new(),
        indent: None,
        flow_level: 0,
        column: 0,
        whitespace: true,
        indention: true,
        open_ended: false,
        flow_style: flow,
    };
    e.node(
        v,
        Ctx {
            root: true,
            ..Ctx::default()
        },
    );
    // document end: a line break; a plain scalar at the root leaves the document open
    e.write_indent();
    if e.open_ended {
        e.write_indicator("...", true, false, false);
        e.write_indent();
    }
    e.out
}

/// Would PyYAML's implicit resolver read this plain scalar as something other than a
/// string (bool, int, float, null, timestamp, merge, value, yaml)? Then a string with this
/// text must be quoted.
pub fn resolves_to_non_str(s: &str) -> bool {
    static RES: OnceLock<Vec<Regex>> = OnceLock::new();
    let res = RES.get_or_init(|| {
        // resolver.py's patterns with the re.X whitespace removed; Python's `$` also
        // matches before one final newline
        [
            r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)\n?\z",
            r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\n?\z",
            r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)\n?\z",
            r"^(?:<<)\n?\z",
            r"^(?:~|null|Null|NULL|)\n?\z",
            r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)\n?\z",
            r"^(?:=)\n?\z",
            r"^(?:!|&|\*)\n?\z",
        ]
        .iter()
        .filter_map(|p| Regex::new(p).ok())
        .collect()
    });
    // each pattern can only match text starting with one of the characters PyYAML files it
    // under, so trying them all is the same as its first-character dispatch
    res.iter().any(|r| r.is_match(s))
}

/// Python's `repr(float)` as PyYAML's `represent_float` adjusts it: the shortest digits
/// that read back the same; exponent form below 1e-4 and from 1e16; `1e+16` becomes
/// `1.0e+16` so that it stays a YAML float.
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let sci = format!("{f:e}"); // shortest round-trip digits: "-1.5e-7", "1e16", "0e0"
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if neg { "-" } else { "" };
    let decpt = exp + 1;
    if !(-4 < decpt && decpt <= 16) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            ".0".to_string()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    let n = digits.len() as i32;
    if decpt <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-decpt) as usize))
    } else if decpt >= n {
        format!("{sign}{digits}{}.0", "0".repeat((decpt - n) as usize))
    } else {
        let (a, b) = digits.split_at(decpt as usize);
        format!("{sign}{a}.{b}")
    }
}

/// What PyYAML's `analyze_scalar` finds out about a scalar's text.
#[derive(Debug, Clone, Copy)]
struct Analysis {
    empty: bool,
    multiline: bool,
    allow_flow_plain: bool,
    allow_block_plain: bool,
    allow_single_quoted: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_space_or_break0(c: char) -> bool {
    matches!(
        c,
        '\0' | ' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Printable for PyYAML with `allow_unicode` (else it is a "special character" that only a
/// double-quoted scalar can carry, escaped).
fn is_printable_unicode(c: char) -> bool {
    (c == '\u{85}'
        || ('\u{A0}'..='\u{D7FF}').contains(&c)
        || ('\u{E000}'..='\u{FFFD}').contains(&c)
        || ('\u{10000}'..'\u{10FFFF}').contains(&c))
        && c != '\u{FEFF}'
}

fn analyze(s: &[char]) -> Analysis {
    if s.is_empty() {
        return Analysis {
            empty: true,
            multiline: false,
            allow_flow_plain: false,
            allow_block_plain: true,
            allow_single_quoted: true,
        };
    }
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let starts = |p: &str| s.iter().take(3).copied().eq(p.chars());
    if starts("---") || starts("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut preceded_by_ws = true;
    let mut followed_by_ws = s.len() == 1 || is_space_or_break0(s[1]);
    let (mut prev_space, mut prev_break) = (false, false);
    let n = s.len();
    for (i, &ch) in s.iter().enumerate() {
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                flow_indicators = true;
                block_indicators = true;
            }
            if ch == '?' || ch == ':' {
                flow_indicators = true;
                if followed_by_ws {
                    block_indicators = true;
                }
            }
            if ch == '-' && followed_by_ws {
                flow_indicators = true;
                block_indicators = true;
            }
        } else {
            if ",?[]{}".contains(ch) {
                flow_indicators = true;
            }
            if ch == ':' {
                flow_indicators = true;
                if followed_by_ws {
                    block_indicators = true;
                }
            }
            if ch == '#' && preceded_by_ws {
                flow_indicators = true;
                block_indicators = true;
            }
        }
        if is_break(ch) {
            line_breaks = true;
        }
        if !(ch == '\n' || (' '..='~').contains(&ch) || is_printable_unicode(ch)) {
            special = true;
        }
        if ch == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == n - 1 {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(ch) {
            if i == 0 {
                leading_break = true;
            }
            if i == n - 1 {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = is_space_or_break0(ch);
        followed_by_ws = i + 2 >= n || is_space_or_break0(s[i + 2]);
    }
    let mut a = Analysis {
        empty: false,
        multiline: line_breaks,
        allow_flow_plain: true,
        allow_block_plain: true,
        allow_single_quoted: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.allow_flow_plain = false;
        a.allow_block_plain = false;
    }
    if break_space {
        a.allow_flow_plain = false;
        a.allow_block_plain = false;
        a.allow_single_quoted = false;
    }
    if space_break || special {
        a.allow_flow_plain = false;
        a.allow_block_plain = false;
        a.allow_single_quoted = false;
    }
    if line_breaks {
        a.allow_flow_plain = false;
        a.allow_block_plain = false;
    }
    if flow_indicators {
        a.allow_flow_plain = false;
    }
    if block_indicators {
        a.allow_block_plain = false;
    }
    a
}

/// The emitter's context flags for the node being written (`expect_node`'s arguments).
#[derive(Debug, Clone, Copy, Default)]
struct Ctx {
    root: bool,
    mapping: bool,
    simple_key: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

struct Emitter {
    out: String,
    indents: Vec<Option<usize>>,
    indent: Option<usize>,
    flow_level: usize,
    column: usize,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
    /// `default_flow_style`: every non-empty collection in flow style too.
    flow_style: bool,
}

/// A scalar as the serializer hands it over: its text and whether its plain form reads
/// back as the same type (`implicit[0]`).
struct Scalar {
    text: Vec<char>,
    plain_ok: bool,
}

fn scalar_of(v: &Value) -> Option<Scalar> {
    let (text, plain_ok) = match v {
        Value::Null => ("null".to_string(), true),
        Value::Bool(b) => (if *b { "true" } else { "false" }.to_string(), true),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => (i.to_string(), true),
            (_, Some(u), _) => (u.to_string(), true),
            (_, _, Some(f)) => (py_float(f), true),
            _ => (n.to_string(), true),
        },
        Value::String(s) => (s.clone(), !resolves_to_non_str(s)),
        Value::Array(_) | Value::Object(_) => return None,
    };
    Some(Scalar {
        text: text.chars().collect(),
        plain_ok,
    })
}

impl Emitter {
    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        match self.indent {
            None => self.indent = Some(if flow { BEST_INDENT } else { 0 }),
            Some(i) if !indentless => self.indent = Some(i + BEST_INDENT),
            Some(_) => {}
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().flatten();
    }

    fn write_raw(&mut self, s: &str) {
        self.column += s.chars().count();
        self.out.push_str(s);
    }

    fn write_indicator(&mut self, ind: &str, need_ws: bool, whitespace: bool, indention: bool) {
        let data = if self.whitespace || !need_ws {
            ind.to_string()
        } else {
            format!(" {ind}")
        };
        self.whitespace = whitespace;
        self.indention = self.indention && indention;
        self.open_ended = false;
        self.write_raw(&data);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.write_line_break(None);
        }
        if self.column < indent {
            self.whitespace = true;
            let pad = " ".repeat(indent - self.column);
            self.out.push_str(&pad);
            self.column = indent;
        }
    }

    fn write_line_break(&mut self, br: Option<char>) {
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
        self.out.push(br.unwrap_or('\n'));
    }

    /// `check_simple_key` for a key node: a scalar whose text plus its (unwritten) tag
    /// `!!str`/`!!int`... is under 128 characters, not empty, on one line.
    fn simple_key(key: &Scalar, analysis: &Analysis, tag_len: usize) -> bool {
        key.text.len() + tag_len < 128 && !analysis.empty && !analysis.multiline
    }

    fn node(&mut self, v: &Value, ctx: Ctx) {
        match v {
            Value::Array(items) => {
                if self.flow_level > 0 || self.flow_style || items.is_empty() {
                    self.write_indicator("[", true, true, false);
                    self.flow_level += 1;
                    self.increase_indent(true, false);
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            self.write_indicator(",", false, false, false);
                        }
                        if self.column > BEST_WIDTH {
                            self.write_indent();
                        }
                        self.node(item, Ctx::default());
                    }
                    self.pop_indent();
                    self.flow_level -= 1;
                    self.write_indicator("]", false, false, false);
                } else {
                    let indentless = ctx.mapping && !self.indention;
                    self.increase_indent(false, indentless);
                    for item in items {
                        self.write_indent();
                        self.write_indicator("-", true, false, true);
                        self.node(item, Ctx::default());
                    }
                    self.pop_indent();
                }
            }
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let flow = self.flow_level > 0 || self.flow_style || map.is_empty();
                if flow {
                    self.write_indicator("{", true, true, false);
                    self.flow_level += 1;
                    self.increase_indent(true, false);
                } else {
                    self.increase_indent(false, false);
                }
                for (i, (k, val)) in entries.into_iter().enumerate() {
                    let key = Value::String(k.clone());
                    if flow {
                        if i > 0 {
                            self.write_indicator(",", false, false, false);
                        }
                        if self.column > BEST_WIDTH {
                            self.write_indent();
                        }
                    } else {
                        self.write_indent();
                    }
                    let simple = scalar_of(&key).is_some_and(|s| {
                        let a = analyze(&s.text);
                        Self::simple_key(&s, &a, "!!str".len())
                    });
                    let vctx = Ctx {
                        mapping: true,
                        ..Ctx::default()
                    };
                    if simple {
                        self.node(
                            &key,
                            Ctx {
                                mapping: true,
                                simple_key: true,
                                ..Ctx::default()
                            },
                        );
                        self.write_indicator(":", false, false, false);
                        self.node(val, vctx);
                    } else {
                        self.write_indicator("?", true, false, !flow);
                        self.node(&key, vctx);
                        if flow {
                            if self.column > BEST_WIDTH {
                                self.write_indent();
                            }
                            self.write_indicator(":", true, false, false);
                        } else {
                            self.write_indent();
                            self.write_indicator(":", true, false, true);
                        }
                        self.node(val, vctx);
                    }
                }
                self.pop_indent();
                if flow {
                    self.flow_level -= 1;
                    self.write_indicator("}", false, false, false);
                }
            }
            scalar => {
                let Some(s) = scalar_of(scalar) else { return };
                self.increase_indent(true, false);
                self.scalar(&s, ctx);
                self.pop_indent();
            }
        }
    }

    fn choose_style(&self, s: &Scalar, a: &Analysis, ctx: Ctx) -> Style {
        if s.plain_ok
            && !(ctx.simple_key && (a.empty || a.multiline))
            && ((self.flow_level > 0 && a.allow_flow_plain)
                || (self.flow_level == 0 && a.allow_block_plain))
        {
            return Style::Plain;
        }
        if a.allow_single_quoted && !(ctx.simple_key && a.multiline) {
            return Style::Single;
        }
        Style::Double
    }

    fn scalar(&mut self, s: &Scalar, ctx: Ctx) {
        let a = analyze(&s.text);
        let split = !ctx.simple_key;
        match self.choose_style(s, &a, ctx) {
            Style::Plain => self.write_plain(&s.text, split, ctx.root),
            Style::Single => self.write_single_quoted(&s.text, split),
            Style::Double => self.write_double_quoted(&s.text, split),
        }
    }

    fn write_chars(&mut self, t: &[char]) {
        let s: String = t.iter().collect();
        self.write_raw(&s);
    }

    fn write_breaks(&mut self, t: &[char]) {
        for &br in t {
            if br == '\n' {
                self.write_line_break(None);
            } else {
                self.write_line_break(Some(br));
            }
        }
    }

    fn write_plain(&mut self, text: &[char], split: bool, root: bool) {
        if root {
            self.open_ended = true;
        }
        if text.is_empty() {
            return;
        }
        if !self.whitespace {
            self.write_raw(" ");
        }
        self.whitespace = false;
        self.indention = false;
        let (mut spaces, mut breaks) = (false, false);
        let (mut start, mut end) = (0usize, 0usize);
        while end <= text.len() {
            let ch = text.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > BEST_WIDTH && split {
                        self.write_indent();
                        self.whitespace = false;
                        self.indention = false;
                    } else {
                        self.write_chars(&text[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_break) {
                    if text[start] == '\n' {
                        self.write_line_break(None);
                    }
                    self.write_breaks(&text[start..end]);
                    self.write_indent();
                    self.whitespace = false;
                    self.indention = false;
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || is_break(c)) {
                self.write_chars(&text[start..end]);
                start = end;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_break(c);
            }
            end += 1;
        }
    }

    fn write_single_quoted(&mut self, text: &[char], split: bool) {
        self.write_indicator("'", true, false, false);
        let (mut spaces, mut breaks) = (false, false);
        let (mut start, mut end) = (0usize, 0usize);
        while end <= text.len() {
            let ch = text.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end
                        && self.column > BEST_WIDTH
                        && split
                        && start != 0
                        && end != text.len()
                    {
                        self.write_indent();
                    } else {
                        self.write_chars(&text[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_break) {
                    if text[start] == '\n' {
                        self.write_line_break(None);
                    }
                    self.write_breaks(&text[start..end]);
                    self.write_indent();
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || is_break(c) || c == '\'') && start < end {
                self.write_chars(&text[start..end]);
                start = end;
            }
            if ch == Some('\'') {
                self.write_raw("''");
                start = end + 1;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_break(c);
            }
            end += 1;
        }
        self.write_indicator("'", false, false, false);
    }

    fn write_double_quoted(&mut self, text: &[char], split: bool) {
        self.write_indicator("\"", true, false, false);
        let (mut start, mut end) = (0usize, 0usize);
        while end <= text.len() {
            let ch = text.get(end).copied();
            let raw_ok = |c: char| {
                !matches!(
                    c,
                    '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
                ) && ((' '..='~').contains(&c)
                    || ('\u{A0}'..='\u{D7FF}').contains(&c)
                    || ('\u{E000}'..='\u{FFFD}').contains(&c))
            };
            if ch.is_none_or(|c| !raw_ok(c)) {
                if start < end {
                    self.write_chars(&text[start..end]);
                    start = end;
                }
                if let Some(c) = ch {
                    let esc = match c {
                        '\0' => "\\0".to_string(),
                        '\x07' => "\\a".into(),
                        '\x08' => "\\b".into(),
                        '\t' => "\\t".into(),
                        '\n' => "\\n".into(),
                        '\x0B' => "\\v".into(),
                        '\x0C' => "\\f".into(),
                        '\r' => "\\r".into(),
                        '\x1B' => "\\e".into(),
                        '"' => "\\\"".into(),
                        '\\' => "\\\\".into(),
                        '\u{85}' => "\\N".into(),
                        '\u{A0}' => "\\_".into(),
                        '\u{2028}' => "\\L".into(),
                        '\u{2029}' => "\\P".into(),
                        c if (c as u32) <= 0xFF => format!("\\x{:02X}", c as u32),
                        c if (c as u32) <= 0xFFFF => format!("\\u{:04X}", c as u32),
                        c => format!("\\U{:08X}", c as u32),
                    };
                    self.write_raw(&esc);
                    start = end + 1;
                }
            }
            if 0 < end
                && end + 1 < text.len()
                && (ch == Some(' ') || start >= end)
                && self.column + end.saturating_sub(start) > BEST_WIDTH
                && split
            {
                let mut data: String = text[start.min(end)..end].iter().collect();
                data.push('\\');
                if start < end {
                    start = end;
                }
                self.write_raw(&data);
                self.write_indent();
                self.whitespace = false;
                self.indention = false;
                if text.get(start) == Some(&' ') {
                    self.write_raw("\\");
                }
            }
            end += 1;
        }
        self.write_indicator("\"", false, false, false);
    }
}

#[cfg(test)]
mod tests;
