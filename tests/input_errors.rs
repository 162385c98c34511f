//! Bad input: every malformed, unreadable or out-of-bounds file is a located CL001 finding, the run
//! exits 2, and the rest of the export (and every other export) is still linted.
//!
//! Small trees are committed under `tests/fixtures/input-errors/<case>/`. Large, binary or
//! permission-dependent ones (deep nesting, alias bombs, non-UTF-8 bytes, unreadable files,
//! symlinks) are written into a temporary folder at test time.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const FIXTURES: &str = "tests/fixtures/input-errors";

/// Long enough for a debug build on a busy 2-core machine; hostile input must never get near it.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Runs claimlint with `--format json` in the crate root: (exit code, parsed stdout, stderr).
fn run(args: &[&str]) -> (i32, Value, String) {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// As [`run`], in `dir`; stdout that is not JSON (a fatal error prints none) becomes `null`.
fn run_in(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut with_format = args.to_vec();
    with_format.extend(["--format", "json"]);
    let (code, stdout, stderr) = claimlint(dir, &with_format);
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (code, json, stderr)
}

/// Runs the binary in `dir` with a time limit: (exit code, stdout, stderr). Dying by a signal
/// (a stack overflow, say) fails the test.
fn claimlint(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_claimlint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("claimlint starts");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).ok();
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            child.kill().ok();
            child.wait().ok();
            panic!("claimlint {args:?} did not finish within {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    let code = status
        .code()
        .unwrap_or_else(|| panic!("claimlint {args:?} was killed ({status}); stderr:\n{stderr}"));
    (code, stdout, stderr)
}

fn fixture(case: &str) -> String {
    format!("{FIXTURES}/{case}")
}

/// The CL001 findings of a run.
fn input_errors(json: &Value) -> Vec<&Value> {
    json["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array in {json:#}"))
        .iter()
        .filter(|f| f["policy"] == "CL001")
        .collect()
}

