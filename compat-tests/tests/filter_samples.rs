//! Every `# failJSON:` annotation of upstream's sample logs, checked against our
//! filter engine with upstream's semantics (`fail2ban/tests/samplestestcase.py`):
//! TZ = CET-01CEST-02,M3.5.0,M10.5.0, now = 1124013600, raw hosts, all regexes
//! checked, no findtime check, journal-typed option sets get the time directly.
//! Also every filter (with each option set used by the samples) must compile and
//! each of its failregexes must be hit by some sample.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use compat_tests::filters::{sample_filters, DefReader, UPSTREAM_TEST_CONF};
use compat_tests::{require_oracle, UPSTREAM_LOGS};
use f2b_filter::{Filter, FilterBuilder};
use serde_json::Value;

const TEST_NOW: f64 = 1124013600.0;
const TEST_NOW_STR: &str = "2005-08-14T10:00:00";

type Opts = Vec<(String, String)>;

/// A tiny evaluator for the expressions the samples use in `constraint` and
/// `test.condition`: `A == B` / `A != B` with `name`, `opts.get('k')` or a quoted
/// string as operands.
fn eval_expr(expr: &str, name: &str, opts: &Opts) -> bool {
    let operand = |s: &str| -> Option<String> {
        let s = s.trim();
        if s == "name" {
            return Some(name.to_string());
        }
        if let Some(k) = s
            .strip_prefix("opts.get(")
            .and_then(|r| r.strip_suffix(')'))
        {
            let k = k.trim().trim_matches(|c| c == '\'' || c == '"');
            return opts.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone());
        }
        if s.len() >= 2 && (s.starts_with('\'') || s.starts_with('"')) {
            return Some(s[1..s.len() - 1].to_string());
        }
        panic!("unsupported expression operand {s:?} in {expr:?}")
    };
    if let Some((a, b)) = expr.split_once("==") {
        return operand(a) == operand(b);
    }
    if let Some((a, b)) = expr.split_once("!=") {
        return operand(a) != operand(b);
    }
    panic!("unsupported expression {expr:?}")
}

fn local_time(t: &str) -> f64 {
    // "%Y-%m-%dT%H:%M:%S[.%f]" in local time (TZ set by the test)
    let (main, frac) = match t.split_once('.') {
        Some((m, f)) => (m, format!("0.{f}").parse::<f64>().unwrap_or(0.0)),
        None => (t, 0.0),
    };
    let ndt = chrono::NaiveDateTime::parse_from_str(main, "%Y-%m-%dT%H:%M:%S")
        .unwrap_or_else(|e| panic!("bad time {t}: {e}"));
    f2b_filter::localtime::mktime(&ndt) as f64 + frac
}

struct Flt {
    filter: Filter,
    used: HashSet<usize>,
    regexes: Vec<String>,
}

struct Run<'a> {
    reader: &'a mut DefReader,
    filters: BTreeMap<String, Flt>,
    errors: Vec<String>,
    /// (file, line number) → evaluated ok / failed.
    annotations: HashMap<(String, usize), bool>,
    used_re: HashSet<String>,
}

impl Run<'_> {
    fn get_filter(&mut self, flt_name: &str, basedir: &Path, name: &str, opts: &Opts) -> bool {
        if self.filters.contains_key(flt_name) {
            return true;
        }
        let def = match self.reader.read(basedir, name, opts) {
            Ok(d) => d,
            Err(e) => {
                self.errors
                    .push(format!("{flt_name}: cannot read filter: {e}"));
                return false;
            }
        };
        let mut b = FilterBuilder::new()
            .prefregex(def.prefregex.as_deref())
            .failregexes(&def.failregex)
            .ignoreregexes(&def.ignoreregex)
            .maxlines(def.maxlines.unwrap_or(1))
            .datepattern(def.datepattern.as_deref());
        b = b.use_dns("warn");
        match b.build() {
            Ok(mut f) => {
                f.return_raw_host = true;
                f.check_all_regex = true;
                f.check_find_time = false;
                self.filters.insert(
                    flt_name.to_string(),
                    Flt {
                        filter: f,
                        used: HashSet::new(),
                        regexes: def.failregex.clone(),
                    },
                );
                true
            }
            Err(e) => {
                self.errors
                    .push(format!("{flt_name}: does not compile: {e}"));
                false
            }
        }
    }
}

