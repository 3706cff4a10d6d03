//! Shared helpers of the portsentry tests: our binary, the oracle, configs derived from
//! Debian's installed `/etc/portsentry/portsentry.conf`, and scenario runs in private
//! network + mount + PID namespaces (`data/portsentry/scenario.sh`), with syslog captured
//! on a private `/dev/log`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Debian's real portsentry 1.2 binary (the oracle).
pub const ORACLE: &str = "/usr/sbin/portsentry";
/// Debian's installed configuration, the base of every scenario config.
pub const DEBIAN_CONF: &str = "/etc/portsentry/portsentry.conf";

/// Our test data directory.
pub fn data_dir() -> PathBuf {
    compat_tests::workspace_root().join("compat-tests/data/portsentry")
}

/// Builds (once) and returns our release `portsentry` binary. Only our package is built,
/// so a half-finished crate of another area cannot break these tests.
pub fn our_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let st = Command::new(env!("CARGO"))
                .args([
                    "build",
                    "--release",
                    "-p",
                    "portsentry",
                    "--bin",
                    "portsentry",
                    "--quiet",
                ])
                .current_dir(compat_tests::workspace_root())
                .status()
                .expect("run cargo build");
            let p = compat_tests::target_dir().join("release/portsentry");
            // outside CI another area's half-written crate can break the workspace build
            // for a moment; an existing binary then still serves
            assert!(
                st.success() || (!compat_tests::under_ci() && p.exists()),
                "building portsentry failed"
            );
            if !st.success() {
                eprintln!(
                    "WARNING: cargo build failed; using the existing {}",
                    p.display()
                );
            }
            assert!(p.exists(), "{} missing", p.display());
            p
        })
        .clone()
}

/// True when namespace tests can run here (root, unshare, python3, Debian's oracle files).
/// Under CI anything missing is a failure.
pub fn can_run() -> bool {
    if !compat_tests::is_root() {
        assert!(
            !compat_tests::under_ci(),
            "the portsentry tests need root under CI"
        );
        eprintln!("SKIP: not root");
        return false;
    }
    compat_tests::require_oracle(ORACLE)
        && compat_tests::require_oracle(DEBIAN_CONF)
        && compat_tests::require_oracle("/usr/bin/unshare")
}

/// Debian's config with `edits` applied: `(KEY, Some(value))` replaces the first line
/// setting KEY (or appends one), `(KEY, None)` comments it out.
pub fn debian_conf(edits: &[(&str, Option<String>)]) -> String {
    let base = std::fs::read_to_string(DEBIAN_CONF).expect("read Debian's portsentry.conf");
    let mut lines: Vec<String> = base.lines().map(str::to_owned).collect();
    for (key, val) in edits {
        let pos = lines.iter().position(|l| {
            l.starts_with(key) && matches!(l.as_bytes().get(key.len()), Some(b'=') | Some(b' '))
        });
        let new = val.as_ref().map(|v| format!("{key}=\"{v}\""));
        match (pos, new) {
            (Some(i), Some(n)) => lines[i] = n,
            (Some(i), None) => lines[i] = format!("#{}", lines[i]),
            (None, Some(n)) => lines.push(n),
            (None, None) => {}
        }
    }
    lines.join("\n") + "\n"
}

