//! The token checks on their fixtures, in both export formats, and the script analysis and claim
//! evaluator underneath them.
//!
//! Each token check runs through the public [`claimlint::check`] API with the built-in policies
//! on `tests/fixtures/<check>/{yaml,directory}`. The findings of the policy bound to the check
//! are snapshotted with their proofs (`tests/snapshots/analysis__<check>_<format>.snap`), the
//! two formats must agree on everything but the position in the file, and the facts that make
//! each finding true (the issued token really lacks the claim, a disabled rule is never
//! flagged...) are asserted here in code, so that a snapshot update cannot quietly accept a
//! wrong finding.
//!
//! Below them: the abstract interpreter on small scripts ([`claimlint::js::analyse`] +
//! [`claimlint::eval::interp::run`]) and each platform filter of the evaluator
//! ([`claimlint::eval::evaluate`]) on a small tenant.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use claimlint::eval::host::{Fact, LoginFacts, Mode, ScriptKind};
use claimlint::eval::machine::STEP_BUDGET;
use claimlint::eval::summary::{ClaimKey, Summary};
use claimlint::eval::{Analysis, Outcome, Pipeline, Proof, Scenario, TokenKind, lower_scripts};
use claimlint::finding::{Finding, Severity};
use claimlint::load::{discover::export_at, load_export};
use claimlint::platform::Platform;
use claimlint::source::SourceMap;
use claimlint::syntax::keywords::KeywordMap;
use serde_json::{Value, json};
use support::{Case, findings_of, fixture, run};

mod support;

// ---------------------------------------------------------------------------------------------
// The token checks on their fixtures

const CLAIM_NAMESPACE: Case = Case {
    check: "claim-namespace",
    policy: "CL101",
    name: "non-namespaced-claim",
};
const CLAIM_NAMESPACE_HOST: Case = Case {
    check: "claim-namespace-host",
    policy: "CL102",
    name: "auth0-domain-namespace",
};
const CLAIM_NAMESPACE_SUSPICIOUS_HOST: Case = Case {
    check: "claim-namespace-suspicious-host",
    policy: "CL107",
    name: "suspicious-namespace-host",
};
const RESTRICTED_CLAIM: Case = Case {
    check: "restricted-claim",
    policy: "CL103",
    name: "restricted-claim",
};
const UNRESOLVED_CLAIM_NAME: Case = Case {
    check: "unresolved-claim-name",
    policy: "CL104",
    name: "unresolved-claim-name",
};
const EVALUATION_INCOMPLETE: Case = Case {
    check: "evaluation-incomplete",
    policy: "CL005",
    name: "evaluation-incomplete",
};
const DENIED_ATTRIBUTE_IN_CLAIM: Case = Case {
    check: "denied-attribute-in-claim",
    policy: "CL105",
    name: "denied-attribute-in-claim",
};
const CLAIM_MISSING_ON_REFRESH: Case = Case {
    check: "claim-missing-on-refresh",
    policy: "CL106",
    name: "claim-missing-on-refresh",
};
const LEGACY_CLAIM_RELIANCE: Case = Case {
    check: "legacy-claim-reliance",
    policy: "CL303",
    name: "legacy-claim-reliance",
};

/// What the snapshots hold of a proof; `lines` leaves the trace lines out.
fn proof_projection(proof: &Proof, lines: bool) -> Value {
    let trace: Vec<Value> = proof
        .trace
        .iter()
        .map(|t| {
            let mut entry = json!({
                "claim": t.claim,
                "filter": t.filter,
                "outcome": t.outcome,
            });
            if lines {
                entry["line"] = json!(t.line);
            }
            entry
        })
        .collect();
    json!({
        "scenario": proof.scenario,
        "shows": proof.shows,
        "trace": trace,
        "tokens": proof.tokens,
    })
}

/// What the snapshots hold of a finding.
fn projection(f: &Finding) -> Value {
    json!({
        "policy": f.policy,
        "message": f.message,
        "file": f.location.file,
        "line": f.location.line,
        "column": f.location.column,
        "claim": f.claim,
        "token": f.token,
        "proof": f.proof.as_ref().map(|p| proof_projection(p, true)),
    })
}

/// A finding without its position, for comparing the two formats: the file relative to its
/// export stays (scripts sit at the same place in both), line and column go. Sorted, since the
/// report order follows the files.
fn positionless(findings: &[&Finding]) -> Vec<String> {
    let mut out: Vec<String> = findings
        .iter()
        .map(|f| {
            json!({
                "policy": f.policy,
                "severity": f.severity,
                "message": f.message,
                "help": f.help,
                "export_file": f.export_file,
                "subject": f.subject,
                "claim": f.claim,
                "attribute": f.attribute,
                "token": f.token,
                "proof": f.proof.as_ref().map(|p| proof_projection(p, false)),
            })
            .to_string()
        })
        .collect();
    out.sort();
    out
}

/// Snapshots the findings of `case` on both fixtures, checks the formats agree, and hands the
/// findings of each format to `check_findings`, the check's own assertions.
fn snapshot_both_formats(case: &Case, check_findings: impl Fn(&str, &[&Finding])) {
    let yaml_run = run(case.check, "yaml");
    let directory_run = run(case.check, "directory");
    let yaml = findings_of(case, &yaml_run);
    let directory = findings_of(case, &directory_run);
    assert!(!yaml.is_empty(), "{}: the yaml fixture finds nothing", case.check);

    let snake = case.check.replace('-', "_");
    for (format, found) in [("yaml", &yaml), ("directory", &directory)] {
        let projected: Vec<Value> = found.iter().map(|f| projection(f)).collect();
        insta::assert_json_snapshot!(format!("{snake}_{format}"), projected);
    }

    assert_eq!(
        positionless(&yaml),
        positionless(&directory),
        "{}: the two formats disagree",
        case.check
    );
    check_findings("yaml", &yaml);
    check_findings("directory", &directory);
}

