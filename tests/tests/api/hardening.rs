//! The doors beside the main path, tried as an attacker would
//! (docs/SECURITY.md): made-up gRPC paths against `/metrics`, a half-sent
//! console request, guessing tokens at the console's sign-in, a form from
//! another site, and `serve --production` with development settings.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{token, Backend, TestServer};
use crate::on_both_stores;

/// 10,000 calls on made-up paths of 4 KiB (anyone may send them, before
/// any sign-in): `/metrics` stays within 10 % of its size, counts them
/// under `method="unknown"`, and a real Prometheus text parser reads it.
async fn made_up_paths_neither_grow_nor_break_metrics(backend: Backend) {
    let server = TestServer::start(backend).await;
    let metrics = server.metrics_addr.expect("metrics on");
    let channel = server.channel().await;
    // One made-up call first, so that the `unknown` series exists.
    junk(channel.clone(), 0).await;
    let before = crate::projections::scrape(metrics).await;
    let calls = (1..10_000).map(|i| junk(channel.clone(), i));
    futures::StreamExt::collect::<Vec<()>>(futures::StreamExt::buffer_unordered(
        futures::stream::iter(calls),
        32,
    ))
    .await;
    let after = crate::projections::scrape(metrics).await;
    let body = |page: &str| {
        page.split_once("\r\n\r\n")
            .map_or(String::new(), |(_, b)| b.to_owned())
    };
    let (before, after) = (body(&before), body(&after));
    let growth = after.len() as f64 / before.len() as f64;
    assert!(
        growth < 1.1,
        "{} bytes grew to {}",
        before.len(),
        after.len()
    );
    assert!(
        after.contains(
            "ticketd_rpc_requests_total{method=\"unknown\",code=\"UNIMPLEMENTED\"} 10000"
        ),
        "{after}"
    );
    let lines = after.lines().map(|l| Ok(l.to_owned()));
    let parsed = prometheus_parse::Scrape::parse(lines).expect("a Prometheus parser reads it");
    assert!(parsed
        .samples
        .iter()
        .any(|s| s.metric == "ticketd_rpc_requests_total"));
    server.stop().await;
}

/// A call on a made-up 4 KiB path (with a quote in it, which a label
/// would have to escape).
async fn junk(channel: tonic::transport::Channel, i: usize) {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let path = format!("/repair.v1.X\"{i}/{}", "a".repeat(4096));
    let path =
        tonic::codegen::http::uri::PathAndQuery::try_from(path.replace('"', "%22")).expect("path");
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let status = grpc
        .unary(tonic::Request::new(()), path, codec)
        .await
        .expect_err("no such method");
    assert_eq!(status.code(), tonic::Code::Unimplemented);
}

/// A request whose headers never end (the console), a connection that
/// sends nothing (`/metrics`, which answers whatever first arrives): each
/// is closed within its timeout, with nothing served.
async fn a_half_sent_request_is_closed_within_its_timeout(backend: Backend) {
    let server = TestServer::start(backend).await;
    let console = server.console_addr.expect("console on");
    let metrics = server.metrics_addr.expect("metrics on");
    tokio::join!(
        closed_within(console, HALF, ticketd::console::HEADER_READ_TIMEOUT),
        closed_within(metrics, b"", ticketd::metrics::CONNECTION_TIMEOUT),
    );
    server.stop().await;
}

const HALF: &[u8] = b"GET /signin HTTP/1.1\r\nHost: ticketd\r\n";

/// Sends `sent` to `addr` and no more; the connection must be closed after
/// about `timeout`, with nothing served.
async fn closed_within(addr: SocketAddr, sent: &[u8], timeout: Duration) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(sent).await.expect("sent");
    let started = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(
        timeout + Duration::from_secs(5),
        stream.read_to_end(&mut rest),
    )
    .await
    .expect("closed within the timeout")
    .expect("read");
    assert!(
        started.elapsed() >= timeout - Duration::from_secs(1),
        "{addr}"
    );
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "nothing served"
    );
}

