//! Helpers for the filter tests: which stock/test filters exist, and their
//! definitions (prefregex, failregex, ignoreregex, maxlines, datepattern) for a
//! set of filter options.
//!
//! Definitions come from our config reader (`f2b_config::read_filter`).

use std::path::{Path, PathBuf};

/// Upstream's test-only filters (`fail2ban/tests/config`).
pub const UPSTREAM_TEST_CONF: &str = "/usr/lib/python3/dist-packages/fail2ban/tests/config";

/// A filter definition as the server receives it.
#[derive(Debug, Clone, Default)]
pub struct FilterDef {
    /// prefregex.
    pub prefregex: Option<String>,
    /// failregex lines.
    pub failregex: Vec<String>,
    /// ignoreregex lines.
    pub ignoreregex: Vec<String>,
    /// maxlines.
    pub maxlines: Option<usize>,
    /// datepattern.
    pub datepattern: Option<String>,
}

/// The filters tested by upstream's sample test: every stock `filter.d/*.conf`
/// not ending in `common.conf`, plus the test config's `zzz-*.conf`; each with its
/// config base dir.
pub fn sample_filters() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for (base, zzz) in [(crate::STOCK_CONF, false), (UPSTREAM_TEST_CONF, true)] {
        let dir = Path::new(base).join("filter.d");
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".conf") && !n.starts_with('.'))
            .filter(|n| {
                if zzz {
                    n.starts_with("zzz-")
                } else {
                    !n.ends_with("common.conf")
                }
            })
            .map(|n| n.trim_end_matches(".conf").to_string())
            .collect();
        names.sort();
        out.extend(names.into_iter().map(|n| (PathBuf::from(base), n)));
    }
    out
}

/// Reads filter definitions with our config reader (`f2b_config::read_filter`),
/// as upstream's `FilterReader(name, jail, opts)` does.
#[derive(Debug, Default)]
pub struct DefReader;

impl DefReader {
    /// A reader.
    pub fn new() -> DefReader {
        DefReader
    }

    /// The definition of filter `name` in `basedir` with options `opts`.
    pub fn read(
        &mut self,
        basedir: &Path,
        name: &str,
        opts: &[(String, String)],
    ) -> Result<FilterDef, String> {
        let spec = if opts.is_empty() {
            name.to_string()
        } else {
            let o: Vec<String> = opts.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            format!("{name}[{}]", o.join(", "))
        };
        let d = f2b_config::read_filter(basedir, &spec, &[]).map_err(|e| e.to_string())?;
        Ok(FilterDef {
            prefregex: d.prefregex,
            failregex: d.failregex,
            ignoreregex: d.ignoreregex,
            maxlines: d.maxlines,
            datepattern: d.datepattern,
        })
    }
}
