//! `--format sarif`: the log GitHub code scanning accepts.
//!
//! Every log is checked by Microsoft's SARIF Multitool (`validate --rule-kind "Gh;Sarif"`, the
//! SARIF rules plus GitHub's ingestion rules) and must draw no error or warning; the rest are
//! direct assertions on the log: locations, rules, fingerprints, notifications.
//!
//! The Multitool is found through `SARIF_MULTITOOL`, or in `.ci/node/` where `.ci/run` installs
//! it. Without it the validation is skipped with a message on standard error, unless
//! `CLAIMLINT_REQUIRE_SARIF_VALIDATION` is set (`.ci/run` sets it): then the test fails.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs `claimlint <path> --format sarif --output <file>` in `cwd`: (exit code, the log).
fn sarif(cwd: &Path, path: &str, out: &Path) -> (i32, Value) {
    sarif_with(cwd, &[path], out)
}

/// Runs `claimlint <args> --format sarif --output <file>` in `cwd`: (exit code, the log).
fn sarif_with(cwd: &Path, args: &[&str], out: &Path) -> (i32, Value) {
    let status = Command::new(env!("CARGO_BIN_EXE_claimlint"))
        .args(args)
        .args(["--format", "sarif", "--output"])
        .arg(out)
        .current_dir(cwd)
        .status()
        .expect("claimlint runs");
    let text = std::fs::read_to_string(out).expect("claimlint wrote the SARIF file");
    let log = serde_json::from_str(&text).expect("the SARIF output is JSON");
    (status.code().expect("claimlint exited normally"), log)
}

fn run_of(log: &Value) -> &Value {
    let runs = log["runs"].as_array().expect("`runs` is an array");
    assert_eq!(runs.len(), 1, "one run per invocation");
    &runs[0]
}

fn results(log: &Value) -> &Vec<Value> {
    run_of(log)["results"]
        .as_array()
        .expect("`results` is always an array")
}

/// A small export with nothing to report.
fn clean_export(dir: &Path) {
    std::fs::create_dir_all(dir.join("clients")).unwrap();
    std::fs::write(
        dir.join("tenant.json"),
        "{\n  \"friendly_name\": \"Clean\",\n  \"flags\": { \"enable_legacy_profile\": false }\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("clients/My App.json"),
        "{\n  \"name\": \"My App\",\n  \"app_type\": \"spa\",\n  \"oidc_conformant\": true\n}\n",
    )
    .unwrap();
}

/// The clean export plus a client file that does not parse.
fn broken_export(dir: &Path) {
    clean_export(dir);
    std::fs::write(
        dir.join("clients/Broken Portal.json"),
        "{\n  \"name\": \"Broken Portal\",\n  \"app_type\": \"spa\",,\n}\n",
    )
    .unwrap();
}

// --- the Multitool ----------------------------------------------------------------------------

const REQUIRE: &str = "CLAIMLINT_REQUIRE_SARIF_VALIDATION";

/// The Multitool binary, from `SARIF_MULTITOOL` or `.ci/node/`.
fn multitool() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SARIF_MULTITOOL").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "SARIF_MULTITOOL={} is not a file; run `bash .ci/run` to install the SARIF Multitool",
            path.display()
        );
        return Some(path);
    }
    let platform = if cfg!(target_os = "macos") {
        "darwin"
    } else {
        "linux"
    };
    let installed = Path::new(ROOT)
        .join(".ci/node/node_modules/@microsoft")
        .join(format!("sarif-multitool-{platform}"))
        .join("Sarif.Multitool");
    if installed.is_file() {
        return Some(installed);
    }
    let message = "the SARIF Multitool is not installed: run `bash .ci/run` (it installs it into \
                   .ci/node/ with npm) or set SARIF_MULTITOOL to the path of its `Sarif.Multitool` binary";
    if std::env::var_os(REQUIRE).is_some_and(|v| !v.is_empty()) {
        panic!("{REQUIRE} is set but {message}");
    }
    // Straight to standard error, past the test harness's capture, so the skip is seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED the SARIF Multitool validation in tests/sarif.rs: {message}"
    );
    None
}

