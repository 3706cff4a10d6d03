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

fn repr_ascii_str(s: &str, out: &mut String) -> bool {
    let bytes = s.as_bytes();
    let (mut sq, mut dq) = (false, false);
    let mut first = None;
    for (i, &b) in bytes.iter().enumerate() {
        if SPECIAL[b as usize] {
            match b {
                b'\'' => sq = true,
                b'"' => dq = true,
                b'\\' => {}
                b if b >= 0x80 => return false,
                _ => {}
            }
            first.get_or_insert(i);
        }
    }
    let quote = if sq && !dq { b'"' } else { b'\'' };
    out.push(quote as char);
    let Some(mut last) = first else {
        out.push_str(s);
        out.push(quote as char);
        return true;
    };
    out.push_str(&s[..last]);
    for (i, &b) in bytes.iter().enumerate().skip(last) {
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
            b => {
                out.push_str(&s[last..i]);
                out.push_str(&format!("\\x{b:02x}"));
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
