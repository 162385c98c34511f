//! User configuration: `.claimlint.yaml`.
//!
//! Found by walking up from each export to the repository root (the folder holding `.git`), or
//! given with `--config`. It can extend other config files, add policy folders, pick the
//! platform profile, turn policies off or change their severity, ignore paths, and suppress
//! findings with a reason and an optional expiry date. Validated against
//! `schemas/config.schema.json`; every problem is reported with its location.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use globset::{GlobBuilder, GlobMatcher};

use crate::finding::Severity;
use crate::model::{InputError, Loc};
use crate::platform::Choice;
use crate::policy::validate::Schema;
use crate::policy::{CONFIG_SCHEMA, register_yaml};
use crate::source::{SourceMap, display_path};
use crate::syntax::{Node, pointer_join};

pub const CONFIG_FILE: &str = ".claimlint.yaml";

/// `off`, or a new severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Override {
    Off,
    Severity(Severity),
}

#[derive(Debug, Clone)]
pub struct PolicyOverride {
    /// Policy id or name.
    pub policy: String,
    pub setting: Override,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub struct Suppression {
    pub policy: String,
    /// Glob over paths relative to `base`.
    pub file: String,
    /// `file`, compiled (`None` when it is not a valid glob, which is reported).
    pub file_glob: Option<GlobMatcher>,
    pub pointer: Option<String>,
    pub line: Option<u32>,
    pub reason: String,
    pub expires: Option<Spanned>,
    pub base: PathBuf,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub struct Spanned {
    pub value: String,
    pub loc: Loc,
}

/// An `ignore:` pattern: findings in the files it matches, or in folders it matches, are dropped.
#[derive(Debug, Clone)]
pub struct IgnorePattern {
    pub glob: String,
    pub matcher: GlobMatcher,
    /// The folder of the config file that holds it; the pattern is relative to it.
    pub base: PathBuf,
    /// Where the pattern is written, for the report that it matches nothing.
    pub loc: Loc,
}

impl IgnorePattern {
    /// Whether `path` is ignored: the pattern matches it or a folder it lies in, as a
    /// `.gitignore` entry for a folder covers everything below it.
    pub fn covers(&self, path: &Path) -> bool {
        let Some(rel) = relative_to(path, &self.base) else {
            return false;
        };
        Path::new(&rel)
            .ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .any(|a| self.matcher.is_match(a))
    }
}

impl Suppression {
    /// Whether `file:` matches `path` (relative to the config file's folder).
    pub fn covers_file(&self, path: &Path) -> bool {
        self.file_glob
            .as_ref()
            .is_some_and(|glob| relative_to(path, &self.base).is_some_and(|rel| glob.is_match(rel)))
    }
}

/// Compiles a path glob of the config (relative to the config file's folder): `*`, `?` and
/// classes `[ab]` within one path segment, `**` across segments, `{a,b}` alternatives. A leading
/// `./` and a trailing `/` are dropped. The error says what is wrong with the pattern.
pub fn compile_glob(pattern: &str) -> Result<GlobMatcher, String> {
    let trimmed = pattern.strip_prefix("./").unwrap_or(pattern);
    let trimmed = match trimmed.trim_end_matches('/') {
        "" => trimmed,
        kept => kept,
    };
    GlobBuilder::new(trimmed)
        .literal_separator(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|error| format!("`{pattern}` is not a valid glob: {}", error.kind()))
}

/// The `platform:` setting: a built-in profile or a platform file (resolved against the
/// config file that names it), and where it is written.
#[derive(Debug, Clone)]
pub struct PlatformSetting {
    pub choice: Choice,
    pub loc: Loc,
}

/// A config file and everything it extends, merged.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file itself (`None` when no config was found).
    pub path: Option<PathBuf>,
    pub platform: Option<PlatformSetting>,
    pub policy_dirs: Vec<PathBuf>,
    /// Where each of `policy_dirs` is written.
    pub policy_dir_locs: Vec<Loc>,
    /// The repository the config lives in: what it names (`extends`, `policies`, a platform
    /// file) must stay inside. `None` without a config.
    pub boundary: Option<PathBuf>,
    pub overrides: Vec<PolicyOverride>,
    pub ignore: Vec<IgnorePattern>,
    pub suppressions: Vec<Suppression>,
    /// `limits:`: the script budgets (a config that extends another overrides it key by key).
    pub script_limits: crate::js::prescan::Limits,
    /// `fix:`: what `claimlint fix` needs to know.
    pub fix: FixSettings,
}

/// The `fix:` section of a config.
#[derive(Debug, Clone, Default)]
pub struct FixSettings {
    /// `fix.namespace`: where CL101/CL102 fixes move claims (`https://example.com/`).
    pub namespace: Option<String>,
}

/// The config that applies to an export: the nearest `.claimlint.yaml` up to the repository root.
pub fn find_for(export_root: &Path) -> Option<PathBuf> {
    let absolute = absolute(export_root);
    for dir in absolute.ancestors() {
        let candidate = dir.join(CONFIG_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    None
}

/// Loads a config file and what it extends. Problems in the files are collected; only a config
/// file that cannot be read at all is an `Err`.
pub fn load(
    path: &Path,
    named_by_user: bool,
    cwd: &Path,
    sources: &mut SourceMap,
    problems: &mut Vec<InputError>,
) -> Result<Config, String> {
    let boundary = repository_root(path);
    // A config found beside the export is the repository's and must stay inside it (it may be a
    // link); one named with `--config` is read wherever it is.
    let read = if named_by_user {
        crate::load::files::read_named(path)
    } else {
        crate::load::files::read_named_beneath(&boundary, path)
    };
    let text = match read {
        Ok(text) => Source::Text(text, None),
        Err(error) => match error.text {
            Some((text, at)) => Source::Text(text, Some((at, error.message))),
            None if error.outside => {
                return Err(format!(
                    "cannot read config file {}: it is a link to outside the repository ({})",
                    display_path(path, cwd),
                    display_path(&boundary, cwd)
                ));
            }
            None => {
                return Err(format!(
                    "cannot read config file {}: {}",
                    display_path(path, cwd),
                    error.message
                ));
            }
        },
    };
    static SCHEMA: std::sync::OnceLock<Result<Schema, String>> = std::sync::OnceLock::new();
    let schema = SCHEMA
        .get_or_init(|| Schema::compile(CONFIG_SCHEMA))
        .as_ref()
        .map_err(|e| format!("built-in config schema: {e}"))?;
    let mut config = Config {
        path: Some(path.to_path_buf()),
        boundary: Some(boundary.clone()),
        ..Config::default()
    };
    let mut reading = Reading {
        cwd,
        schema,
        boundary,
        visiting: Vec::new(),
    };
    load_into(&mut config, path, text, &mut reading, sources, problems);
    Ok(config)
}

/// The folder `extends` may not leave: the repository holding the config (the nearest folder
/// above it with `.git`), or the config's own folder outside a repository.
fn repository_root(config: &Path) -> PathBuf {
    let folder = lexical(&absolute(config))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    folder
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(&folder)
        .to_path_buf()
}

/// What stays the same while a config and everything it extends are read.
struct Reading<'a> {
    cwd: &'a Path,
    schema: &'a Schema,
    boundary: PathBuf,
    visiting: Vec<PathBuf>,
}

/// How a config file is reached: the one given (already read, with a problem in its text), or
/// through `extends`.
enum Source<'a> {
    Text(String, Option<(usize, String)>),
    Extends(&'a Loc),
}

fn load_into(
    config: &mut Config,
    path: &Path,
    source: Source<'_>,
    reading: &mut Reading<'_>,
    sources: &mut SourceMap,
    problems: &mut Vec<InputError>,
) {
    let cwd = reading.cwd;
    let normal = lexical(&absolute(path));
    let (text, problem) = match source {
        Source::Text(text, problem) => (text, problem),
        Source::Extends(at) => {
            let refuse = |message: String, problems: &mut Vec<InputError>| {
                problems.push(InputError {
                    loc: at.clone(),
                    message,
                });
            };
            if reading.visiting.contains(&normal) {
                let message = format!("`extends` loops back to {}", display_path(path, cwd));
                return refuse(message, problems);
            }
            // Opened beneath the repository's handle: a config in a pull request must not make
            // claimlint read (and echo) a file outside the repository, or block on a device.
            match crate::load::files::read_named_beneath(&reading.boundary, path) {
                Ok(text) => (text, None),
                Err(error) if error.outside => {
                    let message = format!(
                        "`extends` names {}, outside the repository ({}); only configs inside it can be extended",
                        display_path(path, cwd),
                        display_path(&reading.boundary, cwd)
                    );
                    return refuse(message, problems);
                }
                Err(error) => match error.text {
                    Some((text, at)) => (text, Some((at, error.message))),
                    None => {
                        let message = format!(
                            "cannot read config file {}: {}",
                            display_path(path, cwd),
                            error.message
                        );
                        return refuse(message, problems);
                    }
                },
            }
        }
    };
    reading.visiting.push(normal);
    let (file, root) = register_yaml(sources, path, display_path(path, cwd), Arc::from(text), problems);
    if let Some((at, message)) = problem {
        problems.push(InputError {
            loc: Loc {
                file,
                span: crate::source::Span::new(at, at + 1),
                pointer: String::new(),
            },
            message,
        });
        return;
    }
    let Some(root) = root else { return };
    if root.is_null() {
        return;
    }
    // Keep reading after shape problems: the readers below skip what is malformed, so the
    // semantic problems (unknown policies, impossible dates) are reported in the same run.
    problems.extend(reading.schema.problems(file, &root, "", "the config"));
    if root.as_object().is_none() {
        return;
    }
    let base = absolute(path).parent().map(Path::to_path_buf).unwrap_or_default();
    let loc = |pointer: String, node: &Node| Loc {
        file,
        span: node.span,
        pointer,
    };

    if let Some(extends) = root.get("extends") {
        let items: Vec<(String, &Node)> = match extends.as_array() {
            Some(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| (format!("/extends/{i}"), n))
                .collect(),
            None => vec![("/extends".to_string(), extends)],
        };
        for (pointer, node) in items {
            let Some(target) = node.as_str() else { continue };
            let at = loc(pointer, node);
            load_into(
                config,
                &base.join(target),
                Source::Extends(&at),
                reading,
                sources,
                problems,
            );
        }
    }
    if let Some(node) = root.get("platform")
        && let Some(platform) = node.as_str()
    {
        // A platform file is relative to the config file that names it.
        config.platform = Some(PlatformSetting {
            choice: Choice::parse(platform, &base),
            loc: loc("/platform".into(), node),
        });
    }
    for (i, (dir, node)) in strings(&root, "policies").into_iter().enumerate() {
        config.policy_dirs.push(base.join(dir));
        config.policy_dir_locs.push(loc(format!("/policies/{i}"), &node));
    }
    if let Some(members) = root.get("limits").and_then(Node::as_object) {
        let limits = &mut config.script_limits;
        for member in members {
            // The schema has already reported values of the wrong type or range.
            let Some(value) = member.value.as_u64().and_then(|v| usize::try_from(v).ok()) else {
                continue;
            };
            // Clamped to the schema's ranges, which a run with schema problems never passes.
            match member.key.as_str() {
                "script_kib" => limits.bytes = value.clamp(1, 32_768) * 1024,
                "script_nesting" => limits.nesting = value.clamp(1, 50_000),
                "script_brackets" => limits.brackets = value.clamp(1, 1_000),
                "script_stray_characters" => limits.stray = value.min(100_000),
                _ => {}
            }
        }
    }
    if let Some(namespace) = root
        .get("fix")
        .and_then(|f| f.get("namespace"))
        .and_then(Node::as_str)
    {
        config.fix.namespace = Some(namespace.to_string());
    }
    if let Some(members) = root.get("overrides").and_then(Node::as_object) {
        for member in members {
            let setting = match member.value.as_str() {
                Some("off") => Override::Off,
                Some("error") => Override::Severity(Severity::Error),
                Some("warning") => Override::Severity(Severity::Warning),
                _ => Override::Severity(Severity::Note),
            };
            config.overrides.retain(|o| o.policy != member.key);
            config.overrides.push(PolicyOverride {
                policy: member.key.clone(),
                setting,
                loc: Loc {
                    file,
                    span: member.key_span,
                    pointer: pointer_join("/overrides", &member.key),
                },
            });
        }
    }
    for (i, (glob, node)) in strings(&root, "ignore").into_iter().enumerate() {
        let at = loc(format!("/ignore/{i}"), &node);
        match compile_glob(&glob) {
            Ok(matcher) => config.ignore.push(IgnorePattern {
                glob,
                matcher,
                base: base.clone(),
                loc: at,
            }),
            Err(message) => problems.push(InputError { loc: at, message }),
        }
    }
    if let Some(items) = root.get("suppressions").and_then(Node::as_array) {
        for (i, item) in items.iter().enumerate() {
            let pointer = format!("/suppressions/{i}");
            let text = |key: &str| item.get(key).and_then(Node::as_str).map(str::to_string);
            let expires = item.get("expires").and_then(|n| {
                let value = n.as_str()?.to_string();
                Some(Spanned {
                    value,
                    loc: loc(format!("{pointer}/expires"), n),
                })
            });
            if let Some(expires) = &expires
                && parse_date(&expires.value).is_none()
            {
                problems.push(InputError {
                    loc: expires.loc.clone(),
                    message: format!("`expires` is not a real date: `{}`", expires.value),
                });
            }
            let file = text("file").unwrap_or_default();
            let file_glob = match compile_glob(&file) {
                Ok(glob) => Some(glob),
                Err(message) => {
                    if let Some(node) = item.get("file") {
                        problems.push(InputError {
                            loc: loc(format!("{pointer}/file"), node),
                            message,
                        });
                    }
                    None
                }
            };
            config.suppressions.push(Suppression {
                policy: text("policy").unwrap_or_default(),
                file,
                file_glob,
                pointer: text("pointer"),
                line: item.get("line").and_then(|n| match &n.value {
                    crate::syntax::Value::Number(n) => n.parse().ok(),
                    _ => None,
                }),
                reason: text("reason").unwrap_or_default(),
                expires,
                base: base.clone(),
                loc: loc(pointer, item),
            });
        }
    }
    reading.visiting.pop();
}

fn strings(root: &Node, key: &str) -> Vec<(String, Node)> {
    root.get(key)
        .and_then(Node::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|n| Some((n.as_str()?.to_string(), n.clone())))
                .collect()
        })
        .unwrap_or_default()
}

