//! Hook and lifecycle order, recorded by the hooks, servers and registrar themselves.

use std::net::TcpListener;
use std::sync::Arc;

use async_trait::async_trait;
use kratos::http::HttpServer;
use kratos::registry::{MemoryRegistry, Registrar, RegistryError, ServiceInstance};
use kratos::{App, AppBuilder, Error, Server, ServerContext};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::common::Recorder;

/// A server that only records what the App asks of it.
#[derive(Debug)]
struct RecordingServer {
    name: &'static str,
    events: Recorder,
}

#[async_trait]
impl Server for RecordingServer {
    async fn start(&self, _ctx: ServerContext) -> Result<(), Error> {
        self.events.push(format!("start {}", self.name));
        Ok(())
    }

    async fn stop(&self, _deadline: Instant) -> Result<(), Error> {
        self.events.push(format!("stop {}", self.name));
        Ok(())
    }

    fn endpoint(&self) -> Option<String> {
        Some(format!("test://{}", self.name))
    }
}

/// A registrar that records, then delegates to a memory registry.
#[derive(Debug)]
struct RecordingRegistrar {
    inner: MemoryRegistry,
    events: Recorder,
}

#[async_trait]
impl Registrar for RecordingRegistrar {
    async fn register(&self, instance: &ServiceInstance) -> Result<(), RegistryError> {
        self.events
            .push(format!("register {}", instance.endpoints.join(",")));
        self.inner.register(instance).await
    }

    async fn deregister(&self, instance: &ServiceInstance) -> Result<(), RegistryError> {
        self.events.push("deregister");
        self.inner.deregister(instance).await
    }
}

fn recorded_app(events: &Recorder) -> AppBuilder {
    let hook = |name: &'static str| {
        let events = events.clone();
        move |_info: kratos::AppInfo| {
            let events = events.clone();
            async move {
                events.push(name);
                Ok(())
            }
        }
    };
    App::builder()
        .name("lifecycle")
        .signals([])
        .registrar(RecordingRegistrar {
            inner: MemoryRegistry::new(),
            events: events.clone(),
        })
        .before_start(hook("before_start 1"))
        .before_start(hook("before_start 2"))
        .after_start(hook("after_start 1"))
        .after_start(hook("after_start 2"))
        .before_stop(hook("before_stop 1"))
        .before_stop(hook("before_stop 2"))
        .after_stop(hook("after_stop 1"))
        .after_stop(hook("after_stop 2"))
        .server(RecordingServer {
            name: "a",
            events: events.clone(),
        })
}

#[tokio::test]
async fn run_stopped_by_handle_follows_the_lifecycle() {
    let events = Recorder::default();
    let started = Arc::new(Notify::new());
    let notify = started.clone();
    let app = recorded_app(&events)
        .server(RecordingServer {
            name: "b",
            events: events.clone(),
        })
        .after_start(move |_| {
            let notify = notify.clone();
            async move {
                notify.notify_one();
                Ok(())
            }
        })
        .build();
    let stop = app.stop_handle();
    let run = tokio::spawn(app.run());
    started.notified().await;
    stop.stop();
    run.await.unwrap().expect("a clean run");

    assert_eq!(
        events.events(),
        [
            "before_start 1",
            "before_start 2",
            "start a",
            "start b",
            "register test://a,test://b",
            "after_start 1",
            "after_start 2",
            "before_stop 1",
            "before_stop 2",
            "deregister",
            "stop a",
            "stop b",
            "after_stop 1",
            "after_stop 2",
        ]
    );
}

#[tokio::test]
async fn a_server_that_cannot_bind_fails_the_run() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let events = Recorder::default();
    let app = recorded_app(&events)
        .server(
            HttpServer::builder()
                .address(taken.local_addr().unwrap())
                .build(),
        )
        .build();

    let err = app.run().await.expect_err("the port is taken");

    assert_eq!(err.reason(), "BIND_FAILED");
    assert!(
        err.message()
            .contains(&taken.local_addr().unwrap().to_string()),
        "{err}"
    );
    // The server that did start is stopped; nothing registers, no later hook runs.
    assert_eq!(
        events.events(),
        ["before_start 1", "before_start 2", "start a", "stop a"]
    );
}

#[tokio::test]
async fn a_failing_before_start_hook_starts_nothing() {
    let events = Recorder::default();
    let app = recorded_app(&events)
        .before_start(|_| async { Err(Error::internal_server("NO_CONFIG", "config missing")) })
        .build();

    let err = app.run().await.expect_err("the hook failed");

    assert_eq!(err.reason(), "NO_CONFIG");
    assert_eq!(events.events(), ["before_start 1", "before_start 2"]);
}

#[tokio::test]
async fn spawn_returns_once_started_or_with_the_start_error() {
    let app = recorded_app(&Recorder::default())
        .build()
        .spawn()
        .await
        .expect("started");
    assert_eq!(app.endpoints(), ["test://a"]);
    app.stop().await.expect("a clean run");

    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let err = recorded_app(&Recorder::default())
        .server(
            HttpServer::builder()
                .address(taken.local_addr().unwrap())
                .build(),
        )
        .build()
        .spawn()
        .await
        .expect_err("the port is taken");
    assert_eq!(err.reason(), "BIND_FAILED");
}
