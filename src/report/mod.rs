//! Reporters: render a [`Report`] for people (`human`) or machines (`json`, `sarif`).
//!
//! [`Report`] is the JSON output contract (`schemas/output.schema.json`); every other format is
//! rendered from it, so all formats agree on what was found.

pub mod concise;
pub mod escape;
pub mod fix;
pub mod github;
pub mod human;
pub mod json;
pub mod policies;
pub mod sarif;
pub mod token;

use serde::Serialize;

use crate::finding::{Finding, Severity};
use crate::model::ExportFormat;

/// Version of the JSON output contract; bumped on any incompatible change.
pub const OUTPUT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub tool: Tool,
    pub exports: Vec<ExportSummary>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
    pub information_uri: &'static str,
}

impl Tool {
    pub fn claimlint() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            information_uri: env!("CARGO_PKG_HOMEPAGE"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    /// The export's folder, relative to the current directory.
    pub root: String,
    /// The YAML file read, when it is not the folder's `tenant.yaml`/`tenant.yml`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub format: ExportFormat,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    pub files: usize,
    pub exports: usize,
    /// Findings left out because they involve none of the files named on the command line
    /// (`--all` reports them).
    #[serde(skip_serializing_if = "is_zero")]
    pub left_out: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    pub fn count(findings: &[Finding], files: usize, exports: usize) -> Summary {
        let of = |s: Severity| {
            findings
                .iter()
                .filter(|f| f.severity == s && f.suppression.is_none())
                .count()
        };
        Summary {
            errors: of(Severity::Error),
            warnings: of(Severity::Warning),
            notes: of(Severity::Note),
            files,
            exports,
            left_out: 0,
        }
    }
}
