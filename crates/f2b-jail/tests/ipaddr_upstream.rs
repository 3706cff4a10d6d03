//! IpAddr vs upstream `fail2ban.server.ipdns.IPAddr`: text form, validity,
//! single/network, family, reverse form (`ip-rev`) and network containment.

#[allow(dead_code)] // not every test binary uses every helper
mod common;

use common::run_py;
use f2b_jail::IpAddr;
use serde_json::{json, Value};

const PY: &str = r#"
import json, sys
from fail2ban.server.ipdns import IPAddr
req = json.load(sys.stdin)
out = []
for s in req['addrs']:
    ip = IPAddr(s)
    out.append([str(ip), ip.isValid, ip.isSingle, ip.familyStr, ip.getPTR(''), ip.getPTR()])
nets = []
for n in req['nets']:
    net = IPAddr(n)
    nets.append([bool(net.contains(IPAddr(s))) for s in req['addrs']])
print(json.dumps([out, nets]))
"#;

const ADDRS: &[&str] = &[
    "192.0.2.1",
    "010.1.2.3",
    "[192.0.2.1]",
    "::ffff:192.0.2.9",
    "::ffff:c000:0209",
    "2001:DB8::1",
    "[2001:db8::1]",
    "2001:db8:0:0:0:0:0:1",
    "fe80::1",
    "::1",
    "::",
    "0.0.0.0",
    "255.255.255.255",
    "192.0.2.77/24",
    "192.0.2.77/32",
    "10.1.2.3/255.255.0.0",
    "10.1.2.3/0",
    "2001:db8::1/64",
    "2001:db8::1/128",
    "::ffff:192.0.2.9/120",
    "example.org",
    "user1",
    "1.2.3",
    "",
];

const NETS: &[&str] = &[
    "192.0.2.0/24",
    "192.0.2.1",
    "10.0.0.0/8",
    "0.0.0.0/0",
    "2001:db8::/32",
    "::/0",
    "user1",
];

#[test]
fn ipaddr_matches_upstream() {
    let Some(up) = run_py(PY, &json!({"addrs": ADDRS, "nets": NETS})) else {
        return;
    };
    for (i, s) in ADDRS.iter().enumerate() {
        let ip = IpAddr::parse(s);
        let mine = json!([
            ip.to_string(),
            ip.is_valid(),
            ip.is_single(),
            ip.family_str(),
            ip.ptr(Some("")),
            ip.ptr(None)
        ]);
        assert_eq!(mine, up[0][i], "{s:?}");
    }
    for (n, net) in NETS.iter().enumerate() {
        let net_ip = IpAddr::parse(net);
        let mine: Vec<Value> = ADDRS
            .iter()
            .map(|s| json!(net_ip.contains(&IpAddr::parse(s))))
            .collect();
        assert_eq!(Value::Array(mine), up[1][n], "net {net}");
    }
}
