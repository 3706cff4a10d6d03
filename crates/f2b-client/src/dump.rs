//! Writing the `-d` dump: Python `repr` of each command. Uses `f2b_protocol::Value`'s
//! repr, with a fast path for the common case (lists of printable-ASCII strings,
//! ints, bools) that produces the same bytes without the Unicode table lookups.

use f2b_protocol::Value;

fn repr_ascii_str(s: &str, out: &mut String) -> bool {
    if !s.is_ascii() {
        return false;
    }
    let quote = if s.contains('\'') && !s.contains('"') {
        b'"'
    } else {
        b'\''
    };
    out.push(quote as char);
    let bytes = s.as_bytes();
    let mut last = 0;
    while let Some(off) = bytes[last..]
        .iter()
        .position(|&b| b == b'\\' || b == quote || !(0x20..=0x7e).contains(&b))
    {
        let i = last + off;
        out.push_str(&s[last..i]);
        match bytes[i] {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'"' if quote == b'"' => out.push_str("\\\""),
            b'\'' if quote == b'\'' => out.push_str("\\'"),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
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
