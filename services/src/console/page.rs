//! What every page shares: the frame (who is signed in, the sign-out form),
//! rendering, refusals as HTTP answers, CSV downloads and the embedded
//! assets.

use askama::Template;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use domain::Actor;

use super::session::Session;
use super::Console;
use crate::rpc::pb;

/// The frame around every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub actor: String,
    pub role: String,
    pub csrf: String,
    /// The navigation entry to highlight.
    pub active: &'static str,
}

impl Chrome {
    pub fn new(session: &Session, active: &'static str) -> Self {
        Self {
            actor: session.actor.id.to_string(),
            role: session.actor.role.to_string(),
            csrf: session.csrf.clone(),
            active,
        }
    }
}

/// Why a page was not shown.
#[derive(Debug)]
pub enum Failure {
    /// No live session: to the sign-in page.
    SignIn,
    /// A form without the session's CSRF token.
    Csrf,
    /// The API's answer: refused, bad input, not found, unavailable.
    Api(tonic::Status),
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Self {
        Self::Api(status)
    }
}

#[derive(Template)]
#[template(path = "refused.html")]
struct Refused {
    title: String,
    reason: String,
}

fn http_code(code: tonic::Code) -> StatusCode {
    use tonic::Code;
    match code {
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable | Code::DeadlineExceeded => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (code, title, reason) = match self {
            Failure::SignIn => {
                let mut response = StatusCode::SEE_OTHER.into_response();
                response
                    .headers_mut()
                    .insert(LOCATION, HeaderValue::from_static("/signin"));
                return response;
            }
            Failure::Csrf => (
                StatusCode::FORBIDDEN,
                "Refused",
                "the form did not carry this session's CSRF token".to_owned(),
            ),
            Failure::Api(status) => {
                let code = http_code(status.code());
                let title = match code {
                    StatusCode::FORBIDDEN => "Refused",
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::BAD_REQUEST => "Bad input",
                    _ => "Unavailable",
                };
                (code, title, status.message().to_owned())
            }
        };
        let page = Refused {
            title: title.to_owned(),
            reason,
        };
        (code, render(&page)).into_response()
    }
}

/// A rendered template, or a plain 500 if rendering failed.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "console template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "page could not be rendered",
            )
                .into_response()
        }
    }
}

/// A request to a service as `actor`, as the gRPC interceptor builds it.
pub fn as_caller<T>(actor: &Actor, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.extensions_mut().insert(actor.clone());
    request
}

/// A protobuf time on the business calendar, to the second.
pub fn local_time(zone: chrono_tz::Tz, t: &prost_types::Timestamp) -> String {
    let nanos = u32::try_from(t.nanos).unwrap_or_default();
    chrono::DateTime::from_timestamp(t.seconds, nanos).map_or_else(
        || "(out of range)".to_owned(),
        |t| {
            t.with_timezone(&zone)
                .format("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        },
    )
}

/// A CSV file from the API as a download.
pub fn download(file: pb::CsvFile) -> Response {
    attachment(&file.file_name, "text/csv; charset=utf-8", file.content)
}

/// Bytes as a download named `name`.
pub fn attachment(name: &str, content_type: &'static str, content: Vec<u8>) -> Response {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    response
}

/// The first page after sign-in.
pub async fn home(State(console): State<Console>, headers: HeaderMap) -> Result<Response, Failure> {
    let session = console.session(&headers)?;
    let first = match session.actor.role {
        domain::Role::ReliabilityEngineer | domain::Role::FailureReviewBoard => "/fracas",
        domain::Role::Finance => "/cost",
        domain::Role::Technician | domain::Role::QcInspector => "/tail",
        domain::Role::CustomerService
        | domain::Role::ServiceManager
        | domain::Role::SalesVp
        | domain::Role::GeneralManager
        | domain::Role::Auditor
        | domain::Role::Integration => "/sla",
        // Reads nothing: erasure is the Privacy API's (docs/PRIVACY.md),
        // importing the import's.
        role @ (domain::Role::DataProtectionOfficer | domain::Role::Importer) => {
            return Err(tonic::Status::permission_denied(format!(
                "the console has nothing for {role}: it reads nothing (docs/SECURITY.md)"
            ))
            .into())
        }
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(LOCATION, HeaderValue::from_static(first));
    Ok(response)
}

const CSS: &str = include_str!("../../assets/console.css");
const JS: &str = include_str!("../../assets/console.js");

pub async fn css() -> Response {
    ([(CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

pub async fn js() -> Response {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8")], JS).into_response()
}

/// Under TLS: a browser that has seen the console comes back over TLS only
/// (a year), so a network attacker cannot downgrade it to clear text.
pub async fn strict_transport(mut response: Response) -> Response {
    response.headers_mut().insert(
        "strict-transport-security",
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// No inline script, no framing, no caching of pages that hold data.
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
