//! Regex and date settings of a jail's filter (`prefregex`, `addfailregex`,
//! `datepattern`, …), validated when set (like upstream, which compiles on `set`),
//! and the compiled [`f2b_filter::Filter`] built from them when lines arrive.

use f2b_filter::failregex::FRegex;
use f2b_filter::pyre::DEFAULT_BACKTRACK_LIMIT;
use f2b_filter::{DateDetector, Filter, FilterBuilder};
use f2b_protocol::Value;

use super::filter::FilterPart;
use crate::error::CmdError;
use crate::f2b_log;

fn compile(v: &str, multiline: bool, use_dns: &str) -> Result<FRegex, CmdError> {
    FRegex::new(v, multiline, use_dns, DEFAULT_BACKTRACK_LIMIT).map_err(CmdError::regex)
}

impl FilterPart {
    /// `prefregex`.
    pub fn set_prefregex(&mut self, v: &str) -> Result<(), CmdError> {
        f2b_log!(
            DEBUG,
            "server",
            "  prefregex: {}",
            crate::logging::py_repr(v)
        );
        if v.is_empty() {
            self.prefregex = None;
            self.prefregex_exp = String::new();
        } else {
            let r = compile(v, false, &self.usedns)?;
            self.prefregex = Some(v.to_string());
            self.prefregex_exp = r.expanded;
        }
        self.invalidate();
        Ok(())
    }

    /// `get <jail> prefregex`: the expanded regex, or `""`.
    pub fn prefregex_expanded(&self) -> String {
        self.prefregex_exp.clone()
    }

    /// `addfailregex` / `addignoreregex`.
    pub fn add_regex(&mut self, fail: bool, v: &str) -> Result<(), CmdError> {
        f2b_log!(
            DEBUG,
            "server",
            "  {}: {}",
            if fail { "failregex" } else { "ignoreregex" },
            crate::logging::py_repr(v)
        );
        let r = compile(v, self.maxlines > 1, &self.usedns).inspect_err(|e| {
            f2b_log!(ERROR, "filter", "{}", e.args[0].str_());
        })?;
        // upstream FailRegex: the regex or the prefregex must identify the failure
        const IDS: [&str; 5] = ["fid", "ip4", "ip6", "dns", "mlfid"];
        if fail && !IDS.iter().any(|g| r.has_group(g)) {
            let in_pref = match &self.prefregex {
                Some(p) => compile(p, false, &self.usedns)
                    .map(|p| IDS.iter().any(|g| p.has_group(g)))
                    .unwrap_or(false),
                None => false,
            };
            if !in_pref {
                let e = CmdError::regex(format!("No failure-id group in '{}'", r.expanded));
                f2b_log!(ERROR, "filter", "{}", e.args[0].str_());
                return Err(e);
            }
        }
        if fail {
            self.failregex.push(v.to_string());
            self.failregex_exp.push(r.expanded);
        } else {
            self.ignoreregex.push(v.to_string());
            self.ignoreregex_exp.push(r.expanded);
        }
        self.invalidate();
        Ok(())
    }

    /// `delfailregex` / `delignoreregex <index>`.
    pub fn del_regex(&mut self, fail: bool, idx: i64) -> Result<(), CmdError> {
        let (list, exp) = if fail {
            (&mut self.failregex, &mut self.failregex_exp)
        } else {
            (&mut self.ignoreregex, &mut self.ignoreregex_exp)
        };
        let n = list.len() as i64;
        let i = if idx < 0 { idx + n } else { idx };
        if i < 0 || i >= n {
            f2b_log!(
                ERROR,
                "filter",
                "Cannot remove regular expression. Index {idx} is not valid"
            );
            return Ok(());
        }
        list.remove(i as usize);
        exp.remove(i as usize);
        self.invalidate();
        Ok(())
    }

    /// `get <jail> failregex` / `ignoreregex`: expanded regexes.
    pub fn regex_list(&self, fail: bool) -> Vec<String> {
        if fail {
            self.failregex_exp.clone()
        } else {
            self.ignoreregex_exp.clone()
        }
    }

    /// `datepattern`.
    pub fn set_date_pattern(&mut self, v: &str) -> Result<(), CmdError> {
        if v.is_empty() {
            self.datepattern = None;
            self.datepattern_value = None;
        } else {
            let year = {
                use chrono::Datelike;
                chrono::Local::now().year()
            };
            let d = DateDetector::with_patterns(year, v).map_err(CmdError::value)?;
            self.datepattern = Some(v.to_string());
            self.datepattern_value = d.date_pattern();
        }
        self.invalidate();
        Ok(())
    }

    /// `get <jail> datepattern`: `(pattern, name)` or `(None, 'Default Detectors')`.
    pub fn date_pattern_value(&self) -> Value {
        match &self.datepattern_value {
            Some((p, n)) => Value::Tuple(vec![
                p.clone().map_or(Value::None, Value::Str),
                Value::str(n.clone()),
            ]),
            None => Value::Tuple(vec![Value::None, Value::str("Default Detectors")]),
        }
    }

    /// Drops the compiled matcher after a settings change; the watcher rebuilds it.
    pub(crate) fn invalidate(&mut self) {
        self.matcher = None;
        self.matcher_failed = false;
    }

    /// The compiled filter, built on first use after a change. A build error is
    /// logged once and leaves the jail without a matcher.
    pub fn matcher(&mut self) -> Option<&mut Filter> {
        if self.matcher.is_none() && !self.failregex.is_empty() && !self.matcher_failed {
            let b = FilterBuilder::new()
                .prefregex(self.prefregex.as_deref())
                .failregexes(&self.failregex)
                .ignoreregexes(&self.ignoreregex)
                .maxlines(self.maxlines)
                .datepattern(self.datepattern.as_deref())
                .use_dns(&self.usedns)
                .logtimezone(self.logtimezone.as_deref());
            let b = if self.kind == "systemd" {
                b.no_date_detector()
            } else {
                b
            };
            match b.build() {
                Ok(mut f) => {
                    f.find_time = self.fail.max_time();
                    f.check_find_time = true;
                    f.keep_stripped = false;
                    f.in_operation = self.in_operation;
                    self.matcher = Some(f);
                    // compiling left garbage and ran the regex compiler: give both back
                    crate::memory::schedule_release(std::time::Duration::from_secs(2));
                }
                Err(e) => {
                    self.matcher_failed = true;
                    f2b_log!(ERROR, "filter", "[{}] filter broken: {e}", self.jail_name());
                }
            }
        }
        self.matcher.as_mut()
    }
}
