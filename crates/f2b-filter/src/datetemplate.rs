//! Date templates (`datetemplate.py`): a pattern with `%` tokens, `EPOCH`,
//! `LEPOCH` or `TAI64N`, turned into a regex whose group 1 is the date text, with
//! fail2ban's word/line boundary rules and its display name.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use fancy_regex::Regex as Meta;

use crate::pyre::{Caps, PyRegex};
use crate::strptime;

/// Template anchored at the line begin.
pub const LINE_BEGIN: u8 = 8;
/// Template anchored at the line end.
pub const LINE_END: u8 = 4;
/// Template starting at a word boundary.
pub const WORD_BEGIN: u8 = 2;
/// Template ending at a word boundary.
pub const WORD_END: u8 = 1;

/// How a template computes its time from the match.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Pattern,
    Epoch { long: bool, grp: usize },
    Tai64n,
}

/// Word-begin mode of `setRegex` (Python's `True`, `False` or `'start'`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum WordBegin {
    No,
    Word,
    Start,
}

/// One date template.
#[derive(Debug, Clone)]
pub struct DateTemplate {
    /// Display name (as printed by fail2ban-regex).
    pub name: String,
    /// The original pattern (pattern templates only).
    pub pattern: Option<String>,
    /// The Python regex.
    pub regex: String,
    /// LINE_BEGIN | LINE_END | WORD_BEGIN | WORD_END.
    pub flags: u8,
    /// Weight for reordering (100 for the anchored copies of the defaults).
    pub weight: f64,
    kind: Kind,
    /// Compiled on first use: a detector holds 31 default templates and a log
    /// usually needs one or two of them (compiling all was most of the start-up).
    /// Shared by the clones of the cached default lists.
    re: Arc<OnceLock<PyRegex>>,
    /// Group index of each of [`strptime::KEYS`] in `re`.
    keys: Arc<OnceLock<Vec<Option<usize>>>>,
    fast: Option<crate::fastdate::SyslogGroups>,
}

struct Metas {
    grouped: Meta,
    group: Meta,
    globalflags: Meta,
    exline_no_bounds: Meta,
    exline_bound_beg: Meta,
    exsanc_bound_beg: Meta,
    exeanc_bound_beg: Meta,
    no_wrd_bound_beg: Meta,
    no_wrd_bound_end: Meta,
    del_wrd_bounds: Meta,
    line_bound_beg: Meta,
    line_bound_end: Meta,
    alpha_pattern: Meta,
    epoch_pattern: Meta,
}

fn metas() -> &'static Metas {
    static M: OnceLock<Metas> = OnceLock::new();
    M.get_or_init(|| {
        let m = |s: &str| Meta::new(s).expect("static meta regex");
        Metas {
            grouped: m(r"(?<!\(\?)(?<!\\)\((?!\?)"),
            group: m(r"^((?:\(\?\w+\))?\^?(?:\(\?\w+\))?)(.*?)(\$?)$"),
            globalflags: m(r"((?:^|(?!<\\))\(\?[a-z]+\))"),
            exline_no_bounds: m(r"^\{UNB\}"),
            exline_bound_beg: m(r"^\{\^LN-BEG\}"),
            exsanc_bound_beg: m(r"^\((?:\?:)?\^\|\\b\|\\W\)"),
            exeanc_bound_beg: m(r"\(\?=\\b\|\\W\|\$\)$"),
            no_wrd_bound_beg: m(r"^\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\((?:\?:)?\^)"),
            no_wrd_bound_end: m(r"(?<!\\)(?:\$\)?|\\b|\\s|\*\*\)*)$"),
            del_wrd_bounds: m(r"^\(*(?:\(\?\w+\))?\(*\*\*|(?<!\\)\*\*\)*$"),
            line_bound_beg: m(r"^(?:\(\?\w+\))?(?:\^|\((?:\?:)?\^(?!\|))"),
            line_bound_end: m(r"(?<![\\\|])(?:\$\)?)$"),
            alpha_pattern: m(r"(?<!%)%[aAbBpc]"),
            epoch_pattern: m(r"(?i)(?<!\\)\{L?EPOCH\}"),
        }
    })
}

fn found(re: &Meta, s: &str) -> bool {
    re.is_match(s).unwrap_or(false)
}

