//! claimlint: lints Auth0 tenant exports for custom-claim, deny-list and legacy-profile mistakes.
//!
//! The pipeline runs one way: [`load::discover`] finds exports, [`load`] reads them into the
//! [`model`], checks turn the model into [`finding::Finding`]s, and [`report`] renders them.
//! The library never touches the terminal; the `claimlint` binary does.

pub mod checks;
pub mod config;
mod error;
pub mod eval;
pub mod finding;
pub mod fix;
pub mod js;
pub mod load;
pub mod model;
mod options;
pub mod platform;
pub mod policy;
pub mod proof;
pub mod repair;
pub mod report;
pub mod source;
pub mod suppress;
pub mod syntax;

use std::path::{Path, PathBuf};

pub use error::Error;
use finding::{Finding, Severity};
use load::discover::{Refusal, discover};
pub use options::{CheckOptions, Progress, Selection, Step};
use report::{ExportSummary, OUTPUT_VERSION, Report, Summary, Tool};
use source::SourceMap;
pub use suppress::{baseline, inline};
use syntax::keywords::KeywordMap;

/// The built-in policy every unreadable or malformed input is reported under.
pub const INPUT_ERROR: (&str, &str) = ("CL001", "input-error");

/// The outcome of a run: the report and the files it points into.
#[derive(Debug)]
pub struct CheckRun {
    pub report: Report,
    pub sources: SourceMap,
    /// Every policy that ran (enabled in some export's configuration), by id.
    pub policies: Vec<policy::Policy>,
    /// Findings the engine refused because their proof did not hold (a bug in a check; tests
    /// assert there are none). They are never reported.
    pub refused_proofs: Vec<String>,
    /// What each export issues and stores, by export root as shown, when
    /// [`CheckOptions::behaviour`] asked for it.
    pub behaviours: Vec<(String, fix::Behaviour)>,
}

/// The lowest severity that fails the run (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

/// How the run ends: 0 clean, 1 findings at or above `--fail-on`, 2 input, usage or config error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Clean = 0,
    Findings = 1,
    Error = 2,
}

impl CheckRun {
    /// Whether some input could not be read or parsed (forces exit 2).
    pub fn has_input_errors(&self) -> bool {
        self.report.findings.iter().any(|f| f.policy == INPUT_ERROR.0)
    }

    pub fn exit_status(&self, fail_on: FailOn) -> ExitStatus {
        if self.has_input_errors() {
            return ExitStatus::Error;
        }
        let threshold = match fail_on {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Note => Severity::Note,
            FailOn::Never => return ExitStatus::Clean,
        };
        if self
            .report
            .findings
            .iter()
            .any(|f| f.severity >= threshold && f.suppression.is_none())
        {
            ExitStatus::Findings
        } else {
            ExitStatus::Clean
        }
    }
}

/// Lints every export under `options.paths`.
pub fn check(options: &CheckOptions) -> Result<CheckRun, Error> {
    let keywords = load_keywords(options.keywords.as_deref())?;
    worker_pool(options.jobs)?.install(|| run(options, &keywords))
}

/// Stack for worker threads: parsers recurse on nesting that bracket counts cannot bound
/// (`if (a) if (a) ...`), so workers get far more than rayon's 2 MiB default. It is only
/// reserved address space until used.
const WORKER_STACK: usize = 256 << 20;

fn worker_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, Error> {
    let mut builder = rayon::ThreadPoolBuilder::new().stack_size(WORKER_STACK);
    if let Some(jobs) = jobs {
        builder = builder.num_threads(jobs.max(1));
    }
    builder.build().map_err(|e| Error::Jobs {
        jobs: jobs.unwrap_or(0),
        message: e.to_string(),
    })
}

