//! A forked child with a dropped uid tries the control socket ([`probe_as`]): the
//! check behind "a non-root user cannot connect". Everything the child needs is
//! prepared before the fork; the child makes raw system calls only.

use super::{cmd, END};
use f2b_protocol::pickle::encode;
use std::path::Path;

/// What a dropped-uid child got when it tried the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// `connect` failed with `EACCES`.
    Denied,
    /// `connect` failed with `ECONNREFUSED`.
    Refused,
    /// `connect` failed with another errno.
    ConnectError(i32),
    /// Connected, then the server closed (or reset) without a reply.
    Closed,
    /// The server answered `pong`: the peer was served.
    Served,
    /// The server answered something else (an error reply).
    ErrorReply,
    /// Connected but neither reply nor close within 5 s.
    Hung,
    /// The child could not drop privileges.
    SetupFailed,
}

impl Probe {
    /// True when the peer got no service (no `pong`) and no hang.
    pub fn refused(self) -> bool {
        matches!(
            self,
            Probe::Denied | Probe::Refused | Probe::Closed | Probe::ErrorReply
        )
    }
}

/// Forks a child that drops to `uid`/`gid` (no supplementary groups), connects to
/// `sock` and sends `['ping']`. Everything the child needs is prepared before the fork;
/// the child makes only raw system calls and leaves with `_exit`.
pub fn probe_as(uid: u32, gid: u32, sock: &Path) -> Probe {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: sockaddr_un is plain old data; zeroed is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let p = sock.as_os_str().as_bytes();
    assert!(p.len() < addr.sun_path.len(), "socket path too long");
    for (d, s) in addr.sun_path.iter_mut().zip(p) {
        *d = *s as libc::c_char;
    }
    let mut req = encode(&cmd(&["ping"]));
    req.extend_from_slice(END);
    let mut buf = vec![0u8; 4096];
    // SAFETY: fork; the child below only calls async-signal-safe functions on memory
    // prepared before the fork and ends with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: raw syscalls on valid pointers; see above.
        unsafe {
            let code = probe_child(uid, gid, &addr, &req, &mut buf);
            libc::_exit(code);
        }
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if !libc::WIFEXITED(status) {
        return Probe::SetupFailed;
    }
    match libc::WEXITSTATUS(status) {
        10 => Probe::Denied,
        11 => Probe::Refused,
        12..=13 => Probe::ConnectError(libc::WEXITSTATUS(status)),
        20 => Probe::Closed,
        21 => Probe::Served,
        22 => Probe::ErrorReply,
        30 => Probe::Hung,
        _ => Probe::SetupFailed,
    }
}

/// The child side of [`probe_as`]; returns the exit code.
///
/// # Safety
/// Only to be called in a freshly forked child.
unsafe fn probe_child(
    uid: u32,
    gid: u32,
    addr: &libc::sockaddr_un,
    req: &[u8],
    buf: &mut [u8],
) -> i32 {
    // SAFETY: raw syscalls on memory prepared before the fork (see the caller).
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(gid) != 0
            || libc::setuid(uid) != 0
            || libc::geteuid() != uid
        {
            return 3;
        }
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
        if fd < 0 {
            return 4;
        }
        let r = libc::connect(
            fd,
            addr as *const libc::sockaddr_un as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
        );
        if r != 0 {
            return match *libc::__errno_location() {
                libc::EACCES => 10,
                libc::ECONNREFUSED => 11,
                libc::ENOENT => 12,
                _ => 13,
            };
        }
        // a failing write means the server already closed: read tells the rest
        let _ = libc::send(fd, req.as_ptr().cast(), req.len(), libc::MSG_NOSIGNAL);
        let mut have = 0usize;
        loop {
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            if libc::poll(&mut pfd, 1, 5000) <= 0 {
                return 30;
            }
            let n = libc::read(fd, buf[have..].as_mut_ptr().cast(), buf.len() - have);
            if n <= 0 {
                return if have > 0 { 22 } else { 20 };
            }
            have += n as usize;
            let got = &buf[..have];
            if got.ends_with(END) || have == buf.len() {
                return if got.windows(4).any(|w| w == b"pong") {
                    21
                } else {
                    22
                };
            }
        }
    }
}
