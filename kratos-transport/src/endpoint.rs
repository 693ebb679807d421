//! The endpoint a server advertises: what it bound, made reachable.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The URL clients use to reach a server bound to `bound`: `scheme://ip:port`.
///
/// An unspecified bind address (`0.0.0.0` or `::`) is not reachable, so it is
/// replaced by the first non-loopback IPv4 address of this host, or by
/// `127.0.0.1` when there is none. Configure an explicit advertised endpoint on
/// the server when that guess is wrong (NAT, containers).
pub(crate) fn advertised(scheme: &str, bound: SocketAddr) -> String {
    let ip = if bound.ip().is_unspecified() {
        routable_ip()
    } else {
        bound.ip()
    };
    format!("{scheme}://{}", SocketAddr::new(ip, bound.port()))
}

fn routable_ip() -> IpAddr {
    if_addrs::get_if_addrs()
        .ok()
        .into_iter()
        .flatten()
        .find(|iface| !iface.is_loopback() && iface.ip().is_ipv4())
        .map(|iface| iface.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concrete_address_is_kept() {
        let bound: SocketAddr = "127.0.0.1:8000".parse().unwrap();
        assert_eq!(advertised("http", bound), "http://127.0.0.1:8000");
        let bound: SocketAddr = "[::1]:9000".parse().unwrap();
        assert_eq!(advertised("grpc", bound), "grpc://[::1]:9000");
    }

    #[test]
    fn unspecified_address_is_replaced() {
        let bound: SocketAddr = "0.0.0.0:8000".parse().unwrap();
        let url = advertised("http", bound);
        assert!(!url.contains("0.0.0.0"), "{url}");
        assert!(url.ends_with(":8000"), "{url}");
    }
}
