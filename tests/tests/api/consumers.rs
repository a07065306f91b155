//! Durable named consumers (EventLog.Subscribe with a consumer_name): the
//! server keeps the position, streams sharing a name split the events,
//! an event not acknowledged in time comes again, and the consumers are
//! listed with their lag (gRPC and /metrics).

use std::collections::BTreeMap;
use std::time::Duration;

use projections::db::{Pool, Val};
use ticketd::consumers::{self, due, ConsumerFilter};
use ticketd::rpc::pb;
use ticketd::rpc::pb::subscribe_response::Message;
use tonic::Code;

use crate::helpers::{as_role, expect_code, receive_request, Backend, TestServer};

pub(crate) async fn receive(server: &TestServer, prefix: &str, count: usize) {
    let mut commands = server.commands().await;
    for n in 0..count {
        commands
            .receive_ticket(as_role(
                "customer_service",
                receive_request(&format!("{prefix}-{n}"), Some(30)),
            ))
            .await
            .expect("received");
    }
}

pub(crate) fn named(name: &str) -> pb::SubscribeRequest {
    pb::SubscribeRequest {
        consumer_name: name.to_owned(),
        ..Default::default()
    }
}

pub(crate) type Stream = tonic::Streaming<pb::SubscribeResponse>;

pub(crate) async fn open(server: &TestServer, request: pb::SubscribeRequest) -> Stream {
    server
        .events()
        .await
        .subscribe(request)
        .await
        .expect("subscribed")
        .into_inner()
}

/// The next event within `wait`, skipping heartbeats; `None` when none
/// comes.
pub(crate) async fn next(stream: &mut Stream, wait: Duration) -> Option<pb::LoggedEvent> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let message = tokio::time::timeout(left, stream.message()).await.ok()?;
        match message
            .expect("stream healthy")
            .expect("stream open")
            .message
        {
            Some(Message::Event(e)) => return Some(e),
            _ => continue,
        }
    }
}

pub(crate) async fn ack(server: &TestServer, name: &str, positions: Vec<u64>) -> pb::AckResponse {
    server
        .events()
        .await
        .ack(pb::AckRequest {
            consumer_name: name.to_owned(),
            positions,
        })
        .await
        .expect("acknowledged")
        .into_inner()
}

pub(crate) async fn consumer(server: &TestServer, name: &str) -> pb::ConsumerStatus {
    server
        .events()
        .await
        .list_consumers(pb::ListConsumersRequest {})
        .await
        .expect("listed")
        .into_inner()
        .consumers
        .into_iter()
        .find(|c| c.name == name)
        .expect("the consumer is listed")
}

async fn a_consumer_that_comes_back_resumes_after_its_last_acknowledgement(backend: Backend) {
    let server = TestServer::start(backend).await;
    receive(&server, "resume", 10).await;
    let head = server.caught_up().await.head_position;

    let mut stream = open(&server, named("crm")).await;
    let mut first = Vec::new();
    for _ in 0..4 {
        first.push(
            next(&mut stream, Duration::from_secs(10))
                .await
                .expect("event")
                .position,
        );
    }
    assert_eq!(
        first,
        vec![1, 2, 3, 4],
        "from the start of the log, in order"
    );
    let reply = ack(&server, "crm", first.clone()).await;
    assert_eq!((reply.acknowledged, reply.acked_through), (4, 4));
    let again = ack(&server, "crm", first).await;
    assert_eq!(again.acknowledged, 0, "acknowledging twice counts nothing");
    drop(stream);

    // The client stored nothing; the server knows where it stands. The
    // events delivered but not acknowledged come again first.
    let mut stream = open(&server, named("crm")).await;
    let mut seen = Vec::new();
    while let Some(e) = next(&mut stream, Duration::from_secs(3)).await {
        seen.push(e.position);
        if seen.len() as u64 == head - 4 {
            break;
        }
    }
    assert_eq!(seen, (5..=head).collect::<Vec<_>>());
    ack(&server, "crm", seen).await;
    let status = consumer(&server, "crm").await;
    assert_eq!(
        (status.acked_through, status.lag, status.in_flight),
        (head, 0, 0)
    );

    receive(&server, "resume-more", 2).await;
    let later = server.caught_up().await.head_position;
    let status = consumer(&server, "crm").await;
    assert_eq!(
        status.lag,
        later - head,
        "lag counts what the consumer has not acknowledged"
    );
    let metrics = crate::projections::scrape(server.metrics_addr.expect("metrics on")).await;
    assert!(
        metrics.contains(&format!(
            "ticketd_consumer_lag{{consumer=\"crm\"}} {}",
            later - head
        )),
        "{metrics}"
    );
    server.stop().await;
}

