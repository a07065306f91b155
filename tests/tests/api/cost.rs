//! The cost ledger through the API: three fixtures whose figures are worked
//! out by hand (default cost policy: labour 80.00/h, shipping 30.00; the
//! flow's repair uses one MTR-100 at 350.00 and 90 minutes), its reports,
//! CSV, permissions, and a rebuild that gives identical figures.

use ticketd::rpc::pb;
use ticketd::rpc::pb::cost_ledger_client::CostLedgerClient;
use tonic::transport::Channel;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{as_role, expect_code, Backend, TestServer};

async fn client(server: &TestServer) -> CostLedgerClient<Channel> {
    CostLedgerClient::new(server.channel().await)
}

async fn report(server: &TestServer, report: pb::CostReport) -> Vec<Vec<String>> {
    let mut c = client(server).await;
    let request = pb::ReportRequest {
        report: report as i32,
        product_model: "WM-800".into(),
        ..Default::default()
    };
    c.run_report(as_role("finance", request))
        .await
        .expect("report")
        .into_inner()
        .rows
        .into_iter()
        .map(|r| r.cells)
        .collect()
}

async fn all_reports(server: &TestServer) -> Vec<Vec<Vec<String>>> {
    let mut out = Vec::new();
    for kind in [
        pb::CostReport::Lines,
        pb::CostReport::WarrantyBySaleMonth,
        pb::CostReport::WarrantyByRepairMonth,
        pb::CostReport::SupplierRecoveries,
        pb::CostReport::GoodwillByApprover,
        pb::CostReport::PartsByMonth,
        pb::CostReport::QuoteVsActual,
        pb::CostReport::Billing,
    ] {
        out.push(report(server, kind).await);
    }
    out
}

