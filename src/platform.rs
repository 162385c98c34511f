//! The platform model: Auth0's behaviour as data (`policies/platform/auth0.yaml`).
//!
//! Checks and the claim evaluator read Auth0 facts (forbidden namespace hosts, restricted
//! claims, the order of the platform filters, the script calls that trigger MFA, what each
//! connection strategy delivers...) from here, never from Rust constants, so a change in
//! Auth0's behaviour is a change to data. A profile picks the custom-claim rule in force.
//!
//! Every key of the file is read by something: each struct below denies unknown keys, and its
//! fields are crate-private so the compiler reports a field nothing reads. A user can replace
//! the built-in file with their own (`platform: ./my-platform.yaml` in `.claimlint.yaml`, or
//! `--platform`), validated against `schemas/platform.schema.json` with located errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::model::{InputError, Loc};
use crate::policy::register_yaml;
use crate::policy::validate::Schema;
use crate::proof::Filter;
use crate::source::{SourceMap, display_path};

/// The built-in platform file, embedded so claimlint works from any folder.
pub const PLATFORM_YAML: &str = include_str!("../policies/platform/auth0.yaml");
pub const PLATFORM_PATH: &str = "policies/platform/auth0.yaml";
/// The platform file's schema, embedded.
pub const PLATFORM_SCHEMA: &str = include_str!("../schemas/platform.schema.json");
pub const DEFAULT_PROFILE: &str = "auth0-oidc";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformData {
    pub(crate) version: u32,
    pub(crate) profiles: BTreeMap<String, Profile>,
    pub(crate) filters: Vec<FilterData>,
    pub(crate) client_credentials: ClientCredentials,
    pub(crate) signals: Vec<Signal>,
    pub(crate) guardian: Guardian,
    pub(crate) forbidden_namespace_hosts: Vec<String>,
    pub(crate) suspicious_namespace_hosts: Vec<String>,
    pub(crate) restricted_claims: Vec<String>,
    pub(crate) standard_claims: BTreeMap<String, Vec<String>>,
    pub(crate) denied_never_in_tokens: Vec<String>,
    pub(crate) deny_list_exclusions: Vec<Exclusion>,
    pub(crate) legacy: Legacy,
    pub(crate) strategies: BTreeMap<String, Strategy>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub(crate) description: String,
    pub(crate) namespace_required: bool,
    pub(crate) namespace_schemes: Vec<String>,
}

/// One platform filter, in the order they apply.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterData {
    pub(crate) id: String,
    pub(crate) description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCredentials {
    /// Client-credentials tokens keep only namespaced claims, whatever the profile.
    pub(crate) namespaced_only: bool,
}

/// What a script signal does to the login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    Mfa,
    Redirect,
    Deny,
}

/// A script call or `context` assignment that triggers MFA, redirects, or denies the login.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// A host function path (`api.multifactor.enable`).
    #[serde(default)]
    pub(crate) call: Option<String>,
    /// A `context` property written (`context.redirect`).
    #[serde(default)]
    pub(crate) assign: Option<String>,
    pub(crate) effect: Effect,
    /// First arguments that make the call no signal (`api.multifactor.enable('none')`).
    #[serde(default)]
    pub(crate) unless_first_argument: Vec<String>,
    /// An assigned object whose property holds one of these values is no signal
    /// (`context.multifactor = { provider: 'none' }`).
    #[serde(default)]
    pub(crate) unless_property: BTreeMap<String, Vec<String>>,
    /// A falsy assigned value is no signal (`context.multifactor = null`).
    #[serde(default)]
    pub(crate) unless_falsy: bool,
}

impl Signal {
    /// The `context` property an `assign` signal watches (`redirect` in `context.redirect`).
    pub(crate) fn context_property(&self) -> Option<&str> {
        self.assign.as_deref()?.strip_prefix("context.")
    }
}