/// The claim names of `findings`, as a set.
fn claims(findings: &[&Finding]) -> BTreeSet<String> {
    findings.iter().filter_map(|f| f.claim.clone()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn token_kind(f: &Finding) -> TokenKind {
    match f.token.as_deref() {
        Some("id_token") => TokenKind::IdToken,
        Some("access_token") => TokenKind::AccessToken,
        other => panic!("{}: no token ({other:?})", f.message),
    }
}

fn proof(f: &Finding) -> &Proof {
    f.proof
        .as_ref()
        .unwrap_or_else(|| panic!("{}: no proof", f.message))
}

/// The issued token of `f`'s proof really lacks `f`'s claim, and the proof's trace says which
/// filter dropped it.
fn assert_proof_lacks_claim(f: &Finding, filter: &str) {
    let claim = f.claim.as_deref().expect("a claim");
    let proof = proof(f);
    let token = proof
        .tokens
        .get(&token_kind(f))
        .unwrap_or_else(|| panic!("{claim}: the proof issues no {:?}", f.token));
    assert!(
        !token.contains_key(claim),
        "{claim}: the proof's token has it: {token:?}"
    );
    assert!(
        proof
            .trace
            .iter()
            .any(|t| t.claim == claim && t.filter.as_str() == filter && t.outcome == Outcome::Dropped),
        "{claim}: the trace does not show `{filter}` dropping it: {:#?}",
        proof.trace
    );
}

#[test]
fn claim_namespace() {
    snapshot_both_formats(&CLAIM_NAMESPACE, |form, found| {
        assert_eq!(
            claims(found),
            set(&[
                // the alias idiom (`idTokenClaims.tenant_tier = ...; context.idToken = ...`)
                "tenant_tier",
                // both claims of one `for (const key of [...])` loop
                "language",
                "currency",
                // a rule that returns early for other clients
                "country",
                // `Object.assign(context.idToken, {...})`
                "member_status",
                // `api.accessToken.setCustomClaim` and `onContinuePostLogin`
                "loyalty_tier",
                "terms_accepted_at",
                // the non-namespaced property of a credentials-exchange hook
                "partner_tier",
            ]),
            "{form}"
        );
        // The disabled rule, the unbound action and the disabled hook never run; a standard
        // claim issued with its scope and the namespaced claims are not custom claims without a
        // namespace.
        for never in ["display_nick", "draft_flag", "given_name", "legacy_tier"] {
            assert!(!claims(found).contains(never), "{form}: {never}");
        }
        assert!(claims(found).iter().all(|c| !c.contains("://")), "{form}");
        for f in found {
            assert_proof_lacks_claim(f, "namespace");
        }
        let hook = found
            .iter()
            .find(|f| f.claim.as_deref() == Some("partner_tier"))
            .unwrap();
        assert_eq!(proof(hook).scenario.protocol, "oauth2-client-credentials");
        assert!(
            proof(hook)
                .tokens
                .get(&TokenKind::AccessToken)
                .unwrap()
                .contains_key("https://travel.example.com/partner"),
            "{form}: the hook's namespaced claim is issued"
        );
        let continued = found
            .iter()
            .find(|f| f.claim.as_deref() == Some("terms_accepted_at"))
            .unwrap();
        assert!(
            proof(continued).trace.iter().all(|t| t.when.is_some()),
            "{form}: onContinuePostLogin runs only after a redirect"
        );
    });
}

#[test]
fn claim_namespace_suspicious_host() {
    snapshot_both_formats(&CLAIM_NAMESPACE_SUSPICIOUS_HOST, |form, found| {
        // Claims under auth0app.com and its subdomains; not the look-alike, not auth0.com (CL102),
        // not the team's own host (only with the `hosts` option).
        assert_eq!(
            claims(found),
            set(&[
                "https://acme.auth0app.com/beta",
                "https://eu.acme.auth0app.com/region"
            ]),
            "{form}"
        );
        for f in found {
            assert_eq!(f.severity, Severity::Note, "{form}");
            // Auth0 keeps the claim: the proof's token carries it.
            let claim = f.claim.as_deref().unwrap();
            let token = proof(f).tokens.get(&token_kind(f)).unwrap();
            assert!(token.contains_key(claim), "{form}: {claim} is issued");
        }
    });
}

#[test]
fn claim_namespace_host() {
    snapshot_both_formats(&CLAIM_NAMESPACE_HOST, |form, found| {
        assert_eq!(
            claims(found),
            set(&[
                "https://acme.auth0.com/plan",
                "https://x.webtask.io/y",
                "https://acme.eu.auth0.com/region",
                "https://acme.auth0.com/sync_client",
            ]),
            "{form}"
        );
        // `https://acme.auth0.com/plan` is set on both tokens, the second time through a template.
        let plan: Vec<TokenKind> = found
            .iter()
            .filter(|f| f.claim.as_deref() == Some("https://acme.auth0.com/plan"))
            .map(|f| token_kind(f))
            .collect();
        assert_eq!(plan, [TokenKind::IdToken, TokenKind::AccessToken], "{form}");
        for f in found {
            assert_proof_lacks_claim(f, "auth0-domain");
        }
        // Look-alike hosts and an Auth0-hosted domain off the documented list are kept.
        let login = found
            .iter()
            .find(|f| f.claim.as_deref() == Some("https://acme.auth0.com/plan"))
            .unwrap();
        let id_token = proof(login).tokens.get(&TokenKind::IdToken).unwrap();
        for kept in [
            "https://notauth0.com/plan",
            "https://auth0.com.acme.example.com/plan",
            "https://acme.example.com/plan",
            "https://acme.auth0app.com/beta",
        ] {
            assert!(id_token.contains_key(kept), "{form}: {kept} is issued");
        }
    });
}

#[test]
fn restricted_claim() {
    snapshot_both_formats(&RESTRICTED_CLAIM, |form, found| {
        assert_eq!(
            claims(found),
            set(&["sub", "permissions", "roles", "client_id"]),
            "{form}"
        );
        for f in found {
            assert_proof_lacks_claim(f, "restricted");
        }
        // `email` is a standard claim, issued with the `email` scope, not a restricted one.
        let roles = found
            .iter()
            .find(|f| f.claim.as_deref() == Some("roles"))
            .unwrap();
        let id_token = proof(roles).tokens.get(&TokenKind::IdToken).unwrap();
        assert!(id_token.contains_key("email"), "{form}: {id_token:?}");
        assert!(id_token.contains_key("https://hr.example.com/roles"), "{form}");
    });
}

#[test]
fn unresolved_claim_name() {
    snapshot_both_formats(&UNRESOLVED_CLAIM_NAME, |form, found| {
        assert_eq!(found.len(), 4, "{form}");
        for f in found {
            assert_eq!(f.severity, Severity::Note, "{form}: nothing is proven dropped");
            assert!(f.proof.is_none(), "{form}");
        }
        let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        let has = |text: &str| messages.iter().any(|m| m.contains(text));
        // Unknown namespaces say where they come from and claim no known beginning.
        assert!(
            has("comes from configuration.SECZETTA_NAMESPACE + 'risk_score'"),
            "{messages:#?}"
        );
        assert!(
            has("comes from event.secrets.NAMESPACE + '/department'"),
            "{messages:#?}"
        );
        assert!(
            has("comes from event.secrets.NAMESPACE + '/cost_center'"),
            "{messages:#?}"
        );
        // A known namespace followed by an unknown is namespaced whatever follows: no note.
        assert!(!has("https://risk.example.com/"), "{messages:#?}");
        assert!(has("unresolved a0deploy keyword"), "{messages:#?}");
        // `ns + 'level'` is known.
        assert!(!has("level"), "{messages:#?}");
    });
}

#[test]
fn denied_attribute_in_claim() {
    snapshot_both_formats(&DENIED_ATTRIBUTE_IN_CLAIM, |form, found| {
        let gender = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/gender";
        let got: BTreeSet<(String, String, String)> = found
            .iter()
            .map(|f| {
                (
                    f.claim.clone().unwrap(),
                    f.attribute.clone().unwrap(),
                    proof(f).scenario.connection.clone().unwrap(),
                )
            })
            .collect();
        let db = "Username-Password-Authentication";
        let want: BTreeSet<(String, String, String)> = [
            ("https://people.example.com/work_email", "email", db),
            ("https://people.example.com/ethnicity", "ethnicity", db),
            ("https://people.example.com/email", "email", db),
            ("https://people.example.com/gender", gender, "corp-saml"),
        ]
        .iter()
        .map(|(c, a, n)| (c.to_string(), a.to_string(), n.to_string()))
        .collect();
        assert_eq!(got, want, "{form}");
        for f in found {
            assert_proof_lacks_claim(f, "deny-list");
        }
        // Attributes that are not denied (a root one, and one a nested entry fails to deny) are
        // delivered.
        let work_email = found
            .iter()
            .find(|f| f.claim.as_deref() == Some("https://people.example.com/work_email"))
            .unwrap();
        let id_token = proof(work_email).tokens.get(&TokenKind::IdToken).unwrap();
        assert!(
            id_token.contains_key("https://people.example.com/display_name"),
            "{form}"
        );
        assert!(
            id_token.contains_key("https://people.example.com/personal_email"),
            "{form}"
        );
    });
}

#[test]
fn claim_missing_on_refresh() {
    snapshot_both_formats(&CLAIM_MISSING_ON_REFRESH, |form, found| {
        assert_eq!(
            claims(found),
            set(&[
                "https://shop.example.com/cart_id",
                "https://shop.example.com/segment",
                "https://shop.example.com/device_binding",
            ]),
            "{form}"
        );
        for f in found {
            let claim = f.claim.as_deref().unwrap();
            let proof = proof(f);
            assert_eq!(proof.scenario.protocol, "oauth2-refresh-token", "{form}");
            let refreshed = proof.tokens.get(&token_kind(f)).unwrap();
            assert!(!refreshed.contains_key(claim), "{form}: {claim} in {refreshed:?}");
            // The claim set on every flow is in the refreshed tokens.
            assert!(
                proof
                    .tokens
                    .get(&TokenKind::IdToken)
                    .unwrap()
                    .contains_key("https://shop.example.com/store"),
                "{form}"
            );
            assert!(
                f.related
                    .iter()
                    .any(|r| r.message.contains("refresh-token flow returns here")),
                "{form}: {claim}: the early return is pointed at"
            );
        }
        // Set again by an action on every flow: not missing on refresh.
        assert!(
            !claims(found).contains("https://shop.example.com/customer_id"),
            "{form}"
        );
        // The kiosk has no `refresh_token` grant, so it never refreshes.
        assert!(
            !claims(found).contains("https://shop.example.com/kiosk_id"),
            "{form}"
        );
        assert!(
            found.iter().all(|f| proof(f).scenario.client != "Shop Kiosk"),
            "{form}"
        );
        let device = found
            .iter()
            .find(|f| f.claim.as_deref() == Some("https://shop.example.com/device_binding"))
            .unwrap();
        assert_eq!(proof(device).scenario.client, "Shop Mobile", "{form}");
    });
}

#[test]
fn legacy_claim_reliance() {
    snapshot_both_formats(&LEGACY_CLAIM_RELIANCE, |form, found| {
        assert_eq!(claims(found), set(&["partner_id", "region"]), "{form}");
        for f in found {
            let claim = f.claim.as_deref().unwrap();
            let proof = proof(f);
            assert_eq!(proof.scenario.client, "Partner Portal", "{form}");
            // The proof is the OIDC-conformant twin of the legacy login, whose token lacks it.
            assert_eq!(proof.scenario.pipeline, Pipeline::OidcConformant, "{form}");
            assert!(
                !proof.tokens.get(&TokenKind::IdToken).unwrap().contains_key(claim),
                "{form}: {claim}"
            );
            let filters: Vec<(&str, Outcome)> = proof
                .trace
                .iter()
                .filter(|t| t.claim == claim)
                .map(|t| (t.filter.as_str(), t.outcome))
                .collect();
            assert_eq!(
                filters,
                [("namespace", Outcome::Dropped), ("legacy-profile", Outcome::Kept)],
                "{form}: {claim}"
            );
            assert_eq!(f.related.len(), 3, "{form}: the client, the flag and the policy");
        }
    });
    let run = run(LEGACY_CLAIM_RELIANCE.check, "yaml");
    let of = |policy: &str| -> Vec<&Finding> {
        run.report
            .findings
            .iter()
            .filter(|f| f.policy == policy)
            .collect()
    };
    // The OIDC-conformant client gets CL101 for the claim set for every client, not CL303.
    let cl101 = of("CL101");
    assert_eq!(claims(&cl101), set(&["region"]));
    assert_eq!(proof(cl101[0]).scenario.client, "Partner SPA");
    // A deny-listed attribute is not delivered even through the legacy pipeline: CL105, not
    // CL303.
    let cl105 = of("CL105");
    assert_eq!(claims(&cl105), set(&["contact_email"]));
    assert_eq!(proof(cl105[0]).scenario.pipeline, Pipeline::Legacy);
    assert_proof_lacks_claim(cl105[0], "deny-list");
}

/// Every script file of `dir`, relative to it.
fn scripts_under(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "js") {
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out
}

#[test]
fn both_forms_of_each_fixture_hold_the_same_scripts() {
    for case in [
        CLAIM_NAMESPACE,
        CLAIM_NAMESPACE_HOST,
        RESTRICTED_CLAIM,
        UNRESOLVED_CLAIM_NAME,
        DENIED_ATTRIBUTE_IN_CLAIM,
        CLAIM_MISSING_ON_REFRESH,
        LEGACY_CLAIM_RELIANCE,
    ] {
        let (yaml, directory) = (fixture(case.check, "yaml"), fixture(case.check, "directory"));
        let scripts = scripts_under(&yaml);
        assert!(!scripts.is_empty(), "{}", case.check);
        assert_eq!(scripts, scripts_under(&directory), "{}", case.check);
        for script in scripts {
            assert_eq!(
                std::fs::read(yaml.join(&script)).unwrap(),
                std::fs::read(directory.join(&script)).unwrap(),
                "{}: {} differs between the forms",
                case.check,
                script.display()
            );
        }
    }
}

#[test]
fn evaluation_incomplete() {
    snapshot_both_formats(&EVALUATION_INCOMPLETE, |form, found| {
        assert_eq!(found.len(), 1, "{form}");
        let f = found[0];
        assert!(f.message.contains("summarised"), "{form}: {}", f.message);
        assert!(f.location.file.ends_with("Tag country.js"), "{form}");
        assert!(f.proof.is_none(), "{form}: a note proves nothing");
    });
    // The claim the summarised loop writes is still decided (namespaced, kept) and may be set.
    let run = run("evaluation-incomplete", "yaml");
    assert!(
        run.report.findings.iter().all(|f| f.policy == "CL005"),
        "{:?}",
        run.report.findings.iter().map(|f| &f.policy).collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------------------------------------
// The abstract interpreter on small scripts

/// Runs `script` as `kind` for a login of client `App` on `oidc-basic-profile`, plus `facts`.
fn interpret_with(script: &str, kind: ScriptKind, facts: &[(Fact, &str)]) -> Summary {
    let lowered = claimlint::js::analyse(script);
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    let mut all = LoginFacts::default()
        .with(Fact::ClientName, "App")
        .with(Fact::Protocol, "oidc-basic-profile");
    for (fact, value) in facts {
        all = all.with(*fact, *value);
    }
    claimlint::eval::summary::run(
        &lowered.ir,
        script,
        kind,
        Mode::Abstract(all),
        STEP_BUDGET,
        &Platform::builtin_signals(),
    )
}

/// `(token, claim name or what is known of it, may)` for each claim, by token.
fn writes(out: &Summary) -> Vec<(TokenKind, String, bool)> {
    out.claims
        .iter()
        .map(|c| (c.token, c.key.label(), !c.must))
        .collect()
}

fn names(out: &Summary) -> Vec<String> {
    writes(out).into_iter().map(|(_, n, _)| n).collect()
}

fn attribute_of(out: &Summary, claim: &str) -> Option<String> {
    out.claims
        .iter()
        .find(|c| c.key.label() == claim)
        .and_then(|c| c.attributes.first().cloned())
}

const ID: TokenKind = TokenKind::IdToken;
const ACCESS: TokenKind = TokenKind::AccessToken;
const RULE: ScriptKind = ScriptKind::Rule;

#[test]
fn the_alias_idiom_writes_to_the_token() {
    let out = interpret_with(
        "function (user, context, callback) {
           const namespace = 'https://x.com';
           let idTokenClaims = context.idToken || {};
           let accessTokenClaims = context.accessToken || {};
           idTokenClaims[`${namespace}/roles`] = context.authorization.roles;
           accessTokenClaims[namespace + '/roles'] = context.authorization.roles;
           idTokenClaims.plain = 1;
           context.idToken = idTokenClaims;
           context.accessToken = accessTokenClaims;
           callback(null, user, context);
         }",
        RULE,
        &[],
    );
    assert_eq!(
        writes(&out),
        [
            (ID, "https://x.com/roles".into(), false),
            (ID, "plain".into(), false),
            (ACCESS, "https://x.com/roles".into(), false),
        ]
    );
}

#[test]
fn templates_and_concatenation_fold_constants() {
    let out = interpret_with(
        "async function (user, context, callback) {
           const host = 'x.com';
           const ns = `https://${host}/`;
           const claim = ns + 'a';
           context.idToken[claim] = 1;
           context.idToken[`${ns}b`] = 2;
           context.idToken[ns.concat('c')] = 3;
           return callback(null, user, context);
         }",
        RULE,
        &[],
    );
    assert_eq!(
        names(&out),
        ["https://x.com/a", "https://x.com/b", "https://x.com/c"]
    );
}

#[test]
fn loops_over_known_lists_write_each_claim() {
    let out = interpret_with(
        "function (user, context, callback) {
           for (const k of ['a', 'b']) { context.idToken['https://x.com/' + k] = user[k]; }
           ['c', 'd'].forEach(function (k) { context.accessToken[k] = user[k]; });
           ['e'].forEach((k) => context.idToken[k] = 1);
           callback(null, user, context);
         }",
        RULE,
        &[],
    );
    assert_eq!(
        writes(&out),
        [
            (ID, "https://x.com/a".into(), false),
            (ID, "https://x.com/b".into(), false),
            (ID, "e".into(), false),
            (ACCESS, "c".into(), false),
            (ACCESS, "d".into(), false),
        ]
    );
    // The values are the user's attributes.
    assert_eq!(attribute_of(&out, "https://x.com/a").as_deref(), Some("a"));
}

#[test]
fn unknown_parts_stay_unknown_and_known_namespaces_are_kept() {
    let out = interpret_with(
        "function (user, context, callback) {
           context.idToken[configuration.NS + 'y'] = 1;
           context.idToken['https://x.com/' + configuration.X] = 2;
           context.idToken[`${configuration.NS}/roles`] = 3;
           context.idToken[`https://x.com/${configuration.X}/roles`] = 4;
           callback(null, user, context);
         }",
        RULE,
        &[],
    );
    let keys: Vec<&ClaimKey> = out.claims.iter().map(|c| &c.key).collect();
    assert_eq!(
        keys,
        [
            &ClaimKey::Unknown("configuration.NS + 'y'".into()),
            &ClaimKey::Prefix("https://x.com/".into()),
            // A template that starts with an unknown knows nothing of the name's beginning.
            &ClaimKey::Unknown("configuration.NS + '/roles'".into()),
            // The text after the unknown part is known too.
            &ClaimKey::Gap {
                prefix: "https://x.com/".into(),
                then: "/roles".into(),
                ends: true
            },
        ]
    );

    let out = interpret_with(
        "exports.onExecutePostLogin = async (event, api) => {
           const { NS } = event.secrets;
           api.idToken.setCustomClaim(event.secrets.NS + '/a', 1);
           api.idToken.setCustomClaim(`${NS}/b`, `${event.user.email}`);
         };",
        ScriptKind::PostLoginAction,
        &[],
    );
    assert_eq!(
        names(&out),
        ["<event.secrets.NS + '/a'>", "<event.secrets.NS + '/b'>"]
    );
    // `${event.user.email}` is still the user's email.
    assert_eq!(
        attribute_of(&out, "<event.secrets.NS + '/b'>").as_deref(),
        Some("email")
    );
}

