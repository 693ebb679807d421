//! Chat rooms: each member's stream joins rooms with its first message to
//! each, and every message sent to a room is copied into each member's
//! queue while the rooms are locked, so all members see a sender's messages
//! in the order it sent them. Queues are bounded: a member whose queue is
//! full is removed at once (its stream ends with 429 `SLOW_READER` after
//! what was already queued), so a slow reader never delays the room and
//! never holds more than `queue` messages.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use kratos::config::Config;
use kratos::{App, AppBuilder};
use kratos_examples_api::api::chat::v1::chat_service_server::ChatService;
use kratos_examples_api::api::chat::v1::{
    ErrorReason, MessageReply, MessageRequest, chat_service_grpc,
};
use serde::Deserialize;
use tokio::sync::{Notify, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use crate::support::{self, BoxError, Registry};

/// The `chat` config section.
#[derive(Debug, Deserialize)]
pub struct ChatConf {
    /// The HTTP server's address (`/health`, `/metrics`).
    pub http: std::net::SocketAddr,
    /// The gRPC server's address.
    pub grpc: std::net::SocketAddr,
    /// How many messages may wait for one member before it is cut off.
    pub queue: usize,
}

type Outbox = mpsc::Sender<Result<MessageReply, Status>>;

/// A member's way back to its stream.
#[derive(Clone)]
struct Member {
    outbox: Outbox,
    cut: Arc<Cut>,
}

/// Whether a member was cut off for falling behind, and the wake-up of its
/// reading task, whose copy of the outbox must go too for the stream to end.
#[derive(Default)]
struct Cut {
    overflowed: AtomicBool,
    notify: Notify,
}

impl Cut {
    fn cut(&self) {
        self.overflowed.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    fn is_cut(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }
}

#[derive(Default)]
struct Room {
    last_id: i64,
    members: HashMap<u64, Member>,
}

/// Every room, behind one lock: a fan-out is a few `try_send`s, never a wait.
struct Hub {
    rooms: Mutex<HashMap<String, Room>>,
    queue: usize,
    next_member: AtomicU64,
}

fn invalid(message: &str) -> Status {
    ErrorReason::InvalidMessage.error(message).into()
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The chat service: the rooms, shared by every member's stream.
#[derive(Clone)]
pub struct Rooms(Arc<Hub>);

impl Rooms {
    /// No rooms yet; each member may fall `queue` messages behind.
    pub fn new(queue: usize) -> Self {
        Self(Arc::new(Hub {
            rooms: Mutex::new(HashMap::new()),
            queue: queue.max(1),
            next_member: AtomicU64::new(1),
        }))
    }
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds member `id` to `room` (creating it) if it is not there yet, then
    /// sends `request.content` (if any) to everyone in the room.
    fn deliver(&self, id: u64, member: &Member, request: MessageRequest) {
        let mut rooms = self.lock();
        let room = rooms.entry(request.room_id.clone()).or_default();
        if !room.members.contains_key(&id) {
            tracing::info!(room = %request.room_id, user = %request.user_id, members = room.members.len() + 1, "joined");
            room.members.insert(id, member.clone());
        }
        if request.content.is_empty() {
            return;
        }
        room.last_id += 1;
        let reply = MessageReply {
            message_id: room.last_id,
            content: request.content,
            user_id: request.user_id,
            room_id: request.room_id,
            timestamp: now_millis(),
        };
        let mut gone = Vec::new();
        for (&other, to) in &room.members {
            match to.outbox.try_send(Ok(reply.clone())) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    to.cut.cut();
                    tracing::warn!(room = %reply.room_id, queue = self.queue, "a member fell behind: disconnected");
                    gone.push(other);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => gone.push(other),
            }
        }
        for other in gone {
            Self::remove(&mut rooms, other);
        }
    }

    /// Takes member `id` out of every room; empty rooms go away.
    fn remove(rooms: &mut HashMap<String, Room>, id: u64) {
        rooms.retain(|_, room| {
            room.members.remove(&id);
            !room.members.is_empty()
        });
    }

    /// Reads one member's messages until its stream ends, fails, or it is
    /// cut off; then it leaves its rooms.
    async fn serve(
        self: Arc<Self>,
        id: u64,
        member: Member,
        mut incoming: Streaming<MessageRequest>,
    ) {
        loop {
            let next = tokio::select! {
                next = incoming.next() => next,
                () = member.cut.notify.notified() => break,
            };
            let request = match next {
                Some(Ok(request)) => request,
                Some(Err(status)) => {
                    tracing::debug!(%status, "a member's stream failed");
                    break;
                }
                None => break,
            };
            if member.cut.is_cut() || member.outbox.is_closed() {
                break;
            }
            if request.room_id.is_empty() || request.user_id.is_empty() {
                let _ = member
                    .outbox
                    .try_send(Err(invalid("a message needs a room_id and a user_id")));
                break;
            }
            self.deliver(id, &member, request);
        }
        Self::remove(&mut self.lock(), id);
        tracing::debug!(member = id, "left");
    }
}

/// A member's reply stream.
pub type MessageStream = Pin<Box<dyn Stream<Item = Result<MessageReply, Status>> + Send>>;

#[tonic::async_trait]
impl ChatService for Rooms {
    type SendMessageStream = MessageStream;

    async fn send_message(
        &self,
        request: Request<Streaming<MessageRequest>>,
    ) -> Result<Response<MessageStream>, Status> {
        let hub = self.0.clone();
        let (outbox, inbox) = mpsc::channel(hub.queue);
        let member = Member {
            outbox,
            cut: Arc::default(),
        };
        let id = hub.next_member.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(hub.serve(id, member.clone(), request.into_inner()));
        // What was queued, then, for a member that was cut off, why.
        let cut = member.cut;
        let cut_off = tokio_stream::iter([()]).filter_map(move |()| {
            cut.is_cut().then(|| {
                Err(ErrorReason::SlowReader
                    .error("this member fell too far behind the room and was disconnected")
                    .into())
            })
        });
        Ok(Response::new(Box::pin(
            ReceiverStream::new(inbox).chain(cut_off),
        )))
    }
}

/// The chat App: gRPC (the chat) and HTTP (`/health`, `/metrics`),
/// registered as `chat`.
pub fn app(config: &Config, registry: &Registry) -> Result<AppBuilder, BoxError> {
    let conf: ChatConf = support::section(config, "chat")?;
    let rooms = Arc::new(Rooms::new(conf.queue));
    Ok(App::builder()
        .name("chat")
        .version("v1.0.0")
        .registrar_arc(Some(registry.registrar.clone()))
        .server(support::http_server(conf.http).build())
        .server(
            support::grpc_server(conf.grpc)
                .add_service(chat_service_grpc::server(rooms))
                .build(),
        ))
}
