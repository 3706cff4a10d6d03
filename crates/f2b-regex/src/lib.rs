//! fail2ban-regex as a library (`fail2ban/client/fail2banregex.py`): reads a
//! filter (a regex string, a filter name with options, or a filter file), runs a
//! log line, a multi-line string or a log file through it and prints upstream's
//! report (or, with `-o`, only the failures).
//!
//! [`run`] takes the arguments and two writers and returns the exit code.

#![deny(missing_docs)]

pub mod opts;
pub mod pyfmt;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use f2b_filter::datedetector::DateDetector;
use f2b_filter::failregex::{joined, TupleLine};
use f2b_filter::{Dated, Failure, Filter, FilterBuilder, Prematch};

use opts::{Opts, Parsed};
use pyfmt::{quote_plus, repr_dict, repr_str, shortstr};

/// Upstream's version string.
pub const VERSION: &str = "1.0.2";

/// Per-regex statistics (`RegexStat`).
struct RegexStat {
    regex: String,
    stats: usize,
    /// (id, time, "multiple regex matched")
    ips: Vec<(Option<String>, Option<f64>, bool)>,
}

impl RegexStat {
    fn new(r: &str) -> RegexStat {
        RegexStat {
            regex: r.to_string(),
            stats: 0,
            ips: Vec::new(),
        }
    }
}

#[derive(Default)]
struct LineStats {
    tested: usize,
    matched: usize,
    missed: usize,
    ignored: usize,
    matched_lines: Vec<String>,
    missed_lines: Vec<String>,
    ignored_lines: Vec<String>,
    matched_te: Vec<String>,
    missed_te: Vec<String>,
    ignored_te: Vec<String>,
}

/// The filter definition gathered from the arguments, before compiling.
#[derive(Default)]
struct Pending {
    prefregex: Option<String>,
    fail: Vec<RegexStat>,
    ignore: Vec<RegexStat>,
    maxlines: Option<usize>,
    datepattern: Option<Option<String>>,
}

struct App<'a> {
    o: Opts,
    backend: &'static str,
    /// The filter's last `journalmatch` line (upstream keeps only the last).
    flt_journalmatch: Option<Vec<String>>,
    out: &'a mut dyn Write,
    maxlines_limit: usize,
    p: Pending,
    filter: Option<Filter>,
    pref_matched: usize,
    pref_groups: Vec<String>,
    stats: LineStats,
    elapsed: Option<f64>,
    over_limit: usize,
}

macro_rules! outln {
    ($w:expr, $($arg:tt)*) => {{
        let _ = writeln!($w, $($arg)*);
    }};
}

/// Runs fail2ban-regex; `prog` is argv\[0\]. Returns the exit code.
pub fn run(prog: &str, args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let o = match opts::parse(args) {
        Parsed::Run(o) => *o,
        Parsed::Help => {
            let _ = write!(out, "{}", opts::help(prog));
            return 0;
        }
        Parsed::Version => {
            outln!(out, "fail2ban-regex {VERSION}");
            return 0;
        }
        Parsed::ShortVersion => {
            outln!(out, "{VERSION}");
            return 0;
        }
        Parsed::Error(e) => {
            let name = Path::new(prog)
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| prog.to_string());
            let _ = write!(
                err,
                "Usage: {prog} [OPTIONS] <LOG> <REGEX> [IGNOREREGEX]\n\n{name}: error: {e}\n"
            );
            return 2;
        }
    };
    let mut errors = Vec::new();
    if o.print_no_missed && o.print_all_missed {
        errors.push("ERROR: --print-no-missed and --print-all-missed are mutually exclusive.");
    }
    if o.print_no_ignored && o.print_all_ignored {
        errors.push("ERROR: --print-no-ignored and --print-all-ignored are mutually exclusive.");
    }
    if !(2..=3).contains(&o.args.len()) {
        errors.push("ERROR: provide both <LOG> and <REGEX>.");
    }
    if !errors.is_empty() {
        let _ = write!(out, "{}", opts::help(prog));
        let _ = write!(err, "\n{}\n", errors.join("\n"));
        return 255;
    }
    if o.out.is_none() {
        outln!(out, "\nRunning tests\n=============\n");
    }
    let mut app = App {
        backend: "auto",
        flt_journalmatch: None,
        maxlines_limit: 20,
        o,
        out,
        p: Pending::default(),
        filter: None,
        pref_matched: 0,
        pref_groups: Vec::new(),
        stats: LineStats::default(),
        elapsed: None,
        over_limit: 0,
    };
    let code = if app.start(err) { 0 } else { 255 };
    let _ = app.out.flush();
    if app.over_limit > 0 {
        let _ = writeln!(
            err,
            "WARNING: {} line(s) over the length or matching limit were counted as missed",
            app.over_limit
        );
    }
    code
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn year_now() -> i32 {
    use chrono_year::year;
    year()
}

mod chrono_year {
    /// Current local year.
    pub fn year() -> i32 {
        let t = super::now();
        let d = f2b_filter::localtime::localtime(t);
        d.format("%Y").to_string().parse().unwrap_or(2026)
    }
}

