//! The deny-list privacy checks on their fixtures, in both export formats: CL202
//! (sensitive attributes a connection receives but does not deny) and CL204 (denied attributes
//! that the login's conditions take out of the ID token).

use std::path::Path;

use claimlint::{CheckOptions, check};
use serde_json::{Value, json};

/// The findings of `policy` on `tests/fixtures/<fixture>/<form>`, projected for snapshots.
fn findings(fixture: &str, form: &str, policy: &str) -> Vec<Value> {
    let dir = Path::new("tests/fixtures").join(fixture).join(form);
    let run = check(&CheckOptions {
        paths: vec![dir],
        jobs: Some(1),
        ..Default::default()
    })
    .expect("lints");
    assert!(
        !run.has_input_errors(),
        "{fixture}/{form}: {:#?}",
        run.report.findings
    );
    run.report
        .findings
        .iter()
        .filter(|f| f.policy == policy)
        .map(|f| {
            let proof = f.proof.as_ref().map(|p| {
                json!({
                    "scenario": p.scenario.describe(),
                    "shows": p.shows,
                    "id_token": p.tokens.get(&claimlint::proof::TokenKind::IdToken),
                    "trace": p.trace.iter().map(|t| json!({"claim": t.claim, "filter": t.filter, "outcome": t.outcome, "condition": t.condition})).collect::<Vec<_>>(),
                })
            });
            json!({
                "message": f.message,
                "file": f.location.file,
                "line": f.location.line,
                "column": f.location.column,
                "pointer": f.location.pointer,
                "attribute": f.attribute,
                "proof": proof,
            })
        })
        .collect()
}

/// What must agree between the two formats: messages and attributes.
fn semantics(found: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = found
        .iter()
        .map(|f| (f["message"].to_string(), f["attribute"].to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn sensitive_attribute_not_denied() {
    let yaml = findings("sensitive-attribute-not-denied", "yaml", "CL202");
    let directory = findings("sensitive-attribute-not-denied", "directory", "CL202");
    insta::assert_json_snapshot!("sensitive_attribute_not_denied_directory", directory);
    insta::assert_json_snapshot!("sensitive_attribute_not_denied_yaml", yaml);
    assert_eq!(semantics(&yaml), semantics(&directory));
    let attributes: Vec<&str> = directory
        .iter()
        .map(|f| f["attribute"].as_str().unwrap())
        .collect();
    // ethnicity is denied, `Religion` matches `religion` loosely, health_plan is not sensitive,
    // google-oauth2 delivers no sensitive attribute, and a connection without options says nothing.
    // Facebook delivers `birthday` only with its `user_birthday` permission flag on
    // (`facebook`, not `facebook-events`), as the platform data's strategy flags say.
    assert_eq!(attributes, ["date_of_birth", "birthday", "ssn", "medical"]);
    let birthday = directory.iter().find(|f| f["attribute"] == "birthday").unwrap();
    assert_eq!(birthday["pointer"], "/options/user_birthday");
    assert!(
        birthday["message"]
            .as_str()
            .unwrap()
            .contains("connection `facebook` "),
        "{birthday}"
    );
}

/// The usual shape of a custom-database login script: the profile is handed back in `.then`,
/// and failures in `.catch`, one of them a `new WrongUsernameOrPasswordError(email)`. The
/// failure paths hand back no profile; the profile the success path hands back is still the
/// one the connection stores. Regression: the failure handler's callback (an error that might
/// have been null) replaced the handed-back profile with none, and CL202 was missed.
#[test]
fn sensitive_attribute_in_a_profile_handed_back_from_a_promise() {
    let found = findings("sensitive-attribute-not-denied", "promise-chain", "CL202");
    let found: Vec<(&str, &str, u64)> = found
        .iter()
        .map(|f| {
            (
                f["attribute"].as_str().unwrap(),
                f["file"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("tests/fixtures/sensitive-attribute-not-denied/promise-chain/"),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [("passport_number", "database-connections/legacy-api/login.js", 8)]
    );
}

#[test]
fn denied_attribute_excluded_from_token() {
    let yaml = findings("denied-attribute-excluded-from-token", "yaml", "CL204");
    let directory = findings("denied-attribute-excluded-from-token", "directory", "CL204");
    insta::assert_json_snapshot!("denied_attribute_excluded_from_token_directory", directory);
    insta::assert_json_snapshot!("denied_attribute_excluded_from_token_yaml", yaml);
    assert_eq!(semantics(&yaml), semantics(&directory));
    for finding in &directory {
        let claim = finding["attribute"].as_str().unwrap();
        let token = &finding["proof"]["id_token"];
        assert!(
            token.get(claim).is_none(),
            "the proof's ID token still carries `{claim}`: {token}"
        );
    }
    for form in ["pass/yaml", "pass/directory"] {
        assert!(
            findings("denied-attribute-excluded-from-token", form, "CL204").is_empty(),
            "{form}"
        );
    }
}
