//! The filter half of a jail (upstream `filter.py` `Filter`/`FileFilter`): the
//! settings given by `set <jail> …`, the failure counter and the ignore list, and the
//! watcher thread that follows the log files and turns lines into failures.

use std::time::Duration;

use f2b_jail::{Event, FailManager, IgnoreEnv, IgnoreList, IpAddr};
use f2b_protocol::Value;

use super::actions::log_event;
use crate::error::CmdError;
use crate::f2b_log;

/// Filter settings and failure bookkeeping of one jail.
pub struct FilterPart {
    jail: String,
    /// Backend kind (`polling`, `pyinotify`, `systemd`).
    pub kind: String,
    /// Failure counter.
    pub fail: FailManager,
    /// ignoreip / ignoreself / ignorecommand / ignorecache.
    pub ignore: IgnoreList,
    /// `failregex` as given.
    pub failregex: Vec<String>,
    /// `ignoreregex` as given.
    pub ignoreregex: Vec<String>,
    /// `prefregex` as given.
    pub prefregex: Option<String>,
    /// `datepattern` as given.
    pub datepattern: Option<String>,
    /// `logtimezone`.
    pub logtimezone: Option<String>,
    /// `maxlines`.
    pub maxlines: usize,
    /// `usedns` (`yes`, `warn`, `no`, `raw`).
    pub usedns: String,
    /// `logencoding` (resolved).
    pub logencoding: String,
    /// `findtime` as returned by `get` (int or float).
    pub findtime: Value,
    /// Monitored files and whether they are read from the end (`tail`).
    pub logpaths: Vec<(String, bool)>,
    /// systemd journal matches.
    pub journalmatch: Vec<Vec<String>>,
    /// Raw `ignorecache` value (`get <jail> ignorecache`).
    pub ignorecache_raw: Value,
    /// The ignore command template (`get <jail> ignorecommand`).
    pub ignorecommand: Value,
    reload_logs: Option<Vec<String>>,
    pub(crate) failregex_exp: Vec<String>,
    pub(crate) ignoreregex_exp: Vec<String>,
    pub(crate) prefregex_exp: String,
    pub(crate) datepattern_value: Option<(Option<String>, String)>,
    pub(crate) matcher: Option<f2b_filter::Filter>,
    pub(crate) matcher_failed: bool,
    /// The initial read of the files is over (lines are live now).
    pub in_operation: bool,
    /// Log files added since the watcher last looked (path, tail).
    pub(crate) pending_files: Vec<(String, bool)>,
    /// Log files removed since the watcher last looked.
    pub(crate) removed_files: Vec<String>,
    last_cleanup: f64,
}

impl FilterPart {
    /// Defaults of upstream's `Filter.__init__`.
    pub fn new(jail: &str, kind: &str) -> FilterPart {
        FilterPart {
            jail: jail.to_string(),
            kind: kind.to_string(),
            fail: FailManager::new(),
            ignore: IgnoreList::new(),
            failregex: Vec::new(),
            ignoreregex: Vec::new(),
            prefregex: None,
            datepattern: None,
            logtimezone: None,
            maxlines: 1,
            usedns: "warn".into(),
            logencoding: "UTF-8".into(),
            findtime: Value::Int(600),
            logpaths: Vec::new(),
            journalmatch: Vec::new(),
            ignorecache_raw: Value::None,
            ignorecommand: Value::str(""),
            reload_logs: None,
            failregex_exp: Vec::new(),
            ignoreregex_exp: Vec::new(),
            prefregex_exp: String::new(),
            datepattern_value: None,
            matcher: None,
            matcher_failed: false,
            in_operation: false,
            pending_files: Vec::new(),
            removed_files: Vec::new(),
            last_cleanup: 0.0,
        }
    }

    /// Time of the last failure cleanup.
    pub fn last_cleanup_time(&self) -> f64 {
        self.last_cleanup
    }

    /// Records a failure cleanup.
    pub fn set_last_cleanup_time(&mut self, t: f64) {
        self.last_cleanup = t;
    }

    /// The jail name.
    pub fn jail_name(&self) -> &str {
        &self.jail
    }

