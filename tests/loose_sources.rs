//! Loose rule, action and hook scripts (no a0deploy export around them) load as `sources`
//! exports: which files are recognised, which folders are export roots, what the loaded tenant
//! holds, and how the run reports them.

use std::path::{Path, PathBuf};

use claimlint::load::discover::{Refusal, discover, sources_at};
use claimlint::load::load_export;
use claimlint::load::sources::{LooseKind, recognise};
use claimlint::model::{ExportFormat, Tenant};
use claimlint::source::SourceMap;
use claimlint::syntax::keywords::KeywordMap;
use claimlint::{CheckOptions, INPUT_ERROR};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn loose(path: &str) -> PathBuf {
    fixtures().join("loose-sources").join(path)
}

/// `path` relative to `base`, with forward slashes.
fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every export root found under `paths`, relative to `base`, with its format and the names of
/// its loose scripts.
fn roots(paths: &[PathBuf], base: &Path) -> Vec<(String, ExportFormat, Vec<String>)> {
    discover(paths)
        .exports
        .iter()
        .map(|e| {
            let scripts = e.scripts.iter().map(|s| relative(&s.path, &e.root)).collect();
            (relative(&e.root, base), e.format, scripts)
        })
        .collect()
}

/// Loads the one export found at `path`; returns it with its input errors' messages.
fn load_one(path: &Path) -> (Tenant, Vec<String>, SourceMap) {
    let found = discover(&[path.to_path_buf()]);
    assert_eq!(found.exports.len(), 1, "{path:?}: {:?}", found.exports);
    let mut sources = SourceMap::default();
    let loaded = load_export(
        &found.exports[0],
        &KeywordMap::default(),
        &mut sources,
        Path::new(env!("CARGO_MANIFEST_DIR")),
    );
    let errors = loaded.errors.iter().map(|e| e.message.clone()).collect();
    (loaded.tenant, errors, sources)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// Discovery

#[test]
fn discovery_finds_each_folder_of_scripts_as_one_sources_export() {
    let base = loose("");
    let found = roots(std::slice::from_ref(&base), &base);
    let sources = ExportFormat::Sources;
    assert_eq!(
        found,
        vec![
            (
                "actions".into(),
                sources,
                strings(&["add-department.js", "m2m-tenant.js"])
            ),
            ("hooks".into(), sources, strings(&["client-credentials.js"])),
            (
                "mixed".into(),
                sources,
                strings(&["hook.js", "only-a-rule.js", "post-login.js"])
            ),
            (
                "repo/src/rules".into(),
                sources,
                strings(&["01-enrich.js", "02-refresh.js"])
            ),
            (
                "rules".into(),
                sources,
                strings(&["add-country.js", "add-roles.js", "plain-claim.js"])
            ),
        ],
        "helpers.js, README.js, lib/util.js and not-auth0.js are no Auth0 scripts"
    );
}

#[test]
fn a_repository_root_finds_its_script_folder_and_skips_other_javascript() {
    let repo = loose("repo");
    assert_eq!(
        roots(std::slice::from_ref(&repo), &repo),
        vec![(
            "src/rules".into(),
            ExportFormat::Sources,
            strings(&["01-enrich.js", "02-refresh.js"])
        )]
    );
    // The folder of scripts itself is an export root too.
    assert!(sources_at(&repo.join("src/rules")).is_some());
    assert!(sources_at(&repo.join("lib")).is_none());
    assert!(sources_at(&repo).is_none());
}

#[test]
fn a_folder_inside_an_a0deploy_export_is_not_a_sources_export() {
    let export = fixtures().join("claim-namespace/directory");
    for inside in ["rules", "hooks", "actions/Add loyalty claims"] {
        let found = discover(&[export.join(inside)]);
        assert!(found.exports.is_empty(), "{inside}: {:?}", found.exports);
        assert_eq!(found.refused.len(), 1);
        assert_eq!(found.refused[0].reason, Refusal::FolderWithoutExport);
    }
    // Its scripts on their own lint the export that holds them.
    let rule = export.join("rules/Add roles to tokens.js");
    let base = fixtures();
    assert_eq!(
        roots(&[rule], &base),
        vec![(
            "claim-namespace/directory".into(),
            ExportFormat::Directory,
            Vec::new()
        )]
    );
    // Walking a folder of exports finds the exports and no script folder inside them.
    let base = fixtures().join("claim-namespace");
    let found = roots(std::slice::from_ref(&base), &base);
    let formats: Vec<(&str, ExportFormat)> = found.iter().map(|(r, f, _)| (r.as_str(), *f)).collect();
    assert_eq!(
        formats,
        [
            ("directory", ExportFormat::Directory),
            ("yaml", ExportFormat::Yaml)
        ]
    );
}

#[test]
fn a_single_script_is_an_export_of_that_file_alone() {
    let base = loose("");
    let file = loose("rules/add-roles.js");
    assert_eq!(
        roots(std::slice::from_ref(&file), &base),
        vec![("rules".into(), ExportFormat::Sources, strings(&["add-roles.js"]))]
    );
    // Two scripts of one folder (as pre-commit passes them) are one export.
    let other = loose("rules/plain-claim.js");
    assert_eq!(
        roots(&[other, file.clone()], &base),
        vec![(
            "rules".into(),
            ExportFormat::Sources,
            strings(&["add-roles.js", "plain-claim.js"])
        )]
    );
    // The folder and a file in it: the folder's scripts, once.
    assert_eq!(
        roots(&[file, loose("rules")], &base),
        vec![(
            "rules".into(),
            ExportFormat::Sources,
            strings(&["add-country.js", "add-roles.js", "plain-claim.js"])
        )]
    );
}

#[test]
fn a_file_that_is_no_auth0_script_in_a_folder_of_scripts_lints_that_folder() {
    let base = fixtures().join("loose-sources");
    for (file, root) in [("rules/helpers.js", "rules"), ("actions/README.js", "actions")] {
        let found = roots(&[loose(file)], &base);
        assert_eq!(found.len(), 1, "{file}: {found:?}");
        assert_eq!(
            (found[0].0.as_str(), found[0].1),
            (root, ExportFormat::Sources),
            "{file}"
        );
        assert!(
            !found[0].2.contains(&file.rsplit('/').next().unwrap().to_string()),
            "{file}"
        );
    }
}

#[test]
fn a_file_that_is_no_auth0_script_outside_every_export_is_refused() {
    for file in ["not-auth0.js", "repo/lib/util.js", "repo/package.json"] {
        let found = discover(&[loose(file)]);
        assert!(found.exports.is_empty(), "{file}");
        assert_eq!(found.refused[0].reason, Refusal::FileOutsideExport, "{file}");
        let run = claimlint::check(&CheckOptions {
            paths: vec![loose(file)],
            jobs: Some(1),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(run.report.exports.is_empty(), "{file}");
        assert_eq!(run.report.summary.files, 0, "{file}");
        let [error] = run.report.findings.as_slice() else {
            panic!("{file}: {:?}", run.report.findings);
        };
        assert_eq!(error.policy, INPUT_ERROR.0, "{file}");
        assert!(
            error.location.file.ends_with(file),
            "{file}: {}",
            error.location.file
        );
        assert!(error.message.contains("in no Auth0 export"), "{}", error.message);
        assert!(run.has_input_errors(), "{file}: exits 2");
    }
}

#[cfg(unix)]
#[test]
fn discovery_reads_nothing_through_a_link_out_of_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(tmp.path().join("outside")).unwrap();
    let rule = "function (user, context, callback) { callback(null, user, context); }\n";
    std::fs::write(rules.join("a.js"), rule).unwrap();
    std::fs::write(tmp.path().join("outside/secret.js"), rule).unwrap();
    std::os::unix::fs::symlink("../outside/secret.js", rules.join("linked.js")).unwrap();
    assert_eq!(
        roots(std::slice::from_ref(&rules), tmp.path()),
        vec![("rules".into(), ExportFormat::Sources, strings(&["a.js"]))]
    );
}

// ---------------------------------------------------------------------------------------------
// Loading

#[test]
fn rule_files_load_as_enabled_rules_in_file_order() {
    let (tenant, errors, sources) = load_one(&loose("rules"));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(tenant.format, ExportFormat::Sources);
    assert!(tenant.is_loose_sources());
    assert!(tenant.clients.is_empty() && tenant.connections.is_empty());
    assert!(tenant.settings.is_none());
    let rules: Vec<(&str, bool, Option<i64>, Option<&str>)> = tenant
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.enabled, r.order, r.stage.as_deref()))
        .collect();
    assert_eq!(
        rules,
        [
            ("add-country", true, Some(1), Some("login_success")),
            ("add-roles", true, Some(2), Some("login_success")),
            ("plain-claim", true, Some(3), Some("login_success")),
        ]
    );
    for rule in &tenant.rules {
        let script = rule.script.as_ref().expect("a script");
        let file = script.file.expect("read");
        assert_eq!(rule.loc.file, file, "{} points at its script", rule.name);
        let path = &sources.get(file).path;
        assert_eq!(path.file_stem().unwrap().to_string_lossy(), rule.name);
        assert!(script.text.contains("callback") || script.text.contains("cb("));
    }
    // The location is the function head, after the leading comments.
    let country = &tenant.rules[0];
    let text = &country.script.as_ref().unwrap().text;
    let head = &text[country.loc.span.start as usize..country.loc.span.end as usize];
    assert_eq!(head, "function addCountry(user, context, callback)");
    assert!(tenant.actions.is_empty() && tenant.hooks.is_empty() && tenant.triggers.is_empty());
}

