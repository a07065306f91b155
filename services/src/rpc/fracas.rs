//! The `Fracas` service: failure history and reliability reports from the
//! FRACAS read model, and corrective-action commands through the bus.

use std::sync::Arc;
use std::time::Duration;

use domain::capa::{ActionCommand, OpenAction, Step};
use domain::values::{Problem, ValueError};
use domain::{Role, TicketServices};
use projections::fracas::reports::{self, Cursor, Filter, Report, Table};
use projections::fracas::{base, life, tables};
use projections::fracas::{FailureRecord, FRACAS};
use tonic::{Request, Response, Status};

use super::commands::{optional_id, request_id};
use super::enums;
use super::pages;
use super::parse::{self as p, to_timestamp};
use super::pb;
use super::pb::fracas_server::Fracas;
use super::status::{from_command_error, from_sqlx, invalid, invalid_field};
use super::views;
use super::{fracas_8d, fracas_life};
use crate::bus::{CommandBus, CommandRequest};
use crate::store::Pool;

/// Largest page of failure history.
const MAX_PAGE: u32 = 500;
const DEFAULT_PAGE: u32 = 50;
const DEFAULT_REPEAT_DAYS: u32 = 90;
/// How long closing waits for the failure reports to catch up with the log.
const CATCH_UP: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct FracasService {
    db: Pool,
    bus: Arc<CommandBus>,
    services: TicketServices,
}

impl FracasService {
    pub fn new(db: Pool, bus: Arc<CommandBus>, services: TicketServices) -> Self {
        Self { db, bus, services }
    }

    fn store(&self) -> &Pool {
        &self.db
    }

    fn today(&self) -> chrono::NaiveDate {
        self.services.policies.local_date(self.services.clock.now())
    }
}

