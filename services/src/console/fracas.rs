//! FRACAS: Pareto charts of failure modes and parts, repeat failures, MTBF
//! per model and per batch, the corrective-action board by step and age.
//! Each a report of the `Fracas` service, with its CSV.

use crate::access::Method;
use tonic::{Request, Status};

use super::report::{Chart, ModelFilter, Reports};
use super::Services;
use crate::rpc::pb;
use crate::rpc::pb::fracas_server::Fracas as _;
use pb::FracasReport as R;

/// The FRACAS page.
#[derive(Debug, Clone, Copy)]
pub struct Fracas;

#[tonic::async_trait]
impl Reports for Fracas {
    type Report = R;
    type Request = pb::FracasReportRequest;
    const PREFIX: &'static str = "FRACAS_REPORT_";
    const HEADING: &'static str = "FRACAS";
    const NAV: &'static str = "fracas";
    const BASE: &'static str = "/fracas";
    const CALLS: &'static [Method] = super::calls::FRACAS;
    const CSV_CALLS: &'static [Method] = super::calls::FRACAS_CSV;
    const SHOWN: &'static [(R, &'static str, Chart)] = &[
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

    fn parse(name: &str) -> Option<R> {
        R::from_str_name(name)
    }

    fn name(report: R) -> &'static str {
        report.as_str_name()
    }

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

    async fn run(
        services: &Services,
        request: Request<pb::FracasReportRequest>,
    ) -> Result<pb::ReportTable, Status> {
        Ok(services.fracas.run_report(request).await?.into_inner())
    }

    async fn csv(
        services: &Services,
        request: Request<pb::FracasReportRequest>,
    ) -> Result<pb::CsvFile, Status> {
        Ok(services
            .fracas
            .export_report_csv(request)
            .await?
            .into_inner())
    }
}
