//! Metadata carried across services in headers, as Go Kratos's `metadata` package.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

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
///
/// Cloning is cheap (a reference count; the map is copied on the first
/// change of a shared clone), so the transports and middleware hand it
/// around per call freely.
#[derive(Clone, Default)]
pub struct Metadata(Option<Arc<BTreeMap<String, Vec<String>>>>);

impl Metadata {
    /// Empty metadata.
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> Option<&BTreeMap<String, Vec<String>>> {
        self.0.as_deref()
    }

    fn map_mut(&mut self) -> &mut BTreeMap<String, Vec<String>> {
        Arc::make_mut(self.0.get_or_insert_with(Default::default))
    }

    /// The first value of `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values(key).first().map(String::as_str)
    }

    /// Every value of `key` (case-insensitive).
    pub fn values(&self, key: &str) -> &[String] {
        self.map()
            .and_then(|map| map.get(&key.to_ascii_lowercase()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Replaces the values of `key` with `value`.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.map_mut()
            .insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    /// Appends `value` to the values of `key`.
    pub fn add(&mut self, key: &str, value: impl Into<String>) {
        self.map_mut()
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.into());
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) -> Option<Vec<String>> {
        self.0.as_ref()?;
        self.map_mut().remove(&key.to_ascii_lowercase())
    }

    /// Iterates over keys and their values, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.map()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.map().map_or(0, BTreeMap::len)
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PartialEq for Metadata {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Metadata {}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}
