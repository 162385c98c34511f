//! The platform model (`policies/platform/auth0.yaml`): every key in it is read, the generated
//! reference is current, and a user's own platform file (`platform: ./file.yaml` in
//! `.claimlint.yaml`, or `--platform`) replaces it, validated with located errors.

use std::path::{Path, PathBuf};

use claimlint::platform::{PLATFORM_YAML, Platform};
use claimlint::{CheckOptions, CheckRun, INPUT_ERROR};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn builtin_data() -> Value {
    claimlint::syntax::yaml::parse(PLATFORM_YAML)
        .root
        .expect("the built-in platform data parses")
        .to_json()
}

/// Every object of `value` with its JSON pointer.
fn objects(value: &Value, pointer: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            out.push(pointer.clone());
            for (key, item) in map {
                objects(
                    item,
                    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                objects(item, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Every key in the platform file is read by something. A key the Rust structs do not declare
/// makes loading fail (each struct denies unknown keys, and map-valued keys such as `profiles`
/// or `strategies` take only values of their own shape), so adding a key anywhere without code
/// that consumes it fails this test; a declared field that nothing reads is reported by the
/// compiler's dead-code lint (the fields are crate-private), which CI runs with `-D warnings`.
#[test]
fn every_key_of_the_platform_file_is_read() {
    let data = builtin_data();
    Platform::from_json(data.clone(), "auth0-oidc").expect("the built-in data loads");
    let mut pointers = Vec::new();
    objects(&data, String::new(), &mut pointers);
    assert!(pointers.len() > 20, "{pointers:?}");
    for pointer in pointers {
        let mut edited = data.clone();
        edited
            .pointer_mut(&pointer)
            .and_then(Value::as_object_mut)
            .expect("an object")
            .insert("unread_key".into(), Value::Bool(true));
        assert!(
            Platform::from_json(edited, "auth0-oidc").is_err(),
            "a key added at `{pointer}/unread_key` is accepted though nothing reads it"
        );
    }
    // Every top-level key is required: taking one away fails too.
    for key in data.as_object().expect("an object").keys() {
        let mut edited = data.clone();
        edited.as_object_mut().expect("an object").remove(key);
        assert!(
            Platform::from_json(edited, "auth0-oidc").is_err(),
            "`{key}` can be left out"
        );
    }
}

/// Values the evaluator cannot honour are refused at load time with the pointer at fault.
#[test]
fn values_the_evaluator_does_not_implement_are_refused() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "/filters",
            Box::new(|d| {
                d["filters"].as_array_mut().unwrap().pop();
            }),
            "missing",
        ),
        (
            "/signals/0",
            Box::new(|d| d["signals"][0]["assign"] = "context.redirect".into()),
            "exactly one of",
        ),
        (
            "/deny_list_exclusions/0/id",
            Box::new(|d| d["deny_list_exclusions"][0]["id"] = "geo-block".into()),
            "no deny-list exclusion",
        ),
        ("/version", Box::new(|d| d["version"] = 2.into()), "not 1"),
    ];
    for (pointer, edit, words) in cases {
        let mut data = builtin_data();
        edit(&mut data);
        let problems = Platform::from_json(data, "auth0-oidc").expect_err(pointer);
        assert!(
            problems.iter().any(|(p, m)| p == pointer && m.contains(words)),
            "{pointer}: {problems:?}"
        );
    }
}

#[test]
fn platform_reference_is_current() {
    let generated = Platform::load("auth0-oidc").unwrap().markdown();
    let path = root().join("docs/platform.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/platform.md is stale: run `UPDATE_DOCS=1 cargo test --test platform`"
    );
}

/// A temporary folder holding `.claimlint.yaml` (with `config`) and `platform/strict.yaml`
/// (with `platform`).
fn setup(config: &str, platform: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("platform")).unwrap();
    std::fs::write(dir.path().join("platform/strict.yaml"), platform).unwrap();
    let config_path = dir.path().join(".claimlint.yaml");
    std::fs::write(&config_path, config).unwrap();
    (dir, config_path)
}

fn lint(config: Option<PathBuf>, platform: Option<String>) -> CheckRun {
    claimlint::check(&CheckOptions {
        paths: vec![root().join("tests/fixtures/claim-namespace-suspicious-host/yaml")],
        jobs: Some(1),
        config,
        platform,
        ..Default::default()
    })
    .expect("lints")
}

/// `(policy, claim)` of the findings about claims under auth0app.com.
fn auth0app(run: &CheckRun) -> Vec<(String, String)> {
    run.report
        .findings
        .iter()
        .filter_map(|f| {
            let claim = f.claim.clone()?;
            claim.contains("auth0app.com").then(|| (f.policy.clone(), claim))
        })
        .collect()
}

