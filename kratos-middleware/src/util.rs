//! Helpers shared by the built-ins: the call's kind and operation, rejections,
//! and the error a response carries.

use axum_core::body::Body;
use bytes::Bytes;
use http::{Request, Response, header};
use http_body::Body as HttpBody;
use http_body_util::BodyExt;
use kratos_core::{Error, Kind, TransportInfo};

use crate::BoxError;
use crate::body::FromBody;

/// The kind of `req`: from its [`TransportInfo`], else from its content type.
pub(crate) fn kind_of<B>(req: &Request<B>) -> Kind {
    match TransportInfo::from_request(req) {
        Some(info) => info.kind(),
        None => {
            let grpc = req
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
            if grpc { Kind::Grpc } else { Kind::Http }
        }
    }
}

/// The operation of `req`: from its [`TransportInfo`], else its path.
pub(crate) fn operation_of<B>(req: &Request<B>) -> &str {
    match TransportInfo::from_request(req) {
        Some(info) => info.operation(),
        None => req.uri().path(),
    }
}

/// `err` encoded the way `kind` sends errors.
pub(crate) fn reject<B: FromBody>(kind: Kind, err: &Error) -> Response<B> {
    kind.error_response(err).map(B::from_body)
}

/// The error a response carries in its head: a `grpc-status` other than OK
/// (trailers-only gRPC responses, as unary handlers and rejections send them),
/// or an HTTP status of 400 and above. The reason of an HTTP error lives in
/// its body and is not read here.
pub(crate) fn response_error<B>(res: &Response<B>) -> Option<Error> {
    if res.headers().contains_key("grpc-status") {
        let status = tonic::Status::from_header_map(res.headers())?;
        if status.code() == tonic::Code::Ok {
            return None;
        }
        return Some(Error::from_status(&status));
    }
    let status = res.status();
    if status.as_u16() >= 400 {
        Some(Error::new(
            status.as_u16(),
            kratos_core::error::UNKNOWN_REASON,
            "",
        ))
    } else {
        None
    }
}

pin_project_lite::pin_project! {
    /// The inner call's future, or a rejection made up front.
    #[project = RejectOrProj]
    pub(crate) enum RejectOr<F, B> {
        Inner { #[pin] fut: F },
        Rejected { res: Option<Response<B>> },
    }
}

impl<F, B, E> std::future::Future for RejectOr<F, B>
where
    F: std::future::Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.project() {
            RejectOrProj::Inner { fut } => fut.poll(cx),
            RejectOrProj::Rejected { res } => {
                std::task::Poll::Ready(Ok(res.take().expect("polled after completion")))
            }
        }
    }
}

/// The largest error body read to find its reason.
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// What a response head says of a call.
pub(crate) enum HeadOutcome {
    /// No error.
    Ok,
    /// An error, complete from the head alone.
    Error(Error),
    /// An HTTP error whose small Kratos JSON body holds its reason.
    ErrorInBody(Error),
}

/// The outcome the head of `res` shows, and whether its body says more.
pub(crate) fn head_outcome<B: HttpBody>(kind: Kind, res: &Response<B>) -> HeadOutcome {
    let Some(err) = response_error(res) else {
        return HeadOutcome::Ok;
    };
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let small = res
        .body()
        .size_hint()
        .upper()
        .is_some_and(|n| n <= MAX_ERROR_BODY);
    if kind == Kind::Http && json && small {
        HeadOutcome::ErrorInBody(err)
    } else {
        HeadOutcome::Error(err)
    }
}

/// The error `res` carries, reading a small Kratos JSON error body for its
/// reason; the response is handed back intact.
pub(crate) async fn read_error<B>(kind: Kind, res: Response<B>) -> (Response<B>, Option<Error>)
where
    B: HttpBody<Data = Bytes> + FromBody,
    B::Error: Into<BoxError>,
{
    match head_outcome(kind, &res) {
        HeadOutcome::Ok => (res, None),
        HeadOutcome::Error(err) => (res, Some(err)),
        HeadOutcome::ErrorInBody(err) => {
            let (res, err) = read_error_body(res, err).await;
            (res, Some(err))
        }
    }
}

/// The full error of an HTTP error response whose head showed `err`, read
/// from its Kratos JSON body; the response is handed back intact.
pub(crate) async fn read_error_body<B>(res: Response<B>, err: Error) -> (Response<B>, Error)
where
    B: HttpBody<Data = Bytes> + FromBody,
    B::Error: Into<BoxError>,
{
    let (parts, body) = res.into_parts();
    match body.collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            let full = Error::from_http_response(parts.status, &bytes);
            let res = Response::from_parts(parts, B::from_body(Body::from(bytes)));
            (res, full)
        }
        Err(e) => {
            let e: BoxError = e.into();
            let body =
                Body::new(http_body_util::Empty::<Bytes>::new().map_err(|never| match never {}));
            tracing::debug!(target: "kratos::middleware", error = %e, "error body unreadable");
            (Response::from_parts(parts, B::from_body(body)), err)
        }
    }
}
