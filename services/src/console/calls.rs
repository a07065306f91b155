//! What each page of the console calls of the API. A page opens for a role
//! only if the access table (`crate::access`) lets that role call every
//! one of them, so the console refuses exactly what the API refuses
//! (`Console::session_for`); `PAGES` lists every route with its calls for
//! the tests that drive each route as each role.

use crate::access::methods::{Audit, CostLedger, EventLog, Fracas, SlaDashboard};
use crate::access::Method;

pub const SLA: &[Method] = &[
    Method::SlaDashboard(SlaDashboard::ListOpenClocks),
    Method::SlaDashboard(SlaDashboard::GetKpis),
];
pub const SLA_CLOCKS_CSV: &[Method] = &[Method::SlaDashboard(SlaDashboard::ExportOpenClocksCsv)];
pub const SLA_KPIS_CSV: &[Method] = &[Method::SlaDashboard(SlaDashboard::ExportKpisCsv)];
/// `/live` tells a page the read models moved: the log's status.
pub const LIVE: &[Method] = &[Method::EventLog(EventLog::GetLogStatus)];
pub const TICKET: &[Method] = &[
    Method::Audit(Audit::GetHistory),
    Method::Audit(Audit::Diff),
    Method::Audit(Audit::Verify),
];
pub const TICKET_EXPORT: &[Method] = &[Method::Audit(Audit::Export)];
pub const FRACAS: &[Method] = &[Method::Fracas(Fracas::RunReport)];
pub const FRACAS_CSV: &[Method] = &[Method::Fracas(Fracas::ExportReportCsv)];
pub const COST: &[Method] = &[Method::CostLedger(CostLedger::RunReport)];
pub const COST_CSV: &[Method] = &[Method::CostLedger(CostLedger::ExportReportCsv)];
pub const TAIL: &[Method] = &[Method::EventLog(EventLog::Subscribe)];

/// Every page behind a session: a path to open it (`T-1` stands for any
/// ticket, `billing.csv` for any report) and what it calls.
pub const PAGES: &[(&str, &[Method])] = &[
    ("/sla", SLA),
    ("/sla/clocks", SLA),
    ("/sla/open-clocks.csv", SLA_CLOCKS_CSV),
    ("/sla/kpis.csv", SLA_KPIS_CSV),
    ("/live", LIVE),
    ("/tickets", TICKET),
    ("/tickets/T-1", TICKET),
    ("/tickets/T-1/export", TICKET_EXPORT),
    ("/fracas", FRACAS),
    ("/fracas/mode_pareto.csv", FRACAS_CSV),
    ("/cost", COST),
    ("/cost/warranty_by_sale_month.csv", COST_CSV),
    ("/tail", TAIL),
    ("/tail/stream", TAIL),
];
