//! FRACAS: Pareto charts of failure modes and parts, repeat failures, MTBF
//! per model and per batch, the corrective-action board by step and age.
//! Each a report of the `Fracas` service, with its CSV.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::page::{as_caller, download, render, Chrome, Failure};
use super::report::{named, section, slug, Chart, ModelFilter, ReportsPage};
use super::Console;
use crate::rpc::pb;
use crate::rpc::pb::fracas_server::Fracas;
use pb::FracasReport as R;

const PREFIX: &str = "FRACAS_REPORT_";

/// What the page shows, in order.
const SHOWN: [(R, &str, Chart); 6] = [
    (R::ModePareto, "Failure modes (Pareto)", Chart::Pareto),
    (R::PartPareto, "Failed parts (Pareto)", Chart::Pareto),
    (R::RepeatFailures, "Repeat failures", Chart::Bars),
    (R::MtbfByModel, "MTBF per model", Chart::Bars),
    (R::MtbfByBatch, "MTBF per model and batch", Chart::Bars),
    (
        R::OpenActions,
        "Corrective actions by step and age",
        Chart::Bars,
    ),
];

fn request(report: R, filter: &ModelFilter) -> pb::FracasReportRequest {
    pb::FracasReportRequest {
        report: report as i32,
        filter: Some(pb::FailureFilter {
            product_model: filter.product_model.trim().to_owned(),
            ..Default::default()
        }),
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
    for (report, title, chart) in SHOWN {
        let table = console
            .services()
            .fracas
            .run_report(as_caller(&session.actor, request(report, &filter)))
            .await?
            .into_inner();
        sections.push(section(
            title,
            &slug(report.as_str_name(), PREFIX),
            table,
            chart,
        ));
    }
    Ok(render(&ReportsPage {
        chrome: Chrome::new(&session, "fracas"),
        heading: "FRACAS",
        base: "/fracas",
        query: filter.query(),
        product_model: filter.product_model,
        sections,
    }))
}

/// `/fracas/<report>.csv`: any FRACAS report as CSV.
pub async fn csv(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(filter): Query<ModelFilter>,
) -> Result<Response, Failure> {
    let session = console.session(&headers)?;
    let report = named(&file, PREFIX, R::from_str_name)
        .ok_or_else(|| tonic::Status::not_found(format!("no FRACAS report {file}")))?;
    let file = console
        .services()
        .fracas
        .export_report_csv(as_caller(&session.actor, request(report, &filter)))
        .await?
        .into_inner();
    Ok(download(file))
}
