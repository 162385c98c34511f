//! The CI gate from the command line: baselines (and their stability under re-export), inline
//! suppressions in scripts, and the `github` annotation format.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Runs claimlint in `dir`; returns exit code, stdout and stderr.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_claimlint"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(dir, &all);
    (
        code,
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}")),
    )
}

fn policies(report: &Value) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["policy"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walk(from) {
        let target = to.join(entry.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path))
        } else {
            out.push(path)
        }
    }
    out
}

fn example(name: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("export");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name),
        &root,
    );
    (temp, root)
}

#[test]
fn baseline_round_trip_reports_only_new_findings_and_stale_entries() {
    let (temp, root) = example("tenant-export");
    let dir = temp.path();
    let (code, _, stderr) = run(dir, &["export", "--write-baseline", "baseline.json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("recorded 16 findings"), "{stderr}");

    let (code, report) = json(dir, &["export", "--baseline", "baseline.json"]);
    assert_eq!((code, policies(&report)), (0, Vec::<String>::new()));

    // Shown with `--include-suppressed`, each baselined finding has its whole proof (its
    // tokens included), as without the baseline.
    let (_, plain) = json(dir, &["export"]);
    let (_, shown) = json(
        dir,
        &["export", "--baseline", "baseline.json", "--include-suppressed"],
    );
    let proofs = |report: &Value| -> Vec<(String, Value)> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["fingerprint"].to_string(), f["proof"].clone()))
            .collect()
    };
    let with_tokens = proofs(&plain)
        .iter()
        .filter(|(_, p)| p.get("tokens").is_some())
        .count();
    assert!(with_tokens >= 3, "the example has token proofs: {plain:#}");
    assert_eq!(proofs(&shown), proofs(&plain));

    // A new mistake is reported; a fixed one leaves a stale baseline entry (CL003).
    let dashboard = root.join("clients/Acme Dashboard.json");
    let text = std::fs::read_to_string(&dashboard)
        .unwrap()
        .replace("\"oidc_conformant\": true", "\"oidc_conformant\": false");
    std::fs::write(&dashboard, text).unwrap();
    let tenant = root.join("tenant.json");
    let text = std::fs::read_to_string(&tenant).unwrap().replace(
        "\"allow_legacy_ro_grant_types\": true",
        "\"allow_legacy_ro_grant_types\": false",
    );
    std::fs::write(&tenant, text).unwrap();
    let (code, report) = json(dir, &["export", "--baseline", "baseline.json"]);
    let found = policies(&report);
    assert_eq!(code, 1);
    assert!(found.contains(&"CL302".to_string()), "{found:?}");
    assert!(found.contains(&"CL003".to_string()), "{found:?}");
    let stale = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["policy"] == "CL003")
        .unwrap();
    assert_eq!(stale["location"]["file"], "baseline.json");
}

/// Re-serialises every JSON file with sorted keys and 4-space indentation, as a re-export would.
fn reformat_directory_export(root: &Path) {
    for path in walk(root)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        serde::Serialize::serialize(&value, &mut serializer).unwrap();
        std::fs::write(&path, out).unwrap();
    }
}

/// Rewrites `tenant.yaml` with every list of resources reversed and the keys reordered (as
/// JSON, which is YAML too).
fn reorder_yaml_export(root: &Path) {
    let path = root.join("tenant.yaml");
    let tree = claimlint::syntax::yaml::parse(&std::fs::read_to_string(&path).unwrap())
        .root
        .unwrap();
    let mut value = tree.to_json();
    for key in [
        "clients",
        "connections",
        "databases",
        "rules",
        "actions",
        "hooks",
        "guardianFactors",
    ] {
        if let Some(Value::Array(items)) = value.get_mut(key) {
            items.reverse();
        }
    }
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
}