/// `DateTemplate.unboundPattern`.
pub fn unbound_pattern(p: &str) -> String {
    let m = metas();
    let s = m.exline_no_bounds.replace(p, "").into_owned();
    let s = m.exline_bound_beg.replace(&s, "").into_owned();
    let s = m.exsanc_bound_beg.replace(&s, "").into_owned();
    m.exeanc_bound_beg.replace(&s, "").into_owned()
}

/// The `%` substitution of a pattern: (display name, regex).
fn subst_tokens(pattern: &str, exy: &str) -> Result<(String, String), String> {
    let mut name = String::new();
    let mut regex = String::new();
    let mut rest = pattern;
    while let Some(p) = rest.find('%') {
        name.push_str(&rest[..p]);
        regex.push_str(&rest[..p]);
        rest = &rest[p + 1..];
        let key = if rest.starts_with('%') {
            Some("%")
        } else {
            strptime::LONG_KEYS
                .iter()
                .find(|k| rest.starts_with(**k))
                .copied()
                .or_else(|| {
                    rest.chars()
                        .next()
                        .filter(|c| strptime::SHORT_KEYS.contains(*c))
                        .map(|c| &rest[..c.len_utf8()])
                })
        };
        let Some(key) = key else {
            return Err(format!(
                "Failed to set datepattern '{pattern}' (may be an invalid format or unescaped percent char)"
            ));
        };
        rest = &rest[key.len()..];
        name.push_str(&strptime::time_name(key));
        regex.push_str(&strptime::time_re(key, exy).unwrap_or_default());
    }
    name.push_str(rest);
    regex.push_str(rest);
    Ok((name, regex))
}

impl DateTemplate {
    fn build(
        mut name: String,
        pattern: Option<String>,
        regex: &str,
        word_begin: WordBegin,
        word_end: bool,
        kind: Kind,
    ) -> Result<DateTemplate, String> {
        let m = metas();
        let mut regex = regex.trim().to_string();
        let gf = m
            .globalflags
            .captures(&regex)
            .ok()
            .flatten()
            .and_then(|c| c.get(1).map(|g| g.as_str().to_string()));
        if gf.is_some() {
            regex = m.globalflags.replacen(&regex, 1, "").into_owned();
        }
        let bound_begin = word_begin != WordBegin::No && !found(&m.no_wrd_bound_beg, &regex);
        let bound_end = word_end && !found(&m.no_wrd_bound_end, &regex);
        if !found(&m.grouped, &regex) {
            regex = m.group.replace(&regex, "$1($2)$3").into_owned();
        }
        let mut flags = 0;
        if bound_begin {
            if word_begin != WordBegin::Start {
                flags |= WORD_BEGIN;
                regex = format!(r"(?=^|\b|\W){regex}");
            } else {
                flags |= LINE_BEGIN;
                regex = format!(r"^(?:\W{{0,2}})?{regex}");
                if !name.starts_with("{^LN-BEG}") {
                    name = format!("{{^LN-BEG}}{name}");
                }
            }
        }
        if bound_end {
            flags |= WORD_END;
            regex.push_str(r"(?=\b|\W|$)");
        }
        if flags & LINE_BEGIN == 0 && found(&m.line_bound_beg, &regex) {
            flags |= LINE_BEGIN;
        }
        if flags & LINE_END == 0 && found(&m.line_bound_end, &regex) {
            flags |= LINE_END;
        }
        regex = m
            .del_wrd_bounds
            .replace_all(&regex, |c: &fancy_regex::Captures| c[0].replace("**", ""))
            .into_owned();
        if let Some(gf) = gf {
            regex = format!("{gf}{regex}");
        }
        Ok(DateTemplate {
            name,
            pattern,
            regex,
            flags,
            weight: 1.0,
            kind,
            fast: None,
            re: Arc::default(),
            keys: Arc::default(),
        })
    }

    /// Compiles the regex now: a template from a user's `datepattern` must fail
    /// at configuration time, not at the first line.
    pub fn validate(&self) -> Result<(), String> {
        if self.re.get().is_none() {
            let re = PyRegex::new(&self.regex, false).map_err(|e| {
                format!(
                    "Compile {:?} failed, expression {:?}: {e}",
                    self.name, self.regex
                )
            })?;
            let _ = self.re.set(re);
        }
        Ok(())
    }

