//! Command-line arguments (clap derive) and the terminal side of a run.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use claimlint::{CheckOptions, ExitStatus, FailOn, report};

#[derive(Debug, Parser)]
#[command(
    name = "claimlint",
    version,
    about = "Lints Auth0 tenant exports for custom-claim, deny-list and legacy-profile mistakes",
    args_conflicts_with_subcommands = true,
    after_help = "A subcommand name wins over a folder of the same name: lint a folder called `check` as `claimlint ./check`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint exports (the default when no subcommand is given).
    Check(CheckArgs),
    /// List the policies in force: id, name, severity, check and summary.
    Policies(PoliciesArgs),
    /// Print a policy's documentation.
    Explain(ExplainArgs),
    /// Write a commented starter `.claimlint.yaml` in the current folder.
    Init(InitArgs),
    /// Apply fixes: safe ones by default, unsafe ones with `--unsafe-fixes`; each evaluated
    /// first, with what it changes printed.
    Fix(FixArgs),
    /// Evaluate one login: the ID and access tokens the tenant would issue, with the trace.
    Token(TokenArgs),
    /// Print a shell completion script (`claimlint completions bash > ~/.local/share/bash-completion/completions/claimlint`).
    Completions(CompletionsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
pub struct FixArgs {
    /// Export folders, folders holding exports, or files inside exports. Defaults to `.`.
    pub paths: Vec<PathBuf>,

    /// Also apply unsafe fixes: those that change what Auth0 stores or issues (denying an
    /// attribute, renaming a claim).
    #[arg(long)]
    pub unsafe_fixes: bool,

    /// Print a unified diff and what the fixes would change; write no file of the export.
    #[arg(long)]
    pub diff: bool,

    /// Apply fixes even when they add an error-level finding (a newly denied attribute that a
    /// claim copies, say).
    #[arg(long)]
    pub force: bool,

    /// Write, for every connection whose deny list changes, the Management API body
    /// (`<connection>.json`, with the whole `options` object) into DIR, and print its `curl`
    /// command.
    #[arg(long, value_name = "DIR")]
    pub emit_patch: Option<PathBuf>,

    /// Fix only these policies' findings (ids, names, id prefixes or `ALL`; comma-separated
    /// or repeated). Every enabled policy still runs, so a fix's new findings are seen.
    #[arg(long, value_name = "POLICY", value_delimiter = ',')]
    pub select: Vec<String>,

    /// Do not fix these policies' findings (same forms as `--select`; wins over it).
    #[arg(long, value_name = "POLICY", value_delimiter = ',')]
    pub ignore: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,

    /// Lowest severity of the findings left after fixing that makes the run exit 1.
    #[arg(long, value_enum, default_value_t = FailOnArg::Error)]
    pub fail_on: FailOnArg,

    /// a0deploy keyword mappings, to fill in the markers of `--emit-patch` bodies (the export's
    /// files keep their markers).
    #[arg(long, value_name = "FILE")]
    pub keywords: Option<PathBuf>,

    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    #[command(flatten)]
    pub policies: PolicyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The export (or a file inside it).
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// The application, by name. Without it, a generic login: an unknown OIDC-conformant
    /// client through an unknown connection (as for loose rule and action sources).
    #[arg(long)]
    pub client: Option<String>,

    /// The connection, by name (default: the first one enabled for the client).
    #[arg(long)]
    pub connection: Option<String>,

    /// The login's protocol (default: `oauth2-client-credentials` for machine-to-machine
    /// applications, `oidc-basic-profile` for the others).
    #[arg(long, value_enum)]
    pub protocol: Option<ProtocolArg>,

    /// Requested scopes (repeatable or space-separated; default `openid profile email`).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,

    /// A sample user profile (JSON object) to use instead of symbolic attribute values.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,

    /// a0deploy keyword mappings, as for `check`.
    #[arg(long, value_name = "FILE")]
    pub keywords: Option<PathBuf>,

    #[command(flatten)]
    pub policies: PolicyArgs,
}

/// Where policies come from; shared by `check`, `policies` and `explain`.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// Config file for every export (default: the nearest `.claimlint.yaml` above each export,
    /// up to the repository root).
    #[arg(long, value_name = "FILE", help_heading = "Policies")]
    pub config: Option<PathBuf>,

    /// A folder of extra policy files (may be repeated).
    #[arg(long = "policies", value_name = "DIR", help_heading = "Policies")]
    pub policy_dirs: Vec<PathBuf>,

    /// Auth0 behaviour: a profile, `auth0-oidc` (default) or `auth0-current`, or a platform file
    /// of your own (`./my-platform.yaml`, optionally `#PROFILE`), relative to the current folder.
    #[arg(long, value_name = "PROFILE", help_heading = "Policies")]
    pub platform: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PoliciesArgs {
    #[command(flatten)]
    pub policies: PolicyArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// Policy id (`CL201`) or name (`nested-deny-path`).
    pub policy: String,

    #[command(flatten)]
    pub policies: PolicyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Overwrite an existing `.claimlint.yaml`.
    #[arg(long)]
    pub force: bool,
}

/// The protocols Auth0 passes to rules as `context.protocol` that claimlint evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    /// An interactive login (authorization code, implicit, password...).
    OidcBasicProfile,
    /// A refresh-token exchange after an interactive login.
    Oauth2RefreshToken,
    /// A machine-to-machine client-credentials exchange.
    Oauth2ClientCredentials,
}