/// The built-in data with `auth0app.com` moved from the suspicious to the forbidden hosts.
fn strict_platform() -> String {
    let text = PLATFORM_YAML.replace(
        "forbidden_namespace_hosts: [auth0.com, webtask.io, webtask.run]",
        "forbidden_namespace_hosts: [auth0.com, webtask.io, webtask.run, auth0app.com]",
    );
    let text = text.replace(
        "suspicious_namespace_hosts: [auth0app.com]",
        "suspicious_namespace_hosts: []",
    );
    assert_ne!(text, PLATFORM_YAML);
    text
}

#[test]
fn a_platform_file_of_ones_own_changes_the_verdicts() {
    let builtin = lint(None, None);
    assert!(!builtin.has_input_errors());
    let before = auth0app(&builtin);
    assert!(
        !before.is_empty() && before.iter().all(|(p, _)| p == "CL107"),
        "{before:?}"
    );

    // From the config, relative to it, with a profile picked by `#`.
    let (dir, config) = setup(
        "platform: ./platform/strict.yaml#auth0-current\n",
        &strict_platform(),
    );
    let run = lint(Some(config), None);
    assert!(!run.has_input_errors(), "{:#?}", run.report.findings);
    let after = auth0app(&run);
    assert_eq!(after.len(), before.len(), "{after:?}");
    assert!(after.iter().all(|(p, _)| p == "CL102"), "{after:?}");
    let proof = run
        .report
        .findings
        .iter()
        .find(|f| f.policy == "CL102")
        .and_then(|f| f.proof.as_ref())
        .unwrap();
    assert_eq!(proof.scenario.platform, "auth0-current");

    // With `--platform`, the path is the caller's (here absolute).
    let flag = dir.path().join("platform/strict.yaml").display().to_string();
    let run = lint(None, Some(flag));
    assert!(!run.has_input_errors(), "{:#?}", run.report.findings);
    assert!(auth0app(&run).iter().all(|(p, _)| p == "CL102"));
}

#[test]
fn a_broken_platform_file_is_reported_where_it_is_wrong() {
    let broken = strict_platform()
        .replace("version: 1", "version: 2")
        .replace("  - id: restricted\n", "  - id: namespace\n");
    let (_dir, config) = setup("platform: platform/strict.yaml\n", &broken);
    let run = lint(Some(config), None);
    let errors: Vec<(String, u32, String)> = run
        .report
        .findings
        .iter()
        .filter(|f| f.policy == INPUT_ERROR.0)
        .map(|f| (f.location.file.clone(), f.location.line, f.message.clone()))
        .collect();
    // The schema speaks first: the version is located; nothing is linted.
    assert!(
        errors
            .iter()
            .any(|(file, line, m)| file.ends_with("platform/strict.yaml")
                && *line == 8
                && m.contains("version")),
        "{errors:#?}"
    );
    assert!(run.report.findings.iter().all(|f| f.policy == INPUT_ERROR.0));

    // With the schema satisfied, what the evaluator cannot honour is located too.
    let twice = strict_platform().replace("  - id: restricted\n", "  - id: namespace\n");
    let (_dir, config) = setup("platform: platform/strict.yaml\n", &twice);
    let run = lint(Some(config), None);
    let errors: Vec<(u32, String)> = run
        .report
        .findings
        .iter()
        .filter(|f| f.policy == INPUT_ERROR.0)
        .map(|f| (f.location.line, f.message.clone()))
        .collect();
    // The second listing is the one at fault: the original `namespace` entry.
    let line = PLATFORM_YAML
        .lines()
        .position(|l| l == "  - id: namespace")
        .unwrap() as u32
        + 1;
    assert!(
        errors
            .iter()
            .any(|(l, m)| *l == line && m.contains("listed twice")),
        "{errors:#?}"
    );

    // A file that is not there is reported at the config's `platform:` value.
    let (_dir, config) = setup("platform: ./platform/missing.yaml\n", "");
    let run = lint(Some(config), None);
    let missing = run
        .report
        .findings
        .iter()
        .find(|f| f.policy == INPUT_ERROR.0)
        .expect("an input error");
    assert!(missing.location.file.ends_with(".claimlint.yaml"), "{missing:?}");
    assert!(
        missing.message.contains("cannot read platform file"),
        "{missing:?}"
    );

    // So is a profile the file does not have (`#name`), and a config value that is neither.
    let (_dir, config) = setup(
        "platform: ./platform/strict.yaml#auth0-strict\n",
        &strict_platform(),
    );
    let run = lint(Some(config), None);
    assert!(
        run.report
            .findings
            .iter()
            .any(|f| f.policy == INPUT_ERROR.0
                && f.message.contains("unknown platform profile `auth0-strict`")),
        "{:#?}",
        run.report.findings
    );
    let (_dir, config) = setup("platform: auth0-legacy\n", "");
    let run = lint(Some(config), None);
    assert!(
        run.report
            .findings
            .iter()
            .any(|f| f.message.contains("must be one of `auth0-oidc`, `auth0-current`")),
        "{:#?}",
        run.report.findings
    );
}
