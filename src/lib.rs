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
mod fixing;
pub mod js;
pub mod load;
mod memory;
pub mod model;
mod options;
mod plain_path;
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
pub use fixing::{FixOptions, FixRun, fix};
use load::discover::{Refusal, discover};
pub use memory::MiMalloc;
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

pub(crate) fn worker_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, Error> {
    let mut builder = rayon::ThreadPoolBuilder::new().stack_size(WORKER_STACK);
    if let Some(jobs) = jobs {
        builder = builder.num_threads(jobs.max(1));
    }
    builder.build().map_err(|e| Error::Jobs {
        jobs: jobs.unwrap_or(0),
        message: e.to_string(),
    })
}

pub(crate) fn run(options: &CheckOptions, keywords: &KeywordMap) -> Result<CheckRun, Error> {
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
    // The baseline is applied once every export is linted, and its problems reported then;
    // it is read now, so that the findings it will suppress get no completed proofs.
    let baseline_read = options.baseline.as_ref().map(|path| baseline::read(path, &cwd));
    let baselined: std::collections::HashSet<(&str, &str)> = baseline_read
        .iter()
        .flatten()
        .flat_map(baseline::Read::keys)
        .collect();
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
        let limits = setups[index].config.script_limits;
        let load_options = load::LoadOptions {
            client_nodes: setups[index].reads_client_nodes(),
            overlay: options.overlay.clone(),
            lower_scripts: Some(limits),
        };
        let mut loaded = load::load_export_with(export, keywords, &mut sources, &cwd, load_options);
        files += loaded.files;
        crate::memory::give_back_freed();
        let read =
            (first_file..sources.len()).map(|i| sources.get(source::SourceId(i as u32)).path.as_path());
        setups[index].note_ignored_files(read, &mut outcomes[index]);
        let mut export_findings: Vec<Finding> =
            loaded.errors.iter().map(|e| input_error(&sources, e)).collect();
        let lowered = std::mem::take(&mut loaded.lowered);
        let scripts = eval::lower_scripts_from(&loaded.tenant, &sources, limits, lowered);
        export_findings.extend(script_errors(&scripts, &sources));
        let (mut checked, refused, behaviour, analysis) =
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
        if fixable {
            use rayon::prelude::*;
            let policies = &setups[index].policies;
            reported.par_iter_mut().for_each(|finding| {
                if let Some(policy) = policies.iter().find(|p| p.id == finding.policy) {
                    finding.fix = proposer.propose(policy.check.name, finding);
                }
            });
        }
        left_out += keep_involved(&mut reported, Some(&loaded.tenant), &sources, &named_files);
        if !options.no_proof {
            // Only the findings reported with their proof get its tokens.
            let shown = |f: &Finding| {
                options.include_suppressed
                    || (f.suppression.is_none()
                        && !baselined.contains(&(f.policy.as_str(), f.fingerprint.as_str())))
            };
            setups[index].fill_proof_tokens(
                &loaded.tenant,
                &scripts,
                &sources,
                analysis.as_ref(),
                &mut reported,
                &shown,
            );
        }
        findings.extend(reported);
        exports.push(ExportSummary {
            root: loaded.display_root.clone(),
            file: loaded.display_file.clone(),
            format: loaded.format,
        });
        // The last export's data is freed on a worker while the report is made; any other's
        // before the next export is read, so that a run over many exports holds one at a time
        // (with one job, a spawned free would wait for the worker to idle, at the very end).
        let freed = move || {
            drop((loaded, scripts));
            if let Some(analysis) = analysis {
                analysis.drop_in_parallel();
            }
        };
        if position + 1 == found.exports.len() {
            rayon::spawn(freed);
        } else {
            freed();
        }
    }
    let per_export = findings.len();
    for (setup, used) in setups.iter().zip(&outcomes) {
        findings.extend(setup.suppression_findings(used, &sources));
    }
    if let Some(read) = baseline_read {
        let baseline = read
            .map_err(|message| Error::Config { message })?
            .register(&mut sources);
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
    // A hook run over every file (`pre-commit run --all-files`) names thousands.
    let files: std::collections::HashSet<&str> = files.iter().map(String::as_str).collect();
    let mut left_out = 0;
    findings.retain(|f| {
        let keep = involves(f, tenant, sources, &files);
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
    files: &std::collections::HashSet<&str>,
) -> bool {
    let named = |file: &str| files.contains(file);
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
pub(crate) fn load_keywords(path: Option<&Path>) -> Result<KeywordMap, Error> {
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
