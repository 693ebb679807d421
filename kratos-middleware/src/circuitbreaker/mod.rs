//! Circuit breaking (client side): Google SRE adaptive throttling per
//! operation. A call the breaker rejects fails fast with 503
//! `CIRCUITBREAKER`, without a network call. Failures are responses with
//! code 500, 503 or 504 (HTTP status, or the code of a `grpc-status` in the
//! response head) and errors of the wrapped service (connection failures).
//!
//! The operation is the call's [`TransportInfo`](kratos_core::TransportInfo)
//! operation: `/pkg.Service/Method` for gRPC and generated HTTP clients; for
//! a hand-written HTTP call, the path, unless the request carries a
//! `TransportInfo` naming its route template. A layer keeps at most [`MAX_OPERATIONS`] breakers; later
//! new operations share one, so raw paths cannot grow the map forever.

mod layer;
mod sre;

use kratos_core::sync::RwLockExt;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

use http::{Request, Response};
use kratos_core::Error;
use tower_service::Service;

pub use layer::CircuitBreakerLayer;
pub use sre::{Sre, SreConfig};

use crate::body::FromBody;
use crate::future::{RejectOr, Settle};
use crate::util::{kind_of, operation_of, reject, response_error};

/// The reason of a call the breaker rejected (Go Kratos's).
pub const REASON: &str = "CIRCUITBREAKER";

#[derive(Debug, Clone)]
pub(crate) struct Breakers {
    pub(crate) config: SreConfig,
    pub(crate) map: Arc<RwLock<HashMap<Box<str>, Arc<Sre>>>>,
}

/// The most operations one layer keeps a breaker for; later new ones (raw
/// paths of hand-written HTTP calls, say) share the breaker of [`OTHER`].
pub const MAX_OPERATIONS: usize = 1024;

/// The operation whose breaker the operations past [`MAX_OPERATIONS`] share.
pub const OTHER: &str = "other";

impl Breakers {
    fn get(&self, operation: &str) -> Arc<Sre> {
        if let Some(b) = self.map.read_unpoisoned().get(operation) {
            return b.clone();
        }
        let mut map = self.map.write_unpoisoned();
        let key = if map.len() >= MAX_OPERATIONS && !map.contains_key(operation) {
            OTHER
        } else {
            operation
        };
        map.entry(key.into())
            .or_insert_with(|| Arc::new(Sre::new(self.config)))
            .clone()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.read_unpoisoned().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_past_the_limit_share_one_breaker() {
        let breakers = Breakers {
            config: SreConfig::default(),
            map: Arc::default(),
        };
        for i in 0..MAX_OPERATIONS + 500 {
            breakers.get(&format!("/v1/orders/{i}"));
        }
        assert_eq!(breakers.len(), MAX_OPERATIONS + 1);
        assert!(Arc::ptr_eq(
            &breakers.get("/v1/orders/99999"),
            &breakers.get(OTHER)
        ));
        assert!(!Arc::ptr_eq(
            &breakers.get("/v1/orders/1"),
            &breakers.get(OTHER)
        ));
    }
}

/// The service of a [`CircuitBreakerLayer`].
#[derive(Debug, Clone)]
pub struct CircuitBreaker<S> {
    inner: S,
    breakers: Breakers,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CircuitBreaker<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: FromBody,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let breaker = self.breakers.get(operation_of(&req));
        if !breaker.allow() {
            breaker.mark_failed();
            return RejectOr::rejected(reject(
                kind_of(&req),
                &Error::service_unavailable(
                    REASON,
                    "request failed due to circuit breaker triggered",
                ),
            ));
        }
        RejectOr::called(self.inner.call(req), Mark(breaker))
    }
}

fn is_failure(code: u16) -> bool {
    matches!(code, 500 | 503 | 504)
}

/// The future of [`CircuitBreaker`]: the call, whose outcome marks its
/// breaker, or the breaker's rejection.
pub type ResponseFuture<F, B> = RejectOr<F, B, Mark>;

/// Marks a breaker with the outcome of the call it let through.
#[derive(Debug)]
pub struct Mark(Arc<Sre>);

impl Settle for Mark {
    fn settle<B, E>(self, out: &Result<Response<B>, E>) {
        let failed = match out {
            Ok(res) => response_error(res).is_some_and(|e| is_failure(e.code())),
            Err(_) => true,
        };
        if failed {
            self.0.mark_failed();
        } else {
            self.0.mark_success();
        }
    }
}
