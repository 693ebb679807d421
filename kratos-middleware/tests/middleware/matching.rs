//! Matching: a layer bound to a prefix runs only for those operations; a
//! from_fn middleware rejects on both transports.

use axum::body::Body;
use http::HeaderValue;
use kratos_core::Error;
use kratos_examples_api::echo::v1::EchoRequest;
use kratos_examples_api::echo::v1::echo_client::EchoClient;
use kratos_examples_api::helloworld::v1::HelloRequest;
use kratos_middleware::{Matcher, Next, Request, from_fn, when};

use crate::common::*;

#[tokio::test]
async fn prefix_bound_middleware_runs_only_for_matching_operations() {
    let mark = from_fn(|req: Request, next: Next| async move {
        let mut res = next.run(req).await?;
        res.headers_mut()
            .insert("x-matched", HeaderValue::from_static("yes"));
        Ok(res)
    });
    let matcher = Matcher::prefix("/helloworld.v1.Greeter/").or(Matcher::prefix("/hello/"));
    let s = serve(when(matcher, mark)).await;

    let (_, headers, _) = get(&format!("{}/hello/x", s.http)).await;
    assert_eq!(headers.get("x-matched").unwrap(), "yes");
    let (_, headers, _) = get(&format!("{}/other/x", s.http)).await;
    assert!(headers.get("x-matched").is_none());

    let mut client = greeter(&s.grpc).await;
    let res = client
        .say_hello(HelloRequest { name: "x".into() })
        .await
        .unwrap();
    assert_eq!(res.metadata().get("x-matched").unwrap(), "yes");
    let mut echo = EchoClient::new(channel(&s.grpc).await);
    let res = echo
        .unary_echo(EchoRequest {
            message: "x".into(),
        })
        .await
        .unwrap();
    assert!(res.metadata().get("x-matched").is_none());
    s.stop().await;
}

#[tokio::test]
async fn from_fn_rejection_is_encoded_per_transport() {
    let deny = from_fn(|req: Request, next: Next| async move {
        if req.headers().contains_key("x-deny") {
            return Err(Error::forbidden("DENIED", "go away"));
        }
        next.run(req).await
    });
    let negated = Matcher::regex(r"^/other/").unwrap().not();
    let s = serve(when(negated, deny)).await;

    let (status, _, body) = get_with(&format!("{}/hello/x", s.http), &[("x-deny", "1")]).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        r#"{"code":403,"reason":"DENIED","message":"go away","metadata":{}}"#
    );
    let (status, _, _) = get_with(&format!("{}/other/x", s.http), &[("x-deny", "1")]).await;
    assert_eq!(status, 200);

    let mut client = greeter(&s.grpc).await;
    let mut req = tonic::Request::new(HelloRequest { name: "x".into() });
    req.metadata_mut().insert("x-deny", "1".parse().unwrap());
    let status = client.say_hello(req).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    assert_eq!(Error::from_status(&status).reason(), "DENIED");
    let _ = Body::empty();
    s.stop().await;
}
