//! Writing the `-d` dump: Python `repr` of each command. Uses `f2b_protocol::Value`'s
//! repr, with a fast path for the common case (lists of printable-ASCII strings,
//! ints, bools) that produces the same bytes without the Unicode table lookups.

use f2b_ini::scan;
use f2b_protocol::Value;

/// Bytes a repr may have to escape: `\\`, both quotes, and everything outside
/// printable ASCII.
const SPECIAL: [bool; 256] = {
    let mut t = [true; 256];
    let mut b = 0x20;
    while b <= 0x7e {
        t[b] = false;
        b += 1;
    }
    t[b'\\' as usize] = true;
    t[b'\'' as usize] = true;
    t[b'"' as usize] = true;
    t
};

/// Bit `k` set when byte `k` of the 16 is special (see [`SPECIAL`]).
#[cfg(target_arch = "x86_64")]
#[inline]
fn special_mask16(chunk: &[u8; 16]) -> u32 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline; the load reads exactly the 16 bytes.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr() as *const __m128i);
        // signed: bytes >= 0x80 are negative, so "< 0x20" also catches non-ASCII
        let ctl = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
        let del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
        let bs = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        let sq = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\'' as i8));
        let dq = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let m = _mm_or_si128(
            _mm_or_si128(ctl, del),
            _mm_or_si128(bs, _mm_or_si128(sq, dq)),
        );
        _mm_movemask_epi8(m) as u32
    }
}

/// Bit `k` set when byte `k` of the 16 is special (see [`SPECIAL`]).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn special_mask16(chunk: &[u8; 16]) -> u32 {
    chunk
        .iter()
        .enumerate()
        .fold(0, |m, (k, &c)| m | (u32::from(SPECIAL[c as usize]) << k))
}

/// What a special byte becomes inside a repr quoted with `quote`.
enum Esc {
    /// Kept as it is (the other quote).
    Keep,
    /// Replaced by this escape.
    Text(&'static str),
    /// A control character: `\xNN`.
    Hex,
    /// Not ASCII: left to the full repr.
    Unicode,
}

#[inline]
fn escape(b: u8, quote: u8) -> Esc {
    match b {
        b'\\' => Esc::Text("\\\\"),
        b'\n' => Esc::Text("\\n"),
        b'\r' => Esc::Text("\\r"),
        b'\t' => Esc::Text("\\t"),
        b'"' if quote == b'"' => Esc::Text("\\\""),
        b'\'' if quote == b'\'' => Esc::Text("\\'"),
        b'"' | b'\'' => Esc::Keep,
        b if b >= 0x80 => Esc::Unicode,
        _ => Esc::Hex,
    }
}

/// Index of the first byte of `b` at or after `from` that [`SPECIAL`] marks.
fn next_special(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(chunk) = b.get(i..i + 16) {
        let m = special_mask16(chunk.try_into().expect("16 bytes"));
        if m != 0 {
            return Some(i + m.trailing_zeros() as usize);
        }
        i += 16;
    }
    b[i..]
        .iter()
        .position(|&c| SPECIAL[c as usize])
        .map(|p| i + p)
}

/// Escapes the special byte `s[i]` (copying the text since `last` first); false if
/// it is not ASCII.
#[inline(always)]
fn put(s: &str, i: usize, quote: u8, last: &mut usize, out: &mut String) -> bool {
    let b = s.as_bytes()[i];
    match escape(b, quote) {
        Esc::Keep => return true,
        Esc::Text(t) => {
            out.push_str(&s[*last..i]);
            out.push_str(t);
        }
        Esc::Hex => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str(&s[*last..i]);
            out.push_str("\\x");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
        Esc::Unicode => return false,
    }
    *last = i + 1;
    true
}

/// Appends the repr of an ASCII string; false (nothing appended) when `s` is not
/// ASCII, which the caller leaves to the full Unicode-aware repr.
fn repr_ascii_str(s: &str, out: &mut String) -> bool {
    let bytes = s.as_bytes();
    let Some(first) = next_special(bytes, 0) else {
        out.reserve(s.len() + 2);
        out.push('\'');
        out.push_str(s);
        out.push('\'');
        return true;
    };
    // no quote before the first special byte
    let rest = &s[first..];
    let quote = if scan::contains(rest, b'\'') && !scan::contains(rest, b'"') {
        b'"'
    } else {
        b'\''
    };
    let start_len = out.len();
    out.reserve(s.len() + s.len() / 4 + 2);
    out.push(quote as char);
    // text is copied up to each special byte, found 16 bytes at a time
    let mut last = 0;
    let mut i = first;
    while let Some(chunk) = bytes.get(i..i + 16) {
        let mut m = special_mask16(chunk.try_into().expect("16 bytes"));
        while m != 0 {
            if !put(s, i + m.trailing_zeros() as usize, quote, &mut last, out) {
                out.truncate(start_len);
                return false;
            }
            m &= m - 1;
        }
        i += 16;
    }
    for k in i..bytes.len() {
        if SPECIAL[bytes[k] as usize] && !put(s, k, quote, &mut last, out) {
            out.truncate(start_len);
            return false;
        }
    }
    out.push_str(&s[last..]);
    out.push(quote as char);
    true
}

/// Appends `repr(v)` to `out`.
pub fn repr_into(v: &Value, out: &mut String) {
    match v {
        Value::Str(s) => {
            if !repr_ascii_str(s, out) {
                out.push_str(&v.repr());
            }
        }
        Value::List(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                repr_into(item, out);
            }
            out.push(']');
        }
        Value::Int(i) => {
            out.push_str(&i.to_string());
        }
        other => out.push_str(&other.repr()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_as_value_repr() {
        let strs = [
            "",
            "a",
            "it's",
            "say \"hi\"",
            "both ' and \"",
            "back\\slash",
            "tab\there",
            "nl\n",
            "é",
            "\x7f",
            "~",
            "'\\'",
            "\x00\x1b\r",
            "mix 'q' \"d\" \\ \n\t",
            "\"only double\"",
        ];
        let mut items: Vec<Value> = strs.iter().map(|s| Value::str(*s)).collect();
        // long strings: each special byte at every offset of a word and past it
        for special in [
            "'", "\"", "\\", "\n", "\x01", "\x1f", " ", "~", "\x7f", "é", "<",
        ] {
            for at in 0..40 {
                let s = format!("{}{special}{}", "a".repeat(at), "b".repeat(40 - at));
                items.push(Value::str(s));
                // and a second one further on, in the same or a later 16-byte block
                let s = format!(
                    "{}{special}x{special}{}",
                    "a".repeat(at),
                    "b".repeat(at % 7)
                );
                items.push(Value::str(s));
            }
        }
        // dense escapes as in failregex values, long enough for several blocks
        let re = r"^\s*(?:\S+ )?(?:kernel: \[ *\d+\.\d+\] )?(?:@vserver_\S+ )?<HOST> 'x' \t";
        items.push(Value::str(re));
        items.push(Value::str(format!("{re}\n{re}\"{re}")));
        items.push(Value::str(format!("{re}é")));
        items.push(Value::str(format!("{re}\x05{re}")));
        items.push(Value::Int(-5));
        items.push(Value::Bool(true));
        items.push(Value::None);
        items.push(Value::Dict(vec![(Value::str("k"), Value::Int(1))]));
        let nested = Value::List(vec![Value::List(items.clone()), Value::str("x")]);
        for v in items.iter().chain(std::iter::once(&nested)) {
            let mut out = String::new();
            repr_into(v, &mut out);
            assert_eq!(out, v.repr(), "{v:?}");
        }
    }
}
