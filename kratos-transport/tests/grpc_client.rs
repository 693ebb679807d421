//! The discovery-aware gRPC channel against real servers.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Echoer, SERVICE, answered_by, node, register_dead, start};
use kratos_core::{Error, Kind, TransportInfo};
use kratos_examples_api::echo::v1::EchoRequest;
use kratos_examples_api::echo::v1::echo_client::EchoClient;
use kratos_examples_api::helloworld::v1::HelloRequest;
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_registry::{MemoryRegistry, Registrar};
use kratos_selector::balancer::{P2c, RoundRobin};
use kratos_selector::{NodeFilters, VersionFilter};
use kratos_transport::grpc::{GrpcChannel, GrpcChannelBuilder};
use tokio_stream::StreamExt;

fn dial(registry: &MemoryRegistry) -> GrpcChannelBuilder {
    GrpcChannel::builder()
        .endpoint(format!("discovery:///{SERVICE}"))
        .discovery(registry.clone())
}

async fn hello(client: &mut GreeterClient<GrpcChannel>, name: &str) -> Result<String, Error> {
    client
        .say_hello(HelloRequest { name: name.into() })
        .await
        .map(|r| r.into_inner().message)
        .map_err(|s| Error::from_status(&s))
}

/// Calls `n` times, counting answers per instance id ("error" for failures).
async fn spread(client: &mut GreeterClient<GrpcChannel>, n: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..n {
        let who = match hello(client, "ada").await {
            Ok(msg) => answered_by(&msg).to_owned(),
            Err(_) => "error".to_owned(),
        };
        *counts.entry(who).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn direct_target_and_transport_info() {
    let registry = MemoryRegistry::new();
    let a = start(&registry, "a", "v1").await;
    let seen: Arc<Mutex<Vec<(Kind, String, String)>>> = Arc::default();
    let record = seen.clone();
    let channel = GrpcChannel::builder()
        .endpoint(a.endpoint("grpc"))
        .layer(tower::util::MapRequestLayer::new(
            move |req: http::Request<axum::body::Body>| {
                let info = TransportInfo::from_request(&req).expect("transport info");
                record.lock().unwrap().push((
                    info.kind(),
                    info.operation().to_owned(),
                    info.endpoint().to_owned(),
                ));
                req
            },
        ))
        .connect()
        .await
        .unwrap();
    let mut client = GreeterClient::new(channel);
    assert_eq!(hello(&mut client, "ada").await.unwrap(), "Hello ada from a");
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![(
            Kind::Grpc,
            "/helloworld.v1.Greeter/SayHello".to_owned(),
            a.endpoint("grpc")
        )]
    );
    a.stop().await;
}

#[tokio::test]
async fn server_errors_decode_and_do_not_count_against_the_node() {
    let registry = MemoryRegistry::new();
    let a = start(&registry, "a", "v1").await;
    let channel = dial(&registry).connect().await.unwrap();
    let mut client = GreeterClient::new(channel.clone());
    let err = hello(&mut client, "missing").await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.reason(), "USER_NOT_FOUND");
    let err = hello(&mut client, "overloaded").await.unwrap_err();
    assert!(err.is_service_unavailable());
    assert_eq!(err.reason(), "OVERLOADED");
    let stats = channel.selector().nodes();
    assert_eq!(stats[0].stats().requests(), 2);
    // A 404 is a normal answer; a 503 is held against the node, as in Go Kratos.
    assert_eq!(stats[0].stats().failures(), 1);
    assert_eq!(stats[0].stats().inflight(), 0);
    a.stop().await;
}

#[tokio::test]
async fn no_instance_is_node_not_found() {
    let registry = MemoryRegistry::new();
    let channel = dial(&registry).connect().await.unwrap();
    let mut client = GreeterClient::new(channel);
    let err = hello(&mut client, "ada").await.unwrap_err();
    assert!(err.is_service_unavailable());
    assert_eq!(err.reason(), "NODE_NOT_FOUND");
}

#[tokio::test]
async fn deregistered_instance_gets_no_more_calls() {
    let registry = MemoryRegistry::new();
    let a = start(&registry, "a", "v1").await;
    let b = start(&registry, "b", "v1").await;
    let channel = dial(&registry)
        .balancer(RoundRobin::new)
        .connect()
        .await
        .unwrap();
    let mut client = GreeterClient::new(channel.clone());
    let counts = spread(&mut client, 20).await;
    assert_eq!(counts.get("a"), Some(&10), "{counts:?}");
    assert_eq!(counts.get("b"), Some(&10), "{counts:?}");

    // b stops: it deregisters, then drains. Wait until the watcher delivered.
    let mut updates = channel.selector().subscribe();
    b.stop().await;
    updates
        .wait_for(|_| channel.selector().nodes().len() == 1)
        .await
        .unwrap();
    let counts = spread(&mut client, 50).await;
    assert_eq!(counts.get("a"), Some(&50), "{counts:?}");
    a.stop().await;
}

