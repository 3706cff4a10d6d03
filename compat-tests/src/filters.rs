//! Helpers for the filter tests: which stock/test filters exist, and their
//! definitions (prefregex, failregex, ignoreregex, maxlines, datepattern) for a
//! set of filter options.
//!
//! Definitions come from our config reader (`f2b_config::read_filter`) when it
//! is available; FALLBACK (marked, test-only): until it exists, they are read by
//! Debian's installed python `FilterReader` through a small helper process.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

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

const PY_READER: &str = r#"
import sys, json
from fail2ban.client.filterreader import FilterReader
for line in sys.stdin:
    req = json.loads(line)
    try:
        r = FilterReader(req['name'], 'jail', req['opts'], basedir=req['basedir'])
        if not r.read():
            raise ValueError('cannot read filter')
        r.getOptions({})
        d = {'prefregex': None, 'failregex': [], 'ignoreregex': [], 'maxlines': None, 'datepattern': None}
        for opt in r.convert():
            v = opt[3:] if opt[0] == 'set' else opt[3]
            if opt[2] == 'prefregex': d['prefregex'] = v[0]
            elif opt[2] == 'addfailregex': d['failregex'] += v
            elif opt[2] == 'addignoreregex': d['ignoreregex'] += v
            elif opt[2] == 'maxlines': d['maxlines'] = int(v[0])
            elif opt[2] == 'datepattern': d['datepattern'] = v[0]
        print(json.dumps(d))
    except Exception as e:
        print(json.dumps({'error': str(e)}))
    sys.stdout.flush()
"#;

/// Reads filter definitions (see the module doc for the source).
pub struct DefReader {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl DefReader {
    /// Starts the reader.
    pub fn new() -> DefReader {
        let mut child = Command::new("/usr/bin/python3")
            .args(["-c", PY_READER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start python FilterReader helper");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        DefReader {
            child,
            stdin,
            stdout,
        }
    }

    /// The definition of filter `name` in `basedir` with options `opts`.
    pub fn read(
        &mut self,
        basedir: &Path,
        name: &str,
        opts: &[(String, String)],
    ) -> Result<FilterDef, String> {
        let mut o = serde_json::Map::new();
        for (k, v) in opts {
            o.insert(k.clone(), serde_json::Value::String(v.clone()));
        }
        let req =
            serde_json::json!({"name": name, "basedir": basedir.to_string_lossy(), "opts": o});
        writeln!(self.stdin, "{req}").map_err(|e| e.to_string())?;
        self.stdin.flush().map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("{e}: {line}"))?;
        if let Some(e) = v.get("error") {
            return Err(e.to_string());
        }
        let strs = |k: &str| -> Vec<String> {
            v[k].as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(FilterDef {
            prefregex: v["prefregex"].as_str().map(str::to_string),
            failregex: strs("failregex"),
            ignoreregex: strs("ignoreregex"),
            maxlines: v["maxlines"].as_u64().map(|n| n as usize),
            datepattern: v["datepattern"].as_str().map(str::to_string),
        })
    }
}

impl Default for DefReader {
    fn default() -> Self {
        DefReader::new()
    }
}

impl Drop for DefReader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
