//! Pure parsing of what the raw sockets read: IPv4 packets (header included) and bare
//! TCP/UDP headers (IPv6 raw sockets deliver the transport header only), plus 1.2's
//! naming of TCP flag combinations.

use std::net::Ipv4Addr;

/// TCP flag bits.
pub mod flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
}

/// The transport header fields portsentry looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transport {
    /// Destination port.
    pub dport: u16,
    /// TCP flags (0 for UDP).
    pub flags: u8,
}

/// A parsed IPv4 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V4 {
    /// A usable packet.
    Packet {
        /// Source address.
        src: Ipv4Addr,
        /// The header carries options (IHL > 5).
        ip_options: bool,
        /// The transport header.
        transport: Transport,
    },
    /// IHL below 5 (1.2 logs it).
    BadIhl {
        /// The IHL field.
        ihl: u8,
        /// Source address.
        src: Ipv4Addr,
    },
    /// Too short, a later fragment, or another protocol: dropped silently.
    Skip,
}

/// Reads the TCP (`tcp`) or UDP header at the start of `b`.
pub fn transport(b: &[u8], tcp: bool) -> Option<Transport> {
    let need = if tcp { 14 } else { 4 };
    if b.len() < need {
        return None;
    }
    let dport = u16::from_be_bytes([b[2], b[3]]);
    let flags = if tcp { b[13] & 0x3f } else { 0 };
    Some(Transport { dport, flags })
}

/// Parses an IPv4 packet as read from a raw socket for protocol `tcp`/UDP.
pub fn parse_v4(b: &[u8], tcp: bool) -> V4 {
    if b.len() < 20 || b[0] >> 4 != 4 {
        return V4::Skip;
    }
    let src = Ipv4Addr::new(b[12], b[13], b[14], b[15]);
    let ihl = b[0] & 0x0f;
    if ihl < 5 {
        return V4::BadIhl { ihl, src };
    }
    let proto = b[9];
    if proto != if tcp { 6 } else { 17 } {
        return V4::Skip;
    }
    // a non-first fragment carries no transport header
    let frag_off = u16::from_be_bytes([b[6], b[7]]) & 0x1fff;
    if frag_off != 0 {
        return V4::Skip;
    }
    match b.get(ihl as usize * 4..).and_then(|t| transport(t, tcp)) {
        Some(transport) => V4::Packet {
            src,
            ip_options: ihl > 5,
            transport,
        },
        None => V4::Skip,
    }
}

/// True for segments 1.2 never reports: ACK or RST set (established traffic, replies).
pub fn tcp_is_reply(flags: u8) -> bool {
    flags & (flags::ACK | flags::RST) != 0
}

/// 1.2's ReportPacketType (note the leading space of the NULL scan).
pub fn tcp_scan_type(f: u8) -> String {
    use flags::*;
    let has = |b: u8| f & b != 0;
    if f & (SYN | FIN | ACK | PSH | RST | URG) == 0 {
        " TCP NULL scan".into()
    } else if has(FIN) && has(URG) && has(PSH) {
        "TCP XMAS scan".into()
    } else if f & (SYN | FIN | ACK | PSH | RST | URG) == FIN {
        "TCP FIN scan".into()
    } else if f & (SYN | FIN | ACK | PSH | RST | URG) == SYN {
        "TCP SYN/Normal scan".into()
    } else {
        format!(
            "Unknown Type: TCP Packet Flags: SYN: {} FIN: {} ACK: {} PSH: {} URG: {} RST: {}",
            has(SYN) as u8,
            has(FIN) as u8,
            has(ACK) as u8,
            has(PSH) as u8,
            has(URG) as u8,
            has(RST) as u8
        )
    }
}

#[cfg(test)]
mod tests {
    use super::flags::*;
    use super::*;

    #[test]
    fn scan_type_names() {
        let cases: &[(u8, &str)] = &[
            (0, " TCP NULL scan"),
            (FIN | URG | PSH, "TCP XMAS scan"),
            (FIN, "TCP FIN scan"),
            (SYN, "TCP SYN/Normal scan"),
            (
                SYN | FIN,
                "Unknown Type: TCP Packet Flags: SYN: 1 FIN: 1 ACK: 0 PSH: 0 URG: 0 RST: 0",
            ),
            (
                SYN | URG,
                "Unknown Type: TCP Packet Flags: SYN: 1 FIN: 0 ACK: 0 PSH: 0 URG: 1 RST: 0",
            ),
        ];
        for (f, want) in cases {
            assert_eq!(tcp_scan_type(*f), *want);
        }
        assert!(tcp_is_reply(SYN | ACK) && tcp_is_reply(RST) && !tcp_is_reply(SYN | FIN));
    }

    fn v4(ihl: u8, proto: u8, frag: u16, l4: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; ihl as usize * 4];
        p[0] = 0x40 | ihl;
        p[6..8].copy_from_slice(&frag.to_be_bytes());
        p[9] = proto;
        p[12..16].copy_from_slice(&[10, 99, 0, 2]);
        p.extend_from_slice(l4);
        p
    }

    #[test]
    fn v4_parsing() {
        let mut tcp = [0u8; 20];
        tcp[2..4].copy_from_slice(&11u16.to_be_bytes());
        tcp[13] = SYN;
        let src = Ipv4Addr::new(10, 99, 0, 2);
        let t = Transport {
            dport: 11,
            flags: SYN,
        };
        assert_eq!(
            parse_v4(&v4(5, 6, 0, &tcp), true),
            V4::Packet {
                src,
                ip_options: false,
                transport: t
            }
        );
        assert_eq!(
            parse_v4(&v4(6, 6, 0, &tcp), true),
            V4::Packet {
                src,
                ip_options: true,
                transport: t
            }
        );
        assert_eq!(parse_v4(&v4(5, 6, 0, &tcp[..10]), true), V4::Skip);
        assert_eq!(parse_v4(&v4(5, 6, 8, &tcp), true), V4::Skip);
        assert_eq!(parse_v4(&v4(5, 17, 0, &tcp), true), V4::Skip);
        let mut bad = v4(5, 6, 0, &tcp);
        bad[0] = 0x43;
        assert_eq!(parse_v4(&bad, true), V4::BadIhl { ihl: 3, src });
        let udp = [0u8, 1, 0, 7, 0, 8, 0, 0];
        assert_eq!(
            parse_v4(&v4(5, 17, 0, &udp), false),
            V4::Packet {
                src,
                ip_options: false,
                transport: Transport { dport: 7, flags: 0 }
            }
        );
        assert_eq!(parse_v4(&[0u8; 7], false), V4::Skip);
    }
}
