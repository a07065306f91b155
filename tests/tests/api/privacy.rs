//! Personal data through the API, on both stores (docs/PRIVACY.md): sealed
//! at rest from the first write, shown in clear to readers while the
//! customer's key exists, and erased everywhere once a data protection
//! officer erases the customer, with every seal still verifying.

use ticketd::privacy::retention::sweep;
use ticketd::privacy::{KeyError, Keyring, MasterKey, PrivacyError};
use ticketd::rpc::pb;
use ticketd::rpc::pb::privacy_client::PrivacyClient;
use ticketd::store::StoreConfig;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{as_role, expect_code, receive_request, Backend, TestServer};
use crate::subscriptions::read_to;

/// What the tests' customer told us, in every form it may be found in.
const PLAINTEXT: [&str; 6] = [
    "Li Lei",
    "+86 138 0013 8000",
    "13800138000",
    "1 Renmin Rd",
    "Renmin",
    "call after six",
];

async fn erase(
    server: &TestServer,
    role: &str,
    customer_id: &str,
    phone: &str,
) -> Result<pb::EraseCustomerResponse, tonic::Status> {
    let mut privacy = PrivacyClient::new(server.channel().await);
    let request = pb::EraseCustomerRequest {
        customer_id: customer_id.into(),
        phone: phone.into(),
        reason: "PIPL art. 47 request REQ-7".into(),
    };
    privacy
        .erase_customer(as_role(role, request))
        .await
        .map(tonic::Response::into_inner)
}

async fn ticket(server: &TestServer, id: &str) -> pb::Ticket {
    server
        .queries()
        .await
        .get_ticket(pb::GetTicketRequest {
            ticket_id: id.into(),
        })
        .await
        .expect("get ticket")
        .into_inner()
}

