//! Writes a deterministic, seeded `a0deploy export` of about `--files` files, for benchmarks.
//!
//! ```text
//! cargo run --release --example gen-export -- --out DIR [--format directory|yaml] [--files N]
//!     [--seed S] [--clients C] [--connections K] [--databases D] [--rules R] [--actions A]
//!     [--apis S] [--enabled E] [--plant-rate P]
//! ```
//!
//! The tenant has clients, enterprise and social connections, database connections (some with
//! custom-database scripts), rules, post-login actions bound in `triggers`, and resource
//! servers. Scripts come from about 30 templates of the JavaScript people write in Auth0 rules and
//! actions (namespace constants, template literals, `Object.assign`, helpers, aliases of
//! `context.idToken`, guards on the client, the protocol and the audience, destructuring,
//! optional chaining, loops), filled in with seeded names, namespaces and claims.
//!
//! Most of the tenant is clean. A seeded fraction (`--plant-rate`, default 0.05 of the scripts, a
//! quarter to an eighth of that of the connections and clients, at least one of each kind when
//! there is room) plants findings claimlint reports: CL101 and CL102 claims in
//! rules and actions, CL103 restricted claims in actions, CL106 claims skipped on refresh, CL201
//! nested deny-list entries, CL202 sensitive attributes kept by SAML mappings, Facebook
//! permissions and custom-database scripts, CL203 SAML debug mode with a deny list, CL302
//! non-conformant clients and CL304 legacy grants and tenant flags. Every planted finding is
//! listed in `DIR/planted.json` as `{"policy", "file", "claim"?, "attribute"?}`, with `file`
//! relative to DIR (`benches/compare.sh` fails when claimlint misses one).
//!
//! Sizes: by default the resource counts follow from `--files`: √N/2 rules and as many actions
//! (each two files: 16 of each for 1,000 files, 50 for 10,000, 112 for 50,000), since a tenant's
//! login pipeline grows far more slowly than its applications; 10% connections, 0.5% database
//! connections, 10% resource servers, and clients for the rest. Each connection is enabled for
//! `--enabled` (default 3) interactive clients. `--clients`, `--connections`, `--databases`,
//! `--rules`, `--actions` and `--apis` override one count each. In the YAML format the tenant is
//! the same, but everything except the scripts lives in `tenant.yaml`, so the export has far
//! fewer files.
//!
//! The shapes `benches/compare.sh` uses besides the default mix:
//!
//! ```text
//! many clients x few connections   --clients 500 --connections 4 --databases 1 --enabled 500
//!                                  --rules 20 --actions 20 --apis 20        (2,500 logins)
//! few clients x many connections   --clients 5 --connections 495 --databases 5 --enabled 5
//!                                  --rules 20 --actions 20 --apis 20        (2,500 logins)
//! many rules                       --clients 10 --connections 4 --databases 1 --enabled 10
//!                                  --rules 2000 --actions 0 --apis 10
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};
use serde_json::{Map, Value, json};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Directory,
    Yaml,
}

#[derive(Parser)]
#[command(about = "Writes a deterministic a0deploy export for benchmarks")]
struct Args {
    /// Folder to write the export to (created; files already in it are overwritten, not removed).
    #[arg(long)]
    out: PathBuf,
    /// `directory` (one JSON file per resource) or `yaml` (`tenant.yaml` plus scripts).
    #[arg(long, value_enum, default_value = "directory")]
    format: Format,
    /// About how many files the directory form has; sets the default resource counts.
    #[arg(long, default_value_t = 1000)]
    files: usize,
    /// Seed of the generator: the same arguments write the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of clients (applications).
    #[arg(long)]
    clients: Option<usize>,
    /// Number of enterprise and social connections.
    #[arg(long)]
    connections: Option<usize>,
    /// Number of database connections.
    #[arg(long)]
    databases: Option<usize>,
    /// Number of rules.
    #[arg(long)]
    rules: Option<usize>,
    /// Number of actions.
    #[arg(long)]
    actions: Option<usize>,
    /// Number of resource servers (APIs).
    #[arg(long)]
    apis: Option<usize>,
    /// How many clients each connection is enabled for.
    #[arg(long, default_value_t = 3)]
    enabled: usize,
    /// Fraction of scripts, connections and clients that carry a planted finding.
    #[arg(long, default_value_t = 0.05)]
    plant_rate: f64,
}

/// splitmix64-seeded xorshift64*: small, fast and the same on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// `count` distinct indices below `n`, sorted.
    fn sample(&mut self, n: usize, count: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            all.swap(i, self.below(i + 1));
        }
        all.truncate(count.min(n));
        all.sort_unstable();
        all
    }
}

/// How many of `n` items get planted: the rate, but at least one when there are five or more.
fn planted_count(n: usize, rate: f64) -> usize {
    if n == 0 || rate <= 0.0 {
        return 0;
    }
    let count = (n as f64 * rate).round() as usize;
    if n >= 5 { count.max(1) } else { count }
}

// ---------------------------------------------------------------------------------------------
// Names

#[rustfmt::skip]
const ORGS: &[&str] = &[
    "acme", "initech", "globex", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell", "cyberdyne",
    "soylent", "vandelay", "dunder", "pied-piper", "aperture", "oscorp", "contoso", "fabrikam",
];
#[rustfmt::skip]
const PRODUCTS: &[&str] = &[
    "Billing", "Partner", "Support", "Analytics", "Inventory", "Payroll", "Marketing", "Store", "Docs",
    "Fleet", "Admin", "Helpdesk", "Reports", "Checkout", "Loyalty", "Onboarding", "Scheduling", "Claims",
];
const DOMAINS: &[&str] = &[
    "acme.example.com",
    "example.org",
    "claims.contoso.example",
    "id.initech.example",
    "auth.globex.example",
    "tokens.umbrella.example",
    "api.hooli.example",
    "login.stark.example",
    "identity.wonka.example",
];
/// Claim names people give custom claims (none is restricted, none is sensitive).
#[rustfmt::skip]
const CLAIMS: &[&str] = &[
    "plan", "tier", "department", "cost_center", "employee_id", "locale_pref", "timezone", "tenant_id",
    "region", "customer_id", "subscription", "features", "beta", "seats", "account_type", "partner_id",
    "team", "manager", "display_name", "theme", "last_app", "store_id", "org_slug", "level", "badge",
    "favorite_color", "language", "segment", "shard", "support_tier",
];
/// Restricted names Auth0 ignores when a script sets them (CL103).
const RESTRICTED: &[&str] = &["roles", "permissions", "groups", "org_id", "client_id"];
/// Sensitive attributes an enterprise mapping can deliver (CL202), as claimlint names them.
const SENSITIVE: &[&str] = &[
    "religion",
    "ethnicity",
    "date_of_birth",
    "ssn",
    "national_id",
    "health",
];
/// Nested deny-list entries (CL201) and the root attribute claimlint names for each.
const NESTED_DENY: &[(&str, &str)] = &[
    ("address.street", "address"),
    ("user_metadata.ssn", "user_metadata"),
    ("app_metadata.salary", "app_metadata"),
    ("user_metadata.home_address", "user_metadata"),
];

fn slug(name: &str) -> String {
    name.to_ascii_lowercase().replace(' ', "-")
}

// ---------------------------------------------------------------------------------------------
// The tenant as data, independent of the format it is written in

