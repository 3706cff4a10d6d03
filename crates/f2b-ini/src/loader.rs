//! Reading a logical config name (`jail`, `filter.d/sshd`) the way fail2ban does:
//! the file set `X.conf, X.d/*.conf, X.local, X.d/*.local` (spec 1.2), each file
//! expanded with its `.local` sibling and `[INCLUDES] before/after` (1.3), parsed
//! once per file and merged in order (1.4). Parsed files and include lists are cached
//! for the lifetime of the loader, like upstream's `share_config`.

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
use std::path::Path;
use std::sync::Arc;

use crate::config::Config;
use crate::diag::{Diags, Level};
use crate::error::{Error, ErrorKind};
use crate::parse::{parse_str, IniFile};
use crate::{py, scan};

const LOGGER: &str = "fail2ban.configreader";
const LOGGER_INC: &str = "fail2ban.configparserinc";

/// Caching reader of config files.
#[derive(Debug, Default)]
pub struct Loader {
    files: HashMap<String, Option<Arc<IniFile>>>,
    inc_paths: HashMap<String, Vec<String>>,
    /// Directory listings (`None`: not readable), to answer "no such file" without
    /// a system call: a configuration read probes many names that do not exist. The
    /// flag tells a regular file (no symbolic link): it exists without asking.
    listings: HashMap<String, Option<HashMap<String, bool>>>,
    /// The base directory last found to exist.
    base_ok: Option<String>,
    /// Log records (errors about unreadable files and the like).
    pub diags: Diags,
}

/// The bytes of a file; unlike `std::fs::read`, no `fstat` for a size hint (config
/// files are small) and no zeroed buffer (reads go to spare capacity).
fn read_file(path: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(16 * 1024);
    std::fs::File::open(path)?
        .take(u64::MAX)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

impl Loader {
    /// What the listing of its directory says about `path`: `Some(false)` when it is
    /// certainly missing, `Some(true)` when it is a regular file, `None` when only
    /// the file system can tell.
    fn listed(&mut self, path: &str) -> Option<bool> {
        let slash = path.rfind('/')?;
        let (dir, name) = (&path[..slash], &path[slash + 1..]);
        if dir.is_empty() || name.is_empty() {
            return None;
        }
        match self.listing(dir)?.get(name) {
            None => Some(false),
            Some(true) => Some(true),
            Some(false) => None,
        }
    }

    /// The names in `dir` (true for a regular file), read once; `None` if unreadable.
    fn listing(&mut self, dir: &str) -> Option<&HashMap<String, bool>> {
        if !self.listings.contains_key(dir) {
            let names = std::fs::read_dir(dir).ok().map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let regular = e.file_type().is_ok_and(|t| t.is_file());
                        e.file_name().into_string().ok().map(|n| (n, regular))
                    })
                    .collect()
            });
            self.listings.insert(dir.to_string(), names);
        }
        self.listings.get(dir).and_then(Option::as_ref)
    }

    /// False when `path` certainly does not exist.
    fn may_exist(&mut self, path: &str) -> bool {
        self.listed(path) != Some(false)
    }

    fn exists(&mut self, path: &str) -> bool {
        match self.listed(path) {
            Some(known) => known,
            None => Path::new(path).exists(),
        }
    }

    fn is_file(&mut self, path: &str) -> bool {
        match self.listed(path) {
            Some(known) => known,
            None => Path::new(path).is_file(),
        }
    }

    /// Sorted `glob(dir/*.ext)`: non-hidden entries whose name ends with `.ext`.
    fn glob_ext(&mut self, dir: &str, ext: &str) -> Vec<String> {
        if !self.may_exist(dir) {
            return Vec::new();
        }
        // the same listing that answers "missing" (one read of the directory)
        let Some(listing) = self.listing(dir) else {
            return Vec::new();
        };
        let mut names: Vec<&String> = listing
            .keys()
            .filter(|n| !n.starts_with('.') && n.ends_with(ext))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| py::concat(&[dir, "/", n]))
            .collect()
    }

    /// `_expandConfFilesWithLocal`: every file followed by its `.local` sibling if that
    /// exists and is not in the original list.
    fn expand_with_local(&mut self, filenames: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(filenames.len() * 2);
        for f in filenames {
            out.push(f.clone());
            let mut local = py::splitext_root(f).to_string();
            local.push_str(".local");
            if !filenames.contains(&local) && self.is_file(&local) {
                out.push(local);
            }
        }
        out
    }
}

impl Loader {
    /// A loader with empty caches.
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops the cached parse of `path` (it is read again when needed).
    pub fn forget(&mut self, path: &str) {
        self.files.remove(path);
    }

    /// One parsed file; `Ok(None)` when it cannot be opened (silently skipped
    /// upstream). Parse and decode errors are not cached.
    pub fn file(&mut self, path: &str) -> Result<Option<Arc<IniFile>>, Error> {
        if let Some(f) = self.files.get(path) {
            return Ok(f.clone());
        }
        // upstream's per-file parser logs this the first time it reads a file (even a missing one)
        self.diags.push(
            Level::Info,
            LOGGER_INC,
            py::concat(&["  Loading files: [", &py_repr_str(path), "]"]),
        );
        let parsed = match read_file(path) {
            Err(_) => None,
            Ok(bytes) => {
                let name: Arc<str> = Arc::from(path);
                let text = String::from_utf8(bytes).map_err(|e| {
                    Error::new(
                        ErrorKind::Decode,
                        format!("'utf-8' codec can't decode: {e}"),
                    )
                    .at(name.clone(), 0)
                })?;
                Some(Arc::new(parse_str(&text, &name)?))
            }
        };
        self.files.insert(path.to_string(), parsed.clone());
        Ok(parsed)
    }

