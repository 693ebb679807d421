//! TLS with rustls (the `ring` provider; no OpenSSL, no aws-lc-rs): the one
//! place a kratos-rs server or client gets its TLS configuration from.
//!
//! - [`Identity`]: a certificate chain and its private key, from PEM bytes
//!   or from PEM files. The file form is **re-read when the files change**:
//!   each new handshake compares the files' modified time and length with
//!   the ones loaded, and reloads when they differ. A reload that fails
//!   (unreadable, not PEM, key not matching the certificate) logs a warning
//!   and keeps the previous certificate. Open connections are untouched.
//! - [`ServerTls`]: a server's identity and, optionally, the CA a client
//!   certificate must be signed by (mTLS). [`ServerTls::acceptor`] gives the
//!   `tokio_rustls::TlsAcceptor` for the ALPN protocols the server speaks
//!   ([`ALPN_H2`] only for gRPC, [`ALPN_H2`] and [`ALPN_HTTP1`] for HTTP).
//! - [`ClientTls`]: the roots a client trusts (the system's by default, or
//!   given CAs), an optional client certificate, an optional server-name
//!   override. [`ClientTls::client_config`] gives the `rustls::ClientConfig`.
//!   `http::client` uses it for every `https://` request.
//!
//! ```
//! use kratos_net::tls::{ClientTls, Identity, ServerTls, ALPN_H2, ALPN_HTTP1};
//!
//! # fn demo(cert_pem: &str, key_pem: &str, ca_pem: &str) -> Result<(), kratos_net::tls::TlsError> {
//! let server = ServerTls::new(Identity::from_pem(cert_pem, key_pem)?)
//!     .client_ca_pem(ca_pem); // only clients with a certificate from this CA
//! let acceptor = server.acceptor(&[ALPN_H2, ALPN_HTTP1])?;
//! let client = ClientTls::new().ca_pem(ca_pem).server_name("localhost");
//! let config = client.client_config(&[ALPN_H2])?;
//! # let _ = (acceptor, config);
//! # Ok(())
//! # }
//! ```

mod client;
mod error;
mod identity;
mod server;

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;

pub use client::ClientTls;
pub use error::TlsError;
pub use identity::Identity;
pub use server::ServerTls;

/// The ALPN protocol id of HTTP/2 (what gRPC speaks).
pub const ALPN_H2: &[u8] = b"h2";

/// The ALPN protocol id of HTTP/1.1.
pub const ALPN_HTTP1: &[u8] = b"http/1.1";

/// The crypto provider every kratos-rs TLS configuration is built with:
/// rustls's `ring` provider, named explicitly so that no process-wide default
/// has to be installed (and a second provider in the tree changes nothing).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The ALPN list of a rustls configuration.
fn alpn_list(alpn: &[&[u8]]) -> Vec<Vec<u8>> {
    alpn.iter().map(|p| p.to_vec()).collect()
}