/// Where a planted finding is reported; the path depends on the format.
#[derive(Clone)]
enum Place {
    Tenant,
    Client(usize),
    Connection(usize),
    DatabaseScript(usize, &'static str),
    Rule(usize),
    Action(usize),
}

struct Planted {
    policy: &'static str,
    place: Place,
    claim: Option<String>,
    attribute: Option<String>,
}

struct Script {
    name: String,
    text: String,
}

struct Database {
    value: Value,
    scripts: Vec<(&'static str, String)>,
}

struct Tenant {
    settings: Value,
    clients: Vec<Value>,
    connections: Vec<Value>,
    databases: Vec<Database>,
    rules: Vec<(Script, bool)>,
    actions: Vec<(Script, bool)>,
    apis: Vec<Value>,
    planted: Vec<Planted>,
}

struct Counts {
    clients: usize,
    connections: usize,
    databases: usize,
    rules: usize,
    actions: usize,
    apis: usize,
}

fn counts(args: &Args) -> Counts {
    let n = args.files.max(10);
    // A tenant's login pipeline grows much more slowly than its clients and connections.
    let scripts = ((n as f64).sqrt() / 2.0).round() as usize;
    let rules = args.rules.unwrap_or(scripts);
    let actions = args.actions.unwrap_or(scripts);
    let databases = args.databases.unwrap_or((n / 200).max(1));
    let connections = args.connections.unwrap_or(n / 10);
    let apis = args.apis.unwrap_or(n / 10);
    // Every third database has two custom scripts.
    let used = 2 + 2 * rules + 2 * actions + databases + 2 * databases.div_ceil(3) + connections + apis;
    let clients = args.clients.unwrap_or_else(|| n.saturating_sub(used).max(5));
    Counts {
        clients,
        connections,
        databases,
        rules,
        actions,
        apis,
    }
}

fn generate(args: &Args) -> Tenant {
    let mut rng = Rng::new(args.seed);
    let counts = counts(args);
    let rate = args.plant_rate;
    let mut planted = Vec::new();
    let tenant_slug = ORGS[args.seed as usize % ORGS.len()].replace('-', "");

    // Tenant: clean flags, except one legacy endpoint (CL304) when planting.
    let mut flags = Map::new();
    flags.insert("enable_client_connections".into(), json!(false));
    flags.insert("revoke_refresh_token_grant".into(), json!(false));
    flags.insert("disable_clickjack_protection_headers".into(), json!(false));
    flags.insert("enable_pipeline2".into(), json!(true));
    if rate > 0.0 {
        flags.insert("allow_legacy_tokeninfo_endpoint".into(), json!(true));
        planted.push(Planted {
            policy: "CL304",
            place: Place::Tenant,
            claim: None,
            attribute: None,
        });
    }
    let settings = json!({
        "friendly_name": format!("{} (benchmark)", tenant_slug),
        "support_email": format!("support@{}.example.com", tenant_slug),
        "support_url": format!("https://help.{}.example.com", tenant_slug),
        "default_directory": "Username-Password-Authentication",
        "enabled_locales": ["en", "de", "fr"],
        "session_lifetime": 168,
        "idle_session_lifetime": 72,
        "flags": flags,
    });

    // Clients.
    let non_conformant = rng.sample(counts.clients, planted_count(counts.clients, rate / 8.0));
    let legacy_grant = rng.sample(counts.clients, planted_count(counts.clients, rate / 8.0));
    let mut clients = Vec::with_capacity(counts.clients);
    let mut interactive = Vec::new();
    for i in 0..counts.clients {
        let roll = rng.below(100);
        let app_type = match roll {
            0..35 => "spa",
            35..65 => "regular_web",
            65..85 => "native",
            _ => "non_interactive",
        };
        let kind = match app_type {
            "spa" => *rng.pick(&["Dashboard", "Web App", "Console"]),
            "regular_web" => *rng.pick(&["Portal", "Site", "Backoffice"]),
            "native" => *rng.pick(&["iOS", "Android", "Desktop"]),
            _ => *rng.pick(&["Worker", "Sync Job", "Importer"]),
        };
        let name = format!("{} {} {:04}", rng.pick(PRODUCTS), kind, i);
        let host = format!("{}.{}.example.com", slug(&name), tenant_slug);
        let mut grants: Vec<&str> = match app_type {
            "spa" | "native" => vec!["authorization_code", "implicit", "refresh_token"],
            "regular_web" => vec!["authorization_code", "refresh_token", "client_credentials"],
            _ => vec!["client_credentials"],
        };
        if app_type != "non_interactive" {
            interactive.push(i);
        }
        let legacy = legacy_grant.binary_search(&i).is_ok();
        if legacy {
            grants.push("http://auth0.com/oauth/legacy/grant-type/ro");
        }
        let conformant = non_conformant.binary_search(&i).is_err();
        let mut client = json!({
            "name": name,
            "description": format!("{kind} for the {} team", rng.pick(PRODUCTS).to_ascii_lowercase()),
            "app_type": app_type,
            "is_first_party": true,
            "oidc_conformant": conformant,
            "grant_types": grants,
            "token_endpoint_auth_method": if matches!(app_type, "spa" | "native") { "none" } else { "client_secret_post" },
            "jwt_configuration": { "alg": "RS256", "lifetime_in_seconds": 36000, "secret_encoded": false },
            "sso_disabled": false,
            "cross_origin_auth": false,
            "custom_login_page_on": true,
        });
        if app_type != "non_interactive" {
            client["callbacks"] = json!([format!("https://{host}/callback")]);
            client["allowed_logout_urls"] = json!([format!("https://{host}/")]);
            client["refresh_token"] = json!({
                "rotation_type": "rotating",
                "expiration_type": "expiring",
                "token_lifetime": 2_592_000,
                "idle_token_lifetime": 1_296_000,
                "infinite_token_lifetime": false,
                "infinite_idle_token_lifetime": false,
                "leeway": 0,
            });
        }
        if app_type == "spa" {
            client["web_origins"] = json!([format!("https://{host}")]);
            client["allowed_origins"] = json!([format!("https://{host}")]);
        }
        if !conformant {
            planted.push(Planted {
                policy: "CL302",
                place: Place::Client(i),
                claim: None,
                attribute: None,
            });
        }
        if legacy {
            planted.push(Planted {
                policy: "CL304",
                place: Place::Client(i),
                claim: None,
                attribute: None,
            });
        }
        clients.push(client);
    }
    if interactive.is_empty() {
        interactive = (0..counts.clients).collect();
    }
    let client_name = |i: usize| clients[i]["name"].as_str().unwrap_or_default().to_string();
    let enabled_for = |j: usize| -> Vec<String> {
        let e = args.enabled.min(interactive.len());
        (0..e)
            .map(|k| client_name(interactive[(j * e + k) % interactive.len()]))
            .collect()
    };

    // Enterprise and social connections.
    let n = counts.connections;
    let nested = rng.sample(n, planted_count(n, rate / 4.0));
    let sensitive = rng.sample(n, planted_count(n, rate / 4.0));
    let debug = rng.sample(n, planted_count(n, rate / 6.0));
    let mut connections = Vec::with_capacity(n);
    for j in 0..n {
        let org = rng.pick(ORGS);
        let plant_nested = nested.binary_search(&j).is_ok();
        let plant_sensitive = sensitive.binary_search(&j).is_ok();
        let plant_debug = debug.binary_search(&j).is_ok();
        // A planted sensitive attribute or debug mode needs a mapping strategy.
        let strategy = if plant_debug {
            "samlp"
        } else if plant_sensitive {
            *rng.pick(&["samlp", "adfs", "facebook"])
        } else {
            *rng.pick(&[
                "samlp",
                "samlp",
                "samlp",
                "oidc",
                "oidc",
                "okta",
                "waad",
                "waad",
                "google-oauth2",
                "google-apps",
                "google-apps",
                "adfs",
                "adfs",
                "facebook",
            ])
        };
        let label = match strategy {
            "samlp" => "saml",
            "google-oauth2" => "google",
            "google-apps" => "workspace",
            "waad" => "azure",
            other => other,
        };
        let name = format!("{org}-{label}-{j:04}");
        let mut deny: Vec<String> = Vec::new();
        let mut options = Map::new();
        match strategy {
            "samlp" | "adfs" => {
                let mut fields = Map::new();
                let claims = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";
                fields.insert("email".into(), json!(format!("{claims}/emailaddress")));
                fields.insert("given_name".into(), json!(format!("{claims}/givenname")));
                fields.insert("family_name".into(), json!(format!("{claims}/surname")));
                if rng.chance(0.5) {
                    fields.insert(
                        "department".into(),
                        json!(format!("http://schemas.{org}.example/department")),
                    );
                }
                if rng.chance(0.3) {
                    // A sensitive attribute that is mapped and denied: clean.
                    fields.insert("gender".into(), json!(format!("{claims}/gender")));
                    deny.push("gender".into());
                }
                if plant_sensitive {
                    let attribute = *rng.pick(SENSITIVE);
                    fields.insert(
                        attribute.into(),
                        json!(format!("http://schemas.{org}.example/{attribute}")),
                    );
                    planted.push(Planted {
                        policy: "CL202",
                        place: Place::Connection(j),
                        claim: None,
                        attribute: Some(attribute.into()),
                    });
                }
                if strategy == "samlp" {
                    options.insert(
                        "signInEndpoint".into(),
                        json!(format!("https://sso.{org}.example/saml2/idp")),
                    );
                    options.insert("signatureAlgorithm".into(), json!("rsa-sha256"));
                    options.insert("digestAlgorithm".into(), json!("sha256"));
                    options.insert(
                        "protocolBinding".into(),
                        json!("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"),
                    );
                    options.insert("debug".into(), json!(plant_debug));
                } else {
                    options.insert("adfs_server".into(), json!(format!("https://adfs.{org}.example")));
                }
                options.insert("fieldsMap".into(), Value::Object(fields));
            }
            "oidc" | "okta" => {
                options.insert("client_id".into(), json!(format!("{org}-{j}")));
                options.insert(
                    "client_secret".into(),
                    json!(format!(
                        "##CONNECTIONS_{}_SECRET##",
                        strategy.to_ascii_uppercase()
                    )),
                );
                if strategy == "okta" {
                    options.insert("domain".into(), json!(format!("{org}.okta.example")));
                } else {
                    options.insert("type".into(), json!("front_channel"));
                    options.insert("issuer".into(), json!(format!("https://login.{org}.example")));
                    options.insert(
                        "discovery_url".into(),
                        json!(format!(
                            "https://login.{org}.example/.well-known/openid-configuration"
                        )),
                    );
                }
                options.insert("scope".into(), json!("openid profile email"));
                options.insert(
                    "attribute_map".into(),
                    json!({
                        "mapping_mode": "use_map",
                        "userinfo_scope": "openid email profile",
                        "attributes": {
                            "email": "${context.tokenset.email}",
                            "name": "${context.tokenset.name}",
                            "nickname": "${context.tokenset.preferred_username}",
                        }
                    }),
                );
            }
            "waad" => {
                options.insert(
                    "tenant_domain".into(),
                    json!(format!("{org}.onmicrosoft.example")),
                );
                options.insert("client_id".into(), json!(format!("{org}-azure-{j}")));
                options.insert("waad_protocol".into(), json!("openid-connect"));
                options.insert("basic_profile".into(), json!(true));
                options.insert("ext_profile".into(), json!(true));
                options.insert("ext_groups".into(), json!(false));
            }
            "facebook" => {
                options.insert("email".into(), json!(true));
                options.insert("public_profile".into(), json!(true));
                let mut scope = "email,public_profile".to_string();
                if plant_sensitive {
                    options.insert("user_birthday".into(), json!(true));
                    scope.push_str(",user_birthday");
                    planted.push(Planted {
                        policy: "CL202",
                        place: Place::Connection(j),
                        claim: None,
                        attribute: Some("birthday".into()),
                    });
                }
                options.insert("scope".into(), json!(scope));
            }
            _ => {
                options.insert("email".into(), json!(true));
                options.insert("profile".into(), json!(true));
                options.insert("scope".into(), json!(["email", "profile"]));
                if strategy == "google-apps" {
                    options.insert("domain".into(), json!(format!("{org}.example")));
                    options.insert("tenant_domain".into(), json!(format!("{org}.example")));
                }
            }
        }
        if plant_nested {
            let (entry, root) = *rng.pick(NESTED_DENY);
            deny.push(entry.into());
            planted.push(Planted {
                policy: "CL201",
                place: Place::Connection(j),
                claim: None,
                attribute: Some(root.into()),
            });
        }
        if plant_debug {
            // Debug mode logs the denied attributes (CL203): give it a (clean) deny list.
            if deny.is_empty() {
                deny.push("ethnicity".into());
            }
            planted.push(Planted {
                policy: "CL203",
                place: Place::Connection(j),
                claim: None,
                attribute: None,
            });
        }
        if !deny.is_empty() {
            options.insert("non_persistent_attrs".into(), json!(deny));
        }
        options.insert("set_user_root_attributes".into(), json!("on_each_login"));
        connections.push(json!({
            "name": name,
            "strategy": strategy,
            "display_name": format!("{} {}", org, label.to_ascii_uppercase()),
            "enabled_clients": enabled_for(j),
            "is_domain_connection": false,
            "options": options,
        }));
    }

    // Database connections; every third one is a custom database with scripts.
    let d = counts.databases;
    let scripted: Vec<usize> = (0..d).filter(|k| k % 3 == 0).collect();
    let db_birthdate: Vec<usize> = rng
        .sample(
            scripted.len(),
            planted_count(scripted.len(), rate * 2.0).max(usize::from(rate > 0.0 && !scripted.is_empty())),
        )
        .into_iter()
        .map(|s| scripted[s])
        .collect();
    let mut databases = Vec::with_capacity(d);
    for k in 0..d {
        let name = if k == 0 {
            "Username-Password-Authentication".to_string()
        } else {
            format!("{}-users-{k:04}", rng.pick(ORGS))
        };
        let mut options = json!({
            "mfa": { "active": true, "return_enroll_settings": true },
            "passwordPolicy": *rng.pick(&["good", "fair", "excellent"]),
            "strategy_version": 2,
            "brute_force_protection": true,
            "requires_username": rng.chance(0.3),
        });
        let mut scripts = Vec::new();
        if k % 3 == 0 {
            let birthdate = db_birthdate.contains(&k);
            options["enabledDatabaseCustomization"] = json!(true);
            options["import_mode"] = json!(true);
            options["customScripts"] = json!({ "login": "./login.js", "get_user": "./get_user.js" });
            scripts.push(("login", db_login_script(&mut rng)));
            scripts.push(("get_user", db_get_user_script(&mut rng, birthdate)));
            if birthdate {
                planted.push(Planted {
                    policy: "CL202",
                    place: Place::DatabaseScript(k, "get_user"),
                    claim: None,
                    attribute: Some("birthdate".into()),
                });
            }
        }
        if rng.chance(0.2) {
            options["non_persistent_attrs"] = json!(["ethnicity"]);
        }
        databases.push(Database {
            value: json!({
                "name": name,
                "strategy": "auth0",
                "enabled_clients": enabled_for(n + k),
                "is_domain_connection": false,
                "options": options,
            }),
            scripts,
        });
    }
    let connection_names: Vec<String> = connections
        .iter()
        .chain(databases.iter().map(|d| &d.value))
        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
        .collect();

    // Resource servers.
    let apis: Vec<Value> = (0..counts.apis)
        .map(|i| {
            let product = rng.pick(PRODUCTS).to_ascii_lowercase();
            json!({
                "name": format!("{} API {i:04}", rng.pick(PRODUCTS)),
                "identifier": format!("https://{product}-{i}.api.{tenant_slug}.example.com/"),
                "allow_offline_access": rng.chance(0.5),
                "signing_alg": "RS256",
                "skip_consent_for_verifiable_first_party_clients": true,
                "token_lifetime": 86400,
                "token_lifetime_for_web": 7200,
                "token_dialect": "access_token",
                "scopes": [
                    { "value": format!("read:{product}"), "description": format!("Read {product}") },
                    { "value": format!("write:{product}"), "description": format!("Change {product}") },
                ],
            })
        })
        .collect();
    let api_ids: Vec<String> = apis
        .iter()
        .map(|a| a["identifier"].as_str().unwrap_or_default().to_string())
        .collect();

    let names = Names {
        clients: &clients,
        interactive: &interactive,
        connections: &connection_names,
        apis: &api_ids,
        tenant: &tenant_slug,
    };
    // Rules: 3% are disabled; planted ones are enabled.
    let mut rules = Vec::with_capacity(counts.rules);
    let rule_plants = plant_kinds(
        &mut rng,
        counts.rules,
        rate,
        &["CL101", "CL101", "CL102", "CL106"],
    );
    for (i, plant) in rule_plants.into_iter().enumerate() {
        let enabled = plant.is_some() || !rng.chance(0.03);
        let kinds = ScriptKinds {
            templates: RULE_TEMPLATES,
            refresh_skipped: RULE_REFRESH_SKIPPED,
            plant: |fill: &mut Fill, policy: &str| match policy {
                "CL101" => plant_rule_cl101(fill),
                "CL102" => plant_rule_cl102(fill),
                _ => refresh_claim(fill, i),
            },
        };
        let script = generate_script(&mut rng, &names, i, plant, kinds, &mut planted, Place::Rule(i));
        rules.push((script, enabled));
    }

    // Actions: 90% bound to post-login (planted ones always), the rest deployed but unbound.
    let mut actions = Vec::with_capacity(counts.actions);
    let action_plants = plant_kinds(
        &mut rng,
        counts.actions,
        rate,
        &["CL101", "CL101", "CL102", "CL103", "CL106"],
    );
    for (i, plant) in action_plants.into_iter().enumerate() {
        let bound = plant.is_some() || rng.chance(0.9);
        let kinds = ScriptKinds {
            templates: ACTION_TEMPLATES,
            refresh_skipped: ACTION_REFRESH_SKIPPED,
            plant: |fill: &mut Fill, policy: &str| match policy {
                "CL101" => plant_action_cl101(fill),
                "CL102" => plant_action_cl102(fill),
                "CL103" => plant_action_cl103(fill),
                _ => refresh_claim(fill, i),
            },
        };
        let script = generate_script(&mut rng, &names, i, plant, kinds, &mut planted, Place::Action(i));
        actions.push((script, bound));
    }

    Tenant {
        settings,
        clients,
        connections,
        databases,
        rules,
        actions,
        apis,
        planted,
    }
}

/// Which of `n` scripts carry a planted finding, and which policy each one plants.
fn plant_kinds(rng: &mut Rng, n: usize, rate: f64, kinds: &[&'static str]) -> Vec<Option<&'static str>> {
    let mut out = vec![None; n];
    // At least one of each kind when the scripts are many enough.
    let count = planted_count(n, rate).max(if n >= 4 * kinds.len() { kinds.len() } else { 0 });
    for (k, i) in rng.sample(n, count).into_iter().enumerate() {
        out[i] = Some(kinds[k % kinds.len()]);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Scripts

/// The tenant's names a script's placeholders are filled from.
struct Names<'a> {
    clients: &'a [Value],
    interactive: &'a [usize],
    connections: &'a [String],
    apis: &'a [String],
    tenant: &'a str,
}

/// Rules or actions: their templates, the one that skips the refresh flow (a planted CL106),
/// and how each planted policy's line and claim are written.
struct ScriptKinds<P> {
    templates: &'static [Template],
    refresh_skipped: Template,
    plant: P,
}

/// The `i`th rule or action: a template filled in, with a planted line when `plant` names a
/// policy (recorded in `planted` at `place`).
fn generate_script(
    rng: &mut Rng,
    names: &Names,
    i: usize,
    plant: Option<&'static str>,
    kinds: ScriptKinds<impl Fn(&mut Fill, &str) -> (String, String)>,
    planted: &mut Vec<Planted>,
    place: Place,
) -> Script {
    let mut fill = Fill::new(rng, names);
    let template = if plant == Some("CL106") {
        kinds.refresh_skipped
    } else {
        kinds.templates[fill.rng.below(kinds.templates.len())]
    };
    let (planted_line, claim) = match plant {
        Some(policy) => (kinds.plant)(&mut fill, policy),
        None => (String::new(), String::new()),
    };
    let name = format!("{} {i:04}", fill.apply(template.1, ""));
    let text = fill.apply(template.0, &planted_line);
    if let Some(policy) = plant {
        planted.push(Planted {
            policy,
            place,
            claim: Some(claim),
            attribute: None,
        });
    }
    Script { name, text }
}

/// Seeded values for one script's placeholders.
struct Fill<'a> {
    rng: &'a mut Rng,
    ns: String,
    ns_base: String,
    c: [String; 3],
    client: String,
    client2: String,
    conn: String,
    api: String,
    tenant: String,
    fn_name: String,
}

impl<'a> Fill<'a> {
    fn new(rng: &'a mut Rng, names: &Names) -> Self {
        let Names {
            clients,
            interactive,
            connections,
            apis,
            tenant,
        } = *names;
        let domain = *rng.pick(DOMAINS);
        let ns_base = match rng.below(4) {
            0 => format!("http://schemas.{domain}/claims"),
            _ => format!("https://{domain}"),
        };
        let mut c: [String; 3] = Default::default();
        for k in 0..3 {
            loop {
                let claim = *rng.pick(CLAIMS);
                if !c[..k].iter().any(|seen| seen == claim) {
                    c[k] = claim.to_string();
                    break;
                }
            }
        }
        let pick_client = |rng: &mut Rng| {
            let i = interactive[rng.below(interactive.len())];
            clients[i]["name"].as_str().unwrap_or_default().to_string()
        };
        let client = pick_client(rng);
        let client2 = pick_client(rng);
        let conn = if connections.is_empty() {
            "Username-Password-Authentication".to_string()
        } else {
            rng.pick(connections).clone()
        };
        let api = if apis.is_empty() {
            format!("https://api.{tenant}.example.com/")
        } else {
            rng.pick(apis).clone()
        };
        let verb = *rng.pick(&["add", "set", "enrich", "map", "copy", "attach"]);
        let fn_name = format!("{verb}{}Claims", camel(&c[0]));
        Fill {
            rng,
            ns: format!("{ns_base}/"),
            ns_base,
            c,
            client,
            client2,
            conn,
            api,
            tenant: tenant.to_string(),
            fn_name,
        }
    }

    fn apply(&mut self, template: &str, plant: &str) -> String {
        let text = template
            .replace("@PLANT@", plant)
            .replace("@NSB@", &self.ns_base)
            .replace("@NS@", &self.ns)
            .replace("@C1CAMEL@", &camel(&self.c[0]))
            .replace("@C1@", &self.c[0])
            .replace("@C2@", &self.c[1])
            .replace("@C3@", &self.c[2])
            .replace("@CLIENT2@", &self.client2)
            .replace("@CLIENT@", &self.client)
            .replace("@CONN@", &self.conn)
            .replace("@API@", &self.api)
            .replace("@TENANT@", &self.tenant)
            .replace("@FN@", &self.fn_name)
            .replace("@N@", &(2 + self.rng.below(8)).to_string());
        debug_assert!(
            !text.contains("@C") && !text.contains("@NS"),
            "unfilled placeholder in {text}"
        );
        text
    }
}

fn camel(s: &str) -> String {
    s.split('_')
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|f| f.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The claim a CL106 script skips on refresh. Its name is the script's own: were another script
/// to set the same claim on refresh, the refreshed token would have it and nothing is missing.
fn refresh_claim(f: &mut Fill, i: usize) -> (String, String) {
    let base = *f.rng.pick(&[
        "session_plan",
        "risk_level",
        "step_up",
        "ui_flags",
        "first_login",
        "consent",
    ]);
    f.c[0] = format!("{base}_{i}");
    (String::new(), format!("{}{}", f.ns, f.c[0]))
}

/// A CL101 claim in a rule: a custom claim without a namespace.
fn plant_rule_cl101(f: &mut Fill) -> (String, String) {
    let claim = f.c[2].clone();
    let line = match f.rng.below(3) {
        0 => format!("  context.idToken.{claim} = (user.app_metadata || {{}}).{claim};\n"),
        1 => {
            format!("  context.accessToken['{claim}'] = user.user_metadata && user.user_metadata.{claim};\n")
        }
        _ => format!("  const legacyClaim = '{claim}';\n  context.idToken[legacyClaim] = user.name;\n"),
    };
    (line, claim.to_string())
}

/// A CL102 claim in a rule: namespaced under the tenant's own Auth0 domain.
fn plant_rule_cl102(f: &mut Fill) -> (String, String) {
    let claim = f.c[2].clone();
    let region = *f.rng.pick(&["", "eu.", "us.", "au."]);
    let ns = format!("https://{}.{region}auth0.com/", f.tenant);
    let line = format!(
        "  const tenantNamespace = '{ns}';\n  context.idToken[tenantNamespace + '{claim}'] = user.email_verified === true;\n"
    );
    (line, format!("{ns}{claim}"))
}

fn plant_action_cl101(f: &mut Fill) -> (String, String) {
    let claim = f.c[2].clone();
    let line = match f.rng.below(2) {
        0 => format!("  api.idToken.setCustomClaim('{claim}', event.user.app_metadata?.{claim} ?? null);\n"),
        _ => format!("  api.accessToken.setCustomClaim(\"{claim}\", event.user.user_metadata?.{claim});\n"),
    };
    (line, claim.to_string())
}

fn plant_action_cl102(f: &mut Fill) -> (String, String) {
    let claim = f.c[2].clone();
    let host = match f.rng.below(3) {
        0 => format!("{}.auth0.com", f.tenant),
        1 => format!("{}.eu.auth0.com", f.tenant),
        _ => format!("{}.webtask.io", f.tenant),
    };
    let name = format!("https://{host}/{claim}");
    let line = format!("  api.accessToken.setCustomClaim(`https://{host}/{claim}`, event.user.email);\n");
    (line, name)
}

fn plant_action_cl103(f: &mut Fill) -> (String, String) {
    let claim = *f.rng.pick(RESTRICTED);
    let line = format!("  api.accessToken.setCustomClaim('{claim}', event.authorization?.roles ?? []);\n");
    (line, claim.to_string())
}

/// A rule template: script text with placeholders, and a title for the rule name.
type Template = (&'static str, &'static str);

/// CL106: the claim is set after an early return on refresh.
const RULE_REFRESH_SKIPPED: Template = (
    r#"function @FN@(user, context, callback) {
@PLANT@  const namespace = '@NS@';
  if (context.protocol === 'oauth2-refresh-token') {
    return callback(null, user, context);
  }
  context.idToken[namespace + '@C1@'] = (user.app_metadata || {}).@C1@;
  callback(null, user, context);
}
"#,
    "Add @C1@ on interactive logins",
);

const ACTION_REFRESH_SKIPPED: Template = (
    r#"/**
 * Adds the @C1@ claim. Skipped on refresh: "the claim is still in the old token".
 */
exports.onExecutePostLogin = async (event, api) => {
@PLANT@  if (event.transaction?.protocol === 'oauth2-refresh-token') {
    return;
  }
  const namespace = '@NS@';
  api.idToken.setCustomClaim(`${namespace}@C1@`, event.user.app_metadata?.@C1@);
};
"#,
    "Add @C1@ claim",
);

const RULE_TEMPLATES: &[Template] = &[
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const namespace = '@NS@';
  const assignedRoles = (context.authorization || {}).roles || [];
  const appRoles = (user.app_metadata || {}).roles || [];
  const roles = assignedRoles.concat(appRoles);
  context.idToken[namespace + 'roles'] = roles;
  context.accessToken[namespace + 'roles'] = roles;
  return callback(null, user, context);
}
"#,
        "Add roles to tokens",
    ),
    (
        r#"function (user, context, callback) {
@PLANT@  const namespace = '@NSB@';
  const assignedRoles = (context.authorization || {}).roles;

  let idTokenClaims = context.idToken || {};
  let accessTokenClaims = context.accessToken || {};

  idTokenClaims[`${namespace}/roles`] = assignedRoles;
  accessTokenClaims[`${namespace}/roles`] = assignedRoles;
  idTokenClaims[`${namespace}/@C1@`] = (user.app_metadata || {}).@C1@;

  context.idToken = idTokenClaims;
  context.accessToken = accessTokenClaims;
  callback(null, user, context);
}
"#,
        "RBAC claims and @C1@",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const ns = '@NS@';
  const metadata = user.user_metadata || {};
  Object.assign(context.idToken, {
    [ns + '@C1@']: metadata.@C1@ || 'default',
    [ns + '@C2@']: metadata.@C2@ || null,
  });
  callback(null, user, context);
}
"#,
        "Copy @C1@ from user metadata",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  if (context.clientName !== '@CLIENT@') {
    return callback(null, user, context);
  }
  const namespace = '@NS@';
  const appMetadata = user.app_metadata || {};
  context.accessToken[namespace + '@C1@'] = appMetadata.@C1@;
  context.accessToken[namespace + '@C2@'] = appMetadata.@C2@ || 'none';
  return callback(null, user, context);
}
"#,
        "@C1@ for one application",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const namespace = '@NS@';
  context.idToken[namespace + '@C1@'] = (user.app_metadata || {}).@C1@ || 'free';
  if (context.protocol === 'oauth2-refresh-token') {
    return callback(null, user, context);
  }
  console.log(`interactive login of ${user.user_id} through ${context.connection}`);
  callback(null, user, context);
}
"#,
        "@C1@ claim and login audit",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const namespace = '@NS@';
  const fields = ['@C1@', '@C2@', '@C3@'];
  const source = user.app_metadata || {};
  fields.forEach(function (field) {
    if (source[field] !== undefined) {
      context.idToken[namespace + field] = source[field];
    }
  });
  callback(null, user, context);
}
"#,
        "Copy app metadata fields",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const NS = '@NS@';
  function claim(name) {
    return NS + name;
  }
  const meta = user.user_metadata || {};
  context.idToken[claim('@C1@')] = meta.@C1@ || user.nickname;
  context.accessToken[claim('@C2@')] = meta.@C2@;
  return callback(null, user, context);
}
"#,
        "Named claims for @C1@",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  if (!user.email_verified) {
    return callback(new UnauthorizedError('Please verify your email before logging in.'));
  }
  const namespace = '@NS@';
  context.idToken[namespace + 'email_domain'] = user.email ? user.email.split('@')[1] : null;
  callback(null, user, context);
}
"#,
        "Require verified email and @C1@",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const namespace = '@NS@';
  const groups = (user.app_metadata || {}).groups || [];
  const scopes = [];
  for (let i = 0; i < groups.length; i++) {
    if (groups[i] === 'admins') {
      scopes.push('admin:all');
    } else {
      scopes.push('read:' + groups[i]);
    }
  }
  context.accessToken[namespace + '@C1@'] = scopes;
  callback(null, user, context);
}
"#,
        "Map groups to @C1@",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const namespace = '@NS@';
  if (context.connectionStrategy === 'samlp' || context.connection === '@CONN@') {
    context.idToken[namespace + 'sso'] = true;
    context.idToken[namespace + '@C1@'] = context.connection;
  }
  callback(null, user, context);
}
"#,
        "Mark enterprise logins with @C1@",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const { app_metadata: appMetadata = {}, user_metadata: userMetadata = {} } = user;
  const { @C1@ = 'standard', @C2@ } = appMetadata;
  const namespace = '@NS@';
  context.accessToken[namespace + '@C1@'] = @C1@;
  if (@C2@) {
    context.accessToken[namespace + '@C2@'] = @C2@;
  }
  context.idToken[namespace + '@C3@'] = userMetadata.@C3@ || 'light';
  callback(null, user, context);
}
"#,
        "Destructure @C1@",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const internalApps = ['@CLIENT@', '@CLIENT2@'];
  if (internalApps.indexOf(context.clientName) === -1) {
    return callback(null, user, context);
  }
  const namespace = '@NS@';
  context.idToken[namespace + 'internal'] = true;
  context.idToken[namespace + '@C1@'] = (user.app_metadata || {}).@C1@;
  return callback(null, user, context);
}
"#,
        "Internal apps get @C1@",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const namespace = '@NS@';
  const audience = (context.request && context.request.query && context.request.query.audience) || '';
  if (audience === '@API@') {
    context.accessToken[namespace + '@C1@'] = (user.app_metadata || {}).@C1@ || [];
  }
  context.idToken[namespace + '@C2@'] = user.user_metadata ? user.user_metadata.@C2@ : undefined;
  callback(null, user, context);
}
"#,
        "Audience specific @C1@",
    ),
    (
        r#"// Sets the @C1@ claim on both tokens; see the runbook before renaming it.
function @FN@(user, context, callback) {
@PLANT@  var namespace = '@NS@';
  var value = user.app_metadata && user.app_metadata.@C1@;
  if (!value) {
    return callback(null, user, context);
  }
  context.idToken[namespace + '@C1@'] = value;
  context.accessToken[namespace + '@C1@'] = value;
  callback(null, user, context);
}
"#,
        "Propagate @C1@",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const namespace = '@NS@';
  user.app_metadata = user.app_metadata || {};
  const count = (user.app_metadata.login_count || 0) + 1;
  context.idToken[namespace + '@C1@'] = count > @N@ ? 'returning' : 'new';
  context.idToken[namespace + '@C2@'] = context.stats ? context.stats.loginsCount : 0;
  callback(null, user, context);
}
"#,
        "Classify users by @C1@",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const namespace = '@NS@';
  const claims = {
    '@C1@': (user.app_metadata || {}).@C1@,
    '@C2@': (user.user_metadata || {}).@C2@,
  };
  for (const key of Object.keys(claims)) {
    if (claims[key] != null) {
      context.idToken[`${namespace}${key}`] = claims[key];
    }
  }
  callback(null, user, context);
}
"#,
        "Optional @C1@ claims",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const appMetadata = user.app_metadata || {};
  context.accessToken['@NS@@C1@'] = appMetadata.@C1@ || 'basic';
  if (context.clientName === '@CLIENT@') {
    context.idToken['@NS@@C2@'] = appMetadata.@C2@ || false;
  }
  callback(null, user, context);
}
"#,
        "Literal @C1@ claims",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const namespace = '@NS@';
  if (user.user_metadata && user.user_metadata.@C1@) {
    context.idToken[namespace + '@C1@'] = user.user_metadata.@C1@;
  }
  return callback(null, user, context);
}
"#,
        "User metadata @C1@",
    ),
    (
        r#"function @FN@(user, context, callback) {
@PLANT@  const request = require('request');
  // Every login goes to the SIEM, with the application and connection it came through.
  const auditEvent = {
    event: user.logins_count > 1 ? 'login' : 'signup',
    application: context.clientName,
    connection: context.connection,
    protocol: context.protocol,
    user_id: user.user_id
  };
  request.post({ url: 'https://siem.@TENANT@.example.com/collector', json: { event: auditEvent, source: 'auth0' }, timeout: 2000 }, function (err) {
    if (err) {
      console.log('audit event not sent: ' + err.message);
    }
    const namespace = '@NS@';
    context.idToken[namespace + '@C1@'] = (user.app_metadata || {}).@C1@;
    callback(null, user, context);
  });
}
"#,
        "Audit logins and add @C1@",
    ),
];

