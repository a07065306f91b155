//! After a restart every ticket's state and version are unchanged.

use ticketd::rpc::pb;

use crate::flow::Flow;
use crate::helpers::{Backend, TestServer};

async fn tickets(server: &TestServer, ids: &[String]) -> Vec<pb::Ticket> {
    let mut q = server.queries().await;
    let mut out = Vec::new();
    for id in ids {
        out.push(
            q.get_ticket(pb::GetTicketRequest {
                ticket_id: id.clone(),
            })
            .await
            .expect("ticket")
            .into_inner(),
        );
    }
    out
}

async fn restart_keeps_every_ticket_as_it_was(backend: Backend) {
    let mut server = TestServer::start(backend).await;
    let mut ids = Vec::new();
    for (i, steps) in [0, 2, 5].into_iter().enumerate() {
        let mut t = Flow::receive(&server, &format!("restart-{i}"), Some(400)).await;
        if steps >= 2 {
            let r = t.determine_warranty().await;
            t.ok(r, "WarrantyDetermined");
            let r = t.workshop_diagnosis().await;
            t.ok(r, "FaultDiagnosed");
        }
        if steps >= 5 {
            let r = t.quote(80_000).await;
            t.ok(r, "RepairQuoted");
            let r = t.approve_quote("service_manager").await;
            t.ok(r, "QuoteApproved");
            let r = t.accept().await;
            t.ok(r, "QuoteAccepted");
        }
        ids.push(t.id.clone());
    }
    let before = tickets(&server, &ids).await;
    let events = server.event_count().await;
    server.restart().await;
    let after = tickets(&server, &ids).await;
    assert_eq!(before, after);
    assert_eq!(
        after.iter().map(|t| t.version).collect::<Vec<_>>(),
        vec![1, 3, 6]
    );
    assert_eq!(server.event_count().await, events);
    // And it carries on from where it was.
    let mut t = Flow::at(server.commands().await, &ids[2], 6);
    let r = t.repair().await;
    t.ok(r, "RepairRecorded");
    server.stop().await;
}

crate::on_both_stores!(restart_keeps_every_ticket_as_it_was);
