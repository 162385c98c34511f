//! Auth0's platform filters: what happens to a claim a script set, in one login.
//!
//! Filters apply in the order the platform data's `filters` list gives (by default: unresolved
//! names first, since nothing can be decided, then restricted claims, the namespace rule with
//! the client-credentials rule, the scope rule for standard profile claims, the legacy-profile
//! exception, the Auth0-domain rule, and the deny list), each deciding from the platform data
//! (`policies/platform/auth0.yaml`) and the login, never from message text. A [`Decision`] names the filter, the outcome, the reason in
//! words, and for deny-list drops the attribute.

use crate::model::Connection;
use crate::platform::Platform;
use crate::proof::{Filter, Outcome, Pipeline, Scenario, TokenKind};

use super::summary::{ClaimKey, ClaimSet};

/// A filter's verdict on one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub filter: Filter,
    pub outcome: Outcome,
    pub reason: String,
    /// For deny-list drops: the denied attribute.
    pub attribute: Option<String>,
    /// For unresolved names: what is known of the name, in words.
    pub known: Option<String>,
}

fn decision(filter: Filter, outcome: Outcome, reason: String) -> Decision {
    Decision {
        filter,
        outcome,
        reason,
        attribute: None,
        known: None,
    }
}

/// What a login is, as far as the filters care.
pub struct Login<'a> {
    pub scenario: &'a Scenario,
    pub connection: Option<&'a Connection>,
    /// The tenant has the legacy user profile on.
    pub legacy_profile: bool,
    /// A client-credentials exchange (hooks and credentials-exchange actions).
    pub machine: bool,
}

impl<'a> Login<'a> {
    /// The login of `scenario` as the filters see it.
    pub fn new(tenant: &'a crate::model::Tenant, platform: &Platform, scenario: &'a Scenario) -> Login<'a> {
        Login {
            scenario,
            connection: scenario.connection.as_ref().and_then(|n| tenant.connection(n)),
            legacy_profile: tenant
                .flag(&platform.data.legacy.profile_flag)
                .is_some_and(|f| f.value == Some(true)),
            machine: scenario.protocol == crate::proof::CREDENTIALS_PROTOCOL,
        }
    }
}

/// What one filter says about a claim.
enum Verdict {
    /// The filter does not apply.
    Pass,
    /// Kept for now; a later filter may still drop it. The first such decision is the one a
    /// kept claim reports.
    Keep(Decision),
    /// Dropped: no later filter is asked.
    Drop(Decision),
    /// Decided (kept or not), no later filter is asked.
    Final(Decision),
}

/// What the filters know about one exactly named claim.
struct Claim<'c> {
    set: &'c ClaimSet,
    name: &'c str,
    namespaced: bool,
    /// The OIDC scope of a non-namespaced standard claim (`email` for `email`).
    standard: Option<&'c str>,
}

/// Applies the platform filters, in the platform data's order, to one claim.
pub fn decide(claim: &ClaimSet, login: &Login<'_>, platform: &Platform) -> Decision {
    let name = match &claim.key {
        ClaimKey::Exact(name) => name,
        ClaimKey::Prefix(prefix) => {
            return then_deny_list(decide_prefix(prefix, login, platform), claim, login);
        }
        ClaimKey::Gap { prefix, then, ends } => {
            let by_name = decide_host_tail(prefix, then, *ends, platform)
                .unwrap_or_else(|| decide_prefix(prefix, login, platform));
            return then_deny_list(by_name, claim, login);
        }
        ClaimKey::Unknown(what) => return unresolved(format!("comes from {what}")),
    };
    let namespaced = namespace_scheme(name, platform).is_some();
    let facts = Claim {
        set: claim,
        name,
        namespaced,
        standard: if namespaced {
            None
        } else {
            standard_scope(name, platform)
        },
    };
    let mut kept = None;
    for filter in platform.filter_order() {
        match apply(*filter, &facts, login, platform) {
            Verdict::Pass => {}
            Verdict::Keep(d) => {
                kept.get_or_insert(d);
            }
            Verdict::Drop(d) | Verdict::Final(d) => return d,
        }
    }
    kept.unwrap_or_else(|| {
        decision(
            Filter::Namespace,
            Outcome::Kept,
            "no platform filter drops it".into(),
        )
    })
}

