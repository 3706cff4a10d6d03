//! BanManager vs upstream `fail2ban.server.banmanager.BanManager`:
//! generated ban/prolong/expire/unban sequences must agree on outcomes,
//! counters, the due tickets of each unban round and the `get banip`
//! listings (ordered, `--with-time`, status order).

#[allow(dead_code)] // not every test binary uses every helper
mod common;

use common::{run_py, Lcg};
use f2b_jail::{AddBan, BanManager, BanTicket, IpAddr, PyNum};
use serde_json::{json, Value};

const PY: &str = r#"
import json, sys
from fail2ban.server.banmanager import BanManager
from fail2ban.server.ticket import BanTicket
from fail2ban.server.mytime import MyTime
out = []
for c in json.load(sys.stdin):
    bm = BanManager(); bm.setBanTime(c['bantime'])
    res = []
    for op in c['ops']:
        if op[0] == 'add':
            _, ip, t, bt, now = op
            MyTime.setTime(now)
            tk = BanTicket(ip, t)
            if bt is not None: tk.setBanTime(bt)
            reason = {}
            r = bm.addBanTicket(tk, reason)
            res.append([r, 'expired' in reason, 'prolong' in reason, bm.size(), bm.getBanTotal(),
                        tk.getBanCount() if r else None])
        elif op[0] == 'unban':
            res.append(sorted(str(t.getID()) for t in bm.unBanList(op[1])))
        elif op[0] == 'remove':
            t = bm.getTicketByID(op[1])
            res.append(None if t is None else str(t.getID()))
        else:
            res.append([[str(x) for x in bm.getBanList(ordered=True)],
                        bm.getBanList(ordered=True, withTime=True),
                        [str(x) for x in bm.getBanList()]])
    out.append(res)
print(json.dumps(out))
"#;

fn scenarios() -> Vec<Value> {
    let mut rng = Lcg(7);
    let mut out = Vec::new();
    for &bantime in &[600i64, 60, -1] {
        let mut now = 1_790_000_000.0;
        let mut ops = Vec::new();
        for i in 0..300 {
            now += rng.below(40) as f64 + if rng.below(3) == 0 { 0.25 } else { 0.0 };
            match rng.below(12) {
                0..=6 => {
                    let ip = match rng.below(3) {
                        0 => format!("2001:db8::{:x}", rng.below(30)),
                        _ => format!("192.0.2.{}", rng.below(40)),
                    };
                    // ticket time = last failure, sometimes long ago (expired bantime)
                    let age = match rng.below(6) {
                        0 => rng.below(5000) as f64,
                        _ => rng.below(5) as f64,
                    };
                    let bt: Value = match rng.below(5) {
                        0 => json!(3600),
                        1 => json!(-1),
                        2 => json!(rng.below(200) + 1),
                        _ => Value::Null,
                    };
                    ops.push(json!(["add", ip, now - age, bt, now]));
                }
                7..=9 => ops.push(json!(["unban", now])),
                10 => ops.push(json!(["remove", format!("192.0.2.{}", rng.below(40))])),
                _ => ops.push(json!(["list"])),
            }
            if i % 50 == 49 {
                ops.push(json!(["list"]));
            }
        }
        out.push(json!({"bantime": bantime, "ops": ops}));
    }
    out
}

fn ours(c: &Value) -> Vec<Value> {
    let mut bm = BanManager::new();
    bm.set_ban_time(c["bantime"].as_i64().unwrap());
    let mut res = Vec::new();
    for op in c["ops"].as_array().unwrap() {
        match op[0].as_str().unwrap() {
            "add" => {
                let id = IpAddr::parse(op[1].as_str().unwrap());
                let mut t = BanTicket::new(id.clone(), op[2].as_f64().unwrap(), vec![]);
                t.ban_time = op[3].as_i64().map(PyNum::Int);
                let r = bm.add_ban_ticket(t, op[4].as_f64().unwrap());
                let (ok, exp, pro) = match r {
                    AddBan::Banned => (true, false, false),
                    AddBan::Expired => (false, true, false),
                    AddBan::AlreadyBanned { prolonged, .. } => (false, false, prolonged),
                };
                let cnt = ok.then(|| bm.get(&id).unwrap().ban_count);
                res.push(json!([ok, exp, pro, bm.size(), bm.ban_total(), cnt]));
            }
            "unban" => {
                let mut v: Vec<String> = bm
                    .unban_list(op[1].as_f64().unwrap(), usize::MAX)
                    .iter()
                    .map(|t| t.id.to_string())
                    .collect();
                v.sort();
                res.push(json!(v));
            }
            "remove" => {
                let t = bm.remove(&IpAddr::parse(op[1].as_str().unwrap()));
                res.push(json!(t.map(|t| t.id.to_string())));
            }
            _ => {
                let s = |v: Vec<IpAddr>| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
                res.push(json!([
                    s(bm.ids_by_end()),
                    bm.ids_by_end_with_time(),
                    s(bm.ids())
                ]));
            }
        }
    }
    res
}

#[test]
fn banmanager_matches_upstream() {
    let cases = scenarios();
    let Some(up) = run_py(PY, &Value::Array(cases.clone())) else {
        return;
    };
    let (mut prolonged, mut expired, mut unbanned) = (0, 0, 0);
    for (ci, c) in cases.iter().enumerate() {
        let mine = ours(c);
        let theirs = up[ci].as_array().unwrap();
        assert_eq!(mine.len(), theirs.len());
        for (i, (m, t)) in mine.iter().zip(theirs).enumerate() {
            assert_eq!(m, t, "case {ci} op {i}: {}", c["ops"][i]);
            if c["ops"][i][0] == "add" {
                prolonged += (m[2] == true) as u32;
                expired += (m[1] == true) as u32;
            }
            if c["ops"][i][0] == "unban" {
                unbanned += m.as_array().unwrap().len();
            }
        }
    }
    assert!(
        prolonged > 3 && expired > 3 && unbanned > 20,
        "{prolonged} {expired} {unbanned}"
    );
}

#[test]
fn unban_round_is_capped_and_earliest_first() {
    let mut bm = BanManager::new();
    for i in 0..50u32 {
        let mut t = BanTicket::new(
            IpAddr::parse(&format!("10.0.0.{i}")),
            1000.0 + f64::from(50 - i),
            vec![],
        );
        t.ban_time = Some(PyNum::Int(10));
        assert_eq!(bm.add_ban_ticket(t, 1000.0), AddBan::Banned);
    }
    let first = bm.unban_list(5000.0, f2b_jail::UNBAN_MAX_PER_ROUND);
    assert_eq!(first.len(), 20);
    // the latest added tickets have the earliest end of ban
    assert_eq!(first[0].id.to_string(), "10.0.0.49");
    assert_eq!(bm.size(), 30);
    assert_eq!(bm.next_unban_time(), Some(1000.0 + 21.0 + 10.0));
}