impl ProtocolArg {
    fn as_str(self) -> &'static str {
        match self {
            ProtocolArg::OidcBasicProfile => "oidc-basic-profile",
            ProtocolArg::Oauth2RefreshToken => claimlint::proof::REFRESH_PROTOCOL,
            ProtocolArg::Oauth2ClientCredentials => claimlint::proof::CREDENTIALS_PROTOCOL,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Export folders, folders holding exports, or files inside exports. Defaults to `.`.
    pub paths: Vec<PathBuf>,

    /// Output format: `human` (default), `concise`, `json`, `sarif` or `github`. Repeat as
    /// `FORMAT=FILE` to write several reports in one run
    /// (`--format sarif=claimlint.sarif --format human`).
    #[arg(
        long,
        visible_alias = "output-format",
        value_name = "FORMAT[=FILE]",
        value_parser = parse_output,
        help_heading = "Output"
    )]
    pub format: Vec<Output>,

    /// Write the report to FILE instead of standard output (the format given without `=FILE`).
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Colour in human output (`auto` honours NO_COLOR, FORCE_COLOR and CLICOLOR_FORCE).
    #[arg(long, value_enum, default_value_t = Color::Auto, help_heading = "Output")]
    pub color: Color,

    /// How much of each proof human output shows: the login and only what makes the finding
    /// true (`short`), everything the login issues and the whole trace (`full`), or nothing
    /// (`none`, which also leaves proofs out of JSON and SARIF).
    #[arg(long, value_enum, default_value_t = ProofArg::Short, help_heading = "Output")]
    pub proof: ProofArg,

    /// Same as `--proof none`.
    #[arg(long, hide = true)]
    pub no_proof: bool,

    /// Count findings per policy instead of listing them (human and concise formats).
    #[arg(long, help_heading = "Output")]
    pub statistics: bool,

    /// Print findings only: no summary line, no progress.
    #[arg(long, short = 'q', help_heading = "Output")]
    pub quiet: bool,

    /// Run only these policies: ids (`CL201`), names (`nested-deny-path`), id prefixes (`CL2`)
    /// or `ALL`; comma-separated or repeated. Narrows what the configuration enables.
    #[arg(
        long,
        value_name = "POLICY",
        value_delimiter = ',',
        help_heading = "Policy selection"
    )]
    pub select: Vec<String>,

    /// Do not run these policies (same forms as `--select`; wins over it).
    #[arg(
        long,
        value_name = "POLICY",
        value_delimiter = ',',
        help_heading = "Policy selection"
    )]
    pub ignore: Vec<String>,

    /// When files are named (as pre-commit does), report every finding of their exports, not
    /// only those that involve the named files.
    #[arg(long, help_heading = "Mode")]
    pub all: bool,

    /// Lowest severity that makes the run exit 1.
    #[arg(long, value_enum, default_value_t = FailOnArg::Error, help_heading = "Mode")]
    pub fail_on: FailOnArg,

    /// a0deploy keyword mappings (the JSON of AUTH0_KEYWORD_REPLACE_MAPPINGS) to fill in
    /// `@@KEY@@` and `##KEY##` markers; without it markers stay unresolved values.
    #[arg(long, value_name = "FILE", help_heading = "Input")]
    pub keywords: Option<PathBuf>,

    /// Worker threads for reading and parsing (default: one per core).
    #[arg(long, short = 'j', value_name = "N", help_heading = "Input")]
    pub jobs: Option<usize>,

    /// Keep suppressed findings in the report, marked as suppressed (they never fail the run).
    #[arg(long, help_heading = "Output")]
    pub include_suppressed: bool,

    /// Report only findings not recorded in this baseline; report entries that no longer match.
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
    pub baseline: Option<PathBuf>,

    /// Record the current findings in FILE (by fingerprint) and exit 0.
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
    pub write_baseline: Option<PathBuf>,

    /// Ignore `claimlint-disable` comments in scripts (for security reviews).
    #[arg(long, help_heading = "Mode")]
    pub no_inline_suppressions: bool,

    #[command(flatten)]
    pub policies: PolicyArgs,
}

