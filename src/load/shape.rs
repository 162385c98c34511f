//! What makes a file an a0deploy export: the top-level keys each form has.
//!
//! a0deploy's YAML form is one file whose top-level keys are its handler names (`tenant`,
//! `clients`, `rules`...), whatever the file is called (`a0deploy import --input_file
//! prod.yaml`). The directory form's `tenant.json` holds the tenant *settings* instead
//! (`friendly_name`, `flags`...). A file of either kind with none of its form's keys is not an
//! export, whatever its name: a Kubernetes manifest saved as `tenant.yaml` is reported, never
//! linted to "no findings".

use std::path::Path;

use super::files;
use crate::source::Span;
use crate::syntax::keywords::KeywordMap;
use crate::syntax::{Node, Parsed, Value};

/// The top-level keys of a0deploy's YAML form: its YAML handler names (a0deploy
/// `src/context/yaml/handlers/index.ts`), plus `migrations` from a0deploy 7 and older.
pub const YAML_KEYS: &[&str] = &[
    "tenant",
    "clients",
    "connections",
    "databases",
    "rules",
    "rulesConfigs",
    "hooks",
    "actions",
    "actionModules",
    "triggers",
    "resourceServers",
    "clientGrants",
    "clientAuthCredentials",
    "roles",
    "organizations",
    "pages",
    "emailProvider",
    "emailTemplates",
    "guardianFactors",
    "guardianFactorProviders",
    "guardianFactorTemplates",
    "guardianPhoneFactorMessageTypes",
    "guardianPhoneFactorSelectedProvider",
    "guardianPolicies",
    "attackProtection",
    "riskAssessment",
    "branding",
    "phoneProviders",
    "phoneTemplates",
    "logStreams",
    "prompts",
    "customDomains",
    "themes",
    "forms",
    "flows",
    "flowVaultConnections",
    "selfServiceProfiles",
    "networkACLs",
    "userAttributeProfiles",
    "connectionProfiles",
    "tokenExchangeProfiles",
    "supplementalSignals",
    "rateLimitPolicies",
    "eventStreams",
    "migrations",
];

/// The tenant settings a directory-form `tenant.json` holds (the Management API's
/// `/api/v2/tenants/settings` fields, as go-auth0 `management/tenant.go` names them, and the
/// minute variants of the session lifetimes).
pub const TENANT_SETTINGS: &[&str] = &[
    "friendly_name",
    "flags",
    "picture_url",
    "support_email",
    "support_url",
    "allowed_logout_urls",
    "session_lifetime",
    "session_lifetime_in_minutes",
    "idle_session_lifetime",
    "idle_session_lifetime_in_minutes",
    "ephemeral_session_lifetime",
    "idle_ephemeral_session_lifetime",
    "sandbox_version",
    "legacy_sandbox_version",
    "sandbox_versions_available",
    "default_audience",
    "default_directory",
    "default_redirection_uri",
    "enabled_locales",
    "change_password",
    "guardian_mfa_page",
    "error_page",
    "device_flow",
    "universal_login",
    "session_cookie",
    "sessions",
    "oidc_logout",
    "allow_organization_name_in_authentication_api",
    "customize_mfa_in_postlogin_action",
    "acr_values_supported",
    "mtls",
    "pushed_authorization_requests_supported",
    "authorization_response_iss_parameter_supported",
    "skip_non_verifiable_callback_uri_confirmation_prompt",
    "resource_parameter_profile",
    "phone_consolidated_experience",
    "default_token_quota",
];

/// Whether `name` is one of the YAML form's tenant files.
pub fn is_tenant_yaml_name(name: &str) -> bool {
    name == "tenant.yaml" || name == "tenant.yml"
}

/// Whether `path` names a YAML file (`.yaml` or `.yml`).
pub fn is_yaml_path(path: &Path) -> bool {
    crate::plain_path::has_extension(path, "yaml") || crate::plain_path::has_extension(path, "yml")
}

/// The top-level keys of a parsed document, when its top level is a mapping.
fn keys(root: &Node) -> Option<Vec<&str>> {
    match &root.value {
        Value::Object(members) => Some(members.iter().map(|m| m.key.as_str()).collect()),
        _ => None,
    }
}

/// Whether a document has at least one of the YAML form's keys at its top level.
pub fn has_yaml_key(root: &Node) -> bool {
    keys(root).is_some_and(|keys| keys.iter().any(|k| YAML_KEYS.contains(k)))
}