    /// `status <jail>` filter part.
    pub fn status(&self, _flavor: &str) -> Value {
        let mut v = vec![
            Value::Tuple(vec![
                Value::str("Currently failed"),
                Value::Int(self.fail.size() as i64),
            ]),
            Value::Tuple(vec![
                Value::str("Total failed"),
                Value::Int(self.fail.fail_total() as i64),
            ]),
        ];
        if self.kind == "systemd" {
            v.push(Value::Tuple(vec![
                Value::str("Journal matches"),
                Value::List(
                    self.journalmatch
                        .iter()
                        .map(|m| Value::str(m.join(" ")))
                        .collect(),
                ),
            ]));
        } else {
            v.push(Value::Tuple(vec![
                Value::str("File list"),
                Value::List(
                    self.logpaths
                        .iter()
                        .map(|(p, _)| Value::str(p.clone()))
                        .collect(),
                ),
            ]));
        }
        Value::List(v)
    }

    /// Reload begin: regexes and ignore entries are cleared (the stream sets them
    /// again); log files not re-added by the end of the reload are removed.
    pub fn reload_begin(&mut self) {
        self.failregex.clear();
        self.ignoreregex.clear();
        self.failregex_exp.clear();
        self.ignoreregex_exp.clear();
        self.invalidate();
        self.ignore.del(None);
        self.journalmatch.clear();
        self.reload_logs = Some(self.logpaths.iter().map(|(p, _)| p.clone()).collect());
    }

    /// Reload end: drops the files the new configuration no longer lists.
    pub fn reload_end(&mut self) {
        if let Some(old) = self.reload_logs.take() {
            for p in old {
                self.del_log_path(&p);
            }
        }
    }

    /// `set <jail> addlogpath <file> [tail]`.
    pub fn add_log_path(
        &mut self,
        path: &str,
        tail: bool,
        db: Option<&crate::db::Db>,
    ) -> Result<(), CmdError> {
        if let Some(r) = self.reload_logs.as_mut() {
            r.retain(|p| p != path);
        }
        if self.logpaths.iter().any(|(p, _)| p == path) {
            if self.reload_logs.is_none() {
                f2b_log!(ERROR, "filter", "{path} already exists");
            }
            return Ok(());
        }
        // upstream's FileContainer opens the file at once: a missing file is an error
        if let Err(e) = std::fs::File::open(path) {
            return Err(CmdError::os(&e, path));
        }
        self.logpaths.push((path.to_string(), tail));
        self.pending_files.push((path.to_string(), tail));
        let hash = first_line_hash(path);
        let pos = db
            .and_then(|d| d.add_log(&self.jail, path, &hash))
            .unwrap_or(0);
        let pos = if tail {
            std::fs::metadata(path).map_or(0, |m| m.len())
        } else {
            pos
        };
        f2b_log!(
            INFO,
            "filter",
            "Added logfile: '{path}' (pos = {pos}, hash = {hash})"
        );
        Ok(())
    }

    /// `set <jail> dellogpath <file>`.
    pub fn del_log_path(&mut self, path: &str) {
        let before = self.logpaths.len();
        self.logpaths.retain(|(p, _)| p != path);
        if self.logpaths.len() != before {
            self.removed_files.push(path.to_string());
            f2b_log!(INFO, "filter", "Removed logfile: '{path}'");
        }
    }

    /// `addignoreip <entry>` (a `file:<path>` entry reads the file).
    pub fn add_ignore_ip(&mut self, entry: &str) {
        if let Some(path) = entry.strip_prefix("file:") {
            match std::fs::read_to_string(path) {
                Ok(content) => self.ignore.add_file(path, &content),
                Err(e) => f2b_log!(ERROR, "filter", "Unable to read ignore file {path}: {e}"),
            }
        } else {
            self.ignore.add(entry);
        }
    }

