//! The claim evaluator: what the tenant's login pipeline puts into ID and access tokens.
//!
//! The evaluator is split by job:
//! - [`domain`]: the abstract values, conditions and states the interpreter works on;
//! - [`machine`] and [`builtins`]: JavaScript semantics (the interpreter core);
//! - [`host`]: the Auth0 host API (`user`, `context`, `event`, `api`, `callback`);
//! - [`summary`]: one run of one script, summarised as plain data;
//! - [`filters`]: Auth0's platform filters, from the platform data;
//! - [`profile`]: standard profile claims and the persisted profile;
//! - [`scripts`]: the export's scripts, lowered once;
//! - [`scenario`]: the logins worth evaluating (concrete and generic) and their facts;
//! - [`analysis`]: the per-script memo keyed by the facts each script reads, and the
//!   [`Analysis`] that groups logins and evaluates each group once;
//! - [`pipeline`]: one login's evaluation composed from the summaries.
//!
//! Nothing here runs tenant code.

pub mod analysis;
pub mod builtins;
pub mod closed;
pub mod domain;
pub mod filters;
pub mod host;
pub mod machine;
pub mod pipeline;
pub mod profile;
pub mod scenario;
pub mod scripts;
pub mod summary;

use crate::js::Lowered;
use crate::model::{Connection, ExportFormat, Tenant};
use crate::platform::{Platform, Signals};
pub use crate::proof::{
    ANY_CLIENT, CREDENTIALS_PROTOCOL, DEFAULT_SCOPES, Filter, LOGIN_PROTOCOLS, MayClaims, Outcome, Pipeline,
    Proof, REFRESH_PROTOCOL, Scenario, Statement, TokenKind, Tokens, TraceEntry,
};
use crate::source::{SourceId, SourceMap, Span};
pub use analysis::Analysis;
pub use filters::{Decision, host_within, namespace_host, namespace_scheme};
use host::{Fact, FactRead, LoginFacts, Mode, ScriptKind};
pub use pipeline::{Evaluation, ScriptWrite, SignalAt, compact_tokens, trace_of};
pub use scenario::{LoginRequest, login_facts, requested_scenario, scenarios, storage_scenario};
pub use scripts::{ScriptUnit, Scripts, lower_scripts, lower_scripts_from, lower_scripts_within};
use summary::{ClaimSet, ClaimValue, LoginOutcome, SignalKind, Summary};
