//! The SLA dashboard through the API: open clocks with their status, KPI
//! figures on a fixture worked out by hand, CSV, permissions, and the
//! deadline watcher under a simulated clock (once per clock cycle, across a
//! restart and with two watchers racing), with the log still verifiable.

use chrono::{Duration, Utc};
use domain::FixedClock;
use ticketd::rpc::pb;
use ticketd::rpc::pb::sla_dashboard_client::SlaDashboardClient;
use tonic::transport::Channel;
use tonic::Code;

use crate::flow::{in_warranty_lifecycle, Flow};
use crate::helpers::{as_role, day_from_today, expect_code, receive_request, Backend, TestServer};

async fn client(server: &TestServer) -> SlaDashboardClient<Channel> {
    SlaDashboardClient::new(server.channel().await)
}

async fn open(server: &TestServer, request: pb::OpenClocksRequest) -> Vec<pb::OpenClock> {
    client(server)
        .await
        .list_open_clocks(as_role("service_manager", request))
        .await
        .expect("open clocks")
        .into_inner()
        .clocks
}

fn kpi_request(group_by: pb::KpiGroupBy) -> pb::KpiRequest {
    pb::KpiRequest {
        from_date: day_from_today(-1),
        to_date: day_from_today(1),
        group_by: group_by as i32,
    }
}

/// (group, kpi, numerator, denominator, rate, meets target)
type Figure = (String, String, i64, i64, Option<f64>, Option<bool>);

async fn kpis(server: &TestServer, group_by: pb::KpiGroupBy) -> Vec<Figure> {
    client(server)
        .await
        .get_kpis(as_role("general_manager", kpi_request(group_by)))
        .await
        .expect("kpis")
        .into_inner()
        .figures
        .into_iter()
        .map(|f| {
            (
                f.group,
                f.kpi,
                f.numerator,
                f.denominator,
                f.rate_percent,
                f.meets_target,
            )
        })
        .collect()
}

async fn complaint(server: &TestServer, id: &str) -> Flow {
    let mut request = receive_request(id, Some(30));
    request.kind = pb::TicketKind::Complaint as i32;
    let mut t = Flow::receive_with(server, request).await;
    let r = t.route_complaint(pb::ComplaintCategory::StaffConduct).await;
    t.ok(r, "ComplaintRouted");
    t
}