/// One report to write: its format, and the file it goes to (standard output without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub format: Format,
    pub file: Option<PathBuf>,
}

fn parse_output(value: &str) -> Result<Output, String> {
    let (name, file) = match value.split_once('=') {
        Some((name, "")) => return Err(format!("`{name}=` names no file")),
        Some((name, file)) => (name, Some(PathBuf::from(file))),
        None => (value, None),
    };
    let format = Format::from_str(name, true).map_err(|_| {
        let names: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
            .collect();
        format!("unknown format `{name}`; one of: {}", names.join(", "))
    })?;
    Ok(Output { format, file })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProofArg {
    Full,
    Short,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Source snippets, proofs and help, for people.
    Human,
    /// One line per finding: `file:line:col: CL101 message`.
    Concise,
    /// The JSON report (`schemas/output.schema.json`).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    Error,
    Warning,
    Note,
    Never,
}

impl From<FailOnArg> for FailOn {
    fn from(value: FailOnArg) -> FailOn {
        match value {
            FailOnArg::Error => FailOn::Error,
            FailOnArg::Warning => FailOn::Warning,
            FailOnArg::Note => FailOn::Note,
            FailOnArg::Never => FailOn::Never,
        }
    }
}

/// Runs the command line; returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Check(args)) => check(&args),
        None => check(&cli.check),
        Some(Command::Policies(args)) => policies(&args),
        Some(Command::Explain(args)) => explain(&args),
        Some(Command::Init(args)) => init(&args),
        Some(Command::Fix(args)) => fix(&args),
        Some(Command::Token(args)) => token(&args),
        Some(Command::Completions(args)) => completions(&args),
    }
}

fn options(paths: &[PathBuf], policies: &PolicyArgs) -> CheckOptions {
    CheckOptions {
        paths: paths.to_vec(),
        config: policies.config.clone(),
        policy_dirs: policies.policy_dirs.clone(),
        platform: policies.platform.clone(),
        ..CheckOptions::default()
    }
}

/// Loads the policies in force, or prints what is wrong with them.
fn load_policies(args: &PolicyArgs) -> Result<Vec<claimlint::policy::Policy>, ExitCode> {
    let (policies, sources, problems) = match claimlint::policies(&options(&[], args)) {
        Ok(loaded) => loaded,
        Err(error) => return Err(fatal(error)),
    };
    if !problems.is_empty() {
        let report = claimlint::problems_report(problems);
        eprint!(
            "{}",
            report::human::render(
                &report,
                &sources,
                &report::human::Style {
                    color: color(Color::Auto, std::io::stderr().is_terminal()),
                    ..report::human::Style::default()
                }
            )
        );
        return Err(exit(ExitStatus::Error));
    }
    Ok(policies)
}

