//! The company's policy file: product lines, approval tiers and cost rates
//! a company sets, changed while the server runs (reloaded as on SIGHUP),
//! without changing what recorded events mean; and a bad file refused.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use domain::policy::file::BUILTIN;
use ticketd::policy::PolicyHandle;
use ticketd::rpc::pb;
use ticketd::rpc::pb::cost_ledger_client::CostLedgerClient;
use ticketd::store::Pool;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{as_role, expect_code, receive_request, Backend, TestServer};

/// A policy file in its own directory, rewritten by the test.
struct PolicyFile {
    dir: tempfile::TempDir,
}

impl PolicyFile {
    fn new(text: &str) -> Self {
        let file = Self {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        file.write(text);
        file
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("policy.toml")
    }

    fn write(&self, text: &str) {
        std::fs::write(self.path(), text).expect("write the policy file");
    }

    fn handle(&self) -> PolicyHandle {
        PolicyHandle::load(crate::helpers::policy_source(Some(self.path())))
            .expect("the policy loads")
    }
}

fn edited(pairs: &[(&str, &str)]) -> String {
    let mut text = BUILTIN.to_owned();
    for (from, to) in pairs {
        assert_eq!(text.matches(from).count(), 1, "{from:?} occurs once");
        text = text.replace(from, to);
    }
    text
}

async fn ticket(server: &TestServer, id: &str) -> pb::Ticket {
    let mut q = server.queries().await;
    q.get_ticket(pb::GetTicketRequest {
        ticket_id: id.into(),
    })
    .await
    .expect("ticket")
    .into_inner()
}

/// The metadata value `key` of each of the ticket's events, in order.
async fn metadata(server: &TestServer, id: &str, key: &str) -> Vec<String> {
    let db = server.open_db().await;
    let rows: Vec<(Option<String>,)> = match &db {
        Pool::Postgres(pool) => sqlx::query_as(
            "SELECT metadata->>$1 FROM events WHERE aggregate_id = $2 ORDER BY sequence",
        )
        .bind(key)
        .bind(id)
        .fetch_all(pool)
        .await
        .expect("metadata"),
        Pool::Sqlite(pool) => sqlx::query_as(
            "SELECT json_extract(metadata, '$.' || ?1) FROM events WHERE aggregate_id = ?2 ORDER BY sequence",
        )
        .bind(key)
        .bind(id)
        .fetch_all(pool)
        .await
        .expect("metadata"),
    };
    db.close().await;
    rows.into_iter().map(|(v,)| v.unwrap_or_default()).collect()
}

async fn a_ten_year_line_is_in_warranty_in_year_five_and_a_twelve_month_line_is_not(
    backend: Backend,
) {
    // Given a policy with a 10-year line for models BX-…, beside the
    // 12-month default.
    let file = PolicyFile::new(&format!(
        "{BUILTIN}\n[[product_line]]\nname = \"boilers\"\nmodel_prefix = \"BX-\"\nwarranty_months = 120\n"
    ));
    let server = TestServer::start_with_policy(backend, file.handle()).await;

    // When a boiler and a washer, both bought five years ago, are checked.
    let mut boiler_request = receive_request("pol-boiler", Some(5 * 365));
    if let Some(product) = boiler_request.product.as_mut() {
        product.line = "boiler".into();
        product.model = "BX-24".into();
    }
    let mut boiler = Flow::receive_with(&server, boiler_request).await;
    let r = boiler.determine_warranty().await;
    boiler.ok(r, "WarrantyDetermined");
    let mut washer = Flow::receive(&server, "pol-washer", Some(5 * 365)).await;
    let r = washer.determine_warranty().await;
    washer.ok(r, "WarrantyDetermined");

    // Then the boiler is in warranty and the washer is not.
    assert_eq!(
        ticket(&server, "pol-boiler").await.warranty_status,
        pb::WarrantyStatus::InWarranty as i32
    );
    assert_eq!(
        ticket(&server, "pol-washer").await.warranty_status,
        pb::WarrantyStatus::OutOfWarranty as i32
    );
    // And every event names the policy it was decided under.
    let policy = server.policy().current();
    let versions = metadata(&server, "pol-boiler", "policy_version").await;
    let digests = metadata(&server, "pol-boiler", "policy_digest").await;
    assert_eq!(versions, vec![policy.version.label.clone(); 2]);
    assert_eq!(digests, vec![policy.version.digest.clone(); 2]);
    server.stop().await;
}

/// A ticket without a receipt (chargeable), diagnosed and quoted `fen`.
async fn quoted(server: &TestServer, id: &str, fen: i64) -> Flow {
    let mut t = Flow::receive(server, id, None).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let r = t.quote(fen).await;
    t.ok(r, "RepairQuoted");
    t
}

async fn new_quotes_follow_changed_tiers_and_earlier_quotes_keep_theirs(backend: Backend) {
    // Given quotes of 1,500.00 made under the built-in tiers (tier 2), one
    // approved by the sales VP.
    let file = PolicyFile::new(BUILTIN);
    let server = TestServer::start_with_policy(backend, file.handle()).await;
    let mut approved = quoted(&server, "pol-tier-old", 150_000).await;
    let r = approved.approve_quote("sales_vp").await;
    approved.ok(r, "QuoteApproved");
    let mut pending = quoted(&server, "pol-tier-pending", 150_000).await;

    // When the file moves tier 2 up to 2,000.00 and the server reloads it.
    file.write(&edited(&[
        ("below = \"1000.00\"", "below = \"2000.00\""),
        ("from = \"1000.00\"", "from = \"2000.00\""),
        ("version = \"builtin-1\"", "version = \"tiers-2026-04\""),
    ]));
    server.policy().reload().expect("the new policy loads");

    // Then a new quote of 1,500.00 is tier 1, which the service manager approves.
    let mut new = quoted(&server, "pol-tier-new", 150_000).await;
    let r = new.approve_quote("service_manager").await;
    new.ok(r, "QuoteApproved");
    assert_eq!(
        ticket(&server, "pol-tier-new").await.quote_tier,
        pb::ApprovalTier::Tier1 as i32
    );
    // And the quotes made before keep tier 2: approved, and still the VP's.
    assert_eq!(
        ticket(&server, "pol-tier-old").await.quote_tier,
        pb::ApprovalTier::Tier2 as i32
    );
    expect_code(
        pending.approve_quote("service_manager").await,
        Code::PermissionDenied,
    );
    let versions = metadata(&server, "pol-tier-new", "policy_version").await;
    assert_eq!(versions.last().map(String::as_str), Some("tiers-2026-04"));
    server.stop().await;
}

async fn lines_report(server: &TestServer) -> Vec<Vec<String>> {
    server.caught_up().await;
    let mut c = CostLedgerClient::new(server.channel().await);
    let request = pb::ReportRequest {
        report: pb::CostReport::Lines as i32,
        ..Default::default()
    };
    c.run_report(as_role("finance", request))
        .await
        .expect("report")
        .into_inner()
        .rows
        .into_iter()
        .map(|r| r.cells)
        .collect()
}

/// An in-warranty workshop repair, QC and shipment of ticket `id`.
async fn warranty_repair(server: &TestServer, id: &str) {
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
}

async fn a_rebuild_after_rates_change_keeps_the_ledger_of_earlier_tickets(backend: Backend) {
    // Given two repairs costed at the built-in rates.
    let file = PolicyFile::new(BUILTIN);
    let server = TestServer::start_with_policy(backend, file.handle()).await;
    warranty_repair(&server, "pol-rate-1").await;
    warranty_repair(&server, "pol-rate-2").await;
    let before = lines_report(&server).await;

    // When labour and shipping rates change, and the ledger is rebuilt.
    file.write(&edited(&[
        (
            "labour_per_hour = \"80.00\"",
            "labour_per_hour = \"200.00\"",
        ),
        (
            "shipping_per_shipment = \"30.00\"",
            "shipping_per_shipment = \"99.00\"",
        ),
    ]));
    server.policy().reload().expect("the new rates load");
    let db = server.open_db().await;
    crate::helpers::rebuild(&db, Some("cost_ledger"))
        .await
        .expect("rebuild");
    db.close().await;

    // Then the earlier tickets' lines are identical.
    assert_eq!(lines_report(&server).await, before);
    // And a repair after the change is costed at the new rates.
    warranty_repair(&server, "pol-rate-3").await;
    let after = lines_report(&server).await;
    let labour: Vec<&Vec<String>> = after
        .iter()
        .filter(|row| row.iter().any(|c| c == "pol-rate-3"))
        .filter(|row| row.iter().any(|c| c == "labour"))
        .collect();
    assert_eq!(labour.len(), 1, "{after:?}");
    assert!(labour[0].iter().any(|c| c == "30000"), "{:?}", labour[0]);
    server.stop().await;
}

crate::on_both_stores!(
    a_ten_year_line_is_in_warranty_in_year_five_and_a_twelve_month_line_is_not,
    new_quotes_follow_changed_tiers_and_earlier_quotes_keep_theirs,
    a_rebuild_after_rates_change_keeps_the_ledger_of_earlier_tickets,
);

/// Runs the real CLI; returns the exit status's success and stderr + stdout.
async fn ticketd(args: &[&str], dir: &Path) -> (bool, String) {
    let out = crate::crash::ticketd_child()
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("TICKETD_POLICY")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run ticketd-child");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn policy_check_names_each_bad_field_once_with_its_file_line_and_column() {
    let cases = [
        (
            ("warranty_months = 12\n", "warranty_months = \"ten\"\n"),
            "default_product.warranty_months",
        ),
        (
            (
                "remote = \"200.00\"",
                "remote = \"200.00\"\nferry = \"1.00\"",
            ),
            "ferry",
        ),
        (
            ("warranty_months = 12\n", "warranty_months = -3\n"),
            "default_product.warranty_months",
        ),
        (
            ("from = \"1000.00\"", "from = \"900.00\""),
            "approval.tiers[2].from",
        ),
    ];
    for ((from, to), field) in cases {
        let file = PolicyFile::new(&edited(&[(from, to)]));
        let line = std::fs::read_to_string(file.path())
            .expect("read")
            .lines()
            .position(|l| l.contains(to.trim().lines().last().unwrap_or(to)))
            .map(|i| i + 1)
            .expect("edited line");
        let path = file.path().display().to_string();

        let (ok, out) = ticketd(&["policy", "check", &path], file.dir.path()).await;

        assert!(!ok, "{field}: refused");
        assert!(out.contains(field), "{field} named in {out}");
        // Once, as FILE:LINE:COLUMN: (it used to come twice, as "line N").
        let at = format!("{path}:{line}:");
        assert_eq!(out.matches(&at).count(), 1, "{at} once in {out}");
    }
}

#[tokio::test]
async fn a_server_with_a_bad_policy_refuses_to_start_and_writes_nothing() {
    let file = PolicyFile::new(&edited(&[("from = \"5000.00\"", "from = \"4000.00\"")]));
    let data = file.dir.path().join("data");
    let (policy, data_dir) = (
        file.path().display().to_string(),
        data.display().to_string(),
    );

    let (ok, out) = ticketd(
        &[
            "--policy",
            &policy,
            "serve",
            "--insecure-dev-auth",
            "--no-metrics",
            "--no-console",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &data_dir,
        ],
        file.dir.path(),
    )
    .await;

    assert!(!ok, "refused: {out}");
    assert!(out.contains("approval.tiers[3].from"), "{out}");
    assert!(!data.exists(), "nothing written");
}

#[tokio::test]
async fn policy_show_prints_the_version_and_digest_in_force() {
    let file = PolicyFile::new(&edited(&[(
        "version = \"builtin-1\"",
        "version = \"acme-7\"",
    )]));
    let path = file.path().display().to_string();
    let digest = file.handle().current().version.digest.clone();

    let (ok, out) = ticketd(&["--policy", &path, "policy", "show"], file.dir.path()).await;

    assert!(ok, "{out}");
    assert!(out.contains("version: acme-7"), "{out}");
    assert!(out.contains(&digest), "{out}");
}
