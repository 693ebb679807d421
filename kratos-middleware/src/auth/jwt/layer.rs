use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use std::time::Duration;

use jsonwebtoken::{DecodingKey, Validation};
use serde::Serialize;
use tower_layer::Layer;

use super::{Algorithm, Jwt, JwtClient, KeyError, SigningKey, TokenSource, VerifyKey};

/// Validates bearer tokens into claims of type `C`; see the [module
/// docs](crate::auth::jwt).
#[must_use]
pub struct JwtLayer<C> {
    key: Arc<DecodingKey>,
    validation: Arc<Validation>,
    _claims: PhantomData<fn() -> C>,
}

impl<C> Clone for JwtLayer<C> {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            validation: self.validation.clone(),
            _claims: PhantomData,
        }
    }
}

impl<C> fmt::Debug for JwtLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtLayer")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl<C> JwtLayer<C> {
    /// Tokens signed with `key`'s algorithm and key, validated as Go
    /// Kratos's golang-jwt does by default: `exp` required and checked,
    /// `nbf` checked when present, no leeway, and the `aud` claim (which
    /// most identity providers always send) not checked, since no audience
    /// is configured. Require one with [`audience`](Self::audience) or
    /// [`issuer`](Self::issuer).
    pub fn new(key: VerifyKey) -> Self {
        let mut validation = Validation::new(key.algorithm.to_jwt());
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.leeway = 0;
        Self {
            key: Arc::new(key.key),
            validation: Arc::new(validation),
            _claims: PhantomData,
        }
    }

    /// HS256 tokens signed with a shared secret.
    pub fn hs256(secret: &[u8]) -> Self {
        Self::new(VerifyKey {
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(secret),
        })
    }

    /// RS256 tokens, checked with a PEM RSA public key.
    pub fn rs256_pem(public_key: &[u8]) -> Result<Self, KeyError> {
        Ok(Self::new(VerifyKey::rsa_pem(Algorithm::RS256, public_key)?))
    }

    /// ES256 tokens, checked with a PEM EC (P-256) public key.
    pub fn es256_pem(public_key: &[u8]) -> Result<Self, KeyError> {
        Ok(Self::new(VerifyKey::ec_pem(Algorithm::ES256, public_key)?))
    }

    /// Requires the token's `aud` claim to hold one of `audiences`; a token
    /// without one, or for another audience, is 401 "JWT token has a wrong
    /// audience".
    pub fn audience<I, T>(self, audiences: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: ToString,
    {
        let audiences: Vec<T> = audiences.into_iter().collect();
        self.validate(|v| {
            v.set_audience(&audiences);
            v.validate_aud = true;
            v.required_spec_claims.insert("aud".into());
        })
    }

    /// Requires the token's `iss` claim to be one of `issuers`; a token
    /// without one, or from another issuer, is 401 "JWT token has a wrong
    /// issuer".
    pub fn issuer<I, T>(self, issuers: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: ToString,
    {
        let issuers: Vec<T> = issuers.into_iter().collect();
        self.validate(|v| {
            v.set_issuer(&issuers);
            v.required_spec_claims.insert("iss".into());
        })
    }

    /// Accepts `exp` and `nbf` this far off (default none), for clocks that
    /// disagree.
    pub fn leeway(self, leeway: Duration) -> Self {
        self.validate(|v| v.leeway = leeway.as_secs())
    }

    fn validate(mut self, change: impl FnOnce(&mut Validation)) -> Self {
        change(Arc::make_mut(&mut self.validation));
        self
    }
}

impl<S, C> Layer<S> for JwtLayer<C> {
    type Service = Jwt<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Jwt {
            inner,
            key: self.key.clone(),
            validation: self.validation.clone(),
            _claims: PhantomData,
        }
    }
}

/// Puts `Authorization: Bearer <token>` on outgoing calls: a fixed token, or
/// claims signed per call (Go Kratos's client signs per call, so `exp` can
/// move with time).
#[derive(Clone)]
#[must_use]
pub struct JwtClientLayer {
    token: TokenSource,
}

impl fmt::Debug for JwtClientLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtClientLayer").finish_non_exhaustive()
    }
}

impl JwtClientLayer {
    /// Sends `token` as it is.
    pub fn token(token: impl Into<String>) -> Self {
        let token: Arc<str> = token.into().into();
        Self {
            token: Arc::new(move || Ok(token.to_string())),
        }
    }

    /// Signs the claims `claims()` returns with `key` for each call.
    pub fn sign<C, F>(key: SigningKey, claims: F) -> Self
    where
        C: Serialize,
        F: Fn() -> C + Send + Sync + 'static,
    {
        Self {
            token: Arc::new(move || key.sign(&claims())),
        }
    }

    /// Signs `claims()` with HS256 and a shared secret for each call.
    pub fn hs256<C, F>(secret: &[u8], claims: F) -> Self
    where
        C: Serialize,
        F: Fn() -> C + Send + Sync + 'static,
    {
        let key = SigningKey::secret(Algorithm::HS256, secret).expect("HS256 takes a secret");
        Self::sign(key, claims)
    }
}

impl<S> Layer<S> for JwtClientLayer {
    type Service = JwtClient<S>;

    fn layer(&self, inner: S) -> Self::Service {
        JwtClient {
            inner,
            token: self.token.clone(),
        }
    }
}
