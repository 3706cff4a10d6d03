//! Python `re` patterns on Rust engines.
//!
//! fail2ban's filters are written in Python's regex dialect. A pattern is
//! translated once; if it uses nothing beyond what the linear-time `regex` crate
//! offers it runs there (no backtracking, no ReDoS), otherwise on `fancy-regex`
//! with a backtracking limit. Known idioms with look-around that have an exact
//! look-around-free equivalent (fail2ban's IPv6 tail and the date templates'
//! word-boundary guards) are rewritten so that the common patterns stay linear.

use std::fmt::Write as _;

/// Default limit of backtracking steps of the fallback engine per search.
pub const DEFAULT_BACKTRACK_LIMIT: usize = 1_000_000;

/// A compiled Python-syntax regular expression.
#[derive(Debug, Clone)]
pub struct PyRegex {
    inner: Inner,
    /// Group names by index (index 0 is the whole match).
    names: Vec<Option<String>>,
    rust: String,
    /// A `regex`-crate pattern matching a superset (for prefilter sets).
    superset: Option<String>,
    /// The linear pattern (or the superset pre-check) compiled with ASCII-only
    /// classes: identical results on ASCII text, a much smaller automaton.
    ascii: Option<regex::bytes::Regex>,
    /// Reused capture slots of the ASCII automaton (one search per line otherwise
    /// allocates them).
    locs: LocsCache,
    /// See [`content_tail`]: the ASCII automaton with its trailing
    /// `(?P<n>.+)(?:\n?\z)` cut to `(?P<n>.)`, and its slots.
    tail: Option<(regex::bytes::Regex, LocsCache)>,
    /// A backtracking pattern's guarded linear form (see [`crate::guarded`]).
    pub(crate) guarded: Option<(Box<crate::guarded::Guarded>, LocsCache)>,
}

/// A linear pattern `M(?P<n>.+)(?:\n?\z)` (a prefregex's `<F-CONTENT>.+</F-CONTENT>$`)
/// as `M(?P<n>.)`. On a buffer whose only newline is its last byte, both take the
/// same path through `M` (the one of highest priority that leaves a non-newline
/// character), so the short form gives every span but the last group's and the
/// whole match's ends, which are the end of the text and of the buffer. The
/// captures engine then stops after one character instead of walking the content.
fn content_tail(rust: &str) -> Option<regex::bytes::Regex> {
    const END: &str = ".+)(?:\\n?\\z)";
    let head = rust.strip_suffix(END)?;
    let open = head.rfind("(?P<")?;
    let name = head[open + 4..].strip_suffix('>')?;
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return None;
    }
    // an escaped `(` would be no group; a dot-all flag anywhere would change `.`
    if head[..open].ends_with('\\') || has_dotall_flag(rust) {
        return None;
    }
    ascii_regex(&format!("{}.)", &head[..open + 4 + name.len() + 1]))
}

/// True if an inline flag group (`(?s)`, `(?is:`, ...) turns on `s`.
fn has_dotall_flag(rust: &str) -> bool {
    rust.match_indices("(?").any(|(i, _)| {
        let flags: String = rust[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic() || *c == '-')
            .collect();
        flags.split('-').next().is_some_and(|on| on.contains('s'))
    })
}

/// A spare `CaptureLocations` for the ASCII automaton and its direct
/// backtracker ([`crate::direct`]); a clone starts with empty search state.
#[derive(Default)]
pub(crate) struct LocsCache {
    locs: std::sync::Mutex<Option<regex::bytes::CaptureLocations>>,
    direct: crate::direct::Direct,
    /// Recent captures of the [`content_tail`] form by the text they cover
    /// (see [`tail_spans_memo`]).
    recent: std::sync::Mutex<std::collections::VecDeque<(Box<[u8]>, Spans)>>,
}

type Spans = Vec<Option<(usize, usize)>>;

impl Clone for LocsCache {
    fn clone(&self) -> Self {
        LocsCache {
            locs: Default::default(),
            direct: self.direct.clone(),
            recent: Default::default(),
        }
    }
}

/// Captures remembered per [`LocsCache`]: the prefixes of a log's lines repeat
/// (one sshd session's lines share `host sshd[pid]: `).
const RECENT: usize = 16;

/// The captures of the [`content_tail`] form `t` whose match is known to end
/// at `end`: the match is the first path (in priority order) through the
/// part before the last group's one character `.` that ends at `end - 1`,
/// and which paths those are depends on `hay[..end - 1]` and on what an
/// assertion at `end - 1` sees there: on ASCII text, whether `hay[end - 1]` is
/// a word byte (it is no newline: `.` took it). An earlier line with the same
/// key had the same captures. The key leaves out the content's first byte,
/// which differs between the lines of one session.
fn tail_spans_memo(
    t: &regex::bytes::Regex,
    cache: &LocsCache,
    hay: &[u8],
    end: usize,
) -> Option<Spans> {
    let (&last, before) = hay.get(..end)?.split_last()?;
    let word = u8::from(last.is_ascii_alphanumeric() || last == b'_');
    let same = |k: &[u8]| k.len() == end && k[end - 1] == word && k[..end - 1] == *before;
    if let Ok(recent) = cache.recent.try_lock() {
        if let Some((_, s)) = recent.iter().find(|(k, _)| same(k)) {
            return Some(s.clone());
        }
    }
    let spans = read_spans_known(t, cache, hay, end)?;
    // only a match that ends where it was said to is keyed by that text
    if spans.first() == Some(&Some((0, end))) {
        if let Ok(mut recent) = cache.recent.try_lock() {
            if recent.len() == RECENT {
                recent.pop_back();
            }
            let mut key = Vec::with_capacity(end);
            key.extend_from_slice(before);
            key.push(word);
            recent.push_front((key.into(), spans.clone()));
        }
    }
    Some(spans)
}

impl std::fmt::Debug for LocsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocsCache")
    }
}

/// Compiles `pat` with Unicode off (for ASCII haystacks).
pub fn ascii_regex(pat: &str) -> Option<regex::bytes::Regex> {
    regex::bytes::RegexBuilder::new(pat)
        .unicode(false)
        .size_limit(64 << 20)
        .build()
        .ok()
}

/// The Unicode automaton of a linear pattern, built on first use: ASCII lines
/// never need it, and it is the bulk of the memory.
#[derive(Debug, Clone)]
struct LazyStd {
    pat: String,
    limit: usize,
    cell: std::sync::OnceLock<Result<regex::Regex, Box<fancy_regex::Regex>>>,
}