async fn streams_sharing_a_name_split_the_events_between_them(backend: Backend) {
    let server = TestServer::start(backend).await;
    let beside = server.start_beside().await;
    receive(&server, "split", 30).await;
    let head = server.caught_up().await.head_position;
    let request = pb::SubscribeRequest {
        max_in_flight: 3,
        ..named("erp")
    };
    // One stream on each process.
    let mut streams = [
        open(&server, request.clone()).await,
        open(&beside, request).await,
    ];
    let mut got: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
    // A busy machine may pause delivery a moment; ten seconds without any
    // event on either stream is a stall.
    let mut last_progress = std::time::Instant::now();
    while (got[0].len() + got[1].len()) < head as usize {
        for (i, stream) in streams.iter_mut().enumerate() {
            if let Some(e) = next(stream, Duration::from_millis(300)).await {
                ack(&server, "erp", vec![e.position]).await;
                got[i].push(e.position);
                last_progress = std::time::Instant::now();
            }
        }
        assert!(
            last_progress.elapsed() < Duration::from_secs(10),
            "no stream got anything for 10 s: {got:?}"
        );
    }
    assert!(
        !got[0].is_empty() && !got[1].is_empty(),
        "both streams work: {got:?}"
    );
    let mut all: Vec<u64> = got.concat();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=head).collect::<Vec<_>>(),
        "each event to exactly one stream"
    );
    for stream in &mut streams {
        assert!(
            next(stream, Duration::from_millis(500)).await.is_none(),
            "nothing more"
        );
    }
    assert_eq!(consumer(&server, "erp").await.acked_through, head);
    let mut beside = beside;
    beside.shut_down().await;
    server.stop().await;
}

async fn an_event_not_acknowledged_in_time_is_delivered_again(backend: Backend) {
    let server = TestServer::start(backend).await;
    receive(&server, "late", 2).await;
    server.caught_up().await;
    let request = pb::SubscribeRequest {
        ack_timeout_seconds: 1,
        max_in_flight: 1,
        ..named("sms")
    };
    let mut stream = open(&server, request).await;
    let first = next(&mut stream, Duration::from_secs(5))
        .await
        .expect("event");
    assert_eq!(first.position, 1);
    // Not acknowledged: after the time-out the same event comes again.
    let again = next(&mut stream, Duration::from_secs(5))
        .await
        .expect("redelivered");
    assert_eq!(again.position, 1);
    assert_eq!(again.event_id, first.event_id);
    assert_eq!(consumer(&server, "sms").await.acked_through, 0);
    ack(&server, "sms", vec![1]).await;
    let second = next(&mut stream, Duration::from_secs(5))
        .await
        .expect("next event");
    assert_eq!(second.position, 2);
    server.stop().await;
}

/// The version of consumer `name`'s row on PostgreSQL (its `xmin`, which
/// every write of the row changes); `None` on SQLite, which has none.
async fn row_version(db: &Pool, name: &str) -> Option<String> {
    let Pool::Postgres(_) = db else {
        return None;
    };
    let sql = "SELECT CAST(xmin AS TEXT) FROM consumer_groups WHERE name = $1";
    let rows = db.texts(sql, vec![Val::Text(name.to_owned())]).await;
    rows.expect("read the row")
        .into_iter()
        .next()?
        .into_iter()
        .next()?
}

