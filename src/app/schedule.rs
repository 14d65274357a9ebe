//! When a scheduled operation happens, from what a person types: `+15m`, `+1h30m`, `16:30`
//! (local: today, or tomorrow when already past) or an ISO 8601 time with a zone. Pure: the
//! time now and the local zone are arguments. What Patroni receives is always the ISO form
//! ([`When::iso`]); the review says it back in full with the zone ([`When::shown`]).

use jiff::Timestamp;
use jiff::civil::{DateTime, Time};
use jiff::fmt::temporal::Pieces;
use jiff::tz::{Offset, TimeZone};

/// The farthest ahead a schedule may be: further is a typo more often than a plan.
pub const MAX_AHEAD_DAYS: i64 = 30;

/// A resolved time, with the offset it is said in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub at: Timestamp,
    pub offset: Offset,
}

impl When {
    fn fmt(&self, f: &str) -> String {
        self.at
            .to_zoned(TimeZone::fixed(self.offset))
            .strftime(f)
            .to_string()
    }

    /// What is sent: `2026-12-07T16:30:00+01:00`.
    pub fn iso(&self) -> String {
        self.fmt("%Y-%m-%dT%H:%M:%S%:z")
    }

    /// What is shown: `2026-12-07 16:30:00 +01:00`.
    pub fn shown(&self) -> String {
        self.fmt("%Y-%m-%d %H:%M:%S %:z")
    }
}

/// `text` resolved against `now` in `tz`; `Ok(None)` is "now" (empty or `now`). Without a
/// wall clock (`now` None) only an ISO time can be resolved, and is not checked against now.
pub fn parse(text: &str, now: Option<Timestamp>, tz: &TimeZone) -> Result<Option<When>, String> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("now") {
        return Ok(None);
    }
    let shown = crate::text::sanitize(t);
    let need_now = || format!("{shown:?}: patrol does not know the time now; give an ISO time");
    let when = if let Some(rest) = t.strip_prefix('+') {
        let now = now.ok_or_else(need_now)?;
        let secs = relative(rest).ok_or_else(|| {
            format!("{shown:?} is not a time from now: say +15m, +2h or +1h30m (d, h, m, s)")
        })?;
        if secs == 0 {
            return Err(format!("{shown:?} is now: leave the time empty for now"));
        }
        let at = if secs > MAX_AHEAD_DAYS * 86_400 {
            None
        } else {
            now.checked_add(jiff::SignedDuration::from_secs(secs)).ok()
        };
        let at = at.ok_or_else(|| too_far(&shown))?;
        When {
            at,
            offset: tz.to_offset(at),
        }
    } else if let Some(clock) = clock_time(t) {
        let now = now.ok_or_else(need_now)?;
        let today = now.to_zoned(tz.clone()).date();
        let bad = || format!("{shown:?}: no such local time");
        let on = |date: jiff::civil::Date| {
            // a time skipped by a DST change moves forward, as clocks do
            tz.to_ambiguous_zoned(DateTime::from_parts(date, clock))
                .compatible()
                .map(|z| z.timestamp())
        };
        let mut at = on(today).map_err(|_| bad())?;
        if at <= now {
            let tomorrow = today.tomorrow().map_err(|_| bad())?;
            at = on(tomorrow).map_err(|_| bad())?;
        }
        When {
            at,
            offset: tz.to_offset(at),
        }
    } else {
        iso(t)?
    };
    // whole seconds: what is shown and sent (`iso`) is the instant meant, exactly
    let when = When {
        at: Timestamp::from_second(when.at.as_second()).unwrap_or(when.at),
        ..when
    };
    if let Some(now) = now {
        if when.at <= now {
            return Err(format!(
                "{} is in the past (now: {})",
                when.shown(),
                When {
                    at: now,
                    offset: when.offset
                }
                .shown()
            ));
        }
        if when.at.as_second() - now.as_second() > MAX_AHEAD_DAYS * 86_400 {
            return Err(too_far(&shown));
        }
    }
    Ok(Some(when))
}

fn too_far(shown: &str) -> String {
    format!("{shown:?} is more than {MAX_AHEAD_DAYS} days ahead")
}