impl LazyStd {
    fn get(&self) -> &Result<regex::Regex, Box<fancy_regex::Regex>> {
        self.cell.get_or_init(|| {
            regex::RegexBuilder::new(&self.pat)
                .size_limit(64 << 20)
                .dfa_size_limit(2 << 20)
                .build()
                .map_err(|_| {
                    Box::new(
                        fancy_regex::RegexBuilder::new(&self.pat)
                            .backtrack_limit(self.limit)
                            .build()
                            .unwrap_or_else(|_| {
                                fancy_regex::Regex::new("[^\\s\\S]").expect("never")
                            }),
                    )
                })
        })
    }
}

#[derive(Debug, Clone)]
enum Inner {
    Std(LazyStd),
    /// The backtracking engine, with a linear-time superset pre-check.
    Fancy(fancy_regex::Regex, Option<regex::Regex>),
}

/// Spans of the groups of one match (byte offsets), index 0 = whole match.
#[derive(Debug, Clone, Default)]
pub struct Caps {
    /// `spans[i]` is the span of group `i` if it participated.
    pub spans: Vec<Option<(usize, usize)>>,
}

impl Caps {
    /// Start of the whole match.
    pub fn start(&self) -> usize {
        self.spans[0].map(|s| s.0).unwrap_or(0)
    }
    /// End of the whole match.
    pub fn end(&self) -> usize {
        self.spans[0].map(|s| s.1).unwrap_or(0)
    }
    /// Text of group `i` in `hay`.
    pub fn get<'h>(&self, hay: &'h str, i: usize) -> Option<&'h str> {
        self.spans
            .get(i)
            .copied()
            .flatten()
            .map(|(s, e)| &hay[s..e])
    }
}

/// The search hit the backtracking limit: the line is treated as not matching and
/// must be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

impl PyRegex {
    /// Compiles a Python pattern (`multiline` = Python's `re.MULTILINE`).
    pub fn new(py: &str, multiline: bool) -> Result<PyRegex, String> {
        PyRegex::with_limit(py, multiline, DEFAULT_BACKTRACK_LIMIT)
    }

    /// Like [`PyRegex::new`] with an explicit backtracking limit for the fallback.
    pub fn with_limit(py: &str, multiline: bool, limit: usize) -> Result<PyRegex, String> {
        let (std_text, needs_fancy) = translate(py, multiline, false)?;
        if !needs_fancy {
            let lazy = |pat: &str| LazyStd {
                pat: pat.to_string(),
                limit,
                cell: std::sync::OnceLock::new(),
            };
            // with an ASCII automaton, the Unicode one waits for a non-ASCII line
            if let Some(ascii) = ascii_regex(&std_text) {
                let names = ascii
                    .capture_names()
                    .map(|n| n.map(str::to_string))
                    .collect();
                return Ok(PyRegex {
                    inner: Inner::Std(lazy(&std_text)),
                    names,
                    tail: content_tail(&std_text).map(|t| (t, LocsCache::default())),
                    ascii: Some(ascii),
                    locs: LocsCache::default(),
                    guarded: None,
                    superset: Some(std_text.clone()),
                    rust: std_text,
                });
            }
            if let Ok(re) = regex::RegexBuilder::new(&std_text)
                .size_limit(64 << 20)
                .dfa_size_limit(2 << 20)
                .build()
            {
                let names = re.capture_names().map(|n| n.map(str::to_string)).collect();
                let l = lazy(&std_text);
                let _ = l.cell.set(Ok(re));
                return Ok(PyRegex {
                    inner: Inner::Std(l),
                    names,
                    ascii: None,
                    tail: None,
                    locs: LocsCache::default(),
                    guarded: None,
                    superset: Some(std_text.clone()),
                    rust: std_text,
                });
            }
        }
        let (fancy_text, _) = translate(py, multiline, true)?;
        let re = fancy_regex::RegexBuilder::new(&fancy_text)
            .backtrack_limit(limit)
            .delegate_size_limit(64 << 20)
            .build()
            .map_err(|e| e.to_string())?;
        let names: Vec<Option<String>> =
            re.capture_names().map(|n| n.map(str::to_string)).collect();
        let relaxed = translate_relaxed(py, multiline).ok();
        let pre = relaxed.as_ref().and_then(|r| {
            regex::RegexBuilder::new(r)
                .size_limit(64 << 20)
                .build()
                .ok()
        });
        let superset = pre.as_ref().and(relaxed);
        let guarded = crate::guarded::Guarded::new(py, multiline, &names)
            .map(|g| (Box::new(g), LocsCache::default()));
        Ok(PyRegex {
            guarded,
            inner: Inner::Fancy(re, pre),
            names,
            ascii: superset.as_deref().and_then(ascii_regex),
            locs: LocsCache::default(),
            tail: None,
            superset,
            rust: fancy_text,
        })
    }

    /// True when the pattern runs on the linear-time engine.
    pub fn is_linear(&self) -> bool {
        matches!(self.inner, Inner::Std(_))
    }

    /// A `regex`-crate pattern that matches at least whatever this one matches
    /// (the pattern itself on the linear engine).
    pub fn superset_pattern(&self) -> Option<&str> {
        self.superset.as_deref()
    }

    /// The translated (Rust-syntax) pattern.
    pub fn rust_pattern(&self) -> &str {
        &self.rust
    }

    /// Group names by index.
    pub fn group_names(&self) -> &[Option<String>] {
        &self.names
    }

