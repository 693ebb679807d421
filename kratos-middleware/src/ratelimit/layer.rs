use tower_layer::Layer;

use super::{Bbr, BbrConfig, Limiter, RateLimit, TokenBucket};

/// Rejects calls its limiter refuses with 429 `RATELIMIT`; see the [module
/// docs](crate::ratelimit). Every clone (and every service it builds)
/// shares the limiter.
///
/// ```
/// use kratos_middleware::ratelimit::RateLimitLayer;
///
/// let adaptive = RateLimitLayer::bbr();               // Go Kratos's default
/// let fixed = RateLimitLayer::token_bucket(100.0, 20); // 100/s, bursts of 20
/// # let _ = (adaptive, fixed);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RateLimitLayer<L> {
    limiter: L,
}

impl RateLimitLayer<Bbr> {
    /// The BBR limiter with Go Kratos's defaults, on the machine's CPU usage.
    pub fn bbr() -> Self {
        Self::new(Bbr::new(BbrConfig::default()))
    }
}

impl RateLimitLayer<TokenBucket> {
    /// A token bucket: `burst` calls at once, `rate` per second after.
    pub fn token_bucket(rate: f64, burst: u32) -> Self {
        Self::new(TokenBucket::new(rate, burst))
    }
}

impl<L: Limiter + Clone> RateLimitLayer<L> {
    /// A layer around any [`Limiter`].
    pub fn new(limiter: L) -> Self {
        Self { limiter }
    }
}

impl<S, L: Limiter + Clone> Layer<S> for RateLimitLayer<L> {
    type Service = RateLimit<S, L>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            limiter: self.limiter.clone(),
        }
    }
}
