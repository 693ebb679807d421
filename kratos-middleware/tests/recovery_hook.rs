//! recovery's panic hook: installed once, chained to the application's
//! hook. A panic outside any call reaches that hook (and costs no
//! backtrace); a panic inside a recovered call becomes 500 and is logged with
//! its stack. One test in its own binary: the panic hook is process-wide.

use std::sync::Mutex;

use axum::body::Body;
use http::{Request, Response};
use kratos_middleware::recovery::RecoveryLayer;
use tower::{Layer, ServiceExt, service_fn};

/// The panic messages the application's own hook saw.
static SEEN_BY_USER_HOOK: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn user_hook(info: &std::panic::PanicHookInfo<'_>) {
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    SEEN_BY_USER_HOOK
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(message);
}

fn seen() -> Vec<String> {
    SEEN_BY_USER_HOOK
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

#[tokio::test]
async fn panics_outside_calls_reach_the_users_hook_and_inside_are_recovered() {
    std::panic::set_hook(Box::new(user_hook));
    let layer = RecoveryLayer::new();
    let _second = RecoveryLayer::new(); // installs nothing more

    // Outside any call: the user's hook sees it.
    let outside = std::thread::spawn(|| panic!("outside any call")).join();
    assert!(outside.is_err());
    assert_eq!(seen(), ["outside any call"]);

    // Inside a call: recovered as 500, logged with its stack, and not
    // reported as an unhandled panic.
    let captured = kratos_testing::CapturedLogs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let handler = service_fn(|_req: Request<Body>| async move {
        tokio::task::yield_now().await;
        if true {
            panic!("inside a call");
        }
        Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
    });
    let res = layer
        .layer(handler)
        .oneshot(Request::new(Body::empty()))
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    let logged = captured.text();
    assert!(logged.contains("panic recovered"), "{logged}");
    assert!(logged.contains("inside a call"), "{logged}");
    let stack = logged.split("stack=").nth(1).expect("a stack field");
    assert!(!stack.trim().is_empty(), "an empty stack: {logged}");
    assert_eq!(seen(), ["outside any call"]);

    // The hook still chains after the recovered panic.
    let again = std::thread::spawn(|| panic!("outside again")).join();
    assert!(again.is_err());
    assert_eq!(seen(), ["outside any call", "outside again"]);
}
