//! Text payloads of the older opcodes (protocol-0 lines, Python 2 strings) and
//! CPython's errno map.

use super::error::{malformed, DecodeError};

/// CPython's errno → OSError subclass map (Linux errno values).
pub(super) fn os_error_subclass(errno: i64) -> Option<&'static str> {
    Some(match errno {
        11 | 114 | 115 => "BlockingIOError",
        10 => "ChildProcessError",
        32 | 108 => "BrokenPipeError",
        103 => "ConnectionAbortedError",
        111 => "ConnectionRefusedError",
        104 => "ConnectionResetError",
        17 => "FileExistsError",
        2 => "FileNotFoundError",
        21 => "IsADirectoryError",
        20 => "NotADirectoryError",
        4 => "InterruptedError",
        1 | 13 => "PermissionError",
        3 => "ProcessLookupError",
        110 => "TimeoutError",
        _ => return None,
    })
}

pub(super) fn utf8(b: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(b.to_vec()).map_err(|e| {
        let pos = e.utf8_error().valid_up_to();
        malformed(format!(
            "'utf-8' codec can't decode byte 0x{:02x} in position {pos}: invalid utf-8",
            b[pos]
        ))
    })
}

pub(super) fn ascii(b: &[u8]) -> Result<String, DecodeError> {
    match b.iter().position(|&c| c >= 0x80) {
        Some(pos) => Err(malformed(format!(
            "'ascii' codec can't decode byte 0x{:02x} in position {pos}: ordinal not in range(128)",
            b[pos]
        ))),
        None => Ok(b.iter().map(|&c| c as char).collect()),
    }
}

/// Python's `float()` on a protocol-0 FLOAT line.
pub(super) fn parse_py_float(s: &str) -> Option<f64> {
    match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        _ if s
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.eE_".contains(c)) =>
        {
            s.replace('_', "").parse().ok()
        }
        _ => None,
    }
}

/// `raw-unicode-escape` decoding (protocol-0 UNICODE): latin-1 plus `\uXXXX`/`\UXXXXXXXX`.
pub(super) fn raw_unicode_escape(b: &[u8]) -> Result<String, DecodeError> {
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() && (b[i + 1] == b'u' || b[i + 1] == b'U') {
            let n = if b[i + 1] == b'u' { 4 } else { 8 };
            let hex = b
                .get(i + 2..i + 2 + n)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    malformed(
                        "'rawunicodeescape' codec can't decode bytes: truncated \\uXXXX escape",
                    )
                })?;
            let ch = char::from_u32(hex).ok_or_else(|| {
                malformed("'rawunicodeescape' codec can't decode bytes: \\Uxxxxxxxx out of range")
            })?;
            out.push(ch);
            i += 2 + n;
        } else {
            out.push(c as char);
            i += 1;
        }
    }
    Ok(out)
}

/// Protocol-0 STRING: a quoted Python 2 string literal, decoded as ASCII.
pub(super) fn py2_string(l: &[u8]) -> Result<String, DecodeError> {
    let quoted = l.len() >= 2 && (l[0] == b'\'' || l[0] == b'"') && l[l.len() - 1] == l[0];
    if !quoted {
        return Err(malformed("the STRING opcode argument must be quoted"));
    }
    let body = &l[1..l.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        i += 1;
        if c != b'\\' || i >= body.len() {
            out.push(c);
            continue;
        }
        let e = body[i];
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\n' => {}
            b'x' => {
                let h = body
                    .get(i..i + 2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| malformed("invalid \\x escape"))?;
                out.push(h);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                for _ in 0..2 {
                    match body.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'\\' | b'\'' | b'"' => out.push(e),
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    ascii(&out)
}
