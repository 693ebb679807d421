//! Matching calls by operation, and binding a layer to the matching calls.
//!
//! The operation is `/package.Service/Method` for gRPC (and for HTTP routes
//! generated from a `.proto`), the route template for hand-written HTTP
//! routes, read from [`TransportInfo`](kratos_core::TransportInfo).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
#[cfg(feature = "regex")]
use regex::Regex;
use tower::ServiceExt;
use tower::util::Oneshot;
use tower_layer::Layer;
use tower_service::Service;

use crate::util::operation_of;

/// Which operations a layer applies to: exact, prefix, regex (feature
/// `regex`, compiled once, here), a custom predicate, and any combination
/// with [`Matcher::not`], [`Matcher::or`] and [`Matcher::and`].
///
/// ```
/// use kratos_middleware::Matcher;
///
/// let m = Matcher::prefix("/helloworld.v1.Greeter/")
///     .or(Matcher::predicate(|op| op.starts_with("/v1/users/")))
///     .and(Matcher::exact("/helloworld.v1.Greeter/Health").not());
/// assert!(m.matches("/helloworld.v1.Greeter/SayHello"));
/// assert!(m.matches("/v1/users/{id}"));
/// assert!(!m.matches("/helloworld.v1.Greeter/Health"));
/// assert!(!m.matches("/echo.v1.Echo/UnaryEcho"));
/// ```
#[derive(Clone)]
#[must_use]
pub struct Matcher(Rule);

#[derive(Clone)]
enum Rule {
    Exact(Arc<str>),
    Prefix(Arc<str>),
    #[cfg(feature = "regex")]
    Regex(Regex),
    Predicate(Arc<dyn Fn(&str) -> bool + Send + Sync>),
    Not(Box<Matcher>),
    Or(Box<Matcher>, Box<Matcher>),
    And(Box<Matcher>, Box<Matcher>),
}

impl Matcher {
    /// Exactly this operation.
    pub fn exact(operation: impl Into<Arc<str>>) -> Self {
        Self(Rule::Exact(operation.into()))
    }

    /// Every operation starting with `prefix`, such as `/helloworld.v1.Greeter/`.
    pub fn prefix(prefix: impl Into<Arc<str>>) -> Self {
        Self(Rule::Prefix(prefix.into()))
    }

    /// Every operation the regular expression matches (anywhere, unless
    /// anchored with `^`/`$`). Compiled once, here.
    ///
    /// ```
    /// let m = kratos_middleware::Matcher::regex(r"^/v1/users/\{id\}$").unwrap();
    /// assert!(m.matches("/v1/users/{id}"));
    /// ```
    #[cfg(feature = "regex")]
    #[cfg_attr(docsrs, doc(cfg(feature = "regex")))]
    pub fn regex(pattern: &str) -> Result<Self, regex::Error> {
        Ok(Self(Rule::Regex(Regex::new(pattern)?)))
    }

    /// Every operation for which `predicate` returns true.
    pub fn predicate(predicate: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        Self(Rule::Predicate(Arc::new(predicate)))
    }

    /// Every operation this matcher does not match.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        Self(Rule::Not(Box::new(self)))
    }

    /// Operations matched by this matcher or `other`.
    pub fn or(self, other: Matcher) -> Self {
        Self(Rule::Or(Box::new(self), Box::new(other)))
    }

    /// Operations matched by this matcher and `other`.
    pub fn and(self, other: Matcher) -> Self {
        Self(Rule::And(Box::new(self), Box::new(other)))
    }

    /// Whether `operation` matches.
    pub fn matches(&self, operation: &str) -> bool {
        match &self.0 {
            Rule::Exact(op) => operation == &**op,
            Rule::Prefix(p) => operation.starts_with(&**p),
            #[cfg(feature = "regex")]
            Rule::Regex(re) => re.is_match(operation),
            Rule::Predicate(f) => f(operation),
            Rule::Not(m) => !m.matches(operation),
            Rule::Or(a, b) => a.matches(operation) || b.matches(operation),
            Rule::And(a, b) => a.matches(operation) && b.matches(operation),
        }
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Rule::Exact(op) => f.debug_tuple("Exact").field(op).finish(),
            Rule::Prefix(p) => f.debug_tuple("Prefix").field(p).finish(),
            #[cfg(feature = "regex")]
            Rule::Regex(re) => f.debug_tuple("Regex").field(&re.as_str()).finish(),
            Rule::Predicate(_) => f.write_str("Predicate(..)"),
            Rule::Not(m) => f.debug_tuple("Not").field(m).finish(),
            Rule::Or(a, b) => f.debug_tuple("Or").field(a).field(b).finish(),
            Rule::And(a, b) => f.debug_tuple("And").field(a).field(b).finish(),
        }
    }
}

/// Applies `layer` only to the calls whose operation `matcher` matches; the
/// others go straight to the inner service.
///
/// ```
/// use std::time::Duration;
/// use kratos_middleware::{Matcher, timeout::TimeoutLayer, when};
///
/// let slow_reports = when(Matcher::prefix("/reports.v1."), TimeoutLayer::new(Duration::from_secs(30)));
/// # let _ = slow_reports;
/// ```
pub fn when<L>(matcher: Matcher, layer: L) -> MatchLayer<L> {
    MatchLayer { matcher, layer }
}

