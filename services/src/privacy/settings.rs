//! The master key's settings, read by `main` (the command line and its
//! environment variables). The key is a value `main` hands to what seals
//! and opens personal data (the command bus, subscriptions); nothing
//! looks it up in the process.

use std::path::{Path, PathBuf};

use clap::Args;

use super::key::{KeyError, MasterKey};

/// Where the master key comes from (docs/PRIVACY.md, docs/DEPLOYMENT.md).
#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    /// The master key file (64 hexadecimal digits) that wraps every
    /// customer's key. Default: <data-dir>/master.key, made on first start
    /// unless --production.
    #[arg(long, env = "TICKETD_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// The master key itself (64 hexadecimal digits), instead of a file.
    #[arg(
        long,
        env = "TICKETD_MASTER_KEY",
        hide_env_values = true,
        conflicts_with = "master_key_file"
    )]
    pub master_key: Option<String>,
    /// Production mode: a missing master key is refused, never made.
    #[arg(long, env = "TICKETD_PRODUCTION")]
    pub production: bool,
}

impl KeyArgs {
    /// The master key these settings name (made in development mode when
    /// there is none yet).
    pub fn master_key(&self, data_dir: &Path) -> Result<MasterKey, KeyError> {
        if let Some(hex) = &self.master_key {
            return MasterKey::from_hex(hex);
        }
        match (&self.master_key_file, self.production) {
            (Some(file), production) => MasterKey::from_file(file, !production),
            (None, true) => Err(KeyError::MissingInProduction),
            (None, false) => MasterKey::from_file(&data_dir.join("master.key"), true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(file: Option<PathBuf>, key: Option<String>, production: bool) -> KeyArgs {
        KeyArgs {
            master_key_file: file,
            master_key: key,
            production,
        }
    }

    #[test]
    fn given_production_without_a_key_then_it_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let e = args(None, None, true)
            .master_key(dir.path())
            .expect_err("refused");
        assert_eq!(e, KeyError::MissingInProduction);
        let missing = Some(dir.path().join("nope.key"));
        let e = args(missing, None, true)
            .master_key(dir.path())
            .expect_err("refused");
        assert_eq!(e, KeyError::MissingInProduction);
        assert!(!dir.path().join("master.key").exists());
    }

    #[test]
    fn given_development_without_a_key_then_the_data_dir_keeps_a_new_one() {
        let dir = tempfile::tempdir().expect("dir");
        let first = args(None, None, false)
            .master_key(dir.path())
            .expect("made");
        let again = args(None, None, false)
            .master_key(dir.path())
            .expect("kept");
        assert_eq!(first.to_hex(), again.to_hex());
        assert!(dir.path().join("master.key").exists());
    }

    #[test]
    fn a_key_given_in_hex_is_used_as_it_is() {
        let dir = tempfile::tempdir().expect("dir");
        let key = MasterKey::generate().to_hex();
        let got = args(None, Some(key.clone()), true).master_key(dir.path());
        assert_eq!(got.expect("key").to_hex(), key);
        let bad = args(None, Some("12".into()), true).master_key(dir.path());
        assert_eq!(bad.expect_err("refused"), KeyError::Malformed);
    }
}
