//! The ticket summary follows the log durably: lag and metrics, restarts in
//! the middle of the work, and rebuilds while writes continue.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use ticketd::rpc::pb;
use ticketd::rpc::pb::ticket_commands_client::TicketCommandsClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;
use tonic::Code;

use crate::flow::{in_warranty_lifecycle, try_in_warranty_lifecycle, IN_WARRANTY_LIFECYCLE};
use crate::helpers::{random_below, Backend, SummaryRow, TestServer};

/// `GET /metrics` over plain HTTP/1.1: the whole response.
pub async fn scrape(addr: SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to /metrics");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: ticketd\r\nConnection: close\r\n\r\n")
        .await
        .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read the response");
    response
}

/// Asserts two dumps of the summary are equal, naming the first row that
/// is not.
pub fn assert_same_rows(before: &[SummaryRow], after: &[SummaryRow], what: &str) {
    if let Some(at) = (0..before.len().max(after.len())).find(|&i| before.get(i) != after.get(i)) {
        panic!(
            "{what}: rows differ at {at} of {}/{}: {:?} vs {:?}",
            before.len(),
            after.len(),
            before.get(at),
            after.get(at)
        );
    }
}

/// Rebuilds every projection beside the running server and asserts the
/// rows come out as the live projection left them.
pub async fn assert_rebuild_changes_nothing(server: &TestServer) {
    let live = server.summary_rows().await;
    let head = server.caught_up().await.head_position;
    let db = server.open_db().await;
    let rebuilt = crate::helpers::rebuild(&db, None).await.expect("rebuild");
    db.close().await;
    let summary = rebuilt
        .iter()
        .find(|(name, _)| name == "ticket_summary")
        .map(|(_, r)| (r.events, r.position));
    assert_eq!(summary, Some((head, i64::try_from(head).expect("small"))));
    assert_same_rows(&live, &server.summary_rows().await, "live vs rebuilt");
}

/// Asserts every summary row is at its ticket's version in the event
/// store, and every ticket has a row.
pub async fn assert_rows_at_stream_versions(server: &TestServer) {
    let rows: Vec<(String, i64)> = server
        .summary_rows()
        .await
        .into_iter()
        .map(|r| (r.ticket_id, r.version))
        .collect();
    let streams = server.stream_versions().await;
    if let Some(at) = (0..rows.len().max(streams.len())).find(|&i| rows.get(i) != streams.get(i)) {
        panic!(
            "row vs stream at {at}: {:?} vs {:?}",
            rows.get(at),
            streams.get(at)
        );
    }
}

/// The ticket summary's (position, lag).
fn summary_status(status: &pb::LogStatus) -> (u64, u64) {
    status
        .projections
        .iter()
        .find(|p| p.name == "ticket_summary")
        .map(|p| (p.position, p.lag))
        .unwrap_or_else(|| panic!("no ticket_summary in {status:?}"))
}

async fn log_status_and_metrics_show_no_lag_once_caught_up(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut log = server.events().await;
    let empty = log
        .get_log_status(pb::GetLogStatusRequest {})
        .await
        .expect("log status")
        .into_inner();
    assert_eq!(empty.head_position, 0);
    assert!(
        empty
            .projections
            .iter()
            .all(|p| p.position == 0 && p.lag == 0),
        "{empty:?}"
    );
    assert_eq!(summary_status(&empty), (0, 0));

    for i in 0..3 {
        in_warranty_lifecycle(server.commands().await, &format!("status-{i}")).await;
    }
    let status = server.caught_up().await;
    assert_eq!(status.head_position, 30);
    assert_eq!(server.event_count().await, 30);
    // Every projection is at the head (`caught_up`), the summary too.
    assert_eq!(summary_status(&status), (30, 0));

    let response = scrape(server.metrics_addr.expect("metrics are on in tests")).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let lines: Vec<&str> = response.lines().collect();
    for expected in [
        "ticketd_log_head_position 30",
        "ticketd_projection_position{projection=\"ticket_summary\"} 30",
        "ticketd_projection_lag{projection=\"ticket_summary\"} 0",
    ] {
        assert!(lines.contains(&expected), "{expected} missing:\n{response}");
    }
    let rows = server.summary_rows().await;
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.version == 10), "{rows:?}");
    server.stop().await;
}

/// Server restarts while writes are running.
const RESTARTS: usize = 3;
const RESTART_WRITERS: usize = 4;
const RESTART_TICKETS: usize = 25;

/// Runs lifecycles until the server stops answering; returns how many
/// tickets were completed. A refusal must be the server going away, never
/// a domain or input error.
async fn write_until_refused(
    client: TicketCommandsClient<Channel>,
    prefix: String,
    tickets: usize,
) -> usize {
    for t in 0..tickets {
        if let Err(status) =
            try_in_warranty_lifecycle(client.clone(), &format!("{prefix}-{t}")).await
        {
            assert!(
                !matches!(
                    status.code(),
                    Code::InvalidArgument
                        | Code::FailedPrecondition
                        | Code::PermissionDenied
                        | Code::NotFound
                        | Code::AlreadyExists
                ),
                "refused for another reason than the shutdown: {status:?}"
            );
            return t;
        }
    }
    tickets
}