/// One filter's rule, from the platform data and the login. Each rule is stated on its own
/// (it does not rely on an earlier filter having passed the claim), so the data's order only
/// decides which filter a claim dropped for two reasons reports.
fn apply(filter: Filter, claim: &Claim<'_>, login: &Login<'_>, platform: &Platform) -> Verdict {
    let name = claim.name;
    // Client-credentials tokens keep only namespaced claims, whatever the profile.
    let machine_rule = login.machine && platform.client_credentials_namespaced_only();
    // The legacy-profile exception of the namespace rule.
    let legacy_exception = login.scenario.pipeline == Pipeline::Legacy
        && login.legacy_profile
        && claim.set.token == TokenKind::IdToken;
    match filter {
        Filter::Unresolved => {
            if name.contains("##") || name.contains("@@") {
                let mut d = decision(
                    Filter::Unresolved,
                    Outcome::Unresolved,
                    "the claim name holds an unresolved a0deploy keyword".into(),
                );
                d.known = Some("the claim name holds an unresolved a0deploy keyword".into());
                return Verdict::Final(d);
            }
            Verdict::Pass
        }
        Filter::Restricted => {
            if platform.data.restricted_claims.iter().any(|c| c == name) {
                return Verdict::Drop(decision(
                    Filter::Restricted,
                    Outcome::Dropped,
                    format!("`{name}` is a restricted claim; Auth0 ignores writes to it"),
                ));
            }
            Verdict::Pass
        }
        Filter::Namespace if claim.namespaced => {
            let reason = match namespace_host(name) {
                Some(host) => format!("namespaced under `{host}`"),
                None => "namespaced under a namespace".into(),
            };
            Verdict::Keep(decision(Filter::Namespace, Outcome::Kept, reason))
        }
        Filter::Namespace => {
            if machine_rule {
                return Verdict::Drop(decision(
                    Filter::Namespace,
                    Outcome::Dropped,
                    "client-credentials tokens keep only namespaced claims".into(),
                ));
            }
            if claim.standard.is_some() {
                // The scope filter decides standard profile claims.
                return Verdict::Pass;
            }
            if !platform.namespace_required() {
                return Verdict::Keep(decision(
                    Filter::Namespace,
                    Outcome::Kept,
                    format!("profile `{}` allows non-namespaced claims", platform.profile_name),
                ));
            }
            if legacy_exception {
                return Verdict::Pass;
            }
            Verdict::Drop(decision(
                Filter::Namespace,
                Outcome::Dropped,
                "not namespaced: OIDC-conformant logins drop custom claims without an http:// or https:// namespace".into(),
            ))
        }
        Filter::Scope => {
            let Some(scope) = claim.standard.filter(|_| !machine_rule) else {
                return Verdict::Pass;
            };
            // A standard claim is Auth0's own profile claim: once its scope keeps it, the deny
            // list acts on it through the profile (`deny-list-exclusion`), not here.
            if login.scenario.scopes.iter().any(|s| s == scope) {
                Verdict::Final(decision(
                    Filter::Scope,
                    Outcome::Kept,
                    format!("standard claim, and the `{scope}` scope was requested"),
                ))
            } else {
                Verdict::Drop(decision(
                    Filter::Scope,
                    Outcome::Dropped,
                    format!("standard claim whose `{scope}` scope was not requested"),
                ))
            }
        }
        Filter::LegacyProfile => {
            let applies = !claim.namespaced
                && claim.standard.is_none()
                && !machine_rule
                && platform.namespace_required()
                && legacy_exception;
            if applies {
                return Verdict::Keep(decision(
                    Filter::LegacyProfile,
                    Outcome::Kept,
                    "not namespaced, kept only because the client is not OIDC-conformant and the tenant has the legacy profile on"
                        .into(),
                ));
            }
            Verdict::Pass
        }
        Filter::Auth0Domain => {
            if claim.namespaced
                && let Some(host) = namespace_host(name)
                && let Some(domain) = forbidden_host(&host, platform)
            {
                return Verdict::Drop(decision(
                    Filter::Auth0Domain,
                    Outcome::Dropped,
                    format!("namespace host `{host}` is within `{domain}`, an Auth0 domain"),
                ));
            }
            Verdict::Pass
        }
        Filter::DenyList => deny_list_drop(claim.set, login.connection).map_or(Verdict::Pass, Verdict::Drop),
        // Applies to the standard claims the user profile delivers (`profile::profile_claims`).
        Filter::DenyListExclusion => Verdict::Pass,
    }
}

/// A name no filter can decide; `known` says what is known of it ("comes from ...").
fn unresolved(known: String) -> Decision {
    Decision {
        filter: Filter::Unresolved,
        outcome: Outcome::Unresolved,
        reason: format!("the claim name is not known statically; it {known}"),
        attribute: None,
        known: Some(known),
    }
}

