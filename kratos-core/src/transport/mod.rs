//! Transport info: what a middleware knows about the call it wraps.

mod attempt;
pub mod headers;
mod outcome;

use std::fmt;
use std::sync::Arc;

use axum_core::body::Body;

use crate::{AppInfo, Error};

pub use attempt::Attempt;
pub use outcome::response_error;

/// The protocol of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// HTTP/JSON.
    Http,
    /// gRPC (over HTTP/2).
    Grpc,
}

impl Kind {
    /// The name used in logs and metrics: `http` or `grpc`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Grpc => "grpc",
        }
    }

    /// Encodes `err` the way this transport sends errors: a JSON body with the
    /// code as status for HTTP, a trailers-only status with ErrorInfo for gRPC;
    /// either way the response carries `err` as an extension (its typed
    /// outcome, read by [`response_error`]).
    pub fn error_response(&self, err: &Error) -> http::Response<Body> {
        match self {
            Kind::Http => err.to_http_response(),
            Kind::Grpc => err.to_grpc_response(),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the transport knows about a call, inserted as an `http::Request`
/// extension before any middleware runs, on the server and the client side.
///
/// The operation is `/package.Service/Method` for gRPC (and for HTTP routes
/// generated from a `.proto`), the route template (`/v1/users/{id}`) for
/// hand-written HTTP routes, so middleware matches operations without parsing
/// paths. Request and reply headers are those of the `http::Request` and
/// `http::Response` the middleware already holds: they are not copied here.
/// On the server side it also carries the [`AppInfo`] of the application
/// serving the call ([`app`](Self::app)).
///
/// ```
/// use kratos_core::{Kind, TransportInfo};
///
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(TransportInfo::new(Kind::Grpc, "/helloworld.Greeter/SayHello", "grpc://127.0.0.1:9000"));
/// let info = TransportInfo::from_request(&req).unwrap();
/// assert_eq!(info.kind(), Kind::Grpc);
/// assert_eq!(info.operation(), "/helloworld.Greeter/SayHello");
/// ```
#[derive(Debug, Clone)]
pub struct TransportInfo {
    kind: Kind,
    operation: Operation,
    endpoint: Arc<str>,
    app: Option<AppInfo>,
    single_reply: bool,
}

/// Where the operation's text lives.
#[derive(Debug, Clone)]
enum Operation {
    Shared(Arc<str>),
    /// The request's own path (a gRPC method), shared without copying.
    Path(http::uri::PathAndQuery),
}

impl TransportInfo {
    /// Transport info for one call.
    pub fn new(kind: Kind, operation: impl Into<Arc<str>>, endpoint: impl Into<Arc<str>>) -> Self {
        Self {
            kind,
            operation: Operation::Shared(operation.into()),
            endpoint: endpoint.into(),
            app: None,
            single_reply: false,
        }
    }

    /// Transport info whose operation is the path of `path`, e.g. a gRPC
    /// request's `/pkg.Service/Method`: the request's bytes are shared, not
    /// copied, so the transports build it for every call without allocating.
    ///
    /// ```
    /// use kratos_core::{Kind, TransportInfo};
    ///
    /// let path = http::uri::PathAndQuery::from_static("/helloworld.Greeter/SayHello");
    /// let info = TransportInfo::from_path(Kind::Grpc, path, "grpc://127.0.0.1:9000");
    /// assert_eq!(info.operation(), "/helloworld.Greeter/SayHello");
    /// ```
    pub fn from_path(
        kind: Kind,
        path: http::uri::PathAndQuery,
        endpoint: impl Into<Arc<str>>,
    ) -> Self {
        Self {
            kind,
            operation: Operation::Path(path),
            endpoint: endpoint.into(),
            app: None,
            single_reply: false,
        }
    }

    /// Transport info for `req`, its operation being the request's path.
    pub fn for_path<B>(kind: Kind, req: &http::Request<B>, endpoint: impl Into<Arc<str>>) -> Self {
        match req.uri().path_and_query() {
            Some(path) => Self::from_path(kind, path.clone(), endpoint),
            None => Self::new(kind, req.uri().path(), endpoint),
        }
    }

    /// The same info with another endpoint: a client sets its target on the
    /// operation a caller chose (a generated client's `/pkg.Service/Method`).
    pub fn with_endpoint(mut self, endpoint: impl Into<Arc<str>>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// The same info for a call `app` serves (what a server attaches).
    pub fn with_app(mut self, app: AppInfo) -> Self {
        self.app = Some(app);
        self
    }

    /// The same info for a call whose reply is known to be one message: a
    /// gRPC server sets it for the methods without server streaming that its
    /// registered descriptors describe.
    pub fn with_single_reply(mut self) -> Self {
        self.single_reply = true;
        self
    }

    /// The info a transport attached to `req`, if any.
    pub fn from_request<B>(req: &http::Request<B>) -> Option<&TransportInfo> {
        req.extensions().get()
    }

    /// HTTP or gRPC.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The operation: the gRPC full method or the HTTP route template.
    pub fn operation(&self) -> &str {
        match &self.operation {
            Operation::Shared(operation) => operation,
            Operation::Path(path) => path.path(),
        }
    }

    /// The server's endpoint (server side) or the target (client side).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The application serving the call: set on the server side, `None` on
    /// a client's call. [`AppInfo::from_request`] reads it from a request.
    pub fn app(&self) -> Option<&AppInfo> {
        self.app.as_ref()
    }

    /// Whether the reply is known to be one message (a unary or
    /// client-streaming gRPC method, by the descriptors the server has);
    /// `false` when it may stream or nobody knows. The recovery middleware
    /// guards only replies that may stream.
    pub fn single_reply(&self) -> bool {
        self.single_reply
    }
}
