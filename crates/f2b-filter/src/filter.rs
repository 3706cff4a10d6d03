//! The filter (`filter.py Filter.processLine/findFailure/_mergeFailure`): date
//! cut-out, the line buffer, ignoreregex pre/post checks, prefregex with
//! `F-CONTENT`, failregexes, the multi-line id cache (`F-MLFID`, `F-NOFAIL`,
//! `F-MLFFORGET`, `F-MLFGAINED`) and the failure id.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;

use crate::datedetector::DateDetector;
use crate::failregex::{joined, stripped, tuple_lines_buf, FRegex, Groups, Hit, TupleLine};
use crate::firstbyte::FirstByte;
use crate::ipaddr::{self, Cidr};
use crate::pyre::{Caps, Overflow, DEFAULT_BACKTRACK_LIMIT};
use crate::{Error, ErrorKind};

/// Data of a failure (upstream's `fail` dict).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailData {
    /// Captured groups in order (`None` = did not participate).
    pub groups: Groups,
    /// Matched lines (`matches`); `None` when the key is absent.
    pub matches: Option<Vec<String>>,
    /// Lines of preceding `F-NOFAIL` matches of the same `mlfid`.
    pub nofail_matches: Option<Vec<String>>,
    /// Users seen for an `mlfid` (a set, insertion ordered); `groups` holds a
    /// `users` entry with value `None` at the key's position.
    pub users: Option<Vec<String>>,
    /// A failure without id is waiting for its `mlfid` to give one.
    pub mlfpending: bool,
    /// The address when the ticket id is an `F-ID` different from it.
    pub ip: Option<String>,
}

fn truthy(v: Option<&str>) -> bool {
    v.is_some_and(|s| !s.is_empty())
}

impl FailData {
    /// `fail.get(name)` for a group (`None` for absent or not participating).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.groups
            .iter()
            .find(|(k, _)| &**k == name)
            .and_then(|(_, v)| v.as_deref())
    }

    fn set(&mut self, name: &str, v: Option<String>) {
        match self.groups.iter_mut().find(|(k, _)| &**k == name) {
            Some((_, cur)) => *cur = v,
            None => self.groups.push((Arc::from(name), v)),
        }
    }

    /// [`FailData::set`] with a shared name (no copy of it).
    fn set_key(&mut self, name: Arc<str>, v: Option<String>) {
        match self.groups.iter_mut().find(|(k, _)| *k == name) {
            Some((_, cur)) => *cur = v,
            None => self.groups.push((name, v)),
        }
    }

    fn pop(&mut self, name: &str) -> Option<String> {
        let i = self.groups.iter().position(|(k, _)| &**k == name)?;
        self.groups.remove(i).1
    }

    /// True for an informational line (`F-NOFAIL`/`F-MLFGAINED`): no failure.
    pub fn nofail(&self) -> bool {
        truthy(self.get("nofail"))
    }

    fn update_users(&mut self, user: Option<&str>) -> Option<usize> {
        if let Some(u) = user.filter(|u| !u.is_empty()) {
            if self.users.is_none() {
                // keeps the key's place in upstream's dict order (value in `users`)
                self.set("users", None);
            }
            let users = self.users.get_or_insert_with(Vec::new);
            if !users.iter().any(|x| x == u) {
                users.push(u.to_string());
            }
        }
        self.users.as_ref().map(Vec::len)
    }
}

/// A failure found on a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Index of the failregex that matched.
    pub regex: usize,
    /// The failure id as upstream prints it (`None` = pending, waiting for an id).
    pub id: Option<String>,
    /// The address when the id is one.
    pub addr: Option<IpAddr>,
    /// Time of the failure (epoch seconds), `None` without a usable date.
    pub time: Option<f64>,
    /// The time is an integer in upstream (TAI64N dates), shown without `.0`.
    pub time_is_int: bool,
    /// The groups and matched lines.
    pub data: FailData,
}

impl Failure {
    /// True for `F-NOFAIL` lines (not a failure for counting).
    pub fn nofail(&self) -> bool {
        self.data.nofail()
    }
}

/// What one line produced.
#[derive(Debug, Clone, Default)]
pub struct LineResult {
    /// Failures (in check-all mode also nofail and pending ones; see
    /// [`Failure::nofail`] and `id == None`).
    pub failures: Vec<Failure>,
    /// Indices of the ignoreregexes that matched.
    pub ignored_by: Vec<usize>,
    /// The line was over the length cap or hit the backtracking limit: it was not
    /// (fully) examined and produced no failure.
    pub over_limit: bool,
    /// The line without its date (`processedLine()`).
    pub stripped: String,
}

impl LineResult {
    /// Failures that count (not nofail, not pending).
    pub fn real_failures(&self) -> impl Iterator<Item = &Failure> {
        self.failures
            .iter()
            .filter(|f| f.id.is_some() && !f.nofail())
    }
}

/// Resolver of host names for `usedns = yes|warn` (the filter itself does no I/O).
pub type Resolver = Box<dyn Fn(&str) -> Vec<IpAddr> + Send + Sync>;

/// Builds a [`Filter`].
#[derive(Default)]
pub struct FilterBuilder {
    prefregex: Option<String>,
    failregex: Vec<String>,
    ignoreregex: Vec<String>,
    maxlines: usize,
    datepattern: Option<String>,
    no_date: bool,
    use_dns: String,
    logtimezone: Option<String>,
    backtrack_limit: usize,
    max_line_len: usize,
    now_year: Option<i32>,
}