fn run(options: &CheckOptions, keywords: &KeywordMap) -> Result<CheckRun, Error> {
    let paths = if options.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        options.paths.clone()
    };
    let found = discover(&paths);
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut sources = SourceMap::default();
    // A path that yields no export is an input error in the report, in every format: nothing
    // named on the command line passes without being read.
    let mut refused = Vec::new();
    for path in &found.refused {
        for error in load::refusal_errors(path, &mut sources, &cwd) {
            refused.push(input_error(&sources, &error));
        }
    }
    if found.exports.is_empty() {
        // Nothing was linted: the input-error policy is the one that ran.
        let mut run = finish(refused, Vec::new(), 0, sources, &[]);
        run.policies = policy::load_builtin(&mut run.sources, &mut Vec::new())
            .into_iter()
            .filter(|p| p.id == INPUT_ERROR.0)
            .collect();
        return Ok(run);
    }

    let mut problems = Vec::new();
    let mut setups: Vec<engine::Setup> = Vec::new();
    let mut setup_of_export = Vec::new();
    for export in &found.exports {
        let config_path = options.config.clone().or_else(|| config::find_for(&export.root));
        let index = match setups.iter().position(|s| s.config.path == config_path) {
            Some(index) => index,
            None => {
                setups.push(engine::Setup::new(
                    config_path,
                    options,
                    &cwd,
                    &mut sources,
                    &mut problems,
                )?);
                setups.len() - 1
            }
        };
        setup_of_export.push(index);
    }
    check_selectors(&options.selection, &setups)?;
    // Policy files that could not be read are reported; the others still lint the exports.
    for setup in &setups {
        refused.extend(setup.unread.iter().map(|p| input_error(&sources, p)));
    }
    if !problems.is_empty() {
        // Broken policies or configuration: report every problem, lint nothing.
        let mut findings: Vec<Finding> = problems.iter().map(|p| input_error(&sources, p)).collect();
        findings.extend(refused);
        let exports = found
            .exports
            .iter()
            .map(|e| ExportSummary {
                root: source::display_path(&e.root, &cwd),
                file: e.named_yaml_file().map(|f| source::display_path(f, &cwd)),
                format: e.format,
            })
            .collect();
        return Ok(finish(findings, exports, 0, sources, &setups));
    }

    let mut findings = refused;
    let mut exports = Vec::new();
    let mut files = 0;
    let mut outcomes = vec![suppress::SuppressionUse::default(); setups.len()];
    let mut refused_proofs = Vec::new();
    let mut behaviours = Vec::new();
    // Files named on the command line (pre-commit passes the changed ones): findings that
    // involve none of them are left out unless `--all`.
    let named_files: Vec<String> = if options.all {
        Vec::new()
    } else {
        paths
            .iter()
            .filter(|p| p.is_file())
            .map(|p| source::display_path(p, &cwd))
            .collect()
    };
    let mut left_out = 0;
    if let Some(progress) = &options.progress {
        progress.report(Step::Found {
            exports: found.exports.len(),
        });
    }
    for (position, (export, &index)) in found.exports.iter().zip(&setup_of_export).enumerate() {
        if let Some(progress) = &options.progress {
            progress.report(Step::Export {
                index: position,
                root: source::display_path(&export.root, &cwd),
            });
        }
        let first_file = sources.len();
        let load_options = load::LoadOptions {
            client_nodes: setups[index].reads_client_nodes(),
            overlay: options.overlay.clone(),
        };
        let loaded = load::load_export_with(export, keywords, &mut sources, &cwd, load_options);
        files += loaded.files;
        let read =
            (first_file..sources.len()).map(|i| sources.get(source::SourceId(i as u32)).path.as_path());
        setups[index].note_ignored_files(read, &mut outcomes[index]);
        let mut export_findings: Vec<Finding> =
            loaded.errors.iter().map(|e| input_error(&sources, e)).collect();
        let limits = setups[index].config.script_limits;
        let scripts = eval::lower_scripts_within(&loaded.tenant, &sources, limits);
        export_findings.extend(script_errors(&scripts, &sources));
        let (mut checked, refused, behaviour) =
            setups[index].check(&loaded.tenant, &scripts, &sources, options.behaviour);
        refused_proofs.extend(refused);
        if let Some(behaviour) = behaviour {
            behaviours.push((loaded.display_root.clone(), behaviour));
        }
        for finding in &mut checked {
            if let Some(pointer) = finding.location.pointer.clone() {
                finding.reseal(&loaded.tenant.stable_pointer(finding.location.source, &pointer));
            }
        }
        export_findings.extend(checked);
        let inline = if options.no_inline_suppressions {
            Vec::new()
        } else {
            inline::collect(&scripts, &sources)
        };
        outcomes[index].inline_used.clear();
        let mut reported = setups[index].filter(export_findings, &sources, &inline, &mut outcomes[index]);
        reported.extend(setups[index].inline_findings(&inline, &outcomes[index], &sources));
        let proposer = repair::Proposer {
            tenant: &loaded.tenant,
            sources: &sources,
            settings: &setups[index].config.fix,
        };
        // With --keywords the texts read are not the files (markers are filled in), so no
        // edit position would hold: findings carry no fix.
        let fixable = options.keywords.is_none();
        for finding in reported.iter_mut().filter(|_| fixable) {
            let check = setups[index].policies.iter().find(|p| p.id == finding.policy);
            if let Some(policy) = check {
                finding.fix = proposer.propose(policy.check.name, finding);
            }
        }
        left_out += keep_involved(&mut reported, Some(&loaded.tenant), &sources, &named_files);
        findings.extend(reported);
        exports.push(ExportSummary {
            root: loaded.display_root.clone(),
            file: loaded.display_file.clone(),
            format: loaded.format,
        });
    }
    let per_export = findings.len();
    for (setup, used) in setups.iter().zip(&outcomes) {
        findings.extend(setup.suppression_findings(used, &sources));
    }
    if let Some(path) = &options.baseline {
        let baseline =
            baseline::load(path, &cwd, &mut sources).map_err(|message| Error::Config { message })?;
        let stale = suppress::apply_baseline(&mut findings, &baseline);
        if let Some(setup) = setups.first() {
            for entry in stale {
                findings.extend(setup.unused_baseline_entry(entry, &sources));
            }
        }
    }
    // Suppression bookkeeping (CL002-CL004 in config and baseline files) comes after every
    // export's findings.
    let mut bookkeeping = findings.split_off(per_export);
    left_out += keep_involved(&mut bookkeeping, None, &sources, &named_files);
    findings.extend(bookkeeping);
    if !options.include_suppressed {
        findings.retain(|f| f.suppression.is_none());
    }
    if options.no_proof {
        findings.iter_mut().for_each(|f| f.proof = None);
    }
    let mut run = finish(findings, exports, files, sources, &setups);
    run.refused_proofs = refused_proofs;
    run.behaviours = behaviours;
    run.report.summary.left_out = left_out;
    Ok(run)
}

