//! Writing and reading the installed base on either store. A registration
//! is one transaction: every unit is written, or none, with the exposure
//! roll-ups it moves.

use chrono::{DateTime, Utc};

use std::collections::{BTreeMap, BTreeSet};

use super::installed::{DateKind, InstalledUnit};
use super::population::{settle, INSTALLED};
use super::reports::Filter;
use super::Fracas;
use crate::db::{Cells, Pool, Tx, Val};
use crate::engine::Target;
use crate::rows::{self, Conflict, Write};

/// The columns `installed_units` is written with, and those a
/// re-registration replaces.
const COLUMNS: [&str; 8] = [
    "unit_key",
    "product_model",
    "batch",
    "serial",
    "quantity",
    "in_service_on",
    "date_kind",
    "registered_at",
];
const REPLACED: &[&str] = COLUMNS.as_slice().split_at(1).1;

/// Keys read per statement when looking up earlier registrations.
const KEYS_PER_READ: usize = 1_000;

fn upsert(u: &InstalledUnit, at: DateTime<Utc>) -> Write {
    let values = vec![
        Val::Text(u.key()),
        Val::Text(u.product_model.clone()),
        Val::Text(u.batch.clone()),
        Val::OptText(u.serial.clone()),
        Val::Int(i64::try_from(u.quantity).unwrap_or(i64::MAX)),
        Val::OptText(u.in_service_on.map(|d| d.to_string())),
        Val::Text(u.date_kind.as_str().to_owned()),
        Val::Time(at),
    ];
    Write::row("installed_units", COLUMNS.into_iter().zip(values).collect()).on_conflict(
        Conflict::Update {
            key: "unit_key",
            columns: REPLACED,
        },
    )
}

/// Registers `units` (a key registered before is replaced), all in one
/// transaction, and moves the exposure roll-ups ([`super::population`]):
/// the installed base's own cells, and every serial whose member the
/// registration may change (its serials, and the serials seen in tickets
/// of its lots' models and batches), settled on the live FRACAS tables and
/// on a rebuild's shadow when one is running. It holds FRACAS's checkpoint
/// locks meanwhile, so no FRACAS batch settles a serial concurrently.
/// Returns how many rows were written.
pub async fn register(
    store: &Pool,
    units: &[InstalledUnit],
    at: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let mut tx = store.begin().await?;
    let (live, shadow) = (Target::live(&Fracas), Target::shadow(&Fracas));
    tx.lock_checkpoint(&live.checkpoint).await?;
    let rebuilding = !tx
        .texts(
            "SELECT projection FROM projection_checkpoints WHERE projection = $1",
            vec![Val::Text(shadow.checkpoint.clone())],
        )
        .await?
        .is_empty();
    if rebuilding {
        tx.lock_checkpoint(&shadow.checkpoint).await?;
    }
    // The last registration of a key in `units` is the one that stays.
    let last: BTreeMap<String, &InstalledUnit> = units.iter().map(|u| (u.key(), u)).collect();
    let mut registered = previous(&mut tx, last.keys()).await?;
    let mut writes: Vec<Write> = last.values().map(|u| upsert(u, at)).collect();
    let mut touched = Vec::new();
    for u in units {
        let old = registered.insert(u.key(), u.clone());
        writes.extend(INSTALLED.moves_between(&live, old.as_ref(), Some(u)));
        touched.extend(old);
        touched.push(u.clone());
    }
    rows::apply(&mut tx, writes).await?;
    let targets = if rebuilding {
        vec![live, shadow]
    } else {
        vec![live]
    };
    for t in &targets {
        let serials = affected(&mut tx, t, &touched).await?;
        settle(&mut tx, t, &serials).await?;
    }
    tx.commit().await?;
    Ok(u64::try_from(units.len()).unwrap_or(u64::MAX))
}

/// The units registered under `keys` before this registration, by key.
async fn previous(
    tx: &mut Tx,
    keys: impl ExactSizeIterator<Item = &String>,
) -> Result<BTreeMap<String, InstalledUnit>, sqlx::Error> {
    let keys: Vec<&String> = keys.collect();
    let mut found = BTreeMap::new();
    for chunk in keys.chunks(KEYS_PER_READ) {
        let sql = format!("{SELECT} WHERE unit_key IN {}", rows::tuple(1, chunk.len()));
        let vals = chunk.iter().map(|k| Val::Text((*k).clone())).collect();
        for c in tx.texts(&sql, vals).await? {
            let unit = decode(&c)?;
            found.insert(unit.key(), unit);
        }
    }
    Ok(found)
}

/// The serials whose member registering `units` may change at `at`.
async fn affected(
    tx: &mut Tx,
    at: &Target,
    units: &[InstalledUnit],
) -> Result<BTreeSet<String>, sqlx::Error> {
    let mut serials = BTreeSet::new();
    let mut lots = BTreeSet::new();
    for u in units {
        match &u.serial {
            Some(s) => {
                serials.insert(s.clone());
            }
            None => {
                lots.insert((u.product_model.clone(), u.batch.clone()));
            }
        }
    }
    let sql = format!(
        "SELECT DISTINCT serial FROM {} WHERE product_model = $1 AND COALESCE(batch, '') = $2",
        at.table("fracas_units")
    );
    for (model, batch) in lots {
        let rows = tx
            .texts(&sql, vec![Val::Text(model), Val::Text(batch)])
            .await?;
        serials.extend(rows.into_iter().filter_map(|c| c[0].clone()));
    }
    Ok(serials)
}

const SELECT: &str = "SELECT product_model, batch, serial, CAST(quantity AS TEXT), in_service_on,
    date_kind FROM installed_units";

fn decode(c: &Cells) -> Result<InstalledUnit, sqlx::Error> {
    let bad = |what: &str| sqlx::Error::Decode(format!("installed_units.{what}").into());
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
}

/// The installed base, optionally of one model / batch, in key order.
pub async fn installed(store: &Pool, filter: &Filter) -> Result<Vec<InstalledUnit>, sqlx::Error> {
    let mut vals = Vec::new();
    let mut sql = format!("{SELECT} WHERE 1 = 1");
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
    store.texts(&sql, vals).await?.iter().map(decode).collect()
}