    /// Index of the named group.
    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.as_deref() == Some(name))
    }

    /// True if the pattern has a group of that name.
    pub fn has_group(&self, name: &str) -> bool {
        self.group_index(name).is_some()
    }

    /// Python's `search(hay)`.
    pub fn search(&self, hay: &str) -> Result<Option<Caps>, Overflow> {
        self.search_at(hay, 0)
    }

    /// Python's `search(hay, pos)`: look-behind and `\b` see text before `pos`,
    /// `^` matches only at 0.
    pub fn search_at(&self, hay: &str, pos: usize) -> Result<Option<Caps>, Overflow> {
        self.search_imp(hay, pos, None)
    }

    /// [`PyRegex::search`] when a match is likely (a `RegexSet` said so):
    /// on ASCII text the captures engine then runs without the DFA's pass
    /// first (see [`crate::direct`]). `tail_end` is where the match of the
    /// [`content_tail`] form ends, when known ([`PyRegex::tail_group_start`]
    /// plus one). The result is [`PyRegex::search`]'s.
    pub fn search_known(
        &self,
        hay: &str,
        tail_end: Option<usize>,
    ) -> Result<Option<Caps>, Overflow> {
        self.search_imp(hay, 0, Some(tail_end))
    }

    fn search_imp(
        &self,
        hay: &str,
        pos: usize,
        known: Option<Option<usize>>,
    ) -> Result<Option<Caps>, Overflow> {
        let spans =
            |re: &regex::bytes::Regex, cache: &LocsCache, b: &[u8], end: Option<usize>| match known
            {
                Some(e) if pos == 0 => read_spans_known(re, cache, b, end.or(e).unwrap_or(b.len())),
                _ => read_spans(re, cache, b, pos),
            };
        let ascii = match &self.ascii {
            Some(a) if hay.is_ascii() => Some(a),
            _ => None,
        };
        match &self.inner {
            Inner::Std(re) => {
                if let Some(a) = ascii {
                    let b = hay.as_bytes();
                    let text_end = b.len() - usize::from(b.last() == Some(&b'\n'));
                    if let Some((t, cache)) = &self.tail {
                        if pos == 0 && memchr_nl(&b[..text_end]).is_none() {
                            let found = match known {
                                Some(Some(e)) => tail_spans_memo(t, cache, b, e),
                                _ => spans(t, cache, b, None),
                            };
                            let Some(mut spans) = found else {
                                return Ok(None);
                            };
                            if let Some(Some(whole)) = spans.first_mut() {
                                whole.1 = b.len();
                            }
                            if let Some(Some(last)) = spans.last_mut() {
                                last.1 = text_end;
                            }
                            return Ok(Some(Caps { spans }));
                        }
                    }
                    let end = Some(b.len());
                    return Ok(spans(a, &self.locs, b, end).map(|spans| Caps { spans }));
                }
                let re = match re.get() {
                    Ok(r) => r,
                    Err(f) => return self.fancy_captures(f, hay, pos),
                };
                let mut locs = re.capture_locations();
                if re.captures_read_at(&mut locs, hay, pos).is_none() {
                    return Ok(None);
                }
                let spans = (0..locs.len()).map(|i| locs.get(i)).collect();
                Ok(Some(Caps { spans }))
            }
            Inner::Fancy(re, pre) => {
                if let (Some(_), Some((g, cache))) = (ascii, &self.guarded) {
                    let b = hay.as_bytes();
                    let Some(spans) = spans(&g.re, cache, b, Some(b.len())) else {
                        return Ok(None);
                    };
                    if g.check(b, &spans) {
                        return Ok(Some(Caps {
                            spans: g.original(&spans),
                        }));
                    }
                    return self.fancy_captures(re, hay, pos);
                }
                let pass = match (ascii, pre) {
                    (Some(a), _) => a.is_match_at(hay.as_bytes(), pos),
                    (None, Some(p)) => p.is_match_at(hay, pos),
                    (None, None) => true,
                };
                if !pass {
                    return Ok(None);
                }
                self.fancy_captures(re, hay, pos)
            }
        }
    }

    fn fancy_captures(
        &self,
        re: &fancy_regex::Regex,
        hay: &str,
        pos: usize,
    ) -> Result<Option<Caps>, Overflow> {
        {
            match re.captures_from_pos(hay, pos) {
                Ok(Some(c)) => {
                    let spans = (0..c.len())
                        .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                        .collect();
                    Ok(Some(Caps { spans }))
                }
                Ok(None) => Ok(None),
                Err(_) => Err(Overflow),
            }
        }
    }

    /// Where the last group starts, from the lazy DFA alone (no captures
    /// engine), for a pattern with the [`content_tail`] form on a one-line
    /// ASCII buffer: `Some(None)` = no match, `None` = the fast path does not
    /// apply. The captures of such a match end with `(?P<n>.)`, so the match
    /// end is one byte after the group's start.
    pub fn tail_group_start(&self, hay: &str) -> Option<Option<usize>> {
        let (t, _) = self.tail.as_ref()?;
        if self.ascii.is_none() || !hay.is_ascii() {
            return None;
        }
        let b = hay.as_bytes();
        let text_end = b.len() - usize::from(b.last() == Some(&b'\n'));
        if memchr_nl(&b[..text_end]).is_some() {
            return None;
        }
        Some(t.find(b).map(|m| m.end() - 1))
    }

    /// Does [`PyRegex::superset_pattern`] match ASCII `hay` (`None`: there is
    /// no ASCII automaton).
    pub(crate) fn ascii_superset_match(&self, hay: &[u8]) -> Option<bool> {
        self.ascii.as_ref().map(|a| a.is_match(hay))
    }

    /// Python's `search(hay) is not None`.
    pub fn is_match(&self, hay: &str) -> Result<bool, Overflow> {
        if let Some(a) = self.ascii.as_ref().filter(|_| hay.is_ascii()) {
            if !a.is_match(hay.as_bytes()) {
                return Ok(false);
            }
            if self.is_linear() {
                return Ok(true);
            }
            if self.guarded.is_some() {
                return self.search(hay).map(|c| c.is_some());
            }
        }
        match &self.inner {
            Inner::Std(re) => match re.get() {
                Ok(r) => Ok(r.is_match(hay)),
                Err(f) => f.is_match(hay).map_err(|_| Overflow),
            },
            Inner::Fancy(re, pre) => {
                if pre.as_ref().is_some_and(|p| !p.is_match(hay)) {
                    return Ok(false);
                }
                re.is_match(hay).map_err(|_| Overflow)
            }
        }
    }
}

/// The first newline of `b`.
fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Captures of `re` in `hay` from `pos` as spans, with the slots from `cache`.
fn read_spans(
    re: &regex::bytes::Regex,
    cache: &LocsCache,
    hay: &[u8],
    pos: usize,
) -> Option<Vec<Option<(usize, usize)>>> {
    let mut guard = cache.locs.try_lock().ok();
    let mut own = None;
    let locs = match guard.as_deref_mut() {
        Some(slot) => slot.get_or_insert_with(|| re.capture_locations()),
        None => own.insert(re.capture_locations()),
    };
    re.captures_read_at(locs, hay, pos)?;
    Some((0..locs.len()).map(|i| locs.get(i)).collect())
}

