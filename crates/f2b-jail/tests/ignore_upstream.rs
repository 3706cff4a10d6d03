//! Ignore checks vs upstream `Filter.inIgnoreIPList` with the same injected
//! own addresses, DNS answers and ignorecommand results: verdicts, the
//! `Ignore <ip> by <rule>` log lines, command calls and cache behaviour.

#[allow(dead_code)] // not every test binary uses every helper
mod common;

use common::run_py;
use f2b_jail::{Event, IgnoreEnv, IgnoreList, IpAddr};
use serde_json::{json, Value};

const PY: &str = r#"
import json, sys, logging
import fail2ban.server.filter as F
from fail2ban.server.filter import Filter
from fail2ban.server.ipdns import DNSUtils, IPAddr
msgs = []
class H(logging.Handler):
    def emit(self, rec):
        if rec.name == 'fail2ban.filter' and rec.levelno >= 20: msgs.append(rec.getMessage())
lg = logging.getLogger('fail2ban'); lg.addHandler(H()); lg.setLevel(1)
DNSUtils.dnsToIp = staticmethod(lambda n: {IPAddr(x) for x in DNS.get(n, [])})
DNSUtils.getSelfIPs = staticmethod(lambda: {IPAddr(x) for x in SELF})
calls = []
def exe(cmd, success_codes=None):
    calls.append(cmd)
    return (True, 0 if '198.51.100.' in cmd else 1)
F.CommandAction.executeCmd = staticmethod(exe)
out = []
for c in json.load(sys.stdin):
    DNS = c['dns']; SELF = c['self']
    f = Filter(None)
    f.ignoreSelf = c['ignoreself']
    for e in c['entries']: f.addIgnoreIP(e)
    if c['command']: f.ignoreCommand = c['command']
    if c['cache']: f.ignoreCache = {'key': '<ip>', 'max-count': 3, 'max-time': 300}
    res = []
    for ip in c['queries']:
        del msgs[:]; del calls[:]
        r = f.inIgnoreIPList(ip)
        res.append([bool(r), list(msgs), len(calls)])
    out.append([res, sorted(str(x) for x in f.getIgnoreIP())])
print(json.dumps(out))
"#;

struct Env {
    dns: Value,
    own: Vec<IpAddr>,
    calls: usize,
}

impl IgnoreEnv for Env {
    fn self_ips(&mut self) -> Vec<IpAddr> {
        self.own.clone()
    }
    fn resolve(&mut self, name: &str) -> Vec<IpAddr> {
        self.dns[name]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| IpAddr::parse(x.as_str().unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    }
    fn run_command(&mut self, command: &str, ip: &IpAddr) -> Option<bool> {
        self.calls += 1;
        let cmd = command.replace("<ip>", &ip.to_string());
        Some(cmd.contains("198.51.100."))
    }
}

fn cases() -> Vec<Value> {
    let entries = json!([
        "192.0.2.0/24",
        "10.0.0.1",
        "2001:db8::/32",
        "10.1.2.3/255.255.0.0",
        "example.org",
        "::ffff:10.9.9.9",
        "",
        "10.0.0.1",
        "[2001:db8:1::5]"
    ]);
    let queries = json!([
        "192.0.2.77",
        "10.0.0.1",
        "10.0.0.2",
        "10.1.200.1",
        "2001:db8::99",
        "2001:db9::1",
        "203.0.113.5",
        "10.9.9.9",
        "127.0.0.1",
        "::1",
        "198.51.100.4",
        "198.51.100.4",
        "8.8.8.8",
        "8.8.8.8",
        "2001:db8:1::5",
        "user1"
    ]);
    let mut v = Vec::new();
    for ignoreself in [true, false] {
        for command in [Value::Null, json!("check-ip <ip>")] {
            for cache in [false, true] {
                v.push(json!({
                    "dns": {"example.org": ["203.0.113.5", "2001:db8:ffff::1"]},
                    "self": ["127.0.0.1", "::1"],
                    "ignoreself": ignoreself, "entries": entries, "command": command,
                    "cache": cache, "queries": queries
                }));
            }
        }
    }
    v
}

fn ours(c: &Value) -> Value {
    let mut l = IgnoreList::new();
    l.ignore_self = c["ignoreself"].as_bool().unwrap();
    for e in c["entries"].as_array().unwrap() {
        l.add(e.as_str().unwrap());
    }
    l.command = c["command"].as_str().map(str::to_string);
    if c["cache"] == true {
        l.set_cache(Some("<ip>"), 3, 300.0);
    }
    let mut env = Env {
        dns: c["dns"].clone(),
        own: c["self"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| IpAddr::parse(x.as_str().unwrap()))
            .collect(),
        calls: 0,
    };
    let mut res = Vec::new();
    for (i, q) in c["queries"].as_array().unwrap().iter().enumerate() {
        env.calls = 0;
        let ip = IpAddr::parse(q.as_str().unwrap());
        let v = l.check(&ip, 1000.0 + i as f64, &mut env);
        let msgs: Vec<String> = v
            .rule
            .iter()
            .map(|r| {
                Event::Ignore {
                    jail: "~jailless~".into(),
                    id: ip.clone(),
                    rule: r.clone(),
                }
                .to_string()
            })
            .collect();
        res.push(json!([v.ignored, msgs, env.calls]));
    }
    let mut entries = l.entries();
    entries.sort();
    json!([res, entries])
}

#[test]
fn ignore_matches_upstream() {
    let cases = cases();
    let Some(up) = run_py(PY, &Value::Array(cases.clone())) else {
        return;
    };
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(ours(c), up[i], "case {i}: {c}");
    }
}

#[test]
fn file_entries() {
    struct NoEnv;
    impl IgnoreEnv for NoEnv {
        fn self_ips(&mut self) -> Vec<IpAddr> {
            vec![]
        }
        fn resolve(&mut self, _: &str) -> Vec<IpAddr> {
            vec![IpAddr::parse("192.0.2.200")]
        }
        fn run_command(&mut self, _: &str, _: &IpAddr) -> Option<bool> {
            None
        }
    }
    let mut l = IgnoreList::new();
    l.add_file(
        "/etc/f2b-ignore",
        "# trusted\n10.0.0.0/8, 172.16.0.1\n  host.example  # resolved\n",
    );
    let mut env = NoEnv;
    for (ip, ignored) in [
        ("10.2.3.4", true),
        ("172.16.0.1", true),
        ("172.16.0.2", false),
        ("192.0.2.200", true),
    ] {
        let v = l.check(&IpAddr::parse(ip), 0.0, &mut env);
        assert_eq!(v.ignored, ignored, "{ip}");
        if ignored {
            assert_eq!(v.rule.unwrap().to_string(), "file:/etc/f2b-ignore");
        }
    }
    assert_eq!(l.entries(), vec!["file:/etc/f2b-ignore".to_string()]);
    l.del(Some("file:/etc/f2b-ignore"));
    assert!(l.entries().is_empty());
}
