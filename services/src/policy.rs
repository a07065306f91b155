//! The company's policy in a running process: read once at start from the
//! file the CLI names (`--policy` / `TICKETD_POLICY`, else the built-in
//! `config/policy.toml`), shared through a [`PolicyHandle`] with everything
//! that decides, and read again on SIGHUP. A file that fails its checks is
//! refused: at start the server does not start; on reload the old policy
//! stays and the reason is logged.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use domain::period::RestDays;
use domain::policy::file::{parse, BUILTIN};
use domain::policy::PolicyFileError;
use domain::ticket::Policies;
use tokio::sync::watch;

use crate::access::Table;

/// Why a policy could not be loaded. Nothing was changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyLoadError {
    #[error("cannot read policy file {path}: {reason}")]
    Read { path: String, reason: String },
    /// Each problem on its own line as `FILE:LINE:COLUMN: field: message`.
    #[error("policy file {path} refused:\n{}", .problems.in_file(.path))]
    Invalid {
        path: String,
        problems: PolicyFileError,
    },
    #[error("policy file {path} refused: {reason}")]
    Access { path: String, reason: String },
}

/// A policy and the access table it makes (checked together: a file
/// naming an RPC that does not exist is refused).
fn with_table(policies: Policies, path: &str) -> Result<(Policies, Table), PolicyLoadError> {
    let table = Table::of(&policies.access).map_err(|reason| PolicyLoadError::Access {
        path: path.to_owned(),
        reason,
    })?;
    Ok((policies, table))
}

/// Where a process's policy comes from: the file (`None`: built in), and
/// the rest days of the site's business calendar, which periods ending on
/// a date need (the calendar is its own file, `--calendars`).
#[derive(Debug, Clone, Default)]
pub struct PolicySource {
    pub path: Option<PathBuf>,
    pub rest_days: RestDays,
}

/// Reads and checks a policy file; `None`: the built-in policy.
pub fn load(path: Option<&Path>) -> Result<Policies, PolicyLoadError> {
    load_with_table(path).map(|(policies, _)| policies)
}

/// [`load`] with the site's rest days, and the access table it makes.
fn load_from(source: &PolicySource) -> Result<(Policies, Table), PolicyLoadError> {
    let (mut policies, table) = load_with_table(source.path.as_deref())?;
    policies.rest_days = source.rest_days.clone();
    Ok((policies, table))
}

