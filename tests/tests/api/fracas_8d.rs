//! The 8D of a corrective action through the API on both stores (issue
//! #19): disciplines planned with owners and due dates, D1/D2 recorded,
//! overdue steps listed, and an action linked both ways with the failure
//! reports it covers.

use ticketd::rpc::pb;
use ticketd::rpc::pb::fracas_client::FracasClient;
use tonic::transport::Channel;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{as_role, day_from_today, expect_code, Backend, TestServer};

const RE: &str = "reliability_engineer";

fn ctx(action_id: &str) -> Option<pb::ActionContext> {
    Some(pb::ActionContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        action_id: action_id.to_owned(),
        ..Default::default()
    })
}

async fn plan(
    c: &mut FracasClient<Channel>,
    discipline: &str,
    due_in_days: i64,
) -> Result<tonic::Response<pb::ActionReply>, tonic::Status> {
    c.plan_action_step(as_role(
        RE,
        pb::PlanActionStepRequest {
            context: ctx("CA-8D"),
            discipline: discipline.into(),
            owner_id: "eng-7".into(),
            due_on: day_from_today(due_in_days),
        },
    ))
    .await
}

async fn record(
    c: &mut FracasClient<Channel>,
    discipline: &str,
    team: &[&str],
) -> Result<tonic::Response<pb::ActionReply>, tonic::Status> {
    c.record_action_step(as_role(
        RE,
        pb::RecordActionStepRequest {
            context: ctx("CA-8D"),
            discipline: discipline.into(),
            content: format!("{discipline} written up"),
            team: team.iter().map(|t| (*t).to_owned()).collect(),
        },
    ))
    .await
}

async fn eight_d_steps_owners_overdue_and_links(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "f8-1", Some(60)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t
        .diagnose(pb::RootCause::Manufacturing, pb::RepairPath::WorkshopRepair)
        .await;
    t.ok(r, "FaultDiagnosed");

    let mut c = FracasClient::new(server.channel().await);
    c.open_corrective_action(as_role(
        RE,
        pb::OpenCorrectiveActionRequest {
            context: ctx("CA-8D"),
            title: "motor winding opens".into(),
            failure_modes: vec!["MOTOR-OPEN".into()],
            product_models: vec!["WM-800".into()],
            verification_window_days: 30,
        },
    ))
    .await
    .expect("opened");
    plan(&mut c, "d1_team", -3).await.expect("D1 planned");
    plan(&mut c, "d2_problem", 5).await.expect("D2 planned");
    plan(&mut c, "d7_prevention", -2).await.expect("D7 planned");
    record(&mut c, "d1_team", &["eng-7", "qa-2"])
        .await
        .expect("D1");
    record(&mut c, "d2_problem", &[]).await.expect("D2");
    let linked = c
        .link_failures(as_role(
            RE,
            pb::LinkFailuresRequest {
                context: ctx("CA-8D"),
                ticket_ids: vec!["f8-1".into()],
            },
        ))
        .await
        .expect("linked")
        .into_inner();
    assert_eq!(
        (linked.version, linked.event_type.as_str()),
        (7, "FailuresLinked")
    );

    // Bad input names the field and writes nothing.
    let status = expect_code(plan(&mut c, "d9_party", 1).await, Code::InvalidArgument);
    assert!(status.message().starts_with("discipline"), "{status:?}");
    let status = expect_code(
        record(&mut c, "d4_root_cause", &[]).await,
        Code::InvalidArgument,
    );
    assert!(status.message().contains("discipline"), "{status:?}");
    let status = expect_code(record(&mut c, "d1_team", &[]).await, Code::InvalidArgument);
    assert!(status.message().contains("team"), "{status:?}");

    let a = c
        .get_corrective_action(as_role(
            "auditor",
            pb::GetCorrectiveActionRequest {
                action_id: "CA-8D".into(),
            },
        ))
        .await
        .expect("action")
        .into_inner();
    assert_eq!(a.version, 7);
    assert_eq!(a.action_status(), pb::CorrectiveActionStatus::Opened);
    assert_eq!(a.team, vec!["eng-7".to_owned(), "qa-2".to_owned()]);
    assert_eq!(a.linked_ticket_ids, vec!["f8-1".to_owned()]);
    let shown: Vec<(&str, &str, bool, bool)> = a
        .disciplines
        .iter()
        .filter(|d| !d.owner_id.is_empty())
        .map(|d| {
            (
                d.discipline.as_str(),
                d.owner_id.as_str(),
                d.done,
                d.overdue,
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            ("d1_team", "eng-7", true, false),
            ("d2_problem", "eng-7", true, false),
            ("d7_prevention", "eng-7", false, true),
        ]
    );

    server.caught_up().await;
    let overdue: Vec<Vec<String>> = c
        .run_report(as_role(
            RE,
            pb::FracasReportRequest {
                report: pb::FracasReport::OverdueActionSteps as i32,
                ..Default::default()
            },
        ))
        .await
        .expect("report")
        .into_inner()
        .rows
        .into_iter()
        .map(|r| r.cells)
        .collect();
    assert_eq!(
        overdue,
        vec![vec![
            "CA-8D".to_owned(),
            "motor winding opens".into(),
            "d7_prevention".into(),
            "eng-7".into(),
            day_from_today(-2),
            "2".into(),
        ]]
    );
    let failures = c
        .list_failures(as_role("auditor", pb::ListFailuresRequest::default()))
        .await
        .expect("history")
        .into_inner()
        .failures;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].corrective_action_ids, vec!["CA-8D".to_owned()]);
    server.stop().await;
}

crate::on_both_stores!(eight_d_steps_owners_overdue_and_links);