async fn warranty_repair(server: &TestServer, id: &str, root_cause: pb::RootCause) -> Flow {
    let mut t = Flow::receive(server, id, Some(60)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.diagnose(root_cause, pb::RepairPath::WorkshopRepair).await;
    t.ok(r, "FaultDiagnosed");
    let r = t.repair().await;
    t.ok(r, "RepairRecorded");
    let r = t.pass_qc().await;
    t.ok(r, "QcPassed");
    let r = t.ship().await;
    t.ok(r, "ItemShipped");
    t
}

/// The quote-versus-actual report (read from its roll-up) is, per line
/// kind, the sum of what each ticket's ledger (worked out from its events)
/// quotes and spends.
async fn quote_vs_actual_adds_up_the_tickets_ledgers(server: &TestServer, ids: &[&str]) {
    let mut expected: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for id in ids {
        let ledger = client(server)
            .await
            .get_ticket_ledger(as_role(
                "finance",
                pb::GetTicketLedgerRequest {
                    ticket_id: (*id).into(),
                },
            ))
            .await
            .expect("ledger")
            .into_inner();
        for k in ledger.quote_vs_actual {
            #[allow(deprecated)]
            let kind = k.kind.clone();
            let minor = |m: Option<pb::Money>| m.map_or(0, |m| m.minor_units);
            let sums = expected.entry(kind).or_default();
            sums.0 += minor(k.quoted);
            sums.1 += minor(k.actual);
        }
    }
    let expected: Vec<Vec<String>> = expected
        .into_iter()
        .map(|(kind, (q, a))| {
            let cells = [kind, "CNY".into(), q.to_string(), a.to_string()];
            let mut row = cells.to_vec();
            row.push((a - q).to_string());
            row
        })
        .collect();
    assert!(
        expected.iter().any(|r| r[2] != "0"),
        "a quote is in the fixtures"
    );
    let report = report(server, pb::CostReport::QuoteVsActual).await;
    assert_eq!(report, expected);
}

/// The Lines report's region and bearer filters (enums): the fixtures are
/// urban and have one goodwill line.
async fn lines_filter_by_region_and_bearer(server: &TestServer) {
    let lines = |region: pb::Region, bearer: pb::CostBearer| pb::ReportRequest {
        report: pb::CostReport::Lines as i32,
        region: region as i32,
        bearer: bearer as i32,
        ..Default::default()
    };
    let run = |request: pb::ReportRequest| async move {
        client(server)
            .await
            .run_report(as_role("finance", request))
            .await
            .expect("lines")
            .into_inner()
    };
    let goodwill_lines = run(lines(pb::Region::Urban, pb::CostBearer::Goodwill)).await;
    let bearers: Vec<&str> = goodwill_lines
        .rows
        .iter()
        .map(|r| r.cells[4].as_str())
        .collect();
    assert_eq!(bearers, ["goodwill"], "{goodwill_lines:?}");
    let every_line = run(lines(pb::Region::Unspecified, pb::CostBearer::Unspecified)).await;
    assert!(every_line.rows.len() > 1, "{every_line:?}");
    let remote = run(lines(pb::Region::Remote, pb::CostBearer::Unspecified)).await;
    assert!(remote.rows.is_empty(), "{remote:?}");
}

async fn ledger_figures_match_the_hand_worked_fixtures(backend: Backend) {
    let server = TestServer::start(backend).await;
    warranty_repair(&server, "cost-warranty", pb::RootCause::Manufacturing).await;
    warranty_repair(&server, "cost-supplier", pb::RootCause::SupplierPart).await;

    // Out of warranty (no receipt), quoted 1,500.00 (tier 2), 200.00 waived.
    let mut w = Flow::receive(&server, "cost-waiver", None).await;
    let r = w.determine_warranty().await;
    w.ok(r, "WarrantyDetermined");
    let r = w.workshop_diagnosis().await;
    w.ok(r, "FaultDiagnosed");
    let r = w.quote(150_000).await;
    w.ok(r, "RepairQuoted");
    let r = w.approve_quote("sales_vp").await;
    w.ok(r, "QuoteApproved");
    let r = w.waive(20_000, "sales_vp").await;
    w.ok(r, "FeeWaiverApproved");
    let r = w.accept().await;
    w.ok(r, "QuoteAccepted");
    let r = w.repair().await;
    w.ok(r, "RepairRecorded");
    let r = w.pass_qc().await;
    w.ok(r, "QcPassed");
    let r = w.ship().await;
    w.ok(r, "ItemShipped");
    // The accepted quote less the waiver: 1,500.00 - 200.00.
    let r = w.invoice(130_000).await;
    w.ok(r, "InvoiceIssued");
    let r = w.pay(10_000).await;
    w.ok(r, "PaymentRecorded");

    // One ticket, straight from its events.
    let mut c = client(&server).await;
    let ledger = c
        .get_ticket_ledger(as_role(
            "finance",
            pb::GetTicketLedgerRequest {
                ticket_id: "cost-waiver".into(),
            },
        ))
        .await
        .expect("ledger")
        .into_inner();
    let total = |bearer: pb::CostBearer| {
        ledger
            .totals
            .iter()
            .find(|t| t.cost_bearer() == bearer)
            .and_then(|t| t.amount.as_ref())
            .map_or(0, |m| m.minor_units)
    };
    // Customer lines 350 + 120 + 30 = 500.00, of which 200.00 goodwill.
    assert_eq!(
        (
            total(pb::CostBearer::Customer),
            total(pb::CostBearer::Goodwill),
            total(pb::CostBearer::Company)
        ),
        (30_000, 20_000, 0)
    );
    let parts = ledger
        .quote_vs_actual
        .iter()
        .find(|k| k.line_kind() == pb::CostLineKind::Parts)
        .expect("parts compared");
    // Quoted 1,380.00 for parts, actual 350.00.
    assert_eq!(parts.variance_minor, 35_000 - 138_000);
    let goodwill = ledger
        .lines
        .iter()
        .find(|l| l.cost_bearer() == pb::CostBearer::Goodwill)
        .expect("goodwill line");
    assert_eq!(goodwill.approver, "sales_vp-1");
    // The deprecated string fields are still filled, with the same names.
    #[allow(deprecated)]
    let names = (goodwill.bearer.as_str(), parts.kind.as_str());
    assert_eq!(names, ("goodwill", "parts"));
    assert_eq!(goodwill.tier(), pb::ApprovalTier::Tier2);
    assert_eq!(ledger.outstanding.map(|m| m.minor_units), Some(120_000));

    // Roll-ups, from the read model once it has caught up.
    server.caught_up().await;
    let cohort = report(&server, pb::CostReport::WarrantyBySaleMonth).await;
    // Company: warranty repair 350 + 120 + 30 = 500.00; supplier ticket 120 + 30 = 150.00.
    assert_eq!(cohort.len(), 1, "{cohort:?}");
    assert_eq!(cohort[0][3..], ["2".to_owned(), "65000".to_owned()]);
    let supplier = report(&server, pb::CostReport::SupplierRecoveries).await;
    assert_eq!(
        supplier,
        vec![vec!["cost-supplier", "MTR-100", "CNY", "1", "35000"]]
    );
    let goodwill = report(&server, pb::CostReport::GoodwillByApprover).await;
    assert_eq!(
        goodwill,
        vec![vec!["sales_vp-1", "tier2", "CNY", "1", "20000"]]
    );
    let billing = report(&server, pb::CostReport::Billing).await;
    assert_eq!(billing, vec![vec!["CNY", "3", "130000", "10000", "120000"]]);
    let parts = report(&server, pb::CostReport::PartsByMonth).await;
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0][3..], ["3".to_owned(), "105000".to_owned()]);

    quote_vs_actual_adds_up_the_tickets_ledgers(
        &server,
        &["cost-warranty", "cost-supplier", "cost-waiver"],
    )
    .await;
    lines_filter_by_region_and_bearer(&server).await;

    // CSV of the same report.
    let csv = c
        .export_report_csv(as_role(
            "finance",
            pb::ReportRequest {
                report: pb::CostReport::GoodwillByApprover as i32,
                ..Default::default()
            },
        ))
        .await
        .expect("csv")
        .into_inner();
    assert_eq!(
        String::from_utf8(csv.content).expect("utf-8"),
        "approver,tier,currency,tickets,amount_minor\r\nsales_vp-1,tier2,CNY,1,20000\r\n"
    );

    // A rebuild from position 0 gives identical figures.
    let before = all_reports(&server).await;
    let db = ticketd::store::open(&server.config)
        .await
        .expect("open store");
    crate::helpers::rebuild(&db, Some("cost_ledger"))
        .await
        .expect("rebuild");
    db.close().await;
    assert_eq!(all_reports(&server).await, before);
    server.stop().await;
}

