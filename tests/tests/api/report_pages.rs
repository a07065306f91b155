//! The listings, paged: the cost lines, the failure listing and the open
//! SLA clocks read page by page give the whole listing, in order, each row
//! once; a page asked of another report, of a CSV export, too large, or
//! after a token this server did not issue is INVALID_ARGUMENT naming the
//! field.
//!
//! Fixture: one warranty repair using eleven parts in one step (its lines
//! share one instant, so the line number orders them), and three diagnosed
//! tickets.

use ticketd::rpc::pb;
use ticketd::rpc::pb::cost_ledger_client::CostLedgerClient;
use ticketd::rpc::pb::fracas_client::FracasClient;
use ticketd::rpc::pb::sla_dashboard_client::SlaDashboardClient;
use tonic::Code;

use crate::fracas::diagnosed;
use crate::helpers::{as_role, cny, expect_code, Backend, TestServer};

/// A repair with eleven different parts, so eleven lines at one instant.
async fn repaired_with_eleven_parts(server: &TestServer, id: &str) {
    let mut t = diagnosed(server, id, pb::RootCause::Manufacturing).await;
    let parts = (1..=11)
        .map(|n| pb::PartUsed {
            part_number: format!("P-{n:02}"),
            quantity: 1,
            unit_cost: cny(1_000),
            old_part: pb::OldPartDisposition::Scrapped as i32,
        })
        .collect();
    let m = pb::RecordRepairRequest {
        context: t.ctx(),
        labour_minutes: 30,
        parts,
        notes: String::new(),
    };
    let r = t
        .client
        .record_repair(as_role("technician", m))
        .await
        .map(tonic::Response::into_inner);
    t.ok(r, "RepairRecorded");
}

fn lines(page_size: u32, page_token: String) -> pb::ReportRequest {
    pb::ReportRequest {
        report: pb::CostReport::Lines as i32,
        page_size,
        page_token,
        ..Default::default()
    }
}

fn failures(page_size: u32, page_token: String) -> pb::FracasReportRequest {
    pb::FracasReportRequest {
        report: pb::FracasReport::Failures as i32,
        page_size,
        page_token,
        ..Default::default()
    }
}

/// Every page of `size` rows, chained by their tokens, and the whole
/// listing asked without a page.
async fn pages_and_whole<F, Fut>(size: u32, run: F) -> (Vec<Vec<pb::ReportRow>>, pb::ReportTable)
where
    F: Fn(u32, String) -> Fut,
    Fut: std::future::Future<Output = pb::ReportTable>,
{
    let whole = run(0, String::new()).await;
    assert!(whole.next_page_token.is_empty(), "no page asked, no token");
    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = run(size, token).await;
        assert_eq!(page.columns, whole.columns);
        assert!(page.rows.len() <= size as usize);
        token = page.next_page_token;
        pages.push(page.rows);
        if token.is_empty() {
            return (pages, whole);
        }
        assert_eq!(pages.last().map(Vec::len), Some(size as usize));
    }
}

async fn pages_give_the_whole_listing_in_order(backend: Backend) {
    let server = TestServer::start(backend).await;
    repaired_with_eleven_parts(&server, "pages-1").await;
    for id in ["pages-2", "pages-3"] {
        diagnosed(&server, id, pb::RootCause::Manufacturing).await;
    }
    server.caught_up().await;

    let cost = CostLedgerClient::new(server.channel().await);
    let (pages, whole) = pages_and_whole(4, |size, token| {
        let mut c = cost.clone();
        async move {
            let r = c.run_report(as_role("finance", lines(size, token))).await;
            r.expect("lines").into_inner()
        }
    })
    .await;
    assert!(whole.rows.len() >= 12, "eleven part lines and labour");
    assert_eq!(pages.len(), whole.rows.len().div_ceil(4));
    assert_eq!(pages.concat(), whole.rows);
    let numbers: Vec<i64> = whole
        .rows
        .iter()
        .filter(|r| r.cells[0] == "pages-1")
        .map(|r| r.cells[1].parse().expect("line_no"))
        .collect();
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    assert_eq!(
        numbers, sorted,
        "lines of one instant by number, 10 after 9"
    );

    let fracas = FracasClient::new(server.channel().await);
    let (pages, whole) = pages_and_whole(1, |size, token| {
        let mut f = fracas.clone();
        async move {
            let r = f.run_report(as_role("reliability_engineer", failures(size, token)));
            r.await.expect("failures").into_inner()
        }
    })
    .await;
    assert_eq!(whole.rows.len(), 3);
    assert_eq!(pages.len(), 3);
    assert_eq!(pages.concat(), whole.rows);

    let sla = SlaDashboardClient::new(server.channel().await);
    let open = |page_size, page_token| {
        let mut s = sla.clone();
        let request = pb::OpenClocksRequest {
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = s.list_open_clocks(as_role("service_manager", request));
            r.await.expect("open clocks").into_inner()
        }
    };
    let whole = open(0, String::new()).await;
    assert!(whole.clocks.len() >= 3, "a clock runs per ticket");
    let key = |c: &pb::OpenClock| (c.ticket_id.clone(), c.clock.clone(), c.cycle);
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = open(2, token).await;
        assert!(page.clocks.len() <= 2);
        paged.extend(page.clocks.iter().map(key));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(paged, whole.clocks.iter().map(key).collect::<Vec<_>>());
    server.stop().await;
}

async fn a_page_is_refused_where_the_report_is_not_a_listing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut cost = CostLedgerClient::new(server.channel().await);
    let mut fracas = FracasClient::new(server.channel().await);
    let field = |s: tonic::Status, name: &str| {
        assert!(s.message().contains(name), "{name} named: {s:?}");
    };

    let billing = pb::ReportRequest {
        report: pb::CostReport::Billing as i32,
        page_size: 10,
        ..Default::default()
    };
    let s = expect_code(
        cost.run_report(as_role("finance", billing)).await,
        Code::InvalidArgument,
    );
    field(s, "page_size");
    let s = expect_code(
        cost.export_report_csv(as_role("finance", lines(10, String::new())))
            .await,
        Code::InvalidArgument,
    );
    field(s, "page_size");
    let s = expect_code(
        cost.run_report(as_role("finance", lines(1001, String::new())))
            .await,
        Code::InvalidArgument,
    );
    field(s, "page_size");
    let s = expect_code(
        cost.run_report(as_role("finance", lines(10, "not-a-token".into())))
            .await,
        Code::InvalidArgument,
    );
    field(s, "page_token");

    let re = "reliability_engineer";
    let pareto = pb::FracasReportRequest {
        report: pb::FracasReport::ModePareto as i32,
        page_token: "x".into(),
        ..Default::default()
    };
    let s = expect_code(
        fracas.run_report(as_role(re, pareto)).await,
        Code::InvalidArgument,
    );
    field(s, "page_token");
    let s = expect_code(
        fracas
            .export_report_csv(as_role(re, failures(0, "x".into())))
            .await,
        Code::InvalidArgument,
    );
    field(s, "page_token");

    let mut sla = SlaDashboardClient::new(server.channel().await);
    let request = pb::OpenClocksRequest {
        page_size: 5,
        ..Default::default()
    };
    let s = expect_code(
        sla.export_open_clocks_csv(as_role("service_manager", request))
            .await,
        Code::InvalidArgument,
    );
    field(s, "page_size");
    server.stop().await;
}

crate::on_both_stores!(
    pages_give_the_whole_listing_in_order,
    a_page_is_refused_where_the_report_is_not_a_listing,
);
