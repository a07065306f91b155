//! FRACAS through the API on both stores: failure reports from diagnoses
//! (QC failure as a signal, NFF and misuse marked), paged history, the
//! reports and their CSV, and corrective actions whose closure is refused
//! with a recurrence in the window and allowed without one; a rebuild that
//! gives identical reports.
//!
//! Fixture: four WM-800 units bought 60 days ago (serials SN-<ticket>).
//! fr-1 MOTOR-OPEN (manufacturing) then a QC failure; fr-2 no fault found;
//! fr-3 misuse; all diagnosed today.

use std::time::Duration;

use ticketd::rpc::pb;
use ticketd::rpc::pb::fracas_client::FracasClient;
use tonic::transport::Channel;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{as_role, day_from_today, expect_code, receive_request, Backend, TestServer};

async fn client(server: &TestServer) -> FracasClient<Channel> {
    FracasClient::new(server.channel().await)
}

/// Until every stored event is in the log (positions are gap-free from 1,
/// so the head equals the count) and every projection has applied it.
async fn caught_up(server: &TestServer) {
    let mut log = server.events().await;
    let stored = u64::try_from(server.event_count().await).expect("count");
    for _ in 0..200 {
        let status = log
            .get_log_status(pb::GetLogStatusRequest {})
            .await
            .expect("status")
            .into_inner();
        if status.head_position == stored && status.projections.iter().all(|p| p.lag == 0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("projections never caught up");
}

pub(crate) async fn diagnosed(server: &TestServer, id: &str, cause: pb::RootCause) -> Flow {
    let mut t = Flow::receive(server, id, Some(60)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.diagnose(cause, pb::RepairPath::WorkshopRepair).await;
    t.ok(r, "FaultDiagnosed");
    t
}

fn report(kind: pb::FracasReport) -> pb::FracasReportRequest {
    pb::FracasReportRequest {
        report: kind as i32,
        ..Default::default()
    }
}

async fn rows(server: &TestServer, request: pb::FracasReportRequest) -> Vec<Vec<String>> {
    client(server)
        .await
        .run_report(as_role("reliability_engineer", request))
        .await
        .expect("report")
        .into_inner()
        .rows
        .into_iter()
        .map(|r| r.cells)
        .collect()
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

fn ctx(action_id: &str) -> Option<pb::ActionContext> {
    Some(pb::ActionContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        action_id: action_id.to_owned(),
        ..Default::default()
    })
}

/// Opens an action and takes it to verified, implemented `days_ago` with a
/// window of the same length (so it ends today).
async fn verified_action(c: &mut FracasClient<Channel>, id: &str, model: &str, days_ago: i64) {
    let re = "reliability_engineer";
    c.open_corrective_action(as_role(
        re,
        pb::OpenCorrectiveActionRequest {
            context: ctx(id),
            title: "motor winding opens".into(),
            failure_modes: vec!["MOTOR-OPEN".into()],
            product_models: vec![model.into()],
            verification_window_days: u32::try_from(days_ago).expect("days"),
        },
    ))
    .await
    .expect("opened");
    c.record_root_cause(as_role(
        re,
        pb::RecordRootCauseRequest {
            context: ctx(id),
            category: pb::RootCause::Material as i32,
            analysis: "thin enamel wire".into(),
        },
    ))
    .await
    .expect("root cause");
    c.record_implementation(as_role(
        re,
        pb::RecordImplementationRequest {
            context: ctx(id),
            description: "new wire supplier".into(),
            implemented_on: day_from_today(-days_ago),
        },
    ))
    .await
    .expect("implemented");
    let r = c
        .verify_effectiveness(as_role(
            re,
            pb::VerifyEffectivenessRequest {
                context: ctx(id),
                evidence: "field returns reviewed".into(),
            },
        ))
        .await
        .expect("verified")
        .into_inner();
    assert_eq!(
        (r.version, r.event_type.as_str()),
        (4, "EffectivenessVerified")
    );
}

async fn close(
    c: &mut FracasClient<Channel>,
    role: &str,
    id: &str,
) -> Result<tonic::Response<pb::ActionReply>, tonic::Status> {
    c.close_corrective_action(as_role(
        role,
        pb::CloseCorrectiveActionRequest { context: ctx(id) },
    ))
    .await
}

async fn failure_reports_and_figures_follow_the_log(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t1 = diagnosed(&server, "fr-1", pb::RootCause::Manufacturing).await;
    let r = t1.repair().await;
    t1.ok(r, "RepairRecorded");
    let r = t1.fail_qc().await;
    t1.ok(r, "QcFailed");
    diagnosed(&server, "fr-2", pb::RootCause::NoFaultFound).await;
    diagnosed(&server, "fr-3", pb::RootCause::Misuse).await;
    Flow::receive(&server, "fr-4", Some(60)).await;
    caught_up(&server).await;

    // History, two at a time: diagnoses of fr-1, fr-2, fr-3 and fr-1's QC
    // failure, in the order they happened.
    let mut c = client(&server).await;
    let mut seen = Vec::new();
    let mut token = String::new();
    for _ in 0..3 {
        let page = c
            .list_failures(as_role(
                "auditor",
                pb::ListFailuresRequest {
                    filter: Some(pb::FailureFilter {
                        product_model: "WM-800".into(),
                        ..Default::default()
                    }),
                    page_size: 2,
                    page_token: token.clone(),
                },
            ))
            .await
            .expect("history")
            .into_inner();
        seen.extend(page.failures);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let got: Vec<_> = seen
        .iter()
        .map(|f| {
            (
                f.ticket_id.as_str(),
                f.failure_signal(),
                f.relevant,
                f.no_fault_found,
                f.misuse,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("fr-1", pb::FailureSignal::Diagnosis, true, false, false),
            ("fr-1", pb::FailureSignal::QcFailed, false, false, false),
            ("fr-2", pb::FailureSignal::Diagnosis, false, true, false),
            ("fr-3", pb::FailureSignal::Diagnosis, false, false, true),
        ]
    );
    let first = &seen[0];
    // The deprecated string field is still filled, with the same name.
    #[allow(deprecated)]
    let signals: Vec<&str> = seen.iter().map(|f| f.signal.as_str()).collect();
    assert_eq!(
        signals,
        ["diagnosis", "qc_failed", "diagnosis", "diagnosis"]
    );
    assert_eq!(first.serial_number, "SN-fr-1");
    assert_eq!(first.batch, "B2026-01");
    assert_eq!(first.failure_mode, "MOTOR-OPEN");
    assert_eq!(first.failed_parts, vec!["MTR-100".to_owned()]);
    assert_eq!(first.root_cause, "manufacturing");
    assert_eq!(first.responsible_department, "production");
    // Bought 60 days ago, failed today (Beijing dates on both sides).
    assert_eq!(first.operating_days, Some(60));
    assert_eq!(first.failed_on, day_from_today(0));

    // Only fr-1's diagnosis is a relevant failure.
    assert_eq!(
        rows(&server, report(pb::FracasReport::ModePareto)).await,
        vec![strings(&["MOTOR-OPEN", "1", "100.0", "100.0"])]
    );
    assert_eq!(
        rows(&server, report(pb::FracasReport::PartPareto)).await,
        vec![strings(&["MTR-100", "1", "100.0", "100.0"])]
    );
    // 3 diagnoses, 1 NFF: 33.3%.
    assert_eq!(
        rows(&server, report(pb::FracasReport::NffRate)).await,
        vec![
            strings(&["WM-800", "3", "1", "33.3"]),
            strings(&["(all)", "3", "1", "33.3"]),
        ]
    );
    // Four units (fr-4 never failed) × 60 days = 240 unit-days, 1 failure:
    // MTBF 240.0 days; 1 / 240 × 1000 = 4.1667 → 4.167 per 1,000 unit-days.
    assert_eq!(
        rows(&server, report(pb::FracasReport::MtbfByModel)).await,
        vec![strings(&["WM-800", "", "4", "240", "1", "240.0", "4.167"])]
    );
    assert_eq!(
        rows(&server, report(pb::FracasReport::MtbfByBatch)).await,
        vec![strings(&[
            "WM-800", "B2026-01", "4", "240", "1", "240.0", "4.167"
        ])]
    );
    assert!(rows(&server, report(pb::FracasReport::RepeatFailures))
        .await
        .is_empty());

    // The same unit (SN-fr-1) back with the same fault on another ticket:
    // a repeat failure 0 days after the first.
    let mut again = receive_request("fr-5", Some(60));
    if let Some(p) = again.product.as_mut() {
        p.serial_number = "SN-fr-1".into();
    }
    let mut t5 = Flow::receive_with(&server, again).await;
    let r = t5.determine_warranty().await;
    t5.ok(r, "WarrantyDetermined");
    let r = t5.workshop_diagnosis().await;
    t5.ok(r, "FaultDiagnosed");
    caught_up(&server).await;
    let today = day_from_today(0);
    assert_eq!(
        rows(&server, report(pb::FracasReport::RepeatFailures)).await,
        vec![strings(&[
            "SN-fr-1",
            "WM-800",
            "MOTOR-OPEN",
            "fr-1",
            &today,
            "fr-5",
            &today,
            "0"
        ])]
    );

    // History by part, serial and period.
    let count = |filter: pb::FailureFilter| {
        let mut c = c.clone();
        async move {
            c.list_failures(as_role(
                "reliability_engineer",
                pb::ListFailuresRequest {
                    filter: Some(filter),
                    ..Default::default()
                },
            ))
            .await
            .expect("history")
            .into_inner()
            .failures
            .iter()
            .map(|f| (f.ticket_id.clone(), f.failure_signal()))
            .collect::<Vec<_>>()
        }
    };
    let by_part = count(pb::FailureFilter {
        part_number: "MTR-100".into(),
        ..Default::default()
    })
    .await;
    // Every diagnosis names MTR-100; fr-1's QC failure carries its parts.
    assert_eq!(by_part.len(), 5, "{by_part:?}");
    let by_serial = count(pb::FailureFilter {
        serial_number: "SN-fr-1".into(),
        failure_mode: "MOTOR-OPEN".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(
        by_serial,
        vec![
            ("fr-1".to_owned(), pb::FailureSignal::Diagnosis),
            ("fr-1".to_owned(), pb::FailureSignal::QcFailed),
            ("fr-5".to_owned(), pb::FailureSignal::Diagnosis),
        ]
    );
    let before_today = count(pb::FailureFilter {
        to_date: day_from_today(-1),
        ..Default::default()
    })
    .await;
    assert!(before_today.is_empty());

    let csv = c
        .export_report_csv(as_role("auditor", report(pb::FracasReport::ModePareto)))
        .await
        .expect("csv")
        .into_inner();
    assert_eq!(csv.file_name, "fracas-mode-pareto.csv");
    assert_eq!(
        String::from_utf8(csv.content).expect("utf-8"),
        "failure_mode,failures,percent,cumulative_percent\r\nMOTOR-OPEN,2,100.0,100.0\r\n"
    );

    // Errors: who may read, and which field is wrong.
    expect_code(
        c.run_report(as_role("technician", report(pb::FracasReport::NffRate)))
            .await,
        Code::PermissionDenied,
    );
    let bad = pb::FracasReportRequest {
        filter: Some(pb::FailureFilter {
            from_date: "2026-13-01".into(),
            ..Default::default()
        }),
        ..report(pb::FracasReport::ModePareto)
    };
    let status = expect_code(
        c.run_report(as_role("reliability_engineer", bad)).await,
        Code::InvalidArgument,
    );
    assert!(status.message().contains("filter.from_date"), "{status:?}");
    expect_code(
        c.run_report(as_role("auditor", report(pb::FracasReport::Unspecified)))
            .await,
        Code::InvalidArgument,
    );

    // The log still verifies end to end.
    let verified = server
        .audit()
        .await
        .verify(pb::VerifyRequest::default())
        .await
        .expect("verify")
        .into_inner();
    assert!(verified.intact);
    server.stop().await;
}

async fn closing_is_gated_on_recurrence_in_the_window(backend: Backend) {
    let server = TestServer::start(backend).await;
    diagnosed(&server, "fr-1", pb::RootCause::Manufacturing).await;
    let mut c = client(&server).await;

    // Role checks on the steps.
    let open = pb::OpenCorrectiveActionRequest {
        context: ctx("ca-x"),
        title: "t".into(),
        failure_modes: vec!["MOTOR-OPEN".into()],
        product_models: vec!["WM-800".into()],
        verification_window_days: 10,
    };
    expect_code(
        c.open_corrective_action(as_role("technician", open.clone()))
            .await,
        Code::PermissionDenied,
    );
    expect_code(
        c.open_corrective_action(as_role("failure_review_board", open))
            .await,
        Code::PermissionDenied,
    );
    let status = expect_code(
        c.open_corrective_action(as_role(
            "reliability_engineer",
            pb::OpenCorrectiveActionRequest {
                context: ctx("ca-x"),
                title: "t".into(),
                failure_modes: vec![],
                product_models: vec!["WM-800".into()],
                verification_window_days: 10,
            },
        ))
        .await,
        Code::InvalidArgument,
    );
    assert!(status.message().contains("failure_modes"), "{status:?}");
    expect_code(
        c.get_corrective_action(as_role(
            "auditor",
            pb::GetCorrectiveActionRequest {
                action_id: "ca-none".into(),
            },
        ))
        .await,
        Code::NotFound,
    );

    // A retried command (same request id) is applied once.
    let again = pb::OpenCorrectiveActionRequest {
        context: Some(pb::ActionContext {
            request_id: "open-ca-dup".into(),
            ..Default::default()
        }),
        title: "door seal".into(),
        failure_modes: vec!["DOOR-LEAK".into()],
        product_models: vec!["WM-800".into()],
        verification_window_days: 30,
    };
    let first = c
        .open_corrective_action(as_role("reliability_engineer", again.clone()))
        .await
        .expect("opened")
        .into_inner();
    let second = c
        .open_corrective_action(as_role("reliability_engineer", again))
        .await
        .expect("duplicate")
        .into_inner();
    assert!(!first.duplicate && second.duplicate);
    assert_eq!((second.action_id, second.version), (first.action_id, 1));

    // Action on WM-800: fr-1 failed today, inside the window → refused.
    verified_action(&mut c, "ca-800", "WM-800", 10).await;
    expect_code(
        close(&mut c, "reliability_engineer", "ca-800").await,
        Code::PermissionDenied,
    );
    let status = expect_code(
        close(&mut c, "failure_review_board", "ca-800").await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("fr-1"), "{status:?}");
    assert!(status.message().contains("verified"), "{status:?}");

    // Action on WM-900: nothing recurred → closed by the board.
    verified_action(&mut c, "ca-900", "WM-900", 10).await;
    let closed = close(&mut c, "failure_review_board", "ca-900")
        .await
        .expect("closed")
        .into_inner();
    assert_eq!(
        (closed.version, closed.event_type.as_str()),
        (5, "CorrectiveActionClosed")
    );
    let status = expect_code(
        close(&mut c, "failure_review_board", "ca-900").await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("closed"), "{status:?}");
    let view = c
        .get_corrective_action(as_role(
            "auditor",
            pb::GetCorrectiveActionRequest {
                action_id: "ca-900".into(),
            },
        ))
        .await
        .expect("action")
        .into_inner();
    let steps: Vec<_> = view
        .steps
        .iter()
        .map(|s| (s.step.as_str(), s.actor_id.as_str()))
        .collect();
    #[allow(deprecated)]
    let status = (view.action_status(), view.status.as_str());
    assert_eq!(status, (pb::CorrectiveActionStatus::Closed, "closed"));
    assert_eq!(
        steps,
        vec![
            ("opened", "reliability_engineer-1"),
            ("root_cause_analysed", "reliability_engineer-1"),
            ("implemented", "reliability_engineer-1"),
            ("verified", "reliability_engineer-1"),
            ("closed", "failure_review_board-1"),
        ]
    );

    // A WM-900 motor failure after closing is a recurrence after close.
    let mut request = receive_request("fr-9", Some(30));
    if let Some(p) = request.product.as_mut() {
        p.model = "WM-900".into();
    }
    let mut t = Flow::receive_with(&server, request).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    caught_up(&server).await;

    let open_actions = rows(&server, report(pb::FracasReport::OpenActions)).await;
    let ids: Vec<_> = open_actions
        .iter()
        .map(|r| (r[0].as_str(), r[2].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&("ca-800", "verified", "0")), "{ids:?}");
    assert!(
        ids.iter().any(|(_, status, _)| *status == "opened"),
        "{ids:?}"
    );
    let recurred = rows(&server, report(pb::FracasReport::RecurrencesAfterClose)).await;
    let got: Vec<_> = recurred
        .iter()
        .map(|r| (r[0].as_str(), r[2].as_str(), r[5].as_str(), r[7].as_str()))
        .collect();
    assert_eq!(got, vec![("ca-900", "fr-9", "MOTOR-OPEN", "0")]);

    // A rebuild from position 0 gives identical reports.
    let mut before = Vec::new();
    for kind in ALL_REPORTS {
        before.push(rows(&server, report(kind)).await);
    }
    let db = ticketd::store::open(&server.config)
        .await
        .expect("open store");
    crate::helpers::rebuild(&db, Some("fracas"))
        .await
        .expect("rebuild");
    db.close().await;
    let mut after = Vec::new();
    for kind in ALL_REPORTS {
        after.push(rows(&server, report(kind)).await);
    }
    assert_eq!(after, before);
    assert!(!before[0].is_empty() && !before[8].is_empty());
    server.stop().await;
}

const ALL_REPORTS: [pb::FracasReport; 9] = [
    pb::FracasReport::Failures,
    pb::FracasReport::ModePareto,
    pb::FracasReport::PartPareto,
    pb::FracasReport::RepeatFailures,
    pb::FracasReport::MtbfByModel,
    pb::FracasReport::MtbfByBatch,
    pb::FracasReport::NffRate,
    pb::FracasReport::OpenActions,
    pb::FracasReport::RecurrencesAfterClose,
];

crate::on_both_stores!(
    failure_reports_and_figures_follow_the_log,
    closing_is_gated_on_recurrence_in_the_window,
);
