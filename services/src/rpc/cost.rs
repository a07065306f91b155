//! The `CostLedger` service.

use domain::money::{Currency, Money};
use domain::values::Problem;
use domain::TicketEvent;
use projections::cost::reports::{lines_page, run, Filter, LineCursor, Report};
use projections::cost::{ledger, Kind, TicketLedger};
use projections::report::Table;
use tonic::{Request, Response, Status};

use super::enums;
use super::pages;
use super::parse::{self as p, to_timestamp};
use super::pb;
use super::pb::cost_ledger_server::CostLedger;
use super::status::{from_sqlx, invalid, invalid_field};
use super::views;
use crate::audit::records;
use crate::store::Pool;

#[derive(Debug, Clone)]
pub struct CostLedgerService {
    db: Pool,
}

impl CostLedgerService {
    /// The ledger needs no policy: each event carries the rates it used.
    pub fn new(db: Pool) -> Self {
        Self { db }
    }
}

fn money(minor: i64, currency: &Currency) -> Option<pb::Money> {
    Some(pb::Money {
        currency: currency.to_string(),
        minor_units: minor,
    })
}

fn pb_money(m: &Money) -> Option<pb::Money> {
    money(m.minor(), m.currency())
}

fn month(field: &str, raw: &str) -> Result<Option<String>, Status> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let ok = raw.len() == 7
        && raw.as_bytes()[4] == b'-'
        && raw[..4].bytes().all(|b| b.is_ascii_digit())
        && matches!(raw[5..].parse::<u32>(), Ok(1..=12));
    if ok {
        Ok(Some(raw.to_owned()))
    } else {
        Err(invalid(
            &Problem::Malformed("must be a month YYYY-MM".into()).at(field),
        ))
    }
}

