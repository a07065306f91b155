//! The company's policy file (`config/policy.toml`): parsed once into
//! [`Policies`], every mistake named with its field and line. Pure: the
//! caller reads the bytes.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ticket::Policies;
use check::Checker;
use raw::RawPolicy;

mod check;
mod raw;

/// The policy shipped in the binary: the defaults of DOMAIN.md.
pub const BUILTIN: &str = include_str!("../../../../config/policy.toml");

/// Which policy: the file's own label and the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub label: String,
    pub digest: String,
}

/// One mistake in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// 1-based, as editors count.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Dotted path, e.g. `approval.tiers[2].from`; indexes count from 1
    /// (`product_line[1]` is the first `[[product_line]]`).
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldProblem {
    /// `LINE:COLUMN: field: message`: after the file's name, the form
    /// compilers use, which editors and CI annotations jump to.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.line, self.column, self.field, self.message
        )
    }
}

/// Why a policy file was refused. Shown as one problem per line, each
/// `LINE:COLUMN: field: message` ([`PolicyFileError::in_file`] puts the
/// file's name in front).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyFileError {
    /// Not TOML, a value of the wrong type, an unknown or missing field.
    #[error("{0}")]
    Unreadable(FieldProblem),
    /// Well-formed, but values break the rules; every one is listed.
    #[error("{}", list(.0))]
    Invalid(Vec<FieldProblem>),
}

impl PolicyFileError {
    pub fn problems(&self) -> Vec<&FieldProblem> {
        match self {
            PolicyFileError::Unreadable(one) => vec![one],
            PolicyFileError::Invalid(all) => all.iter().collect(),
        }
    }

    /// Every problem as `FILE:LINE:COLUMN: field: message`, one a line.
    pub fn in_file(&self, file: &str) -> String {
        let lines: Vec<String> = self
            .problems()
            .iter()
            .map(|p| format!("{file}:{p}"))
            .collect();
        lines.join("\n")
    }
}

fn list(problems: &[FieldProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// Parses and checks a policy file.
pub fn parse(text: &str) -> Result<Policies, PolicyFileError> {
    let raw: RawPolicy = toml::from_str(text).map_err(|e| unreadable(text, &e))?;
    let mut check = Checker::new(text);
    let policies = check.policy(&raw, digest(text.as_bytes()));
    match (policies, check.problems.is_empty()) {
        (Some(policies), true) => Ok(policies),
        _ => Err(PolicyFileError::Invalid(check.problems)),
    }
}

/// SHA-256 of the file's bytes, lower-case hex.
pub fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The 1-based line and column (in characters) of a byte offset.
pub(super) fn position(text: &str, offset: usize) -> (usize, usize) {
    let Some(before) = text.get(..offset) else {
        return (1, 1);
    };
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The field a TOML error is about: named in the message, or the key on the
/// line it points at; prefixed with the table it is in.
fn unreadable(text: &str, error: &toml::de::Error) -> PolicyFileError {
    let span = error.span().unwrap_or(0..0);
    let (line, column) = position(text, span.start);
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.saturating_sub(1)).copied().unwrap_or("");
    let named = error
        .message()
        .split('`')
        .nth(1)
        .filter(|_| error.message().contains("field `"));
    let key = named
        .map(str::to_owned)
        .or_else(|| {
            here.split_once('=')
                .map(|(k, _)| k.trim().to_owned())
                .filter(|k| !k.starts_with('['))
        })
        .unwrap_or_default();
    let table = lines
        .iter()
        .take(line)
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
    let field = match (table, key.is_empty()) {
        (Some(t), false) if named.is_none() || !here.trim().starts_with('[') => {
            format!("{t}.{key}")
        }
        (Some(t), true) => t,
        (_, false) => key,
        (None, true) => "(file)".to_owned(),
    };
    PolicyFileError::Unreadable(FieldProblem {
        line,
        column,
        field,
        message: error.message().trim().to_owned(),
    })
}

impl Policies {
    /// The policy shipped in the binary (`config/policy.toml`).
    pub fn builtin() -> Self {
        #[allow(clippy::expect_used)]
        parse(BUILTIN).expect("the built-in policy parses (tested)")
    }

    /// Parses a policy file (see [`parse`]).
    pub fn from_toml(text: &str) -> Result<Self, PolicyFileError> {
        parse(text)
    }
}

#[cfg(test)]
mod tests;
