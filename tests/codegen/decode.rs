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
