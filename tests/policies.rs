//! Meta-tests: every policy has its file, check, options schema, fixture and documentation, and
//! no two policies share an id.

use std::collections::BTreeSet;
use std::path::Path;

use claimlint::checks::{CHECKS, Runner};
use claimlint::model::InputError;
use claimlint::policy::{BUILTIN_POLICIES, Policy, load_builtin_validated};
use claimlint::source::SourceMap;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn builtin() -> Vec<Policy> {
    let mut sources = SourceMap::default();
    let mut problems: Vec<InputError> = Vec::new();
    let policies = load_builtin_validated(&mut sources, &mut problems);
    let shown: Vec<String> = problems
        .iter()
        .map(|p| {
            let file = sources.get(p.loc.file);
            format!(
                "{}:{}: {}",
                file.display,
                file.line_col(p.loc.span.start).line,
                p.message
            )
        })
        .collect();
    assert!(
        shown.is_empty(),
        "built-in policies have problems:\n{}",
        shown.join("\n")
    );
    assert_eq!(policies.len(), BUILTIN_POLICIES.len());
    policies
}

#[test]
fn every_policy_file_is_built_in_and_every_built_in_has_a_file() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join("policies"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| format!("policies/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    let embedded: BTreeSet<String> = BUILTIN_POLICIES
        .iter()
        .map(|(path, _)| path.to_string())
        .collect();
    assert_eq!(on_disk, embedded);
}

#[test]
fn policy_ids_are_unique_and_files_are_named_after_them() {
    let policies = builtin();
    let mut ids = BTreeSet::new();
    for (policy, (path, _)) in policies.iter().zip(BUILTIN_POLICIES) {
        assert!(ids.insert(policy.id.clone()), "duplicate policy id {}", policy.id);
        assert_eq!(*path, format!("policies/{}-{}.yaml", policy.id, policy.name));
    }
}

#[test]
fn every_policy_has_a_check_schema_fixture_and_docs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for policy in builtin() {
        let check = policy.check.name;
        assert!(
            root()
                .join(format!("schemas/checks/{check}.schema.json"))
                .is_file(),
            "{}: no options schema for `{check}`",
            policy.id
        );
        match policy.check.runner {
            Runner::Model(_) | Runner::Analysis(_) => {
                for form in ["yaml", "directory"] {
                    let fixture = root().join(format!("tests/fixtures/{check}/{form}"));
                    assert!(
                        fixture.is_dir(),
                        "{}: no fixture {}",
                        policy.id,
                        fixture.display()
                    );
                }
            }
            Runner::Engine => {}
        }
        assert!(
            readme.contains(&format!("[{}](docs/policies.md#", policy.id)),
            "{}: README's Policies section does not list it",
            policy.id
        );
        for heading in [
            "What it flags",
            "Why it matters",
            "Example",
            "How to fix",
            "References",
        ] {
            assert!(
                policy.docs.contains(heading),
                "{}: docs lack a `{heading}` section",
                policy.id
            );
        }
        // Security rules (and only they) have a score, in the band GitHub gives their level.
        assert_eq!(
            policy.security_severity.is_some(),
            policy.is_security(),
            "{}: security_severity without the `security` tag or the other way round",
            policy.id
        );
        if let Some(score) = &policy.security_severity {
            let score: f64 = score.parse().unwrap();
            let (low, high) = claimlint::report::sarif::security_severity_band(policy.severity);
            assert!((low..=high).contains(&score), "{}: {score}", policy.id);
        }
        // Built-in policies are documented in docs/policies.md, which is where they link.
        assert!(
            policy.url.is_none(),
            "{}: built-in policies link docs/policies.md",
            policy.id
        );
        assert_eq!(
            policy.docs_url().unwrap(),
            format!(
                "https://github.com/claimlint/claimlint/blob/main/docs/policies.md#{}-{}",
                policy.id.to_lowercase(),
                policy.name
            )
        );
    }
}

#[test]
fn every_check_schema_compiles_and_belongs_to_a_check() {
    for entry in std::fs::read_dir(root().join("schemas/checks")).unwrap() {
        let path = entry.unwrap().path();
        let name = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".schema.json")
            .to_string();
        assert!(
            CHECKS.iter().any(|c| c.name == name),
            "schema for unknown check `{name}`"
        );
    }
    for check in CHECKS {
        let schema: serde_json::Value = serde_json::from_str(check.schema).unwrap();
        jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: {e}", check.name));
    }
}

#[test]
fn platform_data_matches_its_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas/platform.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let data = claimlint::syntax::yaml::parse(claimlint::platform::PLATFORM_YAML)
        .root
        .unwrap()
        .to_json();
    let errors: Vec<String> = validator
        .iter_errors(&data)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    for profile in ["auth0-oidc", "auth0-current"] {
        claimlint::platform::Platform::load(profile).unwrap();
    }
}

#[test]
fn policy_reference_is_current() {
    let generated = claimlint::report::policies::markdown(&builtin());
    let path = root().join("docs/policies.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/policies.md is stale: run `UPDATE_DOCS=1 cargo test --test policies`"
    );
}