#[test]
fn actions_are_deployed_and_bound_to_their_triggers() {
    let (tenant, errors, _) = load_one(&loose("actions"));
    assert!(errors.is_empty(), "{errors:?}");
    let actions: Vec<(&str, bool, Vec<&str>)> = tenant
        .actions
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.deployed,
                a.supported_triggers.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("add-department", true, vec!["post-login"]),
            ("m2m-tenant", true, vec!["credentials-exchange"]),
        ]
    );
    let bindings: Vec<(&str, &str)> = tenant
        .triggers
        .iter()
        .map(|t| (t.trigger.as_str(), t.action_name.as_str()))
        .collect();
    assert_eq!(
        bindings,
        [
            ("post-login", "add-department"),
            ("credentials-exchange", "m2m-tenant"),
        ]
    );
    for action in &tenant.actions {
        assert_eq!(Some(action.loc.file), action.code.as_ref().unwrap().file);
    }
    assert!(tenant.rules.is_empty() && tenant.hooks.is_empty());
}

#[test]
fn hooks_are_enabled_credentials_exchange_hooks() {
    let (tenant, errors, _) = load_one(&loose("hooks"));
    assert!(errors.is_empty(), "{errors:?}");
    let hooks: Vec<(&str, bool, Option<&str>)> = tenant
        .hooks
        .iter()
        .map(|h| (h.name.as_str(), h.enabled, h.trigger_id.as_deref()))
        .collect();
    assert_eq!(
        hooks,
        [("client-credentials", true, Some("credentials-exchange"))]
    );
    assert!(
        tenant.hooks[0]
            .script
            .as_ref()
            .unwrap()
            .text
            .contains("access_token")
    );
}