/// Keeps the findings that involve one of `files` (all of them when `files` is empty); returns
/// how many unsuppressed findings it left out.
fn keep_involved(
    findings: &mut Vec<Finding>,
    tenant: Option<&model::Tenant>,
    sources: &SourceMap,
    files: &[String],
) -> usize {
    if files.is_empty() {
        return 0;
    }
    let mut left_out = 0;
    findings.retain(|f| {
        let keep = involves(f, tenant, sources, files);
        if !keep && f.suppression.is_none() {
            left_out += 1;
        }
        keep
    });
    left_out
}

/// Whether `finding` involves one of `files` (display paths): where it is, a related place, a
/// script or file its proof traces through, or the client or connection its proof logs in with.
/// Input errors never depend on other files and are reported wherever they are.
fn involves(
    finding: &Finding,
    tenant: Option<&model::Tenant>,
    sources: &SourceMap,
    files: &[String],
) -> bool {
    let named = |file: &str| files.iter().any(|f| f == file);
    if finding.policy == INPUT_ERROR.0 || named(&finding.location.file) {
        return true;
    }
    if finding.related.iter().any(|r| named(&r.location.file)) {
        return true;
    }
    let (Some(proof), Some(tenant)) = (&finding.proof, tenant) else {
        return false;
    };
    if proof.trace.iter().any(|entry| named(&entry.file)) {
        return true;
    }
    let scenario = &proof.scenario;
    let client = tenant.client(&scenario.client);
    let connection = scenario
        .connection
        .as_ref()
        .and_then(|name| tenant.connection(name));
    let profile = proof
        .profile
        .as_ref()
        .and_then(|p| tenant.connection(&p.connection));
    [
        client.map(|c| c.loc.file),
        connection.map(|c| c.loc.file),
        profile.map(|c| c.loc.file),
    ]
    .into_iter()
    .flatten()
    .any(|file| named(&sources.get(file).display))
}