/// A name kept whatever its unknown part is still carries its value through the deny list.
fn then_deny_list(by_name: Decision, claim: &ClaimSet, login: &Login<'_>) -> Decision {
    match by_name.outcome {
        Outcome::Kept => deny_list_drop(claim, login.connection).unwrap_or(by_name),
        _ => by_name,
    }
}

/// The namespace filters' decision on a name whose host is known whole, `rest` saying what
/// follows it (", whatever follows").
fn decide_host(host: &str, rest: &str, platform: &Platform) -> Decision {
    match forbidden_host(host, platform) {
        Some(domain) => decision(
            Filter::Auth0Domain,
            Outcome::Dropped,
            format!("namespace host `{host}` is within `{domain}`, an Auth0 domain{rest}"),
        ),
        None => decision(
            Filter::Namespace,
            Outcome::Kept,
            format!("namespaced under `{host}`{rest}"),
        ),
    }
}

/// A claim whose name starts with a known text: decided when the text settles the namespace.
fn decide_prefix(prefix: &str, login: &Login<'_>, platform: &Platform) -> Decision {
    if namespace_scheme(prefix, platform).is_some() {
        // The host is known once the text after `://` reaches a `/`.
        let host_known = prefix
            .split_once("://")
            .is_some_and(|(_, rest)| rest.contains(['/', '?', '#']));
        if let (true, Some(host)) = (host_known, namespace_host(prefix)) {
            return decide_host(&host, ", whatever follows", platform);
        }
        // `https://acme.auth0.com` with the rest of the host unknown is still under auth0.com
        // when the known part ends in a forbidden domain's last labels... only when followed by
        // nothing; be exact and say what is known.
        return unresolved(format!("starts with the namespace `{prefix}`"));
    }
    if login.machine || !platform.namespace_required() {
        return unresolved(format!("starts with `{prefix}`"));
    }
    // A known beginning that is no namespace scheme (`app_`, `role`) can never become one.
    let could_be_scheme = platform
        .profile
        .namespace_schemes
        .iter()
        .any(|s| format!("{s}://").starts_with(prefix));
    if could_be_scheme {
        return unresolved(format!("starts with `{prefix}`"));
    }
    decision(
        Filter::Namespace,
        Outcome::Dropped,
        format!(
            "not namespaced: the name starts with `{prefix}`, so it has no http:// or https:// namespace"
        ),
    )
}

/// A namespaced name whose host has a part not known statically but a known end
/// (`` `https://${tenant}.auth0.com/plan` ``): decided when that end settles whether the host
/// is within an Auth0 domain, whatever the unknown part is. `None` leaves it to the beginning.
fn decide_host_tail(prefix: &str, then: &str, ends: bool, platform: &Platform) -> Option<Decision> {
    let (scheme, host_start) = prefix.split_once("://")?;
    if !platform.profile.namespace_schemes.iter().any(|s| s == scheme) {
        return None;
    }
    if host_start.contains(['/', '?', '#']) {
        return None;
    }
    // The host ends where the text after the unknown part reaches a `/`, or with the name.
    let tail = match then.find(['/', '?', '#']) {
        Some(end) => &then[..end],
        None if ends => then,
        None => return None,
    };
    // After a `@` (user information) the host is known whole; a `:` starts the port.
    if let Some((_, host)) = tail.rsplit_once('@') {
        let host = host.split(':').next().unwrap_or_default().to_ascii_lowercase();
        if host.is_empty() {
            return None;
        }
        return Some(decide_host(&host, "", platform));
    }
    let tail = tail.split(':').next().unwrap_or_default();
    if tail.is_empty() {
        return None;
    }
    let tail = tail.to_ascii_lowercase();
    let shown = format!("{host_start}…{tail}");
    let domains = platform.forbidden_namespace_hosts();
    if let Some(domain) = domains.iter().find(|d| tail.ends_with(&format!(".{d}"))) {
        return Some(decision(
            Filter::Auth0Domain,
            Outcome::Dropped,
            format!("namespace host `{shown}` ends in `.{domain}`, an Auth0 domain, whatever comes between"),
        ));
    }
    // A tail that a forbidden domain's end could still complete (`0.com`) decides nothing.
    let could_be_within = domains.iter().any(|d| format!(".{d}").ends_with(&tail));
    (!could_be_within).then(|| {
        decision(
            Filter::Namespace,
            Outcome::Kept,
            format!("namespaced under a host ending in `{tail}`, whatever comes before"),
        )
    })
}

