//! Cost: each report of the `CostLedger` service as a table and a chart,
//! with its CSV.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::page::{as_caller, download, render, Chrome, Failure};
use super::report::{named, section, slug, Chart, ModelFilter, ReportsPage};
use super::Console;
use crate::rpc::pb;
use crate::rpc::pb::cost_ledger_server::CostLedger;
use pb::CostReport as R;

const PREFIX: &str = "COST_REPORT_";

/// Every cost report but the raw lines (too long to chart; its CSV is
/// linked from the page all the same).
const SHOWN: [(R, &str); 7] = [
    (
        R::WarrantyBySaleMonth,
        "Warranty cost by model and sale month",
    ),
    (
        R::WarrantyByRepairMonth,
        "Warranty cost by model and repair month",
    ),
    (R::SupplierRecoveries, "Supplier recoveries outstanding"),
    (R::GoodwillByApprover, "Goodwill by approver"),
    (R::PartsByMonth, "Parts used by month"),
    (R::QuoteVsActual, "Quoted against actual"),
    (R::Billing, "Invoiced, paid and outstanding"),
];

fn request(report: R, filter: &ModelFilter) -> pb::ReportRequest {
    pb::ReportRequest {
        report: report as i32,
        product_model: filter.product_model.trim().to_owned(),
        ..Default::default()
    }
}

pub async fn page(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(filter): Query<ModelFilter>,
) -> Result<Response, Failure> {
    let session = console.session(&headers)?;
    let mut sections = Vec::new();
    for (report, title) in SHOWN {
        let table = console
            .services()
            .cost
            .run_report(as_caller(&session.actor, request(report, &filter)))
            .await?
            .into_inner();
        sections.push(section(
            title,
            &slug(report.as_str_name(), PREFIX),
            table,
            Chart::Bars,
        ));
    }
    Ok(render(&ReportsPage {
        chrome: Chrome::new(&session, "cost"),
        heading: "Cost",
        base: "/cost",
        query: filter.query(),
        product_model: filter.product_model,
        sections,
    }))
}

/// `/cost/<report>.csv`: any cost report as CSV (`lines.csv` too).
pub async fn csv(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(filter): Query<ModelFilter>,
) -> Result<Response, Failure> {
    let session = console.session(&headers)?;
    let report = named(&file, PREFIX, R::from_str_name)
        .ok_or_else(|| tonic::Status::not_found(format!("no cost report {file}")))?;
    let file = console
        .services()
        .cost
        .export_report_csv(as_caller(&session.actor, request(report, &filter)))
        .await?
        .into_inner();
    Ok(download(file))
}