/// The signal table the interpreter's host reads; shared by every run of one platform.
pub type Signals = Arc<[Signal]>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guardian {
    /// Tenant MFA policies under which every login is an MFA login (with an enabled factor).
    pub(crate) every_login_policies: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    pub(crate) id: String,
    pub(crate) description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Legacy {
    pub(crate) grant_type_prefix: String,
    pub(crate) tenant_flags: Vec<String>,
    pub(crate) profile_flag: String,
}

/// What a connection strategy delivers: a list, or a mapping option and/or option flags.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Strategy {
    List(Vec<String>),
    Detail(StrategyDetail),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyDetail {
    /// The `options` key mapping Auth0 attributes to IdP attributes.
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    delivers: Vec<String>,
    /// An `options` flag → the attributes the strategy delivers when it is `true`.
    #[serde(default)]
    flags: BTreeMap<String, Vec<String>>,
}

impl Strategy {
    /// The attributes the strategy delivers on its own.
    pub fn delivers(&self) -> &[String] {
        match self {
            Strategy::List(list) => list,
            Strategy::Detail(d) => &d.delivers,
        }
    }

    /// The mapping option whose keys are the delivered attributes (`fieldsMap`).
    pub fn mapping(&self) -> Option<&str> {
        match self {
            Strategy::List(_) => None,
            Strategy::Detail(d) => d.from.as_deref(),
        }
    }

    /// Option flags and the attributes each delivers when `true`.
    pub fn flags(&self) -> impl Iterator<Item = (&str, &[String])> {
        let flags = match self {
            Strategy::List(_) => None,
            Strategy::Detail(d) => Some(&d.flags),
        };
        flags
            .into_iter()
            .flatten()
            .map(|(flag, attributes)| (flag.as_str(), attributes.as_slice()))
    }
}

/// The platform data with one profile chosen.
#[derive(Debug, Clone)]
pub struct Platform {
    pub profile_name: String,
    pub profile: Profile,
    pub data: PlatformData,
    /// The filters in the order they apply (`data.filters`, resolved).
    pub(crate) order: Vec<Filter>,
    pub(crate) signals: Signals,
}

/// A problem in a platform file: the JSON pointer of the value at fault, and what is wrong.
pub type Problem = (String, String);

/// Where the platform comes from: a built-in profile, or a user's file (and a profile in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Builtin(String),
    File { path: PathBuf, profile: Option<String> },
}

impl Choice {
    /// Reads a `platform:` value (or `--platform`): a path when it contains `/` or its part
    /// before a `#` ends in `.yaml`/`.yml`, resolved against `base`; `#PROFILE` picks a
    /// profile in the file. Anything else names a built-in profile.
    pub fn parse(value: &str, base: &Path) -> Choice {
        let (file, profile) = match value.rsplit_once('#') {
            Some((file, profile)) => (file, Some(profile.to_string())),
            None => (value, None),
        };
        let is_path = file.contains('/') || file.ends_with(".yaml") || file.ends_with(".yml");
        if is_path {
            Choice::File {
                path: base.join(file),
                profile,
            }
        } else {
            Choice::Builtin(value.to_string())
        }
    }
}

impl Platform {
    /// Loads the built-in data with `profile` (`auth0-oidc` or `auth0-current`).
    pub fn load(profile: &str) -> Result<Platform, String> {
        // The built-in data never changes: parsed once per process.
        static DATA: std::sync::OnceLock<Result<serde_json::Value, String>> = std::sync::OnceLock::new();
        let data = DATA.get_or_init(|| {
            let parsed = crate::syntax::yaml::parse(PLATFORM_YAML);
            parsed
                .root
                .map(|root| root.to_json())
                .ok_or_else(|| format!("{PLATFORM_PATH} does not parse: {:?}", parsed.errors))
        });
        Platform::from_json(data.clone()?, profile).map_err(|problems| {
            let shown: Vec<String> = problems.iter().map(|(p, m)| format!("{p}: {m}")).collect();
            format!("{PLATFORM_PATH} is malformed: {}", shown.join("; "))
        })
    }

