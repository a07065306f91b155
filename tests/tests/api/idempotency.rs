//! A request id seen before returns the first result and writes nothing;
//! racing writers never both apply to a stale state.

use ticketd::rpc::pb;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{as_role, context, receive_request, Backend, TestServer};

async fn same_request_id_twice_writes_one_event(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut client = server.commands().await;
    // ReceiveTicket without a ticket id: the server assigns one, and the
    // retry must get the same one back.
    let mut first = receive_request("", Some(30));
    if let Some(c) = first.context.as_mut() {
        c.ticket_id = String::new();
    }
    let a = client
        .receive_ticket(as_role("customer_service", first.clone()))
        .await
        .expect("first")
        .into_inner();
    let b = client
        .receive_ticket(as_role("customer_service", first))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(
        (a.ticket_id.as_str(), a.version, a.duplicate),
        (b.ticket_id.as_str(), 1, false)
    );
    assert!(b.duplicate);
    assert_eq!(server.event_count().await, 1);

    let ctx = context(&a.ticket_id);
    let m = pb::DetermineWarrantyRequest {
        context: ctx.clone(),
        service_contract: false,
    };
    let one = client
        .determine_warranty(as_role("customer_service", m.clone()))
        .await
        .expect("once")
        .into_inner();
    let two = client
        .determine_warranty(as_role("customer_service", m))
        .await
        .expect("twice")
        .into_inner();
    assert_eq!((one.version, two.version), (2, 2));
    assert!(two.duplicate && !one.duplicate);
    assert_eq!(server.event_count().await, 2);

    // The same request id on another ticket is a client error.
    let other = Flow::receive(&server, "other-1", Some(30)).await;
    let mut reused = ctx;
    if let Some(c) = reused.as_mut() {
        c.ticket_id = other.id.clone();
    }
    let m = pb::DetermineWarrantyRequest {
        context: reused,
        service_contract: false,
    };
    let status = client
        .determine_warranty(as_role("customer_service", m))
        .await
        .expect_err("reused id");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(server.event_count().await, 3);
    server.stop().await;
}

async fn concurrent_duplicates_apply_once(backend: Backend) {
    let server = TestServer::start(backend).await;
    let t = Flow::receive(&server, "dup-race-1", Some(30)).await;
    let m = pb::DetermineWarrantyRequest {
        context: context(&t.id),
        service_contract: false,
    };
    let mut calls = Vec::new();
    for _ in 0..8 {
        let mut client = server.commands().await;
        let m = m.clone();
        calls.push(tokio::spawn(async move {
            client
                .determine_warranty(as_role("customer_service", m))
                .await
                .map(|r| r.into_inner())
        }));
    }
    let mut fresh = 0;
    for call in calls {
        let reply = call.await.expect("task").expect("every copy succeeds");
        assert_eq!(reply.version, 2);
        fresh += usize::from(!reply.duplicate);
    }
    assert_eq!(fresh, 1);
    assert_eq!(server.event_count().await, 2);
    server.stop().await;
}

async fn racing_commands_are_decided_on_fresh_state(backend: Backend) {
    let server = TestServer::start(backend).await;
    let t = Flow::receive(&server, "race-1", Some(30)).await;
    // Ten managers escalate at once with different request ids: the rule
    // "once per cycle" must hold, so exactly one wins; the others are
    // refused on the fresh state (or told to retry), never applied twice.
    let mut calls = Vec::new();
    for _ in 0..10 {
        let mut client = server.commands().await;
        let m = pb::EscalateTicketRequest {
            context: context(&t.id),
            reason: "major fault".into(),
        };
        calls.push(tokio::spawn(async move {
            client
                .escalate_ticket(as_role("service_manager", m))
                .await
                .map(|r| r.into_inner())
        }));
    }
    let mut applied = 0;
    for call in calls {
        match call.await.expect("task") {
            Ok(reply) => {
                applied += 1;
                assert_eq!(reply.version, 2);
            }
            Err(status) => assert!(
                matches!(status.code(), Code::FailedPrecondition | Code::Aborted),
                "unexpected {status:?}"
            ),
        }
    }
    assert_eq!(applied, 1);
    assert_eq!(server.event_count().await, 2);
    server.stop().await;
}

crate::on_both_stores!(
    same_request_id_twice_writes_one_event,
    concurrent_duplicates_apply_once,
    racing_commands_are_decided_on_fresh_state,
);