const ACTION_TEMPLATES: &[Template] = &[
    (
        r#"exports.onExecutePostLogin = async (event, api) => {
@PLANT@  const namespace = '@NSB@';
  const roles = event.authorization?.roles ?? [];
  api.idToken.setCustomClaim(`${namespace}/roles`, roles);
  api.accessToken.setCustomClaim(`${namespace}/roles`, roles);
};
"#,
        "Add roles and @C1@",
    ),
    (
        r#"/**
 * Handler that will be called during the execution of a PostLogin flow.
 *
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
@PLANT@  const NAMESPACE = '@NS@';
  const @C1CAMEL@ = event.user.app_metadata?.@C1@ || 'free';
  api.accessToken.setCustomClaim(NAMESPACE + '@C1@', @C1CAMEL@);
  if (event.user.app_metadata?.@C2@?.length) {
    api.idToken.setCustomClaim(NAMESPACE + '@C2@', event.user.app_metadata.@C2@);
  }
};
"#,
        "@C1@ from app metadata",
    ),
    (
        r#"exports.onExecutePostLogin = async (event, api) => {
@PLANT@  if (event.client.name !== '@CLIENT@') {
    return;
  }
  const namespace = '@NS@';
  api.idToken.setCustomClaim(`${namespace}@C1@`, event.user.user_metadata?.@C1@);
};
"#,
        "@C1@ for one application",
    ),
    (
        r#"exports.onExecutePostLogin = async (event, api) => {
@PLANT@  const { given_name: givenName, family_name: familyName, user_metadata: metadata = {} } = event.user;
  const namespace = '@NS@';
  const displayName = [givenName, familyName].filter(Boolean).join(' ');
  api.idToken.setCustomClaim(namespace + '@C1@', displayName || event.user.nickname);
  api.idToken.setCustomClaim(namespace + '@C2@', metadata.@C2@ ?? 'light');
};
"#,
        "Display name and @C2@",
    ),
    (
        r#"const NAMESPACE = '@NS@';

const claimName = (name) => `${NAMESPACE}${name}`;

exports.onExecutePostLogin = async (event, api) => {
@PLANT@  const app = event.user.app_metadata || {};
  for (const field of ['@C1@', '@C2@', '@C3@']) {
    if (app[field] !== undefined) {
      api.idToken.setCustomClaim(claimName(field), app[field]);
    }
  }
};
"#,
        "Copy @C1@ and friends",
    ),
    (
        r#"exports.onExecutePostLogin = async (event, api) => {
@PLANT@  const namespace = '@NS@';
  api.idToken.setCustomClaim(namespace + '@C1@', event.user.app_metadata?.@C1@ ?? null);
  if (event.transaction?.protocol === 'oauth2-refresh-token') {
    return;
  }
  api.user.setAppMetadata('last_app', event.client.name);
};
"#,
        "@C1@ and last application",
    ),
    (
        r#"exports.onExecutePostLogin = async (event, api) => {
@PLANT@  const namespace = '@NS@';
  if (event.resource_server?.identifier === '@API@') {
    const scopes = event.user.app_metadata?.api_scopes ?? [];
    api.accessToken.setCustomClaim(`${namespace}@C1@`, scopes);
  }
};
"#,
        "API @C1@",
    ),
    (
        r#"exports.onExecutePostLogin = async (event, api) => {
@PLANT@  const namespace = '@NS@';
  const strategy = event.connection.strategy;
  const isEnterprise = ['samlp', 'waad', 'adfs', 'oidc', 'okta'].includes(strategy);
  api.idToken.setCustomClaim(namespace + 'enterprise', isEnterprise);
  if (isEnterprise) {
    api.idToken.setCustomClaim(namespace + '@C1@', event.connection.name);
  }
};
"#,
        "Enterprise @C1@",
    ),
    (
        r#"exports.onExecutePostLogin = async (event, api) => {
@PLANT@  const namespace = '@NS@';
  const org = event.organization;
  if (!org) {
    return;
  }
  api.idToken.setCustomClaim(`${namespace}@C1@`, org.name);
  api.accessToken.setCustomClaim(`${namespace}@C1@`, org.name);
  api.accessToken.setCustomClaim(`${namespace}@C2@`, org.metadata?.@C2@ ?? 'default');
};
"#,
        "Organization @C1@",
    ),
    (
        r#"function pick(source, keys) {
  const out = {};
  keys.forEach((key) => {
    if (source && source[key] !== undefined) {
      out[key] = source[key];
    }
  });
  return out;
}