/// Every `--select`/`--ignore` selector must name some policy (a typo would otherwise select
/// nothing and pass silently).
fn check_selectors(selection: &options::Selection, setups: &[engine::Setup]) -> Result<(), Error> {
    let flagged = selection
        .select
        .iter()
        .map(|s| ("--select", s))
        .chain(selection.ignore.iter().map(|s| ("--ignore", s)));
    for (flag, selector) in flagged {
        let known = setups.is_empty()
            || setups
                .iter()
                .flat_map(|s| &s.policies)
                .any(|p| options::Selection::matches(selector, &p.id, &p.name));
        if !known {
            return Err(Error::Selector {
                flag,
                selector: selector.clone(),
            });
        }
    }
    Ok(())
}

fn finish(
    findings: Vec<Finding>,
    exports: Vec<ExportSummary>,
    files: usize,
    sources: SourceMap,
    setups: &[engine::Setup],
) -> CheckRun {
    let mut policies: Vec<policy::Policy> = Vec::new();
    for policy in setups.iter().flat_map(|s| &s.policies).filter(|p| p.enabled) {
        if !policies.iter().any(|p| p.id == policy.id) {
            policies.push(policy.clone());
        }
    }
    policies.sort_by(|a, b| a.id.cmp(&b.id));
    CheckRun {
        refused_proofs: Vec::new(),
        behaviours: Vec::new(),
        policies,
        report: report_of(findings, exports, files),
        sources,
    }
}

fn report_of(mut findings: Vec<Finding>, exports: Vec<ExportSummary>, files: usize) -> Report {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.sort_key() == b.sort_key());
    let summary = Summary::count(&findings, files, exports.len());
    Report {
        version: OUTPUT_VERSION,
        tool: Tool::claimlint(),
        exports,
        findings,
        summary,
    }
}

/// A report holding only configuration or policy problems (nothing was linted).
pub fn problems_report(findings: Vec<Finding>) -> Report {
    report_of(findings, Vec::new(), 0)
}

/// CL001 for every script that does not parse (located at the syntax error).
fn script_errors(scripts: &eval::Scripts, sources: &SourceMap) -> Vec<Finding> {
    scripts
        .all()
        .flat_map(|unit| {
            unit.lowered.errors.iter().map(|(span, message)| {
                let loc = model::Loc {
                    file: unit.file,
                    span: *span,
                    pointer: String::new(),
                };
                input_error(
                    sources,
                    &model::InputError {
                        loc,
                        message: format!("{message} (in {})", unit.label()),
                    },
                )
            })
        })
        .collect()
}

/// The `--keywords` map (empty without one).
fn load_keywords(path: Option<&Path>) -> Result<KeywordMap, Error> {
    let Some(path) = path else {
        return Ok(KeywordMap::default());
    };
    let shown = path.display().to_string();
    let text = load::files::read_named(path).map_err(|e| Error::Keywords {
        path: shown.clone(),
        message: e.message,
    })?;
    KeywordMap::from_json(&text).map_err(|message| Error::Keywords { path: shown, message })
}

fn input_error(sources: &SourceMap, error: &model::InputError) -> Finding {
    let (id, name) = INPUT_ERROR;
    Finding::new(
        id,
        name,
        Severity::Error,
        error.message.clone(),
        sources,
        &error.loc,
    )
    .seal(if error.loc.pointer.is_empty() {
        &error.message
    } else {
        &error.loc.pointer
    })
}

/// The policies that apply in the current folder (for `claimlint policies` and `explain`):
/// the built-in ones, the config's policy folders and `--policies`.
pub fn policies(options: &CheckOptions) -> Result<(Vec<policy::Policy>, SourceMap, Vec<Finding>), Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let config_path = options.config.clone().or_else(|| config::find_for(&cwd));
    let mut sources = SourceMap::default();
    let mut problems = Vec::new();
    let setup = engine::Setup::new(config_path, options, &cwd, &mut sources, &mut problems)?;
    let findings = problems
        .iter()
        .chain(&setup.unread)
        .map(|p| input_error(&sources, p))
        .collect();
    Ok((setup.policies, sources, findings))
}

