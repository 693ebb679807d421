//! JWT authentication: a server layer that validates `Authorization: Bearer`
//! tokens (HS256, RS256, ES256, EdDSA ... through `jsonwebtoken`) into claims of
//! the user's type, and a client layer that signs or injects a token.
//!
//! Every failure is 401 `UNAUTHORIZED` (Go Kratos's reason), with a message
//! saying what was wrong. The validated claims go into the request
//! extensions: axum handlers take `Extension<C>`, tonic handlers read
//! `request.extensions().get::<C>()`. For gRPC streams the token is checked
//! once, before the stream starts.
//!
//! ```
//! use kratos_middleware::auth::jwt::{JwtClientLayer, JwtLayer};
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct Claims { sub: String, exp: u64 }
//!
//! let server = JwtLayer::<Claims>::hs256(b"secret");
//! let client = JwtClientLayer::hs256(b"secret", || Claims { sub: "svc-a".into(), exp: u64::MAX / 2 });
//! # let _ = (server, client);
//! ```

mod keys;
mod layer;

use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response, header};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, Validation};
use kratos_core::Error;
use serde::de::DeserializeOwned;
use tower_service::Service;

pub use keys::{Algorithm, KeyError, SigningKey, VerifyKey};
pub use layer::{JwtClientLayer, JwtLayer};

use crate::body::FromBody;
use crate::future::RejectOr;
use crate::util::{kind_of, reject};

/// The reason of every authentication failure (Go Kratos's).
pub const REASON: &str = "UNAUTHORIZED";

/// Makes the token a client sends.
pub(crate) type TokenSource = Arc<dyn Fn() -> Result<String, Error> + Send + Sync>;

/// The server service of a [`JwtLayer`].
pub struct Jwt<S, C> {
    inner: S,
    key: Arc<DecodingKey>,
    validation: Arc<Validation>,
    _claims: PhantomData<fn() -> C>,
}

impl<S: Clone, C> Clone for Jwt<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            key: self.key.clone(),
            validation: self.validation.clone(),
            _claims: PhantomData,
        }
    }
}

impl<S: std::fmt::Debug, C> std::fmt::Debug for Jwt<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

fn unauthorized(message: &str) -> Error {
    Error::unauthorized(REASON, message)
}

/// The claims of `req`'s bearer token, or why there are none.
fn authenticate<B, C: DeserializeOwned>(
    req: &Request<B>,
    key: &DecodingKey,
    validation: &Validation,
) -> Result<C, Error> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("JWT token is missing"))?;
    let value = value
        .to_str()
        .map_err(|_| unauthorized("JWT token is missing"))?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(unauthorized("JWT token is missing")),
    };
    jsonwebtoken::decode::<C>(token, key, validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => unauthorized("JWT token has expired"),
            ErrorKind::ImmatureSignature => unauthorized("JWT token is not valid yet"),
            ErrorKind::InvalidAlgorithm => unauthorized("Wrong signing method"),
            ErrorKind::InvalidSignature => unauthorized("Token is invalid"),
            ErrorKind::InvalidAudience => unauthorized("JWT token has a wrong audience"),
            ErrorKind::InvalidIssuer => unauthorized("JWT token has a wrong issuer"),
            ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => {
                unauthorized("JWT token has a wrong audience")
            }
            ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => {
                unauthorized("JWT token has a wrong issuer")
            }
            _ => unauthorized("Fail to parse JWT token"),
        })
}

impl<S, C, ReqBody, ResBody> Service<Request<ReqBody>> for Jwt<S, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
    ResBody: FromBody,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        match authenticate::<_, C>(&req, &self.key, &self.validation) {
            Ok(claims) => {
                req.extensions_mut().insert(claims);
                RejectOr::called(self.inner.call(req), ())
            }
            Err(err) => RejectOr::rejected(reject(kind_of(&req), &err)),
        }
    }
}

/// The future of [`Jwt`] and [`JwtClient`]: the call, or the 401.
pub type ResponseFuture<F, B> = RejectOr<F, B>;

/// The client service of a [`JwtClientLayer`].
#[derive(Clone)]
pub struct JwtClient<S> {
    inner: S,
    token: TokenSource,
}

impl<S: std::fmt::Debug> std::fmt::Debug for JwtClient<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtClient")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for JwtClient<S>
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

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let header = (self.token)().and_then(|t| {
            HeaderValue::try_from(format!("Bearer {t}"))
                .map_err(|_| unauthorized("Can not sign token"))
        });
        match header {
            Ok(value) => {
                req.headers_mut().insert(header::AUTHORIZATION, value);
                RejectOr::called(self.inner.call(req), ())
            }
            Err(err) => RejectOr::rejected(reject(kind_of(&req), &err)),
        }
    }
}
