//! The bits of Python that shape upstream's journal lines: python-systemd's field
//! converters (`int`, UTF-8 with bytes fallback), `int(x, 0)`, `repr(bytes)`, and
//! `datetime.fromtimestamp(us / 1000000, tz)` with `isoformat()` and `time.mktime`.

/// A field value after python-systemd's conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// Decoded text.
    Str(String),
    /// Bytes the converter could not handle.
    Bytes(Vec<u8>),
    /// An integer, as its canonical decimal text (Python ints are unbounded).
    Int(String),
    /// A field present several times.
    List(Vec<Value>),
}

impl Value {
    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::Int(n) => n != "0",
            Value::List(l) => !l.is_empty(),
        }
    }
}

/// The default converter: `bytes.decode()` (strict UTF-8), bytes kept on failure.
pub(crate) fn to_str(raw: &[u8]) -> Value {
    match std::str::from_utf8(raw) {
        Ok(s) => Value::Str(s.to_string()),
        Err(_) => Value::Bytes(raw.to_vec()),
    }
}

/// The `int` converter: `int(bytes)`, bytes kept on failure.
pub(crate) fn to_int(raw: &[u8]) -> Value {
    match py_int(raw, 10) {
        Some(n) => Value::Int(n),
        None => Value::Bytes(raw.to_vec()),
    }
}

fn is_py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Python's `int(bytes, base)` for base 10 or 0 (prefixes `0x`/`0o`/`0b`), returning
/// the canonical decimal text, or None where Python raises `ValueError`.
pub(crate) fn py_int(raw: &[u8], base: u32) -> Option<String> {
    let mut s = raw;
    while let [b, rest @ ..] = s {
        if !is_py_space(*b) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., b] = s {
        if !is_py_space(*b) {
            break;
        }
        s = rest;
    }
    let neg = match s.first() {
        Some(b'-') => {
            s = &s[1..];
            true
        }
        Some(b'+') => {
            s = &s[1..];
            false
        }
        _ => false,
    };
    let mut radix = 10;
    let mut prefixed = false;
    if base == 0 && s.len() >= 2 && s[0] == b'0' {
        radix = match s[1].to_ascii_lowercase() {
            b'x' => 16,
            b'o' => 8,
            b'b' => 2,
            _ => 10,
        };
        if radix != 10 {
            s = &s[2..];
            prefixed = true;
            // one underscore may follow the prefix
            if s.first() == Some(&b'_') {
                s = &s[1..];
            }
        }
    }
    if s.is_empty() || s[0] == b'_' || s[s.len() - 1] == b'_' {
        return None;
    }
    let mut digits = Vec::with_capacity(s.len());
    let mut prev_us = false;
    for &b in s {
        if b == b'_' {
            if prev_us {
                return None;
            }
            prev_us = true;
            continue;
        }
        prev_us = false;
        let d = (b as char).to_digit(radix)?;
        digits.push(d);
    }
    // base 0 rejects a decimal with leading zeros ("012"), but not "000"
    if base == 0
        && !prefixed
        && digits.len() > 1
        && digits[0] == 0
        && digits.iter().any(|&d| d != 0)
    {
        return None;
    }
    let dec = if radix == 10 {
        let t: String = digits
            .iter()
            .skip_while(|&&d| d == 0)
            .map(|&d| char::from_digit(d, 10).unwrap_or('0'))
            .collect();
        if t.is_empty() {
            "0".to_string()
        } else {
            t
        }
    } else {
        let mut v: u128 = 0;
        for d in digits {
            v = v.checked_mul(radix as u128)?.checked_add(d as u128)?;
        }
        v.to_string()
    };
    Some(if neg && dec != "0" {
        format!("-{dec}")
    } else {
        dec
    })
}

/// `repr(bytes)`.
pub(crate) fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::with_capacity(b.len() + 3);
    s.push('b');
    s.push(quote);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            c if c as char == quote => {
                s.push('\\');
                s.push(quote);
            }
            0x20..=0x7e => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push(quote);
    s
}