/// Whether `path` is itself an a0deploy export root (a folder of loose scripts is not; see
/// [`load::discover::sources_at`]).
pub fn is_export_root(path: &Path) -> bool {
    load::discover::export_at(path).is_some()
}

mod engine;

/// What `claimlint token` is asked to evaluate.
#[derive(Debug, Clone, Default)]
pub struct TokenOptions {
    /// The export (or a folder holding exactly one, or a file inside one).
    pub path: PathBuf,
    pub client: String,
    /// Defaults to the first connection enabled for the client.
    pub connection: Option<String>,
    /// Defaults to `oidc-basic-profile`.
    pub protocol: Option<String>,
    /// Defaults to `openid profile email`.
    pub scopes: Vec<String>,
    /// A sample user profile (JSON object) whose attributes replace symbolic values.
    pub profile: Option<PathBuf>,
    pub keywords: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub platform: Option<String>,
}

/// An evaluated login and the files its trace points into.
#[derive(Debug)]
pub struct TokenRun {
    pub evaluation: eval::Evaluation,
    pub sources: SourceMap,
    /// Input errors found while loading (the evaluation covers what could be read).
    pub input_errors: Vec<Finding>,
}

/// Evaluates one login scenario: the tokens the tenant would issue, with the trace.
pub fn token(options: &TokenOptions) -> Result<TokenRun, Error> {
    worker_pool(None)?.install(|| token_in_pool(options))
}

fn token_in_pool(options: &TokenOptions) -> Result<TokenRun, Error> {
    let usage = |message: String| Error::Config { message };
    let keywords = load_keywords(options.keywords.as_deref())?;
    let profile = match &options.profile {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| usage(format!("{} is not valid JSON: {e}", path.display())))?;
            if !value.is_object() {
                return Err(usage(format!(
                    "{} must hold a JSON object (a user profile)",
                    path.display()
                )));
            }
            Some(value)
        }
    };
    let found = discover(std::slice::from_ref(&options.path));
    let export = match found.exports.as_slice() {
        [one] => one.clone(),
        [] if found.refused.iter().any(|r| r.reason == Refusal::Missing) => {
            return Err(Error::MissingPath {
                path: options.path.display().to_string(),
            });
        }
        [] => {
            return Err(Error::NoExport {
                paths: options.path.display().to_string(),
            });
        }
        many => {
            let roots: Vec<String> = many.iter().map(|e| e.root.display().to_string()).collect();
            return Err(usage(format!(
                "{} holds several exports ({}); name one",
                options.path.display(),
                roots.join(", ")
            )));
        }
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut sources = SourceMap::default();
    let mut problems = Vec::new();
    let check_options = CheckOptions {
        config: options.config.clone(),
        platform: options.platform.clone(),
        ..CheckOptions::default()
    };
    let config_path = options.config.clone().or_else(|| config::find_for(&export.root));
    let setup = engine::Setup::new(config_path, &check_options, &cwd, &mut sources, &mut problems)?;
    let loaded = load::load_export(&export, &keywords, &mut sources, &cwd);
    let tenant = &loaded.tenant;
    let scenario = eval::requested_scenario(
        tenant,
        &setup.platform,
        &eval::LoginRequest {
            export: &loaded.display_root,
            client: &options.client,
            connection: options.connection.as_deref(),
            protocol: options.protocol.as_deref(),
            scopes: &options.scopes,
            profile: profile.map(|p| p.to_string()),
        },
    )
    .map_err(usage)?;
    let scripts = eval::lower_scripts(tenant, &sources);
    let analysis = eval::Analysis::new(tenant, &scripts, &setup.platform, &sources);
    let evaluation = analysis.evaluate(tenant, &scripts, &setup.platform, &sources, &scenario);
    let mut input_errors: Vec<Finding> = loaded.errors.iter().map(|e| input_error(&sources, e)).collect();
    input_errors.extend(script_errors(&scripts, &sources));
    input_errors.extend(problems.iter().map(|p| input_error(&sources, p)));
    Ok(TokenRun {
        evaluation,
        sources,
        input_errors,
    })
}

