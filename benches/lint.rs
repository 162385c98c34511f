//! Benchmark: generates an export of a given shape and lints it in-process, reporting wall time,
//! throughput and peak memory. Run with
//!
//! ```text
//! cargo bench --bench lint -- [SHAPE] [--keep DIR | --generate-only DIR]
//! ```
//!
//! `SHAPE` is one of
//! - a number of files (default 10,000): a directory export of clients, connections with deny
//!   lists, a few rules and resource servers;
//! - `shape-21`: a YAML export of 21 files (`tenant.yaml` with 100 clients and 20 connections
//!   each enabled for all of them, plus 20 rule scripts), the size of a real mid-sized tenant;
//! - `loop-bomb`: a ~7 KB YAML export whose one rule nests two loops over a 600-item known array,
//!   which the evaluator must cut short with a CL005 `evaluation-incomplete` note.
//!
//! `--keep DIR` lints the export written to DIR and leaves it there for profiling;
//! `--generate-only DIR` writes it to DIR and exits without linting (`benches/measure.sh` uses it
//! to time the release binary from outside). Generation is deterministic. Timings are printed,
//! never asserted.

use std::path::{Path, PathBuf};
use std::time::Instant;

/// Writes an export of about `files` files: clients, connections with deny lists, rules with
/// claim-setting scripts (one `.json` and one `.js` each) and resource servers.
fn generate_directory(root: &Path, files: usize) -> usize {
    let dir = |name: &str| {
        let d = root.join(name);
        std::fs::create_dir_all(&d).expect("create folder");
        d
    };
    let (clients, connections, rules, apis) = (
        dir("clients"),
        dir("connections"),
        dir("rules"),
        dir("resource-servers"),
    );
    std::fs::write(
        root.join("tenant.json"),
        "{\n  \"friendly_name\": \"Bench\",\n  \"flags\": {\"enable_legacy_profile\": true}\n}\n",
    )
    .expect("write");
    let per_kind = files / 5;
    let client_count = 20.min(per_kind.max(1));
    for i in 0..per_kind {
        let legacy = i % 7 == 0;
        std::fs::write(
            clients.join(format!("client-{i}.json")),
            format!(
                "{{\n  \"name\": \"client-{i}\",\n  \"app_type\": \"spa\",\n  \"oidc_conformant\": {},\n  \"grant_types\": [\"authorization_code\", \"refresh_token\"]\n}}\n",
                !legacy
            ),
        )
        .expect("write");
        let enabled: Vec<String> = (0..3)
            .map(|k| format!("\"client-{}\"", (i + k) % client_count))
            .collect();
        std::fs::write(
            connections.join(format!("conn-{i}.json")),
            format!(
                "{{\n  \"name\": \"conn-{i}\",\n  \"strategy\": \"samlp\",\n  \"enabled_clients\": [{}],\n  \"options\": {{\n    \"debug\": {},\n    \"non_persistent_attrs\": [\"ethnicity\", \"address.street\"]\n  }}\n}}\n",
                enabled.join(", "),
                i % 11 == 0
            ),
        )
        .expect("write");
        std::fs::write(
            apis.join(format!("api-{i}.json")),
            format!("{{\n  \"name\": \"api-{i}\",\n  \"identifier\": \"https://api-{i}.example.com/\"\n}}\n"),
        )
        .expect("write");
    }
    // Rules run in every login, so a few of them; the rest of the files are clients and APIs.
    let rule_count = 10.min(per_kind.max(1));
    for i in 0..rule_count {
        std::fs::write(
            rules.join(format!("rule-{i}.json")),
            format!("{{\n  \"name\": \"rule-{i}\",\n  \"enabled\": true,\n  \"order\": {i},\n  \"stage\": \"login_success\",\n  \"script\": \"./rule-{i}.js\"\n}}\n"),
        )
        .expect("write");
        std::fs::write(
            rules.join(format!("rule-{i}.js")),
            format!(
                "function (user, context, callback) {{\n  const ns = 'https://acme.example.com/';\n  if (context.protocol === 'oauth2-refresh-token') {{\n    return callback(null, user, context);\n  }}\n  context.idToken[ns + 'claim{i}'] = user.email;\n  context.idToken.plain{i} = user.name;\n  callback(null, user, context);\n}}\n"
            ),
        )
        .expect("write");
    }
    1 + per_kind * 3 + rule_count * 2
}