async fn dashboard_shows_open_clocks_and_kpis_worked_out_by_hand(backend: Backend) {
    let server = TestServer::start(backend).await;
    // Two repairs through to revisit: one resolved, one not. Both repair
    // cycles take seconds (met); both revisits are "very satisfied".
    in_warranty_lifecycle(server.commands().await, "sla-r1").await;
    let mut r2 = Flow::receive(&server, "sla-r2", Some(60)).await;
    let r = r2.contact().await;
    r2.ok(r, "CustomerContacted");
    for (step, event) in [
        (0, "WarrantyDetermined"),
        (1, "FaultDiagnosed"),
        (2, "RepairRecorded"),
        (3, "QcPassed"),
        (4, "ItemShipped"),
        (5, "ItemDelivered"),
    ] {
        let r = match step {
            0 => r2.determine_warranty().await,
            1 => r2.workshop_diagnosis().await,
            2 => r2.repair().await,
            3 => r2.pass_qc().await,
            4 => r2.ship().await,
            _ => r2.deliver().await,
        };
        r2.ok(r, event);
    }
    let r = r2.revisit(false).await;
    r2.ok(r, "CustomerRevisited");
    // Two complaints: one answered at once (on time), one still open (not
    // yet due, so not counted).
    let mut c1 = complaint(&server, "sla-c1").await;
    let r = c1.reply_to_complaint().await;
    c1.ok(r, "ComplaintReplied");
    complaint(&server, "sla-c2").await;
    // A repair just received: its service commitment runs.
    Flow::receive(&server, "sla-open", Some(60)).await;
    server.caught_up().await;

    let running = open(
        &server,
        pb::OpenClocksRequest {
            clock: "complaint_reply".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(running.len(), 1, "{running:?}");
    let c = &running[0];
    assert_eq!(
        (c.ticket_id.as_str(), c.sla_status(), c.basis.as_str()),
        ("sla-c2", pb::SlaStatus::Running, "calendar")
    );
    assert_eq!(
        (c.cycle, c.customer_region(), c.ticket_priority()),
        (1, pb::Region::Urban, pb::Priority::Normal)
    );
    // The deprecated string fields are still filled, with the same names.
    #[allow(deprecated)]
    let names = (c.status.as_str(), c.region.as_str(), c.priority.as_str());
    assert_eq!(names, ("running", "urban", "normal"));
    assert!(
        c.remaining_minutes > 47 * 60 && c.percent_used == 0,
        "{c:?}"
    );
    let commitments = open(
        &server,
        pb::OpenClocksRequest {
            clock: "service_commitment".into(),
            status: pb::SlaStatus::Running as i32,
            region: pb::Region::Urban as i32,
            priority: pb::Priority::Normal as i32,
            ..Default::default()
        },
    )
    .await;
    let ids: Vec<&str> = commitments.iter().map(|c| c.ticket_id.as_str()).collect();
    // sla-r1 was closed without a recorded first contact (a dispatch or
    // diagnosis does not stop its commitment clock): the close ended it,
    // judged by its own time, so it no longer runs. The unanswered
    // complaint has made no commitment yet.
    assert_eq!(ids, ["sla-c2", "sla-open"], "{commitments:?}");
    let r1 = open(
        &server,
        pb::OpenClocksRequest {
            ticket_id: "sla-r1".into(),
            clock: "service_commitment".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        r1.iter().map(|c| c.sla_status()).collect::<Vec<_>>(),
        [pb::SlaStatus::Met],
        "{r1:?}"
    );
    // Each enum filter filters: none of these clocks is breached, remote
    // or urgent.
    nothing_matches_breached_remote_or_urgent(&server).await;

    // One ticket's clocks, finished ones with their result.
    let answered = open(
        &server,
        pb::OpenClocksRequest {
            ticket_id: "sla-c1".into(),
            ..Default::default()
        },
    )
    .await;
    let results: Vec<(&str, pb::SlaStatus)> = answered
        .iter()
        .map(|c| (c.clock.as_str(), c.sla_status()))
        .collect();
    assert_eq!(
        results,
        [
            ("service_commitment", pb::SlaStatus::Met),
            ("complaint_reply", pb::SlaStatus::Met)
        ],
        "{answered:?}"
    );
    assert!(answered
        .iter()
        .all(|c| c.stopped_at.is_some() && c.deadline.is_some()));

    // complaint on time 1/1; resolution 1/2; satisfaction 2/2; repair on time 2/2.
    let s = |x: &str| x.to_owned();
    let expected = |group: &str| {
        vec![
            (
                s(group),
                s("complaint_on_time"),
                1,
                1,
                Some(100.0),
                Some(true),
            ),
            (s(group), s("resolution"), 1, 2, Some(50.0), Some(false)),
            (s(group), s("satisfaction"), 2, 2, Some(100.0), Some(true)),
            (s(group), s("repair_on_time"), 2, 2, Some(100.0), Some(true)),
        ]
    };
    assert_eq!(kpis(&server, pb::KpiGroupBy::All).await, expected(""));
    assert_eq!(
        kpis(&server, pb::KpiGroupBy::Region).await,
        expected("urban")
    );
    // Per technician: both repairs were the technician's; the complaint
    // had no technician.
    let by_tech = kpis(&server, pb::KpiGroupBy::Technician).await;
    let repair = by_tech
        .iter()
        .find(|f| f.1 == "repair_on_time")
        .expect("repair figure");
    assert!(
        !repair.0.is_empty() && (repair.2, repair.3) == (2, 2),
        "{by_tech:?}"
    );
    let complaint = by_tech
        .iter()
        .find(|f| f.1 == "complaint_on_time")
        .expect("complaint figure");
    assert_eq!((complaint.0.as_str(), complaint.2, complaint.3), ("", 1, 1));
    // The weekly trend: ISO weeks.
    let weekly = kpis(&server, pb::KpiGroupBy::Week).await;
    assert!(
        !weekly.is_empty() && weekly.iter().all(|f| f.0.len() == 8 && f.0.contains("-W")),
        "{weekly:?}"
    );

    // A rebuild from position 0 gives identical figures.
    let before = (
        by_tech,
        open(&server, pb::OpenClocksRequest::default()).await.len(),
    );
    let db = server.open_db().await;
    crate::helpers::rebuild(&db, Some("sla"))
        .await
        .expect("rebuild");
    db.close().await;
    let after = (
        kpis(&server, pb::KpiGroupBy::Technician).await,
        open(&server, pb::OpenClocksRequest::default()).await.len(),
    );
    assert_eq!(after, before);

    let csv = client(&server)
        .await
        .export_kpis_csv(as_role("service_manager", kpi_request(pb::KpiGroupBy::All)))
        .await
        .expect("csv")
        .into_inner();
    let text = String::from_utf8(csv.content).expect("utf-8");
    assert!(
        text.starts_with(
            "group,kpi,numerator,denominator,rate_percent,target_percent,meets_target\r\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(",resolution,1,2,50.00,95,false\r\n"),
        "{text}"
    );
    let csv = client(&server)
        .await
        .export_open_clocks_csv(as_role("auditor", pb::OpenClocksRequest::default()))
        .await
        .expect("csv")
        .into_inner();
    assert_eq!(csv.file_name, "sla-open-clocks.csv");

    expect_code(
        client(&server)
            .await
            .list_open_clocks(as_role("technician", pb::OpenClocksRequest::default()))
            .await,
        Code::PermissionDenied,
    );
    unknown_enum_numbers_are_refused_naming_the_field(&server).await;
    server.stop().await;
}

async fn nothing_matches_breached_remote_or_urgent(server: &TestServer) {
    for request in [
        pb::OpenClocksRequest {
            status: pb::SlaStatus::Breached as i32,
            ..Default::default()
        },
        pb::OpenClocksRequest {
            region: pb::Region::Remote as i32,
            ..Default::default()
        },
        pb::OpenClocksRequest {
            priority: pb::Priority::Urgent as i32,
            ..Default::default()
        },
    ] {
        let found = open(server, request.clone()).await;
        assert!(found.is_empty(), "{request:?}: {found:?}");
    }
}

/// An enum number the proto does not define is refused, naming the field.
async fn unknown_enum_numbers_are_refused_naming_the_field(server: &TestServer) {
    for (field, bad) in [
        (
            "status",
            pb::OpenClocksRequest {
                status: 99,
                ..Default::default()
            },
        ),
        (
            "region",
            pb::OpenClocksRequest {
                region: 4,
                ..Default::default()
            },
        ),
        (
            "priority",
            pb::OpenClocksRequest {
                priority: -3,
                ..Default::default()
            },
        ),
    ] {
        let status = expect_code(
            client(server)
                .await
                .list_open_clocks(as_role("service_manager", bad))
                .await,
            Code::InvalidArgument,
        );
        assert!(
            status.message().starts_with(field) && status.message().contains("unknown value"),
            "{status:?}"
        );
    }
}

async fn alert_count(server: &TestServer) -> Vec<String> {
    let db = server.open_db().await;
    let rows: Vec<String> = match &db {
        ticketd::store::Pool::Postgres(pool) => sqlx::query_scalar(
            "SELECT event_type FROM events WHERE aggregate_type = 'SlaClock' ORDER BY sequence",
        )
        .fetch_all(pool)
        .await
        .expect("alerts"),
        ticketd::store::Pool::Sqlite(pool) => sqlx::query_scalar(
            "SELECT event_type FROM events WHERE aggregate_type = 'SlaClock' ORDER BY sequence",
        )
        .fetch_all(pool)
        .await
        .expect("alerts"),
    };
    db.close().await;
    rows
}

async fn the_watcher_alerts_once_per_clock_cycle_across_a_restart(backend: Backend) {
    let mut server = TestServer::start(backend).await;
    // Mail-in, normal: only the 24-hour service commitment runs.
    Flow::receive(&server, "sla-w1", Some(60)).await;
    server.caught_up().await;
    let received = Utc::now();
    let clock = FixedClock::at(received + Duration::hours(19));
    let db = server.open_db().await;
    assert_eq!(
        ticketd::sla::watch_once(&db, &clock).await.expect("watch"),
        1,
        "at risk past 18 h"
    );
    assert_eq!(
        ticketd::sla::watch_once(&db, &clock).await.expect("watch"),
        0,
        "not twice"
    );
    server.caught_up().await;
    let at_risk = open(&server, pb::OpenClocksRequest::default()).await;
    assert_eq!(at_risk.len(), 1);

    clock.set(received + Duration::hours(25));
    // Two watchers (two processes) race for the breach: one writes it.
    let other = server.open_db().await;
    let (a, b) = tokio::join!(
        ticketd::sla::watch_once(&db, &clock),
        ticketd::sla::watch_once(&other, &clock)
    );
    assert_eq!(a.expect("watch") + b.expect("watch"), 1, "one breach alert");
    db.close().await;
    other.close().await;

    server.restart().await;
    server.caught_up().await;
    let db = server.open_db().await;
    clock.set(received + Duration::hours(30));
    assert_eq!(
        ticketd::sla::watch_once(&db, &clock).await.expect("watch"),
        0,
        "nothing after a restart"
    );
    db.close().await;
    assert_eq!(alert_count(&server).await, ["SlaAtRisk", "SlaBreached"]);

    // A rebuild finds the alerts in the log again: nothing is owed.
    let db = server.open_db().await;
    crate::helpers::rebuild(&db, Some("sla"))
        .await
        .expect("rebuild");
    assert_eq!(
        ticketd::sla::watch_once(&db, &clock).await.expect("watch"),
        0,
        "nothing after a rebuild"
    );
    db.close().await;

    // Subscribers see them like any event, and the log still verifies.
    let verified = server
        .audit()
        .await
        .verify(pb::VerifyRequest::default())
        .await
        .expect("verify")
        .into_inner();
    assert!(verified.intact, "{verified:?}");
    server.stop().await;
}

crate::on_both_stores!(
    dashboard_shows_open_clocks_and_kpis_worked_out_by_hand,
    the_watcher_alerts_once_per_clock_cycle_across_a_restart,
);
