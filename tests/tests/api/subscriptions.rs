//! EventLog.Subscribe: every event exactly once and in log order, from any
//! position, while writers run; filters, heartbeats and bad requests.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ticketd::rpc::pb;
use ticketd::rpc::pb::event_log_client::EventLogClient;
use ticketd::rpc::pb::subscribe_response::Message;
use tokio::sync::watch;
use tonic::Code;

use crate::flow::{in_warranty_lifecycle, Flow, IN_WARRANTY_LIFECYCLE};
use crate::helpers::{expect_code, random_below, receive_request, Authed, Backend, TestServer};

/// Writers running at once, each driving its tickets one after another
/// through the ten-command lifecycle: 8 × 100 × 10 = 8,000 commands.
const WRITERS: usize = 8;
const TICKETS_PER_WRITER: usize = 100;
const SUBSCRIBERS: usize = 3;

/// Follows the log from position 0 until `end` holds the log's last
/// position and the stream has reached it. With `drop_after`, drops the
/// first stream after that many events and resumes from the last position
/// seen. Returns the events and how many streams were opened.
async fn follow(
    mut log: EventLogClient<Authed>,
    end: watch::Receiver<Option<u64>>,
    drop_after: Option<usize>,
) -> (Vec<pb::LoggedEvent>, usize) {
    let mut seen: Vec<pb::LoggedEvent> = Vec::new();
    let mut streams = 0;
    loop {
        let from_position = seen.last().map_or(0, |e| e.position);
        let mut stream = log
            .subscribe(pb::SubscribeRequest {
                from_position,
                // Wakes the loop up at least once a second to look at `end`.
                heartbeat_seconds: 1,
                ..Default::default()
            })
            .await
            .expect("subscribe")
            .into_inner();
        streams += 1;
        loop {
            let last = seen.last().map_or(0, |e| e.position);
            if end.borrow().is_some_and(|end| last >= end) {
                return (seen, streams);
            }
            if streams == 1 && drop_after.is_some_and(|n| seen.len() >= n) {
                // Disconnect: the stream is dropped with this iteration.
                break;
            }
            let message = stream
                .message()
                .await
                .expect("stream stays healthy")
                .expect("stream stays open");
            match message.message {
                Some(Message::Event(event)) => seen.push(event),
                Some(Message::Heartbeat(_)) => {}
                None => panic!("a message with neither event nor heartbeat"),
            }
        }
    }
}

/// The first index where two event sequences differ.
fn first_difference(a: &[pb::LoggedEvent], b: &[pb::LoggedEvent]) -> Option<usize> {
    (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))
}

