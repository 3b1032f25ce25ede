//! Private-address guard: part of the fetch stage (fetch → extract →
//! normalize → store → publish).
//!
//! Sources come from configuration files that other tools write, and
//! redirects come from the network; neither may steer kuaibao at the
//! machine's own services or the local network. Names are checked where they
//! are resolved (a custom resolver, so redirects are covered too); IP
//! literals never reach a resolver, so the fetcher checks them itself.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// A host that is, or resolves only to, a non-public address.
#[derive(Debug, Clone)]
pub struct PrivateAddress {
    pub host: String,
    pub addr: IpAddr,
}

impl std::fmt::Display for PrivateAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host == self.addr.to_string() {
            write!(f, "refused private address {}", self.addr)?;
        } else {
            write!(f, "refused private address {} for {}", self.addr, self.host)?;
        }
        f.write_str(" (set poll.allow_private = true to allow)")
    }
}

impl std::error::Error for PrivateAddress {}

/// Whether `ip` is anything but a public unicast address: every range of
/// IANA's IPv4 and IPv6 special-purpose address registries that is not
/// globally reachable, documentation and benchmarking ranges, multicast and
/// reserved space, and IPv6 forms that embed (map, translate, tunnel) a
/// non-public IPv4 address.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

/// IPv4 special-purpose ranges, as (network, prefix length).
const V4_SPECIAL: &[([u8; 4], u8)] = &[
    ([0, 0, 0, 0], 8),       // "this network"; Linux connects 0.x to localhost
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // shared address space (carrier-grade NAT)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local (cloud metadata services)
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
    ([192, 88, 99, 0], 24),  // deprecated 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, and 255.255.255.255 broadcast
];

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let addr = u32::from(ip);
    V4_SPECIAL.iter().any(|&(net, len)| {
        let mask = u32::MAX << (32 - u32::from(len));
        addr & mask == u32::from(Ipv4Addr::from(net)) & mask
    })
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // ::/96 holds ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d;
    // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated) carry an
    // IPv4 address too, as does NAT64's 64:ff9b::/96. Each is as public as
    // the IPv4 address it reaches.
    let compatible = s[..6] == [0; 6];
    let mapped = s[..5] == [0; 5] && s[5] == 0xffff;
    let translated = s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0;
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    if compatible && (s[6] == 0 || ip.is_loopback()) {
        // ::, ::1 and ::0.0.x.y
        return true;
    }
    if compatible || mapped || translated || nat64 {
        return is_private_v4(embedded(s[6], s[7]));
    }
    // 2002::/16 (6to4) carries an IPv4 address in its next 32 bits.
    if s[0] == 0x2002 {
        return is_private_v4(embedded(s[1], s[2]));
    }
    // Outside 2000::/3 nothing is global unicast: multicast ff00::/8,
    // unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10,
    // discard-only 100::/64, local-use NAT64 64:ff9b:1::/48, and the rest
    // is unassigned.
    if s[0] & 0xe000 != 0x2000 {
        return true;
    }
    // Inside it: IETF protocol assignments 2001::/23 (Teredo, which hides
    // an IPv4 address, among them), documentation 2001:db8::/32 and
    // 3fff::/20, segment routing 5f00::/16 is outside 2000::/3 already.
    let ietf_or_documentation = s[0] == 0x2001 && (s[1] < 0x0200 || s[1] == 0x0db8);
    ietf_or_documentation || (s[0] & 0xfff0) == 0x3ff0
}

/// Refuses a URL whose host is a private IP literal.
pub fn check_literal(url: &Url) -> Result<(), PrivateAddress> {
    let ip = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    if is_private(ip) {
        Err(PrivateAddress {
            host: ip.to_string(),
            addr: ip,
        })
    } else {
        Ok(())
    }
}

/// The system resolver, minus private answers. A name with any public
/// address keeps only those (a mixed answer is how DNS rebinding sneaks in);
/// a name with none is refused.
pub struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (public, private): (Vec<_>, Vec<_>) =
                found.into_iter().partition(|a| !is_private(a.ip()));
            if public.is_empty() {
                if let Some(first) = private.first() {
                    return Err(Box::new(PrivateAddress {
                        host,
                        addr: first.ip(),
                    })
                        as Box<dyn std::error::Error + Send + Sync>);
                }
                return Err(format!("{host} has no addresses").into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private(s: &str) -> bool {
        is_private(s.parse().expect("test address"))
    }

    #[test]
    fn non_public_ranges_are_private() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "198.18.0.1",
            "198.19.255.254",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::ffff:0:127.0.0.1",
            "::127.0.0.1",
            "::ffff:198.18.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
            "3fff::1",
            "ff02::1",
            "ff05::1:3",
            "fec0::1",
        ] {
            assert!(private(a), "{a} should be private");
        }
    }

    #[test]
    fn obfuscated_ip_literals_are_caught() {
        for u in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[fd00::1]:8080/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:0:127.0.0.1]/",
            "http://198.18.0.1/",
            "http://[64:ff9b::127.0.0.1]/",
        ] {
            let url = Url::parse(u).expect("url");
            assert!(check_literal(&url).is_err(), "{u} should be refused");
        }
        let url = Url::parse("http://www.mohrss.gov.cn/").expect("url");
        assert!(check_literal(&url).is_ok());
    }

    #[test]
    fn public_addresses_pass() {
        for a in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "202.108.22.5",
            "2400:3200::1",
            "::ffff:8.8.8.8",
            "198.20.0.1",
            "223.5.5.5",
            "2001:4860:4860::8888",
            "240e:e9:6002::1",
            "64:ff9b::808:808",
        ] {
            assert!(!private(a), "{a} should be public");
        }
    }
}