fn text(raw: &str) -> Option<String> {
    Some(raw.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn parse_report(m: &pb::ReportRequest) -> Result<(Report, Filter), Status> {
    let report = match pb::CostReport::try_from(m.report) {
        Ok(pb::CostReport::Lines) => Report::Lines,
        Ok(pb::CostReport::WarrantyBySaleMonth) => Report::WarrantyBySaleMonth,
        Ok(pb::CostReport::WarrantyByRepairMonth) => Report::WarrantyByRepairMonth,
        Ok(pb::CostReport::SupplierRecoveries) => Report::SupplierRecoveries,
        Ok(pb::CostReport::GoodwillByApprover) => Report::GoodwillByApprover,
        Ok(pb::CostReport::PartsByMonth) => Report::PartsByMonth,
        Ok(pb::CostReport::QuoteVsActual) => Report::QuoteVsActual,
        Ok(pb::CostReport::Billing) => Report::Billing,
        Ok(pb::CostReport::Unspecified) => return Err(invalid(&Problem::Empty.at("report"))),
        Err(_) => {
            return Err(invalid_field(
                "report",
                &format!("has unknown value {}", m.report),
            ))
        }
    };
    Ok((
        report,
        Filter {
            from_month: month("from_month", &m.from_month)?,
            to_month: month("to_month", &m.to_month)?,
            product_model: text(&m.product_model),
            region: enums::optional("region", m.region, p::region).map_err(|e| invalid(&e))?,
            bearer: enums::bearer("bearer", m.bearer).map_err(|e| invalid(&e))?,
        },
    ))
}

impl CostLedgerService {
    async fn table(&self, m: &pb::ReportRequest) -> Result<(Report, Table), Status> {
        let (report, filter) = parse_report(m)?;
        let page = pages::page(
            (report != Report::Lines).then_some("COST_REPORT_LINES"),
            m.page_size,
            &m.page_token,
            LineCursor::parse,
        )
        .map_err(|e| invalid(&e))?;
        let table = match page {
            Some(page) => lines_page(&self.db, &filter, &page).await,
            None => run(&self.db, report, &filter).await,
        };
        Ok((report, table.map_err(from_sqlx)?))
    }
}

/// One ticket's ledger as the API shows it: the enums, and (deprecated,
/// still filled) their snake_case names.
#[allow(deprecated)]
fn ledger_view(ticket_id: String, l: &TicketLedger) -> pb::TicketLedger {
    let currency = l.currency.clone().unwrap_or_default();
    let actual = l.actual();
    let quote_vs_actual = Kind::ALL
        .iter()
        .filter(|k| l.quoted.contains_key(k) || actual.contains_key(k))
        .map(|k| {
            let q = l.quoted.get(k).copied().unwrap_or(0);
            let a = actual.get(k).copied().unwrap_or(0);
            pb::KindComparison {
                kind: k.as_str().to_owned(),
                line_kind: enums::line_kind_pb(*k) as i32,
                quoted: money(q, &currency),
                actual: money(a, &currency),
                variance_minor: a - q,
            }
        })
        .collect();
    pb::TicketLedger {
        ticket_id,
        product_model: l.product_model.clone(),
        sale_month: l.sale_month.clone().unwrap_or_default(),
        lines: l
            .lines
            .iter()
            .map(|line| pb::LedgerLine {
                cycle: line.cycle,
                kind: line.kind.as_str().to_owned(),
                line_kind: enums::line_kind_pb(line.kind) as i32,
                bearer: line.bearer.as_str().to_owned(),
                cost_bearer: enums::bearer_pb(line.bearer) as i32,
                amount: pb_money(&line.amount),
                part_number: line.part_number.clone().unwrap_or_default(),
                quantity: line.quantity.unwrap_or_default(),
                occurred_at: Some(to_timestamp(line.occurred_at)),
                approver: line.approver.clone().unwrap_or_default(),
                tier: line.tier.map_or(0, |t| enums::tier_pb(t) as i32),
            })
            .collect(),
        quote_vs_actual,
        totals: l
            .by_bearer()
            .into_iter()
            .map(|(b, minor)| pb::BearerTotal {
                bearer: b.as_str().to_owned(),
                cost_bearer: enums::bearer_pb(b) as i32,
                amount: money(minor, &currency),
            })
            .collect(),
        invoiced: money(l.invoiced, &currency),
        paid: money(l.paid, &currency),
        outstanding: money(l.outstanding(), &currency),
    }
}

#[tonic::async_trait]
impl CostLedger for CostLedgerService {
    async fn get_ticket_ledger(
        &self,
        request: Request<pb::GetTicketLedgerRequest>,
    ) -> Result<Response<pb::TicketLedger>, Status> {
        let id =
            p::ticket_id("ticket_id", &request.get_ref().ticket_id).map_err(|e| invalid(&e))?;
        let stored = records::ticket(&self.db, &id).await.map_err(from_sqlx)?;
        if stored.is_empty() {
            return Err(Status::not_found(format!("ticket {id} not found")));
        }
        let mut events = Vec::with_capacity(stored.len());
        for r in stored {
            let occurred_at = r.occurred();
            let event: TicketEvent =
                projections::log::decode_value(&r.event_type, &r.event_version, r.payload)
                    .map_err(|e| {
                        Status::internal(format!(
                            "stored event v{} cannot be read: {e}",
                            r.sequence
                        ))
                    })?;
            events.push((event, occurred_at));
        }
        let l = ledger(&events).map_err(|e| Status::failed_precondition(e.to_string()))?;
        Ok(Response::new(ledger_view(id, &l)))
    }

    async fn run_report(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> Result<Response<pb::ReportTable>, Status> {
        let (_, table) = self.table(request.get_ref()).await?;
        Ok(Response::new(views::report_table(table)))
    }

    async fn export_report_csv(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> Result<Response<pb::CsvFile>, Status> {
        let m = request.get_ref();
        pages::whole(m.page_size, &m.page_token).map_err(|e| invalid(&e))?;
        let (report, table) = self.table(m).await?;
        Ok(Response::new(views::csv_file(
            &format!("cost-{}", format!("{report:?}").to_lowercase()),
            &table,
        )))
    }
}