    fn get_includes(
        &mut self,
        filenames: &[String],
        seen: &[String],
    ) -> Result<Vec<String>, Error> {
        let filenames = self.expand_with_local(filenames);
        let key = filenames.join("\x01");
        if let Some(v) = self.inc_paths.get(&key) {
            return Ok(v.clone());
        }
        let mut full = Vec::new();
        for f in &filenames {
            full.extend(self.includes_uncached(f, seen)?);
        }
        self.inc_paths.insert(key, full.clone());
        Ok(full)
    }

    fn includes_uncached(&mut self, resource: &str, seen: &[String]) -> Result<Vec<String>, Error> {
        let parsed = match self.file(resource) {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(Vec::new()),
            Err(e) if e.kind() == ErrorKind::Decode => {
                self.diags.push(
                    Level::Error,
                    LOGGER_INC,
                    format!("Error decoding config file '{resource}': {}", e.message()),
                );
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        let dir = py::dirname(resource).to_string();
        let mut before = Vec::new();
        let mut after = Vec::new();
        if let Some(inc) = parsed.sections.get("INCLUDES") {
            let mut single: Option<Config> = None;
            for (opt, list) in [("before", &mut before), ("after", &mut after)] {
                let raw = inc.get(opt).or_else(|| parsed.defaults.get(opt));
                let Some(raw) = raw else { continue };
                let value = if scan::contains(&raw.value, b'%') {
                    // interpolated within this single file, like upstream's per-file parser
                    let c = single.get_or_insert_with(|| Config::from_file(&parsed));
                    c.get("INCLUDES", opt, &[])?
                } else {
                    raw.value.clone()
                };
                for r in scan::split(&value, b'\n') {
                    let r = py::path_join(&dir, r);
                    if seen.contains(&r) {
                        continue;
                    }
                    let mut s = seen.to_vec();
                    s.push(resource.to_string());
                    list.extend(self.get_includes(&[r], &s)?);
                }
            }
        }
        before.push(resource.to_string());
        before.extend(after);
        Ok(before)
    }

    /// `SafeConfigParserWithIncludes.read(filenames)`: expands includes, merges the
    /// files in order; returns the merged config and the list of files read.
    pub fn read_files(&mut self, filenames: &[String]) -> Result<(Config, Vec<String>), Error> {
        let full = self.get_includes(filenames, &[])?;
        if !full.is_empty() {
            let list: Vec<String> = full.iter().map(|f| py_repr_str(f)).collect();
            self.diags.push(
                Level::Info,
                LOGGER_INC,
                format!("  Loading files: [{}]", list.join(", ")),
            );
        }
        let mut cfg = Config::new();
        let mut read = Vec::new();
        for f in &full {
            if let Some(p) = self.file(f)? {
                read.push(f.clone());
                cfg.merge_file(&p);
            }
        }
        Ok((cfg, read))
    }

    /// `ConfigReaderUnshared.read(name)` under `basedir` (already stripped of a
    /// trailing `/`): `Ok(None)` when no file could be read (logged like upstream).
    pub fn read_named(&mut self, basedir: &str, name: &str) -> Result<Option<Config>, Error> {
        if self.base_ok.as_deref() != Some(basedir) && !self.exists(basedir) {
            return Err(Error::new(
                ErrorKind::NoSection,
                format!("Base configuration directory {basedir} does not exist "),
            ));
        }
        if self.base_ok.as_deref() != Some(basedir) {
            self.base_ok = Some(basedir.to_string());
        }
        self.diags.push(
            Level::Info,
            LOGGER,
            py::concat(&["Loading configs for ", name, " under ", basedir, " "]),
        );
        let base = py::path_join(basedir, name);
        let dir = py::concat(&[&base, ".d"]);
        let mut files = vec![py::concat(&[&base, ".conf"])];
        files.extend(self.glob_ext(&dir, ".conf"));
        files.push(py::concat(&[&base, ".local"]));
        files.extend(self.glob_ext(&dir, ".local"));
        files.retain(|f| self.exists(f));
        if files.is_empty() {
            self.diags.push(
                Level::Error,
                LOGGER,
                format!(
                    "Found no accessible config files for {} under {basedir}",
                    py_repr_str(name)
                ),
            );
            return Ok(None);
        }
        let (cfg, read) = self.read_files(&files)?;
        let missed: Vec<&str> = files
            .iter()
            .filter(|f| !read.contains(f))
            .map(|s| s.as_str())
            .collect();
        if !missed.is_empty() {
            self.diags.push(
                Level::Error,
                LOGGER,
                format!("Could not read config files: {}", missed.join(", ")),
            );
        }
        if read.is_empty() {
            self.diags.push(
                Level::Error,
                LOGGER,
                format!(
                    "Found no accessible config files for {} under {basedir}",
                    py_repr_str(name)
                ),
            );
            return Ok(None);
        }
        Ok(Some(cfg))
    }
}

/// Python `repr` of a string for messages (quotes chosen like Python; `\\`, the quote,
/// and ASCII control characters escaped; other characters kept).
pub fn py_repr_str(s: &str) -> String {
    f2b_py::repr_str(s)
}
