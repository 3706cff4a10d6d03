//! Differential test of action command resolution: stock Debian actions (nftables-multiport,
//! iptables-multiport, hostsdeny, dummy) plus our own tricky test action are turned into
//! `multi-set … action …` property lists by the real `fail2ban-client -d`, then resolved by
//! upstream's python `CommandAction` and by `f2b_action::CommandAction`; the texts must agree.
//! Also runs Debian's dummy.conf for real through `f2b_action`.

use compat_tests::action::{dump_jail_actions, python_json, CLIENT, PYTHON};
use compat_tests::require_oracle;
use f2b_action::{ActionSet, CommandAction, Family, Ticket};
use serde_json::Value;
use std::path::Path;

/// Python oracle: reads `-d` lines on stdin, prints JSON with upstream's resolutions.
const ORACLE: &str = r#"
import sys, json, ast
from fail2ban.server.action import CommandAction
from fail2ban.server.ipdns import IPAddr, DNSUtils
# fixed host names on both sides: no name lookups from tests
DNSUtils.getHostname = staticmethod(lambda fqdn=True: 'fq.example.org' if fqdn else 'shorthost')
out = []
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("['multi-set'"):
        continue
    cmd = ast.literal_eval(line)
    if cmd[2] != 'action':
        continue
    pairs = [[k, v if isinstance(v, str) else str(v)] for k, v in cmd[4]]
    a = CommandAction(None, cmd[3])
    for k, v in pairs:
        setattr(a, k, v)
    ops = {}
    for fam in ['', 'inet4', 'inet6']:
        for tag in ['actionstart', 'actionstop', 'actionflush', 'actioncheck',
                    'actionrepair', 'actionreload']:
            ops['%s/%s' % (tag, fam)] = [a._getOperation('<%s>' % tag, fam)]
    for ip in ['192.0.2.10', '2001:db8::10']:
        ipa = IPAddr(ip)
        info = {'ip': ipa, 'family': ipa.familyStr, 'ip-rev': ipa.getPTR(''), 'fid': ip,
                'failures': 3, 'time': 1795592582.0, 'bantime': 600, 'bancount': 1,
                'restored': 0, 'matches': "Failed for $(touch /tmp/x) from %s\nline `two`" % ip,
                'F-*': {'user': "root'; id", 'fid': 'abc', 'fport': '22'},
                'ip-host': 'host-' + ip.replace(':', '-') + '.example', 'ipfailures': 7,
                'ipjailfailures': 5, 'ipmatches': 'all jails $(x)\n' + ip,
                'ipjailmatches': 'this jail\n' + ip, 'jail.banned': 2, 'jail.found': 1}
        for tag in ['actionban', 'actionunban']:
            real = a.replaceTag('<%s>' % tag, a._properties,
                                conditional='family=' + ipa.familyStr, cache=a._substCache)
            r = a.replaceDynamicTags(real, info)
            ops['%s/%s' % (tag, ip)] = r if isinstance(r, list) else [r]
    out.append({'name': cmd[3], 'pairs': pairs, 'ops': ops})
print(json.dumps(out))
"#;

/// Our own action exercising nesting, conditionals, built-ins, unknown tags and captures.
const TRICKY_ACTION: &str = "[Definition]
actionstart = echo start <name> <chain><sp>x<br>y <nonexistent> <known/chain> [<proto>] on <fq-hostname>/<sh-hostname>
actionstop = echo stop <family> <chain> <blocktype>
actionban = ban <ip> rev=<ip-rev> fam=<family> <matches> u=<F-USER> id=<F-ID> p=<F-PORT> n=<F-NONE> f=<failures> t=<time> b=<bantime> r=<restored> in <chain>/<set>
actionunban = unban <ip> <set> '<bad>'
actioncheck = check <lvl1>
[Init]
name = default
chain = INPUT
set = s-<name>-<chain>
lvl1 = <lvl2>-<lvl2>
lvl2 = <lvl3>
lvl3 = deep<sp>
proto = tcp
blocktype = REJECT
bad = <ip>-<port>
[Init?family=inet6]
chain = INPUT6
blocktype = REJECT6
";

fn dump_config(dir: &Path) -> String {
    let actions = [
        "nftables-multiport[name=SSH, port=\"ssh,2222\"]".to_string(),
        "iptables-multiport[name=SSH2, chain=\"INPUT\"]".to_string(),
        format!("hostsdeny[file={}]", dir.join("hosts.deny").display()),
        format!("dummy[target={}]", dir.join("dummy.txt").display()),
        "f2b-tricky[name=TR]".to_string(),
    ];
    dump_jail_actions(dir, &[("f2b-tricky.conf", TRICKY_ACTION)], &actions)
}

fn oracle(dump: &str) -> Vec<Value> {
    python_json(ORACLE, dump).as_array().unwrap().clone()
}

