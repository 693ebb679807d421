//! [`TlsError`]: why a TLS configuration could not be built.

use std::fmt;

use crate::BoxError;

/// Why a TLS identity or configuration could not be built: a file that
/// cannot be read, PEM without a certificate or key, a key that does not
/// match its certificate, a CA rustls refuses. The message names the file
/// (or `<pem>` for bytes) and what failed.
pub struct TlsError {
    message: String,
    source: Option<BoxError>,
}

impl TlsError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }
}

impl fmt::Debug for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsError")
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}
