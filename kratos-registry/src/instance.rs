//! The registered unit: one running instance of a service.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// One running instance of a service, as stored in a registry.
///
/// Serialises to exactly the JSON Go Kratos writes
/// (`{"id","name","version","metadata","endpoints"}`, metadata keys sorted),
/// so Go and Rust services can share one registry. A `null` metadata or
/// endpoint list (Go's nil) reads as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServiceInstance {
    /// Unique id of the instance (the App's id).
    pub id: String,
    /// Service name, e.g. `helloworld`.
    pub name: String,
    /// Service version, e.g. `v1.0.0`.
    #[serde(default)]
    pub version: String,
    /// Free-form metadata (`weight`, `cluster`, ...).
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: BTreeMap<String, String>,
    /// Endpoints as URLs: `grpc://10.0.0.1:9000`, `http://10.0.0.1:8000`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub endpoints: Vec<String>,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl ServiceInstance {
    /// An instance with an id and a service name, no version, metadata or endpoints.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            ..Self::default()
        }
    }

    /// Sets the version.
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Adds one metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Adds one endpoint URL.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoints.push(endpoint.into());
        self
    }

    /// The first endpoint whose scheme is `scheme` (`grpc`, `http`), without the scheme.
    ///
    /// ```
    /// # use kratos_registry::ServiceInstance;
    /// let i = ServiceInstance::new("1", "s").with_endpoint("grpc://127.0.0.1:9000");
    /// assert_eq!(i.endpoint("grpc"), Some("127.0.0.1:9000"));
    /// assert_eq!(i.endpoint("http"), None);
    /// ```
    pub fn endpoint(&self, scheme: &str) -> Option<&str> {
        self.endpoints.iter().find_map(|e| {
            e.strip_prefix(scheme)
                .and_then(|rest| rest.strip_prefix("://"))
        })
    }

    /// The JSON Go Kratos stores for this instance.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a ServiceInstance always serialises")
    }

    /// Parses the JSON Go Kratos stores.
    pub fn from_json(bytes: &[u8]) -> Result<Self, crate::RegistryError> {
        serde_json::from_slice(bytes).map_err(|e| {
            crate::RegistryError::invalid_instance("stored service instance is not valid JSON")
                .with_source(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_matches_go_kratos_layout() {
        let i = ServiceInstance::new("id1", "helloworld")
            .with_version("v1")
            .with_metadata("weight", "10")
            .with_metadata("a", "b")
            .with_endpoint("grpc://127.0.0.1:9000");
        assert_eq!(
            i.to_json(),
            r#"{"id":"id1","name":"helloworld","version":"v1","metadata":{"a":"b","weight":"10"},"endpoints":["grpc://127.0.0.1:9000"]}"#
        );
    }

    #[test]
    fn go_nil_fields_read_as_empty() {
        let i = ServiceInstance::from_json(
            br#"{"id":"x","name":"n","version":"","metadata":null,"endpoints":null}"#,
        )
        .unwrap();
        assert!(i.metadata.is_empty() && i.endpoints.is_empty());
        assert!(
            ServiceInstance::from_json(b"{")
                .unwrap_err()
                .is_invalid_instance()
        );
    }
}
