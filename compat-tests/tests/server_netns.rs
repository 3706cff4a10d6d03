//! Network end to end: our server runs inside a "victim" network namespace with
//! Debian's stock nftables-multiport action; an "attacker" namespace connects to a
//! TCP service of the victim. After maxretry failures of the attacker's address the
//! connection is refused; after bantime it is accepted again. Needs root (a failure
//! under CI, skipped elsewhere).

use std::process::Command;
use std::time::{Duration, Instant};

use compat_tests::netns::{veth, NetNs};
use compat_tests::server::{cmd, request, Scratch};
use compat_tests::{bin, is_root, require_oracle, under_ci};
use f2b_protocol::Value;

const VICTIM: &str = "10.77.0.1";
const ATTACKER: &str = "10.77.0.2";
const PORT: &str = "2222";

fn can_connect(attacker: &NetNs) -> bool {
    let out = attacker
        .run(
            "python3",
            &[
                "-c",
                &format!(
                    "import socket,sys\ntry:\n socket.create_connection(('{VICTIM}', {PORT}), timeout=2).close()\nexcept OSError:\n sys.exit(1)"
                ),
            ],
        )
        .map(|o| o.status.success());
    matches!(out, Ok(true))
}

fn wait_for(max: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < max {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn attacker_is_blocked_after_maxretry_and_allowed_after_bantime() {
    if !is_root() {
        assert!(!under_ci(), "the namespace test must run as root under CI");
        eprintln!("SKIP: needs root for network namespaces");
        return;
    }
    if !require_oracle("/usr/sbin/nft")
        || !require_oracle("/etc/fail2ban/action.d/nftables-multiport.conf")
        || !require_oracle("/usr/bin/python3")
    {
        return;
    }
    let victim = NetNs::new("fv").expect("victim namespace");
    let attacker = NetNs::new("fa").expect("attacker namespace");
    let _link = veth(
        &victim,
        &[&format!("{VICTIM}/24")],
        &attacker,
        &[&format!("{ATTACKER}/24")],
    )
    .expect("veth");

    // a TCP service in the victim namespace
    let mut svc = victim.command("python3");
    svc.args([
        "-c",
        &format!(
            "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('0.0.0.0', {PORT}))\ns.listen(16)\nwhile True:\n c,_=s.accept()\n c.close()"
        ),
    ]);
    let _svc = victim.spawn(svc).expect("service");
    assert!(
        wait_for(Duration::from_secs(10), || can_connect(&attacker)),
        "service not reachable before the ban"
    );

    let sc = Scratch::new("4");
    sc.copy_stock_actions(&["nftables.conf", "nftables-multiport.conf"])
        .expect("stock nftables actions");
    sc.set_action(
        &format!("nftables-multiport[name=e2e, port={PORT}, protocol=tcp]"),
        "4",
    );
    let mut server = Command::new("ip");
    server
        .args(["netns", "exec", victim.name()])
        .arg(bin("fail2ban-server"));
    let _srv = sc.start_cmd(server);

    sc.fail(ATTACKER, 3);
    let banned = wait_for(Duration::from_secs(10), || {
        request(&sc.socket(), &cmd(&["get", "test", "banned", ATTACKER]))
            .is_ok_and(|r| r == Value::Tuple(vec![Value::Int(0), Value::Int(1)]))
    });
    assert!(banned, "attacker not banned");
    let set = victim
        .run("nft", &["list", "set", "inet", "f2b-table", "addr-set-e2e"])
        .expect("nft list");
    assert!(
        String::from_utf8_lossy(&set.stdout).contains(ATTACKER),
        "address not in the nftables set: {}",
        String::from_utf8_lossy(&set.stdout)
    );
    assert!(
        !can_connect(&attacker),
        "connection still accepted while banned"
    );

    // bantime 4 s: allowed again
    assert!(
        wait_for(Duration::from_secs(15), || can_connect(&attacker)),
        "connection still refused after bantime"
    );
    let r = request(&sc.socket(), &cmd(&["get", "test", "banned", ATTACKER])).unwrap();
    assert_eq!(r, Value::Tuple(vec![Value::Int(0), Value::Int(0)]));
}
