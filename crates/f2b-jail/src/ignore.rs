//! The ignore check (upstream `Filter.inIgnoreIPList`, spec 3.2).
//!
//! Order: ignorecache hit -> ignoreself -> exact ignoreip address ->
//! ignoreip networks / DNS names / `file:` lists (in configuration order) ->
//! ignorecommand.  Everything that needs the outside world (own addresses,
//! DNS, running the command, substituting the cache key) comes through
//! [`IgnoreEnv`], so this module stays pure.

use crate::ipaddr::IpAddr;
use std::collections::{HashSet, VecDeque};
use std::fmt;

/// The outside world the ignore check needs; implemented by the server.
pub trait IgnoreEnv {
    /// Own addresses for `ignoreself` (upstream `DNSUtils.getSelfIPs`).
    fn self_ips(&mut self) -> Vec<IpAddr>;
    /// Resolves a DNS name of an `ignoreip` entry (empty on failure).
    fn resolve(&mut self, name: &str) -> Vec<IpAddr>;
    /// Runs `ignorecommand` (tags still unsubstituted) for `ip`: `Some(true)`
    /// exit 0 = ignore, `Some(false)` exit 1, `None` error (not ignored).
    fn run_command(&mut self, command: &str, ip: &IpAddr) -> Option<bool>;
    /// Substitutes the `ignorecache` key template; default replaces `<ip>`.
    fn cache_key(&mut self, template: &str, ip: &IpAddr) -> String {
        template.replace("<ip>", &ip.to_string())
    }
}

/// Which rule ignored an address: the tail of `[jail] Ignore <ip> by <rule>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreRule {
    /// `ignoreself rule`.
    SelfRule,
    /// An `ignoreip` address or network: `ip`.
    Ip,
    /// An `ignoreip` DNS name: `dns`.
    Dns,
    /// An entry of an `ignoreip` `file:<path>` list: `file:<path>`.
    File(String),
    /// `ignorecommand` returned 0: `command`.
    Command,
}

impl fmt::Display for IgnoreRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgnoreRule::SelfRule => f.write_str("ignoreself rule"),
            IgnoreRule::Ip => f.write_str("ip"),
            IgnoreRule::Dns => f.write_str("dns"),
            IgnoreRule::File(p) => write!(f, "file:{p}"),
            IgnoreRule::Command => f.write_str("command"),
        }
    }
}

/// Outcome of [`IgnoreList::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreVerdict {
    /// The address must not be counted / banned.
    pub ignored: bool,
    /// The rule to log (`None` for cache hits and non-ignored addresses,
    /// which upstream does not log).
    pub rule: Option<IgnoreRule>,
}

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Net(IpAddr),
    File { path: String, ips: Vec<IpAddr> },
}

/// `ignorecache = key="<ip>", max-count=100, max-time=5m` (FIFO + TTL).
#[derive(Debug, Clone)]
struct Cache {
    key: String,
    max_count: usize,
    max_time: f64,
    items: VecDeque<(String, bool, f64)>,
}

impl Cache {
    fn get(&mut self, k: &str, now: f64) -> Option<bool> {
        let pos = self.items.iter().position(|(key, _, _)| key == k)?;
        if self.items[pos].2 > now {
            return Some(self.items[pos].1);
        }
        self.items.remove(pos);
        None
    }

    fn set(&mut self, k: String, v: bool, now: f64) {
        if self.items.len() >= self.max_count {
            while let Some((_, _, exp)) = self.items.pop_front() {
                if exp > now && self.items.len() < self.max_count {
                    break;
                }
            }
        }
        self.items.retain(|(key, _, _)| *key != k);
        self.items.push_back((k, v, now + self.max_time));
    }
}

/// The ignore configuration of one jail.
#[derive(Debug, Clone)]
pub struct IgnoreList {
    /// `ignoreself` (default true).
    pub ignore_self: bool,
    /// `ignorecommand` template (None/empty = none).
    pub command: Option<String>,
    set: HashSet<IpAddr>,
    set_order: Vec<IpAddr>,
    list: Vec<Entry>,
    cache: Option<Cache>,
}

impl Default for IgnoreList {
    fn default() -> Self {
        IgnoreList {
            ignore_self: true,
            command: None,
            set: HashSet::new(),
            set_order: Vec::new(),
            list: Vec::new(),
            cache: None,
        }
    }
}

impl IgnoreList {
    /// Empty list with `ignoreself = true`.
    pub fn new() -> Self {
        Self::default()
    }

    /// `addignoreip <entry>`: address, CIDR/netmask network or DNS name.
    /// Returns false for empty strings and exact duplicates.  `file:` entries
    /// must go through [`IgnoreList::add_file`] (the caller reads the file).
    pub fn add(&mut self, entry: &str) -> bool {
        if entry.is_empty() {
            return false;
        }
        let ip = IpAddr::parse(entry);
        if self.set.contains(&ip) || self.list.contains(&Entry::Net(ip.clone())) {
            return false;
        }
        if ip.is_single() {
            self.set.insert(ip.clone());
            self.set_order.push(ip);
        } else {
            self.list.push(Entry::Net(ip));
        }
        true
    }

