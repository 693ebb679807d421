//! Runtime support for the HTTP code that `kratos-build` generates from
//! `google.api.http` annotations. Users do not call this module directly: the
//! generated `<service>_http::router` and `<Service>HttpClient` do.
//!
//! A generated route is described by a [`RouteSpec`] (method, path, which
//! request fields come from the path, the query and the body). The server side
//! ([`routes`] over the method routers of [`on`]) records the gRPC method of
//! each route in the [`Routes`] it returns, for the server's transport info,
//! and builds the request message from path variables, query parameters
//! and the JSON body, calls the tonic trait method with a [`tonic::Request`]
//! that carries the HTTP headers as metadata and the request extensions, and
//! encodes the reply (or the error, with
//! [`Error::from_status`](kratos_core::Error::from_status)) as JSON. The client
//! side ([`RouteClient`], over a discovery-aware [`HttpClient`]) does the
//! reverse, with the route's gRPC method as the operation of the call.
//!
//! Decoding follows Go Kratos: a body that is not valid JSON, or a value of
//! the wrong type in the body, the path or the query, is a 400 with reason
//! [`CODEC_REASON`] whose message names the field; unknown fields and query
//! parameters are ignored.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::BodyExt;
use kratos_core::{Kind, TransportInfo};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use super::CODEC_REASON;
#[doc(no_inline)]
pub use super::{HttpClient, Routes};

#[doc(hidden)]
pub use axum;
pub use kratos_core::Error;
#[doc(hidden)]
pub use serde_json;
#[doc(hidden)]
pub use tonic;

/// The largest request body a generated route reads (4 MiB, gRPC's default).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Where the request message comes from in the HTTP body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodySpec {
    /// No body: fields not bound by the path come from the query.
    None,
    /// `body: "*"`: the whole message (minus path variables) is the body.
    All,
    /// `body: "field"`: that top-level field is the body, with its proto
    /// name and its JSON name.
    Field(&'static str, &'static str),
}

/// How the text of a path variable or query parameter becomes the JSON
/// value the message's deserializer expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A JSON string (strings, bytes, numbers — proto3 JSON accepts numbers
    /// as strings — and well-known types).
    Text,
    /// `true`/`false` become JSON booleans.
    Bool,
    /// An enum: a name stays a string, a number becomes a JSON number.
    Enum,
}

/// One request field that a path variable or a query parameter can set.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The dotted path with proto names (`order.user_id`).
    pub proto: &'static str,
    /// The dotted path with JSON names (`order.userId`).
    pub json: &'static str,
    /// How a text value (path or query) becomes JSON.
    pub kind: TextKind,
    /// A repeated field: each occurrence adds an element.
    pub repeated: bool,
    /// The text of the field's zero value (`0`, `false`, ``), used by the
    /// client for a path variable whose field is not set.
    pub zero: &'static str,
}

/// One segment of a path variable's value.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// A literal segment (`shelves` in `{name=shelves/*}`).
    Literal(&'static str),
    /// A captured route parameter, by its axum name.
    Capture(&'static str),
}

/// A path variable: which field it sets and how its value is assembled from
/// the captured route parameters.
#[derive(Debug, Clone, Copy)]
pub struct PathVar {
    /// The field it sets.
    pub field: FieldSpec,
    /// The segments of its value, joined with `/`.
    pub parts: &'static [Part],
}

/// One HTTP binding of an RPC method.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    /// The gRPC full method, recorded as the operation of the call.
    pub operation: &'static str,
    /// The HTTP method (`GET`, …), or `*` for any.
    pub method: &'static str,
    /// The axum route (`/v1/orders/{id}`).
    pub path: &'static str,
    /// The URL the client fills, with each path variable as
    /// `{dotted.json.path}` (`/v1/orders/{id}`).
    pub client_path: &'static str,
    /// The path variables.
    pub vars: &'static [PathVar],
    /// Which part of the request is the body.
    pub body: BodySpec,
    /// The JSON name of the reply field sent as the body (`response_body`).
    pub response_body: Option<&'static str>,
    /// The request fields a query parameter may set.
    pub query: &'static [FieldSpec],
    /// Whether the generated JSON uses proto field names (else JSON names).
    pub proto_names: bool,
}

impl FieldSpec {
    fn emitted(&self, proto_names: bool) -> &'static str {
        if proto_names { self.proto } else { self.json }
    }
}

/// The [`Routes`] of a generated router: `router` (its routes already bound
/// to the service) with the gRPC operation of every binding in `specs`, so
/// that the server merging them names the gRPC method in the transport info.
pub fn routes(router: Router, specs: &[&RouteSpec]) -> Routes {
    specs.iter().fold(Routes::new(router), |routes, spec| {
        routes.operation(spec.method, spec.path, spec.operation)
    })
}

