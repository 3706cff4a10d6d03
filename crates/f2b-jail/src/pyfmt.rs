//! Python-compatible numbers and time formatting used in log lines and replies.
//!
//! Upstream prints ban times with `str()` of Python ints or floats
//! (`600` vs `600.0`), `MyTime.seconds2str` (`1h 30m`) and `MyTime.time2str`
//! (local `YYYY-MM-DD HH:MM:SS`, capped at 9999-12-31 23:59:59).

use chrono::{Local, LocalResult, Offset, TimeZone, Timelike};
use std::cmp::Ordering;
use std::fmt;

/// A Python number: `int` or `float` (bools are folded into ints).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PyNum {
    /// Python `int` (kept to i64; the evaluator refuses overflow).
    Int(i64),
    /// Python `float`.
    Float(f64),
}

impl PyNum {
    /// The value as f64.
    pub fn as_f64(self) -> f64 {
        match self {
            PyNum::Int(i) => i as f64,
            PyNum::Float(f) => f,
        }
    }

    /// Python `int(x)` (truncation toward zero), as used by `%d`.
    pub fn trunc(self) -> i64 {
        match self {
            PyNum::Int(i) => i,
            PyNum::Float(f) => f as i64,
        }
    }

    /// True for a float.
    pub fn is_float(self) -> bool {
        matches!(self, PyNum::Float(_))
    }

    /// Numeric comparison across int/float like Python.
    pub fn cmp_num(self, other: PyNum) -> Option<Ordering> {
        match (self, other) {
            (PyNum::Int(a), PyNum::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }

    /// Python `max(a, b)`: returns `a` unless `b > a`.
    pub fn py_max(a: PyNum, b: PyNum) -> PyNum {
        if b.cmp_num(a) == Some(Ordering::Greater) {
            b
        } else {
            a
        }
    }

    /// Python `min(a, b)`: returns `a` unless `b < a`.
    pub fn py_min(a: PyNum, b: PyNum) -> PyNum {
        if b.cmp_num(a) == Some(Ordering::Less) {
            b
        } else {
            a
        }
    }
}

impl From<i64> for PyNum {
    fn from(v: i64) -> Self {
        PyNum::Int(v)
    }
}

impl fmt::Display for PyNum {
    /// Python `str()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PyNum::Int(i) => write!(f, "{i}"),
            PyNum::Float(x) => f.write_str(&py_float_repr(x)),
        }
    }
}

/// Python `repr(float)`: shortest round-trip digits, `.0` for integral
/// values, exponent form outside `1e-4 <= |x| < 1e16`.
pub fn py_float_repr(x: f64) -> String {
    f2b_py::float_repr(x)
}

/// Upstream `MyTime.time2str`: local time `YYYY-MM-DD HH:MM:SS`, values at
/// or beyond year 9999 (and permanent bans) print as `9999-12-31 23:59:59`.
pub fn time2str(unix: f64) -> String {
    const MAX: &str = "9999-12-31 23:59:59";
    if unix >= 253_402_214_400.0 || unix.is_nan() {
        return MAX.into();
    }
    let secs = unix.floor() as i64;
    // a busy jail formats the same minute many times (`Found` lines): keep the text
    // of the last minute ("YYYY-MM-DD HH:MM:") and the UTC second it starts at
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> =
            const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    if let Some(s) = LAST.with(|c| {
        let c = c.borrow();
        let d = secs.wrapping_sub(c.0);
        (0..60).contains(&d).then(|| {
            let mut s = String::with_capacity(19);
            s.push_str(&c.1);
            s.push(char::from(b'0' + (d / 10) as u8));
            s.push(char::from(b'0' + (d % 10) as u8));
            s
        })
    }) {
        return s;
    }
    match Local.timestamp_opt(secs, 0) {
        LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) => {
            let s = dt.format("%Y-%m-%d %H:%M:%S").to_string();
            // the minute is cached only for offsets of whole minutes, so that its 60
            // seconds share one local minute (tz transitions fall on whole minutes)
            if dt.offset().fix().local_minus_utc() % 60 == 0 && s.len() == 19 {
                let start = secs - i64::from(dt.second());
                LAST.with(|c| *c.borrow_mut() = (start, s[..17].to_string()));
            }
            s
        }
        LocalResult::None => MAX.into(),
    }
}

