//! Per-ticket dynamic tag values (upstream `Actions.ActionInfo`): `<ip>`, `<family>`,
//! `<ip-rev>`, `<matches>`, `<F-*>` captures, … The server builds a [`Ticket`] (or its own
//! [`TagSource`]) for every ban/unban.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Address family an action operation runs for. Actions without `?family=` options use
/// [`Family::Any`] for start/stop (upstream's empty family string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// No family (`''` upstream).
    Any,
    /// IPv4 (`inet4`).
    Inet4,
    /// IPv6 (`inet6`).
    Inet6,
}

impl Family {
    /// The upstream spelling: `""`, `"inet4"`, `"inet6"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Any => "",
            Family::Inet4 => "inet4",
            Family::Inet6 => "inet6",
        }
    }

    /// The family of an address string (`inet4` unless it parses as IPv6). Upstream's
    /// `IPAddr.familyStr` for non-IP ids (hostnames) is `None`; we use `inet4`.
    pub fn of_ip(ip: &str) -> Family {
        match ip.parse::<IpAddr>() {
            Ok(IpAddr::V6(_)) => Family::Inet6,
            _ => Family::Inet4,
        }
    }

    /// The conditional suffix used for property lookup (`family=inet6`), empty for `Any`.
    pub fn conditional(self) -> String {
        match self {
            Family::Any => String::new(),
            f => format!("family={}", f.as_str()),
        }
    }
}

/// Source of dynamic tag values for one command.
pub trait TagSource {
    /// Value of a dynamic tag (`ip`, `family`, `matches`, `jail.banned`, …); `None` when the
    /// tag is unknown, so it falls back to the built-ins or stays literal.
    fn tag(&self, name: &str) -> Option<String>;
    /// Value of a filter capture group, by its mapped lower-case name (`user`, `fid`, `fport`).
    fn capture(&self, name: &str) -> Option<String>;
    /// The family this ticket belongs to.
    fn family(&self) -> Family;
}

/// Lazy lookup for the expensive or external tags (`ip-host`, `ipmatches`, `ipjailmatches`,
/// `ipfailures`, `ipjailfailures`, `jail.*`), supplied by the server (database, DNS, counters).
pub type LazyTags = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The information about one ban, as upstream's `ActionInfo` exposes it.
#[derive(Clone)]
pub struct Ticket {
    /// The banned address (or id).
    pub ip: String,
    /// Overrides the family derived from `ip` (used for start/stop "empty" tickets).
    pub family: Option<Family>,
    /// Ticket id (`<fid>`); defaults to `ip`.
    pub fid: Option<String>,
    /// Number of failures (`<failures>`).
    pub failures: u64,
    /// Time of the ban (`<time>`, epoch seconds; formatted like Python's `str(float)`).
    pub time: f64,
    /// Ban time in seconds (`<bantime>`).
    pub bantime: i64,
    /// Ban count (`<bancount>`).
    pub bancount: u64,
    /// Matched log lines (`<matches>`, joined with `\n`).
    pub matches: Vec<String>,
    /// True for bans restored from the database (`<restored>`, and `norestored` actions).
    pub restored: bool,
    /// Filter capture groups, keyed by mapped lower-case name.
    pub captures: HashMap<String, String>,
    /// Lookup for the remaining tags; `ip-host` defaults to a reverse DNS lookup.
    pub lazy: Option<LazyTags>,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("ip", &self.ip)
            .field("failures", &self.failures)
            .field("time", &self.time)
            .field("restored", &self.restored)
            .finish_non_exhaustive()
    }
}

impl Ticket {
    /// A ticket for `ip` with zero counters.
    pub fn new(ip: &str) -> Self {
        Ticket {
            ip: ip.to_string(),
            family: None,
            fid: None,
            failures: 0,
            time: 0.0,
            bantime: 0,
            bancount: 0,
            matches: Vec::new(),
            restored: false,
            captures: HashMap::new(),
            lazy: None,
        }
    }

    /// The "empty" ticket upstream uses for start/stop/flush commands (`BanTicket("", now)`
    /// with the operation's family).
    pub fn empty(family: Family, time: f64) -> Self {
        let mut t = Ticket::new("");
        t.family = Some(family);
        t.time = time;
        t
    }
}

/// Python's `str(float)` for the common cases (`1795592582.0`, `1.5`).
pub fn py_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

impl TagSource for Ticket {
    fn tag(&self, name: &str) -> Option<String> {
        let v = match name {
            "ip" => self.ip.clone(),
            "family" => self.family().as_str().to_string(),
            "ip-rev" => ip_rev(&self.ip),
            "fid" => self.fid.clone().unwrap_or_else(|| self.ip.clone()),
            "failures" => self.failures.to_string(),
            "time" => py_float(self.time),
            "bantime" => self.bantime.to_string(),
            "bancount" => self.bancount.to_string(),
            "matches" => self.matches.join("\n"),
            "restored" => u8::from(self.restored).to_string(),
            "ip-host" => {
                if let Some(v) = self.lazy.as_ref().and_then(|l| l(name)) {
                    return Some(v);
                }
                reverse_dns(&self.ip).unwrap_or_else(|| "None".to_string())
            }
            // merged info defaults to this ticket's own (upstream without a database)
            "ipmatches" | "ipjailmatches" | "ipfailures" | "ipjailfailures" => {
                if let Some(v) = self.lazy.as_ref().and_then(|l| l(name)) {
                    return Some(v);
                }
                if name.ends_with("matches") {
                    self.matches.join("\n")
                } else {
                    self.failures.to_string()
                }
            }
            _ => return self.lazy.as_ref().and_then(|l| l(name)),
        };
        Some(v)
    }

