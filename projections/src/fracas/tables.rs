//! Every FRACAS report as a table: rows read by [`super::reports`], figures
//! computed by [`super::analysis`].

use chrono::NaiveDate;
use domain::LocalTime;

use super::analysis::{self, GroupBy};
use super::base::installed;
use super::counts::{self, Key};
use super::exposure::{self, Exposure};
use super::installed::Population;
use super::population;
use super::records::FailureRecord;
use super::reports::{
    actions, failures, history, relevant, relevant_failures, repeat_candidates, units, ActionRow,
    Cursor, Filter,
};
use super::trends::{self, Period, PeriodPareto};
use crate::db::{parse_time, Pool};
use crate::report::{Page, Table};

/// The reports FRACAS offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    Failures,
    ModePareto,
    PartPareto,
    RepeatFailures,
    MtbfByModel,
    MtbfByBatch,
    NffRate,
    OpenActions,
    RecurrencesAfterClose,
    ModeParetoByPeriod,
    PartParetoByPeriod,
    FailureRateTrendByBatch,
    OverdueActionSteps,
}

impl Report {
    pub fn file_stem(self) -> &'static str {
        match self {
            Report::Failures => "failures",
            Report::ModePareto => "mode-pareto",
            Report::PartPareto => "part-pareto",
            Report::RepeatFailures => "repeat-failures",
            Report::MtbfByModel => "mtbf-by-model",
            Report::MtbfByBatch => "mtbf-by-batch",
            Report::NffRate => "nff-rate",
            Report::OpenActions => "open-actions",
            Report::RecurrencesAfterClose => "recurrences-after-close",
            Report::ModeParetoByPeriod => "mode-pareto-by-period",
            Report::PartParetoByPeriod => "part-pareto-by-period",
            Report::FailureRateTrendByBatch => "failure-rate-trend-by-batch",
            Report::OverdueActionSteps => "overdue-action-steps",
        }
    }
}

/// What a report is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub report: Report,
    pub filter: Filter,
    /// Exposure end for MTBF, and "today" for ages.
    pub as_of: NaiveDate,
    /// Repeat-failure limit in days.
    pub repeat_within_days: i64,
    /// The period of the trend reports.
    pub period: Period,
    /// What "the day" of an instant is (the policy's UTC offset).
    pub local: LocalTime,
    /// A page of the failure listing (`Report::Failures` only); `None`:
    /// every row.
    pub page: Option<Page<Cursor>>,
}

fn local_date(local: LocalTime, rfc3339: &str) -> Option<NaiveDate> {
    parse_time(rfc3339).map(|t| local.local_date(t))
}

/// The population of the reliability figures: the installed base and the
/// units seen in tickets, of the filter's model and batch.
pub async fn population(store: &Pool, filter: &Filter) -> Result<Population, sqlx::Error> {
    let base = Filter {
        serial: None,
        ..filter.clone()
    };
    Ok(Population::new(
        &installed(store, &base).await?,
        &units(store, filter).await?,
    ))
}

/// The exposure of the MTBF and rate figures: from the roll-ups when they
/// answer the filter, else from the population and the relevant failures.
pub async fn exposure(store: &Pool, filter: &Filter) -> Result<Exposure, sqlx::Error> {
    if population::answers(filter) {
        return population::read(store, filter).await;
    }
    Ok(exposure::of_population(
        &population(store, filter).await?,
        &relevant(store, filter).await?,
    ))
}

fn period_pareto(rows: Vec<PeriodPareto>, key: &str) -> Table {
    Table::new(
        &[
            "period",
            "product_model",
            key,
            "failures",
            "percent",
            "cumulative_percent",
        ],
        rows.into_iter()
            .map(|p| {
                vec![
                    p.period,
                    p.product_model,
                    p.row.key,
                    p.row.count.to_string(),
                    p.row.percent,
                    p.row.cumulative_percent,
                ]
            })
            .collect(),
    )
}