fn opt(raw: &str) -> Option<String> {
    Some(raw.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn filter(raw: Option<&pb::FailureFilter>) -> Result<Filter, ValueError> {
    let Some(f) = raw else {
        return Ok(Filter::default());
    };
    let from = p::optional_date("filter.from_date", &f.from_date)?;
    let to = p::optional_date("filter.to_date", &f.to_date)?;
    if let (Some(a), Some(b)) = (from, to) {
        if a > b {
            return Err(
                Problem::Malformed("must not be after filter.to_date".into())
                    .at("filter.from_date"),
            );
        }
    }
    Ok(Filter {
        product_model: opt(&f.product_model),
        serial: opt(&f.serial_number),
        part_number: opt(&f.part_number),
        batch: opt(&f.batch),
        failure_mode: opt(&f.failure_mode),
        from,
        to,
    })
}

fn report_of(raw: i32) -> Result<Report, ValueError> {
    use pb::FracasReport as R;
    Ok(match R::try_from(raw) {
        Ok(R::Failures) => Report::Failures,
        Ok(R::ModePareto) => Report::ModePareto,
        Ok(R::PartPareto) => Report::PartPareto,
        Ok(R::RepeatFailures) => Report::RepeatFailures,
        Ok(R::MtbfByModel) => Report::MtbfByModel,
        Ok(R::MtbfByBatch) => Report::MtbfByBatch,
        Ok(R::NffRate) => Report::NffRate,
        Ok(R::OpenActions) => Report::OpenActions,
        Ok(R::RecurrencesAfterClose) => Report::RecurrencesAfterClose,
        Ok(R::ModeParetoByPeriod) => Report::ModeParetoByPeriod,
        Ok(R::PartParetoByPeriod) => Report::PartParetoByPeriod,
        Ok(R::FailureRateTrendByBatch) => Report::FailureRateTrendByBatch,
        Ok(R::OverdueActionSteps) => Report::OverdueActionSteps,
        Ok(R::Unspecified) => return Err(Problem::Empty.at("report")),
        Err(_) => return Err(Problem::Malformed(format!("has unknown value {raw}")).at("report")),
    })
}

/// A failure record as the API shows it: the signal as an enum and
/// (deprecated, still filled) as its snake_case name.
#[allow(deprecated)]
fn view(f: FailureRecord) -> pb::FailureReport {
    let relevant = f.relevant();
    pb::FailureReport {
        ticket_id: f.ticket_id,
        record_no: f.record_no,
        signal: f.signal.as_str().to_owned(),
        failure_signal: enums::signal_pb(f.signal) as i32,
        occurred_at: Some(to_timestamp(f.occurred_at)),
        failed_on: f.failed_on.to_string(),
        product_model: f.product_model,
        serial_number: f.serial,
        batch: f.batch.unwrap_or_default(),
        failure_mode: f.failure_mode,
        symptom: f.symptom,
        failed_parts: f.failed_parts,
        root_cause: f.root_cause.unwrap_or_default(),
        responsible_department: f.responsible_department.unwrap_or_default(),
        operating_days: f.operating_days,
        no_fault_found: f.no_fault_found,
        misuse: f.misuse,
        relevant,
        cycle: f.cycle,
        corrective_action_ids: Vec::new(),
    }
}

fn step(s: &Step) -> pb::ActionStep {
    pb::ActionStep {
        step: s.step.as_str().to_owned(),
        actor_id: s.by.to_string(),
        role: s.role.to_string(),
        at: Some(to_timestamp(s.at)),
    }
}

type Reply = Result<Response<pb::ActionReply>, Status>;

impl FracasService {
    async fn table(&self, m: &pb::FracasReportRequest) -> Result<(Report, Table), Status> {
        let parsed = (|| {
            let report = report_of(m.report)?;
            let filter = filter(m.filter.as_ref())?;
            let as_of = p::optional_date("as_of", &m.as_of)?.unwrap_or_else(|| self.today());
            let days = match m.repeat_within_days {
                0 => DEFAULT_REPEAT_DAYS,
                d @ 1..=3650 => d,
                _ => return Err(Problem::OutOfRange { min: 1, max: 3650 }.at("repeat_within_days")),
            };
            Ok::<_, ValueError>(reports::Request {
                report,
                filter,
                as_of,
                repeat_within_days: i64::from(days),
                period: fracas_life::period(m.period)?,
                local: self.services.policies.local_time(),
                page: pages::page(
                    (report != Report::Failures).then_some("FRACAS_REPORT_FAILURES"),
                    m.page_size,
                    &m.page_token,
                    Cursor::parse,
                )?,
            })
        })()
        .map_err(|e| invalid(&e))?;
        let table = reports::run(self.store(), &parsed)
            .await
            .map_err(from_sqlx)?;
        Ok((parsed.report, table))
    }

    /// The one path every corrective-action command takes.
    async fn command(
        &self,
        actor: domain::Actor,
        context: Option<&pb::ActionContext>,
        new_action: bool,
        command: Result<ActionCommand, ValueError>,
    ) -> Reply {
        let request = (|| {
            let context = context.ok_or_else(|| Problem::Empty.at("context"))?;
            let action_id = if new_action && context.action_id.trim().is_empty() {
                uuid::Uuid::new_v4().to_string()
            } else {
                p::ticket_id("context.action_id", &context.action_id)?
            };
            Ok::<_, ValueError>(CommandRequest {
                ticket_id: action_id,
                request_id: request_id("context.request_id", &context.request_id)?,
                expected_version: context.expected_version,
                actor,
                command: command?,
                when: domain::When {
                    occurred_at: p::occurred_at(context.occurred_at.as_ref())?,
                    recording: domain::Recording::Live,
                },
                correlation_id: optional_id("context.correlation_id", &context.correlation_id)?,
                causation_id: optional_id("context.causation_id", &context.causation_id)?,
                imported_by: None,
            })
        })()
        .map_err(|e| invalid(&e))?;
        let applied = self
            .bus
            .execute_action(request)
            .await
            .map_err(from_command_error)?;
        Ok(Response::new(pb::ActionReply {
            action_id: applied.ticket_id,
            version: applied.version,
            event_type: applied.event_type,
            duplicate: applied.duplicate,
        }))
    }

    /// Waits (briefly) until the failure reports include every event
    /// committed before this call. The log's head alone is not enough: on a
    /// busy server the sequencer (the log watcher's) may not have logged a
    /// just-acknowledged failure yet, and a gate checked then would miss it.
    /// So the wait is for the log to hold as many events as the store had
    /// at the start, and for the projection to have applied the whole log.
    async fn caught_up(&self) -> Result<(), Status> {
        let deadline = tokio::time::Instant::now() + CATCH_UP;
        let committed = self.db.stored().await.map_err(from_sqlx)?;
        loop {
            let (seen, head) = (self.db.checkpoint(FRACAS).await, self.db.head().await);
            let (seen, head) = (seen.map_err(from_sqlx)?, head.map_err(from_sqlx)?);
            if head >= committed && seen >= head {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Status::unavailable(
                    "the failure reports are behind the event log; retry",
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tonic::async_trait]
impl Fracas for FracasService {
    async fn list_failures(
        &self,
        request: Request<pb::ListFailuresRequest>,
    ) -> Result<Response<pb::ListFailuresResponse>, Status> {
        let m = request.get_ref();
        let filter = filter(m.filter.as_ref()).map_err(|e| invalid(&e))?;
        let size = match m.page_size {
            0 => DEFAULT_PAGE,
            n if n <= MAX_PAGE => n,
            _ => return Err(invalid_field("page_size", "must be at most 500")),
        };
        let after =
            match opt(&m.page_token) {
                None => None,
                Some(t) => Some(Cursor::parse(&t).ok_or_else(|| {
                    invalid_field("page_token", "is not a token this server issued")
                })?),
            };
        let (page, next) = reports::history(self.store(), &filter, after.as_ref(), i64::from(size))
            .await
            .map_err(from_sqlx)?;
        let tickets: Vec<String> = page.iter().map(|f| f.ticket_id.clone()).collect();
        let links = reports::linked_actions(self.store(), &tickets)
            .await
            .map_err(from_sqlx)?;
        Ok(Response::new(pb::ListFailuresResponse {
            failures: page
                .into_iter()
                .map(|f| {
                    let actions = links.get(&f.ticket_id).cloned().unwrap_or_default();
                    pb::FailureReport {
                        corrective_action_ids: actions,
                        ..view(f)
                    }
                })
                .collect(),
            next_page_token: next.map(|c| c.token()).unwrap_or_default(),
        }))
    }

    async fn run_report(
        &self,
        request: Request<pb::FracasReportRequest>,
    ) -> Result<Response<pb::ReportTable>, Status> {
        let (_, table) = self.table(request.get_ref()).await?;
        Ok(Response::new(views::report_table(table)))
    }

    async fn export_report_csv(
        &self,
        request: Request<pb::FracasReportRequest>,
    ) -> Result<Response<pb::CsvFile>, Status> {
        let m = request.get_ref();
        pages::whole(m.page_size, &m.page_token).map_err(|e| invalid(&e))?;
        let (report, table) = self.table(m).await?;
        Ok(Response::new(views::csv_file(
            &format!("fracas-{}", report.file_stem()),
            &table,
        )))
    }

    async fn open_corrective_action(
        &self,
        request: Request<pb::OpenCorrectiveActionRequest>,
    ) -> Reply {
        let actor = p::caller(&request)?;
        let m = request.into_inner();
        let labels = |field: &str, raw: &[String]| {
            p::bounded_list(field, raw)?;
            raw.iter()
                .enumerate()
                .map(|(i, s)| p::label(&format!("{field}[{i}]"), s))
                .collect::<Result<Vec<_>, _>>()
        };
        let command = (|| {
            Ok(ActionCommand::Open(OpenAction {
                title: p::text("title", &m.title)?,
                failure_modes: labels("failure_modes", &m.failure_modes)?,
                models: labels("product_models", &m.product_models)?,
                verification_window_days: m.verification_window_days,
            }))
        })();
        self.command(actor, m.context.as_ref(), true, command).await
    }

    async fn record_root_cause(&self, request: Request<pb::RecordRootCauseRequest>) -> Reply {
        let actor = p::caller(&request)?;
        let m = request.into_inner();
        let command = (|| {
            Ok(ActionCommand::RecordRootCause {
                category: p::root_cause("category", m.category)?,
                analysis: p::text("analysis", &m.analysis)?,
            })
        })();
        self.command(actor, m.context.as_ref(), false, command)
            .await
    }

    async fn record_implementation(
        &self,
        request: Request<pb::RecordImplementationRequest>,
    ) -> Reply {
        let actor = p::caller(&request)?;
        let m = request.into_inner();
        let command = (|| {
            Ok(ActionCommand::RecordImplementation {
                description: p::text("description", &m.description)?,
                implemented_on: p::date("implemented_on", &m.implemented_on)?,
            })
        })();
        self.command(actor, m.context.as_ref(), false, command)
            .await
    }

    async fn verify_effectiveness(
        &self,
        request: Request<pb::VerifyEffectivenessRequest>,
    ) -> Reply {
        let actor = p::caller(&request)?;
        let m = request.into_inner();
        let command = p::text("evidence", &m.evidence)
            .map(|evidence| ActionCommand::VerifyEffectiveness { evidence });
        self.command(actor, m.context.as_ref(), false, command)
            .await
    }

    async fn close_corrective_action(
        &self,
        request: Request<pb::CloseCorrectiveActionRequest>,
    ) -> Reply {
        let actor = p::caller(&request)?;
        let m = request.into_inner();
        let id = m
            .context
            .as_ref()
            .map(|c| c.action_id.clone())
            .unwrap_or_default();
        // The failures to check: only worth looking up for a caller who may
        // close, on an action that exists and is implemented; otherwise the
        // domain refuses with the reason.
        let mut recurrences = Vec::new();
        if actor.role == Role::FailureReviewBoard {
            if let Ok(id) = p::ticket_id("context.action_id", &id) {
                let (action, _) = self
                    .bus
                    .load_action(&id)
                    .await
                    .map_err(from_command_error)?;
                if let Some((from, _)) = action.window() {
                    self.caught_up().await?;
                    let modes: Vec<String> = action
                        .failure_modes
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    let models: Vec<String> =
                        action.models.iter().map(ToString::to_string).collect();
                    recurrences = reports::recurrences(self.store(), &modes, &models, from)
                        .await
                        .map_err(from_sqlx)?;
                }
            }
        }
        let command = Ok(ActionCommand::Close { recurrences });
        self.command(actor, m.context.as_ref(), false, command)
            .await
    }

    // Fills the deprecated `status` beside `action_status`.
    #[allow(deprecated)]
    async fn get_corrective_action(
        &self,
        request: Request<pb::GetCorrectiveActionRequest>,
    ) -> Result<Response<pb::CorrectiveAction>, Status> {
        let id =
            p::ticket_id("action_id", &request.get_ref().action_id).map_err(|e| invalid(&e))?;
        let (a, version) = self
            .bus
            .load_action(&id)
            .await
            .map_err(from_command_error)?;
        if version == 0 {
            return Err(Status::not_found(format!(
                "corrective action {id} not found"
            )));
        }
        let text = |t: &Option<domain::values::Text>| {
            t.as_ref().map(ToString::to_string).unwrap_or_default()
        };
        Ok(Response::new(pb::CorrectiveAction {
            action_id: id,
            status: a.status.as_str().to_owned(),
            action_status: enums::action_status_pb(a.status) as i32,
            title: text(&a.title),
            failure_modes: a.failure_modes.iter().map(ToString::to_string).collect(),
            product_models: a.models.iter().map(ToString::to_string).collect(),
            verification_window_days: a.verification_window_days,
            root_cause: a
                .root_cause
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            analysis: text(&a.analysis),
            implementation: text(&a.implementation),
            implemented_on: a.implemented_on.map(|d| d.to_string()).unwrap_or_default(),
            window_to: a.window().map(|(_, to)| to.to_string()).unwrap_or_default(),
            evidence: text(&a.evidence),
            steps: a.steps.iter().map(step).collect(),
            version,
            disciplines: fracas_8d::disciplines(&a, self.today()),
            team: a.eight_d.team.iter().map(ToString::to_string).collect(),
            linked_ticket_ids: a.eight_d.linked_tickets.iter().cloned().collect(),
        }))
    }

    async fn plan_action_step(&self, request: Request<pb::PlanActionStepRequest>) -> Reply {
        let actor = p::caller(&request)?;
        let m = request.into_inner();
        let command = fracas_8d::plan(&m);
        self.command(actor, m.context.as_ref(), false, command)
            .await
    }

    async fn record_action_step(&self, request: Request<pb::RecordActionStepRequest>) -> Reply {
        let actor = p::caller(&request)?;
        let m = request.into_inner();
        let command = fracas_8d::record(&m);
        self.command(actor, m.context.as_ref(), false, command)
            .await
    }

    async fn link_failures(&self, request: Request<pb::LinkFailuresRequest>) -> Reply {
        let actor = p::caller(&request)?;
        let m = request.into_inner();
        let command = fracas_8d::link(&m);
        self.command(actor, m.context.as_ref(), false, command)
            .await
    }

    async fn register_units(
        &self,
        request: Request<pb::RegisterUnitsRequest>,
    ) -> Result<Response<pb::RegisterUnitsReply>, Status> {
        let actor = p::caller(&request)?;
        if actor.role != Role::ReliabilityEngineer {
            return Err(Status::permission_denied(format!(
                "role {} may not register units",
                actor.role
            )));
        }
        let units = fracas_life::units(&request.get_ref().units, self.today())?;
        let registered = base::register(self.store(), &units, self.services.clock.now())
            .await
            .map_err(from_sqlx)?;
        Ok(Response::new(pb::RegisterUnitsReply { registered }))
    }

    async fn analyze_weibull(
        &self,
        request: Request<pb::WeibullRequest>,
    ) -> Result<Response<pb::WeibullReply>, Status> {
        let m = request.get_ref();
        let (filter, ask) = (|| {
            let filter = filter(m.filter.as_ref())?;
            fracas_life::reject_serial(&filter)?;
            Ok::<_, ValueError>((filter, fracas_life::weibull_ask(m, self.today())?))
        })()
        .map_err(|e| invalid(&e))?;
        let failures = reports::failures(self.store(), &filter)
            .await
            .map_err(from_sqlx)?;
        let pop = tables::population(self.store(), &filter)
            .await
            .map_err(from_sqlx)?;
        let group = if ask.by_batch {
            projections::fracas::analysis::GroupBy::Batch
        } else {
            projections::fracas::analysis::GroupBy::Model
        };
        let data = life::life_data(&failures, &pop, ask.as_of, group);
        Ok(Response::new(pb::WeibullReply {
            confidence: ask.confidence,
            as_of: ask.as_of.to_string(),
            analyses: life::analyse(data, ask.z, &ask.ages)
                .into_iter()
                .map(fracas_life::analysis)
                .collect(),
        }))
    }
}
