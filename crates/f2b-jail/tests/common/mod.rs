//! Runs python snippets against the installed upstream fail2ban modules.
//!
//! Upstream is the oracle: tests feed the same inputs to upstream's classes
//! and to ours.  Without `/usr/bin/python3` + the fail2ban package the tests
//! skip locally but fail under `CI=true`.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

/// Interpreter of Debian's fail2ban (the pyenv `python3` may lack the module).
pub const PYTHON: &str = "/usr/bin/python3";

/// Runs `script` with `input` as JSON on stdin; returns its stdout parsed
/// as JSON, or None (skip) when upstream is unavailable outside CI.
pub fn run_py(script: &str, input: &Value) -> Option<Value> {
    let ok = Command::new(PYTHON)
        .args(["-c", "import fail2ban.server.failmanager"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("upstream fail2ban python module not available (CI=true)");
        }
        eprintln!("skipping: {PYTHON} with the fail2ban module is not available");
        return None;
    }
    let mut child = Command::new(PYTHON)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("python output is JSON"))
}

/// Deterministic pseudo random numbers for generated scenarios.
#[allow(dead_code)] // not every test binary generates scenarios
pub struct Lcg(pub u64);

impl Lcg {
    /// Next value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}