/// Validates `files` with GitHub's and SARIF's rules; returns every error and warning.
fn validate(tool: &Path, files: &[PathBuf]) -> Vec<String> {
    let dir = TempDir::new().unwrap();
    let log_path = dir.path().join("validation.sarif");
    let output = Command::new(tool)
        .arg("validate")
        .args(["--rule-kind", "Gh;Sarif"])
        .arg("--output")
        .arg(&log_path)
        .args(files)
        // The Multitool is a .NET program; do not depend on the machine's ICU.
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .expect("the SARIF Multitool runs");
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // Its exit code says nothing about the findings: read its log.
    let text = std::fs::read_to_string(&log_path)
        .unwrap_or_else(|e| panic!("the SARIF Multitool wrote no log ({e}):\n{console}"));
    let log: Value = serde_json::from_str(&text).expect("the validation log is JSON");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut problems = Vec::new();
    for invocation in run["invocations"].as_array().into_iter().flatten() {
        let notifications = invocation["toolExecutionNotifications"]
            .as_array()
            .into_iter()
            .flatten();
        for notification in notifications.filter(|n| n["level"] == "error") {
            problems.push(format!("the Multitool failed: {}", notification["message"]));
        }
        if invocation["executionSuccessful"] == false {
            problems.push(format!("the Multitool did not run to the end:\n{console}"));
        }
    }
    for result in run["results"].as_array().into_iter().flatten() {
        if result.get("kind").is_some_and(|k| k != "fail") {
            continue;
        }
        // A result without `level` takes its rule's default, and SARIF's default is `warning`.
        let rule = result["ruleIndex"]
            .as_u64()
            .and_then(|i| rules.get(i as usize))
            .or_else(|| rules.iter().find(|r| r["id"] == result["ruleId"]));
        let level = result["level"]
            .as_str()
            .or_else(|| rule.and_then(|r| r["defaultConfiguration"]["level"].as_str()))
            .unwrap_or("warning");
        if level == "error" || level == "warning" {
            let file = &result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
            problems.push(format!(
                "{level} {} in {file}: {}",
                result["ruleId"], result["message"]["arguments"]
            ));
        }
    }
    problems
}

#[test]
fn the_multitool_accepts_every_log() {
    let out = TempDir::new().unwrap();
    let clean = TempDir::new().unwrap();
    clean_export(clean.path());
    let broken = TempDir::new().unwrap();
    broken_export(broken.path());
    let root = Path::new(ROOT);
    let cases: [(&str, &Path, &str, i32); 4] = [
        ("directory", root, "examples/tenant-export", 1),
        ("yaml", root, "examples/tenant-export-yaml", 1),
        ("clean", clean.path(), ".", 0),
        ("input-error", broken.path(), ".", 2),
    ];
    let mut files = Vec::new();
    for (name, cwd, path, expected) in cases {
        let file = out.path().join(format!("{name}.sarif"));
        let (code, _) = sarif(cwd, path, &file);
        assert_eq!(code, expected, "exit code for {name}");
        files.push(file);
    }
    let Some(tool) = multitool() else { return };
    let problems = validate(&tool, &files);
    assert!(
        problems.is_empty(),
        "the SARIF Multitool (`validate --rule-kind \"Gh;Sarif\"`) reports:\n{}",
        problems.join("\n")
    );
}

/// The Multitool really reports problems (so a clean validation means something).
#[test]
fn the_multitool_catches_a_broken_log() {
    let Some(tool) = multitool() else { return };
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("bad.sarif");
    std::fs::write(
        &file,
        r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": [{"id": "R1"}]}},
           "results": [{"ruleId": "R1", "message": {"text": "No location."}}]}]}"#,
    )
    .unwrap();
    let problems = validate(&tool, &[file]);
    assert!(
        problems.iter().any(|p| p.starts_with("error")),
        "expected errors, got {problems:?}"
    );
}

// --- the log itself ---------------------------------------------------------------------------

