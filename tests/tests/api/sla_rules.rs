//! Factory time and extensions in the repair-cycle clock (000 第五篇
//! 1.3.3), through the API on both stores: paused while the item is at
//! the factory; an extension moves the deadline to the new due date.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use ticketd::rpc::pb;
use ticketd::rpc::pb::sla_dashboard_client::SlaDashboardClient;

use crate::flow::Flow;
use crate::helpers::{as_role, day_from_today, Backend, TestServer};

async fn repair_cycle(server: &TestServer, id: &str) -> pb::OpenClock {
    server.caught_up().await;
    let request = pb::OpenClocksRequest {
        ticket_id: id.into(),
        clock: "repair_cycle".into(),
        ..Default::default()
    };
    let clocks = SlaDashboardClient::new(server.channel().await)
        .list_open_clocks(as_role("service_manager", request))
        .await
        .expect("clocks")
        .into_inner()
        .clocks;
    assert_eq!(clocks.len(), 1, "{clocks:?}");
    clocks.into_iter().next().expect("one clock")
}

fn seconds(t: &Option<prost_types::Timestamp>) -> i64 {
    t.as_ref().map_or(0, |t| t.seconds)
}

async fn the_repair_cycle_pauses_at_the_factory_and_moves_with_an_extension(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "sla-factory", Some(60)).await;
    let r = t.take_in("R-F1").await;
    t.ok(r, "ItemTakenIn");
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let r = t.send_to_factory().await;
    t.ok(r, "SentToFactory");
    assert_eq!(
        repair_cycle(&server, &t.id).await.sla_status(),
        pb::SlaStatus::Paused
    );
    let r = t.receive_from_factory(pb::FactoryOutcome::Repaired).await;
    t.ok(r, "ReturnedFromFactory");
    let before = repair_cycle(&server, &t.id).await;
    assert_eq!(before.sla_status(), pb::SlaStatus::Running);

    // Extended to 40 days from today: the deadline moves to the end of
    // that day's working hours (Asia/Shanghai), far beyond 7 working days.
    let r = t.extend_cycle(40).await;
    t.ok(r, "RepairCycleExtended");
    let after = repair_cycle(&server, &t.id).await;
    let due: NaiveDate = day_from_today(40).parse().expect("date");
    let midnight_after = Utc.from_utc_datetime(
        &due.succ_opt()
            .expect("day")
            .and_hms_opt(0, 0, 0)
            .expect("t"),
    ) - Duration::hours(8);
    assert!(seconds(&after.deadline) > seconds(&before.deadline) + 20 * 86_400);
    assert!(seconds(&after.deadline) <= midnight_after.timestamp());
    assert!(
        // A weekend or the longest holiday (9 days) may come before it.
        seconds(&after.deadline) > midnight_after.timestamp() - 12 * 86_400,
        "{after:?}"
    );
    server.stop().await;
}

crate::on_both_stores!(the_repair_cycle_pauses_at_the_factory_and_moves_with_an_extension);
