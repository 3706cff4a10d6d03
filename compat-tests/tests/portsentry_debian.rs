//! Debian integration, against Debian's own scripts run in private namespaces:
//! - `portsentry --service` honours /etc/default/portsentry like `/etc/init.d/portsentry
//!   start` (same console output, same startup messages), in one process instead of two;
//! - our ignore-file builder keeps the same `.static` lines as Debian's
//!   `portsentry-build-ignore-file` and adds the host's own addresses, which Debian's
//!   builder misses with today's `ifconfig` output (spec 3.1).

mod portsentry_common;

use portsentry_common as common;
use portsentry_common::Setup;

const INIT: &str = "/etc/init.d/portsentry";
const BUILDER: &str = "/usr/lib/portsentry/portsentry-build-ignore-file";
const STATIC: &str = "/etc/portsentry/portsentry.ignore.static";

fn body(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn ignore_file_has_static_lines_and_the_hosts_addresses() {
    if !common::can_run()
        || !compat_tests::require_oracle(BUILDER)
        || !compat_tests::require_oracle(STATIC)
    {
        return;
    }
    let setup = Setup {
        files: vec![("ignore.static", std::fs::read_to_string(STATIC).unwrap())],
        start: format!(
            "{BUILDER}; cp /etc/portsentry/portsentry.ignore $OUT/debian.ignore\n\
             $BIN --build-ignore; cp /etc/portsentry/portsentry.ignore $OUT/ours.ignore\n\
             ip -o addr show | awk '{{print $4}}' | cut -d/ -f1 > $OUT/addresses\n"
        ),
        no_wait: true,
        ..Setup::default()
    };
    let run = common::run(
        &common::scratch("debian-ignore").join("run"),
        &common::our_bin(),
        &setup,
    );
    let debian = body(&run.file("debian.ignore"));
    let ours = body(&run.file("ours.ignore"));
    let statics = body(&std::fs::read_to_string(STATIC).unwrap());
    assert!(!statics.is_empty());
    assert_eq!(
        debian, statics,
        "Debian's builder finds no local address (spec 3.1)"
    );
    assert_eq!(
        ours[..statics.len()],
        statics[..],
        "the same .static lines, in order"
    );
    let addrs: Vec<String> = run.file("addresses").lines().map(str::to_owned).collect();
    assert!(addrs.len() >= 26, "{addrs:?}");
    for a in &addrs {
        let listed = ours
            .iter()
            .any(|l| l == a || l.split('/').next() == Some(a.as_str()));
        assert!(
            listed,
            "{a} is missing from our ignore file:\n{}",
            run.file("ours.ignore")
        );
    }
    // the result protects the host: its own addresses are never blocked
    assert!(ours.contains(&"10.99.0.1".to_owned()) && ours.contains(&"fd00::1".to_owned()));
}

#[test]
fn service_honours_the_defaults_file_like_the_init_script() {
    if !common::can_run() || !compat_tests::require_oracle(INIT) {
        return;
    }
    let bin = common::our_bin();
    let root = common::scratch("debian-service");
    let files_edits = [
        ("HISTORY_FILE", Some("$OUT/portsentry.history".to_owned())),
        ("BLOCKED_FILE", Some("$OUT/portsentry.blocked".to_owned())),
        ("ADVANCED_PORTS_TCP", Some("64".to_owned())),
        ("ADVANCED_PORTS_UDP", Some("64".to_owned())),
    ];
    // (TCP_MODE, UDP_MODE)
    let cases = [
        ("atcp", "audp"),
        ("stcp", ""),
        ("", "udp"),
        ("", ""),
        ("tcpx", "udp"),
    ];
    type Runs = (common::Run, common::Run, common::Run);
    let mut jobs: Vec<Box<dyn FnOnce() -> Runs + Send>> = Vec::new();
    for (i, (t, u)) in cases.iter().enumerate() {
        let modes = [t, u].iter().filter(|m| !m.is_empty()).count();
        let valid = !t.ends_with('x');
        let setup = Setup {
            edits: files_edits.iter().map(|(k, v)| (*k, v.clone())).collect(),
            files: vec![
                (
                    "default",
                    format!("# test\nTCP_MODE=\"{t}\"\nUDP_MODE=\"{u}\"\n"),
                ),
                ("ignore.static", "127.0.0.1/32\n0.0.0.0\n".to_owned()),
            ],
            active: modes,
            no_wait: modes == 0 || !valid,
            ..Setup::default()
        };
        let (deb_setup, our_setup) = (
            Setup {
                start: format!("{INIT} start\n"),
                ..setup.clone()
            },
            Setup {
                start: "$BIN --service\n".into(),
                ..setup
            },
        );
        // ours as a drop-in: bind-mounted over /usr/sbin/portsentry, started by Debian's script
        let init_setup = Setup {
            start: format!("mount --bind $BIN /usr/sbin/portsentry\n{INIT} start\n"),
            ..deb_setup.clone()
        };
        let (root, bin) = (root.clone(), bin.clone());
        jobs.push(Box::new(move || {
            let d = common::run(
                &root.join(format!("{i}-debian")),
                std::path::Path::new(common::ORACLE),
                &deb_setup,
            );
            let o = common::run(&root.join(format!("{i}-ours")), &bin, &our_setup);
            let oi = common::run(&root.join(format!("{i}-ours-init")), &bin, &init_setup);
            (d, o, oi)
        }));
    }
    let runs = common::parallel(3, jobs);
    for ((t, u), (deb, ours, ours_init)) in cases.iter().zip(&runs) {
        // through Debian's own init script, ours behaves exactly like Debian's binary
        assert_eq!(
            ours_init.stdout, deb.stdout,
            "init script output for TCP_MODE={t:?} UDP_MODE={u:?}"
        );
        let sorted = |r: &common::Run| {
            let mut m = r.messages();
            m.sort();
            m
        };
        assert_eq!(
            sorted(ours_init),
            sorted(deb),
            "init script start for TCP_MODE={t:?} UDP_MODE={u:?}"
        );
        assert_eq!(
            ours.stdout, deb.stdout,
            "console output for TCP_MODE={t:?} UDP_MODE={u:?}"
        );
        let mut want = deb.messages();
        // Debian starts one process per mode, each logging "is starting"; we run one
        if want.iter().filter(|m| m.contains("is starting")).count() == 2 {
            let i = want.iter().position(|m| m.contains("is starting")).unwrap();
            want.remove(i);
        }
        // two processes log concurrently: compare the startup messages as multisets
        let mut got = ours.messages();
        want.sort();
        got.sort();
        assert_eq!(
            got, want,
            "startup messages for TCP_MODE={t:?} UDP_MODE={u:?}"
        );
        let modes = [t, u].iter().filter(|m| !m.is_empty()).count();
        let running = !t.ends_with('x') && modes > 0;
        let count = |r: &common::Run, pat: &str| {
            r.file("ps.txt").lines().filter(|l| l.contains(pat)).count()
        };
        assert_eq!(
            count(deb, "/usr/sbin/portsentry -"),
            if running { modes } else { 0 },
            "Debian: one process per mode"
        );
        assert_eq!(
            count(ours_init, "/usr/sbin/portsentry -"),
            if running { modes } else { 0 },
            "ours under the init script: one process per mode"
        );
        assert_eq!(
            count(ours, "portsentry --service"),
            usize::from(running),
            "ours: one service process"
        );
    }
}
