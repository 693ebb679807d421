//! The spine, end to end: App lifecycle, both servers, the error model and
//! graceful stop, over real sockets on loopback.

mod app_info;
mod common;
mod custom_middleware;
mod envelope;
mod errors;
mod graceful;
mod layered_once;
mod lifecycle;
mod limits;
mod log;
mod order_service;
mod ports;
mod send_sync;
mod signal;
