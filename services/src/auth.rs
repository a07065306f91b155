//! Who is calling. Every call carries `authorization: Bearer <token>`;
//! tokens map to an actor and a role in a TOML file that stores only their
//! SHA-256 (tokens are 256-bit random strings from `ticketd token`, so a
//! plain hash is enough: there is nothing to brute-force).
//!
//! ```toml
//! [[token]]
//! actor = "cs-01"
//! role = "customer_service"
//! sha256 = "<64 hex digits>"
//! # personal_data = true   # an integration's grant (docs/SECURITY.md)
//! ```
//!
//! For a local quick start only, `--insecure-dev-auth` instead trusts the
//! `x-actor-id` and `x-actor-role` headers, and says so in the log.

use std::collections::HashMap;
use std::path::Path;

use domain::values::ActorId;
use domain::{Actor, Role};
use projections::log::seal::sha256_hex;
use serde::Deserialize;
use tonic::metadata::MetadataMap;
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum AuthFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid token file: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error("{path}: token {index}: {reason}")]
    Entry {
        path: String,
        index: usize,
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    token: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    actor: String,
    role: String,
    sha256: String,
    /// The grant to read personal data in clear where the role's view is
    /// "clear if granted" (an integration's subscriptions).
    #[serde(default)]
    personal_data: bool,
}

/// What a credential carries beyond its actor and role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grants {
    /// The token file's `personal_data = true` (or, in development mode,
    /// the header `x-actor-grants: personal_data`).
    pub personal_data: bool,
}

/// How callers are identified.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Bearer tokens, by their SHA-256.
    Tokens(HashMap<String, (Actor, Grants)>),
    /// Trust `x-actor-id` / `x-actor-role`. Development only.
    InsecureHeaders,
}

impl Auth {
    pub fn load(path: &Path) -> Result<Self, AuthFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| AuthFileError::Read {
            path: shown.clone(),
            source,
        })?;
        let file: File = toml::from_str(&text).map_err(|source| AuthFileError::Parse {
            path: shown.clone(),
            source,
        })?;
        let mut tokens = HashMap::new();
        for (index, entry) in file.token.into_iter().enumerate() {
            let bad = |reason: String| AuthFileError::Entry {
                path: shown.clone(),
                index,
                reason,
            };
            let id = ActorId::parse(&entry.actor).map_err(|p| bad(format!("actor {p}")))?;
            let role = Role::parse(&entry.role)
                .ok_or_else(|| bad(format!("unknown role {:?}", entry.role)))?;
            let hash = entry.sha256.trim().to_ascii_lowercase();
            if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad("sha256 must be 64 hex digits".into()));
            }
            let grants = Grants {
                personal_data: entry.personal_data,
            };
            tokens.insert(hash, (Actor { id, role }, grants));
        }
        Ok(Self::Tokens(tokens))
    }

    /// A token book from (token, actor) pairs, hashing the tokens; no
    /// token has a grant.
    pub fn from_tokens(entries: impl IntoIterator<Item = (String, Actor)>) -> Self {
        Self::from_granted_tokens(
            entries
                .into_iter()
                .map(|(token, actor)| (token, actor, Grants::default())),
        )
    }

    /// A token book from (token, actor, grants), hashing the tokens.
    pub fn from_granted_tokens(entries: impl IntoIterator<Item = (String, Actor, Grants)>) -> Self {
        Self::Tokens(
            entries
                .into_iter()
                .map(|(token, actor, grants)| (sha256_hex(&token), (actor, grants)))
                .collect(),
        )
    }

    /// Identifies the caller of a request.
    pub fn identify(&self, metadata: &MetadataMap) -> Result<Actor, Status> {
        self.caller(metadata).map(|(actor, _)| actor)
    }

    /// Identifies the caller of a request, with what their credential
    /// grants.
    pub fn caller(&self, metadata: &MetadataMap) -> Result<(Actor, Grants), Status> {
        match self {
            Auth::Tokens(tokens) => {
                let header = metadata.get("authorization").ok_or_else(|| {
                    Status::unauthenticated("missing authorization: Bearer <token>")
                })?;
                let token = header
                    .to_str()
                    .ok()
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        Status::unauthenticated("authorization must be \"Bearer <token>\"")
                    })?;
                tokens
                    .get(&sha256_hex(token))
                    .cloned()
                    .ok_or_else(|| Status::unauthenticated("unknown or revoked token"))
            }
            Auth::InsecureHeaders => {
                let header = |name: &str| {
                    metadata
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| Status::unauthenticated(format!("missing {name} header")))
                };
                let id = ActorId::parse(header("x-actor-id")?)
                    .map_err(|p| Status::unauthenticated(format!("x-actor-id {p}")))?;
                let raw_role = header("x-actor-role")?;
                let role = Role::parse(raw_role).ok_or_else(|| {
                    Status::unauthenticated(format!("x-actor-role: unknown role {raw_role}"))
                })?;
                let grants = Grants {
                    personal_data: metadata
                        .get("x-actor-grants")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.split(',').any(|g| g.trim() == "personal_data")),
                };
                Ok((Actor { id, role }, grants))
            }
        }
    }
}

