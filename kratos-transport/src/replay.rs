//! A request body that can be taken back while nothing of it was sent, so a
//! call whose connection failed goes to another node, whatever its method.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};

/// The body of one attempt: it takes the real body out of the shared slot on
/// its first poll. Until then [`Reclaim::take`] gets it back.
pub(crate) struct ReplayBody<B> {
    slot: Arc<Mutex<Option<B>>>,
    body: Option<B>,
}

/// The other half of a [`ReplayBody`]: takes the body back if the transport
/// never polled it.
pub(crate) struct Reclaim<B> {
    slot: Arc<Mutex<Option<B>>>,
}

/// Wraps `body` for one attempt.
pub(crate) fn replayable<B>(body: B) -> (ReplayBody<B>, Reclaim<B>) {
    let slot = Arc::new(Mutex::new(Some(body)));
    (
        ReplayBody {
            slot: slot.clone(),
            body: None,
        },
        Reclaim { slot },
    )
}

fn lock<B>(slot: &Mutex<Option<B>>) -> MutexGuard<'_, Option<B>> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

impl<B> Reclaim<B> {
    /// The body, if no frame of it was asked for.
    pub(crate) fn take(self) -> Option<B> {
        lock(&self.slot).take()
    }
}

impl<B: Body + Unpin> Body for ReplayBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        if this.body.is_none() {
            this.body = lock(&this.slot).take();
        }
        match this.body.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.body {
            Some(body) => body.is_end_stream(),
            None => lock(&self.slot).as_ref().is_none_or(|b| b.is_end_stream()),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.body {
            Some(body) => body.size_hint(),
            None => lock(&self.slot)
                .as_ref()
                .map_or_else(|| SizeHint::with_exact(0), |b| b.size_hint()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    #[tokio::test]
    async fn taken_back_while_unpolled_and_not_after() {
        let (body, reclaim) = replayable(Full::new(Bytes::from_static(b"hello")));
        assert_eq!(body.size_hint().exact(), Some(5));
        drop(body);
        let again = reclaim.take().expect("never polled");

        let (body, reclaim) = replayable(again);
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"hello");
        assert!(reclaim.take().is_none());
    }
}
