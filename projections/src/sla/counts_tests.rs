//! The KPI figures read from the roll-ups equal the figures counted from
//! every clock row, for random histories, batch splits, periods and "now".

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use super::kpis::{figures, kpis, GroupBy, KpiFigure, KpiQuery};
use super::{Sla, SlaConfig};
use crate::db::{Pool, Val};
use crate::kept_tests::sla::sla_history;
use crate::kept_tests::{applied, block_on, logged};
use crate::log::RawEvent;

/// Several tickets' histories in one log, in turn.
fn log(histories: &[Vec<RawEvent>]) -> Vec<RawEvent> {
    let mut out = Vec::new();
    for (t, history) in histories.iter().enumerate() {
        for e in history {
            let payload = serde_json::from_str(&e.payload).expect("json");
            let mut logged = logged(&e.aggregate_type, &format!("t-{t}"), out.len(), payload);
            logged.occurred_at = e.occurred_at;
            out.push(logged);
        }
    }
    out
}

/// The clocks' on-time counts as the KPIs counted them before the
/// roll-ups: every clock row of the period.
const ON_TIME_FROM_ROWS: &str = "SELECT CAST({k} AS TEXT),
        CAST(SUM(CASE WHEN state = 'stopped' AND met = 1 THEN 1 ELSE 0 END) AS bigint),
        CAST(COUNT(*) AS bigint)
   FROM sla_clocks
  WHERE clock = $1 AND outcome_at >= $2 AND outcome_at < $3
    AND (state = 'stopped' OR (state = 'running' AND deadline_at < $4))
  GROUP BY 1 ORDER BY 1";

const REVISITS_FROM_ROWS: &str = "SELECT CAST({k} AS TEXT), CAST(SUM(resolved) AS bigint),
        CAST(SUM(satisfied) AS bigint), CAST(COUNT(*) AS bigint)
   FROM sla_revisits WHERE revisited_at >= $1 AND revisited_at < $2
  GROUP BY 1 ORDER BY 1";

fn column(group_by: GroupBy, week: &str) -> &str {
    match group_by {
        GroupBy::All => "''",
        GroupBy::Technician => "technician",
        GroupBy::Region => "region",
        GroupBy::Week => week,
    }
}

/// The KPI figures counted from every row.
async fn from_rows(store: &Pool, config: &SlaConfig, q: &KpiQuery) -> Vec<KpiFigure> {
    let k = &config.policy.kpi;
    let on_time = ON_TIME_FROM_ROWS.replace("{k}", column(q.group_by, "outcome_week"));
    let mut counts = Vec::new();
    for clock in [&k.complaint_clock, &k.repair_clock] {
        let vals = vec![
            Val::Text(clock.clone()),
            Val::Time(q.from),
            Val::Time(q.to),
            Val::Time(q.now),
        ];
        counts.push(store.fetch(&on_time, vals).await.expect("clocks"));
    }
    let revisits = REVISITS_FROM_ROWS.replace("{k}", column(q.group_by, "week"));
    let revisits = store
        .fetch(&revisits, vec![Val::Time(q.from), Val::Time(q.to)])
        .await
        .expect("revisits");
    let repair = counts.pop().unwrap_or_default();
    let complaint = counts.pop().unwrap_or_default();
    figures(config, complaint, repair, revisits)
}

/// Days `from` to `to` (inclusive) in the default calendar's zone.
fn query(config: &SlaConfig, from: NaiveDate, to: NaiveDate, now: DateTime<Utc>) -> KpiQuery {
    let zone = config.calendars.default.zone;
    let midnight = |d: NaiveDate| {
        zone.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .expect("midnight")
            .with_timezone(&Utc)
    };
    KpiQuery {
        from_day: from,
        to_day: to,
        from: midnight(from),
        to: midnight(to + Duration::days(1)),
        group_by: GroupBy::All,
        now,
    }
}

/// The shipped policy, with KPIs over two clocks these histories stop
/// often (the projection keeps every stopped clock's counts, whatever the
/// KPIs read).
fn config() -> SlaConfig {
    let mut config = SlaConfig::default();
    config.policy.kpi.complaint_clock = "dispatch_arrival".into();
    config.policy.kpi.repair_clock = "repair_cycle".into();
    config
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn the_kpis_from_the_roll_ups_equal_the_kpis_counted_from_every_clock(
        histories in prop::collection::vec(sla_history(), 1..4),
        cuts in prop::collection::vec(0..40_usize, 0..4),
        start in 4..22_i64,
        days in 0..4_i64,
        hours in 0..900_i64,
    ) {
        let config = config();
        let from = NaiveDate::from_ymd_opt(2026, 1, 1).expect("day") + Duration::days(start);
        let now = Utc.with_ymd_and_hms(2026, 1, 6, 0, 0, 0).single().expect("t")
            + Duration::hours(hours);
        let q = query(&config, from, from + Duration::days(days), now);
        block_on(async {
            let store = applied::<Sla>(&log(&histories), &cuts).await;
            for group_by in [GroupBy::All, GroupBy::Technician, GroupBy::Region, GroupBy::Week] {
                let q = KpiQuery { group_by, ..q.clone() };
                let kept = kpis(&store, &config, &q).await.expect("kpis");
                prop_assert_eq!(kept, from_rows(&store, &config, &q).await, "{:?}", group_by);
            }
            Ok(())
        })?;
    }
}
