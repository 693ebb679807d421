//! [`Identity`]: a certificate chain and its key, re-read from its files
//! when they change.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::{TlsError, provider};

/// A certificate chain (leaf first) and its private key: what a server
/// presents, or a client presents for mTLS.
///
/// [`from_pem`](Self::from_pem) takes PEM bytes. [`from_pem_files`](Self::from_pem_files)
/// reads two files and **re-reads them when they change**: at each new
/// handshake the files' modified time and length are compared with the ones
/// loaded; when either differs, both files are read again. A reload that
/// fails (a file missing or half written, not PEM, a key that does not match
/// the certificate) logs a warning and keeps serving the previous
/// certificate; the next change to either file is tried again. Connections
/// already open keep the certificate they were made with.
///
/// Cheap to clone: clones share the loaded certificate.
#[derive(Clone)]
pub struct Identity {
    inner: Arc<Inner>,
}

enum Inner {
    Fixed(Arc<CertifiedKey>),
    Files(Files),
}

/// The file form: the paths, what was loaded from them and when.
struct Files {
    cert: PathBuf,
    key: PathBuf,
    loaded: ArcSwap<Loaded>,
    /// Held by the one handshake that reloads; the others use what is loaded.
    reloading: Mutex<()>,
}

struct Loaded {
    key: Arc<CertifiedKey>,
    /// The certificate's and the key's stamps when they were last read
    /// (`None`: the file was missing).
    stamps: [Option<Stamp>; 2],
}

/// What tells a file changed: its modified time and its length, and on
/// Unix its inode (a file renamed into place is a new inode even when it was
/// written within the same clock tick as the old one and is as long).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Self> {
        std::fs::metadata(path)
            .ok()
            .map(|meta| Self::from_metadata(&meta))
    }

    fn from_metadata(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        }
    }
}

impl Identity {
    /// An identity from a PEM certificate chain (leaf first) and a PEM
    /// private key (PKCS#8, PKCS#1 or SEC1).
    ///
    /// Fails when the chain has no certificate, the key is missing or of an
    /// unsupported kind, or does not match the leaf certificate.
    pub fn from_pem(
        cert_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Result<Self, TlsError> {
        let key = parse(cert_pem.as_ref(), "<pem>", key_pem.as_ref(), "<pem>")?;
        Ok(Self {
            inner: Arc::new(Inner::Fixed(Arc::new(key))),
        })
    }

    /// An identity read from a PEM certificate-chain file and a PEM key
    /// file, and read again whenever either file changes (see the type's
    /// docs).
    ///
    /// Replace the files by writing new ones and renaming them into place
    /// (the key first, then the certificate), so a handshake never reads
    /// half a file; a mismatch seen between the two renames is kept out by
    /// the key check and retried at the next change.
    ///
    /// Fails, naming the file, when a file cannot be read or parsed now.
    pub fn from_pem_files(
        cert_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let cert = cert_path.as_ref().to_owned();
        let key = key_path.as_ref().to_owned();
        let loaded = load(&cert, &key)?;
        Ok(Self {
            inner: Arc::new(Inner::Files(Files {
                cert,
                key,
                loaded: ArcSwap::from_pointee(loaded),
                reloading: Mutex::new(()),
            })),
        })
    }

    /// The certificate chain and key for a new handshake: for the file
    /// form, reloaded first if the files changed.
    pub(crate) fn current(&self) -> Arc<CertifiedKey> {
        match &*self.inner {
            Inner::Fixed(key) => key.clone(),
            Inner::Files(files) => files.current(),
        }
    }

    /// The DER certificate chain presented now (leaf first), e.g. to log
    /// what is served.
    pub fn certificate_chain(&self) -> Vec<CertificateDer<'static>> {
        self.current().cert.clone()
    }
}

impl Files {
    fn current(&self) -> Arc<CertifiedKey> {
        let loaded = self.loaded.load();
        let stamps = [Stamp::of(&self.cert), Stamp::of(&self.key)];
        if stamps == loaded.stamps {
            return loaded.key.clone();
        }
        // Changed (or gone). One handshake reloads; the others carry on
        // with the current certificate meanwhile.
        let Ok(_guard) = self.reloading.try_lock() else {
            return loaded.key.clone();
        };
        // Another handshake may have reloaded since our load().
        let latest = self.loaded.load();
        if !Arc::ptr_eq(&latest, &loaded) {
            return latest.key.clone();
        }
        match load(&self.cert, &self.key) {
            Ok(fresh) => {
                tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded");
                let key = fresh.key.clone();
                self.loaded.store(Arc::new(fresh));
                key
            }
            Err(err) => {
                tracing::warn!(
                    cert = %self.cert.display(),
                    key = %self.key.display(),
                    error = %err,
                    "TLS certificate changed but cannot be reloaded; keeping the previous one"
                );
                // Remember what was seen, so the next change is tried again
                // but this one is not re-read at every handshake.
                self.loaded.store(Arc::new(Loaded {
                    key: loaded.key.clone(),
                    stamps,
                }));
                loaded.key.clone()
            }
        }
    }
}

