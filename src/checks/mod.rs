//! The built-in check functions that policies bind to.
//!
//! A check reads the model (and the platform data) and returns [`Hit`]s: where the problem is
//! and the variables its policy's message template may use. It knows nothing of severities or
//! wording; the policy engine turns hits into findings. Each check lives in its own file with
//! its documentation and tests; [`CHECKS`] is the registry, and a test fails when a check has
//! no options schema, no policy or no fixture.

mod claim_missing_on_refresh;
mod claim_namespace;
mod claim_namespace_host;
mod claim_namespace_suspicious_host;
mod denied_attribute_excluded_from_token;
mod denied_attribute_in_claim;
mod duplicate_deny_entry;
mod evaluation_incomplete;
mod legacy_claim_reliance;
mod legacy_grant_type;
mod nested_deny_path;
mod non_oidc_conformant_client;
mod partial_options_update;
mod restricted_claim;
mod saml_debug_with_deny_list;
mod sensitive_attribute_not_denied;
mod tenant_flag;
mod unresolved_claim_name;
pub mod value_match;

pub use nested_deny_path::nested_root as nested_deny_path_root;
pub(crate) use sensitive_attribute_not_denied::received as received_attributes;

use serde::de::DeserializeOwned;

use crate::eval::{Analysis, Proof, Scripts};
use crate::finding::Subject;
use crate::model::{Loc, Tenant};
use crate::platform::Platform;
use crate::source::SourceMap;

/// What a check sees.
pub struct Context<'a> {
    pub tenant: &'a Tenant,
    pub platform: &'a Platform,
    pub sources: &'a SourceMap,
    pub scripts: &'a Scripts,
    /// Every scenario's evaluation; present for checks that run on the analysis.
    pub analysis: Option<&'a Analysis>,
}

