//! Failure ids and addresses with upstream `IPAddr` semantics (`server/ipdns.py`).
//!
//! A failure id is usually an IPv4/IPv6 address, but filters may capture any
//! string (a user name, a host name); such ids are kept "raw".  Parsing follows
//! upstream: `[v6]` brackets are stripped, `a.b.c.d/n` and dotted netmasks are
//! turned into a network with the host part masked out, and IPv4-mapped IPv6
//! addresses (`::ffff:1.2.3.4`) become plain IPv4.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An address, a network, or a raw (non-IP) id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpAddr {
    /// IPv4 address (`plen` 32) or network (host bits cleared).
    V4 {
        /// Address as a big-endian integer.
        addr: u32,
        /// Prefix length 0..=32.
        plen: u8,
    },
    /// IPv6 address (`plen` 128) or network (host bits cleared).
    V6 {
        /// Address as a big-endian integer.
        addr: u128,
        /// Prefix length 0..=128.
        plen: u8,
    },
    /// Anything that is not an address: a DNS name, a user name, ...
    Raw(String),
}

impl IpAddr {
    /// Parses like upstream `IPAddr(str)`: never fails, unparsable input is `Raw`.
    ///
    /// An invalid mask (`1.2.3.4/255.0.255.0`, `/abc`) also yields `Raw`
    /// (upstream raises there; a raw entry simply never matches an address).
    pub fn parse(s: &str) -> IpAddr {
        let mut t = s;
        if t.len() > 2 && t.starts_with('[') && t.ends_with(']') {
            t = &t[1..t.len() - 1];
        }
        let (host, cidr) = match t.split_once('/') {
            None => (t, None),
            Some((h, m)) => {
                let plen = if m.contains('.') || m.contains(':') {
                    match IpAddr::parse(m).mask_plen() {
                        Some(p) => p,
                        None => return IpAddr::Raw(s.to_string()),
                    }
                } else {
                    match m.trim().parse::<u8>() {
                        Ok(p) => p,
                        Err(_) => return IpAddr::Raw(s.to_string()),
                    }
                };
                (h, Some(plen))
            }
        };
        if let Ok(a) = host.parse::<Ipv4Addr>() {
            let plen = cidr.unwrap_or(32);
            if plen > 32 {
                return IpAddr::Raw(s.to_string());
            }
            return IpAddr::V4 {
                addr: u32::from(a) & mask4(plen),
                plen,
            };
        }
        if let Ok(a) = host.parse::<Ipv6Addr>() {
            let v = u128::from(a);
            match cidr {
                None => {
                    // IPv4-mapped (::ffff:0:0/96) becomes a plain IPv4 address.
                    if v & mask6(96) == 0xffff_0000_0000 {
                        return IpAddr::V4 {
                            addr: v as u32,
                            plen: 32,
                        };
                    }
                    return IpAddr::V6 { addr: v, plen: 128 };
                }
                Some(plen) if plen <= 128 => {
                    return IpAddr::V6 {
                        addr: v & mask6(plen),
                        plen,
                    }
                }
                Some(_) => return IpAddr::Raw(s.to_string()),
            }
        }
        IpAddr::Raw(s.to_string())
    }

    /// True for an IPv4 or IPv6 value (upstream `isValid`).
    pub fn is_valid(&self) -> bool {
        !matches!(self, IpAddr::Raw(_))
    }

    /// A single address (not a network, not raw) - upstream `isSingle`.
    pub fn is_single(&self) -> bool {
        matches!(
            self,
            IpAddr::V4 { plen: 32, .. } | IpAddr::V6 { plen: 128, .. }
        )
    }

    /// `inet4`, `inet6` or `None` for raw ids (the `<family>` action tag).
    pub fn family_str(&self) -> Option<&'static str> {
        match self {
            IpAddr::V4 { .. } => Some("inet4"),
            IpAddr::V6 { .. } => Some("inet6"),
            IpAddr::Raw(_) => None,
        }
    }

    /// Prefix length of a netmask written as an address (`255.255.255.0` -> 24).
    pub fn mask_plen(&self) -> Option<u8> {
        match *self {
            IpAddr::V4 { addr, .. } => {
                let p = addr.leading_ones();
                (addr.checked_shl(p).unwrap_or(0) == 0).then_some(p as u8)
            }
            IpAddr::V6 { addr, .. } => {
                let p = addr.leading_ones();
                (addr.checked_shl(p).unwrap_or(0) == 0).then_some(p as u8)
            }
            IpAddr::Raw(_) => None,
        }
    }

    /// Upstream `isInNet` without DNS: `self` lies inside the network `net`.
    pub fn is_in_net(&self, net: &IpAddr) -> bool {
        match (self, net) {
            (IpAddr::V4 { addr, .. }, IpAddr::V4 { addr: n, plen }) => addr & mask4(*plen) == *n,
            (IpAddr::V6 { addr, .. }, IpAddr::V6 { addr: n, plen }) => addr & mask6(*plen) == *n,
            _ => false,
        }
    }

    /// Upstream `contains` (network or equal address), without DNS.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        ip == self || ip.is_in_net(self)
    }

    /// Reverse DNS form (`ip-rev` uses an empty suffix: `4.3.2.1.`).
    ///
    /// `suffix = None` gives `in-addr.arpa.` / `ip6.arpa.`; raw ids give "".
    pub fn ptr(&self, suffix: Option<&str>) -> String {
        let (parts, def): (Vec<String>, &str) = match self {
            IpAddr::V4 { .. } => (
                self.to_string().split('.').map(str::to_string).collect(),
                "in-addr.arpa.",
            ),
            IpAddr::V6 { addr, .. } => (
                format!("{addr:032x}").chars().map(String::from).collect(),
                "ip6.arpa.",
            ),
            IpAddr::Raw(_) => return String::new(),
        };
        let rev: Vec<&str> = parts.iter().rev().map(String::as_str).collect();
        format!("{}.{}", rev.join("."), suffix.unwrap_or(def))
    }

    /// The address as `std::net::IpAddr` (None for raw ids).
    pub fn to_std(&self) -> Option<std::net::IpAddr> {
        match *self {
            IpAddr::V4 { addr, .. } => Some(Ipv4Addr::from(addr).into()),
            IpAddr::V6 { addr, .. } => Some(Ipv6Addr::from(addr).into()),
            IpAddr::Raw(_) => None,
        }
    }

    /// Converts a resolved address (e.g. from a resolver) to a single `IpAddr`.
    pub fn from_std(ip: std::net::IpAddr) -> IpAddr {
        IpAddr::parse(&ip.to_string())
    }
}

