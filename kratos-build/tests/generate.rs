//! Runs the generator on the example protos and checks the generated source.

use std::path::PathBuf;

fn example_protos() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/api/proto")
}

#[test]
fn generates_messages_json_grpc_http_errors_and_openapi() {
    let out = tempfile::tempdir().unwrap();
    kratos_build::configure()
        .out_dir(out.path())
        .emit_rerun_if_changed(false)
        .compile(&["api/order/v1/order.proto"], &[example_protos()])
        .unwrap();
    let code = std::fs::read_to_string(out.path().join("api.order.v1.rs")).unwrap();
    for needle in [
        "pub struct Order {",
        // prost, tonic, pbjson and serde through the facade by default.
        "impl ::kratos::__codegen::serde::Serialize for Order",
        "::kratos::__codegen::prost::Message",
        "use ::kratos::__codegen::tonic::codegen::*;",
        "pub mod order_service_server",
        "pub mod order_service_client",
        "pub mod order_service_http",
        "pub fn router<T: super::order_service_server::OrderService>",
        // The routes carry the gRPC method of every binding.
        "-> rt::Routes {",
        "&[\n                &CREATE_ORDER,\n                &GET_ORDER,\n                &GET_ORDER_1,\n                &LIST_ORDERS,\n                &UPDATE_ORDER_STATUS,\n            ],",
        "pub struct OrderServiceHttpClient",
        // Built on the discovery-aware HttpClient, or on one base URL.
        "pub fn from_client(client: rt::HttpClient) -> Self",
        "pub fn new(base_url: impl Into<String>) -> Self",
        "pub static GET_ORDER_1:",
        "\"/api/v1/users/{user_id}/orders/{id}\"",
        // The gRPC server with validation.
        "pub mod order_service_grpc",
        "pub struct Validated<T>(\n        /// The implementation called once a request passed.\n        pub ::std::sync::Arc<T>,\n    );",
        "> super::order_service_server::OrderService for Validated<T> {",
        "pub fn server<T: super::order_service_server::OrderService>(",
        "Some(gzip) => server.accept_compressed(gzip).send_compressed(gzip),",
        "pub fn is_order_not_found(",
        "pub const OPENAPI_JSON: &str",
    ] {
        assert!(
            code.contains(needle),
            "missing {needle:?} in generated code"
        );
    }
    // Nothing names a crate the service would have to depend on itself.
    for root in [
        " ::prost::",
        "(::prost::",
        " tonic::",
        " serde::",
        "(serde::",
        " pbjson::",
        "<serde::",
    ] {
        assert!(!code.contains(root), "{root:?} in generated code");
    }
    // Each generated module starts with the contract check; doc comments
    // are printed as `///` (prettyplease).
    let contract = format!(
        "\n    const _: () = rt::require_contract({});\n",
        kratos_build::CODEGEN_CONTRACT
    );
    assert_eq!(
        code.matches(&contract).count(),
        2,
        "order_service_http and order_service_grpc check the contract"
    );
    assert!(
        code.contains("    /// `GET /api/v1/orders/{id}` → `GetOrder`.\n    pub static GET_ORDER:")
    );
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("api.order.v1.openapi.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
}