/// What `claimlint fix` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct FixOptions {
    /// The exports, configuration and policies, as for `check` (its `selection` says which
    /// policies run; every enabled one does by default, so a fix's new findings are seen).
    pub check: CheckOptions,
    /// `--select`/`--ignore`: which policies' findings are fixed.
    pub fix_selection: Selection,
    /// `--unsafe-fixes`: also apply fixes that change what Auth0 stores or issues.
    pub unsafe_fixes: bool,
    /// `--force`: apply fixes even when they add an error-level finding.
    pub force: bool,
    /// `--diff`: change no file of the export.
    pub dry_run: bool,
    /// `--emit-patch DIR`: write Management API bodies for the connections whose deny list
    /// changes.
    pub emit_patch: Option<PathBuf>,
}

/// The outcome of `claimlint fix`.
#[derive(Debug)]
pub struct FixRun {
    /// The check before any fix.
    pub before: CheckRun,
    /// The check of the fixed export (`None` when nothing was fixed).
    pub after: Option<CheckRun>,
    /// The files the fixes change, with their text before and after.
    pub files: Vec<repair::FileChange>,
    /// What was fixed, refused and left, and what it changes.
    pub report: repair::FixReport,
}

impl FixRun {
    /// The check that describes the export as it is after the command: the fixed export,
    /// or the unchanged one.
    pub fn result(&self) -> &CheckRun {
        self.after.as_ref().unwrap_or(&self.before)
    }
}

/// Rounds of fixing: fixes that touch each other wait for the next round, proposed again on
/// the new text (as in ruff).
const FIX_ROUNDS: usize = 10;

/// Fixes findings: proposes, evaluates and applies fixes, and says what they change.
pub fn fix(options: &FixOptions) -> Result<FixRun, Error> {
    let keywords = load_keywords(options.check.keywords.as_deref())?;
    worker_pool(options.check.jobs)?.install(|| fix_in_pool(options, &keywords))
}

