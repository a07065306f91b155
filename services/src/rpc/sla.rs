//! The `SlaDashboard` service.

use std::sync::Arc;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use domain::Clock;
use projections::report::Table;
use projections::sla::kpis::{kpi_table, kpis, GroupBy, KpiFigure, KpiQuery};
use projections::sla::reports::{open, open_page, open_table, ClockCursor, OpenClock, OpenFilter};
use projections::sla::SlaConfig;
use tonic::{Request, Response, Status as GrpcStatus};

use super::enums;
use super::pages;
use super::parse::{self as p, to_timestamp};
use super::pb;
use super::pb::sla_dashboard_server::SlaDashboard;
use super::status::{from_sqlx, invalid, invalid_field};
use super::views;
use crate::store::Pool;

/// Open clocks at a time, and where their next page starts.
type OpenClocksAt = (DateTime<Utc>, Vec<OpenClock>, Option<ClockCursor>);

#[derive(Debug, Clone)]
pub struct SlaDashboardService {
    db: Pool,
    config: &'static SlaConfig,
    clock: Arc<dyn Clock>,
}

impl SlaDashboardService {
    pub fn new(db: Pool, config: &'static SlaConfig, clock: Arc<dyn Clock>) -> Self {
        Self { db, config, clock }
    }
}

