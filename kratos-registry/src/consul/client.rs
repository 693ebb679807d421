//! A small client for the few Consul HTTP API endpoints the registry uses,
//! over the workspace's pooled HTTP client (`kratos_net::http`).

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use kratos_net::http as net;
use serde::Deserialize;

use crate::RegistryError;

/// One entry of `GET /v1/health/service/<name>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HealthEntry {
    pub(crate) service: HealthService,
}

/// The `Service` part of a health entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HealthService {
    #[serde(rename = "ID")]
    pub(crate) id: String,
    pub(crate) service: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) tags: Vec<String>,
    #[serde(default)]
    pub(crate) address: String,
    #[serde(default)]
    pub(crate) port: u16,
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) meta: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) tagged_addresses: BTreeMap<String, TaggedAddress>,
}

/// A tagged address: `{"Address", "Port"}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TaggedAddress {
    #[serde(default)]
    pub(crate) address: String,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// What a TTL check update found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CheckUpdate {
    /// The agent knows the check and took the update.
    Updated,
    /// The agent does not know the check (it restarted, or removed the
    /// service after it was critical for too long).
    Unknown,
}

/// The Consul HTTP API client.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    base: String,
    token: Option<String>,
    datacenter: Option<String>,
    request_timeout: Duration,
    http: net::Client<Full<Bytes>>,
}

impl Client {
    pub(crate) fn new(
        address: &str,
        token: Option<String>,
        datacenter: Option<String>,
        request_timeout: Duration,
        http: &net::ClientOptions,
    ) -> Self {
        let address = address.trim_end_matches('/');
        let base = if address.contains("://") {
            address.to_owned()
        } else {
            format!("http://{address}")
        };
        Self {
            base,
            token,
            datacenter,
            request_timeout,
            http: net::client(http),
        }
    }

    pub(crate) fn address(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> String {
        let mut url = format!("{}{}", self.base, path);
        let mut sep = '?';
        let dc = self.datacenter.iter().map(|dc| ("dc", dc.clone()));
        for (k, v) in query.iter().map(|(k, v)| (*k, v.clone())).chain(dc) {
            url.push(sep);
            url.push_str(k);
            if !v.is_empty() {
                url.push('=');
                url.push_str(&encode(&v));
            }
            sep = '&';
        }
        url
    }

    /// Sends a request and reads the whole answer (at most
    /// [`net::DEFAULT_BODY_LIMIT`] bytes) within `timeout`.
    async fn send(
        &self,
        method: Method,
        url: String,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<(StatusCode, http::HeaderMap, Bytes), RegistryError> {
        let mut req = Request::builder().method(method.clone()).uri(&url);
        if let Some(token) = &self.token {
            req = req.header("x-consul-token", token);
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| {
                RegistryError::other(format!("bad Consul request {url}")).with_source(e)
            })?;
        let resp = net::send(&self.http, req, timeout, net::DEFAULT_BODY_LIMIT)
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    RegistryError::timeout(format!(
                        "the Consul agent at {} did not answer {method} {url} within {timeout:?}",
                        self.base
                    ))
                } else if e.is_too_large() {
                    RegistryError::other(format!(
                        "the Consul agent at {} answered {method} {url} with a body too large to read",
                        self.base
                    ))
                    .with_source(e)
                } else if e.is_body() {
                    RegistryError::unavailable(format!(
                        "reading the answer of the Consul agent at {} failed",
                        self.base
                    ))
                    .with_source(e)
                } else {
                    RegistryError::unavailable(format!(
                        "Consul agent at {} unreachable ({method} {url}); is the agent running?",
                        self.base
                    ))
                    .with_source(e)
                }
            })?;
        let (parts, body) = resp.into_parts();
        Ok((parts.status, parts.headers, body))
    }

    fn failed(&self, what: &str, status: StatusCode, body: &[u8]) -> RegistryError {
        let text = String::from_utf8_lossy(body);
        let hint = match status {
            StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => "; check the ACL token",
            _ => "",
        };
        let message = format!(
            "Consul agent at {} refused to {what}: {status} {}{hint}",
            self.base,
            text.trim()
        );
        if status.is_server_error() {
            RegistryError::unavailable(message)
        } else {
            RegistryError::other(message)
        }
    }

    /// `PUT /v1/agent/service/register`.
    pub(crate) async fn register(&self, body: &serde_json::Value) -> Result<(), RegistryError> {
        let url = self.url("/v1/agent/service/register", &[]);
        let (status, _, answer) = self
            .send(
                Method::PUT,
                url,
                Some(body.to_string().into_bytes()),
                self.request_timeout,
            )
            .await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(self.failed("register a service", status, &answer))
        }
    }

    /// `PUT /v1/agent/service/deregister/<id>`; an unknown id is not an error.
    pub(crate) async fn deregister(&self, id: &str) -> Result<(), RegistryError> {
        let url = self.url(&format!("/v1/agent/service/deregister/{}", encode(id)), &[]);
        let (status, _, answer) = self
            .send(Method::PUT, url, None, self.request_timeout)
            .await?;
        if status.is_success() || status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(self.failed("deregister a service", status, &answer))
        }
    }

    /// `PUT /v1/agent/check/update/<check_id>`.
    pub(crate) async fn update_check(
        &self,
        check_id: &str,
        status: &str,
    ) -> Result<CheckUpdate, RegistryError> {
        let url = self.url(&format!("/v1/agent/check/update/{}", encode(check_id)), &[]);
        let body = serde_json::json!({"Status": status, "Output": ""});
        let (code, _, answer) = self
            .send(
                Method::PUT,
                url,
                Some(body.to_string().into_bytes()),
                self.request_timeout,
            )
            .await?;
        if code.is_success() {
            return Ok(CheckUpdate::Updated);
        }
        // Consul >= 1.11 answers 404; older agents 500 with this text.
        let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
        if code == StatusCode::NOT_FOUND
            || text.contains("unknown check")
            || text.contains("does not have associated ttl")
        {
            return Ok(CheckUpdate::Unknown);
        }
        Err(self.failed("update a TTL check", code, &answer))
    }

    /// `GET /v1/health/service/<name>?passing`, blocking when `index` > 0.
    /// Returns the entries and the `X-Consul-Index` (0 when missing).
    pub(crate) async fn health_service(
        &self,
        name: &str,
        index: u64,
        wait: Duration,
    ) -> Result<(Vec<HealthEntry>, u64), RegistryError> {
        let mut query = vec![("passing", String::new())];
        let mut timeout = self.request_timeout;
        if index > 0 {
            query.push(("index", index.to_string()));
            query.push(("wait", format!("{}ms", wait.as_millis())));
            // Consul adds up to wait/16 of jitter.
            timeout += wait + wait / 16;
        }
        let url = self.url(&format!("/v1/health/service/{}", encode(name)), &query);
        let (status, headers, body) = self.send(Method::GET, url, None, timeout).await?;
        if !status.is_success() {
            return Err(self.failed("list healthy instances", status, &body));
        }
        let index = headers
            .get("x-consul-index")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let entries = serde_json::from_slice(&body).map_err(|e| {
            RegistryError::invalid_instance(format!(
                "the Consul agent at {} answered a health query with unexpected JSON",
                self.base
            ))
            .with_source(e)
        })?;
        Ok((entries, index))
    }
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
