//! Byte searches with the `memchr` crate's vectorised routines. The reader scans long
//! values (failregex lists, action commands) for `<`, `%` and newlines many times, and
//! `str::find(char)` uses a word-at-a-time loop that costs several times as much.

/// Below this length a plain loop beats the vectorised search's set-up.
const SHORT: usize = 16;

/// Byte offset of the first `b` in `s`.
#[inline]
pub fn find(s: &str, b: u8) -> Option<usize> {
    find_bytes(s.as_bytes(), b)
}

#[inline]
fn find_bytes(h: &[u8], b: u8) -> Option<usize> {
    if h.len() < SHORT {
        h.iter().position(|&c| c == b)
    } else {
        memchr::memchr(b, h)
    }
}

/// True when `s` contains the byte `b`.
#[inline]
pub fn contains(s: &str, b: u8) -> bool {
    find_bytes(s.as_bytes(), b).is_some()
}

/// True when `s` contains the byte `a` or the byte `b`.
#[inline]
pub fn contains2(s: &str, a: u8, b: u8) -> bool {
    let h = s.as_bytes();
    if h.len() < SHORT {
        h.iter().any(|&c| c == a || c == b)
    } else {
        memchr::memchr2(a, b, h).is_some()
    }
}

/// `s.split(b as char)` for an ASCII byte `b`.
pub fn split(s: &str, b: u8) -> Split<'_> {
    debug_assert!(b.is_ascii());
    Split { rest: Some(s), b }
}

/// Iterator of [`split`].
#[derive(Clone, Debug)]
pub struct Split<'a> {
    rest: Option<&'a str>,
    b: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        match find_bytes(s.as_bytes(), self.b) {
            // `b` is ASCII, so both sides of it are char boundaries
            Some(i) => {
                self.rest = Some(&s[i + 1..]);
                Some(&s[..i])
            }
            None => {
                self.rest = None;
                Some(s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_std() {
        // short and long haystacks (the search changes method at 16 bytes)
        let long = "0123456789abcdef<%\né".repeat(3);
        let cases = [
            "",
            "\n",
            "a",
            "a\n",
            "\na",
            "a\nb\n\nc",
            "é\nü\n",
            "<x>",
            "a<b<c",
        ];
        let suffixes = long.char_indices().map(|(i, _)| &long[i..]);
        for s in cases.into_iter().chain(suffixes) {
            for b in [b'\n', b'<', b'%', b'z'] {
                let ours: Vec<_> = split(s, b).collect();
                let std: Vec<_> = s.split(b as char).collect();
                assert_eq!(ours, std, "{s:?} {b}");
                assert_eq!(find(s, b), s.find(b as char));
                assert_eq!(contains(s, b), s.contains(b as char));
                let either = |c: char| c == b as char || c == '\n';
                assert_eq!(contains2(s, b, b'\n'), s.contains(either));
            }
        }
    }
}