fn text(raw: &str) -> Option<String> {
    Some(raw.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn one_of(field: &str, raw: &str, allowed: &[&str]) -> Result<Option<String>, GrpcStatus> {
    match text(raw) {
        Some(v) if !allowed.contains(&v.as_str()) => Err(invalid_field(
            field,
            &format!("must be one of {}", allowed.join(", ")),
        )),
        v => Ok(v),
    }
}

impl SlaDashboardService {
    fn parse_open(&self, m: &pb::OpenClocksRequest) -> Result<OpenFilter, GrpcStatus> {
        let clocks: Vec<&str> = self
            .config
            .policy
            .clocks
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        Ok(OpenFilter {
            ticket_id: text(&m.ticket_id),
            status: enums::sla_status("status", m.status).map_err(|e| invalid(&e))?,
            region: enums::optional("region", m.region, p::region).map_err(|e| invalid(&e))?,
            technician: text(&m.technician),
            priority: enums::optional("priority", m.priority, p::priority)
                .map_err(|e| invalid(&e))?,
            clock: one_of("clock", &m.clock, &clocks)?,
        })
    }

    /// The clocks asked for at now, and where the next page starts.
    async fn open(&self, m: &pb::OpenClocksRequest) -> Result<OpenClocksAt, GrpcStatus> {
        let filter = self.parse_open(m)?;
        let page = pages::page(None, m.page_size, &m.page_token, ClockCursor::parse)
            .map_err(|e| invalid(&e))?;
        let now = self.clock.now();
        let (clocks, next) = match page {
            Some(page) => open_page(&self.db, &filter, self.config, now, &page).await,
            None => open(&self.db, &filter, self.config, now)
                .await
                .map(|all| (all, None)),
        }
        .map_err(from_sqlx)?;
        Ok((now, clocks, next))
    }

    fn parse_kpis(&self, m: &pb::KpiRequest) -> Result<KpiQuery, GrpcStatus> {
        let zone = self.config.calendars.default.zone;
        let day = |field: &str, raw: &str| -> Result<NaiveDate, GrpcStatus> {
            NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                .map_err(|_| invalid_field(field, "must be a date YYYY-MM-DD"))
        };
        let from = day("from_date", &m.from_date)?;
        let to = day("to_date", &m.to_date)?;
        if to < from {
            return Err(invalid_field("to_date", "must not be before from_date"));
        }
        let midnight = |d: NaiveDate| -> Result<DateTime<Utc>, GrpcStatus> {
            zone.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| invalid_field("from_date", "has no midnight in the calendar's zone"))
        };
        let after = to
            .checked_add_days(Days::new(1))
            .ok_or_else(|| invalid_field("to_date", "is out of range"))?;
        let group_by = match pb::KpiGroupBy::try_from(m.group_by) {
            Ok(pb::KpiGroupBy::Unspecified | pb::KpiGroupBy::All) => GroupBy::All,
            Ok(pb::KpiGroupBy::Technician) => GroupBy::Technician,
            Ok(pb::KpiGroupBy::Region) => GroupBy::Region,
            Ok(pb::KpiGroupBy::Week) => GroupBy::Week,
            Err(_) => {
                return Err(invalid_field(
                    "group_by",
                    &format!("has unknown value {}", m.group_by),
                ))
            }
        };
        Ok(KpiQuery {
            from_day: from,
            to_day: to,
            from: midnight(from)?,
            to: midnight(after)?,
            group_by,
            now: self.clock.now(),
        })
    }

    async fn kpis(&self, m: &pb::KpiRequest) -> Result<Vec<KpiFigure>, GrpcStatus> {
        let q = self.parse_kpis(m)?;
        kpis(&self.db, self.config, &q).await.map_err(from_sqlx)
    }
}

/// One clock as the API shows it: the enums, and (deprecated, still
/// filled) their snake_case names.
#[allow(deprecated)]
fn open_clock(o: OpenClock) -> pb::OpenClock {
    let region = enums::region_named(&o.region);
    let priority = enums::priority_named(&o.priority);
    pb::OpenClock {
        ticket_id: o.ticket_id,
        clock: o.clock.clock,
        cycle: o.clock.cycle,
        status: o.view.status.as_str().to_owned(),
        sla_status: enums::sla_status_pb(o.view.status) as i32,
        started_at: Some(to_timestamp(o.clock.started_at)),
        deadline: o.clock.deadline.map(to_timestamp),
        elapsed_minutes: o.view.elapsed / 60,
        remaining_minutes: o.view.remaining / 60,
        percent_used: o.view.percent_used,
        region: o.region,
        customer_region: region.map_or(0, |r| p::region_pb(r) as i32),
        technician: o.technician,
        priority: o.priority,
        ticket_priority: priority.map_or(0, |r| p::priority_pb(r) as i32),
        basis: format!("{:?}", o.clock.basis).to_lowercase(),
        stopped_at: o.clock.stopped_at.map(to_timestamp),
    }
}

fn csv(name: &str, table: &Table) -> pb::CsvFile {
    views::csv_file(&format!("sla-{name}"), table)
}

#[tonic::async_trait]
impl SlaDashboard for SlaDashboardService {
    async fn list_open_clocks(
        &self,
        request: Request<pb::OpenClocksRequest>,
    ) -> Result<Response<pb::OpenClocks>, GrpcStatus> {
        let (now, clocks, next) = self.open(request.get_ref()).await?;
        Ok(Response::new(pb::OpenClocks {
            as_of: Some(to_timestamp(now)),
            clocks: clocks.into_iter().map(open_clock).collect(),
            next_page_token: next.map(|c| c.token()).unwrap_or_default(),
        }))
    }

    async fn export_open_clocks_csv(
        &self,
        request: Request<pb::OpenClocksRequest>,
    ) -> Result<Response<pb::CsvFile>, GrpcStatus> {
        let m = request.get_ref();
        pages::whole(m.page_size, &m.page_token).map_err(|e| invalid(&e))?;
        let (_, clocks, _) = self.open(m).await?;
        Ok(Response::new(csv("open-clocks", &open_table(&clocks))))
    }

    async fn get_kpis(
        &self,
        request: Request<pb::KpiRequest>,
    ) -> Result<Response<pb::Kpis>, GrpcStatus> {
        let figures = self.kpis(request.get_ref()).await?;
        Ok(Response::new(pb::Kpis {
            figures: figures
                .into_iter()
                .map(|f| pb::KpiFigure {
                    group: f.group,
                    kpi: f.kpi.as_str().to_owned(),
                    numerator: f.numerator,
                    denominator: f.denominator,
                    rate_percent: f.rate,
                    target_percent: f.target,
                    meets_target: f.meets_target,
                })
                .collect(),
        }))
    }

    async fn export_kpis_csv(
        &self,
        request: Request<pb::KpiRequest>,
    ) -> Result<Response<pb::CsvFile>, GrpcStatus> {
        let figures = self.kpis(request.get_ref()).await?;
        Ok(Response::new(csv("kpis", &kpi_table(&figures))))
    }
}
