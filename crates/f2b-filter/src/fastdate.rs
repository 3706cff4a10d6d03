//! A hand-written matcher for the most common date template, the anchored
//! syslog one (`{^LN-BEG}(?:DAY )?MON Day %k:Minute:Second(?:\.Microseconds)?(?: ExYear)?`).
//!
//! It recognises only the plain shape `Mon dd hh:mm:ss` at column 0 followed by
//! a non-word character (or the end), where the regex's result is unambiguous;
//! anything else returns `None` and the caller runs the regex, so the result is
//! always the regex's.

use crate::pyre::Caps;

/// The name of the template this fast path stands for.
pub const SYSLOG_NAME: &str =
    r"{^LN-BEG}(?:DAY )?MON Day %k:Minute:Second(?:\.Microseconds)?(?: ExYear)?";

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// Group indices of the syslog template regex.
#[derive(Debug, Clone, Copy)]
pub struct SyslogGroups {
    /// Number of groups (including 0).
    pub len: usize,
    /// b, d, H, M, S.
    pub b: usize,
    /// day
    pub d: usize,
    /// hour
    pub h: usize,
    /// minute
    pub m: usize,
    /// second
    pub s: usize,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Spans as the regex would report them, or `None` when the fast path cannot
/// decide.
pub fn match_syslog(line: &str, g: &SyslogGroups) -> Option<Caps> {
    let b = line.as_bytes();
    if b.len() < 15 {
        return None;
    }
    let mon = [
        b[0].to_ascii_lowercase(),
        b[1].to_ascii_lowercase(),
        b[2].to_ascii_lowercase(),
    ];
    if !b[0].is_ascii_alphabetic() || !MONTHS.iter().any(|m| **m == mon) || b[3] != b' ' {
        return None;
    }
    // day: "dd" (10-31), " d", "0d" or "d" followed by a space
    let (d0, d1) = (b[4], b[5]);
    let (dspan, mut i) = if d0.is_ascii_digit() && d1.is_ascii_digit() {
        let v = (d0 - b'0') * 10 + (d1 - b'0');
        if !(1..=31).contains(&v) {
            return None;
        }
        ((4, 6), 6)
    } else if d0 == b' ' && (b'1'..=b'9').contains(&d1) {
        ((4, 6), 6)
    } else if (b'1'..=b'9').contains(&d0) && d1 == b' ' {
        ((4, 5), 5)
    } else {
        return None;
    };
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    // hh:mm:ss, two digits each
    let t = b.get(i..i + 8)?;
    let ok = (b'0'..=b'2').contains(&t[0])
        && t[1].is_ascii_digit()
        && t[2] == b':'
        && (b'0'..=b'5').contains(&t[3])
        && t[4].is_ascii_digit()
        && t[5] == b':'
        && (b'0'..=b'5').contains(&t[6])
        && t[7].is_ascii_digit();
    if !ok {
        return None;
    }
    let end = i + 8;
    match b.get(end) {
        None => {}
        Some(&c) if c == b'.' || is_word_byte(c) || c >= 0x80 => return None,
        // an optional " 20[012]d" year would be taken by the regex
        Some(b' ') if b.get(end + 1) == Some(&b'2') => return None,
        Some(_) => {}
    }
    let mut spans = vec![None; g.len];
    spans[0] = Some((0, end));
    spans[1] = Some((0, end));
    spans[g.b] = Some((0, 3));
    spans[g.d] = Some(dspan);
    spans[g.h] = Some((i, i + 2));
    spans[g.m] = Some((i + 3, i + 5));
    spans[g.s] = Some((i + 6, i + 8));
    Some(Caps { spans })
}
