//! The client side of a generated binding: [`RouteClient`] fills the HTTP
//! request from the message and decodes the reply as the server encodes it.

use std::sync::Arc;

use axum::body::Body;
use http::{Method, StatusCode, header};
use http_body_util::BodyExt;
use kratos_core::{Error, Kind, TransportInfo};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use super::{BodySpec, RouteSpec};
use crate::http::{CODEC_REASON, HttpClient};

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
pub(super) fn split_base_url(base_url: &str) -> (&str, &str) {
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
pub(super) fn encode_request<Req: Serialize>(
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
pub(super) fn decode_reply<Reply: DeserializeOwned>(
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