    /// `ignorecache <spec>` (upstream `extractOptions("cache[" + v + "]")`).
    pub fn set_ignore_cache(&mut self, v: &str) -> Result<Value, CmdError> {
        let (_, opts) =
            crate::logging::extract_options(&format!("cache[{v}]")).map_err(CmdError::value)?;
        let get = |k: &str| opts.iter().find(|(ok, _)| ok == k).map(|(_, v)| v.clone());
        match get("key") {
            Some(key) => {
                let max_count = get("max-count")
                    .map(|c| crate::error::py_int(&Value::str(c)))
                    .transpose()?
                    .unwrap_or(100);
                let max_time = match get("max-time") {
                    Some(t) => {
                        crate::timeconv::as_f64(&crate::timeconv::str2seconds(&Value::str(t))?)
                    }
                    None => 300.0,
                };
                self.ignore
                    .set_cache(Some(&key), max_count.max(0) as usize, max_time);
                self.ignorecache_raw = Value::List(vec![
                    Value::str(key),
                    Value::Int(max_count),
                    if max_time.fract() == 0.0 {
                        Value::Int(max_time as i64)
                    } else {
                        Value::Float(max_time)
                    },
                ]);
            }
            None => {
                self.ignore.set_cache(None, 0, 0.0);
                self.ignorecache_raw = Value::None;
            }
        }
        Ok(self.ignorecache_raw.clone())
    }

    /// `get <jail> logpath`.
    pub fn log_paths_value(&self) -> Value {
        Value::List(
            self.logpaths
                .iter()
                .map(|(p, _)| Value::str(p.clone()))
                .collect(),
        )
    }

    /// `logencoding` (`auto` = the locale's preferred encoding).
    pub fn set_log_encoding(&mut self, enc: &str) -> Result<String, CmdError> {
        let e = if enc.eq_ignore_ascii_case("auto") {
            "UTF-8".to_string()
        } else {
            enc.to_string()
        };
        let norm = e.to_lowercase().replace(['-', '_'], "");
        if !["utf8", "ascii", "latin1", "iso88591", "usascii", "utf"].contains(&norm.as_str()) {
            return Err(CmdError {
                module: "builtins".into(),
                class: "LookupError".into(),
                args: vec![Value::str(format!("unknown encoding: {e}"))],
            });
        }
        f2b_log!(INFO, "filter", "  encoding: {e}");
        self.logencoding = e.clone();
        Ok(e)
    }

    /// `addjournalmatch`.
    pub fn add_journal_match(&mut self, m: Vec<String>) {
        if self.kind == "systemd" {
            for g in f2b_journal::match_groups(&m) {
                if !self.journalmatch.contains(&g) {
                    self.journalmatch.push(g);
                }
            }
        }
    }

    /// `deljournalmatch` (empty = all).
    pub fn del_journal_match(&mut self, m: &[String]) {
        if m.is_empty() {
            self.journalmatch.clear();
        } else {
            self.journalmatch.retain(|x| x.as_slice() != m);
        }
    }

    /// `get <jail> journalmatch`.
    pub fn journal_match_value(&self) -> Value {
        Value::List(
            self.journalmatch
                .iter()
                .map(|m| Value::List(m.iter().map(|s| Value::str(s.clone())).collect()))
                .collect(),
        )
    }

    /// `usedns` (invalid values fall back to `no` with upstream's error).
    pub fn set_use_dns(&mut self, v: &str) {
        let mut v = v.to_lowercase();
        if v == "true" {
            v = "yes".into();
        } else if v == "false" {
            v = "no".into();
        }
        if !["yes", "warn", "no", "raw"].contains(&v.as_str()) {
            f2b_log!(
                ERROR,
                "filter",
                "Incorrect value {} specified for usedns. Using safe 'no'",
                crate::logging::py_repr(&v)
            );
            v = "no".into();
        }
        self.usedns = v;
    }

    /// `maxlines`.
    pub fn set_max_lines(&mut self, v: i64) -> Result<(), CmdError> {
        self.maxlines = v.max(1) as usize;
        f2b_log!(INFO, "filter", "  maxLines: {}", self.maxlines);
        Ok(())
    }

    /// `logtimezone`.
    pub fn set_log_timezone(&mut self, v: &str) -> Result<(), CmdError> {
        self.logtimezone = if v.is_empty() {
            None
        } else {
            Some(v.to_string())
        };
        Ok(())
    }

