//! Differential test of the closed-script evaluator ([`claimlint::eval::closed::run_closed`])
//! against real JavaScript.
//!
//! A seeded generator (`tests/differential/idiom_gen.rs`) writes closed scripts (every input a
//! concrete value) in the idioms of Auth0 rules, actions and hooks; a handful of hand-written
//! regression cases join them. `node` runs them all once through the oracle harness
//! (`tests/oracle/run.mjs`, mock `user`/`context`/`callback` and `event`/`api`), and every
//! case's outcome, claims (before Auth0's filters) and `user` root-attribute writes must equal
//! what claimlint's evaluator computes without running anything.
//!
//! Without `node` on `PATH` the tests print `SKIPPED: node not found` and pass, unless
//! `CLAIMLINT_REQUIRE_NODE` is set. `CLAIMLINT_DIFF_CASE=<n>` (a generated case's index, or a
//! regression's name) runs and prints one case; `CLAIMLINT_DIFF_SEED` and `CLAIMLINT_DIFF_COUNT`
//! draw another corpus; `CLAIMLINT_DIFF_DUMP=<file>` keeps the cases given to node. See
//! `tests/oracle/README.md`.

#[path = "differential/idiom_gen.rs"]
mod idiom_gen;
#[path = "differential/regressions.rs"]
mod regressions;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use claimlint::eval::closed::{ClosedKind, ClosedRun, run_closed};
use idiom_gen::{Case, Kind, corpus, describe};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The corpus every run compares, unless `CLAIMLINT_DIFF_SEED` says otherwise.
const SEED: u64 = 0xC1A1_3117_0AC1_E5ED;
/// Generated cases (the issue asks for at least 500).
const COUNT: usize = 600;
/// Mismatches printed in full; the rest are counted and listed by label.
const SHOWN: usize = 20;

/// One case with the label failure reports use: `#123` (generated) or a regression's name.
struct Labeled {
    label: String,
    case: Case,
}

/// What the oracle says a case did: the `ClosedRun` shape plus two diagnostics.
#[derive(Debug, Clone, Deserialize)]
struct NodeResult {
    outcome: String,
    id_token: Map<String, Value>,
    access_token: Map<String, Value>,
    user: Map<String, Value>,
    exact: bool,
    /// Why node could not run the case (a generator bug).
    harness_error: Option<String>,
    /// What the script threw and nobody caught.
    thrown: Option<String>,
}