async fn an_idle_consumer_is_due_only_when_the_log_moves_or_a_lease_expires(backend: Backend) {
    // Given a consumer whose stream took both events in the log and holds
    // one unacknowledged, with a lease of 30 seconds.
    let server = TestServer::start(backend).await;
    receive(&server, "idle", 2).await;
    server.caught_up().await;
    let request = pb::SubscribeRequest {
        ack_timeout_seconds: 30,
        ..named("idle")
    };
    let mut stream = open(&server, request).await;
    let first = next(&mut stream, Duration::from_secs(5)).await;
    let second = next(&mut stream, Duration::from_secs(5)).await;
    let (first, second) = (first.expect("event 1"), second.expect("event 2"));
    ack(&server, "idle", vec![first.position]).await;
    let db = server.open_db().await;
    let now = || chrono::Utc::now().timestamp_millis();

    // Then it is not due while nothing moves, and its stream, looking every
    // 200 ms, writes nothing (on PostgreSQL its row keeps its version).
    assert!(!due(&db, "idle", now()).await.expect("look"));
    let before = row_version(&db, "idle").await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(row_version(&db, "idle").await, before);
    assert!(!due(&db, "idle", now()).await.expect("look"));

    // When the unacknowledged lease's deadline has passed: it is due.
    let after_deadline = now() + 31_000;
    assert!(due(&db, "idle", after_deadline).await.expect("look"));

    // When a new event is logged: the stream claims and delivers it.
    receive(&server, "idle-new", 1).await;
    let third = next(&mut stream, Duration::from_secs(5)).await;
    assert!(third.expect("event 3").position > second.position);
    // And a consumer no stream follows is due once the log moves past it.
    let holder = consumers::Holder {
        actor: "integration-1",
        manager: false,
    };
    consumers::open(&db, "nobody", holder, &ConsumerFilter::default(), 30_000, 0)
        .await
        .expect("made");
    assert!(due(&db, "nobody", now()).await.expect("look"));
    db.close().await;
    server.stop().await;
}

async fn bad_named_subscriptions_are_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut events = server.events().await;
    let status = expect_code(
        events.subscribe(named("no spaces")).await,
        Code::InvalidArgument,
    );
    assert!(status.message().contains("consumer_name"), "{status:?}");
    let status = expect_code(
        events
            .subscribe(pb::SubscribeRequest {
                ack_timeout_seconds: 4000,
                ..named("x")
            })
            .await,
        Code::InvalidArgument,
    );
    assert!(
        status.message().contains("ack_timeout_seconds"),
        "{status:?}"
    );
    let status = expect_code(
        events
            .subscribe(pb::SubscribeRequest {
                max_in_flight: 5,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
    );
    assert!(status.message().contains("consumer_name"), "{status:?}");
    let filtered = pb::SubscribeRequest {
        event_types: vec!["TicketClosed".to_owned()],
        ..named("warehouse")
    };
    drop(open(&server, filtered).await);
    let status = expect_code(
        events.subscribe(named("warehouse")).await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("TicketClosed"), "{status:?}");
    let status = expect_code(
        events
            .ack(pb::AckRequest {
                consumer_name: "nobody".to_owned(),
                positions: vec![1],
            })
            .await,
        Code::NotFound,
    );
    assert!(status.message().contains("nobody"), "{status:?}");
    expect_code(
        events
            .ack(pb::AckRequest {
                consumer_name: "warehouse".to_owned(),
                positions: vec![],
            })
            .await,
        Code::InvalidArgument,
    );
    let listed: BTreeMap<String, Vec<String>> = events
        .list_consumers(pb::ListConsumersRequest {})
        .await
        .expect("listed")
        .into_inner()
        .consumers
        .into_iter()
        .map(|c| (c.name, c.event_types))
        .collect();
    assert_eq!(
        listed,
        BTreeMap::from([("warehouse".to_owned(), vec!["TicketClosed".to_owned()])]),
        "a refused subscription makes no consumer"
    );
    server.stop().await;
}

crate::on_both_stores!(
    a_consumer_that_comes_back_resumes_after_its_last_acknowledgement,
    streams_sharing_a_name_split_the_events_between_them,
    an_event_not_acknowledged_in_time_is_delivered_again,
    an_idle_consumer_is_due_only_when_the_log_moves_or_a_lease_expires,
    bad_named_subscriptions_are_refused,
);