    /// Upstream `inIgnoreIPList` (logs `Ignore <ip> by …` when `log`).
    pub fn is_ignored(&mut self, ip: &IpAddr, now: f64, log: bool) -> bool {
        let mut env = ServerIgnoreEnv;
        let v = self.ignore.check(ip, now, &mut env);
        if v.ignored && log {
            if let Some(rule) = v.rule {
                log_event(&Event::Ignore {
                    jail: self.jail.clone(),
                    id: ip.clone(),
                    rule,
                });
            }
        }
        v.ignored
    }

    /// `set <jail> attempt <ip> [msg…]`: 1 when counted, 0 when ignored. Returns the
    /// ticket to ban when maxretry is reached.
    pub fn add_attempt(
        &mut self,
        ip: &str,
        msgs: &[String],
        now: f64,
    ) -> (i64, Option<f2b_jail::FailTicket>) {
        let id = IpAddr::parse(ip);
        if self.is_ignored(&id, now, true) {
            return (0, None);
        }
        log_event(&Event::Attempt {
            jail: self.jail.clone(),
            id: id.clone(),
            time: now,
        });
        let retry = self.fail.attempt(id.clone(), now, msgs);
        let t = if retry >= self.fail.max_retry() {
            self.fail.to_ban(Some(&id))
        } else {
            None
        };
        (1, t)
    }
}

/// SHA-1 hex of the first line of a file (including its newline); empty when there
/// is no complete first line. Read by f2b-tail, the only crate that reads log files.
pub fn first_line_hash(path: &str) -> String {
    f2b_tail::path_first_line_hash(path.as_ref())
}

/// The host's own addresses: every interface address plus the loopback ones.
fn lookup_self_ips() -> Vec<IpAddr> {
    // upstream DNSUtils.getSelfIPs: what `localhost`, the host name and its FQDN
    // resolve to (not the interface addresses)
    use std::net::ToSocketAddrs;
    let mut names = vec!["localhost".to_string()];
    if let Ok(h) = nix::unistd::gethostname() {
        let h = h.to_string_lossy().into_owned();
        if !h.is_empty() {
            names.push(h);
        }
    }
    let mut v: Vec<IpAddr> = Vec::new();
    for name in &names {
        if let Ok(it) = (name.as_str(), 0u16).to_socket_addrs() {
            for sa in it {
                let ip = IpAddr::from_std(sa.ip());
                if !v.contains(&ip) {
                    v.push(ip);
                }
            }
        }
    }
    v
}

/// The outside world for ignore checks: own addresses, DNS, the ignore command.
pub struct ServerIgnoreEnv;

impl IgnoreEnv for ServerIgnoreEnv {
    fn self_ips(&mut self) -> Vec<IpAddr> {
        // Own addresses change rarely; upstream caches them too. Resolving them for
        // every failure would cost a name lookup per log line.
        use std::sync::Mutex;
        use std::time::Instant;
        static CACHE: Mutex<Option<(Instant, Vec<IpAddr>)>> = Mutex::new(None);
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, ips)) = cache.as_ref() {
            if at.elapsed() < Duration::from_secs(300) {
                return ips.clone();
            }
        }
        let ips = lookup_self_ips();
        *cache = Some((Instant::now(), ips.clone()));
        ips
    }

    fn resolve(&mut self, name: &str) -> Vec<IpAddr> {
        use std::net::ToSocketAddrs;
        match (name, 0u16).to_socket_addrs() {
            Ok(it) => it.map(|sa| IpAddr::from_std(sa.ip())).collect(),
            Err(_) => Vec::new(),
        }
    }

    fn run_command(&mut self, command: &str, ip: &IpAddr) -> Option<bool> {
        let script = command.replace("<ip>", &ip.to_string());
        let out = f2b_action::ShellExecutor::global().execute(
            &f2b_action::ShellCommand::plain(script),
            Duration::from_secs(60),
        );
        match out.exit {
            f2b_action::ExitKind::Exited(0) => Some(true),
            f2b_action::ExitKind::Exited(1) => Some(false),
            _ => {
                f2b_log!(ERROR, "filter", "{} -- returned error", command);
                None
            }
        }
    }
}
