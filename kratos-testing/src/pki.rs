//! [`TestPki`]: a throwaway CA with server and client certificates, made
//! in-process with rcgen (ring), written as PEM files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};

/// A throwaway public-key infrastructure for TLS tests: one CA, a server
/// certificate for `localhost` and `127.0.0.1`, and a client certificate,
/// all signed by the CA and written as PEM files into a temporary directory
/// that is removed when the `TestPki` is dropped.
///
/// Made in-process with rcgen (P-256 keys), so no `openssl` binary is
/// needed. [`reissue_server`](Self::reissue_server) overwrites the server's
/// files with a new certificate (new key, new serial, the given common
/// name), as a certificate rotation does.
///
/// ```
/// let pki = kratos_testing::TestPki::new();
/// assert!(pki.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// assert!(pki.server_cert_path().exists() && pki.client_key_path().exists());
/// ```
#[derive(Debug)]
pub struct TestPki {
    dir: tempfile::TempDir,
    ca: Issuer<'static, KeyPair>,
    ca_pem: String,
}

/// Serial numbers, unique within the process.
static SERIAL: AtomicU64 = AtomicU64::new(1);

impl TestPki {
    /// Makes the CA and the server and client certificates (server common
    /// name `kratos-test-server`, client `kratos-test-client`).
    ///
    /// # Panics
    ///
    /// When the temporary directory cannot be written (a test helper).
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("kratos-pki-")
            .tempdir()
            .expect("a temporary directory");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        // A unique subject per CA: a client finds an issuer by name, so two
        // CAs with one name would fail as a bad signature, not as unknown.
        let serial = next_serial();
        let subject = format!("kratos-rs test CA {:x?}", serial.to_bytes());
        params.distinguished_name.push(DnType::CommonName, subject);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.serial_number = Some(serial);
        let key = KeyPair::generate().expect("a P-256 key");
        let cert = params.self_signed(&key).expect("the CA certificate");
        let ca_pem = cert.pem();
        std::fs::write(dir.path().join("ca.pem"), &ca_pem).expect("write ca.pem");
        let pki = Self {
            dir,
            ca: Issuer::new(params, key),
            ca_pem,
        };
        pki.reissue_server("kratos-test-server");
        pki.issue(
            "client",
            "kratos-test-client",
            Vec::new(),
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        pki
    }

    /// The directory holding every file.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA certificate (PEM): what clients (and an mTLS server) trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The path of the CA certificate, `ca.pem`.
    pub fn ca_path(&self) -> PathBuf {
        self.dir().join("ca.pem")
    }

    /// The server certificate's path, `server.pem` (subjectAltName
    /// `DNS:localhost`, `IP:127.0.0.1`).
    pub fn server_cert_path(&self) -> PathBuf {
        self.dir().join("server.pem")
    }

    /// The server key's path, `server.key`.
    pub fn server_key_path(&self) -> PathBuf {
        self.dir().join("server.key")
    }

    /// The client certificate's path, `client.pem` (extended key usage
    /// clientAuth).
    pub fn client_cert_path(&self) -> PathBuf {
        self.dir().join("client.pem")
    }

    /// The client key's path, `client.key`.
    pub fn client_key_path(&self) -> PathBuf {
        self.dir().join("client.key")
    }

    /// Overwrites `server.pem` and `server.key` with a new certificate for
    /// `localhost`/`127.0.0.1` whose common name is `common_name` (new key,
    /// new serial). The key is written first, then the certificate, each
    /// through a temporary file renamed into place.
    pub fn reissue_server(&self, common_name: &str) {
        self.issue(
            "server",
            common_name,
            vec!["localhost".into(), "127.0.0.1".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
    }

    /// A certificate for `sans`, signed by the CA, as `<name>.pem` and
    /// `<name>.key`.
    fn issue(
        &self,
        name: &str,
        common_name: &str,
        sans: Vec<String>,
        usage: ExtendedKeyUsagePurpose,
    ) {
        let mut params = CertificateParams::new(sans).expect("certificate params");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::NoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        params.serial_number = Some(next_serial());
        let key = KeyPair::generate().expect("a P-256 key");
        let cert = params
            .signed_by(&key, &self.ca)
            .expect("a signed certificate");
        write_atomically(
            &self.dir().join(format!("{name}.key")),
            &key.serialize_pem(),
        );
        write_atomically(&self.dir().join(format!("{name}.pem")), &cert.pem());
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

fn next_serial() -> SerialNumber {
    // The process id keeps serials apart across test binaries too.
    let n = SERIAL.fetch_add(1, Ordering::Relaxed);
    let mut bytes = (u64::from(std::process::id()) << 24 | n)
        .to_be_bytes()
        .to_vec();
    bytes[0] &= 0x7f; // a positive INTEGER
    SerialNumber::from_slice(&bytes)
}

/// Writes `path` through a sibling temporary file and a rename, so a reader
/// sees the old content or the new, never half of it.
fn write_atomically(path: &Path, content: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content).expect("write a certificate file");
    std::fs::rename(&tmp, path).expect("rename a certificate file");
}