/// Why a non-empty top-level mapping is not what its form holds: the message of the input error,
/// or `None` when it has one of the form's keys (or nothing at all, which is an empty export).
pub fn not_an_export(root: &Node, tenant_json: bool) -> Option<String> {
    let keys = keys(root)?;
    let known = if tenant_json { TENANT_SETTINGS } else { YAML_KEYS };
    if keys.is_empty() || keys.iter().any(|k| known.contains(k)) {
        return None;
    }
    let found = quoted(&keys, 4);
    Some(if tenant_json {
        let yaml_form = keys.iter().any(|k| YAML_KEYS.contains(k));
        let mut message = format!(
            "not an a0deploy tenant.json: no `friendly_name`, `flags`, `support_email` or other tenant setting at the top level (found {found})"
        );
        if yaml_form {
            message.push_str(
                "; those are keys of the YAML form's tenant.yaml, while the directory form keeps only the tenant settings in tenant.json and each resource in its own folder",
            );
        }
        message
    } else {
        format!(
            "not an a0deploy export: no `tenant`, `clients`, `connections`, `databases`, `rules`, `actions` or other a0deploy key at the top level (found {found})"
        )
    })
}

/// Where an error about a document's top level points: its first key, else the document.
pub fn top_level_span(root: &Node) -> Span {
    match &root.value {
        Value::Object(members) => members.first().map_or(root.span, |m| m.key_span),
        _ => root.span,
    }
}

/// `` `a`, `b`, `c` and 2 more ``.
fn quoted(keys: &[&str], at_most: usize) -> String {
    let mut shown: Vec<String> = keys.iter().take(at_most).map(|k| format!("`{k}`")).collect();
    if keys.len() > at_most {
        shown.push(format!("{} more", keys.len() - at_most));
    }
    shown.join(", ")
}

/// Whether a YAML file found by walking a folder is an a0deploy export of the YAML form: its
/// top level is a non-empty mapping, every key is one of a0deploy's, and every value is a
/// list, a mapping or empty, as a0deploy writes them. Stricter than for a file named on the
/// command line, so that a `mkdocs.yml` with `pages:` or a values file with `tenant: acme` is not
/// taken for an export. Hidden files (`.claimlint.yaml`, CI configs) never are.
pub fn is_yaml_export_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'));
    if hidden || !is_yaml_path(path) || files::is_dir(path) {
        return false;
    }
    let Some(text) = read_small(path) else {
        return false;
    };
    // Cheap test first: a0deploy writes block style, one key per line at column 0.
    let maybe = text.lines().any(|line| {
        YAML_KEYS
            .iter()
            .any(|k| line.strip_prefix(k).is_some_and(|rest| rest.starts_with(':')))
    });
    if !maybe {
        return false;
    }
    let Some(root) = crate::syntax::yaml::parse(&text).root else {
        return false;
    };
    match &root.value {
        Value::Object(members) if !members.is_empty() => members.iter().all(|m| {
            YAML_KEYS.contains(&m.key.as_str())
                && matches!(
                    m.value.value,
                    Value::Object(_) | Value::Array(_) | Value::Null | Value::Keyword(_)
                )
        }),
        _ => false,
    }
}

/// Parses a YAML file named on the command line (size-limited, inside its own folder).
pub fn parse_named(path: &Path) -> Option<(String, Parsed)> {
    let text = read_small(path)?;
    let parsed = crate::syntax::yaml::parse(&text);
    Some((text, parsed))
}

/// A file's text, read the way the loaders read files; `None` when it cannot be read.
fn read_small(path: &Path) -> Option<String> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let root = folder.canonicalize().ok()?;
    let read = files::read(path, &KeywordMap::default(), &root);
    read.problem.is_none().then(|| read.text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        crate::syntax::yaml::parse(text).root.unwrap()
    }

    #[test]
    fn yaml_form_keys_decide_the_yaml_form() {
        assert!(has_yaml_key(&parse(
            "tenant:\n  friendly_name: Acme\nclients: []\n"
        )));
        assert!(!has_yaml_key(&parse("apiVersion: v1\nkind: ConfigMap\n")));
        assert_eq!(not_an_export(&parse("clients: []\n"), false), None);
        assert_eq!(not_an_export(&parse("{}\n"), false), None);
        let message = not_an_export(
            &parse("apiVersion: v1\nkind: Pod\nmetadata: {}\nspec: {}\nstatus: {}\n"),
            false,
        )
        .unwrap();
        assert!(
            message.starts_with("not an a0deploy export: no `tenant`, `clients`"),
            "{message}"
        );
        assert!(
            message.ends_with("(found `apiVersion`, `kind`, `metadata`, `spec`, 1 more)"),
            "{message}"
        );
    }

    #[test]
    fn tenant_json_holds_tenant_settings_not_yaml_keys() {
        assert_eq!(not_an_export(&parse("{\"friendly_name\": \"Acme\"}"), true), None);
        assert_eq!(not_an_export(&parse("{\"flags\": {}}"), true), None);
        let manifest = not_an_export(&parse("{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}"), true).unwrap();
        assert!(manifest.starts_with("not an a0deploy tenant.json"), "{manifest}");
        assert!(!manifest.contains("YAML form"), "{manifest}");
        let yaml_form = not_an_export(&parse("{\"tenant\": {}, \"clients\": []}"), true).unwrap();
        assert!(
            yaml_form.contains("keys of the YAML form's tenant.yaml"),
            "{yaml_form}"
        );
    }
}
