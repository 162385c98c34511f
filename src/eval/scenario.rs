//! The logins worth evaluating: every client with every connection enabled for it on the login
//! and refresh flows, client credentials for machine-to-machine clients, generic logins where
//! no concrete login runs the scripts, the login `claimlint token` asks for, and the facts of a
//! login that scripts can read.

use super::*;

fn pipeline_of(client: &crate::model::Client) -> Pipeline {
    if client.oidc_conformant.as_ref().is_some_and(|c| !c.value) {
        Pipeline::Legacy
    } else {
        Pipeline::OidcConformant
    }
}

/// A login of the export in compact form: indices into the tenant instead of names. The
/// analysis handles a login list that grows with clients × connections in this form, and
/// builds a [`Scenario`] only for the logins it evaluates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Login {
    /// Index into `tenant.clients`; `None` for a generic login.
    pub client: Option<usize>,
    /// Index into `tenant.connections`.
    pub connection: Option<usize>,
    pub protocol: &'static str,
    pub pipeline: Pipeline,
}

impl Login {
    pub(crate) fn scenario(&self, tenant: &Tenant, platform: &Platform) -> Scenario {
        Scenario {
            client: self
                .client
                .map_or_else(|| ANY_CLIENT.to_string(), |i| tenant.clients[i].name.clone()),
            connection: self.connection.map(|i| tenant.connections[i].name.clone()),
            protocol: self.protocol.to_string(),
            scopes: if self.protocol == CREDENTIALS_PROTOCOL {
                Vec::new()
            } else {
                DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect()
            },
            pipeline: self.pipeline,
            platform: platform.profile_name.clone(),
            generic: self.client.is_none(),
            profile: None,
        }
    }
}

/// Every concrete login worth evaluating: each interactive client with each connection enabled
/// for it, on each login protocol (the refresh only when the client may use refresh tokens);
/// each machine-to-machine client on client credentials. Where the scripts of a kind run in no
/// such login, generic logins stand in (see [`Scenario::generic`]).
pub fn scenarios(tenant: &Tenant, scripts: &Scripts, platform: &Platform) -> Vec<Scenario> {
    logins(tenant, scripts)
        .iter()
        .map(|login| login.scenario(tenant, platform))
        .collect()
}

/// [`scenarios`] in compact form, in the same order; linear in the logins it lists.
pub(crate) fn logins(tenant: &Tenant, scripts: &Scripts) -> Vec<Login> {
    use rayon::prelude::*;
    // Each client's logins on its own (in parallel: a large export has tens of thousands of
    // clients, each with its enabled connections to look up); `collect` keeps client order.
    let mut out: Vec<Login> = tenant
        .clients
        .par_iter()
        .enumerate()
        .flat_map_iter(|(index, client)| client_logins(tenant, index, client))
        .collect();
    let interactive = out.iter().any(|s| s.protocol != CREDENTIALS_PROTOCOL);
    let credentials = out.iter().any(|s| s.protocol == CREDENTIALS_PROTOCOL);
    let loose = tenant.format == ExportFormat::Sources;
    let generic = |protocol| Login {
        client: None,
        connection: None,
        protocol,
        pipeline: Pipeline::OidcConformant,
    };
    if !interactive && (loose || !scripts.rules.is_empty() || !scripts.actions.is_empty()) {
        out.extend(LOGIN_PROTOCOLS.iter().map(|p| generic(p)));
    }
    if !credentials && (!scripts.hooks.is_empty() || !scripts.actions.is_empty()) {
        out.push(generic(CREDENTIALS_PROTOCOL));
    }
    out
}

/// The logins of one client, in the order [`logins`] lists them.
fn client_logins(tenant: &Tenant, index: usize, client: &crate::model::Client) -> Vec<Login> {
    let mut out = Vec::new();
    let pipeline = pipeline_of(client);
    let machine = client.app_type.as_deref() == Some("non_interactive");
    if machine || client.grant_types.iter().any(|g| g.value == "client_credentials") {
        out.push(Login {
            client: Some(index),
            connection: None,
            protocol: CREDENTIALS_PROTOCOL,
            pipeline: Pipeline::OidcConformant,
        });
    }
    if machine {
        return out;
    }
    // With no grant types exported, Auth0's defaults apply, which include refresh tokens.
    let refreshes =
        client.grant_types.is_empty() || client.grant_types.iter().any(|g| g.value == "refresh_token");
    for connection in tenant.connections_enabled_for(&client.name) {
        for protocol in LOGIN_PROTOCOLS {
            if *protocol == REFRESH_PROTOCOL && !refreshes {
                continue;
            }
            out.push(Login {
                client: Some(index),
                connection: Some(connection),
                protocol,
                pipeline,
            });
        }
    }
    out
}

