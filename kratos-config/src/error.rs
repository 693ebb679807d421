//! [`ConfigError`]: what went wrong, naming the source and the key.

use std::fmt;

/// A configuration failure. The message names the source (a file path, an
/// etcd key, `env`) and the config key involved, so it can be acted on.
#[derive(Debug)]
pub struct ConfigError {
    kind: Kind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    NotFound,
    Parse,
    Type,
    Source,
    Closed,
}

impl ConfigError {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A key that is not in the configuration.
    pub fn not_found(key: &str) -> Self {
        Self::new(Kind::NotFound, format!("config key `{key}` not found"))
    }

    /// A document that cannot be parsed; `origin` names the file or key it came from.
    pub fn parse(origin: &str, detail: impl fmt::Display) -> Self {
        Self::new(Kind::Parse, format!("cannot parse {origin}: {detail}"))
    }

    /// A value that does not have the type asked for.
    pub fn type_mismatch(key: &str, detail: impl fmt::Display) -> Self {
        Self::new(
            Kind::Type,
            format!("config key `{key}` has the wrong type: {detail}"),
        )
    }

    /// A source that cannot be read (a missing file, an unreachable server).
    pub fn source(origin: &str, detail: impl fmt::Display) -> Self {
        Self::new(Kind::Source, format!("cannot read {origin}: {detail}"))
    }

    /// The configuration or watcher was closed.
    pub fn closed() -> Self {
        Self::new(Kind::Closed, "the configuration was closed")
    }

    /// Says which config value held the unresolved placeholder.
    pub(crate) fn with_placeholder(mut self, path: &str) -> Self {
        self.message = format!(
            "{} (placeholder in `{path}` has no value and no default)",
            self.message
        );
        self
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Whether a key was missing.
    pub fn is_not_found(&self) -> bool {
        self.kind == Kind::NotFound
    }

    /// Whether a document could not be parsed.
    pub fn is_parse(&self) -> bool {
        self.kind == Kind::Parse
    }

    /// Whether a value had the wrong type.
    pub fn is_type_mismatch(&self) -> bool {
        self.kind == Kind::Type
    }

    /// Whether a source could not be read.
    pub fn is_source(&self) -> bool {
        self.kind == Kind::Source
    }

    /// Whether the configuration was closed.
    pub fn is_closed(&self) -> bool {
        self.kind == Kind::Closed
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The reason of the Kratos error a [`ConfigError`] becomes.
pub const CONFIG_REASON: &str = "CONFIG";

/// A config failure as a Kratos error, so `?` works in a `main` or a hook
/// returning `kratos::Result`: 500 `CONFIG` with the message, the
/// [`ConfigError`] as its cause; 503 when the configuration was closed.
impl From<ConfigError> for kratos_core::Error {
    fn from(err: ConfigError) -> Self {
        let code = if err.is_closed() { 503 } else { 500 };
        kratos_core::Error::new(code, CONFIG_REASON, err.to_string()).with_cause(err)
    }
}

#[cfg(test)]
mod into_kratos_error {
    use super::*;

    #[test]
    fn a_config_error_becomes_a_500_config_error_with_its_cause() {
        let err: kratos_core::Error = ConfigError::not_found("order.max_items").into();
        assert_eq!((err.code(), err.reason()), (500, CONFIG_REASON));
        assert!(
            err.message().contains("order.max_items"),
            "{}",
            err.message()
        );
        assert!(std::error::Error::source(&err).is_some());
        let closed: kratos_core::Error = ConfigError::closed().into();
        assert_eq!(closed.code(), 503);
    }
}
