//! Properties that hold for every tenant, checked on generated ones (proptest): the output does
//! not depend on the number of worker threads or on the export's form, a claim namespaced under
//! a host that is not Auth0's is never reported as unnamespaced, rendering never lets a control
//! character from the export through, and loading never opens a file outside the export root
//! (watched with inotify).

use std::collections::BTreeMap;
use std::path::Path;

use claimlint::report::{concise, github, human, json};
use claimlint::{CheckOptions, CheckRun};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

/// A generated tenant: rules (name, body statements), clients (name, OIDC-conformant, type) and
/// one database connection's deny list.
#[derive(Debug, Clone)]
struct Tenant {
    rules: Vec<(String, Vec<String>)>,
    clients: Vec<(String, bool, &'static str)>,
    deny_list: Vec<&'static str>,
}

const CLAIMS: [&str; 8] = [
    "role",
    "https://example.com/role",
    "https://acme.eu.auth0.com/tier",
    "http://app.example.org/groups",
    "gender",
    "sub",
    "https://example.com/email",
    "favorite_color",
];

const VALUES: [&str; 6] = [
    "user.email",
    "user.app_metadata.role",
    "user.user_metadata.favorite_color",
    "context.clientName",
    "'fixed'",
    "user.app_metadata.groups || []",
];

fn statement() -> impl Strategy<Value = String> {
    let claim = prop::sample::select(CLAIMS.to_vec());
    let value = prop::sample::select(VALUES.to_vec());
    let token = prop::sample::select(vec!["idToken", "accessToken"]);
    (0..5usize, claim, value, token, "[A-Z][a-z]{2,6}").prop_map(|(kind, claim, value, token, client)| {
        match kind {
            0 | 1 => format!("context.{token}['{claim}'] = {value};"),
            2 => {
                format!("if (context.clientName === '{client}') {{ context.{token}['{claim}'] = {value}; }}")
            }
            3 => format!(
                "user.app_metadata.{} = {value};",
                claim.rsplit('/').next().unwrap_or("x")
            ),
            _ => "if (context.protocol === 'oauth2-refresh-token') { return callback(null, user, context); }"
                .to_string(),
        }
    })
}

fn tenant() -> impl Strategy<Value = Tenant> {
    let app_type = prop::sample::select(vec!["spa", "regular_web", "non_interactive", "native"]);
    let deny = prop::sample::subsequence(
        vec![
            "family_name",
            "user_metadata.favorite_color",
            "app_metadata",
            "email",
        ],
        0..3,
    );
    (
        prop::collection::btree_map("[a-z]{3,8}", prop::collection::vec(statement(), 1..5), 1..4),
        prop::collection::btree_map("[A-Z][a-z]{2,6}", (any::<bool>(), app_type), 1..4),
        deny,
    )
        .prop_map(|(rules, clients, deny_list)| Tenant {
            rules: rules.into_iter().collect(),
            clients: clients.into_iter().map(|(n, (o, t))| (n, o, t)).collect(),
            deny_list,
        })
}

fn script(body: &[String]) -> String {
    format!(
        "function (user, context, callback) {{\n  {}\n  callback(null, user, context);\n}}\n",
        body.join("\n  ")
    )
}

fn client_json(name: &str, oidc: bool, app_type: &str) -> serde_json::Value {
    let grants: &[&str] = if app_type == "non_interactive" {
        &["client_credentials"]
    } else {
        &["authorization_code", "refresh_token"]
    };
    serde_json::json!({"name": name, "oidc_conformant": oidc, "app_type": app_type, "grant_types": grants})
}

fn connection_json(tenant: &Tenant) -> serde_json::Value {
    let clients: Vec<&str> = tenant.clients.iter().map(|c| c.0.as_str()).collect();
    serde_json::json!({
        "name": "Username-Password-Authentication",
        "strategy": "auth0",
        "enabled_clients": clients,
        "options": {"non_persistent_attrs": tenant.deny_list},
    })
}

/// Writes the tenant in directory form under `dir`.
fn write_directory(tenant: &Tenant, dir: &Path) {
    for folder in [
        "rules",
        "clients",
        "database-connections/Username-Password-Authentication",
    ] {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
    }
    std::fs::write(dir.join("tenant.json"), r#"{"friendly_name": "generated"}"#).unwrap();
    for (order, (name, body)) in tenant.rules.iter().enumerate() {
        std::fs::write(dir.join(format!("rules/{name}.js")), script(body)).unwrap();
        let meta = serde_json::json!({"name": name, "enabled": true, "order": order + 1});
        std::fs::write(dir.join(format!("rules/{name}.json")), meta.to_string()).unwrap();
    }
    for (name, oidc, app_type) in &tenant.clients {
        let json = client_json(name, *oidc, app_type);
        std::fs::write(dir.join(format!("clients/{name}.json")), json.to_string()).unwrap();
    }
    std::fs::write(
        dir.join("database-connections/Username-Password-Authentication/database.json"),
        connection_json(tenant).to_string(),
    )
    .unwrap();
}

/// Writes the same tenant in YAML form (`tenant.yaml`, scripts under `rules/`).
fn write_yaml(tenant: &Tenant, dir: &Path) {
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    let rules: Vec<serde_json::Value> = tenant
        .rules
        .iter()
        .enumerate()
        .map(|(order, (name, body))| {
            std::fs::write(dir.join(format!("rules/{name}.js")), script(body)).unwrap();
            serde_json::json!({"name": name, "script": format!("./rules/{name}.js"), "enabled": true, "order": order + 1})
        })
        .collect();
    let clients: Vec<serde_json::Value> = tenant
        .clients
        .iter()
        .map(|(n, o, t)| client_json(n, *o, t))
        .collect();
    // JSON is YAML: the whole document is written as one JSON object.
    let doc = serde_json::json!({
        "tenant": {"friendly_name": "generated"},
        "rules": rules,
        "clients": clients,
        "connections": [connection_json(tenant)],
    });
    std::fs::write(dir.join("tenant.yaml"), doc.to_string()).unwrap();
}

fn check(dir: &Path, jobs: usize) -> CheckRun {
    claimlint::check(&CheckOptions {
        paths: vec![dir.to_path_buf()],
        jobs: Some(jobs),
        ..CheckOptions::default()
    })
    .expect("claimlint runs")
}

/// The findings as (policy, message), sorted: what must not depend on the export's form.
fn findings(run: &CheckRun) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = run
        .report
        .findings
        .iter()
        .map(|f| (f.policy.clone(), f.message.clone()))
        .collect();
    all.sort();
    all
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn output_is_the_same_with_one_or_many_workers(tenant in tenant()) {
        let dir = tempfile::tempdir().unwrap();
        write_directory(&tenant, dir.path());
        let one = json::render(&check(dir.path(), 1).report);
        let many = json::render(&check(dir.path(), 4).report);
        prop_assert_eq!(one, many);
    }

    #[test]
    fn yaml_and_directory_forms_give_the_same_findings(tenant in tenant()) {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write_directory(&tenant, a.path());
        write_yaml(&tenant, b.path());
        let directory = check(a.path(), 1);
        let yaml = check(b.path(), 1);
        prop_assert!(!directory.has_input_errors(), "{:?}", findings(&directory));
        prop_assert!(!yaml.has_input_errors(), "{:?}", findings(&yaml));
        prop_assert_eq!(findings(&directory), findings(&yaml));
    }

    #[test]
    fn claims_namespaced_under_another_host_are_never_unnamespaced(
        host in "[a-z]{1,10}(\\.[a-z]{2,8}){1,3}",
        path in "[a-z_]{1,10}(/[a-z_]{1,8}){0,2}",
        scheme in prop::sample::select(vec!["https", "http"]),
        token in prop::sample::select(vec!["idToken", "accessToken"]),
    ) {
        prop_assume!(!host.ends_with("auth0.com") && !host.ends_with("webtask.io") && !host.ends_with("auth0.io"));
        let claim = format!("{scheme}://{host}/{path}");
        let tenant = Tenant {
            rules: vec![("ns".into(), vec![format!("context.{token}['{claim}'] = user.email;")])],
            clients: vec![("App".into(), true, "regular_web")],
            deny_list: Vec::new(),
        };
        let dir = tempfile::tempdir().unwrap();
        write_directory(&tenant, dir.path());
        let run = check(dir.path(), 1);
        let flagged: Vec<_> = run.report.findings.iter().filter(|f| f.policy == "CL101" || f.policy == "CL102").collect();
        prop_assert!(flagged.is_empty(), "{claim}: {flagged:?}");
    }

    #[test]
    fn rendering_never_lets_a_control_character_through(
        claim in "\\PC{0,4}[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202e}]{1,3}\\PC{0,4}",
        name in "\\PC{0,6}[\\x00-\\x1f]{0,2}",
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("rules")).unwrap();
        std::fs::write(dir.path().join("tenant.json"), "{}").unwrap();
        let literal = serde_json::to_string(&claim).unwrap();
        std::fs::write(dir.path().join("rules/a.js"), script(&[format!("context.idToken[{literal}] = 1;")])).unwrap();
        let meta = serde_json::json!({"name": name, "enabled": true, "order": 1});
        std::fs::write(dir.path().join("rules/a.json"), meta.to_string()).unwrap();
        let run = check(dir.path(), 1);
        let report = &run.report;
        for text in [
            human::render(report, &run.sources, &human::Style::default()),
            concise::render(report),
            github::render(report),
        ] {
            let bad = text.chars().find(|&c| c != '\n' && (c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)));
            prop_assert!(bad.is_none(), "{:?} in {}", bad, text);
        }
    }

    #[test]
    fn loading_never_opens_a_file_outside_the_root(
        references in prop::collection::vec(prop::sample::select(vec![
            "../outside/secret.js",
            "../../outside/secret.js",
            "./../outside/secret.js",
            "rules/../../outside/secret.js",
            "OUTSIDE_ABSOLUTE",
            "./link.js",
            "./linked-folder/secret.js",
            "..\\outside\\secret.js",
            "./a.js",
        ]), 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("secret.js"), "OUTSIDE-SECRET").unwrap();
        let export = dir.path().join("export");
        std::fs::create_dir_all(export.join("rules")).unwrap();
        std::fs::write(export.join("tenant.json"), "{}").unwrap();
        std::fs::write(export.join("rules/a.js"), script(&[])).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.js"), export.join("rules/link.js")).unwrap();
        std::os::unix::fs::symlink(&outside, export.join("rules/linked-folder")).unwrap();
        let absolute = outside.join("secret.js").display().to_string();
        // In the YAML form, script paths are the export's own references.
        let rules: Vec<serde_json::Value> = references
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let script = if *r == "OUTSIDE_ABSOLUTE" { absolute.clone() } else { r.replace("./", "./rules/") };
                serde_json::json!({"name": format!("r{i}"), "script": script, "enabled": true, "order": i + 1})
            })
            .collect();
        std::fs::remove_file(export.join("tenant.json")).unwrap();
        std::fs::write(export.join("tenant.yaml"), serde_json::json!({"rules": rules}).to_string()).unwrap();
        let watch = OpenWatch::new(&outside);
        let run = check(&export, 1);
        let opened = watch.opened();
        prop_assert!(opened.is_empty(), "opened outside the root: {opened:?}");
        let text = json::render(&run.report);
        prop_assert!(!text.contains("OUTSIDE-SECRET"));
    }
}