/// `path` made absolute against the current directory.
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    }
}

/// `path` with `.` and `..` folded, without touching the disk.
pub fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `path` relative to `base` with forward slashes, when inside it.
pub fn relative_to(path: &Path, base: &Path) -> Option<String> {
    let path = lexical(&absolute(path));
    let base = lexical(&absolute(base));
    path.strip_prefix(&base)
        .ok()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
}

/// A `YYYY-MM-DD` date (the config schema checks the shape), or `None` when it is no real day
/// (`2027-02-30`).
pub fn parse_date(text: &str) -> Option<jiff::civil::Date> {
    jiff::civil::Date::strptime("%Y-%m-%d", text).ok()
}

/// Today in the user's time zone: a suppression that `expires: 2027-06-30` stops hiding findings
/// on 1 July where the user is, not at midnight UTC. The zone is the system's (or `TZ`); where it
/// cannot be found, UTC.
pub fn today() -> jiff::civil::Date {
    jiff::ZonedDateTime::now().date()
}

/// The starter config `claimlint init` writes. Its first line is the `yaml-language-server`
/// modeline naming the config schema by its `$id`, for editors (`tests/packaging.rs` and
/// `tests/cmd/init.toml` check it).
pub const STARTER: &str = r#"# yaml-language-server: $schema=https://raw.githubusercontent.com/claimlint/claimlint/main/schemas/config.schema.json
# claimlint configuration: https://github.com/claimlint/claimlint#configuration
# The line above gives editors with a YAML language server (VS Code with Red Hat's YAML extension,
# and others) completion, documentation and checks from claimlint's config schema.