/// [`read_spans`] from 0 when a match ending at or before `end` is likely: the
/// backtracker alone where it applies ([`crate::direct`]).
fn read_spans_known(
    re: &regex::bytes::Regex,
    cache: &LocsCache,
    hay: &[u8],
    end: usize,
) -> Option<Vec<Option<(usize, usize)>>> {
    match cache.direct.spans(re, hay, end) {
        Some(r) => r,
        None => read_spans(re, cache, hay, 0),
    }
}

/// Exact IPv6 tail of fail2ban's `<HOST>`: the look-behind is always true there
/// because every repetition before it ends with `:`.
const IP6_TAIL_PY: &str = "(?:[0-9a-fA-F]{1,4}|(?<=:):)";
const IP6_TAIL_STD: &str = "(?:[0-9a-fA-F]{1,4}|:)";
/// Date-template guards (datetemplate.py) and their `regex`-crate equivalents.
const BOUND_END_PY: &str = r"(?=\b|\W|$)";
const BOUND_END_STD: &str = r"(?:\b|\b{end-half})";
const BOUND_BEG_PY: &str = r"(?=^|\b|\W)";
const BOUND_BEG_STD: &str = r"(?:\A|\b|\b{end-half})";

/// Translates a Python pattern. Returns the Rust pattern and whether it needs the
/// backtracking engine. With `fancy` the output is for `fancy-regex`.
pub fn translate(py: &str, multiline: bool, fancy: bool) -> Result<(String, bool), String> {
    translate_mode(py, multiline, fancy, false)
}

/// A `regex`-crate pattern matching a superset of what `py` matches (look-around
/// dropped, conditionals as alternations, back-references as `.*`): a cheap
/// pre-check before the backtracking engine runs.
pub fn translate_relaxed(py: &str, multiline: bool) -> Result<String, String> {
    translate_mode(py, multiline, false, true).map(|r| r.0)
}

fn translate_mode(
    py: &str,
    multiline: bool,
    fancy: bool,
    relax: bool,
) -> Result<(String, bool), String> {
    let mut t = Translator::new(py, multiline, fancy, relax);
    t.run()?;
    Ok((t.out, t.needs_fancy))
}

struct Translator {
    /// Guarded mode (see [`crate::guarded`]): look-arounds and conditionals
    /// become empty marker groups whose positions are checked after a match.
    guard: Option<Box<GuardState>>,
    relax: bool,
    src: Vec<char>,
    pos: usize,
    out: String,
    fancy: bool,
    needs_fancy: bool,
    multiline: bool,
    verbose: bool,
    last_quant: bool,
}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '-'
            | '~'
    )
}

fn push_lit(out: &mut String, c: char) {
    if is_meta(c) {
        out.push('\\');
        out.push(c);
    } else if c == ' ' || c == '\t' {
        // stays literal even under (?x)
        let _ = write!(out, "\\x{{{:x}}}", c as u32);
    } else {
        out.push(c);
    }
}

impl Translator {
    fn new(py: &str, multiline: bool, fancy: bool, relax: bool) -> Translator {
        let mut out = String::with_capacity(py.len() + 64);
        if multiline {
            out.push_str("(?m)");
        }
        Translator {
            guard: None,
            relax,
            src: py.chars().collect(),
            pos: 0,
            out,
            fancy,
            needs_fancy: false,
            multiline,
            verbose: false,
            last_quant: false,
        }
    }

