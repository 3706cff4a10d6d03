//! Thin wrappers over the libc calls the modes need: sockets (IPv4 and IPv6, raw
//! included), bind probes, poll, local time, reverse lookup, interface addresses,
//! daemonizing and signal masks. Every `unsafe` block lives here.

use std::io;
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Broken-down local time.
#[derive(Debug, Clone, Copy)]
pub struct Tm {
    /// Year (e.g. 2026).
    pub year: i32,
    /// Month 0-11.
    pub mon: i32,
    /// Day of month 1-31.
    pub mday: i32,
    /// Hour.
    pub hour: i32,
    /// Minute.
    pub min: i32,
    /// Second.
    pub sec: i32,
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

extern "C" {
    fn tzset();
}

/// `localtime_r` (honours `TZ`).
pub fn local_time(epoch: i64) -> Tm {
    let t: libc::time_t = epoch as libc::time_t;
    // SAFETY: tm is plain data; tzset/localtime_r only read the environment and write tm.
    let tm = unsafe {
        let mut tm: libc::tm = mem::zeroed();
        tzset();
        libc::localtime_r(&t, &mut tm);
        tm
    };
    Tm {
        year: tm.tm_year + 1900,
        mon: tm.tm_mon,
        mday: tm.tm_mday,
        hour: tm.tm_hour,
        min: tm.tm_min,
        sec: tm.tm_sec,
    }
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Transport protocol of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// "TCP" or "UDP", as in the log and blocked-file lines.
    pub fn upper(self) -> &'static str {
        match self {
            Proto::Tcp => "TCP",
            Proto::Udp => "UDP",
        }
    }
}

/// A new socket of `domain` (`AF_INET`/`AF_INET6`) for `proto`; `raw` for `SOCK_RAW`.
pub fn socket(v6: bool, proto: Proto, raw: bool) -> io::Result<OwnedFd> {
    let domain = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    let (ty, p) = match (raw, proto) {
        (false, Proto::Tcp) => (libc::SOCK_STREAM, 0),
        (false, Proto::Udp) => (libc::SOCK_DGRAM, 0),
        (true, Proto::Tcp) => (libc::SOCK_RAW, libc::IPPROTO_TCP),
        (true, Proto::Udp) => (libc::SOCK_RAW, libc::IPPROTO_UDP),
    };
    // SAFETY: plain socket(2); the fd is owned right away.
    let fd = cvt(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, p) })?;
    // SAFETY: fd is a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    if v6 && !raw {
        setsockopt_int(fd.as_raw_fd(), libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
    }
    Ok(fd)
}

/// `setsockopt` with an int value.
pub fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value is a live c_int of the stated size.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &v as *const _ as *const libc::c_void,
            mem::size_of::<libc::c_int>() as u32,
        )
    })
    .map(|_| ())
}

fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data large enough for both families.
    let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_in fits in sockaddr_storage.
            let sin = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: sockaddr_in6 fits in sockaddr_storage.
            let sin6 = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_scope_id = a.scope_id();
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

/// Decodes a sockaddr filled in by the kernel.
pub fn decode_sockaddr(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match ss.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says this is a sockaddr_in.
            let sin = unsafe { &*(ss as *const _ as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::new(IpAddr::V4(ip), u16::from_be(sin.sin_port)))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this is a sockaddr_in6.
            let sin6 = unsafe { &*(ss as *const _ as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::new(
                IpAddr::V6(ip),
                u16::from_be(sin6.sin6_port),
            ))
        }
        _ => None,
    }
}

/// Binds `fd` to the wildcard address of its family on `port`.
pub fn bind_any(fd: RawFd, v6: bool, port: u16) -> io::Result<()> {
    let ip = if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    };
    let (ss, len) = sockaddr(SocketAddr::new(ip, port));
    // SAFETY: ss holds a valid sockaddr of length len.
    cvt(unsafe { libc::bind(fd, &ss as *const _ as *const libc::sockaddr, len) }).map(|_| ())
}

/// `listen(fd, backlog)`.
pub fn listen(fd: RawFd, backlog: i32) -> io::Result<()> {
    // SAFETY: plain listen(2).
    cvt(unsafe { libc::listen(fd, backlog) }).map(|_| ())
}

/// True when `port` can be bound right now (1.2's bind probe / SmartVerify): the
/// socket is opened, bound, (for TCP) listened on, and closed again.
pub fn port_is_free(v6: bool, proto: Proto, port: u16) -> io::Result<bool> {
    let s = socket(v6, proto, false)?;
    match bind_any(s.as_raw_fd(), v6, port) {
        Ok(()) => Ok(true),
        Err(e)
            if e.raw_os_error() == Some(libc::EADDRINUSE)
                || e.raw_os_error() == Some(libc::EACCES) =>
        {
            Ok(false)
        }
        Err(_) => Ok(false),
    }
}

/// `accept` on a listening socket; the peer address is returned and the connection kept.
pub fn accept(fd: RawFd) -> io::Result<(OwnedFd, SocketAddr)> {
    // SAFETY: ss is large enough for any address; len tells the kernel its size.
    let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: as above.
    let c = cvt(unsafe {
        libc::accept4(
            fd,
            &mut ss as *mut _ as *mut libc::sockaddr,
            &mut len,
            libc::SOCK_CLOEXEC,
        )
    })?;
    // SAFETY: c is a fresh descriptor we own.
    let c = unsafe { OwnedFd::from_raw_fd(c) };
    let peer = decode_sockaddr(&ss).ok_or_else(|| io::Error::other("unknown address family"))?;
    Ok((c, peer))
}

