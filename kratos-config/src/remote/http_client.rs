//! The small HTTP/1.1 client the remote sources share (the workspace's
//! pooled client, `kratos_net::http`).

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use kratos_net::http as net;

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
    client: net::Client<Full<Bytes>>,
}

impl HttpClient {
    pub(crate) fn new() -> Self {
        Self::with_options(&net::ClientOptions::new())
    }

    /// A client dialling `https://` with `tls`: what every source's `tls`
    /// method builds.
    #[cfg(feature = "tls")]
    pub(crate) fn with_tls(tls: kratos_net::tls::ClientTls) -> Self {
        Self::with_options(&net::ClientOptions::new().tls(tls))
    }

    fn with_options(options: &net::ClientOptions) -> Self {
        Self {
            client: net::client(options),
        }
    }

    /// Sends `req`, reading the whole reply (at most
    /// [`net::DEFAULT_BODY_LIMIT`] bytes) within `timeout`; `origin` names
    /// the service in errors.
    pub(crate) async fn send(
        &self,
        origin: &str,
        req: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<Reply, ConfigError> {
        let uri = req.uri().to_string();
        let resp = net::send(&self.client, req, timeout, net::DEFAULT_BODY_LIMIT)
            .await
            .map_err(|err| ConfigError::source(origin, format!("{uri}: {err}")))?;
        let (parts, body) = resp.into_parts();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
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