/// A new random token (two v4 UUIDs: 244 random bits) and its file entry.
pub fn new_token(actor: &str, role: Role) -> (String, String) {
    let token = format!(
        "tkd_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let entry = format!(
        "[[token]]\nactor = \"{actor}\"\nrole = \"{role}\"\nsha256 = \"{}\"\n",
        sha256_hex(&token)
    );
    (token, entry)
}

/// What `ticketd token` prints for a new token: the text for a person, or
/// (`json`) one JSON object for a script. Refuses an unknown role or a bad
/// actor id.
pub fn token_text(
    actor: &str,
    role: &str,
    personal_data: bool,
    json: bool,
) -> Result<String, String> {
    let role = Role::parse(role).ok_or_else(|| format!("unknown role {role:?}"))?;
    ActorId::parse(actor).map_err(|p| format!("--actor {p}"))?;
    let granted = crate::access::PersonalView::Granted;
    if personal_data && crate::access::personal_view(role) != granted {
        return Err(format!(
            "--personal-data is for the integration role; {role} sees personal data as its role does (docs/SECURITY.md)"
        ));
    }
    let (token, mut entry) = new_token(actor, role);
    if personal_data {
        entry.push_str("personal_data = true\n");
    }
    Ok(if json {
        serde_json::json!({
            "actor": actor,
            "role": role.to_string(),
            "sha256": sha256_hex(&token),
            "token": token,
            "token_file_entry": entry,
        })
        .to_string()
    } else {
        format!("token (give to {actor}, shown once): {token}\n\nadd to the token file:\n{entry}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_bearer(token: &str) -> MetadataMap {
        let mut md = MetadataMap::new();
        md.insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        md
    }

    fn actor() -> Actor {
        Actor {
            id: ActorId::parse("aud-1").expect("id"),
            role: Role::Auditor,
        }
    }

    #[test]
    fn a_known_token_identifies_its_actor() {
        let auth = Auth::from_tokens([("secret-1".to_owned(), actor())]);
        assert_eq!(auth.identify(&with_bearer("secret-1")).ok(), Some(actor()));
    }

    #[test]
    fn an_unknown_token_or_none_is_unauthenticated() {
        let auth = Auth::from_tokens([("secret-1".to_owned(), actor())]);
        for md in [with_bearer("secret-2"), MetadataMap::new()] {
            let status = auth.identify(&md).expect_err("refused");
            assert_eq!(status.code(), tonic::Code::Unauthenticated);
        }
    }

    #[test]
    fn token_file_stores_hashes_and_round_trips() {
        let (token, entry) = new_token("fin-01", Role::Finance);
        assert!(!entry.contains(&token), "the file must not hold the token");
        let dir = std::env::temp_dir().join(format!("ticketd-auth-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("tokens.toml");
        std::fs::write(&path, entry).expect("write");
        let auth = Auth::load(&path).expect("loads");
        let who = auth.identify(&with_bearer(&token)).expect("known");
        assert_eq!(who.role, Role::Finance);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_token_carries_the_personal_data_grant_only_when_the_file_says_so() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("tokens.toml");
        let (plain, entry) = new_token("crm", Role::Integration);
        let (granted, granted_entry) = new_token("billing", Role::Integration);
        let granted_entry = format!("{granted_entry}personal_data = true\n");
        std::fs::write(&path, format!("{entry}{granted_entry}")).expect("write");
        let auth = Auth::load(&path).expect("loads");
        let (_, grants) = auth.caller(&with_bearer(&plain)).expect("known");
        assert!(!grants.personal_data);
        let (who, grants) = auth.caller(&with_bearer(&granted)).expect("known");
        assert!(grants.personal_data);
        assert_eq!(who.id.as_str(), "billing");
    }

    #[test]
    fn a_token_made_with_personal_data_carries_the_grant_and_only_an_integration_may_have_it() {
        let text = token_text("crm", "integration", true, true).expect("made");
        let json: serde_json::Value = serde_json::from_str(&text).expect("json");
        let entry = json["token_file_entry"].as_str().expect("entry");
        assert!(entry.ends_with("personal_data = true\n"), "{entry}");
        let refused = token_text("tech-1", "technician", true, false).expect_err("refused");
        assert!(refused.contains("integration"), "{refused}");
    }

    #[test]
    fn a_bad_role_in_the_file_is_named() {
        let dir = std::env::temp_dir().join(format!("ticketd-auth-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("tokens.toml");
        std::fs::write(
            &path,
            "[[token]]\nactor = \"x\"\nrole = \"janitor\"\nsha256 = \"00\"\n",
        )
        .expect("write");
        let err = Auth::load(&path).expect_err("refused");
        assert!(err.to_string().contains("janitor"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
