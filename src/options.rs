//! What a run of `claimlint check` is asked to do: the options the command line and the
//! library's callers fill in, below the engine and the run that read them.

use std::path::PathBuf;
use std::sync::Arc;

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
    /// `--select`/`--ignore`: which policies run, on top of each export's configuration.
    pub selection: Selection,
    /// `--all`: when files are named, report every finding of their exports, not only those
    /// that involve the named files.
    pub all: bool,
    /// Told what the run is doing, for a progress display; the library never draws it.
    pub progress: Option<Progress>,
    /// New texts for some files, read instead of theirs (what `claimlint fix` evaluates).
    pub overlay: Option<Arc<crate::load::files::Overlay>>,
    /// Also record what each export issues and stores ([`crate::fix::Behaviour`]).
    pub behaviour: bool,
}

/// Policy selectors from the command line, as in ruff: an id (`CL201`), a name
/// (`nested-deny-path`), an id prefix (`CL2` for every CL2xx policy) or `ALL`.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// When non-empty, only the policies some selector matches run.
    pub select: Vec<String>,
    /// Policies any of these matches do not run (wins over `select`).
    pub ignore: Vec<String>,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.select.is_empty() && self.ignore.is_empty()
    }

    /// Whether `selector` names the policy `id`/`name`.
    pub fn matches(selector: &str, id: &str, name: &str) -> bool {
        selector.eq_ignore_ascii_case("ALL")
            || selector == name
            || (selector.len() >= 2
                && id
                    .get(..selector.len())
                    .is_some_and(|prefix| prefix.eq_ignore_ascii_case(selector)))
    }

    /// Whether the policy `id`/`name` runs under this selection.
    pub fn runs(&self, id: &str, name: &str) -> bool {
        let selected = self.select.is_empty() || self.select.iter().any(|s| Selection::matches(s, id, name));
        selected && !self.ignore.iter().any(|s| Selection::matches(s, id, name))
    }
}

/// A step of a run, for progress displays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Exports were found; `exports` of them will be linted.
    Found { exports: usize },
    /// The export `root` (the `index`-th, from 0) is being read and checked.
    Export { index: usize, root: String },
}

/// A callback the run reports its steps to (from the thread that runs it).
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(Step) + Send + Sync>);

impl Progress {
    pub fn report(&self, step: Step) {
        (self.0)(step);
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}
