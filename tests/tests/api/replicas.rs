//! Two ticketd processes on one store, each with its own aggregate cache,
//! writing the same tickets. A cache made stale by the other process costs
//! a conflict and a reload, never a wrong or a doubled event.

use ticketd::rpc::pb::ticket_commands_client::TicketCommandsClient;
use ticketd::rpc::pb::ticket_queries_client::TicketQueriesClient;
use tonic::transport::Channel;

use crate::crash::{free_addr, spawn_child, wait_serving, write_token_file};
use crate::helpers::{as_reader, as_role, receive_request, Backend, Reader, TestServer};
use crate::projections::assert_rows_at_stream_versions;
use crate::robustness::{assert_one_valid_lifecycle, race_to_the_end};

const TICKETS: usize = 3;
/// Racers per ticket on each process.
const RACERS: usize = 4;

async fn two_processes_writing_the_same_tickets_apply_each_command_once(backend: Backend) {
    let mut server = TestServer::without_server(backend).await;
    let tokens = write_token_file(server.dir());
    let addrs = [free_addr(), free_addr()];
    let mut children = Vec::new();
    for addr in addrs {
        children.push(spawn_child(&server, addr, &tokens));
        wait_serving(addr).await;
    }
    server.served_at(addrs[0]);
    let channels = addrs.map(|addr| {
        Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect_lazy()
    });

    let mut ids = Vec::new();
    for n in 0..TICKETS {
        let id = format!("replica-{n}");
        TicketCommandsClient::new(channels[n % 2].clone())
            .receive_ticket(as_role("customer_service", receive_request(&id, Some(60))))
            .await
            .expect("received");
        ids.push(id);
    }
    // Every racer on a ticket has a twin on the other process; each
    // process's cache goes stale whenever the other one wins.
    let mut racers = Vec::new();
    for id in &ids {
        for channel in channels.iter().cycle().take(2 * RACERS) {
            let commands = TicketCommandsClient::new(channel.clone());
            let queries =
                TicketQueriesClient::with_interceptor(channel.clone(), as_reader as Reader);
            racers.push((
                id.clone(),
                tokio::spawn(race_to_the_end(commands, queries, id.clone())),
            ));
        }
    }
    let mut applied = std::collections::HashMap::<String, usize>::new();
    for (id, racer) in racers {
        *applied.entry(id).or_default() += racer.await.expect("racer");
    }
    for id in &ids {
        assert_one_valid_lifecycle(&server, id, applied[id]).await;
    }
    server.caught_up().await;
    assert_rows_at_stream_versions(&server).await;
    let verified = server
        .audit()
        .await
        .verify(ticketd::rpc::pb::VerifyRequest::default())
        .await
        .expect("verify")
        .into_inner();
    assert!(verified.intact, "{verified:?}");

    for mut child in children {
        child.kill().await.expect("stop ticketd");
    }
    server.stop().await;
}

crate::on_both_stores!(
    two_processes_writing_the_same_tickets_apply_each_command_once,
    a_cached_event_the_store_lost_is_never_chained_to,
);

/// A process's cache may hold an event the store no longer has (a failover
/// to a standby that lacked the last commits; here the event is deleted by
/// hand). The next command is then refused at the append, reloaded and
/// decided on what the store holds: the stream stays gap-free and its
/// chain verifies.
async fn a_cached_event_the_store_lost_is_never_chained_to(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = crate::flow::Flow::receive(&server, "lost-1", Some(60)).await;
    t.determine_warranty().await.expect("warranty determined");
    server.caught_up().await;
    // One transaction: the running sequencer would log the event again
    // between two separate deletes.
    server
        .exec(
            "BEGIN; \
             DELETE FROM event_log WHERE event_position IN \
             (SELECT position FROM events WHERE aggregate_id = 'lost-1' AND sequence = 2); \
             DELETE FROM events WHERE aggregate_id = 'lost-1' AND sequence = 2; \
             COMMIT;",
        )
        .await;

    // The cache still says version 2 (warranty determined), on which a
    // dispatch is allowed; the store says 1. Whatever the answer, nothing
    // may be chained to the lost event.
    t.expected_version = None;
    let _ = t.dispatch().await;

    let last: Vec<i64> = server
        .stream_versions()
        .await
        .into_iter()
        .filter(|(id, _)| id == "lost-1")
        .map(|(_, v)| v)
        .collect();
    let verified = server
        .audit()
        .await
        .verify(ticketd::rpc::pb::VerifyRequest {
            ticket_id: "lost-1".into(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert!(verified.intact, "{verified:?}");
    assert_eq!(
        last,
        vec![i64::try_from(verified.events_checked).expect("small")],
        "no gap: the last version is the number of events"
    );
    server.stop().await;
}