impl FilterBuilder {
    /// A builder with upstream's defaults (`usedns = warn`, maxlines 1, default dates).
    pub fn new() -> FilterBuilder {
        FilterBuilder {
            maxlines: 1,
            use_dns: "warn".into(),
            backtrack_limit: DEFAULT_BACKTRACK_LIMIT,
            max_line_len: 64 * 1024,
            ..Default::default()
        }
    }
    /// `prefregex`.
    pub fn prefregex(mut self, r: Option<&str>) -> Self {
        self.prefregex = r.filter(|s| !s.is_empty()).map(str::to_string);
        self
    }
    /// Adds a failregex.
    pub fn failregex(mut self, r: &str) -> Self {
        self.failregex.push(r.to_string());
        self
    }
    /// Adds failregexes.
    pub fn failregexes<S: AsRef<str>>(mut self, rs: &[S]) -> Self {
        self.failregex
            .extend(rs.iter().map(|s| s.as_ref().to_string()));
        self
    }
    /// Adds ignoreregexes.
    pub fn ignoreregexes<S: AsRef<str>>(mut self, rs: &[S]) -> Self {
        self.ignoreregex
            .extend(rs.iter().map(|s| s.as_ref().to_string()));
        self
    }
    /// `maxlines` (≥ 1).
    pub fn maxlines(mut self, n: usize) -> Self {
        self.maxlines = n;
        self
    }
    /// `datepattern` (may have several lines).
    pub fn datepattern(mut self, p: Option<&str>) -> Self {
        self.datepattern = p.map(str::to_string);
        self
    }
    /// No date detection at all (journal lines come with their time).
    pub fn no_date_detector(mut self) -> Self {
        self.no_date = true;
        self
    }
    /// `usedns`: yes, warn, no or raw.
    pub fn use_dns(mut self, v: &str) -> Self {
        self.use_dns = v.to_lowercase();
        self
    }
    /// `logtimezone`.
    pub fn logtimezone(mut self, tz: Option<&str>) -> Self {
        self.logtimezone = tz.map(str::to_string);
        self
    }
    /// Backtracking limit for regexes that need the backtracking engine.
    pub fn backtrack_limit(mut self, n: usize) -> Self {
        self.backtrack_limit = n;
        self
    }
    /// Lines longer than this (bytes) are reported and not examined.
    pub fn max_line_len(mut self, n: usize) -> Self {
        self.max_line_len = n;
        self
    }
    /// The current year (selects the decades `%ExY` accepts); default: system clock.
    pub fn now_year(mut self, y: i32) -> Self {
        self.now_year = Some(y);
        self
    }

    /// Compiles everything.
    pub fn build(self) -> Result<Filter, Error> {
        if self.maxlines == 0 {
            return Err(Error::new(
                ErrorKind::Value,
                "maxlines must be integer greater than zero",
            ));
        }
        let use_dns = match self.use_dns.as_str() {
            "yes" | "warn" | "no" | "raw" => self.use_dns.clone(),
            _ => "no".to_string(),
        };
        let multiline = self.maxlines > 1;
        let lim = self.backtrack_limit;
        let re = |r: &str, ml: bool| {
            FRegex::new(r, ml, &use_dns, lim).map_err(|e| Error::new(ErrorKind::Regex, e))
        };
        let pref = match &self.prefregex {
            Some(p) => Some(re(p, false)?),
            None => None,
        };
        const IDS: [&str; 5] = ["fid", "ip4", "ip6", "dns", "mlfid"];
        let mut fail = Vec::new();
        for r in &self.failregex {
            let f = re(r, multiline)?;
            if !IDS.iter().any(|g| f.has_group(g))
                && !pref
                    .as_ref()
                    .is_some_and(|p| IDS.iter().any(|g| p.has_group(g)))
            {
                return Err(Error::new(
                    ErrorKind::Regex,
                    format!("No failure-id group in '{}'", f.expanded),
                ));
            }
            fail.push(f);
        }
        let mut ignore = Vec::new();
        for r in &self.ignoreregex {
            ignore.push(re(r, multiline)?);
        }
        // one linear-time pass tells which failregexes can match at all
        // (a candidate set is a bit mask of at most 128 patterns)
        let fail_set = if fail.len() > 2 && fail.len() <= Cands::MAX {
            let pats: Option<Vec<String>> = fail
                .iter()
                .map(|f| f.superset_pattern().map(str::to_string))
                .collect();
            pats.map(|pats| LazySets {
                pats,
                unicode: std::sync::OnceLock::new(),
                ascii: std::sync::OnceLock::new(),
            })
        } else {
            None
        };
        // every pattern needs its ASCII automaton to be asked on its own
        let first_byte = match &fail_set {
            Some(s) if fail.iter().all(FRegex::has_ascii) => {
                let pats: Vec<&str> = s.pats.iter().map(String::as_str).collect();
                FirstByte::new(&pats)
            }
            _ => None,
        };
        let year = self.now_year.unwrap_or_else(current_year);
        let date_detector = if self.no_date {
            None
        } else {
            let mut d = match &self.datepattern {
                Some(p) => DateDetector::with_patterns(year, p)
                    .map_err(|e| Error::new(ErrorKind::DatePattern, e))?,
                None => DateDetector::new(year),
            };
            d.set_default_tz(self.logtimezone.as_deref())
                .map_err(|e| Error::new(ErrorKind::Value, e))?;
            Some(d)
        };
        Ok(Filter {
            m: Arc::new(Matcher {
                pref,
                fail_set,
                first_byte,
                fail,
                ignore,
                max_lines: self.maxlines,
            }),
            use_dns,
            max_lines: self.maxlines,
            max_line_len: self.max_line_len,
            line_buffer: Vec::new(),
            last_time_text: String::new(),
            last_date: None,
            last_date_int: false,
            date_detector,
            mlfid_cache: MlfidCache::default(),
            return_raw_host: false,
            check_all_regex: false,
            ignore_pending: true,
            check_find_time: true,
            in_operation: true,
            find_time: 600.0,
            pref_matched: false,
            lb_org: false,
            keep_pref_groups: false,
            keep_stripped: true,
            pref_groups: Vec::new(),
            resolver: None,
            helpers: Vec::new(),
        })
    }
}

fn current_year() -> i32 {
    use chrono::Datelike;
    chrono::Local::now().year()
}

/// The `RegexSet`s of the failregexes' supersets, each built on first use:
/// the Unicode one for a non-ASCII buffer, the ASCII one when [`FirstByte`]
/// does not answer.
#[derive(Clone)]
struct LazySets {
    pats: Vec<String>,
    unicode: std::sync::OnceLock<Option<regex::RegexSet>>,
    ascii: std::sync::OnceLock<Option<regex::bytes::RegexSet>>,
}

