//! Sign-in, sessions and CSRF.
//!
//! A session is held in this process's memory (a restart signs everyone
//! out; several processes each keep their own) and expires
//! [`SESSION_TTL`] after sign-in. The cookie holds only a random id; the
//! CSRF token is a second random value bound to the session and required
//! on every form that changes anything.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::ConnectInfo;
use axum::extract::State;
use axum::http::header::{COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use domain::Actor;
use serde::Deserialize;
use tonic::metadata::{MetadataMap, MetadataValue};

use super::page::{render, Failure};
use super::Console;
use crate::access::Method;
use crate::auth::Auth;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "ticketd_session";

/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 60 * 60);

/// Sessions one actor may hold at once (a browser each); a new one ends
/// the oldest.
pub const MAX_SESSIONS_PER_ACTOR: usize = 8;

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    pub csrf: String,
    expires: Instant,
}

#[derive(Debug, Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

fn random() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

impl Sessions {
    /// A new session for `actor`; past [`MAX_SESSIONS_PER_ACTOR`] the
    /// actor's oldest session ends.
    fn open(&self, actor: Actor) -> String {
        let id = random();
        let now = Instant::now();
        let mut sessions = self.0.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|_, s| s.expires > now);
        let theirs = sessions.values().filter(|s| s.actor.id == actor.id).count();
        if theirs >= MAX_SESSIONS_PER_ACTOR {
            let oldest = sessions
                .iter()
                .filter(|(_, s)| s.actor.id == actor.id)
                .min_by_key(|(_, s)| s.expires)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(
            id.clone(),
            Session {
                actor,
                csrf: random(),
                expires: now + SESSION_TTL,
            },
        );
        id
    }

    fn get(&self, id: &str) -> Option<Session> {
        let sessions = self.0.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .get(id)
            .filter(|s| s.expires > Instant::now())
            .cloned()
    }

    fn close(&self, id: &str) {
        let mut sessions = self.0.lock().unwrap_or_else(|p| p.into_inner());
        sessions.remove(id);
    }
}

/// The session id in the request's cookie, if any.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

impl Console {
    /// The caller's live session, or a redirect to the sign-in page.
    pub(super) fn session(&self, headers: &HeaderMap) -> Result<Session, Failure> {
        cookie(headers)
            .and_then(|id| self.0.sessions.get(id))
            .ok_or(Failure::SignIn)
    }

    /// The caller's live session, if the access table lets its role call
    /// every RPC of `calls` (what the page calls of the API, see
    /// [`super::calls`]); else 403 naming the first it may not call.
    pub(super) fn session_for(
        &self,
        headers: &HeaderMap,
        calls: &[Method],
    ) -> Result<Session, Failure> {
        let session = self.session(headers)?;
        let role = session.actor.role;
        let table = self.0.policy.access();
        match calls.iter().find(|m| !table.allows(role, **m)) {
            Some(refused) => Err(table.refusal(role, *refused).into()),
            None => Ok(session),
        }
    }
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    dev: bool,
    roles: Vec<&'static str>,
    error: String,
}

fn sign_in_page(console: &Console, error: &str, code: StatusCode) -> Response {
    let page = SignInPage {
        dev: matches!(console.0.auth, Auth::InsecureHeaders),
        roles: domain::Role::ALL.iter().map(|r| r.as_str()).collect(),
        error: error.to_owned(),
    };
    (code, render(&page)).into_response()
}