fn policies(args: &PoliciesArgs) -> ExitCode {
    let policies = match load_policies(&args.policies) {
        Ok(policies) => policies,
        Err(code) => return code,
    };
    let text = match args.format {
        ListFormat::Json => report::policies::json(&policies),
        ListFormat::Human => report::policies::table(&policies),
    };
    match write_output(None, &text) {
        Ok(()) => exit(ExitStatus::Clean),
        Err(error) => {
            eprintln!(
                "claimlint: {}",
                claimlint::report::escape::lines(&error.to_string())
            );
            exit(ExitStatus::Error)
        }
    }
}

fn explain(args: &ExplainArgs) -> ExitCode {
    let policies = match load_policies(&args.policies) {
        Ok(policies) => policies,
        Err(code) => return code,
    };
    let Some(policy) = policies.iter().find(|p| p.is(&args.policy)) else {
        eprintln!(
            "claimlint: no policy `{}`; `claimlint policies` lists them",
            args.policy
        );
        return exit(ExitStatus::Error);
    };
    match write_output(None, &report::policies::explain(policy)) {
        Ok(()) => exit(ExitStatus::Clean),
        Err(error) => {
            eprintln!(
                "claimlint: {}",
                claimlint::report::escape::lines(&error.to_string())
            );
            exit(ExitStatus::Error)
        }
    }
}

fn fix(args: &FixArgs) -> ExitCode {
    let options = claimlint::FixOptions {
        check: CheckOptions {
            keywords: args.keywords.clone(),
            jobs: args.jobs,
            ..options(&args.paths, &args.policies)
        },
        fix_selection: claimlint::Selection {
            select: args.select.clone(),
            ignore: args.ignore.clone(),
        },
        unsafe_fixes: args.unsafe_fixes,
        force: args.force,
        dry_run: args.diff,
        emit_patch: args.emit_patch.clone(),
    };
    let run = match claimlint::fix(&options) {
        Ok(run) => run,
        Err(error) => return fatal(error),
    };
    // What could not be read is fixed by no one: say so, as `check` would.
    for finding in run
        .result()
        .report
        .findings
        .iter()
        .filter(|f| f.policy == claimlint::INPUT_ERROR.0)
    {
        let at = &finding.location;
        let line = format!("{}:{}:{}: {}", at.file, at.line, at.column, finding.message);
        eprintln!("claimlint: {}", report::escape::line(&line));
    }
    let text = match args.format {
        ListFormat::Json => report::fix::json(&run.report),
        ListFormat::Human if args.diff => format!(
            "{}{}",
            report::fix::diff(&run.files),
            report::fix::human(&run.report, true)
        ),
        ListFormat::Human => report::fix::human(&run.report, false),
    };
    if let Err(error) = write_output(None, &text) {
        eprintln!(
            "claimlint: {}",
            claimlint::report::escape::lines(&error.to_string())
        );
        return exit(ExitStatus::Error);
    }
    // `--diff` fails when there is something to fix, as `ruff --diff` does; otherwise the
    // findings left decide.
    if args.diff && !run.files.is_empty() {
        return exit(ExitStatus::Findings);
    }
    exit(run.result().exit_status(args.fail_on.into()))
}

fn token(args: &TokenArgs) -> ExitCode {
    let options = claimlint::TokenOptions {
        path: args.path.clone(),
        client: args.client.clone().unwrap_or_default(),
        connection: args.connection.clone(),
        protocol: args.protocol.map(|p| p.as_str().to_string()),
        scopes: args.scopes.clone(),
        profile: args.profile.clone(),
        keywords: args.keywords.clone(),
        config: args.policies.config.clone(),
        platform: args.policies.platform.clone(),
    };
    let run = match claimlint::token(&options) {
        Ok(run) => run,
        Err(error) => return fatal(error),
    };
    for finding in &run.input_errors {
        let at = &finding.location;
        let line = format!("{}:{}:{}: {}", at.file, at.line, at.column, finding.message);
        eprintln!("claimlint: {}", report::escape::line(&line));
    }
    let text = match args.format {
        ListFormat::Json => report::token::json(&run.evaluation),
        ListFormat::Human => report::token::human(&run.evaluation),
    };
    if let Err(error) = write_output(None, &text) {
        eprintln!(
            "claimlint: {}",
            claimlint::report::escape::lines(&error.to_string())
        );
        return exit(ExitStatus::Error);
    }
    exit(if run.input_errors.is_empty() {
        ExitStatus::Clean
    } else {
        ExitStatus::Error
    })
}