async fn concurrent_subscribers_each_see_every_event_once_in_log_order(backend: Backend) {
    let started = Instant::now();
    let server = TestServer::start(backend).await;
    let total = WRITERS * TICKETS_PER_WRITER * IN_WARRANTY_LIFECYCLE.len();

    let (end_tx, end) = watch::channel(None);
    // Subscriber 0 disconnects after a random number of events, perhaps
    // while the writers are still running, and resumes.
    let drop_after = 1 + usize::try_from(random_below(total as u64 - 1)).expect("small");
    let mut subscribers = Vec::new();
    for i in 0..SUBSCRIBERS {
        let log = server.events().await;
        let drop = (i == 0).then_some(drop_after);
        subscribers.push(tokio::spawn(follow(log, end.clone(), drop)));
    }

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let client = server.commands().await;
        writers.push(tokio::spawn(async move {
            for t in 0..TICKETS_PER_WRITER {
                in_warranty_lifecycle(client.clone(), &format!("load-{w}-{t}")).await;
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer finishes");
    }
    let written = started.elapsed();

    let head = server.caught_up().await.head_position;
    let events = server.event_count().await;
    assert_eq!(events, i64::try_from(total).expect("small"));
    assert_eq!(head, total as u64);
    end_tx.send(Some(head)).expect("subscribers listen");

    let mut results = Vec::new();
    for subscriber in subscribers {
        let result = tokio::time::timeout(Duration::from_secs(60), subscriber)
            .await
            .expect("subscriber reaches the head within a minute")
            .expect("subscriber finishes");
        results.push(result);
    }

    let stored_ids = server.event_ids().await;
    for (i, (events, _)) in results.iter().enumerate() {
        // Gap-free and strictly increasing by one, from 1 to the head.
        if let Some(at) = events
            .iter()
            .zip(1..)
            .position(|(e, expected)| e.position != expected)
        {
            panic!(
                "subscriber {i}: position {} at index {at} (dropped after {drop_after})",
                events[at].position
            );
        }
        assert_eq!(events.len() as u64, head, "subscriber {i}");
        // Every stored event exactly once.
        let mut ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
        ids.sort();
        assert!(ids == stored_ids, "subscriber {i}: event ids differ");
    }
    assert_eq!(results[0].1, 2, "subscriber 0 resumed once");
    assert!(results[1..].iter().all(|(_, streams)| *streams == 1));
    for (i, (events, _)) in results.iter().enumerate().skip(1) {
        if let Some(at) = first_difference(&results[0].0, events) {
            panic!(
                "resumed subscriber and subscriber {i} differ at index {at} \
                 (dropped after {drop_after}): {:?} vs {:?}",
                results[0].0.get(at),
                events.get(at)
            );
        }
    }
    // Within a ticket the log keeps the stream's order.
    let mut per_ticket: BTreeMap<&str, Vec<&pb::LoggedEvent>> = BTreeMap::new();
    for e in &results[0].0 {
        per_ticket.entry(e.ticket_id.as_str()).or_default().push(e);
    }
    assert_eq!(per_ticket.len(), WRITERS * TICKETS_PER_WRITER);
    for (ticket, events) in per_ticket {
        let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(versions, (1..=10).collect::<Vec<u64>>(), "{ticket}");
        assert_eq!(types, IN_WARRANTY_LIFECYCLE, "{ticket}");
    }
    eprintln!(
        "{backend:?}: {total} commands by {WRITERS} writers in {written:?}, \
         {SUBSCRIBERS} subscribers done after {:?}",
        started.elapsed()
    );
    server.stop().await;
}

/// Reads `request`'s stream (heartbeat every second) until a heartbeat
/// shows it has passed `head`, and returns the events delivered by then.
pub async fn read_to(
    log: &mut EventLogClient<Authed>,
    request: pb::SubscribeRequest,
    head: u64,
) -> Vec<pb::LoggedEvent> {
    let mut stream = log
        .subscribe(pb::SubscribeRequest {
            heartbeat_seconds: 1,
            ..request
        })
        .await
        .expect("subscribe")
        .into_inner();
    events_to(&mut stream, head).await
}

/// The events of `stream` until a heartbeat shows it has passed `head`.
pub async fn events_to(
    stream: &mut tonic::Streaming<pb::SubscribeResponse>,
    head: u64,
) -> Vec<pb::LoggedEvent> {
    let mut events = Vec::new();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await
            .expect("a message within ten seconds")
            .expect("stream stays healthy")
            .expect("stream stays open");
        match message.message {
            Some(Message::Event(e)) => {
                assert!(e.position <= head, "nothing was written after {head}");
                events.push(e);
            }
            Some(Message::Heartbeat(h)) if h.head_position >= head => return events,
            Some(Message::Heartbeat(_)) => {}
            None => panic!("a message with neither event nor heartbeat"),
        }
    }
}

/// The next event on a stream, skipping heartbeats.
pub(crate) async fn next_event(
    stream: &mut tonic::Streaming<pb::SubscribeResponse>,
) -> pb::LoggedEvent {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await
            .expect("a message within ten seconds")
            .expect("stream stays healthy")
            .expect("stream stays open");
        if let Some(Message::Event(e)) = message.message {
            return e;
        }
    }
}

/// The next message on a stream, which must be a heartbeat, within three
/// seconds.
async fn next_heartbeat(stream: &mut tonic::Streaming<pb::SubscribeResponse>) -> pb::Heartbeat {
    let message = tokio::time::timeout(Duration::from_secs(3), stream.message())
        .await
        .expect("a heartbeat within three seconds")
        .expect("stream stays healthy")
        .expect("stream stays open");
    match message.message {
        Some(Message::Heartbeat(h)) => h,
        other => panic!("expected a heartbeat, got {other:?}"),
    }
}

/// A filter case: the request, how many events match, and which.
type Case<'a> = (
    pb::SubscribeRequest,
    usize,
    Box<dyn Fn(&pb::LoggedEvent) -> bool + 'a>,
);

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn model(e: &pb::LoggedEvent) -> &str {
    e.metadata.get("product_model").map_or("", String::as_str)
}

