//! What a run of `claimlint check` is asked to do: the options the command line and the
//! library's callers fill in, below the engine and the run that read them.

use std::path::PathBuf;

/// What `claimlint check` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Folders to search for exports, or files whose exports to lint. Empty means `.`.
    pub paths: Vec<PathBuf>,
    /// a0deploy's `AUTH0_KEYWORD_REPLACE_MAPPINGS` JSON, to fill in `@@KEY@@`/`##KEY##` markers.
    pub keywords: Option<PathBuf>,
    /// Worker threads for reading and parsing; `None` uses one per core.
    pub jobs: Option<usize>,
    /// `--config`: the config file for every export (otherwise each export's nearest one).
    pub config: Option<PathBuf>,
    /// `--policies`: extra policy folders.
    pub policy_dirs: Vec<PathBuf>,
    /// `--platform`: the platform profile, or a platform file (`path#profile`; overrides the
    /// config).
    pub platform: Option<String>,
    /// `--no-proof`: leave proofs out of the findings.
    pub no_proof: bool,
    /// `--include-suppressed`: keep suppressed findings in the report (marked; they never fail
    /// the run).
    pub include_suppressed: bool,
    /// `--no-inline-suppressions`: ignore `claimlint-disable` comments in scripts.
    pub no_inline_suppressions: bool,
    /// `--baseline FILE`: findings recorded there are suppressed; stale entries are reported.
    pub baseline: Option<PathBuf>,
}