/// Asserts that the CL001 findings are exactly these (file, line, column), in output order.
fn assert_input_errors_at(json: &Value, expected: &[(&str, u64, u64)]) {
    let found: Vec<(String, u64, u64)> = input_errors(json)
        .iter()
        .map(|f| {
            let at = &f["location"];
            (
                at["file"].as_str().unwrap().to_string(),
                at["line"].as_u64().unwrap(),
                at["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64, u64)> = expected
        .iter()
        .map(|(f, l, c)| ((*f).to_string(), *l, *c))
        .collect();
    assert_eq!(found, expected, "CL001 findings differ; whole output:\n{json:#}");
}

/// The one CL001 finding at `file:line:column`.
fn error_at<'a>(json: &'a Value, file: &str, line: u64, column: u64) -> &'a Value {
    let matches: Vec<&Value> = input_errors(json)
        .into_iter()
        .filter(|f| {
            let at = &f["location"];
            at["file"] == file && at["line"] == line && at["column"] == column
        })
        .collect();
    assert_eq!(
        matches.len(),
        1,
        "one CL001 at {file}:{line}:{column} in:\n{json:#}"
    );
    let finding = matches[0];
    assert_eq!(finding["name"], "input-error");
    assert_eq!(finding["severity"], "error");
    finding
}

fn message(finding: &Value) -> &str {
    finding["message"].as_str().unwrap()
}

fn assert_message_has(finding: &Value, parts: &[&str]) {
    for part in parts {
        assert!(
            message(finding).contains(part),
            "message {:?} should mention {part:?}",
            message(finding)
        );
    }
}

fn files_read(json: &Value) -> u64 {
    json["summary"]["files"].as_u64().unwrap()
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Syntax errors

#[test]
fn invalid_json_is_located_and_the_rest_of_the_export_is_linted() {
    let (code, json, _) = run(&[&fixture("invalid-json")]);
    assert_eq!(code, 2);
    let root = fixture("invalid-json");
    assert_input_errors_at(
        &json,
        &[
            (&format!("{root}/clients/X.json"), 5, 25),
            (&format!("{root}/clients/Y.json"), 4, 22),
            (&format!("{root}/connections/google-oauth2.json"), 3, 30),
        ],
    );
    let trailing = error_at(&json, &format!("{root}/clients/X.json"), 5, 25);
    assert_message_has(trailing, &["invalid JSON", "trailing comma"]);
    assert!(trailing["location"].get("pointer").is_none());
    // A second broken file elsewhere in the export is reported too...
    let comma = error_at(&json, &format!("{root}/connections/google-oauth2.json"), 3, 30);
    assert_message_has(comma, &["invalid JSON", "expected comma"]);
    // ...and a well-formed sibling of the broken file is still checked.
    let typed = error_at(&json, &format!("{root}/clients/Y.json"), 4, 22);
    assert_message_has(
        typed,
        &["expected `oidc_conformant` to be true or false, found a string"],
    );
    assert_eq!(typed["location"]["pointer"], "/oidc_conformant");
    // tenant.json, 2 clients, 1 connection, the rule's JSON and its script.
    assert_eq!(files_read(&json), 6);
    assert_eq!(json["summary"]["exports"], 1);
}

#[test]
fn invalid_yaml_is_located_and_other_exports_are_still_linted() {
    let (broken, healthy) = (fixture("invalid-yaml/broken"), fixture("invalid-yaml/healthy"));
    let (code, json, _) = run(&[&broken, &healthy]);
    assert_eq!(code, 2);
    let broken_yaml = format!("{broken}/tenant.yaml");
    let healthy_yaml = format!("{healthy}/tenant.yaml");
    assert_input_errors_at(&json, &[(&broken_yaml, 2, 38), (&healthy_yaml, 4, 26)]);
    // `flags: {enable_legacy_profile: true]`: the `]` is where `,` or `}` was expected.
    let syntax = error_at(&json, &broken_yaml, 2, 38);
    assert_message_has(syntax, &["invalid YAML", "expected ',' or '}'"]);
    let typed = error_at(&json, &healthy_yaml, 4, 26);
    assert_message_has(
        typed,
        &["`enable_idtoken_api2`", "true or false", "found a string"],
    );
    assert_eq!(typed["location"]["pointer"], "/tenant/flags/enable_idtoken_api2");
    assert_eq!(
        json["exports"],
        serde_json::json!([
            {"root": broken, "format": "yaml"},
            {"root": healthy, "format": "yaml"},
        ])
    );
    // Both tenant.yaml files and the healthy export's rule script.
    assert_eq!(files_read(&json), 3);
}

// ---------------------------------------------------------------------------------------------
// Wrong types

#[test]
fn wrong_types_point_at_the_field_or_entry_in_json() {
    let root = fixture("wrong-types");
    let (code, json, _) = run(&[&root]);
    assert_eq!(code, 2);
    let saml = format!("{root}/connections/acme-saml.json");
    let oidc = format!("{root}/connections/corp-oidc.json");
    let tenant = format!("{root}/tenant.json");
    assert_input_errors_at(&json, &[(&saml, 5, 43), (&oidc, 5, 29), (&tenant, 3, 30)]);

    // `["ethnicity", 42, "gender"]`: the finding covers exactly `42`, entry 1 of the list.
    let entry = error_at(&json, &saml, 5, 43);
    assert_message_has(
        entry,
        &["expected every entry of `non_persistent_attrs` to be a string, found a number"],
    );
    assert_eq!(entry["location"]["pointer"], "/options/non_persistent_attrs/1");
    assert_eq!(
        (&entry["location"]["end_line"], &entry["location"]["end_column"]),
        (&5.into(), &45.into())
    );

    let list = error_at(&json, &oidc, 5, 29);
    assert_message_has(
        list,
        &["expected `non_persistent_attrs` to be a list of strings, found a string"],
    );
    assert_eq!(list["location"]["pointer"], "/options/non_persistent_attrs");
    assert_eq!(list["location"]["end_column"], 36, "covers `\"email\"`");

    let flag = error_at(&json, &tenant, 3, 30);
    assert_message_has(
        flag,
        &["expected tenant flag `enable_legacy_profile` to be true or false, found a string"],
    );
    assert_eq!(flag["location"]["pointer"], "/flags/enable_legacy_profile");
    assert_eq!(flag["location"]["end_column"], 35, "covers `\"yes\"`");

    // tenant.json, 2 connections and the untouched client.
    assert_eq!(files_read(&json), 4);
}

#[test]
fn wrong_types_point_at_the_field_or_entry_in_yaml() {
    let root = fixture("wrong-types-yaml");
    let (code, json, _) = run(&[&root]);
    assert_eq!(code, 2);
    let yaml = format!("{root}/tenant.yaml");
    // Every problem in the file is reported, not just the first.
    assert_input_errors_at(&json, &[(&yaml, 3, 28), (&yaml, 10, 11), (&yaml, 15, 29)]);
    let flag = error_at(&json, &yaml, 3, 28);
    assert_eq!(flag["location"]["pointer"], "/tenant/flags/enable_legacy_profile");
    assert_message_has(
        flag,
        &["`enable_legacy_profile`", "true or false", "found a string"],
    );
    let entry = error_at(&json, &yaml, 10, 11);
    assert_eq!(
        entry["location"]["pointer"],
        "/connections/0/options/non_persistent_attrs/1"
    );
    assert_eq!(entry["location"]["end_column"], 13, "covers `42`");
    assert_message_has(
        entry,
        &["expected every entry of `non_persistent_attrs` to be a string, found a number"],
    );
    let list = error_at(&json, &yaml, 15, 29);
    assert_eq!(
        list["location"]["pointer"],
        "/connections/1/options/non_persistent_attrs"
    );
    assert_message_has(
        list,
        &["expected `non_persistent_attrs` to be a list of strings, found a string"],
    );
}

// ---------------------------------------------------------------------------------------------
// Script references

#[test]
fn a_missing_rule_script_is_located_at_the_reference() {
    let root = fixture("missing-script");
    let (code, json, _) = run(&[&root]);
    assert_eq!(code, 2);
    let missing = format!("{root}/rules/Missing.json");
    let present = format!("{root}/rules/Present.json");
    assert_input_errors_at(&json, &[(&missing, 5, 13), (&present, 4, 12)]);
    let reference = error_at(&json, &missing, 5, 13);
    assert_message_has(reference, &["`./missing.js` not found", "rules/missing.js"]);
    assert_eq!(reference["location"]["pointer"], "/script");
    // The other rule is still loaded: its own mistake is reported and its script was read.
    assert_message_has(
        error_at(&json, &present, 4, 12),
        &["expected `order` to be a number"],
    );
    assert_eq!(files_read(&json), 4);
}

#[test]
fn a_missing_script_in_tenant_yaml_is_located_at_the_reference() {
    let root = fixture("missing-script-yaml");
    let (code, json, _) = run(&[&root]);
    assert_eq!(code, 2);
    let yaml = format!("{root}/tenant.yaml");
    assert_input_errors_at(&json, &[(&yaml, 3, 13), (&yaml, 13, 13)]);
    let rule = error_at(&json, &yaml, 3, 13);
    assert_message_has(rule, &["`./rules/nope.js` not found"]);
    assert_eq!(rule["location"]["pointer"], "/rules/0/script");
    let hook = error_at(&json, &yaml, 13, 13);
    assert_message_has(hook, &["`./hooks/also-missing.js` not found"]);
    assert_eq!(hook["location"]["pointer"], "/hooks/0/script");
    // tenant.yaml and the one script that exists.
    assert_eq!(files_read(&json), 2);
}

/// The fixture holds `script-escape/etc/passwd`, exactly where `../../etc/passwd` would lead
/// from `script-escape/directory/rules/`, so an escape would find a file to read.
const SENTINEL: &str = "SENTINEL-7f3a9c";

#[test]
fn a_script_path_escaping_the_export_root_is_not_read() {
    let (directory, yaml) = (fixture("script-escape/directory"), fixture("script-escape/yaml"));
    let outside = Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture("script-escape/etc/passwd"));
    assert!(std::fs::read_to_string(outside).unwrap().contains(SENTINEL));

    let (code, json, stderr) = run(&[&directory, &yaml]);
    assert_eq!(code, 2);
    let escape_json = format!("{directory}/rules/Escape.json");
    let tenant_yaml = format!("{yaml}/tenant.yaml");
    assert_input_errors_at(&json, &[(&escape_json, 4, 13), (&tenant_yaml, 3, 13)]);
    let escape = error_at(&json, &escape_json, 4, 13);
    assert_message_has(
        escape,
        &["`../../etc/passwd`", "outside the export root", "not read"],
    );
    assert_eq!(escape["location"]["pointer"], "/script");
    let escape = error_at(&json, &tenant_yaml, 3, 13);
    assert_message_has(
        escape,
        &["`../etc/passwd`", "outside the export root", "not read"],
    );
    assert_eq!(escape["location"]["pointer"], "/rules/0/script");

    // Not read: not counted, not shown, not quoted, in either output format.
    // Directory: tenant.json, 2 rule JSONs, Inside.js; YAML: tenant.yaml, Inside.js.
    assert_eq!(files_read(&json), 6);
    let json_text = json.to_string();
    assert!(!json_text.contains(SENTINEL) && !stderr.contains(SENTINEL));
    assert!(!json_text.contains("script-escape/etc"), "{json:#}");
    let (_, human, human_err) = claimlint(Path::new(env!("CARGO_MANIFEST_DIR")), &[&directory, &yaml]);
    assert!(human.contains("outside the export root"), "{human}");
    assert!(
        !human.contains(SENTINEL) && !human_err.contains(SENTINEL),
        "{human}"
    );
}

/// A temporary export with symlinks to a folder beside it holding sentinel files.
#[cfg(unix)]
fn export_with_symlinks_to_outside() -> tempfile::TempDir {
    use std::os::unix::fs::symlink;
    let tmp = temp_dir();
    let outside = tmp.path().join("outside");
    // Valid JSON and JS: were they read, they would load without a word.
    write(
        &outside.join("secret.json"),
        format!("{{\"name\": \"{SENTINEL}\"}}\n"),
    );
    write(
        &outside.join("secret.js"),
        format!("function r(u, c, cb) {{ c.idToken.x = '{SENTINEL}'; cb(null, u, c); }}\n"),
    );
    write(
        &outside.join("connections/corp.json"),
        format!("{{\"name\": \"{SENTINEL}\", \"strategy\": \"oidc\"}}\n"),
    );
    let export = tmp.path().join("export");
    write(&export.join("tenant.json"), "{}\n");
    write(
        &export.join("clients/Good.json"),
        "{\n  \"name\": \"Good\",\n  \"sso\": \"yes\"\n}\n",
    );
    symlink("../../outside/secret.json", export.join("clients/Linked.json")).unwrap();
    symlink("../outside/connections", export.join("connections")).unwrap();
    write(
        &export.join("rules/Linked.json"),
        "{\n  \"name\": \"Linked\",\n  \"script\": \"./Linked.js\"\n}\n",
    );
    symlink("../../outside/secret.js", export.join("rules/Linked.js")).unwrap();
    tmp
}

/// The reader opens files without following links and without blocking: a FIFO named like a
/// resource file is reported, never waited on, and a symbolic link that stays inside the export
/// is read like the file it names.
#[cfg(unix)]
#[test]
fn a_fifo_is_reported_and_a_link_inside_the_export_is_read() {
    let tmp = temp_dir();
    let export = tmp.path().join("export");
    write(&export.join("tenant.json"), "{}\n");
    write(
        &export.join("clients/Real.json"),
        "{\n  \"name\": \"Real\",\n  \"sso\": \"yes\"\n}\n",
    );
    std::os::unix::fs::symlink("Real.json", export.join("clients/Alias.json")).unwrap();
    let fifo = std::ffi::CString::new(
        export
            .join("clients/Pipe.json")
            .into_os_string()
            .into_encoded_bytes(),
    )
    .unwrap();
    // SAFETY: `fifo` is a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let (code, json, _) = run_in(tmp.path(), &["export"]);
    assert_eq!(code, 2);
    assert_input_errors_at(
        &json,
        &[
            ("export/clients/Alias.json", 3, 10),
            ("export/clients/Pipe.json", 1, 1),
            ("export/clients/Real.json", 3, 10),
        ],
    );
    assert_message_has(
        error_at(&json, "export/clients/Pipe.json", 1, 1),
        &["expected a regular file", "FIFO"],
    );
    // The link is read: its (the real file's) content is linted at the link's own path.
    assert_message_has(
        error_at(&json, "export/clients/Alias.json", 3, 10),
        &["expected `sso` to be true or false"],
    );
}

#[cfg(unix)]
#[test]
fn symlinks_inside_the_export_to_outside_it_are_refused() {
    let tmp = export_with_symlinks_to_outside();
    let (code, json, stderr) = run_in(tmp.path(), &["export"]);
    assert_eq!(code, 2);
    assert_input_errors_at(
        &json,
        &[
            ("export/clients/Good.json", 3, 10),
            ("export/clients/Linked.json", 1, 1),
            ("export/connections", 1, 1),
            ("export/rules/Linked.json", 3, 13),
        ],
    );
    // A file symlink is refused; a folder symlink is reported and never listed, so the names
    // of the files it leads to appear nowhere.
    assert_message_has(
        error_at(&json, "export/clients/Linked.json", 1, 1),
        &["symbolic link", "outside the export root", "not read"],
    );
    assert_message_has(
        error_at(&json, "export/connections", 1, 1),
        &["folder is a symbolic link", "not listed"],
    );
    assert!(!json.to_string().contains("corp.json"), "{json:#}");
    let script = error_at(&json, "export/rules/Linked.json", 3, 13);
    assert_message_has(
        script,
        &[
            "`./Linked.js`",
            "symbolic link",
            "outside the export root",
            "not read",
        ],
    );
    // The real file beside the links is linted.
    assert_message_has(
        error_at(&json, "export/clients/Good.json", 3, 10),
        &["expected `sso` to be true or false"],
    );
    assert!(
        !json.to_string().contains(SENTINEL) && !stderr.contains(SENTINEL),
        "{json:#}"
    );
    let (_, human, _) = claimlint(tmp.path(), &["export"]);
    assert!(!human.contains(SENTINEL), "{human}");
}

// ---------------------------------------------------------------------------------------------
// Unreadable and undecodable files

#[test]
fn non_utf8_text_is_located_at_the_bad_byte() {
    let tmp = temp_dir();
    let export = tmp.path().join("export");
    write(&export.join("tenant.json"), "{}\n");
    // Latin-1 `é` (0xE9) after a UTF-8 `é`: the column counts characters, not bytes.
    let mut latin1 = b"{\n  \"name\": \"Latin1\",\n  \"description\": \"Caf\xC3\xA9 ".to_vec();
    latin1.extend(b"\xE9\"\n}\n");
    write(&export.join("clients/Latin1.json"), latin1);
    write(
        &export.join("clients/Other.json"),
        "{\"name\": \"Other\", \"sso\": \"yes\"}\n",
    );
    let (code, json, _) = run_in(tmp.path(), &["export"]);
    assert_eq!(code, 2);
    assert_input_errors_at(
        &json,
        &[
            ("export/clients/Latin1.json", 3, 24),
            ("export/clients/Other.json", 1, 26),
        ],
    );
    let bad = error_at(&json, "export/clients/Latin1.json", 3, 24);
    assert_message_has(bad, &["expected UTF-8", "0xE9"]);
    assert_eq!(files_read(&json), 3);
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_an_error_and_the_rest_is_linted() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = temp_dir();
    let export = tmp.path().join("export");
    write(&export.join("tenant.json"), "{}\n");
    write(
        &export.join("clients/Open.json"),
        "{\"name\": \"Open\", \"sso\": 1}\n",
    );
    let locked = export.join("clients/Locked.json");
    write(&locked, "{\"name\": \"Locked\", \"sso\": \"x\"}\n");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // A folder named like a client file cannot be read as one, whoever runs the test.
    std::fs::create_dir_all(export.join("clients/Folder.json")).unwrap();
    // Root (and CAP_DAC_OVERRIDE) read mode-000 files anyway.
    let privileged = std::fs::read(&locked).is_ok();

    let (code, json, _) = run_in(tmp.path(), &["export"]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(code, 2);
    let folder = error_at(&json, "export/clients/Folder.json", 1, 1);
    assert_message_has(folder, &["cannot read", "folder"]);
    let open = error_at(&json, "export/clients/Open.json", 1, 25);
    assert_message_has(open, &["expected `sso` to be true or false, found a number"]);
    if privileged {
        // The file is readable to this user, so it is linted like any other.
        assert_input_errors_at(
            &json,
            &[
                ("export/clients/Folder.json", 1, 1),
                ("export/clients/Locked.json", 1, 27),
                ("export/clients/Open.json", 1, 25),
            ],
        );
        assert_message_has(error_at(&json, "export/clients/Locked.json", 1, 27), &["`sso`"]);
    } else {
        assert_input_errors_at(
            &json,
            &[
                ("export/clients/Folder.json", 1, 1),
                ("export/clients/Locked.json", 1, 1),
                ("export/clients/Open.json", 1, 25),
            ],
        );
        assert_message_has(
            error_at(&json, "export/clients/Locked.json", 1, 1),
            &["cannot read", "permission denied"],
        );
    }
    // Every file is counted, the unreadable ones included.
    assert_eq!(files_read(&json), 4);
}

// ---------------------------------------------------------------------------------------------
// Hostile input

#[test]
fn a_yaml_alias_bomb_is_refused_quickly() {
    use claimlint::syntax::yaml::MAX_ALIAS_NODES;
    // Billion laughs: a0 holds 9 strings, every further level 9 aliases of the one before.
    const LEVELS: usize = 10;
    let mut yaml = String::from(
        "a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
    );
    // Where expansion first passes the limit: aliases count the values they copy, in order.
    let mut size = 10; // a0: the list and its 9 strings
    let mut expanded = 0;
    let mut limit_passed_at = None;
    for level in 1..LEVELS {
        let refs = vec![format!("*a{}", level - 1); 9];
        for k in 0..9 {
            expanded += size;
            if expanded > MAX_ALIAS_NODES && limit_passed_at.is_none() {
                // `aN: &aN [` is 9 characters; each `*aN, ` 5 more.
                limit_passed_at = Some((level as u64 + 1, 10 + 5 * k as u64));
            }
        }
        yaml.push_str(&format!("a{level}: &a{level} [{}]\n", refs.join(", ")));
        size = 1 + 9 * size;
    }
    let (line, column) = limit_passed_at.expect("the bomb passes the limit");

    let tmp = temp_dir();
    write(&tmp.path().join("bomb/tenant.yaml"), yaml);
    write(
        &tmp.path().join("other/tenant.yaml"),
        "tenant:\n  flags:\n    enable_legacy_profile: 1\n",
    );
    let started = Instant::now();
    let (code, json, _) = run_in(tmp.path(), &["bomb", "other"]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(code, 2);
    assert_input_errors_at(
        &json,
        &[("bomb/tenant.yaml", line, column), ("other/tenant.yaml", 3, 28)],
    );
    assert_message_has(error_at(&json, "bomb/tenant.yaml", line, column), &["alias bomb"]);
    assert_eq!(json["summary"]["exports"], 2);
}

#[test]
fn json_nested_100_000_deep_is_an_error_not_a_crash() {
    use claimlint::syntax::MAX_DEPTH;
    let tmp = temp_dir();
    let export = tmp.path().join("export");
    write(&export.join("tenant.json"), "{}\n");
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    write(&export.join("clients/Deep.json"), &deep);
    write(
        &export.join("connections/Broken.json"),
        "{\"name\": \"Broken\",}\n",
    );
    let (code, json, _) = run_in(tmp.path(), &["export"]);
    assert_eq!(code, 2);
    // The bracket that opens level MAX_DEPTH + 1.
    let column = MAX_DEPTH as u64 + 1;
    assert_input_errors_at(
        &json,
        &[
            ("export/clients/Deep.json", 1, column),
            ("export/connections/Broken.json", 1, 18),
        ],
    );
    assert_message_has(
        error_at(&json, "export/clients/Deep.json", 1, column),
        &["nested deeper than"],
    );
    assert_eq!(files_read(&json), 3);
}

// ---------------------------------------------------------------------------------------------
// Paths on the command line

/// A tenant with the legacy profile on (CL301, a warning), in a0deploy's YAML form.
const YAML_EXPORT: &str = "tenant:\n  friendly_name: Acme\n  flags:\n    enable_legacy_profile: true\nclients:\n  - name: Portal\n    oidc_conformant: true\n";

const K8S_MANIFEST: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tenant\n";

/// The report of `claimlint <args> --format FORMAT` in `dir`, as text, with its exit code.
fn output_in(dir: &Path, format: &str, args: &[&str]) -> (i32, String) {
    let mut all = args.to_vec();
    all.extend(["--format", format]);
    let (code, stdout, _) = claimlint(dir, &all);
    (code, stdout)
}

#[test]
fn a_path_without_an_export_exits_2_with_the_error_in_every_format() {
    let tmp = temp_dir();
    write(&tmp.path().join("docs/notes.txt"), "not an export\n");
    write(&tmp.path().join("README.md"), "# readme\n");
    for path in ["docs", "README.md", "does-not-exist"] {
        let (code, json, stderr) = run_in(tmp.path(), &[path]);
        assert_eq!(code, 2, "{path}: {stderr}");
        assert_eq!(json["exports"], serde_json::json!([]), "{path}");
        let [error] = input_errors(&json)[..] else {
            panic!("{path}: one CL001 expected in {json:#}");
        };
        assert_eq!(error["location"]["file"], path);
        let expected = match path {
            "docs" => "no Auth0 export in this folder",
            "README.md" => "in no Auth0 export and is not a rule, action or hook script",
            _ => "no such file or folder",
        };
        assert_message_has(error, &[expected]);

        let (code, sarif) = output_in(tmp.path(), "sarif", &[path]);
        assert_eq!(code, 2, "{path}");
        let sarif: Value = serde_json::from_str(&sarif).unwrap();
        let run = &sarif["runs"][0];
        assert_eq!(run["results"][0]["ruleId"], "CL001", "{path}");
        assert_eq!(
            run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            path
        );
        let invocation = &run["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false, "{path}");
        assert!(
            invocation["toolExecutionNotifications"][0]["message"]["text"]
                .as_str()
                .unwrap()
                .contains(expected),
            "{path}: {invocation:#}"
        );
        // The rule is described, not a bare id: CL001 ran, though nothing was linted.
        assert_eq!(run["tool"]["driver"]["rules"][0]["name"], "input-error");

        let (code, github) = output_in(tmp.path(), "github", &[path]);
        assert_eq!(code, 2, "{path}");
        assert!(
            github.starts_with(&format!("::error file={path},line=1,")) && github.contains(expected),
            "{path}: {github}"
        );
        let (code, human) = output_in(tmp.path(), "human", &[path]);
        assert_eq!(code, 2, "{path}");
        assert!(
            human.contains("CL001/input-error") && human.contains(expected),
            "{human}"
        );
    }
}

#[test]
fn a_path_without_an_export_beside_one_with_exits_2_and_the_export_is_linted() {
    let tmp = temp_dir();
    write(&tmp.path().join("tenant-export/tenant.yaml"), YAML_EXPORT);
    write(&tmp.path().join("docs/notes.txt"), "not an export\n");
    let (code, json, _) = run_in(tmp.path(), &["tenant-export", "docs"]);
    assert_eq!(code, 2);
    assert_input_errors_at(&json, &[("docs", 1, 1)]);
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["policy"] == "CL301"),
        "{json:#}"
    );
}

#[test]
fn a_yaml_file_with_a0deploy_keys_is_an_export_whatever_its_name() {
    let tmp = temp_dir();
    write(&tmp.path().join("prod.yaml"), YAML_EXPORT);
    write(&tmp.path().join("acme.yml"), YAML_EXPORT);
    for file in ["prod.yaml", "acme.yml"] {
        let (code, json, stderr) = run_in(tmp.path(), &["--fail-on", "warning", file]);
        assert_eq!(code, 1, "{file}: {stderr}");
        assert_eq!(
            json["exports"],
            serde_json::json!([{"root": ".", "file": file, "format": "yaml"}])
        );
        let findings = json["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{json:#}");
        assert_eq!(findings[0]["policy"], "CL301");
        assert_eq!(findings[0]["location"]["file"], file);
    }
}

#[test]
fn a_folder_of_yaml_exports_lints_each_and_says_which_files_it_read() {
    let tmp = temp_dir();
    write(&tmp.path().join("envs/dev.yaml"), YAML_EXPORT);
    write(&tmp.path().join("envs/prod.yml"), YAML_EXPORT);
    // Not exports: other keys beside a0deploy's, or a0deploy keys with values it never writes.
    write(
        &tmp.path().join("envs/mkdocs.yml"),
        "site_name: Runbook\npages:\n  - index.md\n",
    );
    write(&tmp.path().join("envs/values.yaml"), "tenant: acme\n");
    write(
        &tmp.path().join("envs/.claimlint.yaml"),
        "overrides:\n  CL301: error\n",
    );
    let (code, json, stderr) = run_in(tmp.path(), &["envs"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        json["exports"],
        serde_json::json!([
            {"root": "envs", "file": "envs/dev.yaml", "format": "yaml"},
            {"root": "envs", "file": "envs/prod.yml", "format": "yaml"},
        ])
    );
    let files: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["envs/dev.yaml", "envs/prod.yml"]);

    let (_, human) = output_in(tmp.path(), "human", &["--color", "never", "envs"]);
    assert!(
        human.contains("Read the YAML export envs/dev.yaml.\nRead the YAML export envs/prod.yml.\n"),
        "{human}"
    );
    let (_, github) = output_in(tmp.path(), "github", &["envs"]);
    assert!(
        github.contains("Read the YAML export envs/dev.yaml.\n"),
        "{github}"
    );
    let (_, sarif) = output_in(tmp.path(), "sarif", &["envs/prod.yml"]);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let run = &sarif["runs"][0];
    let note = &run["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "note");
    assert_eq!(note["message"]["text"], "Read the YAML export envs/prod.yml.");
    assert_eq!(
        note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "envs/prod.yml"
    );
    // Two YAML exports of one folder are two analyses for code scanning.
    assert_eq!(run["automationDetails"]["id"], "claimlint/envs/prod.yml/");
}

#[test]
fn a_tenant_file_with_none_of_its_forms_keys_is_an_input_error() {
    let tmp = temp_dir();
    write(&tmp.path().join("k8s/tenant.yaml"), K8S_MANIFEST);
    write(
        &tmp.path().join("settings/tenant.json"),
        "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\"\n}\n",
    );
    write(
        &tmp.path().join("yaml-in-json/tenant.json"),
        "{\n  \"tenant\": { \"friendly_name\": \"Acme\" },\n  \"clients\": []\n}\n",
    );
    // Tenant settings are what a directory-form tenant.json holds: no error.
    write(
        &tmp.path().join("directory/tenant.json"),
        "{ \"friendly_name\": \"Acme\", \"flags\": { \"enable_legacy_profile\": false } }\n",
    );
    write(&tmp.path().join("empty/tenant.yaml"), "");
    let (code, json, stderr) = run_in(tmp.path(), &["."]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(json["summary"]["exports"], 5, "{json:#}");
    assert_input_errors_at(
        &json,
        &[
            ("k8s/tenant.yaml", 1, 1),
            ("settings/tenant.json", 2, 3),
            ("yaml-in-json/tenant.json", 2, 3),
        ],
    );
    assert_message_has(
        error_at(&json, "k8s/tenant.yaml", 1, 1),
        &[
            "not an a0deploy export: no `tenant`, `clients`, `connections`",
            "at the top level",
            "(found `apiVersion`, `kind`, `metadata`)",
        ],
    );
    assert_message_has(
        error_at(&json, "settings/tenant.json", 2, 3),
        &[
            "not an a0deploy tenant.json",
            "`friendly_name`, `flags`",
            "(found `apiVersion`, `kind`)",
        ],
    );
    assert_message_has(
        error_at(&json, "yaml-in-json/tenant.json", 2, 3),
        &["keys of the YAML form's tenant.yaml"],
    );
}

#[test]
fn a_yaml_file_without_a0deploy_keys_outside_every_export_is_refused() {
    let tmp = temp_dir();
    write(&tmp.path().join("deploy.yaml"), K8S_MANIFEST);
    write(&tmp.path().join("broken.yml"), "apiVersion: [v1\n");
    write(&tmp.path().join("empty.yaml"), "");
    let (code, json, _) = run_in(tmp.path(), &["deploy.yaml", "broken.yml", "empty.yaml"]);
    assert_eq!(code, 2);
    assert_eq!(json["exports"], serde_json::json!([]));
    assert_message_has(
        error_at(&json, "deploy.yaml", 1, 1),
        &[
            "not an a0deploy export",
            "(found `apiVersion`, `kind`, `metadata`)",
        ],
    );
    assert_message_has(
        error_at(&json, "empty.yaml", 1, 1),
        &["not an a0deploy export", "holds nothing"],
    );
    // A file that does not parse: its syntax error, and why it is not taken for an export.
    let broken: Vec<&Value> = input_errors(&json)
        .into_iter()
        .filter(|f| f["location"]["file"] == "broken.yml")
        .collect();
    assert!(broken.len() >= 2, "{json:#}");
    assert!(
        broken
            .iter()
            .any(|f| message(f).contains("not an a0deploy export")),
        "{json:#}"
    );
}

#[test]
fn a_folder_with_a_yaml_file_that_is_nearly_an_export_names_it() {
    let tmp = temp_dir();
    write(
        &tmp.path().join("envs/prod.yaml"),
        format!("{YAML_EXPORT}deployedBy: ci\n"),
    );
    let (code, json, _) = run_in(tmp.path(), &["envs"]);
    assert_eq!(code, 2);
    assert_message_has(
        error_at(&json, "envs", 1, 1),
        &[
            "no Auth0 export in this folder",
            "`envs/prod.yaml` has some of a0deploy's top-level keys",
            "name the file to lint it",
        ],
    );
    // Named, it is linted: a0deploy ignores the keys it does not know.
    let (code, json, _) = run_in(tmp.path(), &["envs/prod.yaml"]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["findings"][0]["policy"], "CL301");
}

// ---------------------------------------------------------------------------------------------
// Walking folders

/// The roots (and YAML files) of the exports `claimlint <paths>` lints in `dir`.
fn linted(dir: &Path, paths: &[&str]) -> Vec<String> {
    let (_, json, stderr) = run_in(dir, paths);
    json["exports"]
        .as_array()
        .unwrap_or_else(|| panic!("no report: {stderr}"))
        .iter()
        .map(|e| e["file"].as_str().or(e["root"].as_str()).unwrap().to_string())
        .collect()
}

#[test]
fn gitignored_folders_are_skipped_unless_named() {
    let tmp = temp_dir();
    let dir = tmp.path();
    // Written at test time: a committed .gitignore would hide these fixture files from git.
    write(&dir.join(".gitignore"), "build/\n*.bak/\n");
    write(&dir.join("tenants/.gitignore"), "old-*\n");
    write(&dir.join(".ignore"), "scratch\n");
    for export in [
        "live",
        "build/copy",
        "tenants/acme",
        "tenants/old-acme",
        "scratch",
        "prev.bak",
        ".cache/copy",
        "node_modules/pkg",
    ] {
        write(&dir.join(export).join("tenant.yaml"), YAML_EXPORT);
    }
    assert_eq!(linted(dir, &["."]), ["live", "tenants/acme"]);
    // Named on the command line, an ignored path is linted all the same (as in ruff).
    assert_eq!(linted(dir, &["build"]), ["build/copy"]);
    assert_eq!(linted(dir, &["tenants/old-acme"]), ["tenants/old-acme"]);
    assert_eq!(
        linted(dir, &["build/copy/tenant.yaml"]),
        ["build/copy"],
        "a file in an ignored folder lints its export"
    );
}

#[test]
fn gitignore_files_apply_without_a_git_repository_and_inside_one() {
    let tmp = temp_dir();
    let dir = tmp.path();
    write(&dir.join(".gitignore"), "generated/\n");
    write(&dir.join("generated/tenant.yaml"), YAML_EXPORT);
    write(&dir.join("source/tenant.yaml"), YAML_EXPORT);
    assert_eq!(linted(dir, &["."]), ["source"]);
    std::fs::create_dir(dir.join(".git")).unwrap();
    assert_eq!(linted(dir, &["."]), ["source"]);
}

#[cfg(unix)]
#[test]
fn a_symlinked_folder_is_not_followed_out_of_the_walk() {
    let tmp = temp_dir();
    write(&tmp.path().join("elsewhere/tenant.yaml"), YAML_EXPORT);
    write(&tmp.path().join("repo/live/tenant.yaml"), YAML_EXPORT);
    std::os::unix::fs::symlink("../elsewhere", tmp.path().join("repo/linked")).unwrap();
    assert_eq!(linted(&tmp.path().join("repo"), &["."]), ["live"]);
    // A folder that only links out holds no export claimlint reads.
    std::fs::remove_dir_all(tmp.path().join("repo/live")).unwrap();
    let (code, json, _) = run_in(&tmp.path().join("repo"), &["."]);
    assert_eq!(code, 2);
    assert_message_has(error_at(&json, ".", 1, 1), &["no Auth0 export in this folder"]);
}

// ---------------------------------------------------------------------------------------------
// `ignore:` patterns in .claimlint.yaml

#[test]
fn ignore_patterns_are_globs_and_one_that_covers_nothing_is_reported() {
    let tmp = temp_dir();
    let dir = tmp.path();
    for export in ["dev", "staging", "prod", "sandbox/a", "sandbox/b"] {
        write(&dir.join(export).join("tenant.yaml"), YAML_EXPORT);
    }
    write(
        &dir.join(".claimlint.yaml"),
        "ignore:\n  - \"{dev,staging}/**\"\n  - \"sandbox/[a]\"\n  - \"./sandbox/b/\"\n  - \"prod/tenant.json\"\n",
    );
    let (code, json, stderr) = run_in(dir, &["--fail-on", "warning", "."]);
    assert_eq!(code, 1, "{stderr}");
    let found: Vec<(&str, &str)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["policy"].as_str().unwrap(),
                f["location"]["file"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [("CL003", ".claimlint.yaml"), ("CL301", "prod/tenant.yaml")]
    );
    let unused = &json["findings"][0];
    assert_eq!(
        unused["message"],
        "ignore pattern `prod/tenant.json` matches no file of the export any more"
    );
    assert_eq!(unused["location"]["line"], 5);
    assert_eq!(unused["location"]["pointer"], "/ignore/3");
}

#[test]
fn an_invalid_glob_in_the_config_is_a_located_error() {
    let tmp = temp_dir();
    write(&tmp.path().join("export/tenant.yaml"), YAML_EXPORT);
    write(
        &tmp.path().join(".claimlint.yaml"),
        "ignore:\n  - \"export/[ab\"\nsuppressions:\n  - policy: CL301\n    file: \"export/{tenant.yaml\"\n    reason: \"legacy tenant\"\n",
    );
    let (code, json, _) = run_in(tmp.path(), &["export"]);
    assert_eq!(code, 2);
    assert_input_errors_at(&json, &[(".claimlint.yaml", 2, 5), (".claimlint.yaml", 5, 11)]);
    assert_message_has(
        error_at(&json, ".claimlint.yaml", 2, 5),
        &["`export/[ab` is not a valid glob", "unclosed character class"],
    );
    assert_message_has(
        error_at(&json, ".claimlint.yaml", 5, 11),
        &["`export/{tenant.yaml` is not a valid glob"],
    );
    // Nothing was linted: the legacy-profile warning is not reported.
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["policy"] == "CL001")
    );
}

#[test]
fn a_file_inside_an_export_lints_that_export() {
    let root = fixture("missing-script");
    let (code, json, _) = run(&[&format!("{root}/rules/Present.js")]);
    assert_eq!(code, 2);
    assert_eq!(
        json["exports"],
        serde_json::json!([{"root": root, "format": "directory"}])
    );
    assert_input_errors_at(
        &json,
        &[
            (&format!("{root}/rules/Missing.json"), 5, 13),
            (&format!("{root}/rules/Present.json"), 4, 12),
        ],
    );
    assert_eq!(files_read(&json), 4);
}

// ---------------------------------------------------------------------------------------------
// Keyword-replacement markers

#[test]
fn unresolved_keyword_markers_are_no_errors() {
    // JSON: bare `@@KEY@@` values; YAML: unquoted `##KEY##` and `@@KEY@@` values, a marker in a
    // flow list, and markers inside strings.
    let (code, json, stderr) = run(&[&fixture("keywords/directory"), &fixture("keywords/yaml")]);
    assert!(input_errors(&json).is_empty(), "{json:#}");
    assert_ne!(code, 2, "{stderr}");
    assert_eq!(files_read(&json), 3);
}

#[test]
fn keyword_mappings_are_substituted_before_checking() {
    // The mapping gives `LEGACY_PROFILE` the string "yes": once substituted, the flag has the
    // wrong type, which proves the substitution happened (and happened before parsing).
    let (code, json, _) = run(&[
        "--keywords",
        &fixture("keywords/mappings.json"),
        &fixture("keywords/directory"),
        &fixture("keywords/yaml"),
    ]);
    assert_eq!(code, 2);
    let tenant_json = format!("{}/tenant.json", fixture("keywords/directory"));
    let tenant_yaml = format!("{}/tenant.yaml", fixture("keywords/yaml"));
    assert_input_errors_at(&json, &[(&tenant_json, 4, 30), (&tenant_yaml, 4, 28)]);
    for (file, column) in [(&tenant_json, 30), (&tenant_yaml, 28)] {
        let flag = error_at(&json, file, 4, column);
        assert_message_has(
            flag,
            &["`enable_legacy_profile`", "true or false", "found a string"],
        );
        assert!(
            flag["location"]["pointer"]
                .as_str()
                .unwrap()
                .ends_with("/flags/enable_legacy_profile")
        );
    }
}

#[test]
fn a_keyword_file_that_is_not_a_mapping_exits_2() {
    let tmp = temp_dir();
    let mappings: PathBuf = tmp.path().join("mappings.json");
    write(&mappings, "[\"not\", \"an\", \"object\"]");
    let (code, json, stderr) = run(&[
        "--keywords",
        mappings.to_str().unwrap(),
        &fixture("keywords/directory"),
    ]);
    assert_eq!(code, 2);
    assert_eq!(json, Value::Null);
    assert!(stderr.contains("found a list"), "{stderr}");
}
