//! The KPI figures (DOMAIN.md §7) for a period of days, overall, per
//! technician, per region (site) or per ISO week, read from the counts
//! the projection keeps ([`super::counts`]) plus the clocks still running
//! past their deadline; as a [`Table`] and CSV.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::counts::{ON_TIME, REVISITS};
use super::SlaConfig;
use crate::db::{Pool, Val};
use crate::report::Table;

/// How KPI figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    All,
    Technician,
    Region,
    Week,
}

/// The four dashboard figures (002 二, 八).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kpi {
    ComplaintOnTime,
    Resolution,
    Satisfaction,
    RepairOnTime,
}

impl Kpi {
    pub fn as_str(self) -> &'static str {
        match self {
            Kpi::ComplaintOnTime => "complaint_on_time",
            Kpi::Resolution => "resolution",
            Kpi::Satisfaction => "satisfaction",
            Kpi::RepairOnTime => "repair_on_time",
        }
    }
}

/// One figure of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiFigure {
    pub group: String,
    pub kpi: Kpi,
    pub numerator: i64,
    pub denominator: i64,
    /// Percent, two decimals; `None` without data.
    pub rate: Option<f64>,
    pub target: u32,
    pub meets_target: Option<bool>,
}

impl KpiFigure {
    fn new(group: String, kpi: Kpi, numerator: i64, denominator: i64, target: u32) -> Self {
        let rate = (denominator > 0)
            .then(|| (numerator as f64 * 10_000.0 / denominator as f64).round() / 100.0);
        Self {
            group,
            kpi,
            numerator,
            denominator,
            rate,
            target,
            meets_target: rate.map(|r| r >= f64::from(target)),
        }
    }
}

/// A period of whole days (`from_day` to `to_day`, in the default
/// calendar's zone; `from` and `to` are its first instant and the first
/// after it) and a grouping, evaluated at `now` (a clock still running
/// past its deadline inside the period counts as late).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiQuery {
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub group_by: GroupBy,
    pub now: DateTime<Utc>,
}

fn key(group_by: GroupBy, week_column: &str) -> String {
    match group_by {
        GroupBy::All => "''".to_owned(),
        GroupBy::Technician => "technician".to_owned(),
        GroupBy::Region => "region".to_owned(),
        GroupBy::Week => week_column.to_owned(),
    }
}

/// Stopped clocks of one clock in the days, from their roll-up.
fn stopped_sql(group_by: GroupBy) -> String {
    let k = key(group_by, "outcome_week");
    format!(
        "SELECT CAST({k} AS TEXT), CAST(SUM(met) AS bigint), CAST(SUM(clocks) AS bigint)
           FROM {} WHERE clock = $1 AND outcome_on >= $2 AND outcome_on <= $3
          GROUP BY 1",
        ON_TIME.table
    )
}

/// Clocks of one clock still running past their deadline (before `now`,
/// inside the period): late, whatever happens next. Few, and indexed by
/// state and deadline.
fn late_sql(group_by: GroupBy) -> String {
    let k = key(group_by, "outcome_week");
    format!(
        "SELECT CAST({k} AS TEXT), CAST(0 AS bigint), CAST(COUNT(*) AS bigint)
           FROM sla_clocks
          WHERE clock = $1 AND state = 'running' AND deadline_at < $4
            AND outcome_at >= $2 AND outcome_at < $3
          GROUP BY 1"
    )
}

fn revisit_sql(group_by: GroupBy) -> String {
    let k = key(group_by, "week");
    format!(
        "SELECT CAST({k} AS TEXT), CAST(SUM(resolved) AS bigint), CAST(SUM(satisfied) AS bigint),
                CAST(SUM(revisits) AS bigint)
           FROM {} WHERE revisited_on >= $1 AND revisited_on <= $2
          GROUP BY 1 ORDER BY 1",
        REVISITS.table
    )
}

type Counts = Vec<(String, i64, i64)>;
type RevisitCounts = Vec<(String, i64, i64, i64)>;