/// `repr()` of a converted value inside a list (`str(list)`).
pub(crate) fn value_repr(v: &Value) -> String {
    match v {
        Value::Int(n) => n.clone(),
        Value::Bytes(b) => bytes_repr(b),
        Value::Str(s) => {
            // only reached for odd inputs; Python's str repr with single quotes
            format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
        }
        Value::List(l) => format!(
            "[{}]",
            l.iter().map(value_repr).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A local time as fail2ban's systemd backend gives it: the ISO text of
/// `datetime.fromtimestamp(us / 1000000, tz)` and `mktime(timetuple) + µs / 1e6`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryTime {
    /// `datetime.isoformat()`, e.g. `2026-11-25T09:00:00.123456+00:00`.
    pub iso: String,
    /// Seconds since the epoch.
    pub time: f64,
}

/// CPython's `_PyTime_RoundHalfEven`.
fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - r).abs() == 0.5 {
        2.0 * (x / 2.0).round()
    } else {
        r
    }
}

/// Days since 1970-01-01 to (year, month, day) (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Converts a journal timestamp (µs) in a fixed UTC offset (python-systemd's
/// `_LOCAL_TIMEZONE`, taken once at import) the way upstream does. `mktime` is the
/// C library's, so the result follows the TZ rules of the process like Python's.
pub fn entry_time_at(usec: i64, utc_offset: i32) -> EntryTime {
    // us / 1000000 is a correctly rounded float, then split like _PyTime_ObjectToTimeval
    let d = usec as f64 / 1_000_000.0;
    let mut intpart = d.trunc();
    let mut frac = round_half_even((d - intpart) * 1e6);
    if frac >= 1e6 {
        frac -= 1e6;
        intpart += 1.0;
    } else if frac < 0.0 {
        frac += 1e6;
        intpart -= 1.0;
    }
    let secs = intpart as i64;
    let us = frac as i64;
    let local = secs + utc_offset as i64;
    let (y, mo, da) = civil_from_days(local.div_euclid(86_400));
    let sod = local.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, sod % 3600 / 60, sod % 60);
    let mut iso = format!("{y:04}-{mo:02}-{da:02}T{h:02}:{mi:02}:{s:02}");
    if us != 0 {
        iso.push_str(&format!(".{us:06}"));
    }
    let off = utc_offset.unsigned_abs();
    iso.push(if utc_offset < 0 { '-' } else { '+' });
    iso.push_str(&format!("{:02}:{:02}", off / 3600, off % 3600 / 60));
    if off % 60 != 0 {
        iso.push_str(&format!(":{:02}", off % 60));
    }
    // SAFETY: a zeroed tm is a valid value; mktime only reads/normalises it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    tm.tm_year = (y - 1900) as libc::c_int;
    tm.tm_mon = mo as libc::c_int - 1;
    tm.tm_mday = da as libc::c_int;
    tm.tm_hour = h as libc::c_int;
    tm.tm_min = mi as libc::c_int;
    tm.tm_sec = s as libc::c_int;
    tm.tm_isdst = -1;
    // SAFETY: valid tm pointer.
    let t = unsafe { libc::mktime(&mut tm) };
    EntryTime {
        iso,
        time: t as f64 + us as f64 / 1e6,
    }
}

/// The local UTC offset of this process, taken once (python-systemd computes its
/// `_LOCAL_TIMEZONE` at import from `datetime.now().astimezone()`).
pub fn local_utc_offset() -> i32 {
    static OFF: std::sync::OnceLock<i32> = std::sync::OnceLock::new();
    *OFF.get_or_init(|| {
        // SAFETY: time(NULL) and localtime_r with valid pointers.
        unsafe {
            let now = libc::time(std::ptr::null_mut());
            let mut tm: libc::tm = std::mem::zeroed();
            if libc::localtime_r(&now, &mut tm).is_null() {
                0
            } else {
                tm.tm_gmtoff as i32
            }
        }
    })
}