#[tokio::test]
async fn killed_instance_costs_no_call_and_is_ejected() {
    let registry = MemoryRegistry::new();
    let a = start(&registry, "a", "v1").await;
    register_dead(&registry, "dead").await;
    let channel = dial(&registry)
        .balancer(RoundRobin::new)
        .connect()
        .await
        .unwrap();
    let mut client = GreeterClient::new(channel.clone());
    let mut failed = 0;
    for _ in 0..20 {
        match client.say_hello(HelloRequest { name: "ada".into() }).await {
            Ok(reply) => assert_eq!(answered_by(&reply.into_inner().message), "a"),
            Err(status) => {
                assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
                failed += 1;
            }
        }
    }
    // The refused connection sent nothing: the call went on to `a`, and the
    // dead node left rotation after that one failure.
    assert_eq!(failed, 0);
    let dead = node(channel.selector(), "dead");
    assert_eq!(dead.stats().failures(), 1);
    assert!(dead.stats().is_ejected());
    assert_eq!(dead.stats().inflight(), 0);
    assert_eq!(node(channel.selector(), "a").stats().failures(), 0);
    a.stop().await;
}

#[tokio::test]
async fn p2c_stops_sending_to_a_killed_instance() {
    let registry = MemoryRegistry::new();
    let a = start(&registry, "a", "v1").await;
    let b = start(&registry, "b", "v1").await;
    register_dead(&registry, "dead").await;
    let channel = dial(&registry).balancer(P2c::new).connect().await.unwrap();
    let mut client = GreeterClient::new(channel);
    let counts = spread(&mut client, 200).await;
    // The first failure zeroes its success rate; afterwards only a forced
    // probe (one per 3 s) goes there.
    assert!(counts.get("error").copied().unwrap_or(0) <= 3, "{counts:?}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn p2c_sends_little_to_a_slow_instance() {
    let registry = MemoryRegistry::new();
    let instances = [
        start(&registry, "a", "v1").await,
        start(&registry, "b", "v1").await,
        start(&registry, "slow", "v1").await,
    ];
    instances[2]
        .delay_ms
        .store(20, std::sync::atomic::Ordering::Relaxed);
    let channel = dial(&registry).balancer(P2c::new).connect().await.unwrap();
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let mut client = GreeterClient::new(channel.clone());
        callers.spawn(async move { spread(&mut client, 100).await });
    }
    let mut total: HashMap<String, usize> = HashMap::new();
    while let Some(counts) = callers.join_next().await {
        for (who, n) in counts.unwrap() {
            *total.entry(who).or_default() += n;
        }
    }
    eprintln!("calls per instance: {total:?}");
    let slow = total.get("slow").copied().unwrap_or(0);
    assert!(slow < 90, "slow instance got {slow} of 600: {total:?}");
    assert!(!total.contains_key("error"), "{total:?}");
    for i in instances {
        i.stop().await;
    }
}

#[tokio::test]
async fn version_filters_per_call_and_per_channel() {
    let registry = MemoryRegistry::new();
    let v1 = start(&registry, "one", "v1").await;
    let v2 = start(&registry, "two", "v2").await;
    let channel = dial(&registry).connect().await.unwrap();
    let mut client = GreeterClient::new(channel);
    for _ in 0..20 {
        let mut req = tonic::Request::new(HelloRequest { name: "ada".into() });
        req.extensions_mut()
            .insert(NodeFilters::new().with(VersionFilter::new("v2")));
        let reply = client.say_hello(req).await.unwrap().into_inner();
        assert_eq!(answered_by(&reply.message), "two");
    }

    let channel = dial(&registry)
        .filter(VersionFilter::new("v1"))
        .connect()
        .await
        .unwrap();
    let mut client = GreeterClient::new(channel);
    let counts = spread(&mut client, 10).await;
    assert_eq!(counts.get("one"), Some(&10), "{counts:?}");
    v1.stop().await;
    v2.stop().await;
}

#[tokio::test]
async fn block_waits_for_the_first_instance() {
    let registry = MemoryRegistry::new();
    let dialling = tokio::spawn(
        dial(&registry)
            .block(true)
            .timeout(Duration::from_secs(30))
            .connect(),
    );
    let a = start(&registry, "a", "v1").await;
    let channel = dialling.await.unwrap().expect("dialled once a registered");
    let mut client = GreeterClient::new(channel);
    assert_eq!(hello(&mut client, "ada").await.unwrap(), "Hello ada from a");
    a.stop().await;
}