/// Reports the files of one folder that anything opened since it was created (inotify
/// `IN_OPEN`), the instrumented file access of the last property.
struct OpenWatch {
    fd: i32,
}

impl OpenWatch {
    fn new(folder: &Path) -> OpenWatch {
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: plain system calls; the path is NUL-terminated and outlives the call.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(fd >= 0, "inotify_init1 failed");
        let path = std::ffi::CString::new(folder.as_os_str().as_bytes()).unwrap();
        let watch = unsafe { libc::inotify_add_watch(fd, path.as_ptr(), libc::IN_OPEN | libc::IN_ACCESS) };
        assert!(watch >= 0, "inotify_add_watch failed");
        OpenWatch { fd }
    }

    /// Names (or the folder itself, as ".") opened since the watch began.
    fn opened(&self) -> BTreeMap<String, u32> {
        let mut seen = BTreeMap::new();
        let mut buffer = [0u8; 4096];
        loop {
            // SAFETY: reads into a buffer of the given length.
            let n = unsafe { libc::read(self.fd, buffer.as_mut_ptr().cast(), buffer.len()) };
            if n <= 0 {
                break;
            }
            let mut at = 0usize;
            let header = std::mem::size_of::<libc::inotify_event>();
            while at + header <= n as usize {
                // SAFETY: the kernel wrote whole events; read_unaligned copes with the packing.
                let event: libc::inotify_event =
                    unsafe { std::ptr::read_unaligned(buffer[at..].as_ptr().cast()) };
                let name_bytes = &buffer[at + header..at + header + event.len as usize];
                let name = String::from_utf8_lossy(name_bytes)
                    .trim_end_matches('\0')
                    .to_string();
                *seen
                    .entry(if name.is_empty() { ".".into() } else { name })
                    .or_insert(0) |= event.mask;
                at += header + event.len as usize;
            }
        }
        seen
    }
}

impl Drop for OpenWatch {
    fn drop(&mut self) {
        // SAFETY: closes the descriptor opened in `new`.
        unsafe { libc::close(self.fd) };
    }
}

#[test]
fn the_watch_sees_a_file_opened_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.js"), "x").unwrap();
    std::os::unix::fs::symlink(outside.join("secret.js"), dir.path().join("link.js")).unwrap();
    let watch = OpenWatch::new(&outside);
    std::fs::read(dir.path().join("link.js")).unwrap();
    assert!(watch.opened().contains_key("secret.js"));
}

#[test]
fn generated_tenants_have_findings_to_compare() {
    // The form and worker properties compare something: generated tenants do produce findings.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut with_findings = 0;
    for _ in 0..20 {
        let tenant = tenant().new_tree(&mut runner).unwrap().current();
        let dir = tempfile::tempdir().unwrap();
        write_directory(&tenant, dir.path());
        if !check(dir.path(), 1).report.findings.is_empty() {
            with_findings += 1;
        }
    }
    assert!(
        with_findings >= 10,
        "only {with_findings} of 20 generated tenants had findings"
    );
}
