use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use kratos_core::Error;
use serde::Serialize;
use tower_layer::Layer;

use super::{Jwt, JwtClient, REASON, TokenSource};

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
    /// Tokens signed with `key` using `algorithm`, validated as Go Kratos's
    /// golang-jwt does by default: `exp` required and checked, `nbf` checked
    /// when present, no leeway, and the `aud` claim (which most identity
    /// providers always send) not checked, since no audience is configured.
    /// Use [`with_validation`](Self::with_validation) to require an audience
    /// or an issuer.
    pub fn new(key: DecodingKey, algorithm: Algorithm) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.leeway = 0;
        Self::with_validation(key, validation)
    }

    /// Tokens checked with a validation of your own (audience, issuer,
    /// leeway, required claims...).
    pub fn with_validation(key: DecodingKey, validation: Validation) -> Self {
        Self {
            key: Arc::new(key),
            validation: Arc::new(validation),
            _claims: PhantomData,
        }
    }

    /// HS256 tokens signed with a shared secret.
    pub fn hs256(secret: &[u8]) -> Self {
        Self::new(DecodingKey::from_secret(secret), Algorithm::HS256)
    }

    /// RS256 tokens, checked with a PEM RSA public key.
    pub fn rs256_pem(public_key: &[u8]) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Self::new(
            DecodingKey::from_rsa_pem(public_key)?,
            Algorithm::RS256,
        ))
    }

    /// ES256 tokens, checked with a PEM EC (P-256) public key.
    pub fn es256_pem(public_key: &[u8]) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Self::new(
            DecodingKey::from_ec_pem(public_key)?,
            Algorithm::ES256,
        ))
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

    /// Signs the claims `claims()` returns with `key` and `header` for each call.
    pub fn sign<C, F>(header: Header, key: EncodingKey, claims: F) -> Self
    where
        C: Serialize,
        F: Fn() -> C + Send + Sync + 'static,
    {
        Self {
            token: Arc::new(move || {
                jsonwebtoken::encode(&header, &claims(), &key)
                    .map_err(|e| Error::unauthorized(REASON, format!("Can not sign token: {e}")))
            }),
        }
    }

    /// Signs `claims()` with HS256 and a shared secret for each call.
    pub fn hs256<C, F>(secret: &[u8], claims: F) -> Self
    where
        C: Serialize,
        F: Fn() -> C + Send + Sync + 'static,
    {
        Self::sign(
            Header::new(Algorithm::HS256),
            EncodingKey::from_secret(secret),
            claims,
        )
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
