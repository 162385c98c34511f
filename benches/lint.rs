//! Benchmark: generates a directory export of a given size and lints it, reporting wall time,
//! throughput and peak memory. Run with
//! `cargo bench --bench lint -- [FILES]` (default 10,000 files; also `--keep DIR` to keep the
//! generated export for profiling). Timings are printed, never asserted.

use std::path::{Path, PathBuf};
use std::time::Instant;

/// Writes an export of about `files` files: clients, connections with deny lists, rules with
/// claim-setting scripts (one `.json` and one `.js` each) and resource servers.
fn generate(root: &Path, files: usize) -> usize {
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
    let files = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(10_000);
    let keep = args
        .iter()
        .position(|a| a == "--keep")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let temp = tempfile::tempdir().expect("temp dir");
    let root = keep.clone().unwrap_or_else(|| temp.path().join("export"));
    let written = generate(&root, files);

    let started = Instant::now();
    let run = claimlint::check(&claimlint::CheckOptions {
        paths: vec![root.clone()],
        ..Default::default()
    })
    .expect("the generated export lints");
    let elapsed = started.elapsed();
    let summary = &run.report.summary;
    println!(
        "linted {} files ({written} written) in {:.3} s: {:.0} files/s; {} findings; peak memory {} MiB",
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