fn init(args: &InitArgs) -> ExitCode {
    let path = PathBuf::from(claimlint::config::CONFIG_FILE);
    if path.exists() && !args.force {
        eprintln!(
            "claimlint: {} already exists; use --force to overwrite it",
            path.display()
        );
        return exit(ExitStatus::Error);
    }
    match std::fs::write(&path, claimlint::config::STARTER) {
        Ok(()) => {
            println!("wrote {}", path.display());
            exit(ExitStatus::Clean)
        }
        Err(error) => {
            eprintln!("claimlint: cannot write {}: {error}", path.display());
            exit(ExitStatus::Error)
        }
    }
}

fn exit(status: ExitStatus) -> ExitCode {
    ExitCode::from(status as u8)
}

/// A problem that stopped the run: one line on standard error, exit 2.
fn fatal(error: claimlint::Error) -> ExitCode {
    eprintln!(
        "claimlint: {}",
        claimlint::report::escape::lines(&error.to_string())
    );
    exit(ExitStatus::Error)
}

fn check(args: &CheckArgs) -> ExitCode {
    let outputs = match outputs(args) {
        Ok(outputs) => outputs,
        Err(message) => {
            eprintln!(
                "claimlint: {}",
                claimlint::report::escape::lines(&message.to_string())
            );
            return exit(ExitStatus::Error);
        }
    };
    let proof = if args.no_proof { ProofArg::None } else { args.proof };
    let progress = (!args.quiet && std::io::stderr().is_terminal()).then(crate::progress::Spinner::start);
    let options = CheckOptions {
        keywords: args.keywords.clone(),
        jobs: args.jobs,
        no_proof: proof == ProofArg::None,
        include_suppressed: args.include_suppressed,
        no_inline_suppressions: args.no_inline_suppressions,
        baseline: args.baseline.clone(),
        selection: claimlint::Selection {
            select: args.select.clone(),
            ignore: args.ignore.clone(),
        },
        // A baseline records every finding of the exports, whichever files were named.
        all: args.all || args.write_baseline.is_some(),
        progress: progress.as_ref().map(crate::progress::Spinner::sink),
        ..options(&args.paths, &args.policies)
    };
    let result = claimlint::check(&options);
    drop(progress);
    let run = match result {
        Ok(run) => run,
        Err(error) => return fatal(error),
    };
    if let Some(path) = &args.write_baseline {
        let baseline = claimlint::baseline::render(&run.report.findings);
        if let Err(error) = std::fs::write(path, baseline) {
            eprintln!("claimlint: cannot write {}: {error}", path.display());
            return exit(ExitStatus::Error);
        }
        let recorded = run
            .report
            .findings
            .iter()
            .filter(|f| f.suppression.is_none() && f.policy != "CL001")
            .count();
        if !args.quiet {
            eprintln!("claimlint: recorded {recorded} findings in {}", path.display());
        }
        return exit(if run.has_input_errors() {
            ExitStatus::Error
        } else {
            ExitStatus::Clean
        });
    }
    for output in &outputs {
        let to_terminal = output.file.is_none() && std::io::stdout().is_terminal();
        let text = render(args, proof, output.format, to_terminal, &run);
        if let Err(error) = write_output(output.file.as_ref(), &text) {
            eprintln!(
                "claimlint: {}",
                claimlint::report::escape::lines(&error.to_string())
            );
            return exit(ExitStatus::Error);
        }
    }
    let status = run.exit_status(args.fail_on.into());
    // The process ends here: freeing every file's text and every finding one by one would only
    // delay the exit (a tenth of a second at 50,000 files).
    std::mem::forget(run);
    exit(status)
}