/// Posts a sign-in form; the status code.
async fn sign_in(addr: SocketAddr, token: &str, origin: Option<&str>) -> u16 {
    let body = format!("token={token}");
    let origin = origin.map_or(String::new(), |o| format!("{o}\r\n"));
    let request = format!(
        "POST /signin HTTP/1.1\r\nHost: {addr}\r\n{origin}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line")
}

/// Five wrong tokens from one address: the sixth try waits (429), even
/// with a good token; a form posted from another site is refused (403).
async fn guessing_tokens_at_the_console_is_slowed_and_other_sites_are_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let addr = server.console_addr.expect("console on");
    let good = token("service_manager");
    let same_site = format!("http://{addr}");
    let evil = "Origin: http://evil.example";
    assert_eq!(sign_in(addr, &good, Some(evil)).await, 403);
    let forged = "Sec-Fetch-Site: cross-site\r\nOrigin: null";
    assert_eq!(sign_in(addr, &good, Some(forged)).await, 403);
    let browser = "Sec-Fetch-Site: same-origin\r\nOrigin: null";
    assert_eq!(sign_in(addr, &good, Some(browser)).await, 303);
    let same_site = format!("Origin: {same_site}");
    assert_eq!(sign_in(addr, &good, Some(&same_site)).await, 303);
    for guess in 0..ticketd::console::guard::MAX_FAILURES {
        assert_eq!(sign_in(addr, &format!("guess-{guess}"), None).await, 401);
    }
    assert_eq!(sign_in(addr, &good, None).await, 429);
    server.stop().await;
}

/// One actor holds at most 32 subscriptions open; the 33rd is refused
/// with RESOURCE_EXHAUSTED, another actor is not affected, and a place
/// comes back once a stream ends.
async fn subscriptions_past_the_per_actor_cap_are_resource_exhausted(backend: Backend) {
    use ticketd::rpc::pb;
    use ticketd::rpc::pb::event_log_client::EventLogClient;
    let server = TestServer::start(backend).await;
    let mut log = EventLogClient::new(server.channel().await);
    let subscribe = |role: &str| {
        crate::helpers::as_role(
            role,
            pb::SubscribeRequest {
                heartbeat_seconds: 1,
                ..Default::default()
            },
        )
    };
    let mut open = Vec::new();
    for _ in 0..ticketd::rpc::quota::MAX_STREAMS_PER_ACTOR {
        open.push(
            log.subscribe(subscribe("technician"))
                .await
                .expect("within the cap"),
        );
    }
    let refused = log
        .subscribe(subscribe("technician"))
        .await
        .expect_err("over the cap");
    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );
    log.subscribe(subscribe("qc_inspector"))
        .await
        .expect("another actor");
    open.pop();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match log.subscribe(subscribe("technician")).await {
            Ok(_) => break,
            Err(status) if Instant::now() < deadline => {
                assert_eq!(status.code(), tonic::Code::ResourceExhausted);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("the place never came back: {status:?}"),
        }
    }
    drop(open);
    server.stop().await;
}

/// `serve --production` with the development switch: it exits non-zero
/// before opening anything, naming the conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_refuses_insecure_dev_auth() {
    let dir = tempfile::tempdir().expect("dir");
    let out = crate::crash::ticketd_child()
        .args(["serve", "--production", "--insecure-dev-auth", "--data-dir"])
        .arg(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("run ticketd");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--production refuses --insecure-dev-auth"),
        "{stderr}"
    );
    assert!(!dir.path().join("ticketd.db").exists(), "nothing opened");
}

on_both_stores!(
    made_up_paths_neither_grow_nor_break_metrics,
    a_half_sent_request_is_closed_within_its_timeout,
    guessing_tokens_at_the_console_is_slowed_and_other_sites_are_refused,
    subscriptions_past_the_per_actor_cap_are_resource_exhausted,
);
