//! Every reply and error in one envelope, as many Go Kratos shops wrap them
//! with `http.ResponseEncoder` / `http.ErrorEncoder` / `http.RequestDecoder`:
//! `{"code":0,"message":"OK","data":…}` for a reply,
//! `{"code":404,"reason":"…","message":"…","data":null}` for an error (with
//! its HTTP status), and a request body may come as `{"data":{…}}`.
//!
//! The same hooks serve a generated route (the greeter, at `POST
//! /helloworld.v1.Greeter/SayHello`), a [`Json`] handler (`POST /v1/echo`)
//! and the server's own 404.
//!
//! ```text
//! cargo run --example envelope
//! curl -s -XPOST localhost:8000/helloworld.v1.Greeter/SayHello -d '{"data":{"name":"kratos"}}'
//! # {"code":0,"message":"OK","data":{"message":"Hello kratos"}}
//! curl -s localhost:8000/nope
//! # {"code":404,"reason":"NOT_FOUND","message":"no route for GET /nope","data":null}
//! ```
//!
//! `--smoke` serves on a free port, makes those calls, checks them, exits.

#[allow(dead_code)] // the shop's client; this example uses part of it
#[path = "support/client.rs"]
mod client;

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::HeaderMap;
use kratos::http::{HttpServer, Json};
use kratos::{App, Error};
use kratos_examples_api::helloworld::v1::greeter_server::Greeter;
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest, greeter_http};
use serde_json::{Value, json};
use tonic::{Request, Status};

#[derive(Debug)]
struct Hello;

#[tonic::async_trait]
impl Greeter for Hello {
    async fn say_hello(
        &self,
        req: Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, Status> {
        let name = req.into_inner().name;
        if name.is_empty() {
            return Err(Error::bad_request("NAME_EMPTY", "name must not be empty").into());
        }
        Ok(tonic::Response::new(HelloReply {
            message: format!("Hello {name}"),
        }))
    }
}

async fn echo(Json(body): Json<Value>) -> Json<Value> {
    Json(body)
}

/// `{"code":0,"message":"OK","data":reply}`.
fn encode_reply(_: &HeaderMap, reply: Value) -> Response {
    Json(json!({"code": 0, "message": "OK", "data": reply})).into_response()
}

/// `{"code","reason","message","data":null}` with the error's status.
fn encode_error(_: &HeaderMap, error: &Error) -> Response {
    let body = json!({
        "code": error.code(),
        "reason": error.reason(),
        "message": error.message(),
        "data": null,
    });
    (error.http_status(), axum::Json(body)).into_response()
}

/// A body `{"data": …}` is its `data`; any other body is taken as it is.
fn decode_request(_: &HeaderMap, body: Bytes) -> Result<Bytes, Error> {
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(mut map)) if map.contains_key("data") => {
            let data = map.remove("data").unwrap_or(Value::Null);
            Ok(serde_json::to_vec(&data).expect("JSON").into())
        }
        _ => Ok(body),
    }
}

fn check(ok: bool, what: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if !ok {
        return Err(format!("smoke failed: {what}").into());
    }
    println!("smoke ok: {what}");
    Ok(())
}

async fn smoke(base: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let api = client::Api::new(base);
    let hello = api
        .post(
            "/helloworld.v1.Greeter/SayHello",
            json!({"data": {"name": "kratos"}}),
        )
        .await?;
    check(
        hello.status == 200
            && hello.body
                == json!({"code": 0, "message": "OK", "data": {"message": "Hello kratos"}}),
        "a generated route's reply, from an enveloped request, in the envelope",
    )?;
    let empty = api
        .post("/helloworld.v1.Greeter/SayHello", json!({"name": ""}))
        .await?;
    check(
        empty.status == 400 && empty.body["reason"] == "NAME_EMPTY" && empty.body["data"].is_null(),
        "its error in the envelope, with the error's status",
    )?;
    let echoed = api.post("/v1/echo", json!({"data": [1, 2]})).await?;
    check(
        echoed.body == json!({"code": 0, "message": "OK", "data": [1, 2]}),
        "a Json handler's reply in the envelope",
    )?;
    let missing = api.get("/nope").await?;
    check(
        missing.status == 404
            && missing.body["reason"] == "NOT_FOUND"
            && missing.body["code"] == 404,
        "the server's 404 in the envelope",
    )?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let smoke_run = std::env::args().any(|a| a == "--smoke");
    let port = if smoke_run { 0 } else { 8000 };
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], port))
        .merge(greeter_http::router(Arc::new(Hello)))
        .route("/v1/echo", post(echo))
        .response_encoder(encode_reply)
        .error_encoder(encode_error)
        .request_decoder(decode_request)
        .build();
    let app = App::builder()
        .name("envelope")
        .server(http)
        .build()
        .spawn()
        .await?;
    let base = app.endpoints()[0].clone();
    println!("listening on {base}");
    if smoke_run {
        let outcome = smoke(&base).await;
        app.stop().await?;
        return outcome;
    }
    app.wait().await?;
    Ok(())
}