    fn capture(&self, name: &str) -> Option<String> {
        self.captures.get(name).cloned()
    }

    fn family(&self) -> Family {
        self.family.unwrap_or_else(|| Family::of_ip(&self.ip))
    }
}

/// Upstream `getPTR('')`: reversed octets (IPv4) or nibbles (IPv6) with a trailing dot;
/// empty for non-addresses.
pub fn ip_rev(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => {
            let o = a.octets();
            format!("{}.{}.{}.{}.", o[3], o[2], o[1], o[0])
        }
        Ok(IpAddr::V6(a)) => {
            let mut s = String::with_capacity(64);
            for b in a.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xf, b >> 4));
            }
            s
        }
        Err(_) => String::new(),
    }
}

/// Reverse DNS of an address (`getnameinfo` with `NI_NAMEREQD`).
pub fn reverse_dns(ip: &str) -> Option<String> {
    let addr: IpAddr = ip.parse().ok()?;
    let sa = std::net::SocketAddr::new(addr, 0);
    let (storage, len) = sockaddr_of(&sa);
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: storage/len describe a valid sockaddr; host is a writable buffer of the given size.
    let rc = unsafe {
        libc::getnameinfo(
            &storage as *const libc::sockaddr_storage as *const libc::sockaddr,
            len,
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: getnameinfo NUL-terminates host on success.
    let s = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    Some(s.to_string_lossy().into_owned())
}

fn sockaddr_of(sa: &std::net::SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match sa {
        std::net::SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: 0,
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is large enough and suitably aligned for sockaddr_in.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in, sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        std::net::SocketAddr::V6(a) => {
            // SAFETY: sockaddr_in6 is plain old data.
            let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_addr.s6_addr = a.ip().octets();
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in6, sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

static HOSTNAMES: std::sync::RwLock<Option<(String, String)>> = std::sync::RwLock::new(None);

/// Fixes the names `<fq-hostname>` / `<sh-hostname>` resolve to (otherwise looked up once and
/// cached, as upstream caches them); `None` forgets them. Tests use it to avoid lookups.
pub fn set_hostnames(names: Option<(&str, &str)>) {
    *HOSTNAMES.write().unwrap_or_else(|p| p.into_inner()) =
        names.map(|(fq, sh)| (fq.to_string(), sh.to_string()));
}

/// Own host name: short (`<sh-hostname>`, `gethostname`) or fully qualified
/// (`<fq-hostname>`, like Python's `socket.getfqdn()`: the canonical name if it has a dot).
/// Looked up on first use, then cached.
pub fn hostname(fqdn: bool) -> String {
    let pick = |n: &(String, String)| if fqdn { n.0.clone() } else { n.1.clone() };
    if let Some(n) = HOSTNAMES.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
        return pick(n);
    }
    let names = (lookup_hostname(true), lookup_hostname(false));
    let v = pick(&names);
    *HOSTNAMES.write().unwrap_or_else(|p| p.into_inner()) = Some(names);
    v
}

fn lookup_hostname(fqdn: bool) -> String {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: buf is writable for its length.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    // SAFETY: gethostname NUL-terminates within the buffer on success (buf was zeroed).
    let short = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    if !fqdn {
        return short;
    }
    canonical_name(&short)
        .filter(|c| c.contains('.'))
        .unwrap_or(short)
}

fn canonical_name(host: &str) -> Option<String> {
    let c_host = std::ffi::CString::new(host).ok()?;
    // SAFETY: addrinfo is plain old data; zeroed is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C strings and out pointer; res is freed below.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 || res.is_null() {
        return None;
    }
    // SAFETY: res is a valid list returned by getaddrinfo.
    let name = unsafe {
        let cn = (*res).ai_canonname;
        let n = if cn.is_null() {
            None
        } else {
            Some(std::ffi::CStr::from_ptr(cn).to_string_lossy().into_owned())
        };
        libc::freeaddrinfo(res);
        n
    };
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_rev_forms() {
        assert_eq!(ip_rev("192.0.2.10"), "10.2.0.192.");
        let v6 = ip_rev("2001:db8::1");
        assert!(v6.starts_with("1.0.0.0."));
        assert!(v6.ends_with("8.b.d.0.1.0.0.2."));
        assert_eq!(v6.len(), 64);
        assert_eq!(ip_rev("host.example"), "");
    }

    #[test]
    fn family_and_time_formatting() {
        assert_eq!(Family::of_ip("::1"), Family::Inet6);
        assert_eq!(Family::of_ip("10.0.0.1"), Family::Inet4);
        assert_eq!(py_float(1795592582.0), "1795592582.0");
        assert_eq!(py_float(1.25), "1.25");
    }
}