fn mask4(plen: u8) -> u32 {
    if plen == 0 {
        0
    } else {
        u32::MAX << (32 - plen.min(32))
    }
}

fn mask6(plen: u8) -> u128 {
    if plen == 0 {
        0
    } else {
        u128::MAX << (128 - plen.min(128))
    }
}

/// Writes `v` in decimal at the start of `out`; returns the number of bytes.
fn put_u8(out: &mut [u8], v: u8) -> usize {
    if v >= 100 {
        out[0] = b'0' + v / 100;
        out[1] = b'0' + v / 10 % 10;
        out[2] = b'0' + v % 10;
        3
    } else if v >= 10 {
        out[0] = b'0' + v / 10;
        out[1] = b'0' + v % 10;
        2
    } else {
        out[0] = b'0' + v;
        1
    }
}

impl fmt::Display for IpAddr {
    /// Upstream `ntoa`: address, `/plen` for networks, raw text otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IpAddr::V4 { addr, plen } => {
                // by hand: addresses are printed for every Found line, ban and status
                let mut buf = [0u8; 18];
                let mut n = 0;
                for (i, o) in addr.to_be_bytes().into_iter().enumerate() {
                    if i > 0 {
                        buf[n] = b'.';
                        n += 1;
                    }
                    n += put_u8(&mut buf[n..], o);
                }
                if plen > 0 && plen < 32 {
                    buf[n] = b'/';
                    n += 1;
                    n += put_u8(&mut buf[n..], plen);
                }
                f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
            }
            IpAddr::V6 { addr, plen } => {
                write!(f, "{}", Ipv6Addr::from(addr))?;
                if plen > 0 && plen < 128 {
                    write!(f, "/{plen}")?;
                }
                Ok(())
            }
            IpAddr::Raw(ref s) => f.write_str(s),
        }
    }
}

impl From<&str> for IpAddr {
    fn from(s: &str) -> Self {
        IpAddr::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        let cases = [
            ("192.0.2.1", "192.0.2.1", true),
            ("[2001:db8::1]", "2001:db8::1", true),
            ("::ffff:192.0.2.7", "192.0.2.7", true),
            ("192.0.2.77/24", "192.0.2.0/24", false),
            ("10.1.2.3/255.255.0.0", "10.1.0.0/16", false),
            ("10.1.2.3/32", "10.1.2.3", true),
            ("2001:db8::1/64", "2001:db8::/64", false),
            ("0.0.0.0/0", "0.0.0.0", false),
            ("example.com", "example.com", false),
            ("1.2.3.4/255.0.255.0", "1.2.3.4/255.0.255.0", false),
        ];
        for (inp, out, single) in cases {
            let ip = IpAddr::parse(inp);
            assert_eq!(ip.to_string(), out, "{inp}");
            assert_eq!(ip.is_single(), single, "{inp}");
        }
    }

    #[test]
    fn v4_text_is_std_text() {
        let octets = [0u8, 1, 9, 10, 42, 99, 100, 199, 200, 255];
        for a in octets {
            for b in octets {
                let addr = u32::from_be_bytes([a, b, 255 - a, b / 2]);
                let ip = IpAddr::V4 { addr, plen: 32 };
                assert_eq!(ip.to_string(), Ipv4Addr::from(addr).to_string());
                let net = IpAddr::V4 { addr, plen: b % 33 };
                let want = match b % 33 {
                    0 | 32 => Ipv4Addr::from(addr).to_string(),
                    p => format!("{}/{p}", Ipv4Addr::from(addr)),
                };
                assert_eq!(net.to_string(), want);
            }
        }
    }

    #[test]
    fn nets_and_ptr() {
        let net = IpAddr::parse("192.0.2.0/24");
        assert!(IpAddr::parse("192.0.2.200").is_in_net(&net));
        assert!(!IpAddr::parse("192.0.3.1").is_in_net(&net));
        assert!(!IpAddr::parse("2001:db8::1").is_in_net(&net));
        assert!(IpAddr::parse("1.2.3.4").is_in_net(&IpAddr::parse("0.0.0.0/0")));
        assert!(IpAddr::parse("2001:db8::5").is_in_net(&IpAddr::parse("2001:db8::/32")));
        assert_eq!(IpAddr::parse("1.2.3.4").ptr(Some("")), "4.3.2.1.");
        assert_eq!(IpAddr::parse("1.2.3.4").ptr(None), "4.3.2.1.in-addr.arpa.");
        let p6 = IpAddr::parse("2001:db8::1").ptr(None);
        assert!(p6.starts_with("1.0.0.0.") && p6.ends_with(".8.b.d.0.1.0.0.2.ip6.arpa."));
    }
}