/// The login a storage proof stands on: the first interactive client (by name) the
/// connection is enabled for, or any client.
pub fn storage_scenario(tenant: &Tenant, connection: &Connection, platform: &Platform) -> Scenario {
    let interactive = |c: &&crate::model::Client| c.app_type.as_deref() != Some("non_interactive");
    let client = if connection.enabled_clients.is_empty() {
        tenant
            .clients
            .iter()
            .filter(interactive)
            .find(|c| tenant.enabled_for(connection, &c.name))
    } else {
        // The first listed client in tenant order, found through the listed names.
        connection
            .enabled_clients
            .iter()
            .flat_map(|listed| tenant.client_indices(&listed.value))
            .filter(|&i| interactive(&&tenant.clients[i]))
            .min()
            .map(|i| &tenant.clients[i])
    };
    Scenario {
        client: client.map_or_else(|| ANY_CLIENT.to_string(), |c| c.name.clone()),
        connection: Some(connection.name.clone()),
        protocol: LOGIN_PROTOCOLS[0].to_string(),
        scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        pipeline: client.map_or(Pipeline::OidcConformant, pipeline_of),
        platform: platform.profile_name.clone(),
        generic: client.is_none(),
        profile: None,
    }
}

/// What `claimlint token` asks for: a client (empty for a generic login), and optionally a
/// connection, protocol, scopes and a sample profile.
pub struct LoginRequest<'a> {
    /// The export, as shown in messages.
    pub export: &'a str,
    pub client: &'a str,
    pub connection: Option<&'a str>,
    pub protocol: Option<&'a str>,
    pub scopes: &'a [String],
    /// A sample user profile, as JSON text.
    pub profile: Option<String>,
}

/// The login a request names, with the defaults filled in (the first connection enabled for
/// the client, `oidc-basic-profile`, `openid profile email`); `Err` says what does not exist.
pub fn requested_scenario(
    tenant: &Tenant,
    platform: &Platform,
    request: &LoginRequest<'_>,
) -> Result<Scenario, String> {
    let named = (!request.client.is_empty())
        .then(|| tenant.client(request.client))
        .flatten();
    let machine = named.is_some_and(|c| c.app_type.as_deref() == Some("non_interactive"));
    // A machine-to-machine application gets tokens only by client credentials: no user logs in.
    let protocol = match request.protocol {
        Some(protocol) if machine && protocol != CREDENTIALS_PROTOCOL => {
            return Err(format!(
                "`{}` is a machine-to-machine application: no user logs in through it, so it has no `{protocol}` login; use --protocol {CREDENTIALS_PROTOCOL} (or leave --protocol out)",
                request.client
            ));
        }
        Some(protocol) => protocol.to_string(),
        None if machine => CREDENTIALS_PROTOCOL.to_string(),
        None => LOGIN_PROTOCOLS[0].to_string(),
    };
    let scopes: Vec<String> = if protocol == CREDENTIALS_PROTOCOL {
        Vec::new()
    } else if request.scopes.is_empty() {
        DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect()
    } else {
        request
            .scopes
            .iter()
            .flat_map(|s| s.split_whitespace().map(str::to_string))
            .collect()
    };
    let scenario = if request.client.is_empty() {
        // A generic login: whatever the export's clients and connections, scripts run for an
        // unknown OIDC-conformant client through an unknown (or the named) connection.
        let connection = match request.connection {
            Some(name) if tenant.connections.iter().any(|c| c.name == name) => Some(name.to_string()),
            Some(name) => return Err(format!("no connection `{name}` in {}", request.export)),
            None => None,
        };
        Scenario {
            client: ANY_CLIENT.to_string(),
            connection,
            protocol,
            scopes,
            pipeline: Pipeline::OidcConformant,
            platform: platform.profile_name.clone(),
            generic: true,
            profile: request.profile.clone(),
        }
    } else {
        let Some(client) = tenant.client(request.client) else {
            let names: Vec<&str> = tenant.clients.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "no client `{}` in {}; its clients are: {} (leave out --client for a generic login)",
                request.client,
                request.export,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ));
        };
        let connection = if protocol == CREDENTIALS_PROTOCOL {
            None
        } else {
            let enabled: Vec<&str> = tenant
                .connections
                .iter()
                .filter(|c| tenant.enabled_for(c, &client.name))
                .map(|c| c.name.as_str())
                .collect();
            match request.connection {
                Some(name) if tenant.connections.iter().any(|c| c.name == name) => Some(name.to_string()),
                Some(name) => {
                    return Err(format!(
                        "no connection `{name}`; connections enabled for `{}`: {}",
                        client.name,
                        enabled.join(", ")
                    ));
                }
                None => Some(
                    enabled
                        .first()
                        .ok_or_else(|| {
                            format!(
                                "no connection is enabled for `{}`; give --connection, or --protocol {CREDENTIALS_PROTOCOL} for a machine-to-machine exchange",
                                client.name
                            )
                        })?
                        .to_string(),
                ),
            }
        };
        let pipeline = if client.oidc_conformant.as_ref().is_some_and(|c| !c.value) {
            Pipeline::Legacy
        } else {
            Pipeline::OidcConformant
        };
        Scenario {
            client: client.name.clone(),
            connection,
            protocol,
            scopes,
            pipeline,
            platform: platform.profile_name.clone(),
            generic: false,
            profile: request.profile.clone(),
        }
    };
    Ok(scenario)
}

