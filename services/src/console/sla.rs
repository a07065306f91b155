//! The SLA board: open clocks by status with their deadlines on the
//! business calendar, filterable by region, technician and clock; KPIs
//! against their targets; the weekly trend. The clock table reloads itself
//! on each `changed` from `/live`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Days, Utc};
use domain::ticket::types::Region;
use projections::sla::Status;
use serde::Deserialize;

use super::page::{as_caller, download, local_time, render, Chrome, Failure};
use super::svg::{self, Series};
use super::Console;
use crate::rpc::enums;
use crate::rpc::pb;
use crate::rpc::pb::sla_dashboard_server::SlaDashboard;

/// The board's filters, as the query string carries them.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filters {
    #[serde(default)]
    region: String,
    #[serde(default)]
    technician: String,
    #[serde(default)]
    clock: String,
    #[serde(default)]
    status: String,
}

/// A filter's snake_case name (as the form sends it) as the value it
/// names: empty is no filter; a name not in `all` is refused naming the
/// field, as the API refuses an enum number it does not define.
fn chosen<T: Copy>(
    field: &str,
    raw: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<Option<T>, tonic::Status> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    all.iter()
        .copied()
        .find(|v| name(*v) == raw)
        .map(Some)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
            tonic::Status::invalid_argument(format!("{field} must be one of {}", names.join(", ")))
        })
}

impl Filters {
    fn request(&self) -> Result<pb::OpenClocksRequest, tonic::Status> {
        let status = chosen("status", &self.status, Status::ALL, Status::as_str)?;
        let region = chosen("region", &self.region, Region::ALL, Region::as_str)?;
        Ok(pb::OpenClocksRequest {
            status: status.map_or(0, |s| enums::sla_status_pb(s) as i32),
            region: region.map_or(0, |r| enums::region_pb(r) as i32),
            technician: self.technician.clone(),
            clock: self.clock.clone(),
            ..Default::default()
        })
    }

