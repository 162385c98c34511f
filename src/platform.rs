//! The platform model: Auth0's behaviour as data (`policies/platform/auth0.yaml`).
//!
//! Checks and the claim evaluator read Auth0 facts (forbidden namespace hosts, restricted
//! claims, legacy grant types...) from here, never from Rust constants, so a change in Auth0's
//! behaviour is a change to data. A profile picks the custom-claim rule in force.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The built-in platform file, embedded so claimlint works from any folder.
pub const PLATFORM_YAML: &str = include_str!("../policies/platform/auth0.yaml");
pub const PLATFORM_PATH: &str = "policies/platform/auth0.yaml";
pub const DEFAULT_PROFILE: &str = "auth0-oidc";

#[derive(Debug, Clone, Deserialize)]
pub struct PlatformData {
    pub version: u32,
    pub profiles: BTreeMap<String, Profile>,
    pub forbidden_namespace_hosts: Vec<String>,
    #[serde(default)]
    pub suspicious_namespace_hosts: Vec<String>,
    pub restricted_claims: Vec<String>,
    pub standard_claims: BTreeMap<String, Vec<String>>,
    pub denied_never_in_tokens: Vec<String>,
    pub deny_list_exclusions: Vec<Exclusion>,
    pub legacy: Legacy,
    #[serde(default)]
    pub strategies: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub description: String,
    pub namespace_required: bool,
    pub namespace_schemes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Exclusion {
    pub id: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Legacy {
    pub grant_type_prefix: String,
    pub tenant_flags: Vec<String>,
    pub profile_flag: String,
}

/// The platform data with one profile chosen.
#[derive(Debug, Clone)]
pub struct Platform {
    pub profile_name: String,
    pub profile: Profile,
    pub data: PlatformData,
}

impl Platform {
    /// Loads the built-in data with `profile` (`auth0-oidc` or `auth0-current`).
    pub fn load(profile: &str) -> Result<Platform, String> {
        let parsed = crate::syntax::yaml::parse(PLATFORM_YAML);
        let root = parsed
            .root
            .ok_or_else(|| format!("{PLATFORM_PATH} does not parse: {:?}", parsed.errors))?;
        let data: PlatformData = serde_json::from_value(root.to_json())
            .map_err(|e| format!("{PLATFORM_PATH} is malformed: {e}"))?;
        let chosen = data.profiles.get(profile).cloned().ok_or_else(|| {
            let known: Vec<_> = data.profiles.keys().map(String::as_str).collect();
            format!(
                "unknown platform profile `{profile}`; expected one of {}",
                known.join(", ")
            )
        })?;
        Ok(Platform {
            profile_name: profile.to_string(),
            profile: chosen,
            data,
        })
    }

    pub fn profiles() -> Vec<String> {
        Platform::load(DEFAULT_PROFILE)
            .map(|p| p.data.profiles.keys().cloned().collect())
            .unwrap_or_default()
    }
}
