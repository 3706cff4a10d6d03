//! Reading one filter the way `fail2ban-regex <log> sshd[mode=aggressive]` and a
//! jail do: the filter part of the `-d` stream, as typed fields.

use std::collections::BTreeMap;
use std::path::Path;

use f2b_ini::OMap;
use f2b_protocol::Value;

use crate::ctx::{py_str, Ctx};
use crate::definit::{fill_filter_stream, FilterReader};
use crate::error::{Error, ErrorKind};
use crate::helpers::extract_options;
use crate::shlex::shlex_split;

/// A resolved filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterDef {
    /// Filter name (`sshd`).
    pub name: String,
    /// `prefregex`, tags substituted.
    pub prefregex: Option<String>,
    /// One entry per non-empty `failregex` line.
    pub failregex: Vec<String>,
    /// One entry per non-empty `ignoreregex` line.
    pub ignoreregex: Vec<String>,
    /// `maxlines`.
    pub maxlines: Option<usize>,
    /// `datepattern`.
    pub datepattern: Option<String>,
    /// `journalmatch`: one group of shell-split words per line.
    pub journalmatch: Vec<Vec<String>>,
    /// `usedns`.
    pub usedns: Option<String>,
    /// `logtype` (`file` or `journal`).
    pub logtype: Option<String>,
    /// All combined options (Python `str()` form), tags substituted.
    pub options: BTreeMap<String, String>,
    /// The filter's part of the command stream (as `-d` prints it, jail name
    /// `fail2ban-regex-jail` unless overridden by `__jail`).
    pub stream: Vec<Value>,
}

/// Reads `spec` (`sshd`, `sshd[mode=aggressive]`, or a path to a filter file) under
/// `confdir`. `jail_overrides` are options as a jail would pass them (e.g.
/// `backend`, `mode`); options the jail sets itself are left to the jail, like
/// upstream.
pub fn read_filter(
    confdir: &Path,
    spec: &str,
    jail_overrides: &[(String, String)],
) -> Result<FilterDef, Error> {
    let (name, args) = extract_options(spec)
        .map_err(|e| Error::value(format!("Invalid filter definition {spec:?}: {e}")))?;
    let confdir = confdir.to_string_lossy();
    let (basedir, fname) = if name.contains('/') {
        let p = Path::new(&name);
        let dir = p
            .parent()
            .map(|d| d.to_string_lossy().to_string())
            .unwrap_or_default();
        let stem = f2b_ini::py::splitext_root(
            p.file_name()
                .map(|s| s.to_str().unwrap_or(""))
                .unwrap_or(""),
        );
        // a file inside some .../filter.d: use the standard loading algorithm there
        let base = dir.strip_suffix("/filter.d").unwrap_or(&dir).to_string();
        (base, stem.to_string())
    } else {
        (confdir.to_string(), name.clone())
    };
    let mut ctx = Ctx::new(&basedir);
    let mut f = FilterReader::new(&fname, "fail2ban-regex-jail", args);
    if !f.base.read(&mut ctx)? {
        return Err(Error::new(
            ErrorKind::JailDef,
            format!(
                "Unable to read the filter {}",
                Value::str(fname.as_str()).repr()
            ),
        ));
    }
    let backend = jail_overrides
        .iter()
        .rev()
        .find(|(k, _)| k == "backend")
        .map(|(_, v)| v.as_str())
        .unwrap_or("auto");
    f.apply_auto_options(backend);
    let mut p = OMap::new();
    for (k, v) in jail_overrides {
        p.insert(k.clone(), Value::Str(v.clone()));
    }
    f.base.get_options(&mut ctx, &p, false)?;
    let opts = f.base.get_combined(&mut ctx, &[])?;
    let mut stream = Vec::new();
    fill_filter_stream(&mut stream, &opts, "fail2ban-regex-jail")?;
    let s = |k: &str| opts.get(k).and_then(py_str);
    let lines = |k: &str| -> Vec<String> {
        s(k).map(|v| {
            v.split('\n')
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
    };
    let mut journalmatch = Vec::new();
    for l in lines("journalmatch") {
        journalmatch.push(shlex_split(&l).map_err(Error::value)?);
    }
    Ok(FilterDef {
        name: fname,
        prefregex: s("prefregex"),
        failregex: lines("failregex"),
        ignoreregex: lines("ignoreregex"),
        maxlines: match opts.get("maxlines") {
            Some(Value::Int(i)) if *i >= 0 => Some(*i as usize),
            _ => None,
        },
        datepattern: s("datepattern"),
        journalmatch,
        usedns: s("usedns"),
        logtype: s("logtype"),
        options: opts
            .iter()
            .filter_map(|(k, v)| py_str(v).map(|s| (k.clone(), s)))
            .collect(),
        stream,
    })
}