#[test]
fn one_folder_may_mix_rules_actions_and_hooks() {
    let (tenant, errors, _) = load_one(&loose("mixed"));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(tenant.rules.len(), 1);
    assert_eq!(tenant.rules[0].order, Some(1));
    assert_eq!(tenant.hooks.len(), 1);
    assert_eq!(tenant.actions.len(), 1);
    // `onExecutePostLogin` and `onContinuePostLogin`: one action, one post-login binding.
    assert_eq!(tenant.actions[0].supported_triggers, ["post-login"]);
    assert_eq!(tenant.triggers.len(), 1);
}

#[test]
fn a_single_script_loads_only_that_file() {
    let (tenant, errors, _) = load_one(&loose("rules/plain-claim.js"));
    assert!(errors.is_empty(), "{errors:?}");
    let names: Vec<&str> = tenant.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["plain-claim"]);
    assert_eq!(tenant.rules[0].order, Some(1));
}

#[test]
fn an_unreadable_script_is_a_located_error_and_the_rest_still_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("a.js"),
        "function (user, context, callback) { callback(null, user, context); }\n",
    )
    .unwrap();
    // Latin-1 in a comment: still recognisable, but not UTF-8.
    let latin1 = b"// caf\xe9\nfunction (user, context, callback) {\n  callback(null, user, context);\n}\n";
    std::fs::write(rules.join("b.js"), latin1).unwrap();
    let run = claimlint::check(&CheckOptions {
        paths: vec![rules.clone()],
        jobs: Some(1),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(run.report.exports.len(), 1);
    assert_eq!(run.report.exports[0].format, ExportFormat::Sources);
    assert_eq!(run.report.summary.files, 2);
    let errors: Vec<_> = run
        .report
        .findings
        .iter()
        .filter(|f| f.policy == INPUT_ERROR.0)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains("UTF-8"), "{}", errors[0].message);
    assert!(errors[0].location.file.ends_with("b.js"));
    assert_eq!((errors[0].location.line, errors[0].location.column), (1, 7));
    let (tenant, _, _) = load_one(&rules);
    let names: Vec<&str> = tenant.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

// ---------------------------------------------------------------------------------------------
// The run and its output

#[test]
fn loose_scripts_are_checked_for_partial_connection_updates() {
    let tmp = tempfile::tempdir().unwrap();
    let actions = tmp.path().join("actions");
    std::fs::create_dir_all(&actions).unwrap();
    std::fs::write(
        actions.join("deny-ssn.js"),
        "exports.onExecutePostLogin = async (event, api) => {\n  \
         await management.connections.update({ id: event.connection.id }, { options: { non_persistent_attrs: ['ssn'] } });\n};\n",
    )
    .unwrap();
    let run = claimlint::check(&CheckOptions {
        paths: vec![actions.clone()],
        jobs: Some(1),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(run.report.exports[0].format, ExportFormat::Sources);
    let found: Vec<_> = run
        .report
        .findings
        .iter()
        .filter(|f| f.policy == "CL205")
        .collect();
    assert_eq!(found.len(), 1, "{:?}", run.report.findings);
    assert_eq!((found[0].location.line, found[0].location.column), (2, 70));
}

#[test]
fn json_output_lists_sources_exports_and_matches_the_schema() {
    let run = claimlint::check(&CheckOptions {
        paths: vec![
            PathBuf::from("tests/fixtures/loose-sources/rules"),
            PathBuf::from("tests/fixtures/loose-sources/actions/add-department.js"),
        ],
        jobs: Some(1),
        ..Default::default()
    })
    .expect("loose sources are an export");
    let report: Value = serde_json::from_str(&claimlint::report::json::render(&run.report)).unwrap();
    assert_eq!(
        report["exports"],
        serde_json::json!([
            {"root": "tests/fixtures/loose-sources/actions", "format": "sources"},
            {"root": "tests/fixtures/loose-sources/rules", "format": "sources"},
        ])
    );
    assert_eq!(report["summary"]["files"], 4);
    let input_errors: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["policy"] == INPUT_ERROR.0)
        .collect();
    assert!(input_errors.is_empty(), "{input_errors:?}");

    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/output.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let problems: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(problems.is_empty(), "{}\n{report:#}", problems.join("\n"));
}

#[test]
fn the_command_line_lints_a_folder_of_rules_and_a_single_rule() {
    for path in [
        "tests/fixtures/loose-sources/rules",
        "tests/fixtures/loose-sources/rules/add-country.js",
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_claimlint"))
            .args([path, "--format", "json"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("claimlint runs");
        let code = output.status.code().expect("claimlint exited normally");
        assert!(
            code == 0 || code == 1,
            "{path}: exit {code}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
        assert_eq!(
            report["exports"],
            serde_json::json!([{"root": "tests/fixtures/loose-sources/rules", "format": "sources"}]),
            "{path}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The signature recogniser

fn kind(text: &str) -> Option<LooseKind> {
    recognise(text).map(|r| r.kind)
}

/// The text of the recognised signature.
fn signature(text: &str) -> &str {
    let found = recognise(text).unwrap_or_else(|| panic!("not recognised:\n{text}"));
    &text[found.span.start as usize..found.span.end as usize]
}

fn action(triggers: &[&'static str]) -> Option<LooseKind> {
    Some(LooseKind::Action {
        triggers: triggers.to_vec(),
    })
}

#[test]
fn rules_are_a_three_parameter_function_after_comments() {
    let rules = [
        "function (user, context, callback) {\n  callback(null, user, context);\n}\n",
        "function(u,c,cb){cb(null,u,c)}",
        "function addRoles(user, context, callback) { callback(null, user, context); }",
        "async function (user, context, callback) { callback(null, user, context); }",
        "async function named(a, b, c) {}",
        "/** @title x\n * function (a) {} in a comment\n */\n// line comment\n\n\tfunction (user, context, callback) {}\n",
        "/* a */ /* b */ function /* c */ ( user /* d */, context,\n callback ) { }",
        "#!/usr/bin/env node\nfunction (user, context, callback) {}",
        "function (user, context, callback,) {}",
        // Braces inside strings, templates, comments and regular expressions do not count.
        "function (user, context, callback) {\n  const a = '}'; const b = `}${ {x: 1}.x }}`; // }\n  if (/}/.test(a)) { callback(); }\n}\n",
        "function (user, context, callback) {};\n",
        // A body that never closes is still a rule (its syntax error is reported later).
        "function (user, context, callback) {\n  if (x) {\n",
    ];
    for text in rules {
        assert_eq!(kind(text), Some(LooseKind::Rule), "{text}");
    }
    assert_eq!(
        signature("// x\nasync  function  addRoles (user, context, callback) {}"),
        "async  function  addRoles (user, context, callback)"
    );
}

#[test]
fn what_is_not_a_rule() {
    let not_rules = [
        "",
        "// function (user, context, callback) {}",
        "/* function (user, context, callback) {} */",
        "'function (user, context, callback) {}'",
        // Arrow functions are not rules.
        "(user, context, callback) => { callback(null, user, context); }",
        "async (user, context, callback) => {}",
        "const rule = (user, context, callback) => {};",
        // Wrong number or kind of parameters.
        "function (user, context) {}",
        "function (user, context, callback, extra) {}",
        "function ({ user }, context, callback) {}",
        "function (user, context, callback = noop) {}",
        "function* gen(a, b, c) {}",
        // Not first: some other code comes before.
        "'use strict';\nfunction (user, context, callback) {}",
        "var x = 1;\nfunction rule(user, context, callback) {}",
        // A library that merely starts with a three-parameter function.
        "function pick(a, b, c) { return a; }\nmodule.exports = { pick };\n",
        "functional(user, context, callback)",
    ];
    for text in not_rules {
        assert_ne!(kind(text), Some(LooseKind::Rule), "{text}");
    }
}

#[test]
fn actions_assign_a_trigger_handler_to_exports() {
    assert_eq!(
        kind("exports.onExecutePostLogin = async (event, api) => {};"),
        action(&["post-login"])
    );
    assert_eq!(
        kind("/** docs */\nexports . onContinuePostLogin=async function (event, api) {};"),
        action(&["post-login"])
    );
    assert_eq!(
        kind("module.exports.onExecuteCredentialsExchange = async (event, api) => {};"),
        action(&["credentials-exchange"])
    );
    for (handler, trigger) in [
        ("onExecutePreUserRegistration", "pre-user-registration"),
        ("onExecutePostUserRegistration", "post-user-registration"),
        ("onExecutePostChangePassword", "post-change-password"),
        ("onExecuteSendPhoneMessage", "send-phone-message"),
    ] {
        let text = format!("const helper = 1;\nexports.{handler} = async (event, api) => {{}};\n");
        assert_eq!(kind(&text), action(&[trigger]), "{text}");
    }
    // Both post-login handlers: one trigger. Two triggers: both, in a fixed order.
    assert_eq!(
        kind("exports.onContinuePostLogin = f;\nexports.onExecutePostLogin = g;"),
        action(&["post-login"])
    );
    assert_eq!(
        kind("exports.onExecuteCredentialsExchange = f;\nexports.onExecutePostLogin = g;"),
        action(&["post-login", "credentials-exchange"])
    );
    assert_eq!(
        signature("// header\nexports.onExecutePostLogin = async (event, api) => {};"),
        "exports.onExecutePostLogin"
    );
}

#[test]
fn what_is_not_an_action() {
    let not_actions = [
        "// exports.onExecutePostLogin = async (event, api) => {};",
        "/* exports.onExecutePostLogin = x */",
        "const s = 'exports.onExecutePostLogin = x';",
        "const t = `exports.onExecutePostLogin = ${x}`;",
        "if (exports.onExecutePostLogin == null) {}",
        "exports.onExecutePostLogin(event, api);",
        "exports.onExecutePostLoginLater = async () => {};",
        "myexports.onExecutePostLogin = f;",
        "exports.onSomethingElse = async () => {};",
        "const { onExecutePostLogin } = require('./action');",
    ];
    for text in not_actions {
        assert_eq!(kind(text), None, "{text}");
    }
}

#[test]
fn hooks_export_a_five_parameter_function() {
    let hooks = [
        "module.exports = function (client, scope, audience, context, cb) { cb(null, {}); };",
        "module.exports = async function (client, scope, audience, context, cb) {};",
        "module.exports = async function hook(a, b, c, d, e) {};",
        "/* hook */\nmodule . exports=function(client,scope,audience,context,callback){}",
        "'use strict';\nconst ns = 'https://x.com/';\nmodule.exports = function (client, scope, audience, context, cb) {};",
    ];
    for text in hooks {
        assert_eq!(kind(text), Some(LooseKind::Hook), "{text}");
    }
    assert_eq!(
        signature("// x\nmodule.exports = async function (client, scope, audience, context, cb) {};"),
        "module.exports = async function (client, scope, audience, context, cb)"
    );
    let not_hooks = [
        // Other hook types and other exports.
        "module.exports = function (user, context, cb) {};",
        "module.exports = function (recipient, text, context, cb) {};",
        "module.exports = (client, scope, audience, context, cb) => {};",
        "module.exports = { hook: function (client, scope, audience, context, cb) {} };",
        "// module.exports = function (client, scope, audience, context, cb) {};",
        "if (module.exports == function (client, scope, audience, context, cb) {}) {}",
    ];
    for text in not_hooks {
        assert_eq!(kind(text), None, "{text}");
    }
}
