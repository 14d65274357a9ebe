//! Cutting text from outside to a size patrol is willing to keep, and the OSC 52 sequence
//! that puts text on the terminal's clipboard.

/// The OSC 52 sequence that puts `text` on the terminal's clipboard, or why not: text with
/// any character unsafe on a terminal (`text::is_unsafe`: C0 controls with newline and ESC,
/// DEL, C1, bidi controls) is refused whole. Pasted into a shell, a newline runs what came
/// before it and an end-of-paste sequence (`ESC [201~`) ends bracketed paste early; the
/// text patrol copies is built from checked hosts, this is the last line of defence.
pub fn osc52(text: &str) -> Result<String, &'static str> {
    use base64::Engine;
    if text.is_empty() {
        return Err("nothing to copy");
    }
    if text.chars().any(crate::text::is_unsafe) {
        return Err("the text holds control characters");
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    Ok(format!("\x1b]52;c;{b64}\x07"))
}

/// Cut `s` to at most `max` bytes on a character boundary, marking the cut with `…`
/// (within the bound).
pub fn clip_bytes(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mark = '…';
    let mut end = max.saturating_sub(mark.len_utf8());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    if max >= mark.len_utf8() {
        s.push(mark);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_refuses_text_with_controls_and_encodes_the_rest() {
        use base64::Engine;
        let ok = "postgresql://10.0.0.1:5432,[::1]:5433/postgres?target_session_attrs=read-write";
        let seq = osc52(ok).expect("plain text");
        let b64 = base64::engine::general_purpose::STANDARD.encode(ok);
        assert_eq!(seq, format!("\x1b]52;c;{b64}\x07"));
        // only the frame's own ESC and BEL
        assert_eq!(seq.matches('\x1b').count(), 1);
        assert_eq!(seq.matches('\x07').count(), 1);
        assert!(
            osc52("host=pg-ü.example port=5432").is_ok(),
            "UTF-8 without controls"
        );
        for bad in [
            "host=h\nrm -rf ~",
            "host=h\x1b[201~\nrm -rf ~",
            "host=h\x07",
            "host=h\r",
            "host=h\t",
            "host=h\x7f",
            "host=h\u{9b}31m",
            "host=h\u{202e}",
            "",
        ] {
            assert!(osc52(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cuts_on_a_char_boundary_within_the_bound() {
        let mut s = "ééééé".to_string(); // 10 bytes
        clip_bytes(&mut s, 6);
        assert!(s.len() <= 6, "{s:?}");
        assert_eq!(s, "é…");
        let mut short = "abc".to_string();
        clip_bytes(&mut short, 3);
        assert_eq!(short, "abc");
        let mut tiny = "abcdef".to_string();
        clip_bytes(&mut tiny, 2);
        assert!(tiny.len() <= 2);
    }
}
