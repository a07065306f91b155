//! History import throughput: the example history of docs/IMPORT.md copied
//! under fresh ticket ids, read from JSON Lines and imported into a fresh
//! store exactly as `ticketd import` does.

use std::sync::Arc;
use std::time::Instant;

use domain::{TicketServices, TimingPolicy};
use tokio::sync::Notify;

use super::Error;
use crate::bus::CommandBus;
use crate::clock::SystemClock;
use crate::policy::PolicyHandle;
use crate::store::StoreConfig;

const EXAMPLE: &str = include_str!("../../../examples/import/history.jsonl");

/// The example's three tickets, `copies` times under other ids.
pub fn history(copies: usize) -> String {
    (0..copies)
        .map(|i| EXAMPLE.replace("H-10", &format!("B{i}-H-10")))
        .collect()
}

/// What one import measured.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub events: u64,
    pub events_per_second: f64,
}

/// Imports `copies` copies of the example into `store` (fresh), timing
/// the parse and the import.
pub async fn measure(
    store: &StoreConfig,
    label: &str,
    copies: usize,
    policy: &PolicyHandle,
) -> Result<Imported, Error> {
    let text = history(copies);
    let db = crate::store::open(store).await?;
    crate::store::migrate(&db).await?;
    let services = TicketServices::new(Arc::new(SystemClock), (*policy.current()).clone())
        .with_timing(TimingPolicy::STANDARD);
    // The bench's data is made up: a key of its own, kept nowhere.
    let master = crate::privacy::MasterKey::generate();
    let bus = CommandBus::new(db.clone(), services, Arc::new(Notify::new()), master);
    let bar = super::bar(text.lines().count() as u64, &format!("import ({label})"));
    let started = Instant::now();
    let lines = crate::rpc::import::read_json_lines(&text)?;
    let importer = domain::Actor {
        id: domain::values::ActorId::parse("bench-importer")?,
        role: domain::Role::Importer,
    };
    let report = crate::import::run(&bus, &importer, lines, |done| bar.set_position(done)).await?;
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    bar.finish();
    db.close().await;
    if !report.rejections.is_empty() {
        return Err(format!("the bench import was refused: {:?}", report.rejections[0]).into());
    }
    Ok(Imported {
        events: report.events_written,
        events_per_second: report.events_written as f64 / elapsed,
    })
}
