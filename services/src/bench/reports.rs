//! Query and report latency on the bulk log: every cost, FRACAS and SLA
//! report the API serves (the enums are walked, so a new report is timed
//! without a change here), and the ticket queries.

use std::future::Future;
use std::time::Instant;

use tonic::transport::Channel;

use super::bulk::auth;
use super::load::quantile_ms;
use crate::rpc::pb;
use crate::rpc::pb::cost_ledger_client::CostLedgerClient;
use crate::rpc::pb::fracas_client::FracasClient;
use crate::rpc::pb::sla_dashboard_client::SlaDashboardClient;
use crate::rpc::pb::ticket_queries_client::TicketQueriesClient;

type Error = Box<dyn std::error::Error>;

/// Runs `call` `n` times; its p95 in milliseconds.
async fn p95<F, Fut, T>(n: usize, mut call: F) -> Result<f64, Error>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<T, tonic::Status>>,
{
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let began = Instant::now();
        call(i).await?;
        samples.push(began.elapsed().as_micros() as u64);
    }
    Ok(quantile_ms(&mut samples, 0.95))
}

/// The page a listing report is timed with (the first).
const PAGE: u32 = 100;

fn paged(page_size: u32) -> String {
    match page_size {
        0 => String::new(),
        n => format!(" (first page of {n})"),
    }
}

/// The p95 of each query and report, named.
pub async fn measure(channel: Channel, copies: i64) -> Result<Vec<(String, f64)>, Error> {
    let mut out = Vec::new();
    let queries = TicketQueriesClient::new(channel.clone());
    let got = p95(100, |i| {
        let id = format!("bulk-{}", 1 + (i as i64 * 7919) % copies.max(1));
        let mut q = queries.clone();
        async move {
            q.get_ticket(auth(
                "service_manager",
                pb::GetTicketRequest { ticket_id: id },
            ))
            .await
        }
    })
    .await?;
    out.push(("GetTicket".to_owned(), got));
    // By status alone, and with one copy's serial number too.
    for (name, serial) in [
        ("ListTickets (closed, page of 50)", String::new()),
        (
            "ListTickets (closed, one unit's serial, page of 50)",
            format!("SN-bulk-{}", (copies / 2).max(1)),
        ),
    ] {
        let got = p95(50, |_| {
            let request = pb::ListTicketsRequest {
                statuses: vec![pb::TicketStatus::Closed as i32],
                serial_number: serial.clone(),
                page_size: 50,
                ..Default::default()
            };
            let mut q = queries.clone();
            async move { q.list_tickets(auth("service_manager", request)).await }
        })
        .await?;
        out.push((name.to_owned(), got));
    }

    // The listing reports (every line, every failure) grow with the log.
    const LISTING: usize = 512 * 1024 * 1024;
    let cost = CostLedgerClient::new(channel.clone()).max_decoding_message_size(LISTING);
    for report in (1..).map_while(|n| pb::CostReport::try_from(n).ok()) {
        let page_size = if report == pb::CostReport::Lines {
            PAGE
        } else {
            0
        };
        let got = p95(20, |_| {
            let mut c = cost.clone();
            let request = pb::ReportRequest {
                report: report as i32,
                page_size,
                ..Default::default()
            };
            async move { c.run_report(auth("finance", request)).await }
        })
        .await?;
        let name = format!("cost report {}{}", report.as_str_name(), paged(page_size));
        out.push((name, got));
    }
    let fracas = FracasClient::new(channel.clone()).max_decoding_message_size(LISTING);
    for report in (1..).map_while(|n| pb::FracasReport::try_from(n).ok()) {
        let page_size = if report == pb::FracasReport::Failures {
            PAGE
        } else {
            0
        };
        let got = p95(20, |_| {
            let mut f = fracas.clone();
            let request = pb::FracasReportRequest {
                report: report as i32,
                page_size,
                ..Default::default()
            };
            async move { f.run_report(auth("reliability_engineer", request)).await }
        })
        .await?;
        let name = format!("FRACAS report {}{}", report.as_str_name(), paged(page_size));
        out.push((name, got));
    }
    let sla = SlaDashboardClient::new(channel).max_decoding_message_size(LISTING);
    // The last year.
    let today = chrono::Utc::now().date_naive();
    let (from_date, to_date) = (
        (today - chrono::Days::new(365)).to_string(),
        today.to_string(),
    );
    for group in (1..).map_while(|n| pb::KpiGroupBy::try_from(n).ok()) {
        let got = p95(20, |_| {
            let mut s = sla.clone();
            let request = pb::KpiRequest {
                group_by: group as i32,
                from_date: from_date.clone(),
                to_date: to_date.clone(),
            };
            async move { s.get_kpis(auth("service_manager", request)).await }
        })
        .await?;
        out.push((format!("SLA KPIs {}", group.as_str_name()), got));
    }
    let got = p95(20, |_| {
        let mut s = sla.clone();
        let request = pb::OpenClocksRequest {
            page_size: PAGE,
            ..Default::default()
        };
        async move { s.list_open_clocks(auth("service_manager", request)).await }
    })
    .await?;
    out.push((format!("SLA open clocks{}", paged(PAGE)), got));
    Ok(out)
}