/// `re.search(r'(?ms)^/{0,3}[\w/_\-.]+(?:\[.*\])?$', value)`.
fn looks_like_filter(v: &str) -> bool {
    let body = v.trim_start_matches('/');
    if v.len() - body.len() > 3 {
        return false;
    }
    let end = body
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '/' || c == '-' || c == '.'))
        .unwrap_or(body.len());
    if end == 0 {
        return false;
    }
    let rest = &body[end..];
    let rest = rest.strip_suffix('\n').unwrap_or(rest);
    rest.is_empty() || (rest.starts_with('[') && rest.ends_with(']'))
}

/// `extractOptions`: name and `k=v` options (quoted values allowed).
fn extract_options(v: &str) -> Result<(String, Vec<(String, String)>), String> {
    let (name, rest) = match v.find('[') {
        Some(p) => (&v[..p], &v[p..]),
        None => (v, ""),
    };
    if name.is_empty() {
        return Err("unexpected option syntax".into());
    }
    let mut opts = Vec::new();
    let inner = rest.trim_end();
    if let Some(inner) = inner.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let mut s = inner;
        loop {
            s = s.trim_start();
            if s.is_empty() {
                break;
            }
            let eq = s
                .find('=')
                .ok_or_else(|| format!("expected option, wrong syntax at 0: {s}"))?;
            let key = s[..eq].trim().to_string();
            s = &s[eq + 1..];
            let val;
            if let Some(q) = s.chars().next().filter(|c| *c == '"' || *c == '\'') {
                let end = s[1..].find(q).ok_or("unterminated quote")? + 1;
                val = s[1..end].to_string();
                s = &s[end + 1..];
            } else {
                let end = s.find([',', ']']).unwrap_or(s.len());
                val = s[..end].trim().to_string();
                s = &s[end..];
            }
            opts.push((key, val.trim().to_string()));
            s = s.trim_start();
            if let Some(r) = s.strip_prefix(',') {
                s = r;
            } else if let Some(r) = s.strip_prefix("][") {
                s = r;
            }
        }
    }
    Ok((name.to_string(), opts))
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn dirname(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) => "/",
        Some(i) => &p[..i],
        None => "",
    }
}

fn last6_has_dot(s: &str) -> bool {
    let n = s.chars().count();
    s.chars().skip(n.saturating_sub(6)).any(|c| c == '.')
}