fn example_log() -> (TempDir, Value) {
    let out = TempDir::new().unwrap();
    let file = out.path().join("out.sarif");
    let (code, log) = sarif(Path::new(ROOT), "examples/tenant-export", &file);
    assert_eq!(code, 1);
    (out, log)
}

/// Every location a log holds: results, related locations, code flows, notifications.
fn all_locations(log: &Value) -> Vec<&Value> {
    let run = run_of(log);
    let mut found = Vec::new();
    for result in results(log) {
        found.extend(result["locations"].as_array().into_iter().flatten());
        found.extend(result["relatedLocations"].as_array().into_iter().flatten());
        for flow in result["codeFlows"].as_array().into_iter().flatten() {
            for thread in flow["threadFlows"].as_array().into_iter().flatten() {
                for step in thread["locations"].as_array().into_iter().flatten() {
                    found.push(&step["location"]);
                }
            }
        }
    }
    for invocation in run["invocations"].as_array().into_iter().flatten() {
        for notification in invocation["toolExecutionNotifications"]
            .as_array()
            .into_iter()
            .flatten()
        {
            found.extend(notification["locations"].as_array().into_iter().flatten());
        }
    }
    found
}

fn assert_located(location: &Value) {
    let physical = &location["physicalLocation"];
    let artifact = &physical["artifactLocation"];
    let uri = artifact["uri"]
        .as_str()
        .unwrap_or_else(|| panic!("no uri in {location}"));
    assert_eq!(artifact["uriBaseId"], "%SRCROOT%", "{location}");
    assert!(!uri.starts_with('/'), "leading slash in {uri}");
    assert!(!uri.contains(' ') && !uri.contains('\\'), "unencoded {uri}");
    assert!(!uri.starts_with("claimlint"), "embedded file {uri}");
    let region = &physical["region"];
    for key in ["startLine", "startColumn", "endLine", "endColumn"] {
        let n = region[key]
            .as_u64()
            .unwrap_or_else(|| panic!("no {key} in {location}"));
        assert!(n >= 1, "{key} is 1-based in {location}");
    }
    let start = (region["startLine"].as_u64(), region["startColumn"].as_u64());
    let end = (region["endLine"].as_u64(), region["endColumn"].as_u64());
    assert!(start <= end, "region ends before it starts in {location}");
}

#[test]
fn the_log_describes_the_tool_and_the_run() {
    let (_out, log) = example_log();
    assert_eq!(
        log["$schema"],
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    );
    assert_eq!(log["version"], "2.1.0");
    let run = run_of(&log);
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "claimlint");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["informationUri"], env!("CARGO_PKG_HOMEPAGE"));
    assert_eq!(
        run["automationDetails"]["id"],
        "claimlint/examples/tenant-export/"
    );
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert!(!results(&log).is_empty());
    // The base every location's `uriBaseId` names is declared, without a machine-specific path.
    let bases = run["originalUriBaseIds"].as_object().expect("originalUriBaseIds");
    assert_eq!(bases.keys().collect::<Vec<_>>(), ["%SRCROOT%"]);
    let srcroot = &bases["%SRCROOT%"];
    assert!(srcroot.get("uri").is_none(), "{srcroot}");
    assert!(
        srcroot["description"]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
}