#[test]
fn early_returns_for_other_clients_and_protocols_skip_the_claims() {
    let script = "function (user, context, callback) {
        if (context.clientName !== 'Portal') return callback(null, user, context);
        if (context.protocol === 'oauth2-refresh-token') {
          return callback(null, user, context);
        }
        context.idToken['https://x.com/a'] = 1;
        callback(null, user, context);
      }";
    assert!(names(&interpret_with(script, RULE, &[])).is_empty());
    let portal = [(Fact::ClientName, "Portal")];
    let login = interpret_with(script, RULE, &portal);
    assert_eq!(writes(&login), [(ID, "https://x.com/a".into(), false)]);
    let refresh = interpret_with(
        script,
        RULE,
        &[
            (Fact::ClientName, "Portal"),
            (Fact::Protocol, "oauth2-refresh-token"),
        ],
    );
    assert!(names(&refresh).is_empty());
    assert_eq!(refresh.completions.len(), 1);

    // An undecidable condition runs both ways: what follows a return in one may happen.
    let out = interpret_with(
        "function (user, context, callback) {
           if (user.app_metadata.skip) { return callback(null, user, context); }
           context.idToken['https://x.com/a'] = 1;
           callback(null, user, context);
         }",
        RULE,
        &[],
    );
    assert_eq!(writes(&out), [(ID, "https://x.com/a".into(), true)]);
    let when = out.claims[0].condition.as_deref().unwrap_or_default();
    assert!(when.contains("`user.app_metadata.skip` does not hold"), "{when}");
}

