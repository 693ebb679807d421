//! [`HttpClient`]: a discovery-aware HTTP/JSON client.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kratos_core::{Error, Kind};
use kratos_selector::{DoneInfo, NodeFilters, Selector};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tower_layer::Layer;
use tower_service::Service;

use crate::client_builder::{ClientBuilder, wrap};
use crate::discovery::{ClientInfoService, Resolver, node_not_found};

/// A boxed error, as the client's tower stack returns it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The service an [`HttpClient`] sends a request through, and that client
/// layers wrap: the request carries only a path (and query); the innermost
/// service picks the node, and the response body is read whole.
pub type HttpService =
    BoxCloneSyncService<http::Request<Full<Bytes>>, http::Response<Full<Bytes>>, BoxError>;

/// An HTTP/JSON client that picks a node per call, as Go Kratos's
/// `transport/http` client.
///
/// Dial `discovery:///<service>` with a [`Discovery`](kratos_registry::Discovery), or `http://host:port`.
/// [`invoke`](HttpClient::invoke) sends a JSON body and decodes a JSON reply;
/// a non-2xx answer becomes the kratos [`Error`] its body describes
/// ([`Error::from_http_response`]). No node: 503 `NODE_NOT_FOUND`; no answer
/// within the timeout (default 2 s): 504 `TIMEOUT`; connection failure: 503
/// `TRANSPORT`. Each call reports its outcome to the balancer (transport
/// errors, 503 and 504 count against the node). Cheap to clone.
///
/// ```no_run
/// use kratos_registry::MemoryRegistry;
/// use kratos_transport::http::HttpClient;
///
/// #[derive(serde::Serialize)]
/// struct CreateUser { name: String }
/// #[derive(serde::Deserialize)]
/// struct User { id: u64, name: String }
///
/// # async fn run() -> Result<(), kratos_core::Error> {
/// let users = HttpClient::builder()
///     .endpoint("discovery:///users")
///     .discovery(MemoryRegistry::global())
///     .connect()
///     .await?;
/// let user: User = users
///     .invoke(http::Method::POST, "/v1/users", &CreateUser { name: "ada".into() })
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct HttpClient {
    service: HttpService,
    selector: Selector,
    target: Arc<str>,
    _resolver: Option<Arc<Resolver>>,
}

