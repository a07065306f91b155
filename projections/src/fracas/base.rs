//! Writing and reading the installed base on either store. A registration
//! is one transaction: every unit is written, or none.

use chrono::{DateTime, Utc};

use super::installed::{DateKind, InstalledUnit};
use super::reports::Filter;
use crate::db::{Pool, Val};

const UPSERT: &str =
    "INSERT INTO installed_units (unit_key, product_model, batch, serial, quantity,
        in_service_on, date_kind, registered_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (unit_key) DO UPDATE SET product_model = excluded.product_model,
        batch = excluded.batch, serial = excluded.serial, quantity = excluded.quantity,
        in_service_on = excluded.in_service_on, date_kind = excluded.date_kind,
        registered_at = excluded.registered_at";

fn values(u: &InstalledUnit, at: DateTime<Utc>) -> Vec<Val> {
    vec![
        Val::Text(u.key()),
        Val::Text(u.product_model.clone()),
        Val::Text(u.batch.clone()),
        Val::OptText(u.serial.clone()),
        Val::Int(i64::try_from(u.quantity).unwrap_or(i64::MAX)),
        Val::OptText(u.in_service_on.map(|d| d.to_string())),
        Val::Text(u.date_kind.as_str().to_owned()),
        Val::Time(at),
    ]
}

/// Registers `units` (a key registered before is replaced), all in one
/// transaction. Returns how many rows were written.
pub async fn register(
    store: &Pool,
    units: &[InstalledUnit],
    at: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let mut tx = store.begin().await?;
    let mut written = 0;
    for u in units {
        written += tx.run(UPSERT, values(u, at)).await?;
    }
    tx.commit().await?;
    Ok(written)
}

/// The installed base, optionally of one model / batch, in key order.
pub async fn installed(store: &Pool, filter: &Filter) -> Result<Vec<InstalledUnit>, sqlx::Error> {
    let mut vals = Vec::new();
    let mut sql = String::from(
        "SELECT product_model, batch, serial, CAST(quantity AS TEXT), in_service_on, date_kind
           FROM installed_units WHERE 1 = 1",
    );
    for (col, v) in [
        ("product_model", &filter.product_model),
        ("batch", &filter.batch),
        ("serial", &filter.serial),
    ] {
        if let Some(v) = v {
            vals.push(Val::Text(v.clone()));
            sql.push_str(&format!(" AND {col} = ${}", vals.len()));
        }
    }
    sql.push_str(" ORDER BY unit_key");
    let bad = |what: &str| sqlx::Error::Decode(format!("installed_units.{what}").into());
    store
        .texts(&sql, vals)
        .await?
        .into_iter()
        .map(|c| {
            Ok(InstalledUnit {
                product_model: c[0].clone().unwrap_or_default(),
                batch: c[1].clone().unwrap_or_default(),
                serial: c[2].clone(),
                quantity: c[3]
                    .as_deref()
                    .and_then(|q| q.parse().ok())
                    .ok_or_else(|| bad("quantity"))?,
                in_service_on: match c[4].as_deref() {
                    None => None,
                    Some(d) => Some(d.parse().map_err(|_| bad("in_service_on"))?),
                },
                date_kind: DateKind::parse(c[5].as_deref().unwrap_or_default())
                    .map_err(|_| bad("date_kind"))?,
            })
        })
        .collect()
}
