//! ListTickets: filters and paging over the ticket summary projection.

use std::time::Duration;

use ticketd::rpc::pb;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{expect_code, receive_request, Backend, TestServer};

/// Lists until the projection has caught up to `expected` rows (it follows
/// the log asynchronously), for at most five seconds.
async fn list_until(
    server: &TestServer,
    request: pb::ListTicketsRequest,
    expected: usize,
) -> pb::ListTicketsResponse {
    let mut q = server.queries().await;
    for _ in 0..100 {
        let page = q
            .list_tickets(request.clone())
            .await
            .expect("list")
            .into_inner();
        if page.tickets.len() == expected {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("list never reached {expected} rows for {request:?}");
}

async fn list_filters_and_pages(backend: Backend) {
    let server = TestServer::start(backend).await;
    for i in 0..5 {
        let mut request = receive_request(&format!("list-{i}"), Some(400));
        if i == 4 {
            if let Some(p) = request.product.as_mut() {
                p.model = "DW-200".into();
            }
            if let Some(c) = request.customer.as_mut() {
                c.name = "Han Meimei".into();
                c.phone = "+86 139 0000 4444".into();
            }
        }
        let mut t = Flow::receive_with(&server, request).await;
        if i < 2 {
            let r = t.determine_warranty().await;
            t.ok(r, "WarrantyDetermined");
            let r = t.workshop_diagnosis().await;
            t.ok(r, "FaultDiagnosed");
        }
    }

    let all = list_until(&server, pb::ListTicketsRequest::default(), 5).await;
    assert!(all.next_page_token.is_empty());

    let diagnosed = list_until(
        &server,
        pb::ListTicketsRequest {
            statuses: vec![pb::TicketStatus::Diagnosed as i32],
            ..Default::default()
        },
        2,
    )
    .await;
    assert!(diagnosed
        .tickets
        .iter()
        .all(|t| t.technician == "technician-1" && t.version == 3));

    let by_model = list_until(
        &server,
        pb::ListTicketsRequest {
            product_model: "DW-200".into(),
            ..Default::default()
        },
        1,
    )
    .await;
    assert_eq!(by_model.tickets[0].ticket_id, "list-4");
    // A customer is found by phone number (only its digits count, the
    // country code's too) or by id, never by name: names are sealed
    // (docs/PRIVACY.md).
    let by_phone = list_until(
        &server,
        pb::ListTicketsRequest {
            customer: "+86-139-0000-4444".into(),
            ..Default::default()
        },
        1,
    )
    .await;
    assert_eq!(by_phone.tickets[0].ticket_id, "list-4");
    assert_eq!(by_phone.tickets[0].customer_name, "Han Meimei");
    let same_customer = list_until(
        &server,
        pb::ListTicketsRequest {
            customer: "+86 138 0013 8000".into(),
            ..Default::default()
        },
        4,
    )
    .await;
    assert!(same_customer
        .tickets
        .iter()
        .all(|t| t.customer_name == "Li Lei"));
    let by_name = list_until(
        &server,
        pb::ListTicketsRequest {
            customer: "meimei".into(),
            ..Default::default()
        },
        0,
    )
    .await;
    assert!(by_name.tickets.is_empty());
    let by_serial = list_until(
        &server,
        pb::ListTicketsRequest {
            serial_number: "SN-list-2".into(),
            ..Default::default()
        },
        1,
    )
    .await;
    assert_eq!(by_serial.tickets[0].ticket_id, "list-2");
    let by_technician = list_until(
        &server,
        pb::ListTicketsRequest {
            technician: "technician-1".into(),
            ..Default::default()
        },
        2,
    )
    .await;
    assert_eq!(by_technician.tickets.len(), 2);
    let future = list_until(
        &server,
        pb::ListTicketsRequest {
            received_from: Some(prost_types::Timestamp {
                seconds: chrono::Utc::now().timestamp() + 3_600,
                nanos: 0,
            }),
            ..Default::default()
        },
        0,
    )
    .await;
    assert!(future.tickets.is_empty());

    // Pages of two, newest first, cover all five exactly once.
    let mut q = server.queries().await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = q
            .list_tickets(pb::ListTicketsRequest {
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        assert!(page.tickets.len() <= 2);
        seen.extend(page.tickets.into_iter().map(|t| t.ticket_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, vec!["list-4", "list-3", "list-2", "list-1", "list-0"]);

    expect_code(
        q.list_tickets(pb::ListTicketsRequest {
            page_size: 501,
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
    );
    expect_code(
        q.list_tickets(pb::ListTicketsRequest {
            page_token: "garbage".into(),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
    );
    expect_code(
        q.list_tickets(pb::ListTicketsRequest {
            statuses: vec![77],
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
    );
    server.stop().await;
}

crate::on_both_stores!(list_filters_and_pages);
