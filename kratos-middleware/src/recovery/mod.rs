//! Recovery: a panic in a handler (or below this layer) becomes a
//! 500 `UNKNOWN` error, logged with its message and stack; the server lives on.
//!
//! The layer catches panics raised while the call is made, while its future
//! runs, and, for gRPC, while the response body is streamed: a streaming
//! handler that panics before it returns its stream is answered with the
//! error status, and a stream that panics mid-way ends with the error in its
//! trailers (gRPC response bodies are boxed once for this). An HTTP body that
//! panics mid-way is not caught.
//!
//! The stack is captured by a panic hook installed once, when the first
//! [`RecoveryLayer`] is built, and chained to the hook installed before it.
//! The hook captures a backtrace only for panics raised inside a call the
//! layer wraps (while the call is made, its future polled or its gRPC body
//! streamed); those are logged by the layer. Every other panic of the process
//! goes to the previous hook, untouched (the default hook prints it, a hook
//! of the application's sees it), without the cost of a backtrace.

mod body;
mod layer;

use std::any::Any;
use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Once};
use std::task::{Context, Poll};

use axum_core::body::Body;
use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::CatchUnwind;
use http::{Request, Response};
use http_body::Body as HttpBody;
use kratos_core::transport::headers::{self, GRPC_STATUS};
use kratos_core::{Error, Kind, TransportInfo};
use tower_service::Service;

pub use layer::RecoveryLayer;

use crate::BoxError;
use crate::body::FromBody;
use crate::util::{kind_of, reject};
use body::RecoveryBody;

/// The reason of the error a recovered panic becomes (Go Kratos's).
pub const REASON: &str = "UNKNOWN";

/// Builds the error a recovered panic becomes, from the panic message.
pub(crate) type PanicHandler = Arc<dyn Fn(&str) -> Error + Send + Sync>;

/// The default error of a recovered panic: 500 `UNKNOWN`.
pub(crate) fn default_error(_panic: &str) -> Error {
    Error::internal_server(REASON, "unknown request error")
}

thread_local! {
    static LAST_BACKTRACE: RefCell<Option<Backtrace>> = const { RefCell::new(None) };
    /// How many recovered calls this thread is inside right now.
    static IN_CALL: Cell<usize> = const { Cell::new(0) };
}

/// Marks the current thread as inside a recovered call while it lives.
struct InCall(());

impl InCall {
    fn enter() -> Self {
        let _ = IN_CALL.try_with(|n| n.set(n.get() + 1));
        Self(())
    }
}

impl Drop for InCall {
    fn drop(&mut self) {
        let _ = IN_CALL.try_with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// Runs `f` marked as inside a recovered call: a panic in it has its stack
/// captured for the layer, and is not passed to the previous hook.
pub(crate) fn in_call<R>(f: impl FnOnce() -> R) -> R {
    let _in_call = InCall::enter();
    f()
}

/// Installs, once, a panic hook that keeps the stack of a panic inside a
/// recovered call for the layer to log, and hands every other panic to the
/// hook installed before it.
pub(crate) fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_CALL.try_with(Cell::get).unwrap_or(0) == 0 {
                return previous(info);
            }
            let bt = Backtrace::force_capture();
            let _ = LAST_BACKTRACE.try_with(|slot| *slot.borrow_mut() = Some(bt));
        }));
    });
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// Logs a recovered panic with its stack; returns its message.
pub(crate) fn log_panic(
    kind: Kind,
    info: Option<&TransportInfo>,
    payload: &(dyn Any + Send),
) -> String {
    let message = panic_message(payload);
    let stack = LAST_BACKTRACE
        .with(|slot| slot.borrow_mut().take())
        .map(|bt| bt.to_string())
        .unwrap_or_default();
    tracing::error!(
        target: "kratos::middleware::recovery",
        kind = kind.as_str(),
        operation = info.map_or("", |i| i.operation()),
        panic = %message,
        stack = %stack,
        "panic recovered"
    );
    message
}