#[test]
fn object_assign_actions_and_hooks_write_claims() {
    let out = interpret_with(
        "function (user, context, callback) {
           Object.assign(context.idToken, { 'https://x.com/a': 1, b: user.email });
           callback(null, user, context);
         }",
        RULE,
        &[],
    );
    assert_eq!(names(&out), ["https://x.com/a", "b"]);
    assert_eq!(attribute_of(&out, "b").as_deref(), Some("email"));

    let out = interpret_with(
        "exports.onExecutePostLogin = async (event, api) => {
           api.idToken.setCustomClaim('https://x.com/a', event.user.name);
           api.accessToken.setCustomClaim('b', 2);
         };
         exports.onContinuePostLogin = async (event, api) => {
           api.idToken.setCustomClaim('c', 3);
         };",
        ScriptKind::PostLoginAction,
        &[],
    );
    assert_eq!(
        writes(&out),
        [
            (ID, "https://x.com/a".into(), false),
            // only after a redirect
            (ID, "c".into(), true),
            (ACCESS, "b".into(), false),
        ]
    );

    let out = interpret_with(
        "module.exports = function (client, scope, audience, context, cb) {
           var access_token = {};
           access_token.scope = scope;
           access_token['https://x.com/y'] = 'bar';
           access_token.plain = 'baz';
           cb(null, access_token);
         };",
        ScriptKind::Hook,
        &[],
    );
    // `scope` on the access token changes the granted scopes: no claim.
    assert_eq!(
        writes(&out),
        [
            (ACCESS, "https://x.com/y".into(), false),
            (ACCESS, "plain".into(), false),
        ]
    );
}

#[test]
fn reading_token_claims_writes_nothing() {
    let out = interpret_with(
        "function (user, context, callback) {
           const roles = context.idToken['https://x.com/roles'] || [];
           if (context.accessToken.scope) { console.log(roles, context.accessToken['https://x.com/a']); }
           const copy = Object.assign({}, context.idToken);
           copy.unused = 1;
           callback(null, user, context);
         }",
        RULE,
        &[],
    );
    assert!(out.claims.is_empty(), "{:?}", names(&out));
}

// ---------------------------------------------------------------------------------------------
// The platform filters, on a small tenant

/// A tenant with an OIDC-conformant client, a non-conformant one, the legacy profile on, and a
/// database denying `email`; one rule writes a claim for each filter.
const FILTERS_TENANT: &str = "\
tenant:
  flags:
    enable_legacy_profile: true
clients:
  - name: App
    app_type: regular_web
    oidc_conformant: true
  - name: Old App
    app_type: regular_web
    oidc_conformant: false
databases:
  - name: Username-Password-Authentication
    strategy: auth0
    enabled_clients: [App, Old App]
    options:
      non_persistent_attrs: [email, user_metadata.ssn]
rules:
  - name: claims
    script: ./rules/claims.js
    order: 1
    enabled: true
    stage: login_success
";

const FILTERS_RULE: &str = "\
function (user, context, callback) {
  const ns = 'https://app.example.com/';
  context.idToken.sub = 'x';
  context.accessToken.permissions = [];
  context.idToken.tier = user.app_metadata.tier;
  context.idToken['https://acme.auth0.com/a'] = 1;
  context.idToken['https://acme.eu.auth0.com/b'] = 1;
  context.idToken['https://webtask.run/c'] = 1;
  context.idToken['https://notauth0.com/d'] = 1;
  context.idToken.email = user.email;
  context.idToken.contact_email = user.email;
  context.idToken.given_name = user.given_name;
  context.idToken[ns + 'work_email'] = user.email;
  context.idToken[ns + 'ssn'] = user.user_metadata.ssn;
  context.idToken[ns + 'name'] = user.name;
  context.idToken[configuration.NS + 'x'] = 1;
  callback(null, user, context);
}
";

struct Filters {
    _dir: tempfile::TempDir,
    tenant: claimlint::model::Tenant,
    scripts: claimlint::eval::Scripts,
    sources: SourceMap,
}

impl Filters {
    /// The export written in `dir`, loaded without errors, with its scripts lowered.
    fn load(dir: tempfile::TempDir) -> Filters {
        let export = export_at(dir.path()).unwrap();
        let mut sources = SourceMap::default();
        let loaded = load_export(&export, &KeywordMap::default(), &mut sources, dir.path());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let scripts = lower_scripts(&loaded.tenant, &sources);
        Filters {
            _dir: dir,
            tenant: loaded.tenant,
            scripts,
            sources,
        }
    }
}