    fn query(&self) -> String {
        let pairs = [
            ("region", &self.region),
            ("technician", &self.technician),
            ("clock", &self.clock),
            ("status", &self.status),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One row of the clock table.
#[derive(Debug)]
pub struct ClockRow {
    ticket_id: String,
    clock: String,
    status: String,
    deadline: String,
    remaining: String,
    percent_used: i64,
    region: String,
    technician: String,
    priority: String,
}

/// The clock table and its counts (the live part of the page).
#[derive(Debug, Default)]
pub struct Clocks {
    rows: Vec<ClockRow>,
    breached: usize,
    at_risk: usize,
    as_of: String,
}

#[derive(Template)]
#[template(path = "sla_clocks.html")]
struct ClocksFragment {
    clocks: Clocks,
}

#[derive(Debug)]
struct KpiRow {
    kpi: String,
    figure: String,
    target: u32,
    verdict: &'static str,
}

/// An option of a filter, and whether it is the one chosen.
#[derive(Debug)]
pub struct Choice {
    pub value: String,
    pub selected: bool,
}

pub fn choices<'a>(values: impl IntoIterator<Item = &'a str>, chosen: &str) -> Vec<Choice> {
    values
        .into_iter()
        .map(|v| Choice {
            value: v.to_owned(),
            selected: v == chosen,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "sla.html")]
struct Board {
    chrome: Chrome,
    filters: Filters,
    query: String,
    regions: Vec<Choice>,
    clock_names: Vec<Choice>,
    statuses: Vec<Choice>,
    clocks: Clocks,
    kpis: Vec<KpiRow>,
    period: String,
    trend: String,
}

fn minutes(m: i64) -> String {
    let sign = if m < 0 { "overdue " } else { "" };
    let m = m.abs();
    format!("{sign}{}h {:02}m", m / 60, m % 60)
}

async fn clocks(console: &Console, actor: &domain::Actor, f: &Filters) -> Result<Clocks, Failure> {
    let zone = console.services().zone;
    let open = console
        .services()
        .sla
        .list_open_clocks(as_caller(actor, f.request()?))
        .await?
        .into_inner();
    let local = |t: Option<&prost_types::Timestamp>| {
        t.map_or_else(|| "paused".to_owned(), |t| local_time(zone, t))
    };
    let rows: Vec<ClockRow> = open
        .clocks
        .into_iter()
        .map(|c| ClockRow {
            deadline: local(c.deadline.as_ref()),
            remaining: minutes(c.remaining_minutes),
            ticket_id: c.ticket_id,
            clock: c.clock,
            status: enums::sla_status_name(c.sla_status).to_owned(),
            percent_used: c.percent_used,
            region: enums::region_name(c.customer_region).to_owned(),
            technician: c.technician,
            priority: enums::priority_name(c.ticket_priority).to_owned(),
        })
        .collect();
    Ok(Clocks {
        breached: rows.iter().filter(|r| r.status == "breached").count(),
        at_risk: rows.iter().filter(|r| r.status == "at_risk").count(),
        as_of: local(open.as_of.as_ref()),
        rows,
    })
}

fn kpi_request(
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    by: pb::KpiGroupBy,
) -> pb::KpiRequest {
    pb::KpiRequest {
        from_date: from.format("%Y-%m-%d").to_string(),
        to_date: to.format("%Y-%m-%d").to_string(),
        group_by: by as i32,
    }
}

/// Today on the business calendar, and the KPI period (the last 28 days).
fn period(console: &Console) -> (chrono::NaiveDate, chrono::NaiveDate) {
    let today = Utc::now()
        .with_timezone(&console.services().zone)
        .date_naive();
    (
        today.checked_sub_days(Days::new(27)).unwrap_or(today),
        today,
    )
}

fn trend_chart(figures: &[pb::KpiFigure]) -> String {
    let mut weeks: Vec<String> = figures.iter().map(|f| f.group.clone()).collect();
    weeks.sort();
    weeks.dedup();
    let mut kpis: Vec<String> = figures.iter().map(|f| f.kpi.clone()).collect();
    kpis.dedup();
    let series: Vec<Series> = kpis
        .iter()
        .map(|kpi| Series {
            name: kpi.clone(),
            values: weeks
                .iter()
                .map(|w| {
                    figures
                        .iter()
                        .find(|f| &f.kpi == kpi && &f.group == w)
                        .and_then(|f| f.rate_percent)
                })
                .collect(),
        })
        .collect();
    svg::percent_lines("KPIs per ISO week, percent", &weeks, &series)
}

pub async fn board(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, Failure> {
    let session = console.session_for(&headers, super::calls::SLA)?;
    let actor = &session.actor;
    let clocks = clocks(&console, actor, &filters).await?;
    let (from, to) = period(&console);
    let sla = &console.services().sla;
    let figures = sla
        .get_kpis(as_caller(actor, kpi_request(from, to, pb::KpiGroupBy::All)))
        .await?
        .into_inner()
        .figures;
    let twelve_weeks = to.checked_sub_days(Days::new(83)).unwrap_or(to);
    let weekly = sla
        .get_kpis(as_caller(
            actor,
            kpi_request(twelve_weeks, to, pb::KpiGroupBy::Week),
        ))
        .await?
        .into_inner()
        .figures;
    let kpis = figures
        .into_iter()
        .map(|f| KpiRow {
            figure: match f.rate_percent {
                Some(rate) => format!("{rate:.1} % ({} of {})", f.numerator, f.denominator),
                None => "no data".to_owned(),
            },
            verdict: match f.meets_target {
                Some(true) => "met",
                Some(false) => "missed",
                None => "none",
            },
            kpi: f.kpi,
            target: f.target_percent,
        })
        .collect();
    let page = Board {
        chrome: Chrome::new(&session, "sla"),
        query: filters.query(),
        regions: choices(Region::ALL.iter().map(|r| r.as_str()), &filters.region),
        clock_names: choices(
            console
                .services()
                .sla_config
                .policy
                .clocks
                .iter()
                .map(|c| c.name.as_str()),
            &filters.clock,
        ),
        statuses: choices(
            ["at_risk", "breached", "running", "paused"],
            &filters.status,
        ),
        filters,
        clocks,
        kpis,
        period: format!("{from} to {to}"),
        trend: trend_chart(&weekly),
    };
    Ok(render(&page))
}

/// The clock table alone, for the live reload.
pub async fn clocks_fragment(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, Failure> {
    let session = console.session_for(&headers, super::calls::SLA)?;
    let clocks = clocks(&console, &session.actor, &filters).await?;
    Ok(render(&ClocksFragment { clocks }))
}

pub async fn open_clocks_csv(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, Failure> {
    let session = console.session_for(&headers, super::calls::SLA_CLOCKS_CSV)?;
    let file = console
        .services()
        .sla
        .export_open_clocks_csv(as_caller(&session.actor, filters.request()?))
        .await?
        .into_inner();
    Ok(download(file))
}

pub async fn kpis_csv(
    State(console): State<Console>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    let session = console.session_for(&headers, super::calls::SLA_KPIS_CSV)?;
    let (from, to) = period(&console);
    let file = console
        .services()
        .sla
        .export_kpis_csv(as_caller(
            &session.actor,
            kpi_request(from, to, pb::KpiGroupBy::All),
        ))
        .await?
        .into_inner();
    Ok(download(file))
}
