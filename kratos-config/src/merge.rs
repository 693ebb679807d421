//! Parsing documents with the `config` crate and merging them, later wins.

use config::{FileFormat, Format, Value, ValueKind};
use serde_json::{Map, Value as Json};

use crate::{ConfigError, KeyValue};

/// Parses every document and deep-merges them in order: tables merge key by
/// key, any other value (arrays included) is replaced by the later document's.
pub(crate) fn merge<'a>(
    documents: impl IntoIterator<Item = &'a KeyValue>,
) -> Result<Json, ConfigError> {
    let mut merged = Json::Object(Map::new());
    for document in documents {
        merge_into(&mut merged, parse(document)?);
    }
    Ok(merged)
}

/// Parses one document into JSON; errors name the document.
pub(crate) fn parse(document: &KeyValue) -> Result<Json, ConfigError> {
    let format = match document.format.to_ascii_lowercase().as_str() {
        #[cfg(feature = "yaml")]
        "yaml" | "yml" => FileFormat::Yaml,
        "json" => FileFormat::Json,
        #[cfg(feature = "toml")]
        "toml" => FileFormat::Toml,
        #[allow(unreachable_patterns)] // with both features on
        other @ ("yaml" | "yml" | "toml") => {
            return Err(ConfigError::parse(
                &document.key,
                format!(
                    "format `{other}` needs kratos-config's `{}` feature",
                    feature(other)
                ),
            ));
        }
        other => {
            return Err(ConfigError::parse(
                &document.key,
                format!("unknown format `{other}` (use yaml, json or toml)"),
            ));
        }
    };
    let text = std::str::from_utf8(&document.value)
        .map_err(|err| ConfigError::parse(&document.key, err).with_source(err))?;
    let table = Format::parse(&format, Some(&document.key), text)
        .map_err(|err| ConfigError::parse(&document.key, &err))?;
    Ok(Json::Object(
        table.into_iter().map(|(k, v)| (k, to_json(v))).collect(),
    ))
}

/// The feature that reads documents of `format`.
fn feature(format: &str) -> &'static str {
    match format {
        "toml" => "toml",
        _ => "yaml",
    }
}

fn merge_into(base: &mut Json, top: Json) {
    match (base, top) {
        (Json::Object(base), Json::Object(top)) => {
            for (key, value) in top {
                match base.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge_into(existing, value)
                    }
                    _ => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, top) => *base = top,
    }
}

fn to_json(value: Value) -> Json {
    match value.kind {
        ValueKind::Nil => Json::Null,
        ValueKind::Boolean(b) => Json::Bool(b),
        ValueKind::I64(i) => Json::from(i),
        ValueKind::U64(u) => Json::from(u),
        ValueKind::I128(i) => {
            i64::try_from(i).map_or_else(|_| Json::String(i.to_string()), Json::from)
        }
        ValueKind::U128(u) => {
            u64::try_from(u).map_or_else(|_| Json::String(u.to_string()), Json::from)
        }
        ValueKind::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        ValueKind::String(s) => Json::String(s),
        ValueKind::Table(t) => Json::Object(t.into_iter().map(|(k, v)| (k, to_json(v))).collect()),
        ValueKind::Array(a) => Json::Array(a.into_iter().map(to_json).collect()),
    }
}

/// The `config` crate's value for `json`, whose deserializer converts types
/// the way configuration readers expect (`"8080"` reads as a number).
pub(crate) fn to_value(json: &Json) -> Value {
    let kind = match json {
        Json::Null => ValueKind::Nil,
        Json::Bool(b) => ValueKind::Boolean(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => ValueKind::I64(i),
            (None, Some(u)) => ValueKind::U64(u),
            _ => ValueKind::Float(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => ValueKind::String(s.clone()),
        Json::Array(a) => ValueKind::Array(a.iter().map(to_value).collect()),
        Json::Object(o) => {
            ValueKind::Table(o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect())
        }
    };
    Value::new(None, kind)
}

/// Sets `path` (already split on separators) to `value` in `table`, creating
/// tables on the way. When both `a` and `a.b` are set, the table wins: the
/// deeper key is the more specific one.
pub(crate) fn insert_path(table: &mut Map<String, Json>, path: &[String], value: Json) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        if !table.get(first).is_some_and(Json::is_object) {
            table.insert(first.clone(), value);
        }
        return;
    }
    let child = table
        .entry(first.clone())
        .or_insert_with(|| Json::Object(Map::new()));
    if !child.is_object() {
        *child = Json::Object(Map::new());
    }
    if let Json::Object(child) = child {
        insert_path(child, rest, value);
    }
}

/// The value at a dotted `key` (`server.http.addr`); `""` is the whole tree.
pub(crate) fn lookup<'a>(root: &'a Json, key: &str) -> Option<&'a Json> {
    if key.is_empty() {
        return Some(root);
    }
    key.split('.').try_fold(root, |node, part| node.get(part))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(key: &str, text: &str, format: &str) -> KeyValue {
        KeyValue::new(key, text, format)
    }

    #[test]
    #[cfg(all(feature = "yaml", feature = "toml"))]
    fn later_documents_win_and_tables_merge() {
        let merged = merge(&[
            doc(
                "a.yaml",
                "server: {http: {addr: ':8000', timeout: 1s}}\nlist: [1, 2]",
                "yaml",
            ),
            doc(
                "b.json",
                r#"{"server": {"http": {"addr": ":9000"}}, "list": [3]}"#,
                "json",
            ),
            doc("c.toml", "[data]\ndsn = 'x'", "toml"),
        ])
        .unwrap();
        assert_eq!(
            merged,
            json!({
                "server": {"http": {"addr": ":9000", "timeout": "1s"}},
                "list": [3],
                "data": {"dsn": "x"},
            })
        );
    }

    #[test]
    #[cfg(not(feature = "toml"))]
    fn a_format_whose_feature_is_off_says_which_feature() {
        let err = parse(&doc("c.toml", "[data]", "toml")).unwrap_err();
        assert!(
            err.to_string()
                .contains("needs kratos-config's `toml` feature"),
            "{err}"
        );
    }

    #[test]
    #[cfg(feature = "yaml")]
    fn parse_errors_name_the_document_and_line() {
        let err =
            merge(&[doc("conf/app.yaml", "server:\n  addr: [unclosed\n", "yaml")]).unwrap_err();
        assert!(err.is_parse());
        let msg = err.to_string();
        assert!(msg.contains("conf/app.yaml"), "{msg}");
        assert!(msg.contains("line"), "{msg}");
    }

    #[test]
    fn lookup_walks_dotted_keys() {
        let root = json!({"a": {"b": {"c": 1}}});
        assert_eq!(lookup(&root, "a.b.c"), Some(&json!(1)));
        assert_eq!(lookup(&root, "a.x"), None);
        assert_eq!(lookup(&root, ""), Some(&root));
    }
}