/// The failure-rate trend per model, batch and period.
async fn rate_trend(store: &Pool, r: &Request) -> Result<Table, sqlx::Error> {
    let e = exposure(store, &r.filter).await?;
    let rows = trends::rate_trend_of(&e, r.as_of, r.filter.from, r.filter.to, r.period);
    Ok(Table::new(
        &[
            "product_model",
            "batch",
            "period",
            "units",
            "unit_days",
            "failures",
            "failures_per_1000_unit_days",
        ],
        rows.into_iter()
            .map(|x| {
                vec![
                    x.product_model,
                    x.batch,
                    x.period,
                    x.units.to_string(),
                    x.unit_days.to_string(),
                    x.failures.to_string(),
                    x.failures_per_1000_unit_days,
                ]
            })
            .collect(),
    ))
}

/// The failure-mode counts of the request's failures.
async fn modes(store: &Pool, r: &Request) -> Result<Vec<counts::Count>, sqlx::Error> {
    counts::read(store, &r.filter, Key::FailureMode).await
}

/// Runs a report.
pub async fn run(store: &Pool, r: &Request) -> Result<Table, sqlx::Error> {
    let pareto = |rows: Vec<analysis::ParetoRow>, key: &str| {
        Table::new(
            &[key, "failures", "percent", "cumulative_percent"],
            rows.into_iter()
                .map(|p| vec![p.key, p.count.to_string(), p.percent, p.cumulative_percent])
                .collect(),
        )
    };
    Ok(match r.report {
        Report::ModeParetoByPeriod => period_pareto(
            trends::pareto_by_period(&modes(store, r).await?, r.period),
            "failure_mode",
        ),
        Report::PartParetoByPeriod => period_pareto(
            trends::pareto_by_period(
                &counts::read(store, &r.filter, Key::PartNumber).await?,
                r.period,
            ),
            "part_number",
        ),
        Report::FailureRateTrendByBatch => rate_trend(store, r).await?,
        Report::OverdueActionSteps => Table::new(
            &[
                "action_id",
                "title",
                "discipline",
                "owner",
                "due_on",
                "days_overdue",
            ],
            super::reports::overdue_steps(store, r.as_of)
                .await?
                .into_iter()
                .map(|o| {
                    vec![
                        o.action_id,
                        o.title,
                        o.discipline,
                        o.owner,
                        o.due_on.to_string(),
                        (r.as_of - o.due_on).num_days().to_string(),
                    ]
                })
                .collect(),
        ),
        Report::Failures => match &r.page {
            None => failure_table(failures(store, &r.filter).await?),
            Some(page) => {
                let (rows, next) =
                    history(store, &r.filter, page.after.as_ref(), page.size).await?;
                let mut table = failure_table(rows);
                table.next_page_token = next.map(|c| c.token());
                table
            }
        },
        Report::ModePareto => pareto(analysis::pareto_of(&modes(store, r).await?), "failure_mode"),
        Report::PartPareto => pareto(
            analysis::pareto_of(&counts::read(store, &r.filter, Key::PartNumber).await?),
            "part_number",
        ),
        Report::RepeatFailures => Table::new(
            &[
                "serial",
                "product_model",
                "failure_mode",
                "first_ticket",
                "first_on",
                "repeat_ticket",
                "repeat_on",
                "days_between",
            ],
            analysis::repeats(
                &repeat_candidates(store, &r.filter).await?,
                r.repeat_within_days,
            )
            .into_iter()
            .map(|x| {
                vec![
                    x.serial,
                    x.product_model,
                    x.failure_mode,
                    x.first_ticket,
                    x.first_on.to_string(),
                    x.repeat_ticket,
                    x.repeat_on.to_string(),
                    x.days_between.to_string(),
                ]
            })
            .collect(),
        ),
        Report::MtbfByModel | Report::MtbfByBatch => {
            let group = if r.report == Report::MtbfByModel {
                GroupBy::Model
            } else {
                GroupBy::Batch
            };
            let e = exposure(store, &r.filter).await?;
            Table::new(
                &[
                    "product_model",
                    "batch",
                    "units",
                    "unit_days",
                    "failures",
                    "mtbf_days",
                    "failures_per_1000_unit_days",
                ],
                analysis::reliability_of(&e, r.as_of, group)
                    .into_iter()
                    .map(|x| {
                        vec![
                            x.product_model,
                            x.batch,
                            x.units.to_string(),
                            x.unit_days.to_string(),
                            x.failures.to_string(),
                            x.mtbf_days,
                            x.failures_per_1000_unit_days,
                        ]
                    })
                    .collect(),
            )
        }
        Report::NffRate => Table::new(
            &["product_model", "diagnoses", "no_fault_found", "percent"],
            analysis::nff_of(&modes(store, r).await?)
                .into_iter()
                .map(|x| {
                    vec![
                        x.product_model,
                        x.diagnoses.to_string(),
                        x.no_fault_found.to_string(),
                        x.percent,
                    ]
                })
                .collect(),
        ),
        Report::OpenActions => {
            let mut open: Vec<(i64, ActionRow)> = actions(store)
                .await?
                .into_iter()
                .filter(|a| a.status != "closed")
                .map(|a| {
                    let age =
                        local_date(r.local, &a.opened_at).map_or(0, |d| (r.as_of - d).num_days());
                    (age, a)
                })
                .collect();
            open.sort_by(|a, b| {
                b.0.cmp(&a.0)
                    .then_with(|| a.1.action_id.cmp(&b.1.action_id))
            });
            Table::new(
                &[
                    "action_id",
                    "title",
                    "status",
                    "opened_on",
                    "age_days",
                    "failure_modes",
                    "models",
                    "opened_by",
                ],
                open.into_iter()
                    .map(|(age, a)| {
                        vec![
                            a.action_id,
                            a.title,
                            a.status,
                            local_date(r.local, &a.opened_at)
                                .map(|d| d.to_string())
                                .unwrap_or_default(),
                            age.to_string(),
                            a.failure_modes.join(" "),
                            a.models.join(" "),
                            a.opened_by,
                        ]
                    })
                    .collect(),
            )
        }
        Report::RecurrencesAfterClose => recurrences_after_close(store, r).await?,
    })
}

