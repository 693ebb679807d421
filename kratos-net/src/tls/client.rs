//! [`ClientTls`]: whom a TLS client trusts and what it presents.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rustls::{ClientConfig, RootCertStore};

use super::identity::IdentityResolver;
use super::server::{CaSource, root_store};
use super::{Identity, TlsError, alpn_list, provider};

/// A client's TLS settings: the roots it verifies servers with, an optional
/// client certificate (mTLS), an optional server-name override.
///
/// By default the system's roots are trusted (loaded once per process with
/// `rustls-native-certs`). [`ca_pem`](Self::ca_pem) / [`ca_pem_file`](Self::ca_pem_file)
/// trust the given CAs **instead**. The server's certificate is checked
/// against the host of the URL dialled (an IP address too), or against
/// [`server_name`](Self::server_name) when set.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ClientTls {
    cas: Vec<CaSource>,
    identity: Option<Identity>,
    server_name: Option<String>,
}

impl ClientTls {
    /// Trusts the system's roots; no client certificate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts the CAs in `pem` (one or more PEM certificates) instead of the
    /// system's roots. May be called more than once; each adds CAs.
    pub fn ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.cas.push(CaSource::Pem(pem.as_ref().to_vec()));
        self
    }

    /// Trusts the CAs in the PEM file at `path` (read when the configuration
    /// is built) instead of the system's roots.
    pub fn ca_pem_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.cas.push(CaSource::File(path.into()));
        self
    }

    /// Presents `identity` when a server asks for a client certificate. A
    /// file identity is re-read when its files change, as on a server.
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Verifies servers' certificates against `name` (and sends it as SNI)
    /// instead of the host of the URL dialled: for a node registered by IP
    /// whose certificate names a host.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// The server-name override, if set.
    pub fn server_name_override(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// The rustls configuration offering the `alpn` protocols (in order of
    /// preference), e.g. `[ALPN_H2]` for gRPC.
    ///
    /// Fails when a CA file cannot be read or holds no usable certificate.
    pub fn client_config(&self, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>, TlsError> {
        let roots = if self.cas.is_empty() {
            system_roots()
        } else {
            Arc::new(root_store(&self.cas)?)
        };
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|err| {
                TlsError::new("the ring provider supports no TLS version").with_source(err)
            })?
            .with_root_certificates(roots);
        let mut config = match &self.identity {
            Some(identity) => {
                builder.with_client_cert_resolver(Arc::new(IdentityResolver(identity.clone())))
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn_list(alpn);
        Ok(Arc::new(config))
    }
}

/// The system's trusted roots, loaded once per process. Certificates that
/// fail to load are skipped with a warning; none at all is a warning too
/// (every `https://` dial without given CAs will then fail verification).
fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            for err in &found.errors {
                tracing::warn!(error = %err, "a system root certificate could not be loaded");
            }
            let mut roots = RootCertStore::empty();
            let (_added, ignored) = roots.add_parsable_certificates(found.certs);
            if ignored > 0 {
                tracing::warn!(ignored, "system root certificates rustls cannot use were skipped");
            }
            if roots.is_empty() {
                tracing::warn!("no system root certificate found: TLS servers can only be verified against given CAs");
            }
            Arc::new(roots)
        })
        .clone()
}
