//! The algorithms and keys of the JWT layers: this crate's own types, so a
//! `jsonwebtoken` release is not a breaking change of ours.

use std::fmt;

use jsonwebtoken::{DecodingKey, EncodingKey, Header};
use kratos_core::Error;
use serde::Serialize;

use super::REASON;

/// A JWS signing algorithm (RFC 7518), as golang-jwt names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256 and a shared secret.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

/// The kind of key an algorithm takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Secret,
    Rsa,
    Ec,
    Ed,
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::Secret => "a shared secret",
            Family::Rsa => "an RSA key",
            Family::Ec => "an EC key",
            Family::Ed => "an Ed25519 key",
        }
    }
}

impl Algorithm {
    pub(super) fn to_jwt(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as J;
        match self {
            Self::HS256 => J::HS256,
            Self::HS384 => J::HS384,
            Self::HS512 => J::HS512,
            Self::RS256 => J::RS256,
            Self::RS384 => J::RS384,
            Self::RS512 => J::RS512,
            Self::PS256 => J::PS256,
            Self::PS384 => J::PS384,
            Self::PS512 => J::PS512,
            Self::ES256 => J::ES256,
            Self::ES384 => J::ES384,
            Self::EdDSA => J::EdDSA,
        }
    }

    fn family(self) -> Family {
        match self {
            Self::HS256 | Self::HS384 | Self::HS512 => Family::Secret,
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512 => {
                Family::Rsa
            }
            Self::ES256 | Self::ES384 => Family::Ec,
            Self::EdDSA => Family::Ed,
        }
    }

    fn expect(self, family: Family) -> Result<(), KeyError> {
        match self.family() == family {
            true => Ok(()),
            false => Err(KeyError(format!(
                "{self:?} does not take {} (secrets go with HS*, RSA keys with RS*/PS*, EC keys with ES*, Ed25519 keys with EdDSA)",
                family.name()
            ))),
        }
    }
}

/// A key and algorithm are not usable: the PEM does not parse, or the
/// algorithm takes another kind of key.
#[derive(Debug, Clone)]
pub struct KeyError(String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JWT key: {}", self.0)
    }
}

impl std::error::Error for KeyError {}

impl From<KeyError> for Error {
    fn from(err: KeyError) -> Self {
        Error::internal_server(REASON, err.to_string())
    }
}

fn pem<T>(result: jsonwebtoken::errors::Result<T>) -> Result<T, KeyError> {
    result.map_err(|e| KeyError(e.to_string()))
}

/// What a server checks tokens with: an algorithm and its secret or public
/// key. Only tokens signed with that algorithm are accepted.
#[derive(Clone)]
pub struct VerifyKey {
    pub(super) algorithm: Algorithm,
    pub(super) key: DecodingKey,
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl VerifyKey {
    /// A shared secret for an HMAC algorithm (`HS256`, `HS384`, `HS512`).
    pub fn secret(algorithm: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        algorithm.expect(Family::Secret)?;
        Ok(Self {
            algorithm,
            key: DecodingKey::from_secret(secret),
        })
    }

    /// A PEM RSA public key for `RS*` or `PS*`.
    pub fn rsa_pem(algorithm: Algorithm, public_key: &[u8]) -> Result<Self, KeyError> {
        algorithm.expect(Family::Rsa)?;
        let key = pem(DecodingKey::from_rsa_pem(public_key))?;
        Ok(Self { algorithm, key })
    }

    /// A PEM EC public key for `ES256` (P-256) or `ES384` (P-384).
    pub fn ec_pem(algorithm: Algorithm, public_key: &[u8]) -> Result<Self, KeyError> {
        algorithm.expect(Family::Ec)?;
        let key = pem(DecodingKey::from_ec_pem(public_key))?;
        Ok(Self { algorithm, key })
    }

    /// A PEM Ed25519 public key for `EdDSA`.
    pub fn ed_pem(public_key: &[u8]) -> Result<Self, KeyError> {
        let key = pem(DecodingKey::from_ed_pem(public_key))?;
        Ok(Self {
            algorithm: Algorithm::EdDSA,
            key,
        })
    }
}

/// What a client or a login endpoint signs tokens with: an algorithm, its
/// secret or private key, and an optional key id (`kid`).
#[derive(Clone)]
pub struct SigningKey {
    header: Header,
    key: EncodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.header.alg)
            .field("key_id", &self.header.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn new(algorithm: Algorithm, key: EncodingKey) -> Self {
        Self {
            header: Header::new(algorithm.to_jwt()),
            key,
        }
    }

    /// A shared secret for an HMAC algorithm (`HS256`, `HS384`, `HS512`).
    pub fn secret(algorithm: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        algorithm.expect(Family::Secret)?;
        Ok(Self::new(algorithm, EncodingKey::from_secret(secret)))
    }

    /// A PEM RSA private key for `RS*` or `PS*`.
    pub fn rsa_pem(algorithm: Algorithm, private_key: &[u8]) -> Result<Self, KeyError> {
        algorithm.expect(Family::Rsa)?;
        let key = pem(EncodingKey::from_rsa_pem(private_key))?;
        Ok(Self::new(algorithm, key))
    }

    /// A PEM (PKCS#8) EC private key for `ES256` or `ES384`.
    pub fn ec_pem(algorithm: Algorithm, private_key: &[u8]) -> Result<Self, KeyError> {
        algorithm.expect(Family::Ec)?;
        let key = pem(EncodingKey::from_ec_pem(private_key))?;
        Ok(Self::new(algorithm, key))
    }

    /// A PEM (PKCS#8) Ed25519 private key for `EdDSA`.
    pub fn ed_pem(private_key: &[u8]) -> Result<Self, KeyError> {
        let key = pem(EncodingKey::from_ed_pem(private_key))?;
        Ok(Self::new(Algorithm::EdDSA, key))
    }

    /// Names the key in each token's `kid` header, for servers that rotate keys.
    #[must_use]
    pub fn key_id(mut self, kid: impl Into<String>) -> Self {
        self.header.kid = Some(kid.into());
        self
    }

    /// A signed token (compact JWS) carrying `claims`; a login endpoint
    /// answers with it. Failing to serialize the claims is 401
    /// `UNAUTHORIZED` "Can not sign token", as Go Kratos's client says.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, Error> {
        jsonwebtoken::encode(&self.header, claims, &self.key)
            .map_err(|e| Error::unauthorized(REASON, format!("Can not sign token: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_algorithm_with_the_wrong_kind_of_key_is_refused() {
        let err = VerifyKey::rsa_pem(Algorithm::HS256, b"").unwrap_err();
        assert!(
            err.to_string().contains("HS256 does not take an RSA key"),
            "{err}"
        );
        assert!(SigningKey::secret(Algorithm::ES256, b"s").is_err());
        assert!(SigningKey::secret(Algorithm::HS512, b"s").is_ok());
    }

    #[test]
    fn a_pem_that_does_not_parse_is_a_key_error() {
        let err = VerifyKey::ec_pem(Algorithm::ES256, b"not a pem").unwrap_err();
        assert!(err.to_string().starts_with("JWT key: "), "{err}");
    }
}
