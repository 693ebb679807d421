//! The small HTTP/1.1 client the remote sources share (hyper-util's pooled client).

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::ConfigError;

/// A reply: status and whole body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    #[cfg_attr(not(feature = "consul"), allow(dead_code))]
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
}

#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl HttpClient {
    pub(crate) fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends `req`, reading the whole reply within `timeout`; `origin` names
    /// the service in errors.
    pub(crate) async fn send(
        &self,
        origin: &str,
        req: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<Reply, ConfigError> {
        let uri = req.uri().to_string();
        let call = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|err| ConfigError::source(origin, format!("{uri}: {err}")))?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|err| ConfigError::source(origin, format!("{uri}: {err}")))?
                .to_bytes();
            Ok(Reply {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(timeout, call).await.map_err(|_| {
            ConfigError::source(origin, format!("{uri}: no answer within {timeout:?}"))
        })?
    }

    /// `GET url`.
    #[cfg_attr(not(any(feature = "apollo", feature = "nacos")), allow(dead_code))]
    pub(crate) async fn get(
        &self,
        origin: &str,
        url: &str,
        timeout: Duration,
    ) -> Result<Reply, ConfigError> {
        let req = Request::get(url)
            .body(Full::default())
            .map_err(|err| ConfigError::source(origin, format!("{url}: {err}")))?;
        self.send(origin, req, timeout).await
    }
}

/// Percent-encodes a query or form value.
pub(crate) fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
