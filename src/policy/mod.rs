//! Policies as data: loading, validating and listing them.
//!
//! A policy file binds a built-in check function ([`crate::checks`]) to options, a severity and
//! message text. Built-in policies are embedded from `policies/`; users add their own folders.
//! Validation runs in two stages, as in Spectral: the file against `schemas/policy.schema.json`,
//! then `options` against the check's own schema. Every problem is reported, located.

pub mod template;
pub mod validate;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::checks::{self, CheckDef};
use crate::finding::Severity;
use crate::model::{InputError, Loc};
use crate::source::{SourceFile, SourceId, SourceMap, Span, display_path};
use crate::syntax::Node;
use validate::Schema;

pub const POLICY_SCHEMA: &str = include_str!("../../schemas/policy.schema.json");
pub const CONFIG_SCHEMA: &str = include_str!("../../schemas/config.schema.json");

/// Prefix of the paths of embedded files, which are not on the user's disk.
pub const BUILTIN_PREFIX: &str = "claimlint:";

/// The policy reference generated from the built-in policies (`docs/policies.md`), as GitHub
/// shows it; each built-in policy is a section of it.
pub const DOCS_PAGE: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/policies.md");

macro_rules! builtin {
    ($($file:literal),* $(,)?) => {
        /// The built-in policy files: path in the repository and text.
        pub const BUILTIN_POLICIES: &[(&str, &str)] = &[
            $((concat!("policies/", $file), include_str!(concat!("../../policies/", $file)))),*
        ];
    };
}

builtin!(
    "CL001-input-error.yaml",
    "CL002-expired-suppression.yaml",
    "CL003-unused-suppression.yaml",
    "CL004-suppression-without-reason.yaml",
    "CL005-evaluation-incomplete.yaml",
    "CL101-non-namespaced-claim.yaml",
    "CL102-auth0-domain-namespace.yaml",
    "CL103-restricted-claim.yaml",
    "CL104-unresolved-claim-name.yaml",
    "CL105-denied-attribute-in-claim.yaml",
    "CL106-claim-missing-on-refresh.yaml",
    "CL107-suspicious-namespace-host.yaml",
    "CL201-nested-deny-path.yaml",
    "CL202-sensitive-attribute-not-denied.yaml",
    "CL203-saml-debug-logs-denied-attributes.yaml",
    "CL204-denied-attribute-excluded-from-token.yaml",
    "CL205-partial-options-update.yaml",
    "CL206-duplicate-deny-entry.yaml",
    "CL301-legacy-profile-enabled.yaml",
    "CL302-non-oidc-conformant-client.yaml",
    "CL303-legacy-claim-reliance.yaml",
    "CL304-legacy-grant-type.yaml",
);

/// One loaded policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub id: String,
    pub name: String,
    pub severity: Severity,
    pub check: &'static CheckDef,
    pub options: serde_json::Value,
    pub summary: String,
    pub message: String,
    pub help: Option<String>,
    pub docs: String,
    pub tags: Vec<String>,
    pub security_severity: Option<String>,
    pub precision: Option<String>,
    pub url: Option<String>,
    /// The policy file, and its tree (for labels on option entries).
    pub file: SourceId,
    pub node: Node,
    pub builtin: bool,
    /// Turned off by configuration.
    pub enabled: bool,
}

impl Policy {
    /// Where an entry of the policy file is, e.g. `/options/attributes/3`; the id when absent.
    pub fn loc_of(&self, pointer: &str) -> Loc {
        let node = self
            .node
            .pointer(pointer)
            .or_else(|| self.node.get("id"))
            .unwrap_or(&self.node);
        Loc {
            file: self.file,
            span: node.span,
            pointer: pointer.to_string(),
        }
    }

    /// Whether a policy reference (`CL201` or `nested-deny-path`) names this policy.
    pub fn is(&self, reference: &str) -> bool {
        self.id.eq_ignore_ascii_case(reference) || self.name == reference
    }

