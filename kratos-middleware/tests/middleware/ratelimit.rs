//! ratelimit: BBR under bounded overload and the token bucket's burst, on
//! both transports.

use std::sync::Arc;

use axum::routing::get as route_get;
use kratos_core::App;
use kratos_examples_api::helloworld::v1::greeter_server::{Greeter, GreeterServer};
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest};
use kratos_middleware::ratelimit::{Bbr, BbrConfig, RateLimitLayer, SystemCpu};
use kratos_transport::grpc::GrpcServer;
use kratos_transport::http::HttpServer;
use tokio::sync::{Semaphore, mpsc};

use crate::common::*;

/// A handler that, for `gate`, says it entered and waits to be released.
#[derive(Clone)]
struct Gate {
    entered: mpsc::UnboundedSender<()>,
    release: Arc<Semaphore>,
}

impl Gate {
    async fn pass(&self, name: &str) -> String {
        if name == "gate" {
            self.entered.send(()).unwrap();
            self.release.acquire().await.unwrap().forget();
        }
        format!("Hello {name}")
    }
}

#[tonic::async_trait]
impl Greeter for Gate {
    async fn say_hello(
        &self,
        req: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        let message = self.pass(&req.into_inner().name).await;
        Ok(tonic::Response::new(HelloReply { message }))
    }
}

fn gate() -> (Gate, mpsc::UnboundedReceiver<()>) {
    let (entered, rx) = mpsc::unbounded_channel();
    let gate = Gate {
        entered,
        release: Arc::new(Semaphore::new(0)),
    };
    (gate, rx)
}

/// BBR with a CPU threshold of 0‰: always "overloaded", so it admits only
/// what its statistics say the service can take.
fn overloaded_bbr() -> RateLimitLayer<Bbr> {
    RateLimitLayer::new(Bbr::with_cpu(
        BbrConfig::default().with_cpu_threshold(0),
        SystemCpu::new(),
    ))
}

#[tokio::test]
async fn bbr_rejects_overload_with_429_and_keeps_answering_over_http() {
    let (gate, mut entered) = gate();
    let handler_gate = gate.clone();
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route(
            "/hello/{name}",
            route_get(
                move |axum::extract::Path(name): axum::extract::Path<String>| {
                    let gate = handler_gate.clone();
                    async move { gate.pass(&name).await }
                },
            ),
        )
        .layer(overloaded_bbr())
        .build();
    let s = start(App::builder().name("bbr").server(http)).await;

    let slow_url = format!("{}/hello/gate", s.http);
    let slow = tokio::spawn(async move { get(&slow_url).await });
    entered.recv().await.unwrap();
    // One call in flight and no statistics yet: the capacity estimate is 0.
    for _ in 0..5 {
        let (status, _, body) = get(&format!("{}/hello/x", s.http)).await;
        let err = json_error(status, &body);
        assert_eq!((status, err.reason()), (429, "RATELIMIT"));
    }
    gate.release.add_permits(1);
    let (status, _, body) = slow.await.unwrap();
    assert_eq!((status, body.as_str()), (200, "Hello gate"));
    // Nothing in flight: the server answers again.
    let (status, _, _) = get(&format!("{}/hello/after", s.http)).await;
    assert_eq!(status, 200);
    s.stop().await;
}

#[tokio::test]
async fn bbr_rejects_overload_with_resource_exhausted_over_grpc() {
    let (gate, mut entered) = gate();
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(GreeterServer::new(gate.clone()))
        .layer(overloaded_bbr())
        .build();
    let s = start(App::builder().name("bbr").server(grpc)).await;

    let mut slow_client = greeter(&s.grpc).await;
    let slow = tokio::spawn(async move { say_hello(&mut slow_client, "gate").await });
    entered.recv().await.unwrap();
    let mut client = greeter(&s.grpc).await;
    for _ in 0..5 {
        let status = client
            .say_hello(HelloRequest { name: "x".into() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert_eq!(
            kratos_core::Error::from_status(&status).reason(),
            "RATELIMIT"
        );
    }
    gate.release.add_permits(1);
    assert_eq!(slow.await.unwrap().unwrap(), "Hello gate");
    assert_eq!(
        say_hello(&mut client, "after").await.unwrap(),
        "Hello after"
    );
    s.stop().await;
}

#[tokio::test]
async fn token_bucket_admits_exactly_its_burst_across_both_transports() {
    // No refill: exactly 5 calls pass, whichever transport they use, since
    // every clone of the layer shares one bucket.
    let s = serve(RateLimitLayer::token_bucket(0.0, 5)).await;
    let mut client = greeter(&s.grpc).await;
    let mut ok = 0;
    let mut limited = 0;
    for i in 0..10 {
        if i % 2 == 0 {
            let (status, _, body) = get(&format!("{}/hello/x", s.http)).await;
            match status {
                200 => ok += 1,
                429 => {
                    assert_eq!(json_error(status, &body).reason(), "RATELIMIT");
                    limited += 1;
                }
                other => panic!("unexpected {other}"),
            }
        } else {
            match say_hello(&mut client, "x").await {
                Ok(_) => ok += 1,
                Err(err) => {
                    assert_eq!((err.code(), err.reason()), (429, "RATELIMIT"));
                    limited += 1;
                }
            }
        }
    }
    assert_eq!((ok, limited), (5, 5));
    s.stop().await;
}
