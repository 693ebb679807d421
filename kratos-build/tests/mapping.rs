//! The HTTP mapping rules, checked on the generated source of a small proto.

use std::path::Path;

const LIBRARY: &str = r#"
syntax = "proto3";
package library.v1;
import "google/api/annotations.proto";
import "google/protobuf/empty.proto";

service Library {
  rpc GetBook (GetBookRequest) returns (Book) {
    option (google.api.http) = {
      get: "/v1/{name=shelves/*/books/*}"
      additional_bindings { get: "/v1/books/{book.id}" }
      additional_bindings { get: "/v1/files/{path=**}" }
    };
  }
  rpc UpdateBook (UpdateBookRequest) returns (Book) {
    option (google.api.http) = { put: "/v1/books/{book.id}" body: "book" response_body: "title" };
  }
  rpc Ping (google.protobuf.Empty) returns (google.protobuf.Empty);
  rpc Watch (GetBookRequest) returns (stream Book);
}

message Ref { string id = 1; }
message GetBookRequest { string name = 1; Ref book = 2; string path = 3; bool verbose = 4; repeated string tags = 5; }
message Book { string id = 1; string title = 2; int64 pages = 3; }
message UpdateBookRequest { Ref book_ref = 1; Book book = 2; }
"#;

fn generate(proto: &str, builder: kratos_build::Builder) -> std::io::Result<String> {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("library/v1")).unwrap();
    std::fs::write(src.join("library/v1/library.proto"), proto).unwrap();
    let out = dir.path().join("out");
    builder
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .compile(&["library/v1/library.proto"], &[&src])?;
    Ok(std::fs::read_to_string(Path::new(&out).join("library.v1.rs")).unwrap())
}

#[test]
fn pattern_nested_and_wildcard_variables() {
    let code = generate(LIBRARY, kratos_build::configure()).unwrap();
    // `{name=shelves/*/books/*}`: literal segments stay, each `*` is captured,
    // and the field gets `shelves/<a>/books/<b>`.
    assert!(
        code.contains(r#""/v1/shelves/{name_1}/books/{name_3}","#),
        "{code}"
    );
    assert!(code.contains(
        r#"
                    &[
                        rt::Part::Literal("shelves"),
                        rt::Part::Capture("name_1"),
                        rt::Part::Literal("books"),
                        rt::Part::Capture("name_3"),
                    ],"#
    ));
    // `{book.id}` sets a nested field.
    assert!(code.contains(r#""/v1/books/{book__id}","#));
    assert!(code.contains(
        r#"
                rt::PathVar::new(
                    rt::FieldSpec::new(
                        "book.id",
                        "book.id",
                        rt::TextKind::Text,
                        false,
                        "",
                    ),
                    &[rt::Part::Capture("book__id")],
                ),"#
    ));
    // `{path=**}` takes the rest of the path.
    assert!(code.contains(r#""/v1/files/{*path}","#));
    // Query fields: not the ones bound by the path; bools and repeated marked.
    assert!(code.contains(
        r#"
                rt::FieldSpec::new(
                    "verbose",
                    "verbose",
                    rt::TextKind::Bool,"#
    ));
    assert!(code.contains(r#"rt::FieldSpec::new("tags", "tags", rt::TextKind::Text, true"#));
}

#[test]
fn body_field_response_body_default_binding_and_streaming() {
    let code = generate(LIBRARY, kratos_build::configure()).unwrap();
    assert!(code.contains(r#".body(rt::BodySpec::Field("book", "book"))"#));
    assert!(code.contains(r#".response_body("title")"#));
    // No annotation: POST /<package.Service>/<Method>, the message as body.
    assert!(code.contains(r#""/library.v1.Library/Ping","#));
    assert!(code.contains("::kratos::__codegen::pbjson_types::Empty"));
    // Streaming methods have no HTTP binding.
    assert!(!code.contains(r#""/library.v1.Library/Watch","#));
    assert!(code.contains("rt::RouteSpec::new(\n            \"/library.v1.Library/Ping\","));
    assert!(code.contains(
        "pub async fn get_book(\n            &self,\n            request: super::GetBookRequest,\n        )"
    ));
}

#[test]
fn grpc_module_checks_unary_and_server_streaming_requests() {
    let code = generate(LIBRARY, kratos_build::configure()).unwrap();
    let grpc = &code[code
        .find("pub mod library_grpc {")
        .expect("the gRPC module")..];
    assert!(grpc.starts_with("pub mod library_grpc {\n    #[allow(unused_imports)]\n    use ::kratos::http::codegen as rt;"));
    assert!(grpc.contains("const _: () = rt::require_contract(3);"));
    // The streaming method is in the gRPC module (with its stream type),
    // and checked like the unary ones.
    assert!(grpc.contains("type WatchStream = T::WatchStream;"));
    let checks = grpc
        .matches("(&rt::validation::Probe(request.get_ref()))")
        .count();
    assert_eq!(checks, 4, "GetBook, UpdateBook, Ping and Watch are checked");
    // No gRPC module without the tonic server.
    let no_server = generate(
        LIBRARY,
        kratos_build::configure()
            .build_server(false)
            .build_http_server(false),
    )
    .unwrap();
    assert!(!no_server.contains("pub mod library_grpc"));
}

#[test]
fn json_switches() {
    // Zero values are emitted by default (Go Kratos's EmitUnpopulated).
    let default = generate(LIBRARY, kratos_build::configure()).unwrap();
    assert!(!default.contains("if self.pages != 0 {"));
    assert!(default.contains(r#"struct_ser.serialize_field("id""#));
    let omitted = generate(LIBRARY, kratos_build::configure().emit_zero_values(false)).unwrap();
    assert!(omitted.contains("if self.pages != 0 {"));
    let names = generate(
        LIBRARY,
        kratos_build::configure().preserve_proto_field_names(true),
    )
    .unwrap();
    assert!(names.contains(r#"serialize_field("book_ref""#));
    assert!(!names.contains(r#"serialize_field("bookRef""#));
}

#[test]
fn invalid_annotations_fail_the_build_with_the_method_named() {
    for (rule, expect) in [
        (r#"get: "/v1/{name}:cancel""#, "custom verbs"),
        (r#"get: "/v1/{missing}""#, "no field `missing`"),
        (r#"post: "/v1/x" body: "nope""#, "no field `nope`"),
    ] {
        let proto = format!(
            "syntax = \"proto3\"; package library.v1; import \"google/api/annotations.proto\";\n\
             service S {{ rpc M (R) returns (R) {{ option (google.api.http) = {{ {rule} }}; }} }}\n\
             message R {{ string name = 1; }}"
        );
        let err = generate(&proto, kratos_build::configure()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("library.v1.S.M"), "{text}");
        assert!(text.contains(expect), "{rule}: {text}");
    }
}

#[test]
fn error_enums_need_http_codes() {
    let proto = "syntax = \"proto3\"; package library.v1; import \"errors/errors.proto\";\n\
                 enum Reason { option (errors.default_code) = 700; A = 0; }";
    let err = generate(proto, kratos_build::configure()).unwrap_err();
    assert!(err.to_string().contains("library.v1.Reason"), "{err}");
}
