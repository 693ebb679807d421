//! The request message of a generated binding, assembled from the path
//! variables, the query string and the body (JSON, protobuf or a form), as
//! Go Kratos binds them.

use std::collections::HashMap;

use kratos_core::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::media::Media;
use super::{BodySpec, FieldSpec, Part, RouteSpec, TextKind};
use crate::http::CODEC_REASON;

fn codec_error(message: impl Into<String>) -> Error {
    Error::bad_request(CODEC_REASON, message)
}

/// Builds the request message of `spec` from the route parameters, the query
/// string and the body (encoded as `media`), as the generated server does.
pub(super) fn decode_message<Req>(
    spec: &RouteSpec,
    params: &HashMap<String, String>,
    query: Option<&str>,
    body: &[u8],
    media: Media,
) -> Result<Req, Error>
where
    Req: DeserializeOwned + Serialize + prost::Message + Default,
{
    match media {
        Media::Proto if !body.is_empty() => decode_protobuf(spec, params, query, body),
        Media::Form if !body.is_empty() => {
            let json = form_to_json(spec, body)?;
            decode_request(spec, params, query, &json)
        }
        _ => decode_request(spec, params, query, body),
    }
}

/// A form body as the JSON body it stands for, as Go Kratos's form codec
/// reads one: keys are dotted field paths by proto or JSON name (`a.b=1`),
/// `m[k]=v` sets key `k` of map `m`, a repeated field takes each value of
/// its key. A field the route's spec lists is typed by its kind (booleans,
/// enum numbers); any other value stays a string, which proto3 JSON
/// accepts for numbers too.
pub(super) fn form_to_json(spec: &RouteSpec, body: &[u8]) -> Result<Vec<u8>, Error> {
    let mut root = Map::new();
    for (key, value) in form_urlencoded::parse(body) {
        if let Some((map, entry)) = key.strip_suffix(']').and_then(|k| k.split_once('[')) {
            let field = map_field(&mut root, map)?;
            field.insert(entry.to_owned(), Value::String(value.into_owned()));
            continue;
        }
        match spec.query.iter().find(|f| f.proto == key || f.json == key) {
            Some(field) => set_field(
                &mut root,
                field,
                spec.proto_names,
                text_value(field, &value),
            ),
            None => set_path(
                &mut root,
                &key,
                &key,
                false,
                Value::String(value.into_owned()),
            ),
        }
    }
    serde_json::to_vec(&Value::Object(root))
        .map_err(|err| codec_error(format!("invalid form body: {err}")))
}

/// The object of map field `path` (dotted) in `root`, created if missing.
fn map_field<'a>(
    root: &'a mut Map<String, Value>,
    path: &str,
) -> Result<&'a mut Map<String, Value>, Error> {
    let mut map = root;
    for key in path.split('.') {
        let next = map
            .entry(key.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        map = next
            .as_object_mut()
            .ok_or_else(|| codec_error(format!("invalid form body: {path} is not a map")))?;
    }
    Ok(map)
}

/// Builds the request message of `spec` from the route parameters, the query
/// string and a JSON body.
pub(super) fn decode_request<Req: DeserializeOwned>(
    spec: &RouteSpec,
    params: &HashMap<String, String>,
    query: Option<&str>,
    body: &[u8],
) -> Result<Req, Error> {
    let has_body = !body.iter().all(u8::is_ascii_whitespace);
    if spec.body == BodySpec::All && spec.vars.is_empty() && has_body {
        // The body is the whole message: decoded once, straight from bytes.
        let mut json = serde_json::Deserializer::from_slice(body);
        let message = serde_path_to_error::deserialize(&mut json).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_data() {
                codec_error(format!("invalid value for field {path}: {inner}"))
            } else {
                codec_error(format!("invalid JSON body: {inner}"))
            }
        })?;
        json.end()
            .map_err(|err| codec_error(format!("invalid JSON body: {err}")))?;
        return Ok(message);
    }
    let mut root = Map::new();
    match spec.body {
        BodySpec::None => {}
        BodySpec::All if has_body => match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => root = map,
            Ok(_) => return Err(codec_error("the request body must be a JSON object")),
            Err(err) => return Err(codec_error(format!("invalid JSON body: {err}"))),
        },
        BodySpec::Field(proto, json) if has_body => match serde_json::from_slice::<Value>(body) {
            Ok(value) => {
                let key = if spec.proto_names { proto } else { json };
                root.insert(key.to_owned(), value);
            }
            Err(err) => return Err(codec_error(format!("invalid JSON body: {err}"))),
        },
        _ => {}
    }
    if spec.body != BodySpec::All
        && let Some(query) = query
    {
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let Some(field) = spec.query.iter().find(|f| f.proto == key || f.json == key) else {
                continue; // unknown query parameters are ignored
            };
            if bound_elsewhere(spec, field) {
                continue;
            }
            let value = text_value(field, &value);
            set_field(&mut root, field, spec.proto_names, value);
        }
    }
    for var in spec.vars {
        let mut value = String::new();
        for (i, part) in var.parts.iter().enumerate() {
            if i > 0 {
                value.push('/');
            }
            match part {
                Part::Literal(lit) => value.push_str(lit),
                Part::Capture(name) => match params.get(*name) {
                    Some(captured) => value.push_str(captured),
                    None => {
                        return Err(codec_error(format!(
                            "missing path variable {}",
                            var.field.proto
                        )));
                    }
                },
            }
        }
        set_field(
            &mut root,
            &var.field,
            spec.proto_names,
            text_value(&var.field, &value),
        );
    }
    serde_path_to_error::deserialize(Value::Object(root)).map_err(|err| {
        let mut path = err.path().to_string();
        // Name a path or query field also by its proto name (`userId (user_id)`).
        let fields = spec.query.iter().chain(spec.vars.iter().map(|v| &v.field));
        if let Some(field) = fields
            .filter(|f| f.emitted(spec.proto_names) == path)
            .find(|f| f.proto != f.json)
        {
            let other = field.emitted(!spec.proto_names);
            path = format!("{path} ({other})");
        }
        codec_error(format!("invalid value for field {path}: {}", err.inner()))
    })
}