/// A layer applied only to matching operations; see [`when`].
#[derive(Debug, Clone)]
#[must_use]
pub struct MatchLayer<L> {
    matcher: Matcher,
    layer: L,
}

impl<S: Clone, L: Layer<S>> Layer<S> for MatchLayer<L> {
    type Service = MatchService<L::Service, S>;

    fn layer(&self, inner: S) -> Self::Service {
        MatchService {
            matcher: self.matcher.clone(),
            matched: self.layer.layer(inner.clone()),
            inner,
        }
    }
}

/// The service of a [`MatchLayer`].
///
/// Which branch a call takes is known only from the request, so
/// `poll_ready` readies neither: each call runs on a clone of its branch
/// (`ServiceExt::oneshot`), which waits for that branch's readiness in the
/// response future. Readying both branches and calling one would hold a
/// reservation in the other (a concurrency-limit permit, a buffer slot) that
/// no call uses, the leak tower's `Steer` warns about.
#[derive(Debug, Clone)]
pub struct MatchService<M, S> {
    matcher: Matcher,
    matched: M,
    inner: S,
}

impl<M, S, B> Service<Request<B>> for MatchService<M, S>
where
    S: Service<Request<B>> + Clone,
    M: Service<Request<B>, Response = S::Response, Error = S::Error> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = MatchFuture<Oneshot<M, Request<B>>, Oneshot<S, Request<B>>>;

    /// Always ready: the branch a call takes is readied in its future.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if self.matcher.matches(operation_of(&req)) {
            MatchFuture::Matched {
                fut: self.matched.clone().oneshot(req),
            }
        } else {
            MatchFuture::Skipped {
                fut: self.inner.clone().oneshot(req),
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of a [`MatchService`]: the layered or the plain call.
    #[project = MatchProj]
    #[allow(missing_docs)]
    pub enum MatchFuture<A, B> {
        /// The operation matched: the layered service answers.
        Matched { #[pin] fut: A },
        /// It did not: the inner service answers.
        Skipped { #[pin] fut: B },
    }
}

impl<A, B, T> Future for MatchFuture<A, B>
where
    A: Future<Output = T>,
    B: Future<Output = T>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.project() {
            MatchProj::Matched { fut } => fut.poll(cx),
            MatchProj::Skipped { fut } => fut.poll(cx),
        }
    }
}

impl<A, B> fmt::Debug for MatchFuture<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MatchFuture")
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use futures_util::FutureExt;
    use kratos_core::{Kind, TransportInfo};
    use tower::limit::ConcurrencyLimitLayer;
    use tower::service_fn;

    use super::*;

    fn request(operation: &str) -> Request<()> {
        let mut req = Request::new(());
        req.extensions_mut()
            .insert(TransportInfo::new(Kind::Grpc, operation, ""));
        req
    }

    #[tokio::test]
    async fn a_skipped_branch_holds_no_reservation() {
        // `/limited/hold` answers once the test releases it.
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let gate = release.clone();
        let echo = service_fn(move |req: Request<()>| {
            let (gate, operation) = (gate.clone(), operation_of(&req).to_owned());
            async move {
                if operation.ends_with("/hold") {
                    let _permit = gate.acquire().await;
                }
                Ok::<_, Infallible>(operation)
            }
        });
        // One permit for every clone of the limited branch.
        let layer = when(Matcher::prefix("/limited"), ConcurrencyLimitLayer::new(1));
        let mut a = layer.layer(echo);
        let mut b = a.clone();

        // `a` readies and takes the other branch...
        let ready = a.ready().now_or_never().expect("ready").unwrap();
        assert_eq!(ready.call(request("/other")).await.unwrap(), "/other");
        // ...and the permit is not parked in `a`: `b` gets it, twice.
        for _ in 0..2 {
            let ready = b.ready().now_or_never().expect("b is not starved").unwrap();
            let answer = ready.call(request("/limited")).now_or_never();
            assert_eq!(answer.expect("the permit is free").unwrap(), "/limited");
        }

        // While a limited call holds the permit, a second one waits for it
        // and the other branch still answers at once.
        let ready = b.ready().now_or_never().expect("ready").unwrap();
        let mut in_flight = Box::pin(ready.call(request("/limited/hold")));
        assert!(futures_util::poll!(in_flight.as_mut()).is_pending());
        let ready = a.ready().now_or_never().expect("ready").unwrap();
        let mut waiting = Box::pin(ready.call(request("/limited")));
        assert!(futures_util::poll!(waiting.as_mut()).is_pending());
        let ready = a.ready().now_or_never().expect("a stays ready").unwrap();
        let other = ready.call(request("/other")).now_or_never();
        assert_eq!(other.expect("not limited").unwrap(), "/other");
        release.add_permits(1);
        assert_eq!(in_flight.await.unwrap(), "/limited/hold");
        assert_eq!(waiting.await.unwrap(), "/limited");
    }
}
