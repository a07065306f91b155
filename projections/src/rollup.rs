//! Roll-ups: tables a read model keeps so that a report reads one row per
//! cell (its key columns, how many streams contribute, the sums they add)
//! instead of every detail row. The cost ledger's are in
//! [`crate::cost::rollup`], FRACAS's in [`crate::fracas::counts`].
//!
//! Invariant: a row is the sum over streams of what each one adds to that
//! cell now. A changed stream moves each cell by the difference
//! ([`Rollup::moves`]) and a cell no stream is left in is deleted
//! (`kept_tests` checks every roll-up against a rebuild). Adding one: a
//! [`Rollup`] constant, a line in its read model's list and `TABLES`, its
//! table in a migration per store.

use std::collections::BTreeMap;

use crate::engine::Target;
use crate::kept::Statements;
use crate::rows::Write;

/// What one stream adds to a roll-up: per cell (its key values), its sums.
pub type Cells = BTreeMap<Vec<String>, Vec<i64>>;

/// One roll-up table, filled from what a read model keeps of a stream (`T`).
#[derive(Debug)]
pub struct Rollup<T> {
    pub table: &'static str,
    pub keys: &'static [&'static str],
    pub sums: &'static [&'static str],
    /// What one stream adds to it.
    pub cells: fn(&T) -> Cells,
}

/// Adds `sums` to `key`'s cell.
pub fn add(cells: &mut Cells, key: Vec<String>, sums: &[i64]) {
    let sum = cells.entry(key).or_insert_with(|| vec![0; sums.len()]);
    for (s, v) in sum.iter_mut().zip(sums) {
        *s += v;
    }
}

impl<T> Rollup<T> {
    /// The statements that move the roll-up at `at` from what a stream
    /// added `before` to what it adds `now`.
    pub fn moves(&self, at: &Target, before: &Cells, now: &Cells) -> Statements {
        let table = at.table(self.table);
        let mut out = Statements::new();
        for cell in before
            .keys()
            .chain(now.keys().filter(|c| !before.contains_key(*c)))
        {
            let (was, is) = (before.get(cell), now.get(cell));
            let members = i64::from(is.is_some()) - i64::from(was.is_some());
            let at = |sums: Option<&Vec<i64>>, i: usize| sums.map_or(0, |s| s[i]);
            let moved: Vec<i64> = (0..self.sums.len())
                .map(|i| at(is, i) - at(was, i))
                .collect();
            if members == 0 && moved.iter().all(|m| *m == 0) {
                continue;
            }
            out.push(Write::Add {
                table: table.clone(),
                keys: self.keys,
                key: cell.clone(),
                members,
                sums: self.sums,
                deltas: moved,
            });
        }
        out
    }

    /// The moves from what `before` added to what `now` adds (`None`:
    /// nothing).
    pub fn moves_between(&self, at: &Target, before: Option<&T>, now: Option<&T>) -> Statements {
        let cells = |x: Option<&T>| x.map(self.cells).unwrap_or_default();
        self.moves(at, &cells(before), &cells(now))
    }
}