impl LazySets {
    fn unicode(&self) -> Option<&regex::RegexSet> {
        self.unicode
            .get_or_init(|| {
                regex::RegexSetBuilder::new(&self.pats)
                    .size_limit(64 << 20)
                    .dfa_size_limit(4 << 20)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    fn ascii(&self) -> Option<&regex::bytes::RegexSet> {
        self.ascii
            .get_or_init(|| {
                regex::bytes::RegexSetBuilder::new(&self.pats)
                    .unicode(false)
                    .size_limit(64 << 20)
                    .dfa_size_limit(4 << 20)
                    .build()
                    .ok()
            })
            .as_ref()
    }
}

/// Which failregexes are candidates for a buffer: a bit per pattern (the
/// candidate test runs only for filters of at most [`Cands::MAX`] of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cands(u128);

impl Cands {
    const MAX: usize = 128;

    fn set(&mut self, i: usize) {
        self.0 |= 1 << i;
    }

    fn has(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }
}

/// `Utils.Cache(maxCount=100, maxTime=300)` of multi-line failures by `mlfid`
/// (an ordered dict: insertion order decides what is evicted first).
#[derive(Debug, Clone, Default)]
struct MlfidCache {
    /// Keys come from log lines: a seeded hash (and at most 100 entries).
    map: foldhash::HashMap<String, (u64, f64, FailData)>,
    order: VecDeque<(u64, String)>,
    seq: u64,
}

impl MlfidCache {
    const MAX_COUNT: usize = 100;
    const MAX_TIME: f64 = 300.0;

    /// Takes the live entry's data out (the caller puts it back with `store` or
    /// drops the entry with `unset`), which saves a copy of its matched lines.
    fn take(&mut self, k: &str, now: f64) -> Option<FailData> {
        let (_, exp, v) = self.map.get_mut(k)?;
        if *exp > now {
            return Some(std::mem::take(v));
        }
        self.map.remove(k);
        None
    }

    fn pop_oldest(&mut self) -> Option<(u64, f64, FailData)> {
        while let Some((seq, k)) = self.order.pop_front() {
            if self.map.get(&k).is_some_and(|e| e.0 == seq) {
                return self.map.remove(&k);
            }
        }
        None
    }

    fn set(&mut self, k: &str, v: FailData, now: f64) {
        if let Some(e) = self.map.get_mut(k) {
            // an OrderedDict keeps the position of an existing key
            e.1 = now + Self::MAX_TIME;
            e.2 = v;
            return;
        }
        if self.map.len() >= Self::MAX_COUNT {
            while let Some(e) = self.pop_oldest() {
                if e.1 > now && self.map.len() < Self::MAX_COUNT {
                    break;
                }
            }
        }
        self.seq += 1;
        self.order.push_back((self.seq, k.to_string()));
        self.map
            .insert(k.to_string(), (self.seq, now + Self::MAX_TIME, v));
        if self.order.len() > 4 * Self::MAX_COUNT {
            let map = &self.map;
            self.order
                .retain(|(s, k)| map.get(k).is_some_and(|e| e.0 == *s));
        }
    }

    /// Updates the stored data without touching the expiry.
    fn store(&mut self, k: &str, v: &FailData) {
        if let Some(e) = self.map.get_mut(k) {
            e.2 = v.clone();
        }
    }

    /// [`MlfidCache::store`] without a copy.
    fn store_owned(&mut self, k: &str, v: FailData) {
        if let Some(e) = self.map.get_mut(k) {
            e.2 = v;
        }
    }

    fn unset(&mut self, k: &str) {
        self.map.remove(k);
    }
}

/// The compiled regexes of a filter. Shared (`Arc`) so that other threads can
/// search lines ahead of the stateful part ([`Filter::matcher`]). A clone
/// shares the compiled automata but has its own search caches: give each
/// thread a clone rather than the shared one.
#[derive(Clone)]
pub struct Matcher {
    pref: Option<FRegex>,
    fail_set: Option<LazySets>,
    /// Asks the few failregexes a buffer's first byte allows instead of the set.
    first_byte: Option<FirstByte>,
    fail: Vec<FRegex>,
    ignore: Vec<FRegex>,
    max_lines: usize,
}

/// A line after date detection: either done already, or to be searched.
#[derive(Debug, Clone)]
pub enum Dated {
    /// Nothing to search (over the length cap, or older than findtime).
    Done(LineResult),
    /// The (before, date, after) split and the time found for it.
    Go {
        /// The line split around its date.
        tuple: TupleLine,
        /// Its time.
        date: Option<f64>,
        /// No date was found in the line.
        no_date: bool,
        /// The time is an integer upstream (TAI64N).
        time_is_int: bool,
    },
}

/// A search result: the spans, or the backtracking limit was hit.
type Searched = Result<Option<Caps>, Overflow>;

/// A prefregex match: its captures, or only where its content starts (the
/// lazy DFA's match end, without the captures engine). Most lines match no
/// failregex, and only then are the prefregex's other groups needed.
#[derive(Debug, Clone)]
enum PrefHit {
    Caps(Caps),
    Content(usize),
}

/// A prefregex search result.
type PrefSearched = Result<Option<PrefHit>, Overflow>;

fn pref_search(pref: &FRegex, full: &str) -> PrefSearched {
    if let Some(r) = pref.content_start(full) {
        return Ok(r.map(PrefHit::Content));
    }
    pref.search_caps(full).map(|o| o.map(PrefHit::Caps))
}

fn pref_content<'b>(pref: &FRegex, full: &'b str, hit: &PrefHit) -> Option<&'b str> {
    match hit {
        PrefHit::Caps(c) => pref.content(full, c),
        PrefHit::Content(s) => full.get(*s..full.len() - usize::from(full.ends_with('\n'))),
    }
}

/// The prefregex's group dictionary (content included).
fn pref_groups(pref: &FRegex, full: &str, hit: &PrefHit) -> Groups {
    match hit {
        PrefHit::Caps(c) => pref.groups(full, c),
        PrefHit::Content(s) => match pref.search_caps_known(full, Some(s + 1)) {
            Ok(Some(c)) => pref.groups(full, &c),
            _ => Vec::new(),
        },
    }
}

/// Regex results for one line computed ahead (see [`Matcher::prematch`]). The
/// stateful part uses them only while it searches the very buffer they were
/// computed on (the line, or its prefregex content), so the outcome never
/// depends on whether a line was prematched.
#[derive(Debug, Default)]
pub struct Prematch {
    /// The line's search buffer (`tuple_lines_buf` of the line).
    full: Option<String>,
    /// The prefregex search on the line, with its groups when it matched.
    pref: Option<(PrefSearched, Option<Groups>)>,
    /// The failregex buffer when it is the prefregex content (else the line).
    content: Option<String>,
    cand: Option<Cands>,
    /// (failregex, search result, groups when it matched), in search order.
    fail: Vec<(usize, Searched, Option<Groups>)>,
}

impl Matcher {
    /// Which failregexes can match `buf` at all (their linear supersets): on
    /// ASCII text the patterns its first byte allows, each asked on its own
    /// ([`FirstByte`]), else one pass of the `RegexSet`. Either way exact:
    /// a first-byte test alone lets through lines on which captures
    /// searches then fail (it was slower).
    fn candidates(&self, buf: &str) -> Cands {
        let mut v = Cands(0);
        if let (Some(fb), true) = (&self.first_byte, buf.is_ascii()) {
            let b = buf.as_bytes();
            for i in fb.candidates(b.first().copied()) {
                if self.fail[i].ascii_superset_match(b).unwrap_or(true) {
                    v.set(i);
                }
            }
            return v;
        }
        let Some(sets) = &self.fail_set else {
            (0..self.fail.len()).for_each(|i| v.set(i));
            return v;
        };
        match sets.ascii().filter(|_| buf.is_ascii()) {
            Some(a) => a.matches(buf.as_bytes()).iter().for_each(|i| v.set(i)),
            None => match sets.unicode() {
                Some(set) => set.matches(buf).iter().for_each(|i| v.set(i)),
                None => (0..self.fail.len()).for_each(|i| v.set(i)),
            },
        }
        v
    }