/// [`entry_time_at`] in this process's local offset.
pub fn entry_time(usec: i64) -> EntryTime {
    entry_time_at(usec, local_utc_offset())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, int(x) base 10, int(x, 0)) as Python 3.11 answers them.
    const INTS: &[(&[u8], Option<&str>, Option<&str>)] = &[
        (b"42", Some("42"), Some("42")),
        (b" 42 ", Some("42"), Some("42")),
        (b"\t-7\n", Some("-7"), Some("-7")),
        (b"+0", Some("0"), Some("0")),
        (b"-0", Some("0"), Some("0")),
        (b"007", Some("7"), None),
        (b"1_000", Some("1000"), Some("1000")),
        (b"1__0", None, None),
        (b"_1", None, None),
        (b"1_", None, None),
        (b"", None, None),
        (b" ", None, None),
        (b"0x1f", None, Some("31")),
        (b"0X_FF", None, Some("255")),
        (b"0o17", None, Some("15")),
        (b"0b101", None, Some("5")),
        (b"012", Some("12"), None),
        (b"0_0", Some("0"), Some("0")),
        (b"00", Some("0"), Some("0")),
        (b"1e3", None, None),
        (b"12a", None, None),
        (
            b"99999999999999999999999999",
            Some("99999999999999999999999999"),
            Some("99999999999999999999999999"),
        ),
        (b"--1", None, None),
        (b"+-1", None, None),
        (b"0x", None, None),
        (b"\xd9\xa1", None, None),
    ];

    #[test]
    fn int_conversion_follows_python() {
        for (raw, b10, b0) in INTS {
            assert_eq!(py_int(raw, 10).as_deref(), *b10, "int({raw:?})");
            assert_eq!(py_int(raw, 0).as_deref(), *b0, "int({raw:?}, 0)");
        }
    }

    #[test]
    fn bytes_repr_follows_python() {
        let cases: &[(&[u8], &str)] = &[
            (b"abc", "b'abc'"),
            (b"it's", "b\"it's\""),
            (b"it's \"q\"", "b'it\\'s \"q\"'"),
            (b"\x00\x7f\x80\xff", "b'\\x00\\x7f\\x80\\xff'"),
            (b"\\", "b'\\\\'"),
            (b"\t\r\n", "b'\\t\\r\\n'"),
        ];
        for (raw, want) in cases {
            assert_eq!(bytes_repr(raw), *want);
        }
    }

    #[test]
    fn iso_text_follows_python_fromtimestamp() {
        // datetime.fromtimestamp(us / 1000000, timezone(timedelta(seconds=off))).isoformat()
        let cases = [
            (1774744200000001, 0, "2026-03-29T00:30:00.000001+00:00"),
            (1774744200999999, 3600, "2026-03-29T01:30:00.999999+01:00"),
            (1774744200500000, -18000, "2026-03-28T19:30:00.500000-05:00"),
            (86400000000, 19800, "1970-01-02T05:30:00+05:30"),
            (1764061200000000, -34200, "2025-11-24T23:30:00-09:30"),
            (1, 0, "1970-01-01T00:00:00.000001+00:00"),
            (
                1774744200123457,
                9015,
                "2026-03-29T03:00:15.123457+02:30:15",
            ),
        ];
        for (us, off, want) in cases {
            assert_eq!(entry_time_at(us, off).iso, want, "{us} at {off}");
        }
    }

    #[test]
    fn truthiness_follows_python() {
        assert!(!Value::Int("0".into()).truthy());
        assert!(Value::Int("-1".into()).truthy());
        assert!(!Value::Str(String::new()).truthy());
        assert!(!Value::Bytes(Vec::new()).truthy());
        assert!(Value::List(vec![Value::Int("0".into())]).truthy());
    }
}