#[test]
fn every_location_is_repo_relative_and_percent_encoded() {
    let (_out, log) = example_log();
    let locations = all_locations(&log);
    assert!(
        locations.len() > results(&log).len(),
        "related locations and code flows are there"
    );
    for location in &locations {
        assert_located(location);
    }
    for result in results(&log) {
        assert!(
            result["locations"].as_array().is_some_and(|l| l.len() == 1),
            "{result}"
        );
    }
    let uris: BTreeSet<&str> = locations
        .iter()
        .filter_map(|l| l["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(
        uris.contains("examples/tenant-export/rules/Add%20country.js"),
        "{uris:?}"
    );
    assert!(
        uris.contains("examples/tenant-export/connections/acme-saml.json"),
        "{uris:?}"
    );
}

#[test]
fn every_rule_that_ran_is_described() {
    let (_out, log) = example_log();
    let rules = run_of(&log)["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();

    // The same policies `claimlint policies` lists as enabled, in id order.
    let listed = Command::new(env!("CARGO_BIN_EXE_claimlint"))
        .args(["policies", "--format", "json"])
        .current_dir(ROOT)
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("policies as JSON");
    let enabled: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["enabled"] == true)
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, enabled);

    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let name = rule["name"].as_str().unwrap();
        assert_ne!(name, id);
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{name} is kebab-case"
        );
        for key in ["shortDescription", "fullDescription"] {
            assert!(
                rule[key]["text"].as_str().is_some_and(|t| !t.is_empty()),
                "{id} {key}"
            );
        }
        assert!(
            rule["help"]["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{id} help.text"
        );
        let markdown = rule["help"]["markdown"].as_str().unwrap();
        if let Some(url) = rule["helpUri"].as_str() {
            assert!(markdown.contains(&format!("]({url})")), "{id} help links its url");
        }
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["error", "warning", "note"].contains(&level), "{id}: {level}");
        assert!(rule["properties"]["tags"].is_array(), "{id} tags");
        if let Some(precision) = rule["properties"].get("precision") {
            assert!(
                ["very-high", "high", "medium", "low"].contains(&precision.as_str().unwrap()),
                "{id}: precision {precision}"
            );
        }
    }
    for result in results(&log) {
        let id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids.get(index), Some(&id), "ruleIndex of {id}");
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
        assert!(result["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        let hash = result["partialFingerprints"]["primaryLocationLineHash"].as_str();
        assert!(hash.is_some_and(|h| !h.is_empty()), "{result}");
    }
}

#[test]
fn proofs_are_code_flows_and_deny_list_entries_related_locations() {
    let (_out, log) = example_log();
    let mut traced = 0;
    for result in results(&log) {
        for flow in result["codeFlows"].as_array().into_iter().flatten() {
            assert!(
                flow["message"]["text"].as_str().unwrap().contains("login of"),
                "{flow}"
            );
            let steps = flow["threadFlows"][0]["locations"].as_array().unwrap();
            // One step per trace entry (the script line, the filter and its verdict), then the
            // issued token.
            let (last, trace) = steps.split_last().expect("a code flow has steps");
            for step in trace {
                let text = step["location"]["message"]["text"].as_str().unwrap();
                assert!(text.contains("platform filter"), "{text}");
            }
            let text = last["location"]["message"]["text"].as_str().unwrap();
            assert!(
                text.starts_with("Issued ") || text.starts_with("Stored profile "),
                "{text}"
            );
            traced += usize::from(!trace.is_empty());
        }
    }
    assert!(traced > 0, "token findings carry their proofs");
    let cl105 = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "CL105")
        .expect("the example has a CL105 finding");
    let related = cl105["relatedLocations"].as_array().unwrap();
    assert!(related.iter().any(|l| {
        l["physicalLocation"]["artifactLocation"]["uri"]
            == "examples/tenant-export/connections/acme-saml.json"
            && l["id"].as_u64().is_some()
    }));
}

/// The `[text](id)` links of an embedded-link message, as (text, id); SARIF escapes `[`, `]` and
/// `\` in the link text with a backslash.
fn links(message: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            chars.next();
            continue;
        }
        if c != '[' {
            continue;
        }
        let mut text = String::new();
        let mut closed = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => text.extend(chars.next()),
                ']' => {
                    closed = true;
                    break;
                }
                c => text.push(c),
            }
        }
        if closed
            && let Some(after) = chars.as_str().strip_prefix('(')
            && let Some(end) = after.find(')')
        {
            found.push((text, after[..end].to_string()));
        }
    }
    found
}

