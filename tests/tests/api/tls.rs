//! TLS on every port: gRPC and `/metrics` answer only over TLS with a
//! certificate made here, clear text gets nothing, and with a client CA
//! only a client holding a certificate it signed is served.

use std::net::SocketAddr;

use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, SanType};
use ticketd::rpc::pb::ticket_commands_client::TicketCommandsClient;
use ticketd::server::{start, Listen, Running};
use ticketd::store::StoreConfig;
use ticketd::tls::Tls;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::helpers::{as_role, builtin_policy, receive_request};

/// A CA, a server certificate for localhost / 127.0.0.1 and a client
/// certificate, all signed by the CA, as PEM.
struct Pki {
    ca: String,
    server: (String, String),
    client: (String, String),
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca.self_signed(&ca_key).expect("CA");
    let signed = |names: Vec<String>, client: bool| {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(names).expect("params");
        if client {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        } else {
            params
                .subject_alt_names
                .push(SanType::IpAddress([127, 0, 0, 1].into()));
        }
        let cert = params.signed_by(&key, &ca, &ca_key).expect("sign");
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        server: signed(vec!["localhost".into()], false),
        client: signed(vec!["crm-service".into()], true),
        ca: ca.pem(),
    }
}

async fn serve(pki: &Pki, mutual: bool, dir: &tempfile::TempDir) -> Running {
    let tls = Tls::from_pem(
        pki.server.0.clone().into_bytes(),
        pki.server.1.clone().into_bytes(),
        mutual.then(|| pki.ca.clone().into_bytes()),
    )
    .expect("TLS settings");
    let listen = Listen {
        grpc: "127.0.0.1:0".parse().expect("addr"),
        metrics: Some("127.0.0.1:0".parse().expect("addr")),
        console: Some("127.0.0.1:0".parse().expect("addr")),
        tls: Some(tls),
    };
    let store = StoreConfig::Sqlite {
        path: dir.path().join("ticketd.db"),
    };
    start(&store, listen, crate::helpers::setup(builtin_policy()))
        .await
        .expect("ticketd starts with TLS")
}

async fn tls_client(addr: SocketAddr, pki: &Pki, with_cert: bool) -> Result<Channel, String> {
    let mut config = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&pki.ca))
        .domain_name("localhost");
    if with_cert {
        config = config.identity(Identity::from_pem(&pki.client.0, &pki.client.1));
    }
    Channel::from_shared(format!("https://{addr}"))
        .expect("uri")
        .tls_config(config)
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("{e:?}"))
}

async fn receive(channel: Channel, id: &str) -> Result<u64, tonic::Status> {
    TicketCommandsClient::new(channel)
        .receive_ticket(as_role("customer_service", receive_request(id, Some(10))))
        .await
        .map(|r| r.into_inner().version)
}

/// `GET /metrics` over TLS; returns the whole response.
async fn metrics_over_tls(addr: SocketAddr, pki: &Pki) -> String {
    over_tls(
        addr,
        pki,
        "GET /metrics HTTP/1.1\r\nhost: localhost\r\n\r\n",
    )
    .await
}

/// One HTTP/1.1 request over TLS; returns the whole response.
async fn over_tls(addr: SocketAddr, pki: &Pki, request: &str) -> String {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pki.ca.as_bytes()) {
        roots.add(cert.expect("CA pem")).expect("root");
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut stream = connector.connect(name, tcp).await.expect("TLS handshake");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response).await;
    response
}

/// The connection itself failed: no gRPC answer came back at all.
fn assert_transport_failure(status: &tonic::Status) {
    let from_transport = std::error::Error::source(status)
        .is_some_and(|source| source.is::<tonic::transport::Error>());
    assert!(from_transport, "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_and_metrics_answer_over_tls_and_clear_text_gets_nothing() {
    let pki = pki();
    let dir = tempfile::tempdir().expect("dir");
    let running = serve(&pki, false, &dir).await;

    let channel = tls_client(running.addr, &pki, false)
        .await
        .expect("a client trusting the CA connects");
    assert_eq!(receive(channel, "tls-1").await.expect("served"), 1);

    // Clear text on the same port gets no answer at all.
    let plain = Channel::from_shared(format!("http://{}", running.addr))
        .expect("uri")
        .connect_lazy();
    let refused = receive(plain, "tls-2")
        .await
        .expect_err("clear text refused");
    assert_transport_failure(&refused);

    let metrics = running.metrics_addr.expect("metrics on");
    let response = metrics_over_tls(metrics, &pki).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("ticketd_log_head_position"), "{response}");
    let mut tcp = tokio::net::TcpStream::connect(metrics)
        .await
        .expect("connect");
    tcp.write_all(b"GET /metrics HTTP/1.1\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer).await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("ticketd_log_head_position"),
        "no metrics in clear text"
    );

    // The console: over TLS only, and its session cookie is Secure.
    let console = running.console_addr.expect("console on");
    let form = format!("token={}", crate::helpers::token("auditor"));
    let signed_in = over_tls(
        console,
        &pki,
        &format!(
            "POST /signin HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{form}",
            form.len()
        ),
    )
    .await;
    assert!(signed_in.starts_with("HTTP/1.1 303"), "{signed_in}");
    let cookie = signed_in
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_default();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    let mut tcp = tokio::net::TcpStream::connect(console)
        .await
        .expect("connect");
    tcp.write_all(b"GET /signin HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer).await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("HTTP/1.1"),
        "no console in clear text"
    );
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_client_ca_only_a_client_holding_its_certificate_is_served() {
    let pki = pki();
    let dir = tempfile::tempdir().expect("dir");
    let running = serve(&pki, true, &dir).await;

    let with_cert = tls_client(running.addr, &pki, true)
        .await
        .expect("a client with a certificate connects");
    assert_eq!(receive(with_cert, "mtls-1").await.expect("served"), 1);

    // Without a certificate the handshake (or the first call) fails.
    if let Ok(channel) = tls_client(running.addr, &pki, false).await {
        let refused = receive(channel, "mtls-2")
            .await
            .expect_err("no certificate");
        assert_transport_failure(&refused);
    }
    running.shutdown().await.expect("stops");
}
