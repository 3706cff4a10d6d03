//! fail2ban's `IPAddr` normalisation of a failure id: what `str(IPAddr(text,
//! cidr))` gives (valid addresses in canonical form, `/plen` for subnets,
//! IPv4-mapped IPv6 as IPv4, anything else raw).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The `cidr` argument of `IPAddr(text, cidr)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cidr {
    /// `CIDR_RAW`: keep the text.
    Raw,
    /// `CIDR_UNSPEC`: any family, `[v6]` brackets and `/mask` understood.
    Unspec,
    /// `FAM_IPv4`: IPv4 only.
    Fam4,
    /// `FAM_IPv6`: IPv6 only.
    Fam6,
    /// An explicit prefix length.
    Plen(u32),
}

/// A normalised id: its text and, when valid, the address and prefix length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    /// `str(IPAddr)`.
    pub text: String,
    /// The address if the text is a valid IP.
    pub ip: Option<IpAddr>,
    /// Prefix length (32/128 for a single address).
    pub plen: u32,
}

impl Addr {
    fn raw(s: &str) -> Addr {
        Addr {
            text: s.to_string(),
            ip: None,
            plen: 0,
        }
    }
}

fn mask4(a: Ipv4Addr, plen: u32) -> Ipv4Addr {
    let m = if plen == 0 {
        0
    } else {
        u32::MAX << (32 - plen.min(32))
    };
    Ipv4Addr::from(u32::from(a) & m)
}

fn mask6(a: Ipv6Addr, plen: u32) -> Ipv6Addr {
    let m = if plen == 0 {
        0
    } else {
        u128::MAX << (128 - plen.min(128))
    };
    Ipv6Addr::from(u128::from(a) & m)
}

fn text4(a: Ipv4Addr, plen: u32) -> String {
    if plen != 0 && plen < 32 {
        format!("{a}/{plen}")
    } else {
        a.to_string()
    }
}

fn text6(a: Ipv6Addr, plen: u32) -> String {
    if plen != 0 && plen < 128 {
        format!("{a}/{plen}")
    } else {
        a.to_string()
    }
}

/// Python's `socket.inet_pton(AF_INET, s)` (strict dotted quad).
fn parse4(s: &str) -> Option<Ipv4Addr> {
    s.parse().ok()
}

fn parse6(s: &str) -> Option<Ipv6Addr> {
    s.parse().ok()
}

/// `str(IPAddr(text, cidr))`.
pub fn normalize(text: &str, cidr: Cidr) -> Addr {
    let (s, plen_req): (String, Option<u32>) = match cidr {
        Cidr::Raw => return Addr::raw(text),
        Cidr::Unspec => {
            let mut s = text;
            if s.len() > 2 && s.starts_with('[') && s.ends_with(']') {
                s = &s[1..s.len() - 1];
            }
            match s.split_once('/') {
                None => (s.to_string(), None),
                Some((a, m)) => {
                    let plen = if m.contains('.') || m.contains(':') {
                        match mask_to_plen(m) {
                            Some(p) => p,
                            None => return Addr::raw(text),
                        }
                    } else {
                        match m.parse::<u32>() {
                            Ok(p) => p,
                            Err(_) => return Addr::raw(text),
                        }
                    };
                    (a.to_string(), Some(plen))
                }
            }
        }
        Cidr::Plen(p) => (text.to_string(), Some(p)),
        Cidr::Fam4 | Cidr::Fam6 => (text.to_string(), None),
    };
    let try4 = cidr != Cidr::Fam6;
    let try6 = cidr != Cidr::Fam4;
    if try4 {
        if let Some(a) = parse4(&s) {
            let (a, plen) = match plen_req {
                Some(p) => (mask4(a, p), p),
                None => (a, 32),
            };
            // a parsed dotted quad has no leading zeros: it prints as it reads
            let text = if plen_req.is_none() {
                s
            } else {
                text4(a, plen)
            };
            return Addr {
                text,
                ip: Some(IpAddr::V4(a)),
                plen,
            };
        }
    }
    if try6 {
        if let Some(a) = parse6(&s) {
            if let Some(p) = plen_req {
                let a = mask6(a, p);
                return Addr {
                    text: text6(a, p),
                    ip: Some(IpAddr::V6(a)),
                    plen: p,
                };
            }
            if let Some(v4) = a.to_ipv4_mapped() {
                return Addr {
                    text: v4.to_string(),
                    ip: Some(IpAddr::V4(v4)),
                    plen: 32,
                };
            }
            return Addr {
                text: text6(a, 128),
                ip: Some(IpAddr::V6(a)),
                plen: 128,
            };
        }
    }
    Addr::raw(text)
}

fn mask_to_plen(m: &str) -> Option<u32> {
    let v: u128 = if let Ok(a) = m.parse::<Ipv4Addr>() {
        u128::from(u32::from(a)) << 96
    } else {
        u128::from(m.parse::<Ipv6Addr>().ok()?)
    };
    let plen = v.leading_ones();
    (v << plen == 0 || plen == 128).then_some(plen)
}

/// `IPAddr.searchIP(text)`: the text if it is an IPv4/IPv6 address (IPv6 may be
/// bracketed).
pub fn search_ip(text: &str) -> Option<IpAddr> {
    if let Some(a) = parse4(text) {
        return Some(IpAddr::V4(a));
    }
    let t = text.strip_prefix('[').unwrap_or(text);
    let t = t.strip_suffix(']').unwrap_or(t);
    parse6(t).map(|a| match a.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(a),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        let cases: &[(&str, Cidr, &str)] = &[
            ("192.0.2.1", Cidr::Fam4, "192.0.2.1"),
            ("999.0.2.1", Cidr::Fam4, "999.0.2.1"),
            ("192.0.2.01", Cidr::Fam4, "192.0.2.01"),
            ("10.0.0.1", Cidr::Unspec, "10.0.0.1"),
            ("2001:DB8::1", Cidr::Fam6, "2001:db8::1"),
            ("::ffff:192.0.2.1", Cidr::Fam6, "192.0.2.1"),
            ("192.0.2.7", Cidr::Plen(24), "192.0.2.0/24"),
            ("[2001:db8::1]", Cidr::Unspec, "2001:db8::1"),
            ("10.0.0.0/255.0.0.0", Cidr::Unspec, "10.0.0.0/8"),
            ("user@x", Cidr::Unspec, "user@x"),
            ("192.0.2.1", Cidr::Raw, "192.0.2.1"),
        ];
        for (t, c, want) in cases {
            assert_eq!(normalize(t, *c).text, *want, "{t} {c:?}");
        }
    }
}