exports.onExecutePostLogin = async (event, api) => {
@PLANT@  const namespace = '@NS@';
  const selected = pick(event.user.user_metadata, ['@C1@', '@C2@']);
  api.idToken.setCustomClaim(namespace + 'preferences', selected);
};
"#,
        "Preferences with @C1@",
    ),
    (
        r#"exports.onExecutePostLogin = async (event, api) => {
@PLANT@  const namespace = '@NS@';
  const internalApps = new Set(['@CLIENT@', '@CLIENT2@']);
  const tier = internalApps.has(event.client.name) ? 'internal' : event.user.app_metadata?.@C1@ || 'external';
  api.accessToken.setCustomClaim(namespace + '@C1@', tier);
  let attempts = 0;
  while (attempts < @N@ && !event.user.email_verified) {
    attempts += 1;
  }
  api.idToken.setCustomClaim(namespace + '@C2@', attempts);
};
"#,
        "Tier @C1@",
    ),
    (
        r#"exports.onExecutePostLogin = async (event, api) => {
@PLANT@  const ns = '@NS@';
  const { app_metadata: appMetadata = {} } = event.user;
  Object.entries({ @C1@: appMetadata.@C1@, @C2@: appMetadata.@C2@ }).forEach(([key, value]) => {
    if (value !== undefined) {
      api.idToken.setCustomClaim(ns + key, value);
    }
  });
};
"#,
        "Entries @C1@",
    ),
];

