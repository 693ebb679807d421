//! Server limits over real sockets: clients that are slow, idle, many or
//! send too much. Every test asserts what the client observes (a status, a
//! closed connection, an answer); none asserts how long anything took.

use std::io::{BufRead, BufReader, Read as _};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::routing::{get, post};
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};

use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kratos::grpc::GrpcServer;
use kratos::http::{HttpServer, Json};
use kratos::{App, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::common::{fetch, start_app};

#[derive(serde::Deserialize, serde::Serialize)]
struct Note {
    text: String,
}

async fn echo(Json(note): Json<Note>) -> Json<Note> {
    Json(note)
}

fn addr(app: &kratos::RunningApp, scheme: &str) -> SocketAddr {
    let endpoint = app
        .endpoints()
        .iter()
        .find(|e| e.starts_with(scheme))
        .expect("an endpoint");
    endpoint
        .split("://")
        .nth(1)
        .unwrap()
        .parse()
        .expect("ip:port")
}

/// Reads until the peer closes (`Ok(bytes read)`) or `within` passes
/// (`Err`): the bound of every wait on a connection the server should close.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Result<Vec<u8>, ()> {
    let mut seen = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.map_err(|_| ())?;
    Ok(seen)
}

#[tokio::test]
async fn slow_and_silent_connections_are_closed_after_the_header_timeout() {
    let limits = Limits::default()
        .with_header_read_timeout(Duration::from_millis(500))
        .with_body_read_timeout(Duration::from_millis(500));
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route("/notes", post(echo))
        .limits(limits.clone())
        .build();
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .limits(limits)
        .build();
    let app = start_app(App::builder().name("limits").server(http).server(grpc)).await;
    let (http, grpc) = (addr(&app, "http://"), addr(&app, "grpc://"));

    // Sends nothing, on both servers.
    for target in [http, grpc] {
        let mut silent = TcpStream::connect(target).await.unwrap();
        assert!(
            closed_within(&mut silent, Duration::from_secs(20))
                .await
                .is_ok(),
            "a silent connection to {target} stays open"
        );
    }

    // A request head trickled in a byte at a time: closed before it is
    // complete (the head is 200 bytes, sent over at least 20 s).
    let mut slowloris = TcpStream::connect(http).await.unwrap();
    let head = format!(
        "GET /notes HTTP/1.1\r\nhost: x\r\nx-pad: {}\r\n\r\n",
        "a".repeat(160)
    );
    let mut closed = false;
    for byte in head.as_bytes() {
        if slowloris.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut probe = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(100), slowloris.read(&mut probe)).await {
            Ok(Ok(0) | Err(_)) => {
                closed = true;
                break;
            }
            // An error answer (408) before the close.
            Ok(Ok(_)) => {
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    assert!(closed, "the trickled head was read to its end");

    // A body that stops arriving: 408, or the connection closes.
    let mut trickle = TcpStream::connect(http).await.unwrap();
    trickle
        .write_all(
            b"POST /notes HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"text\":",
        )
        .await
        .unwrap();
    let answer = closed_within(&mut trickle, Duration::from_secs(20))
        .await
        .expect("the stalled body is given up");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert!(
        answer.contains("REQUEST_TIMEOUT") || answer.is_empty(),
        "{answer}"
    );

    // The server still answers normal clients.
    let http_url = format!("http://{http}");
    assert_eq!(fetch(&format!("{http_url}/health")).await.0, 200);
    app.stop().await.expect("a clean stop");
}

/// A body of `total` bytes in 1 MiB chunks of one shared buffer, so the
/// client holds 1 MiB whatever the size.
fn huge_body(
    total: usize,
) -> StreamBody<impl tokio_stream::Stream<Item = Result<http_body::Frame<Bytes>, std::io::Error>>> {
    const CHUNK: usize = 1 << 20;
    let chunk = Bytes::from(vec![b' '; CHUNK]);
    StreamBody::new(tokio_stream::iter(
        (0..total / CHUNK).map(move |_| Ok(http_body::Frame::data(chunk.clone()))),
    ))
}

/// Resident memory of this process, in bytes.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[tokio::test]
async fn a_100_mb_body_is_413_and_memory_stays_flat() {
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route("/notes", post(echo))
        .build();
    let app = start_app(App::builder().name("limits").server(http)).await;
    let url = format!("http://{}/notes", addr(&app, "http://"));
    let client = Client::builder(TokioExecutor::new()).build_http();
    let before = rss();
    for declared in [true, false] {
        let mut req = http::Request::post(&url).header("content-type", "application/json");
        if declared {
            req = req.header("content-length", (100usize << 20).to_string());
        }
        let res = client
            .request(req.body(huge_body(100 << 20)).unwrap())
            .await
            .expect("an answer before the body is sent");
        assert_eq!(res.status(), 413, "declared length: {declared}");
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["reason"], "PAYLOAD_TOO_LARGE", "{body}");
    }
    let grown = rss().saturating_sub(before);
    println!("RSS grew {} KiB over two 100 MB bodies", grown / 1024);
    assert!(grown < 10 << 20, "RSS grew {grown} bytes");

    // Within the limit, the same handler answers.
    let (status, body) = crate::common::http(http::Method::POST, &url, r#"{"text":"hi"}"#)
        .await
        .unwrap();
    assert_eq!((status.as_u16(), body.as_str()), (200, r#"{"text":"hi"}"#));
    app.stop().await.expect("a clean stop");
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_wait_then_are_served() {
    // Two slots; the handler holds each call until the test releases it.
    let gate = Arc::new(Semaphore::new(0));
    let entered = Arc::new(AtomicUsize::new(0));
    let (g, e) = (gate.clone(), entered.clone());
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route(
            "/held",
            get(move || {
                let (gate, entered) = (g.clone(), e.clone());
                async move {
                    entered.fetch_add(1, Ordering::SeqCst);
                    gate.acquire().await.unwrap().forget();
                    "released"
                }
            }),
        )
        .limits(Limits::default().with_max_connections(2))
        .build();
    let app = start_app(App::builder().name("limits").server(http)).await;
    let url = format!("http://{}/held", addr(&app, "http://"));

    // Separate clients: one connection each.
    let call = |url: String| tokio::spawn(async move { fetch(&url).await });
    let first = call(url.clone());
    let second = call(url.clone());
    while entered.load(Ordering::SeqCst) < 2 {
        tokio::task::yield_now().await;
    }
    let third = call(url.clone());
    // Both slots are busy: the third connection is not accepted, so its
    // call cannot reach the handler.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        entered.load(Ordering::SeqCst),
        2,
        "a third connection was served"
    );

    gate.add_permits(3);
    for call in [first, second, third] {
        let (status, body) = call.await.unwrap();
        assert_eq!((status.as_u16(), body.as_str()), (200, "released"));
    }
    assert_eq!(entered.load(Ordering::SeqCst), 3);
    app.stop().await.expect("a clean stop");
}

/// Set in the child process of the descriptor test: serve and print the
/// endpoint.
const SERVE_ENV: &str = "KRATOS_LIMITS_SERVE";

/// In the child (`SERVE_ENV` set): an HTTP server under the descriptor
/// limit the parent set; prints `READY <addr>`, serves until stdin closes.
#[test]
fn serve_when_asked() {
    if std::env::var_os(SERVE_ENV).is_none() {
        return;
    }
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = HttpServer::builder()
            .address(([127, 0, 0, 1], 0))
            .route("/hello", get(|| async { "hello" }))
            .limits(Limits::default().with_header_read_timeout(Duration::from_secs(2)))
            .build();
        let app = start_app(App::builder().name("fd-limited").server(http)).await;
        println!("READY {}", addr(&app, "http://"));
        std::future::pending::<()>().await;
    });
}

#[tokio::test]
async fn with_256_descriptors_300_idle_connections_do_not_lock_out_a_normal_request() {
    let me = std::env::current_exe().unwrap();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -n 256 && exec "$0" limits::serve_when_asked --exact --nocapture --test-threads=1"#)
        .arg(me)
        .env(SERVE_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("bash runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let target: SocketAddr = loop {
        let line = lines.next().expect("the child prints READY").unwrap();
        // The harness may print `test limits::serve_when_asked ... ` first.
        if let Some((_, addr)) = line.split_once("READY ") {
            break addr.trim().parse().unwrap();
        }
    };

    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(
            TcpStream::connect(target)
                .await
                .expect("the backlog takes it"),
        );
    }
    let answer = tokio::time::timeout(
        Duration::from_secs(30),
        fetch(&format!("http://{target}/hello")),
    )
    .await
    .expect("a normal request is served despite 300 idle connections");
    assert_eq!((answer.0.as_u16(), answer.1.as_str()), (200, "hello"));

    drop(idle);
    drop(child.stdin.take());
    let _ = child.wait();
}

/// The keepalive timer of the server's end of a loopback connection from
/// `client` to `server`, as `/proc/net/tcp` shows it: `Some(seconds left)`
/// when the kernel runs TCP keepalive on it, `None` when no timer is set.
#[cfg(target_os = "linux")]
fn server_keepalive_timer(server: SocketAddr, client: SocketAddr) -> Option<u64> {
    let hex = |a: SocketAddr| match a {
        SocketAddr::V4(v4) => format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(v4.ip().octets()),
            v4.port()
        ),
        SocketAddr::V6(_) => unreachable!("loopback IPv4"),
    };
    let (local, remote) = (hex(server), hex(client));
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let line = table
        .lines()
        .find(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 5 && f[1] == local && f[2] == remote
        })
        .unwrap_or_else(|| panic!("no socket {local} -> {remote} in\n{table}"));
    // Field 5 is `timer:jiffies left`; timer 2 is keepalive.
    let timer = line.split_whitespace().nth(5).expect("a timer field");
    let (kind, left) = timer.split_once(':').expect("timer:when");
    (kind == "02").then(|| u64::from_str_radix(left, 16).expect("hex jiffies") / 100)
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn accepted_connections_get_tcp_keepalive_unless_turned_off() {
    for (limits, expect_keepalive) in [
        (Limits::default(), true),
        (Limits::default().with_tcp_keepalive(None), false),
    ] {
        let http = HttpServer::builder()
            .address(([127, 0, 0, 1], 0))
            .route("/notes", post(echo))
            .limits(limits)
            .build();
        let app = start_app(App::builder().name("keepalive").server(http)).await;
        let server = addr(&app, "http://");
        let mut stream = TcpStream::connect(server).await.unwrap();
        // One answered request: the server has accepted and set up the
        // connection by then.
        stream
            .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 256];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
        let left = server_keepalive_timer(server, stream.local_addr().unwrap());
        match (expect_keepalive, left) {
            // The default: probes start after 60 s of silence.
            (true, Some(left)) => assert!(left <= 60, "{left} s"),
            (false, None) => {}
            other => panic!("keepalive expected {expect_keepalive}, timer {other:?}"),
        }
        drop(stream);
        app.stop().await.unwrap();
    }
}

