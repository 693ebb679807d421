//! auth::jwt on both transports: every failure is 401 UNAUTHORIZED, claims
//! reach handlers, streams are guarded, the client layer signs.

use std::time::{SystemTime, UNIX_EPOCH};

use kratos_examples_api::echo::v1::EchoRequest;
use kratos_examples_api::echo::v1::echo_client::EchoClient;
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_middleware::auth::jwt::{Algorithm, JwtClientLayer, JwtLayer, SigningKey};
use serde::{Deserialize, Serialize};
use tower::ServiceBuilder;

use crate::common::*;

/// The claims the tests sign and read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: u64,
}

const SECRET: &[u8] = b"test-secret";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token(key: &SigningKey, sub: &str, exp: u64) -> String {
    key.sign(&Claims {
        sub: sub.into(),
        exp,
    })
    .unwrap()
}

fn hs256(secret: &[u8]) -> SigningKey {
    SigningKey::secret(Algorithm::HS256, secret).unwrap()
}

/// An HS256 token with the given claims.
fn signed(claims: &serde_json::Value) -> String {
    hs256(SECRET).sign(claims).unwrap()
}

fn hs(sub: &str, exp: u64) -> String {
    token(&hs256(SECRET), sub, exp)
}

/// GET `url` with `token` as its bearer credential: the status and body.
async fn get_bearer(url: &str, token: &str) -> (u16, String) {
    let auth = format!("Bearer {token}");
    let (status, _, body) = get_with(url, &[("authorization", &auth)]).await;
    (status, body)
}

