//! TLS for every listener ticketd opens (gRPC, `/metrics` and the console), with rustls:
//! a certificate chain and key from PEM files, and optionally the CA whose
//! certificates gRPC clients must present (mutual TLS for service clients).
//!
//! Invariant: a server given TLS accepts nothing in clear text on any of
//! its ports.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// Where the PEM files are (from `--tls-cert`, `--tls-key`,
/// `--tls-client-ca`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

/// Why TLS could not be set up. The server does not start.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} holds no PEM {expected}")]
    NoPem {
        what: String,
        expected: &'static str,
    },
    #[error("TLS configuration refused: {0}")]
    Refused(String),
}

/// The server's TLS settings, checked once at start.
#[derive(Clone)]
pub struct Tls {
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    client_ca_pem: Option<Vec<u8>>,
    /// For `/metrics` (server authentication only: a scraper need not hold
    /// a client certificate).
    metrics: Arc<ServerConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("mutual", &self.client_ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Refused(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::NoPem {
            what: what.to_owned(),
            expected: "certificate",
        });
    }
    Ok(certs)
}

impl Tls {
    /// Reads and checks the files.
    pub fn load(files: &TlsFiles) -> Result<Self, TlsError> {
        let client_ca = match &files.client_ca {
            Some(path) => Some(read(path)?),
            None => None,
        };
        Self::from_pem(read(&files.cert)?, read(&files.key)?, client_ca)
    }

    /// Checks PEM text: a certificate chain, its private key, and
    /// optionally the CA of the clients' certificates.
    pub fn from_pem(
        cert_pem: Vec<u8>,
        key_pem: Vec<u8>,
        client_ca_pem: Option<Vec<u8>>,
    ) -> Result<Self, TlsError> {
        let chain = certificates(&cert_pem, "the certificate file")?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::NoPem {
            what: "the key file".into(),
            expected: "private key",
        })?;
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Refused(e.to_string()))?;
        let mut metrics = builder
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| TlsError::Refused(e.to_string()))?;
        metrics.alpn_protocols = vec![b"http/1.1".to_vec()];
        if let Some(ca) = &client_ca_pem {
            // Checked here, so that a bad CA file stops the start.
            let mut roots = RootCertStore::empty();
            for cert in certificates(ca, "the client CA file")? {
                roots
                    .add(cert)
                    .map_err(|e| TlsError::Refused(format!("the client CA file: {e}")))?;
            }
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsError::Refused(format!("the client CA file: {e}")))?;
        }
        Ok(Self {
            cert_pem,
            key_pem,
            client_ca_pem,
            metrics: Arc::new(metrics),
        })
    }

    /// Whether gRPC clients must present a certificate of the client CA.
    pub fn mutual(&self) -> bool {
        self.client_ca_pem.is_some()
    }

    /// The gRPC server's TLS (tonic over rustls).
    pub fn grpc(&self) -> tonic::transport::ServerTlsConfig {
        let identity = tonic::transport::Identity::from_pem(&self.cert_pem, &self.key_pem);
        let config = tonic::transport::ServerTlsConfig::new().identity(identity);
        match &self.client_ca_pem {
            Some(ca) => config.client_ca_root(tonic::transport::Certificate::from_pem(ca)),
            None => config,
        }
    }

    /// The `/metrics` endpoint's TLS.
    pub fn metrics(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.metrics.clone())
    }

    /// The web console's TLS: the same as `/metrics` (HTTP/1.1, server
    /// authentication only: people sign in with a token, not a client
    /// certificate).
    pub fn console(&self) -> TlsAcceptor {
        self.metrics()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_certificate_is_refused_naming_it() {
        let error = Tls::from_pem(b"not pem".to_vec(), b"".to_vec(), None).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "the certificate file holds no PEM certificate"
        );
    }

    #[test]
    fn a_missing_file_is_refused_naming_its_path() {
        let files = TlsFiles {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
            client_ca: None,
        };
        let error = Tls::load(&files).expect_err("refused");
        assert!(
            error
                .to_string()
                .starts_with("cannot read /nonexistent/cert.pem"),
            "{error}"
        );
    }
}
