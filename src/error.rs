//! The library's fatal errors: problems that stop a run before anything is linted.

/// A problem that stops the run before anything is linted.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error(
        "no Auth0 export found in {paths} (looked for tenant.yaml, tenant.yml or tenant.json, resource folders such as rules/ and clients/, or rule, action and hook sources such as rules/*.js)"
    )]
    #[diagnostic(code(claimlint::no_export))]
    NoExport { paths: String },

    #[error("{path} does not exist")]
    #[diagnostic(code(claimlint::missing_path))]
    MissingPath { path: String },

    #[error("cannot use the keyword file {path}: {message}")]
    #[diagnostic(
        code(claimlint::keywords),
        help("give a JSON object mapping keyword names to values, as in AUTH0_KEYWORD_REPLACE_MAPPINGS")
    )]
    Keywords { path: String, message: String },

    #[error("{message}")]
    #[diagnostic(code(claimlint::config))]
    Config { message: String },

    #[error("`{flag} {selector}` names no policy; `claimlint policies` lists them")]
    #[diagnostic(code(claimlint::selector))]
    Selector { flag: &'static str, selector: String },

    #[error("cannot write {path}: {message}")]
    #[diagnostic(code(claimlint::write))]
    Write { path: String, message: String },

    #[error("cannot start {jobs} worker threads: {message}")]
    #[diagnostic(code(claimlint::jobs))]
    Jobs { jobs: usize, message: String },
}