#[test]
fn related_locations_are_linked_from_their_message() {
    let dir = TempDir::new().unwrap();
    let mut linked = 0;
    for export in ["examples/tenant-export", "examples/tenant-export-yaml"] {
        let file = dir.path().join("out.sarif");
        let (code, log) = sarif(Path::new(ROOT), export, &file);
        assert_eq!(code, 1);
        for result in results(&log) {
            let related = result["relatedLocations"].as_array().cloned().unwrap_or_default();
            let ids: Vec<String> = related
                .iter()
                .map(|l| {
                    let id = l["id"]
                        .as_u64()
                        .unwrap_or_else(|| panic!("related location without id: {l}"));
                    id.to_string()
                })
                .collect();
            let unique: BTreeSet<&String> = ids.iter().collect();
            assert_eq!(unique.len(), ids.len(), "related location ids repeat: {result}");
            let mut messages = vec![result["message"]["text"].as_str().expect("message.text")];
            messages.extend(result["message"]["markdown"].as_str());
            for message in messages {
                for id in &ids {
                    assert!(
                        message.contains(&format!("]({id})")),
                        "related location {id} is not linked from the message: {message}"
                    );
                }
                // Every link the message makes leads to one of its related locations.
                for (text, target) in links(message) {
                    assert!(!text.is_empty(), "empty link text in {message}");
                    assert!(
                        ids.contains(&target),
                        "link to ({target}) goes nowhere: {message}"
                    );
                }
            }
            linked += ids.len();
        }
    }
    assert!(linked > 0, "the examples have findings with related locations");
}

#[test]
fn link_texts_are_read_back() {
    assert_eq!(
        links(r"Bad. Related: [the deny list](1); [entry \[0\] \\ x](2). See [docs] here."),
        [
            ("the deny list".to_string(), "1".to_string()),
            (r"entry [0] \ x".to_string(), "2".to_string())
        ]
    );
}

/// GitHub's bands of security severity by the level claimlint gives a policy.
fn band(level: &str) -> (f64, f64) {
    match level {
        "error" => (7.0, 10.0),
        "warning" => (4.0, 6.9),
        _ => (0.1, 3.9),
    }
}

#[test]
fn only_security_rules_carry_security_severity() {
    let (_out, log) = example_log();
    let rules = run_of(&log)["tool"]["driver"]["rules"].as_array().unwrap();
    let mut security = BTreeSet::new();
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let tags: Vec<&str> = rule["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let score = rule["properties"].get("security-severity");
        assert_eq!(
            tags.contains(&"security"),
            score.is_some(),
            "{id}: security-severity {score:?} with tags {tags:?}"
        );
        let Some(score) = score else { continue };
        security.insert(id);
        let text = score
            .as_str()
            .unwrap_or_else(|| panic!("{id}: security-severity {score} is not a string"));
        let value: f64 = text
            .parse()
            .unwrap_or_else(|_| panic!("{id}: {text} is not a number"));
        // In the band of the rule's level, so GitHub's default pull request check (security
        // severity high or above, other alerts at error) fails on what `--fail-on error` fails on.
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        let (low, high) = band(level);
        assert!(
            (low..=high).contains(&value),
            "{id}: {value} for a rule at level {level}"
        );
    }
    // Input errors, suppression bookkeeping and an incomplete evaluation are not security
    // findings; the deny-list and privacy policies are, and the errors among them fail a check.
    for id in [
        "CL001", "CL002", "CL003", "CL004", "CL005", "CL101", "CL106", "CL206", "CL303",
    ] {
        assert!(!security.contains(id), "{id} is not a security rule");
    }
    for id in ["CL105", "CL201", "CL202", "CL203", "CL204", "CL205", "CL301"] {
        assert!(security.contains(id), "{id} is a security rule");
    }
}