fn fix_in_pool(options: &FixOptions, patch_keywords: &KeywordMap) -> Result<FixRun, Error> {
    let mut check_options = options.check.clone();
    check_options.behaviour = true;
    check_options.overlay = None;
    check_options.keywords = None;
    // Fixes edit the files as written, markers and all: the runs read them without keyword
    // values, which only fill in the update bodies of `--emit-patch`.
    let keywords = &KeywordMap::default();
    let before = run(&check_options, keywords)?;
    let wanted = |f: &Finding| {
        f.suppression.is_none()
            && options.fix_selection.runs(&f.policy, &f.name)
            && f.fix
                .as_ref()
                .is_some_and(|fix| options.unsafe_fixes || fix.applicability == fix::Applicability::Safe)
    };
    let unsafe_available = if options.unsafe_fixes {
        0
    } else {
        before
            .report
            .findings
            .iter()
            .filter(|f| {
                f.suppression.is_none()
                    && options.fix_selection.runs(&f.policy, &f.name)
                    && f.fix
                        .as_ref()
                        .is_some_and(|x| x.applicability == fix::Applicability::Unsafe)
            })
            .count()
    };
    // A file whose text on disk is not the text linted (it changed since) is never edited: the
    // edits are positions in the linted text.
    let mut skipped = Vec::new();
    let mut uneditable: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for finding in before.report.findings.iter().filter(|f| wanted(f)) {
        for edit in finding.fix.iter().flat_map(|f| &f.edits) {
            let file = before.sources.get(edit.location.source);
            if uneditable.contains(&file.display) {
                continue;
            }
            // A symbolic link is not edited: writing through it would change its target, and
            // replacing it would change the export's layout.
            let linked = std::fs::symlink_metadata(&file.path).is_ok_and(|m| m.file_type().is_symlink());
            if linked || std::fs::read_to_string(&file.path).ok().as_deref() != Some(&*file.text) {
                uneditable.insert(file.display.clone());
            }
        }
    }
    let editable = |f: &Finding, sources: &SourceMap| {
        f.fix
            .iter()
            .flat_map(|x| &x.edits)
            .all(|e| !uneditable.contains(&sources.get(e.location.source).display))
    };
    for finding in before.report.findings.iter().filter(|f| wanted(f)) {
        if !editable(finding, &before.sources) {
            skipped.push(repair::SkippedFix {
                finding: finding.clone(),
                reason: "the file is a symbolic link, or changed on disk while it was being checked".into(),
            });
        }
    }

    let mut overlay = load::files::Overlay::new();
    let mut current: Option<CheckRun> = None;
    let mut applied = Vec::new();
    let mut refused: Vec<repair::RefusedFix> = Vec::new();
    let mut refused_keys = std::collections::BTreeSet::new();
    // Every state the files went through: fixes that undo each other stop instead of cycling.
    let mut seen_states = vec![overlay.clone()];
    for _ in 0..FIX_ROUNDS {
        let now = current.as_ref().unwrap_or(&before);
        let candidates: Vec<&Finding> = now
            .report
            .findings
            .iter()
            .filter(|f| {
                wanted(f) && editable(f, &now.sources) && !refused_keys.contains(&repair::identity(f))
            })
            .collect();
        let fixes: Vec<&fix::Fix> = candidates.iter().filter_map(|f| f.fix.as_ref()).collect();
        let plan = repair::plan(&fixes, &now.sources);
        if plan.taken.is_empty() {
            break;
        }
        let with = |texts: &std::collections::BTreeMap<source::SourceId, String>| {
            let mut next = overlay.clone();
            for (id, text) in texts {
                next.insert(now.sources.get(*id).path.clone(), text.clone());
            }
            next
        };
        let round_overlay = with(&plan.texts);
        if seen_states.contains(&round_overlay) {
            break;
        }
        let next = run_with_overlay(&check_options, keywords, &round_overlay)?;
        let consequences = repair::Consequences::between(
            &now.report.findings,
            &next.report.findings,
            &now.behaviours,
            &next.behaviours,
        );
        // Without --unsafe-fixes every fix taken is a safe one, and must change nothing Auth0
        // issues or stores; none may add an error-level finding without --force.
        let objection = |c: &repair::Consequences| -> Option<(String, Vec<Finding>, &'static str)> {
            let errors: Vec<Finding> = c.new_errors().cloned().collect();
            if !errors.is_empty() && !options.force {
                return Some(("it would add error-level findings".into(), errors, "--force"));
            }
            let changes = c.behaviour_changes();
            (!options.unsafe_fixes && !changes.is_empty()).then(|| {
                (
                    format!("it changes what Auth0 issues or stores here ({changes}), so it is not safe"),
                    Vec::new(),
                    "--unsafe-fixes",
                )
            })
        };
        if let Some(together) = objection(&consequences) {
            // Which of the round's fixes object: each is evaluated alone.
            let mut culprits = Vec::new();
            for &i in &plan.taken {
                let alone = repair::plan(&[fixes[i]], &now.sources);
                let single = run_with_overlay(&check_options, keywords, &with(&alone.texts))?;
                let c = repair::Consequences::between(
                    &now.report.findings,
                    &single.report.findings,
                    &now.behaviours,
                    &single.behaviours,
                );
                if let Some(why) = objection(&c) {
                    culprits.push((i, why));
                }
            }
            if culprits.is_empty() {
                // Only together do they object: none of this round's fixes is applied.
                culprits = plan.taken.iter().map(|&i| (i, together.clone())).collect();
            }
            for (i, (reason, would_add, overridden_by)) in culprits {
                refused_keys.insert(repair::identity(candidates[i]));
                refused.push(repair::RefusedFix {
                    finding: candidates[i].clone(),
                    reason,
                    would_add,
                    overridden_by,
                });
            }
            continue;
        }
        seen_states.push(round_overlay.clone());
        applied.extend(plan.taken.iter().map(|&i| repair::AppliedFix {
            finding: candidates[i].clone(),
        }));
        overlay = round_overlay;
        current = Some(next);
    }

    let mut files: Vec<repair::FileChange> = Vec::new();
    for (path, after) in &overlay {
        let Some(id) = (0..before.sources.len())
            .map(|i| source::SourceId(i as u32))
            .find(|&id| before.sources.get(id).path == *path)
        else {
            continue;
        };
        let file = before.sources.get(id);
        files.push(repair::FileChange {
            path: path.clone(),
            display: file.display.clone(),
            before: file.text.to_string(),
            after: after.clone(),
        });
    }
    files.sort_by(|a, b| a.display.cmp(&b.display));
    let consequences = match &current {
        Some(after) => repair::Consequences::between(
            &before.report.findings,
            &after.report.findings,
            &before.behaviours,
            &after.behaviours,
        ),
        None => repair::Consequences::default(),
    };
    let patches = match &options.emit_patch {
        Some(_) => patch_bodies(&check_options, patch_keywords, &overlay, &applied, &files),
        None => Vec::new(),
    };
    // With --diff nothing is written anywhere: a body sent for a change the export does not
    // have would put the tenant ahead of its repository.
    let written = !options.dry_run && !files.is_empty();
    if written {
        for file in &files {
            std::fs::write(&file.path, &file.after).map_err(|e| Error::Write {
                path: file.display.clone(),
                message: e.to_string(),
            })?;
        }
    }
    if let Some(dir) = options.emit_patch.as_ref().filter(|_| !options.dry_run) {
        write_patches(dir, &patches)?;
    }
    let report = repair::FixReport {
        applied,
        refused,
        skipped,
        unsafe_available,
        files: files.iter().map(|f| f.display.clone()).collect(),
        written,
        consequences,
        patches,
        remaining: current.as_ref().unwrap_or(&before).report.summary.clone(),
    };
    Ok(FixRun {
        before,
        after: current,
        files,
        report,
    })
}

