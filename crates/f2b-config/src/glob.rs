//! Python's `glob.glob` (non-recursive) for `logpath` entries: directory order as
//! returned by the OS (like `os.scandir`), hidden names only matched by patterns
//! starting with `.`, `fnmatch` syntax `* ? [seq] [!seq]`.

use std::path::Path;

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// `os.path.split`.
fn split(p: &str) -> (&str, &str) {
    let i = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (head, tail) = p.split_at(i);
    let trimmed = head.trim_end_matches('/');
    (if trimmed.is_empty() { head } else { trimmed }, tail)
}

fn lexists(p: &str) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

/// `fnmatch.fnmatchcase(name, pattern)`.
pub fn fnmatch(name: &str, pat: &str) -> bool {
    let n: Vec<char> = name.chars().collect();
    let p: Vec<char> = pat.chars().collect();
    type Class = (usize, bool, Vec<(char, char)>);
    fn class(p: &[char], i: usize) -> Option<Class> {
        // p[i] == '['; returns (index after ']', negated, ranges)
        let mut j = i + 1;
        let neg = j < p.len() && p[j] == '!';
        if neg {
            j += 1;
        }
        let start = j;
        if j < p.len() && p[j] == ']' {
            j += 1;
        }
        while j < p.len() && p[j] != ']' {
            j += 1;
        }
        if j >= p.len() {
            return None;
        }
        let body = &p[start..j];
        let mut ranges = Vec::new();
        let mut k = 0;
        while k < body.len() {
            if k + 2 < body.len() && body[k + 1] == '-' {
                ranges.push((body[k], body[k + 2]));
                k += 3;
            } else {
                ranges.push((body[k], body[k]));
                k += 1;
            }
        }
        Some((j + 1, neg, ranges))
    }
    fn go(n: &[char], p: &[char], ni: usize, pi: usize) -> bool {
        if pi == p.len() {
            return ni == n.len();
        }
        match p[pi] {
            '*' => (ni..=n.len()).any(|k| go(n, p, k, pi + 1)),
            '?' => ni < n.len() && go(n, p, ni + 1, pi + 1),
            '[' => match class(p, pi) {
                Some((next, neg, ranges)) => {
                    ni < n.len() && {
                        let c = n[ni];
                        let hit = ranges.iter().any(|&(a, b)| a <= c && c <= b);
                        hit != neg && go(n, p, ni + 1, next)
                    }
                }
                None => ni < n.len() && n[ni] == '[' && go(n, p, ni + 1, pi + 1),
            },
            c => ni < n.len() && n[ni] == c && go(n, p, ni + 1, pi + 1),
        }
    }
    go(&n, &p, 0, 0)
}

fn listdir(dir: &str, dironly: bool) -> Vec<String> {
    let d = if dir.is_empty() { "." } else { dir };
    let Ok(rd) = std::fs::read_dir(d) else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok())
        .filter(|e| !dironly || e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}

fn glob1(dir: &str, pattern: &str, dironly: bool) -> Vec<String> {
    let hidden_ok = pattern.starts_with('.');
    listdir(dir, dironly)
        .into_iter()
        .filter(|n| hidden_ok || !n.starts_with('.'))
        .filter(|n| fnmatch(n, pattern))
        .collect()
}

fn glob0(dir: &str, base: &str) -> Vec<String> {
    if !base.is_empty() {
        if lexists(&f2b_ini::py::path_join(dir, base)) {
            return vec![base.to_string()];
        }
    } else if Path::new(if dir.is_empty() { "." } else { dir }).is_dir() {
        return vec![String::new()];
    }
    Vec::new()
}

fn iglob(pathname: &str, dironly: bool) -> Vec<String> {
    let (dirname, basename) = split(pathname);
    if !has_magic(pathname) {
        let ok = if !basename.is_empty() {
            lexists(pathname)
        } else {
            Path::new(dirname).is_dir()
        };
        return if ok {
            vec![pathname.to_string()]
        } else {
            Vec::new()
        };
    }
    if dirname.is_empty() {
        return glob1("", basename, dironly);
    }
    let dirs = if dirname != pathname && has_magic(dirname) {
        iglob(dirname, true)
    } else {
        vec![dirname.to_string()]
    };
    let mut out = Vec::new();
    for d in dirs {
        let names = if has_magic(basename) {
            glob1(&d, basename, dironly)
        } else {
            glob0(&d, basename)
        };
        for n in names {
            out.push(f2b_ini::py::path_join(&d, &n));
        }
    }
    out
}

/// `glob.glob(pattern)`.
pub fn py_glob(pattern: &str) -> Vec<String> {
    iglob(pattern, false)
}

/// [`py_glob`] with `os.path.exists` of each match (false: a dangling link). A plain
/// path takes one `stat` when it exists (it then exists without following links too).
pub fn py_glob_exists(pattern: &str) -> Vec<(String, bool)> {
    let (_, basename) = split(pattern);
    if !has_magic(pattern) && !basename.is_empty() {
        if Path::new(pattern).exists() {
            return vec![(pattern.to_string(), true)];
        }
        return if lexists(pattern) {
            vec![(pattern.to_string(), false)]
        } else {
            Vec::new()
        };
    }
    py_glob(pattern)
        .into_iter()
        .map(|p| {
            let e = Path::new(&p).exists();
            (p, e)
        })
        .collect()
}