/// The answer to a call whose handler panicked: the panic logged, the
/// handler's error encoded for `kind`.
pub(crate) fn recovered<B: FromBody>(
    kind: Kind,
    info: Option<&TransportInfo>,
    payload: &(dyn Any + Send),
    handler: &PanicHandler,
) -> Response<B> {
    let message = log_panic(kind, info, payload);
    reject(kind, &handler(&message))
}

/// Makes the call of `inner` marked as a recovered call: its future, or the
/// answer to a panic while making it (logged, `handler`'s error for `kind`).
#[inline]
pub(crate) fn call<S, R, B>(
    inner: &mut S,
    req: R,
    kind: Kind,
    info: Option<&TransportInfo>,
    handler: &PanicHandler,
) -> Result<S::Future, Response<B>>
where
    S: Service<R>,
    B: FromBody,
{
    catch_unwind(AssertUnwindSafe(|| in_call(|| inner.call(req))))
        .map_err(|payload| recovered(kind, info, &*payload, handler))
}

/// `res` with its body guarded when it is a gRPC stream still to come (no
/// `grpc-status` in its head, and not a reply the transport knows to be one
/// message: [`TransportInfo::single_reply`]): a panic while the body is
/// polled then ends it with the error in its trailers. `info` is taken only
/// then.
pub(crate) fn guard_stream<B>(
    kind: Kind,
    res: Response<B>,
    info: &mut Option<TransportInfo>,
    handler: &PanicHandler,
) -> Response<B>
where
    B: HttpBody<Data = Bytes> + FromBody + Send + 'static,
    B::Error: Into<BoxError>,
{
    if kind != Kind::Grpc
        || info.as_ref().is_some_and(TransportInfo::single_reply)
        || headers::find(res.headers(), &GRPC_STATUS).is_some()
    {
        return res;
    }
    let (info, handler) = (info.take(), handler.clone());
    res.map(|b| B::from_body(Body::new(RecoveryBody::new(b, info, handler))))
}

/// The service of a [`RecoveryLayer`].
#[derive(Clone)]
pub struct Recovery<S> {
    inner: S,
    handler: PanicHandler,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Recovery<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recovery")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Recovery<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: HttpBody<Data = Bytes> + FromBody + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let kind = kind_of(&req);
        let info = TransportInfo::from_request(&req).cloned();
        match call(&mut self.inner, req, kind, info.as_ref(), &self.handler) {
            Ok(fut) => ResponseFuture::Running {
                fut: AssertUnwindSafe(fut).catch_unwind(),
                kind,
                info,
                handler: self.handler.clone(),
            },
            Err(res) => ResponseFuture::Done { res: Some(res) },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Recovery`].
    #[project = Proj]
    #[allow(missing_docs)]
    pub enum ResponseFuture<F, B> {
        /// The call runs.
        Running {
            #[pin] fut: CatchUnwind<AssertUnwindSafe<F>>,
            kind: Kind,
            info: Option<TransportInfo>,
            handler: PanicHandler,
        },
        /// Making the call panicked.
        Done { res: Option<Response<B>> },
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: HttpBody<Data = Bytes> + FromBody + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            Proj::Running {
                fut,
                kind,
                info,
                handler,
            } => match in_call(|| fut.poll(cx)) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(Ok(res))) => {
                    Poll::Ready(Ok(guard_stream(*kind, res, info, handler)))
                }
                Poll::Ready(Ok(out)) => Poll::Ready(out),
                Poll::Ready(Err(payload)) => {
                    Poll::Ready(Ok(recovered(*kind, info.as_ref(), &*payload, handler)))
                }
            },
            Proj::Done { res } => Poll::Ready(Ok(res.take().expect("polled after completion"))),
        }
    }
}

impl<F, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("recovery::ResponseFuture")
    }
}