/// Sends one HTTP/1.1 request for `path` on `stream` and reads its answer
/// (the connection stays open).
async fn call_on(stream: &mut TcpStream, path: &str, expect: &str) {
    let head = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    read_answer(stream, expect).await;
}

/// Reads until an answer whose body is `expect` has arrived; it is a 200.
async fn read_answer(stream: &mut TcpStream, expect: &str) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).ends_with(expect) {
        let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(n > 0, "closed before the answer {expect:?}");
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(
        seen.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
}

#[tokio::test]
async fn a_connection_idle_for_its_timeout_is_closed_and_one_with_a_call_in_flight_is_not() {
    let gate = Arc::new(Semaphore::new(0));
    let g = gate.clone();
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route("/hello", get(|| async { "hello" }))
        .route(
            "/held",
            get(move || {
                let gate = g.clone();
                async move {
                    gate.acquire().await.unwrap().forget();
                    "released"
                }
            }),
        )
        // The header timeout far beyond the idle one: only the idle
        // timeout can close these connections.
        .limits(
            Limits::default()
                .with_idle_timeout(Duration::from_millis(300))
                .with_header_read_timeout(Duration::from_secs(60)),
        )
        .build();
    let app = start_app(App::builder().name("idle").server(http)).await;
    let target = addr(&app, "http://");

    let mut idle = TcpStream::connect(target).await.unwrap();
    call_on(&mut idle, "/hello", "hello").await;
    let mut held = TcpStream::connect(target).await.unwrap();
    held.write_all(b"GET /held HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut idle, Duration::from_secs(20))
            .await
            .is_ok(),
        "an idle connection outlived its idle timeout"
    );
    // Held for more than three idle timeouts, as the idle one closed and after.
    tokio::time::sleep(Duration::from_secs(1)).await;
    gate.add_permits(1);
    read_answer(&mut held, "released").await;
    app.stop().await.expect("a clean stop");
}

#[tokio::test]
async fn at_the_connection_cap_an_idle_connection_makes_room_for_a_new_one() {
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route("/hello", get(|| async { "hello" }))
        // Neither the idle nor the header timeout can close it here.
        .limits(
            Limits::default()
                .with_max_connections(1)
                .with_header_read_timeout(Duration::from_secs(60)),
        )
        .build();
    let app = start_app(App::builder().name("evict").server(http)).await;
    let target = addr(&app, "http://");

    // The one slot: a connection that made a call and is now idle.
    let mut idle = TcpStream::connect(target).await.unwrap();
    call_on(&mut idle, "/hello", "hello").await;
    // A second connection waits for the slot, which the idle one yields.
    let mut second = TcpStream::connect(target).await.unwrap();
    call_on(&mut second, "/hello", "hello").await;
    assert!(
        closed_within(&mut idle, Duration::from_secs(20))
            .await
            .is_ok(),
        "the idle connection was kept"
    );
    app.stop().await.expect("a clean stop");
}
