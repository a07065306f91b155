//! The access table at every door, on both stores (docs/SECURITY.md): every
//! RPC × every role through gRPC, every console page × every role over
//! HTTP, both checked against `ticketd::access` itself, with nothing
//! written by a refused call; and what a subscription shows of a
//! customer's personal data to each role.

use std::net::SocketAddr;
use std::time::Duration;

use ticketd::access::methods::{EventLog, TicketImport};
use ticketd::access::{self, Method};
use ticketd::rpc::pb;
use ticketd::rpc::pb::event_log_client::EventLogClient;
use ticketd::rpc::pb::ticket_queries_client::TicketQueriesClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{as_role, domain_roles, token, Backend, TestServer, UNGRANTED_INTEGRATION};
use crate::on_both_stores;

/// An empty message: every request decodes from no bytes (proto3), and any
/// reply decodes into it (its fields are skipped).
type Empty = ();

/// Calls `method` as `role` with an empty request; the code it answers.
async fn call(channel: Channel, method: Method, role: &str) -> Code {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(method.path());
    let codec = tonic_prost::ProstCodec::<Empty, Empty>::default();
    let answered = match method {
        Method::EventLog(EventLog::Subscribe) => grpc
            .server_streaming(as_role(role, ()), path, codec)
            .await
            .map(drop),
        Method::TicketImport(TicketImport::ImportTickets) => {
            let none = tokio_stream::iter(Vec::<Empty>::new());
            grpc.client_streaming(as_role(role, none), path, codec)
                .await
                .map(drop)
        }
        _ => grpc.unary(as_role(role, ()), path, codec).await.map(drop),
    };
    answered.map_or_else(|status| status.code(), |()| Code::Ok)
}

