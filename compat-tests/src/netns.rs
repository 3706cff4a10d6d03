//! Network namespaces for end-to-end tests, cleaned up by RAII guards.
//!
//! - [`NetNs::new`] creates a uniquely named namespace (`ip netns add`) with `lo` up;
//!   dropping it kills the processes left inside and deletes it.
//! - [`veth`] links two namespaces with a veth pair and addresses (IPv6 without DAD).
//! - [`NetNs::command`] builds a command that runs inside the namespace;
//!   [`NetNs::spawn`] starts one in the background as a [`Child`] killed on drop.
//!
//! Only the namespaces a test creates are touched; names carry the test process id.

use std::io;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    // interface names are limited to 15 bytes, so keep these short
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}{}x{n}", std::process::id() % 100_000)
}

fn check(out: Output, what: &str) -> io::Result<Output> {
    if out.status.success() {
        Ok(out)
    } else {
        Err(io::Error::other(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

fn ip(args: &[&str]) -> io::Result<Output> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    check(out, &format!("ip {}", args.join(" ")))
}

/// A network namespace deleted (with everything running in it) on drop.
#[derive(Debug)]
pub struct NetNs {
    name: String,
}

impl NetNs {
    /// Creates `<prefix><pid>x<n>` with its loopback up.
    pub fn new(prefix: &str) -> io::Result<NetNs> {
        let name = unique(prefix);
        ip(&["netns", "add", &name])?;
        let ns = NetNs { name };
        ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace name (for `ip -n NAME` / `ip netns exec NAME`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command running `program` inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `program args…` inside the namespace and waits; non-zero exit is an error.
    pub fn run(&self, program: &str, args: &[&str]) -> io::Result<Output> {
        let out = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()?;
        check(
            out,
            &format!("{program} {} in {}", args.join(" "), self.name),
        )
    }

    /// Runs a shell script inside the namespace and returns its output (any exit status).
    pub fn sh(&self, script: &str) -> io::Result<Output> {
        self.command("sh")
            .args(["-c", script])
            .stdin(Stdio::null())
            .output()
    }

    /// Starts `cmd` (built with [`NetNs::command`]) in the background.
    pub fn spawn(&self, mut cmd: Command) -> io::Result<Child> {
        Ok(Child(Some(cmd.stdin(Stdio::null()).spawn()?)))
    }

    /// Adds an address (CIDR) to `dev`; IPv6 addresses skip duplicate detection.
    pub fn add_addr(&self, dev: &str, cidr: &str) -> io::Result<()> {
        let mut a = vec!["-n", &self.name, "addr", "add", cidr, "dev", dev];
        if cidr.contains(':') {
            a.push("nodad");
        }
        ip(&a).map(|_| ())
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if let Ok(p) = pid.parse::<i32>() {
                    // SAFETY: kill(2) on a pid listed inside our own namespace.
                    unsafe { libc::kill(p, libc::SIGKILL) };
                }
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A veth pair; deleted with its namespaces (dropping this deletes it earlier).
#[derive(Debug)]
pub struct Veth {
    ns: String,
    dev: String,
    /// Interface name on the first namespace's side.
    pub a: String,
    /// Interface name on the second namespace's side.
    pub b: String,
}

/// Links `na` and `nb` with a veth pair, gives each end its addresses (CIDR) and brings
/// both up.
pub fn veth(na: &NetNs, a_addrs: &[&str], nb: &NetNs, b_addrs: &[&str]) -> io::Result<Veth> {
    let base = unique("v");
    let (a, b) = (format!("{base}a"), format!("{base}b"));
    ip(&[
        "link",
        "add",
        &a,
        "netns",
        na.name(),
        "type",
        "veth",
        "peer",
        "name",
        &b,
        "netns",
        nb.name(),
    ])?;
    let v = Veth {
        ns: na.name().to_owned(),
        dev: a.clone(),
        a,
        b,
    };
    for (ns, dev, addrs) in [(na, &v.a, a_addrs), (nb, &v.b, b_addrs)] {
        for cidr in addrs {
            ns.add_addr(dev, cidr)?;
        }
        ip(&["-n", ns.name(), "link", "set", dev, "up"])?;
    }
    Ok(v)
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["-n", &self.ns, "link", "del", &self.dev])
            .stderr(Stdio::null())
            .status();
    }
}

/// A background process killed (and reaped) on drop.
#[derive(Debug)]
pub struct Child(Option<std::process::Child>);

impl Child {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.0.as_ref().map(|c| c.id()).unwrap_or(0)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
