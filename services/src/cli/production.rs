//! What `serve --production` refuses before anything is opened: settings
//! that are fine on a developer's machine and a hole on a network
//! (docs/SECURITY.md, docs/DEPLOYMENT.md).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::ServeArgs;

/// A setting production mode refuses; each names the flag and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductionError {
    #[error("--production refuses --insecure-dev-auth: every caller would be whoever its x-actor-id / x-actor-role headers say; give --auth-file")]
    InsecureDevAuth,
    #[error("--production refuses {flag} {addr} without TLS: a listener off the loopback interface needs --tls-cert and --tls-key")]
    PlainTextOffLoopback {
        flag: &'static str,
        addr: SocketAddr,
    },
    #[error("--production refuses {flag} {path}: mode {mode:03o} lets its group or other users read it (chmod 600)")]
    SecretOpenToOthers {
        flag: &'static str,
        path: PathBuf,
        mode: u32,
    },
    #[error("--production cannot read {flag} {path}: {reason}")]
    Unreadable {
        flag: &'static str,
        path: PathBuf,
        reason: String,
    },
}

/// Checks `args` when they ask for production mode; development mode is
/// not checked here.
pub(super) fn check(args: &ServeArgs) -> Result<(), ProductionError> {
    if !args.keys.production {
        return Ok(());
    }
    if args.insecure_dev_auth {
        return Err(ProductionError::InsecureDevAuth);
    }
    let tls = args.tls_cert.is_some();
    let listeners = [
        ("--listen", Some(args.listen)),
        (
            "--metrics-listen",
            (!args.no_metrics).then_some(args.metrics_listen),
        ),
        (
            "--console-listen",
            (!args.no_console).then_some(args.console_listen),
        ),
    ];
    for (flag, addr) in listeners {
        if let Some(addr) = addr.filter(|a| !tls && !a.ip().is_loopback()) {
            return Err(ProductionError::PlainTextOffLoopback { flag, addr });
        }
    }
    let secrets = [
        ("--master-key-file", args.keys.master_key_file.as_deref()),
        ("--tls-key", args.tls_key.as_deref()),
    ];
    for (flag, path) in secrets {
        if let Some(path) = path {
            private(flag, path)?;
        }
    }
    Ok(())
}

/// Refuses a secret file its group or others may read.
fn private(flag: &'static str, path: &Path) -> Result<(), ProductionError> {
    match crate::files::open_to_others(path) {
        Ok(None) => Ok(()),
        Ok(Some(mode)) => Err(ProductionError::SecretOpenToOthers {
            flag,
            path: path.to_owned(),
            mode,
        }),
        Err(e) => Err(ProductionError::Unreadable {
            flag,
            path: path.to_owned(),
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn serve(extra: &[&str]) -> ServeArgs {
        let mut argv = vec!["ticketd", "serve"];
        argv.extend_from_slice(extra);
        match super::super::Cli::try_parse_from(argv)
            .expect("parses")
            .command
        {
            super::super::Command::Serve(args) => args,
            other => panic!("not serve: {other:?}"),
        }
    }

    fn key_file(mode: u32) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("master.key");
        std::fs::write(&path, "00".repeat(32)).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        let shown = path.display().to_string();
        (dir, shown)
    }

    #[test]
    fn given_production_with_insecure_dev_auth_then_it_is_refused() {
        let e = check(&serve(&["--production", "--insecure-dev-auth"])).expect_err("refused");
        assert_eq!(e, ProductionError::InsecureDevAuth);
        assert!(e.to_string().contains("--insecure-dev-auth"));
    }

    #[test]
    fn given_development_with_insecure_dev_auth_then_nothing_is_refused_here() {
        check(&serve(&[
            "--insecure-dev-auth",
            "--listen",
            "0.0.0.0:50051",
        ]))
        .expect("dev mode");
    }

    #[test]
    fn given_production_on_a_public_address_without_tls_then_each_listener_is_refused() {
        let (_dir, key) = key_file(0o600);
        let base = [
            "--production",
            "--auth-file",
            "t.toml",
            "--master-key-file",
            &key,
        ];
        let e = check(&serve(
            &[&base[..], &["--listen", "0.0.0.0:50051"]].concat(),
        ))
        .expect_err("grpc");
        assert!(matches!(
            e,
            ProductionError::PlainTextOffLoopback {
                flag: "--listen",
                ..
            }
        ));
        let e = check(&serve(
            &[&base[..], &["--console-listen", "10.0.0.5:8080"]].concat(),
        ))
        .expect_err("console");
        assert!(matches!(
            e,
            ProductionError::PlainTextOffLoopback {
                flag: "--console-listen",
                ..
            }
        ));
        let no_console = [
            &base[..],
            &["--console-listen", "10.0.0.5:8080", "--no-console"],
        ]
        .concat();
        check(&serve(&no_console)).expect("a listener not served is not checked");
        check(&serve(&base)).expect("loopback in plain text is allowed");
    }

    #[cfg(unix)]
    #[test]
    fn given_production_with_a_master_key_file_others_may_read_then_it_is_refused() {
        let (_dir, key) = key_file(0o644);
        let args = serve(&[
            "--production",
            "--auth-file",
            "t.toml",
            "--master-key-file",
            &key,
        ]);
        let e = check(&args).expect_err("refused");
        assert!(matches!(
            e,
            ProductionError::SecretOpenToOthers {
                flag: "--master-key-file",
                mode: 0o644,
                ..
            }
        ));
        let (_dir, key) = key_file(0o600);
        let args = serve(&[
            "--production",
            "--auth-file",
            "t.toml",
            "--master-key-file",
            &key,
        ]);
        check(&args).expect("owner-only key");
    }
}