    /// Runs the searches the stateful part will most likely ask for on a
    /// single-line filter: the prefregex on the line, then the candidate
    /// failregexes on its content (all of them with `check_all`, else up to
    /// the first hit). Pure: any thread may call it, in any order.
    pub fn prematch(&self, d: &Dated, check_all: bool) -> Option<Prematch> {
        let Dated::Go { tuple, .. } = d else {
            return None;
        };
        if self.max_lines != 1 {
            return None;
        }
        let full = tuple_lines_buf(std::slice::from_ref(tuple));
        let mut pm = Prematch::default();
        let mut pref_hit = None;
        if let Some(pref) = &self.pref {
            let r = pref_search(pref, &full);
            let Ok(Some(hit)) = r else {
                pm.pref = Some((r, None));
                pm.full = Some(full);
                return Some(pm);
            };
            if let Some(c) = pref_content(pref, &full, &hit).filter(|c| !c.is_empty()) {
                let mut b = String::with_capacity(c.len() + 1);
                b.push_str(c);
                b.push('\n');
                pm.content = Some(b);
            }
            pref_hit = Some(hit);
        }
        let buf = pm.content.as_deref().unwrap_or(&full);
        let cand = self.fail_set.as_ref().map(|_| self.candidates(buf));
        for (i, f) in self.fail.iter().enumerate() {
            if cand.is_some_and(|c| !c.has(i)) {
                continue;
            }
            // a candidate of the set is likely to match
            let r = match cand {
                Some(_) => f.search_caps_known(buf, None),
                None => f.search_caps(buf),
            };
            let groups = match &r {
                Ok(Some(caps)) => Some(f.groups(buf, caps)),
                _ => None,
            };
            let hit = groups.is_some();
            pm.fail.push((i, r, groups));
            if hit && !check_all {
                break;
            }
        }
        pm.cand = cand;
        if let (Some(pref), Some(hit)) = (&self.pref, pref_hit) {
            // the groups are needed when a failregex matched
            let any = pm.fail.iter().any(|f| f.2.is_some());
            let groups = any.then(|| pref_groups(pref, &full, &hit));
            pm.pref = Some((Ok(Some(hit)), groups));
        }
        pm.full = Some(full);
        Some(pm)
    }
}

/// A filter: the regexes, the date detector and the per-file state (line buffer,
/// last date, multi-line cache).
pub struct Filter {
    m: Arc<Matcher>,
    use_dns: String,
    max_lines: usize,
    max_line_len: usize,
    line_buffer: Vec<TupleLine>,
    last_time_text: String,
    last_date: Option<f64>,
    last_date_int: bool,
    date_detector: Option<DateDetector>,
    mlfid_cache: MlfidCache,
    /// Ids are raw strings, no DNS (`returnRawHost`, fail2ban-regex `-r`).
    pub return_raw_host: bool,
    /// Test every failregex (fail2ban-regex, sample tests).
    pub check_all_regex: bool,
    /// Do not report pending failures (without id yet).
    pub ignore_pending: bool,
    /// Apply findtime/"now" rules to the line dates (server); off in tests.
    pub check_find_time: bool,
    /// The file is being followed live (vs. initial read).
    pub in_operation: bool,
    /// findtime in seconds (initial read drops older lines).
    pub find_time: f64,
    pref_matched: bool,
    lb_org: bool,
    /// Keep the prefregex groups of the last line ([`Filter::pref_groups`]).
    pub keep_pref_groups: bool,
    /// Fill [`LineResult::stripped`] (fail2ban-regex prints it; a server does not).
    pub keep_stripped: bool,
    pref_groups: Groups,
    resolver: Option<Resolver>,
    /// Matcher clones (own search caches) of the threads of `process_lines`.
    helpers: Vec<Matcher>,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("failregex", &self.m.fail.len())
            .field("ignoreregex", &self.m.ignore.len())
            .field("maxlines", &self.max_lines)
            .finish()
    }
}

