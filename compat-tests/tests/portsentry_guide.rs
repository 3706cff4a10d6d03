//! The admin guide's flow, end to end, with our binary and our sample configuration
//! (`etc-portsentry-samples/`): `/etc/default/portsentry` selects atcp + audp, one
//! `portsentry --service` process runs both; an attacker namespace linked by a veth pair
//! SYN-scans and sends UDP probes (IPv4 and IPv6); the attacker is blocked (hosts.deny
//! line, the sample's nftables command, its traffic then dropped); `grep attackalert`
//! finds the alerts; deleting the hosts.deny line and the nft element unblocks it; and
//! Debian's stock fail2ban `portsentry` filter matches every history line.

mod portsentry_common;

use compat_tests::netns::{self, NetNs};
use portsentry_common as common;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SENSOR4: &str = "10.231.7.1";
const SCAN4: &str = "10.231.7.2";
const PROBE4: &str = "10.231.7.3";
const SENSOR6: &str = "fd07::1";
const SCAN6: &str = "fd07::2";

fn samples() -> std::path::PathBuf {
    compat_tests::workspace_root().join("etc-portsentry-samples")
}

/// Runs pstool actions inside `ns`; returns their output.
fn act(ns: &NetNs, dir: &Path, name: &str, script: &str) -> String {
    let f = dir.join(name);
    std::fs::write(&f, script).unwrap();
    let out = ns
        .command("python3")
        .arg(common::data_dir().join("pstool.py"))
        .arg("run")
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The captured datagrams as /var/log/syslog would show them (`HOST portsentry[PID]: msg`).
fn syslog_text(dir: &Path) -> String {
    let raw = std::fs::read_to_string(dir.join("syslog.jsonl")).unwrap_or_default();
    raw.lines()
        .map(|l| {
            let d: String = serde_json::from_str(l).unwrap();
            let (date, rest) = d[4..].split_at(16);
            format!("{date}sensor {}\n", rest.trim_end_matches('\n'))
        })
        .collect()
}

#[test]
fn guide_flow_atcp_audp_blocks_and_unblocks_with_nftables_and_hosts_deny() {
    if !common::can_run()
        || !compat_tests::require_oracle("/usr/sbin/nft")
        || !compat_tests::require_oracle("/usr/bin/fail2ban-regex")
    {
        return;
    }
    let bin = common::our_bin();
    let dir = common::scratch("guide");
    let sensor = NetNs::new("pss").unwrap();
    let attacker = NetNs::new("psa").unwrap();
    let _link = netns::veth(
        &sensor,
        &[&format!("{SENSOR4}/24"), &format!("{SENSOR6}/64")],
        &attacker,
        &[
            &format!("{SCAN4}/24"),
            &format!("{PROBE4}/24"),
            &format!("{SCAN6}/64"),
        ],
    )
    .unwrap();

    // the sample configuration, with its nftables example, files under the run directory
    let conf = std::fs::read_to_string(samples().join("portsentry.conf")).unwrap();
    assert!(
        conf.lines()
            .any(|l| l.starts_with("KILL_ROUTE=") && l.contains("/usr/sbin/nft add element")),
        "the sample blocks with nftables"
    );
    let out = dir.display().to_string();
    let conf = conf
        .replace(
            "/etc/portsentry/portsentry.ignore\"",
            &format!("{out}/portsentry.ignore\""),
        )
        .replace("/var/lib/portsentry/", &format!("{out}/"));
    std::fs::write(dir.join("conf"), conf).unwrap();
    std::fs::copy(
        samples().join("portsentry.ignore.static"),
        dir.join("ignore.static"),
    )
    .unwrap();
    std::fs::copy(samples().join("default"), dir.join("default")).unwrap();
    std::fs::write(
        dir.join("start.sh"),
        format!("{} --service\n", bin.display()),
    )
    .unwrap();
    std::fs::write(dir.join("pre"), "listen tcp 8080\n").unwrap();
    sensor
        .run(
            "nft",
            &[
                "-f",
                &samples().join("portsentry.nft").display().to_string(),
            ],
        )
        .unwrap();

    let mut cmd = sensor.command("unshare");
    cmd.args(["-m", "-p", "--fork", "--mount-proc", "--kill-child", "bash"])
        .arg(common::data_dir().join("scenario.sh"))
        .arg(&dir);
    cmd.env("NONET", "1").env("ACTIVE", "2");
    let _daemon = sensor.spawn(cmd).unwrap();
    wait_for("both modes active", || dir.join("ready").exists());
    let started = std::fs::read_to_string(dir.join("stdout.txt")).unwrap();
    assert!(
        started.starts_with("Starting anti portscan daemon: portsentry in atcp & audp mode."),
        "{started}"
    );
    assert!(started.ends_with("rc=0\n"), "{started}");

    // the ignore file was built from .static plus this host's own addresses
    let ignore = std::fs::read_to_string(dir.join("portsentry.ignore")).unwrap();
    for want in ["127.0.0.1/32", "::1", SENSOR4, SENSOR6] {
        assert!(
            ignore.lines().any(|l| l == want),
            "{want} missing from the ignore file:\n{ignore}"
        );
    }

    let service = format!("tcp {SCAN4} {SENSOR4} 8080\n");
    assert!(
        act(&attacker, &dir, "before", &service).contains("connected"),
        "the service answers before the scan"
    );

    // SYN scan (half-open, raw) from .2, UDP probes from .3, an IPv6 SYN scan
    let mut scan = String::new();
    for p in [21, 22, 23, 25, 80, 110, 143] {
        scan.push_str(&format!("craft {SCAN4} {SENSOR4} {p} S\n"));
    }
    for p in [53, 69, 123] {
        scan.push_str(&format!("udp {PROBE4} {SENSOR4} {p}\n"));
    }
    for p in [22, 25] {
        scan.push_str(&format!("craft {SCAN6} {SENSOR6} {p} S\n"));
    }
    act(&attacker, &dir, "scan", &scan);
    let history = dir.join("portsentry.history");
    wait_for("three blocked hosts", || {
        std::fs::read_to_string(&history)
            .unwrap_or_default()
            .lines()
            .count()
            >= 3
    });

    // hosts.deny lines, one per host (IPv6 bracketed for tcp_wrappers)
    let deny = std::fs::read_to_string(dir.join("hosts.deny")).unwrap();
    for want in [
        format!("ALL: {SCAN4} : DENY"),
        format!("ALL: {PROBE4} : DENY"),
        format!("ALL: [{SCAN6}] : DENY"),
    ] {
        assert_eq!(
            deny.lines().filter(|l| *l == want).count(),
            1,
            "{want} in hosts.deny:\n{deny}"
        );
    }
    // the nftables command ran
    let sets = String::from_utf8(
        sensor
            .run("nft", &["list", "table", "inet", "portsentry"])
            .unwrap()
            .stdout,
    )
    .unwrap();
    for ip in [SCAN4, PROBE4, SCAN6] {
        assert!(sets.contains(ip), "{ip} not in the nft sets:\n{sets}");
    }
    // grep attackalert on the syslog capture, as in the guide
    let log = dir.join("syslog");
    std::fs::write(&log, syslog_text(&dir)).unwrap();
    let g = Command::new("grep")
        .arg("attackalert")
        .arg(&log)
        .output()
        .unwrap();
    let alerts = String::from_utf8(g.stdout).unwrap();
    for want in [
        format!("attackalert: TCP SYN/Normal scan from host: {SCAN4}/{SCAN4} to TCP port: 21"),
        format!("attackalert: UDP scan from host: {PROBE4}/{PROBE4} to UDP port: 53"),
        format!("attackalert: TCP SYN/Normal scan from host: {SCAN6}/{SCAN6} to TCP port: 22"),
        format!("attackalert: Host {SCAN4} has been blocked via wrappers with string: \"ALL: {SCAN4} : DENY\""),
        format!("attackalert: Host {SCAN6} has been blocked via dropped route using command: "),
    ] {
        assert!(alerts.contains(&want), "grep attackalert lacks {want:?}:\n{alerts}");
    }
    assert!(
        alerts.lines().all(|l| l.contains(" sensor portsentry[")),
        "{alerts}"
    );

    // the blocked scanner's traffic is dropped now
    assert!(
        act(&attacker, &dir, "blocked", &service).contains("error"),
        "traffic from {SCAN4} must be dropped"
    );

    // unblock: delete the hosts.deny line and the nft element
    let kept: String = deny
        .lines()
        .filter(|l| !l.contains(SCAN4))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("hosts.deny"), kept).unwrap();
    sensor
        .run(
            "nft",
            &[
                "delete",
                "element",
                "inet",
                "portsentry",
                "blocked4",
                &format!("{{ {SCAN4} }}"),
            ],
        )
        .unwrap();
    assert!(
        act(&attacker, &dir, "after", &service).contains("connected"),
        "{SCAN4} must reach the service again"
    );
    assert!(!std::fs::read_to_string(dir.join("hosts.deny"))
        .unwrap()
        .contains(SCAN4));

    // fail2ban's stock portsentry filter (Debian's real fail2ban-regex) matches every line
    let hist = std::fs::read_to_string(&history).unwrap();
    let n = hist.lines().count();
    assert!(n >= 3, "{hist}");
    let fr = Command::new("/usr/bin/fail2ban-regex")
        .arg("-v")
        .arg(&history)
        .arg("/etc/fail2ban/filter.d/portsentry.conf")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&fr.stdout);
    assert!(
        report.contains(&format!(
            "Lines: {n} lines, 0 ignored, {n} matched, 0 missed"
        )),
        "fail2ban-regex:\n{report}"
    );
    for ip in [SCAN4, PROBE4, SCAN6] {
        assert!(
            report.lines().any(|l| l
                .trim_start_matches(['|', ' '])
                .starts_with(&format!("{ip}  "))),
            "fail2ban-regex did not find {ip}:\n{report}"
        );
    }
}
