//! Set-based writes for the read models that replace a stream's rows: a
//! batch's writes are described as values ([`Write`]) and written with one
//! statement per table and kind (a `DELETE … IN (…)`, a multi-row
//! `INSERT`), not one round trip per row. The SQL is built from the
//! description, the same on both stores.
//!
//! Invariant: a batch's writes are applied as all its clears, then all its
//! inserts, then its roll-up adds summed per row, then the rest in order.
//! That is what applying each stream's writes in turn gives, because each
//! stream clears and inserts only rows keyed by its own id, and adds to a
//! roll-up row only move counters (addition does not care about order;
//! a row is deleted once, when the sum leaves it no members).

use std::collections::BTreeMap;

use crate::db::{Tx, Val};
use crate::engine::Target;

/// Parameters per statement, under both stores' limits.
pub(crate) const MAX_PARAMS: usize = 30_000;

/// What to do when an inserted row's key is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conflict {
    /// Nothing: the key is new (an error otherwise).
    None,
    /// Keep the row there.
    Ignore,
    /// Replace these columns of the row there, on this key.
    Update {
        key: &'static str,
        columns: &'static [&'static str],
    },
}

/// One write of a read model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Remove every row of `table` whose `key` column is `id`.
    Clear {
        table: String,
        key: &'static str,
        id: String,
    },
    /// Add one row.
    Insert {
        table: String,
        columns: Vec<&'static str>,
        values: Vec<Val>,
        conflict: Conflict,
    },
    /// Add to the counters of one roll-up row: `members` to its
    /// [`MEMBERS`] column and `deltas` to its `sums`, on the row whose
    /// `keys` columns hold `key` (made at zero when missing). A batch's
    /// adds to one row are summed and written once; a row left with no
    /// members is deleted.
    Add {
        table: String,
        keys: &'static [&'static str],
        key: Vec<String>,
        members: i64,
        sums: &'static [&'static str],
        deltas: Vec<i64>,
    },
    /// Any other statement, run as it is, after the clears and inserts.
    Run(String, Vec<Val>),
}

/// The column of a roll-up row that counts what contributes to it.
pub const MEMBERS: &str = "tickets";

impl Write {
    pub fn clear(table: &str, key: &'static str, id: &str) -> Self {
        Write::Clear {
            table: table.to_owned(),
            key,
            id: id.to_owned(),
        }
    }

    /// Add one row of `table`: each column with its value.
    pub fn row(table: &str, cells: Vec<(&'static str, Val)>) -> Self {
        let (columns, values) = cells.into_iter().unzip();
        Write::Insert {
            table: table.to_owned(),
            columns,
            values,
            conflict: Conflict::None,
        }
    }

    /// The same insert, resolving a taken key by `conflict`.
    pub fn on_conflict(self, conflict: Conflict) -> Self {
        match self {
            Write::Insert {
                table,
                columns,
                values,
                ..
            } => Write::Insert {
                table,
                columns,
                values,
                conflict,
            },
            other => other,
        }
    }
}

/// The tables `names` at `at`, and the writes that clear from each the
/// rows whose `key` is `id` (a stream's rows, before they are written anew).
pub fn cleared<const N: usize>(
    at: &Target,
    names: [&str; N],
    key: &'static str,
    id: &str,
) -> ([String; N], Vec<Write>) {
    let tables = names.map(|t| at.table(t));
    let clears = tables.iter().map(|t| Write::clear(t, key, id)).collect();
    (tables, clears)
}

/// `$from`, …, `$(from + n - 1)` in parentheses.
pub(crate) fn tuple(from: usize, n: usize) -> String {
    let params: Vec<String> = (from..from + n).map(|i| format!("${i}")).collect();
    format!("({})", params.join(", "))
}

/// `rows` tuples of `per` parameters each, numbered from `$1`.
pub(crate) fn tuples(rows: usize, per: usize) -> String {
    let all: Vec<String> = (0..rows).map(|i| tuple(1 + i * per, per)).collect();
    all.join(", ")
}

/// Adds `item` to `key`'s group, in first-seen order.
fn group<K: PartialEq, T>(groups: &mut Vec<(K, Vec<T>)>, key: K, item: T) {
    match groups.iter_mut().find(|(k, _)| *k == key) {
        Some((_, items)) => items.push(item),
        None => groups.push((key, vec![item])),
    }
}

/// A roll-up table's adds, summed per row: key → (members, sums).
type Adds = BTreeMap<Vec<String>, Counters>;
/// A row's members and sums.
type Counters = (i64, Vec<i64>);
type AddKey = (String, &'static [&'static str], &'static [&'static str]);