    /// A `file:<path>` entry with the file's `content` (whitespace or comma
    /// separated addresses/networks/names, `#` comments).
    pub fn add_file(&mut self, path: &str, content: &str) {
        let ips = content
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == ','))
            .filter(|s| !s.is_empty())
            .map(IpAddr::parse)
            .collect();
        self.list
            .retain(|e| !matches!(e, Entry::File { path: p, .. } if p == path));
        self.list.push(Entry::File {
            path: path.to_string(),
            ips,
        });
    }

    /// `delignoreip <entry>` (`file:<path>` removes that list).  None = clear all.
    pub fn del(&mut self, entry: Option<&str>) {
        let Some(entry) = entry else {
            self.set.clear();
            self.set_order.clear();
            self.list.clear();
            return;
        };
        if let Some(path) = entry.strip_prefix("file:") {
            self.list
                .retain(|e| !matches!(e, Entry::File { path: p, .. } if p == path));
            return;
        }
        let ip = IpAddr::parse(entry);
        if self.set.remove(&ip) {
            self.set_order.retain(|x| *x != ip);
        } else {
            self.list.retain(|e| *e != Entry::Net(ip.clone()));
        }
    }

    /// `get <jail> ignoreip`: networks/names/files first, then addresses.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .list
            .iter()
            .map(|e| match e {
                Entry::Net(ip) => ip.to_string(),
                Entry::File { path, .. } => format!("file:{path}"),
            })
            .collect();
        v.extend(self.set_order.iter().map(|ip| ip.to_string()));
        v
    }

    /// `ignorecache`: None disables; `key` is a tag template like `<ip>`.
    pub fn set_cache(&mut self, key: Option<&str>, max_count: usize, max_time: f64) {
        self.cache = key.map(|k| Cache {
            key: k.to_string(),
            max_count,
            max_time,
            items: VecDeque::new(),
        });
    }

    /// `(key, max-count, max-time)` of the cache, if set.
    pub fn cache_options(&self) -> Option<(String, usize, f64)> {
        self.cache
            .as_ref()
            .map(|c| (c.key.clone(), c.max_count, c.max_time))
    }

    /// Is `ip` ignored?  `now` drives only the cache expiry.
    pub fn check(&mut self, ip: &IpAddr, now: f64, env: &mut dyn IgnoreEnv) -> IgnoreVerdict {
        let key = match &self.cache {
            Some(c) => {
                let k = env.cache_key(&c.key, ip);
                if let Some(v) = self.cache.as_mut().and_then(|c| c.get(&k, now)) {
                    return IgnoreVerdict {
                        ignored: v,
                        rule: None,
                    };
                }
                Some(k)
            }
            None => None,
        };
        let hit = |rule: IgnoreRule| IgnoreVerdict {
            ignored: true,
            rule: Some(rule),
        };
        let store = |this: &mut Self, v: bool| {
            if let (Some(c), Some(k)) = (this.cache.as_mut(), key.clone()) {
                c.set(k, v, now);
            }
        };
        if self.ignore_self && env.self_ips().contains(ip) {
            store(self, true);
            return hit(IgnoreRule::SelfRule);
        }
        // upstream does not cache exact-address hits
        if self.set.contains(ip) {
            return hit(IgnoreRule::Ip);
        }
        let mut found = None;
        for e in &self.list {
            match e {
                Entry::Net(net) if net.is_valid() => {
                    if ip.is_in_net(net) {
                        found = Some(IgnoreRule::Ip);
                    }
                }
                Entry::Net(net) => {
                    if env.resolve(&net.to_string()).contains(ip) {
                        found = Some(IgnoreRule::Dns);
                    }
                }
                Entry::File { path, ips } => {
                    let m = ips.iter().any(|n| {
                        if n.is_valid() {
                            n.contains(ip)
                        } else {
                            env.resolve(&n.to_string()).contains(ip)
                        }
                    });
                    if m {
                        found = Some(IgnoreRule::File(path.clone()));
                    }
                }
            }
            if found.is_some() {
                break;
            }
        }
        if let Some(rule) = found {
            store(self, true);
            return hit(rule);
        }
        if let Some(cmd) = self.command.clone().filter(|c| !c.is_empty()) {
            let ign = env.run_command(&cmd, ip).unwrap_or(false);
            store(self, ign);
            return IgnoreVerdict {
                ignored: ign,
                rule: ign.then_some(IgnoreRule::Command),
            };
        }
        store(self, false);
        IgnoreVerdict {
            ignored: false,
            rule: None,
        }
    }
}