async fn cost_ledger_is_for_finance_and_managers_and_checks_its_input(backend: Backend) {
    let server = TestServer::start(backend).await;
    warranty_repair(&server, "cost-perm", pb::RootCause::Manufacturing).await;
    let mut c = client(&server).await;
    let ask = || pb::ReportRequest {
        report: pb::CostReport::Billing as i32,
        ..Default::default()
    };
    expect_code(
        c.run_report(as_role("technician", ask())).await,
        Code::PermissionDenied,
    );
    expect_code(
        c.run_report(as_role("integration", ask())).await,
        Code::PermissionDenied,
    );
    for role in ["finance", "service_manager", "general_manager", "auditor"] {
        c.run_report(as_role(role, ask())).await.expect("allowed");
    }
    let bad_month = pb::ReportRequest {
        from_month: "2026-13".into(),
        ..ask()
    };
    expect_code(
        c.run_report(as_role("finance", bad_month)).await,
        Code::InvalidArgument,
    );
    for (field, bad) in [
        (
            "bearer",
            pb::ReportRequest {
                bearer: 99,
                ..ask()
            },
        ),
        (
            "region",
            pb::ReportRequest {
                region: -1,
                ..ask()
            },
        ),
    ] {
        let status = expect_code(
            c.run_report(as_role("finance", bad)).await,
            Code::InvalidArgument,
        );
        assert!(status.message().starts_with(field), "{status:?}");
    }
    let no_report = pb::ReportRequest::default();
    expect_code(
        c.run_report(as_role("finance", no_report)).await,
        Code::InvalidArgument,
    );
    let unknown = pb::GetTicketLedgerRequest {
        ticket_id: "nope".into(),
    };
    expect_code(
        c.get_ticket_ledger(as_role("finance", unknown)).await,
        Code::NotFound,
    );
    server.stop().await;
}

crate::on_both_stores!(
    ledger_figures_match_the_hand_worked_fixtures,
    cost_ledger_is_for_finance_and_managers_and_checks_its_input,
);