/// The axum method router of one generated binding: decodes the request
/// message, calls `call` (the tonic trait method) and encodes its reply.
pub fn on<T, Req, Reply, F, Fut>(spec: &'static RouteSpec, call: F) -> MethodRouter<Arc<T>>
where
    T: Send + Sync + 'static,
    Req: DeserializeOwned + Send + 'static,
    Reply: Serialize + Send + 'static,
    F: Fn(Arc<T>, tonic::Request<Req>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<tonic::Response<Reply>, tonic::Status>> + Send + 'static,
{
    let handler = move |State(service): State<Arc<T>>, req: Request| {
        let call = call.clone();
        async move { handle(service, req, spec, call).await }
    };
    match Method::from_bytes(spec.method.as_bytes())
        .ok()
        .and_then(|m| MethodFilter::try_from(m).ok())
    {
        Some(filter) => axum::routing::on(filter, handler),
        None => axum::routing::any(handler),
    }
}

async fn handle<T, Req, Reply, F, Fut>(
    service: Arc<T>,
    req: Request,
    spec: &'static RouteSpec,
    call: F,
) -> Response
where
    Req: DeserializeOwned,
    Reply: Serialize,
    F: Fn(Arc<T>, tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<Reply>, tonic::Status>>,
{
    let (mut parts, body) = req.into_parts();
    let params = match Path::<HashMap<String, String>>::from_request_parts(&mut parts, &()).await {
        Ok(Path(params)) => params,
        Err(_) if spec.vars.is_empty() => HashMap::new(),
        Err(rejection) => {
            return Error::bad_request(CODEC_REASON, rejection.body_text()).into_response();
        }
    };
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(err) => {
            return Error::new(
                StatusCode::PAYLOAD_TOO_LARGE.as_u16(),
                "PAYLOAD_TOO_LARGE",
                format!("cannot read the request body: {err}"),
            )
            .into_response();
        }
    };
    let message: Req = match decode_request(spec, &params, parts.uri.query(), &bytes) {
        Ok(message) => message,
        Err(err) => return err.into_response(),
    };
    let endpoint: Arc<str> = parts
        .extensions
        .get::<TransportInfo>()
        .map(|info| info.endpoint().into())
        .unwrap_or_else(|| "".into());
    parts
        .extensions
        .insert(TransportInfo::new(Kind::Http, spec.operation, endpoint));
    let request = tonic::Request::from_http(http::Request::from_parts(parts, message));
    match call(service, request).await {
        Ok(reply) => encode_reply(spec, reply),
        Err(status) => Error::from_status(&status).into_response(),
    }
}

fn codec_error(message: impl Into<String>) -> Error {
    Error::bad_request(CODEC_REASON, message)
}

/// Builds the request message of `spec` from the route parameters, the query
/// string and the body, as the generated server does.
pub fn decode_request<Req: DeserializeOwned>(
    spec: &RouteSpec,
    params: &HashMap<String, String>,
    query: Option<&str>,
    body: &[u8],
) -> Result<Req, Error> {
    let mut root = Map::new();
    let has_body = !body.iter().all(u8::is_ascii_whitespace);
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
    let emitted: Vec<&str> = field.emitted(proto_names).split('.').collect();
    let other: Vec<&str> = field.emitted(!proto_names).split('.').collect();
    let mut map = root;
    for (i, key) in emitted.iter().enumerate() {
        let alias = other.get(i).copied().unwrap_or(key);
        if alias != *key
            && let Some(old) = map.remove(alias)
        {
            map.entry(key.to_string()).or_insert(old);
        }
        if i + 1 == emitted.len() {
            if field.repeated {
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

fn encode_reply<Reply: Serialize>(spec: &RouteSpec, reply: tonic::Response<Reply>) -> Response {
    let (metadata, message, _) = reply.into_parts();
    let encoded = match spec.response_body {
        None => serde_json::to_vec(&message),
        Some(field) => serde_json::to_value(&message).and_then(|mut value| {
            let part = value
                .as_object_mut()
                .and_then(|map| map.remove(field))
                .unwrap_or(Value::Null);
            serde_json::to_vec(&part)
        }),
    };
    let body = match encoded {
        Ok(body) => body,
        Err(err) => {
            return Error::new(500, CODEC_REASON, format!("cannot encode the reply: {err}"))
                .into_response();
        }
    };
    let mut response = Response::new(axum::body::Body::from(body));
    let headers = response.headers_mut();
    for (name, value) in metadata.into_headers().iter() {
        headers.append(name.clone(), value.clone());
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The client a generated `<Service>HttpClient` calls through: an
/// [`HttpClient`] (discovery, balancer, filters, client layers, timeout) and
/// the path prefix its routes are mounted under. Cheap to clone.
///
/// A call fills the binding's path variables, query and body from the request
/// message, names the binding's gRPC method as the call's operation (a
/// [`TransportInfo`] on the request, so client middleware, metrics and
/// breakers see `/pkg.Service/Method`, never the path), and decodes the reply
/// as the generated server encodes it; a non-2xx answer is the [`Error`] its
/// body describes ([`Error::from_http_response`]).
#[derive(Debug, Clone)]
pub struct RouteClient {
    client: Dial,
    prefix: Arc<str>,
}

/// The [`HttpClient`] a [`RouteClient`] sends through.
#[derive(Debug, Clone)]
enum Dial {
    /// Built by the caller.
    Ready(HttpClient),
    /// A fixed base URL, dialled with the default options on the first call.
    Lazy(Arc<LazyClient>),
}

#[derive(Debug)]
struct LazyClient {
    endpoint: String,
    client: OnceCell<HttpClient>,
}

impl RouteClient {
    /// A client of the server at `base_url`: `http://host:port`, optionally
    /// followed by the path prefix its routes are mounted under
    /// (`http://127.0.0.1:8000/orders`). Its [`HttpClient`] (default options:
    /// a 2 s timeout, no layers) is dialled on the first call, so this needs
    /// no runtime; a malformed URL is the error of every call.
    pub fn new(base_url: impl Into<String>) -> Self {
        let base_url: String = base_url.into();
        let (endpoint, prefix) = split_base_url(&base_url);
        Self {
            client: Dial::Lazy(Arc::new(LazyClient {
                endpoint: endpoint.to_owned(),
                client: OnceCell::new(),
            })),
            prefix: prefix.into(),
        }
    }

    /// A client over `client`, with the discovery, balancer, filters, layers
    /// and timeout it was built with.
    pub fn from_client(client: HttpClient) -> Self {
        Self {
            client: Dial::Ready(client),
            prefix: "".into(),
        }
    }

    /// The path prefix every route is called under (empty unless the base URL
    /// of [`new`](Self::new) had one).
    pub fn path_prefix(&self) -> &str {
        &self.prefix
    }

    async fn client(&self) -> Result<&HttpClient, Error> {
        match &self.client {
            Dial::Ready(client) => Ok(client),
            Dial::Lazy(lazy) => {
                lazy.client
                    .get_or_try_init(|| HttpClient::builder().endpoint(&lazy.endpoint).connect())
                    .await
            }
        }
    }

    /// Sends `request` over the binding `spec` and decodes the reply.
    pub async fn invoke<Req, Reply>(&self, spec: &RouteSpec, request: &Req) -> Result<Reply, Error>
    where
        Req: Serialize,
        Reply: DeserializeOwned,
    {
        let request = encode_request(spec, &self.prefix, request)?;
        let response = self.client().await?.send(request).await?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| {
                Error::service_unavailable(
                    "TRANSPORT",
                    format!("reading the reply of {}: {e}", spec.operation),
                )
            })?
            .to_bytes();
        decode_reply(spec, status, &bytes)
    }
}

impl From<HttpClient> for RouteClient {
    fn from(client: HttpClient) -> Self {
        Self::from_client(client)
    }
}

/// `http://host:port/prefix` as the client's target and the path prefix.
fn split_base_url(base_url: &str) -> (&str, &str) {
    let base = base_url.trim_end_matches('/');
    if base.starts_with("discovery:") {
        return (base, "");
    }
    let authority = base.find("://").map_or(0, |i| i + 3);
    match base[authority..].find('/') {
        Some(i) => base.split_at(authority + i),
        None => (base, ""),
    }
}

/// The HTTP request of `request` over the binding `spec`, its URI the path
/// (under `prefix`) and query, its operation the binding's gRPC method.
fn encode_request<Req: Serialize>(
    spec: &RouteSpec,
    prefix: &str,
    request: &Req,
) -> Result<http::Request<Body>, Error> {
    let encode_err = |e: serde_json::Error| {
        Error::new(500, CODEC_REASON, format!("cannot encode the request: {e}"))
    };
    let mut value = serde_json::to_value(request).map_err(encode_err)?;
    let mut path = format!("{prefix}{}", spec.client_path);
    for var in spec.vars {
        let emitted = var.field.emitted(spec.proto_names);
        let text = match take_field(&mut value, emitted) {
            Some(Value::String(s)) => s,
            Some(Value::Null) | None => var.field.zero.to_owned(),
            Some(other) => other.to_string(),
        };
        let encoded = encode_path_value(&text);
        path = path.replace(&format!("{{{emitted}}}"), &encoded);
    }
    let body = match spec.body {
        BodySpec::None => None,
        BodySpec::All => Some(serde_json::to_vec(&value).map_err(encode_err)?),
        BodySpec::Field(proto, json) => {
            let key = if spec.proto_names { proto } else { json };
            let part = take_field(&mut value, key).unwrap_or(Value::Object(Map::new()));
            Some(serde_json::to_vec(&part).map_err(encode_err)?)
        }
    };
    if spec.body != BodySpec::All {
        let mut query = form_urlencoded::Serializer::new(String::new());
        flatten_query(&mut query, "", &value);
        let query = query.finish();
        if !query.is_empty() {
            path.push('?');
            path.push_str(&query);
        }
    }
    let method = match spec.method {
        "*" => Method::POST,
        m => Method::from_bytes(m.as_bytes()).unwrap_or(Method::POST),
    };
    let mut builder = http::Request::builder()
        .method(method)
        .uri(&path)
        .header(header::ACCEPT, "application/json")
        .extension(TransportInfo::new(Kind::Http, spec.operation, ""));
    if body.is_some() {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    builder
        .body(body.map_or_else(Body::empty, Body::from))
        .map_err(|e| Error::new(500, "CLIENT", format!("invalid request to {path}: {e}")))
}

/// The reply message of the binding `spec` from the answer's status and body.
fn decode_reply<Reply: DeserializeOwned>(
    spec: &RouteSpec,
    status: StatusCode,
    bytes: &[u8],
) -> Result<Reply, Error> {
    if !status.is_success() {
        return Err(Error::from_http_response(status, bytes));
    }
    let mut value: Value = if bytes.is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::new(500, CODEC_REASON, format!("invalid JSON reply: {e}")))?
    };
    if let Some(field) = spec.response_body {
        let mut map = Map::new();
        map.insert(field.to_owned(), value);
        value = Value::Object(map);
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        Error::new(
            500,
            CODEC_REASON,
            format!("invalid reply field {path}: {}", err.inner()),
        )
    })
}

fn take_field(value: &mut Value, dotted: &str) -> Option<Value> {
    let mut current = value;
    let mut keys = dotted.split('.').peekable();
    while let Some(key) = keys.next() {
        let map = current.as_object_mut()?;
        if keys.peek().is_none() {
            return map.remove(key);
        }
        current = map.get_mut(key)?;
    }
    None
}

fn encode_path_value(text: &str) -> String {
    // Keep `/` so that `{name=shelves/*}` values stay multi-segment.
    text.split('/')
        .map(|segment| {
            form_urlencoded::byte_serialize(segment.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn flatten_query(query: &mut form_urlencoded::Serializer<'_, String>, prefix: &str, value: &Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten_query(query, &key, value);
            }
        }
        Value::Array(items) => {
            for item in items {
                flatten_query(query, prefix, item);
            }
        }
        Value::Null => {}
        Value::String(s) => {
            query.append_pair(prefix, s);
        }
        other => {
            query.append_pair(prefix, &other.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct Inner {
        id: String,
    }

    /// A number sent as a string, as pbjson's generated code accepts.
    fn number_from_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }

    #[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct Msg {
        user_id: String,
        #[serde(deserialize_with = "number_from_string")]
        page: i32,
        flag: bool,
        tags: Vec<String>,
        inner: Option<Inner>,
    }

    const fn field(proto: &'static str, json: &'static str) -> FieldSpec {
        FieldSpec {
            proto,
            json,
            kind: TextKind::Text,
            repeated: false,
            zero: "",
        }
    }

    static QUERY: &[FieldSpec] = &[
        field("user_id", "userId"),
        field("page", "page"),
        FieldSpec {
            kind: TextKind::Bool,
            ..field("flag", "flag")
        },
        FieldSpec {
            repeated: true,
            ..field("tags", "tags")
        },
        field("inner.id", "inner.id"),
    ];

    static SPEC: RouteSpec = RouteSpec {
        operation: "/pkg.Svc/Get",
        method: "GET",
        path: "/v1/users/{user_id}",
        client_path: "/v1/users/{userId}",
        vars: &[PathVar {
            field: field("user_id", "userId"),
            parts: &[Part::Literal("users"), Part::Capture("user_id")],
        }],
        body: BodySpec::None,
        response_body: None,
        query: QUERY,
        proto_names: false,
    };

    #[test]
    fn path_query_and_types() {
        let params = HashMap::from([("user_id".to_owned(), "7".to_owned())]);
        let msg: Msg = decode_request(
            &SPEC,
            &params,
            Some("page=2&flag=true&tags=a&tags=b&inner.id=x&userId=ignored&nope=1"),
            b"",
        )
        .unwrap();
        assert_eq!(
            msg,
            Msg {
                user_id: "users/7".into(),
                page: 2,
                flag: true,
                tags: vec!["a".into(), "b".into()],
                inner: Some(Inner { id: "x".into() }),
            }
        );
    }

    #[test]
    fn type_errors_name_the_field() {
        let params = HashMap::from([("user_id".to_owned(), "7".to_owned())]);
        let err = decode_request::<Msg>(&SPEC, &params, Some("page=abc"), b"").unwrap_err();
        assert_eq!(err.code(), 400);
        assert_eq!(err.reason(), CODEC_REASON);
        assert!(err.message().contains("page"), "{}", err.message());
    }

    #[test]
    fn routes_record_the_operation_of_each_spec() {
        static POST: RouteSpec = RouteSpec {
            operation: "/pkg.Svc/Update",
            method: "POST",
            ..SPEC
        };
        let (_, operations) = routes(Router::new(), &[&SPEC, &POST]).into_parts();
        let find = |method: Method| operations.find(&method, SPEC.path);
        assert_eq!(find(Method::GET).as_deref(), Some("/pkg.Svc/Get"));
        assert_eq!(find(Method::POST).as_deref(), Some("/pkg.Svc/Update"));
        assert_eq!(find(Method::PUT), None);
    }

    #[test]
    fn client_fills_path_and_query() {
        let msg = Msg {
            user_id: "users/7".into(),
            page: 3,
            tags: vec!["a b".into()],
            ..Default::default()
        };
        let req = encode_request(&SPEC, "/api", &msg).unwrap();
        let uri = req.uri().to_string();
        assert_eq!(req.method(), Method::GET);
        assert!(uri.starts_with("/api/v1/users/users/7?"), "{uri}");
        assert!(uri.contains("page=3"), "{uri}");
        assert!(uri.contains("tags=a+b"), "{uri}");
        assert!(!uri.contains("userId"), "{uri}");
        assert_eq!(axum::body::HttpBody::size_hint(req.body()).exact(), Some(0));
        assert!(req.headers().get(header::CONTENT_TYPE).is_none());
        let info = TransportInfo::from_request(&req).unwrap();
        assert_eq!(info.operation(), "/pkg.Svc/Get");
    }

    #[test]
    fn client_sends_the_body_field_and_reads_the_response_body() {
        static PATCH: RouteSpec = RouteSpec {
            method: "PATCH",
            body: BodySpec::Field("inner", "inner"),
            response_body: Some("inner"),
            ..SPEC
        };
        let msg = Msg {
            inner: Some(Inner { id: "x".into() }),
            page: 2,
            ..Default::default()
        };
        let req = encode_request(&PATCH, "", &msg).unwrap();
        assert_eq!(req.method(), Method::PATCH);
        assert!(
            req.uri().to_string().starts_with("/v1/users/?"),
            "{}",
            req.uri()
        );
        assert_eq!(req.headers()[header::CONTENT_TYPE], "application/json");
        let reply: Msg = decode_reply(&PATCH, StatusCode::OK, br#"{"id":"y"}"#).unwrap();
        assert_eq!(reply.inner, Some(Inner { id: "y".into() }));
        let err = decode_reply::<Msg>(&PATCH, StatusCode::OK, br#"{"id":1}"#).unwrap_err();
        assert!(err.message().contains("inner.id"), "{}", err.message());
        let err = decode_reply::<Msg>(
            &PATCH,
            StatusCode::NOT_FOUND,
            br#"{"code":404,"reason":"GONE","message":"no"}"#,
        )
        .unwrap_err();
        assert_eq!((err.code(), err.reason()), (404, "GONE"));
    }

    #[test]
    fn base_urls_split_into_target_and_prefix() {
        assert_eq!(split_base_url("http://h:1"), ("http://h:1", ""));
        assert_eq!(split_base_url("http://h:1/"), ("http://h:1", ""));
        assert_eq!(
            split_base_url("http://h:1/api/v2/"),
            ("http://h:1", "/api/v2")
        );
        assert_eq!(split_base_url("h:1/api"), ("h:1", "/api"));
        assert_eq!(
            split_base_url("discovery:///orders"),
            ("discovery:///orders", "")
        );
    }
}