#[test]
fn fingerprints_survive_reformatting_and_reordering() {
    for (name, rewrite) in [
        ("tenant-export", reformat_directory_export as fn(&Path)),
        ("tenant-export-yaml", reorder_yaml_export as fn(&Path)),
    ] {
        let (temp, root) = example(name);
        let (code, _, stderr) = run(temp.path(), &["export", "--write-baseline", "baseline.json"]);
        assert_eq!(code, 0, "{stderr}");
        let tenant_file = root.join(if name.ends_with("yaml") {
            "tenant.yaml"
        } else {
            "tenant.json"
        });
        let before = std::fs::read_to_string(&tenant_file).unwrap();
        rewrite(&root);
        let after = std::fs::read_to_string(&tenant_file).unwrap();
        assert_ne!(before, after, "{name}: the rewrite changed nothing");
        let (code, report) = json(temp.path(), &["export", "--baseline", "baseline.json"]);
        assert_eq!(
            (code, policies(&report)),
            (0, Vec::<String>::new()),
            "{name}: {report:#}"
        );
    }
}

fn export_with_inline_suppressions() -> tempfile::TempDir {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("export");
    std::fs::create_dir_all(root.join("rules")).unwrap();
    std::fs::create_dir_all(root.join("clients")).unwrap();
    std::fs::create_dir_all(root.join("connections")).unwrap();
    std::fs::write(root.join("tenant.json"), "{\n  \"friendly_name\": \"Acme\"\n}\n").unwrap();
    std::fs::write(
        root.join("clients/App.json"),
        "{\n  \"name\": \"App\",\n  \"oidc_conformant\": true\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("connections/db.json"),
        "{\n  \"name\": \"db\",\n  \"strategy\": \"github\",\n  \"enabled_clients\": [\"App\"]\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("rules/claims.json"),
        "{\n  \"name\": \"claims\",\n  \"enabled\": true,\n  \"order\": 1,\n  \"script\": \"./claims.js\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("rules/claims.js"),
        "function (user, context, callback) {\n\
         \x20 // claimlint-disable-next-line CL101 -- read only by the retiring Portal (PORTAL-812)\n\
         \x20 context.idToken.country = user.country;\n\
         \x20 context.idToken.team = user.team; // claimlint-disable-line non-namespaced-claim\n\
         \x20 // claimlint-disable-next-line CL105 -- nothing here\n\
         \x20 context.idToken['https://acme.com/x'] = 1;\n\
         \x20 context.idToken.plan = 'gold';\n\
         \x20 callback(null, user, context);\n\
         }\n",
    )
    .unwrap();
    temp
}

#[test]
fn inline_suppressions_suppress_and_are_checked() {
    let temp = export_with_inline_suppressions();
    let (code, report) = json(temp.path(), &["export"]);
    // `country` and `team` are suppressed, `plan` is not; `team`'s comment has no reason (CL004);
    // the CL105 comment matches nothing (CL003).
    assert_eq!(code, 1);
    assert_eq!(policies(&report), ["CL003", "CL004", "CL101"]);
    let plan = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["policy"] == "CL101")
        .unwrap();
    assert_eq!(plan["claim"], "plan");

    let (_, report) = json(temp.path(), &["export", "--no-inline-suppressions"]);
    assert_eq!(policies(&report), ["CL101", "CL101", "CL101"]);

    let (_, report) = json(temp.path(), &["export", "--include-suppressed"]);
    let suppressed: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("suppression").is_some())
        .collect();
    assert_eq!(suppressed.len(), 2);
    assert_eq!(suppressed[0]["suppression"]["kind"], "inline");
    assert_eq!(
        suppressed[0]["suppression"]["reason"],
        "read only by the retiring Portal (PORTAL-812)"
    );
}

#[test]
fn github_format_writes_workflow_commands() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, stdout, _) = run(dir, &["--format", "github", "examples/tenant-export"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with(
            "::error file=examples/tenant-export/rules/Add country.js,line=8,endLine=8,col=19,endColumn=26,title=CL101 non-namespaced-claim::custom claim `country`"
        )),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::warning file=examples/tenant-export/tenant.json,line=21,")),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("::") || l.starts_with("Found ")),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .filter(|l| l.starts_with("::"))
            .all(|l| !l.contains('\n'))
    );
}