/// Applies `writes` in `tx`: each table's clears in one statement, each
/// (table, columns, conflict)'s inserts in one multi-row statement (split
/// under the parameter limit), each roll-up's adds summed per row in one
/// upsert, then the other statements in order.
pub async fn apply(tx: &mut Tx, writes: Vec<Write>) -> Result<(), sqlx::Error> {
    let mut clears: Vec<((String, &'static str), Vec<Val>)> = Vec::new();
    type InsertKey = (String, Vec<&'static str>, Conflict);
    let mut inserts: Vec<(InsertKey, Vec<Vec<Val>>)> = Vec::new();
    let mut adds: Vec<(AddKey, Adds)> = Vec::new();
    let mut runs = Vec::new();
    for w in writes {
        match w {
            Write::Add {
                table,
                keys,
                key,
                members,
                sums,
                deltas,
            } => {
                let at = match adds
                    .iter()
                    .position(|(k, _)| k.0 == table && k.1 == keys && k.2 == sums)
                {
                    Some(at) => at,
                    None => {
                        adds.push(((table, keys, sums), Adds::new()));
                        adds.len() - 1
                    }
                };
                let row = adds[at]
                    .1
                    .entry(key)
                    .or_insert_with(|| (0, vec![0; deltas.len()]));
                row.0 += members;
                for (total, d) in row.1.iter_mut().zip(deltas) {
                    *total += d;
                }
            }
            Write::Clear { table, key, id } => group(&mut clears, (table, key), Val::Text(id)),
            Write::Insert {
                table,
                columns,
                values,
                conflict,
            } => group(&mut inserts, (table, columns, conflict), values),
            Write::Run(sql, vals) => runs.push((sql, vals)),
        }
    }
    for ((table, key), ids) in clears {
        for chunk in ids.chunks(MAX_PARAMS) {
            let sql = format!(
                "DELETE FROM {table} WHERE {key} IN {}",
                tuple(1, chunk.len())
            );
            tx.run(&sql, chunk.to_vec()).await?;
        }
    }
    for ((table, columns, conflict), rows) in inserts {
        let per = columns.len().max(1);
        let on_conflict = match conflict {
            Conflict::None => String::new(),
            Conflict::Ignore => " ON CONFLICT DO NOTHING".to_owned(),
            Conflict::Update { key, columns } => {
                let set: Vec<String> = columns
                    .iter()
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect();
                format!(" ON CONFLICT ({key}) DO UPDATE SET {}", set.join(", "))
            }
        };
        for chunk in rows.chunks((MAX_PARAMS / per).max(1)) {
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES {}{on_conflict}",
                columns.join(", "),
                tuples(chunk.len(), per)
            );
            tx.run(&sql, chunk.iter().flatten().cloned().collect())
                .await?;
        }
    }
    for ((table, keys, sums), rows) in adds {
        add(tx, &table, keys, sums, rows).await?;
    }
    for (sql, vals) in runs {
        tx.run(&sql, vals).await?;
    }
    Ok(())
}

/// Writes one roll-up's summed adds: one multi-row upsert, then a delete
/// of each row whose last member left.
async fn add(
    tx: &mut Tx,
    table: &str,
    keys: &[&str],
    sums: &[&str],
    rows: Adds,
) -> Result<(), sqlx::Error> {
    let moved: Vec<(Vec<String>, Counters)> = rows
        .into_iter()
        .filter(|(_, (members, deltas))| *members != 0 || deltas.iter().any(|d| *d != 0))
        .collect();
    let columns = [keys, &[MEMBERS], sums].concat();
    let set: Vec<String> = columns[keys.len()..]
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect();
    let per = columns.len();
    for chunk in moved.chunks((MAX_PARAMS / per).max(1)) {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
            columns.join(", "),
            tuples(chunk.len(), per),
            keys.join(", "),
            set.join(", ")
        );
        let vals = chunk.iter().flat_map(|(key, (members, deltas))| {
            let key = key.iter().cloned().map(Val::Text);
            key.chain(
                std::iter::once(*members)
                    .chain(deltas.iter().copied())
                    .map(Val::Int),
            )
        });
        tx.run(&sql, vals.collect()).await?;
    }
    let key_is: Vec<String> = (keys.iter().enumerate())
        .map(|(i, k)| format!("{k} = ${}", i + 1))
        .collect();
    let empty = format!(
        "DELETE FROM {table} WHERE {} AND {MEMBERS} = 0",
        key_is.join(" AND ")
    );
    for (key, _) in moved.iter().filter(|(_, (members, _))| *members < 0) {
        tx.run(&empty, key.iter().cloned().map(Val::Text).collect())
            .await?;
    }
    Ok(())
}
