//! Shared helpers for the compatibility tests: where our binaries are, where the
//! upstream oracle is, and scratch directories.
//!
//! Tests in `tests/` compare our binaries with Debian's real fail2ban and portsentry.
//! Under `CI=true` a missing oracle is a failure, never a skip.

pub mod action;
pub mod e2e;
pub mod filters;
pub mod journal;
pub mod netns;
pub mod server;
pub mod socket;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root (parent of this package).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("compat-tests lives inside the workspace")
        .to_path_buf()
}

/// The cargo target directory used for our binaries.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => workspace_root().join("target"),
    }
}

/// Path of one of our release binaries (`fail2ban-client`, `fail2ban-regex`,
/// `fail2ban-server`, `portsentry`). The first call builds all workspace binaries in
/// release mode; cargo's own lock makes concurrent test binaries wait for each other.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--release", "--workspace", "--bins", "--quiet"])
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build --release --bins failed");
    });
    let p = target_dir().join("release").join(name);
    assert!(p.exists(), "binary {} was not built", p.display());
    p
}

/// True when running under CI (`CI=true`): missing oracles must fail there.
pub fn under_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// Checks that an oracle file (e.g. `/usr/bin/fail2ban-client`) exists. Under CI a
/// missing oracle panics; elsewhere the caller gets `false` and should return early
/// after the message printed here.
pub fn require_oracle(path: &str) -> bool {
    if Path::new(path).exists() {
        return true;
    }
    if under_ci() {
        panic!(
            "oracle {path} is missing under CI (install Debian's package: see .ci/install-deps)"
        );
    }
    eprintln!("SKIP: oracle {path} is missing (not under CI)");
    false
}

/// Debian's installed upstream sample logs (`# failJSON:` annotated).
pub const UPSTREAM_LOGS: &str = "/usr/lib/python3/dist-packages/fail2ban/tests/files/logs";

/// Debian's stock configuration directory.
pub const STOCK_CONF: &str = "/etc/fail2ban";

/// True when the tests run as root (needed for namespaces and firewalls).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Copies a directory tree (files and dirs; symlinks followed) to `dst`.
pub fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        if from.is_dir() {
            copy_tree(&from, &to)?;
        } else {
            std::fs::copy(&from, &to)?;
        }
    }
    Ok(())
}
