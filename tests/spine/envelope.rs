//! The envelope example: one response, error and request hook on the
//! server wrap a generated route's reply and error, a `Json` handler's
//! reply and the server's own 404 alike.

use crate::common::smoke_run;

#[tokio::test]
async fn envelope_smoke_run_succeeds() {
    let stdout = smoke_run("envelope", &[]).await;
    assert_eq!(stdout.matches("smoke ok:").count(), 4, "{stdout}");
}