enum Outcome {
    Done,
    Overflow,
}

impl Filter {
    /// The failregexes.
    pub fn failregexes(&self) -> &[FRegex] {
        &self.m.fail
    }
    /// The ignoreregexes.
    pub fn ignoreregexes(&self) -> &[FRegex] {
        &self.m.ignore
    }
    /// The prefregex.
    pub fn prefregex(&self) -> Option<&FRegex> {
        self.m.pref.as_ref()
    }
    /// Did the prefregex match in its last search (`hasMatched()`).
    pub fn pref_matched(&self) -> bool {
        self.pref_matched
    }
    /// The prefregex groups of its last match (`getGroups()`, with `content`).
    pub fn pref_groups(&self) -> &Groups {
        &self.pref_groups
    }
    /// `maxlines`.
    pub fn max_lines(&self) -> usize {
        self.max_lines
    }
    /// The current multi-line buffer.
    pub fn line_buffer(&self) -> &[TupleLine] {
        &self.line_buffer
    }
    /// The date detector (`None` for journal-style input).
    pub fn date_detector(&self) -> Option<&DateDetector> {
        self.date_detector.as_ref()
    }
    /// `usedns`.
    pub fn use_dns(&self) -> &str {
        &self.use_dns
    }
    /// Sets the resolver used for host names when `usedns` is yes/warn.
    pub fn set_resolver(&mut self, r: Option<Resolver>) {
        self.resolver = r;
    }

    /// `processLine(line)`: finds the date, cuts it out and looks for failures.
    /// `now` is the current time (epoch seconds).
    pub fn process_line(&mut self, line: &str, now: f64) -> LineResult {
        let d = self.date_line(line, now);
        self.finish(d, None, now)
    }

    fn stripped(&self, t: &TupleLine) -> String {
        if self.keep_stripped {
            stripped(t)
        } else {
            String::new()
        }
    }

    /// The shared regexes (for [`Matcher::prematch`] on other threads).
    pub fn matcher(&self) -> Arc<Matcher> {
        Arc::clone(&self.m)
    }

    /// [`Filter::process_line`] for many lines at once, with the searches of a
    /// single-line filter spread over `threads` threads (this one included).
    /// The results are the ones `process_line` gives line by line: dates are
    /// detected and the stateful part runs in order on this thread.
    pub fn process_lines<S: AsRef<str>>(
        &mut self,
        lines: &[S],
        now: f64,
        threads: usize,
    ) -> Vec<LineResult> {
        // below this, starting threads costs more than it saves
        const MIN_PER_THREAD: usize = 64;
        let threads = threads.min(lines.len() / MIN_PER_THREAD).max(1);
        let dated: Vec<Dated> = lines
            .iter()
            .map(|l| self.date_line(l.as_ref(), now))
            .collect();
        let mut pms: Vec<Option<Prematch>> = Vec::new();
        if threads > 1 && self.m.max_lines == 1 {
            if self.helpers.len() < threads - 1 {
                self.helpers.resize_with(threads - 1, || (*self.m).clone());
            }
            let check_all = self.check_all_regex;
            let chunk = dated.len().div_ceil(threads);
            let mut parts: Vec<Vec<Option<Prematch>>> = Vec::new();
            std::thread::scope(|sc| {
                let mut chunks = dated.chunks(chunk);
                let mine = chunks.next().unwrap_or(&[]);
                let handles: Vec<_> = chunks
                    .zip(self.helpers.iter())
                    .map(|(c, m)| {
                        let h =
                            sc.spawn(move || c.iter().map(|d| m.prematch(d, check_all)).collect());
                        (c.len(), h)
                    })
                    .collect();
                parts.push(mine.iter().map(|d| self.m.prematch(d, check_all)).collect());
                for (n, h) in handles {
                    // lines of a search thread that panicked are searched in `finish`
                    parts.push(h.join().unwrap_or_else(|_| (0..n).map(|_| None).collect()));
                }
            });
            pms = parts.into_iter().flatten().collect();
        }
        let mut pms = pms.into_iter();
        dated
            .into_iter()
            .map(|d| {
                let pm = pms.next().flatten();
                self.finish(d, pm, now)
            })
            .collect()
    }

    /// The first, stateful half of [`Filter::process_line`]: date detection.
    pub fn date_line(&mut self, line: &str, now: f64) -> Dated {
        if line.len() > self.max_line_len {
            return Dated::Done(LineResult {
                over_limit: true,
                stripped: String::new(),
                ..Default::default()
            });
        }
        let mut no_date = false;
        let mut date: Option<f64> = None;
        let mut tuple: TupleLine;
        let tm = self
            .date_detector
            .as_mut()
            .and_then(|d| d.match_time(line, now));
        match tm {
            Some(m) => {
                let (s, e) = m.caps.spans.get(1).copied().flatten().unwrap_or((0, 0));
                let text = &line[s..e];
                tuple = (
                    line[..s].to_string(),
                    text.to_string(),
                    line[e..].to_string(),
                );
                if !text.is_empty() {
                    let dd = self.date_detector.as_mut().expect("detector");
                    if let Some(d) = dd.get_time(line, &m, now) {
                        date = Some(d);
                        self.last_time_text.clear();
                        self.last_time_text.push_str(text);
                        self.last_date = Some(d);
                        self.last_date_int = dd.int_time(&m);
                    }
                } else if self.last_date.is_some_and(|d| d > now - 60.0) {
                    tuple = (String::new(), self.last_time_text.clone(), line.to_string());
                    date = self.last_date;
                } else {
                    date = Some(now);
                }
            }
            None => tuple = (String::new(), String::new(), line.to_string()),
        }
        if date.is_none() {
            no_date = true;
            if self.last_date.is_some_and(|d| d > now - 60.0) {
                tuple = (String::new(), self.last_time_text.clone(), line.to_string());
                date = self.last_date;
            } else if self.check_find_time && self.in_operation {
                date = Some(now);
            }
        }
        if self.check_find_time {
            if let Some(d) = date {
                if self.in_operation {
                    if (d - now).trunc().abs() > 60.0 {
                        date = Some(now);
                        self.last_date = Some(now);
                        self.last_date_int = false;
                    }
                } else if d < now - self.find_time {
                    return Dated::Done(LineResult {
                        stripped: self.stripped(&tuple),
                        ..Default::default()
                    });
                }
            }
        }
        let time_is_int = self.last_date_int && date == self.last_date;
        Dated::Go {
            tuple,
            date,
            no_date,
            time_is_int,
        }
    }

