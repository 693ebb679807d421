//! The shop's chat service as its own program: rooms over one bidirectional
//! gRPC stream per member (`api.chat.v1.ChatService/SendMessage`), a bounded
//! queue per member, registered as `chat`.
//!
//! ```text
//! cargo run --example chat_service --features etcd -- --conf examples/configs/chat.yaml
//! ```

mod rooms;
#[path = "../support/mod.rs"]
mod support;

const USAGE: &str = "\
chat_service: chat rooms over a bidirectional gRPC stream, registered as `chat`

Usage: chat_service [--conf FILE]

Options:
  --conf FILE  the config file (default examples/configs/chat.yaml);
               `chat.queue` is how far a member may fall behind
  -h, --help   this text";

#[tokio::main]
async fn main() -> Result<(), support::BoxError> {
    let boot = support::Boot::new(USAGE, "configs/chat.yaml", "chat").await?;
    support::serve(rooms::app(&boot.config, &boot.registry)?, "chat service").await
}
