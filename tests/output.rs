//! The JSON output contract: every report validates against `schemas/output.schema.json`, and the
//! same input gives the same bytes, whatever the number of worker threads.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

/// Clean exports in both formats, and one with input errors (exit 2).
const INPUTS: &[&str] = &[
    "examples/tenant-export",
    "examples/tenant-export-yaml",
    "tests/fixtures/input-errors/invalid-json",
    "tests/fixtures/loose-sources/rules",
    "tests/fixtures/evaluation-incomplete/yaml",
    "tests/fixtures/claim-missing-on-refresh/directory",
];

/// Runs claimlint in the crate root: (exit code, stdout bytes).
fn run(args: &[&str]) -> (i32, Vec<u8>) {
    let output = Command::new(env!("CARGO_BIN_EXE_claimlint"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("claimlint runs");
    let code = output.status.code().expect("claimlint exited normally");
    (code, output.stdout)
}

fn json_output(paths: &[&str], extra: &[&str]) -> Vec<u8> {
    let mut args = paths.to_vec();
    args.extend(["--format", "json"]);
    args.extend(extra);
    let (code, stdout) = run(&args);
    assert!(code == 0 || code == 1 || code == 2, "exit code {code}");
    stdout
}

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/output.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("the schema is JSON")
}

/// Every violation of the schema, one per line, with where it is in the instance.
fn violations(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).expect("the schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_schema_is_a_valid_draft_2020_12_schema() {
    let schema = schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    if let Err(error) = jsonschema::meta::validate(&schema) {
        panic!("schemas/output.schema.json is not a valid schema: {error}");
    }
}

#[test]
fn json_output_matches_the_schema() {
    let schema = schema();
    for input in INPUTS {
        let stdout = json_output(&[input], &[]);
        let report: Value = serde_json::from_slice(&stdout).expect("stdout is JSON");
        let problems = violations(&schema, &report);
        assert!(
            problems.is_empty(),
            "{input}:\n{}\n{report:#}",
            problems.join("\n")
        );
        assert_eq!(report["exports"][0]["root"], *input);
    }
    // The broken fixture really exercises findings.
    let report: Value = serde_json::from_slice(&json_output(&[INPUTS[2]], &[])).unwrap();
    assert!(!report["findings"].as_array().unwrap().is_empty());
}

#[test]
fn the_schema_rejects_what_the_contract_forbids() {
    let schema = schema();
    let report: Value = serde_json::from_slice(&json_output(&[INPUTS[2]], &[])).unwrap();
    assert!(violations(&schema, &report).is_empty());
    type Breakage = (&'static str, fn(&mut Value));
    let broken: &[Breakage] = &[
        ("version 2", |r| r["version"] = json!(2)),
        ("unknown top-level field", |r| r["extra"] = json!(true)),
        ("unknown export format", |r| {
            r["exports"][0]["format"] = json!("zip")
        }),
        ("uppercase fingerprint", |r| {
            r["findings"][0]["fingerprint"] = json!("ABCDEF0123456789")
        }),
        ("short fingerprint", |r| {
            r["findings"][0]["fingerprint"] = json!("abc")
        }),
        ("empty policy id", |r| r["findings"][0]["policy"] = json!("")),
        ("unknown severity", |r| {
            r["findings"][0]["severity"] = json!("fatal")
        }),
        ("line 0", |r| r["findings"][0]["location"]["line"] = json!(0)),
        ("column 0", |r| r["findings"][0]["location"]["column"] = json!(0)),
        ("backslash path", |r| {
            r["findings"][0]["location"]["file"] = json!("a\\b.json")
        }),
        ("pointer without slash", |r| {
            r["findings"][0]["location"]["pointer"] = json!("script")
        }),
        ("unknown finding field", |r| r["findings"][0]["extra"] = json!(1)),
        ("missing location", |r| {
            r["findings"][0].as_object_mut().unwrap().remove("location");
        }),
        ("proof that is not an object", |r| {
            r["findings"][0]["proof"] = json!([1])
        }),
        ("negative count", |r| r["summary"]["files"] = json!(-1)),
    ];
    for (what, change) in broken {
        let mut instance = report.clone();
        change(&mut instance);
        assert!(
            !violations(&schema, &instance).is_empty(),
            "the schema accepts a report with {what}"
        );
    }
    // What later issues add is allowed: optional fields and any proof object.
    let mut extended = report.clone();
    extended["findings"][0]["help"] = json!("Do this instead.");
    extended["findings"][0]["subject"] = json!({"kind": "client", "name": "X"});
    extended["findings"][0]["claim"] = json!("https://acme.example.com/roles");
    extended["findings"][0]["attribute"] = json!("email");
    extended["findings"][0]["token"] = json!("id_token");
    extended["findings"][0]["related"] = json!([{
        "message": "required by this policy",
        "location": {"file": "policies/CL101.yaml", "line": 1, "column": 1, "end_line": 1, "end_column": 6}
    }]);
    extended["findings"][0]["proof"] = json!({"scenario": {}, "tokens": {}, "trace": []});
    extended["findings"][0]["policy"] = json!("acme-required-namespace");
    let problems = violations(&schema, &extended);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn output_is_byte_identical_across_runs_and_thread_counts() {
    for input in INPUTS {
        let first = json_output(&[input], &[]);
        let again = json_output(&[input], &[]);
        assert!(first == again, "{input}: two runs differ");
        for jobs in ["1", "2"] {
            let threaded = json_output(&[input], &["--jobs", jobs]);
            assert!(first == threaded, "{input}: output with --jobs {jobs} differs");
        }
    }
    // All of them in one run, too.
    let together = json_output(INPUTS, &["--jobs", "1"]);
    assert!(
        together == json_output(INPUTS, &["--jobs", "2"]),
        "the combined run differs"
    );
}
