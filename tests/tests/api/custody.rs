//! Custody of the item through the API, on both stores: taken in against a
//! receipt, listed while held (since when, where), handed back only against
//! that receipt.

use ticketd::rpc::pb;
use tonic::Code;

use crate::flow::{Flow, Reply};
use crate::helpers::{as_role, expect_code, Backend, TestServer};

impl Flow {
    pub async fn take_in(&mut self, receipt: &str) -> Reply {
        let m = pb::TakeInItemRequest {
            context: self.ctx(),
            receipt_number: receipt.into(),
            condition: "scratch on the lid; power cord included".into(),
            location: "Hangzhou service point".into(),
            bin: "B3".into(),
        };
        let r = self
            .client
            .take_in_item(as_role("customer_service", m))
            .await;
        r.map(tonic::Response::into_inner)
    }

    pub async fn hand_back(&mut self, receipt: &str) -> Reply {
        let m = pb::HandBackItemRequest {
            context: self.ctx(),
            receipt_number: receipt.into(),
        };
        let r = self
            .client
            .hand_back_item(as_role("customer_service", m))
            .await;
        r.map(tonic::Response::into_inner)
    }
}

async fn held(server: &TestServer, location: &str) -> Vec<pb::ItemInCustody> {
    let mut q = server.queries().await;
    let request = pb::ListItemsInCustodyRequest {
        location: location.into(),
    };
    q.list_items_in_custody(request)
        .await
        .expect("custody list")
        .into_inner()
        .items
}

async fn an_item_is_held_against_its_receipt_and_handed_back_with_it(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "custody-1", Some(60)).await;
    let r = t.take_in("R-1").await;
    t.ok(r, "ItemTakenIn");
    // Taken in twice: refused naming the receipt, nothing written.
    let events = server.event_count().await;
    let status = expect_code(t.take_in("R-2").await, Code::FailedPrecondition);
    assert!(status.message().contains("R-1"), "{status:?}");
    assert_eq!(server.event_count().await, events);

    let items = held(&server, "").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].ticket_id, "custody-1");
    assert_eq!(items[0].receipt_number, "R-1");
    assert_eq!(items[0].location, "Hangzhou service point");
    assert!(items[0].since.is_some());

    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let r = t.send_to_factory().await;
    t.ok(r, "SentToFactory");
    // Where it is now: the factory.
    assert_eq!(held(&server, "Ningbo plant").await.len(), 1);
    assert!(held(&server, "Hangzhou service point").await.is_empty());
    let r = t.receive_from_factory(pb::FactoryOutcome::Repaired).await;
    t.ok(r, "ReturnedFromFactory");
    assert_eq!(held(&server, "Hangzhou service point").await.len(), 1);
    let r = t.pass_qc().await;
    t.ok(r, "QcPassed");

    // Another receipt does not reclaim it.
    let events = server.event_count().await;
    let status = expect_code(t.hand_back("R-9").await, Code::FailedPrecondition);
    assert!(
        status.message().contains("R-9") && status.message().contains("R-1"),
        "{status:?}"
    );
    assert_eq!(server.event_count().await, events);
    let r = t.hand_back("R-1").await;
    t.ok(r, "ItemHandedBack");
    assert!(held(&server, "").await.is_empty());
    server.stop().await;
}

crate::on_both_stores!(an_item_is_held_against_its_receipt_and_handed_back_with_it);
