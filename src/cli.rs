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
    /// Evaluate one login: the ID and access tokens the tenant would issue, with the trace.
    Token(TokenArgs),
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

    /// `oidc-basic-profile` (default), `oauth2-refresh-token`, or `oauth2-client-credentials`.
    #[arg(long)]
    pub protocol: Option<String>,

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Export folders, folders holding exports, or files inside exports. Defaults to `.`.
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human, help_heading = "Output")]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto, help_heading = "Output")]
    pub color: Color,

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

    /// Leave the proofs (evaluated logins) out of token findings.
    #[arg(long, help_heading = "Output")]
    pub no_proof: bool,

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
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
        Some(Command::Token(args)) => token(&args),
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
            report::human::render(&report, &sources, std::io::stderr().is_terminal())
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
            eprintln!("claimlint: {error}");
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
            eprintln!("claimlint: {error}");
            exit(ExitStatus::Error)
        }
    }
}

fn token(args: &TokenArgs) -> ExitCode {
    let options = claimlint::TokenOptions {
        path: args.path.clone(),
        client: args.client.clone().unwrap_or_default(),
        connection: args.connection.clone(),
        protocol: args.protocol.clone(),
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
        eprintln!(
            "claimlint: {}:{}:{}: {}",
            at.file, at.line, at.column, finding.message
        );
    }
    let text = match args.format {
        ListFormat::Json => report::token::json(&run.evaluation),
        ListFormat::Human => report::token::human(&run.evaluation),
    };
    if let Err(error) = write_output(None, &text) {
        eprintln!("claimlint: {error}");
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
    eprintln!("claimlint: {error}");
    exit(ExitStatus::Error)
}

fn check(args: &CheckArgs) -> ExitCode {
    let options = CheckOptions {
        keywords: args.keywords.clone(),
        jobs: args.jobs,
        no_proof: args.no_proof,
        include_suppressed: args.include_suppressed,
        no_inline_suppressions: args.no_inline_suppressions,
        baseline: args.baseline.clone(),
        ..options(&args.paths, &args.policies)
    };
    let run = match claimlint::check(&options) {
        Ok(run) => run,
        Err(error) => return fatal(error),
    };
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let text = match args.format {
        Format::Human => report::human::render(&run.report, &run.sources, color),
        Format::Json => report::json::render(&run.report),
        Format::Sarif => report::sarif::render(&run.report, &run.sources, &run.policies),
        Format::Github => report::github::render(&run.report),
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
        eprintln!("claimlint: recorded {recorded} findings in {}", path.display());
        return exit(if run.has_input_errors() {
            ExitStatus::Error
        } else {
            ExitStatus::Clean
        });
    }
    if let Err(error) = write_output(args.output.as_ref(), &text) {
        eprintln!("claimlint: {error}");
        return exit(ExitStatus::Error);
    }
    exit(run.exit_status(args.fail_on.into()))
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