    /// The second half: the searches (taken from `pm` where it holds them) and
    /// the multi-line state. Lines must come in log order.
    pub fn finish(&mut self, d: Dated, pm: Option<Prematch>, now: f64) -> LineResult {
        match d {
            Dated::Done(r) => r,
            Dated::Go {
                tuple,
                date,
                no_date,
                time_is_int,
            } => self.find_failure(tuple, date, no_date, time_is_int, pm, now),
        }
    }

    /// `processLine((before, date, after), date)`: a line whose time is already
    /// known (journal).
    pub fn process_line_with_date(&mut self, tuple: TupleLine, date: f64, now: f64) -> LineResult {
        let d = self.date_known(tuple, date);
        self.finish(d, None, now)
    }

    /// [`Filter::date_line`] for a line whose time is already known.
    pub fn date_known(&mut self, tuple: TupleLine, date: f64) -> Dated {
        if tuple.0.len() + tuple.1.len() + tuple.2.len() > self.max_line_len {
            return Dated::Done(LineResult {
                over_limit: true,
                ..Default::default()
            });
        }
        self.last_time_text = tuple.1.clone();
        self.last_date = Some(date);
        self.last_date_int = false;
        Dated::Go {
            tuple,
            date: Some(date),
            no_date: false,
            time_is_int: false,
        }
    }

    fn ignore_line(
        &mut self,
        buf: &str,
        org: &[TupleLine],
        fail_hit: Option<&Hit>,
        res: &mut LineResult,
    ) -> Result<Option<usize>, ()> {
        let owned;
        let (buf, org): (&str, &[TupleLine]) = match fail_hit {
            Some(h) if self.max_lines > 1 => {
                owned = tuple_lines_buf(&h.matched);
                (&owned, &h.matched[..])
            }
            _ => (buf, org),
        };
        let _ = org;
        let mut fnd = None;
        for i in 0..self.m.ignore.len() {
            let hit = self.m.ignore[i].search_caps(buf).map_err(|_| ())?;
            if hit.is_some() {
                fnd = Some(i);
                res.ignored_by.push(i);
                if !self.check_all_regex || self.max_lines > 1 {
                    if let Some(h) = fail_hit {
                        self.line_buffer = h.unmatched.to_vec();
                        self.lb_org = false;
                    }
                }
                if !self.check_all_regex {
                    break;
                }
            }
        }
        Ok(fnd)
    }

    fn find_failure(
        &mut self,
        tuple: TupleLine,
        date: Option<f64>,
        no_date: bool,
        time_is_int: bool,
        mut pm: Option<Prematch>,
        now: f64,
    ) -> LineResult {
        let mut res = LineResult {
            stripped: self.stripped(&tuple),
            ..Default::default()
        };
        // the line buffer; single-line: `org` stands for it until it changes
        let org: Vec<TupleLine> = if self.max_lines > 1 {
            self.line_buffer.push(tuple);
            let n = self.line_buffer.len();
            if n > self.max_lines {
                self.line_buffer.drain(..n - self.max_lines);
            }
            self.lb_org = false;
            self.line_buffer.clone()
        } else {
            // the buffer's allocation serves again
            let mut v = std::mem::take(&mut self.line_buffer);
            v.clear();
            v.push(tuple);
            self.lb_org = true;
            v
        };
        if let Outcome::Overflow =
            self.find_failure_inner(&org, date, no_date, time_is_int, pm.as_mut(), now, &mut res)
        {
            res.over_limit = true;
            res.failures.clear();
        }
        if self.lb_org {
            self.line_buffer = org;
            self.lb_org = false;
        }
        res
    }

