//! Fixes: the repair a finding comes with, as plain serialisable data.
//!
//! A [`Fix`] is a list of text [`Edit`]s to export files, and whether applying it changes what
//! Auth0 stores or issues ([`Applicability::Unsafe`]) or not ([`Applicability::Safe`]), as ruff
//! tells safe from unsafe fixes. [`crate::repair`] proposes and applies them; reporters render
//! them (JSON as they are, SARIF as `fixes`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::finding::Location;

/// Whether a fix keeps Auth0's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Nothing Auth0 stores or issues changes (a deny-list entry that does nothing, a claim
    /// write Auth0 ignores): applied by `claimlint fix`.
    Safe,
    /// What Auth0 stores or issues changes: applied only with `--unsafe-fixes`.
    Unsafe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

/// One replacement of a byte range of a file (an insertion when the range is empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// The range replaced.
    pub location: Location,
    /// What replaces it.
    pub content: String,
}

/// A finding's repair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub applicability: Applicability,
    /// What the fix does, in one line.
    pub message: String,
    /// Edits in file and position order; they never overlap.
    pub edits: Vec<Edit>,
    /// The connection whose deny list the fix changes (what `--emit-patch` writes a Management
    /// API body for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
}

/// What a tenant issues and stores, as far as a fix can change it: the claims of every
/// evaluated login's tokens, and the attributes stored for logins through each connection.
/// `claimlint fix` compares it before and after a fix to say what the fix changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Behaviour {
    /// `(client, connection, protocol)` → token → claim names.
    pub logins: BTreeMap<Login, BTreeMap<crate::proof::TokenKind, BTreeSet<String>>>,
    /// Connection → attributes the persisted profile holds.
    pub stored: BTreeMap<String, BTreeSet<String>>,
}

/// A login, by client, connection (none for machine-to-machine logins) and protocol.
pub type Login = (String, Option<String>, String);