impl NodeResult {
    fn run(&self) -> ClosedRun {
        ClosedRun {
            outcome: self.outcome.clone(),
            id_token: self.id_token.clone(),
            access_token: self.access_token.clone(),
            user: self.user.clone(),
            exact: self.exact,
        }
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn seed() -> u64 {
    match env_var("CLAIMLINT_DIFF_SEED") {
        Some(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|e| panic!("CLAIMLINT_DIFF_SEED={s}: {e}"))
        }
        None => SEED,
    }
}

fn count() -> usize {
    env_var("CLAIMLINT_DIFF_COUNT").map_or(COUNT, |s| {
        s.trim()
            .parse()
            .unwrap_or_else(|e| panic!("CLAIMLINT_DIFF_COUNT={s}: {e}"))
    })
}

/// The generated cases, then the regressions.
fn all_cases() -> Vec<Labeled> {
    let mut out: Vec<Labeled> = corpus(seed(), count())
        .into_iter()
        .enumerate()
        .map(|(i, case)| Labeled {
            label: format!("#{i}"),
            case,
        })
        .collect();
    out.extend(regressions::cases().into_iter().map(|(name, case)| Labeled {
        label: name.to_owned(),
        case,
    }));
    out
}

/// `CLAIMLINT_DIFF_CASE`: the one case to run, if set.
fn selected(cases: Vec<Labeled>) -> Vec<Labeled> {
    let Some(want) = env_var("CLAIMLINT_DIFF_CASE") else {
        return cases;
    };
    let want = want.trim().trim_start_matches('#').to_owned();
    let label = if want.chars().all(|c| c.is_ascii_digit()) {
        format!("#{want}")
    } else {
        want.clone()
    };
    let one: Vec<Labeled> = cases.into_iter().filter(|c| c.label == label).collect();
    assert!(!one.is_empty(), "CLAIMLINT_DIFF_CASE={want}: no such case");
    one
}

fn node() -> Option<PathBuf> {
    let names: &[&str] = if cfg!(windows) {
        &["node.exe", "node"]
    } else {
        &["node"]
    };
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Runs `cases` through `tests/oracle/run.mjs` in one node process.
fn run_node(node: &Path, cases: &[Labeled]) -> Vec<NodeResult> {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("cases.json");
    let output = dir.path().join("results.json");
    let json: Vec<Value> = cases.iter().map(|c| c.case.to_json()).collect();
    let bytes = serde_json::to_vec_pretty(&json).unwrap();
    std::fs::write(&input, &bytes).unwrap();
    if let Some(dump) = env_var("CLAIMLINT_DIFF_DUMP") {
        std::fs::write(&dump, &bytes).unwrap_or_else(|e| panic!("CLAIMLINT_DIFF_DUMP={dump}: {e}"));
    }
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/run.mjs");
    let out = Command::new(node)
        .arg(&harness)
        .arg(&input)
        .arg(&output)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", node.display()));
    assert!(
        out.status.success(),
        "{} {} failed ({}):\n{}",
        node.display(),
        harness.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<NodeResult> =
        serde_json::from_slice(&std::fs::read(&output).unwrap()).expect("the oracle's results");
    assert_eq!(results.len(), cases.len(), "one result per case");
    results
}

/// The cases and node's results, computed once per test binary; `None` without node.
fn oracle() -> Option<&'static (Vec<Labeled>, Vec<NodeResult>)> {
    static ORACLE: OnceLock<Option<(Vec<Labeled>, Vec<NodeResult>)>> = OnceLock::new();
    ORACLE
        .get_or_init(|| {
            let Some(node) = node() else {
                assert!(
                    env_var("CLAIMLINT_REQUIRE_NODE").is_none(),
                    "CLAIMLINT_REQUIRE_NODE is set but node is not on PATH"
                );
                println!("SKIPPED: node not found");
                return None;
            };
            let cases = selected(all_cases());
            let results = run_node(&node, &cases);
            Some((cases, results))
        })
        .as_ref()
}

fn closed_kind(kind: Kind) -> ClosedKind {
    match kind {
        Kind::Rule => ClosedKind::Rule,
        Kind::PostLoginAction => ClosedKind::PostLoginAction,
        Kind::CredentialsExchangeAction => ClosedKind::CredentialsExchangeAction,
        Kind::Hook => ClosedKind::Hook,
    }
}

/// The same JSON value in one spelling, as a JavaScript number: an integer up to 2^53 is an
/// integer (`3`, not `3.0`; `-0` is `0`), anything else the double it stands for.
fn normalize(v: &Value) -> Value {
    const SAFE: f64 = 9_007_199_254_740_992.0; // 2^53
    match v {
        Value::Number(n) => {
            let f = n.as_f64().expect("a JSON number");
            if f.fract() == 0.0 && f.abs() <= SAFE {
                Value::from(f as i64)
            } else {
                serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
            }
        }
        Value::Array(xs) => Value::Array(xs.iter().map(normalize).collect()),
        Value::Object(m) => Value::Object(normalize_map(m)),
        _ => v.clone(),
    }
}

fn normalize_map(m: &Map<String, Value>) -> Map<String, Value> {
    m.iter().map(|(k, v)| (k.clone(), normalize(v))).collect()
}

/// Why claimlint's run differs from node's, or `None` when they agree.
fn difference(node: &ClosedRun, ours: &ClosedRun) -> Option<String> {
    let mut why = Vec::new();
    if !ours.exact {
        why.push("claimlint's run is not exact".to_owned());
    }
    if node.outcome != ours.outcome {
        why.push(format!(
            "outcome {} (node) vs {} (claimlint)",
            node.outcome, ours.outcome
        ));
    }
    for (part, a, b) in [
        ("id_token", &node.id_token, &ours.id_token),
        ("access_token", &node.access_token, &ours.access_token),
        ("user", &node.user, &ours.user),
    ] {
        if normalize_map(a) != normalize_map(b) {
            why.push(format!("{part} differs"));
        }
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// node's and claimlint's runs part by part, one JSON line each; parts that differ are marked.
fn side_by_side(node: &ClosedRun, ours: &ClosedRun) -> String {
    let mut s = String::new();
    let mut part = |name: &str, a: Value, b: Value| {
        let (na, nb) = (normalize(&a), normalize(&b));
        if na == nb {
            s.push_str(&format!("  {name:<13} both:      {a}\n"));
        } else {
            s.push_str(&format!(
                "  {name:<13} node:      {a}\n  {:<13} claimlint: {b}   <-- differs\n",
                ""
            ));
        }
    };
    part(
        "outcome",
        Value::from(node.outcome.clone()),
        Value::from(ours.outcome.clone()),
    );
    part(
        "id_token",
        Value::Object(node.id_token.clone()),
        Value::Object(ours.id_token.clone()),
    );
    part(
        "access_token",
        Value::Object(node.access_token.clone()),
        Value::Object(ours.access_token.clone()),
    );
    part(
        "user",
        Value::Object(node.user.clone()),
        Value::Object(ours.user.clone()),
    );
    part("exact", Value::from(node.exact), Value::from(ours.exact));
    s
}

fn report(label: &str, case: &Case, node: &ClosedRun, ours: &ClosedRun, why: &str) -> String {
    let idx = label.trim_start_matches('#');
    format!(
        "=== {label}: {why}\n{}{}  rerun alone: CLAIMLINT_DIFF_CASE={idx} cargo test --test differential -- --nocapture\n",
        describe(label, case),
        side_by_side(node, ours),
    )
}

#[test]
fn closed_scripts_match_node() {
    let Some((cases, results)) = oracle() else { return };
    let single = cases.len() == 1 && env_var("CLAIMLINT_DIFF_CASE").is_some();
    let mut mismatches = Vec::new();
    for (c, r) in cases.iter().zip(results) {
        let node = r.run();
        let ours = run_closed(closed_kind(c.case.kind), &c.case.source, &c.case.input);
        if single {
            // Keep the case where node can rerun it.
            let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("differential-case.json");
            std::fs::write(&file, serde_json::to_vec_pretty(&[c.case.to_json()]).unwrap()).unwrap();
            println!(
                "{}{}  node: thrown {:?}, harness error {:?}\n  node alone: node tests/oracle/run.mjs {}",
                describe(&c.label, &c.case),
                side_by_side(&node, &ours),
                r.thrown,
                r.harness_error,
                file.display()
            );
        }
        if let Some(e) = &r.harness_error {
            panic!(
                "the oracle could not run {}: {e}\n{}",
                c.label,
                describe(&c.label, &c.case)
            );
        }
        if let Some(why) = difference(&node, &ours) {
            mismatches.push((c, node, ours, why));
        }
    }
    if mismatches.is_empty() {
        println!(
            "{} closed scripts: claimlint agrees with node on all of them",
            cases.len()
        );
        return;
    }
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for (c, ..) in &mismatches {
        *by_kind.entry(c.case.kind.as_str()).or_default() += 1;
    }
    let mut text = format!(
        "claimlint differs from node on {} of {} closed scripts (by kind: {by_kind:?})\n\n",
        mismatches.len(),
        cases.len()
    );
    for (c, node, ours, why) in mismatches.iter().take(SHOWN) {
        text.push_str(&report(&c.label, &c.case, node, ours, why));
        text.push('\n');
    }
    if mismatches.len() > SHOWN {
        let rest: Vec<&str> = mismatches[SHOWN..]
            .iter()
            .map(|(c, ..)| c.label.as_str())
            .collect();
        text.push_str(&format!("... and {} more: {}\n", rest.len(), rest.join(" ")));
    }
    panic!("{text}");
}

/// The corpus is worth comparing: node runs every case, most issue claims, and the outcomes,
/// kinds and user writes are all represented.
#[test]
fn oracle_corpus_is_meaningful() {
    let Some((cases, results)) = oracle() else { return };
    if env_var("CLAIMLINT_DIFF_CASE").is_some() {
        return;
    }
    let mut bad = Vec::new();
    let mut by_outcome: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_kind: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    let (mut with_claims, mut user_writes, mut thrown) = (0, 0, 0);
    for (c, r) in cases.iter().zip(results) {
        if let Some(e) = &r.harness_error {
            bad.push(format!(
                "{}: harness error: {e}\n{}",
                c.label,
                describe(&c.label, &c.case)
            ));
        }
        // Scripts throw on purpose only with `new Error(...)`; anything else is a generator bug.
        if let Some(t) = &r.thrown {
            thrown += 1;
            if !(t.starts_with("Error: ") || t.starts_with("UnauthorizedError: ")) {
                bad.push(format!("{}: threw {t}\n{}", c.label, describe(&c.label, &c.case)));
            }
        }
        assert!(r.exact, "{}: node is always exact", c.label);
        *by_outcome.entry(r.outcome.as_str()).or_default() += 1;
        *by_kind
            .entry(c.case.kind.as_str())
            .or_default()
            .entry(r.outcome.as_str())
            .or_default() += 1;
        if r.outcome == "issued" && (!r.id_token.is_empty() || !r.access_token.is_empty()) {
            with_claims += 1;
        }
        if !r.user.is_empty() {
            user_writes += 1;
        }
    }
    let n = cases.len();
    println!("node ran {n} closed scripts");
    println!("  by outcome: {by_outcome:?}");
    for (kind, outcomes) in &by_kind {
        println!("  {kind}: {} ({outcomes:?})", outcomes.values().sum::<usize>());
    }
    println!(
        "  issued with at least one claim: {with_claims}; user root writes: {user_writes}; uncaught throws: {thrown}"
    );
    assert!(
        bad.is_empty(),
        "{} cases the generator got wrong:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert!(n >= 500, "at least 500 cases, got {n}");
    assert!(
        with_claims * 100 >= n * 60,
        "only {with_claims} of {n} cases issue claims"
    );
    let count = |o: &str| by_outcome.get(o).copied().unwrap_or(0);
    assert!(count("denied") * 100 >= n * 5, "only {} denied", count("denied"));
    assert!(count("none") >= 3, "only {} never complete", count("none"));
    assert!(
        user_writes * 100 >= n * 5,
        "only {user_writes} cases write user root attributes"
    );
    for kind in Kind::ALL {
        let k = by_kind
            .get(kind.as_str())
            .map_or(0, |o| o.values().sum::<usize>());
        assert!(k >= 10, "only {k} {} cases", kind.as_str());
        let denied = by_kind
            .get(kind.as_str())
            .and_then(|o| o.get("denied"))
            .copied()
            .unwrap_or(0);
        assert!(denied >= 1, "no {} is denied", kind.as_str());
    }
}

#[test]
fn generator_is_deterministic() {
    let a = corpus(SEED, COUNT);
    assert_eq!(a, corpus(SEED, COUNT), "same seed, same corpus");
    // Case i does not depend on how many cases are drawn.
    assert_eq!(a[..50], corpus(SEED, 50)[..]);
    assert_eq!(a[321], idiom_gen::case(SEED, 321));
    let b = corpus(SEED + 1, 50);
    assert!(
        a[..50].iter().zip(&b).filter(|(x, y)| x == y).count() < 5,
        "another seed, other scripts"
    );
    for (i, c) in a.iter().enumerate() {
        let lines = c.source.lines().count();
        assert!((5..=40).contains(&lines), "#{i} has {lines} lines");
    }
}

#[test]
fn numbers_compare_as_javascript_numbers() {
    use serde_json::json;
    assert_eq!(normalize(&json!(3.0)), normalize(&json!(3)));
    assert_eq!(normalize(&json!(-0.0)), json!(0));
    assert_eq!(
        normalize(&json!(9_007_199_254_740_992.0_f64)),
        normalize(&json!(9_007_199_254_740_992_u64))
    );
    assert_eq!(
        normalize(&json!(1_152_921_504_606_846_976_u64)),
        normalize(&json!(1_152_921_504_606_846_976.0_f64))
    );
    assert_ne!(normalize(&json!(0.30000000000000004)), normalize(&json!(0.3)));
    assert_ne!(normalize(&json!("3")), normalize(&json!(3)));
}