fn db_login_script(rng: &mut Rng) -> String {
    let table = *rng.pick(&["users", "members", "accounts", "customers"]);
    format!(
        r#"function login(email, password, callback) {{
  const bcrypt = require('bcrypt');
  const postgres = require('pg');

  const conString = configuration.LEGACY_DB_URL;
  postgres.connect(conString, function (err, client, done) {{
    if (err) return callback(err);

    const query = 'SELECT id, nickname, email, password, given_name, family_name FROM {table} WHERE email = $1';
    client.query(query, [email], function (err, result) {{
      done();
      if (err || result.rows.length === 0) return callback(err || new WrongUsernameOrPasswordError(email));

      const user = result.rows[0];
      bcrypt.compare(password, user.password, function (err, isValid) {{
        if (err || !isValid) return callback(err || new WrongUsernameOrPasswordError(email));
        return callback(null, {{
          user_id: String(user.id),
          nickname: user.nickname,
          email: user.email,
          given_name: user.given_name,
          family_name: user.family_name,
        }});
      }});
    }});
  }});
}}
"#
    )
}

fn db_get_user_script(rng: &mut Rng, birthdate: bool) -> String {
    let table = *rng.pick(&["users", "members", "accounts", "customers"]);
    let extra = if birthdate {
        "\n        birthdate: user.birth_date,"
    } else {
        ""
    };
    format!(
        r#"function getByEmail(email, callback) {{
  const postgres = require('pg');

  const conString = configuration.LEGACY_DB_URL;
  postgres.connect(conString, function (err, client, done) {{
    if (err) return callback(err);

    const query = 'SELECT id, nickname, email, given_name, family_name, birth_date FROM {table} WHERE email = $1';
    client.query(query, [email], function (err, result) {{
      done();
      if (err || result.rows.length === 0) return callback(err);

      const user = result.rows[0];
      callback(null, {{
        user_id: String(user.id),
        nickname: user.nickname,
        email: user.email,{extra}
        given_name: user.given_name,
        family_name: user.family_name,
      }});
    }});
  }});
}}
"#
    )
}