async fn subscribe_filters_deliver_exactly_the_matching_events(backend: Backend) {
    let server = TestServer::start(backend).await;
    // A: a washer, the whole lifecycle (10 events). B: a fridge, received
    // and warranty determined (2). C: a washer, received and escalated (2).
    let a = in_warranty_lifecycle(server.commands().await, "filter-a").await;
    let mut fridge = receive_request("filter-b", Some(60));
    if let Some(p) = fridge.product.as_mut() {
        p.model = "FR-200".into();
    }
    let mut b = Flow::receive_with(&server, fridge).await;
    let r = b.determine_warranty().await;
    b.ok(r, "WarrantyDetermined");
    let mut c = Flow::receive(&server, "filter-c", Some(60)).await;
    let r = c.escalate().await;
    c.ok(r, "TicketEscalated");
    let head = server.caught_up().await.head_position;
    assert_eq!(head, 14);

    let mut log = server.events().await;
    let all = read_to(&mut log, pb::SubscribeRequest::default(), head).await;
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        (1..=head).collect::<Vec<_>>()
    );
    // Every event carries its ticket's product model.
    for e in &all {
        let expected = if e.ticket_id == b.id {
            "FR-200"
        } else {
            "WM-800"
        };
        assert_eq!(model(e), expected, "{e:?}");
    }

    let cases: Vec<Case<'_>> = vec![
        (
            pb::SubscribeRequest {
                event_types: strings(&["TicketReceived", "TicketEscalated"]),
                ..Default::default()
            },
            5,
            Box::new(|e| ["TicketReceived", "TicketEscalated"].contains(&e.event_type.as_str())),
        ),
        (
            pb::SubscribeRequest {
                ticket_ids: vec![b.id.clone()],
                ..Default::default()
            },
            2,
            Box::new(|e| e.ticket_id == b.id),
        ),
        (
            pb::SubscribeRequest {
                product_models: strings(&["FR-200"]),
                ..Default::default()
            },
            2,
            Box::new(|e| model(e) == "FR-200"),
        ),
        // AND across lists.
        (
            pb::SubscribeRequest {
                event_types: strings(&["TicketEscalated"]),
                product_models: strings(&["WM-800"]),
                ..Default::default()
            },
            2,
            Box::new(|e| e.event_type == "TicketEscalated" && model(e) == "WM-800"),
        ),
        // OR within a list, from a position.
        (
            pb::SubscribeRequest {
                from_position: 5,
                ticket_ids: vec![a.id.clone(), c.id.clone()],
                ..Default::default()
            },
            7,
            Box::new(|e| e.position > 5 && (e.ticket_id == a.id || e.ticket_id == c.id)),
        ),
        (
            pb::SubscribeRequest {
                event_types: strings(&["NoSuchEvent"]),
                ..Default::default()
            },
            0,
            Box::new(|_| false),
        ),
    ];
    for (request, count, matches) in cases {
        let got = read_to(&mut log, request.clone(), head).await;
        let expected: Vec<pb::LoggedEvent> = all.iter().filter(|e| matches(e)).cloned().collect();
        assert_eq!(expected.len(), count, "{request:?}");
        assert!(got == expected, "{request:?}: got {got:?}");
    }

    // Live: of a washer event and then a fridge event, a fridge-only
    // stream opened at the head delivers just the fridge's.
    let mut fridges = log
        .subscribe(pb::SubscribeRequest {
            from_position: head,
            product_models: strings(&["FR-200"]),
            heartbeat_seconds: 1,
            ..Default::default()
        })
        .await
        .expect("subscribe")
        .into_inner();
    let r = c.determine_warranty().await;
    c.ok(r, "WarrantyDetermined");
    let r = b.workshop_diagnosis().await;
    b.ok(r, "FaultDiagnosed");
    let e = next_event(&mut fridges).await;
    assert_eq!(
        (
            e.position,
            e.ticket_id.as_str(),
            e.version,
            e.event_type.as_str()
        ),
        (head + 2, b.id.as_str(), 3, "FaultDiagnosed")
    );
    server.stop().await;
}

async fn an_idle_stream_gets_heartbeats_carrying_the_head(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "beat-1", Some(60)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let head = server.caught_up().await.head_position;
    assert_eq!(head, 2);

    let mut log = server.events().await;
    let mut idle = log
        .subscribe(pb::SubscribeRequest {
            from_position: head,
            heartbeat_seconds: 1,
            ..Default::default()
        })
        .await
        .expect("subscribe")
        .into_inner();
    let opened = Instant::now();
    for _ in 0..2 {
        let h = next_heartbeat(&mut idle).await;
        assert_eq!(h.head_position, head);
        assert!(h.at.is_some(), "heartbeat without a time");
    }
    // Two beats a second apart, not a burst.
    assert!(opened.elapsed() >= Duration::from_millis(1_500));

    // A stream whose filter matches nothing is idle too, from position 0.
    let mut nothing = log
        .subscribe(pb::SubscribeRequest {
            ticket_ids: strings(&["nobody"]),
            heartbeat_seconds: 1,
            ..Default::default()
        })
        .await
        .expect("subscribe")
        .into_inner();
    assert_eq!(next_heartbeat(&mut nothing).await.head_position, head);

    // The idle stream delivers the next event live, and the next
    // heartbeat carries the new head.
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let e = next_event(&mut idle).await;
    assert_eq!((e.position, e.version), (head + 1, 3));
    assert_eq!(next_heartbeat(&mut idle).await.head_position, head + 1);
    server.stop().await;
}

