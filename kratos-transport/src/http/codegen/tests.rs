use std::collections::HashMap;

use axum::Router;
use http::{Method, StatusCode, header};
use kratos_core::TransportInfo;

use super::client::{decode_reply, encode_request, split_base_url};
use super::decode::decode_request;
use super::*;
use crate::http::CODEC_REASON;

#[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq, Default)]
#[serde(default, rename_all = "camelCase")]
struct Inner {
    id: String,
}

/// A number sent as a string, as pbjson's generated code accepts.
fn number_from_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

#[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq, Default)]
#[serde(default, rename_all = "camelCase")]
struct Msg {
    user_id: String,
    #[serde(deserialize_with = "number_from_string")]
    page: i32,
    flag: bool,
    tags: Vec<String>,
    inner: Option<Inner>,
}

const fn field(proto: &'static str, json: &'static str) -> FieldSpec {
    FieldSpec {
        proto,
        json,
        kind: TextKind::Text,
        repeated: false,
        zero: "",
    }
}

static QUERY: &[FieldSpec] = &[
    field("user_id", "userId"),
    field("page", "page"),
    FieldSpec {
        kind: TextKind::Bool,
        ..field("flag", "flag")
    },
    FieldSpec {
        repeated: true,
        ..field("tags", "tags")
    },
    field("inner.id", "inner.id"),
];

static SPEC: RouteSpec = RouteSpec {
    operation: "/pkg.Svc/Get",
    method: "GET",
    path: "/v1/users/{user_id}",
    client_path: "/v1/users/{userId}",
    vars: &[PathVar {
        field: field("user_id", "userId"),
        parts: &[Part::Literal("users"), Part::Capture("user_id")],
    }],
    body: BodySpec::None,
    response_body: None,
    query: QUERY,
    proto_names: false,
};

#[test]
fn path_query_and_types() {
    let params = HashMap::from([("user_id".to_owned(), "7".to_owned())]);
    let msg: Msg = decode_request(
        &SPEC,
        &params,
        Some("page=2&flag=true&tags=a&tags=b&inner.id=x&userId=ignored&nope=1"),
        b"",
    )
    .unwrap();
    assert_eq!(
        msg,
        Msg {
            user_id: "users/7".into(),
            page: 2,
            flag: true,
            tags: vec!["a".into(), "b".into()],
            inner: Some(Inner { id: "x".into() }),
        }
    );
}

#[test]
fn type_errors_name_the_field() {
    let params = HashMap::from([("user_id".to_owned(), "7".to_owned())]);
    let err = decode_request::<Msg>(&SPEC, &params, Some("page=abc"), b"").unwrap_err();
    assert_eq!(err.code(), 400);
    assert_eq!(err.reason(), CODEC_REASON);
    assert!(err.message().contains("page"), "{}", err.message());
}

#[test]
fn routes_record_the_operation_of_each_spec() {
    static POST: RouteSpec = RouteSpec {
        operation: "/pkg.Svc/Update",
        method: "POST",
        ..SPEC
    };
    let (_, operations) = routes(Router::new(), &[&SPEC, &POST]).into_parts();
    let find = |method: Method| operations.find(&method, SPEC.path);
    assert_eq!(find(Method::GET).as_deref(), Some("/pkg.Svc/Get"));
    assert_eq!(find(Method::POST).as_deref(), Some("/pkg.Svc/Update"));
    assert_eq!(find(Method::PUT), None);
}

#[test]
fn client_fills_path_and_query() {
    let msg = Msg {
        user_id: "users/7".into(),
        page: 3,
        tags: vec!["a b".into()],
        ..Default::default()
    };
    let req = encode_request(&SPEC, "/api", &msg).unwrap();
    let uri = req.uri().to_string();
    assert_eq!(req.method(), Method::GET);
    assert!(uri.starts_with("/api/v1/users/users/7?"), "{uri}");
    assert!(uri.contains("page=3"), "{uri}");
    assert!(uri.contains("tags=a+b"), "{uri}");
    assert!(!uri.contains("userId"), "{uri}");
    assert_eq!(axum::body::HttpBody::size_hint(req.body()).exact(), Some(0));
    assert!(req.headers().get(header::CONTENT_TYPE).is_none());
    let info = TransportInfo::from_request(&req).unwrap();
    assert_eq!(info.operation(), "/pkg.Svc/Get");
}

