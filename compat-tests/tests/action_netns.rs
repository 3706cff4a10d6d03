//! Real firewall smoke test: Debian's nftables-multiport action (properties from the real
//! `fail2ban-client -d`) is run by `f2b_action` inside a network namespace this test creates,
//! through an executor that prefixes `ip netns exec <ns>`; `nft list` checks the set elements.
//! Needs root: skipped with a message outside CI, a failure under CI.

use compat_tests::action::{action_pairs, dump_jail_actions, CLIENT, PYTHON};
use compat_tests::{is_root, require_oracle, under_ci};
use f2b_action::{ActionSet, Collector, ShellExecutor, Ticket};
use std::process::Command;
use std::sync::Arc;

/// Deletes the namespace (and with it every rule inside) when dropped, also on failure.
struct Netns(String);

impl Netns {
    fn create(tag: &str) -> Netns {
        let name = format!("f2b-{tag}-{}", std::process::id());
        let st = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap();
        assert!(st.success(), "ip netns add {name}");
        let ns = Netns(name);
        ns.run("ip link set lo up");
        ns
    }

    fn run(&self, cmd: &str) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.0, "sh", "-c", cmd])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn nftables_multiport_bans_inside_a_namespace() {
    if !is_root() {
        assert!(
            !under_ci(),
            "the firewall smoke test must run as root under CI"
        );
        eprintln!("SKIP: nftables namespace test needs root");
        return;
    }
    if !require_oracle(CLIENT) || !require_oracle(PYTHON) || !require_oracle("/usr/sbin/nft") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dump = dump_jail_actions(
        dir.path(),
        &[],
        &["nftables-multiport[name=SSH, port=\"ssh,2222\"]".to_string()],
    );
    let (name, pairs) = action_pairs(&dump).remove(0);
    let ns = Netns::create("nft");
    let mut set = ActionSet::new("sshd");
    set.set_executor(Arc::new(ShellExecutor::with_prefix([
        "ip", "netns", "exec", &ns.0,
    ])));
    let logs = Collector::new();
    set.set_log(logs.sink());
    set.add(&name).unwrap();
    set.set_pairs(&name, &pairs).unwrap();

    let list4 = "nft list set inet f2b-table addr-set-SSH";
    let list6 = "nft list set inet f2b-table addr6-set-SSH";
    // start on demand: nothing exists before the first ban
    assert!(set.start().is_empty());
    assert!(!ns.run("nft list tables").contains("f2b-table"));

    let v4 = Ticket::new("10.123.0.2");
    let v6 = Ticket::new("fd42:123::2");
    assert!(set.ban(&v4, false).is_empty(), "{:?}", logs.messages());
    assert!(ns.run(list4).contains("10.123.0.2"));
    assert!(!ns.run("nft list tables").is_empty());
    let chain = ns.run("nft list chain inet f2b-table f2b-chain");
    assert!(
        chain.contains("tcp dport { 22, 2222 } ip saddr @addr-set-SSH reject"),
        "{chain}"
    );

    assert!(set.ban(&v6, false).is_empty(), "{:?}", logs.messages());
    assert!(ns.run(list6).contains("fd42:123::2"));

    assert!(set.unban(&v4).is_empty());
    assert!(!ns.run(list4).contains("10.123.0.2"));
    assert!(ns.run(list6).contains("fd42:123::2"));

    // somebody wipes the firewall: the next ban fails, the check fails, the action is
    // restarted (no actionrepair), the check passes, the ban is retried
    ns.run("nft delete table inet f2b-table");
    let v4b = Ticket::new("10.123.0.3");
    assert!(set.ban(&v4b, false).is_empty(), "{:?}", logs.messages());
    assert!(ns.run(list4).contains("10.123.0.3"));
    assert!(logs
        .messages()
        .iter()
        .any(|(_, m)| m == "Invariant check failed. Trying to restore a sane environment"));

    // jail stop: flush per family, then stop removes rules, sets and the table
    assert!(
        set.flush_and_stop(&[&v6, &v4b]).is_empty(),
        "{:?}",
        logs.messages()
    );
    assert!(
        !ns.run("nft list tables").contains("f2b-table"),
        "{}",
        ns.run("nft list ruleset")
    );
}

#[test]
fn iptables_multiport_bans_inside_a_namespace() {
    if !is_root() {
        assert!(
            !under_ci(),
            "the firewall smoke test must run as root under CI"
        );
        eprintln!("SKIP: iptables namespace test needs root");
        return;
    }
    if !require_oracle(CLIENT) || !require_oracle(PYTHON) || !require_oracle("/usr/sbin/iptables") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dump = dump_jail_actions(
        dir.path(),
        &[],
        &["iptables-multiport[name=SSH2, port=\"ssh,2222\"]".to_string()],
    );
    let (name, pairs) = action_pairs(&dump).remove(0);
    let ns = Netns::create("ipt");
    let mut set = ActionSet::new("sshd");
    set.set_executor(Arc::new(ShellExecutor::with_prefix([
        "ip", "netns", "exec", &ns.0,
    ])));
    let logs = Collector::new();
    set.set_log(logs.sink());
    set.add(&name).unwrap();
    set.set_pairs(&name, &pairs).unwrap();

    // `?family=inet6` options make it start on demand, per family, at the first ban
    assert!(set.start().is_empty(), "{:?}", logs.messages());
    assert!(!ns.run("iptables -S").contains("f2b-SSH2"));
    let v4 = Ticket::new("10.123.0.2");
    let v6 = Ticket::new("fd42:123::2");
    assert!(set.ban(&v4, false).is_empty(), "{:?}", logs.messages());
    let input = ns.run("iptables -S INPUT");
    assert!(
        input.contains("-A INPUT -p tcp -m multiport --dports 22,2222 -j f2b-SSH2"),
        "{input}"
    );
    assert!(!ns.run("ip6tables -S").contains("f2b-SSH2"));
    assert!(set.ban(&v6, false).is_empty(), "{:?}", logs.messages());
    let chain = ns.run("iptables -S f2b-SSH2");
    assert!(
        chain
            .contains("-A f2b-SSH2 -s 10.123.0.2/32 -j REJECT --reject-with icmp-port-unreachable"),
        "{chain}"
    );
    let chain6 = ns.run("ip6tables -S f2b-SSH2");
    assert!(
        chain6.contains("-s fd42:123::2/128 -j REJECT --reject-with icmp6-port-unreachable"),
        "{chain6}"
    );
    assert!(set.unban(&v4).is_empty());
    assert!(!ns.run("iptables -S f2b-SSH2").contains("10.123.0.2"));
    assert!(
        set.flush_and_stop(&[&v6]).is_empty(),
        "{:?}",
        logs.messages()
    );
    assert!(!ns.run("iptables -S").contains("f2b-SSH2"));
    assert!(!ns.run("ip6tables -S").contains("f2b-SSH2"));
}