    #[allow(clippy::too_many_arguments)]
    fn find_failure_inner(
        &mut self,
        org: &[TupleLine],
        date: Option<f64>,
        no_date: bool,
        time_is_int: bool,
        mut pm: Option<&mut Prematch>,
        now: f64,
        res: &mut LineResult,
    ) -> Outcome {
        let m = Arc::clone(&self.m);
        let raw_mode = self.use_dns == "raw" || self.return_raw_host;
        let full_buf = match pm.as_deref_mut().and_then(|p| p.full.take()) {
            Some(b) => b,
            None => tuple_lines_buf(org),
        };
        // the failregexes search `full_buf` until the buffer changes (content, matches)
        let mut full = true;
        let mut cur: Option<String> = None;

        if !self.m.ignore.is_empty() && self.m.ignore.len() + 2 < self.m.fail.len() {
            match self.ignore_line(&full_buf, org, None, res) {
                Err(()) => return Outcome::Overflow,
                Ok(Some(_)) => return Outcome::Done,
                Ok(None) => {}
            }
        }

        // a prematch was computed on this very line (single-line filters only)
        debug_assert!(pm.is_none() || org.len() == 1);
        // the failregex buffer is the prematched one until it changes
        let mut live = pm.is_some();
        let mut pre_groups = FailData::default();
        // a prefregex match whose groups are not computed yet
        let mut pre_hit: Option<PrefHit> = None;
        if let Some(pref) = &m.pref {
            let (pre, known_groups) = match pm.as_deref_mut().and_then(|p| p.pref.take()) {
                Some((r, g)) => (Some(r), g),
                None => (None, None),
            };
            let hit = match pre.unwrap_or_else(|| pref_search(pref, &full_buf)) {
                Err(_) => return Outcome::Overflow,
                Ok(h) => h,
            };
            self.pref_matched = hit.is_some();
            let Some(hit) = hit else {
                return Outcome::Done;
            };
            let repl = match known_groups {
                Some(g) => {
                    pre_groups.groups = g;
                    if self.keep_pref_groups {
                        self.pref_groups = pre_groups.groups.clone();
                    }
                    pre_groups.pop("content")
                }
                None if self.keep_pref_groups => {
                    pre_groups.groups = pref_groups(pref, &full_buf, &hit);
                    self.pref_groups = pre_groups.groups.clone();
                    pre_groups.pop("content")
                }
                None => {
                    let c = pref_content(pref, &full_buf, &hit).map(str::to_string);
                    pre_hit = Some(hit);
                    c
                }
            };
            if let Some(repl) = repl.filter(|r| !r.is_empty()) {
                let b = match pm.as_deref_mut().and_then(|p| p.content.take()) {
                    Some(b) => b,
                    None => {
                        let mut b = String::with_capacity(repl.len() + 1);
                        b.push_str(&repl);
                        b.push('\n');
                        b
                    }
                };
                self.line_buffer = vec![(String::new(), String::new(), repl)];
                self.lb_org = false;
                full = false;
                cur = Some(b);
            }
        }

        let mut cand: Option<Cands> = None;
        for idx in 0..self.m.fail.len() {
            // most failregexes are no candidate: skip them before anything else
            // (the candidates stay valid while the buffer does)
            if (full || cur.is_some()) && cand.is_some_and(|c| !c.has(idx)) {
                continue;
            }
            if !full && cur.is_none() {
                cand = None;
                live = false;
                cur = Some(tuple_lines_buf(if self.lb_org {
                    org
                } else {
                    &self.line_buffer
                }));
            }
            let b: &str = if full {
                &full_buf
            } else {
                cur.as_deref().unwrap_or("")
            };
            let mut same = pm.as_deref_mut().filter(|_| live);
            if m.fail_set.is_some() {
                let c = cand.get_or_insert_with(|| {
                    same.as_deref_mut()
                        .and_then(|p| p.cand.take())
                        .unwrap_or_else(|| m.candidates(b))
                });
                if !c.has(idx) {
                    continue;
                }
            }
            let mut known_groups = None;
            let known = same.and_then(|p| {
                let k = p.fail.iter().position(|f| f.0 == idx)?;
                let (_, r, g) = p.fail.swap_remove(k);
                known_groups = g;
                Some(r)
            });
            let found = match known {
                Some(r) => r.map(|o| o.map(|caps| m.fail[idx].hit(caps, b, org))),
                None => m.fail[idx].search_hinted(b, org, m.fail_set.is_some()),
            };
            let hit = match found {
                Err(_) => return Outcome::Overflow,
                Ok(h) => h,
            };
            let Some(hit) = hit else {
                continue;
            };
            let mut fail = FailData {
                groups: known_groups.unwrap_or_else(|| self.m.fail[idx].groups(b, &hit.caps)),
                ..Default::default()
            };
            if !self.m.ignore.is_empty() {
                let ign = self.ignore_line(b, org, Some(&hit), res);
                match ign {
                    Err(()) => return Outcome::Overflow,
                    Ok(Some(_)) => {
                        full = false;
                        cur = None;
                        if !self.check_all_regex {
                            break;
                        }
                        continue;
                    }
                    Ok(None) => {}
                }
            }
            if no_date && date.is_none() && self.check_find_time {
                continue;
            }
            if !self.check_all_regex || self.max_lines > 1 {
                self.line_buffer = hit.unmatched.to_vec();
                self.lb_org = false;
                full = false;
                cur = None;
            }
            if let (Some(h), Some(pref)) = (pre_hit.take(), &m.pref) {
                pre_groups.groups = pref_groups(pref, &full_buf, &h);
                pre_groups.pop("content");
            }
            if !pre_groups.groups.is_empty() {
                let cur = std::mem::take(&mut fail.groups);
                fail.groups = pre_groups.groups.clone();
                for (k, v) in cur {
                    fail.set_key(k, v);
                }
            }
            let mlfid = fail.get("mlfid").map(str::to_string);
            if let Some(m) = &mlfid {
                match self.merge_failure(m, fail, &hit, now) {
                    Some(f) => fail = f,
                    // a nofail line: nothing to report (its data went to the cache)
                    None => return Outcome::Done,
                }
            } else {
                let mut m = fail.matches.take().unwrap_or_default();
                m.extend(hit.matched.iter().map(joined));
                fail.matches = Some(m);
            }
            let fid = fail.get("fid").map(str::to_string);
            let mut cidr = if raw_mode { Cidr::Raw } else { Cidr::Unspec };
            let mut raw = raw_mode;
            let ip: Option<String>;
            let plen = |f: &FailData| {
                f.get("cidr")
                    .filter(|c| !c.is_empty())
                    .and_then(|c| c.parse::<u32>().ok())
            };
            if let Some(v) = fail.get("ip4") {
                ip = Some(v.to_string());
                cidr = plen(&fail).map(Cidr::Plen).unwrap_or(Cidr::Fam4);
                raw = true;
            } else if let Some(v) = fail.get("ip6") {
                ip = Some(v.to_string());
                cidr = plen(&fail).map(Cidr::Plen).unwrap_or(Cidr::Fam6);
                raw = true;
            } else if let Some(v) = fail.get("dns") {
                ip = Some(v.to_string());
            } else {
                ip = fid.clone();
                raw = true;
            }
            let defcidr = if raw_mode { Cidr::Raw } else { Cidr::Unspec };
            let mut ids: Vec<(Option<String>, Option<IpAddr>)> = Vec::new();
            match ip {
                None => {
                    fail.mlfpending = true;
                    if let Some(m) = &mlfid {
                        self.mlfid_cache.store(m, &fail);
                    }
                    if !self.check_all_regex && self.ignore_pending {
                        return Outcome::Done;
                    }
                    ids.push((None, None));
                }
                Some(ip) if raw => {
                    if fid.is_none() || fid.as_deref() == Some(ip.as_str()) {
                        let a = ipaddr::normalize(&ip, cidr);
                        ids.push((Some(a.text), a.ip));
                    } else {
                        let a = ipaddr::normalize(&ip, cidr);
                        fail.ip = Some(a.text);
                        let f = ipaddr::normalize(fid.as_deref().unwrap_or(""), defcidr);
                        ids.push((Some(f.text), a.ip));
                    }
                }
                Some(host) => {
                    let mut addrs: Vec<IpAddr> = Vec::new();
                    if let Some(a) = ipaddr::search_ip(&host) {
                        addrs.push(a);
                    }
                    if addrs.is_empty() && (self.use_dns == "yes" || self.use_dns == "warn") {
                        if let Some(r) = &self.resolver {
                            addrs = r(&host);
                        }
                    }
                    for a in addrs {
                        let n = ipaddr::normalize(&a.to_string(), Cidr::Unspec);
                        ids.push((Some(n.text), Some(a)));
                    }
                }
            }
            let n = ids.len();
            for (k, (id, addr)) in ids.into_iter().enumerate() {
                // the last id takes the data, the others a copy
                let data = if k + 1 == n {
                    std::mem::take(&mut fail)
                } else {
                    fail.clone()
                };
                res.failures.push(Failure {
                    regex: idx,
                    id,
                    addr,
                    time: date,
                    time_is_int,
                    data,
                });
            }
            if !self.check_all_regex {
                break;
            }
        }
        Outcome::Done
    }

