//! TLS to etcd (feature `etcd-tls`): this crate's own options, turned into
//! etcd-client's when the registry connects.

use std::path::Path;

use etcd_client::{Certificate, Identity, TlsOptions};

use crate::RegistryError;

/// How to reach etcd over TLS: the CA that signed etcd's certificate, and
/// a client certificate when etcd runs with `--client-cert-auth`.
///
/// No system roots are loaded (the `etcd-tls` feature enables rustls with
/// ring only), so give the CA.
#[derive(Clone, Default)]
#[must_use]
pub struct EtcdTls {
    ca_pem: Option<Vec<u8>>,
    identity: Option<(Vec<u8>, Vec<u8>)>,
    server_name: Option<String>,
}

impl std::fmt::Debug for EtcdTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdTls")
            .field("ca", &self.ca_pem.is_some())
            .field("client_certificate", &self.identity.is_some())
            .field("server_name", &self.server_name)
            .finish()
    }
}

impl EtcdTls {
    /// TLS with no CA yet: every server is refused until one is given.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts the CA certificate(s) in `pem`.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Trusts the CA certificate(s) in the PEM file at `path`.
    pub fn ca_pem_file(self, path: impl AsRef<Path>) -> Result<Self, RegistryError> {
        Ok(self.ca_pem(read(path.as_ref())?))
    }

    /// Presents this client certificate chain and private key (PEM).
    pub fn identity_pem(mut self, cert: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        self.identity = Some((cert.into(), key.into()));
        self
    }

    /// Presents the client certificate and key in these PEM files.
    pub fn identity_pem_files(
        self,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, RegistryError> {
        Ok(self.identity_pem(read(cert.as_ref())?, read(key.as_ref())?))
    }

    /// The name etcd's certificate must carry, when it is not the
    /// endpoint's host.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    pub(super) fn options(&self) -> TlsOptions {
        let mut options = TlsOptions::new();
        if let Some(pem) = &self.ca_pem {
            options = options.ca_certificate(Certificate::from_pem(pem));
        }
        if let Some((cert, key)) = &self.identity {
            options = options.identity(Identity::from_pem(cert, key));
        }
        if let Some(name) = &self.server_name {
            options = options.domain_name(name.clone());
        }
        options
    }
}

fn read(path: &Path) -> Result<Vec<u8>, RegistryError> {
    std::fs::read(path)
        .map_err(|e| RegistryError::other(format!("read etcd TLS file {}: {e}", path.display())))
}