    fn peek(&self, off: usize) -> Option<char> {
        self.src.get(self.pos + off).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(k, c)| self.src.get(self.pos + k) == Some(&c))
    }

    fn run(&mut self) -> Result<(), String> {
        while self.pos < self.src.len() {
            let c = self.src[self.pos];
            let was_quant = self.last_quant;
            self.last_quant = false;
            match c {
                '\\' => self.escape()?,
                '(' => self.group()?,
                '[' => self.class()?,
                '{' => {
                    if let Some((q, len)) = self.quantifier() {
                        self.out.push_str(&q);
                        self.pos += len;
                        self.last_quant = true;
                    } else {
                        self.out.push_str("\\{");
                        self.pos += 1;
                    }
                }
                '}' => {
                    self.out.push_str("\\}");
                    self.pos += 1;
                }
                '|' if self.guard.is_some() => {
                    self.out.push('|');
                    self.pos += 1;
                    if let Some(g) = self.guard.as_mut() {
                        g.bar(&mut self.out);
                    }
                }
                ')' if self.guard.is_some() => {
                    self.pos += 1;
                    let next = self.peek(0);
                    if let Some(g) = self.guard.as_mut() {
                        g.close(&mut self.out, next);
                    }
                }
                '$' => {
                    if self.multiline {
                        self.out.push('$');
                    } else {
                        self.out.push_str("(?:\\n?\\z)");
                    }
                    self.pos += 1;
                }
                '*' | '+' | '?' => {
                    if was_quant {
                        // lazy `?` or possessive `+` modifier
                        if c == '+' {
                            self.needs_fancy = true;
                            if self.relax {
                                self.pos += 1;
                                continue;
                            }
                        }
                    } else {
                        self.last_quant = true;
                    }
                    self.out.push(c);
                    self.pos += 1;
                }
                _ => {
                    self.out.push(c);
                    self.pos += 1;
                }
            }
        }
        Ok(())
    }

    /// `{m,n}` at pos → normalized quantifier and its length in chars.
    fn quantifier(&self) -> Option<(String, usize)> {
        let mut i = self.pos + 1;
        let mut lo = String::new();
        while let Some(c) = self.src.get(i).filter(|c| c.is_ascii_digit()) {
            lo.push(*c);
            i += 1;
        }
        let mut hi = None;
        if self.src.get(i) == Some(&',') {
            i += 1;
            let mut h = String::new();
            while let Some(c) = self.src.get(i).filter(|c| c.is_ascii_digit()) {
                h.push(*c);
                i += 1;
            }
            hi = Some(h);
        }
        if self.src.get(i) != Some(&'}') || (lo.is_empty() && hi.is_none()) {
            return None;
        }
        let lo = if lo.is_empty() { "0".to_string() } else { lo };
        let q = match hi {
            None => format!("{{{lo}}}"),
            Some(h) if h.is_empty() => format!("{{{lo},}}"),
            Some(h) => format!("{{{lo},{h}}}"),
        };
        Some((q, i + 1 - self.pos))
    }

    fn hex(&mut self, n: usize) -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..n {
            let c = self.peek(0).ok_or("incomplete escape")?;
            v = v * 16 + c.to_digit(16).ok_or("bad hex escape")?;
            self.pos += 1;
        }
        Ok(v)
    }

    /// One escape outside a class; `pos` is at the backslash.
    fn escape(&mut self) -> Result<(), String> {
        self.pos += 1;
        let c = self.peek(0).ok_or("bad escape (end of pattern)")?;
        self.pos += 1;
        match c {
            'Z' => self.out.push_str("\\z"),
            'A' | 'b' | 'B' | 'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'n' | 't' | 'r' | 'f' | 'v'
            | 'a' => {
                self.out.push('\\');
                self.out.push(c);
            }
            'x' | 'u' | 'U' | '0' => {
                let v = self.num_escape(c)?;
                let _ = write!(self.out, "\\x{{{v:x}}}");
            }
            '1'..='9' => {
                let mut n = c.to_digit(10).unwrap_or(0);
                if let Some(d) = self.peek(0).and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d;
                    self.pos += 1;
                }
                self.needs_fancy = true;
                if self.relax {
                    self.out.push_str("(?s:.*)");
                } else {
                    let _ = write!(self.out, "\\{n}");
                }
            }
            c if c.is_ascii_alphanumeric() => return Err(format!("bad escape \\{c}")),
            c => push_lit(&mut self.out, c),
        }
        Ok(())
    }

    fn num_escape(&mut self, c: char) -> Result<u32, String> {
        Ok(match c {
            'x' => self.hex(2)?,
            'u' => self.hex(4)?,
            'U' => self.hex(8)?,
            _ => {
                let mut v = 0;
                let mut k = 0;
                while k < 2 {
                    match self.peek(0).and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.pos += 1;
                        }
                        None => break,
                    }
                    k += 1;
                }
                v
            }
        })
    }

    fn group(&mut self) -> Result<(), String> {
        if self.starts_with(BOUND_END_PY) && !self.fancy {
            self.out.push_str(BOUND_END_STD);
            self.pos += BOUND_END_PY.chars().count();
            return Ok(());
        }
        if self.starts_with(BOUND_BEG_PY) && !self.fancy {
            self.out.push_str(BOUND_BEG_STD);
            self.pos += BOUND_BEG_PY.chars().count();
            return Ok(());
        }
        if self.starts_with(IP6_TAIL_PY) && !self.fancy {
            self.out.push_str(IP6_TAIL_STD);
            self.pos += IP6_TAIL_PY.chars().count();
            return Ok(());
        }
        if self.guard.is_some() {
            return self.guarded_group();
        }
        if self.peek(1) != Some('?') {
            self.out.push('(');
            self.pos += 1;
            return Ok(());
        }
        // "(?"
        let rest: String = self.src[self.pos + 2..].iter().take(3).collect();
        if rest.starts_with("P<") {
            self.out.push_str("(?P<");
            self.pos += 4;
            return Ok(());
        }
        if rest.starts_with("P=") {
            let end = self.find_close(self.pos + 4).ok_or("unterminated (?P=")?;
            let name: String = self.src[self.pos + 4..end].iter().collect();
            self.needs_fancy = true;
            if self.relax {
                self.out.push_str("(?s:.*)");
            } else {
                let _ = write!(self.out, "\\k<{name}>");
            }
            self.pos = end + 1;
            return Ok(());
        }
        if rest.starts_with(':') {
            self.out.push_str("(?:");
            self.pos += 3;
            return Ok(());
        }
        if self.relax
            && (rest.starts_with('=')
                || rest.starts_with('!')
                || rest.starts_with("<=")
                || rest.starts_with("<!"))
        {
            self.needs_fancy = true;
            self.pos = self
                .group_end(self.pos)
                .ok_or("missing ), unterminated subpattern")?
                + 1;
            return Ok(());
        }
        if self.relax && rest.starts_with('>') {
            self.needs_fancy = true;
            self.out.push_str("(?:");
            self.pos += 3;
            return Ok(());
        }
        if rest.starts_with('=') || rest.starts_with('!') || rest.starts_with('>') {
            self.needs_fancy = true;
            self.out.push_str("(?");
            self.out.push_str(&rest[..1]);
            self.pos += 3;
            return Ok(());
        }
        if rest.starts_with("<=") || rest.starts_with("<!") {
            self.needs_fancy = true;
            self.out.push_str("(?");
            self.out.push_str(&rest[..2]);
            self.pos += 4;
            return Ok(());
        }
        if rest.starts_with('<') {
            // (?<name>...) is not Python syntax, but harmless to accept
            self.out.push_str("(?P<");
            self.pos += 3;
            return Ok(());
        }
        if rest.starts_with('#') {
            let end = self
                .find_close(self.pos + 3)
                .ok_or("unterminated comment")?;
            self.pos = end + 1;
            return Ok(());
        }
        if rest.starts_with('(') {
            let (cond, end) = self.condition()?;
            self.needs_fancy = true;
            if self.relax {
                self.out.push_str("(?:|");
            } else if cond.chars().all(|c| c.is_ascii_digit()) {
                let _ = write!(self.out, "(?({cond})");
            } else {
                let _ = write!(self.out, "(?(<{cond}>)");
            }
            self.pos = end + 1;
            return Ok(());
        }
        // inline flags: (?aiLmsux) or (?aiLmsux-imsx:...)
        let mut i = self.pos + 2;
        let mut flags = String::new();
        while let Some(&c) = self.src.get(i) {
            if "aiLmsux-".contains(c) {
                if c != 'a' && c != 'L' && c != 'u' {
                    flags.push(c);
                }
                if c == 'x' {
                    self.verbose = true;
                }
                i += 1;
            } else {
                break;
            }
        }
        match self.src.get(i) {
            Some(')') => {
                if !flags.is_empty() && flags != "-" {
                    let _ = write!(self.out, "(?{flags})");
                }
                self.pos = i + 1;
            }
            Some(':') => {
                if flags.is_empty() || flags == "-" {
                    self.out.push_str("(?:");
                } else {
                    let _ = write!(self.out, "(?{flags}:");
                }
                self.pos = i + 1;
            }
            _ => return Err("unknown extension (?".into()),
        }
        Ok(())
    }

    /// Index of the `)` closing the group that opens at `open`.
    fn group_end(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut i = open;
        let mut in_class = false;
        while i < self.src.len() {
            let c = self.src[i];
            if c == '\\' {
                i += 2;
                continue;
            }
            if in_class {
                if c == ']' {
                    in_class = false;
                }
            } else if c == '[' {
                in_class = true;
                if self.src.get(i + 1) == Some(&'^') {
                    i += 1;
                }
                if self.src.get(i + 1) == Some(&']') {
                    i += 1;
                }
            } else if c == '(' {
                depth += 1;
            } else if c == ')' {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            i += 1;
        }
        None
    }

    /// At `(?(`: the tested group and the position of the `)` closing it.
    fn condition(&self) -> Result<(String, usize), String> {
        let end = self
            .find_close(self.pos + 3)
            .ok_or("unterminated condition")?;
        Ok((self.src[self.pos + 3..end].iter().collect(), end))
    }

    fn find_close(&self, from: usize) -> Option<usize> {
        (from..self.src.len()).find(|&i| self.src[i] == ')')
    }

    /// A character class; `pos` is at `[`.
    fn class(&mut self) -> Result<(), String> {
        self.pos += 1;
        self.out.push('[');
        if self.peek(0) == Some('^') {
            self.out.push('^');
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let c = self.peek(0).ok_or("unterminated character set")?;
            if c == ']' && !first {
                self.pos += 1;
                self.out.push(']');
                return Ok(());
            }
            first = false;
            let item = self.class_item()?;
            // range?
            if let ClassItem::Char(a) = item {
                if self.peek(0) == Some('-') && self.peek(1).is_some_and(|n| n != ']') {
                    self.pos += 1;
                    match self.class_item()? {
                        ClassItem::Char(b) => {
                            if b < a {
                                return Err("bad character range".into());
                            }
                            push_lit(&mut self.out, a);
                            self.out.push('-');
                            push_lit(&mut self.out, b);
                        }
                        ClassItem::Set(s) => {
                            return Err(format!("bad character range {a}-{s}"));
                        }
                    }
                    continue;
                }
                push_lit(&mut self.out, a);
            } else if let ClassItem::Set(s) = item {
                self.out.push_str(&s);
            }
        }
    }

    fn class_item(&mut self) -> Result<ClassItem, String> {
        let c = self.peek(0).ok_or("unterminated character set")?;
        self.pos += 1;
        if c != '\\' {
            return Ok(ClassItem::Char(c));
        }
        let e = self.peek(0).ok_or("bad escape")?;
        self.pos += 1;
        Ok(match e {
            'd' | 'D' | 'w' | 'W' | 's' | 'S' => ClassItem::Set(format!("\\{e}")),
            'n' => ClassItem::Char('\n'),
            't' => ClassItem::Char('\t'),
            'r' => ClassItem::Char('\r'),
            'f' => ClassItem::Char('\x0c'),
            'v' => ClassItem::Char('\x0b'),
            'a' => ClassItem::Char('\x07'),
            'b' => ClassItem::Char('\x08'),
            'x' | 'u' | 'U' | '0'..='7' => {
                if e.is_ascii_digit() {
                    self.pos -= 1;
                    let v = self.num_escape('0')?;
                    ClassItem::Char(char::from_u32(v).ok_or("bad escape")?)
                } else {
                    let v = self.num_escape(e)?;
                    ClassItem::Char(char::from_u32(v).ok_or("bad escape")?)
                }
            }
            e if e.is_ascii_alphanumeric() => return Err(format!("bad escape \\{e}")),
            e => ClassItem::Char(e),
        })
    }
}

