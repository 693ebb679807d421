//! [`ServerTls`]: what a TLS server presents and whom it lets in.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

use super::identity::IdentityResolver;
use super::{Identity, TlsError, alpn_list, provider};

/// A server's TLS settings: its [`Identity`] and, for mTLS, the CA a client
/// certificate must be signed by.
///
/// Without a client CA any client may connect (server-authenticated TLS).
/// With [`client_ca_pem`](Self::client_ca_pem) or
/// [`client_ca_pem_file`](Self::client_ca_pem_file), a client that presents
/// no certificate, or one not signed by such a CA, fails the handshake.
/// CA PEM is parsed when the configuration is built
/// ([`acceptor`](Self::acceptor), i.e. when the server starts).
#[derive(Debug, Clone)]
#[must_use]
pub struct ServerTls {
    identity: Identity,
    client_cas: Vec<CaSource>,
}

/// Where trusted CA certificates come from.
#[derive(Debug, Clone)]
pub(super) enum CaSource {
    Pem(Vec<u8>),
    File(PathBuf),
}

impl ServerTls {
    /// Server-authenticated TLS presenting `identity`; no client certificate
    /// asked for.
    pub fn new(identity: Identity) -> Self {
        Self {
            identity,
            client_cas: Vec::new(),
        }
    }

    /// Requires a client certificate signed by a CA in `pem` (one or more
    /// PEM certificates). May be called more than once; each adds CAs.
    pub fn client_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.client_cas.push(CaSource::Pem(pem.as_ref().to_vec()));
        self
    }

    /// Requires a client certificate signed by a CA in the PEM file at
    /// `path` (read when the configuration is built).
    pub fn client_ca_pem_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.client_cas.push(CaSource::File(path.into()));
        self
    }

    /// The identity this server presents.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Whether clients must present a certificate (mTLS).
    pub fn requires_client_cert(&self) -> bool {
        !self.client_cas.is_empty()
    }

    /// The rustls configuration offering the `alpn` protocols (in order of
    /// preference), e.g. `[ALPN_H2]` for gRPC, `[ALPN_H2, ALPN_HTTP1]` for
    /// HTTP. The certificate is asked of the [`Identity`] at each handshake.
    pub fn server_config(&self, alpn: &[&[u8]]) -> Result<Arc<ServerConfig>, TlsError> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|err| {
                TlsError::new("the ring provider supports no TLS version").with_source(err)
            })?;
        let builder = if self.client_cas.is_empty() {
            builder.with_no_client_auth()
        } else {
            let roots = root_store(&self.client_cas)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|err| TlsError::new("the client CA is not usable").with_source(err))?;
            builder.with_client_cert_verifier(verifier)
        };
        let mut config =
            builder.with_cert_resolver(Arc::new(IdentityResolver(self.identity.clone())));
        config.alpn_protocols = alpn_list(alpn);
        Ok(Arc::new(config))
    }

    /// A `tokio_rustls::TlsAcceptor` over [`server_config`](Self::server_config).
    pub fn acceptor(&self, alpn: &[&[u8]]) -> Result<TlsAcceptor, TlsError> {
        self.server_config(alpn).map(TlsAcceptor::from)
    }
}

/// The CA certificates of `sources` as a root store; each source must hold
/// at least one.
pub(super) fn root_store(sources: &[CaSource]) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for source in sources {
        let (pem, origin) = match source {
            CaSource::Pem(pem) => (pem.clone(), "<pem>".to_owned()),
            CaSource::File(path) => (
                std::fs::read(path).map_err(|err| {
                    TlsError::new(format!("cannot read the CA file {}", path.display()))
                        .with_source(err)
                })?,
                path.display().to_string(),
            ),
        };
        for cert in super::identity::certificates(&pem, &origin)? {
            roots.add(cert).map_err(|err| {
                TlsError::new(format!("a CA certificate in {origin} is not usable"))
                    .with_source(err)
            })?;
        }
    }
    Ok(roots)
}