pub async fn form(State(console): State<Console>) -> Response {
    sign_in_page(&console, "", StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct SignIn {
    #[serde(default)]
    token: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    role: String,
}

/// The same metadata a gRPC caller would send, so that [`Auth::identify`]
/// decides exactly as it does for the API.
fn credentials(auth: &Auth, form: &SignIn) -> Option<MetadataMap> {
    let mut md = MetadataMap::new();
    let mut put = |name: &'static str, value: String| {
        MetadataValue::try_from(value)
            .ok()
            .map(|v| md.insert(name, v))
    };
    match auth {
        Auth::Tokens(_) => put("authorization", format!("Bearer {}", form.token.trim()))?,
        Auth::InsecureHeaders => {
            put("x-actor-id", form.actor.trim().to_owned())?;
            put("x-actor-role", form.role.trim().to_owned())?
        }
    };
    Some(md)
}

/// Whether a form comes from another site (a sign-in forged by another
/// page): the browser's `Sec-Fetch-Site` says it is not same-origin, or,
/// from a browser that does not send that, `Origin` names another host.
/// (`Origin: null`, which the console's own no-referrer policy makes a
/// browser send, proves nothing either way.)
fn cross_site(headers: &HeaderMap) -> bool {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(site) = header("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = header(ORIGIN.as_str()).filter(|o| *o != "null") else {
        return false;
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin.split_once("://").map(|(_, h)| h) != Some(host)
}

pub async fn sign_in(
    State(console): State<Console>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    let now = Instant::now();
    if cross_site(&headers) {
        tracing::warn!(address = %peer, "console sign-in refused: the form came from another site");
        return sign_in_page(
            &console,
            "Not signed in: the form came from another site",
            StatusCode::FORBIDDEN,
        );
    }
    let guard = &console.0.sign_ins;
    if !guard.may_try(peer.ip(), now) {
        tracing::warn!(address = %peer, "console sign-in refused: too many failures from this address");
        return sign_in_page(
            &console,
            &format!(
                "Not signed in: {} failed sign-ins from your address; try again in a minute",
                super::guard::MAX_FAILURES
            ),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let auth = &console.0.auth;
    let actor = credentials(auth, &form)
        .ok_or_else(|| "the token holds characters a token never has".to_owned())
        .and_then(|md| auth.identify(&md).map_err(|s| s.message().to_owned()));
    if let Err(reason) = &actor {
        // The actor a development form names; never the token.
        tracing::warn!(address = %peer, actor = form.actor.trim(), %reason, "console sign-in failed");
        guard.failed(peer.ip(), now);
    }
    match actor {
        Ok(actor) => {
            guard.succeeded(peer.ip());
            tracing::info!(actor = %actor.id, role = %actor.role, address = %peer, "console sign-in");
            let id = console.0.sessions.open(actor);
            let secure = if console.0.secure { "; Secure" } else { "" };
            let cookie = format!(
                "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                SESSION_TTL.as_secs()
            );
            let mut response = StatusCode::SEE_OTHER.into_response();
            let headers = response.headers_mut();
            headers.insert(LOCATION, HeaderValue::from_static("/"));
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.insert(SET_COOKIE, value);
            }
            response
        }
        Err(reason) => sign_in_page(
            &console,
            &format!("Not signed in: {reason}"),
            StatusCode::UNAUTHORIZED,
        ),
    }
}

#[derive(Debug, Deserialize)]
pub struct SignOut {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_out(
    State(console): State<Console>,
    headers: HeaderMap,
    Form(form): Form<SignOut>,
) -> Result<Response, Failure> {
    let session = console.session(&headers)?;
    if !same(&form.csrf, &session.csrf) {
        return Err(Failure::Csrf);
    }
    if let Some(id) = cookie(&headers) {
        console.0.sessions.close(id);
    }
    let secure = if console.0.secure { "; Secure" } else { "" };
    let expired =
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}");
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(LOCATION, HeaderValue::from_static("/signin"));
    if let Ok(value) = HeaderValue::from_str(&expired) {
        headers.insert(SET_COOKIE, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_id_is_read_from_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; ticketd_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers), Some("abc"));
        assert_eq!(cookie(&HeaderMap::new()), None);
    }

    #[test]
    fn a_closed_session_is_gone() {
        let sessions = Sessions::default();
        let actor = Actor {
            id: domain::values::ActorId::parse("sm-1").expect("id"),
            role: domain::Role::ServiceManager,
        };
        let id = sessions.open(actor);
        assert!(sessions.get(&id).is_some());
        sessions.close(&id);
        assert!(sessions.get(&id).is_none());
    }

    fn form(token: &str, actor: &str, role: &str) -> SignIn {
        SignIn {
            token: token.to_owned(),
            actor: actor.to_owned(),
            role: role.to_owned(),
        }
    }

    #[test]
    fn in_development_mode_the_form_names_the_actor_and_role() {
        let auth = Auth::InsecureHeaders;
        let md = credentials(&auth, &form("", " qa-7 ", "qc_inspector")).expect("headers");
        let actor = auth.identify(&md).expect("identified");
        assert_eq!(actor.id.to_string(), "qa-7");
        assert_eq!(actor.role, domain::Role::QcInspector);
        let md = credentials(&auth, &form("", "qa-7", "janitor")).expect("headers");
        assert!(
            auth.identify(&md).is_err(),
            "an unknown role signs no one in"
        );
    }

    #[test]
    fn a_token_is_checked_as_the_api_checks_it() {
        let actor = Actor {
            id: domain::values::ActorId::parse("fin-1").expect("id"),
            role: domain::Role::Finance,
        };
        let auth = Auth::from_tokens([("tkd_good".to_owned(), actor.clone())]);
        let md = credentials(&auth, &form("tkd_good\n", "", "")).expect("headers");
        assert_eq!(auth.identify(&md).ok(), Some(actor));
        let md = credentials(&auth, &form("tkd_bad", "", "")).expect("headers");
        assert!(auth.identify(&md).is_err());
    }

    #[test]
    fn csrf_tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
