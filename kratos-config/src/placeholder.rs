//! `${key:default}` placeholders, resolved against the merged configuration
//! and the environment.

use serde_json::Value as Json;

use crate::ConfigError;
use crate::merge::lookup;

/// Replaces every `${name}` and `${name:default}` in the string values of
/// `merged`. `name` is looked up first as a config key (`server.port`), then
/// as an environment variable (`PORT`), then the default applies; with none
/// of the three the load fails naming the key. A value that is exactly one
/// placeholder takes the referenced value's type.
pub(crate) fn resolve(merged: &Json) -> Result<Json, ConfigError> {
    resolve_node(merged, merged, "")
}

fn resolve_node(root: &Json, node: &Json, path: &str) -> Result<Json, ConfigError> {
    Ok(match node {
        Json::String(s) if s.contains("${") => resolve_string(root, s, path)?,
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), resolve_node(root, v, &join(path, k))?)))
                .collect::<Result<_, ConfigError>>()?,
        ),
        Json::Array(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| resolve_node(root, v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn resolve_string(root: &Json, s: &str, path: &str) -> Result<Json, ConfigError> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 2..start + len];
        let value = lookup_placeholder(root, inner, path)?;
        if start == 0 && len + 1 == rest.len() && out.is_empty() {
            // The whole value is one placeholder: keep the referenced type.
            return Ok(value);
        }
        out.push_str(&rest[..start]);
        match value {
            Json::String(v) => out.push_str(&v),
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(Json::String(out))
}

fn lookup_placeholder(root: &Json, inner: &str, path: &str) -> Result<Json, ConfigError> {
    let (name, default) = match inner.split_once(':') {
        Some((name, default)) => (name.trim(), Some(default)),
        None => (inner.trim(), None),
    };
    if let Some(value) = lookup(root, name).filter(|v| !v.is_object() && !v.is_array()) {
        if value.as_str().is_some_and(|s| s.contains("${")) {
            return Err(ConfigError::type_mismatch(
                path,
                format!("placeholder ${{{name}}} refers to another placeholder"),
            ));
        }
        return Ok(value.clone());
    }
    if let Ok(value) = std::env::var(name) {
        return Ok(Json::String(value));
    }
    match default {
        Some(default) => Ok(Json::String(default.to_owned())),
        None => Err(ConfigError::not_found(name).with_placeholder(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_resolve_from_config_env_then_default() {
        // SAFETY-free: the variable name is unique to this test.
        let merged = json!({
            "port": 8000,
            "addr": "0.0.0.0:${port}",
            "same": "${port}",
            "from_env": "${KRATOS_CONFIG_TEST_HOME:none}",
            "defaulted": "${missing.key:fallback}",
            "list": ["${port:1}"],
        });
        let resolved = resolve(&merged).unwrap();
        assert_eq!(resolved["addr"], "0.0.0.0:8000");
        assert_eq!(resolved["same"], 8000);
        assert_eq!(resolved["defaulted"], "fallback");
        assert_eq!(resolved["from_env"], "none");
        assert_eq!(resolved["list"][0], 8000);
    }

    #[test]
    fn a_placeholder_with_no_value_names_the_key() {
        let err = resolve(&json!({"db": {"dsn": "${NO_SUCH_VAR_FOR_KRATOS}"}})).unwrap_err();
        assert!(err.to_string().contains("db.dsn"), "{err}");
        assert!(err.to_string().contains("NO_SUCH_VAR_FOR_KRATOS"), "{err}");
    }
}
