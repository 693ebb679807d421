//! gRPC reflection (v1 and v1alpha) on by default, off on request; gzip
//! replies for clients that accept them.

use kratos::App;
use kratos::grpc::GrpcServer;
use kratos::http::HttpServer;
use kratos_examples_api::api::order::v1::{GetOrderRequest, order_service_grpc};
use prost::Message;
use tokio_stream::StreamExt;
#[cfg(feature = "gzip")]
use tonic::codec::CompressionEncoding;
use tonic_reflection::pb::{v1, v1alpha};

use crate::common::{Orders, create_sample, spawn, start};

const ORDER_SERVICE: &str = "api.order.v1.OrderService";

async fn channel(grpc: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(grpc.replacen("grpc://", "http://", 1))
        .unwrap()
        .connect()
        .await
        .expect("connected")
}

async fn v1_call(
    grpc: &str,
    request: v1::server_reflection_request::MessageRequest,
) -> Result<v1::server_reflection_response::MessageResponse, tonic::Status> {
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(channel(grpc).await);
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut replies = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await?
        .into_inner();
    let reply = replies.next().await.expect("one reply")?;
    Ok(reply.message_response.expect("a response"))
}

#[tokio::test]
async fn reflection_lists_the_services_and_resolves_a_method() {
    let app = start().await;
    use v1::server_reflection_request::MessageRequest;
    use v1::server_reflection_response::MessageResponse;

    let MessageResponse::ListServicesResponse(list) =
        v1_call(&app.grpc, MessageRequest::ListServices(String::new()))
            .await
            .expect("reflection answers")
    else {
        panic!("not a service list");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        ORDER_SERVICE,
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }

    // Every listed service resolves, the other reflection version included
    // (grpc-python's client asks v1alpha about v1).
    for name in &names {
        let resolved = v1_call(
            &app.grpc,
            MessageRequest::FileContainingSymbol((*name).to_owned()),
        )
        .await
        .unwrap_or_else(|status| panic!("{name}: {status:?}"));
        assert!(
            matches!(resolved, MessageResponse::FileDescriptorResponse(_)),
            "{name}: {resolved:?}"
        );
    }

    let MessageResponse::FileDescriptorResponse(files) = v1_call(
        &app.grpc,
        MessageRequest::FileContainingSymbol(format!("{ORDER_SERVICE}.GetOrder")),
    )
    .await
    .expect("the symbol resolves") else {
        panic!("not a file descriptor");
    };
    let file = prost_types::FileDescriptorProto::decode(&files.file_descriptor_proto[0][..])
        .expect("a FileDescriptorProto");
    assert_eq!(file.package(), "api.order.v1");
    let service = file
        .service
        .iter()
        .find(|s| s.name() == "OrderService")
        .expect("the service is in its file");
    let method = service
        .method
        .iter()
        .find(|m| m.name() == "GetOrder")
        .expect("the method");
    assert_eq!(
        (method.input_type(), method.output_type()),
        (".api.order.v1.GetOrderRequest", ".api.order.v1.Order")
    );

    // The older v1alpha service (grpcurl falls back to it) answers too.
    let mut alpha =
        v1alpha::server_reflection_client::ServerReflectionClient::new(channel(&app.grpc).await);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let reply = alpha
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("v1alpha answers")
        .into_inner()
        .next()
        .await
        .expect("one reply")
        .unwrap();
    assert!(matches!(
        reply.message_response,
        Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(ref l))
            if l.service.iter().any(|s| s.name == ORDER_SERVICE)
    ));
    app.stop().await;
}

#[tokio::test]
async fn reflection_switched_off_is_unimplemented() {
    let orders = std::sync::Arc::new(Orders::default());
    let http = HttpServer::builder().address(([127, 0, 0, 1], 0)).build();
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(order_service_grpc::server(orders))
        .reflection(false)
        .build();
    let (app, _, grpc) = spawn(App::builder().name("no-reflection"), http, grpc).await;
    let status = v1_call(
        &grpc,
        v1::server_reflection_request::MessageRequest::ListServices(String::new()),
    )
    .await
    .expect_err("no reflection service");
    assert_eq!(status.code(), tonic::Code::Unimplemented, "{status:?}");
    app.stop().await.expect("a clean stop");
}

#[cfg(feature = "gzip")]
#[tokio::test]
async fn replies_are_gzip_only_for_clients_that_accept_it() {
    let app = start().await;
    let order = create_sample(&app).await;
    let id: i64 = order["id"].as_str().unwrap().parse().unwrap();
    let request = || GetOrderRequest { id, user_id: 0 };

    let mut gzip = app
        .grpc_client()
        .await
        .send_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Gzip);
    let reply = gzip
        .get_order(request())
        .await
        .expect("a gzip call is answered");
    assert_eq!(
        reply
            .metadata()
            .get("grpc-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    assert_eq!(reply.get_ref().id, id);

    let reply = app
        .grpc_client()
        .await
        .get_order(request())
        .await
        .expect("a plain call is answered");
    assert_eq!(
        reply.metadata().get("grpc-encoding"),
        None,
        "identity reply"
    );
    app.stop().await;
}