/// `recvfrom` into `buf`; returns the byte count (datagrams are truncated) and the sender.
pub fn recv_from(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<SocketAddr>)> {
    // SAFETY: ss is plain data; buf is a valid writable slice.
    let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: as above.
    let n = unsafe {
        libc::recvfrom(
            fd,
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
            libc::MSG_DONTWAIT,
            &mut ss as *mut _ as *mut libc::sockaddr,
            &mut len,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((n as usize, decode_sockaddr(&ss)))
}

/// `sendto` (banners on UDP); errors are ignored by callers like 1.2.
pub fn send_to(fd: RawFd, data: &[u8], to: SocketAddr) -> io::Result<usize> {
    let (ss, len) = sockaddr(to);
    // SAFETY: data is a valid slice; ss a valid sockaddr of length len.
    let n = unsafe {
        libc::sendto(
            fd,
            data.as_ptr() as *const libc::c_void,
            data.len(),
            libc::MSG_DONTWAIT,
            &ss as *const _ as *const libc::sockaddr,
            len,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// `write` on a connected socket (TCP banners).
pub fn write_all_nb(fd: RawFd, data: &[u8]) -> io::Result<()> {
    // SAFETY: data is a valid slice.
    let n = unsafe {
        libc::send(
            fd,
            data.as_ptr() as *const libc::c_void,
            data.len(),
            libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Waits until one of `fds` is readable; returns the readable ones. `EINTR` yields an
/// empty list so callers can check for shutdown.
pub fn poll_readable(fds: &[RawFd], timeout_ms: i32) -> io::Result<Vec<usize>> {
    let mut p: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: p is a valid array of pollfd of the given length.
    let r = unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(Vec::new());
        }
        return Err(e);
    }
    Ok(p.iter()
        .enumerate()
        .filter(|(_, p)| p.revents != 0)
        .map(|(i, _)| i)
        .collect())
}

/// Reverse lookup (`/etc/hosts`, DNS per nsswitch); `None` when there is no name.
pub fn reverse_lookup(ip: IpAddr) -> Option<String> {
    let (ss, len) = sockaddr(SocketAddr::new(ip, 0));
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: ss is a valid sockaddr; host is a writable buffer of the given size.
    let r = unsafe {
        libc::getnameinfo(
            &ss as *const _ as *const libc::sockaddr,
            len,
            host.as_mut_ptr(),
            host.len() as u32,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if r != 0 {
        return None;
    }
    // SAFETY: getnameinfo NUL-terminates on success.
    let s = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    Some(s.to_string_lossy().into_owned())
}

/// Every address configured on the host's interfaces (IPv4 and IPv6).
pub fn local_addresses() -> io::Result<Vec<IpAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs allocates a list we free below.
    cvt(unsafe { libc::getifaddrs(&mut head) })?;
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: cur walks the list returned by getifaddrs.
        let ifa = unsafe { &*cur };
        if !ifa.ifa_addr.is_null() {
            // SAFETY: ifa_addr points to a sockaddr of its stated family; we copy at most
            // the size of that family's struct into a zeroed storage.
            let ss = unsafe {
                let mut ss: libc::sockaddr_storage = mem::zeroed();
                let fam = (*ifa.ifa_addr).sa_family as libc::c_int;
                let n = match fam {
                    libc::AF_INET => mem::size_of::<libc::sockaddr_in>(),
                    libc::AF_INET6 => mem::size_of::<libc::sockaddr_in6>(),
                    _ => 0,
                };
                std::ptr::copy_nonoverlapping(
                    ifa.ifa_addr as *const u8,
                    &mut ss as *mut _ as *mut u8,
                    n,
                );
                ss
            };
            if let Some(a) = decode_sockaddr(&ss) {
                if !out.contains(&a.ip()) {
                    out.push(a.ip());
                }
            }
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: head came from getifaddrs.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

/// True when running as root (1.2: `geteuid() && getuid() != 0` means not root).
pub fn is_root() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() == 0 || libc::getuid() == 0 }
}

/// 1.2's DaemonSeed: fork (the parent exits 0), setsid, chdir /, umask 077, and
/// stdin/stdout/stderr onto /dev/null. Must run before any thread is spawned.
pub fn daemonize() -> io::Result<()> {
    // SAFETY: called while single-threaded; the parent exits immediately.
    unsafe {
        let pid = libc::fork();
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid > 0 {
            libc::_exit(0);
        }
        libc::setsid();
        let _ = libc::chdir(c"/".as_ptr());
        libc::umask(0o077);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            libc::dup2(null, 0);
            libc::dup2(null, 1);
            libc::dup2(null, 2);
            if null > 2 {
                libc::close(null);
            }
        }
    }
    Ok(())
}

/// Ignores SIGHUP, SIGPIPE and SIGALRM (as 1.2) and blocks SIGTERM, SIGINT, SIGABRT
/// and SIGURG in this thread and every thread it spawns later; [`wait_signal`] takes them.
pub fn setup_signals() {
    // SAFETY: signal dispositions and the mask are process/thread state we own.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::signal(libc::SIGALRM, libc::SIG_IGN);
        let set = stop_set();
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

fn stop_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data initialised by sigemptyset.
    unsafe {
        let mut set: libc::sigset_t = mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGTERM, libc::SIGINT, libc::SIGABRT, libc::SIGURG] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks until SIGTERM, SIGINT, SIGABRT or SIGURG arrives; returns its number.
pub fn wait_signal() -> i32 {
    let set = stop_set();
    let mut sig: libc::c_int = 0;
    // SAFETY: set is initialised; sig is a valid out pointer.
    unsafe { libc::sigwait(&set, &mut sig) };
    sig
}

/// Sets the umask; returns the previous one.
pub fn set_umask(m: u32) -> u32 {
    // SAFETY: plain umask(2).
    unsafe { libc::umask(m as libc::mode_t) as u32 }
}