/// The facts of a login that scripts can read.
pub fn login_facts(tenant: &Tenant, scenario: &Scenario) -> LoginFacts {
    let (client, connection) = if scenario.generic {
        (None, None)
    } else {
        (
            tenant.client(&scenario.client),
            scenario.connection.as_ref().and_then(|n| tenant.connection(n)),
        )
    };
    let view = LoginView {
        protocol: &scenario.protocol,
        client: client.map(|c| (c, c.metadata.as_str())),
        connection,
    };
    let mut facts = view.to_facts();
    if !scenario.generic {
        facts = facts.with(Fact::ClientName, scenario.client.clone());
    }
    facts.profile = scenario.profile.clone();
    facts
}

/// The value of one fact in the login of `scenario` (as [`login_facts`] has it), read off
/// without building the others.
pub fn fact_value(tenant: &Tenant, scenario: &Scenario, fact: Fact) -> Option<String> {
    if scenario.generic && fact != Fact::Protocol {
        return None;
    }
    let connection = || scenario.connection.as_ref().and_then(|n| tenant.connection(n));
    match fact {
        Fact::Protocol => Some(scenario.protocol.clone()),
        Fact::ClientName => Some(scenario.client.clone()),
        Fact::ClientId => tenant.client(&scenario.client).and_then(|c| c.client_id.clone()),
        Fact::ClientMetadata => tenant.client(&scenario.client).map(|c| c.metadata.clone()),
        Fact::Connection => connection().map(|c| c.name.clone()),
        Fact::Strategy => connection().and_then(|c| c.strategy.clone()),
    }
}

/// Where a login's facts come from: a [`LoginFacts`] map, or a view of the tenant that
/// builds one only when a script must run again.
pub(crate) trait FactSource {
    /// The value of `fact` in this login (`client_metadata` as JSON text).
    fn fact(&self, fact: Fact) -> Option<&str>;
    fn to_facts(&self) -> LoginFacts;
}

impl FactSource for LoginFacts {
    fn fact(&self, fact: Fact) -> Option<&str> {
        match fact {
            Fact::ClientMetadata => self.client_metadata.as_deref(),
            other => self.values.get(&other).map(String::as_str),
        }
    }

    fn to_facts(&self) -> LoginFacts {
        self.clone()
    }
}

/// The facts of a login of the export, read off the tenant without copying them.
pub(crate) struct LoginView<'a> {
    pub protocol: &'a str,
    /// The client (the first of its name) and its `client_metadata` as JSON text.
    pub client: Option<(&'a crate::model::Client, &'a str)>,
    /// The connection (the first of its name).
    pub connection: Option<&'a Connection>,
}

impl FactSource for LoginView<'_> {
    fn fact(&self, fact: Fact) -> Option<&str> {
        match fact {
            Fact::Protocol => Some(self.protocol),
            Fact::ClientName => self.client.map(|(c, _)| c.name.as_str()),
            Fact::ClientId => self.client.and_then(|(c, _)| c.client_id.as_deref()),
            Fact::ClientMetadata => self.client.map(|(_, m)| m),
            Fact::Connection => self.connection.map(|c| c.name.as_str()),
            Fact::Strategy => self.connection.and_then(|c| c.strategy.as_deref()),
        }
    }

    fn to_facts(&self) -> LoginFacts {
        let mut facts = LoginFacts::default();
        for fact in [
            Fact::Protocol,
            Fact::ClientName,
            Fact::ClientId,
            Fact::Connection,
            Fact::Strategy,
        ] {
            if let Some(value) = self.fact(fact) {
                facts = facts.with(fact, value);
            }
        }
        facts.client_metadata = self.fact(Fact::ClientMetadata).map(str::to_string);
        facts
    }
}