async fn list_by(server: &TestServer, customer: &str) -> Vec<pb::TicketSummary> {
    server
        .queries()
        .await
        .list_tickets(pb::ListTicketsRequest {
            customer: customer.into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .tickets
}

/// Every byte the store keeps, as text: each row of each table on
/// PostgreSQL; the database and WAL files on SQLite.
async fn everything_stored(server: &TestServer) -> String {
    match &server.config {
        StoreConfig::Postgres { .. } => {
            let mut conn = server.postgres().await;
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT table_name::text FROM information_schema.tables
                  WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .fetch_all(&mut conn)
            .await
            .expect("tables");
            let mut all = String::new();
            for (table,) in tables {
                let rows: Vec<(String,)> =
                    sqlx::query_as(&format!("SELECT row_to_json(t)::text FROM \"{table}\" t"))
                        .fetch_all(&mut conn)
                        .await
                        .expect("rows");
                rows.into_iter().for_each(|(r,)| all.push_str(&r));
            }
            all
        }
        StoreConfig::Sqlite { path } => {
            let mut all = Vec::new();
            for suffix in ["", "-wal"] {
                let file = format!("{}{suffix}", path.display());
                all.extend(std::fs::read(&file).unwrap_or_default());
            }
            String::from_utf8_lossy(&all).into_owned()
        }
    }
}

fn assert_no_plaintext(text: &str, what: &str) {
    for secret in PLAINTEXT {
        assert!(!text.contains(secret), "{what} holds {secret:?}");
    }
}

/// A ticket of the customer through receipt, repair, shipping, delivery
/// (signed) and a revisit with a comment.
async fn served(server: &TestServer, id: &str) -> Flow {
    let mut t = Flow::receive(server, id, Some(60)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let r = t.repair().await;
    t.ok(r, "RepairRecorded");
    let r = t.pass_qc().await;
    t.ok(r, "QcPassed");
    let r = t.ship().await;
    t.ok(r, "ItemShipped");
    let r = t.deliver().await;
    t.ok(r, "ItemDelivered");
    let level = pb::SatisfactionLevel::VerySatisfied as i32;
    let m = pb::RecordRevisitRequest {
        context: t.ctx(),
        satisfaction: Some(pb::Satisfaction {
            attitude: level,
            skill: level,
            arrival_time: level,
            promises_kept: level,
        }),
        comment: "Li Lei asks us to call after six".into(),
        resolved: true,
    };
    let r = t
        .client
        .record_revisit(as_role("customer_service", m))
        .await
        .map(tonic::Response::into_inner);
    t.ok(r, "CustomerRevisited");
    t
}

async fn an_erased_customer_reads_as_erased_everywhere_and_still_verifies(backend: Backend) {
    let server = TestServer::start(backend).await;
    served(&server, "pii-1").await;
    served(&server, "pii-2").await;

    // Given: the same phone number is the same customer; readers see them
    // in clear, and the store holds nothing of them in clear.
    let before = ticket(&server, "pii-1").await;
    let customer = before.customer.clone().expect("customer");
    assert_eq!(customer.name, "Li Lei");
    assert!(!customer.customer_id.is_empty());
    assert!(!customer.personal_data_erased);
    let second = ticket(&server, "pii-2").await.customer.expect("customer");
    assert_eq!(second.customer_id, customer.customer_id);
    // The listing reads the ticket summary, which follows the log.
    let head = server.caught_up().await.head_position;
    let listed = list_by(&server, "+86 138 0013 8000").await;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|t| t.customer_name == "Li Lei"));
    assert_no_plaintext(&everything_stored(&server).await, "the store");

    // When anyone but the data protection officer erases: refused, nothing
    // written; and that officer reads nothing else.
    let events = server.event_count().await;
    for role in ["integration", "general_manager", "auditor"] {
        let status = expect_code(
            erase(&server, role, &customer.customer_id, "").await,
            Code::PermissionDenied,
        );
        assert!(
            status.message().contains("data_protection_officer"),
            "{status:?}"
        );
    }
    assert_eq!(server.event_count().await, events);
    let mut as_officer =
        pb::ticket_queries_client::TicketQueriesClient::new(server.channel().await);
    let refused = as_officer
        .get_ticket(as_role(
            "data_protection_officer",
            pb::GetTicketRequest {
                ticket_id: "pii-1".into(),
            },
        ))
        .await;
    expect_code(refused, Code::PermissionDenied);
    // A request naming nobody, or two ways at once, or giving no reason,
    // is invalid.
    let mut privacy = PrivacyClient::new(server.channel().await);
    let no_reason = pb::EraseCustomerRequest {
        customer_id: customer.customer_id.clone(),
        ..Default::default()
    };
    let refused = privacy
        .erase_customer(as_role("data_protection_officer", no_reason))
        .await;
    assert!(expect_code(refused, Code::InvalidArgument)
        .message()
        .contains("reason"));
    expect_code(
        erase(&server, "data_protection_officer", "", "").await,
        Code::InvalidArgument,
    );
    let both = erase(
        &server,
        "data_protection_officer",
        &customer.customer_id,
        "+86 138 0013 8000",
    )
    .await;
    expect_code(both, Code::InvalidArgument);
    assert_eq!(server.event_count().await, events);

    // When the officer erases them by phone number...
    let erased = erase(&server, "data_protection_officer", "", "+86 138 0013 8000")
        .await
        .expect("erase");
    assert_eq!(erased.customer_id, customer.customer_id);
    assert!(!erased.already_erased);
    assert_eq!(server.event_count().await, events + 1);
    // ...then again by id: nothing more happens; by phone: nobody is found.
    let again = erase(
        &server,
        "data_protection_officer",
        &customer.customer_id,
        "",
    )
    .await
    .expect("erase again");
    assert!(again.already_erased);
    assert_eq!(again.erased_at, erased.erased_at);
    expect_code(
        erase(&server, "data_protection_officer", "", "+86 138 0013 8000").await,
        Code::NotFound,
    );
    assert_eq!(server.event_count().await, events + 1);

    // Then the ticket, the list, history, export and subscription show the
    // fields as erased.
    let after = ticket(&server, "pii-1").await.customer.expect("customer");
    assert!(after.personal_data_erased);
    assert_eq!(
        (
            after.name.as_str(),
            after.phone.as_str(),
            after.address.as_str()
        ),
        ("", "", "")
    );
    assert_eq!(after.customer_id, customer.customer_id);
    let listed = list_by(&server, &customer.customer_id).await;
    assert_eq!(listed.len(), 2);
    assert!(listed
        .iter()
        .all(|t| t.customer_name.is_empty() && t.customer_phone.is_empty()));
    assert!(list_by(&server, "+86 138 0013 8000").await.is_empty());

    let head_after = server.caught_up().await.head_position;
    assert_eq!(head_after, head + 1);
    let mut log = server.events().await;
    let delivered = read_to(&mut log, pb::SubscribeRequest::default(), head_after).await;
    let all: String = delivered.iter().map(|e| e.payload_json.clone()).collect();
    assert_no_plaintext(&all, "the subscription");
    let received = delivered
        .iter()
        .find(|e| e.ticket_id == "pii-1" && e.event_type == "TicketReceived")
        .expect("received");
    assert!(
        received.payload_json.contains("\"erased\":true"),
        "{}",
        received.payload_json
    );
    let erasure = delivered.last().expect("the erasure");
    assert_eq!(erasure.event_type, "PersonalDataErased");
    assert_eq!(erasure.ticket_id, customer.customer_id);
    use pb::event_payload::Event;
    match erasure.payload.as_ref().and_then(|p| p.event.as_ref()) {
        Some(Event::PersonalDataErased(m)) => {
            assert_eq!(m.role, pb::Role::DataProtectionOfficer as i32);
            assert_eq!(m.reason, "PIPL art. 47 request REQ-7");
        }
        other => panic!("the erasure is typed: {other:?}"),
    }
    match received.payload.as_ref().and_then(|p| p.event.as_ref()) {
        Some(Event::TicketReceived(m)) => {
            assert!(m.personal_data_erased);
            let typed = m.customer.as_ref().expect("customer");
            assert_eq!((typed.name.as_str(), typed.phone.as_str()), ("", ""));
        }
        other => panic!("the receipt is typed: {other:?}"),
    }

    let mut audit = server.audit().await;
    let history = audit
        .get_history(pb::GetHistoryRequest {
            ticket_id: "pii-1".into(),
        })
        .await
        .expect("history")
        .into_inner();
    assert_no_plaintext(&format!("{history:?}"), "the history");
    let export = audit
        .export(pb::ExportRequest {
            ticket_id: "pii-1".into(),
        })
        .await
        .expect("export")
        .into_inner();
    let text = String::from_utf8(export.content).expect("UTF-8");
    assert_no_plaintext(&text, "the export");
    let verified = audit
        .verify(pb::VerifyRequest {
            ticket_id: "pii-1".into(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert!(verified.intact, "{verified:?}");
    assert_eq!(
        ticketd::audit::verify_export(&text),
        Ok((8, verified.digest.clone()))
    );
    let whole = audit
        .verify(pb::VerifyRequest::default())
        .await
        .expect("verify the log")
        .into_inner();
    assert!(whole.intact, "{whole:?}");

    // Then nothing in the store holds them, and their key is gone.
    assert_no_plaintext(&everything_stored(&server).await, "the store");

    // And the same number later is a new customer.
    let mut client = server.commands().await;
    client
        .receive_ticket(as_role(
            "customer_service",
            receive_request("pii-3", Some(60)),
        ))
        .await
        .expect("a new ticket");
    let fresh = ticket(&server, "pii-3").await.customer.expect("customer");
    assert_ne!(fresh.customer_id, customer.customer_id);
    assert_eq!(fresh.name, "Li Lei");
    server.stop().await;
}

/// A ticket of a second customer (another phone number), left open.
async fn open_ticket_of_another(server: &TestServer, id: &str) {
    let mut request = receive_request(id, Some(60));
    if let Some(c) = request.customer.as_mut() {
        c.name = "Han Meimei".into();
        c.phone = "+86 139 0000 1111".into();
    }
    server
        .commands()
        .await
        .receive_ticket(as_role("customer_service", request))
        .await
        .expect("received");
}

async fn the_retention_rule_erases_only_customers_whose_tickets_closed_long_ago(backend: Backend) {
    let server = TestServer::start(backend).await;
    let closed = crate::flow::in_warranty_lifecycle(server.commands().await, "ret-1").await;
    open_ticket_of_another(&server, "ret-2").await;
    server.caught_up().await;
    let db = server.open_db().await;
    let keyring = Keyring::new(db.clone(), crate::helpers::master_key());
    let years = |n| domain::PrivacyPolicy {
        erase_customers_years_after_closing: n,
    };
    let now = chrono::Utc::now();

    // Given the rule off, or a ticket closed less long ago than the rule
    // says: nobody is erased.
    let (off, two) = (years(None), years(Some(2)));
    let decade = now + chrono::Duration::days(3650);
    let none = sweep(&db, &keyring, &off, "test", decade).await;
    assert_eq!(none.expect("sweep"), vec![]);
    let a_year = now + chrono::Duration::days(365);
    let soon = sweep(&db, &keyring, &two, "test", a_year).await;
    assert_eq!(soon.expect("sweep"), vec![]);

    // When the rule's years have passed since the closing: the customer of
    // the closed ticket is erased; the one with an open ticket is not.
    let later = now + chrono::Duration::days(3 * 366);
    let erased = sweep(&db, &keyring, &two, "test", later)
        .await
        .expect("sweep");
    let first = ticket(&server, &closed.id)
        .await
        .customer
        .expect("customer");
    assert_eq!(
        erased.iter().map(ToString::to_string).collect::<Vec<_>>(),
        vec![first.customer_id.clone()]
    );
    assert!(first.personal_data_erased && first.name.is_empty());
    let other = ticket(&server, "ret-2").await.customer.expect("customer");
    assert_eq!(other.name, "Han Meimei");
    // Then a second sweep finds nobody new.
    let again = sweep(&db, &keyring, &two, "test", later).await;
    assert_eq!(again.expect("sweep"), vec![]);
    db.close().await;
    server.stop().await;
}

async fn a_server_seals_under_the_master_key_it_is_given_and_no_other(backend: Backend) {
    // Given a server started with this test process's master key, which
    // took a ticket with the customer's phone number.
    let server = TestServer::start(backend).await;
    open_ticket_of_another(&server, "key-1").await;
    let db = server.open_db().await;
    let phone = domain::values::PhoneNumber::parse("+86 139 0000 1111").expect("phone");

    // When the store is read with that key: the customer is found and the
    // customer's key opens.
    let given = Keyring::new(db.clone(), crate::helpers::master_key());
    let customer = given.find_by_phone(&phone).await.expect("lookup");
    let customer = customer.expect("the customer, under the key the server was given");
    assert!(!given.is_erased(&customer).await.expect("the key opens"));

    // Then with any other key: the phone number finds nobody and the
    // customer's key does not open.
    let other = Keyring::new(db.clone(), MasterKey::generate());
    assert_eq!(other.find_by_phone(&phone).await.expect("lookup"), None);
    let refused = other.is_erased(&customer).await;
    assert!(
        matches!(refused, Err(PrivacyError::Key(KeyError::WrongMasterKey))),
        "{refused:?}"
    );
    db.close().await;
    server.stop().await;
}

crate::on_both_stores!(
    an_erased_customer_reads_as_erased_everywhere_and_still_verifies,
    the_retention_rule_erases_only_customers_whose_tickets_closed_long_ago,
    a_server_seals_under_the_master_key_it_is_given_and_no_other,
);