fn run_with_overlay(
    options: &CheckOptions,
    keywords: &KeywordMap,
    overlay: &load::files::Overlay,
) -> Result<CheckRun, Error> {
    let mut options = options.clone();
    options.overlay = Some(std::sync::Arc::new(overlay.clone()));
    run(&options, keywords)
}

/// The update bodies of the connections whose deny list an applied fix changed, read from the
/// fixed export.
fn patch_bodies(
    options: &CheckOptions,
    keywords: &KeywordMap,
    overlay: &load::files::Overlay,
    applied: &[repair::AppliedFix],
    files: &[repair::FileChange],
) -> Vec<repair::patch::PatchBody> {
    let changed: std::collections::BTreeSet<&str> = applied
        .iter()
        .filter_map(|a| a.finding.fix.as_ref()?.connection.as_deref())
        .collect();
    let changed_files: std::collections::BTreeSet<&std::path::Path> =
        files.iter().map(|f| f.path.as_path()).collect();
    let paths = if options.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        options.paths.clone()
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut bodies = Vec::new();
    for export in &discover(&paths).exports {
        let mut sources = SourceMap::default();
        let load_options = load::LoadOptions {
            client_nodes: false,
            overlay: Some(std::sync::Arc::new(overlay.clone())),
        };
        let loaded = load::load_export_with(export, keywords, &mut sources, &cwd, load_options);
        for connection in &loaded.tenant.connections {
            let file = sources.get(connection.loc.file).path.as_path();
            if changed.contains(connection.name.as_str()) && changed_files.contains(file) {
                bodies.extend(repair::patch::body_for(connection));
            }
        }
    }
    bodies.sort_by(|a, b| a.file.cmp(&b.file));
    // Names made safe for files can meet (`a/b` and `a-b`): later ones get a number.
    let mut taken = std::collections::BTreeSet::new();
    for body in &mut bodies {
        let stem = body.file.trim_end_matches(".json").to_string();
        let mut n = 1;
        while !taken.insert(body.file.clone()) {
            n += 1;
            body.file = format!("{stem}-{n}.json");
        }
        body.refile();
    }
    bodies
}

fn write_patches(dir: &Path, patches: &[repair::patch::PatchBody]) -> Result<(), Error> {
    let fail = |path: &Path, e: std::io::Error| Error::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    for patch in patches {
        if let Some(body) = &patch.body {
            let path = dir.join(&patch.file);
            std::fs::write(&path, body).map_err(|e| fail(&path, e))?;
            let path = dir.join(patch.script_file());
            std::fs::write(&path, patch.script()).map_err(|e| fail(&path, e))?;
        }
    }
    Ok(())
}