// ---------------------------------------------------------------------------------------------
// Writing

fn write(root: &Path, relative: &str, text: &str) -> std::io::Result<()> {
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    text.push('\n');
    text
}

fn name_of(value: &Value) -> &str {
    value["name"].as_str().unwrap_or_default()
}

/// Relative path of a planted finding's file in the given format.
fn place_path(t: &Tenant, format: Format, place: &Place) -> String {
    let yaml = format == Format::Yaml;
    match place {
        _ if yaml && matches!(place, Place::Tenant | Place::Client(_) | Place::Connection(_)) => {
            "tenant.yaml".into()
        }
        Place::Tenant => "tenant.json".into(),
        Place::Client(i) => format!("clients/{}.json", name_of(&t.clients[*i])),
        Place::Connection(i) => format!("connections/{}.json", name_of(&t.connections[*i])),
        Place::DatabaseScript(i, script) => {
            let folder = if yaml { "databases" } else { "database-connections" };
            format!("{folder}/{}/{script}.js", name_of(&t.databases[*i].value))
        }
        Place::Rule(i) => format!("rules/{}.js", t.rules[*i].0.name),
        Place::Action(i) => format!("actions/{}/code.js", t.actions[*i].0.name),
    }
}

fn triggers(t: &Tenant) -> Value {
    let bound: Vec<Value> = t
        .actions
        .iter()
        .filter(|(_, bound)| *bound)
        .map(|(a, _)| json!({ "action_name": a.name, "display_name": a.name }))
        .collect();
    json!({
        "post-login": bound,
        "credentials-exchange": [],
        "pre-user-registration": [],
        "post-user-registration": [],
        "post-change-password": [],
        "send-phone-message": [],
    })
}