pub(crate) fn figures(
    config: &SlaConfig,
    complaint: Counts,
    repair: Counts,
    revisits: RevisitCounts,
) -> Vec<KpiFigure> {
    let k = &config.policy.kpi;
    let mut out = Vec::new();
    for (kpi, counts, target) in [
        (Kpi::ComplaintOnTime, complaint, k.complaint_on_time),
        (Kpi::RepairOnTime, repair, k.repair_on_time),
    ] {
        out.extend(
            counts
                .into_iter()
                .map(|(group, met, all)| KpiFigure::new(group, kpi, met, all, target)),
        );
    }
    for (group, resolved, satisfied, all) in revisits {
        let figure = |kpi, n, target| KpiFigure::new(group.clone(), kpi, n, all, target);
        out.push(figure(Kpi::Resolution, resolved, k.resolution));
        out.push(figure(Kpi::Satisfaction, satisfied, k.satisfaction));
    }
    out.sort_by(|a, b| (&a.group, a.kpi).cmp(&(&b.group, b.kpi)));
    out
}

pub async fn kpis(
    pool: &Pool,
    config: &SlaConfig,
    q: &KpiQuery,
) -> Result<Vec<KpiFigure>, sqlx::Error> {
    let days = || {
        vec![
            Val::Text(q.from_day.to_string()),
            Val::Text(q.to_day.to_string()),
        ]
    };
    let k = &config.policy.kpi;
    let mut on_time = Vec::new();
    for clock in [&k.complaint_clock, &k.repair_clock] {
        let mut counts: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut stopped = vec![Val::Text(clock.clone())];
        stopped.extend(days());
        let late = vec![
            Val::Text(clock.clone()),
            Val::Time(q.from),
            Val::Time(q.to),
            Val::Time(q.now),
        ];
        for (sql, vals) in [
            (stopped_sql(q.group_by), stopped),
            (late_sql(q.group_by), late),
        ] {
            let rows: Vec<(String, i64, i64)> = pool.fetch(&sql, vals).await?;
            for (group, met, all) in rows {
                let c = counts.entry(group).or_default();
                c.0 += met;
                c.1 += all;
            }
        }
        on_time.push(
            counts
                .into_iter()
                .map(|(group, (met, all))| (group, met, all))
                .collect::<Counts>(),
        );
    }
    let revisits = pool.fetch(&revisit_sql(q.group_by), days()).await?;
    let repair = on_time.pop().unwrap_or_default();
    let complaint = on_time.pop().unwrap_or_default();
    Ok(figures(config, complaint, repair, revisits))
}

/// KPI figures as a table.
pub fn kpi_table(figures: &[KpiFigure]) -> Table {
    Table::new(
        &[
            "group",
            "kpi",
            "numerator",
            "denominator",
            "rate_percent",
            "target_percent",
            "meets_target",
        ],
        figures
            .iter()
            .map(|f| {
                vec![
                    f.group.clone(),
                    f.kpi.as_str().to_owned(),
                    f.numerator.to_string(),
                    f.denominator.to_string(),
                    f.rate.map(|r| format!("{r:.2}")).unwrap_or_default(),
                    f.target.to_string(),
                    f.meets_target.map(|m| m.to_string()).unwrap_or_default(),
                ]
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_percent_with_two_decimals_against_their_targets() {
        let config = SlaConfig::default();
        let f = figures(
            &config,
            vec![("".into(), 3, 3)],
            vec![("".into(), 8, 9)],
            vec![("".into(), 19, 17, 20)],
        );
        let by = |k: Kpi| f.iter().find(|x| x.kpi == k).cloned().expect("figure");
        assert_eq!(
            (
                by(Kpi::ComplaintOnTime).rate,
                by(Kpi::ComplaintOnTime).meets_target
            ),
            (Some(100.0), Some(true))
        );
        assert_eq!(
            (
                by(Kpi::RepairOnTime).rate,
                by(Kpi::RepairOnTime).meets_target
            ),
            (Some(88.89), Some(false))
        );
        assert_eq!(
            (by(Kpi::Resolution).rate, by(Kpi::Resolution).meets_target),
            (Some(95.0), Some(true))
        );
        assert_eq!(
            (
                by(Kpi::Satisfaction).rate,
                by(Kpi::Satisfaction).meets_target
            ),
            (Some(85.0), Some(false))
        );
    }

    #[test]
    fn a_group_without_data_has_no_rate() {
        let f = KpiFigure::new("tech-1".into(), Kpi::Resolution, 0, 0, 95);
        assert_eq!((f.rate, f.meets_target), (None, None));
    }
}