#[tokio::test(start_paused = true)]
async fn block_gives_up_after_the_timeout() {
    let registry = MemoryRegistry::new();
    let err = dial(&registry)
        .block(true)
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap_err();
    assert!(err.is_service_unavailable());
    assert_eq!(err.reason(), "NODE_NOT_FOUND");
    // A registered instance without a gRPC endpoint does not count.
    registry
        .register(
            &kratos_registry::ServiceInstance::new("h", SERVICE)
                .with_endpoint("http://127.0.0.1:1"),
        )
        .await
        .unwrap();
    assert!(dial(&registry).block(true).connect().await.is_err());
}

#[tokio::test]
async fn streaming_calls_go_through_the_channel() {
    let registry = MemoryRegistry::new();
    let a = start(&registry, "a", "v1").await;
    let channel = dial(&registry).connect().await.unwrap();
    let mut echo = EchoClient::new(channel.clone());
    let req = |m: &str| EchoRequest { message: m.into() };

    let unary = echo.unary_echo(req("hi")).await.unwrap().into_inner();
    assert_eq!(unary.message, "hi");

    let server: Vec<String> = echo
        .server_streaming_echo(req("tick"))
        .await
        .unwrap()
        .into_inner()
        .map(|m| m.unwrap().message)
        .collect()
        .await;
    assert_eq!(server, ["tick 0", "tick 1", "tick 2"]);

    let client = echo
        .client_streaming_echo(tokio_stream::iter([req("a"), req("b"), req("c")]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(client.message, "a,b,c");

    let bidi: Vec<String> = echo
        .bidirectional_streaming_echo(tokio_stream::iter([req("x"), req("y")]))
        .await
        .unwrap()
        .into_inner()
        .map(|m| m.unwrap().message)
        .collect()
        .await;
    assert_eq!(bidi, ["X", "Y"]);

    // Each stream's outcome reached the node's statistics when it ended.
    let stats = channel.selector().nodes();
    assert_eq!(stats[0].stats().requests(), 4);
    assert_eq!(stats[0].stats().inflight(), 0);
    let _ = Echoer;
    a.stop().await;
}

#[test]
fn clients_and_their_futures_are_send() {
    fn send_sync<T: Send + Sync + Clone + 'static>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<GrpcChannel>();
    send_sync::<kratos_transport::http::HttpClient>();
    let registry = MemoryRegistry::new();
    send(&dial(&registry).connect());
    send(
        &kratos_transport::http::HttpClient::builder()
            .endpoint("http://127.0.0.1:1")
            .connect(),
    );
    fn _invoke_is_send(client: &kratos_transport::http::HttpClient) {
        send(
            &client.invoke::<_, kratos_examples_api::helloworld::v1::HelloReply>(
                http::Method::GET,
                "/",
                &(),
            ),
        );
    }
}

#[tokio::test]
async fn balancer_chosen_by_name_at_run_time() {
    let registry = MemoryRegistry::new();
    let a = start(&registry, "a", "v1").await;
    let b = start(&registry, "b", "v1").await;
    // As from config: one code path, whatever the name.
    let name = String::from("round_robin");
    let kind: kratos_selector::BalancerKind = name.parse().unwrap();
    let channel = dial(&registry).balancer(kind).connect().await.unwrap();
    let mut client = GreeterClient::new(channel);
    let counts = spread(&mut client, 20).await;
    assert_eq!(counts.get("a"), Some(&10), "{counts:?}");
    assert_eq!(counts.get("b"), Some(&10), "{counts:?}");
    let unknown = "fastest"
        .parse::<kratos_selector::BalancerKind>()
        .unwrap_err();
    assert!(
        unknown
            .to_string()
            .contains("wrr, p2c, random, round_robin")
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_node_that_resets_its_reply_is_503_transport() {
    use axum::body::Body;
    use kratos_core::App;
    use kratos_transport::http::HttpServer;

    // A "node" whose reply fails as it is sent (hyper resets the stream),
    // as a node dying mid-reply does.
    let broken = axum::routing::post(|| async {
        let body = Body::from_stream(tokio_stream::iter([
            Ok(bytes::Bytes::from_static(&[0, 0, 0, 0, 16, 10])),
            Err(std::io::Error::other("the node died")),
        ]));
        http::Response::builder()
            .header("content-type", "application/grpc")
            .body(body)
            .unwrap()
    });
    let server = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route("/helloworld.v1.Greeter/SayHello", broken)
        .build();
    let app = App::builder()
        .name("broken")
        .server(server)
        .signals([])
        .build()
        .spawn()
        .await
        .unwrap();
    let endpoint = app.endpoints()[0].replacen("http://", "grpc://", 1);
    let channel = GrpcChannel::builder()
        .endpoint(endpoint)
        .connect()
        .await
        .unwrap();
    let err = hello(&mut GreeterClient::new(channel), "x")
        .await
        .expect_err("the reply was reset");
    assert_eq!((err.code(), err.reason()), (503, "TRANSPORT"), "{err:?}");
    app.stop().await.unwrap();
}