    fn re(&self) -> &PyRegex {
        self.re.get_or_init(|| {
            // only templates built from the fixed default patterns skip
            // `validate`, and those compile
            PyRegex::new(&self.regex, false).unwrap_or_else(|_| {
                PyRegex::new("(?!)x", false).expect("a regex that never matches")
            })
        })
    }

    fn with_fast_path(mut self) -> Self {
        if self.name == crate::fastdate::SYSLOG_NAME && self.flags & LINE_BEGIN != 0 {
            let gi = |n: &str| self.re().group_index(n);
            if let (Some(b), Some(d), Some(h), Some(m), Some(s)) =
                (gi("b"), gi("d"), gi("H"), gi("M"), gi("S"))
            {
                self.fast = Some(crate::fastdate::SyslogGroups {
                    len: self.re().group_names().len(),
                    b,
                    d,
                    h,
                    m,
                    s,
                });
            }
        }
        self
    }

    /// `DatePatternRegex(pattern)`.
    pub fn pattern(pattern: &str, exy: &str) -> Result<DateTemplate, String> {
        let m = metas();
        let mut p = pattern.to_string();
        let mut wb = WordBegin::Word;
        let mut we = true;
        if found(&m.exline_no_bounds, &p) {
            p = m.exline_no_bounds.replace(&p, "").into_owned();
            wb = WordBegin::No;
            we = false;
        }
        if wb != WordBegin::No && found(&m.exline_bound_beg, &p) {
            p = m.exline_bound_beg.replace(&p, "").into_owned();
            wb = WordBegin::Start;
        }
        let (name, mut regex) = subst_tokens(&p, exy)?;
        if found(&m.alpha_pattern, pattern) {
            regex = format!("(?iu){regex}");
        }
        DateTemplate::build(
            name,
            Some(pattern.to_string()),
            &regex,
            wb,
            we,
            Kind::Pattern,
        )
        .map(DateTemplate::with_fast_path)
    }

    /// `DateEpoch(lineBeginOnly, pattern, longFrm)`.
    pub fn epoch(line_begin_only: bool, pattern: Option<&str>, long: bool) -> Result<Self, String> {
        let epoch_re = if long {
            r"\d{10,11}(?:\d{3}(?:\.\d{1,6}|\d{3})?)?"
        } else {
            r"\d{10,11}\b(?:\.\d{3,6})?"
        };
        let base = if long { "LongEpoch" } else { "Epoch" };
        if let Some(p) = pattern {
            let inner = metas()
                .epoch_pattern
                .replace_all(p, format!("({epoch_re})").as_str())
                .into_owned();
            let regex = format!("({inner})");
            return DateTemplate::build(
                p.to_string(),
                None,
                &regex,
                WordBegin::Word,
                true,
                Kind::Epoch { long, grp: 2 },
            );
        }
        let kind = Kind::Epoch { long, grp: 1 };
        if !line_begin_only {
            let regex = r"((?:^|(?P<square>(?<=^\[))|(?P<selinux>(?<=\baudit\()))%s)(?:(?(selinux)(?=:\d+\)))|(?(square)(?=\])))"
                .replace("%s", epoch_re);
            DateTemplate::build(base.into(), None, &regex, WordBegin::No, true, kind)
        } else {
            let regex = r"((?P<square>(?<=^\[))?%s)(?(square)(?=\]))".replace("%s", epoch_re);
            DateTemplate::build(base.into(), None, &regex, WordBegin::Start, true, kind)
        }
    }

    /// `DateTai64n(wordBegin)`.
    pub fn tai64n(start: bool) -> Result<Self, String> {
        let wb = if start {
            WordBegin::Start
        } else {
            WordBegin::No
        };
        DateTemplate::build(
            "TAI64N".into(),
            None,
            "@[0-9a-f]{24}",
            wb,
            true,
            Kind::Tai64n,
        )
    }

    /// True when upstream's `getDate` gives an `int` (TAI64N), not a `float`.
    pub fn int_time(&self) -> bool {
        self.kind == Kind::Tai64n
    }

    /// Searches the date in `line[..end]` from `start`.
    pub fn match_date(&self, line: &str, start: usize, end: usize) -> Option<Caps> {
        if !line.is_char_boundary(end) || !line.is_char_boundary(start) {
            return None;
        }
        if let Some(g) = &self.fast {
            if start == 0 && end == line.len() {
                if let Some(c) = crate::fastdate::match_syslog(line, g) {
                    return Some(c);
                }
            }
        }
        self.re().search_at(&line[..end], start).ok().flatten()
    }