#[tokio::test]
async fn every_failure_is_401_unauthorized_on_both_transports() {
    let s = serve(JwtLayer::<Claims>::hs256(SECRET)).await;
    let url = format!("{}/hello/claims", s.http);
    let cases = [
        (None, "JWT token is missing"),
        (Some("Basic abc".to_owned()), "JWT token is missing"),
        (
            Some("Bearer not.a.jwt".to_owned()),
            "Fail to parse JWT token",
        ),
        (
            Some(format!(
                "Bearer {}",
                token(&hs256(b"other"), "eve", now() + 60)
            )),
            "Token is invalid",
        ),
        (
            Some(format!("Bearer {}", hs("old", now() - 3600))),
            "JWT token has expired",
        ),
        // No leeway: expired 30 s ago is expired.
        (
            Some(format!("Bearer {}", hs("old", now() - 30))),
            "JWT token has expired",
        ),
        // `nbf` in the future: not valid yet.
        (
            Some(format!(
                "Bearer {}",
                signed(
                    &serde_json::json!({"sub": "early", "exp": now() + 600, "nbf": now() + 300})
                )
            )),
            "JWT token is not valid yet",
        ),
    ];
    let mut client = greeter(&s.grpc).await;
    for (auth, message) in cases {
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        let (status, _, body) = get_with(&url, &headers).await;
        let err = json_error(status, &body);
        assert_eq!(
            (status, err.reason(), err.message()),
            (401, "UNAUTHORIZED", message)
        );

        let mut req = tonic::Request::new(kratos_examples_api::helloworld::v1::HelloRequest {
            name: "claims".into(),
        });
        if let Some(a) = &auth {
            req.metadata_mut()
                .insert("authorization", a.parse().unwrap());
        }
        let status = client.say_hello(req).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        let err = kratos_core::Error::from_status(&status);
        assert_eq!((err.reason(), err.message()), ("UNAUTHORIZED", message));
    }

    // A valid token: the handler sees the claims.
    let (status, body) = get_bearer(&url, &hs("alice", now() + 60)).await;
    assert_eq!((status, body.as_str()), (200, r#"{"message":"alice"}"#));
    // An `aud` claim is accepted when no audience is configured.
    let with_aud =
        signed(&serde_json::json!({"sub": "bob", "exp": now() + 60, "aud": "api://orders"}));
    let (status, body) = get_bearer(&url, &with_aud).await;
    assert_eq!((status, body.as_str()), (200, r#"{"message":"bob"}"#));
    s.stop().await;
}

#[tokio::test]
async fn client_layer_signs_and_claims_reach_grpc_handlers() {
    let s = serve(JwtLayer::<Claims>::hs256(SECRET)).await;
    let svc = ServiceBuilder::new()
        .layer(JwtClientLayer::hs256(SECRET, || Claims {
            sub: "svc-a".into(),
            exp: now() + 60,
        }))
        .service(channel(&s.grpc).await);
    let mut client = GreeterClient::new(svc);
    assert_eq!(say_hello(&mut client, "claims").await.unwrap(), "svc-a");
    s.stop().await;
}

#[tokio::test]
async fn streaming_call_without_token_is_rejected_before_it_starts() {
    let s = serve(JwtLayer::<Claims>::hs256(SECRET)).await;
    let mut echo = EchoClient::new(channel(&s.grpc).await);
    let outbound = tokio_stream::iter(vec![EchoRequest {
        message: "a".into(),
    }]);
    let status = echo
        .bidirectional_streaming_echo(outbound)
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert_eq!(
        kratos_core::Error::from_status(&status).reason(),
        "UNAUTHORIZED"
    );

    // With a token the same stream flows both ways.
    let svc = ServiceBuilder::new()
        .layer(JwtClientLayer::token(hs("bob", now() + 60)))
        .service(channel(&s.grpc).await);
    let mut echo = EchoClient::new(svc);
    let outbound = tokio_stream::iter(vec![
        EchoRequest {
            message: "a".into(),
        },
        EchoRequest {
            message: "b".into(),
        },
    ]);
    let mut inbound = echo
        .bidirectional_streaming_echo(outbound)
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    while let Some(m) = inbound.message().await.unwrap() {
        got.push(m.message);
    }
    assert_eq!(got, ["a", "b"]);
    s.stop().await;
}

#[tokio::test]
async fn rs256_and_es256_tokens_are_validated() {
    let rsa_private = include_bytes!("keys/rsa_private.pem");
    let rsa_public = include_bytes!("keys/rsa_public.pem");
    let ec_private = include_bytes!("keys/ec_private.pem");
    let ec_public = include_bytes!("keys/ec_public.pem");
    let cases = [
        (
            JwtLayer::<Claims>::rs256_pem(rsa_public).unwrap(),
            SigningKey::rsa_pem(Algorithm::RS256, rsa_private).unwrap(),
        ),
        (
            JwtLayer::<Claims>::es256_pem(ec_public).unwrap(),
            SigningKey::ec_pem(Algorithm::ES256, ec_private).unwrap(),
        ),
    ];
    for (layer, key) in cases {
        let s = serve(layer).await;
        let url = format!("{}/hello/claims", s.http);
        let (status, body) = get_bearer(&url, &token(&key, "carol", now() + 60)).await;
        assert_eq!(
            (status, body.as_str()),
            (200, r#"{"message":"carol"}"#),
            "{key:?}"
        );
        // An HS256 token is refused by an asymmetric-key server.
        let (status, body) = get_bearer(&url, &hs("mallory", now() + 60)).await;
        assert_eq!(
            (status, json_error(status, &body).reason().to_owned()),
            (401, "UNAUTHORIZED".into())
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn a_configured_audience_and_issuer_are_required() {
    let layer = JwtLayer::<Claims>::hs256(SECRET)
        .audience(["api://orders"])
        .issuer(["https://login.example"]);
    let s = serve(layer).await;
    let url = format!("{}/hello/claims", s.http);
    let exp = now() + 60;
    let cases = [
        (
            serde_json::json!({"sub": "a", "exp": exp, "aud": "api://orders", "iss": "https://login.example"}),
            200,
            "",
        ),
        (
            serde_json::json!({"sub": "b", "exp": exp, "iss": "https://login.example"}),
            401,
            "JWT token has a wrong audience",
        ),
        (
            serde_json::json!({"sub": "c", "exp": exp, "aud": "api://users", "iss": "https://login.example"}),
            401,
            "JWT token has a wrong audience",
        ),
        (
            serde_json::json!({"sub": "d", "exp": exp, "aud": "api://orders"}),
            401,
            "JWT token has a wrong issuer",
        ),
        (
            serde_json::json!({"sub": "e", "exp": exp, "aud": "api://orders", "iss": "https://evil.example"}),
            401,
            "JWT token has a wrong issuer",
        ),
    ];
    for (claims, want, message) in cases {
        let (status, body) = get_bearer(&url, &signed(&claims)).await;
        assert_eq!(status, want, "{claims} → {body}");
        if want == 401 {
            assert_eq!(json_error(status, &body).message(), message, "{claims}");
        }
    }
    s.stop().await;
}
