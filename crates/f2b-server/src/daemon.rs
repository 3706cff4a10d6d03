//! Process plumbing: daemonizing (double fork with a readiness pipe back to the
//! starting process), the pid file, the process name and signal delivery to a thread.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::sys::signal::{self, SigHandler, Signal};
use nix::unistd::{fork, setsid, ForkResult};

/// Upstream `_make_file_path`: creates the last directory level of an absolute path.
pub fn make_file_path(file: &str) -> std::io::Result<()> {
    let dir = match Path::new(file).parent() {
        Some(d) if d.is_absolute() => d,
        _ => return Ok(()),
    };
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The daemon's end of the readiness pipe: tells the waiting parent whether the
/// server came up.
pub struct Readiness(Option<File>);

impl Readiness {
    /// A no-op notifier (foreground mode).
    pub fn none() -> Readiness {
        Readiness(None)
    }

    /// Reports the outcome once (later calls do nothing).
    pub fn notify(&mut self, ok: bool) {
        if let Some(mut f) = self.0.take() {
            let _ = f.write_all(if ok { b"1" } else { b"0" });
        }
    }
}

/// The two sides of [`daemonize`].
pub enum Daemonized {
    /// We are the daemon; report readiness through this.
    Daemon(Readiness),
    /// We are the starting process; the daemon reported `ok`.
    Parent {
        /// Whether the daemon came up.
        ok: bool,
    },
}

/// Detaches from the terminal (fork, setsid, fork, chdir /, stdio to /dev/null).
/// The starting process waits until the daemon calls [`Readiness::notify`] (or dies).
pub fn daemonize() -> std::io::Result<Daemonized> {
    let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: called before any thread is spawned; the child only calls
    // async-signal-safe functions until it continues as the daemon.
    match unsafe { fork() }? {
        ForkResult::Parent { child } => {
            drop(wr);
            let mut f = File::from(rd);
            // one byte (not EOF: a spawned command might hold a copy of the pipe)
            let mut buf = [0u8; 1];
            let n = loop {
                match f.read(&mut buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    r => break r.unwrap_or(0),
                }
            };
            let _ = nix::sys::wait::waitpid(child, None);
            return Ok(Daemonized::Parent {
                ok: n == 1 && buf[0] == b'1',
            });
        }
        ForkResult::Child => {}
    }
    drop(rd);
    setsid()?;
    // SAFETY: still single threaded.
    match unsafe { fork() }? {
        ForkResult::Parent { .. } => {
            // SAFETY: plain process exit of the intermediate child.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Child => {}
    }
    crate::pyfmt::reset_pid();
    let _ = std::env::set_current_dir("/");
    redirect_stdio()?;
    close_other_fds(wr.as_raw_fd());
    Ok(Daemonized::Daemon(Readiness(Some(File::from(wr)))))
}

fn redirect_stdio() -> std::io::Result<()> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors.
        if unsafe { libc::dup2(null.as_raw_fd(), fd) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn close_other_fds(keep: i32) {
    let fds: Vec<i32> = match std::fs::read_dir("/proc/self/fd") {
        Ok(rd) => rd
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
        Err(_) => return,
    };
    for fd in fds {
        if fd > 2 && fd != keep {
            // SAFETY: closing descriptors this fresh daemon does not use (the directory
            // handle used for listing is already closed).
            unsafe {
                libc::close(fd);
            }
        }
    }
}

/// Writes `<pid>\n` to the pid file (creating its directory). Errors are returned
/// for the caller to log.
pub fn write_pidfile(path: &str) -> std::io::Result<()> {
    make_file_path(path)?;
    std::fs::write(path, format!("{}\n", std::process::id()))
}

/// Sets the main thread's name (`--pname`, shown by `ps -L`/`top`).
pub fn set_process_name(name: &str) {
    let mut bytes: Vec<u8> = name.bytes().filter(|b| *b != 0).take(15).collect();
    bytes.push(0);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, bytes.as_ptr() as libc::c_ulong, 0, 0, 0);
    }
}

static SIGNAL_PIPE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = SIGNAL_PIPE.load(std::sync::atomic::Ordering::Relaxed);
    if fd >= 0 {
        let b = sig as u8;
        // SAFETY: write(2) is async-signal-safe; the pipe is non-blocking.
        unsafe {
            libc::write(fd, (&b as *const u8).cast(), 1);
        }
    }
}

/// Signals the server reacts to, delivered in order on a channel.
pub struct Signals {
    read: File,
}

impl Signals {
    /// Installs handlers for SIGTERM, SIGINT (stop), SIGHUP and SIGUSR1 (flush logs).
    /// Handlers (not masks) are used so that spawned action commands start with
    /// default dispositions.
    pub fn install() -> std::io::Result<Signals> {
        let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        set_nonblocking(&wr)?;
        SIGNAL_PIPE.store(
            std::os::fd::IntoRawFd::into_raw_fd(wr),
            std::sync::atomic::Ordering::Relaxed,
        );
        let act = signal::SigAction::new(
            SigHandler::Handler(on_signal),
            signal::SaFlags::SA_RESTART,
            signal::SigSet::empty(),
        );
        for s in [
            Signal::SIGTERM,
            Signal::SIGINT,
            Signal::SIGHUP,
            Signal::SIGUSR1,
        ] {
            // SAFETY: the handler only performs an async-signal-safe write.
            unsafe { signal::sigaction(s, &act) }?;
        }
        Ok(Signals {
            read: File::from(rd),
        })
    }

    /// Blocks until the next signal arrives.
    pub fn wait(&mut self) -> Option<Signal> {
        let mut b = [0u8; 1];
        loop {
            match self.read.read(&mut b) {
                Ok(1) => return Signal::try_from(i32::from(b[0])).ok(),
                Ok(_) => return None,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
    }

    /// Wakes [`Signals::wait`] without a signal (used at shutdown).
    pub fn wake() {
        on_signal(0);
    }
}

fn set_nonblocking(fd: &OwnedFd) -> std::io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let fl = libc::fcntl(raw, libc::F_GETFL);
        if fl < 0 || libc::fcntl(raw, libc::F_SETFL, fl | libc::O_NONBLOCK) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Restores default dispositions (at exit, like upstream restoring the previous
/// handlers).
pub fn restore_default_signals() {
    for s in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGUSR1,
    ] {
        // SAFETY: installing the default disposition.
        let _ = unsafe { signal::signal(s, SigHandler::SigDfl) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_file_path_creates_last_level_only() {
        let d = tempfile::tempdir().unwrap();
        let sock = d.path().join("run/f2b.sock");
        make_file_path(sock.to_str().unwrap()).unwrap();
        assert!(d.path().join("run").is_dir());
        make_file_path(sock.to_str().unwrap()).unwrap();
        let deep = d.path().join("a/b/c.sock");
        assert!(make_file_path(deep.to_str().unwrap()).is_err());
        make_file_path("relative/x.sock").unwrap();
        assert!(!Path::new("relative").exists());
    }

    #[test]
    fn pidfile_holds_our_pid() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x/f.pid");
        write_pidfile(p.to_str().unwrap()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            format!("{}\n", std::process::id())
        );
    }
}