    fn keys(&self) -> &[Option<usize>] {
        self.keys.get_or_init(|| {
            strptime::KEYS
                .iter()
                .map(|k| self.re().group_index(k))
                .collect()
        })
    }

    /// The span of the seconds field (`%S`) of a match, for a strptime template.
    pub(crate) fn second_span(&self, caps: &Caps) -> Option<(usize, usize)> {
        match self.kind {
            Kind::Pattern => {
                let i = self.keys()[strptime::SECOND]?;
                caps.spans.get(i).copied().flatten()
            }
            _ => None,
        }
    }

    /// `getDate`: the time of a match (`None` = invalid date).
    pub fn get_date(
        &self,
        line: &str,
        caps: &Caps,
        now: f64,
        default_tz: Option<i32>,
    ) -> Option<f64> {
        self.get_date_sec(line, caps, now, default_tz, None)
    }

    /// [`DateTemplate::get_date`] with the seconds field's text replaced by
    /// `second` when given.
    pub(crate) fn get_date_sec(
        &self,
        line: &str,
        caps: &Caps,
        now: f64,
        default_tz: Option<i32>,
        second: Option<&str>,
    ) -> Option<f64> {
        match self.kind {
            Kind::Pattern => strptime::group_dict_strptime(
                |k| {
                    if k == strptime::SECOND && second.is_some() {
                        return second;
                    }
                    self.keys()[k].and_then(|i| caps.get(line, i))
                },
                now,
                default_tz,
            ),
            Kind::Epoch { long, grp } => {
                let v = caps.get(line, grp)?;
                let f: f64 = v.parse().ok()?;
                if long && v.len() >= 13 {
                    if v.len() >= 16 && !v.contains('.') {
                        Some(f / 1_000_000.0)
                    } else {
                        Some(f / 1000.0)
                    }
                } else {
                    Some(f)
                }
            }
            Kind::Tai64n => {
                let v = caps.get(line, 1)?;
                let hex = v.get(2..17)?;
                i64::from_str_radix(hex, 16).ok().map(|s| s as f64)
            }
        }
    }
}

/// `_getPatternTemplate(pattern, key)`.
pub fn pattern_template(
    pattern: &str,
    key: Option<&str>,
    exy: &str,
) -> Result<DateTemplate, String> {
    let key = match key {
        Some(k) => k.to_string(),
        None if !pattern.contains('%') => pattern.to_uppercase(),
        None => pattern.to_string(),
    };
    if key.contains("EPOCH") {
        if found(&metas().epoch_pattern, pattern) {
            return DateTemplate::epoch(false, Some(pattern), key.contains("LEPOCH"));
        }
        match key.as_str() {
            "EPOCH" | "{^LN-BEG}EPOCH" | "^EPOCH" => {
                return DateTemplate::epoch(key != "EPOCH", None, false)
            }
            "LEPOCH" | "{^LN-BEG}LEPOCH" | "^LEPOCH" => {
                return DateTemplate::epoch(key != "LEPOCH", None, true)
            }
            _ => {}
        }
    }
    match key.as_str() {
        "TAI64N" | "{^LN-BEG}TAI64N" | "^TAI64N" => DateTemplate::tai64n(key != "TAI64N"),
        _ => DateTemplate::pattern(pattern, exy),
    }
}

/// `_getAnchoredTemplate(template, wrap)`.
pub fn anchored_template(
    t: &DateTemplate,
    wrap: &dyn Fn(&str) -> String,
    exy: &str,
) -> Result<DateTemplate, String> {
    let name = wrap(&t.name);
    match &t.pattern {
        Some(p) => pattern_template(&wrap(p), None, exy),
        None => pattern_template(&name, None, exy),
    }
}

/// `DateDetectorCache.DEFAULT_TEMPLATES`.
pub const DEFAULT_PATTERNS: [&str; 17] = [
    r"%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?",
    r"(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",
    r"(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?",
    r"%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S",
    r"%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?",
    r"%m/%d/%ExY:%H:%M:%S",
    r"%m-%d-%ExY %k:%M:%S(?:\.%f)?",
    r"EPOCH",
    r"{^LN-BEG}%H:%M:%S",
    r"^<%m/%d/%Exy@%H:%M:%S>",
    r"%Exy%Exm%Exd  ?%H:%M:%S",
    r"%b %d, %ExY %I:%M:%S %p",
    r"^%b-%d-%Exy %k:%M:%S",
    r"%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?",
    r"(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",
    r"(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",
    r"TAI64N",
];