# Auth0 behaviour to check against: auth0-oidc (documented OIDC-conformant rules: custom claims
# must be namespaced) or auth0-current (the relaxed 2022 rule: only restricted names are dropped),
# or a platform file of your own (a copy of claimlint's policies/platform/auth0.yaml, edited),
# relative to this file, with an optional profile: ./auth0-platform.yaml#auth0-current
platform: auth0-oidc

# Another config file this one builds on (paths are relative to this file).
# extends: ../shared/.claimlint.yaml

# Folders of your own policy files (see `claimlint explain` and the README).
# policies:
#   - ./claimlint-policies

# Turn a policy off or change its severity, by id or name.
# overrides:
#   CL301: off
#   non-oidc-conformant-client: note

# Paths (globs, relative to this file) whose findings are dropped.
# ignore:
#   - "sandbox/**"

# Findings accepted on purpose. A reason is required; after `expires` the finding is reported
# again, and a suppression that matches nothing is reported so it can be removed.
# suppressions:
#   - policy: CL302
#     file: tenant-export/clients/Legacy Portal.json
#     pointer: /oidc_conformant
#     reason: "Portal moves to the OIDC-conformant pipeline in the Q3 migration"
#     expires: 2027-06-30
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn glob_match(pattern: &str, path: &str) -> bool {
        compile_glob(pattern).unwrap().is_match(path)
    }

    #[test]
    fn globs() {
        assert!(glob_match("clients/*.json", "clients/Legacy Portal.json"));
        assert!(!glob_match("clients/*.json", "x/clients/a.json"));
        assert!(glob_match("**/clients/*.json", "x/y/clients/a.json"));
        assert!(glob_match("**", "a/b"));
        assert!(glob_match("./t/tenant.?son", "t/tenant.json"));
        assert!(glob_match("{dev,staging}/tenant.yaml", "staging/tenant.yaml"));
        assert!(!glob_match("{dev,staging}/tenant.yaml", "prod/tenant.yaml"));
        assert!(glob_match("rules/[ab]*.js", "rules/b-rule.js"));
        assert!(!glob_match("rules/[ab]*.js", "rules/c-rule.js"));
        assert!(glob_match("sandbox/", "sandbox"));
        let error = compile_glob("rules/[ab.js").unwrap_err();
        assert!(
            error.starts_with("`rules/[ab.js` is not a valid glob: "),
            "{error}"
        );
    }

    #[test]
    fn an_ignore_pattern_covers_a_folder_s_files() {
        let base = std::env::temp_dir();
        let pattern = |glob: &str| IgnorePattern {
            glob: glob.into(),
            matcher: compile_glob(glob).unwrap(),
            base: base.clone(),
            loc: Loc {
                file: crate::source::SourceId(0),
                span: crate::source::Span::default(),
                pointer: String::new(),
            },
        };
        let file = base.join("sandbox/rules/a.js");
        assert!(pattern("sandbox").covers(&file));
        assert!(pattern("sandbox/**").covers(&file));
        assert!(pattern("*/rules").covers(&file));
        assert!(!pattern("rules").covers(&file));
        assert!(!pattern("sandbox").covers(&std::env::temp_dir().join("sandboxes/a.js")));
    }

    #[test]
    fn dates() {
        use jiff::civil::date;
        assert_eq!(parse_date("1970-01-01"), Some(date(1970, 1, 1)));
        assert_eq!(parse_date("2024-02-29"), Some(date(2024, 2, 29)));
        assert_eq!(parse_date("2999-12-31"), Some(date(2999, 12, 31)));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2027-02-30"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("2026-01-01T00:00"), None);
        assert_eq!(parse_date("tomorrow"), None);
        assert!(today() > date(2025, 1, 1));
    }
}
