//! Throwaway TLS certificates made with the `openssl` command-line tool.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A throwaway certificate authority for tests, made with the `openssl` CLI
/// (no keys are checked in and no crypto crate is needed).
///
/// Its key and certificate are P-256, valid for one day, and live in a
/// directory the caller owns ([`TestCa::generate_in`]) or in a temporary one
/// that is removed when the `TestCa` is dropped ([`TestCa::generate`]).
///
/// ```no_run
/// # fn demo() -> std::io::Result<()> {
/// let ca = kratos_testing::TestCa::generate()?;
/// let (cert, key) = ca.issue_server_cert(ca.dir(), "server")?;
/// println!("trust {} to accept {}", ca.cert_path().display(), cert.display());
/// # let _ = key;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct TestCa {
    dir: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    pem: Vec<u8>,
    _temp: Option<tempfile::TempDir>,
}

impl TestCa {
    /// Makes a new CA in a temporary directory of its own.
    ///
    /// Fails with [`io::ErrorKind::NotFound`] and a message naming the
    /// package to install when `openssl` is not on `PATH`.
    pub fn generate() -> io::Result<Self> {
        let temp = tempfile::Builder::new().prefix("kratos-ca-").tempdir()?;
        let mut ca = Self::generate_in(temp.path())?;
        ca._temp = Some(temp);
        Ok(ca)
    }

    /// Makes a new CA whose files (`ca.pem`, `ca.key`) are written to `dir`.
    ///
    /// Fails with [`io::ErrorKind::NotFound`] and a message naming the
    /// package to install when `openssl` is not on `PATH`.
    pub fn generate_in(dir: &Path) -> io::Result<Self> {
        let cert = dir.join("ca.pem");
        let key = dir.join("ca.key");
        // A unique subject per CA: a client finds an issuer by name, so two
        // CAs with one name would fail as a bad signature, not as unknown.
        let subject = format!("/CN=kratos-rs test CA {}", unique());
        let mut cmd = openssl();
        cmd.args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
            .arg("-subj")
            .arg(&subject)
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert);
        run(cmd)?;
        let pem = std::fs::read(&cert)?;
        Ok(Self {
            dir: dir.to_owned(),
            cert,
            key,
            pem,
            _temp: None,
        })
    }

    /// The directory holding the CA's files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of the CA certificate (PEM).
    pub fn cert_path(&self) -> &Path {
        &self.cert
    }

    /// The CA certificate (PEM), what a client trusts.
    pub fn cert_pem(&self) -> &[u8] {
        &self.pem
    }

    /// Issues a server certificate for `127.0.0.1` (subjectAltName
    /// `IP:127.0.0.1` and `DNS:localhost`), signed by this CA, and writes it
    /// to `dir` as `<name>.pem` and `<name>.key`. Returns the two paths
    /// (certificate, key).
    pub fn issue_server_cert(&self, dir: &Path, name: &str) -> io::Result<(PathBuf, PathBuf)> {
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        let csr = dir.join(format!("{name}.csr"));
        let ext = dir.join(format!("{name}.ext"));
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
             basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\n",
        )?;
        let mut cmd = openssl();
        cmd.args(["req", "-new", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes"])
            .args(["-subj", "/CN=127.0.0.1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&csr);
        run(cmd)?;
        let mut cmd = openssl();
        cmd.args(["x509", "-req", "-days", "1", "-set_serial", "1", "-in"])
            .arg(&csr)
            .arg("-CA")
            .arg(&self.cert)
            .arg("-CAkey")
            .arg(&self.key)
            .arg("-extfile")
            .arg(&ext)
            .arg("-out")
            .arg(&cert);
        run(cmd)?;
        Ok((cert, key))
    }
}

/// `<pid>-<nanos>-<counter>`, unique on this machine.
fn unique() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos}-{n}", std::process::id())
}

fn openssl() -> Command {
    Command::new("openssl")
}

/// Runs an `openssl` command; a failure carries its stderr, a missing binary
/// names the package to install.
fn run(mut cmd: Command) -> io::Result<()> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            io::Error::new(
                io::ErrorKind::NotFound,
                "the `openssl` binary is not on PATH; the TLS tests make their \
                 certificates with it: install the `openssl` package \
                 (`apt-get install -y openssl` on Debian)",
            )
        } else {
            e
        }
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_and_server_cert_are_made() {
        let ca = TestCa::generate().unwrap();
        assert!(ca.cert_pem().starts_with(b"-----BEGIN CERTIFICATE-----"));
        let (cert, key) = ca.issue_server_cert(ca.dir(), "server").unwrap();
        let text = Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&cert)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("IP Address:127.0.0.1"), "{text}");
        assert!(text.contains("DNS:localhost"), "{text}");
        assert!(key.exists());
    }
}
