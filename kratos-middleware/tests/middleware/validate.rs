//! validate: an invalid request is 400 VALIDATOR with the field, on both
//! transports; a valid one reaches the handler untouched.

use kratos_middleware::validate::{Validate, ValidateLayer, Violation};
use serde::Deserialize;

use crate::common::*;

/// Wire-compatible with `helloworld.v1.HelloRequest`, owned by this crate so
/// it can implement `Validate` (as a user's generated types would).
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
struct Hello {
    #[prost(string, tag = "1")]
    name: String,
}

impl Validate for Hello {
    fn validate(&self) -> Result<(), Violation> {
        if self.name.is_empty() || self.name.len() > 10 {
            return Err(Violation::new("name", "name must have 1 to 10 characters"));
        }
        Ok(())
    }
}

fn layer() -> ValidateLayer {
    ValidateLayer::new()
        .grpc::<Hello>("/helloworld.v1.Greeter/SayHello")
        .json::<Hello>("/hello/{name}")
}

#[tokio::test]
async fn invalid_request_is_400_validator_with_the_field() {
    let s = serve(layer()).await;

    let mut client = greeter(&s.grpc).await;
    let err = say_hello(&mut client, "a-name-far-too-long")
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.reason()), (400, "VALIDATOR"));
    assert_eq!(err.message(), "name must have 1 to 10 characters");
    assert_eq!(err.metadata()["field"], "name");
    assert_eq!(say_hello(&mut client, "ok").await.unwrap(), "Hello ok");

    let post = |body: &'static str| {
        http::Request::post(format!("{}/hello/x", s.http))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let (status, _, body) = send(http_client(), post(r#"{"name":""}"#)).await;
    let err = json_error(status, &body);
    assert_eq!((status, err.reason()), (400, "VALIDATOR"));
    assert_eq!(err.metadata()["field"], "name");
    let (status, _, body) = send(http_client(), post(r#"{"name":"bob"}"#)).await;
    assert_eq!((status, body.as_str()), (200, r#"{"message":"Hello x"}"#));
    s.stop().await;
}