/// One scenario run's inputs.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// Config edits on top of Debian's file (`$OUT` is replaced by the run directory).
    pub edits: Vec<(&'static str, Option<String>)>,
    /// The ignore file's content (`None`: no ignore file).
    pub ignore: Option<String>,
    /// pstool actions started before the daemon (services).
    pub pre: Option<String>,
    /// pstool actions after startup.
    pub act: String,
    /// Lines appended to the private /etc/hosts.
    pub hosts_extra: Option<String>,
    /// The daemon start script; `$BIN` is the binary, `$OUT` the run directory.
    pub start: String,
    /// How many "now active" lines to wait for.
    pub active: usize,
    /// Do not wait for a "now active" line (no daemon, or one that exits).
    pub no_wait: bool,
    /// Extra files written into the run directory.
    pub files: Vec<(&'static str, String)>,
}

/// What a run left behind.
#[derive(Debug, Clone)]
pub struct Run {
    /// The run directory.
    pub dir: PathBuf,
    /// Raw syslog datagrams, in order.
    pub datagrams: Vec<String>,
    /// Client output (banners, errors).
    pub client: String,
    /// The daemon start output (`rc=N` last).
    pub stdout: String,
}

impl Run {
    /// A file of the run directory ("" when absent).
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    /// Lines appended to hosts.deny during the run.
    pub fn hosts_deny_added(&self) -> String {
        let before = self.file("hosts.deny.before");
        let after = self.file("hosts.deny.after");
        after
            .strip_prefix(before.as_str())
            .unwrap_or(&after)
            .to_owned()
    }

    /// The message part of every datagram (after `portsentry[PID]: `), with the
    /// `<29>` priority checked; `$OUT` stands for the run directory.
    pub fn messages(&self) -> Vec<String> {
        let dir = self.dir.display().to_string();
        self.datagrams
            .iter()
            .map(|d| {
                assert!(d.starts_with("<29>"), "not daemon.notice: {d:?}");
                let (head, msg) = d
                    .split_once("]: ")
                    .unwrap_or_else(|| panic!("no tag: {d:?}"));
                // glibc's "%h %e %T " timestamp: "Nov  5 07:03:09 "
                let ts = head
                    .as_bytes()
                    .get(4..20)
                    .unwrap_or_else(|| panic!("short header {head:?}"));
                let shape_ok = ts[..3].iter().all(u8::is_ascii_alphabetic)
                    && ts[3] == b' '
                    && (ts[4] == b' ' || ts[4].is_ascii_digit())
                    && ts[5].is_ascii_digit()
                    && ts[6] == b' '
                    && ts[9] == b':'
                    && ts[12] == b':'
                    && ts[15] == b' ';
                assert!(shape_ok, "bad syslog timestamp in {d:?}");
                let tag = &head[4 + 16..];
                assert!(tag.starts_with("portsentry["), "bad header {head:?}");
                msg.replace(&dir, "$OUT")
            })
            .collect()
    }
}

/// Runs one scenario with `bin` in fresh namespaces under `dir` (created, emptied).
pub fn run(dir: &Path, bin: &Path, s: &Setup) -> Run {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let out = dir.display().to_string();
    let sub = |t: &str| {
        t.replace("$OUT", &out)
            .replace("$BIN", &bin.display().to_string())
    };
    let edits: Vec<(&str, Option<String>)> = s
        .edits
        .iter()
        .map(|(k, v)| (*k, v.as_deref().map(sub)))
        .collect();
    std::fs::write(dir.join("conf"), debian_conf(&edits)).unwrap();
    if let Some(ig) = &s.ignore {
        std::fs::write(dir.join("portsentry.ignore"), ig).unwrap();
    }
    if let Some(p) = &s.pre {
        std::fs::write(dir.join("pre"), sub(p)).unwrap();
    }
    if let Some(h) = &s.hosts_extra {
        std::fs::write(dir.join("hosts.extra"), h).unwrap();
    }
    for (name, text) in &s.files {
        std::fs::write(dir.join(name), sub(text)).unwrap();
    }
    std::fs::write(dir.join("act"), sub(&s.act)).unwrap();
    std::fs::write(dir.join("start.sh"), sub(&s.start)).unwrap();
    let st = Command::new("timeout")
        .args([
            "60",
            "unshare",
            "-n",
            "-m",
            "-p",
            "--fork",
            "--mount-proc",
            "--kill-child",
            "bash",
        ])
        .arg(data_dir().join("scenario.sh"))
        .arg(dir)
        .env(
            "ACTIVE",
            if s.no_wait { 0 } else { s.active.max(1) }.to_string(),
        )
        .status()
        .expect("run unshare");
    assert!(st.success(), "scenario in {} failed: {st}", dir.display());
    let datagrams = std::fs::read_to_string(dir.join("syslog.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<String>(l).expect("json line"))
        .collect();
    Run {
        dir: dir.to_owned(),
        datagrams,
        client: std::fs::read_to_string(dir.join("client.txt")).unwrap_or_default(),
        stdout: std::fs::read_to_string(dir.join("stdout.txt")).unwrap_or_default(),
    }
}

/// Replaces the time fields of blocked/history lines (`EPOCH - MM/DD/YYYY HH:MM:SS `)
/// by `T`, after checking that both fields name the same instant (runs use TZ=UTC).
pub fn untimed(text: &str) -> String {
    text.lines()
        .map(|l| {
            let (epoch, rest) = l
                .split_once(" - ")
                .unwrap_or_else(|| panic!("bad line {l:?}"));
            let epoch: i64 = epoch.parse().unwrap_or_else(|_| panic!("bad epoch {l:?}"));
            let (date, rest) = rest.split_at(20);
            assert_eq!(date, utc(epoch), "time fields disagree in {l:?}");
            format!("T - {rest}\n")
        })
        .collect()
}

/// `MM/DD/YYYY HH:MM:SS ` for an epoch, in UTC (civil-from-days).
fn utc(epoch: i64) -> String {
    let days = epoch.div_euclid(86400);
    let secs = epoch.rem_euclid(86400);
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{m:02}/{d:02}/{y:04} {:02}:{:02}:{:02} ",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Runs `jobs` on at most `n` threads, keeping their order.
pub fn parallel<T: Send, F: FnOnce() -> T + Send>(n: usize, jobs: Vec<F>) -> Vec<T> {
    let jobs: Vec<std::sync::Mutex<Option<F>>> = jobs
        .into_iter()
        .map(|j| std::sync::Mutex::new(Some(j)))
        .collect();
    let results: Vec<std::sync::Mutex<Option<T>>> =
        jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= jobs.len() {
                    return;
                }
                let job = jobs[i].lock().unwrap().take().unwrap();
                let r = job();
                *results[i].lock().unwrap() = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap().expect("job panicked"))
        .collect()
}

/// A scratch directory for runs (kept under the target dir for post-mortems).
pub fn scratch(name: &str) -> PathBuf {
    let d = compat_tests::target_dir()
        .join("portsentry-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