/// The deny-list filter: a claim whose value is (or derives from) an attribute the login's
/// connection denies is not delivered.
fn deny_list_drop(claim: &ClaimSet, connection: Option<&Connection>) -> Option<Decision> {
    let entries = &connection?.deny_list.as_ref()?.entries;
    let root = claim
        .attributes
        .iter()
        .find_map(|path| entries.iter().find_map(|e| denied_root(path, &e.value)))?;
    let connection = connection?;
    Some(Decision {
        filter: Filter::DenyList,
        outcome: Outcome::Dropped,
        reason: format!("`{root}` is on the deny list of connection `{}`", connection.name),
        attribute: Some(root.to_string()),
        known: None,
    })
}

fn forbidden_host<'p>(host: &str, platform: &'p Platform) -> Option<&'p str> {
    platform
        .forbidden_namespace_hosts()
        .iter()
        .find(|d| host_within(host, d))
        .map(String::as_str)
}

/// Whether a claim name is namespaced by the profile's schemes (`https://...`).
pub fn namespace_scheme<'p>(name: &str, platform: &'p Platform) -> Option<&'p str> {
    platform
        .profile
        .namespace_schemes
        .iter()
        .find(|scheme| {
            name.len() > scheme.len() + 3
                && name.starts_with(scheme.as_str())
                && name[scheme.len()..].starts_with("://")
        })
        .map(String::as_str)
}

/// The host of a namespaced claim name, lower-cased (`acme.auth0.com` in `https://acme.auth0.com/x`).
pub fn namespace_host(name: &str) -> Option<String> {
    let rest = name.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Whether `host` is `domain` or one of its subdomains.
pub fn host_within(host: &str, domain: &str) -> bool {
    host == domain || host.ends_with(&format!(".{domain}"))
}

pub fn standard_scope<'p>(name: &str, platform: &'p Platform) -> Option<&'p str> {
    platform
        .data
        .standard_claims
        .iter()
        .find(|(_, claims)| claims.iter().any(|c| c == name))
        .map(|(scope, _)| scope.as_str())
}

/// The root attribute that deny-list `entry` denies in the attribute `path` (`email` in
/// `email`, `address` in `address.street`), if any. Only root fields can be denied: a nested
/// entry (`user_metadata.ssn`) denies nothing, while a URL-shaped name
/// (`http://schemas.xmlsoap.org/.../gender`, as an upstream IdP sends it) is one root field,
/// dots and all.
pub fn denied_root<'e>(path: &str, entry: &'e str) -> Option<&'e str> {
    if entry.is_empty() || is_nested_entry(entry) {
        return None;
    }
    let rest = path.strip_prefix(entry)?;
    (rest.is_empty() || rest.starts_with(['.', '['])).then_some(entry)
}

