//! The installed base, Weibull analysis and trends through the API on both
//! stores (issue #19).
//!
//! Fixture: the NIST/SEMATECH e-Handbook §8.4.1.3 life data (20 units; 10
//! failures at 54, 187, 216, 240, 244, 335, 361, 373, 375 and 386 days;
//! 10 still running at 500 days; published ML estimates β = 1.7208,
//! η = 606.5280) as an installed base of model WB-100, batch N1: ten
//! serialised units sold `t` days ago, and an unserialised lot of 10 sold
//! 500 days ago. Each of the ten fails today (a diagnosed ticket). A WM-800
//! unit known only from a ticket (bought 60 days ago) fails too.
//!
//! MTBF, WB-100: 20 units, 54 + … + 386 = 2771 days of the failed units +
//! 10 × 500 = 7771 unit-days, 10 failures: MTBF 777.1 days, 1.287 failures
//! per 1,000 unit-days. WM-800: 1 unit, 60 unit-days, 1 failure: 60.0, 16.667.

use ticketd::rpc::pb;
use ticketd::rpc::pb::fracas_client::FracasClient;
use tonic::transport::Channel;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{as_role, day_from_today, expect_code, receive_request, Backend, TestServer};

const AGES: [i64; 10] = [54, 187, 216, 240, 244, 335, 361, 373, 375, 386];

async fn client(server: &TestServer) -> FracasClient<Channel> {
    FracasClient::new(server.channel().await)
}

fn unit(serial: &str, quantity: u64, days_ago: i64) -> pb::InstalledUnit {
    pb::InstalledUnit {
        product_model: "WB-100".into(),
        batch: "N1".into(),
        serial: serial.into(),
        quantity,
        date: day_from_today(-days_ago),
        date_kind: "shipped".into(),
    }
}

async fn register(
    c: &mut FracasClient<Channel>,
    units: Vec<pb::InstalledUnit>,
) -> Result<tonic::Response<pb::RegisterUnitsReply>, tonic::Status> {
    c.register_units(as_role(
        "reliability_engineer",
        pb::RegisterUnitsRequest { units },
    ))
    .await
}

/// A WB-100 ticket for `serial`, diagnosed today with a relevant cause.
async fn fails_today(server: &TestServer, serial: &str, days_ago: i64) {
    let mut request = receive_request(&format!("wb-{serial}"), Some(days_ago));
    let product = request.product.as_mut().expect("product");
    product.model = "WB-100".into();
    product.batch = "N1".into();
    product.serial_number = serial.into();
    let mut t = Flow::receive_with(server, request).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t
        .diagnose(pb::RootCause::Manufacturing, pb::RepairPath::WorkshopRepair)
        .await;
    t.ok(r, "FaultDiagnosed");
}

