//! A report of the API (a `ReportTable`) as a page section: the table, a
//! chart drawn from it, and its CSV download; and the two handlers of a
//! page of reports ([`page`], [`csv`]) for any service's [`Reports`].

use crate::access::Method;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use tonic::{Request, Status};

use super::page::{as_caller, download, render, Chrome, Failure};
use super::{svg, Console, Services};
use crate::rpc::pb;

/// The reports of one service, shown on one page (`/cost`, `/fracas`),
/// each also as CSV (`/cost/billing.csv`). Adding such a page: one type
/// that implements this, and its two routes.
#[tonic::async_trait]
pub trait Reports: Send + Sync + 'static {
    /// The service's enum of reports.
    type Report: Copy + Send + Sync + 'static;
    /// What the service takes to run one.
    type Request: Send + 'static;
    /// The enum's name prefix (`COST_REPORT_`), left out of links.
    const PREFIX: &'static str;
    const HEADING: &'static str;
    /// The navigation entry to highlight.
    const NAV: &'static str;
    /// Where the page is served.
    const BASE: &'static str;
    /// What the page shows, in order: each report, its title and chart.
    const SHOWN: &'static [(Self::Report, &'static str, Chart)];
    /// What the page calls of the API, and what its CSV link calls
    /// (the access table decides who may open each).
    const CALLS: &'static [Method];
    const CSV_CALLS: &'static [Method];

    /// The report named `name` in the enum's own names.
    fn parse(name: &str) -> Option<Self::Report>;
    /// The report's name in the enum.
    fn name(report: Self::Report) -> &'static str;
    fn request(report: Self::Report, filter: &ModelFilter) -> Self::Request;
    async fn run(
        services: &Services,
        request: Request<Self::Request>,
    ) -> Result<pb::ReportTable, Status>;
    async fn csv(
        services: &Services,
        request: Request<Self::Request>,
    ) -> Result<pb::CsvFile, Status>;
}

/// The page of `R`'s reports: each as a table and a chart.
pub async fn page<R: Reports>(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(filter): Query<ModelFilter>,
) -> Result<Response, Failure> {
    let session = console.session_for(&headers, R::CALLS)?;
    let mut sections = Vec::new();
    for &(report, title, chart) in R::SHOWN {
        let request = as_caller(&session.actor, R::request(report, &filter));
        let table = R::run(console.services(), request).await?;
        let slug = slug(R::name(report), R::PREFIX);
        sections.push(section(title, &slug, table, chart));
    }
    Ok(render(&ReportsPage {
        chrome: Chrome::new(&session, R::NAV),
        heading: R::HEADING,
        base: R::BASE,
        query: filter.query(),
        product_model: filter.product_model,
        sections,
    }))
}

/// `<base>/<report>.csv`: any of `R`'s reports as CSV, shown or not.
pub async fn csv<R: Reports>(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(filter): Query<ModelFilter>,
) -> Result<Response, Failure> {
    let session = console.session_for(&headers, R::CSV_CALLS)?;
    let report = named(&file, R::PREFIX, R::parse)
        .ok_or_else(|| Status::not_found(format!("no {} report {file}", R::NAV)))?;
    let request = as_caller(&session.actor, R::request(report, &filter));
    Ok(download(R::csv(console.services(), request).await?))
}

/// One report on a page.
#[derive(Debug)]
pub struct Section {
    pub title: String,
    /// The report's name in its CSV link (`mode_pareto`, `billing`, …).
    pub slug: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub chart: String,
}

/// How a report is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// Bars of `failures` by the first column, largest first, with the
    /// cumulative share.
    Pareto,
    /// Bars of the last numeric column by the leading text columns.
    Bars,
}

fn numeric(table: &pb::ReportTable, column: usize) -> bool {
    !table.rows.is_empty()
        && table.rows.iter().all(|r| {
            r.cells
                .get(column)
                .is_some_and(|c| c.is_empty() || c.parse::<f64>().is_ok())
        })
}

