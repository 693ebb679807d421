//! [`PanicBody`]: a response body that fails the test if anything reads it.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::Frame;

/// A body that panics when polled: a response carrying it proves that the
/// code under test never read the body (a middleware must take the outcome
/// of a call from its typed outcome, not from its bytes).
#[derive(Debug, Clone, Copy, Default)]
pub struct PanicBody;

impl http_body::Body for PanicBody {
    type Data = bytes::Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        panic!("the body of this response must not be read")
    }
}
