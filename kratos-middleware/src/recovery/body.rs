//! The response body of a recovered gRPC call: a panic while the body is
//! polled (a streaming handler's stream panicking mid-way) ends the stream
//! with the recovery error in the trailers.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body as HttpBody, Frame, SizeHint};
use kratos_core::{Kind, TransportInfo};

use super::{PanicHandler, in_call, log_panic};
use crate::BoxError;

pin_project_lite::pin_project! {
    /// A body that turns a panic while it is polled into gRPC trailers.
    pub(crate) struct RecoveryBody<B> {
        #[pin]
        inner: B,
        info: Option<TransportInfo>,
        handler: PanicHandler,
        done: bool,
    }
}

impl<B> RecoveryBody<B> {
    pub(crate) fn new(inner: B, info: Option<TransportInfo>, handler: PanicHandler) -> Self {
        Self {
            inner,
            info,
            handler,
            done: false,
        }
    }
}

impl<B> HttpBody for RecoveryBody<B>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let inner = &mut this.inner;
        match catch_unwind(AssertUnwindSafe(|| {
            in_call(|| inner.as_mut().poll_frame(cx))
        })) {
            Ok(poll) => poll.map(|frame| frame.map(|r| r.map_err(Into::into))),
            Err(payload) => {
                *this.done = true;
                let message = log_panic(Kind::Grpc, this.info.as_ref(), &*payload);
                let mut trailers = HeaderMap::new();
                let _ = (this.handler)(&message)
                    .to_status()
                    .add_header(&mut trailers);
                Poll::Ready(Some(Ok(Frame::trailers(trailers))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