/// `1h30m` as seconds: numbers each with a unit, d h m s in that order, each at most once.
fn relative(s: &str) -> Option<i64> {
    const UNITS: [(char, i64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];
    let mut total: i64 = 0;
    let mut next = 0; // units before this one were used or skipped
    let mut digits = String::new();
    let mut any = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if digits.len() >= 7 {
                return None;
            }
            digits.push(c);
            continue;
        }
        let i = UNITS
            .iter()
            .position(|(u, _)| *u == c.to_ascii_lowercase())?;
        if i < next || digits.is_empty() {
            return None;
        }
        let n: i64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(UNITS[i].1)?)?;
        digits.clear();
        next = i + 1;
        any = true;
    }
    (any && digits.is_empty()).then_some(total)
}

/// `16:30` or `16:30:15`: a local time of day.
fn clock_time(s: &str) -> Option<Time> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n = |i: usize| parts.get(i).and_then(|p| p.parse::<i8>().ok());
    Time::new(n(0)?, n(1)?, if parts.len() == 3 { n(2)? } else { 0 }, 0).ok()
}

/// An ISO 8601 time with a zone offset, as Patroni requires.
fn iso(t: &str) -> Result<When, String> {
    let shown = crate::text::sanitize(t);
    let bad = || {
        format!(
            "{shown:?} is not a time: say +15m, 16:30, or ISO like 2026-11-26T02:00+00:00 (or now)"
        )
    };
    let p = Pieces::parse(t).map_err(|_| bad())?;
    let time = p.time().ok_or_else(bad)?;
    let offset = p
        .to_numeric_offset()
        .ok_or_else(|| format!("{shown:?} has no time zone: add one, e.g. {shown}+00:00"))?;
    let at = offset
        .to_timestamp(p.date().to_datetime(time))
        .map_err(|_| bad())?;
    Ok(When { at, offset })
}

/// How far `at` is from `now`: `in 1h 12m`, `in 14m`, `in 42s`, `now`, `3m ago`.
pub fn countdown(now: Timestamp, at: Timestamp) -> String {
    let d = at.as_second().saturating_sub(now.as_second());
    match d {
        0 => "now".into(),
        d if d > 0 => format!("in {}", span(d)),
        d => format!("{} ago", span(d.saturating_neg())),
    }
}

