//! Conflicts, fuzzing and limits through the real server: many clients on
//! one ticket, random bytes to every RPC, oversized and deep requests.

use std::collections::HashSet;

use bytes::{Buf, BufMut};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use prost::Message as _;
use ticketd::rpc::pb;
use ticketd::rpc::pb::ticket_commands_client::TicketCommandsClient;
use ticketd::rpc::pb::ticket_queries_client::TicketQueriesClient;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic::Code;

use crate::flow::{step, Flow, IN_WARRANTY_LIFECYCLE};
use crate::helpers::{as_role, context, expect_code, receive_request, Authed, Backend, TestServer};
use crate::rejections::expect_invalid;

const RACERS: usize = 50;
/// Random requests per RPC in CI; the long form sets `TICKETD_FUZZ_CASES`.
const FUZZ_CASES: u32 = 24;

fn fuzz_cases() -> u32 {
    std::env::var("TICKETD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FUZZ_CASES)
}

async fn fifty_clients_racing_on_one_ticket_leave_one_valid_lifecycle(backend: Backend) {
    let server = TestServer::start(backend).await;
    let id = Flow::receive(&server, "race-50", Some(60)).await.id;
    let mut racers = Vec::new();
    for _ in 0..RACERS {
        let (commands, queries) = (server.commands().await, server.queries().await);
        racers.push(tokio::spawn(race_to_the_end(commands, queries, id.clone())));
    }
    let mut applied = 0;
    for racer in racers {
        applied += racer.await.expect("racer");
    }
    assert_one_valid_lifecycle(&server, &id, applied).await;
    server.stop().await;
}

/// A client with optimistic concurrency: reads the ticket, issues the step
/// that comes next at the version it read, and starts over when it loses
/// the race (ABORTED), until the lifecycle is done. Returns how many of its
/// commands were applied.
pub async fn race_to_the_end(
    commands: TicketCommandsClient<Channel>,
    mut queries: TicketQueriesClient<Authed>,
    id: String,
) -> usize {
    let mut t = Flow::at(commands, &id, 0);
    let mut applied = 0;
    loop {
        let ticket = queries
            .get_ticket(pb::GetTicketRequest {
                ticket_id: t.id.clone(),
            })
            .await
            .expect("read the ticket")
            .into_inner();
        let done = usize::try_from(ticket.version).expect("small");
        let Some(event_type) = IN_WARRANTY_LIFECYCLE.get(done) else {
            return applied;
        };
        t.expected_version = Some(ticket.version);
        match step(&mut t, event_type).await {
            Ok(reply) => {
                assert_eq!(
                    (reply.version, reply.event_type.as_str()),
                    (ticket.version + 1, *event_type)
                );
                applied += 1;
            }
            Err(status) => assert_eq!(status.code(), Code::Aborted, "{status:?}"),
        }
    }
}

/// The ticket's history is the in-warranty lifecycle once: each of the
/// `applied` acknowledgements (plus the receipt) is one event, and no
/// request id was applied twice.
pub async fn assert_one_valid_lifecycle(server: &TestServer, id: &str, applied: usize) {
    let history = server
        .audit()
        .await
        .get_history(pb::GetHistoryRequest {
            ticket_id: id.to_owned(),
        })
        .await
        .expect("history replays")
        .into_inner();
    let types: Vec<&str> = history
        .entries
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(types, IN_WARRANTY_LIFECYCLE, "one valid lifecycle of {id}");
    assert_eq!(
        applied + 1,
        history.entries.len(),
        "every acknowledgement is one event, and back"
    );
    let request_ids: HashSet<&str> = history
        .entries
        .iter()
        .map(|e| e.request_id.as_str())
        .collect();
    assert_eq!(
        request_ids.len(),
        history.entries.len(),
        "a request id applied twice"
    );
}

/// Sends and receives raw bytes, so that anything can go on the wire.
#[derive(Debug, Clone, Default)]
struct RawCodec;

#[derive(Debug)]
struct RawEncoder;

#[derive(Debug)]
struct RawDecoder;

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

/// Every RPC of `repair.v1`: (path, server-streaming).
fn every_rpc() -> Vec<(String, bool)> {
    let set = prost_types::FileDescriptorSet::decode(ticketd::rpc::DESCRIPTOR_SET)
        .expect("descriptor set");
    let mut rpcs = Vec::new();
    for file in set.file.iter().filter(|f| f.package() == "repair.v1") {
        for service in &file.service {
            for method in &service.method {
                rpcs.push((
                    format!("/repair.v1.{}/{}", service.name(), method.name()),
                    method.server_streaming(),
                ));
            }
        }
    }
    rpcs
}

/// One call with `body` as the request; the status, or OK.
async fn call_raw(
    channel: Channel,
    path: &str,
    streaming: bool,
    body: Vec<u8>,
    role: Option<&str>,
) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let mut request = tonic::Request::new(body);
    if let Some(role) = role {
        *request.metadata_mut() = as_role(role, ()).metadata().clone();
    }
    let path = path.parse().expect("path");
    if streaming {
        match grpc.server_streaming(request, path, RawCodec).await {
            Ok(response) => match response.into_inner().message().await {
                Ok(_) => tonic::Status::ok(""),
                Err(status) => status,
            },
            Err(status) => status,
        }
    } else {
        match grpc.unary(request, path, RawCodec).await {
            Ok(_) => tonic::Status::ok(""),
            Err(status) => status,
        }
    }
}