/// The anchors GitHub gives the headings of a Markdown file.
fn anchors(markdown: &str) -> BTreeSet<String> {
    markdown
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .map(|heading| {
            heading
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

#[test]
fn built_in_rules_link_to_their_section_of_the_policy_reference() {
    let (_out, log) = example_log();
    let reference = std::fs::read_to_string(Path::new(ROOT).join("docs/policies.md")).unwrap();
    let sections = anchors(&reference);
    let page = format!("{}/blob/main/docs/policies.md#", env!("CARGO_PKG_REPOSITORY"));
    for rule in run_of(&log)["tool"]["driver"]["rules"].as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        let uri = rule["helpUri"]
            .as_str()
            .unwrap_or_else(|| panic!("{id} has no helpUri"));
        let anchor = uri
            .strip_prefix(&page)
            .unwrap_or_else(|| panic!("{id}: {uri} is not in {page}"));
        assert!(
            sections.contains(anchor),
            "{id}: no heading in docs/policies.md makes #{anchor}"
        );
        assert!(anchor.starts_with(&id.to_lowercase()), "{id}: {anchor}");
        let markdown = rule["help"]["markdown"].as_str().unwrap();
        assert!(markdown.contains(&format!("]({uri})")), "{id} help links {uri}");
    }
}

/// A folder with a clean export (`export/`) and a folder of user policies (`policies/`) holding
/// `policy`.
fn with_user_policy(policy: &str) -> TempDir {
    let dir = TempDir::new().unwrap();
    clean_export(&dir.path().join("export"));
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    std::fs::write(dir.path().join("policies/ACME001-spa-client.yaml"), policy).unwrap();
    dir
}

const USER_POLICY: &str = "id: ACME001\nname: spa-client\nseverity: warning\ncheck: value-match\n\
     options:\n  select: /clients/*/app_type\n  enum: [regular_web]\n\
     message: \"client type `{value}` {problem}\"\n";

#[test]
fn user_policies_keep_their_url_and_their_score_stays_in_its_band() {
    let policy = format!(
        "{USER_POLICY}tags: [security]\nsecurity_severity: \"9.8\"\nurl: https://wiki.example.com/acme001\n"
    );
    let dir = with_user_policy(&policy);
    let file = dir.path().join("out.sarif");
    let args = ["export", "--policies", "policies", "--fail-on", "never"];
    let (code, log) = sarif_with(dir.path(), &args, &file);
    assert_eq!(code, 0);
    let rules = run_of(&log)["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = rules
        .iter()
        .find(|r| r["id"] == "ACME001")
        .expect("the user policy ran");
    assert_eq!(rule["helpUri"], "https://wiki.example.com/acme001");
    // A warning is a medium alert: its score is kept below GitHub's "high".
    assert_eq!(rule["properties"]["security-severity"], "6.9");
    assert!(results(&log).iter().any(|r| r["ruleId"] == "ACME001"));

    // Raised to an error in the config, it fails GitHub's default check like any error.
    std::fs::write(
        dir.path().join(".claimlint.yaml"),
        "overrides:\n  ACME001: error\n",
    )
    .unwrap();
    let (_, log) = sarif_with(dir.path(), &args, &file);
    let rules = run_of(&log)["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = rules.iter().find(|r| r["id"] == "ACME001").unwrap();
    assert_eq!(rule["properties"]["security-severity"], "9.8");
}

#[test]
fn a_security_severity_needs_the_security_tag() {
    let dir = with_user_policy(&format!("{USER_POLICY}security_severity: \"5.0\"\n"));
    let file = dir.path().join("out.sarif");
    let (code, log) = sarif_with(dir.path(), &["export", "--policies", "policies"], &file);
    assert_eq!(code, 2);
    let error = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "CL001")
        .expect("the policy is reported");
    let text = error["message"]["text"].as_str().unwrap();
    assert!(
        text.contains("`security_severity` is only for security rules"),
        "{text}"
    );
    let location = &error["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "policies/ACME001-spa-client.yaml"
    );
    assert_eq!(location["region"]["startLine"], 9);
}

#[test]
fn a_clean_export_has_an_empty_results_array() {
    let dir = TempDir::new().unwrap();
    clean_export(dir.path());
    let file = dir.path().join("out.sarif");
    let (code, log) = sarif(dir.path(), ".", &file);
    assert_eq!(code, 0);
    let run = run_of(&log);
    assert_eq!(run["results"], Value::Array(Vec::new()));
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert!(run["invocations"][0].get("toolExecutionNotifications").is_none());
    assert_eq!(run["automationDetails"]["id"], "claimlint/");
    assert!(!run["tool"]["driver"]["rules"].as_array().unwrap().is_empty());
}

#[test]
fn input_errors_are_results_and_notifications() {
    let dir = TempDir::new().unwrap();
    broken_export(dir.path());
    let file = dir.path().join("out.sarif");
    let (code, log) = sarif(dir.path(), ".", &file);
    assert_eq!(code, 2);
    let run = run_of(&log);
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let errors: Vec<&Value> = results(&log).iter().filter(|r| r["ruleId"] == "CL001").collect();
    assert!(!errors.is_empty());
    let notifications = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notifications.len(), errors.len());
    for (notification, error) in notifications.iter().zip(&errors) {
        assert_eq!(notification["level"], "error");
        assert_eq!(notification["message"]["text"], error["message"]["text"]);
        assert_eq!(notification["locations"][0], error["locations"][0]);
        assert_eq!(notification["associatedRule"]["id"], "CL001");
        assert_located(&notification["locations"][0]);
    }
    assert_eq!(
        errors[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "clients/Broken%20Portal.json"
    );
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (dir.path().join("a.sarif"), dir.path().join("b.sarif"));
    sarif(Path::new(ROOT), "examples/tenant-export-yaml", &a);
    sarif(Path::new(ROOT), "examples/tenant-export-yaml", &b);
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
}

// --- fingerprints -----------------------------------------------------------------------------

/// JSON with keys in ascending or descending order, indented by `indent` spaces (0: one line).
fn print(value: &Value, indent: usize, descending: bool, depth: usize, out: &mut String) {
    let newline = |out: &mut String, depth: usize| {
        if indent > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent * depth));
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            if descending {
                keys.reverse();
            }
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                out.push_str(&serde_json::to_string(key).unwrap());
                out.push_str(if indent > 0 { ": " } else { ":" });
                print(&map[*key], indent, descending, depth + 1, out);
            }
            newline(out, depth);
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                print(item, indent, descending, depth + 1, out);
            }
            newline(out, depth);
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

/// Copies `from` into `to`, writing every JSON file again with the given layout.
fn copy_reformatted(from: &Path, to: &Path, indent: usize, descending: bool) {
    std::fs::create_dir_all(to).unwrap();
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_reformatted(&path, &target, indent, descending);
        } else if path.extension().is_some_and(|e| e == "json") {
            let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let mut text = String::new();
            print(&value, indent, descending, 0, &mut text);
            text.push('\n');
            std::fs::write(target, text).unwrap();
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// (primaryLocationLineHash set, (ruleId, startLine) list) of an export's log.
fn fingerprints(dir: &Path) -> (BTreeSet<String>, Vec<(String, u64)>) {
    let file = dir.join("out.sarif");
    let (code, log) = sarif(dir, "export", &file);
    assert_eq!(code, 1);
    let mut hashes = BTreeSet::new();
    let mut lines = Vec::new();
    for result in results(&log) {
        let hash = result["partialFingerprints"]["primaryLocationLineHash"]
            .as_str()
            .unwrap();
        assert!(hashes.insert(hash.to_string()), "{hash} appears twice");
        lines.push((
            result["ruleId"].as_str().unwrap().to_string(),
            result["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap(),
        ));
    }
    lines.sort();
    (hashes, lines)
}

#[test]
fn fingerprints_survive_reformatting_the_export() {
    let source = Path::new(ROOT).join("examples/tenant-export");
    let (one, two) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    copy_reformatted(&source, &one.path().join("export"), 0, true);
    copy_reformatted(&source, &two.path().join("export"), 4, false);
    let (hashes_one, lines_one) = fingerprints(one.path());
    let (hashes_two, lines_two) = fingerprints(two.path());
    assert!(!hashes_one.is_empty());
    assert_ne!(
        lines_one, lines_two,
        "the reformatting moved findings to other lines"
    );
    assert_eq!(hashes_one, hashes_two);
}