/// Seconds in the two largest units: `2d 3h`, `1h 12m`, `14m`, `42s`.
fn span(s: i64) -> String {
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz(hours: i8) -> TimeZone {
        TimeZone::fixed(jiff::tz::offset(hours))
    }

    /// 2026-12-07 15:18:00 UTC.
    fn now() -> Timestamp {
        "2026-12-07T15:18:00Z".parse().unwrap()
    }

    fn ok(s: &str, zone: i8) -> When {
        match parse(s, Some(now()), &tz(zone)) {
            Ok(Some(w)) => w,
            other => panic!("{s:?}: {other:?}"),
        }
    }

    #[test]
    fn now_and_empty_are_now() {
        for s in ["", "  ", "now", "NOW "] {
            assert_eq!(parse(s, Some(now()), &tz(1)), Ok(None));
            assert_eq!(parse(s, None, &tz(1)), Ok(None));
        }
    }

    #[test]
    fn relative_times_are_from_now_in_the_local_offset() {
        let w = ok("+15m", 1);
        assert_eq!(w.iso(), "2026-12-07T16:33:00+01:00");
        assert_eq!(w.shown(), "2026-12-07 16:33:00 +01:00");
        assert_eq!(ok("+2h", 0).iso(), "2026-12-07T17:18:00+00:00");
        assert_eq!(ok("+1h30m", -5).iso(), "2026-12-07T11:48:00-05:00");
        assert_eq!(ok(" +1d2h ", 0).iso(), "2026-12-08T17:18:00+00:00");
        assert_eq!(ok("+90s", 0).iso(), "2026-12-07T15:19:30+00:00");
        assert_eq!(ok("+1H", 0).iso(), "2026-12-07T16:18:00+00:00");
    }

    #[test]
    fn a_clock_time_is_today_or_tomorrow_when_past() {
        // 15:18 UTC is 16:18 at +01:00
        assert_eq!(ok("16:30", 1).iso(), "2026-12-07T16:30:00+01:00");
        assert_eq!(ok("16:30:15", 1).iso(), "2026-12-07T16:30:15+01:00");
        assert_eq!(ok("16:00", 1).iso(), "2026-12-08T16:00:00+01:00");
        // the very minute now is past: tomorrow
        assert_eq!(ok("16:18", 1).iso(), "2026-12-08T16:18:00+01:00");
        // across the date line: 15:18 UTC is already 04:18 on the 8th at +13:00
        assert_eq!(ok("05:00", 13).iso(), "2026-12-08T05:00:00+13:00");
        // and behind it: 07:18 on the 7th at -08:00
        assert_eq!(ok("9:05", -8).iso(), "2026-12-07T09:05:00-08:00");
        assert_eq!(ok("06:00", -8).iso(), "2026-12-08T06:00:00-08:00");
    }

    #[test]
    fn iso_times_keep_their_offset_and_say_it() {
        assert_eq!(
            ok("2026-12-07T16:30+01:00", 0).iso(),
            "2026-12-07T16:30:00+01:00"
        );
        let w = ok("2026-12-07T17:30:00Z", 1);
        assert_eq!(w.iso(), "2026-12-07T17:30:00+00:00");
        assert_eq!(w.shown(), "2026-12-07 17:30:00 +00:00");
        assert_eq!(
            ok("2026-12-07 12:00:00-05:00", 0).iso(),
            "2026-12-07T12:00:00-05:00"
        );
        // fractions of a second are dropped, so what is shown is what is sent
        let w = ok("2026-12-08T00:00:00.123456+01:00", 0);
        assert_eq!(parse(&w.iso(), None, &tz(0)), Ok(Some(w)));
        // without a wall clock an ISO time is taken as it is
        let w = parse("2020-01-01T00:00Z", None, &tz(0)).unwrap().unwrap();
        assert_eq!(w.iso(), "2020-01-01T00:00:00+00:00");
    }

    #[test]
    fn past_far_and_garbage_are_refused_with_a_reason() {
        let err = |s: &str| parse(s, Some(now()), &tz(1)).unwrap_err();
        assert!(
            err("2026-12-07T15:00Z").contains("in the past"),
            "{}",
            err("2026-12-07T15:00Z")
        );
        assert!(err("2026-12-07T15:18:00Z").contains("in the past"));
        assert!(err("+31d").contains("more than 30 days"));
        assert!(
            err("+9999999d").contains("more than 30 days")
                || err("+9999999d").contains("not a time")
        );
        assert!(err("2027-06-01T00:00Z").contains("more than 30 days"));
        assert!(err("+0m").contains("is now"));
        assert!(err("2026-11-26T02:00").contains("time zone"));
        for g in [
            "tomorrow",
            "+",
            "+m",
            "+15",
            "+15x",
            "+1m1h",
            "+1h1h",
            "+-5m",
            "+1.5h",
            "15",
            "25:00",
            "16:60",
            "16:30:99",
            "16:3:",
            ":30",
            "1:2:3:4",
            "2026-13-01T00:00Z",
            "2026-12-07",
            "2026-12-07T",
            "+99999999999999999999m",
            "16:30Z",
            "\u{202e}16:30",
            "+15m\u{0}",
            "26/11/2026T02:00Z",
            "2026-11-26T+",
        ] {
            let e = parse(g, Some(now()), &tz(1));
            assert!(e.is_err(), "{g:?}: {e:?}");
        }
        // hostile text comes back sanitized: no control or bidi character reaches the screen
        let e = err("\u{1b}[2J+5m\u{202e}");
        assert!(!e.chars().any(crate::text::is_unsafe), "{e:?}");
    }

    #[test]
    fn relative_and_clock_forms_need_the_wall_clock() {
        for s in ["+15m", "16:30"] {
            assert!(parse(s, None, &tz(0)).unwrap_err().contains("ISO"));
        }
    }

    #[test]
    fn countdowns() {
        let at = |s: i64| {
            now()
                .checked_add(jiff::SignedDuration::from_secs(s))
                .unwrap()
        };
        assert_eq!(countdown(now(), at(0)), "now");
        assert_eq!(countdown(now(), at(42)), "in 42s");
        assert_eq!(countdown(now(), at(14 * 60 + 59)), "in 14m");
        assert_eq!(countdown(now(), at(3600)), "in 1h");
        assert_eq!(countdown(now(), at(72 * 60)), "in 1h 12m");
        assert_eq!(countdown(now(), at(2 * 86_400 + 3 * 3600 + 60)), "in 2d 3h");
        assert_eq!(countdown(now(), at(86_400 + 60)), "in 1d");
        assert_eq!(countdown(now(), at(-180)), "3m ago");
    }
}
