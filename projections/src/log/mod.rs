//! The event log, used by the write side and by the projections alike: the
//! `events` table's one writer ([`append`]), the hash chains ([`seal`]),
//! and reading the global log and one stream's history, with the
//! sequencers that extend it ([`read`]), an event's metadata read from
//! its stored text ([`metadata`]); and the stretch of it the
//! projection runners of one process share ([`recent`]).

pub mod append;
pub mod backlog;
pub mod metadata;
pub mod read;
pub mod recent;
pub mod seal;

pub use read::*;