fn action_value(a: &Script, code: &str) -> Value {
    json!({
        "name": a.name,
        "code": code,
        "runtime": "node18",
        "dependencies": [],
        "deployed": true,
        "status": "built",
        "secrets": [],
        "supported_triggers": [{ "id": "post-login", "version": "v3" }],
    })
}

fn rule_value(r: &Script, script: &str, order: usize, enabled: bool) -> Value {
    json!({
        "name": r.name,
        "script": script,
        "stage": "login_success",
        "enabled": enabled,
        "order": order,
    })
}

fn write_directory(t: &Tenant, root: &Path) -> std::io::Result<usize> {
    let mut files = 0;
    let mut put = |relative: &str, text: &str| {
        files += 1;
        write(root, relative, text)
    };
    put("tenant.json", &pretty(&t.settings))?;
    for c in &t.clients {
        put(&format!("clients/{}.json", name_of(c)), &pretty(c))?;
    }
    for c in &t.connections {
        put(&format!("connections/{}.json", name_of(c)), &pretty(c))?;
    }
    for d in &t.databases {
        let folder = format!("database-connections/{}", name_of(&d.value));
        put(&format!("{folder}/database.json"), &pretty(&d.value))?;
        for (script, text) in &d.scripts {
            put(&format!("{folder}/{script}.js"), text)?;
        }
    }
    for (i, (r, enabled)) in t.rules.iter().enumerate() {
        let value = rule_value(r, &format!("./{}.js", r.name), i + 1, *enabled);
        put(&format!("rules/{}.json", r.name), &pretty(&value))?;
        put(&format!("rules/{}.js", r.name), &r.text)?;
    }
    for (a, _) in &t.actions {
        let value = action_value(a, &format!("./actions/{}/code.js", a.name));
        put(&format!("actions/{}.json", a.name), &pretty(&value))?;
        put(&format!("actions/{}/code.js", a.name), &a.text)?;
    }
    if !t.actions.is_empty() {
        put("triggers/triggers.json", &pretty(&triggers(t)))?;
    }
    for api in &t.apis {
        put(&format!("resource-servers/{}.json", name_of(api)), &pretty(api))?;
    }
    Ok(files)
}

