//! Time abbreviations (`MyTime.str2seconds` in
//! `server/mytime.py`): `10m`, `1h 30m`, `1d12h`, `1mo` (a float), `-1`.
//!
//! Upstream rewrites unit words into `*<seconds>` and evaluates the result as a
//! Python expression; this module does the same rewriting and evaluates the
//! arithmetic subset (`+ - * / // % **`, parentheses, int and float literals) with
//! Python's int/float semantics.

use std::fmt;

use f2b_ini::py;

/// A Python number: `int` or `float`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// A Python `int` (bounded to i128 here).
    Int(i128),
    /// A Python `float`.
    Float(f64),
}

impl Num {
    /// The value as `f64`.
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

impl fmt::Display for Num {
    /// Python's `str()` of the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::Int(i) => write!(f, "{i}"),
            Num::Float(x) => f.write_str(&f2b_protocol::value::float_repr(*x)),
        }
    }
}

/// Why a time string could not be evaluated (upstream: a Python exception from `eval`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError(pub String);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TimeError {}

const UNITS: [(&[&str], &str); 7] = [
    (&["days", "day", "da", "dd", "d"], "*86400"),
    (&["weeks", "week", "wee", "we", "ww", "w"], "*604800"),
    (&["months", "month", "mon", "mo"], "*2629800.0"),
    (&["years", "year", "yea", "ye", "yy", "y"], "*31557600.0"),
    (&["seconds", "second", "sec", "se", "ss", "s"], "*1"),
    (&["minutes", "minute", "min", "mi", "mm", "m"], "*60"),
    (&["hours", "hour", "hou", "ho", "hh", "h"], "*3600"),
];

fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

/// `(?i)(?<=[\d\s])(alt1|alt2|...)\b` → `rpl`, applied like `re.sub`.
fn sub_unit(s: &str, alts: &[&str], rpl: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev: Option<char> = None;
    let mut i = 0;
    while i < s.len() {
        let c = s[i..].chars().next().expect("in bounds");
        if prev.is_some_and(|p| is_digit(p) || py::is_space(p)) {
            let hit = alts.iter().find(|a| {
                s.len() >= i + a.len()
                    && s.is_char_boundary(i + a.len())
                    && s[i..i + a.len()].eq_ignore_ascii_case(a)
                    && !s[i + a.len()..].chars().next().is_some_and(py::is_word)
            });
            if let Some(a) = hit {
                out.push_str(rpl);
                prev = s[..i + a.len()].chars().next_back();
                i += a.len();
                continue;
            }
        }
        out.push(c);
        prev = Some(c);
        i += c.len_utf8();
    }
    out
}

/// The textual rewriting of `str2seconds` (before evaluation).
pub fn str2seconds_expr(val: &str) -> String {
    // (?i)(?<=[a-z])(\d) -> " \1"
    let mut s = String::with_capacity(val.len() + 4);
    let mut prev: Option<char> = None;
    for c in val.chars() {
        if is_digit(c) && prev.is_some_and(|p| p.is_ascii_alphabetic()) {
            s.push(' ');
        }
        s.push(c);
        prev = Some(c);
    }
    for (alts, rpl) in UNITS {
        s = sub_unit(&s, alts, rpl);
    }
    // (\d)\s+(\d) -> \1+\2 (non-overlapping, left to right)
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if is_digit(chars[i]) {
            let mut j = i + 1;
            while j < chars.len() && py::is_space(chars[j]) {
                j += 1;
            }
            if j > i + 1 && j < chars.len() && is_digit(chars[j]) {
                out.push(chars[i]);
                out.push('+');
                out.push(chars[j]);
                i = j + 1;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// `MyTime.str2seconds`: evaluates a time abbreviation to a number of seconds.
pub fn str2seconds_num(val: &str) -> Result<Num, TimeError> {
    let expr = str2seconds_expr(val);
    let mut p = Parser {
        t: tokenize(&expr)?,
        i: 0,
    };
    let v = p.expr()?;
    if p.i != p.t.len() {
        return Err(TimeError("invalid syntax".into()));
    }
    Ok(v)
}

/// `MyTime.str2seconds` as `f64` seconds.
pub fn str2seconds(val: &str) -> Result<f64, TimeError> {
    str2seconds_num(val).map(Num::as_f64)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(Num),
    Op(&'static str),
    LParen,
    RParen,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, TimeError> {
    let b: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if py::is_space(c) {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let st = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == '_') {
                i += 1;
            }
            let mut float = false;
            if i < b.len() && b[i] == '.' {
                float = true;
                i += 1;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == '_') {
                    i += 1;
                }
            }
            if i < b.len() && (b[i] == 'e' || b[i] == 'E') {
                let save = i;
                i += 1;
                if i < b.len() && (b[i] == '+' || b[i] == '-') {
                    i += 1;
                }
                if i < b.len() && b[i].is_ascii_digit() {
                    float = true;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                } else {
                    i = save;
                }
            }
            if i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                return Err(TimeError("invalid decimal literal".into()));
            }
            let lit: String = b[st..i].iter().filter(|&&c| c != '_').collect();
            if float {
                let f: f64 = lit
                    .parse()
                    .map_err(|_| TimeError("invalid syntax".into()))?;
                out.push(Tok::Num(Num::Float(f)));
            } else {
                if lit.len() > 1 && lit.starts_with('0') && lit.bytes().any(|d| d != b'0') {
                    return Err(TimeError(
                        "leading zeros in decimal integer literals are not permitted".into(),
                    ));
                }
                let v: i128 = lit
                    .parse()
                    .map_err(|_| TimeError("integer too large".into()))?;
                out.push(Tok::Num(Num::Int(v)));
            }
            continue;
        }
        let two: String = b[i..(i + 2).min(b.len())].iter().collect();
        let op = match two.as_str() {
            "**" => Some("**"),
            "//" => Some("//"),
            _ => None,
        };
        if let Some(op) = op {
            out.push(Tok::Op(op));
            i += 2;
            continue;
        }
        match c {
            '+' => out.push(Tok::Op("+")),
            '-' => out.push(Tok::Op("-")),
            '*' => out.push(Tok::Op("*")),
            '/' => out.push(Tok::Op("/")),
            '%' => out.push(Tok::Op("%")),
            '(' => out.push(Tok::LParen),
            ')' => out.push(Tok::RParen),
            c if c.is_alphabetic() || c == '_' => {
                let st = i;
                while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                    i += 1;
                }
                let name: String = b[st..i].iter().collect();
                return Err(TimeError(format!("name '{name}' is not defined")));
            }
            _ => return Err(TimeError("invalid syntax".into())),
        }
        i += 1;
    }
    Ok(out)
}