fn points(table: &pb::ReportTable, chart: Chart) -> (String, Vec<(String, f64)>) {
    let value = match chart {
        Chart::Pareto => table.columns.iter().position(|c| c == "failures"),
        Chart::Bars => (0..table.columns.len()).rev().find(|&i| numeric(table, i)),
    };
    let Some(value) = value else {
        return (String::new(), Vec::new());
    };
    let text: Vec<usize> = (0..value).filter(|&i| !numeric(table, i)).take(2).collect();
    let items = table
        .rows
        .iter()
        .take(30)
        .map(|r| {
            let label: Vec<&str> = text
                .iter()
                .filter_map(|&i| r.cells.get(i).map(String::as_str))
                .collect();
            let v = r
                .cells
                .get(value)
                .and_then(|c| c.parse::<f64>().ok())
                .unwrap_or(0.0);
            (label.join(" "), v)
        })
        .collect();
    (table.columns[value].clone(), items)
}

pub fn section(title: &str, slug: &str, table: pb::ReportTable, chart: Chart) -> Section {
    let (measure, items) = points(&table, chart);
    let chart = match chart {
        Chart::Pareto => svg::pareto(title, &items),
        Chart::Bars => svg::bars(&format!("{title}: {measure}"), "", &items),
    };
    Section {
        title: title.to_owned(),
        slug: slug.to_owned(),
        columns: table.columns,
        rows: table.rows.into_iter().map(|r| r.cells).collect(),
        chart,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(columns: &[&str], rows: &[&[&str]]) -> pb::ReportTable {
        pb::ReportTable {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: rows
                .iter()
                .map(|r| pb::ReportRow {
                    cells: r.iter().map(|c| (*c).to_owned()).collect(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn bars_take_the_last_numeric_column_by_the_text_columns() {
        let t = table(
            &["model", "month", "currency", "total_minor"],
            &[&["WM-800", "2026-11", "CNY", "1200"]],
        );
        let (measure, items) = points(&t, Chart::Bars);
        assert_eq!(measure, "total_minor");
        assert_eq!(items, vec![("WM-800 2026-11".to_owned(), 1200.0)]);
    }

    #[test]
    fn a_pareto_counts_failures_by_the_first_column() {
        let t = table(
            &["failure_mode", "failures", "percent", "cumulative_percent"],
            &[
                &["leak", "3", "75.0", "75.0"],
                &["noise", "1", "25.0", "100.0"],
            ],
        );
        let (_, items) = points(&t, Chart::Pareto);
        assert_eq!(
            items,
            vec![("leak".to_owned(), 3.0), ("noise".to_owned(), 1.0)]
        );
    }
}

/// A page of reports (FRACAS, cost).
#[derive(askama::Template)]
#[template(path = "reports.html")]
pub struct ReportsPage {
    pub chrome: super::page::Chrome,
    pub heading: &'static str,
    /// `/fracas` or `/cost`.
    pub base: &'static str,
    pub product_model: String,
    /// The filters again, for the CSV links (`?product_model=…` or empty).
    pub query: String,
    pub sections: Vec<Section>,
}

/// The filter the report pages share.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ModelFilter {
    #[serde(default)]
    pub product_model: String,
}

impl ModelFilter {
    pub fn query(&self) -> String {
        let model = self.product_model.trim();
        if model.is_empty() {
            String::new()
        } else {
            format!("?product_model={}", super::sla::encode(model))
        }
    }
}

/// The report a CSV link names (`mode_pareto.csv`), by the proto enum's
/// own names: `None` for anything else.
pub fn named<T>(file: &str, prefix: &str, parse: fn(&str) -> Option<T>) -> Option<T> {
    let name = file.strip_suffix(".csv")?;
    parse(&format!("{prefix}{}", name.to_ascii_uppercase()))
}

/// A report's name in links: its proto enum name without the prefix.
pub fn slug(enum_name: &str, prefix: &str) -> String {
    enum_name
        .strip_prefix(prefix)
        .unwrap_or(enum_name)
        .to_ascii_lowercase()
}