fn filters_tenant() -> Filters {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("tenant.yaml"), FILTERS_TENANT).unwrap();
    std::fs::write(dir.path().join("rules/claims.js"), FILTERS_RULE).unwrap();
    Filters::load(dir)
}

/// `claim → (filter, outcome)` for a login of `client` with `scopes` on `pipeline`.
fn decisions(
    filters: &Filters,
    profile: &str,
    client: &str,
    scopes: &[&str],
    pipeline: Pipeline,
) -> std::collections::BTreeMap<String, (String, Outcome)> {
    let platform = Platform::load(profile).unwrap();
    let scenario = Scenario {
        client: client.into(),
        connection: Some("Username-Password-Authentication".into()),
        protocol: "oidc-basic-profile".into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        pipeline,
        platform: profile.into(),
        generic: false,
        profile: None,
    };
    let analysis = Analysis::new(&filters.tenant, &filters.scripts, &platform, &filters.sources);
    let evaluation = analysis.evaluate(
        &filters.tenant,
        &filters.scripts,
        &platform,
        &filters.sources,
        &scenario,
    );
    // The issued tokens hold exactly the kept claims.
    for entry in evaluation.trace() {
        assert_eq!(
            evaluation.has(entry.token, &entry.claim),
            entry.outcome == Outcome::Kept,
            "{}: {:?}",
            entry.claim,
            entry.outcome
        );
    }
    evaluation
        .trace()
        .map(|t| (t.claim.clone(), (t.filter.as_str().to_string(), t.outcome)))
        .collect()
}

fn decision(filter: &str, outcome: Outcome) -> (String, Outcome) {
    (filter.to_string(), outcome)
}

#[test]
fn each_platform_filter_decides_its_claims() {
    use Outcome::{Dropped, Kept, Unresolved};
    let filters = filters_tenant();
    let all = ["openid", "profile", "email"];
    let d = decisions(&filters, "auth0-oidc", "App", &all, Pipeline::OidcConformant);
    // restricted
    assert_eq!(d["sub"], decision("restricted", Dropped));
    assert_eq!(d["permissions"], decision("restricted", Dropped));
    // namespace
    assert_eq!(d["tier"], decision("namespace", Dropped));
    assert_eq!(d["contact_email"], decision("namespace", Dropped));
    // auth0-domain, subdomains included, look-alikes not
    assert_eq!(d["https://acme.auth0.com/a"], decision("auth0-domain", Dropped));
    assert_eq!(
        d["https://acme.eu.auth0.com/b"],
        decision("auth0-domain", Dropped)
    );
    assert_eq!(d["https://webtask.run/c"], decision("auth0-domain", Dropped));
    assert_eq!(d["https://notauth0.com/d"], decision("namespace", Kept));
    // scope filter for standard claims
    assert_eq!(d["email"], decision("scope", Kept));
    assert_eq!(d["given_name"], decision("scope", Kept));
    // deny list: a denied root attribute is dropped; a nested entry denies nothing
    assert_eq!(
        d["https://app.example.com/work_email"],
        decision("deny-list", Dropped)
    );
    assert_eq!(d["https://app.example.com/ssn"], decision("namespace", Kept));
    assert_eq!(d["https://app.example.com/name"], decision("namespace", Kept));
    // unresolved names are not decided
    assert_eq!(d["<configuration.NS + 'x'>"], decision("unresolved", Unresolved));

    // Without the `email` scope the standard `email` claim is removed; `profile` still issues
    // `given_name`.
    let d = decisions(
        &filters,
        "auth0-oidc",
        "App",
        &["openid", "profile"],
        Pipeline::OidcConformant,
    );
    assert_eq!(d["email"], decision("scope", Dropped));
    assert_eq!(d["given_name"], decision("scope", Kept));

    // The legacy exception: a non-conformant client on a tenant with the legacy profile on
    // keeps non-namespaced claims, and nothing else changes.
    let d = decisions(&filters, "auth0-oidc", "Old App", &all, Pipeline::Legacy);
    assert_eq!(d["tier"], decision("legacy-profile", Kept));
    assert_eq!(d["contact_email"], decision("deny-list", Dropped));
    assert_eq!(d["sub"], decision("restricted", Dropped));
    assert_eq!(d["https://acme.auth0.com/a"], decision("auth0-domain", Dropped));
    // The same client through the OIDC-conformant pipeline (an `audience` in the request).
    let d = decisions(&filters, "auth0-oidc", "Old App", &all, Pipeline::OidcConformant);
    assert_eq!(d["tier"], decision("namespace", Dropped));

    // The relaxed profile keeps private claims but still drops restricted and Auth0-domain ones.
    let d = decisions(&filters, "auth0-current", "App", &all, Pipeline::OidcConformant);
    assert_eq!(d["tier"], decision("namespace", Kept));
    assert_eq!(d["contact_email"], decision("deny-list", Dropped));
    assert_eq!(d["sub"], decision("restricted", Dropped));
    assert_eq!(d["https://acme.auth0.com/a"], decision("auth0-domain", Dropped));
}

#[test]
fn the_legacy_exception_needs_the_legacy_profile() {
    let mut filters = filters_tenant();
    // Turn the tenant flag off in the model: the legacy pipeline alone keeps nothing.
    let settings = filters.tenant.settings.as_mut().unwrap();
    settings.flags.iter_mut().for_each(|f| f.value = Some(false));
    let d = decisions(
        &filters,
        "auth0-oidc",
        "Old App",
        &["openid", "profile", "email"],
        Pipeline::Legacy,
    );
    assert_eq!(d["tier"], decision("namespace", Outcome::Dropped));
}

#[test]
fn helpers_run_hoisted_and_their_returns_stay_inside_them() {
    let out = interpret_with(
        "function (user, context, callback) {
           const roles = rolesOf(user);
           context.idToken['https://x.com/roles'] = roles;
           addPlan(context.accessToken);
           return callback(null, user, context);

           function rolesOf(u) {
             if (!u.app_metadata) { return []; }
             return u.app_metadata.roles;
           }
           function addPlan(claims) {
             claims['https://x.com/plan'] = user.app_metadata.plan;
           }
         }",
        RULE,
        &[],
    );
    assert_eq!(
        writes(&out),
        [
            (ID, "https://x.com/roles".into(), false),
            (ACCESS, "https://x.com/plan".into(), false),
        ]
    );
    assert_eq!(
        attribute_of(&out, "https://x.com/roles").as_deref(),
        Some("app_metadata.roles")
    );
}

const GUARDIAN_TENANT: &str = "\
clients:
  - name: App
    app_type: regular_web
    oidc_conformant: true
databases:
  - name: Username-Password-Authentication
    strategy: auth0
    enabled_clients: [App]
    options:
      non_persistent_attrs: [email]
guardianFactors:
  - name: otp
    enabled: true
guardianPolicies:
  policies: [confidence-score]
";

/// The built-in platform data, edited, with the `auth0-oidc` profile.
fn edited_platform(edit: impl FnOnce(&mut Value)) -> Platform {
    let mut data = claimlint::syntax::yaml::parse(claimlint::platform::PLATFORM_YAML)
        .root
        .unwrap()
        .to_json();
    edit(&mut data);
    Platform::from_json(data, "auth0-oidc").unwrap()
}

