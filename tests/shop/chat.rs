//! The chat service as its own process: three members of one room each
//! receive every message, every sender's in the order it sent them; a
//! fourth member that never reads is cut off (429 `SLOW_READER`) once its
//! bounded queue overflows, and the other three lose and wait for nothing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kratos_examples_api::api::chat::v1::chat_service_client::ChatServiceClient;
use kratos_examples_api::api::chat::v1::{MessageReply, MessageRequest};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;
use tonic::transport::Endpoint;

use crate::program::Program;

const ROOM: &str = "lobby";
/// Messages each of the three members sends per round.
const PER_SENDER: usize = 300;
/// Bytes of text per message: enough that what the slow member is sent
/// overflows its transport buffers and then its queue.
const PAYLOAD: usize = 1024;
/// The service's queue per member (`CHAT_QUEUE`).
const QUEUE: &str = "64";

fn micros_now() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_micros()
}

struct Member {
    user: String,
    send: mpsc::Sender<MessageRequest>,
    replies: Streaming<MessageReply>,
}

impl Member {
    /// Opens the stream, joins the room by saying `ready`, and waits for
    /// its own `ready` to come back (then it is in the room). `window`
    /// limits its HTTP/2 receive windows, as a slow client's would be.
    async fn join(endpoint: &str, user: &str, window: Option<u32>) -> Self {
        let channel = Endpoint::from_shared(endpoint.to_owned())
            .expect("an endpoint")
            .initial_stream_window_size(window)
            .initial_connection_window_size(window)
            .connect()
            .await
            .expect("connected");
        let (send, outgoing) = mpsc::channel(PER_SENDER + 1);
        let mut member = Self {
            user: user.to_owned(),
            send,
            replies: ChatServiceClient::new(channel)
                .send_message(ReceiverStream::new(outgoing))
                .await
                .expect("the chat stream")
                .into_inner(),
        };
        member.say("ready".to_owned()).await;
        while let Some(reply) = member.next().await {
            if reply.user_id == user && reply.content == "ready" {
                return member;
            }
        }
        panic!("{user} saw its own ready message");
    }

    async fn say(&self, content: String) {
        self.send
            .send(MessageRequest {
                content,
                user_id: self.user.clone(),
                room_id: ROOM.to_owned(),
            })
            .await
            .expect("the stream is open");
    }

    async fn next(&mut self) -> Option<MessageReply> {
        tokio::time::timeout(Duration::from_secs(30), self.replies.message())
            .await
            .expect("a message within 30 s")
            .expect("no error on a reader's stream")
    }
}

/// Each of `members` sends `PER_SENDER` numbered messages, each once its
/// previous one came back (so a reader is never far behind), while reading
/// everyone else's; asserts each receives all `PER_SENDER × members` of
/// them, each sender's in order; returns the delivery latencies in µs.
async fn round(members: Vec<Member>, round: usize) -> (Vec<Member>, Vec<u128>) {
    let senders: Vec<String> = members.iter().map(|m| m.user.clone()).collect();
    let tasks: Vec<_> = members
        .into_iter()
        .map(|mut member| {
            let senders = senders.clone();
            tokio::spawn(async move {
                let me = senders
                    .iter()
                    .position(|s| *s == member.user)
                    .expect("a member");
                let mut next_of: Vec<usize> = vec![0; senders.len()];
                let mut latencies = Vec::new();
                let mut sent = 0;
                while next_of.iter().any(|&n| n < PER_SENDER) {
                    if sent < PER_SENDER && next_of[me] == sent {
                        let pad = "x".repeat(PAYLOAD);
                        member
                            .say(format!("{round} {sent} {} {pad}", micros_now()))
                            .await;
                        sent += 1;
                    }
                    let reply = member.next().await.expect("the stream goes on");
                    let mut words = reply.content.split(' ');
                    if words.next() != Some(round.to_string().as_str()) {
                        continue; // a join, or an earlier round
                    }
                    let i: usize = words.next().expect("a number").parse().expect("a number");
                    let at: u128 = words.next().expect("a time").parse().expect("a time");
                    latencies.push(micros_now().saturating_sub(at));
                    let from = senders
                        .iter()
                        .position(|s| *s == reply.user_id)
                        .expect("a member");
                    assert_eq!(
                        i, next_of[from],
                        "{} receives {}'s messages in order",
                        member.user, reply.user_id
                    );
                    next_of[from] += 1;
                }
                (member, latencies)
            })
        })
        .collect();
    let mut members = Vec::new();
    let mut latencies = Vec::new();
    for task in tasks {
        let (member, mut l) = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("a round within a minute")
            .expect("a member");
        members.push(member);
        latencies.append(&mut l);
    }
    latencies.sort_unstable();
    (members, latencies)
}

fn summary(latencies: &[u128]) -> String {
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    format!(
        "{} deliveries, p50 {} µs, p99 {} µs, max {} µs",
        latencies.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_delivers_in_order_and_cuts_off_a_member_that_never_reads() {
    let _serial = crate::program::serial().await;
    let conf = format!("{}/examples/configs/chat.yaml", env!("CARGO_MANIFEST_DIR"));
    let chat = Program::start(
        "chat_service",
        &["--conf", &conf],
        &[("REGISTRY", "memory"), ("CHAT_QUEUE", QUEUE)],
        2,
    )
    .await;
    let endpoint = chat.grpc();
    let mut members = Vec::new();
    for user in ["ann", "ben", "cat"] {
        members.push(Member::join(&endpoint, user, None).await);
    }
    let (members, alone) = round(members, 1).await;

    // A fourth member joins, then never reads again.
    let mut stalled = Member::join(&endpoint, "dan", Some(16 * 1024)).await;
    let (_members, with_stalled) = round(members, 2).await;

    // What was queued for it, then the reason it was cut off.
    let mut queued = 0;
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(30), stalled.replies.message())
            .await
            .expect("the stalled stream ends within 30 s")
        {
            Ok(Some(_)) => queued += 1,
            Ok(None) => panic!("the stalled member's stream ends with its reason"),
            Err(status) => break status,
        }
    };
    let error = kratos::Error::from_status(&status);
    eprintln!(
        "shop chat: 3 members × {PER_SENDER} messages of {PAYLOAD} B; alone: {}; \
         with a member that never reads: {}; it got {queued} of {} before it was cut off ({status:?})",
        summary(&alone),
        summary(&with_stalled),
        3 * PER_SENDER
    );
    assert_eq!(
        (error.code(), error.reason()),
        (429, "SLOW_READER"),
        "{status:?}"
    );
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    assert!(
        queued < 3 * PER_SENDER,
        "it was cut off before the end: {queued}"
    );
}