/// Configures and dials a [`HttpClient`]: the shared options of
/// [`ClientBuilder`], then [`layer`](ClientBuilder::layer) and
/// [`connect`](ClientBuilder::connect).
pub type HttpClientBuilder = ClientBuilder<HttpService>;

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("target", &self.target)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder<HttpService> {
    /// Adds a client middleware (a tower layer); requests already carry
    /// [`TransportInfo`](kratos_core::TransportInfo). The last layer added is
    /// the outermost.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<HttpService> + Send + Sync + 'static,
        L::Service: Service<http::Request<Full<Bytes>>, Response = http::Response<Full<Bytes>>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<http::Request<Full<Bytes>>>>::Error: Into<BoxError>,
        <L::Service as Service<http::Request<Full<Bytes>>>>::Future: Send + 'static,
    {
        self.layers.push(Arc::new(move |inner| {
            HttpService::new(layer.layer(inner).map_err(Into::into))
        }));
        self
    }

    /// Resolves the target and returns the client (see
    /// [`GrpcChannelBuilder::connect`](crate::grpc::GrpcChannelBuilder::connect)
    /// for what it waits for).
    pub async fn connect(self) -> Result<HttpClient, Error> {
        let ClientBuilder { options, layers } = self;
        let (selector, resolver) = options.resolve("http", |_| {}).await?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(options.timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let target: Arc<str> = options.endpoint.into();
        let pick = PickService {
            selector: selector.clone(),
            client,
            target: target.clone(),
            timeout: options.timeout,
        };
        // Without user layers, one boxed service per call instead of two.
        let service = if layers.is_empty() {
            HttpService::new(ClientInfoService::new(pick, Kind::Http, &target))
        } else {
            let layered = wrap(&layers, HttpService::new(pick));
            HttpService::new(ClientInfoService::new(layered, Kind::Http, &target))
        };
        Ok(HttpClient {
            service,
            selector,
            target,
            _resolver: resolver.map(Arc::new),
        })
    }
}

impl HttpClient {
    /// A builder with the defaults: smooth weighted round-robin, a 2 s
    /// timeout, no blocking.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }

    /// The selector picking this client's nodes.
    pub fn selector(&self) -> &Selector {
        &self.selector
    }

    /// The target this client was dialled with.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Sends `req` as JSON with `method` to `path` (and query) and decodes
    /// the JSON reply. `GET` and `HEAD` send no body: put their arguments in
    /// the query.
    pub async fn invoke<Req, Resp>(
        &self,
        method: http::Method,
        path: &str,
        req: &Req,
    ) -> Result<Resp, Error>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let body = if method == http::Method::GET || method == http::Method::HEAD {
            Bytes::new()
        } else {
            serde_json::to_vec(req)
                .map_err(|e| Error::internal_server("CODEC", format!("encode request: {e}")))?
                .into()
        };
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(body))
            .map_err(|e| Error::bad_request("INVALID_REQUEST", e.to_string()))?;
        self.invoke_with(request).await
    }

    /// Like [`invoke`](Self::invoke), for a request you built (headers,
    /// extensions such as [`NodeFilters`]); its URI is a path and query.
    pub async fn invoke_with<Resp>(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<Resp, Error>
    where
        Resp: DeserializeOwned,
    {
        let resp = self.send(request).await?;
        let (parts, body) = resp.into_parts();
        let Ok(body) = body.collect().await;
        let body = body.to_bytes();
        if !parts.status.is_success() {
            return Err(Error::from_http_response(parts.status, &body));
        }
        let body: &[u8] = if body.is_empty() { b"null" } else { &body };
        serde_json::from_slice(body)
            .map_err(|e| Error::internal_server("CODEC", format!("decode response: {e}")))
    }

    /// Sends a request through the client's stack as is and returns the
    /// response, whatever its status.
    pub async fn send(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<http::Response<Full<Bytes>>, Error> {
        self.service
            .clone()
            .oneshot(request)
            .await
            .map_err(Error::from_error)
    }
}

/// Picks a node, sends the request there, reads the body, reports done info.
#[derive(Clone)]
struct PickService {
    selector: Selector,
    client: Client<HttpConnector, Full<Bytes>>,
    target: Arc<str>,
    timeout: Duration,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Service<http::Request<Full<Bytes>>> for PickService {
    type Response = http::Response<Full<Bytes>>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: http::Request<Full<Bytes>>) -> Self::Future {
        let (node, done) = match self
            .selector
            .select_with(req.extensions().get::<NodeFilters>())
        {
            Ok(picked) => picked,
            Err(err) => {
                let err = node_not_found(&self.target, &err);
                return Box::pin(async move { Err(err.into()) });
            }
        };
        let path = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let client = self.client.clone();
        let (target, timeout) = (self.target.clone(), self.timeout);
        Box::pin(async move {
            let uri = format!("http://{}{path}", node.address());
            match uri.parse() {
                Ok(uri) => *req.uri_mut() = uri,
                Err(e) => {
                    let err = Error::service_unavailable(
                        "INVALID_NODE",
                        format!("{target}: node {}: {e}", node.address()),
                    );
                    done.done(DoneInfo::failed(err.clone()));
                    return Err(err.into());
                }
            }
            let call = async {
                let resp = client.request(req).await?;
                let (parts, body) = resp.into_parts();
                let body = body.collect().await?.to_bytes();
                Ok::<_, BoxError>(http::Response::from_parts(parts, Full::new(body)))
            };
            match tokio::time::timeout(timeout, call).await {
                Err(_) => {
                    let err = Error::gateway_timeout(
                        "TIMEOUT",
                        format!(
                            "{target}: no answer from {} within {timeout:?}",
                            node.address()
                        ),
                    );
                    done.done(DoneInfo::failed(err.clone()));
                    Err(err.into())
                }
                Ok(Err(e)) => {
                    let err = Error::service_unavailable(
                        "TRANSPORT",
                        format!("{target}: {}: {e}", node.address()),
                    );
                    done.done(DoneInfo::failed(err.clone()));
                    Err(err.into())
                }
                Ok(Ok(resp)) => {
                    let status = resp.status();
                    let info = match status.as_u16() {
                        200..=299 => DoneInfo::new(),
                        503 | 504 => DoneInfo::failed(format!("HTTP {status}")),
                        _ => DoneInfo::new().with_error(format!("HTTP {status}")),
                    };
                    done.done(info.with_reply_metadata(resp.headers().clone()));
                    Ok(resp)
                }
            }
        })
    }
}