#[test]
fn adaptive_mfa_is_not_mfa_on_every_login_because_the_data_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tenant.yaml"), GUARDIAN_TENANT).unwrap();
    let export = export_at(dir.path()).unwrap();
    let mut sources = SourceMap::default();
    let loaded = load_export(&export, &KeywordMap::default(), &mut sources, dir.path());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let scripts = lower_scripts(&loaded.tenant, &sources);
    let email = |platform: &Platform| {
        let scenario = Scenario {
            client: "App".into(),
            connection: Some("Username-Password-Authentication".into()),
            protocol: "oidc-basic-profile".into(),
            scopes: vec!["openid".into(), "email".into()],
            pipeline: Pipeline::OidcConformant,
            platform: "auth0-oidc".into(),
            generic: false,
            profile: None,
        };
        let analysis = Analysis::new(&loaded.tenant, &scripts, platform, &sources);
        let evaluation = analysis.evaluate(&loaded.tenant, &scripts, platform, &sources, &scenario);
        let entry = evaluation.trace().find(|t| t.claim == "email").unwrap().clone();
        (entry.filter.as_str().to_string(), entry.outcome, entry.condition)
    };
    // `confidence-score` challenges risky logins only: the denied email is still delivered.
    assert_eq!(
        email(&Platform::load("auth0-oidc").unwrap()),
        ("deny-list".to_string(), Outcome::Kept, None)
    );
    // Data that counted adaptive MFA as every-login MFA would drop it.
    let every = edited_platform(|d| {
        d["guardian"]["every_login_policies"] = json!(["all-applications", "confidence-score"]);
    });
    assert_eq!(
        email(&every),
        (
            "deny-list-exclusion".to_string(),
            Outcome::Dropped,
            Some("mfa".to_string())
        )
    );
    // And data without the `mfa` exclusion condition never drops it for MFA.
    let no_mfa = edited_platform(|d| {
        d["guardian"]["every_login_policies"] = json!(["confidence-score"]);
        let exclusions = d["deny_list_exclusions"].as_array_mut().unwrap();
        exclusions.retain(|e| e["id"] != "mfa");
    });
    assert_eq!(email(&no_mfa).1, Outcome::Kept);
}

// ---------------------------------------------------------------------------------------------
// Generic logins

#[test]
fn an_export_with_rules_but_no_clients_is_evaluated_in_a_generic_login() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(
        dir.path().join("tenant.yaml"),
        "tenant:\n  friendly_name: Rules only\nrules:\n  - name: claims\n    script: ./rules/claims.js\n    order: 1\n    enabled: true\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules/claims.js"),
        "function (user, context, callback) {\n  context.idToken.plain = user.app_metadata.plan;\n  context.idToken['https://acme.auth0.com/x'] = 1;\n  context.idToken.sub = 'me';\n  context.accessToken[configuration.NS + 'y'] = 2;\n  if (context.protocol === 'oauth2-refresh-token') return callback(null, user, context);\n  context.idToken['https://acme.example.com/tier'] = 'gold';\n  callback(null, user, context);\n}\n",
    )
    .unwrap();
    let run = claimlint::check(&claimlint::CheckOptions {
        paths: vec![dir.path().to_path_buf()],
        jobs: Some(1),
        ..Default::default()
    })
    .unwrap();
    assert!(run.refused_proofs.is_empty(), "{:?}", run.refused_proofs);
    let found: Vec<(&str, Option<&str>)> = run
        .report
        .findings
        .iter()
        .map(|f| (f.policy.as_str(), f.claim.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            ("CL101", Some("plain")),
            ("CL102", Some("https://acme.auth0.com/x")),
            ("CL103", Some("sub")),
            ("CL104", Some("<configuration.NS + 'y'>")),
            ("CL106", Some("https://acme.example.com/tier")),
        ]
    );
    for f in run.report.findings.iter().filter(|f| f.policy != "CL104") {
        let proof = f.proof.as_ref().expect("token findings carry a proof");
        assert!(proof.scenario.generic, "{}", f.policy);
        assert!(proof.scenario.describe().contains("generic login"));
    }
}

// ---------------------------------------------------------------------------------------------
// The memo: a script that only compares a login fact with known strings runs once per class

/// Rules that look at `context.clientName` and `context.clientID` in the ways people write:
/// some only compare them with known strings, some look at the text itself.
const CLASS_RULES: &[(&str, &str)] = &[
    (
        "equal",
        "if (context.clientName === 'Admin Portal') context.idToken[ns + 'admin'] = true;",
    ),
    (
        "not-equal-return",
        "if (context.clientName !== 'Billing') return callback(null, user, context);\n  context.idToken[ns + 'billing'] = 1;",
    ),
    (
        "alias",
        "const app = context.clientName;\n  if (app == 'Other App' || app === 'Billing') context.idToken[ns + 'alias'] = app === 'Billing' ? 'b' : 'o';",
    ),
    (
        "lowercase",
        "const app = context.clientName;\n  if (app.toLowerCase() === 'admin portal') context.idToken[ns + 'lower'] = true;",
    ),
    (
        "starts-with",
        "if (context.clientName.startsWith('Admin')) context.idToken[ns + 'starts'] = true;",
    ),
    (
        "switch",
        "switch (context.clientName) {\n    case 'Billing': context.idToken[ns + 'sw'] = 'billing'; break;\n    case 'Admin Portal': context.idToken[ns + 'sw'] = 'admin';\n    default: context.idToken[ns + 'fell'] = true;\n  }",
    ),
    (
        "index-of",
        "if (['Admin Portal', 'Third App'].indexOf(context.clientName) !== -1) context.idToken[ns + 'listed'] = true;",
    ),
    (
        "set-has",
        "const allowed = new Set(['Other App']);\n  if (!allowed.has(context.clientName)) return callback(null, user, context);\n  context.idToken[ns + 'set'] = true;",
    ),
    (
        "joined",
        "let name = context.clientName;\n  if (user.app_metadata.vip) name = 'Billing';\n  if (name === 'Billing') context.idToken[ns + 'joined'] = true;",
    ),
    (
        "closure",
        "const app = context.clientName;\n  const isBilling = () => app === 'Billing';\n  if (isBilling()) context.idToken[ns + 'closure'] = true;",
    ),
    ("copy", "context.idToken[ns + 'app'] = context.clientName;"),
    (
        "client-id",
        "if (context.clientID === 'third-app') context.accessToken[ns + 'third'] = true;",
    ),
    (
        "template",
        "if (`${context.clientName}` === 'Admin Console') context.idToken[ns + 'template'] = true;",
    ),
    (
        "logged",
        "console.log(`login of ${user.user_id} to ${context.clientName}`);\n  context.idToken[ns + 'logged'] = true;",
    ),
    (
        "logged-call",
        "console.log('to ' + context.clientName.toUpperCase());",
    ),
    (
        "logged-then-copied",
        "console.log(context.clientName);\n  context.idToken[ns + 'then'] = context.clientName;",
    ),
    (
        "logged-alias",
        "const app = context.clientName;\n  console.log('app', app);\n  if (app === 'Billing') context.idToken[ns + 'la'] = true;",
    ),
    (
        "copy-on-some-paths",
        "if (user.app_metadata.vip) context.accessToken[ns + 'vip_app'] = context.clientName;",
    ),
    (
        "copy-or-literal",
        "if (user.app_metadata.vip) context.idToken[ns + 'either'] = context.clientName;\n  else context.idToken[ns + 'either'] = 'Billing';",
    ),
    (
        "copy-read-back",
        "context.idToken[ns + 'back'] = context.clientName;\n  if (context.idToken[ns + 'back'] === 'Billing') context.idToken[ns + 'billing'] = true;",
    ),
    (
        "copy-then-copied-object",
        "context.idToken[ns + 'whole'] = context.clientName;\n  context.accessToken[ns + 'copy'] = Object.assign({}, context.idToken);",
    ),
    (
        "copy-overwritten",
        "context.idToken[ns + 'over'] = context.clientName;\n  context.idToken[ns + 'over'] = 'fixed';",
    ),
    (
        "copy-overwritten-in-a-loop",
        "context.idToken[ns + 'looped'] = context.clientName;\n  for (let i = 0; i < 300; i++) { context.idToken[ns + 'looped'] = 'Billing'; }\n  if (context.idToken[ns + 'looped'] === 'Billing') context.idToken[ns + 'lb'] = true;\n  else context.idToken[ns + 'lnb'] = true;",
    ),
    (
        "copy-in-expression",
        "const same = (context.idToken[ns + 'expr'] = context.clientName);\n  context.accessToken[ns + 'expr'] = same;",
    ),
    (
        "webhook-payload",
        "const payload = { event: { app: context.clientName, user: user.user_id }, source: 'auth0' };\n  require('request').post({ url: 'https://hooks.example.com/', json: payload }, function () {});",
    ),
    (
        "payload-compared",
        "const payload = { app: context.clientName };\n  if (payload.app === 'Billing') context.idToken[ns + 'payload_billing'] = true;",
    ),
    (
        "payload-into-token",
        "const payload = { app: context.clientName };\n  context.idToken[ns + 'payload_app'] = payload.app;",
    ),
    (
        "payload-stringified",
        "const body = JSON.stringify({ app: context.clientName });\n  if (body.length > 20) context.idToken[ns + 'long_name'] = true;",
    ),
    (
        "payload-object-in-token",
        "context.idToken[ns + 'app_object'] = { name: context.clientName };",
    ),
    (
        "payload-written-later",
        "const payload = {};\n  payload.app = context.clientName;\n  if (payload.app.startsWith('Admin')) context.idToken[ns + 'admin_app'] = true;",
    ),
    (
        "payload-on-some-paths",
        "const payload = {};\n  if (user.app_metadata.vip) payload.app = context.clientName;\n  context.idToken[ns + 'vip_payload'] = payload.app;",
    ),
    (
        "payload-stored",
        "user.app_metadata = user.app_metadata || {};\n  user.app_metadata.last = { app: context.clientName };\n  auth0.users.updateAppMetadata(user.user_id, user.app_metadata);",
    ),
    (
        "payload-stored-whole",
        "user.app_metadata = { last: { app: context.clientName } };\n  auth0.users.updateAppMetadata(user.user_id, user.app_metadata);",
    ),
    (
        "logged-lookup",
        "const payload = { app: context.clientName };\n  const TIERS = { Billing: { level: 1 } };\n  try { console.log('tier', TIERS[payload.app].level); } catch (e) { context.idToken[ns + 'no_tier'] = true; }",
    ),
    (
        "logged-lookup-direct",
        "const TIERS = { Billing: { level: 1 } };\n  try { console.log('tier', TIERS[context.clientName].level); } catch (e) { context.idToken[ns + 'no_tier_direct'] = true; }",
    ),
    (
        "logged-and",
        "const payload = { app: context.clientName };\n  try { console.log(payload.app === 'Billing' && null.x); } catch (e) { context.idToken[ns + 'and_threw'] = true; }",
    ),
    (
        "spread-override",
        "const p = { app: context.clientName, ...user };\n  if (p.app === 'Billing') context.idToken[ns + 'spread_billing'] = true;",
    ),
    (
        "spread-override-copy",
        "const p = { app: context.clientName, ...user };\n  context.idToken[ns + 'spread_app'] = p.app;",
    ),
    (
        "logged-default",
        "console.log('app', context.clientName || 'none', user['email']);\n  context.idToken[ns + 'logged_default'] = true;",
    ),
    (
        "logged-index",
        "try { console.log(context.clientName[9].x); } catch (e) { context.idToken[ns + 'short_name'] = true; }",
    ),
    (
        "logged-chosen-member",
        "try { console.log((context.clientName === 'Billing' ? null : 'a').x); } catch (e) { context.idToken[ns + 'chosen_cond'] = true; }",
    ),
    (
        "logged-chosen-or",
        "try { console.log((context.clientName === 'Billing' || null).x); } catch (e) { context.idToken[ns + 'chosen_or'] = true; }",
    ),
    (
        "logged-chosen-bracket",
        "const nothing = undefined;\n  const some = 'a';\n  try { console.log((context.clientName === 'Billing' ? nothing : some)['foo']); } catch (e) { context.idToken[ns + 'chosen_bracket'] = true; }",
    ),
    (
        "logged-metadata",
        "try { console.log('tier', context.clientMetadata.tier.level); } catch (e) { context.idToken[ns + 'no_tier_meta'] = true; }",
    ),
];