/// The reports to write: each `--format`, with `--output` for the one given without a file.
/// At most one goes to standard output.
fn outputs(args: &CheckArgs) -> Result<Vec<Output>, String> {
    let mut outputs = args.format.clone();
    if outputs.is_empty() {
        outputs.push(Output {
            format: Format::Human,
            file: None,
        });
    }
    let unnamed = outputs.iter().filter(|o| o.file.is_none()).count();
    if unnamed > 1 {
        return Err("more than one --format writes to standard output; give the others a file (`--format sarif=claimlint.sarif`)".into());
    }
    if let Some(file) = &args.output {
        match outputs.iter_mut().find(|o| o.file.is_none()) {
            Some(output) => output.file = Some(file.clone()),
            None => return Err("--output names a file, but every --format already has one".into()),
        }
    }
    let mut files: Vec<&PathBuf> = outputs.iter().filter_map(|o| o.file.as_ref()).collect();
    files.sort();
    if files.windows(2).any(|w| w[0] == w[1]) {
        return Err("two reports would write the same file".into());
    }
    Ok(outputs)
}

fn render(
    args: &CheckArgs,
    proof: ProofArg,
    format: Format,
    to_terminal: bool,
    run: &claimlint::CheckRun,
) -> String {
    let report = &run.report;
    let width = width(to_terminal);
    let summary = |mut text: String| {
        if !args.quiet {
            // Which file a YAML export was read from, when it is not `tenant.yaml`.
            text.push_str(&report::human::files_read(report));
            match format {
                Format::Human => text.push_str(&report::human::summary_wrapped(&report.summary, width)),
                _ => {
                    text.push_str(&report::human::summary_line(&report.summary));
                    text.push('\n');
                }
            }
        }
        text
    };
    match format {
        Format::Human | Format::Concise if args.statistics => summary(report::human::statistics(report)),
        Format::Human => {
            let color = color(args.color, to_terminal);
            let style = report::human::Style {
                color,
                width,
                proof: match proof {
                    ProofArg::Full => report::human::ProofDetail::Full,
                    ProofArg::Short => report::human::ProofDetail::Short,
                    ProofArg::None => report::human::ProofDetail::None,
                },
                hyperlinks: color
                    && to_terminal
                    && supports_hyperlinks::on(supports_hyperlinks::Stream::Stdout),
                docs: run
                    .policies
                    .iter()
                    .filter_map(|p| p.docs_url().map(|url| (p.id.clone(), url)))
                    .collect(),
            };
            summary(report::human::render_findings(report, &run.sources, &style))
        }
        Format::Concise => summary(report::concise::render_findings(report)),
        Format::Json => report::json::render(report),
        Format::Sarif => report::sarif::render(report, &run.sources, &run.policies),
        Format::Github => report::github::render(report),
    }
}

/// Whether to colour: `--color always|never`, else FORCE_COLOR or CLICOLOR_FORCE (set and not
/// `0`) force it, NO_COLOR (set and not empty) turns it off, and otherwise a terminal gets it.
fn color(choice: Color, to_terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto if set("FORCE_COLOR") || set("CLICOLOR_FORCE") => true,
        Color::Auto if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => false,
        Color::Auto => to_terminal,
    }
}

/// Columns for human output: `COLUMNS` when set, the terminal's width on a terminal, else 100.
fn width(to_terminal: bool) -> usize {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok());
    let terminal = || {
        to_terminal
            .then(|| terminal_size::terminal_size_of(std::io::stdout()))
            .flatten()
            .map(|(terminal_size::Width(w), _)| usize::from(w))
    };
    columns.or_else(terminal).unwrap_or(100).clamp(40, 400)
}

fn completions(args: &CompletionsArgs) -> ExitCode {
    use clap::CommandFactory;
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "claimlint", &mut out);
    match write_output(None, &String::from_utf8_lossy(&out)) {
        Ok(()) => exit(ExitStatus::Clean),
        Err(error) => {
            eprintln!(
                "claimlint: {}",
                claimlint::report::escape::lines(&error.to_string())
            );
            exit(ExitStatus::Error)
        }
    }
}

fn write_output(path: Option<&PathBuf>, text: &str) -> Result<(), String> {
    match path {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
                // A closed pipe (`claimlint | head`) is not an error (as in ripgrep).
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.map_err(|e| format!("cannot write the report: {e}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
