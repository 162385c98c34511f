//! The idiom corpus: small rule, action and hook scripts, each with the claims it leaves on the
//! tokens and the findings claimlint reports for it. See `tests/idioms/README.md`.
//!
//! Every case under `tests/idioms/cases/*.yaml` is checked two ways:
//! 1. its script is interpreted once (`eval::summary::run`) for the case's login facts, and the
//!    summary's outcome, claims (per token, exact set of names, must/may, optional value), user
//!    writes and signals are compared with the expectation;
//! 2. its script is linted as a loose source (or inside the case's small tenant), and the exact
//!    set of findings `(policy, claim or attribute, line)` is compared; every token finding must
//!    carry a proof and no proof may be refused.
//!
//! All failing cases are reported together at the end. `IDIOM=<text>` runs only the cases whose
//! name contains `<text>`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use claimlint::eval::host::{Fact, LoginFacts, Mode, ScriptKind};
use claimlint::eval::machine::STEP_BUDGET;
use claimlint::eval::summary::{SignalKind, Summary};
use claimlint::proof::TokenKind;
use serde::Deserialize;
use serde_json::Value;

/// One case file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    about: String,
    kind: String,
    script: String,
    #[serde(default)]
    login: Option<Login>,
    /// A small `tenant.yaml`; the script is then written at `rules/<case>.js` (rules) or
    /// `actions/<case>.js` (actions) or `hooks/<case>.js` (hooks), which the tenant refers to.
    #[serde(default)]
    tenant: Option<String>,
    expect: Expect,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    client_name: Option<String>,
    client_id: Option<String>,
    connection: Option<String>,
    strategy: Option<String>,
    protocol: Option<String>,
    /// `client_metadata` as a map.
    client_metadata: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    outcome: String,
    /// Per token (`id_token`, `access_token`): claim label → expectation. A token left out
    /// gets no claims.
    claims: BTreeMap<String, BTreeMap<String, ClaimExpect>>,
    /// Root attributes of `user` the script sets (exact set); unchecked when absent.
    #[serde(default)]
    user_writes: Option<Vec<String>>,
    /// `mfa` / `redirect` → `must` or `may` (exact set); unchecked when absent.
    #[serde(default)]
    signals: Option<BTreeMap<String, String>>,
    findings: Vec<FindingExpect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimExpect {
    must: bool,
    #[serde(default)]
    value: Option<Value>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct FindingExpect {
    policy: String,
    /// The claim, or for findings about an attribute (CL303 on a user write), the attribute.
    #[serde(default)]
    claim: Option<String>,
    /// Absent: any line.
    #[serde(default)]
    line: Option<u32>,
    /// The file the finding points into; absent: the case's script.
    #[serde(default)]
    file: Option<String>,
}

/// `<?>`, `<?2>`...: one claim whose name is unknown, whatever claimlint says of it.
fn is_wildcard(key: &str) -> bool {
    key.starts_with("<?") && key.ends_with('>')
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/idioms/cases")
}

/// Every case file, sorted by name, filtered by `IDIOM`.
fn case_files() -> Vec<(String, PathBuf)> {
    let filter = std::env::var("IDIOM").ok().filter(|f| !f.is_empty());
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(cases_dir())
        .expect("tests/idioms/cases")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .filter(|(name, _)| filter.as_deref().is_none_or(|f| name.contains(f)))
        .collect();
    out.sort();
    out
}

fn load_case(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let parsed = claimlint::syntax::yaml::parse(&text);
    if !parsed.errors.is_empty() {
        return Err(format!("invalid YAML: {:?}", parsed.errors));
    }
    let root = parsed.root.ok_or("empty case file")?;
    serde_json::from_value(root.to_json()).map_err(|e| format!("invalid case: {e}"))
}

fn script_kind(kind: &str) -> Result<ScriptKind, String> {
    Ok(match kind {
        "rule" => ScriptKind::Rule,
        "post-login-action" => ScriptKind::PostLoginAction,
        "credentials-exchange-action" => ScriptKind::CredentialsExchangeAction,
        "hook" => ScriptKind::Hook,
        other => return Err(format!("unknown kind `{other}`")),
    })
}

fn facts_of(kind: ScriptKind, login: Option<&Login>) -> LoginFacts {
    let default = Login::default();
    let login = login.unwrap_or(&default);
    let machine = matches!(kind, ScriptKind::Hook | ScriptKind::CredentialsExchangeAction);
    let protocol = login.protocol.clone().unwrap_or_else(|| {
        if machine {
            "oauth2-client-credentials".into()
        } else {
            "oidc-basic-profile".into()
        }
    });
    let mut facts = LoginFacts::default().with(Fact::Protocol, protocol);
    for (fact, value) in [
        (Fact::ClientName, &login.client_name),
        (Fact::ClientId, &login.client_id),
        (Fact::Connection, &login.connection),
        (Fact::Strategy, &login.strategy),
    ] {
        if let Some(v) = value {
            facts = facts.with(fact, v.clone());
        }
    }
    facts.client_metadata = login.client_metadata.as_ref().map(|m| m.to_string());
    facts
}

fn token_name(token: TokenKind) -> &'static str {
    token.as_str()
}

