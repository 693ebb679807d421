//! [`HttpClient`]: a discovery-aware HTTP/JSON client.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body_util::BodyExt;
use kratos_core::{Error, Kind};
use kratos_selector::{Done, DoneInfo, Node, Selector};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::ServiceExt;
use tower_service::Service;

use crate::client_builder::{ClientBuilder, ClientService, wrap};
use crate::discovery::{ClientInfoService, Resolver};
use crate::pick::{Attempted, Failure, Picker, Transport};
use crate::replay::ReplayBody;

pub use crate::client_builder::BoxError;

/// The service an [`HttpClient`] sends a request through, and that client
/// layers wrap: the [`ClientService`] both clients share. The request carries
/// only a path (and query); the innermost service picks the node, and the
/// response body is read whole.
pub type HttpService = ClientService;

/// An HTTP/JSON client that picks a node per call, as Go Kratos's
/// `transport/http` client.
///
/// Dial `discovery:///<service>` with a [`Discovery`](kratos_registry::Discovery), or `http://host:port`.
/// Nodes registered as `https://` (or `http://…?isSecure=true`) are dialled
/// over TLS (feature `tls`; see `ClientBuilder::tls`). A reply body is read
/// up to [`reply_limit`](ClientBuilder::reply_limit) (16 MiB by default).
/// [`invoke`](HttpClient::invoke) sends a JSON body and decodes a JSON reply;
/// a non-2xx answer becomes the kratos [`Error`] its body describes
/// ([`Error::from_http_response`]). No node: 503 `NODE_NOT_FOUND`; no answer
/// within the timeout (default 2 s): 504 `TIMEOUT`; connection failure: 503
/// `TRANSPORT`. Each call reports its outcome to the balancer (503 and 504
/// count against the node; a failed connection or a timeout ejects it from
/// rotation for a while). A call whose connection was refused goes to
/// another node, whatever its method, as on [`GrpcChannel`](crate::grpc::GrpcChannel).
/// Cheap to clone.
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
pub type HttpClientBuilder = ClientBuilder<HttpClient>;

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("target", &self.target)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder<HttpClient> {
    /// Resolves the target and returns the client (see
    /// [`GrpcChannelBuilder::connect`](crate::grpc::GrpcChannelBuilder::connect)
    /// for what it waits for).
    pub async fn connect(self) -> Result<HttpClient, Error> {
        let ClientBuilder {
            options, layers, ..
        } = self;
        let (selector, resolver) = options.resolve("http", |_| {}).await?;
        let client = kratos_net::http::client(&options.net_options());
        let target: Arc<str> = options.endpoint.into();
        let pick = PickService {
            picker: Arc::new(Picker {
                selector: selector.clone(),
                target: target.clone(),
                timeout: options.timeout,
                transport: HttpTransport {
                    client,
                    reply_limit: options.reply_limit,
                },
            }),
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

impl ClientBuilder<HttpClient> {
    /// The most of a reply body the client reads (default
    /// [`DEFAULT_BODY_LIMIT`](kratos_net::http::DEFAULT_BODY_LIMIT), 16
    /// MiB). A longer reply fails the call with 502 [`REPLY_TOO_LARGE`]
    /// once the limit is reached (or at once when its `content-length`
    /// says so), without buffering the rest; it does not count against the
    /// node.
    pub fn reply_limit(mut self, bytes: usize) -> Self {
        self.options.reply_limit = bytes;
        self
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
            .body(Body::from(body))
            .map_err(|e| Error::bad_request("INVALID_REQUEST", e.to_string()))?;
        self.invoke_with(request).await
    }

    /// Like [`invoke`](Self::invoke), for a request you built (headers,
    /// extensions such as [`NodeFilters`](kratos_selector::NodeFilters)); its URI is a path and query.
    ///
    /// The call's operation (what metrics, breakers and matchers see) is its
    /// path; to name the route template instead, so that `/v1/orders/1` and
    /// `/v1/orders/2` are one operation, put a
    /// [`TransportInfo`](kratos_core::TransportInfo) in its extensions:
    /// `TransportInfo::new(Kind::Http, "/v1/orders/{id}", "")` (the client
    /// sets the endpoint).
    pub async fn invoke_with<Resp>(&self, request: http::Request<Body>) -> Result<Resp, Error>
    where
        Resp: DeserializeOwned,
    {
        let resp = self.send(request).await?;
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| {
                Error::service_unavailable("TRANSPORT", format!("reading the reply: {e}"))
            })?
            .to_bytes();
        if !parts.status.is_success() {
            return Err(Error::from_http_response(parts.status, &body));
        }
        let body: &[u8] = if body.is_empty() { b"null" } else { &body };
        serde_json::from_slice(body)
            .map_err(|e| Error::internal_server("CODEC", format!("decode response: {e}")))
    }

    /// Sends a request through the client's stack as is and returns the
    /// response, whatever its status.
    pub async fn send(&self, request: http::Request<Body>) -> Result<http::Response<Body>, Error> {
        self.service
            .clone()
            .oneshot(request)
            .await
            .map_err(Error::from_error)
    }
}

/// The reason of the error a reply over the client's reply limit gets.
pub const REPLY_TOO_LARGE: &str = "REPLY_TOO_LARGE";

/// The 502 for a reply body over `limit` bytes: the server answered, but
/// with more than this client reads.
fn reply_too_large(node: &Node, limit: usize) -> Error {
    Error::new(
        http::StatusCode::BAD_GATEWAY.as_u16(),
        REPLY_TOO_LARGE,
        format!(
            "the reply from {} is over {limit} bytes (the client's reply_limit)",
            node.address()
        ),
    )
}

/// Picks a node per call and sends the request there.
#[derive(Clone)]
struct PickService {
    picker: Arc<Picker<HttpTransport>>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Service<http::Request<Body>> for PickService {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let picker = self.picker.clone();
        Box::pin(async move { picker.call(req).await.map_err(BoxError::from) })
    }
}

/// Sends HTTP/1.1 requests through a pooled hyper client, reading each
/// response whole (at most `reply_limit` bytes of it).
struct HttpTransport {
    client: kratos_net::http::Client<ReplayBody<Body>>,
    reply_limit: usize,
}

impl Transport for HttpTransport {
    type Body = Body;
    type Sent = http::Response<hyper::body::Incoming>;
    type Response = http::Response<Body>;

    fn send(
        &self,
        node: &Node,
        mut req: http::Request<ReplayBody<Body>>,
    ) -> impl Future<Output = Result<Self::Sent, BoxError>> + Send {
        let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        // The node's scheme: `http`, or `https` for a TLS node.
        let uri = format!("{}://{}{path}", node.scheme(), node.address()).parse::<http::Uri>();
        let client = self.client.clone();
        async move {
            *req.uri_mut() = uri?;
            Ok(client.request(req).await?)
        }
    }

    fn failure(err: &BoxError) -> Failure {
        match err.downcast_ref::<hyper_util::client::legacy::Error>() {
            Some(e) if e.is_connect() => Failure::Connect,
            _ => Failure::Other,
        }
    }

    async fn finish(
        &self,
        call: Attempted<'_>,
        resp: Self::Sent,
        done: Done,
    ) -> Result<Self::Response, Error> {
        let (parts, body) = resp.into_parts();
        let limit = self.reply_limit;
        // A body announced too large (its content-length) is not waited for.
        let read = if http_body::Body::size_hint(&body).lower() > limit as u64 {
            Err(None)
        } else {
            let body = http_body_util::Limited::new(body, limit).collect();
            match tokio::time::timeout_at(call.deadline, body).await {
                Ok(Ok(body)) => Ok(body.to_bytes()),
                Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(None),
                Ok(Err(e)) => Err(Some(call.failed(&e))),
                Err(_) => Err(Some(call.timed_out())),
            }
        };
        let body = match read {
            Ok(body) => body,
            Err(None) => {
                // The server answered, with too much: not the node's fault.
                let err = reply_too_large(call.node, limit);
                done.done(DoneInfo::new().with_error(err.clone()));
                return Err(err);
            }
            Err(Some(err)) => {
                done.done(DoneInfo::unreachable(err.clone()));
                return Err(err);
            }
        };
        let mut parts = parts;
        let info = match parts.status.as_u16() {
            200..=399 => DoneInfo::new(),
            status => {
                // The typed outcome: the error the body describes, decoded
                // once here for every client middleware.
                let err = Error::from_http_response(parts.status, &body);
                parts.extensions.insert(err.clone());
                match status {
                    503 | 504 => DoneInfo::failed(err),
                    _ => DoneInfo::new().with_error(err),
                }
            }
        };
        done.done(info);
        Ok(http::Response::from_parts(parts, Body::from(body)))
    }
}