    /// Whether the policy is tagged `security`: GitHub code scanning treats such rules as
    /// security rules, ranked by `security_severity`.
    pub fn is_security(&self) -> bool {
        self.tags.iter().any(|t| t == SECURITY_TAG)
    }

    /// The heading of the policy's section in `docs/policies.md`: `CL101 non-namespaced-claim`.
    pub fn docs_heading(&self) -> String {
        format!("{} {}", self.id, self.name)
    }

    /// The anchor GitHub gives that heading: `cl101-non-namespaced-claim`.
    pub fn docs_anchor(&self) -> String {
        github_anchor(&self.docs_heading())
    }

    /// Where the policy is documented: for a built-in policy its section of claimlint's policy
    /// reference on GitHub, for a user policy its own `url` (if it has one). The SARIF `helpUri`
    /// and the human report's link both come from here.
    pub fn docs_url(&self) -> Option<String> {
        if self.builtin {
            Some(format!("{DOCS_PAGE}#{}", self.docs_anchor()))
        } else {
            self.url.clone()
        }
    }
}

/// The tag that makes a policy a security rule for GitHub code scanning.
pub const SECURITY_TAG: &str = "security";

/// The anchor GitHub derives from a Markdown heading: lower-cased, spaces turned into `-`, and
/// every character that is not a letter, digit, `-` or `_` left out.
pub fn github_anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

fn policy_schema() -> Result<&'static Schema, String> {
    static SCHEMA: OnceLock<Result<Schema, String>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Schema::compile(POLICY_SCHEMA))
        .as_ref()
        .map_err(Clone::clone)
}

/// A check's options schema, compiled once per process (every run validates policies with it).
fn check_schema(check: &'static CheckDef) -> Result<Arc<Schema>, String> {
    static SCHEMAS: OnceLock<std::sync::Mutex<std::collections::HashMap<&'static str, Arc<Schema>>>> =
        OnceLock::new();
    let schemas = SCHEMAS.get_or_init(Default::default);
    if let Some(schema) = schemas.lock().ok().and_then(|m| m.get(check.name).cloned()) {
        return Ok(schema);
    }
    let schema = Arc::new(
        Schema::compile(check.schema).map_err(|e| format!("options schema of `{}`: {e}", check.name))?,
    );
    if let Ok(mut map) = schemas.lock() {
        map.insert(check.name, schema.clone());
    }
    Ok(schema)
}

/// Registers a policy or config file's text and parses it; syntax problems are reported.
pub fn register_yaml(
    sources: &mut SourceMap,
    path: &Path,
    display: String,
    text: Arc<str>,
    problems: &mut Vec<InputError>,
) -> (SourceId, Option<Node>) {
    let parsed = crate::syntax::yaml::parse(&text);
    register_parsed(sources, path, display, text, parsed, problems)
}

/// As [`register_yaml`], for a text already parsed.
fn register_parsed(
    sources: &mut SourceMap,
    path: &Path,
    display: String,
    text: Arc<str>,
    parsed: crate::syntax::Parsed,
    problems: &mut Vec<InputError>,
) -> (SourceId, Option<Node>) {
    let id = sources.add(SourceFile::new(
        path.to_path_buf(),
        display.clone(),
        display,
        text,
    ));
    for error in parsed.errors {
        problems.push(InputError {
            loc: Loc {
                file: id,
                span: error.span,
                pointer: String::new(),
            },
            message: error.message,
        });
    }
    (id, parsed.root)
}

