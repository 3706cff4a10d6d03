//! Issue 4, point 3: nothing is lost. 1,000 addresses are banned (`set sshd banip …`) by a
//! server running Debian's nftables-multiport action inside a namespace; the server is
//! `kill -9`ed and the firewall wiped (as after a reboot); after a restart every ban is back
//! in the nft set, in `status` and still in the database. The cross variant has the
//! database written by real fail2ban 1.0.2 and restored by ours. Needs root.

use compat_tests::e2e::{need_root, wait_until, Impl, Scratch, Server};
use compat_tests::netns::NetNs;
use compat_tests::require_oracle;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const N: usize = 1000;

fn addresses() -> Vec<String> {
    (0..N)
        .map(|i| format!("10.77.{}.{}", i / 250, 1 + i % 250))
        .collect()
}

/// The addresses in the jail's nft set inside `ns`.
fn nft_set(ns: &NetNs) -> BTreeSet<String> {
    let o = ns
        .sh("nft list set inet f2b-table addr-set-sshd 2>/dev/null")
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split(|c: char| c.is_whitespace() || c == ',' || c == '{' || c == '}')
        .filter(|t| t.starts_with("10.77."))
        .map(str::to_owned)
        .collect()
}

/// The addresses the database holds as current bans of `sshd`.
fn db_bans(db: &Path) -> BTreeSet<String> {
    let o = Command::new("sqlite3")
        .arg(db)
        .arg("select ip from bips where jail='sshd'")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn nothing_lost(first: Impl, restarts: &[Impl]) {
    if !need_root("the restore test")
        || !first.available()
        || !restarts.iter().all(|i| i.available())
        || !require_oracle("/usr/sbin/nft")
        || !require_oracle("/usr/bin/sqlite3")
    {
        return;
    }
    let names = format!("bans by {}", first.name());
    let ns = NetNs::new("f2br").unwrap();
    let sc = Scratch::new();
    let authlog = sc.path("auth.log");
    Scratch::append(&authlog, &[]);
    sc.jail(
        "sshd",
        &format!(
            "port = 2222\nlogpath = {}\nbackend = auto\nbantime = 3600\nbanaction = nftables-multiport\n",
            authlog.display()
        ),
    );
    let want: BTreeSet<String> = addresses().into_iter().collect();

    let mut srv = Server::start(first, &sc, Some(&ns));
    srv.wait_jails(&["sshd"]);
    let mut args = vec!["set", "sshd", "banip"];
    let ips = addresses();
    args.extend(ips.iter().map(String::as_str));
    assert_eq!(srv.ok(&args).trim(), N.to_string(), "{names}");
    let in_fw = wait_until(Duration::from_secs(120), Duration::from_millis(200), || {
        nft_set(&ns).len() == N
    });
    assert!(in_fw, "{names}: only {} bans in nft", nft_set(&ns).len());
    let st = srv.wait_status("sshd", Duration::from_secs(10), |s| {
        s.currently_banned == N as u64
    });
    assert_eq!(st.banned.iter().cloned().collect::<BTreeSet<_>>(), want);
    assert!(
        wait_until(
            Duration::from_secs(20),
            Duration::from_millis(200),
            || db_bans(&sc.db) == want
        ),
        "{names}: database has {} bans",
        db_bans(&sc.db).len()
    );

    srv.kill9();
    for &next in restarts {
        crash_and_restart(next, &sc, &ns, &want, &names);
    }
}

/// `kill -9` has happened: wipes the firewall (as a reboot would), starts `imp` on the same
/// configuration and database, checks that every ban is back, then kills it again.
fn crash_and_restart(imp: Impl, sc: &Scratch, ns: &NetNs, want: &BTreeSet<String>, names: &str) {
    let names = format!("{names}, restart by {}", imp.name());
    ns.sh("nft flush ruleset").unwrap();
    assert!(nft_set(ns).is_empty());
    let log_before = std::fs::read_to_string(&sc.log).unwrap_or_default().len();

    let mut srv = Server::start(imp, sc, Some(ns));
    srv.wait_jails(&["sshd"]);
    let back = wait_until(Duration::from_secs(120), Duration::from_millis(200), || {
        nft_set(ns) == *want
    });
    assert!(
        back,
        "{names}: {} of {N} bans back in nft",
        nft_set(ns).len()
    );
    let st = srv.wait_status("sshd", Duration::from_secs(10), |s| {
        s.currently_banned == N as u64
    });
    assert_eq!(st.banned.iter().cloned().collect::<BTreeSet<_>>(), *want);
    assert_eq!(db_bans(&sc.db), *want, "{names}: database after restart");
    let log = srv.log();
    let restored = log[log_before.min(log.len())..]
        .lines()
        .filter(|l| l.contains("NOTICE  [sshd] Restore Ban 10.77."))
        .count();
    assert_eq!(restored, N, "{names}: Restore Ban lines");
    srv.kill9();
}

/// Upstream bans and is killed; upstream restores (proves the harness) and is killed again;
/// then ours restores from the database that real fail2ban 1.0.2 wrote.
#[test]
fn upstream_kill9_restores_every_ban_then_ours_reads_its_database() {
    nothing_lost(Impl::Upstream, &[Impl::Upstream, Impl::Ours]);
}

#[test]
fn ours_kill9_restores_every_ban() {
    nothing_lost(Impl::Ours, &[Impl::Ours]);
}