/// Reads and parses both files, stamping them first (a write after the
/// stamp shows as a change at the next handshake).
fn load(cert: &Path, key: &Path) -> Result<Loaded, TlsError> {
    fn missing(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
        move |err| TlsError::new(format!("cannot read {}", path.display())).with_source(err)
    }
    let stamp = |path: &Path| {
        std::fs::metadata(path)
            .map_err(missing(path))
            .map(|m| Stamp::from_metadata(&m))
    };
    let stamps = [Some(stamp(cert)?), Some(stamp(key)?)];
    let cert_pem = std::fs::read(cert).map_err(missing(cert))?;
    let key_pem = std::fs::read(key).map_err(missing(key))?;
    let certified = parse(
        &cert_pem,
        &cert.display().to_string(),
        &key_pem,
        &key.display().to_string(),
    )?;
    Ok(Loaded {
        key: Arc::new(certified),
        stamps,
    })
}

/// Parses a PEM chain and key into a checked [`CertifiedKey`].
fn parse(
    cert_pem: &[u8],
    cert_origin: &str,
    key_pem: &[u8],
    key_origin: &str,
) -> Result<CertifiedKey, TlsError> {
    let chain = certificates(cert_pem, cert_origin)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|err| TlsError::new(format!("no private key in {key_origin}")).with_source(err))?;
    CertifiedKey::from_der(chain, key, &provider()).map_err(|err| {
        TlsError::new(format!(
            "the key in {key_origin} is not usable with the certificate in {cert_origin}"
        ))
        .with_source(err)
    })
}

/// Every certificate of a PEM bundle; at least one.
pub(super) fn certificates(
    pem: &[u8],
    origin: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| {
            TlsError::new(format!("invalid PEM certificate in {origin}")).with_source(err)
        })?;
    if chain.is_empty() {
        return Err(TlsError::new(format!("no certificate in {origin}")));
    }
    Ok(chain)
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            Inner::Fixed(_) => f.debug_struct("Identity").field("source", &"pem").finish(),
            Inner::Files(files) => f
                .debug_struct("Identity")
                .field("cert", &files.cert)
                .field("key", &files.key)
                .finish(),
        }
    }
}

/// The server and client certificate resolver over an [`Identity`]: asks it
/// for the current certificate at each handshake.
#[derive(Debug)]
pub(super) struct IdentityResolver(pub(super) Identity);

impl ResolvesServerCert for IdentityResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.current())
    }
}

impl ResolvesClientCert for IdentityResolver {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.current())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serial(identity: &Identity) -> Vec<u8> {
        identity.certificate_chain()[0].as_ref().to_vec()
    }

    #[test]
    fn pem_identity_and_errors_name_what_failed() {
        let pki = kratos_testing::TestPki::new();
        let cert = std::fs::read(pki.server_cert_path()).unwrap();
        let key = std::fs::read(pki.server_key_path()).unwrap();
        Identity::from_pem(&cert, &key).unwrap();
        let err = Identity::from_pem("not pem", &key).unwrap_err();
        assert_eq!(err.to_string(), "no certificate in <pem>");
        let other = std::fs::read(pki.client_key_path()).unwrap();
        let err = Identity::from_pem(&cert, &other).unwrap_err();
        assert!(
            err.to_string()
                .contains("is not usable with the certificate"),
            "{err}"
        );
        let missing = pki.dir().join("nope.pem");
        let err = Identity::from_pem_files(&missing, pki.server_key_path()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("cannot read {}", missing.display())),
            "{err}"
        );
    }

    #[test]
    fn file_identity_follows_its_files_and_keeps_the_last_good_one() {
        let pki = kratos_testing::TestPki::new();
        let identity =
            Identity::from_pem_files(pki.server_cert_path(), pki.server_key_path()).unwrap();
        let first = serial(&identity);
        assert_eq!(serial(&identity), first, "unchanged files are not reloaded");

        pki.reissue_server("rotated");
        let second = serial(&identity);
        assert_ne!(second, first, "a replaced certificate is picked up");

        // A broken certificate file: the previous certificate stays.
        std::fs::write(pki.dir().join("server.tmp"), "garbage").unwrap();
        std::fs::rename(pki.dir().join("server.tmp"), pki.server_cert_path()).unwrap();
        assert_eq!(serial(&identity), second);
        assert_eq!(serial(&identity), second);

        // Fixed again: picked up.
        pki.reissue_server("rotated again");
        let third = serial(&identity);
        assert_ne!(third, second);
    }
}