/// Name of the `i`th client in the YAML shapes.
fn client_name(i: usize) -> String {
    format!("acme-app-{i:02}")
}

/// Writes `text` to `root/relative`, creating folders on the way.
fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folder");
    }
    std::fs::write(path, text).expect("write");
}

/// The `tenant:` section both YAML shapes start with.
const TENANT_SETTINGS: &str = "tenant:
  friendly_name: Acme Bench
  default_directory: db-00
  flags:
    enable_legacy_profile: false
    enable_pipeline2: true
    revoke_refresh_token_grant: false
";

/// `shape-21`: `tenant.yaml` (100 clients, 20 connections each enabled for all 100 clients,
/// 20 rules by reference) and the 20 rule scripts: 21 files.
fn generate_shape_21(root: &Path) -> usize {
    const CLIENTS: usize = 100;
    const CONNECTIONS: usize = 20;
    const RULES: usize = 20;
    let mut yaml = String::from(TENANT_SETTINGS);

    yaml.push_str("\nclients:\n");
    for i in 0..CLIENTS {
        // Interactive applications; a few legacy ones are not OIDC-conformant.
        let app_type = ["spa", "regular_web", "native"][i % 3];
        let conformant = i % 25 != 7;
        let grants = match i % 4 {
            0 => "[authorization_code, refresh_token]",
            1 => "[authorization_code, implicit, refresh_token]",
            2 => "[authorization_code]",
            _ => "[authorization_code, refresh_token, password]",
        };
        yaml.push_str(&format!(
            "  - name: {name}
    description: 'Bench application {i}'
    app_type: {app_type}
    is_first_party: true
    oidc_conformant: {conformant}
    callbacks:
      - 'https://app{i}.acme.example.com/callback'
    allowed_logout_urls:
      - 'https://app{i}.acme.example.com/'
    grant_types: {grants}
    token_endpoint_auth_method: {auth}
    jwt_configuration:
      alg: RS256
      lifetime_in_seconds: 36000
    sso_disabled: false
",
            name = client_name(i),
            auth = if app_type == "regular_web" {
                "client_secret_post"
            } else {
                "none"
            },
        ));
    }

    let enabled: String = (0..CLIENTS)
        .map(|i| format!("      - {}\n", client_name(i)))
        .collect();
    // Half databases, half enterprise connections; every third one has a deny list.
    let deny_list = |k: usize| match k % 3 {
        0 => {
            "      non_persistent_attrs:\n        - ethnicity\n        - address.street\n        - user_metadata.ssn\n"
        }
        _ => "",
    };
    yaml.push_str("\ndatabases:\n");
    for k in 0..CONNECTIONS / 2 {
        yaml.push_str(&format!(
            "  - name: db-{k:02}
    strategy: auth0
    enabled_clients:
{enabled}    is_domain_connection: false
    options:
      brute_force_protection: true
      passwordPolicy: good
      requires_username: {username}
{deny}",
            username = k % 2 == 1,
            deny = deny_list(k),
        ));
    }
    yaml.push_str("\nconnections:\n");
    for k in CONNECTIONS / 2..CONNECTIONS {
        let strategy = ["samlp", "waad", "oidc", "adfs", "okta"][k % 5];
        yaml.push_str(&format!(
            "  - name: {strategy}-{k:02}
    strategy: {strategy}
    enabled_clients:
{enabled}    is_domain_connection: false
    options:
      domain_aliases:
        - corp{k}.acme.example.com
      debug: {debug}
      set_user_root_attributes: on_each_login
{deny}",
            debug = k % 7 == 0,
            deny = deny_list(k),
        ));
    }

    yaml.push_str("\nrules:\n");
    for i in 0..RULES {
        let name = format!("Rule {i:02} {}", rule_topic(i));
        yaml.push_str(&format!(
            "  - name: {name}\n    script: './rules/{name}.js'\n    order: {order}\n    enabled: {enabled}\n    stage: login_success\n",
            order = i + 1,
            enabled = i != 18,
        ));
        write(root, &format!("rules/{name}.js"), &rule_script(i));
    }
    write(root, "tenant.yaml", &yaml);
    1 + RULES
}