    /// Builds a platform from a platform file's data (already valid against its schema, or
    /// not: shape problems are reported too) with `profile`. Every problem names the pointer
    /// of the value at fault.
    pub fn from_json(value: serde_json::Value, profile: &str) -> Result<Platform, Vec<Problem>> {
        let data: PlatformData =
            serde_json::from_value(value).map_err(|e| vec![(String::new(), e.to_string())])?;
        let mut problems = Vec::new();
        if data.version != 1 {
            problems.push(("/version".into(), format!("version {} is not 1", data.version)));
        }
        let order = filter_order(&data.filters, &mut problems);
        check_signals(&data.signals, &mut problems);
        for (i, exclusion) in data.deny_list_exclusions.iter().enumerate() {
            if !crate::eval::profile::EXCLUSION_IDS.contains(&exclusion.id.as_str()) {
                problems.push((
                    format!("/deny_list_exclusions/{i}/id"),
                    format!(
                        "`{}` is no deny-list exclusion claimlint knows; expected one of {}",
                        exclusion.id,
                        crate::eval::profile::EXCLUSION_IDS.join(", ")
                    ),
                ));
            }
        }
        let chosen = match data.profiles.get(profile) {
            Some(p) => Some(p.clone()),
            None => {
                let known: Vec<_> = data.profiles.keys().map(String::as_str).collect();
                problems.push((
                    "/profiles".into(),
                    format!(
                        "unknown platform profile `{profile}`; expected one of {}",
                        known.join(", ")
                    ),
                ));
                None
            }
        };
        match chosen {
            Some(chosen) if problems.is_empty() => Ok(Platform {
                profile_name: profile.to_string(),
                profile: chosen,
                signals: data.signals.clone().into(),
                order,
                data,
            }),
            _ => Err(problems),
        }
    }

    /// Loads a user's platform file with `profile` (default `auth0-oidc`): validated against
    /// `schemas/platform.schema.json`, then against what the evaluator implements; every problem
    /// is pushed to `problems` at its place in the file. `at` is where the file is named (the
    /// config's `platform:` value), for a file that cannot be read; without it (`--platform`),
    /// an unreadable file is an `Err`. `None` when the file has problems.
    pub fn load_file(
        path: &Path,
        profile: Option<&str>,
        cwd: &Path,
        at: Option<&Loc>,
        within: Option<&Path>,
        sources: &mut SourceMap,
        problems: &mut Vec<InputError>,
    ) -> Result<Option<Platform>, String> {
        let shown = display_path(path, cwd);
        let read = match within {
            Some(boundary) => crate::load::files::read_named_beneath(boundary, path),
            None => crate::load::files::read_named(path),
        };
        let text = match read {
            Ok(text) => text,
            Err(error) => {
                let message = if error.outside {
                    format!("platform file {shown} is outside the repository; only files inside it are read")
                } else {
                    format!("cannot read platform file {shown}: {}", error.message)
                };
                return match at {
                    Some(loc) => {
                        problems.push(InputError {
                            loc: loc.clone(),
                            message,
                        });
                        Ok(None)
                    }
                    None => Err(message),
                };
            }
        };
        let before = problems.len();
        let (file, root) = register_yaml(sources, path, shown, Arc::from(text), problems);
        let Some(root) = root else { return Ok(None) };
        static SCHEMA: std::sync::OnceLock<Result<Schema, String>> = std::sync::OnceLock::new();
        let schema = SCHEMA
            .get_or_init(|| Schema::compile(PLATFORM_SCHEMA))
            .as_ref()
            .map_err(|e| format!("built-in platform schema: {e}"))?;
        problems.extend(schema.problems(file, &root, "", "the platform file"));
        if problems.len() > before {
            return Ok(None);
        }
        match Platform::from_json(root.to_json(), profile.unwrap_or(DEFAULT_PROFILE)) {
            Ok(platform) => Ok(Some(platform)),
            Err(found) => {
                for (pointer, message) in found {
                    let node = root.pointer(&pointer).unwrap_or(&root);
                    problems.push(InputError {
                        loc: Loc {
                            file,
                            span: node.span,
                            pointer,
                        },
                        message,
                    });
                }
                Ok(None)
            }
        }
    }

