//! The custom_middleware example: one user-written `Middleware` type runs on
//! the HTTP server, the gRPC server, a `GrpcChannel` and an `HttpClient`.

use crate::common::smoke_run;

#[tokio::test]
async fn one_user_middleware_runs_on_all_four_sides() {
    let stdout = smoke_run("custom_middleware", &[]).await;
    for call in [
        "client grpc /helloworld.v1.Greeter/SayHello",
        "server grpc /helloworld.v1.Greeter/SayHello",
        "client http /hello/http",
        "server http /hello/{name}",
    ] {
        assert!(stdout.contains(call), "{call} not audited:\n{stdout}");
    }
    assert!(
        stdout.contains("HTTP without a key: 401 API_KEY_MISSING"),
        "{stdout}"
    );
    assert!(stdout.contains("smoke ok:"), "{stdout}");
}
