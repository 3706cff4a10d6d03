//! Arbitrary-precision integers as pickle carries them (little-endian two's
//! complement for LONG1/LONG4, decimal text for INT/LONG), converted to
//! `Value::Int` when they fit in an `i64` and to `Value::BigInt` (decimal) otherwise.

use crate::value::Value;

/// Decodes little-endian two's complement bytes (empty = 0).
pub(crate) fn from_le_twos(b: &[u8]) -> Value {
    if b.is_empty() {
        return Value::Int(0);
    }
    let negative = b[b.len() - 1] & 0x80 != 0;
    if b.len() <= 8 {
        let mut a = if negative { [0xffu8; 8] } else { [0u8; 8] };
        a[..b.len()].copy_from_slice(b);
        return Value::Int(i64::from_le_bytes(a));
    }
    // Magnitude in big-endian base-256 digits.
    let mut mag: Vec<u8> = b.iter().rev().copied().collect();
    if negative {
        // Two's complement negate: invert and add one.
        for x in mag.iter_mut() {
            *x = !*x;
        }
        for x in mag.iter_mut().rev() {
            let (v, carry) = x.overflowing_add(1);
            *x = v;
            if !carry {
                break;
            }
        }
    }
    let digits = to_decimal(&mag);
    normalize(negative, &digits)
}

/// Converts big-endian base-256 digits to a decimal string.
fn to_decimal(mag: &[u8]) -> String {
    let mut n: Vec<u8> = mag.to_vec();
    let mut out = Vec::new();
    while n.iter().any(|&x| x != 0) {
        // Divide by 10^9 repeatedly, collecting remainders.
        let mut rem: u64 = 0;
        for x in n.iter_mut() {
            let cur = rem << 8 | *x as u64;
            *x = (cur / 1_000_000_000) as u8;
            rem = cur % 1_000_000_000;
        }
        out.push(rem);
        while n.first() == Some(&0) {
            n.remove(0);
        }
    }
    let mut s = String::new();
    for (i, chunk) in out.iter().rev().enumerate() {
        if i == 0 {
            s.push_str(&chunk.to_string());
        } else {
            s.push_str(&format!("{chunk:09}"));
        }
    }
    if s.is_empty() {
        s.push('0');
    }
    s
}

fn normalize(negative: bool, digits: &str) -> Value {
    let digits = digits.trim_start_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let text = if negative && digits != "0" {
        format!("-{digits}")
    } else {
        digits.to_string()
    };
    match text.parse::<i64>() {
        Ok(i) => Value::Int(i),
        Err(_) => Value::BigInt(text),
    }
}

/// Parses a decimal integer as Python's `int()` does (sign, digits, `_` separators).
pub(crate) fn parse_decimal(s: &str) -> Option<Value> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty()
        || body.starts_with('_')
        || body.ends_with('_')
        || body.contains("__")
        || !body.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    Some(normalize(negative, &body.replace('_', "")))
}

/// Encodes an integer given as decimal text to minimal little-endian two's complement.
pub(crate) fn to_le_twos_decimal(s: &str) -> Vec<u8> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    // Magnitude as little-endian base-256.
    let mut mag: Vec<u8> = Vec::new();
    for d in digits.bytes().filter(u8::is_ascii_digit) {
        let mut carry = (d - b'0') as u32;
        for x in mag.iter_mut() {
            let v = *x as u32 * 10 + carry;
            *x = v as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            mag.push(carry as u8);
            carry >>= 8;
        }
    }
    if negative {
        // -m in two's complement: invert (m - 1).
        for x in mag.iter_mut() {
            let (v, borrow) = x.overflowing_sub(1);
            *x = v;
            if !borrow {
                break;
            }
        }
        for x in mag.iter_mut() {
            *x = !*x;
        }
        if mag.last().map_or(true, |&x| x & 0x80 == 0) {
            mag.push(0xff);
        }
        while mag.len() > 1 && mag[mag.len() - 1] == 0xff && mag[mag.len() - 2] & 0x80 != 0 {
            mag.pop();
        }
    } else {
        if mag.last().is_some_and(|&x| x & 0x80 != 0) {
            mag.push(0);
        }
        while mag.len() > 1 && mag[mag.len() - 1] == 0 && mag[mag.len() - 2] & 0x80 == 0 {
            mag.pop();
        }
    }
    mag
}

/// Minimal little-endian two's complement of an `i64` (Python's `encode_long`).
pub(crate) fn to_le_twos_i64(v: i64) -> Vec<u8> {
    if v == 0 {
        return Vec::new();
    }
    let mut b = v.to_le_bytes().to_vec();
    while b.len() > 1 {
        let last = b[b.len() - 1];
        let prev_sign = b[b.len() - 2] & 0x80;
        if (last == 0 && prev_sign == 0) || (last == 0xff && prev_sign != 0) {
            b.pop();
        } else {
            break;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_big() {
        for s in [
            "12345678901234567890",
            "-12345678901234567890",
            "-9223372036854775809",
            "340282366920938463463374607431768211456",
        ] {
            let b = to_le_twos_decimal(s);
            assert_eq!(from_le_twos(&b), Value::BigInt(s.into()), "{s}");
        }
        for v in [1i64, -1, 127, 128, -128, -129, 255, i64::MIN, i64::MAX] {
            assert_eq!(from_le_twos(&to_le_twos_i64(v)), Value::Int(v));
        }
        assert_eq!(to_le_twos_i64(255), vec![0xff, 0]);
        assert_eq!(to_le_twos_i64(-1), vec![0xff]);
        assert_eq!(
            to_le_twos_decimal("-9223372036854775809"),
            vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff]
        );
    }
}