/// Random bytes, and random but well-formed protobuf: fields 1–12 of every
/// wire type, nested, with random content.
fn message_bytes() -> impl Strategy<Value = Vec<u8>> {
    let field = (
        1u32..13,
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 0..64),
        any::<bool>(),
    )
        .prop_map(|(number, varint, bytes, as_varint)| {
            let mut out = Vec::new();
            if as_varint {
                prost::encoding::uint64::encode(number, &varint, &mut out);
            } else {
                prost::encoding::bytes::encode(number, &bytes, &mut out);
            }
            out
        });
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        proptest::collection::vec(field, 0..8).prop_map(|fields| fields.concat()),
    ]
}

async fn fuzzing_every_rpc_gets_a_status_and_writes_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    Flow::receive(&server, "fuzz-1", Some(60)).await;
    let before = server.event_count().await;
    let channel = server.channel().await;
    let rpcs = every_rpc();
    assert!(rpcs.len() > 30, "{rpcs:?}");
    let handle = tokio::runtime::Handle::current();
    let roles = [
        None,
        Some("general_manager"),
        Some("technician"),
        Some("auditor"),
    ];
    tokio::task::block_in_place(|| {
        let mut runner = TestRunner::new(Config {
            cases: fuzz_cases(),
            failure_persistence: None,
            ..Config::default()
        });
        for (path, streaming) in &rpcs {
            runner
                .run(&(message_bytes(), 0..roles.len()), |(body, role)| {
                    let status = handle.block_on(call_raw(
                        channel.clone(),
                        path,
                        *streaming,
                        body,
                        roles[role],
                    ));
                    if status.code() != Code::Ok {
                        prop_assert!(
                            !status.message().is_empty(),
                            "{path}: a status without a message"
                        );
                        prop_assert!(
                            !matches!(
                                status.code(),
                                Code::Unknown | Code::Unavailable | Code::Cancelled
                            ),
                            "{path}: {status:?}"
                        );
                    }
                    Ok(())
                })
                .unwrap_or_else(|failure| panic!("{path}: {failure}"));
        }
    });
    assert_eq!(server.event_count().await, before, "fuzzing wrote events");
    // And the server is still well.
    Flow::receive(&server, "fuzz-2", Some(60)).await;
    server.stop().await;
}

async fn oversized_and_huge_inputs_are_refused_and_write_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut client = server.commands().await;
    let t = Flow::receive(&server, "limits-1", Some(400)).await;
    let before = server.event_count().await;

    // Over the 1 MiB message limit.
    let mut oversized = receive_request("limits-2", Some(10));
    oversized.description = "x".repeat(2 * 1024 * 1024);
    let status = client
        .receive_ticket(as_role("customer_service", oversized))
        .await;
    let status = status.expect_err("a 2 MiB message must be refused");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    // The cap holds on every service, the read side too.
    let status = server
        .audit()
        .await
        .get_history(pb::GetHistoryRequest {
            ticket_id: "x".repeat(2 * 1024 * 1024),
        })
        .await
        .expect_err("a 2 MiB query must be refused");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");

    // Under the message limit but a huge field.
    let mut huge = receive_request("limits-3", Some(10));
    huge.description = "x".repeat(100_000);
    expect_invalid(
        client
            .receive_ticket(as_role("customer_service", huge))
            .await,
        "description",
    );

    // Thousands of quote lines.
    let line = pb::QuoteLine {
        line: Some(pb::quote_line::Line::Travel(pb::Money {
            currency: "CNY".into(),
            minor_units: 100,
        })),
    };
    let quote = pb::QuoteRepairRequest {
        context: context(&t.id),
        lines: vec![line; 5_000],
        valid_until: "2099-12-31".into(),
    };
    expect_invalid(
        client.quote_repair(as_role("technician", quote)).await,
        "lines",
    );

    // Filters and pages out of bounds.
    let mut queries = server.queries().await;
    expect_invalid(
        queries
            .list_tickets(pb::ListTicketsRequest {
                page_size: 1_000_000,
                ..Default::default()
            })
            .await,
        "page_size",
    );
    expect_invalid(
        queries
            .list_tickets(pb::ListTicketsRequest {
                page_token: "A".repeat(10_000),
                ..Default::default()
            })
            .await,
        "page_token",
    );
    expect_code(
        queries
            .get_ticket(pb::GetTicketRequest {
                ticket_id: "T".repeat(100_000),
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(server.event_count().await, before);
    server.stop().await;
}

async fn deep_paging_visits_every_ticket_exactly_once(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut client = server.commands().await;
    let mut ids = HashSet::new();
    for i in 0..120 {
        let reply = client
            .receive_ticket(as_role(
                "customer_service",
                receive_request(&format!("page-{i:03}"), Some(10)),
            ))
            .await
            .expect("received")
            .into_inner();
        ids.insert(reply.ticket_id);
    }
    server.caught_up().await;
    let mut queries = server.queries().await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = queries
            .list_tickets(pb::ListTicketsRequest {
                page_size: 7,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        assert!(page.tickets.len() <= 7);
        seen.extend(page.tickets.into_iter().map(|t| t.ticket_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), ids.len(), "a ticket seen twice or missed");
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), ids);
    server.stop().await;
}

crate::on_both_stores!(
    fifty_clients_racing_on_one_ticket_leave_one_valid_lifecycle,
    fuzzing_every_rpc_gets_a_status_and_writes_nothing,
    oversized_and_huge_inputs_are_refused_and_write_nothing,
    deep_paging_visits_every_ticket_exactly_once,
);