    /// `_mergeFailure(mlfid, fail, failRegex)`. `None` when the result is a
    /// nofail line that is not reported (not `check_all_regex`): the cache
    /// then takes the data without a copy.
    fn merge_failure(
        &mut self,
        mlfid: &str,
        mut fail: FailData,
        hit: &Hit,
        now: f64,
    ) -> Option<FailData> {
        let cached = self.mlfid_cache.take(mlfid, now);
        let mut users: Option<usize> = None;
        let mut nf = 0u8;
        if truthy(fail.get("mlfgained")) {
            nf |= 8 | 1;
            if !truthy(fail.get("nofail")) {
                let g = fail.get("mlfgained").map(str::to_string);
                fail.set("nofail", g);
            }
        } else if truthy(fail.get("nofail")) {
            nf |= 1;
        }
        if truthy(fail.pop("mlfforget").as_deref()) {
            nf |= 2;
        }
        let mut in_cache = false;
        if let Some(mut g) = cached {
            users = g.update_users(fail.get("user"));
            if truthy(g.pop("nofail").as_deref()) {
                nf |= 4;
            }
            if truthy(g.pop("mlfgained").as_deref()) {
                nf |= 4;
            }
            if nf & 8 != 0 {
                g.mlfpending = false;
            }
            if nf & 4 == 0 && !g.mlfpending {
                g.matches = None;
            }
            for (k, v) in fail.groups.drain(..) {
                if v.is_some() {
                    g.set_key(k, v);
                }
            }
            fail = g;
            if nf & 2 != 0 {
                self.mlfid_cache.unset(mlfid);
            } else {
                in_cache = true;
            }
        } else if nf & 2 == 0 {
            let u = fail.get("user").map(str::to_string);
            users = fail.update_users(u.as_deref());
            // a place in the cache's order now; the data is stored at the end
            self.mlfid_cache.set(mlfid, FailData::default(), now);
            in_cache = true;
        }
        let pending = std::mem::take(&mut fail.mlfpending);
        if pending || users.is_some_and(|n| n > 1) {
            fail.pop("nofail");
            fail.pop("mlfgained");
            nf &= !(8 | 1);
        }
        if nf & 1 == 0 {
            let mut m = fail.nofail_matches.take().unwrap_or_default();
            m.extend(fail.matches.take().unwrap_or_default());
            if nf & 8 == 0 {
                m.extend(hit.matched.iter().map(joined));
            }
            fail.matches = Some(m);
        } else if nf & 3 == 1 {
            let mut m = fail.nofail_matches.take().unwrap_or_default();
            m.extend(hit.matched.iter().map(joined));
            fail.nofail_matches = Some(m);
        }
        if fail.nofail() && !self.check_all_regex {
            if in_cache {
                self.mlfid_cache.store_owned(mlfid, fail);
            }
            return None;
        }
        if in_cache {
            self.mlfid_cache.store(mlfid, &fail);
        }
        Some(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first-byte candidates are the `RegexSet`'s, on lines that start
    /// like each pattern, like none, or are empty.
    #[test]
    fn first_byte_candidates_equal_the_set() {
        let fails = [
            r"^Failed \S+ for (?P<cond_inv>invalid user )?<F-USER>(?P<cond_user>\S+)|(?(cond_inv)(?:(?! from ).)*?|[^:]+)</F-USER> from <HOST>(?: port \d+)?(?: ssh\d*)?(?(cond_user): |(?:(?:(?! from ).)*)$)",
            r"^[iI](?:llegal|nvalid) user .*? from <HOST>\s*$",
            r"^(?:error|fatal): x <HOST>",
            r"user <F-USER>\S+</F-USER> from <HOST>",
            r"^\S+ from <HOST>",
            r"^(?:Connection closed|Disconnected)(?: by)? <HOST>$",
            r"^$|^x <HOST>",
        ];
        let f = FilterBuilder::new().failregexes(&fails).build().unwrap();
        let with = (*f.m).clone();
        assert!(with.first_byte.is_some());
        let mut without = with.clone();
        without.first_byte = None;
        let lines = [
            "Failed password for root from 10.0.0.1 port 22 ssh2\n",
            "Failed password for invalid user a from b from 10.0.0.1\n",
            "failed x\n",
            "Invalid user bob from 10.0.0.2\n",
            "illegal user bob from 10.0.0.2 \n",
            "error: x 10.0.0.3\n",
            "fatal: y\n",
            "some user joe from 10.0.0.4\n",
            "joe from 10.0.0.5\n",
            "Connection closed by 10.0.0.6\n",
            "Disconnected 10.0.0.7\n",
            "x 10.0.0.8\n",
            "\n",
            "",
            " Failed password for root from 10.0.0.1\n",
        ];
        for l in lines {
            assert_eq!(with.candidates(l), without.candidates(l), "{l:?}");
        }
        assert!(with.candidates("Invalid user bob from 10.0.0.2\n").has(1));
    }
}
