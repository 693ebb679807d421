//! The one error of every command: a message that says what went wrong and
//! what to do.

use std::fmt;
use std::path::Path;

/// Why a command failed; its `Display` is the message printed after
/// `error: `.
#[derive(Debug)]
pub(crate) struct Error(String);

impl Error {
    /// An error with this message.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// An I/O failure on `path`, while doing `what`.
    pub(crate) fn io(what: &str, path: &Path, err: std::io::Error) -> Self {
        Self(format!("{what} {}: {err}", path.display()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}