struct Parser {
    t: Vec<Tok>,
    i: usize,
}

fn overflow() -> TimeError {
    TimeError("integer overflow".into())
}

fn binop(op: &str, a: Num, b: Num) -> Result<Num, TimeError> {
    use Num::*;
    let zero = || TimeError("division by zero".into());
    Ok(match (a, b) {
        (Int(x), Int(y)) => match op {
            "+" => Int(x.checked_add(y).ok_or_else(overflow)?),
            "-" => Int(x.checked_sub(y).ok_or_else(overflow)?),
            "*" => Int(x.checked_mul(y).ok_or_else(overflow)?),
            "/" => {
                if y == 0 {
                    return Err(zero());
                }
                Float(x as f64 / y as f64)
            }
            "//" => {
                if y == 0 {
                    return Err(zero());
                }
                Int(x.div_euclid(y) - if y < 0 && x.rem_euclid(y) != 0 { 1 } else { 0 })
            }
            "%" => {
                if y == 0 {
                    return Err(zero());
                }
                let r = x % y;
                Int(if r != 0 && (r < 0) != (y < 0) {
                    r + y
                } else {
                    r
                })
            }
            "**" => {
                if y < 0 {
                    Float((x as f64).powf(y as f64))
                } else {
                    let e = u32::try_from(y).map_err(|_| overflow())?;
                    Int(x.checked_pow(e).ok_or_else(overflow)?)
                }
            }
            _ => unreachable!("known operator"),
        },
        _ => {
            let (x, y) = (a.as_f64(), b.as_f64());
            match op {
                "+" => Float(x + y),
                "-" => Float(x - y),
                "*" => Float(x * y),
                "/" if y == 0.0 => return Err(zero()),
                "/" => Float(x / y),
                "//" if y == 0.0 => return Err(zero()),
                "//" => Float((x / y).floor()),
                "%" if y == 0.0 => return Err(zero()),
                "%" => Float(x - y * (x / y).floor()),
                "**" => Float(x.powf(y)),
                _ => unreachable!("known operator"),
            }
        }
    })
}

impl Parser {
    fn peek_op(&self) -> Option<&'static str> {
        match self.t.get(self.i) {
            Some(Tok::Op(o)) => Some(o),
            _ => None,
        }
    }

    fn expr(&mut self) -> Result<Num, TimeError> {
        let mut v = self.term()?;
        while let Some(op @ ("+" | "-")) = self.peek_op() {
            self.i += 1;
            let r = self.term()?;
            v = binop(op, v, r)?;
        }
        Ok(v)
    }

    fn term(&mut self) -> Result<Num, TimeError> {
        let mut v = self.factor()?;
        while let Some(op @ ("*" | "/" | "//" | "%")) = self.peek_op() {
            self.i += 1;
            let r = self.factor()?;
            v = binop(op, v, r)?;
        }
        Ok(v)
    }

    fn factor(&mut self) -> Result<Num, TimeError> {
        match self.peek_op() {
            Some("-") => {
                self.i += 1;
                let v = self.factor()?;
                Ok(match v {
                    Num::Int(i) => Num::Int(-i),
                    Num::Float(f) => Num::Float(-f),
                })
            }
            Some("+") => {
                self.i += 1;
                self.factor()
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<Num, TimeError> {
        let base = self.atom()?;
        if self.peek_op() == Some("**") {
            self.i += 1;
            let e = self.factor()?;
            return binop("**", base, e);
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Num, TimeError> {
        match self.t.get(self.i).cloned() {
            Some(Tok::Num(n)) => {
                self.i += 1;
                Ok(n)
            }
            Some(Tok::LParen) => {
                self.i += 1;
                let v = self.expr()?;
                if self.t.get(self.i) != Some(&Tok::RParen) {
                    return Err(TimeError("invalid syntax".into()));
                }
                self.i += 1;
                Ok(v)
            }
            _ => Err(TimeError("invalid syntax".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations() {
        for (s, v) in [
            ("10m", "600"),
            ("1h", "3600"),
            ("1d", "86400"),
            ("1w", "604800"),
            ("1mo", "2629800.0"),
            ("1y", "31557600.0"),
            ("-1", "-1"),
            ("1d12h", "129600"),
            ("1h 30m", "5400"),
            ("1hour+30min", "5400"),
            ("1year-6mo", "15778800.0"),
            ("6 months", "15778800.0"),
            ("600", "600"),
            ("3/2", "1.5"),
        ] {
            assert_eq!(str2seconds_num(s).unwrap().to_string(), v, "{s}");
        }
        assert!(str2seconds_num("abc").is_err());
        assert!(str2seconds_num("1 2 3").is_err());
    }
}
