//! Compile-time checks, as tokio's `async_send_sync.rs`: the public types and
//! the futures of the public async fns users spawn are `Send` (and `Sync`
//! where they are shared).

use kratos::config::{Config, Handle, Source, SourceWatcher};
use kratos::grpc::{GrpcChannel, GrpcServer};
use kratos::http::{HttpClient, HttpServer};
use kratos::registry::{Discovery, MemoryRegistry, Registrar, ServiceInstance, Watcher};
use kratos::{App, AppInfo, Error, Server, StopHandle};

fn send<T: Send>(_: &T) {}
fn send_sync<T: Send + Sync + 'static>() {}

#[test]
fn public_types_and_futures_are_send() {
    send_sync::<App>();
    send_sync::<AppInfo>();
    send_sync::<StopHandle>();
    send_sync::<Error>();
    send_sync::<HttpServer>();
    send_sync::<GrpcServer>();
    send_sync::<HttpClient>();
    send_sync::<GrpcChannel>();
    send_sync::<Box<dyn Server>>();
    send_sync::<Box<dyn Registrar>>();
    send_sync::<Box<dyn Discovery>>();
    send_sync::<Box<dyn Source>>();
    send_sync::<Config>();
    send_sync::<Handle<String>>();
    #[cfg(feature = "tls")]
    {
        send_sync::<kratos::tls::ServerTls>();
        send_sync::<kratos::tls::ClientTls>();
        send_sync::<kratos::tls::Identity>();
        send_sync::<kratos::tls::TlsError>();
    }

    let app = App::builder().signals([]).build();
    let stop = app.stop_handle();
    send(&app.run());
    stop.stop();

    let registry = MemoryRegistry::new();
    let instance = ServiceInstance::new("id", "name");
    send(&registry.register(&instance));
    send(&registry.watch("name"));
    let config = Config::builder().build();
    send(&config.load());
    fn watcher_next(w: &mut dyn SourceWatcher, r: &mut dyn Watcher) {
        send(&w.next());
        send(&r.next());
    }
    let _ = watcher_next;
}
