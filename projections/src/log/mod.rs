//! The event log, used by the write side and by the projections alike: the
//! `events` table's one writer ([`append`]), the hash chains ([`seal`]),
//! and reading the global log and one stream's history, with the
//! sequencers that extend it ([`read`]).

pub mod append;
pub mod read;
pub mod seal;

pub use read::*;
