//! The contract types of token and storage findings: logins (scenarios), tokens, traces and
//! proofs. They sit below the evaluator, which produces them, and the findings and reporters,
//! which carry and render them; nothing here depends on either.

use serde::Serialize;

/// The two tokens a login issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    IdToken,
    AccessToken,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::IdToken => "id_token",
            TokenKind::AccessToken => "access_token",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TokenKind::IdToken => "ID token",
            TokenKind::AccessToken => "access token",
        }
    }
}

/// Protocols evaluated for interactive logins: the login itself and the refresh that follows.
pub const LOGIN_PROTOCOLS: &[&str] = &["oidc-basic-profile", "oauth2-refresh-token"];
pub const REFRESH_PROTOCOL: &str = "oauth2-refresh-token";
pub const CREDENTIALS_PROTOCOL: &str = "oauth2-client-credentials";
pub const DEFAULT_SCOPES: &[&str] = &["openid", "profile", "email"];
/// The client name of a generic login (no concrete client of the export runs the scripts).
pub const ANY_CLIENT: &str = "<any client>";

/// Which pipeline a login goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pipeline {
    OidcConformant,
    /// The client is not OIDC-conformant and the login sends no `audience`.
    Legacy,
}

/// One login to evaluate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Scenario {
    pub client: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    pub protocol: String,
    pub scopes: Vec<String>,
    pub pipeline: Pipeline,
    pub platform: String,
    /// A generic login: an unknown OIDC-conformant client and an unknown connection, used
    /// where no concrete login of the export runs the scripts.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub generic: bool,
    /// A sample user profile (`claimlint token --profile FILE`), as JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

impl Scenario {
    pub fn is_refresh(&self) -> bool {
        self.protocol == REFRESH_PROTOCOL
    }

    /// The scenario in one line, for people.
    pub fn describe(&self) -> String {
        let via = match (&self.connection, self.generic) {
            (Some(c), _) => format!(" via `{c}`"),
            (None, true) if self.protocol != CREDENTIALS_PROTOCOL => " via any connection".to_string(),
            _ => String::new(),
        };
        let scopes = if self.scopes.is_empty() {
            String::new()
        } else {
            format!(", scopes `{}`", self.scopes.join(" "))
        };
        let kind = if self.is_refresh() { "a refresh-token" } else { "a" };
        let client = if self.generic {
            "any OIDC-conformant client (generic login)".to_string()
        } else {
            format!("`{}`", self.client)
        };
        format!(
            "{kind} login of {client}{via} ({}{scopes}, {} pipeline, platform {})",
            self.protocol,
            match self.pipeline {
                Pipeline::OidcConformant => "OIDC-conformant",
                Pipeline::Legacy => "legacy",
            },
            self.platform
        )
    }
}

/// The platform filter that decided a claim's fate, in the order Auth0 applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Filter {
    /// The claim name is not known statically.
    Unresolved,
    Restricted,
    Namespace,
    Auth0Domain,
    Scope,
    DenyList,
    DenyListExclusion,
    LegacyProfile,
}

impl Filter {
    /// Every filter the evaluator implements. The platform data's `filters` list must name each
    /// exactly once; its order is the order [`crate::eval::filters::decide`] applies them in.
    pub const ALL: [Filter; 8] = [
        Filter::Unresolved,
        Filter::Restricted,
        Filter::Namespace,
        Filter::Auth0Domain,
        Filter::Scope,
        Filter::DenyList,
        Filter::DenyListExclusion,
        Filter::LegacyProfile,
    ];

    /// The filter with the kebab-case id `id` (`auth0-domain`).
    pub fn from_id(id: &str) -> Option<Filter> {
        Filter::ALL.into_iter().find(|f| f.as_str() == id)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Filter::Unresolved => "unresolved",
            Filter::Restricted => "restricted",
            Filter::Namespace => "namespace",
            Filter::Auth0Domain => "auth0-domain",
            Filter::Scope => "scope",
            Filter::DenyList => "deny-list",
            Filter::DenyListExclusion => "deny-list-exclusion",
            Filter::LegacyProfile => "legacy-profile",
        }
    }
}

/// What a filter did to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Kept,
    Dropped,
    /// The claim name is not known statically.
    Unresolved,
}

/// What happened to one claim in one login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    pub claim: String,
    pub token: TokenKind,
    /// Shared by every entry of one script in every login (a large export has many).
    pub script: std::sync::Arc<str>,
    pub file: std::sync::Arc<str>,
    pub line: u32,
    pub filter: Filter,
    pub outcome: Outcome,
    pub reason: String,
    /// Set only on some paths: the condition, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// For claims the deny list takes out of a token: the condition that does it (`mfa`,
    /// `redirect`, `legacy-sso`, or `never` for a denied `name`/`nickname`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// For claims the deny list takes out of a token: that condition in words.
    #[serde(skip)]
    pub clause: Option<String>,
    #[serde(skip)]
    pub source: Option<crate::source::SourceId>,
    #[serde(skip)]
    pub span: crate::source::Span,
    /// JSON pointer of the deny-list entry, for profile claims.
    #[serde(skip)]
    pub pointer: String,
}

/// Claims as issued, by token and name.
pub type Tokens =
    std::collections::BTreeMap<TokenKind, std::collections::BTreeMap<String, serde_json::Value>>;
/// Claims issued on some paths only, with the condition in words.
pub type MayClaims = std::collections::BTreeMap<TokenKind, std::collections::BTreeMap<String, String>>;

/// The profile Auth0 stores for a login through a connection: each root attribute the
/// connection delivers, with where it comes from, and the ones its deny list removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct PersistedProfile {
    pub connection: String,
    /// Attribute → where it comes from (`the fieldsMap mapping`, `rule \`x\` reads it`...).
    pub stored: std::collections::BTreeMap<String, String>,
    /// Root attributes the deny list keeps out of storage.
    pub removed: Vec<String>,
    /// Deny-list entries that remove nothing (nested paths).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ineffective: Vec<String>,
}

/// What a proof claims, in a form the engine re-derives from the evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Statement {
    /// The witness login issues the token without the claim.
    ClaimAbsent { token: TokenKind, claim: String },
    /// The witness login issues the token with the claim.
    ClaimIssued { token: TokenKind, claim: String },
    /// The login (`login`) issues the claim; the witness, its refresh, does not.
    MissingOnRefresh {
        token: TokenKind,
        claim: String,
        login: Box<Scenario>,
    },
    /// The persisted profile of the witness login holds the attribute.
    AttributeStored { attribute: String },
    /// The deny-list entry removes nothing from the persisted profile.
    EntryRemovesNothing { entry: String },
}

/// The evidence behind a finding: the login, what it issues or stores, the trace entries
/// that make the finding true, and the statement the engine verified.
#[derive(Debug, Clone, Serialize)]
pub struct Proof {
    pub scenario: Scenario,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tokens: Tokens,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub may: MayClaims,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<PersistedProfile>,
    pub trace: Vec<TraceEntry>,
    /// What the proof shows, in one line.
    pub shows: String,
    pub statement: Statement,
    /// `tokens` and `may` are still to be read off the witness login (whose evaluation the
    /// engine looks up by `scenario`): checks leave them out, and the engine fills them in
    /// only for the findings that are reported with their proof.
    #[serde(skip)]
    pub tokens_pending: bool,
    /// In test builds, the tokens and conditional claims of the login the check looked at,
    /// which those filled in must equal (kept apart from `tokens`, so that a finding whose
    /// tokens are never filled in shows none in tests too).
    #[serde(skip)]
    pub looked_at: Option<Box<(Tokens, MayClaims)>>,
}
