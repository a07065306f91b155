//! `ticketd import FILE`: the history import from a file, with a progress
//! bar and a summary.

use std::path::Path;
use std::sync::Arc;

use domain::{TicketServices, TimingPolicy};
use tokio::sync::Notify;

use crate::bus::CommandBus;
use crate::clock::SystemClock;
use crate::policy::PolicyHandle;
use crate::privacy::MasterKey;
use crate::store::StoreConfig;

/// Imports `file` into the store for `importer`, sealing personal data
/// under `master`; an error if any ticket was rejected (after importing
/// all the others).
pub async fn run(
    file: &Path,
    store: &StoreConfig,
    importer: &domain::Actor,
    policy: PolicyHandle,
    master: MasterKey,
) -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let lines = crate::rpc::import::read_json_lines(&text)?;
    let db = crate::store::open(store).await?;
    crate::store::migrate(&db).await?;
    // The import's own writes are sequenced by the server's log watcher
    // when one runs, or here before returning.
    // Imports are exempt from the back-dating window; the other timing
    // rules do not depend on the limits.
    let services = TicketServices::new(Arc::new(SystemClock), (*policy.current()).clone())
        .with_timing(TimingPolicy::STANDARD);
    let bus =
        CommandBus::new(db.clone(), services, Arc::new(Notify::new()), master).with_policy(policy);
    let bar = indicatif::ProgressBar::new(lines.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "importing [{bar:40}] {pos}/{len} lines ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let report = crate::import::run(&bus, importer, lines, |done| bar.set_position(done)).await;
    bar.finish();
    let sequenced = crate::project::sequence_all(&db).await;
    db.close().await;
    let report = report?;
    sequenced?;
    for r in &report.rejections {
        println!(
            "line {}: ticket {:?}, request {:?}: {}",
            r.line, r.ticket_id, r.request_id, r.reason
        );
    }
    println!(
        "{} lines: {} events written, {} already imported; {} tickets imported, {} rejected",
        report.lines,
        report.events_written,
        report.duplicates,
        report.tickets_imported,
        report.tickets_rejected
    );
    if report.rejections.is_empty() {
        Ok(())
    } else {
        Err(format!("{} line(s) rejected", report.rejections.len()).into())
    }
}
