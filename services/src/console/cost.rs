//! Cost: each report of the `CostLedger` service as a table and a chart,
//! with its CSV.

use crate::access::Method;
use tonic::{Request, Status};

use super::report::{Chart, ModelFilter, Reports};
use super::Services;
use crate::rpc::pb;
use crate::rpc::pb::cost_ledger_server::CostLedger;
use pb::CostReport as R;

/// The cost page.
#[derive(Debug, Clone, Copy)]
pub struct Cost;

#[tonic::async_trait]
impl Reports for Cost {
    type Report = R;
    type Request = pb::ReportRequest;
    const PREFIX: &'static str = "COST_REPORT_";
    const HEADING: &'static str = "Cost";
    const NAV: &'static str = "cost";
    const BASE: &'static str = "/cost";
    const CALLS: &'static [Method] = super::calls::COST;
    const CSV_CALLS: &'static [Method] = super::calls::COST_CSV;
    /// Every cost report but the raw lines (too long to chart; its CSV is
    /// linked from the page all the same).
    const SHOWN: &'static [(R, &'static str, Chart)] = &[
        (
            R::WarrantyBySaleMonth,
            "Warranty cost by model and sale month",
            Chart::Bars,
        ),
        (
            R::WarrantyByRepairMonth,
            "Warranty cost by model and repair month",
            Chart::Bars,
        ),
        (
            R::SupplierRecoveries,
            "Supplier recoveries outstanding",
            Chart::Bars,
        ),
        (R::GoodwillByApprover, "Goodwill by approver", Chart::Bars),
        (R::PartsByMonth, "Parts used by month", Chart::Bars),
        (R::QuoteVsActual, "Quoted against actual", Chart::Bars),
        (R::Billing, "Invoiced, paid and outstanding", Chart::Bars),
    ];

    fn parse(name: &str) -> Option<R> {
        R::from_str_name(name)
    }

    fn name(report: R) -> &'static str {
        report.as_str_name()
    }

    fn request(report: R, filter: &ModelFilter) -> pb::ReportRequest {
        pb::ReportRequest {
            report: report as i32,
            product_model: filter.product_model.trim().to_owned(),
            ..Default::default()
        }
    }

    async fn run(
        services: &Services,
        request: Request<pb::ReportRequest>,
    ) -> Result<pb::ReportTable, Status> {
        Ok(services.cost.run_report(request).await?.into_inner())
    }

    async fn csv(
        services: &Services,
        request: Request<pb::ReportRequest>,
    ) -> Result<pb::CsvFile, Status> {
        Ok(services.cost.export_report_csv(request).await?.into_inner())
    }
}