impl Translator {
    /// `(` in guarded mode; `pos` is at the parenthesis.
    fn guarded_group(&mut self) -> Result<(), String> {
        let rest: String = self.src[self.pos + 1..].iter().take(4).collect();
        let Some(g) = self.guard.as_mut() else {
            return Ok(());
        };
        if !rest.starts_with('?') {
            g.open(Open::Capture(None));
            self.out.push('(');
            self.pos += 1;
            return Ok(());
        }
        if rest.starts_with("?P<") {
            let close = self.src[self.pos..]
                .iter()
                .position(|&c| c == '>')
                .ok_or("unterminated name")?;
            let name: String = self.src[self.pos + 4..self.pos + close].iter().collect();
            g.open(Open::Capture(Some(name)));
            self.out.push_str("(?P<");
            self.pos += 4;
            return Ok(());
        }
        if rest.starts_with("?:") {
            // `(?:(?!X).)` + quantifier: a look-ahead at every repetition
            if let Some(done) = self.guarded_rep()? {
                self.pos = done;
                return Ok(());
            }
            if let Some(g) = self.guard.as_mut() {
                g.open(Open::Plain);
            }
            self.out.push_str("(?:");
            self.pos += 3;
            return Ok(());
        }
        if rest.starts_with("?=") || rest.starts_with("?!") {
            let end = self
                .group_end(self.pos)
                .ok_or("missing ), unterminated subpattern")?;
            let body: String = self.src[self.pos + 3..end].iter().collect();
            let neg = rest.starts_with("?!");
            let quantified = matches!(self.src.get(end + 1), Some('*' | '+' | '?' | '{'));
            if let Some(g) = self.guard.as_mut() {
                if quantified {
                    g.unsupported = true;
                }
                g.look(&mut self.out, neg, body, false);
            }
            self.pos = end + 1;
            return Ok(());
        }
        if rest.starts_with("?(") {
            let (cond, end) = self.condition()?;
            if let Some(g) = self.guard.as_mut() {
                g.cond(&mut self.out, cond);
            }
            self.pos = end + 1;
            return Ok(());
        }
        // look-behind, atomic groups, flags, comments, back-references: the
        // backtracking engine decides alone
        let g = self.guard.as_mut().expect("guarded");
        g.unsupported = true;
        g.open(Open::Plain);
        self.out.push_str("(?:");
        self.pos = (self.pos + 2).min(self.src.len());
        Ok(())
    }