/// Every RPC as every role: refused with PERMISSION_DENIED exactly where
/// the table says no, and never refused for the caller's role where it
/// says yes; a refused call writes nothing.
async fn every_rpc_answers_every_role_as_the_access_table_says(backend: Backend) {
    let server = TestServer::start(backend).await;
    let channel = server.channel().await;
    let before = server.event_count().await;
    let mut wrong = Vec::new();
    for role in domain_roles() {
        let parsed = domain::Role::parse(role).expect("role");
        for method in Method::ALL {
            let code = call(channel.clone(), method, role).await;
            let allowed = access::allows(parsed, method);
            if (code == Code::PermissionDenied) == allowed {
                wrong.push(format!("{role} {}: {code:?}", method.path()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "answers that disagree with the table:\n{}",
        wrong.join("\n")
    );
    assert_eq!(server.event_count().await, before, "nothing written");
    server.stop().await;
}

/// The status code of one HTTP/1.1 request to the console (only the status
/// line is read, so a stream such as `/live` answers too).
async fn http(addr: SocketAddr, request: String) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to the console");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send the request");
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
            .await
            .expect("an answer within ten seconds")
            .expect("read");
        if n == 0 {
            break;
        }
        head.extend_from_slice(&byte);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    (status, head)
}

/// Signs in with `token` and returns the session cookie.
async fn sign_in(addr: SocketAddr, token: &str) -> String {
    let body = format!("token={token}");
    let (status, head) = http(
        addr,
        format!(
            "POST /signin HTTP/1.1\r\nHost: ticketd\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert_eq!(status, 303, "{head}");
    head.lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// Every console page as every role: 403 exactly where the table refuses
/// one of the RPCs the page calls.
async fn every_console_page_answers_every_role_as_the_access_table_says(backend: Backend) {
    let server = TestServer::start(backend).await;
    let addr = server.console_addr.expect("console on");
    let mut wrong = Vec::new();
    for role in domain_roles() {
        let parsed = domain::Role::parse(role).expect("role");
        let cookie = sign_in(addr, &token(role)).await;
        for (path, calls) in ticketd::console::calls::PAGES {
            let (status, _) = http(
                addr,
                format!("GET {path} HTTP/1.1\r\nHost: ticketd\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"),
            )
            .await;
            let allowed = calls.iter().all(|m| access::allows(parsed, *m));
            if (status == 403) == allowed {
                wrong.push(format!("{role} {path}: {status}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "pages that disagree with the table:\n{}",
        wrong.join("\n")
    );
    server.stop().await;
}

/// The personal data a subscription from position 0 shows: in clear to
/// customer service, the service manager and an integration granted it;
/// sealed to a technician, an auditor, a reliability engineer and an
/// integration without the grant.
async fn a_subscription_opens_personal_data_only_for_a_role_that_sees_it_in_clear(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    Flow::receive(&server, "PII-1", Some(30)).await;
    let head = server.caught_up().await.head_position;
    let subscribers = [
        (token("customer_service"), true),
        (token("service_manager"), true),
        (token("integration"), true),
        (UNGRANTED_INTEGRATION.to_owned(), false),
        (token("technician"), false),
        (token("auditor"), false),
        (token("reliability_engineer"), false),
    ];
    for (token, clear) in subscribers {
        let events = read_all(server.channel().await, &token, head).await;
        let received = events
            .iter()
            .find(|e| e.event_type == "TicketReceived")
            .expect("the ticket's first event");
        assert_eq!(
            received.payload_json.contains("Li Lei"),
            clear,
            "{token}: {}",
            received.payload_json
        );
        assert_eq!(received.payload_json.contains("Renmin"), clear, "{token}");
        if !clear {
            assert!(received.payload_json.contains("sealed"), "{token}");
        }
    }
    server.stop().await;
}

/// `GetTicket` and `ListTickets` as every role that may call them: the
/// customer in clear where the role's work needs them (customer service,
/// the service manager, the technician the ticket is dispatched to,
/// finance for the invoice's name and address), marked redacted with the
/// phone's last four digits at most elsewhere; finding tickets by phone
/// only for the roles that see customers in clear.
async fn a_ticket_shows_its_customer_only_to_the_roles_whose_work_needs_them(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut ticket = Flow::receive(&server, "PII-2", Some(30)).await;
    let r = ticket.dispatch().await;
    ticket.ok(r, "TechnicianDispatched");
    server.caught_up().await;
    let mut queries = TicketQueriesClient::new(server.channel().await);
    // (token, name and address in clear, phone in clear, last digits
    // shown, may find tickets by phone)
    let seen = [
        (token("customer_service"), true, true, false, true),
        (token("service_manager"), true, true, false, true),
        (token("technician"), true, true, false, false),
        (token("finance"), true, false, true, false),
        (token("qc_inspector"), false, false, true, false),
        (token("general_manager"), false, false, true, false),
        (token("reliability_engineer"), false, false, true, false),
        (UNGRANTED_INTEGRATION.to_owned(), false, false, true, false),
        (token("integration"), true, true, false, true),
        (token("auditor"), false, false, false, false),
    ];
    for (token, name, phone, digits, finds) in seen {
        let get = with_token(
            &token,
            pb::GetTicketRequest {
                ticket_id: "PII-2".into(),
            },
        );
        let ticket = queries.get_ticket(get).await.expect("get").into_inner();
        let c = ticket.customer.expect("customer");
        assert_eq!(c.name == "Li Lei", name, "{token}: {c:?}");
        assert_eq!(c.address.contains("Renmin"), name, "{token}: {c:?}");
        assert_eq!(c.phone.contains("138"), phone, "{token}: {c:?}");
        assert_eq!(c.personal_data_redacted, !(name && phone), "{token}: {c:?}");
        assert_eq!(c.phone_last_digits == "8000", digits, "{token}: {c:?}");
        let listed = queries
            .list_tickets(with_token(&token, pb::ListTicketsRequest::default()))
            .await
            .expect("list")
            .into_inner();
        let row = listed
            .tickets
            .iter()
            .find(|t| t.ticket_id == "PII-2")
            .expect("listed");
        assert_eq!(row.customer_name == "Li Lei", name, "{token}: {row:?}");
        assert_eq!(
            row.customer_phone.contains("138"),
            phone,
            "{token}: {row:?}"
        );
        let by_phone = queries
            .list_tickets(with_token(
                &token,
                pb::ListTicketsRequest {
                    customer: "+86 138 0013 8000".into(),
                    ..Default::default()
                },
            ))
            .await;
        match by_phone {
            Ok(found) => {
                assert!(finds, "{token} found tickets by phone");
                assert_eq!(found.into_inner().tickets.len(), 1);
            }
            Err(status) => {
                assert!(!finds, "{token}: {status:?}");
                assert_eq!(status.code(), Code::PermissionDenied);
                assert!(status.message().starts_with("customer:"), "{status:?}");
            }
        }
    }
    // A ticket not dispatched to the technician: redacted for them.
    Flow::receive(&server, "PII-3", Some(30)).await;
    let get = with_token(
        &token("technician"),
        pb::GetTicketRequest {
            ticket_id: "PII-3".into(),
        },
    );
    let c = queries
        .get_ticket(get)
        .await
        .expect("get")
        .into_inner()
        .customer
        .expect("customer");
    assert!(c.name.is_empty() && c.personal_data_redacted, "{c:?}");
    assert_eq!(c.phone_last_digits, "8000");
    server.stop().await;
}

/// A named consumer is its owner's: another actor may neither join it,
/// nor acknowledge for it, nor see it listed; the auditor keeps none and
/// acknowledges nothing but lists them all; a service manager manages
/// any; and one actor owns at most 16.
async fn a_named_consumer_belongs_to_the_actor_that_made_it(backend: Backend) {
    let server = TestServer::start(backend).await;
    Flow::receive(&server, "C-1", Some(30)).await;
    server.caught_up().await;
    let mut log = EventLogClient::new(server.channel().await);
    let named = |name: &str| pb::SubscribeRequest {
        consumer_name: name.to_owned(),
        heartbeat_seconds: 1,
        ..Default::default()
    };
    let owner = token("integration");
    let mut stream = log
        .subscribe(with_token(&owner, named("crm-feed")))
        .await
        .expect("made and joined by its owner")
        .into_inner();
    let first = crate::subscriptions::next_event(&mut stream).await;
    // Another integration: refused everywhere, and the lease stays.
    let other = UNGRANTED_INTEGRATION;
    let status = log
        .subscribe(with_token(other, named("crm-feed")))
        .await
        .expect_err("not theirs");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("integration-1"), "{status:?}");
    let ack = |token: &str| {
        with_token(
            token,
            pb::AckRequest {
                consumer_name: "crm-feed".into(),
                positions: vec![first.position],
            },
        )
    };
    let status = log.ack(ack(other)).await.expect_err("not theirs");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = log
        .ack(ack(&token("auditor")))
        .await
        .expect_err("changes nothing");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let list = |token: &str| with_token(token, pb::ListConsumersRequest::default());
    let theirs = log
        .list_consumers(list(other))
        .await
        .expect("list")
        .into_inner();
    assert!(theirs.consumers.is_empty(), "{theirs:?}");
    let mine = log
        .list_consumers(list(&owner))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(mine.consumers.len(), 1);
    assert_eq!(mine.consumers[0].owner, "integration-1");
    assert_eq!(
        mine.consumers[0].in_flight, 1,
        "the foreign acks moved nothing"
    );
    let all = log
        .list_consumers(list(&token("auditor")))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(all.consumers.len(), 1);
    let status = log
        .subscribe(with_token(&token("auditor"), named("audit-feed")))
        .await
        .expect_err("the auditor keeps no consumer");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    // The service manager manages any consumer.
    let acked = log
        .ack(ack(&token("service_manager")))
        .await
        .expect("a manager acknowledges")
        .into_inner();
    assert_eq!(acked.acknowledged, 1);
    drop(stream);
    // At most 16 per owner.
    let mut open = Vec::new();
    for i in 0..16 {
        let made = log
            .subscribe(with_token(other, named(&format!("other-{i}"))))
            .await
            .expect("within the cap");
        open.push(made.into_inner());
    }
    let status = log
        .subscribe(with_token(other, named("other-16")))
        .await
        .expect_err("over the cap");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    drop(open);
    server.stop().await;
}

/// A company's policy narrows `SlaDashboard.GetKpis` to the general
/// manager and import lines to customer service: the API, the console and
/// the import all follow it.
async fn a_policy_file_narrows_the_access_table_at_every_door(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("policy.toml");
    let text = format!(
        "{}\n[access]\nimport_roles = [\"customer_service\"]\n\n[access.rpc]\n\"SlaDashboard.GetKpis\" = [\"general_manager\"]\n",
        domain::policy::file::BUILTIN
    );
    std::fs::write(&path, text).expect("write");
    let policy = ticketd::policy::PolicyHandle::load(crate::helpers::policy_source(Some(path)))
        .expect("a good policy");
    let server = TestServer::start_with_policy(backend, policy).await;
    let kpis = Method::from_path("/repair.v1.SlaDashboard/GetKpis").expect("rpc");
    let channel = server.channel().await;
    assert_eq!(
        call(channel.clone(), kpis, "service_manager").await,
        Code::PermissionDenied
    );
    assert_ne!(
        call(channel.clone(), kpis, "general_manager").await,
        Code::PermissionDenied
    );
    let addr = server.console_addr.expect("console on");
    let cookie = sign_in(addr, &token("service_manager")).await;
    let (status, _) = http(
        addr,
        format!(
            "GET /sla HTTP/1.1\r\nHost: ticketd\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(status, 403, "the board calls GetKpis");
    let lines = ticketd::rpc::import::decode_json_lines(include_str!(
        "../../../examples/import/history.jsonl"
    ))
    .expect("descriptors")
    .into_iter()
    .map(|(_, line)| line.expect("line"))
    .collect::<Vec<_>>();
    let report = ticketd::rpc::pb::ticket_import_client::TicketImportClient::new(channel)
        .import_tickets(as_role("importer", tokio_stream::iter(lines)))
        .await
        .expect("import")
        .into_inner();
    // H-1001 and H-1003 have technicians' lines; H-1002 is customer
    // service's alone.
    assert_eq!(
        (report.tickets_imported, report.tickets_rejected),
        (1, 2),
        "{report:?}"
    );
    assert!(
        report.rejections.iter().all(|r| r
            .reason
            .contains("role technician may not be stated by an import line")),
        "{report:?}"
    );
    server.stop().await;
}

fn with_token<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    request
}

/// Everything up to `head` as the holder of `token` receives it.
async fn read_all(channel: Channel, token: &str, head: u64) -> Vec<pb::LoggedEvent> {
    let mut request = tonic::Request::new(pb::SubscribeRequest {
        heartbeat_seconds: 1,
        json_only: true,
        ..Default::default()
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    let mut stream = EventLogClient::new(channel)
        .subscribe(request)
        .await
        .expect("subscribe")
        .into_inner();
    crate::subscriptions::events_to(&mut stream, head).await
}

on_both_stores!(
    every_rpc_answers_every_role_as_the_access_table_says,
    every_console_page_answers_every_role_as_the_access_table_says,
    a_subscription_opens_personal_data_only_for_a_role_that_sees_it_in_clear,
    a_ticket_shows_its_customer_only_to_the_roles_whose_work_needs_them,
    a_named_consumer_belongs_to_the_actor_that_made_it,
    a_policy_file_narrows_the_access_table_at_every_door,
);