/// An export with `clients` (names; each client's id is its name in lower case with dashes),
/// one database connection enabled for all of them, and [`CLASS_RULES`].
fn classes_tenant(clients: &[&str]) -> Filters {
    let mut tenant = String::from("clients:\n");
    for name in clients {
        let id = name.to_lowercase().replace(' ', "-");
        tenant.push_str(&format!(
            "  - name: {name}\n    client_id: {id}\n    app_type: regular_web\n    oidc_conformant: true\n"
        ));
        if *name == "Billing" {
            tenant.push_str("    client_metadata:\n      tier: {level: '1'}\n");
        }
    }
    tenant.push_str(&format!(
        "databases:\n  - name: Username-Password-Authentication\n    strategy: auth0\n    enabled_clients: [{}]\nrules:\n",
        clients.join(", ")
    ));
    for (i, (name, _)) in CLASS_RULES.iter().enumerate() {
        tenant.push_str(&format!(
            "  - name: {name}\n    script: ./rules/{name}.js\n    order: {i}\n    enabled: true\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("tenant.yaml"), tenant).unwrap();
    for (name, body) in CLASS_RULES {
        std::fs::write(
            dir.path().join(format!("rules/{name}.js")),
            format!(
                "function (user, context, callback) {{\n  const ns = 'https://app.example.com/';\n  {body}\n  callback(null, user, context);\n}}\n"
            ),
        )
        .unwrap();
    }
    Filters::load(dir)
}

/// What a login issues and why: its tokens and the trace of every claim.
fn issued(analysis: &Analysis, tenant: &claimlint::model::Tenant, client: &str) -> Value {
    let evaluation = analysis
        .login(
            tenant,
            client,
            Some("Username-Password-Authentication"),
            "oidc-basic-profile",
        )
        .unwrap_or_else(|| panic!("no login of {client}"));
    let trace: Vec<Value> = evaluation
        .trace()
        .map(|t| {
            // Where a profile claim comes from is a line of `tenant.yaml`, which differs.
            let line = t.file.ends_with(".js").then_some(t.line);
            json!([
                t.token,
                t.claim,
                t.outcome,
                t.filter.as_str(),
                t.script,
                line,
                t.reason,
                t.condition
            ])
        })
        .collect();
    json!({"tokens": evaluation.tokens(), "trace": trace})
}

#[test]
fn sharing_runs_between_clients_gives_each_client_its_own_tokens() {
    let clients = [
        "Admin Portal",
        "admin portal",
        "Billing",
        "Admin Console",
        "Other App",
        "Third App",
    ];
    let platform = Platform::load("auth0-current").unwrap();
    let all = classes_tenant(&clients);
    let together = Analysis::new(&all.tenant, &all.scripts, &platform, &all.sources);
    for client in clients {
        let alone = classes_tenant(&[client]);
        let by_itself = Analysis::new(&alone.tenant, &alone.scripts, &platform, &alone.sources);
        assert_eq!(
            issued(&together, &all.tenant, client),
            issued(&by_itself, &alone.tenant, client),
            "{client} evaluated with the other clients differs from {client} alone"
        );
    }
    // Scripts that only compare the name run once per name they know plus once for the rest;
    // scripts that look at the text itself run once per client, and scripts that only log it
    // (with arguments that do nothing else and cannot throw depending on the text) or only put
    // it into a token once.
    let runs: std::collections::BTreeMap<String, usize> =
        together.script_runs(&all.scripts).into_iter().collect();
    let expected = [
        ("equal", 2),
        ("not-equal-return", 2),
        ("alias", 3),
        ("lowercase", 6),
        ("starts-with", 6),
        ("switch", 3),
        ("index-of", 3),
        ("set-has", 2),
        ("joined", 6),
        ("closure", 2),
        ("copy", 1),
        ("client-id", 2),
        ("template", 6),
        ("logged", 1),
        ("logged-call", 6),
        ("logged-then-copied", 1),
        ("logged-alias", 2),
        ("copy-on-some-paths", 1),
        ("copy-or-literal", 6),
        ("copy-read-back", 6),
        ("copy-then-copied-object", 6),
        ("copy-overwritten", 1),
        ("copy-overwritten-in-a-loop", 1),
        ("copy-in-expression", 6),
        // A login fact in an object literal is kept as in a variable.
        ("webhook-payload", 1),
        ("payload-compared", 2),
        ("payload-into-token", 1),
        ("payload-stringified", 6),
        ("payload-object-in-token", 6),
        ("payload-written-later", 6),
        ("payload-on-some-paths", 6),
        // What the summary keeps of `user.app_metadata` here is that it changed, not the
        // text: nothing looks at it.
        ("payload-stored", 1),
        // Here the summary keeps the stored value, text and all.
        ("payload-stored-whole", 6),
        // An argument of a call that ignores it goes unlooked-at only when whether it throws
        // cannot depend on the text: a lookup by the name throws for names the table lacks.
        ("logged-lookup", 6),
        ("logged-lookup-direct", 6),
        ("logged-and", 2),
        // A spread object with unknown parts may override the property: its value is no longer
        // the fact's text alone.
        ("spread-override", 6),
        ("spread-override-copy", 6),
        // A default for the name, and a member named in brackets, cannot throw.
        ("logged-default", 1),
        // The tenth character is there in some names only.
        ("logged-index", 6),
    ];
    for (rule, count) in expected {
        assert_eq!(runs[&format!("rule `{rule}`")], count, "runs of {rule}");
    }
    let other = issued(&together, &all.tenant, "Other App");
    let id_token = &other["tokens"]["id_token"];
    assert!(
        id_token.get("https://app.example.com/spread_billing").is_some(),
        "the user's attributes may hold `app`: {id_token}"
    );
    assert_ne!(
        id_token["https://app.example.com/spread_app"],
        json!("Other App"),
        "the user's attributes may hold `app`"
    );
}

#[test]
fn logins_read_client_id_and_metadata_after_the_client_trees_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(
        dir.path().join("tenant.yaml"),
        "clients:\n  - name: Portal\n    client_id: portal-id\n    app_type: regular_web\n    oidc_conformant: true\n    client_metadata:\n      tier: gold\n\
databases:\n  - name: Users\n    strategy: auth0\n    enabled_clients: [Portal]\n\
rules:\n  - name: copy\n    script: ./rules/copy.js\n    order: 1\n    enabled: true\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules/copy.js"),
        "function (user, context, callback) {\n  const ns = 'https://app.example.com/';\n  context.idToken[ns + 'tier'] = context.clientMetadata.tier;\n  if (context.clientID === 'portal-id') context.idToken[ns + 'portal'] = true;\n  callback(null, user, context);\n}\n",
    )
    .unwrap();
    let export = export_at(dir.path()).unwrap();
    let mut sources = SourceMap::default();
    let mut loaded = load_export(&export, &KeywordMap::default(), &mut sources, dir.path());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let platform = Platform::load("auth0-current").unwrap();
    let tokens = |tenant: &claimlint::model::Tenant| {
        let scripts = lower_scripts(tenant, &sources);
        let analysis = Analysis::new(tenant, &scripts, &platform, &sources);
        let login = analysis
            .login(tenant, "Portal", Some("Users"), "oidc-basic-profile")
            .expect("the login of Portal");
        json!(login.tokens()[&TokenKind::IdToken])
    };
    let with_trees = tokens(&loaded.tenant);
    assert_eq!(with_trees["https://app.example.com/tier"], "gold");
    assert_eq!(with_trees["https://app.example.com/portal"], true);
    loaded.tenant.drop_client_nodes();
    assert_eq!(tokens(&loaded.tenant), with_trees);
}

#[test]
fn a_login_without_scripts_keeps_its_id_token_after_a_client_credentials_exchange() {
    // No script runs in either login: both have no parts, but the exchange issues no ID token
    // and the interactive login does, with the profile's standard claims.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tenant.yaml"),
        "clients:\n  - name: Both\n    app_type: regular_web\n    oidc_conformant: true\n    grant_types: [client_credentials, authorization_code]\n\
databases:\n  - name: Users\n    strategy: auth0\n    enabled_clients: [Both]\n",
    )
    .unwrap();
    let export = Filters::load(dir);
    let platform = Platform::load("auth0-current").unwrap();
    let analysis = Analysis::new(&export.tenant, &export.scripts, &platform, &export.sources);
    let login = analysis
        .login(&export.tenant, "Both", Some("Users"), "oidc-basic-profile")
        .expect("the interactive login");
    let tokens = serde_json::to_value(login.tokens()).unwrap();
    assert!(
        tokens["id_token"]["email"].is_string(),
        "the interactive login's ID token has the profile's claims: {tokens}"
    );
}