/// [`load`], with the access table the policy makes.
fn load_with_table(path: Option<&Path>) -> Result<(Policies, Table), PolicyLoadError> {
    let Some(path) = path else {
        let policies = parse(BUILTIN).map_err(|problems| PolicyLoadError::Invalid {
            path: "(built-in)".into(),
            problems,
        })?;
        return with_table(policies, "(built-in)");
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| PolicyLoadError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let policies = parse(&text).map_err(|problems| PolicyLoadError::Invalid {
        path: shown.clone(),
        problems,
    })?;
    with_table(policies, &shown)
}

/// The policy in force, shared by the command bus and the services. Each
/// decision takes the current policy once; [`PolicyHandle::reload`]
/// replaces it for the decisions after.
#[derive(Debug, Clone)]
pub struct PolicyHandle {
    current: Arc<watch::Sender<Arc<Policies>>>,
    /// The access table the policy in force makes.
    access: Arc<watch::Sender<Arc<Table>>>,
    source: PolicySource,
}

impl PolicyHandle {
    /// `source` is where the policy came from, read again on reload.
    fn new(policies: Policies, table: Table, source: PolicySource) -> Self {
        let (current, _) = watch::channel(Arc::new(policies));
        let (access, _) = watch::channel(Arc::new(table));
        Self {
            current: Arc::new(current),
            access: Arc::new(access),
            source,
        }
    }

    /// Loads the file (or the built-in policy) into a new handle.
    pub fn load(source: PolicySource) -> Result<Self, PolicyLoadError> {
        let (policies, table) = load_from(&source)?;
        Ok(Self::new(policies, table, source))
    }

    /// The access table in force now.
    pub fn access(&self) -> Arc<Table> {
        self.access.borrow().clone()
    }

    /// The policy in force now.
    pub fn current(&self) -> Arc<Policies> {
        self.current.borrow().clone()
    }

    /// Where the policy comes from, for messages.
    pub fn source(&self) -> String {
        self.source
            .path
            .as_ref()
            .map_or_else(|| "(built-in)".to_owned(), |p| p.display().to_string())
    }

    /// Reads the file again; on success the new policy is in force, on
    /// failure the old one stays.
    pub fn reload(&self) -> Result<Arc<Policies>, PolicyLoadError> {
        let (policies, table) = load_from(&self.source)?;
        let fresh = Arc::new(policies);
        self.access.send_replace(Arc::new(table));
        self.current.send_replace(fresh.clone());
        Ok(fresh)
    }

    /// The metadata every event records of the policy it was decided under.
    pub fn metadata(policies: &Policies) -> [(String, String); 2] {
        [
            ("policy_version".to_owned(), policies.version.label.clone()),
            ("policy_digest".to_owned(), policies.version.digest.clone()),
        ]
    }
}

/// Reloads the policy on every SIGHUP until `stop`.
pub async fn reload_on_hangup(handle: PolicyHandle, mut stop: watch::Receiver<bool>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangup = match signal(SignalKind::hangup()) {
            Ok(hangup) => hangup,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGHUP; the policy will not reload");
                return;
            }
        };
        loop {
            tokio::select! {
                _ = hangup.recv() => log_reload(&handle),
                _ = stop.wait_for(|stop| *stop) => break,
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (handle, stop.wait_for(|stop| *stop).await);
    }
}

fn log_reload(handle: &PolicyHandle) {
    match handle.reload() {
        Ok(policy) => tracing::info!(
            source = %handle.source(),
            version = %policy.version.label,
            digest = %policy.version.digest,
            "policy reloaded"
        ),
        Err(error) => tracing::error!(
            %error,
            version = %handle.current().version.label,
            "policy reload refused; the policy in force stays"
        ),
    }
}

/// What `ticketd policy show` prints: the version, the digest and the file.
pub fn show(path: Option<&Path>) -> Result<String, PolicyLoadError> {
    let (policies, table) = load_with_table(path)?;
    let text = match path {
        None => BUILTIN.to_owned(),
        Some(path) => std::fs::read_to_string(path).map_err(|e| PolicyLoadError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?,
    };
    let source = path.map_or_else(|| "(built-in)".to_owned(), |p| p.display().to_string());
    Ok(format!(
        "policy: {source}\nversion: {}\ndigest: sha256:{}\nproduct lines: {}\napproval tiers: {}\n\n{text}\n\n# The access table (docs/SECURITY.md): who may call each RPC, and each role's view of personal data.\n\n{}",
        policies.version.label,
        policies.version.digest,
        policies.warranty.product_lines.len(),
        policies.approval.tiers.len(),
        table.markdown(),
    ))
}

/// What `ticketd policy check` prints for a good file.
pub fn check(path: &Path) -> Result<String, PolicyLoadError> {
    let policies = load(Some(path))?;
    Ok(format!(
        "{}: ok (version {}, digest sha256:{})",
        path.display(),
        policies.version.label,
        policies.version.digest
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("policy.toml");
        std::fs::write(&path, text).expect("write policy");
        path
    }

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ticketd-policy-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn a_reload_of_a_bad_file_keeps_the_policy_in_force() {
        let dir = temp_dir();
        let path = write(&dir, BUILTIN);
        let handle = PolicyHandle::load(PolicySource {
            path: Some(path.clone()),
            ..PolicySource::default()
        })
        .expect("loads");
        let before = handle.current();

        write(
            &dir,
            &BUILTIN.replace("warranty_months = 12\n", "warranty_months = -1\n"),
        );
        let refused = handle.reload();

        assert!(matches!(refused, Err(PolicyLoadError::Invalid { .. })));
        assert_eq!(handle.current(), before);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_reload_of_a_good_file_puts_it_in_force() {
        let dir = temp_dir();
        let path = write(&dir, BUILTIN);
        let handle = PolicyHandle::load(PolicySource {
            path: Some(path),
            ..PolicySource::default()
        })
        .expect("loads");

        write(
            &dir,
            &BUILTIN.replace("version = \"builtin-1\"", "version = \"v2\""),
        );
        handle.reload().expect("reloads");

        assert_eq!(handle.current().version.label, "v2");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_missing_file_is_refused_naming_it() {
        let error = load(Some(Path::new("/nonexistent/policy.toml"))).expect_err("refused");

        assert!(error.to_string().contains("/nonexistent/policy.toml"));
    }
}