fn show(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Part 1: the summary of one run.
fn check_summary(case: &Case, kind: ScriptKind, problems: &mut Vec<String>) {
    let lowered = claimlint::js::analyse(&case.script);
    if !lowered.errors.is_empty() {
        problems.push(format!("script does not parse: {:?}", lowered.errors));
        return;
    }
    let facts = facts_of(kind, case.login.as_ref());
    let summary: Summary = claimlint::eval::summary::run(
        &lowered.ir,
        &case.script,
        kind,
        Mode::Abstract(facts.clone()),
        STEP_BUDGET,
        &claimlint::platform::Platform::builtin_signals(),
    );
    let outcome = serde_json::to_value(summary.outcome).unwrap();
    if outcome.as_str() != Some(case.expect.outcome.as_str()) {
        problems.push(format!(
            "outcome: expected {}, got {}",
            case.expect.outcome,
            show(&outcome)
        ));
    }

    // Claims, per token.
    let mut got: BTreeMap<String, BTreeMap<String, ClaimSeen>> = BTreeMap::new();
    for c in &summary.claims {
        let token = token_name(c.token).to_string();
        let label = c.key.label();
        let per = got.entry(token.clone()).or_default();
        if per.contains_key(&label) {
            problems.push(format!("{token}: claim `{label}` listed twice in the summary"));
        }
        // A claim set to a login fact has that login's value.
        let value = c.value.resolve(|fact| facts.values.get(&fact).cloned());
        per.insert(label, (c.must, value, c.condition.clone()));
    }
    for token in ["id_token", "access_token"] {
        let expected = case.expect.claims.get(token);
        let empty = BTreeMap::new();
        let actual = got.get(token).unwrap_or(&empty);
        let expected_keys: Vec<&String> = expected.map(|e| e.keys().collect()).unwrap_or_default();
        // `<?...>` keys stand for one claim whose name is unknown, whatever its description.
        let mut matched: Vec<String> = expected_keys
            .iter()
            .filter(|k| !is_wildcard(k) && actual.contains_key(k.as_str()))
            .map(|k| k.to_string())
            .collect();
        for key in &expected_keys {
            let want = &expected.unwrap()[*key];
            let found = if is_wildcard(key) {
                let hit = actual
                    .keys()
                    .find(|a| a.starts_with('<') && !matched.contains(a))
                    .cloned();
                if let Some(a) = &hit {
                    matched.push(a.clone());
                }
                hit.and_then(|a| actual.get(&a))
            } else {
                actual.get(*key)
            };
            match found {
                None if is_wildcard(key) => {
                    problems.push(format!("{token}: missing a claim of unknown name ({key})"))
                }
                None => problems.push(format!("{token}: missing claim `{key}`")),
                Some((must, value, condition)) => {
                    if *must != want.must {
                        problems.push(format!(
                            "{token}: claim `{key}` expected {}, got {}{}",
                            if want.must { "must" } else { "may" },
                            if *must { "must" } else { "may" },
                            condition
                                .as_deref()
                                .map(|c| format!(" ({c})"))
                                .unwrap_or_default()
                        ));
                    }
                    if let Some(v) = &want.value
                        && v != value
                    {
                        problems.push(format!(
                            "{token}: claim `{key}` value expected {}, got {}",
                            show(v),
                            show(value)
                        ));
                    }
                }
            }
        }
        for (key, (must, value, _)) in actual {
            if !matched.contains(key) {
                problems.push(format!(
                    "{token}: unexpected claim `{key}` ({}, value {})",
                    if *must { "must" } else { "may" },
                    show(value)
                ));
            }
        }
    }
    for token in case.expect.claims.keys() {
        if token != "id_token" && token != "access_token" {
            problems.push(format!("unknown token `{token}` in expect.claims"));
        }
    }

    if let Some(want) = &case.expect.user_writes {
        let mut want = want.clone();
        want.sort();
        let mut have: Vec<String> = summary.user_writes.iter().map(|w| w.attribute.clone()).collect();
        have.sort();
        have.dedup();
        if want != have {
            problems.push(format!("user_writes: expected {want:?}, got {have:?}"));
        }
    }

    if let Some(want) = &case.expect.signals {
        let mut have: BTreeMap<String, String> = BTreeMap::new();
        for s in &summary.signals {
            let name = match s.kind {
                SignalKind::Mfa => "mfa",
                SignalKind::Redirect => "redirect",
            };
            let entry = have.entry(name.into()).or_insert_with(|| "may".into());
            if s.must {
                *entry = "must".into();
            }
        }
        if want != &have {
            problems.push(format!("signals: expected {want:?}, got {have:?}"));
        }
    }
}

/// A finding as compared: (policy, claim or attribute, line, file).
type Seen = (String, Option<String>, u32, String);

/// Part 2: the findings of linting the script.
fn check_findings(name: &str, case: &Case, kind: ScriptKind, problems: &mut Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let folder = match kind {
        ScriptKind::Rule => "rules",
        ScriptKind::Hook => "hooks",
        _ => "actions",
    };
    std::fs::create_dir(dir.path().join(folder)).unwrap();
    let script_file = format!("{name}.js");
    std::fs::write(dir.path().join(folder).join(&script_file), &case.script).unwrap();
    if let Some(tenant) = &case.tenant {
        std::fs::write(dir.path().join("tenant.yaml"), tenant).unwrap();
    }
    let run = match claimlint::check(&claimlint::CheckOptions {
        paths: vec![dir.path().to_path_buf()],
        jobs: Some(1),
        ..Default::default()
    }) {
        Ok(run) => run,
        Err(e) => {
            problems.push(format!("check failed: {e}"));
            return;
        }
    };
    if !run.refused_proofs.is_empty() {
        problems.push(format!("refused proofs: {:?}", run.refused_proofs));
    }
    let mut seen: Vec<Seen> = Vec::new();
    for f in &run.report.findings {
        if f.policy == "CL003" || f.policy == "CL004" {
            continue;
        }
        let file = Path::new(&f.location.file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = if file == script_file { String::new() } else { file };
        let about = f.claim.clone().or_else(|| f.attribute.clone());
        if matches!(f.policy.as_str(), "CL101" | "CL102" | "CL103" | "CL105" | "CL106") && f.proof.is_none() {
            problems.push(format!(
                "finding {} on {:?} line {} has no proof",
                f.policy, about, f.location.line
            ));
        }
        seen.push((f.policy.clone(), about, f.location.line, file));
    }
    let describe = |s: &Seen| -> String {
        let mut out = s.0.clone();
        if let Some(c) = &s.1 {
            let _ = write!(out, " `{c}`");
        }
        let _ = write!(out, " line {}", s.2);
        if !s.3.is_empty() {
            let _ = write!(out, " in {}", s.3);
        }
        out
    };
    let mut unmatched: Vec<Seen> = seen.clone();
    let mut missing = Vec::new();
    for want in &case.expect.findings {
        let want_file = want
            .file
            .clone()
            .filter(|f| f != &script_file)
            .unwrap_or_default();
        let hit = unmatched.iter().position(|s| {
            s.0 == want.policy
                && match (&want.claim, &s.1) {
                    (Some(w), Some(c)) if is_wildcard(w) => c.starts_with('<'),
                    (w, c) => w == c,
                }
                && want.line.is_none_or(|l| l == s.2)
                && s.3 == want_file
        });
        match hit {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(describe(&(
                want.policy.clone(),
                want.claim.clone(),
                want.line.unwrap_or(0),
                want_file,
            ))),
        }
    }
    for m in missing {
        problems.push(format!("missing finding {m}"));
    }
    for u in &unmatched {
        problems.push(format!("unexpected finding {}", describe(u)));
    }
}

fn check_case(name: &str, path: &Path) -> Vec<String> {
    let case = match load_case(path) {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    if case.about.trim().is_empty() {
        problems.push("`about` is empty".into());
    }
    let kind = match script_kind(&case.kind) {
        Ok(k) => k,
        Err(e) => return vec![e],
    };
    let outcomes = ["issued", "may-deny", "denied", "unfinished"];
    if !outcomes.contains(&case.expect.outcome.as_str()) {
        problems.push(format!("unknown outcome `{}`", case.expect.outcome));
    }
    let mut summary_problems = Vec::new();
    check_summary(&case, kind, &mut summary_problems);
    problems.extend(summary_problems.into_iter().map(|p| format!("summary: {p}")));
    let mut finding_problems = Vec::new();
    check_findings(name, &case, kind, &mut finding_problems);
    problems.extend(finding_problems.into_iter().map(|p| format!("findings: {p}")));
    problems
}

/// A claim as the summary has it: must, value, condition.
type ClaimSeen = (bool, Value, Option<String>);

#[test]
fn idioms() {
    let files = case_files();
    assert!(
        !files.is_empty(),
        "no idiom case matches IDIOM={:?}",
        std::env::var("IDIOM").ok()
    );
    let mut failed: Vec<(String, Vec<String>)> = Vec::new();
    for (name, path) in &files {
        let problems = match std::panic::catch_unwind(|| check_case(name, path)) {
            Ok(p) => p,
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into());
                vec![format!("panicked: {msg}")]
            }
        };
        if !problems.is_empty() {
            failed.push((name.clone(), problems));
        }
    }
    if !failed.is_empty() {
        let mut msg = format!("{} of {} idiom cases failed:\n", failed.len(), files.len());
        for (name, problems) in &failed {
            let _ = writeln!(msg, "\n{name} (tests/idioms/cases/{name}.yaml)");
            for p in problems {
                let _ = writeln!(msg, "  - {p}");
            }
        }
        panic!("{msg}");
    }
    eprintln!("{} idiom cases passed", files.len());
}