fn rule_topic(i: usize) -> &'static str {
    match i {
        1 => "refresh-aware roles",
        9 => "country",
        _ => [
            "roles",
            "plan",
            "partner claims",
            "verified profile",
            "organizations",
        ][i % 5],
    }
}

/// A rule script of the kind found in real tenants: a namespace constant, claims on both tokens,
/// `user.app_metadata` reads; rules 2, 7, 12 and 17 guard on `context.clientName`, rule 1 on the
/// refresh-token protocol, rule 9 writes `user.country`.
fn rule_script(i: usize) -> String {
    let head = format!(
        "function rule{i}(user, context, callback) {{\n  const namespace = 'https://acme.example.com/';\n"
    );
    let body = match i {
        1 => "  if (context.protocol === 'oauth2-refresh-token') {
    return callback(null, user, context);
  }
  const roles = (context.authorization || {}).roles || [];
  context.idToken[namespace + 'roles'] = roles;
  context.accessToken[namespace + 'roles'] = roles;
  return callback(null, user, context);
"
        .to_string(),
        9 => "  const appMetadata = user.app_metadata || {};
  user.country = appMetadata.country || 'unknown';
  context.idToken[namespace + 'country'] = user.country;
  context.accessToken[namespace + 'region'] = appMetadata.region;
  callback(null, user, context);
"
        .to_string(),
        _ => match i % 5 {
            0 => format!(
                "  const roles = (context.authorization || {{}}).roles || [];
  context.idToken[namespace + 'roles{i}'] = roles;
  context.accessToken[namespace + 'roles{i}'] = roles;
  return callback(null, user, context);
"
            ),
            1 => format!(
                "  const appMetadata = user.app_metadata || {{}};
  const plan = appMetadata.plan || 'free';
  context.idToken[`${{namespace}}plan{i}`] = plan;
  context.accessToken[`${{namespace}}tier{i}`] = appMetadata.tier;
  if (appMetadata.beta === true) {{
    context.accessToken[`${{namespace}}beta{i}`] = true;
  }}
  callback(null, user, context);
"
            ),
            2 => {
                let guard = match i {
                    7 => format!(
                        "  const partnerApps = ['{}', '{}', '{}'];\n  if (partnerApps.indexOf(context.clientName) === -1) {{\n",
                        client_name(3),
                        client_name(33),
                        client_name(63)
                    ),
                    12 => format!(
                        "  if (context.clientName !== '{}' && context.clientName !== '{}') {{\n",
                        client_name(12),
                        client_name(48)
                    ),
                    _ => format!(
                        "  if (context.clientName !== '{}') {{\n",
                        client_name(i * 5 % 100)
                    ),
                };
                format!(
                    "{guard}    return callback(null, user, context);
  }}
  const partner = (user.app_metadata || {{}}).partner || {{}};
  context.idToken[namespace + 'partner_id{i}'] = partner.id;
  context.accessToken[namespace + 'partner_scope{i}'] = partner.scope || 'basic';
  return callback(null, user, context);
"
                )
            }
            3 => format!(
                "  if (!user.email_verified) {{
    return callback(null, user, context);
  }}
  context.idToken[namespace + 'email{i}'] = user.email;
  context.accessToken[namespace + 'department{i}'] = (user.app_metadata || {{}}).department;
  callback(null, user, context);
