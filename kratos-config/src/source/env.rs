//! [`EnvSource`]: environment variables under a prefix.

use async_trait::async_trait;

use super::{Source, SourceWatcher};
use crate::merge::insert_path;
use crate::{ConfigError, KeyValue};

/// Environment variables whose name starts with a prefix, as one document:
/// `APP_DATA__DATABASE__DSN=x` with prefix `APP_` becomes `data.database.dsn: x`
/// (the prefix is removed, `__` separates levels, names are lower-cased).
///
/// Values are strings; typed reads convert them (`"8080"` reads as a `u16`).
/// The environment does not change while a process runs, so the watcher
/// never fires.
///
/// ```
/// use kratos_config::EnvSource;
///
/// let source = EnvSource::new("APP_");
/// # let _ = source;
/// ```
#[derive(Debug, Clone)]
pub struct EnvSource {
    prefix: String,
}

impl EnvSource {
    /// Variables starting with `prefix` (an empty prefix takes every variable).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    fn document(&self, vars: impl Iterator<Item = (String, String)>) -> serde_json::Value {
        let mut root = serde_json::Map::new();
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix(&self.prefix) else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
            if path.iter().any(String::is_empty) {
                continue;
            }
            insert_path(&mut root, &path, serde_json::Value::String(value));
        }
        serde_json::Value::Object(root)
    }
}

#[async_trait]
impl Source for EnvSource {
    async fn load(&self) -> Result<Vec<KeyValue>, ConfigError> {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        let document = self.document(vars);
        Ok(vec![KeyValue::new("env", document.to_string(), "json")])
    }

    async fn watch(&self) -> Result<Box<dyn SourceWatcher>, ConfigError> {
        Ok(Box::new(EnvWatcher { stopped: false }))
    }
}

/// The environment of a running process does not change: waits forever.
#[derive(Debug)]
struct EnvWatcher {
    stopped: bool,
}

#[async_trait]
impl SourceWatcher for EnvWatcher {
    async fn next(&mut self) -> Result<Vec<KeyValue>, ConfigError> {
        if self.stopped {
            return Err(ConfigError::closed());
        }
        std::future::pending().await
    }

    async fn stop(&mut self) -> Result<(), ConfigError> {
        self.stopped = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_variables_become_nested_keys() {
        let vars = [
            ("APP_DATA__DATABASE__DSN", "mysql://x"),
            ("APP_SERVER__HTTP__ADDR", ":8000"),
            ("APP_NAME", "orders"),
            ("OTHER_THING", "ignored"),
            ("APP_BROKEN____KEY", "ignored"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let doc = EnvSource::new("APP_").document(vars.into_iter());
        assert_eq!(
            doc,
            serde_json::json!({
                "data": {"database": {"dsn": "mysql://x"}},
                "server": {"http": {"addr": ":8000"}},
                "name": "orders",
            })
        );
    }
}
