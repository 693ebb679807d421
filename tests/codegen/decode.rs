//! How the generated HTTP routes decode requests: Kratos's CODEC errors,
//! unknown fields ignored, type errors naming the field.

use crate::common::{create_sample, send, start};

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test]
async fn bad_json_is_a_400_codec_error() {
    let app = start().await;
    for body in [r#"{"userId": "7", "items": ["#, "not json", "[1, 2]"] {
        let (status, _, reply) = send(
            http::Method::POST,
            &format!("{}/api/v1/orders", app.http),
            &[],
            body,
        )
        .await;
        assert_eq!(status, 400, "{body}: {reply}");
        let reply = json(&reply);
        assert_eq!(reply["code"], 400);
        assert_eq!(reply["reason"], kratos::http::CODEC_REASON);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_type_is_a_400_naming_the_field() {
    let app = start().await;
    create_sample(&app).await;
    let cases = [
        (
            http::Method::GET,
            "/api/v1/orders?page=abc".to_owned(),
            "",
            "page",
        ),
        (
            http::Method::GET,
            "/api/v1/orders?user_id=x7".to_owned(),
            "",
            "user_id",
        ),
        (http::Method::GET, "/api/v1/orders/abc".to_owned(), "", "id"),
        (
            http::Method::POST,
            "/api/v1/orders".to_owned(),
            r#"{"userId":"7","items":[{"quantity":"many"}]}"#,
            "items[0].quantity",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, _, reply) = send(method, &format!("{}{path}", app.http), &[], body).await;
        assert_eq!(status, 400, "{path}: {reply}");
        let reply = json(&reply);
        assert_eq!(reply["reason"], "CODEC", "{path}");
        let message = reply["message"].as_str().unwrap();
        assert!(message.contains(field), "{path}: {message:?} names {field}");
    }
    app.stop().await;
}

#[tokio::test]
async fn unknown_query_parameters_and_body_fields_are_ignored() {
    let app = start().await;
    create_sample(&app).await;
    let (status, _, body) = send(
        http::Method::GET,
        &format!(
            "{}/api/v1/orders?user_id=7&color=blue&page.size=3",
            app.http
        ),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["total"], 1);

    let (status, _, body) = send(
        http::Method::POST,
        &format!("{}/api/v1/orders", app.http),
        &[],
        r#"{"userId":"8","coupon":"FREE","items":[{"productId":"1","quantity":1,"priceCents":"5","gift":true}]}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["userId"], "8");
    app.stop().await;
}

#[tokio::test]
async fn zero_values_are_emitted_as_go_kratos_and_empty_queries_use_defaults() {
    let app = start().await;
    let (status, _, body) = send(
        http::Method::GET,
        &format!("{}/api/v1/orders", app.http),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // An empty list and total = 0 are emitted, as Go Kratos's codec
    // (protojson with EmitUnpopulated) does; byte for byte.
    assert_eq!(body, r#"{"orders":[],"total":0}"#);
    app.stop().await;
}

#[tokio::test]
async fn a_body_field_and_response_body_bind_one_field() {
    let app = start().await;
    let created = create_sample(&app).await;
    let id = created["id"].as_str().unwrap();
    let (status, _, body) = send(
        http::Method::PATCH,
        &format!("{}/api/v1/orders/{id}/status", app.http),
        &[],
        r#""ORDER_STATUS_PAID""#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The reply body is the `order` field itself.
    let order = json(&body);
    assert_eq!(order["id"], id);
    assert_eq!(order["status"], "ORDER_STATUS_PAID");
    app.stop().await;
}

#[tokio::test]
async fn a_method_without_its_route_is_405_and_unknown_paths_404() {
    let app = start().await;
    let (status, _, _) = send(
        http::Method::DELETE,
        &format!("{}/api/v1/orders", app.http),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 405);
    let (status, _, _) = send(
        http::Method::GET,
        &format!("{}/api/v1/nothing", app.http),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}

/// Sends `body` with exactly these headers; returns status, headers, body.
async fn send_raw(
    method: http::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (http::StatusCode, http::HeaderMap, bytes::Bytes) {
    use http_body_util::BodyExt;
    let client: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let mut req = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = client
        .request(req.body(http_body_util::Full::from(body)).unwrap())
        .await
        .expect("request sent");
    let (parts, body) = res.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

#[tokio::test]
async fn content_type_picks_the_request_codec_and_accept_the_reply_codec() {
    use kratos_examples_api::api::order::v1::{CreateOrderRequest, Order, OrderItem};
    use prost::Message;

    let app = start().await;
    let url = format!("{}/api/v1/orders", app.http);
    let request = CreateOrderRequest {
        user_id: 7,
        items: vec![OrderItem {
            product_id: 100,
            quantity: 2,
            price_cents: 250,
        }],
    };

    // A protobuf body decodes to the same message a JSON body does; the
    // reply is JSON unless Accept asks for protobuf.
    let (status, headers, body) = send_raw(
        http::Method::POST,
        &url,
        &[("content-type", "application/x-protobuf")],
        request.encode_to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(headers["content-type"], "application/json");
    let from_proto = json(std::str::from_utf8(&body).unwrap());
    let from_json = create_sample(&app).await;
    assert_eq!(from_proto["userId"], from_json["userId"]);
    assert_eq!(from_proto["items"], from_json["items"]);

    let (status, headers, body) = send_raw(
        http::Method::POST,
        &url,
        &[
            ("content-type", "application/json"),
            ("accept", "application/x-protobuf"),
        ],
        serde_json::to_vec(&request).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-protobuf");
    let order = Order::decode(body).expect("a protobuf Order");
    assert_eq!((order.user_id, order.items.len()), (7, 1));

    // A form binds fields by proto or JSON name, as Go Kratos's form codec:
    // a well-typed one reaches the service (which wants items, that a form
    // cannot carry), a wrong type is 400 CODEC naming the field.
    for (form, reason, naming) in [
        (&b"user_id=7"[..], "INVALID_ORDER", "items"),
        (b"userId=seven", "CODEC", "userId"),
    ] {
        let (status, _, body) = send_raw(
            http::Method::POST,
            &url,
            &[("content-type", "application/x-www-form-urlencoded")],
            form.to_vec(),
        )
        .await;
        let body = json(std::str::from_utf8(&body).unwrap());
        assert_eq!(
            (status.as_u16(), body["reason"].as_str()),
            (400, Some(reason)),
            "{body}"
        );
        assert!(body["message"].as_str().unwrap().contains(naming), "{body}");
    }

    // A Content-Type with no codec is 400 CODEC naming it, as in Go Kratos.
    for content_type in ["text/plain", "application/xml"] {
        let (status, _, body) = send_raw(
            http::Method::POST,
            &url,
            &[("content-type", content_type)],
            br#"{"userId":"7"}"#.to_vec(),
        )
        .await;
        let body = json(std::str::from_utf8(&body).unwrap());
        assert_eq!(
            (status.as_u16(), body["reason"].as_str()),
            (400, Some("CODEC")),
            "{body}"
        );
        assert!(
            body["message"].as_str().unwrap().contains(content_type),
            "{body}"
        );
    }
    app.stop().await;
}
