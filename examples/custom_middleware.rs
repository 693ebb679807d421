//! Run with `cargo run --example custom_middleware`, then:
//!
//! ```text
//! curl -i localhost:8000/hello/kratos                      # 401 API_KEY_MISSING
//! curl -i localhost:8000/hello/kratos -H 'x-api-key: demo' # 200, x-audited-by header
//! grpcurl -plaintext -H 'x-api-key: demo' -d '{"name":"kratos"}' \
//!   localhost:9000 helloworld.v1.Greeter/SayHello        # needs reflection; or any gRPC client
//! ```
//!
//! `cargo run --example custom_middleware -- --smoke` serves on free ports,
//! calls itself through a `GrpcChannel` and an `HttpClient`, and exits 0 if
//! the one `Audit` middleware ran on all four sides.
//!
//! Middleware written as a user would in their own crate: only the public
//! API of `kratos::middleware`, one implementation for HTTP and gRPC, server
//! and client. `ApiKey` checks a key on the servers; `Audit` stamps and counts
//! every call it sees, on both servers and both clients. A rejection is a
//! `kratos::Error`, which each transport encodes its own way (a JSON body, or
//! a gRPC status with ErrorInfo).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::Path;
use axum::routing::get;
use http::HeaderValue;
use kratos::grpc::{GrpcChannel, GrpcServer};
use kratos::http::{HttpClient, HttpServer};
use kratos::middleware::{Middleware, Next, Request, Response, layer};
use kratos::{App, Error, TransportInfo};
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_examples_api::helloworld::v1::greeter_grpc;
use kratos_examples_api::helloworld::v1::greeter_server::Greeter;
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest};

// ---- the middleware: everything a user writes ----
/// Requires `x-api-key` to be one of the known keys.
#[derive(Clone)]
struct ApiKey {
    keys: Vec<String>,
}

impl Middleware for ApiKey {
    async fn handle(&self, req: Request, next: Next) -> Result<Response, Error> {
        let key = req.headers().get("x-api-key").and_then(|v| v.to_str().ok());
        match key {
            None => Err(Error::unauthorized("API_KEY_MISSING", "send x-api-key")),
            Some(k) if !self.keys.iter().any(|known| known == k) => {
                Err(Error::forbidden("API_KEY_UNKNOWN", "unknown key"))
            }
            Some(_) => next.run(req).await,
        }
    }
}

/// Counts each call by side, kind and operation, and stamps the response.
#[derive(Clone, Default)]
struct Audit {
    side: &'static str,
    seen: Arc<Mutex<BTreeMap<String, u32>>>,
}

impl Middleware for Audit {
    async fn handle(&self, req: Request, next: Next) -> Result<Response, Error> {
        let call = TransportInfo::from_request(&req)
            .map(|info| format!("{} {} {}", self.side, info.kind(), info.operation()))
            .unwrap_or_default();
        *self.seen.lock().unwrap().entry(call.clone()).or_default() += 1;
        let mut res = next.run(req).await?;
        if let Ok(v) = HeaderValue::from_str(&call) {
            res.headers_mut().append("x-audited-by", v);
        }
        Ok(res)
    }
}
// ---- end of the middleware ----

#[derive(Clone)]
struct Hello;

#[tonic::async_trait]
impl Greeter for Hello {
    async fn say_hello(
        &self,
        req: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        let message = format!("Hello {}", req.into_inner().name);
        Ok(tonic::Response::new(HelloReply { message }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (host, http_port, grpc_port) = if smoke {
        ([127, 0, 0, 1], 0, 0)
    } else {
        ([0, 0, 0, 0], 8000, 9000)
    };
    let seen: Arc<Mutex<BTreeMap<String, u32>>> = Arc::default();
    let audit = |side| {
        layer(Audit {
            side,
            seen: seen.clone(),
        })
    };
    let api_key = layer(ApiKey {
        keys: vec!["demo".into()],
    });
    let http = HttpServer::builder()
        .address((host, http_port))
        .route(
            "/hello/{name}",
            get(|Path(name): Path<String>| async move { format!("\"Hello {name}\"") }),
        )
        .layer(api_key.clone())
        .layer(audit("server"))
        .build();
    let grpc = GrpcServer::builder()
        .address((host, grpc_port))
        .add_service(greeter_grpc::server(Arc::new(Hello)))
        .layer(api_key)
        .layer(audit("server"))
        .build();
    let app = App::builder()
        .name("custom-middleware")
        .server(http)
        .server(grpc)
        .build();
    if !smoke {
        return app.run().await;
    }

    let running = app.spawn().await?;
    println!("listening on {:?}", running.endpoints());
    let endpoint = |scheme: &str| {
        running
            .endpoints()
            .iter()
            .find(|e| e.starts_with(scheme))
            .cloned()
            .unwrap_or_default()
    };
    // The same middleware type on both clients.
    let channel = GrpcChannel::builder()
        .endpoint(endpoint("grpc://"))
        .layer(audit("client"))
        .connect()
        .await?;
    let mut greeter = GreeterClient::new(channel);
    let mut req = tonic::Request::new(HelloRequest {
        name: "grpc".into(),
    });
    req.metadata_mut().insert(
        "x-api-key",
        tonic::metadata::MetadataValue::from_static("demo"),
    );
    let reply = greeter
        .say_hello(req)
        .await
        .map_err(|s| Error::from_status(&s))?;
    println!("gRPC: {}", reply.into_inner().message);

    let client = HttpClient::builder()
        .endpoint(endpoint("http://"))
        .layer(audit("client"))
        .connect()
        .await?;
    let req = http::Request::get("/hello/http")
        .header("x-api-key", "demo")
        .body(axum::body::Body::empty())
        .map_err(|e| Error::bad_request("REQUEST", e.to_string()))?;
    let reply: String = client.invoke_with(req).await?;
    println!("HTTP: {reply}");
    // Without a key the server's ApiKey rejects the call; Audit still sees it.
    let rejected = client
        .invoke::<(), String>(http::Method::GET, "/hello/nokey", &())
        .await
        .expect_err("no key");
    println!(
        "HTTP without a key: {} {}",
        rejected.code(),
        rejected.reason()
    );
    running.stop().await?;

    let seen = seen.lock().unwrap().clone();
    for (call, count) in &seen {
        println!("audited {count}× {call}");
    }
    let sides = ["server http", "server grpc", "client http", "client grpc"];
    let missing: Vec<_> = sides
        .iter()
        .filter(|side| !seen.keys().any(|call| call.starts_with(*side)))
        .collect();
    if !missing.is_empty() || rejected.reason() != "API_KEY_MISSING" {
        return Err(Error::internal_server(
            "SMOKE",
            format!("audit missing on {missing:?}, rejection {rejected:?}"),
        ));
    }
    println!("smoke ok: one middleware ran on all four sides");
    Ok(())
}
