//! Metadata carried across services in headers, as Go Kratos's `metadata` package.

use std::collections::BTreeMap;

/// Header prefix of metadata propagated across every hop.
pub const GLOBAL_PREFIX: &str = "x-md-global-";
/// Header prefix of metadata propagated to the next hop only.
pub const LOCAL_PREFIX: &str = "x-md-local-";

/// A multi-map of lower-cased keys to values.
///
/// ```
/// use kratos_core::Metadata;
///
/// let mut md = Metadata::new();
/// md.set("X-MD-Global-Tenant", "acme");
/// md.add("x-md-global-tenant", "umbrella");
/// assert_eq!(md.get("x-md-global-tenant"), Some("acme"));
/// assert_eq!(md.values("X-MD-GLOBAL-TENANT"), ["acme", "umbrella"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata(BTreeMap<String, Vec<String>>);

impl Metadata {
    /// Empty metadata.
    pub fn new() -> Self {
        Self::default()
    }

    /// The first value of `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(&key.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    /// Every value of `key` (case-insensitive).
    pub fn values(&self, key: &str) -> &[String] {
        self.0
            .get(&key.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Replaces the values of `key` with `value`.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.0.insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    /// Appends `value` to the values of `key`.
    pub fn add(&mut self, key: &str, value: impl Into<String>) {
        self.0
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.into());
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) -> Option<Vec<String>> {
        self.0.remove(&key.to_ascii_lowercase())
    }

    /// Iterates over keys and their values, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
