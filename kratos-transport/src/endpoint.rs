//! Endpoints: the one a server advertises (what it bound, made reachable),
//! and reading the ones an instance registered into the node a client dials.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use kratos_registry::ServiceInstance;
use kratos_selector::Node;

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

/// The scheme of a server speaking `scheme`, over TLS when `secure`:
/// `http`/`https`, `grpc`/`grpcs` (Go Kratos's `endpoint.Scheme`).
pub(crate) fn scheme(scheme: &'static str, secure: bool) -> &'static str {
    match (scheme, secure) {
        ("http", true) => "https",
        ("grpc", true) => "grpcs",
        (other, _) => other,
    }
}

/// One endpoint URL read for a client of `scheme` (`grpc` or `http`): its
/// `host:port` and whether it is dialled over TLS.
///
/// `grpc://h:p` is plaintext; `grpcs://h:p` TLS, and so is Go Kratos's older
/// form `grpc://h:p?isSecure=true` (the value parsed as Go's
/// `strconv.ParseBool`). The same for `http`/`https`. Another scheme is
/// `None`.
pub(crate) fn parse(scheme: &str, url: &str) -> Option<(String, bool)> {
    let (s, rest) = url.split_once("://")?;
    let (authority, query) = match rest.split_once('?') {
        Some((authority, query)) => (authority, Some(query)),
        None => (rest, None),
    };
    let authority = authority.trim_end_matches('/');
    let secure = if s == scheme {
        query.is_some_and(is_secure_query)
    } else if s.strip_prefix(scheme) == Some("s") {
        true
    } else {
        return None;
    };
    Some((authority.to_owned(), secure))
}

/// Whether a query says `isSecure=true` (Go's `strconv.ParseBool` spellings).
fn is_secure_query(query: &str) -> bool {
    query.split('&').any(|pair| {
        matches!(
            pair.split_once('='),
            Some(("isSecure", "1" | "t" | "T" | "true" | "TRUE" | "True"))
        )
    })
}

/// The scheme of a node: `grpcs`/`https` when it is dialled over TLS.
pub(crate) fn node_scheme(scheme: &'static str, secure: bool) -> &'static str {
    self::scheme(scheme, secure)
}

/// Whether a node (of scheme `grpc`, `grpcs`, `http`, `https`) is dialled
/// over TLS.
pub(crate) fn is_secure(node: &Node) -> bool {
    node.scheme().ends_with('s')
}

/// The node a `scheme` client dials for `instance`: its first endpoint of
/// that scheme whose security is `prefer_secure`, else its first endpoint of
/// that scheme either way. Without the `tls` feature TLS endpoints are
/// skipped (they could not be dialled).
pub(crate) fn node(
    scheme: &'static str,
    instance: &ServiceInstance,
    prefer_secure: bool,
) -> Option<Node> {
    let candidates: Vec<(String, bool)> = instance
        .endpoints
        .iter()
        .filter_map(|url| parse(scheme, url))
        .filter(|(_, secure)| cfg!(feature = "tls") || !secure)
        .collect();
    let (address, secure) = candidates
        .iter()
        .find(|(_, secure)| *secure == prefer_secure)
        .or_else(|| candidates.first())?
        .clone();
    let scheme = node_scheme(scheme, secure);
    // Node reads its fields from an instance: hand it one with just the
    // chosen endpoint, spelled `scheme://address`.
    let mut one = instance.clone();
    one.endpoints = vec![format!("{scheme}://{address}")];
    Node::from_instance(scheme, &one)
}

/// The nodes of every instance that has an endpoint for a `scheme` client.
pub(crate) fn nodes(
    scheme: &'static str,
    instances: &[ServiceInstance],
    prefer_secure: bool,
) -> Vec<Node> {
    instances
        .iter()
        .filter_map(|i| node(scheme, i, prefer_secure))
        .collect()
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
    fn endpoints_say_whether_they_are_secure() {
        assert_eq!(parse("grpc", "grpc://h:1"), Some(("h:1".into(), false)));
        assert_eq!(parse("grpc", "grpcs://h:1"), Some(("h:1".into(), true)));
        assert_eq!(
            parse("grpc", "grpc://h:1?isSecure=true"),
            Some(("h:1".into(), true))
        );
        assert_eq!(
            parse("grpc", "grpc://h:1/?a=b&isSecure=1"),
            Some(("h:1".into(), true))
        );
        assert_eq!(
            parse("grpc", "grpc://h:1?isSecure=false"),
            Some(("h:1".into(), false))
        );
        assert_eq!(parse("http", "https://h:1"), Some(("h:1".into(), true)));
        assert_eq!(parse("grpc", "http://h:1"), None);
        assert_eq!(parse("grpc", "grpcx://h:1"), None);
        assert_eq!(parse("http", "h:1"), None);
    }

    #[test]
    fn a_node_prefers_the_clients_security() {
        let both = ServiceInstance::new("1", "svc")
            .with_metadata("weight", "7")
            .with_endpoint("grpc://h:1")
            .with_endpoint("grpcs://h:2");
        let plain = node("grpc", &both, false).unwrap();
        assert_eq!(
            (plain.scheme(), plain.address(), plain.weight()),
            ("grpc", "h:1", 7)
        );
        assert!(!is_secure(&plain));
        let only_secure =
            ServiceInstance::new("2", "svc").with_endpoint("grpc://h:3?isSecure=true");
        let picked = node("grpc", &only_secure, false);
        if cfg!(feature = "tls") {
            let picked = picked.unwrap();
            assert_eq!((picked.scheme(), picked.address()), ("grpcs", "h:3"));
            assert!(is_secure(&picked));
            let secure = node("grpc", &both, true).unwrap();
            assert_eq!((secure.scheme(), secure.address()), ("grpcs", "h:2"));
        } else {
            assert!(picked.is_none());
        }
        assert!(node("http", &both, false).is_none());
    }

    #[test]
    fn unspecified_address_is_replaced() {
        let bound: SocketAddr = "0.0.0.0:8000".parse().unwrap();
        let url = advertised("http", bound);
        assert!(!url.contains("0.0.0.0"), "{url}");
        assert!(url.ends_with(":8000"), "{url}");
    }
}