#[test]
fn client_sends_the_body_field_and_reads_the_response_body() {
    static PATCH: RouteSpec = RouteSpec {
        method: "PATCH",
        body: BodySpec::Field("inner", "inner"),
        response_body: Some("inner"),
        ..SPEC
    };
    let msg = Msg {
        inner: Some(Inner { id: "x".into() }),
        page: 2,
        ..Default::default()
    };
    let req = encode_request(&PATCH, "", &msg).unwrap();
    assert_eq!(req.method(), Method::PATCH);
    assert!(
        req.uri().to_string().starts_with("/v1/users/?"),
        "{}",
        req.uri()
    );
    assert_eq!(req.headers()[header::CONTENT_TYPE], "application/json");
    let reply: Msg = decode_reply(&PATCH, StatusCode::OK, br#"{"id":"y"}"#).unwrap();
    assert_eq!(reply.inner, Some(Inner { id: "y".into() }));
    let err = decode_reply::<Msg>(&PATCH, StatusCode::OK, br#"{"id":1}"#).unwrap_err();
    assert!(err.message().contains("inner.id"), "{}", err.message());
    let err = decode_reply::<Msg>(
        &PATCH,
        StatusCode::NOT_FOUND,
        br#"{"code":404,"reason":"GONE","message":"no"}"#,
    )
    .unwrap_err();
    assert_eq!((err.code(), err.reason()), (404, "GONE"));
}

#[test]
fn base_urls_split_into_target_and_prefix() {
    assert_eq!(split_base_url("http://h:1"), ("http://h:1", ""));
    assert_eq!(split_base_url("http://h:1/"), ("http://h:1", ""));
    assert_eq!(
        split_base_url("http://h:1/api/v2/"),
        ("http://h:1", "/api/v2")
    );
    assert_eq!(split_base_url("h:1/api"), ("h:1", "/api"));
    assert_eq!(
        split_base_url("discovery:///orders"),
        ("discovery:///orders", "")
    );
}

#[derive(Debug, serde::Deserialize, PartialEq, Default)]
#[serde(default, rename_all = "camelCase")]
struct Labelled {
    #[serde(flatten)]
    msg: Msg,
    labels: HashMap<String, String>,
}

#[test]
fn a_form_body_binds_as_go_kratos_form_codec_does() {
    use super::decode::form_to_json;
    static FORM: RouteSpec = RouteSpec {
        method: "POST",
        vars: &[],
        body: BodySpec::All,
        ..SPEC
    };
    let body = b"user_id=7&page=2&flag=true&tags=a&tags=b&inner.id=x&labels%5Bcolor%5D=red&labels[size]=L&nope=1";
    let json = form_to_json(&FORM, body).unwrap();
    let msg: Labelled = decode_request(&FORM, &HashMap::new(), None, &json).unwrap();
    assert_eq!(
        msg,
        Labelled {
            msg: Msg {
                user_id: "7".into(),
                page: 2,
                flag: true,
                tags: vec!["a".into(), "b".into()],
                inner: Some(Inner { id: "x".into() }),
            },
            labels: HashMap::from([
                ("color".to_owned(), "red".to_owned()),
                ("size".to_owned(), "L".to_owned()),
            ]),
        }
    );
    // By JSON names too; a wrong type names the field, as for the query.
    let json = form_to_json(&FORM, b"userId=8&flag=maybe").unwrap();
    let err = decode_request::<Msg>(&FORM, &HashMap::new(), None, &json).unwrap_err();
    assert_eq!((err.code(), err.reason()), (400, CODEC_REASON));
    assert!(err.message().contains("flag"), "{}", err.message());
}
