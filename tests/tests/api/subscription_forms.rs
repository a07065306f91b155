//! What a subscriber asks its events to carry: the typed payload beside
//! the stored JSON (the default), or the JSON only (`json_only`).

use ticketd::rpc::pb;

use crate::helpers::{Backend, TestServer};
use crate::subscriptions::{load, next_event};

/// More events than the server reads from the log at once, so that the
/// next stretch is read while one is sent.
async fn a_json_only_stream_carries_the_same_events_without_the_typed_payload(backend: Backend) {
    let server = TestServer::start(backend).await;
    load(&server, "json", 110).await;
    let head = server.caught_up().await.head_position;
    assert!(head > 1_000, "the log outgrows one read ({head} events)");
    let log = server.events().await;
    let open = |json_only| {
        let mut log = log.clone();
        async move {
            let request = pb::SubscribeRequest {
                json_only,
                ..Default::default()
            };
            log.subscribe(request)
                .await
                .expect("subscribe")
                .into_inner()
        }
    };
    let (mut typed, mut json) = (open(false).await, open(true).await);
    for position in 1..=head {
        let (t, j) = (next_event(&mut typed).await, next_event(&mut json).await);
        assert_eq!((t.position, j.position), (position, position));
        assert!(t.payload.is_some(), "a typed payload at {position}");
        assert_eq!(j.payload, None, "no typed payload at {position}");
        assert_eq!(
            (j.payload_json, j.event_type, j.event_version, j.metadata),
            (t.payload_json, t.event_type, t.event_version, t.metadata)
        );
    }
    server.stop().await;
}

crate::on_both_stores!(a_json_only_stream_carries_the_same_events_without_the_typed_payload,);
