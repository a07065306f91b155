//! What the tests' servers and rebuilds run with: one master key per test
//! process, the shipped SLA configuration, the built-in policy's day.

use std::sync::LazyLock;

use projections::engine::Context;
use projections::sla::SlaConfig;
use ticketd::policy::PolicyHandle;
use ticketd::privacy::MasterKey;
use ticketd::server::Setup;
use ticketd::store::Pool;

use crate::helpers::{local_time, test_auth};

/// This test process's master key: every in-process server and keyring of
/// the tests, and every child process they start, seal and open with it.
pub fn master_key() -> MasterKey {
    static KEY: LazyLock<MasterKey> = LazyLock::new(MasterKey::generate);
    KEY.clone()
}

/// How the test servers run: `policy`, the shipped SLA configuration,
/// this process's master key, tokens as [`test_auth`] reads them.
pub fn setup(policy: PolicyHandle) -> Setup {
    Setup::new(test_auth(), policy, SlaConfig::shipped(), master_key())
}

/// What the read models compute with in a test (a rebuild's context).
pub fn read_context() -> Context {
    Context::new(local_time(), SlaConfig::shipped())
}

/// Rebuilds `projection` (every one with `None`) as `ticketd rebuild`
/// does, with the tests' context.
pub async fn rebuild(
    db: &Pool,
    projection: Option<&str>,
) -> Result<Vec<(String, projections::rebuild::Rebuilt)>, ticketd::maintenance::RebuildError> {
    ticketd::maintenance::rebuild(db, projection, read_context(), |_, _, _| {}).await
}