/// Reads one policy file, held against the policy schema and its check's options schema when
/// `validate`. Built-in policies are read without: they are compiled in, [`load_builtin_validated`]
/// checks them (the policy meta-tests do), and compiling the schemas is a fixed cost every run
/// would otherwise pay first, on one core.
pub fn parse_policy(
    file: SourceId,
    node: Node,
    builtin: bool,
    validate: bool,
    problems: &mut Vec<InputError>,
) -> Option<Policy> {
    let at = |pointer: &str, node: &Node| Loc {
        file,
        span: node.pointer(pointer).map_or(node.span, |n| n.span),
        pointer: pointer.to_string(),
    };
    let before = problems.len();
    if validate {
        match policy_schema() {
            Ok(schema) => problems.extend(schema.problems(file, &node, "", "the policy")),
            Err(message) => {
                problems.push(InputError {
                    loc: at("", &node),
                    message,
                });
                return None;
            }
        }
    }
    node.as_object()?;
    let text = |key: &str| node.get(key).and_then(Node::as_str).map(str::to_string);
    let check_name = text("check")?;
    let Some(check) = checks::find(&check_name) else {
        let known: Vec<_> = checks::CHECKS.iter().map(|c| c.name).collect();
        problems.push(InputError {
            loc: at("/check", &node),
            message: format!(
                "unknown check `{check_name}`; the built-in checks are {}",
                known.join(", ")
            ),
        });
        return None;
    };
    let options_node = node
        .get("options")
        .cloned()
        .unwrap_or_else(|| Node::new(Span::default(), crate::syntax::Value::Object(Vec::new())));
    if validate {
        match check_schema(check) {
            Ok(schema) => problems.extend(schema.problems(file, &options_node, "/options", "`options`")),
            Err(message) => problems.push(InputError {
                loc: at("/check", &node),
                message,
            }),
        }
    }
    let options = options_node.to_json();
    if check.name == "value-match" {
        for (pointer, message) in checks::value_match::validate(&options) {
            problems.push(InputError {
                loc: at(&pointer, &node),
                message,
            });
        }
    }
    for key in ["message", "help"] {
        let Some(template) = text(key) else { continue };
        for name in template::placeholders(&template) {
            if !check.variables.contains(&name) {
                problems.push(InputError {
                    loc: at(&format!("/{key}"), &node),
                    message: format!(
                        "`{key}` uses `{{{name}}}`, which check `{}` does not provide; it provides {}",
                        check.name,
                        check
                            .variables
                            .iter()
                            .map(|v| format!("`{{{v}}}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
    }
    if node.get("security_severity").is_some()
        && !node
            .get("tags")
            .and_then(Node::as_array)
            .is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some(SECURITY_TAG)))
    {
        problems.push(InputError {
            loc: at("/security_severity", &node),
            message: format!(
                "`security_severity` is only for security rules: add `{SECURITY_TAG}` to `tags`, or \
                 remove it (GitHub code scanning treats every rule with a security severity as a \
                 security rule)"
            ),
        });
    }
    if problems.len() > before {
        return None;
    }
    let severity = match text("severity").as_deref() {
        Some("error") => Severity::Error,
        Some("warning") => Severity::Warning,
        _ => Severity::Note,
    };
    let tags = node
        .get("tags")
        .and_then(Node::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let message = text("message").unwrap_or_default();
    Some(Policy {
        id: text("id").unwrap_or_default(),
        name: text("name").unwrap_or_default(),
        severity,
        check,
        options,
        summary: text("summary").unwrap_or_else(|| message.clone()),
        message,
        help: text("help"),
        docs: text("docs").unwrap_or_default(),
        tags,
        security_severity: text("security_severity"),
        precision: text("precision"),
        url: text("url"),
        file,
        node,
        builtin,
        enabled: true,
    })
}

/// The built-in policies, registered under `claimlint:policies/...`.
pub fn load_builtin(sources: &mut SourceMap, problems: &mut Vec<InputError>) -> Vec<Policy> {
    builtin_policies(sources, false, problems)
}

/// As [`load_builtin`], each policy also held against the policy schema and its check's
/// options schema, as a policy file of the user's is.
pub fn load_builtin_validated(sources: &mut SourceMap, problems: &mut Vec<InputError>) -> Vec<Policy> {
    builtin_policies(sources, true, problems)
}

fn builtin_policies(sources: &mut SourceMap, validate: bool, problems: &mut Vec<InputError>) -> Vec<Policy> {
    // The built-in files never change: each is parsed once per process.
    static PARSED: OnceLock<Vec<crate::syntax::Parsed>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        BUILTIN_POLICIES
            .iter()
            .map(|(_, text)| crate::syntax::yaml::parse(text))
            .collect()
    });
    let mut policies = Vec::new();
    for ((path, text), parsed) in BUILTIN_POLICIES.iter().zip(parsed) {
        let display = format!("{BUILTIN_PREFIX}{path}");
        let (file, node) = register_parsed(
            sources,
            Path::new(path),
            display,
            Arc::from(*text),
            parsed.clone(),
            problems,
        );
        if let Some(policy) = node.and_then(|node| parse_policy(file, node, true, validate, problems)) {
            policies.push(policy);
        }
    }
    policies
}

/// Every `*.yaml`/`*.yml` file directly inside `dir`.
///
/// A file that cannot be read (not UTF-8, a link out, a special file) goes to `unread`: it is
/// reported, and the other policies are still used. Problems inside a file go to `problems`.
pub fn load_dir(
    dir: &Path,
    within: &Path,
    cwd: &Path,
    sources: &mut SourceMap,
    problems: &mut Vec<InputError>,
    unread: &mut Vec<InputError>,
) -> Result<Vec<Policy>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the policy folder {}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    let mut policies = Vec::new();
    for path in paths {
        // A policy file is read only if it stays inside its folder, and a problem reading one
        // is reported at that file while the others are still used.
        let read = crate::load::files::read_named_beneath(within, &path).map_err(|mut error| {
            if error.outside {
                error.message = if within == dir {
                    "a symbolic link to outside the policy folder; it was not read".into()
                } else {
                    "a symbolic link to outside the repository; it was not read".into()
                };
            }
            error
        });
        let (text, problem) = match read {
            Ok(text) => (text, None),
            Err(error) => {
                let (text, at) = error.text.unwrap_or_default();
                (
                    text,
                    Some((at, format!("cannot read policy file: {}", error.message))),
                )
            }
        };
        if let Some((at, message)) = problem {
            let shown = display_path(&path, cwd);
            let id = sources.add(SourceFile::new(
                path.clone(),
                shown.clone(),
                shown,
                Arc::from(text),
            ));
            unread.push(InputError {
                loc: Loc {
                    file: id,
                    span: crate::source::Span::new(at, at),
                    pointer: String::new(),
                },
                message,
            });
            continue;
        }
        let (file, node) = register_yaml(
            sources,
            &path,
            display_path(&path, cwd),
            Arc::from(text),
            problems,
        );
        if let Some(policy) = node.and_then(|node| parse_policy(file, node, false, true, problems)) {
            policies.push(policy);
        }
    }
    Ok(policies)
}

/// Reports every policy whose id is already taken, at its `id`.
pub fn check_unique(policies: &[Policy], sources: &SourceMap, problems: &mut Vec<InputError>) {
    for (i, policy) in policies.iter().enumerate() {
        if let Some(first) = policies[..i].iter().find(|p| p.id == policy.id) {
            problems.push(InputError {
                loc: policy.loc_of("/id"),
                message: format!(
                    "policy id `{}` is already used by {}",
                    policy.id,
                    sources.get(first.file).display
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::github_anchor;

    #[test]
    fn headings_become_github_anchors() {
        assert_eq!(
            github_anchor("CL101 non-namespaced-claim"),
            "cl101-non-namespaced-claim"
        );
        assert_eq!(github_anchor("ACME_01 x-y"), "acme_01-x-y");
        assert_eq!(github_anchor("What it flags?"), "what-it-flags");
        assert_eq!(github_anchor("`claimlint` (v1.2)"), "claimlint-v12");
    }
}
