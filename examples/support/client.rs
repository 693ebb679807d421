//! A small JSON-over-HTTP client for the gateway's API, as `curl` would call
//! it: the `--smoke` run of `order_service` and the shop's end-to-end tests
//! use it (`#[path]`-included, so it names only hyper, serde_json and http).

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// Calls one base URL (`http://127.0.0.1:8000`), with a bearer token once
/// [`Api::with_token`] set one.
#[derive(Clone)]
pub struct Api {
    base: String,
    token: Option<String>,
    http: Hyper<HttpConnector, Full<bytes::Bytes>>,
}

/// A reply: the HTTP status, the body, and the body as JSON (`Value::Null`
/// when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The Kratos error reason of an error reply.
    pub fn reason(&self) -> &str {
        self.body["reason"].as_str().unwrap_or("")
    }
}

impl Api {
    /// A client of `base`, without a token.
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_owned(),
            token: None,
            http: Hyper::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// The same client, sending `Authorization: Bearer {token}`.
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    /// `GET {base}{path}`.
    pub async fn get(&self, path: &str) -> Result<Reply, Box<dyn std::error::Error + Send + Sync>> {
        self.call(http::Method::GET, path, None).await
    }

    /// `POST {base}{path}` with `body` as JSON.
    pub async fn post(
        &self,
        path: &str,
        body: Value,
    ) -> Result<Reply, Box<dyn std::error::Error + Send + Sync>> {
        self.call(http::Method::POST, path, Some(body)).await
    }

    async fn call(
        &self,
        method: http::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Reply, Box<dyn std::error::Error + Send + Sync>> {
        let mut req = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(http::header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            req = req.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                req = req.header(http::header::CONTENT_TYPE, "application/json");
                Full::from(serde_json::to_vec(&json)?)
            }
            None => Full::default(),
        };
        let res = self.http.request(req.body(body)?).await?;
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
}