"
            ),
            _ => format!(
                "  user.app_metadata = user.app_metadata || {{}};
  const orgs = user.app_metadata.orgs || [];
  context.idToken[namespace + 'orgs{i}'] = orgs;
  context.accessToken[namespace + 'org_count{i}'] = orgs.length;
  callback(null, user, context);
"
            ),
        },
    };
    format!("{head}{body}}}\n")
}

/// `loop-bomb`: one client, one connection and one rule nesting two loops over a 600-item known
/// array (360,000 iterations if unrolled); about 7 KB.
fn generate_loop_bomb(root: &Path) -> usize {
    let codes: Vec<String> = (0..600).map(|i| format!("'code{i:03}'")).collect();
    let lines: Vec<String> = codes
        .chunks(12)
        .map(|chunk| format!("    {},", chunk.join(", ")))
        .collect();
    let script = format!(
        "function loopBomb(user, context, callback) {{
  const codes = [
{}
  ];
  for (const a of codes) {{
    for (const b of codes) {{
      if (user.app_metadata.x === a + b) {{
        context.idToken['https://x.com/' + a] = b;
      }}
    }}
  }}
  callback(null, user, context);
}}
",
        lines.join("\n")
    );
    write(root, "rules/Loop bomb.js", &script);
    let yaml = format!(
        "{TENANT_SETTINGS}
clients:
  - name: {client}
    app_type: spa
    oidc_conformant: true
    callbacks:
      - 'https://app.acme.example.com/callback'
    grant_types: [authorization_code, refresh_token]
    token_endpoint_auth_method: none

databases:
  - name: db-00
    strategy: auth0
    enabled_clients:
      - {client}
    options:
      brute_force_protection: true

rules:
  - name: Loop bomb
    script: './rules/Loop bomb.js'
    order: 1
    enabled: true
    stage: login_success
",
        client = client_name(0)
    );
    write(root, "tenant.yaml", &yaml);
    2
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .map(|i| PathBuf::from(args.get(i + 1).unwrap_or_else(|| panic!("{name} needs a folder"))))
    };
    let keep = flag("--keep");
    let generate_only = flag("--generate-only");
    let shape = args
        .iter()
        .enumerate()
        .find(|(i, a)| {
            !a.starts_with("--")
                && (*i == 0 || !["--keep", "--generate-only"].contains(&args[i - 1].as_str()))
        })
        .map_or("10000", |(_, a)| a.as_str());
    let temp = tempfile::tempdir().expect("temp dir");
    let root = generate_only
        .clone()
        .or_else(|| keep.clone())
        .unwrap_or_else(|| temp.path().join("export"));
    let written = match shape {
        "shape-21" => generate_shape_21(&root),
        "loop-bomb" => generate_loop_bomb(&root),
        files => match files.parse::<usize>() {
            Ok(files) => generate_directory(&root, files),
            Err(_) => {
                eprintln!("unknown shape `{files}`: give a number of files, `shape-21` or `loop-bomb`");
                std::process::exit(2);
            }
        },
    };
    if generate_only.is_some() {
        println!("{shape}: wrote {written} files to {}", root.display());
        return;
    }

    let started = Instant::now();
    let run = claimlint::check(&claimlint::CheckOptions {
        paths: vec![root.clone()],
        ..Default::default()
    })
    .expect("the generated export lints");
    let elapsed = started.elapsed();
    let summary = &run.report.summary;
    println!(
        "{shape}: linted {} files ({written} written) in {:.3} s: {:.0} files/s; {} findings; peak memory {} MiB",
        summary.files,
        elapsed.as_secs_f64(),
        summary.files as f64 / elapsed.as_secs_f64(),
        summary.errors + summary.warnings + summary.notes,
        peak_memory_kib().map_or("?".into(), |k| (k / 1024).to_string()),
    );
    if let Some(dir) = keep {
        println!("export kept in {}", dir.display());
    }
}