/// `stat`s of plain paths in one directory after which the directory is listed.
const LIST_AFTER: u32 = 3;

/// [`py_glob_exists`] for many plain log paths: once a few were checked in one
/// directory, the directory is listed once (a single `getdents` instead of a `stat` per
/// path: one jail per log file in a shared directory is common) and the rest are
/// answered from the listing. A name listed as a symbolic link (or of unknown type)
/// is still checked with `stat`, since only its target tells whether it exists.
#[derive(Debug, Default)]
pub struct DirCache {
    dirs: std::collections::HashMap<String, Dir, foldhash::fast::FixedState>,
}

#[derive(Debug)]
enum Dir {
    /// Paths checked with `stat` so far.
    Seen(u32),
    /// Names in the directory: true for a non-link (it exists), false for a link.
    Listed(std::collections::HashMap<String, bool, foldhash::fast::FixedState>),
    /// Not listable: always `stat`.
    Unlisted,
}

impl DirCache {
    /// [`py_glob_exists`] of `pattern`, with the same answer.
    pub fn glob_exists(&mut self, pattern: &str) -> Vec<(String, bool)> {
        let (head, base) = split(pattern);
        if has_magic(pattern) || base.is_empty() || head.is_empty() {
            return py_glob_exists(pattern);
        }
        let dir = match self.dirs.get_mut(head) {
            Some(d) => d,
            None => self.dirs.entry(head.to_string()).or_insert(Dir::Seen(0)),
        };
        if let Dir::Seen(n) = dir {
            if *n < LIST_AFTER {
                *n += 1;
                return py_glob_exists(pattern);
            }
            *dir = list(head);
        }
        match dir {
            Dir::Listed(names) => match names.get(base) {
                // neither `stat` nor `lstat` can find a name the directory lacks
                None => Vec::new(),
                Some(true) => vec![(pattern.to_string(), true)],
                Some(false) => py_glob_exists(pattern),
            },
            _ => py_glob_exists(pattern),
        }
    }
}

fn list(dir: &str) -> Dir {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Dir::Unlisted;
    };
    let mut names = std::collections::HashMap::default();
    for e in rd {
        let Ok(e) = e else {
            return Dir::Unlisted;
        };
        // a name that is not UTF-8 cannot be a `str` path's last component
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        let plain = e.file_type().is_ok_and(|t| !t.is_symlink());
        names.insert(name, plain);
    }
    Dir::Listed(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_cache_answers_like_stat() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_str().unwrap();
        for n in ["a.log", "b.log", "c.log", "d.log", "e.log"] {
            std::fs::write(format!("{root}/{n}"), "").unwrap();
        }
        std::fs::create_dir(format!("{root}/sub")).unwrap();
        std::os::unix::fs::symlink(format!("{root}/a.log"), format!("{root}/good")).unwrap();
        std::os::unix::fs::symlink(format!("{root}/nope"), format!("{root}/dangling")).unwrap();
        let names = [
            "a.log", "b.log", "c.log", "d.log", "e.log", "x.log", "sub", "good", "dangling",
            "sub/", "*.log", "a.log/x",
        ];
        let mut cache = DirCache::default();
        // twice over: the first checks are `stat`s, the later ones come from the listing
        for _ in 0..2 {
            for n in names {
                let p = format!("{root}/{n}");
                assert_eq!(cache.glob_exists(&p), py_glob_exists(&p), "{p}");
            }
        }
        assert!(matches!(cache.dirs.get(root), Some(Dir::Listed(_))));
        // a path without a directory part is always a `stat`
        assert_eq!(cache.glob_exists("x.log"), py_glob_exists("x.log"));
        assert!(!cache.dirs.contains_key(""));
    }

    #[test]
    fn fnmatch_syntax() {
        assert!(fnmatch("auth.log", "*.log"));
        assert!(fnmatch("a1", "a[0-9]"));
        assert!(!fnmatch("a1", "a[!0-9]"));
        assert!(fnmatch("a[", "a["));
        assert!(fnmatch("a]", "a[]]"));
        assert!(!fnmatch("ab", "a"));
    }

    #[test]
    fn globbing_a_tree() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().to_str().unwrap();
        for f in ["a.log", "b.log", ".h.log", "c.txt"] {
            std::fs::write(d.path().join(f), "").unwrap();
        }
        let mut v = py_glob(&format!("{root}/*.log"));
        v.sort();
        assert_eq!(v, [format!("{root}/a.log"), format!("{root}/b.log")]);
        assert_eq!(py_glob(&format!("{root}/c.txt")).len(), 1);
        std::os::unix::fs::symlink(format!("{root}/gone"), d.path().join("dangling")).unwrap();
        for (pat, want) in [
            (format!("{root}/c.txt"), vec![true]),
            (format!("{root}/dangling"), vec![false]),
            (format!("{root}/nope"), vec![]),
            (format!("{root}/[a-b].log"), vec![true, true]),
        ] {
            let got: Vec<bool> = py_glob_exists(&pat).into_iter().map(|(_, e)| e).collect();
            assert_eq!(got, want, "{pat}");
        }
        assert_eq!(py_glob(&format!("{root}/nope")).len(), 0);
        assert_eq!(py_glob(&format!("{root}/.*.log")).len(), 1);
    }
}