/// Whether a deny-list entry is a nested path (which Auth0 ignores).
pub fn is_nested_entry(entry: &str) -> bool {
    let url = entry.contains("://") || entry.starts_with("urn:");
    !url && entry.contains(['.', '['])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_list_entries_deny_root_attributes_urls_included() {
        assert_eq!(denied_root("email", "email"), Some("email"));
        assert_eq!(denied_root("address.street", "address"), Some("address"));
        assert_eq!(denied_root("email_verified", "email"), None);
        let gender = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/gender";
        assert_eq!(denied_root(gender, gender), Some(gender));
        assert_eq!(denied_root("user_metadata.ssn", "user_metadata.ssn"), None);
        assert_eq!(denied_root("user_metadata", ""), None);
    }

    fn scenario() -> Scenario {
        Scenario {
            client: "c".into(),
            connection: None,
            protocol: "oidc-basic-profile".into(),
            scopes: vec![],
            pipeline: Pipeline::OidcConformant,
            platform: "auth0-oidc".into(),
            generic: true,
            profile: None,
        }
    }

    fn prefix_decision(prefix: &str) -> Decision {
        let platform = Platform::load("auth0-oidc").expect("platform");
        let scenario = scenario();
        let login = Login {
            scenario: &scenario,
            connection: None,
            legacy_profile: false,
            machine: false,
        };
        decide_prefix(prefix, &login, &platform)
    }

    /// The built-in platform data with `edit` applied.
    fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Platform {
        let mut data = crate::syntax::yaml::parse(crate::platform::PLATFORM_YAML)
            .root
            .expect("platform data")
            .to_json();
        edit(&mut data);
        Platform::from_json(data, "auth0-oidc").expect("a valid platform")
    }

    fn exact(name: &str, machine: bool, platform: &Platform) -> Decision {
        let claim = ClaimSet {
            token: TokenKind::IdToken,
            key: ClaimKey::Exact(name.into()),
            value: crate::eval::summary::ClaimValue::json(serde_json::Value::Null),
            attributes: Vec::new(),
            must: true,
            condition: None,
            span: crate::source::Span::default(),
        };
        let scenario = scenario();
        let login = Login {
            scenario: &scenario,
            connection: None,
            legacy_profile: false,
            machine,
        };
        decide(&claim, &login, platform)
    }

    #[test]
    fn filters_apply_in_the_data_order() {
        let builtin = Platform::load("auth0-oidc").expect("platform");
        // `permissions` is restricted and not namespaced: the first filter that drops it names it.
        assert_eq!(exact("permissions", false, &builtin).filter, Filter::Restricted);
        let namespace_first = edited(|d| {
            let filters = d["filters"].as_array_mut().expect("filters");
            let at = filters
                .iter()
                .position(|f| f["id"] == "namespace")
                .expect("namespace filter");
            let namespace = filters.remove(at);
            filters.insert(0, namespace);
        });
        assert_eq!(
            exact("permissions", false, &namespace_first).filter,
            Filter::Namespace
        );
        // Kept claims are unaffected by the order.
        assert_eq!(
            exact("https://acme.example.com/x", false, &namespace_first).outcome,
            Outcome::Kept
        );
    }

    #[test]
    fn the_client_credentials_rule_is_data() {
        let builtin = Platform::load("auth0-oidc").expect("platform");
        let email = exact("email", true, &builtin);
        assert_eq!(
            (email.filter, email.outcome),
            (Filter::Namespace, Outcome::Dropped)
        );
        let relaxed = edited(|d| d["client_credentials"]["namespaced_only"] = false.into());
        // Without the rule, a machine token's standard claim goes to the scope filter.
        assert_eq!(exact("email", true, &relaxed).filter, Filter::Scope);
    }

    #[test]
    fn a_filter_missing_or_listed_twice_is_refused() {
        let mut data = crate::syntax::yaml::parse(crate::platform::PLATFORM_YAML)
            .root
            .expect("platform data")
            .to_json();
        let filters = data["filters"].as_array_mut().expect("filters");
        filters[1] = filters[0].clone();
        let problems = Platform::from_json(data, "auth0-oidc").expect_err("refused");
        let shown = format!("{problems:?}");
        assert!(shown.contains("listed twice"), "{shown}");
        assert!(shown.contains("missing: restricted"), "{shown}");
    }

    #[test]
    fn a_known_namespace_with_an_unknown_ending_is_decided() {
        assert_eq!(prefix_decision("https://acme.com/").outcome, Outcome::Kept);
        assert_eq!(
            prefix_decision("https://acme.auth0.com/").filter,
            Filter::Auth0Domain
        );
        assert_eq!(prefix_decision("https://acme.").filter, Filter::Unresolved);
        assert_eq!(prefix_decision("app_").filter, Filter::Namespace);
        assert_eq!(prefix_decision("htt").filter, Filter::Unresolved);
    }

    #[test]
    fn a_known_end_of_the_host_decides_a_name_with_an_unknown_part() {
        let platform = Platform::load("auth0-oidc").expect("platform");
        let decide = |prefix: &str, then: &str, ends: bool| {
            decide_host_tail(prefix, then, ends, &platform).map(|d| (d.filter, d.outcome))
        };
        let auth0 = Some((Filter::Auth0Domain, Outcome::Dropped));
        let kept = Some((Filter::Namespace, Outcome::Kept));
        assert_eq!(decide("https://", ".auth0.com/plan", true), auth0);
        assert_eq!(decide("https://app-", ".EU.Auth0.com/", false), auth0);
        assert_eq!(decide("https://", ".auth0.com", true), auth0);
        assert_eq!(decide("https://", ".example.com/x", true), kept);
        // The unknown part could make these hosts Auth0's or not.
        assert_eq!(decide("https://", "0.com/x", true), None);
        assert_eq!(decide("https://", "auth0.com/x", true), None);
        assert_eq!(decide("https://", "/x", true), None);
        assert_eq!(decide("https://", ".auth0.com", false), None);
        // A port or user information does not hide the host.
        assert_eq!(decide("https://", ".auth0.com:443/plan", true), auth0);
        assert_eq!(decide("https://", "@acme.auth0.com/x", true), auth0);
        assert_eq!(decide("https://", "@example.com:8443/x", true), kept);
        // A host already ended is the beginning's to decide; so is a name that is no namespace.
        assert_eq!(decide("https://acme.com/", ".auth0.com/x", true), None);
        assert_eq!(decide("app_", ".auth0.com/x", true), None);
    }
}