/// Relevant failures of a closed action's modes and models reported after
/// it closed, per closed action.
async fn recurrences_after_close(store: &Pool, r: &Request) -> Result<Table, sqlx::Error> {
    let mut rows = Vec::new();
    for a in actions(store).await? {
        let Some(closed_at) = a.closed_at.as_deref() else {
            continue;
        };
        let closed_on = local_date(r.local, closed_at);
        let after = Some(closed_at);
        for f in relevant_failures(store, &r.filter, &a.failure_modes, &a.models, after).await? {
            rows.push(vec![
                a.action_id.clone(),
                closed_on.map(|d| d.to_string()).unwrap_or_default(),
                f.ticket_id,
                f.serial,
                f.product_model,
                f.failure_mode,
                f.failed_on.to_string(),
                closed_on
                    .map(|d| (f.failed_on - d).num_days().to_string())
                    .unwrap_or_default(),
            ]);
        }
    }
    Ok(Table::new(
        &[
            "action_id",
            "closed_on",
            "ticket_id",
            "serial",
            "product_model",
            "failure_mode",
            "failed_on",
            "days_after_close",
        ],
        rows,
    ))
}

/// Failure records as the failure listing shows them.
fn failure_table(rows: Vec<FailureRecord>) -> Table {
    Table::new(
        &[
            "ticket_id",
            "record_no",
            "signal",
            "failed_on",
            "product_model",
            "serial",
            "batch",
            "failure_mode",
            "symptom",
            "failed_parts",
            "root_cause",
            "responsible_department",
            "operating_days",
            "no_fault_found",
            "misuse",
            "cycle",
        ],
        rows.into_iter()
            .map(|f| {
                vec![
                    f.ticket_id,
                    f.record_no.to_string(),
                    f.signal.as_str().to_owned(),
                    f.failed_on.to_string(),
                    f.product_model,
                    f.serial,
                    f.batch.unwrap_or_default(),
                    f.failure_mode,
                    f.symptom,
                    f.failed_parts.join(" "),
                    f.root_cause.unwrap_or_default(),
                    f.responsible_department.unwrap_or_default(),
                    f.operating_days.map(|d| d.to_string()).unwrap_or_default(),
                    f.no_fault_found.to_string(),
                    f.misuse.to_string(),
                    f.cycle.to_string(),
                ]
            })
            .collect(),
    )
}