    /// At `(?:(?!X).)Q` (or `(?=X)`), with `Q` a quantifier: emits a capture
    /// of the whole repetition and returns the position after it.
    fn guarded_rep(&mut self) -> Result<Option<usize>, String> {
        let la = self.pos + 3;
        if !(self.src.get(la) == Some(&'(')
            && self.src.get(la + 1) == Some(&'?')
            && matches!(self.src.get(la + 2), Some('!' | '=')))
        {
            return Ok(None);
        }
        let Some(la_end) = self.group_end(la) else {
            return Ok(None);
        };
        if self.src.get(la_end + 1) != Some(&'.') || self.src.get(la_end + 2) != Some(&')') {
            return Ok(None);
        }
        let mut q = la_end + 3;
        let quant: String = match self.src.get(q) {
            Some(&c @ ('*' | '+' | '?')) => {
                q += 1;
                c.to_string()
            }
            Some('{') => {
                let save = self.pos;
                self.pos = q;
                let r = self.quantifier();
                self.pos = save;
                match r {
                    Some((t, len)) => {
                        q += len;
                        t
                    }
                    None => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
        let mut quant = quant;
        match self.src.get(q) {
            Some('?') => {
                quant.push('?');
                q += 1;
            }
            Some('+') => return Ok(None),
            _ => {}
        }
        let neg = self.src[la + 2] == '!';
        let body: String = self.src[la + 3..la_end].iter().collect();
        let g = self.guard.as_mut().expect("guarded");
        g.look(&mut self.out, neg, body, true);
        let _ = write!(self.out, "(?:.){quant})");
        Ok(Some(q))
    }
}

/// An open group in guarded mode.
#[derive(Debug)]
enum Open {
    Plain,
    Capture(Option<String>),
    /// A conditional: marker number, and whether its `|` was seen.
    Cond(usize, bool),
}

/// Guarded-mode bookkeeping: what must be checked after a match.
#[derive(Debug, Default)]
pub(crate) struct GuardState {
    stack: Vec<(Open, usize, usize)>,
    /// Captures in opening order (ordinal = index + 1) and whether closed.
    caps: Vec<(Option<String>, bool)>,
    /// Capture ordinals inside a `*`/`+`/`{}` repetition.
    repeated: Vec<usize>,
    next: usize,
    pub(crate) unsupported: bool,
    /// (marker, ordinal of the tested group).
    pub(crate) conds: Vec<(usize, usize)>,
    /// (marker, negative, Python body, at every repetition of a `(?:(?!X).)Q`).
    pub(crate) looks: Vec<(usize, bool, String, bool)>,
}

impl GuardState {
    /// Name of the capture group with that ordinal (1-based).
    pub(crate) fn cap_name(&self, ordinal: usize) -> Option<&str> {
        self.caps.get(ordinal.checked_sub(1)?)?.0.as_deref()
    }

    fn open(&mut self, o: Open) {
        if let Open::Capture(name) = &o {
            self.caps.push((name.clone(), false));
        }
        self.stack.push((o, self.next, self.caps.len()));
    }

    fn marker(&mut self) -> usize {
        self.next += 1;
        self.next
    }

    fn bar(&mut self, out: &mut String) {
        if let Some((Open::Cond(n, seen), _, _)) = self.stack.last_mut() {
            if !*seen {
                *seen = true;
                let _ = write!(out, "(?P<__gn{n}>)");
            } else {
                self.unsupported = true;
            }
        }
    }

    fn close(&mut self, out: &mut String, next: Option<char>) {
        let Some((open, markers_at, caps_at)) = self.stack.pop() else {
            self.unsupported = true;
            return;
        };
        if let Open::Cond(n, false) = open {
            let _ = write!(out, "|(?P<__gn{n}>)");
        }
        out.push(')');
        if let Open::Capture(_) = open {
            if let Some(c) = self.caps.get_mut(caps_at - 1) {
                c.1 = true;
            }
        }
        if matches!(next, Some('*' | '+' | '{')) {
            if self.next > markers_at {
                self.unsupported = true;
            }
            let first = if matches!(open, Open::Capture(_)) {
                caps_at
            } else {
                caps_at + 1
            };
            self.repeated.extend(first..=self.caps.len());
        }
    }

    fn cond(&mut self, out: &mut String, cond: String) {
        let n = self.marker();
        let ordinal = match cond.parse::<usize>() {
            Ok(k) => Some(k),
            Err(_) => self
                .caps
                .iter()
                .position(|c| c.0.as_deref() == Some(cond.as_str()))
                .map(|i| i + 1),
        };
        // the tested group must be decided before the conditional is reached
        match ordinal {
            Some(k) if self.caps.get(k.wrapping_sub(1)).is_some_and(|c| c.1) => {
                self.conds.push((n, k))
            }
            _ => self.unsupported = true,
        }
        let _ = write!(out, "(?:(?P<__gy{n}>)");
        self.stack
            .push((Open::Cond(n, false), n - 1, self.caps.len()));
    }

    fn look(&mut self, out: &mut String, neg: bool, body: String, rep: bool) {
        let n = self.marker();
        // groups inside the look-around would be numbered by the fallback only
        if body.contains("(?P<")
            || body
                .chars()
                .zip(body.chars().skip(1))
                .any(|(a, b)| a == '(' && b != '?')
        {
            self.unsupported = true;
        }
        if rep {
            let _ = write!(out, "(?P<__gr{n}>");
        } else {
            let _ = write!(out, "(?P<__gl{n}>)");
        }
        self.looks.push((n, neg, body, rep));
    }

    /// Final checks once the whole pattern is read.
    fn finish(&mut self) {
        if !self.stack.is_empty() || self.conds.iter().any(|(_, k)| self.repeated.contains(k)) {
            self.unsupported = true;
        }
    }
}

/// Translates `py` in guarded mode: the pattern for the linear engine and what
/// to check on its matches; `None` when the pattern needs more than that.
pub(crate) fn translate_guarded(py: &str, multiline: bool) -> Option<(String, GuardState)> {
    let mut t = Translator::new(py, multiline, false, false);
    t.guard = Some(Box::default());
    t.run().ok()?;
    let mut g = t.guard.take()?;
    g.finish();
    if g.unsupported || t.needs_fancy || t.verbose {
        return None;
    }
    Some((t.out, *g))
}

enum ClassItem {
    Char(char),
    Set(String),
}

impl std::fmt::Display for ClassItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClassItem::Char(c) => write!(f, "{c}"),
            ClassItem::Set(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_tail_gives_the_full_regex_spans() {
        // prefregex-shaped patterns: every span must equal the full regex's
        let pats = [
            r"^(?P<mlfid>\s*(?:\S+\s+)?(?:[\[\(]?sshd(?:\[\d+\])?:?\s+)?)(?:(?:error|fatal): )?(?P<content>.+)$",
            r"^(?P<a>x*)(?P<b>x*)(?P<content>.+)$",
            r"(?P<p>a+)?(?P<content>.+)$",
            r"^(?P<a>x)?(?P<b>y)?(?P<content>.+)$",
            r"^(?P<a>x\b)?(?P<b>x)?(?P<content>.+)$",
        ];
        let hays = [
            "xz\n",
            "yz\n",
            "xy\n",
            "x-\n",
            " web01 sshd[1044]: Failed password for root\n",
            " web01 sshd[1044]: error: x\n",
            " web01 sshd[1044]: \n",
            " web01 sshd[1044]:\n",
            "xxx\n",
            "x\n",
            "\n",
            "",
            "aaa",
            "aaab\n",
            "a\nb\n",
            " web01 sshd[1]: a\nb\n",
        ];
        for p in pats {
            let fast = PyRegex::new(p, false).unwrap();
            assert!(fast.tail.is_some(), "{p}: no fast path");
            let mut full = fast.clone();
            full.tail = None;
            for h in hays {
                let a = fast.search(h).unwrap().map(|c| c.spans);
                let b = full.search(h).unwrap().map(|c| c.spans);
                assert_eq!(a, b, "{p} on {h:?}");
            }
            // the known-end path with its memo of recent prefixes: twice each,
            // and lines sharing a prefix but not their content
            for h in hays.iter().chain(hays.iter()).chain(&[
                " web01 sshd[1044]: Failed x\n",
                " web01 sshd[1044]: error: y\n",
                " web01 sshd[1044]: e\n",
            ]) {
                let Some(Some(s)) = fast.tail_group_start(h) else {
                    continue;
                };
                let a = fast.search_known(h, Some(s + 1)).unwrap().map(|c| c.spans);
                let b = full.search(h).unwrap().map(|c| c.spans);
                assert_eq!(a, b, "{p} on {h:?} (known end)");
            }
        }
        // dot-all or an escaped paren: no fast path
        for p in [r"(?s)^a(?P<c>.+)$", r"^a\(?P<c>.+)$", r"^(?P<c>.+)$(?m)"] {
            let r = PyRegex::new(p, false);
            assert!(r.map_or(true, |r| r.tail.is_none()), "{p}");
        }
    }

    fn m(py: &str, hay: &str) -> Option<String> {
        let re = PyRegex::new(py, false).unwrap_or_else(|e| panic!("{py}: {e}"));
        re.search(hay)
            .unwrap()
            .map(|c| c.get(hay, 0).unwrap().to_string())
    }

    #[test]
    fn python_semantics() {
        // (pattern, haystack, expected whole match)
        let cases: &[(&str, &str, Option<&str>)] = &[
            (r"a$", "xa\n", Some("a\n")),
            (r"a$", "xa\nb", None),
            (r"a\Z", "xa\n", None),
            (r"a\Z", "xa", Some("a")),
            (r"(?P<x>a)-(?P=x)", "a-a", Some("a-a")),
            (r"(?P<x>a)-(?P=x)", "a-b", None),
            (r"(?P<c>\[)?x(?(c)\]|$)", "[x]", Some("[x]")),
            (r"(?P<c>\[)?x(?(c)\]|$)", "x", Some("x")),
            (r"(?P<c>\[)?x(?(c)\]|$)", "[x", Some("x")),
            (r"^(?P<c>\[)?x(?(c)\]|$)", "[x", None),
            (r"[[]a]", "[a]", Some("[a]")),
            (r"[\w\-.^_]+", "a-b.c^", Some("a-b.c^")),
            (r"a{,2}b", "aaab", Some("aab")),
            (r"{DATE}", "x{DATE}", Some("{DATE}")),
            (r"\<x\>", "<x>", Some("<x>")),
            (r"(?i)abc", "ABC", Some("ABC")),
            (r"a(?#comment)b", "ab", Some("ab")),
            (r"(?iu)jan", "JAN", Some("JAN")),
            (r"x(?!y)", "xyxz", Some("x")),
            (r"(?<=a)b", "cbab", Some("b")),
            (r"[^]]+", "ab]", Some("ab")),
            (r"\x41\u0042", "AB", Some("AB")),
            (r"a b", "a b", Some("a b")),
        ];
        for (p, h, want) in cases {
            assert_eq!(m(p, h).as_deref(), *want, "{p} on {h:?}");
        }
    }

    #[test]
    fn linear_engine_for_common_idioms() {
        let ip6 = r"(?P<ip6>(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):))";
        let re = PyRegex::new(ip6, false).unwrap();
        assert!(re.is_linear());
        let c = re.search("from ::1 port").unwrap().unwrap();
        assert_eq!(c.get("from ::1 port", 1), Some("::1"));
        let c = re.search("x 2001:db8:: y").unwrap().unwrap();
        assert_eq!(c.get("x 2001:db8:: y", 1), Some("2001:db8::"));
        let d = PyRegex::new(r"(?=^|\b|\W)(\d+)(?=\b|\W|$)", false).unwrap();
        assert!(d.is_linear());
        assert!(d.search("a12b").unwrap().is_none());
        assert!(d.search("a 12-").unwrap().is_some());
        assert!(!PyRegex::new(r"a(?=b)", false).unwrap().is_linear());
    }

    #[test]
    fn relaxed_is_a_superset() {
        let cases: &[(&str, &str)] = &[
            (r"^a(?!b)c", "^a(?:\\n?\\z)"),
            (r"x(?P<c>y)?(?(c)z|w)(?P=c)", ""),
            (r"(?<=a)b(?=c)", ""),
        ];
        for (py, _) in cases {
            let r = translate_relaxed(py, false).unwrap();
            assert!(regex::Regex::new(&r).is_ok(), "{py} -> {r}");
        }
        let re =
            PyRegex::new(r"^Failed (?:(?! from ).)*? from (?P<h>\S+)(?(h)$|x)", false).unwrap();
        assert!(re.search("Failed a from b\n").unwrap().is_some());
        assert!(re.search("Accepted a from b\n").unwrap().is_none());
    }

    #[test]
    fn backtracking_is_bounded() {
        let re = PyRegex::with_limit(r"^(a+)+(?<!a)b", false, 100_000).unwrap();
        let hay = format!("{}b", "a".repeat(40));
        assert_eq!(re.search(&hay).unwrap_err(), Overflow);
    }
}
