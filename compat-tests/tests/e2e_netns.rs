//! Issue 4, point 1: a server in a "victim" namespace with Debian's real firewall action
//! bans an "attacker" namespace after 5 sshd failures appended to the watched log: the
//! attacker's TCP connect to a listener in the victim is refused within 1 s, and works
//! again after `bantime`. Runs for nftables-multiport (IPv4 and IPv6) and
//! iptables-multiport, against upstream (proves the harness) and ours. Needs root (a
//! failure under CI when not root).

use compat_tests::e2e::{need_root, probe, sshd_line, Impl, Listener, Scratch, Server};
use compat_tests::netns::{veth, NetNs};
use compat_tests::require_oracle;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const V4: (&str, &str) = ("10.123.0.1", "10.123.0.2");
const V6: (&str, &str) = ("fd42:123::1", "fd42:123::2");
const PORT: u16 = 2222;
const BANTIME: u64 = 4;

fn firewall_listing(victim: &NetNs, banaction: &str) -> String {
    let script = if banaction.starts_with("nftables") {
        "nft list ruleset"
    } else {
        "iptables -S"
    };
    let o = victim.sh(script).unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// One scenario at a time: the 1 s bound should not measure the other scenarios' load.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `(victim, attacker)` are the two ends' addresses (both IPv4 or both IPv6).
fn ban_blocks_the_attacker(
    imp: Impl,
    banaction: &str,
    backend: &str,
    (victim_ip, attacker_ip): (&str, &str),
) {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !need_root("the namespace end-to-end test") || !imp.available() {
        return;
    }
    let tool = if banaction.starts_with("nftables") {
        "/usr/sbin/nft"
    } else {
        "/usr/sbin/iptables"
    };
    if !require_oracle(tool) {
        return;
    }
    let v6 = victim_ip.contains(':');
    let victim = NetNs::new("f2bv").unwrap();
    let attacker = NetNs::new("f2ba").unwrap();
    let _link = veth(
        &victim,
        &[&format!("{victim_ip}/{}", if v6 { 64 } else { 24 })],
        &attacker,
        &[&format!("{attacker_ip}/{}", if v6 { 64 } else { 24 })],
    )
    .unwrap();
    let addr = SocketAddr::new(victim_ip.parse().unwrap(), PORT);
    let _listener = Listener::start(victim.name(), addr);
    let step = Duration::from_millis(300);
    // the veth link needs a moment after `up`
    assert!(
        compat_tests::e2e::wait_until(Duration::from_secs(5), step, || probe(
            attacker.name(),
            addr,
            step
        )),
        "no connectivity before the ban"
    );

    let sc = Scratch::new();
    let authlog = sc.path("auth.log");
    Scratch::append(&authlog, &[]);
    sc.jail(
        "sshd",
        &format!(
            "port = {PORT}\nlogpath = {}\nbackend = {backend}\nmaxretry = 5\nfindtime = 600\n\
             bantime = {BANTIME}\nbanaction = {banaction}\n",
            authlog.display()
        ),
    );
    let mut srv = Server::start(imp, &sc, Some(&victim));
    srv.wait_jails(&["sshd"]);
    assert!(
        probe(attacker.name(), addr, step),
        "blocked before failures"
    );

    let now = chrono::Local::now();
    let lines: Vec<String> = (0..5)
        .map(|i| sshd_line(now, 4000 + i, attacker_ip))
        .collect();
    let t0 = Instant::now();
    Scratch::append(&authlog, &lines);
    let blocked =
        compat_tests::e2e::wait_until(Duration::from_secs(5), Duration::from_millis(5), || {
            !probe(attacker.name(), addr, Duration::from_millis(150))
        });
    let took = t0.elapsed();
    assert!(
        blocked,
        "{}: attacker never blocked; firewall:\n{}\nlog:\n{}",
        imp.name(),
        firewall_listing(&victim, banaction),
        srv.log()
    );
    // polling looks at the file once a second (upstream's sleeptime). The bound is the
    // acceptance criterion for ours; upstream (python, starting the nft table on demand)
    // needs more than 1 s on a loaded machine and only proves the harness here.
    let limit = match (imp, backend) {
        (Impl::Upstream, _) => Duration::from_secs(3),
        (Impl::Ours, "polling") => Duration::from_secs(2),
        (Impl::Ours, _) => Duration::from_secs(1),
    };
    assert!(took < limit, "{}: blocked only after {took:?}", imp.name());
    let st = srv.status("sshd").expect("status sshd");
    assert_eq!(st.banned, vec![attacker_ip.to_string()], "{st:?}");
    assert_eq!(st.total_failed, 5, "{st:?}");
    assert!(
        firewall_listing(&victim, banaction).contains(attacker_ip),
        "address not in the firewall"
    );
    eprintln!(
        "{} {banaction} {backend}: blocked after {took:?}",
        imp.name()
    );

    // the ban ends after bantime (counted from the failures' log time, 1 s resolution)
    let reopened = compat_tests::e2e::wait_until(
        Duration::from_secs(BANTIME + 6),
        Duration::from_millis(50),
        || probe(attacker.name(), addr, step),
    );
    let open_after = t0.elapsed();
    assert!(
        reopened,
        "{}: still blocked after bantime; log:\n{}",
        imp.name(),
        srv.log()
    );
    assert!(
        open_after >= Duration::from_secs(BANTIME - 2),
        "{}: unbanned too early ({open_after:?})",
        imp.name()
    );
    let st = srv.status("sshd").unwrap();
    assert_eq!((st.currently_banned, st.total_banned), (0, 1), "{st:?}");
    assert!(!firewall_listing(&victim, banaction).contains(attacker_ip));
    let log = srv.log();
    for want in [
        format!("NOTICE  [sshd] Ban {attacker_ip}"),
        format!("NOTICE  [sshd] Unban {attacker_ip}"),
    ] {
        assert!(log.contains(&want), "{}: no {want:?} in\n{log}", imp.name());
    }
    let stopped = srv.stop();
    assert!(stopped.is_some_and(|s| s.success()), "stop: {stopped:?}");
}

#[test]
fn upstream_nftables_multiport() {
    ban_blocks_the_attacker(Impl::Upstream, "nftables-multiport", "auto", V4);
}

#[test]
fn ours_nftables_multiport() {
    ban_blocks_the_attacker(Impl::Ours, "nftables-multiport", "auto", V4);
}

#[test]
fn upstream_iptables_multiport() {
    ban_blocks_the_attacker(Impl::Upstream, "iptables-multiport", "auto", V4);
}

#[test]
fn ours_iptables_multiport() {
    ban_blocks_the_attacker(Impl::Ours, "iptables-multiport", "auto", V4);
}

#[test]
fn ours_nftables_multiport_polling() {
    ban_blocks_the_attacker(Impl::Ours, "nftables-multiport", "polling", V4);
}

#[test]
fn upstream_nftables_multiport_ipv6() {
    ban_blocks_the_attacker(Impl::Upstream, "nftables-multiport", "auto", V6);
}

#[test]
fn ours_nftables_multiport_ipv6() {
    ban_blocks_the_attacker(Impl::Ours, "nftables-multiport", "auto", V6);
}