/// A protobuf body: the whole message (`body: "*"`), with the path
/// variables (and nothing else) bound over it through its JSON form.
fn decode_protobuf<Req>(
    spec: &RouteSpec,
    params: &HashMap<String, String>,
    query: Option<&str>,
    body: &[u8],
) -> Result<Req, Error>
where
    Req: DeserializeOwned + Serialize + prost::Message + Default,
{
    if spec.body != BodySpec::All {
        return Err(codec_error(
            "a protobuf body is accepted for bindings whose body is the whole message (body: \"*\")",
        ));
    }
    let message =
        Req::decode(body).map_err(|err| codec_error(format!("invalid protobuf body: {err}")))?;
    if spec.vars.is_empty() {
        return Ok(message);
    }
    let json = serde_json::to_vec(&message)
        .map_err(|err| codec_error(format!("invalid protobuf body: {err}")))?;
    decode_request(spec, params, query, &json)
}

fn bound_elsewhere(spec: &RouteSpec, field: &FieldSpec) -> bool {
    let first = field.proto.split('.').next().unwrap_or_default();
    if let BodySpec::Field(proto, _) = spec.body
        && first == proto
    {
        return true;
    }
    spec.vars.iter().any(|var| {
        let bound = var.field.proto;
        field.proto == bound
            || field.proto.starts_with(&format!("{bound}."))
            || bound.starts_with(&format!("{}.", field.proto))
    })
}

fn text_value(field: &FieldSpec, text: &str) -> Value {
    match (field.kind, text) {
        (TextKind::Bool, "true") => Value::Bool(true),
        (TextKind::Bool, "false") => Value::Bool(false),
        (TextKind::Enum, _) if text.parse::<i32>().is_ok() => {
            Value::Number(text.parse::<i32>().unwrap_or_default().into())
        }
        _ => Value::String(text.to_owned()),
    }
}

/// Sets `field` (a dotted path) in `root`, creating the objects on the way and
/// removing the same field under its other name, so that path variables win
/// over the body and the query.
fn set_field(root: &mut Map<String, Value>, field: &FieldSpec, proto_names: bool, value: Value) {
    let (emitted, other) = (field.emitted(proto_names), field.emitted(!proto_names));
    set_path(root, emitted, other, field.repeated, value);
}

/// Sets the dotted path `emitted` in `root` (appends, when `repeated`),
/// moving what is under `other`, the same path by its other names, to it.
fn set_path(
    root: &mut Map<String, Value>,
    emitted: &str,
    other: &str,
    repeated: bool,
    value: Value,
) {
    let emitted: Vec<&str> = emitted.split('.').collect();
    let other: Vec<&str> = other.split('.').collect();
    let mut map = root;
    for (i, key) in emitted.iter().enumerate() {
        let alias = other.get(i).copied().unwrap_or(key);
        if alias != *key
            && let Some(old) = map.remove(alias)
        {
            map.entry(key.to_string()).or_insert(old);
        }
        if i + 1 == emitted.len() {
            if repeated {
                match map.get_mut(*key) {
                    Some(Value::Array(items)) => items.push(value),
                    _ => {
                        map.insert(key.to_string(), Value::Array(vec![value]));
                    }
                }
            } else {
                map.insert(key.to_string(), value);
            }
            return;
        }
        let next = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        map = next.as_object_mut().expect("just made an object");
    }
}
