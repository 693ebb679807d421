//! Validation in the generated servers: `GetUserRequest`'s one `Validate`
//! impl (examples/api/src/validate.rs, `id > 0`) runs on the HTTP route,
//! where `id` comes from the path, and on the gRPC server, where the
//! message may arrive gzip-compressed; a broken rule never reaches the
//! implementation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::{Next, from_fn};
use kratos::grpc::GrpcServer;
use kratos::http::HttpServer;
use kratos::{App, Error, RunningApp};
use kratos_examples_api::api::user::v1::user_service_client::UserServiceClient;
use kratos_examples_api::api::user::v1::user_service_server::UserService;
use kratos_examples_api::api::user::v1::{
    CreateUserRequest, GetUserRequest, ListUsersReply, ListUsersRequest, User,
    VerifyPasswordRequest, user_service_grpc, user_service_http,
};
#[cfg(feature = "gzip")]
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;

use crate::common::{send, spawn};

/// Every user exists; counts the calls that got through validation.
#[derive(Debug, Default)]
struct Users {
    calls: AtomicUsize,
}

#[tonic::async_trait]
impl UserService for Users {
    async fn get_user(
        &self,
        req: tonic::Request<GetUserRequest>,
    ) -> Result<tonic::Response<User>, tonic::Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let id = req.into_inner().id;
        Ok(tonic::Response::new(User {
            id,
            username: format!("user {id}"),
            email: String::new(),
        }))
    }

    // Only GetUser carries a `Validate` rule; the rest are not called here.
    async fn create_user(
        &self,
        _: tonic::Request<CreateUserRequest>,
    ) -> Result<tonic::Response<User>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }

    async fn list_users(
        &self,
        _: tonic::Request<ListUsersRequest>,
    ) -> Result<tonic::Response<ListUsersReply>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }

    async fn verify_password(
        &self,
        _: tonic::Request<VerifyPasswordRequest>,
    ) -> Result<tonic::Response<User>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }
}

struct Running {
    http: String,
    grpc: String,
    users: Arc<Users>,
    /// The `grpc-encoding` of each gRPC request the server received.
    encodings: Arc<Mutex<Vec<String>>>,
    app: RunningApp,
}

impl Running {
    async fn grpc_client(&self) -> UserServiceClient<Channel> {
        UserServiceClient::connect(self.grpc.replacen("grpc://", "http://", 1))
            .await
            .expect("connected")
    }

    fn calls(&self) -> usize {
        self.users.calls.load(Ordering::SeqCst)
    }
}

async fn start() -> Running {
    let users = Arc::new(Users::default());
    let encodings = Arc::new(Mutex::new(Vec::new()));
    let seen = encodings.clone();
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .merge(user_service_http::router(users.clone()))
        .build();
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(user_service_grpc::server(users.clone()))
        .layer(from_fn(move |req: Request, next: Next| {
            let encoding = req
                .headers()
                .get("grpc-encoding")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("identity")
                .to_owned();
            seen.lock().unwrap().push(encoding);
            next.run(req)
        }))
        .build();
    let (app, http, grpc) = spawn(App::builder().name("users"), http, grpc).await;
    Running {
        http,
        grpc,
        users,
        encodings,
        app,
    }
}

/// The Kratos error of a `VALIDATOR` violation of `id`.
fn assert_invalid_id(err: &Error) {
    assert_eq!((err.code(), err.reason()), (400, "VALIDATOR"), "{err:?}");
    assert_eq!(err.metadata().get("field").map(String::as_str), Some("id"));
}

#[cfg(feature = "gzip")]
#[tokio::test]
async fn a_gzip_compressed_grpc_request_is_validated() {
    let app = start().await;
    let mut client = app
        .grpc_client()
        .await
        .send_compressed(CompressionEncoding::Gzip);

    let status = client
        .get_user(GetUserRequest { id: -7 })
        .await
        .expect_err("id -7 breaks the rule");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let err = Error::from_status(&status);
    assert_invalid_id(&err);
    assert!(err.message().contains("-7"), "{}", err.message());

    let user = client
        .get_user(GetUserRequest { id: 7 })
        .await
        .expect("a valid compressed request passes")
        .into_inner();
    assert_eq!(user.id, 7);

    // Both requests were compressed; only the valid one reached the service.
    assert_eq!(*app.encodings.lock().unwrap(), ["gzip", "gzip"]);
    assert_eq!(app.calls(), 1);
    app.app.stop().await.expect("a clean run");
}

#[tokio::test]
async fn a_path_bound_field_breaking_its_rule_is_400_validator() {
    let app = start().await;
    for id in ["0", "-1"] {
        let (status, _, body) = send(
            http::Method::GET,
            &format!("{}/api/v1/users/{id}", app.http),
            &[],
            "",
        )
        .await;
        assert_eq!(status, 400, "{body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["code"], 400);
        assert_eq!(body["reason"], "VALIDATOR");
        assert_eq!(body["metadata"]["field"], "id");
    }
    assert_eq!(app.calls(), 0, "no invalid request reached the service");

    let (status, _, body) = send(
        http::Method::GET,
        &format!("{}/api/v1/users/3", app.http),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["id"], "3");
    assert_eq!(app.calls(), 1);
    app.app.stop().await.expect("a clean run");
}

#[tokio::test]
async fn one_impl_validates_the_message_on_both_transports() {
    let app = start().await;
    let http_client = user_service_http::UserServiceHttpClient::new(app.http.clone());
    let mut grpc_client = app.grpc_client().await;

    // The same invalid message: the same error on both transports.
    let invalid = GetUserRequest { id: 0 };
    let over_http = http_client
        .get_user(invalid)
        .await
        .expect_err("rejected over HTTP");
    let over_grpc = Error::from_status(
        &grpc_client
            .get_user(invalid)
            .await
            .expect_err("rejected over gRPC"),
    );
    assert_invalid_id(&over_http);
    assert_invalid_id(&over_grpc);
    assert_eq!(over_http.message(), over_grpc.message());
    assert_eq!(app.calls(), 0);

    // The same valid message: the same reply on both.
    let valid = GetUserRequest { id: 2 };
    let over_http = http_client.get_user(valid).await.expect("over HTTP");
    let over_grpc = grpc_client
        .get_user(valid)
        .await
        .expect("over gRPC")
        .into_inner();
    assert_eq!(over_http, over_grpc);
    assert_eq!(over_http.username, "user 2");
    assert_eq!(app.calls(), 2);
    app.app.stop().await.expect("a clean run");
}