/// Upstream `MyTime.seconds2str`: `1y 3w 4d`, `2d 7h 15m`, `1h`, `59m 50s`, `0`.
///
/// Floats keep Python's float printing in the components (`20.0m`) exactly
/// like upstream.
pub fn seconds2str(sec: PyNum) -> String {
    let f = sec.as_f64();
    // i128: Python ints do not overflow for huge formula results
    let round = |div: f64| -> i128 { py_round_wide(f / div) };
    if f >= 31_536_000.0 {
        let mut s = round(86400.0);
        let mut r = format!("{}y ", s.div_euclid(365));
        s = s.rem_euclid(365);
        if s >= 7 {
            r += &format!("{}w ", s / 7);
            s %= 7;
        }
        if s != 0 {
            r += &format!("{s}d ");
        }
        r.pop();
        return r;
    }
    if f >= 604_800.0 {
        let mut s = round(3600.0);
        let mut r = format!("{}w ", s / 168);
        s %= 168;
        if s >= 24 {
            r += &format!("{}d ", s / 24);
            s %= 24;
        }
        if s != 0 {
            r += &format!("{s}h ");
        }
        r.pop();
        return r;
    }
    if f >= 86_400.0 {
        let mut s = round(60.0);
        let mut r = format!("{}d ", s / 1440);
        s %= 1440;
        if s >= 60 {
            r += &format!("{}h ", s / 60);
            s %= 60;
        }
        if s != 0 {
            r += &format!("{s}m ");
        }
        r.pop();
        return r;
    }
    if f >= 3595.0 {
        let mut s = round(10.0);
        let mut r = format!("{}h ", s / 360);
        s %= 360;
        if s >= 6 {
            r += &format!("{}m ", s / 6);
        }
        r.pop();
        return r;
    }
    // Below an hour the original number type is kept (int or float arithmetic).
    let mut r = String::new();
    match sec {
        PyNum::Int(mut s) => {
            if s >= 60 {
                r += &format!("{}m ", s.div_euclid(60));
                s = s.rem_euclid(60);
            }
            if s != 0 {
                r += &format!("{s}s ");
            } else if sec.as_f64() == 0.0 {
                r = "0 ".into();
            }
        }
        PyNum::Float(mut s) => {
            if s >= 60.0 {
                r += &format!("{}m ", py_float_repr((s / 60.0).floor()));
                s = s.rem_euclid(60.0);
            }
            if s != 0.0 {
                r += &format!("{}s ", py_float_repr(s));
            } else if f == 0.0 {
                r = "0 ".into();
            }
        }
    }
    r.pop();
    r
}

fn py_round_wide(x: f64) -> i128 {
    if x.abs() < 4e18 {
        py_round(x) as i128
    } else {
        // integral already at this magnitude
        x as i128
    }
}

/// Python 3 `round()` to an integer (banker's rounding on exact halves).
pub fn py_round(x: f64) -> i64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 {
        // tie: round half to even
        let t = x.trunc();
        if (t as i64) % 2 == 0 {
            t as i64
        } else {
            r as i64
        }
    } else {
        r as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr() {
        for (x, s) in [
            (20.0, "20.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1.5e-5, "1.5e-05"),
            (-2.5, "-2.5"),
            (123456789.125, "123456789.125"),
        ] {
            assert_eq!(py_float_repr(x), s);
        }
    }

    #[test]
    fn seconds_to_str() {
        // Checked against upstream MyTime.seconds2str (its docstring is off for 365.5 d).
        let cases: [(PyNum, &str); 10] = [
            (PyNum::Int(86400 * 390), "1y 3w 4d"),
            (PyNum::Int(86400 * 368), "1y 3d"),
            (PyNum::Float(86400.0 * 365.5), "1y 1d"),
            (PyNum::Int(86400 * 2 + 3600 * 7 + 60 * 15), "2d 7h 15m"),
            (PyNum::Int(86400 * 2 + 3599), "2d 1h"),
            (PyNum::Int(3600 - 5), "1h"),
            (PyNum::Int(3600 - 10), "59m 50s"),
            (PyNum::Int(59), "59s"),
            (PyNum::Int(0), "0"),
            (PyNum::Float(1200.0), "20.0m"),
        ];
        for (v, s) in cases {
            assert_eq!(seconds2str(v), s, "{v:?}");
        }
    }

    #[test]
    fn rounding() {
        assert_eq!(py_round(2.5), 2);
        assert_eq!(py_round(3.5), 4);
        assert_eq!(py_round(-2.5), -2);
        assert_eq!(py_round(2.4), 2);
        assert_eq!(time2str(1e300), "9999-12-31 23:59:59");
    }

    #[test]
    fn time2str_minute_cache_gives_chrono_text() {
        let direct = |t: f64| match Local.timestamp_opt(t.floor() as i64, 0) {
            LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) => {
                dt.format("%Y-%m-%d %H:%M:%S").to_string()
            }
            LocalResult::None => unreachable!(),
        };
        // walks over minute and hour edges, backwards steps and jumps
        let mut t = 1_711_846_700.5; // 2024-03-31, a DST change in Europe
        for step in [
            1.0, 7.0, 13.0, 59.0, 60.0, -1.0, -61.0, 3599.0, 0.25, 86_401.0,
        ] {
            for _ in 0..200 {
                t += step;
                assert_eq!(time2str(t), direct(t), "{t}");
            }
        }
    }
}
