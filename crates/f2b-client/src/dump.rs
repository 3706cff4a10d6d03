//! Writing the `-d` dump: Python `repr` of each command. Uses `f2b_protocol::Value`'s
//! repr, with a fast path for the common case (lists of printable-ASCII strings,
//! ints, bools) that produces the same bytes without the Unicode table lookups.

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

/// True when one of the 8 bytes of `w` needs attention (see [`SPECIAL`]); no false
/// positives or negatives (the classic "has a byte less than / equal to" word tests).
fn special_word(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    w & HIGH != 0
        || w.wrapping_sub(0x20 * ONES) & !w & HIGH != 0
        || has_zero(w ^ (0x7f * ONES))
        || has_zero(w ^ (b'\\' as u64 * ONES))
        || has_zero(w ^ (b'\'' as u64 * ONES))
        || has_zero(w ^ (b'"' as u64 * ONES))
}

/// Index of the first byte of `b` at or after `from` that [`SPECIAL`] marks.
fn next_special(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if special_word(w) {
            break;
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|&c| SPECIAL[c as usize])
        .map(|p| i + p)
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
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let start_len = out.len();
    out.reserve(s.len() + s.len() / 4 + 2);
    out.push(quote as char);
    // from the first special byte on, byte by byte: escapes are dense in regexes
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        if !SPECIAL[b as usize] {
            continue;
        }
        let esc = match b {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            b'"' if quote == b'"' => "\\\"",
            b'\'' if quote == b'\'' => "\\'",
            b'"' | b'\'' => continue,
            b if b >= 0x80 => {
                out.truncate(start_len);
                return false;
            }
            b => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str(&s[last..i]);
                out.push_str("\\x");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
                last = i + 1;
                continue;
            }
        };
        out.push_str(&s[last..i]);
        out.push_str(esc);
        last = i + 1;
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
            for at in 0..20 {
                let s = format!("{}{special}{}", "a".repeat(at), "b".repeat(20 - at));
                items.push(Value::str(s));
            }
        }
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