async fn restarts_during_writes_leave_the_summary_equal_to_a_rebuild(backend: Backend) {
    let mut server = TestServer::start(backend).await;
    let mut completed = 0;
    let mut lag_at_shutdown = Vec::new();
    for round in 0..RESTARTS {
        let mut writers = Vec::new();
        for w in 0..RESTART_WRITERS {
            let client = server.commands().await;
            writers.push(tokio::spawn(write_until_refused(
                client,
                format!("restart-{round}-{w}"),
                RESTART_TICKETS,
            )));
        }
        tokio::time::sleep(Duration::from_millis(300 + random_below(1_200))).await;
        let status = server
            .events()
            .await
            .get_log_status(pb::GetLogStatusRequest {})
            .await
            .expect("log status")
            .into_inner();
        lag_at_shutdown.push(status.projections.iter().map(|p| p.lag).max());
        // Graceful: calls in flight finish, later ones are refused, and the
        // projection stops wherever it is.
        server.restart().await;
        for writer in writers {
            completed += writer.await.expect("writer");
        }
    }
    // And once more without interruption on the last server.
    for i in 0..5 {
        in_warranty_lifecycle(server.commands().await, &format!("after-{i}")).await;
    }
    assert!(completed > 0, "no lifecycle completed between restarts");
    eprintln!("{backend:?}: lag at each shutdown {lag_at_shutdown:?}");

    server.caught_up().await;
    assert_rows_at_stream_versions(&server).await;
    assert_rebuild_changes_nothing(&server).await;
    server.stop().await;
}

/// Writers running during rebuilds, and their tickets each.
const REBUILD_WRITERS: usize = 4;
const REBUILD_TICKETS: usize = 15;

async fn a_rebuild_during_writes_leaves_every_row_at_its_ticket_version(backend: Backend) {
    let server = TestServer::start(backend).await;
    // History for the rebuild to work through.
    for i in 0..10 {
        in_warranty_lifecycle(server.commands().await, &format!("before-{i}")).await;
    }
    let mut writers = Vec::new();
    for w in 0..REBUILD_WRITERS {
        let client = server.commands().await;
        writers.push(tokio::spawn(async move {
            for t in 0..REBUILD_TICKETS {
                in_warranty_lifecycle(client.clone(), &format!("during-{w}-{t}")).await;
            }
        }));
    }
    // A reader listing all the while: it never sees an error, a ticket
    // disappear or a version go back, even across the swap.
    let (stop_reading, mut stopped) = tokio::sync::watch::channel(false);
    let mut queries = server.queries().await;
    let reader = tokio::spawn(async move {
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut reads = 0;
        while !*stopped.borrow_and_update() {
            let page = queries
                .list_tickets(pb::ListTicketsRequest {
                    page_size: 500,
                    ..Default::default()
                })
                .await
                .expect("ListTickets during a rebuild")
                .into_inner();
            let now: HashMap<String, u64> = page
                .tickets
                .into_iter()
                .map(|t| (t.ticket_id, t.version))
                .collect();
            for (id, version) in &seen {
                let current = now.get(id).copied();
                assert!(
                    current >= Some(*version),
                    "{id} went from version {version} to {current:?}"
                );
            }
            seen = now;
            reads += 1;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        reads
    });

    let db = server.open_db().await;
    let mut rebuilds = 0;
    loop {
        let done = crate::helpers::rebuild(&db, Some("ticket_summary"))
            .await
            .expect("rebuild while writes continue");
        assert_eq!(done.len(), 1);
        rebuilds += 1;
        if writers.iter().all(|w| w.is_finished()) {
            break;
        }
    }
    assert!(crate::helpers::rebuild(&db, Some("no_such_projection"))
        .await
        .is_err());
    db.close().await;
    for writer in writers {
        writer.await.expect("writer finishes");
    }
    stop_reading.send(true).expect("reader listens");
    let reads = reader.await.expect("reader never fails");
    eprintln!("{backend:?}: {rebuilds} rebuilds, {reads} lists meanwhile");

    server.caught_up().await;
    let rows = server.summary_rows().await;
    assert_eq!(rows.len(), 10 + REBUILD_WRITERS * REBUILD_TICKETS);
    let mut q = server.queries().await;
    for row in &rows {
        let ticket = q
            .get_ticket(pb::GetTicketRequest {
                ticket_id: row.ticket_id.clone(),
            })
            .await
            .expect("ticket")
            .into_inner();
        assert_eq!(
            u64::try_from(row.version).expect("positive"),
            ticket.version,
            "{}",
            row.ticket_id
        );
        assert_eq!(ticket.version, IN_WARRANTY_LIFECYCLE.len() as u64);
    }
    assert_rows_at_stream_versions(&server).await;
    server.stop().await;
}

crate::on_both_stores!(
    log_status_and_metrics_show_no_lag_once_caught_up,
    restarts_during_writes_leave_the_summary_equal_to_a_rebuild,
    a_rebuild_during_writes_leaves_every_row_at_its_ticket_version,
);