/// Compares every resolution the oracle made for one action; returns how many.
fn compare_action(act: &Value) -> usize {
    f2b_action::set_hostnames(Some(("fq.example.org", "shorthost")));
    let mut compared = 0;
    let name = act["name"].as_str().unwrap();
    let mut a = CommandAction::from_pairs("sshd", name, &pairs_of(&act["pairs"])).unwrap();
    for (key, want) in act["ops"].as_object().unwrap() {
        let (tag, arg) = key.split_once('/').unwrap();
        let got: Vec<String> = match arg {
            "" | "inet4" | "inet6" => {
                let fam = match arg {
                    "" => Family::Any,
                    "inet4" => Family::Inet4,
                    _ => Family::Inet6,
                };
                vec![a.resolve_operation(&format!("<{tag}>"), fam).unwrap()]
            }
            ip => {
                let c = a
                    .resolve_ticket_command(&format!("<{tag}>"), &ticket(ip))
                    .unwrap();
                std::iter::once(c.script).chain(c.args).collect()
            }
        };
        let want: Vec<String> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, want, "action {name} op {key}");
        compared += 1;
    }
    compared
}

fn pairs_of(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn ticket(ip: &str) -> Ticket {
    let mut t = Ticket::new(ip);
    t.failures = 3;
    t.time = 1795592582.0;
    t.bantime = 600;
    t.bancount = 1;
    t.matches = vec![
        format!("Failed for $(touch /tmp/x) from {ip}"),
        "line `two`".to_string(),
    ];
    for (k, v) in [("user", "root'; id"), ("fid", "abc"), ("fport", "22")] {
        t.captures.insert(k.into(), v.into());
    }
    // what the server supplies from DNS, the database and the jail (no lookups in tests)
    let ip = ip.to_string();
    t.lazy = Some(std::sync::Arc::new(move |tag: &str| {
        Some(match tag {
            "ip-host" => format!("host-{}.example", ip.replace(':', "-")),
            "ipfailures" => "7".into(),
            "ipjailfailures" => "5".into(),
            "ipmatches" => format!("all jails $(x)\n{ip}"),
            "ipjailmatches" => format!("this jail\n{ip}"),
            "jail.banned" => "2".into(),
            "jail.found" => "1".into(),
            _ => return None,
        })
    }));
    t
}

#[test]
fn stock_actions_resolve_like_upstream() {
    if !require_oracle(CLIENT) || !require_oracle(PYTHON) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let expected = oracle(&dump_config(dir.path()));
    let names: Vec<&str> = expected
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "nftables-multiport-SSH",
            "iptables-multiport-SSH2",
            "hostsdeny",
            "dummy",
            "f2b-tricky-TR"
        ]
    );
    let mut compared = 0;
    for act in &expected {
        compared += compare_action(act);
    }
    assert_eq!(compared, 5 * (6 * 3 + 2 * 2));
}

/// Every action Debian ships (`action.d/*.conf`), resolved by both sides.
#[test]
fn all_stock_actions_resolve_like_upstream() {
    if !require_oracle(CLIENT) || !require_oracle(PYTHON) {
        return;
    }
    let mut names: Vec<String> =
        std::fs::read_dir(Path::new(compat_tests::STOCK_CONF).join("action.d"))
            .unwrap()
            .filter_map(|e| {
                let n = e.unwrap().file_name().into_string().unwrap();
                n.strip_suffix(".conf").map(str::to_string)
            })
            .collect();
    names.sort();
    assert!(
        names.len() > 40,
        "Debian ships ~60 actions, found {}",
        names.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let expected = oracle(&dump_jail_actions(dir.path(), &[], &names));
    assert_eq!(expected.len(), names.len());
    let mut compared = 0;
    for act in &expected {
        compared += compare_action(act);
    }
    assert_eq!(compared, names.len() * (6 * 3 + 2 * 2));
}

#[test]
fn debian_dummy_action_runs() {
    if !require_oracle(CLIENT) || !require_oracle(PYTHON) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let expected = oracle(&dump_config(dir.path()));
    let dummy = expected.iter().find(|a| a["name"] == "dummy").unwrap();
    let mut set = ActionSet::new("sshd");
    set.add("dummy").unwrap();
    set.set_pairs("dummy", &pairs_of(&dummy["pairs"])).unwrap();
    assert!(set.start().is_empty());
    let (t4, t6) = (ticket("192.0.2.10"), ticket("2001:db8::10"));
    assert!(set.ban(&t4, false).is_empty());
    assert!(set.ban(&t6, false).is_empty());
    assert!(set.unban(&t4).is_empty());
    assert!(set.flush(&[&t6], false, None).is_empty());
    let target = dir.path().join("dummy.txt");
    let text = std::fs::read_to_string(&target).unwrap();
    assert_eq!(text, "123\n+192.0.2.10\n+2001:db8::10\n-192.0.2.10\n-*\n");
    assert!(set.stop(None).is_empty());
    assert!(!target.exists(), "dummy actionstop removes its target");
}