async fn rows(server: &TestServer, request: pb::FracasReportRequest) -> Vec<Vec<String>> {
    client(server)
        .await
        .run_report(as_role("reliability_engineer", request))
        .await
        .expect("report")
        .into_inner()
        .rows
        .into_iter()
        .map(|r| r.cells)
        .collect()
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

async fn installed_base_feeds_mtbf_weibull_and_trends(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut c = client(&server).await;

    // A bad unit refuses the whole call, naming it; nothing is written.
    let mut bad = vec![unit("F1", 0, 54), unit("F2", 2, 187)];
    let status = expect_code(register(&mut c, bad.clone()).await, Code::InvalidArgument);
    assert!(
        status.message().starts_with("units[1].quantity"),
        "{status:?}"
    );
    bad[0].date = day_from_today(1);
    let status = expect_code(register(&mut c, bad).await, Code::InvalidArgument);
    assert!(status.message().starts_with("units[0].date"), "{status:?}");
    let status = expect_code(
        c.register_units(as_role(
            "technician",
            pb::RegisterUnitsRequest {
                units: vec![unit("F1", 0, 54)],
            },
        ))
        .await,
        Code::PermissionDenied,
    );
    assert!(status.message().contains("technician"));

    let mut units: Vec<_> = AGES
        .iter()
        .enumerate()
        .map(|(i, t)| unit(&format!("F{i}"), 0, *t))
        .collect();
    units.push(unit("", 10, 500));
    let reply = register(&mut c, units).await.expect("registered");
    assert_eq!(reply.into_inner().registered, 11);

    for (i, t) in AGES.iter().enumerate() {
        fails_today(&server, &format!("F{i}"), *t).await;
    }
    let mut t = Flow::receive(&server, "wm-1", Some(60)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t
        .diagnose(pb::RootCause::Manufacturing, pb::RepairPath::WorkshopRepair)
        .await;
    t.ok(r, "FaultDiagnosed");
    server.caught_up().await;

    let mtbf = rows(
        &server,
        pb::FracasReportRequest {
            report: pb::FracasReport::MtbfByModel as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        mtbf,
        vec![
            strings(&["WB-100", "", "20", "7771", "10", "777.1", "1.287"]),
            strings(&["WM-800", "", "1", "60", "1", "60.0", "16.667"]),
        ]
    );

    weibull_matches_nist(&mut c).await;
    trends_follow_the_installed_base(&server).await;
    server.stop().await;
}

async fn weibull_matches_nist(c: &mut FracasClient<Channel>) {
    let reply = c
        .analyze_weibull(as_role(
            "auditor",
            pb::WeibullRequest {
                filter: Some(pb::FailureFilter {
                    product_model: "WB-100".into(),
                    ..Default::default()
                }),
                by_batch: true,
                ages_days: vec![100.0],
                ..Default::default()
            },
        ))
        .await
        .expect("weibull")
        .into_inner();
    assert!((reply.confidence - 0.9).abs() < 1e-12);
    assert_eq!(reply.analyses.len(), 1);
    let a = &reply.analyses[0];
    assert_eq!(
        (
            a.product_model.as_str(),
            a.batch.as_str(),
            a.failures,
            a.suspensions
        ),
        ("WB-100", "N1", 10, 10)
    );
    let value = |b: &Option<pb::Bounds>| b.as_ref().expect("bounds").value;
    // NIST: β = 1.7208, η = 606.5280 (4 decimals published).
    assert!((value(&a.beta) - 1.7208).abs() < 0.0001, "{a:?}");
    assert!((value(&a.eta_days) - 606.528).abs() < 0.01, "{a:?}");
    assert!((value(&a.b10_days) - 164.022).abs() < 0.01, "{a:?}");
    let r = a.reliability[0].reliability.as_ref().expect("r");
    assert!((r.value - 0.95603).abs() < 1e-5 && r.lower < r.value && r.value < r.upper);
    assert_eq!(a.plot.len(), 10);
    assert!((a.plot[0].median_rank - 0.7 / 20.4).abs() < 1e-9);

    let status = expect_code(
        c.analyze_weibull(as_role(
            "auditor",
            pb::WeibullRequest {
                confidence: 1.5,
                ..Default::default()
            },
        ))
        .await,
        Code::InvalidArgument,
    );
    assert!(status.message().starts_with("confidence"), "{status:?}");
}

async fn trends_follow_the_installed_base(server: &TestServer) {
    let today = day_from_today(0);
    let month = &today[..7];
    let request = |report: pb::FracasReport| pb::FracasReportRequest {
        report: report as i32,
        filter: Some(pb::FailureFilter {
            product_model: "WB-100".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    // This month so far (the last row): the ten failures; every unit was
    // in service on each day of this month before today.
    let days_this_month: i64 = today[8..].parse::<i64>().expect("day") - 1;
    let trend = rows(server, request(pb::FracasReport::FailureRateTrendByBatch)).await;
    let last = trend.last().expect("a row");
    assert_eq!(
        last[..6],
        strings(&[
            "WB-100",
            "N1",
            month,
            if days_this_month > 0 { "20" } else { "0" },
            &(20 * days_this_month).to_string(),
            "10",
        ])[..6]
    );
    let pareto = rows(server, request(pb::FracasReport::ModeParetoByPeriod)).await;
    assert_eq!(
        pareto,
        vec![strings(&[
            month,
            "WB-100",
            "MOTOR-OPEN",
            "10",
            "100.0",
            "100.0"
        ])]
    );
    let csv = client(server)
        .await
        .export_report_csv(as_role(
            "reliability_engineer",
            request(pb::FracasReport::FailureRateTrendByBatch),
        ))
        .await
        .expect("csv")
        .into_inner();
    assert!(
        csv.file_name.contains("failure-rate-trend-by-batch"),
        "{csv:?}"
    );
}

async fn import_units_writes_all_lines_or_none(backend: Backend) {
    let server = TestServer::start(backend).await;
    let db = server.open_db().await;
    let now = chrono::Utc::now();
    let bad = "product_model,serial,quantity,date\nWB-100,S1,,2026-01-01\nWB-100,,,\nWB-100,S1,,\n";
    let err = ticketd::units::import(&db, bad, now, crate::helpers::local_time())
        .await
        .expect_err("refused");
    assert_eq!(
        err,
        ticketd::units::ImportError::BadLines(vec![
            "line 3: quantity: required (1 or more) for a unit without a serial".into(),
            "line 4: serial: S1 is registered twice (first at line 2)".into(),
        ])
    );
    let good = "product_model,batch,serial,quantity,date,date_kind\nWB-100,N1,S1,,2026-01-01,sold\nWB-100,N1,,25,2026-01-01,shipped\n";
    assert_eq!(
        ticketd::units::import(&db, good, now, crate::helpers::local_time()).await,
        Ok(2)
    );
    // Importing the same file again replaces the rows, it adds none.
    assert_eq!(
        ticketd::units::import(&db, good, now, crate::helpers::local_time()).await,
        Ok(2)
    );
    db.close().await;
    let mtbf_as_of = |server| {
        rows(
            server,
            pb::FracasReportRequest {
                report: pb::FracasReport::MtbfByModel as i32,
                as_of: "2026-01-11".into(),
                ..Default::default()
            },
        )
    };
    let mtbf = mtbf_as_of(&server).await;
    assert_eq!(
        mtbf,
        vec![strings(&["WB-100", "", "26", "260", "0", "", "0.000"])]
    );

    // One call that names a serial twice is refused, naming the entry,
    // and changes nothing: S1 keeps its date.
    let twice = |date: &str| pb::InstalledUnit {
        date: date.into(),
        date_kind: "sold".into(),
        ..unit("S1", 0, 0)
    };
    let mut c = client(&server).await;
    let status = expect_code(
        register(&mut c, vec![twice("2026-01-01"), twice("2026-01-06")]).await,
        Code::InvalidArgument,
    );
    assert_eq!(
        status.message(),
        "units[1].serial S1 is registered twice (first at units[0])"
    );
    let again = mtbf_as_of(&server).await;
    assert_eq!(again, mtbf);
    server.stop().await;
}

crate::on_both_stores!(
    installed_base_feeds_mtbf_weibull_and_trends,
    import_units_writes_all_lines_or_none,
);