fn write_yaml(t: &Tenant, root: &Path) -> std::io::Result<usize> {
    let mut files = 0;
    let mut doc = Map::new();
    doc.insert("tenant".into(), t.settings.clone());
    doc.insert("clients".into(), json!(t.clients));
    let mut databases = Vec::new();
    for d in &t.databases {
        let name = name_of(&d.value).to_string();
        let mut value = d.value.clone();
        if !d.scripts.is_empty() {
            let mut scripts = Map::new();
            for (script, text) in &d.scripts {
                let relative = format!("databases/{name}/{script}.js");
                write(root, &relative, text)?;
                files += 1;
                scripts.insert((*script).into(), json!(format!("./{relative}")));
            }
            value["options"]["customScripts"] = Value::Object(scripts);
        }
        databases.push(value);
    }
    doc.insert("databases".into(), json!(databases));
    doc.insert("connections".into(), json!(t.connections));
    let mut rules = Vec::new();
    for (i, (r, enabled)) in t.rules.iter().enumerate() {
        let relative = format!("rules/{}.js", r.name);
        write(root, &relative, &r.text)?;
        files += 1;
        rules.push(rule_value(r, &format!("./{relative}"), i + 1, *enabled));
    }
    doc.insert("rules".into(), json!(rules));
    let mut actions = Vec::new();
    for (a, _) in &t.actions {
        let relative = format!("actions/{}/code.js", a.name);
        write(root, &relative, &a.text)?;
        files += 1;
        actions.push(action_value(a, &format!("./{relative}")));
    }
    doc.insert("actions".into(), json!(actions));
    doc.insert("triggers".into(), triggers(t));
    doc.insert("resourceServers".into(), json!(t.apis));
    let mut text = String::new();
    yaml_map(&mut text, &doc, 0);
    write(root, "tenant.yaml", &text)?;
    Ok(files + 1)
}

// A small block-style YAML writer for JSON values: every string single-quoted, so no value is
// taken for a number, a boolean or a comment (`##KEY##`).

fn yaml_scalar(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        _ => return None,
    })
}

fn yaml_key(key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        key.to_string()
    } else {
        format!("'{}'", key.replace('\'', "''"))
    }
}

fn yaml_map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        let _ = write!(out, "{:indent$}{}:", "", yaml_key(key));
        yaml_nested(out, value, indent);
    }
}

fn yaml_nested(out: &mut String, value: &Value, indent: usize) {
    match (yaml_scalar(value), value) {
        (Some(scalar), _) => {
            let _ = writeln!(out, " {scalar}");
        }
        (None, Value::Object(map)) => {
            out.push('\n');
            yaml_map(out, map, indent + 2);
        }
        (None, Value::Array(items)) => {
            out.push('\n');
            yaml_list(out, items, indent + 2);
        }
        (None, _) => unreachable!("scalars are handled above"),
    }
}

fn yaml_list(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        match (yaml_scalar(item), item) {
            (Some(scalar), _) => {
                let _ = writeln!(out, "{:indent$}- {scalar}", "");
            }
            (None, Value::Object(map)) => {
                // The first key goes on the dash's line.
                let mut nested = String::new();
                yaml_map(&mut nested, map, indent + 2);
                let _ = write!(out, "{:indent$}- {}", "", &nested[indent + 2..]);
            }
            (None, Value::Array(inner)) => {
                let _ = writeln!(out, "{:indent$}-", "");
                yaml_list(out, inner, indent + 2);
            }
            (None, _) => unreachable!("scalars are handled above"),
        }
    }
}

fn main() {
    let args = Args::parse();
    let tenant = generate(&args);
    let written = match args.format {
        Format::Directory => write_directory(&tenant, &args.out),
        Format::Yaml => write_yaml(&tenant, &args.out),
    };
    let files = match written {
        Ok(files) => files,
        Err(error) => {
            eprintln!("gen-export: cannot write {}: {error}", args.out.display());
            std::process::exit(2);
        }
    };
    let planted: Vec<Value> = tenant
        .planted
        .iter()
        .map(|p| {
            let mut entry = Map::new();
            entry.insert("policy".into(), json!(p.policy));
            entry.insert("file".into(), json!(place_path(&tenant, args.format, &p.place)));
            if let Some(claim) = &p.claim {
                entry.insert("claim".into(), json!(claim));
            }
            if let Some(attribute) = &p.attribute {
                entry.insert("attribute".into(), json!(attribute));
            }
            Value::Object(entry)
        })
        .collect();
    if let Err(error) = write(&args.out, "planted.json", &pretty(&Value::Array(planted))) {
        eprintln!("gen-export: cannot write planted.json: {error}");
        std::process::exit(2);
    }
    let c = counts(&args);
    println!(
        "wrote {} files to {} ({} format): {} clients, {} connections, {} databases, {} rules, {} actions, {} APIs, each connection enabled for {} clients; {} planted findings in planted.json",
        files,
        args.out.display(),
        if args.format == Format::Yaml {
            "yaml"
        } else {
            "directory"
        },
        c.clients,
        c.connections,
        c.databases,
        c.rules,
        c.actions,
        c.apis,
        args.enabled.min(c.clients),
        tenant.planted.len(),
    );
}