async fn bad_subscribe_requests_are_invalid_arguments(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut log = server.events().await;
    let entries = |n: usize| -> Vec<String> { (0..n).map(|i| format!("x-{i}")).collect() };
    let bad = [
        (
            "heartbeat_seconds",
            pb::SubscribeRequest {
                heartbeat_seconds: 301,
                ..Default::default()
            },
        ),
        (
            "event_types",
            pb::SubscribeRequest {
                event_types: entries(101),
                ..Default::default()
            },
        ),
        (
            "ticket_ids",
            pb::SubscribeRequest {
                ticket_ids: entries(101),
                ..Default::default()
            },
        ),
        (
            "product_models",
            pb::SubscribeRequest {
                product_models: entries(101),
                ..Default::default()
            },
        ),
        (
            "ticket_ids[1]",
            pb::SubscribeRequest {
                ticket_ids: strings(&["T-1", " "]),
                ..Default::default()
            },
        ),
    ];
    for (field, request) in bad {
        let status = expect_code(log.subscribe(request).await, Code::InvalidArgument);
        assert!(
            status.message().contains(field),
            "{field}: {}",
            status.message()
        );
    }
    let status = expect_code(
        log.subscribe(pb::SubscribeRequest {
            from_position: u64::MAX,
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
    );
    assert!(status.message().contains("from_position"));
    // The limits themselves are accepted.
    log.subscribe(pb::SubscribeRequest {
        heartbeat_seconds: 300,
        event_types: entries(100),
        ticket_ids: entries(100),
        product_models: entries(100),
        ..Default::default()
    })
    .await
    .expect("100 entries per list and a 300 s heartbeat are allowed");
    server.stop().await;
}

/// Writes `tickets` whole lifecycles with eight writers.
pub(crate) async fn load(server: &TestServer, name: &str, tickets: usize) {
    let mut writers = Vec::new();
    for w in 0..8 {
        let client = server.commands().await;
        let name = name.to_owned();
        writers.push(tokio::spawn(async move {
            for t in (w..tickets).step_by(8) {
                in_warranty_lifecycle(client.clone(), &format!("{name}-{t}")).await;
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer finishes");
    }
}

/// Reads until the stream ends, cleanly or not, for at most five seconds.
async fn until_closed(stream: &mut tonic::Streaming<pb::SubscribeResponse>) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.message())
            .await
            .expect("the stream ends within five seconds")
        {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return,
        }
    }
}

async fn shutdown_ends_open_subscriptions(backend: Backend) {
    let mut server = TestServer::start(backend).await;
    in_warranty_lifecycle(server.commands().await, "open-1").await;
    server.caught_up().await;
    let mut log = server.events().await;
    let mut stream = log
        .subscribe(pb::SubscribeRequest {
            heartbeat_seconds: 1,
            ..Default::default()
        })
        .await
        .expect("subscribe")
        .into_inner();
    assert_eq!(next_event(&mut stream).await.position, 1);
    tokio::time::timeout(Duration::from_secs(10), server.shut_down())
        .await
        .expect("shutdown does not wait for a subscriber");
    until_closed(&mut stream).await;
    server.stop().await;
}

async fn a_subscriber_that_stops_reading_does_not_block_shutdown(backend: Backend) {
    let mut server = TestServer::start(backend).await;
    // Far more than the server's buffer and the HTTP/2 windows hold.
    load(&server, "stall", 300).await;
    server.caught_up().await;
    let mut log = server.events().await;
    let mut stalled = log
        .subscribe(pb::SubscribeRequest::default())
        .await
        .expect("subscribe")
        .into_inner();
    assert_eq!(next_event(&mut stalled).await.position, 1);
    // Let the server fill every buffer on the way to this reader.
    tokio::time::sleep(Duration::from_secs(1)).await;
    tokio::time::timeout(Duration::from_secs(10), server.shut_down())
        .await
        .expect("shutdown does not wait for a subscriber that stopped reading");
    // What was already on its way may still arrive; then the stream ends.
    until_closed(&mut stalled).await;
    server.stop().await;
}

crate::on_both_stores!(
    shutdown_ends_open_subscriptions,
    a_subscriber_that_stops_reading_does_not_block_shutdown,
    concurrent_subscribers_each_see_every_event_once_in_log_order,
    subscribe_filters_deliver_exactly_the_matching_events,
    an_idle_stream_gets_heartbeats_carrying_the_head,
    bad_subscribe_requests_are_invalid_arguments,
);