fn json_opts(v: &Value) -> Opts {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn compare(k: &str, want: &Value, fail: &f2b_filter::Failure) -> Result<(), String> {
    let data = &fail.data;
    if k == "users" {
        let mut got = data.users.clone().unwrap_or_default();
        got.sort();
        let mut w: Vec<String> = want
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        w.sort();
        return if got == w {
            Ok(())
        } else {
            Err(format!("users {got:?} != {w:?}"))
        };
    }
    let got: Option<String> = match data.get(k) {
        Some(v) => Some(v.to_string()),
        None if k == "ip" => data.ip.clone(),
        None if k == "host" => fail.id.clone(),
        None if k == "attempts" => Some(data.matches.as_ref().map_or(0, Vec::len).to_string()),
        None => None,
    };
    let w = match want {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    let same = match (&got, &w) {
        (Some(g), Some(w)) => {
            g == w
                || (k == "host"
                    && f2b_filter::ipaddr::normalize(w, f2b_filter::ipaddr::Cidr::Unspec).text
                        == *g)
        }
        (None, None) => true,
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(format!("{k}: got {got:?}, want {w:?}"))
    }
}

fn run_filter(run: &mut Run, basedir: &Path, name: &str) {
    let mut filenames = vec![name.to_string()];
    let mut filter_tests: Vec<(String, Opts)> = Vec::new();
    let mut common_opts: Option<Opts> = None;
    let mut i = 0;
    while i < filenames.len() {
        let fname = filenames[i].clone();
        i += 1;
        let path = Path::new(UPSTREAM_LOGS).join(&fname);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                run.errors
                    .push(format!("{name}: no sample log {}: {e}", path.display()));
                return;
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut ignore_block = false;
        let mut k = 0;
        while k < lines.len() {
            let mut line = lines[k];
            let mut lnnum = k + 1;
            k += 1;
            let mut faildata = Value::Object(Default::default());
            let mut annotated = false;
            let mut ann_line = lnnum;
            let l = line.trim_end_matches(['\r', '\n']);
            let hdr = l.trim_start_matches('#');
            let is_json = l.starts_with('#') && {
                let h = hdr.strip_prefix(' ').unwrap_or(hdr);
                ["failJSON:", "fileOptions:", "filterOptions:", "addFILE:"]
                    .iter()
                    .any(|p| h.starts_with(p))
            };
            if is_json {
                let h = hdr.strip_prefix(' ').unwrap_or(hdr);
                let (kind, payload) = h.split_once(':').expect("annotation");
                let v: Value = serde_json::from_str(payload)
                    .unwrap_or_else(|e| panic!("{fname}:{lnnum}: bad JSON: {e}"));
                match kind {
                    "fileOptions" => {
                        common_opts = Some(json_opts(&v));
                        continue;
                    }
                    "filterOptions" => {
                        filter_tests.clear();
                        ignore_block = false;
                        let list = match &v {
                            Value::Array(a) => a.clone(),
                            o => vec![o.clone()],
                        };
                        for fd in list {
                            let mut opts = common_opts.clone().unwrap_or_default();
                            for (k2, v2) in json_opts(&fd) {
                                match opts.iter_mut().find(|(kk, _)| *kk == k2) {
                                    Some(e) => e.1 = v2,
                                    None => opts.push((k2, v2)),
                                }
                            }
                            if let Some((_, cond)) =
                                opts.iter().find(|(kk, _)| kk == "test.condition")
                            {
                                ignore_block = !eval_expr(cond, name, &opts);
                            }
                            if !ignore_block {
                                let flt_opts: Opts = opts
                                    .iter()
                                    .filter(|(kk, _)| !kk.starts_with("test."))
                                    .cloned()
                                    .collect();
                                let flt_name =
                                    match opts.iter().find(|(kk, _)| kk == "test.filter-name") {
                                        Some((_, n)) => format!("{name}{n}"),
                                        None => format!("{name}{}", py_dict(&flt_opts)),
                                    };
                                if run.get_filter(&flt_name, basedir, name, &flt_opts) {
                                    filter_tests.push((flt_name, opts.clone()));
                                }
                            }
                        }
                        continue;
                    }
                    "addFILE" => {
                        filenames.push(v.as_str().expect("addFILE name").to_string());
                        continue;
                    }
                    _ => {
                        faildata = v;
                        annotated = true;
                        ann_line = lnnum;
                        if k >= lines.len() {
                            break;
                        }
                        line = lines[k];
                        lnnum = k + 1;
                        k += 1;
                    }
                }
            } else if ignore_block || l.starts_with('#') || l.trim().is_empty() {
                continue;
            }
            if ignore_block {
                continue;
            }
            if filter_tests.is_empty() {
                if !run.get_filter(name, basedir, name, &Vec::new()) {
                    return;
                }
                filter_tests.push((name.to_string(), Vec::new()));
            }
            let line = line.trim_end_matches(['\r', '\n']);
            let key = (fname.clone(), ann_line);
            for (flt_name, opts) in &filter_tests {
                if let Some(c) = faildata.get("constraint").and_then(Value::as_str) {
                    if !eval_expr(c, name, opts) {
                        continue;
                    }
                }
                let outcome = check_line(run, flt_name, opts, line, &faildata);
                if annotated {
                    let e = run.annotations.entry(key.clone()).or_insert(true);
                    *e &= outcome.is_ok();
                }
                if let Err(msg) = outcome {
                    run.errors
                        .push(format!("{flt_name}: {msg} on {fname}:{lnnum}: {line}"));
                }
            }
        }
    }
}

fn check_line(
    run: &mut Run,
    flt_name: &str,
    opts: &Opts,
    line: &str,
    faildata: &Value,
) -> Result<(), String> {
    let flt = run.filters.get_mut(flt_name).expect("filter");
    let logtype = opts
        .iter()
        .find(|(k, _)| k == "logtype")
        .map(|(_, v)| v.as_str());
    let res = if logtype != Some("journal") {
        flt.filter.process_line(line, TEST_NOW)
    } else {
        let prefix = opts
            .iter()
            .find(|(k, _)| k == "test.prefix-line")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        let l = format!("{prefix}{line}");
        flt.filter.process_line_with_date(
            (String::new(), TEST_NOW_STR.to_string(), l),
            TEST_NOW,
            TEST_NOW,
        )
    };
    let mut found = Vec::new();
    for f in &res.failures {
        if f.id.is_none() || f.nofail() {
            flt.used.insert(f.regex);
            run.used_re.insert(flt.regexes[f.regex].clone());
            continue;
        }
        found.push(f);
    }
    let want_match = faildata
        .get("match")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if found.is_empty() {
        return if want_match {
            Err("Line not matched when should have".into())
        } else {
            Ok(())
        };
    }
    if !want_match {
        return Err(format!(
            "Line matched when shouldn't have (regex {})",
            found[0].regex
        ));
    }
    if found.len() != 1 {
        return Err(format!(
            "Multiple regexs matched {:?}",
            found.iter().map(|f| f.regex).collect::<Vec<_>>()
        ));
    }
    let fail = found[0];
    if let Some(o) = faildata.as_object() {
        for (k, v) in o {
            if ["time", "match", "desc", "constraint"].contains(&k.as_str()) {
                continue;
            }
            compare(k, v, fail)?;
        }
        if let Some(t) = o.get("time").and_then(Value::as_str) {
            let want = local_time(t);
            if fail.time != Some(want) {
                return Err(format!(
                    "time mismatch: got {:?}, want {want} ({t})",
                    fail.time
                ));
            }
        }
    }
    flt.used.insert(fail.regex);
    run.used_re.insert(flt.regexes[fail.regex].clone());
    Ok(())
}

/// Python's `str(dict)` of string options (the sample test's filter cache key).
fn py_dict(opts: &Opts) -> String {
    if opts.is_empty() {
        return String::new();
    }
    let items: Vec<String> = opts.iter().map(|(k, v)| format!("'{k}': '{v}'")).collect();
    format!("{{{}}}", items.join(", "))
}

#[test]
fn sample_annotations() {
    if !require_oracle(UPSTREAM_LOGS) {
        return;
    }
    std::env::set_var("TZ", "CET-01CEST-02,M3.5.0,M10.5.0");
    let mut reader = DefReader::new();
    let mut errors = Vec::new();
    let mut annotations = HashMap::new();
    let mut nfilters = 0;
    // upstream's test filters include `../../../../../../../config/filter.d/common.conf`
    // (relative to a source checkout); give them a tree where that path resolves
    let tmp = tempfile::tempdir().expect("tempdir");
    let test_conf = tmp.path().join("a/b/c/d/e/config");
    std::fs::create_dir_all(test_conf.join("filter.d")).unwrap();
    std::fs::create_dir_all(tmp.path().join("config/filter.d")).unwrap();
    std::fs::copy(
        Path::new(compat_tests::STOCK_CONF).join("filter.d/common.conf"),
        tmp.path().join("config/filter.d/common.conf"),
    )
    .expect("copy common.conf");
    for (basedir, name) in sample_filters() {
        let basedir = if basedir == Path::new(UPSTREAM_TEST_CONF) {
            let f = format!("filter.d/{name}.conf");
            std::fs::copy(basedir.join(&f), test_conf.join(&f)).expect("copy test filter");
            test_conf.clone()
        } else {
            basedir
        };
        nfilters += 1;
        let mut run = Run {
            reader: &mut reader,
            filters: BTreeMap::new(),
            errors: Vec::new(),
            annotations: HashMap::new(),
            used_re: HashSet::new(),
        };
        run_filter(&mut run, &basedir, &name);
        for (flt_name, f) in &run.filters {
            for (i, r) in f.regexes.iter().enumerate() {
                if !f.used.contains(&i) && !run.used_re.contains(r) {
                    run.errors
                        .push(format!("{flt_name}: Regex has no samples: {i}: {r:?}"));
                }
            }
        }
        errors.extend(run.errors);
        for (k, ok) in run.annotations {
            let e = annotations.entry(k).or_insert(true);
            *e &= ok;
        }
    }
    // every failJSON line of every log file
    let mut total = 0;
    let mut missed = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(UPSTREAM_LOGS)
        .expect("logs dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    for f in &files {
        let text =
            String::from_utf8_lossy(&std::fs::read(Path::new(UPSTREAM_LOGS).join(f)).unwrap())
                .into_owned();
        for (i, l) in text.lines().enumerate() {
            let h = l.trim_start_matches('#');
            if l.starts_with('#') && h.strip_prefix(' ').unwrap_or(h).starts_with("failJSON:") {
                total += 1;
                if annotations.get(&(f.clone(), i + 1)) != Some(&true) {
                    missed.push(format!("{f}:{}", i + 1));
                }
            }
        }
    }
    println!(
        "{nfilters} filters, {}/{total} annotations",
        total - missed.len()
    );
    for e in &errors {
        println!("FAIL {e}");
    }
    if !missed.is_empty() {
        println!("missed annotations: {}", missed.join(" "));
    }
    assert!(
        errors.is_empty() && missed.is_empty(),
        "{} errors, {} annotations missed",
        errors.len(),
        missed.len()
    );
}
