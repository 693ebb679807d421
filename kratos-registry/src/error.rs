//! The registry's error type.

use std::fmt;

/// An error from a registry backend.
///
/// Opaque on purpose: new kinds of failure are not breaking changes. Use the
/// `is_*` methods to tell them apart.
#[derive(Debug)]
pub struct RegistryError {
    kind: Kind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unavailable,
    InvalidInstance,
    Stopped,
    Timeout,
    Other,
}

impl RegistryError {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The backend could not be reached; the message says where and what to check.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Kind::Unavailable, message)
    }

    /// An instance (or a stored record) is not valid.
    pub fn invalid_instance(message: impl Into<String>) -> Self {
        Self::new(Kind::InvalidInstance, message)
    }

    /// A watcher was used after it was stopped.
    pub fn stopped() -> Self {
        Self::new(Kind::Stopped, "watcher stopped")
    }

    /// An operation did not finish in time.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(Kind::Timeout, message)
    }

    /// Any other failure.
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(Kind::Other, message)
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Whether the backend was unreachable.
    pub fn is_unavailable(&self) -> bool {
        self.kind == Kind::Unavailable
    }

    /// Whether an instance or record was invalid.
    pub fn is_invalid_instance(&self) -> bool {
        self.kind == Kind::InvalidInstance
    }

    /// Whether the watcher had been stopped.
    pub fn is_stopped(&self) -> bool {
        self.kind == Kind::Stopped
    }

    /// Whether the operation timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == Kind::Timeout
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RegistryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