/// One problem a check found.
#[derive(Debug, Clone)]
pub struct Hit {
    pub loc: Loc,
    /// Values for the policy's `{placeholders}`.
    pub vars: Vec<(&'static str, String)>,
    /// Placeholder values that only word the message (`{skips}`): unlike [`Hit::vars`], not
    /// part of what the finding is about, so its fingerprint does not change with them.
    pub wording: Vec<(&'static str, String)>,
    pub subject: Option<Subject>,
    pub claim: Option<String>,
    pub attribute: Option<String>,
    pub token: Option<String>,
    /// Other places that explain the hit, with a label each.
    pub related: Vec<(String, Loc)>,
    /// JSON pointer, inside the policy file, of the entry behind the verdict (an option value).
    pub policy_entry: Option<String>,
    /// The evaluated login that shows the hit is real.
    pub proof: Option<Proof>,
}

impl Hit {
    pub fn at(loc: Loc) -> Hit {
        Hit {
            loc,
            vars: Vec::new(),
            wording: Vec::new(),
            subject: None,
            claim: None,
            attribute: None,
            token: None,
            related: Vec::new(),
            policy_entry: None,
            proof: None,
        }
    }

    pub fn claim(mut self, claim: &str, token: crate::proof::TokenKind) -> Hit {
        self.claim = Some(claim.to_string());
        self.token = Some(token.as_str().to_string());
        self
    }

    /// A hit at a script's claim write, with the `claim`, `token` and `script` variables.
    pub fn for_write(write: &crate::eval::ScriptWrite, claim: &str) -> Hit {
        Hit::at(Loc {
            file: write.file,
            span: write.span(),
            pointer: String::new(),
        })
        .var("claim", claim)
        .var("token", write.token().label())
        .var("script", write.script.to_string())
        .claim(claim, write.token())
    }

    pub fn proof(mut self, proof: Proof) -> Hit {
        self.proof = Some(proof);
        self
    }

    pub fn var(mut self, name: &'static str, value: impl Into<String>) -> Hit {
        self.vars.push((name, value.into()));
        self
    }

    /// A placeholder value that words the message but says nothing new of what is found.
    pub fn wording(mut self, name: &'static str, value: impl Into<String>) -> Hit {
        self.wording.push((name, value.into()));
        self
    }

    pub fn subject(mut self, kind: &str, name: &str) -> Hit {
        self.subject = Some(Subject {
            kind: kind.to_string(),
            name: name.to_string(),
        });
        self
    }

    pub fn attribute(mut self, attribute: &str) -> Hit {
        self.attribute = Some(attribute.to_string());
        self
    }

    pub fn related(mut self, label: impl Into<String>, loc: Loc) -> Hit {
        self.related.push((label.into(), loc));
        self
    }

    pub fn policy_entry(mut self, pointer: impl Into<String>) -> Hit {
        self.policy_entry = Some(pointer.into());
        self
    }
}

/// How a check is run.
#[derive(Clone, Copy, Debug)]
pub enum Runner {
    /// A function over the model.
    Model(fn(&Context<'_>, &serde_json::Value) -> Vec<Hit>),
    /// A function over the model and the evaluation of every login scenario.
    Analysis(fn(&Context<'_>, &serde_json::Value) -> Vec<Hit>),
    /// Findings made by the engine itself (input errors, suppression bookkeeping).
    Engine,
}

/// A built-in check function.
#[derive(Debug)]
pub struct CheckDef {
    pub name: &'static str,
    /// The variables its hits fill in, which policy messages may use.
    pub variables: &'static [&'static str],
    /// Its options schema (`schemas/checks/<name>.schema.json`).
    pub schema: &'static str,
    pub runner: Runner,
}

macro_rules! check {
    ($name:literal, [$($var:literal),*], $runner:expr) => {
        CheckDef {
            name: $name,
            variables: &[$($var),*],
            schema: include_str!(concat!("../../schemas/checks/", $name, ".schema.json")),
            runner: $runner,
        }
    };
}

/// Every built-in check function, by name.
pub static CHECKS: &[CheckDef] = &[
    check!("input-error", ["problem"], Runner::Engine),
    check!("suppression-expired", ["policy", "expires"], Runner::Engine),
    check!(
        "suppression-unused",
        ["policy", "suppression", "unmatched"],
        Runner::Engine
    ),
    check!("suppression-reason", ["policy"], Runner::Engine),
    check!(
        "evaluation-incomplete",
        ["script", "what"],
        Runner::Analysis(evaluation_incomplete::run)
    ),
    check!(
        "claim-namespace",
        ["claim", "token", "script"],
        Runner::Analysis(claim_namespace::run)
    ),
    check!(
        "claim-namespace-host",
        ["claim", "host", "token", "script"],
        Runner::Analysis(claim_namespace_host::run)
    ),
    check!(
        "claim-namespace-suspicious-host",
        ["claim", "host", "token", "script"],
        Runner::Analysis(claim_namespace_suspicious_host::run)
    ),
    check!(
        "restricted-claim",
        ["claim", "token", "script"],
        Runner::Analysis(restricted_claim::run)
    ),
    check!(
        "unresolved-claim-name",
        ["known", "token", "script"],
        Runner::Analysis(unresolved_claim_name::run)
    ),
    check!(
        "denied-attribute-in-claim",
        ["claim", "attribute", "connection", "token"],
        Runner::Analysis(denied_attribute_in_claim::run)
    ),
    check!(
        "claim-missing-on-refresh",
        ["claim", "script", "token", "skips"],
        Runner::Analysis(claim_missing_on_refresh::run)
    ),
    check!(
        "nested-deny-path",
        ["entry", "root", "connection"],
        Runner::Model(nested_deny_path::run)
    ),
    check!(
        "duplicate-deny-entry",
        ["entry", "connection"],
        Runner::Model(duplicate_deny_entry::run)
    ),
    check!(
        "sensitive-attribute-not-denied",
        ["attribute", "connection", "source"],
        Runner::Analysis(sensitive_attribute_not_denied::run)
    ),
    check!(
        "saml-debug-with-deny-list",
        ["connection", "attributes"],
        Runner::Model(saml_debug_with_deny_list::run)
    ),
    check!(
        "denied-attribute-excluded-from-token",
        ["attribute", "condition", "claim", "connection", "effect"],
        Runner::Analysis(denied_attribute_excluded_from_token::run)
    ),
    check!(
        "partial-options-update",
        ["keys", "call", "script"],
        Runner::Model(partial_options_update::run)
    ),
    check!("tenant-flag", ["flag"], Runner::Model(tenant_flag::run)),
    check!(
        "non-oidc-conformant-client",
        ["client"],
        Runner::Model(non_oidc_conformant_client::run)
    ),
    check!(
        "legacy-claim-reliance",
        ["claim", "client", "script"],
        Runner::Analysis(legacy_claim_reliance::run)
    ),
    check!(
        "legacy-grant-type",
        ["item"],
        Runner::Model(legacy_grant_type::run)
    ),
    check!(
        "value-match",
        ["value", "pointer", "problem"],
        Runner::Model(value_match::run)
    ),
];

pub fn find(name: &str) -> Option<&'static CheckDef> {
    CHECKS.iter().find(|c| c.name == name)
}

/// A check's options, already validated against its schema; defaults fill what is missing.
pub fn options<T: DeserializeOwned + Default>(value: &serde_json::Value) -> T {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// Hits for claim writes that `filter` drops in some evaluated login, each with the first such
/// login as proof. A hit is made only when the issued token really lacks the claim.
pub(crate) fn dropped_claims(ctx: &Context<'_>, filter: crate::proof::Filter) -> Vec<Hit> {
    let Some(analysis) = ctx.analysis else {
        return Vec::new();
    };
    analysis
        .first_writes(
            |write| {
                write.decision.filter == filter && write.decision.outcome == crate::proof::Outcome::Dropped
            },
            |evaluation, write| !evaluation.has(write.token(), &write.claim.key.label()),
        )
        .into_iter()
        .map(|(evaluation, write)| {
            let claim = write.claim.key.label();
            let token = write.token();
            let trace = crate::eval::trace_of(evaluation, write).into_iter().collect();
            let shows = format!(
                "claim `{claim}` is absent from the {} this login issues",
                token.label()
            );
            let statement = crate::proof::Statement::ClaimAbsent {
                token,
                claim: claim.clone(),
            };
            Hit::for_write(write, &claim).proof(Proof::new(evaluation, trace, shows, statement))
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Loading a fixture export and running one check over it.

    use std::path::Path;

    use super::*;
    use crate::load::{discover::export_at, load_export};
    use crate::source::SourceMap;
    use crate::syntax::keywords::KeywordMap;

    /// Loads the fixture `tests/fixtures/<name>/<form>`, analyses it, and hands the context to
    /// `inspect`.
    pub fn with_context<R>(fixture: &str, form: &str, inspect: impl FnOnce(&Context<'_>) -> R) -> R {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture)
            .join(form);
        let export = export_at(&root).unwrap_or_else(|| panic!("no export at {root:?}"));
        let mut sources = SourceMap::default();
        let loaded = load_export(&export, &KeywordMap::default(), &mut sources, &root);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let platform = Platform::load("auth0-oidc").expect("built-in platform data");
        let scripts = crate::eval::lower_scripts(&loaded.tenant, &sources);
        let analysis = crate::eval::Analysis::new(&loaded.tenant, &scripts, &platform, &sources);
        let ctx = Context {
            tenant: &loaded.tenant,
            platform: &platform,
            sources: &sources,
            scripts: &scripts,
            analysis: Some(&analysis),
        };
        inspect(&ctx)
    }

    /// Runs `check` with `options` on its fixture's context; its hits, unrendered.
    pub fn raw_hits(ctx: &Context<'_>, check: &str, options: &serde_json::Value) -> Vec<Hit> {
        let (Runner::Model(run) | Runner::Analysis(run)) = find(check).expect("registered").runner else {
            panic!("`{check}` does not run on the model")
        };
        run(ctx, options)
    }

    /// Runs `check` with `options` on the fixture `tests/fixtures/<name>/<form>`; returns the hits
    /// as `(file, line, pointer, vars)` for compact assertions.
    pub fn hits(
        fixture: &str,
        form: &str,
        check: &str,
        options: serde_json::Value,
    ) -> Vec<(String, u32, String, String)> {
        with_context(fixture, form, |ctx| {
            let sources = ctx.sources;
            let mut out: Vec<_> = raw_hits(ctx, check, &options)
                .into_iter()
                .map(|hit| {
                    let file = sources.get(hit.loc.file);
                    let vars = hit
                        .vars
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    (
                        file.export_relative.clone(),
                        file.line_col(hit.loc.span.start).line,
                        hit.loc.pointer,
                        vars,
                    )
                })
                .collect();
            out.sort();
            out
        })
    }
}