impl App<'_> {
    fn output(&mut self, s: &str) {
        if self.o.out.is_none() {
            outln!(self.out, "{s}");
        }
    }

    fn set_maxlines(&mut self, v: usize) {
        if self.p.maxlines.is_none() {
            self.p.maxlines = Some(v);
            self.output(&format!("Use         maxlines : {v}"));
        }
    }

    fn set_datepattern(&mut self, p: Option<String>) -> Result<(), String> {
        if self.p.datepattern.is_none() {
            if let Some(pat) = &p {
                let d = DateDetector::with_patterns(year_now(), pat)?;
                let name = d
                    .date_pattern()
                    .map(|(_, n)| n)
                    .unwrap_or_else(|| "Default Detectors".to_string());
                self.output(&format!("Use      datepattern : {pat} : {name}"));
            }
            self.p.datepattern = Some(p);
        }
        Ok(())
    }

    fn read_regex(&mut self, value: &str, fail: bool) -> bool {
        let regex = if fail { "failregex" } else { "ignoreregex" };
        let mut basedir = self.o.config.clone();
        let mut flt_name = value.to_string();
        let mut flt_file: Option<String> = None;
        let mut flt_opt: Vec<(String, String)> = Vec::new();
        if fail && looks_like_filter(value) {
            match extract_options(value) {
                Ok((n, o)) => {
                    flt_name = n;
                    flt_opt = o;
                }
                Err(e) => {
                    outln!(self.out, "ERROR: Wrong filter name or options: {e}");
                    outln!(self.out, "       while parsing: {value}");
                    return false;
                }
            }
            let tries: Vec<String> = if last6_has_dot(&flt_name) {
                vec![flt_name.clone()]
            } else {
                vec![
                    flt_name.clone(),
                    format!("{flt_name}.conf"),
                    format!("{flt_name}.local"),
                ]
            };
            for t in tries {
                let f = if !t.contains('/') {
                    if basename(&basedir) == "filter.d" {
                        format!("{basedir}/{t}")
                    } else {
                        format!("{basedir}/filter.d/{t}")
                    }
                } else {
                    basedir = dirname(&t).to_string();
                    t.clone()
                };
                if Path::new(&f).is_file() {
                    flt_file = Some(f);
                    break;
                }
            }
        }
        let values: Vec<String>;
        if let Some(file) = &flt_file {
            let spec_dir;
            let spec;
            if basedir == self.o.config
                || basename(&basedir) == "filter.d"
                || (!last6_has_dot(&flt_name) && !flt_name.contains('/'))
            {
                if basename(&basedir) == "filter.d" {
                    basedir = dirname(&basedir).to_string();
                }
                let b = basename(&flt_name);
                let stem = match b.rfind('.') {
                    Some(i) if i > 0 => &b[..i],
                    _ => b,
                }
                .to_string();
                self.output(&format!(
                    "Use {regex:>11} filter file : {stem}, basedir: {basedir}"
                ));
                spec_dir = basedir.clone();
                spec = stem;
            } else {
                self.output(&format!("Use {regex:>11} file : {flt_name}"));
                spec_dir = self.o.config.clone();
                spec = file.clone();
            }
            if !flt_opt.is_empty() {
                let d: Vec<(String, Option<String>)> = flt_opt
                    .iter()
                    .map(|(k, v)| (k.clone(), Some(v.clone())))
                    .collect();
                self.output(&format!("Use   filter options : {}", repr_dict(&d)));
            }
            let mut full_spec = spec.clone();
            if !flt_opt.is_empty() {
                let parts: Vec<String> = flt_opt
                    .iter()
                    .map(|(k, v)| {
                        if v.contains('"') {
                            format!("{k}='{v}'")
                        } else {
                            format!("{k}=\"{v}\"")
                        }
                    })
                    .collect();
                full_spec = format!("{spec}[{}]", parts.join(", "));
            }
            let backend = vec![("backend".to_string(), self.backend.to_string())];
            let def = match f2b_config::read_filter(Path::new(&spec_dir), &full_spec, &backend) {
                Ok(d) => d,
                Err(e) => {
                    outln!(self.out, "Wrong config file: {e}");
                    outln!(self.out, "ERROR: failed to load filter {value}");
                    return false;
                }
            };
            if self.o.verbose > 1 {
                let mut keys: Vec<String> = vec!["logtype".into(), "datepattern".into()];
                for (k, _) in &flt_opt {
                    if !keys.contains(k) {
                        keys.push(k.clone());
                    }
                }
                let real: Vec<(String, Option<String>)> = keys
                    .into_iter()
                    .filter_map(|k| def.options.get(&k).map(|v| (k.clone(), Some(v.clone()))))
                    .collect();
                self.output(&format!("Real  filter options : {}", repr_dict(&real)));
            }
            if def.prefregex.is_some() {
                self.p.prefregex = def.prefregex.clone();
            }
            if let Some(m) = def.maxlines {
                self.set_maxlines(m);
            }
            if let Some(dp) = &def.datepattern {
                if let Err(e) = self.set_datepattern(Some(dp.clone())) {
                    outln!(
                        self.out,
                        "ERROR: Invalid value for datepattern ({dp:?}) read from {value}: {e}"
                    );
                    return false;
                }
            }
            if let Some(jm) = def.journalmatch.last() {
                if self.o.journalmatch.is_none() {
                    self.flt_journalmatch = Some(jm.clone());
                }
            }
            if fail {
                self.p
                    .fail
                    .extend(def.failregex.iter().map(|r| RegexStat::new(r)));
                self.p
                    .ignore
                    .extend(def.ignoreregex.iter().map(|r| RegexStat::new(r)));
            } else {
                self.p
                    .ignore
                    .extend(def.failregex.iter().map(|r| RegexStat::new(r)));
            }
            return true;
        } else {
            self.output(&format!("Use {regex:>11} line : {}", shortstr(value)));
            values = vec![value.to_string()];
        }
        for v in values {
            if fail {
                self.p.fail.push(RegexStat::new(&v));
            } else {
                self.p.ignore.push(RegexStat::new(&v));
            }
        }
        true
    }

    fn build_filter(&mut self) -> Result<(), String> {
        let usedns = self.o.usedns.clone().unwrap_or_else(|| "warn".into());
        let mut b = FilterBuilder::new()
            .use_dns(&usedns)
            .now_year(year_now())
            .prefregex(self.p.prefregex.as_deref())
            .maxlines(self.p.maxlines.unwrap_or(1))
            .logtimezone(self.o.timezone.as_deref());
        match &self.p.datepattern {
            Some(Some(dp)) => b = b.datepattern(Some(dp)),
            Some(None) => b = b.no_date_detector(),
            None => {}
        }
        let fails: Vec<String> = self.p.fail.iter().map(|r| r.regex.clone()).collect();
        let ignores: Vec<String> = self.p.ignore.iter().map(|r| r.regex.clone()).collect();
        b = b.failregexes(&fails).ignoreregexes(&ignores);
        let mut f = b.build().map_err(|e| e.to_string())?;
        f.check_find_time = false;
        f.return_raw_host = self.o.raw;
        f.check_all_regex = self.o.check_all && self.o.out.is_none();
        f.ignore_pending = self.o.out.is_some();
        f.keep_pref_groups = self.o.verbose > 0;
        // the date-less line text is only shown by -D (debuggex)
        f.keep_stripped = self.o.debuggex;
        if !self.o.raw && (usedns == "yes" || usedns == "warn") {
            f.set_resolver(Some(Box::new(resolve)));
        }
        self.filter = Some(f);
        Ok(())
    }

    fn start(&mut self, err: &mut dyn Write) -> bool {
        if self.o.maxlines > 0 {
            let m = self.o.maxlines;
            self.set_maxlines(m);
        } else {
            self.maxlines_limit = 20;
        }
        if self.o.maxlines > 0 {
            self.maxlines_limit = self.o.maxlines;
        }
        if let Some(tz) = &self.o.timezone {
            if f2b_filter::strptime::zone_to_offset(tz).is_none() {
                outln!(
                    self.out,
                    "ERROR: Unknown or unsupported time zone: {}",
                    repr_str(tz)
                );
                return false;
            }
        }
        if let Some(dp) = self.o.datepattern.clone() {
            if let Err(e) = self.set_datepattern(Some(dp)) {
                outln!(self.out, "ERROR: {e}");
                return false;
            }
        }
        let log = self.o.args[0].clone();
        let journal = log.starts_with("systemd-journal") && !Path::new(&log).is_file();
        if journal {
            self.backend = "systemd";
        }
        let re = self.o.args[1].clone();
        if !self.read_regex(&re, true) {
            return false;
        }
        if self.o.args.len() == 3 {
            let ig = self.o.args[2].clone();
            if !self.read_regex(&ig, false) {
                return false;
            }
        }
        if journal && self.p.datepattern.is_none() {
            // upstream: setDatePattern(None), journal lines carry their time
            self.p.datepattern = Some(None);
        }
        if let Err(e) = self.build_filter() {
            outln!(self.out, "ERROR: {e}");
            return false;
        }
        let max_lines = self.filter.as_ref().map_or(1, Filter::max_lines);
        let lines: Vec<String>;
        if Path::new(&log).is_file() {
            let file = match std::fs::File::open(&log) {
                Ok(f) => f,
                Err(e) => {
                    outln!(self.out, "{e}");
                    return false;
                }
            };
            self.output(&format!("Use         log file : {log}"));
            let enc = self.o.encoding.clone();
            self.output(&format!("Use         encoding : {enc}"));
            let latin1 = matches!(
                enc.to_lowercase().as_str(),
                "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1"
            );
            self.output("");
            self.process(FileLines::new(file, latin1), err);
            self.print_stats();
            return true;
        } else if journal {
            return self.run_journal(&log, err);
        } else if max_lines <= 1 && !log.contains('\n') {
            self.output(&format!(
                "Use      single line : {}",
                shortstr(&log.replace('\n', "\\n"))
            ));
            lines = vec![log.clone()];
        } else {
            lines = log.split('\n').map(str::to_string).collect();
            self.output(&format!("Use      multi line : {} line(s)", lines.len()));
            for (i, l) in lines.iter().enumerate() {
                if i >= 5 {
                    self.output("| ...");
                    break;
                }
                let n: String = (i + 1).to_string().chars().take(2).collect();
                self.output(&format!("| {n:>2}: {}", shortstr(l)));
            }
            self.output("`-");
        }
        self.output("");
        self.process(lines.into_iter(), err);
        self.print_stats();
        true
    }

    fn run_journal(&mut self, log: &str, err: &mut dyn Write) -> bool {
        use f2b_journal::{EntryFormatter, JournalArgs, JournalReader};
        self.output("Use         systemd journal");
        let enc = self.o.encoding.clone();
        self.output(&format!("Use         encoding : {enc}"));
        let opts = match extract_options(log) {
            Ok((_, o)) => o,
            Err(e) => {
                outln!(self.out, "{e}");
                return false;
            }
        };
        let latin1 = matches!(
            enc.to_lowercase().as_str(),
            "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1"
        );
        let fmt = EntryFormatter::local(if latin1 {
            f2b_tail::Encoding::Latin1
        } else {
            f2b_tail::Encoding::Utf8
        });
        let reader = JournalArgs::from_options(&opts).and_then(|a| JournalReader::open(&a, fmt));
        let mut reader = match reader {
            Ok(r) => r,
            Err(e) if e.kind == f2b_journal::ErrorKind::LibraryMissing => {
                outln!(self.out, "Error: systemd library not found. Exiting...");
                return false;
            }
            Err(e) => {
                outln!(self.out, "{e}");
                return false;
            }
        };
        let words: Option<Vec<String>> = match &self.o.journalmatch {
            Some(m) => Some(shlex_words(m)),
            None => self.flt_journalmatch.clone(),
        };
        if let Some(words) = words.filter(|w| !w.is_empty()) {
            if let Err(e) = reader.add_match(&words) {
                outln!(self.out, "{e}");
                return false;
            }
            self.output(&format!("Use    journal match : {}", words.join(" ")));
        }
        self.output("");
        let it = std::iter::from_fn(|| reader.next_line().ok().flatten())
            .map(|l| (l.joined(), Some((l.tuple(), l.time))));
        self.process_entries(it, err);
        self.print_stats();
        true
    }

    fn process(&mut self, lines: impl Iterator<Item = String>, err: &mut dyn Write) {
        // search threads besides this one; F2B_REGEX_THREADS=1 keeps one thread
        let workers = std::env::var("F2B_REGEX_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .map(|n| n.saturating_sub(1))
            .unwrap_or_else(|| {
                // as many search threads as CPUs: this thread's share (dates and
                // the stateful part) is small, and measured best (docs/benchmarks.md)
                std::thread::available_parallelism().map_or(0, |n| {
                    if n.get() > 1 {
                        n.get().min(4)
                    } else {
                        0
                    }
                })
            });
        let single = self.filter.as_ref().is_some_and(|f| f.max_lines() == 1);
        if workers > 0 && single && self.o.out.is_none() {
            self.process_parallel(lines, workers);
        } else {
            self.process_entries(lines.map(|l| (l, None)), err);
        }
    }

    /// [`App::process_entries`] for plain log lines with the regex searches on
    /// `workers` other threads: this thread detects dates, hands batches out,
    /// and takes the results back in log order for the stateful part. The
    /// output is the same as with one thread (see [`Prematch`]).
    fn process_parallel(&mut self, lines: impl Iterator<Item = String>, workers: usize) {
        const BATCH: usize = 512;
        type Batch = Vec<(String, Dated, Option<Prematch>)>;
        let t0 = Instant::now();
        let now = now();
        let Some(filter) = self.filter.as_ref() else {
            return;
        };
        let matcher = filter.matcher();
        let check_all = filter.check_all_regex;
        let mut lines = lines.peekable();
        std::thread::scope(|sc| {
            let (job_tx, job_rx) = crossbeam_channel::bounded::<(u64, Batch)>(workers * 2);
            let (res_tx, res_rx) = crossbeam_channel::bounded::<(u64, Batch)>(workers * 2);
            for _ in 0..workers {
                // own caches per thread: the regex crate's shared cache pool and
                // our capture slots would be contended
                let (job_rx, res_tx, matcher) =
                    (job_rx.clone(), res_tx.clone(), (*matcher).clone());
                sc.spawn(move || {
                    for (seq, mut batch) in job_rx {
                        for (_, d, pm) in batch.iter_mut() {
                            *pm = matcher.prematch(d, check_all);
                        }
                        if res_tx.send((seq, batch)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop((job_rx, res_tx));
            let mut sent = 0u64;
            let mut next = 0u64;
            let mut done = std::collections::BTreeMap::new();
            loop {
                while sent - next < (workers * 2) as u64 && lines.peek().is_some() {
                    let mut batch: Batch = Vec::with_capacity(BATCH);
                    for mut line in lines.by_ref() {
                        let len = line.trim_end_matches(['\r', '\n']).len();
                        line.truncate(len);
                        if line.starts_with('#') || line.is_empty() {
                            continue;
                        }
                        let Some(f) = self.filter.as_mut() else {
                            return;
                        };
                        let d = f.date_line(&line, now);
                        batch.push((line, d, None));
                        if batch.len() == BATCH {
                            break;
                        }
                    }
                    if job_tx.send((sent, batch)).is_err() {
                        return;
                    }
                    sent += 1;
                }
                if next == sent {
                    break;
                }
                let Ok((seq, batch)) = res_rx.recv() else {
                    return;
                };
                done.insert(seq, batch);
                while let Some(batch) = done.remove(&next) {
                    for (line, d, pm) in batch {
                        let (stripped, ret, is_ignored) = self.test_regex_finish(&line, d, pm, now);
                        self.account(&line, stripped, ret, is_ignored);
                    }
                    next += 1;
                }
            }
            drop(job_tx);
        });
        self.elapsed = Some(t0.elapsed().as_secs_f64());
    }

    /// Lines, each with its (before, date, after) split and time when known
    /// (journal entries: no date detection, no comment/empty skipping).
    fn process_entries(
        &mut self,
        lines: impl Iterator<Item = (String, Option<(TupleLine, f64)>)>,
        _err: &mut dyn Write,
    ) {
        let t0 = Instant::now();
        let now = now();
        let out_fmt = self.o.out.clone();
        for (raw, dated) in lines {
            let line = if dated.is_some() {
                raw.as_str()
            } else {
                raw.trim_end_matches(['\r', '\n'])
            };
            if dated.is_none() && (line.starts_with('#') || line.is_empty()) {
                continue;
            }
            let (stripped, ret, is_ignored) = self.test_regex(line, dated, now);
            if let Some(fmt) = &out_fmt {
                if !ret.is_empty() && !is_ignored {
                    self.print_out(fmt, &ret);
                }
                continue;
            }
            self.account(line, stripped, ret, is_ignored);
        }
        self.elapsed = Some(t0.elapsed().as_secs_f64());
    }

    /// Counts one tested line as ignored, matched or missed.
    fn account(&mut self, line: &str, stripped: String, ret: Vec<Failure>, is_ignored: bool) {
        {
            let m = self.maxlines_limit;
            let st = &mut self.stats;
            if is_ignored {
                st.ignored += 1;
                if !self.o.print_no_ignored && (self.o.print_all_ignored || st.ignored <= m + 1) {
                    st.ignored_lines.push(line.to_string());
                    if self.o.debuggex {
                        st.ignored_te.push(stripped.clone());
                    }
                }
            } else if !ret.is_empty() {
                st.matched += 1;
                if self.o.print_all_matched {
                    st.matched_lines.push(line.to_string());
                    if self.o.debuggex {
                        st.matched_te.push(stripped.clone());
                    }
                }
            } else {
                st.missed += 1;
                if !self.o.print_no_missed && (self.o.print_all_missed || st.missed <= m + 1) {
                    st.missed_lines.push(line.to_string());
                    if self.o.debuggex {
                        st.missed_te.push(stripped.clone());
                    }
                }
            }
            st.tested += 1;
        }
    }

    fn test_regex(
        &mut self,
        line: &str,
        dated: Option<(TupleLine, f64)>,
        now: f64,
    ) -> (String, Vec<Failure>, bool) {
        let Some(filter) = self.filter.as_mut() else {
            return (String::new(), Vec::new(), false);
        };
        let d = match dated {
            Some((t, time)) => filter.date_known(t, time),
            None => filter.date_line(line, now),
        };
        self.test_regex_finish(line, d, None, now)
    }

    fn test_regex_finish(
        &mut self,
        line: &str,
        d: Dated,
        pm: Option<Prematch>,
        now: f64,
    ) -> (String, Vec<Failure>, bool) {
        let Some(filter) = self.filter.as_mut() else {
            return (String::new(), Vec::new(), false);
        };
        let max_lines = filter.max_lines();
        let org_buf: Vec<TupleLine> = if max_lines > 1 {
            filter.line_buffer().to_vec()
        } else {
            Vec::new()
        };
        let full_buffer = org_buf.len() >= max_lines;
        let res = filter.finish(d, pm, now);
        if res.over_limit {
            self.over_limit += 1;
        }
        let mut is_ignored = !res.ignored_by.is_empty();
        for &i in &res.ignored_by {
            if let Some(r) = self.p.ignore.get_mut(i) {
                r.stats += 1;
            }
        }
        let mut ret: Vec<Failure> = Vec::new();
        for f in res.failures {
            if self.o.out.is_none() {
                let multiple = ret.len() > 1;
                if let Some(r) = self.p.fail.get_mut(f.regex) {
                    r.stats += 1;
                    if self.o.verbose > 0 {
                        r.ips.push((f.id.clone(), f.time, multiple));
                    }
                }
            }
            if !f.nofail() {
                ret.push(f);
            } else {
                is_ignored = true;
            }
        }
        if self.o.out.is_some() {
            return (String::new(), ret, is_ignored);
        }
        if filter.prefregex().is_some() && filter.pref_matched() {
            self.pref_matched += 1;
            if self.o.verbose > 0 {
                if self.pref_groups.len() < self.maxlines_limit {
                    self.pref_groups.push(repr_dict(filter.pref_groups()));
                } else if self.pref_groups.len() == self.maxlines_limit {
                    self.pref_groups.push("...".into());
                }
            }
        }
        // upstream returns the line itself (its "timeextracted" list holds whole lines)
        // only -D (debuggex) shows it
        let mut stripped = if self.o.debuggex {
            line.to_string()
        } else {
            String::new()
        };
        let processed = res.stripped;
        if max_lines > 1 {
            let mut pre_lines = Vec::new();
            let cur = filter.line_buffer().to_vec();
            for b in org_buf.iter().skip(usize::from(full_buffer)) {
                if !cur.contains(b) {
                    let j = joined(b);
                    if let Some(p) = self.stats.missed_lines.iter().position(|l| *l == j) {
                        self.stats.missed_lines.remove(p);
                        if self.o.debuggex {
                            let s = format!("{}{}", b.0, b.2);
                            if let Some(q) = self.stats.missed_te.iter().position(|l| *l == s) {
                                self.stats.missed_te.remove(q);
                            }
                        }
                    }
                    if self.o.print_all_matched {
                        if !self.o.debuggex {
                            self.stats.matched_lines.push(j);
                        } else {
                            pre_lines.push(format!("{}{}", b.0, b.2));
                        }
                    }
                    self.stats.matched += 1;
                    self.stats.missed = self.stats.missed.wrapping_sub(1);
                }
            }
            if !pre_lines.is_empty() {
                pre_lines.push(processed);
                stripped = pre_lines.join("\n");
            }
        }
        (stripped, ret, is_ignored)
    }

    fn print_out(&mut self, fmt: &str, ret: &[Failure]) {
        for r in ret {
            let id = r.id.clone().unwrap_or_else(|| "None".into());
            match fmt {
                "id" | "fid" => outln!(self.out, "{id}"),
                "ip" => outln!(self.out, "{}", r.data.ip.clone().unwrap_or(id)),
                "msg" => {
                    for m in r.data.matches.clone().unwrap_or_default() {
                        outln!(self.out, "{m}");
                    }
                }
                "row" => {
                    let t = match r.time {
                        None => "None".to_string(),
                        Some(t) if r.time_is_int => format!("{t:.0}"),
                        Some(t) => pyfmt::repr_float(t),
                    };
                    let users = r.data.users.as_ref().map(|u| {
                        let items: Vec<String> = u.iter().map(|x| repr_str(x)).collect();
                        format!("{{{}}}", items.join(", "))
                    });
                    let parts: Vec<String> = r
                        .data
                        .groups
                        .iter()
                        .map(|(k, v)| match (&**k, v, &users) {
                            ("users", None, Some(u)) => format!("'users': {u}"),
                            (_, Some(v), _) => format!("{}: {}", repr_str(k), repr_str(v)),
                            _ => format!("{}: None", repr_str(k)),
                        })
                        .collect();
                    let mut d = format!("{{{}", parts.join(", "));
                    let mut extra = Vec::new();
                    if let Some(ip) = &r.data.ip {
                        extra.push(format!("'ip': {}", repr_str(ip)));
                    }
                    for e in extra {
                        if !d.ends_with('{') {
                            d.push_str(", ");
                        }
                        d.push_str(&e);
                    }
                    d.push('}');
                    outln!(self.out, "[{},\t{},\t{}],", repr_str(&id), t, d);
                }
                f if !f.contains('<') => {
                    let v = r
                        .data
                        .get(f)
                        .map(str::to_string)
                        .unwrap_or_else(|| "None".into());
                    outln!(self.out, "{v}");
                }
                f => {
                    let msg = r.data.matches.clone().unwrap_or_default().join("\n");
                    let mut s = f.to_string();
                    for (k, v) in &r.data.groups {
                        if let Some(v) = v {
                            s = s.replace(&format!("<{k}>"), v);
                            s = s.replace(&format!("<F-{}>", k.to_uppercase()), v);
                        }
                    }
                    s = s.replace("<ip>", r.data.ip.as_deref().unwrap_or(&id));
                    s = s.replace("<fid>", &id);
                    s = s.replace("<msg>", &msg);
                    s = s.replace("<matches>", &msg);
                    outln!(self.out, "{s}");
                }
            }
        }
    }

    fn pprint_list(&mut self, l: &[String], header: Option<&str>) {
        if l.is_empty() {
            return;
        }
        let h = header.map(|h| format!("|- {h}\n")).unwrap_or_default();
        outln!(self.out, "{h}|  {}\n`-", l.join("\n|  "));
    }

    fn print_regexes(&mut self, title: &str, fail: bool) {
        let list = if fail { &self.p.fail } else { &self.p.ignore };
        let mut total = 0;
        let mut out = Vec::new();
        for (cnt, r) in list.iter().enumerate() {
            total += r.stats;
            if r.stats > 0 || self.o.verbose > 0 {
                out.push(format!("{:2}) [{}] {}", cnt + 1, r.stats, r.regex));
            }
            if self.o.verbose > 0 {
                for (id, t, multi) in &r.ips {
                    let ts = f2b_filter::localtime::localtime(t.unwrap_or_else(now))
                        .format("%a %b %d %H:%M:%S %Y")
                        .to_string();
                    out.push(format!(
                        "    {}  {}{}",
                        id.as_deref().unwrap_or("None"),
                        ts,
                        if *multi {
                            " (multiple regex matched)"
                        } else {
                            ""
                        }
                    ));
                }
            }
        }
        outln!(self.out, "\n{title}: {total} total");
        self.pprint_list(&out, Some(" #) [# of hits] regular expression"));
    }

    fn print_stats(&mut self) {
        if self.o.out.is_some() {
            return;
        }
        outln!(self.out, "\nResults\n=======");
        let pref = self
            .filter
            .as_ref()
            .and_then(|f| f.prefregex())
            .map(|p| p.expanded.clone());
        if let Some(p) = pref {
            let mut out = vec![p];
            if self.o.verbose > 0 {
                out.extend(self.pref_groups.iter().map(|g| format!("    {g}")));
            }
            outln!(self.out, "\nPrefregex: {} total", self.pref_matched);
            self.pprint_list(&out, None);
        }
        self.print_regexes("Failregex", true);
        self.print_regexes("Ignoreregex", false);
        if let Some(dd) = self.filter.as_ref().and_then(|f| f.date_detector()) {
            outln!(self.out, "\nDate template hits:");
            let mut out = Vec::new();
            for t in dd.templates() {
                if self.o.verbose > 0 || t.hits > 0 {
                    out.push(format!("[{}] {}", t.hits, t.template.name));
                    if self.o.verbose_date {
                        out.push(format!(
                            "    # weight: {:.3} ({:.3}), pattern: {}",
                            t.weight(),
                            t.template.weight,
                            t.template.pattern.clone().unwrap_or_default()
                        ));
                        out.push(format!("    # regex:   {}", t.template.regex));
                    }
                }
            }
            self.pprint_list(&out, Some("[# of hits] date format"));
        }
        let s = &self.stats;
        let summary = format!(
            "\nLines: {} lines, {} ignored, {} matched, {} missed",
            s.tested, s.ignored, s.matched, s.missed
        );
        outln!(self.out, "{summary}");
        if let Some(e) = self.elapsed {
            outln!(self.out, "[processed in {e:.2} sec]");
        }
        outln!(self.out, "");
        if self.o.print_all_matched {
            self.print_lines("matched");
        }
        if !self.o.print_no_ignored {
            self.print_lines("ignored");
        }
        if !self.o.print_no_missed {
            self.print_lines("missed");
        }
    }

    fn print_lines(&mut self, ltype: &str) {
        let (n, lines, te, all) = match ltype {
            "matched" => (
                self.stats.matched,
                self.stats.matched_lines.clone(),
                self.stats.matched_te.clone(),
                self.o.print_all_matched,
            ),
            "ignored" => (
                self.stats.ignored,
                self.stats.ignored_lines.clone(),
                self.stats.ignored_te.clone(),
                self.o.print_all_ignored,
            ),
            _ => (
                self.stats.missed,
                self.stats.missed_lines.clone(),
                self.stats.missed_te.clone(),
                self.o.print_all_missed,
            ),
        };
        if n == 0 {
            return;
        }
        let mut cap = ltype.to_string();
        cap[..1].make_ascii_uppercase();
        let header = format!("{cap} line(s):");
        if n < self.maxlines_limit || all {
            if self.o.debuggex {
                let regexes: Vec<String> = if ltype == "ignored" {
                    self.p.ignore.iter().map(|r| r.regex.clone()).collect()
                } else {
                    self.p.fail.iter().map(|r| r.regex.clone()).collect()
                };
                let multiline = self.filter.as_ref().is_some_and(|f| f.max_lines() > 1);
                let usedns = self.o.usedns.clone().unwrap_or_default();
                let mut b = Vec::new();
                for l in &te {
                    for r in &regexes {
                        let url = debuggex_url(l, r, multiline, &usedns);
                        b.push(format!("{l} | {r} |  {url}").trim_end().to_string());
                    }
                }
                self.pprint_list(&b, Some(&header));
            } else {
                let l: Vec<String> = lines.iter().map(|x| x.trim_end().to_string()).collect();
                self.pprint_list(&l, Some(&header));
            }
        } else {
            outln!(
                self.out,
                "{header} too many to print.  Use --print-all-{ltype} to print all {n} lines"
            );
        }
    }
}

fn debuggex_url(sample: &str, regex: &str, multiline: bool, usedns: &str) -> String {
    let re = f2b_filter::tags::resolve_host_tag(regex, usedns);
    let mut s = format!(
        "https://www.debuggex.com/?re={}&str={}&flavor=python",
        quote_plus(re.as_bytes()),
        quote_plus(sample.as_bytes())
    );
    if multiline {
        s.push_str("&flags=m");
    }
    s
}

/// Lines of a file as upstream's `FileContainer` yields them, streamed: split at
/// `\n`, invalid UTF-8 replaced, an incomplete last line (no `\n`) dropped.
struct FileLines {
    r: std::io::BufReader<std::fs::File>,
    buf: Vec<u8>,
    latin1: bool,
}

impl FileLines {
    fn new(f: std::fs::File, latin1: bool) -> FileLines {
        FileLines {
            r: std::io::BufReader::with_capacity(1 << 16, f),
            buf: Vec::new(),
            latin1,
        }
    }
}

impl Iterator for FileLines {
    type Item = String;
    fn next(&mut self) -> Option<String> {
        use std::io::BufRead;
        self.buf.clear();
        match self.r.read_until(b'\n', &mut self.buf) {
            Ok(n) if n > 0 && self.buf.last() == Some(&b'\n') => Some(if self.latin1 {
                self.buf.iter().map(|&b| b as char).collect()
            } else {
                // the common valid case validates word-wise; lossy goes byte by byte
                match std::str::from_utf8(&self.buf) {
                    Ok(s) => s.to_owned(),
                    Err(_) => String::from_utf8_lossy(&self.buf).into_owned(),
                }
            }),
            _ => None,
        }
    }
}

/// `shlex.split` for `-m` (quotes and backslashes; enough for journal matches).
fn shlex_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut q: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (q, c) {
            (None, c) if c.is_whitespace() => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            (None, '\'') | (None, '"') => {
                q = Some(c);
                have = true;
            }
            (Some(qc), c) if c == qc => q = None,
            (Some('"') | None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    have = true;
                }
            }
            (_, c) => {
                cur.push(c);
                have = true;
            }
        }
    }
    if have {
        out.push(cur);
    }
    out
}

/// DNS lookup for `usedns = yes|warn` (`DNSUtils.dnsToIp`).
fn resolve(host: &str) -> Vec<std::net::IpAddr> {
    use std::net::ToSocketAddrs;
    let mut v: Vec<std::net::IpAddr> = Vec::new();
    if let Ok(it) = (host, 0u16).to_socket_addrs() {
        for a in it {
            if !v.contains(&a.ip()) {
                v.push(a.ip());
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_spec_detection() {
        assert!(looks_like_filter("sshd"));
        assert!(looks_like_filter("sshd[mode=aggressive]"));
        assert!(looks_like_filter("/etc/fail2ban/filter.d/sshd.conf"));
        assert!(!looks_like_filter("^Failed for <HOST>$"));
        let (n, o) = extract_options("sshd[mode=aggressive, x=\"a,b\"]").unwrap();
        assert_eq!(n, "sshd");
        assert_eq!(
            o,
            [
                ("mode".into(), "aggressive".into()),
                ("x".into(), "a,b".into())
            ]
        );
    }
}
