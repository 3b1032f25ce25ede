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

/// Whether `ip` is anything but a public unicast address: loopback, RFC 1918,
/// link-local, CGNAT, unspecified, broadcast, IPv6 unique-local and
/// site-local, and IPv6 forms that embed such an IPv4 address.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        // 0.0.0.0/8: "this network"; Linux connects 0.x to localhost.
        || a == 0
        // 100.64.0.0/10: carrier-grade NAT, provider-internal.
        || (a == 100 && (b & 0xc0) == 64)
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if ip.is_loopback() || ip.is_unspecified() {
        return true;
    }
    // fc00::/7 unique-local, fe80::/10 link-local, fec0::/10 old site-local.
    if (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xffc0) == 0xfec0 {
        return true;
    }
    // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), 64:ff9b::a.b.c.d
    // (NAT64) all reach the embedded IPv4 address.
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let mapped = s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0);
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    if (mapped || nat64) && is_private_v4(embedded(s[6], s[7])) {
        return true;
    }
    // 2002::/16 (6to4) carries an IPv4 address in its next 32 bits.
    s[0] == 0x2002 && is_private_v4(embedded(s[1], s[2]))
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
        ] {
            assert!(!private(a), "{a} should be public");
        }
    }
}
