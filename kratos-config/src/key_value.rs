//! [`KeyValue`]: one document a source produced.

use std::fmt;

/// One configuration document: where it came from, its bytes and its format
/// (`yaml`, `json` or `toml`, as Go Kratos names them).
#[derive(Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// Where the document came from: a file path, an etcd key, `env`.
    pub key: String,
    /// The raw document.
    pub value: Vec<u8>,
    /// `yaml` (or `yml`), `json` or `toml`.
    pub format: String,
}

impl KeyValue {
    /// A document.
    pub fn new(
        key: impl Into<String>,
        value: impl Into<Vec<u8>>,
        format: impl Into<String>,
    ) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            format: format.into(),
        }
    }

    /// The format named by a file name's extension, if it is one we read.
    pub fn format_of(path: &str) -> Option<&'static str> {
        let ext = path.rsplit_once('.')?.1;
        match ext.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some("yaml"),
            "json" => Some("json"),
            "toml" => Some("toml"),
            _ => None,
        }
    }
}

impl fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyValue")
            .field("key", &self.key)
            .field("format", &self.format)
            .field("len", &self.value.len())
            .finish()
    }
}