type Cache = Mutex<HashMap<(String, bool), Vec<DateTemplate>>>;

/// Compiled default lists are shared (upstream's `DD_patternCache`); compiled
/// regexes are cheap to clone.
fn cached(exy: &str, all: bool, make: fn(&str) -> Vec<DateTemplate>) -> Vec<DateTemplate> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (exy.to_string(), all);
    if let Some(v) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return v;
    }
    let v = make(exy);
    if let Ok(mut c) = cache.lock() {
        c.insert(key, v.clone());
    }
    v
}

/// The 17 base default templates.
pub fn default_base(exy: &str) -> Vec<DateTemplate> {
    cached(exy, false, |exy| {
        DEFAULT_PATTERNS
            .iter()
            .map(|p| pattern_template(p, None, exy).expect("default date template"))
            .collect()
    })
}

/// The 31 default templates: anchored copies (weight 100) first, then the bases.
pub fn default_all(exy: &str) -> Vec<DateTemplate> {
    cached(exy, true, make_default_all)
}

fn make_default_all(exy: &str) -> Vec<DateTemplate> {
    let mut front = Vec::new();
    let mut back = Vec::new();
    for t in default_base(exy) {
        if !t.name.starts_with("{^LN-BEG}") && !t.name.starts_with('^') {
            let wrap = |s: &str| format!("{{^LN-BEG}}{s}");
            let mut t2 = anchored_template(&t, &wrap, exy).expect("anchored default");
            if t2.name != t.name {
                t2.weight = 100.0;
                front.push(t2);
            }
        }
        back.push(t);
    }
    front.extend(back);
    front
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_fast_path_agrees_with_the_regex() {
        let t = default_all("20[012]")
            .into_iter()
            .find(|t| t.name == crate::fastdate::SYSLOG_NAME)
            .unwrap();
        assert!(t.fast.is_some());
        let mut slow = t.clone();
        slow.fast = None;
        let lines = [
            "Aug 14 11:59:59 host sshd[1]: x",
            "aug  4 11:59:59 host",
            "Aug 4 11:59:59 host",
            "Aug 31 23:59:59",
            "Aug 32 11:59:59 x",
            "Aug 14 11:59:59.123 x",
            "Aug 14 11:59:59 2005 x",
            "Aug 14 11:59:59x",
            "Aug 14 11:59:5",
            "Aug 14  1:59:59 x",
            "Aug 14 31:59:59 x",
            "Aug 14 11:59:60 x",
            "Aug 14 11:59:59\u{e9}",
            "Sun Aug 14 11:59:59 x",
            "Aug 00 11:59:59 x",
            "Aug 07 11:59:59 x",
            "Aug 14 11:59:59-x",
        ];
        for l in lines {
            let a = t.match_date(l, 0, l.len()).map(|c| c.spans);
            let b = slow.match_date(l, 0, l.len()).map(|c| c.spans);
            assert_eq!(a, b, "{l:?}");
        }
    }

    #[test]
    fn default_list_shape() {
        let all = default_all("20[012]");
        assert_eq!(all.len(), 31);
        assert_eq!(all.iter().filter(|t| t.flags & LINE_BEGIN != 0).count(), 17);
        let syslog = all
            .iter()
            .find(|t| {
                t.name
                    == r"{^LN-BEG}(?:DAY )?MON Day %k:Minute:Second(?:\.Microseconds)?(?: ExYear)?"
            })
            .expect("syslog template");
        assert!(syslog.regex.starts_with(r"(?iu)^(?:\W{0,2})?((?:(?P<a>"));
        assert!(syslog.regex.ends_with(r"(?=\b|\W|$)"));
        let epoch = all.iter().find(|t| t.name == "Epoch").unwrap();
        assert_eq!(epoch.flags, WORD_END);
        let none = pattern_template("{UNB}^", Some("{NONE}"), "20[012]").unwrap();
        assert_eq!(none.regex, "^()");
    }
}