    pub fn profiles() -> Vec<String> {
        Platform::load(DEFAULT_PROFILE)
            .map(|p| p.data.profiles.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The built-in signal table (closed runs, which have no tenant configuration).
    pub fn builtin_signals() -> Signals {
        Platform::load(DEFAULT_PROFILE)
            .map(|p| p.signals)
            .unwrap_or_else(|_| Arc::from(Vec::new()))
    }

    /// The script signal table.
    pub fn signals(&self) -> &Signals {
        &self.signals
    }

    /// The platform filters in the order they apply.
    pub fn filter_order(&self) -> &[Filter] {
        &self.order
    }

    /// Whether client-credentials tokens keep only namespaced claims.
    pub fn client_credentials_namespaced_only(&self) -> bool {
        self.data.client_credentials.namespaced_only
    }

    /// The hosts Auth0 refuses as a namespace (each with its subdomains).
    pub fn forbidden_namespace_hosts(&self) -> &[String] {
        &self.data.forbidden_namespace_hosts
    }

    /// Auth0-hosted domains off the documented list: suspicious, never dropped.
    pub fn suspicious_namespace_hosts(&self) -> &[String] {
        &self.data.suspicious_namespace_hosts
    }

    /// Tenant MFA policies that challenge every login.
    pub fn every_login_mfa_policies(&self) -> &[String] {
        &self.data.guardian.every_login_policies
    }

    /// Whether the deny-list exclusion condition `id` is in force.
    pub fn excludes_when(&self, id: &str) -> bool {
        self.data.deny_list_exclusions.iter().any(|e| e.id == id)
    }

    /// The profile's namespace rule.
    pub fn namespace_required(&self) -> bool {
        self.profile.namespace_required
    }

    /// The strategy data for `strategy`, if the platform knows it.
    pub fn strategy(&self, strategy: &str) -> Option<&Strategy> {
        self.data.strategies.get(strategy)
    }

    /// The platform model as Markdown (`docs/platform.md`): profiles, filters in order,
    /// signals, deny-list exclusions, with each description the data gives.
    pub fn markdown(&self) -> String {
        let d = &self.data;
        let mut out = String::from(
            "# The platform model\n\n<!-- Generated from policies/platform/auth0.yaml by `UPDATE_DOCS=1 cargo test --test platform`; do not edit. -->\n\n\
             Auth0's behaviour as claimlint encodes it. The data lives in \
             [`policies/platform/auth0.yaml`](../policies/platform/auth0.yaml) (schema: \
             [`schemas/platform.schema.json`](../schemas/platform.schema.json)); a copy of it can \
             replace it with `platform: ./my-platform.yaml` in `.claimlint.yaml`.\n\n## Profiles\n\n",
        );
        for (name, p) in &d.profiles {
            let rule = if p.namespace_required {
                "custom claims need a namespace"
            } else {
                "non-namespaced custom claims are kept"
            };
            out.push_str(&format!(
                "- `{name}` ({rule}; namespace schemes: {}): {}\n",
                p.namespace_schemes.join(", "),
                p.description
            ));
        }
        out.push_str("\n## Filters, in the order they apply\n\n");
        for (i, f) in d.filters.iter().enumerate() {
            out.push_str(&format!("{}. `{}`: {}\n", i + 1, f.id, f.description));
        }
        out.push_str(&format!(
            "\nClient-credentials tokens keep only namespaced claims: {}.\n\n## Script signals\n\n| signal | effect | unless |\n|---|---|---|\n",
            if d.client_credentials.namespaced_only { "yes" } else { "no" }
        ));
        for s in &d.signals {
            let what = match (&s.call, &s.assign) {
                (Some(call), _) => format!("`{call}(...)`"),
                (None, Some(assign)) => format!("`{assign} = ...`"),
                (None, None) => String::new(),
            };
            let mut unless: Vec<String> = s
                .unless_first_argument
                .iter()
                .map(|a| format!("first argument `'{a}'`"))
                .collect();
            unless.extend(s.unless_property.iter().map(|(k, v)| {
                format!(
                    "`{k}` is {}",
                    v.iter()
                        .map(|x| format!("`'{x}'`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            }));
            if s.unless_falsy {
                unless.push("a falsy value".into());
            }
            let effect = match s.effect {
                Effect::Mfa => "mfa",
                Effect::Redirect => "redirect",
                Effect::Deny => "deny",
            };
            out.push_str(&format!("| {what} | {effect} | {} |\n", unless.join(", ")));
        }
        out.push_str(&format!(
            "\nThe tenant MFA policies that make every login an MFA login (with an enabled factor): {}.\n\n## Deny-list exclusions\n\n",
            d.guardian
                .every_login_policies
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for e in &d.deny_list_exclusions {
            out.push_str(&format!("- `{}`: {}\n", e.id, e.description));
        }
        out
    }
}

/// The filters in the data's order; every filter the evaluator implements exactly once.
fn filter_order(filters: &[FilterData], problems: &mut Vec<Problem>) -> Vec<Filter> {
    let mut order = Vec::new();
    for (i, f) in filters.iter().enumerate() {
        match Filter::from_id(&f.id) {
            Some(filter) if order.contains(&filter) => problems.push((
                format!("/filters/{i}/id"),
                format!("filter `{}` is listed twice", f.id),
            )),
            Some(filter) => order.push(filter),
            None => problems.push((
                format!("/filters/{i}/id"),
                format!("`{}` is no filter claimlint implements", f.id),
            )),
        }
    }
    let missing: Vec<&str> = Filter::ALL
        .iter()
        .filter(|f| !order.contains(f))
        .map(|f| f.as_str())
        .collect();
    if !missing.is_empty() {
        problems.push((
            "/filters".into(),
            format!(
                "every filter must be listed once; missing: {}",
                missing.join(", ")
            ),
        ));
    }
    order
}

fn check_signals(signals: &[Signal], problems: &mut Vec<Problem>) {
    for (i, s) in signals.iter().enumerate() {
        let at = format!("/signals/{i}");
        match (&s.call, &s.assign) {
            (Some(_), Some(_)) | (None, None) => {
                problems.push((at, "a signal names exactly one of `call` and `assign`".into()))
            }
            (None, Some(assign))
                if s.context_property()
                    .is_none_or(|p| p.is_empty() || p.contains('.')) =>
            {
                problems.push((
                    format!("{at}/assign"),
                    format!("`{assign}` is not a property of `context` (`context.NAME`)"),
                ))
            }
            (Some(_), None) if !s.unless_property.is_empty() || s.unless_falsy => problems.push((
                at,
                "`unless_property` and `unless_falsy` apply to `assign` signals".into(),
            )),
            (None, Some(_)) if !s.unless_first_argument.is_empty() => problems.push((
                format!("{at}/unless_first_argument"),
                "`unless_first_argument` applies to `call` signals".into(),
            )),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_tell_paths_from_profiles() {
        let base = Path::new("/repo");
        assert_eq!(
            Choice::parse("auth0-current", base),
            Choice::Builtin("auth0-current".into())
        );
        assert_eq!(
            Choice::parse("./p.yaml", base),
            Choice::File {
                path: base.join("./p.yaml"),
                profile: None
            }
        );
        assert_eq!(
            Choice::parse("platform.yml#auth0-current", base),
            Choice::File {
                path: base.join("platform.yml"),
                profile: Some("auth0-current".into())
            }
        );
        assert_eq!(
            Choice::parse("conf/platform#strict", base),
            Choice::File {
                path: base.join("conf/platform"),
                profile: Some("strict".into())
            }
        );
    }

    #[test]
    fn the_built_in_order_and_signals_load() {
        let platform = Platform::load(DEFAULT_PROFILE).expect("built-in platform");
        assert_eq!(platform.filter_order().len(), Filter::ALL.len());
        assert!(platform.signals().iter().any(|s| s.effect == Effect::Deny));
    }
}