#[test]
fn logins_are_found_by_the_names_of_their_client_connection_and_protocol() {
    // Two clients share a name: the first stands for both. A client may even be named like the
    // generic login's client.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(
        dir.path().join("tenant.yaml"),
        "clients:\n  - name: Portal\n    client_id: first\n    app_type: regular_web\n  - name: Portal\n    client_id: second\n    app_type: regular_web\n  - name: <any client>\n    app_type: non_interactive\n\
databases:\n  - name: Users\n    strategy: auth0\n    enabled_clients: [Portal]\n\
rules:\n  - name: id\n    script: ./rules/id.js\n    enabled: true\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules/id.js"),
        "function (user, context, callback) {\n  context.idToken['https://app.example.com/id'] = context.clientID;\n  callback(null, user, context);\n}\n",
    )
    .unwrap();
    let export = Filters::load(dir);
    let platform = Platform::load("auth0-current").unwrap();
    let analysis = Analysis::new(&export.tenant, &export.scripts, &platform, &export.sources);
    let tenant = &export.tenant;
    let id_of = |client: &str, connection: Option<&str>, protocol: &str| {
        analysis
            .login(tenant, client, connection, protocol)
            .map(|login| json!(login.tokens()[&TokenKind::IdToken]["https://app.example.com/id"]))
    };
    assert_eq!(
        id_of("Portal", Some("Users"), "oidc-basic-profile"),
        Some(json!("first"))
    );
    assert_eq!(id_of("Portal", Some("Nobody"), "oidc-basic-profile"), None);
    assert_eq!(id_of("Nobody", Some("Users"), "oidc-basic-profile"), None);
    assert_eq!(id_of("Portal", Some("Users"), "no-such-protocol"), None);
    // The machine-to-machine client named like the generic client has its own exchange (no
    // ID token), and there is no generic exchange since a concrete one exists.
    let exchange = analysis
        .login(tenant, "<any client>", None, "oauth2-client-credentials")
        .expect("the client credentials exchange");
    assert_eq!(exchange.scenario.client, "<any client>");
    assert!(!exchange.scenario.generic);
}

/// A directory export's script files are lowered while the loader builds the rest of the
/// export: every script of the bundled example (rules, an action, a hook, database scripts)
/// finds its own text lowered, as it is lowered after loading, and nothing else was.
#[test]
fn scripts_lowered_while_loading_are_the_scripts_as_lowered_after() {
    use claimlint::load::{LoadOptions, load_export_with};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tenant-export");
    let export = export_at(&root).unwrap();
    let limits = claimlint::js::prescan::Limits::default();
    let mut sources = SourceMap::default();
    let options = LoadOptions {
        lower_scripts: Some(limits),
        ..LoadOptions::default()
    };
    let loaded = load_export_with(&export, &KeywordMap::default(), &mut sources, &root, options);
    let mut early = loaded.lowered;
    let after = claimlint::eval::lower_scripts_within(&loaded.tenant, &sources, limits);
    let kinds: BTreeSet<String> = after.all().map(|unit| unit.kind.to_string()).collect();
    assert_eq!(kinds, set(&["action", "database script", "hook", "rule"]));
    for unit in after.all() {
        let lowered = early
            .take(&unit.text, limits)
            .unwrap_or_else(|| panic!("{} was not lowered early", unit.label()));
        assert_eq!(
            format!("{lowered:?}"),
            format!("{:?}", unit.lowered),
            "{}",
            unit.label()
        );
        // Each result serves one script: the text is not found twice.
        assert!(early.take(&unit.text, limits).is_none());
    }
    assert!(early.is_empty(), "texts lowered that no script has");
    // Equal bytes in another allocation are another text: the map never serves a stranger.
    let text: std::sync::Arc<str> = std::sync::Arc::from("var a = 1;");
    let mut again = claimlint::js::LoweredTexts::lower(vec![text.clone()], limits);
    assert!(again.take(&std::sync::Arc::from("var a = 1;"), limits).is_none());
    // Nor is a text lowered within other limits.
    let other = claimlint::js::prescan::Limits {
        bytes: limits.bytes / 2,
        ..limits
    };
    assert!(again.take(&text, other).is_none());
    assert!(again.take(&text, limits).is_some());
}
