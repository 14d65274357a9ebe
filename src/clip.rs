//! Cutting text from outside to a size patrol is willing to keep.

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
