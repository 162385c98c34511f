//! A seeded, deterministic generator of closed Auth0 scripts: rules, post-login actions,
//! credentials-exchange actions and client-credentials hooks, written in the JavaScript idioms
//! people use in them, each with a concrete input (`user`/`context`/`configuration`, `event`,
//! or `client`/`scope`/`audience`/`context`).
//!
//! The generator is typed: every variable, fact (`user.email`, `context.clientName`,
//! `event.client.name`...) and helper it knows has a type, and it only writes operations that
//! cannot throw on that type (no method call on `undefined`, no index past a known end), so
//! that a script throws only where it means to. Loops run over finite arrays or bounded
//! counters, and never grow the array they walk, so every script terminates. The same seed
//! gives the same scripts: case `i` is drawn from its own stream, `case_seed(seed, i)`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

/// splitmix64: small, fast, and good enough to pick idioms.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `pct`%.
    pub fn chance(&mut self, pct: u32) -> bool {
        self.below(100) < pct as usize
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
}

/// The seed of case `index` of the corpus drawn with `seed`.
pub fn case_seed(seed: u64, index: usize) -> u64 {
    Rng::new(seed ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)).next_u64()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rule,
    PostLoginAction,
    CredentialsExchangeAction,
    Hook,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Rule,
        Kind::PostLoginAction,
        Kind::CredentialsExchangeAction,
        Kind::Hook,
    ];

    /// The name the oracle (`tests/oracle/run.mjs`) knows the kind by.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Rule => "rule",
            Kind::PostLoginAction => "post-login-action",
            Kind::CredentialsExchangeAction => "credentials-exchange-action",
            Kind::Hook => "hook",
        }
    }
}

/// One closed script and its input.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub kind: Kind,
    pub source: String,
    pub input: Value,
}

impl Case {
    /// The case as the oracle reads it.
    pub fn to_json(&self) -> Value {
        json!({ "kind": self.kind.as_str(), "source": self.source, "input": self.input })
    }
}

/// `count` cases drawn with `seed`.
pub fn corpus(seed: u64, count: usize) -> Vec<Case> {
    (0..count).map(|i| case(seed, i)).collect()
}

/// Case `index` of the corpus drawn with `seed` (the same as `corpus(seed, n)[index]`).
pub fn case(seed: u64, index: usize) -> Case {
    let mut rng = Rng::new(case_seed(seed, index));
    let kind = match rng.below(100) {
        0..=59 => Kind::Rule,
        60..=84 => Kind::PostLoginAction,
        85..=92 => Kind::CredentialsExchangeAction,
        _ => Kind::Hook,
    };
    // Redraw (from the same stream) until the script has a sensible size.
    loop {
        let input = input_for(kind, &mut rng);
        let source = Gen::new(kind, rng.clone()).script();
        rng.next_u64();
        let lines = source.lines().count();
        if (5..=40).contains(&lines) {
            return Case { kind, source, input };
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Value pools. The facts' domains below are drawn from the same pools, so that a comparison the
// generator writes is true for some inputs and false for others.

const CLIENTS: &[(&str, &str)] = &[
    ("Portal", "cl_portal01"),
    ("Admin Console", "cl_admin02"),
    ("Mobile App", "cl_mobile03"),
    ("Partner API", "cl_partner04"),
];
const CONNECTIONS: &[(&str, &str)] = &[
    ("Username-Password-Authentication", "auth0"),
    ("google-oauth2", "google-oauth2"),
    ("corp-saml", "samlp"),
    ("email", "email"),
];
const PROTOCOLS: &[&str] = &[
    "oidc-basic-profile",
    "oauth2-refresh-token",
    "oauth2-password",
    "samlp",
];
const COUNTRIES: &[&str] = &["NZ", "US", "DE", "JP"];
const EMAILS: &[&str] = &[
    "alice@example.com",
    "bob@corp.example",
    " Carol.Diaz@Example.COM ",
    "dave+test@mail.example.org",
    "eve@admin.example.com",
];
const NAMES: &[&str] = &["Alice Smith", "bob", "Carol Diaz", "Dave O Brien", "  Eve  "];
const NICKNAMES: &[&str] = &["ally", "bobby", "cd", "Dave"];
const ROLES: &[&str] = &["admin", "editor", "viewer", "billing", "support"];
const PLANS: &[&str] = &["free", "pro", "enterprise"];
const LOCALES: &[&str] = &["en", "fr", "de-CH"];
const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "read:reports",
    "write:reports",
    "offline_access",
];
const AUDIENCES: &[&str] = &[
    "https://api.example.com/",
    "https://billing.example.com",
    "urn:partner",
];
const TIERS: &[&str] = &["gold", "silver", "basic"];
const NAMESPACES: &[&str] = &[
    "https://example.com/",
    "https://claims.example.org/",
    "http://ns/",
];
const CLAIM_NAMES: &[&str] = &[
    "roles", "plan", "email", "groups", "tier", "country", "logins", "display", "flags", "tags", "meta",
    "client", "is_admin", "locale", "org", "perms",
];
const WORDS: &[&str] = &[
    "admin", "x", "user", "example", "beta", "gold", "none", "NZ", "Portal", "v", "id", "ok", "", "a-b",
    "42", "7",
];
const SEPS: &[&str] = &["@", ".", "-", ",", " ", ":", "e", "a"];
const MESSAGES: &[&str] = &[
    "Access denied",
    "Please verify your email before logging in.",
    "blocked",
    "Not allowed from this country",
    "MFA required",
];

fn q(s: impl AsRef<str>) -> String {
    let s = s.as_ref();
    assert!(!s.contains(['\'', '\\', '\n']), "unquotable literal {s:?}");
    format!("'{s}'")
}

fn pick_str(rng: &mut Rng, xs: &[&str]) -> String {
    (*rng.pick(xs)).to_owned()
}

fn some_of(rng: &mut Rng, xs: &[&str], max: usize) -> Vec<String> {
    let n = rng.range(0, max);
    let mut out: Vec<String> = Vec::new();
    for _ in 0..n {
        let s = pick_str(rng, xs);
        if !out.contains(&s) || rng.chance(10) {
            out.push(s);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Inputs.

fn user_json(rng: &mut Rng) -> Value {
    let i = rng.below(EMAILS.len());
    let mut u = Map::new();
    u.insert(
        "user_id".into(),
        json!(format!("auth0|{:06x}", rng.below(0xFFFFFF))),
    );
    u.insert("email".into(), json!(EMAILS[i]));
    u.insert("email_verified".into(), json!(rng.chance(60)));
    u.insert("name".into(), json!(NAMES[rng.below(NAMES.len())]));
    u.insert("logins_count".into(), json!(rng.range(0, 40)));
    if rng.chance(60) {
        u.insert("nickname".into(), json!(pick_str(rng, NICKNAMES)));
    }
    match rng.below(3) {
        0 => {}
        1 => {
            u.insert("given_name".into(), Value::Null);
        }
        _ => {
            u.insert("given_name".into(), json!(pick_str(rng, &["Alice", "Bob", ""])));
        }
    }
    if rng.chance(75) {
        let mut am = Map::new();
        if rng.chance(75) {
            am.insert("roles".into(), json!(some_of(rng, ROLES, 3)));
        }
        if rng.chance(60) {
            am.insert("plan".into(), json!(pick_str(rng, PLANS)));
        }
        if rng.chance(30) {
            am.insert("tenant".into(), json!(pick_str(rng, &["acme", "globex"])));
        }
        if rng.chance(25) {
            am.insert(
                "flags".into(),
                json!({ "beta": rng.chance(50), "seats": rng.range(1, 9) }),
            );
        }
        u.insert("app_metadata".into(), Value::Object(am));
    }
    if rng.chance(60) {
        let mut um = Map::new();
        if rng.chance(70) {
            um.insert("locale".into(), json!(pick_str(rng, LOCALES)));
        }
        if rng.chance(40) {
            um.insert("theme".into(), json!(pick_str(rng, &["dark", "light"])));
        }
        u.insert("user_metadata".into(), Value::Object(um));
    }
    if rng.chance(40) {
        u.insert("roles".into(), json!(some_of(rng, ROLES, 2)));
    }
    if rng.chance(30) {
        u.insert(
            "groups".into(),
            json!(some_of(rng, &["staff", "eng", "sales"], 2)),
        );
    }
    Value::Object(u)
}

fn input_for(kind: Kind, rng: &mut Rng) -> Value {
    let (client, client_id) = *rng.pick(CLIENTS);
    let (connection, strategy) = *rng.pick(CONNECTIONS);
    let protocol = pick_str(rng, PROTOCOLS);
    let country = pick_str(rng, COUNTRIES);
    let ns = pick_str(rng, NAMESPACES);
    let mut metadata = Map::new();
    if rng.chance(60) {
        metadata.insert("tier".into(), json!(pick_str(rng, TIERS)));
    }
    if rng.chance(30) {
        metadata.insert("region".into(), json!(pick_str(rng, &["eu", "us"])));
    }
    let scopes = {
        let mut s = vec!["openid".to_owned()];
        s.extend(some_of(rng, &SCOPES[1..], 3));
        s
    };
    match kind {
        Kind::Rule => {
            let user = user_json(rng);
            let logins = rng.range(0, 40);
            let mut context = json!({
                "clientID": client_id,
                "clientName": client,
                "connection": connection,
                "connectionStrategy": strategy,
                "protocol": protocol,
                "request": { "ip": "203.0.113.7", "geoip": { "country_code": country } },
                "stats": { "loginsCount": logins },
                "clientMetadata": Value::Object(metadata),
            });
            // Sometimes an earlier rule has already set claims.
            if rng.chance(15) {
                context["idToken"] = json!({ format!("{ns}previous"): "kept" });
            }
            if rng.chance(10) {
                context["accessToken"] = json!({ "scope": "openid profile" });
            }
            json!({
                "user": user,
                "context": context,
                "configuration": { "NS": ns, "ALLOWED_ROLES": "admin,editor", "MIN_LOGINS": "3" },
            })
        }
        Kind::PostLoginAction => {
            let user = user_json(rng);
            let mut event = json!({
                "user": user,
                "client": { "client_id": client_id, "name": client, "metadata": Value::Object(metadata) },
                "connection": { "id": "con_1", "name": connection, "strategy": strategy },
                "transaction": { "protocol": protocol, "requested_scopes": scopes, "locale": pick_str(rng, LOCALES) },
                "request": { "ip": "203.0.113.7", "geoip": { "countryCode": country } },
                "stats": { "logins_count": rng.range(0, 40) },
                "secrets": { "NS": ns, "API_KEY": "k-123" },
            });
            if rng.chance(80) {
                event["authorization"] = json!({ "roles": some_of(rng, ROLES, 3) });
            }
            json!({ "event": event })
        }
        Kind::CredentialsExchangeAction => json!({
            "event": {
                "client": { "client_id": client_id, "name": client, "metadata": Value::Object(metadata) },
                "resource_server": { "identifier": pick_str(rng, AUDIENCES) },
                "request": { "ip": "203.0.113.7", "geoip": { "countryCode": country } },
                "transaction": { "requested_scopes": scopes },
                "secrets": { "NS": ns },
            }
        }),
        Kind::Hook => json!({
            "client": { "id": client_id, "name": client, "tenant": "acme", "metadata": Value::Object(metadata) },
            "scope": scopes,
            "audience": pick_str(rng, AUDIENCES),
            "context": { "webtask": { "secrets": { "NS": ns } } },
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Types, facts and the environment.

#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Str,
    Num,
    Bool,
    StrArr,
    NumArr,
    /// A plain object whose keys the generator does not track (JSON values).
    Obj,
    /// An object with known fields; `true` marks an optional field.
    Rec(Vec<(String, Ty, bool)>),
}

impl Ty {
    fn fits(&self, want: &Ty) -> bool {
        self == want || (*want == Ty::Obj && matches!(self, Ty::Rec(_)))
    }
}

fn rec(fields: &[(&str, Ty, bool)]) -> Ty {
    Ty::Rec(
        fields
            .iter()
            .map(|(n, t, o)| ((*n).to_owned(), t.clone(), *o))
            .collect(),
    )
}

fn user_rec() -> Ty {
    rec(&[
        ("user_id", Ty::Str, false),
        ("email", Ty::Str, false),
        ("name", Ty::Str, false),
        ("email_verified", Ty::Bool, false),
        ("logins_count", Ty::Num, false),
        ("nickname", Ty::Str, true),
        (
            "app_metadata",
            rec(&[("roles", Ty::StrArr, true), ("plan", Ty::Str, true)]),
            true,
        ),
        ("user_metadata", rec(&[("locale", Ty::Str, true)]), true),
    ])
}

/// An expression about the inputs that always has its type.
#[derive(Debug, Clone)]
struct Fact {
    expr: String,
    ty: Ty,
    domain: Vec<String>,
}

#[derive(Debug, Clone)]
struct Var {
    name: String,
    ty: Ty,
    mutable: bool,
    domain: Vec<String>,
}

#[derive(Debug, Clone)]
struct Func {
    name: String,
    params: Vec<Ty>,
    /// Trailing parameters with a default that calls may leave out.
    optional: usize,
    ret: Ty,
    is_async: bool,
    /// Scope depth it is defined at (0: hoisted, visible everywhere).
    level: usize,
}

fn dom(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| (*s).to_owned()).collect()
}

fn strs(xs: &[(&str, &str)], second: bool) -> Vec<String> {
    xs.iter()
        .map(|(a, b)| (if second { *b } else { *a }).to_owned())
        .collect()
}

const RESERVED: &[&str] = &[
    "user",
    "context",
    "callback",
    "configuration",
    "event",
    "api",
    "exports",
    "module",
    "require",
    "client",
    "scope",
    "audience",
    "cb",
    "access_token",
    "console",
    "JSON",
    "Math",
    "Object",
    "Array",
    "String",
    "Number",
    "Promise",
    "Set",
    "Error",
    "UnauthorizedError",
    "undefined",
    "null",
    "true",
    "false",
    "new",
    "var",
    "let",
    "const",
    "function",
    "return",
    "this",
    "in",
    "of",
    "for",
    "if",
    "else",
    "do",
    "while",
    "switch",
    "case",
    "default",
    "break",
    "continue",
    "try",
    "catch",
    "finally",
    "throw",
    "typeof",
    "delete",
    "void",
    "class",
    "async",
    "await",
    "yield",
    "static",
    "with",
    "enum",
    "export",
    "import",
    "super",
    "extends",
    "instanceof",
    "debugger",
    "name",
    "length",
    "parseInt",
    "globalThis",
    "Boolean",
];

/// Where claims go and how the script ends, per kind.
struct Gen {
    rng: Rng,
    kind: Kind,
    /// `user` facts are reached through this (`user`, `event.user`).
    user: String,
    facts: Vec<Fact>,
    /// Objects with known fields (destructuring sources).
    recs: Vec<Fact>,
    /// Input paths that may be undefined or null: only compared, `typeof`d or defaulted.
    optional: Vec<String>,
    scopes: Vec<Vec<Var>>,
    funcs: Vec<Func>,
    used: BTreeSet<String>,
    /// The namespace constant, if the script has one.
    ns: Option<String>,
    /// A helper that makes a claim name from a short one.
    claim_helper: Option<String>,
    facts_on: bool,
    in_loop: u32,
    is_async: bool,
    depth: u32,
    budget: i32,
    /// Function declarations, written where hoisting makes them visible.
    hoisted: Vec<String>,
}

type Lines = Vec<String>;

fn indent(lines: Lines) -> Lines {
    lines.into_iter().map(|l| format!("  {l}")).collect()
}

impl Gen {
    fn new(kind: Kind, rng: Rng) -> Self {
        let mut g = Gen {
            rng,
            kind,
            user: "user".into(),
            facts: Vec::new(),
            recs: Vec::new(),
            optional: Vec::new(),
            scopes: vec![Vec::new()],
            funcs: Vec::new(),
            used: RESERVED.iter().map(|s| (*s).to_owned()).collect(),
            ns: None,
            claim_helper: None,
            facts_on: true,
            in_loop: 0,
            is_async: false,
            depth: 0,
            budget: 0,
            hoisted: Vec::new(),
        };
        g.budget = g.rng.range(4, 11) as i32;
        g
    }

    fn fact(&mut self, expr: impl Into<String>, ty: Ty, domain: Vec<String>) {
        self.facts.push(Fact {
            expr: expr.into(),
            ty,
            domain,
        });
    }

    fn user_facts(&mut self) {
        let u = self.user.clone();
        self.fact(format!("{u}.email"), Ty::Str, dom(EMAILS));
        self.fact(format!("{u}.name"), Ty::Str, dom(NAMES));
        self.fact(format!("{u}.user_id"), Ty::Str, vec![]);
        self.fact(format!("({u}.nickname || {u}.name)"), Ty::Str, dom(NICKNAMES));
        self.fact(format!("({u}.app_metadata?.plan ?? 'free')"), Ty::Str, dom(PLANS));
        self.fact(
            format!("(({u}.user_metadata || {{}}).locale || 'en')"),
            Ty::Str,
            dom(LOCALES),
        );
        self.fact(format!("{u}.logins_count"), Ty::Num, vec![]);
        self.fact(format!("{u}.email_verified"), Ty::Bool, vec![]);
        self.fact(format!("({u}.app_metadata?.roles ?? [])"), Ty::StrArr, vec![]);
        self.fact(format!("({u}.roles || [])"), Ty::StrArr, vec![]);
        self.fact(format!("({u}.groups || [])"), Ty::StrArr, vec![]);
        self.fact(format!("({u}.app_metadata || {{}})"), Ty::Obj, vec![]);
        self.fact(format!("({u}.user_metadata || {{}})"), Ty::Obj, vec![]);
        for o in [
            "nickname",
            "given_name",
            "app_metadata",
            "app_metadata?.plan",
            "user_metadata?.locale",
            "roles",
        ] {
            self.optional.push(format!("{u}.{o}"));
        }
        self.recs.push(Fact {
            expr: u,
            ty: user_rec(),
            domain: vec![],
        });
    }

    fn setup_facts(&mut self) {
        match self.kind {
            Kind::Rule => {
                self.user_facts();
                self.fact("context.clientName", Ty::Str, strs(CLIENTS, false));
                self.fact("context.clientID", Ty::Str, strs(CLIENTS, true));
                self.fact("context.connection", Ty::Str, strs(CONNECTIONS, false));
                self.fact("context.connectionStrategy", Ty::Str, strs(CONNECTIONS, true));
                self.fact("context.protocol", Ty::Str, dom(PROTOCOLS));
                self.fact("context.request.geoip.country_code", Ty::Str, dom(COUNTRIES));
                self.fact("context.stats.loginsCount", Ty::Num, vec![]);
                self.fact("(context.clientMetadata.tier || 'basic')", Ty::Str, dom(TIERS));
                self.fact("configuration.ALLOWED_ROLES", Ty::Str, vec![]);
                self.fact("configuration.MIN_LOGINS", Ty::Str, vec![]);
                self.fact("Object.keys(context.idToken)", Ty::StrArr, vec![]);
                self.optional.push("context.clientMetadata.region".into());
                self.recs.push(Fact {
                    expr: "context".into(),
                    ty: rec(&[
                        ("clientName", Ty::Str, false),
                        ("clientID", Ty::Str, false),
                        ("connection", Ty::Str, false),
                        ("protocol", Ty::Str, false),
                        ("stats", rec(&[("loginsCount", Ty::Num, false)]), false),
                    ]),
                    domain: vec![],
                });
            }
            Kind::PostLoginAction => {
                self.user_facts();
                let c = if self.user == "user" {
                    "client"
                } else {
                    "event.client"
                };
                self.fact(format!("{c}.name"), Ty::Str, strs(CLIENTS, false));
                self.fact(format!("{c}.client_id"), Ty::Str, strs(CLIENTS, true));
                self.fact(format!("({c}.metadata.tier || 'basic')"), Ty::Str, dom(TIERS));
                self.fact(format!("{c}.metadata"), Ty::Obj, vec![]);
                self.fact("event.transaction.protocol", Ty::Str, dom(PROTOCOLS));
                self.fact("event.connection.strategy", Ty::Str, strs(CONNECTIONS, true));
                self.fact("event.connection.name", Ty::Str, strs(CONNECTIONS, false));
                self.fact("event.request.geoip.countryCode", Ty::Str, dom(COUNTRIES));
                self.fact("event.stats.logins_count", Ty::Num, vec![]);
                self.fact("(event.authorization?.roles ?? [])", Ty::StrArr, vec![]);
                self.fact("event.transaction.requested_scopes", Ty::StrArr, vec![]);
                self.fact("event.secrets.API_KEY", Ty::Str, vec![]);
                self.optional.push("event.authorization".into());
                self.optional.push(format!("{c}.metadata.region"));
                self.recs.push(Fact {
                    expr: "event.transaction".into(),
                    ty: rec(&[
                        ("protocol", Ty::Str, false),
                        ("requested_scopes", Ty::StrArr, false),
                        ("locale", Ty::Str, false),
                    ]),
                    domain: vec![],
                });
            }
            Kind::CredentialsExchangeAction => {
                self.fact("event.client.name", Ty::Str, strs(CLIENTS, false));
                self.fact("event.client.client_id", Ty::Str, strs(CLIENTS, true));
                self.fact("(event.client.metadata.tier || 'basic')", Ty::Str, dom(TIERS));
                self.fact("event.client.metadata", Ty::Obj, vec![]);
                self.fact("event.resource_server.identifier", Ty::Str, dom(AUDIENCES));
                self.fact("event.request.geoip.countryCode", Ty::Str, dom(COUNTRIES));
                self.fact("event.transaction.requested_scopes", Ty::StrArr, vec![]);
                self.optional.push("event.client.metadata.region".into());
                self.recs.push(Fact {
                    expr: "event.client".into(),
                    ty: rec(&[
                        ("name", Ty::Str, false),
                        ("client_id", Ty::Str, false),
                        ("metadata", Ty::Obj, false),
                    ]),
                    domain: vec![],
                });
            }
            Kind::Hook => {
                self.fact("client.name", Ty::Str, strs(CLIENTS, false));
                self.fact("client.id", Ty::Str, strs(CLIENTS, true));
                self.fact("(client.metadata.tier || 'basic')", Ty::Str, dom(TIERS));
                self.fact("client.metadata", Ty::Obj, vec![]);
                self.fact("audience", Ty::Str, dom(AUDIENCES));
                self.fact("scope", Ty::StrArr, vec![]);
                self.fact("scope.length", Ty::Num, vec![]);
                self.optional.push("client.metadata.region".into());
                self.recs.push(Fact {
                    expr: "client".into(),
                    ty: rec(&[
                        ("name", Ty::Str, false),
                        ("id", Ty::Str, false),
                        ("tenant", Ty::Str, false),
                        ("metadata", Ty::Obj, false),
                    ]),
                    domain: vec![],
                });
            }
        }
    }

    // -- names and scopes ----------------------------------------------------------------------

    fn fresh(&mut self, base: &str) -> String {
        let mut name = base.to_owned();
        let mut n = 2;
        while self.used.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        self.used.insert(name.clone());
        name
    }

    fn fresh_of(&mut self, pool: &[&str]) -> String {
        let base = pick_str(&mut self.rng, pool);
        self.fresh(&base)
    }

    fn push_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    /// Leaves a block: its variables and the closures it defined go out of scope.
    fn pop_scope(&mut self) {
        self.scopes.pop();
        let level = self.scopes.len();
        self.funcs.retain(|f| f.level <= level);
    }

    /// Generates inside a non-async callback, where `await` is a syntax error.
    fn sync<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = self.is_async;
        self.is_async = false;
        let out = f(self);
        self.is_async = saved;
        out
    }

    fn fresh_for(&mut self, ty: &Ty) -> String {
        let pool: &[&str] = match ty {
            Ty::Str => &[
                "label", "email", "display", "tier", "plan", "locale", "prefix", "slug", "tag", "who",
            ],
            Ty::Num => &["count", "total", "n", "score", "level", "max", "idx"],
            Ty::Bool => &[
                "isAdmin",
                "verified",
                "ok",
                "isRefresh",
                "allowed",
                "hasRoles",
                "enabled",
            ],
            Ty::StrArr => &["roles", "groups", "tags", "list", "names", "scopes", "perms"],
            Ty::NumArr => &["sizes", "nums", "lens"],
            Ty::Obj => &["meta", "extra", "info", "claims", "profile", "settings"],
            Ty::Rec(_) => &["rec", "summary", "entry", "result"],
        };
        let base = pick_str(&mut self.rng, pool);
        self.fresh(&base)
    }

    fn bind(&mut self, name: &str, ty: Ty, mutable: bool, domain: Vec<String>) {
        self.scopes.last_mut().unwrap().push(Var {
            name: name.to_owned(),
            ty,
            mutable,
            domain,
        });
    }

    fn vars(&self, want: &Ty) -> Vec<Var> {
        // Innermost binding of each name wins.
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for scope in self.scopes.iter().rev() {
            for v in scope.iter().rev() {
                if seen.insert(v.name.clone()) && v.ty.fits(want) {
                    out.push(v.clone());
                }
            }
        }
        out
    }

    fn facts_of(&self, want: &Ty) -> Vec<Fact> {
        if !self.facts_on {
            return Vec::new();
        }
        self.facts.iter().filter(|f| f.ty.fits(want)).cloned().collect()
    }

    fn funcs_of(&self, want: &Ty) -> Vec<Func> {
        self.funcs
            .iter()
            .filter(|f| f.ret.fits(want) && (!f.is_async || self.is_async))
            .cloned()
            .collect()
    }

    // -- expressions ---------------------------------------------------------------------------

    fn lit(&mut self, ty: &Ty) -> String {
        match ty {
            Ty::Str => q(self.rng.pick(WORDS)),
            Ty::Num => match self.rng.below(12) {
                0 => "0.5".into(),
                1 => "(1 / 4)".into(),
                2 => "(0.1 + 0.2)".into(),
                3 => "(1 / 3)".into(),
                _ => self.rng.range(0, 50).to_string(),
            },
            Ty::Bool => (if self.rng.chance(50) { "true" } else { "false" }).into(),
            Ty::StrArr => {
                let pool = if self.rng.chance(50) { ROLES } else { WORDS };
                let items = some_of(&mut self.rng, pool, 3);
                format!("[{}]", items.iter().map(q).collect::<Vec<_>>().join(", "))
            }
            Ty::NumArr => {
                let n = self.rng.range(1, 4);
                let items: Vec<String> = (0..n).map(|_| self.rng.range(0, 9).to_string()).collect();
                format!("[{}]", items.join(", "))
            }
            Ty::Obj => {
                let n = self.rng.range(0, 2);
                let mut parts = Vec::new();
                for _ in 0..n {
                    let k = pick_str(&mut self.rng, CLAIM_NAMES);
                    let t = self.scalar_ty();
                    parts.push(format!("{k}: {}", self.lit(&t)));
                }
                obj_lit(parts)
            }
            Ty::Rec(fields) => {
                let parts = fields
                    .iter()
                    .map(|(k, t, _)| format!("{k}: {}", self.lit(t)))
                    .collect();
                obj_lit(parts)
            }
        }
    }

    fn scalar_ty(&mut self) -> Ty {
        self.rng.pick(&[Ty::Str, Ty::Num, Ty::Bool, Ty::StrArr]).clone()
    }

    fn any_ty(&mut self) -> Ty {
        match self.rng.below(20) {
            0..=6 => Ty::Str,
            7..=9 => Ty::Num,
            10..=11 => Ty::Bool,
            12..=15 => Ty::StrArr,
            16 => Ty::NumArr,
            _ => Ty::Obj,
        }
    }

    /// A variable, fact or literal of type `ty`, with the values it can take when known.
    fn leaf_dom(&mut self, ty: &Ty) -> (String, Vec<String>) {
        let vars = self.vars(ty);
        let facts = self.facts_of(ty);
        let r = self.rng.below(100);
        if !vars.is_empty() && r < 50 {
            let v = self.rng.pick(&vars).clone();
            return (v.name, v.domain);
        }
        if !facts.is_empty() && r < 85 {
            let f = self.rng.pick(&facts).clone();
            return (f.expr, f.domain);
        }
        let l = self.lit(ty);
        let d = if *ty == Ty::Str {
            vec![l.trim_matches('\'').to_owned()]
        } else {
            vec![]
        };
        (l, d)
    }

    fn leaf(&mut self, ty: &Ty) -> String {
        self.leaf_dom(ty).0
    }

    fn expr(&mut self, ty: &Ty, d: u32) -> String {
        if d == 0 || self.rng.chance(30) {
            return self.leaf(ty);
        }
        let funcs = self.funcs_of(ty);
        if !funcs.is_empty() && self.rng.chance(20) {
            let f = self.rng.pick(&funcs).clone();
            return self.call(&f, d - 1);
        }
        match ty {
            Ty::Str => self.str_e(d - 1),
            Ty::Num => self.num_e(d - 1),
            Ty::Bool => self.bool_e(d - 1),
            Ty::StrArr => self.arr_e(d - 1),
            Ty::NumArr => self.numarr_e(d - 1),
            Ty::Obj => self.obj_e(d - 1),
            Ty::Rec(_) => self.lit_rec(ty, d - 1),
        }
    }

    fn call(&mut self, f: &Func, d: u32) -> String {
        let n = f.params.len() - if self.rng.chance(50) { f.optional } else { 0 };
        let args: Vec<String> = f.params[..n].to_vec().iter().map(|t| self.arg(t, d)).collect();
        let call = format!("{}({})", f.name, args.join(", "));
        if f.is_async {
            format!("(await {call})")
        } else {
            call
        }
    }

    fn arg(&mut self, ty: &Ty, d: u32) -> String {
        if let Ty::Rec(_) = ty {
            let recs: Vec<Fact> = self.recs.iter().filter(|r| r.ty == *ty).cloned().collect();
            if self.facts_on && !recs.is_empty() && self.rng.chance(70) {
                return self.rng.pick(&recs).expr.clone();
            }
        }
        self.expr(ty, d)
    }

    fn lit_rec(&mut self, ty: &Ty, d: u32) -> String {
        let Ty::Rec(fields) = ty else { unreachable!() };
        let mut parts = Vec::new();
        for (k, t, opt) in fields {
            if !opt || self.rng.chance(50) {
                parts.push(format!("{k}: {}", self.expr(t, d)));
            }
        }
        obj_lit(parts)
    }

    fn word(&mut self) -> String {
        pick_str(&mut self.rng, WORDS)
    }

    fn str_e(&mut self, d: u32) -> String {
        match self.rng.below(24) {
            0..=2 => self.leaf(&Ty::Str),
            3 => format!("({} + {})", self.expr(&Ty::Str, d), self.expr(&Ty::Str, d)),
            4 => format!("({} + {})", q(self.word()), self.expr(&Ty::Num, d)),
            5 => format!(
                "({} + {} + {})",
                self.expr(&Ty::Str, d),
                q(self.rng.pick(SEPS)),
                self.expr(&Ty::Num, d)
            ),
            6 => format!(
                "`{}${{{}}}{}${{{}}}`",
                self.word(),
                self.expr(&Ty::Str, d),
                self.rng.pick(SEPS),
                self.expr(&Ty::Num, d)
            ),
            7 => {
                let m = self.rng.pick(&["toLowerCase", "toUpperCase", "trim"]).to_string();
                format!("{}.{m}()", self.expr(&Ty::Str, d))
            }
            8 => format!(
                "{}.concat({}, {})",
                self.expr(&Ty::Str, d),
                q(self.rng.pick(SEPS)),
                self.expr(&Ty::Str, d)
            ),
            9 => format!(
                "{}.replace({}, {})",
                self.expr(&Ty::Str, d),
                q(self.rng.pick(SEPS)),
                q(self.rng.pick(&["_", "", " at ", "-"]))
            ),
            10 => format!(
                "{}.split({}).join({})",
                self.expr(&Ty::Str, d),
                q(self.rng.pick(SEPS)),
                q(self.rng.pick(&["-", "", "/", ", "]))
            ),
            11 => format!("{}.split({})[0]", self.expr(&Ty::Str, d), q(self.rng.pick(SEPS))),
            12 => {
                let s = self.expr(&Ty::Str, d);
                match self.rng.below(4) {
                    0 => format!("{s}.slice({})", self.rng.range(0, 4)),
                    1 => format!("{s}.slice(-{})", self.rng.range(1, 4)),
                    2 => format!(
                        "{s}.substring({}, {})",
                        self.rng.range(0, 3),
                        self.rng.range(0, 8)
                    ),
                    _ => format!("{s}.slice(0, {}).toUpperCase()", self.rng.range(1, 3)),
                }
            }
            13 => format!("String({})", self.expr(&Ty::Num, d)),
            14 => {
                let t = self
                    .rng
                    .pick(&[Ty::Obj, Ty::StrArr, Ty::NumArr, Ty::Num, Ty::Str])
                    .clone();
                format!("JSON.stringify({})", self.expr(&t, d))
            }
            15 => format!("(typeof {})", self.some_value()),
            16 => format!(
                "({} ? {} : {})",
                self.expr(&Ty::Bool, d),
                self.expr(&Ty::Str, d),
                self.expr(&Ty::Str, d)
            ),
            17 => format!(
                "({} || {})",
                self.expr(&Ty::Str, d),
                q(self.rng.pick(&["anonymous", "n/a", "none"]))
            ),
            18 => format!(
                "{}.join({})",
                self.expr(&Ty::StrArr, d),
                q(self.rng.pick(&[",", " ", ", ", "|"]))
            ),
            19 => format!("({}[0] ?? {})", self.expr(&Ty::StrArr, d), q("none")),
            20 => {
                let r = self.fresh("r");
                format!(
                    "({}.find(({r}) => {r}.startsWith({})) || {})",
                    self.expr(&Ty::StrArr, d),
                    q(self.rng.pick(&["a", "e", "s", "b"])),
                    q("")
                )
            }
            21 => format!("Object.keys({}).join({})", self.expr(&Ty::Obj, d), q(",")),
            22 => format!("({} && {})", self.expr(&Ty::Str, d), self.expr(&Ty::Str, d)),
            _ => format!(
                "{}.padStart({}, {})",
                self.expr(&Ty::Str, d),
                self.rng.range(2, 8),
                q("*")
            ),
        }
    }

    /// Any expression, or an input path that may be undefined (for `typeof`, `==`).
    fn some_value(&mut self) -> String {
        if self.facts_on && !self.optional.is_empty() && self.rng.chance(50) {
            return self.rng.pick(&self.optional).clone();
        }
        let t = self.any_ty();
        self.leaf(&t)
    }

    fn num_e(&mut self, d: u32) -> String {
        match self.rng.below(22) {
            0..=2 => self.leaf(&Ty::Num),
            3 => format!("({} + {})", self.expr(&Ty::Num, d), self.expr(&Ty::Num, d)),
            4 => format!("({} - {})", self.expr(&Ty::Num, d), self.expr(&Ty::Num, d)),
            5 => format!("({} * {})", self.expr(&Ty::Num, d), self.rng.range(0, 5)),
            6 => format!("({} % {})", self.expr(&Ty::Num, d), self.rng.range(2, 7)),
            7 => format!("({} / {})", self.expr(&Ty::Num, d), self.rng.pick(&[2, 4, 8, 5])),
            8 => format!("Math.max({}, {})", self.expr(&Ty::Num, d), self.expr(&Ty::Num, d)),
            9 => format!(
                "Math.min({}, {}, {})",
                self.expr(&Ty::Num, d),
                self.expr(&Ty::Num, d),
                self.rng.range(0, 30)
            ),
            10 => format!("Math.floor({} / 3)", self.expr(&Ty::Num, d)),
            11 => format!("{}.length", self.expr(&Ty::Str, d)),
            12 => format!("{}.length", self.expr(&Ty::StrArr, d)),
            13 => format!("{}.indexOf({})", self.expr(&Ty::Str, d), q(self.rng.pick(SEPS))),
            14 => format!(
                "{}.indexOf({})",
                self.expr(&Ty::StrArr, d),
                self.expr(&Ty::Str, d)
            ),
            15 => {
                let mut opts = vec!["'42'", "'42px'", "'7'", "'0x1A'", "'3.9'"];
                if self.kind == Kind::Rule && self.facts_on {
                    opts.push("configuration.MIN_LOGINS");
                }
                format!("parseInt({}, 10)", self.rng.pick(&opts))
            }
            16 => {
                let s = self.rng.pick(&["'12'", "'2.5'", "''", "' 8 '"]);
                format!("Number({s})")
            }
            17 => {
                let (a, r) = (self.fresh("acc"), self.fresh("r"));
                format!(
                    "{}.reduce(({a}, {r}) => {a} + {r}.length, 0)",
                    self.expr(&Ty::StrArr, d)
                )
            }
            18 => format!(
                "({} ? {} : {})",
                self.expr(&Ty::Bool, d),
                self.expr(&Ty::Num, d),
                self.expr(&Ty::Num, d)
            ),
            19 => format!("Object.keys({}).length", self.expr(&Ty::Obj, d)),
            20 => {
                let (a, b) = (self.fresh("a"), self.fresh("b"));
                format!("{}.reduce(({a}, {b}) => {a} + {b}, 0)", self.expr(&Ty::NumArr, d))
            }
            _ => format!("Math.max(...{}, 0)", self.expr(&Ty::NumArr, d)),
        }
    }

    fn cmp_str(&mut self, d: u32) -> String {
        let (e, domain) = if self.rng.chance(60) {
            self.leaf_dom(&Ty::Str)
        } else {
            (self.expr(&Ty::Str, d), vec![])
        };
        let lit = if !domain.is_empty() && self.rng.chance(85) {
            self.rng.pick(&domain).clone()
        } else {
            self.word()
        };
        let op = self.rng.pick(&["===", "===", "!==", "==", "!="]).to_string();
        format!("({e} {op} {})", q(&lit))
    }

    fn bool_e(&mut self, d: u32) -> String {
        match self.rng.below(26) {
            0..=1 => self.leaf(&Ty::Bool),
            2..=6 => self.cmp_str(d),
            7 => {
                let op = self.rng.pick(&[">", ">=", "<", "===", "!=="]).to_string();
                format!("({} {op} {})", self.expr(&Ty::Num, d), self.rng.range(0, 10))
            }
            8 => {
                let (o, op) = (
                    self.some_value(),
                    self.rng
                        .pick(&["== null", "=== undefined", "!= null", "!== undefined", "=== null"]),
                );
                format!("({o} {op})")
            }
            9 => {
                let m = self.rng.pick(&["startsWith", "endsWith", "includes"]).to_string();
                format!(
                    "{}.{m}({})",
                    self.expr(&Ty::Str, d),
                    q(self.rng.pick(&["a", "admin", "@", "example", ".com", "oauth2"]))
                )
            }
            10 => {
                let v = if self.rng.chance(50) {
                    q(self.rng.pick(ROLES))
                } else {
                    self.expr(&Ty::Str, d)
                };
                format!("{}.includes({v})", self.expr(&Ty::StrArr, d))
            }
            11 => {
                let r = self.fresh("r");
                self.scopes.push(vec![]);
                self.bind(&r, Ty::Str, false, dom(ROLES));
                let body = self.sync(|g| g.cmp_str(0));
                self.scopes.pop();
                let m = self.rng.pick(&["some", "every"]).to_string();
                format!("{}.{m}(({r}) => {body})", self.expr(&Ty::StrArr, d))
            }
            12 => format!("Array.isArray({})", self.some_value()),
            13 => {
                let t = self
                    .rng
                    .pick(&["'string'", "'undefined'", "'object'", "'number'"])
                    .to_string();
                format!("(typeof {} === {t})", self.some_value())
            }
            14 => format!("(!{})", self.expr(&Ty::Bool, d)),
            15 => format!("(!!{})", self.expr(&Ty::Str, d)),
            16 => format!("({} && {})", self.expr(&Ty::Bool, d), self.expr(&Ty::Bool, d)),
            17 => format!("({} || {})", self.expr(&Ty::Bool, d), self.expr(&Ty::Bool, d)),
            18 => format!("({}.length > 0)", self.expr(&Ty::StrArr, d)),
            19 => format!(
                "({} in {})",
                q(self.rng.pick(&["plan", "roles", "tier", "locale"])),
                self.expr(&Ty::Obj, d)
            ),
            20 => format!(
                "({}.indexOf({}) !== -1)",
                self.expr(&Ty::StrArr, d),
                q(self.rng.pick(ROLES))
            ),
            21 => {
                // Loose equality across types: '7' == 7, '' == 0, null == undefined.
                match self.rng.below(4) {
                    0 => format!(
                        "({} == {})",
                        self.expr(&Ty::Num, d),
                        q(self.rng.range(0, 9).to_string())
                    ),
                    1 => format!("({} != {})", self.expr(&Ty::Str, d), self.rng.range(0, 3)),
                    2 => format!(
                        "({} == {})",
                        self.some_value(),
                        self.rng.pick(&["null", "undefined", "0", "''", "false"])
                    ),
                    _ => format!(
                        "({} === {})",
                        self.some_value(),
                        self.rng.pick(&["null", "undefined", "0", "''"])
                    ),
                }
            }
            22 => format!(
                "({} ? {} : {})",
                self.expr(&Ty::Bool, d),
                self.expr(&Ty::Bool, d),
                self.expr(&Ty::Bool, d)
            ),
            23 => format!("Boolean({})", self.some_value()),
            _ => format!(
                "({} {} {})",
                self.expr(&Ty::Num, d),
                self.rng.pick(&["<", ">="]),
                self.expr(&Ty::Num, d)
            ),
        }
    }

    fn arr_e(&mut self, d: u32) -> String {
        match self.rng.below(18) {
            0..=2 => self.leaf(&Ty::StrArr),
            3 => {
                let r = self.fresh("r");
                self.push_scope();
                self.bind(&r, Ty::Str, false, dom(ROLES));
                let body = self.sync(|g| g.expr(&Ty::Str, 1));
                self.pop_scope();
                format!("{}.map(({r}) => {body})", self.expr(&Ty::StrArr, d))
            }
            4 => {
                let r = self.fresh("r");
                self.scopes.push(vec![]);
                self.bind(&r, Ty::Str, false, dom(ROLES));
                let body = self.sync(|g| g.bool_e(0));
                self.scopes.pop();
                format!("{}.filter(({r}) => {body})", self.expr(&Ty::StrArr, d))
            }
            5 => format!(
                "{}.concat({})",
                self.expr(&Ty::StrArr, d),
                self.expr(&Ty::StrArr, d)
            ),
            6 => format!(
                "[...{}, ...{}]",
                self.expr(&Ty::StrArr, d),
                self.expr(&Ty::StrArr, d)
            ),
            7 => format!("[...{}, {}]", self.expr(&Ty::StrArr, d), self.expr(&Ty::Str, d)),
            8 => format!("{}.slice(0, {})", self.expr(&Ty::StrArr, d), self.rng.range(0, 3)),
            9 => format!("{}.split({})", self.expr(&Ty::Str, d), q(self.rng.pick(SEPS))),
            10 => format!("Object.keys({})", self.expr(&Ty::Obj, d)),
            11 => format!(
                "Array.from(new Set([...{}, ...{}]))",
                self.expr(&Ty::StrArr, d),
                self.expr(&Ty::StrArr, d)
            ),
            12 => format!("[...{}].sort()", self.expr(&Ty::StrArr, d)),
            13 => format!(
                "({} ? {} : {})",
                self.expr(&Ty::Bool, d),
                self.expr(&Ty::StrArr, d),
                self.expr(&Ty::StrArr, d)
            ),
            14 => {
                let (r, i, a) = (self.fresh("r"), self.fresh("i"), self.fresh("all"));
                format!(
                    "{}.filter(({r}, {i}, {a}) => {a}.indexOf({r}) === {i})",
                    self.expr(&Ty::StrArr, d)
                )
            }
            15 => {
                let (k, v) = (self.fresh("k"), self.fresh("v"));
                format!(
                    "Object.entries({}).map(([{k}, {v}]) => {k} + '=' + typeof {v})",
                    self.expr(&Ty::Obj, d)
                )
            }
            16 if self.kind == Kind::Rule && self.facts_on => "configuration.ALLOWED_ROLES.split(',')".into(),
            16 => "'admin,editor'.split(',')".into(),
            _ => {
                let (r, i) = (self.fresh("r"), self.fresh("i"));
                format!(
                    "{}.map(({r}, {i}) => `${{{i}}}:${{{r}}}`)",
                    self.expr(&Ty::StrArr, d)
                )
            }
        }
    }

    fn numarr_e(&mut self, d: u32) -> String {
        match self.rng.below(4) {
            0 => self.leaf(&Ty::NumArr),
            1 => {
                let r = self.fresh("r");
                format!("{}.map(({r}) => {r}.length)", self.expr(&Ty::StrArr, d))
            }
            2 => {
                let n = self.fresh("x");
                format!("{}.map(({n}) => {n} * 2)", self.expr(&Ty::NumArr, d))
            }
            _ => {
                let n = self.fresh("x");
                format!("{}.filter(({n}) => {n} > 2)", self.expr(&Ty::NumArr, d))
            }
        }
    }

    fn obj_e(&mut self, d: u32) -> String {
        match self.rng.below(10) {
            0..=1 => self.leaf(&Ty::Obj),
            2..=4 => {
                let n = self.rng.range(1, 3);
                let mut parts = Vec::new();
                for _ in 0..n {
                    parts.push(self.obj_entry(d));
                }
                obj_lit(parts)
            }
            5 => format!(
                "Object.assign({{}}, {}, {{ {} }})",
                self.expr(&Ty::Obj, d),
                self.obj_entry(d)
            ),
            6 => format!("{{ ...{}, {} }}", self.expr(&Ty::Obj, d), self.obj_entry(d)),
            7 => {
                let r = self.fresh("r");
                format!(
                    "Object.fromEntries({}.map(({r}) => [{r}, true]))",
                    self.expr(&Ty::StrArr, d)
                )
            }
            8 => format!(
                "({} ? {} : {{}})",
                self.expr(&Ty::Bool, d),
                self.expr(&Ty::Obj, d)
            ),
            _ => {
                let recs = self.vars(&Ty::Obj);
                match recs.first() {
                    Some(v) => format!("{{ ...{} }}", v.name),
                    None => self.lit(&Ty::Obj),
                }
            }
        }
    }

    /// One `key: value` of an object literal: plain, quoted, computed, shorthand or spread.
    fn obj_entry(&mut self, d: u32) -> String {
        let t = self.any_ty();
        match self.rng.below(8) {
            0 => {
                let key = self.claim_key_value();
                format!("[{key}]: {}", self.expr(&t, d))
            }
            1 => format!(
                "{}: {}",
                q(format!("x-{}", pick_str(&mut self.rng, CLAIM_NAMES))),
                self.expr(&t, d)
            ),
            2 => {
                let vars = self.vars(&Ty::Str);
                match vars.first() {
                    Some(v) if self.rng.chance(70) => v.name.clone(),
                    _ => format!("label: {}", self.expr(&Ty::Str, d)),
                }
            }
            3 => format!("...{}", self.expr(&Ty::Obj, d)),
            _ => format!("{}: {}", pick_str(&mut self.rng, CLAIM_NAMES), self.expr(&t, d)),
        }
    }

    // -- claims --------------------------------------------------------------------------------

    /// An expression for a claim name.
    fn claim_key_expr(&mut self) -> String {
        let name = pick_str(&mut self.rng, CLAIM_NAMES);
        if let Some(h) = self.claim_helper.clone()
            && self.rng.chance(35)
        {
            return if h.starts_with("claimName") {
                match &self.ns {
                    Some(ns) => format!("{h}({ns}, {})", q(&name)),
                    None => format!("{h}({}, {})", q(NAMESPACES[0]), q(&name)),
                }
            } else {
                format!("{h}({})", q(&name))
            };
        }
        match (&self.ns.clone(), self.rng.below(10)) {
            (Some(ns), 0..=3) => format!("{ns} + {}", q(&name)),
            (Some(ns), 4..=5) => format!("`${{{ns}}}{name}`"),
            (Some(ns), 6) => format!("{ns} + {}.toLowerCase()", self.leaf(&Ty::Str)),
            (_, 7) => name,
            _ => q(format!("{}{name}", self.rng.pick(NAMESPACES))),
        }
    }

    /// A claim name as an expression (a computed key, an index).
    fn claim_key_value(&mut self) -> String {
        let key = self.claim_key_expr();
        if is_ident(&key) { q(&key) } else { key }
    }

    fn token(&mut self) -> &'static str {
        match self.kind {
            Kind::CredentialsExchangeAction | Kind::Hook => "accessToken",
            _ if self.rng.chance(60) => "idToken",
            _ => "accessToken",
        }
    }

    /// Sets a claim. A bare identifier `key` is a dot property (`context.idToken.roles`).
    fn claim_write(&mut self, key: &str, value: &str) -> String {
        let tok = self.token();
        let dot = is_ident(key);
        match self.kind {
            Kind::Rule if dot => format!("context.{tok}.{key} = {value};"),
            Kind::Rule => format!("context.{tok}[{key}] = {value};"),
            Kind::Hook if dot => format!("access_token.{key} = {value};"),
            Kind::Hook => format!("access_token[{key}] = {value};"),
            _ if dot => format!("api.{tok}.setCustomClaim({}, {value});", q(key)),
            _ => format!("api.{tok}.setCustomClaim({key}, {value});"),
        }
    }

    fn claim_stmt(&mut self) -> Lines {
        let key = self.claim_key_expr();
        let t = self.any_ty();
        let d = self.rng.range(1, 2) as u32;
        let mut value = self.expr(&t, d);
        if self.rng.chance(3) {
            value = self
                .rng
                .pick(&["undefined", "null", "NaN", "-0", "[]", "{}"])
                .to_string();
        }
        vec![self.claim_write(&key, &value)]
    }

    /// Several claims at once.
    fn claims_batch(&mut self) -> Lines {
        let n = self.rng.range(1, 3);
        let entries: Vec<String> = (0..n).map(|_| self.obj_entry(1)).collect();
        let obj = obj_lit(entries);
        match self.kind {
            Kind::Rule | Kind::Hook => {
                let target = if self.kind == Kind::Hook {
                    "access_token".to_owned()
                } else {
                    format!("context.{}", self.token())
                };
                if self.kind == Kind::Rule && self.rng.chance(25) {
                    // Reassigning the token object: the callback sees the new one.
                    if self.rng.chance(50) {
                        vec![format!("{target} = {{ ...{target}, ...{obj} }};")]
                    } else {
                        vec![format!("{target} = Object.assign({{}}, {target}, {obj});")]
                    }
                } else {
                    vec![format!("Object.assign({target}, {obj});")]
                }
            }
            _ => {
                let m = self.fresh("extra");
                let (k, v) = (self.fresh("k"), self.fresh("v"));
                let tok = self.token();
                let prefix = self.ns.clone().map(|ns| format!("{ns} + ")).unwrap_or_default();
                if self.rng.chance(50) {
                    vec![
                        format!("const {m} = {obj};"),
                        format!("for (const [{k}, {v}] of Object.entries({m})) {{"),
                        format!("  api.{tok}.setCustomClaim({prefix}{k}, {v});"),
                        "}".into(),
                    ]
                } else {
                    vec![format!(
                        "Object.entries({obj}).forEach(([{k}, {v}]) => api.{tok}.setCustomClaim({prefix}{k}, {v}));"
                    )]
                }
            }
        }
    }

    // -- how scripts end -----------------------------------------------------------------------

    fn deny(&mut self) -> Lines {
        let msg = q(self.rng.pick(MESSAGES));
        match self.kind {
            Kind::Rule => match self.rng.below(5) {
                0 | 1 => vec![format!("return callback(new UnauthorizedError({msg}));")],
                2 => vec![format!("return callback(new Error({msg}));")],
                3 => vec![
                    format!("callback(new UnauthorizedError({msg}));"),
                    "return;".into(),
                ],
                _ => vec![format!("throw new Error({msg});")],
            },
            Kind::PostLoginAction => match self.rng.below(4) {
                0 => vec![format!("api.access.deny({msg});"), "return;".into()],
                1 => vec![format!("return api.access.deny({msg});")],
                2 => vec![format!("throw new Error({msg});")],
                // Denying does not stop the action: what follows still runs.
                _ => vec![format!("api.access.deny({msg});")],
            },
            Kind::CredentialsExchangeAction => match self.rng.below(2) {
                0 => vec![
                    format!("api.access.deny('invalid_request', {msg});"),
                    "return;".into(),
                ],
                _ => vec![format!("throw new Error({msg});")],
            },
            Kind::Hook => match self.rng.below(2) {
                0 => vec![format!("return cb(new Error({msg}));")],
                _ => vec![format!("throw new Error({msg});")],
            },
        }
    }

    fn complete_early(&mut self) -> Lines {
        match self.kind {
            Kind::Rule => vec!["return callback(null, user, context);".into()],
            Kind::Hook => vec!["return cb(null, access_token);".into()],
            _ => vec!["return;".into()],
        }
    }

    // -- statements ----------------------------------------------------------------------------

    fn block(&mut self, n: usize) -> Lines {
        self.push_scope();
        self.depth += 1;
        let mut out = Vec::new();
        for _ in 0..n {
            if self.budget <= 0 {
                break;
            }
            out.extend(self.stmt());
        }
        if out.is_empty() {
            out.extend(self.claim_stmt());
        }
        self.depth -= 1;
        self.pop_scope();
        indent(out)
    }

    fn stmt(&mut self) -> Lines {
        self.budget -= 1;
        let nested = self.depth < 2 && self.budget > 1;
        loop {
            let r = self.rng.below(100);
            let lines = match r {
                0..=13 => self.decl(),
                14..=29 => self.claim_stmt(),
                30..=33 => self.claims_batch(),
                34..=37 if self.kind == Kind::Rule => self.user_write(),
                38..=39 if self.kind == Kind::Rule => self.delete_claim(),
                40..=47 if nested => self.if_stmt(),
                48..=50 if nested => self.switch_stmt(),
                51..=57 if nested => self.loop_stmt(),
                58..=61 => self.mutate(),
                62..=64 if nested => self.try_stmt(),
                65..=68 if self.in_loop == 0 => self.guard_deny(),
                69..=70 if self.in_loop == 0 => self.guard_complete(),
                71..=74 => self.destructure(),
                75..=77 => self.arrow_helper(),
                78 if self.in_loop == 0 => self.counter_closure(),
                79..=80 => self.deferred_let(),
                81..=82 if nested => self.shadow_block(),
                83 => vec![format!("console.log({});", self.expr(&Ty::Str, 1))],
                84..=86 if self.is_async => self.await_stmt(),
                87..=88 => self.destructure_assign(),
                89..=90 => {
                    let key = self.claim_key_expr();
                    let b = self.bool_e(1);
                    vec![self.claim_write(&key, &b)]
                }
                _ => continue,
            };
            return lines;
        }
    }

    fn decl(&mut self) -> Lines {
        let ty = self.any_ty();
        let name = self.fresh_for(&ty);
        let kw = *self.rng.pick(&["const", "const", "let", "var"]);
        let (e, domain) = if self.rng.chance(40) {
            self.leaf_dom(&ty)
        } else {
            (self.expr(&ty, 2), vec![])
        };
        self.bind(&name, ty, kw != "const", domain);
        vec![format!("{kw} {name} = {e};")]
    }

    fn user_write(&mut self) -> Lines {
        match self.rng.below(6) {
            0 => vec![format!("user.country = {};", self.expr(&Ty::Str, 1))],
            1 => vec![format!("user.roles = {};", self.expr(&Ty::StrArr, 1))],
            2 => {
                let field = pick_str(&mut self.rng, &["plan", "tier", "last_client", "roles"]);
                let t = if field == "roles" { Ty::StrArr } else { Ty::Str };
                let v = self.expr(&t, 1);
                vec![
                    "user.app_metadata = user.app_metadata || {};".into(),
                    format!("user.app_metadata.{field} = {v};"),
                ]
            }
            3 => vec![format!(
                "delete user.{};",
                self.rng.pick(&["nickname", "given_name", "groups", "picture"])
            )],
            4 => vec!["user.name = user.name.trim();".into()],
            _ => vec![format!(
                "user.{} = {};",
                self.rng.pick(&["locale", "tenant", "is_new"]),
                {
                    let t = self.scalar_ty();
                    self.expr(&t, 1)
                }
            )],
        }
    }

    fn delete_claim(&mut self) -> Lines {
        let key = self.claim_key_expr();
        let tok = self.token();
        if is_ident(&key) {
            vec![format!("delete context.{tok}.{key};")]
        } else {
            vec![format!("delete context.{tok}[{key}];")]
        }
    }

    fn if_stmt(&mut self) -> Lines {
        let mut out = vec![format!("if ({}) {{", bare(self.bool_e(2)))];
        let n = self.rng.range(1, 3);
        out.extend(self.block(n));
        let r = self.rng.below(3);
        if r >= 1 {
            if r == 2 {
                out.push(format!("}} else if ({}) {{", bare(self.bool_e(1))));
                let n = self.rng.range(1, 2);
                out.extend(self.block(n));
            }
            out.push("} else {".into());
            let n = self.rng.range(1, 2);
            out.extend(self.block(n));
        }
        out.push("}".into());
        out
    }

    fn switch_stmt(&mut self) -> Lines {
        let (e, domain) = self.leaf_dom(&Ty::Str);
        let mut labels: Vec<String> = if domain.len() > 1 {
            domain.clone()
        } else {
            WORDS.iter().map(|s| (*s).to_owned()).collect()
        };
        let mut out = vec![format!("switch ({e}) {{")];
        let cases = self.rng.range(1, 3.min(labels.len()));
        for _ in 0..cases {
            if labels.is_empty() {
                break;
            }
            let i = self.rng.below(labels.len());
            let label = labels.remove(i);
            out.push(format!("  case {}:", q(&label)));
            // Sometimes an empty case falls into the next one.
            if self.rng.chance(25) && !labels.is_empty() {
                let i = self.rng.below(labels.len());
                out.push(format!("  case {}:", q(labels.remove(i))));
            }
            let n = self.rng.range(1, 2);
            out.extend(indent(self.block(n)));
            if self.rng.chance(75) {
                out.push("    break;".into());
            }
        }
        if self.rng.chance(70) {
            out.push("  default:".into());
            out.extend(indent(self.block(1)));
        }
        out.push("}".into());
        out
    }

    /// A loop over a known array or a bounded counter; the body never grows what it walks.
    fn loop_stmt(&mut self) -> Lines {
        self.in_loop += 1;
        let out = match self.rng.below(8) {
            0 | 1 => {
                let acc = self.fresh_for(&Ty::StrArr);
                let arr = self.expr(&Ty::StrArr, 1);
                let r = self.fresh_of(&["role", "r", "item", "s"]);
                let mut out = vec![
                    format!("const {acc} = [];"),
                    format!("for (const {r} of {arr}) {{"),
                ];
                self.scopes.push(vec![]);
                self.bind(&r, Ty::Str, false, dom(ROLES));
                let mut body = Vec::new();
                if self.rng.chance(40) {
                    body.push(format!("if ({}) continue;", bare(self.cmp_str(0))));
                }
                if self.rng.chance(20) {
                    body.push(format!("if ({}) break;", bare(self.cmp_str(0))));
                }
                body.push(format!("{acc}.push({});", self.expr(&Ty::Str, 1)));
                if self.rng.chance(30) {
                    let key = match &self.ns {
                        Some(ns) => format!("{ns} + 'has_' + {r}"),
                        None => format!("'has_' + {r}"),
                    };
                    body.push(self.claim_write(&key, "true"));
                }
                self.scopes.pop();
                out.extend(indent(body));
                out.push("}".into());
                self.bind(&acc, Ty::StrArr, false, vec![]);
                out
            }
            2 => {
                let list = self.fresh_for(&Ty::StrArr);
                let total = self.fresh_for(&Ty::Num);
                let i = self.fresh("i");
                let arr = self.expr(&Ty::StrArr, 1);
                let mut out = vec![
                    format!("const {list} = {arr};"),
                    format!("let {total} = 0;"),
                    format!("for (let {i} = 0; {i} < {list}.length; {i}++) {{"),
                ];
                self.scopes.push(vec![]);
                self.bind(&i, Ty::Num, false, vec![]);
                let step = match self.rng.below(3) {
                    0 => format!("{total} += {list}[{i}].length;"),
                    1 => format!("{total} += {i};"),
                    _ => format!("if ({list}[{i}] === {}) {total}++;", q(self.rng.pick(ROLES))),
                };
                self.scopes.pop();
                out.push(format!("  {step}"));
                out.push("}".into());
                self.bind(&list, Ty::StrArr, false, vec![]);
                self.bind(&total, Ty::Num, true, vec![]);
                out
            }
            3 => {
                let acc = self.fresh_for(&Ty::Str);
                let arr = self.expr(&Ty::StrArr, 1);
                let (r, i) = (self.fresh("r"), self.fresh("i"));
                self.scopes.push(vec![]);
                self.bind(&r, Ty::Str, false, dom(ROLES));
                self.bind(&i, Ty::Num, false, vec![]);
                let piece = self.sync(|g| g.expr(&Ty::Str, 1));
                self.scopes.pop();
                self.bind(&acc, Ty::Str, true, vec![]);
                vec![
                    format!("let {acc} = '';"),
                    format!("{arr}.forEach(({r}, {i}) => {{"),
                    format!("  {acc} += ({i} > 0 ? '|' : '') + {piece};"),
                    "});".into(),
                ]
            }
            4 => {
                let keys = self.fresh_for(&Ty::StrArr);
                let obj = self.expr(&Ty::Obj, 1);
                let k = self.fresh("key");
                self.bind(&keys, Ty::StrArr, false, vec![]);
                vec![
                    format!("const {keys} = [];"),
                    format!("for (const {k} in {obj}) {{"),
                    format!("  {keys}.push({k}.toUpperCase());"),
                    "}".into(),
                ]
            }
            5 => {
                let i = self.fresh("i");
                let acc = self.fresh_for(&Ty::Str);
                let limit = if self.rng.chance(50) {
                    self.rng.range(0, 4).to_string()
                } else {
                    format!("Math.min({}.length, 3)", self.expr(&Ty::StrArr, 1))
                };
                let piece = self.expr(&Ty::Str, 1);
                self.bind(&acc, Ty::Str, true, vec![]);
                vec![
                    format!("let {i} = 0;"),
                    format!("let {acc} = {};", q("")),
                    format!("while ({i} < {limit}) {{"),
                    format!("  {acc} = {acc} + {piece}.charAt({i});"),
                    format!("  {i}++;"),
                    "}".into(),
                ]
            }
            6 => {
                let obj = self.sync(|g| g.expr(&Ty::Obj, 1));
                let out_name = self.fresh_for(&Ty::Obj);
                let (k, v) = (self.fresh("k"), self.fresh("v"));
                let entries = self.rng.pick(&["entries", "keys", "values"]).to_string();
                let line = match entries.as_str() {
                    "entries" => format!(
                        "Object.entries({obj}).forEach(([{k}, {v}]) => {{ {out_name}['md_' + {k}] = {v}; }});"
                    ),
                    "keys" => format!(
                        "Object.keys({obj}).forEach(({k}) => {{ {out_name}[{k}] = typeof {obj}[{k}]; }});"
                    ),
                    _ => {
                        format!("Object.values({obj}).forEach(({v}) => {{ {out_name}[typeof {v}] = {v}; }});")
                    }
                };
                self.bind(&out_name, Ty::Obj, false, vec![]);
                vec![format!("const {out_name} = {{}};"), line]
            }
            _ => {
                let n = self.fresh_for(&Ty::Num);
                let arr = self.expr(&Ty::StrArr, 1);
                let (acc, r, r2) = (self.fresh("acc"), self.fresh("r"), self.fresh("r"));
                self.bind(&n, Ty::Num, false, vec![]);
                let role = q(self.rng.pick(ROLES));
                vec![format!(
                    "const {n} = {arr}.filter(({r}) => {r} !== {role}).reduce(({acc}, {r2}) => {acc} + {r2}.length, 0);"
                )]
            }
        };
        self.in_loop -= 1;
        out
    }

    fn mutate(&mut self) -> Lines {
        let muts: Vec<Var> = self
            .scopes
            .iter()
            .flatten()
            .filter(|v| v.mutable && matches!(v.ty, Ty::Str | Ty::Num | Ty::StrArr | Ty::Bool))
            .cloned()
            .collect();
        let arrays: Vec<Var> = self.vars(&Ty::StrArr);
        let objs: Vec<Var> = self
            .vars(&Ty::Obj)
            .into_iter()
            .filter(|v| v.ty == Ty::Obj)
            .collect();
        match self.rng.below(3) {
            0 if !muts.is_empty() => {
                let v = self.rng.pick(&muts).clone();
                let line = match v.ty {
                    Ty::Str => match self.rng.below(2) {
                        0 => format!("{} += {};", v.name, self.expr(&Ty::Str, 1)),
                        _ => format!("{} = {}.toLowerCase();", v.name, v.name),
                    },
                    Ty::Num => match self.rng.below(3) {
                        0 => format!("{}++;", v.name),
                        1 => format!("{} += {};", v.name, self.expr(&Ty::Num, 1)),
                        _ => format!("{} *= 2;", v.name),
                    },
                    Ty::Bool => format!("{} = !{};", v.name, v.name),
                    _ => format!("{} = {}.concat({});", v.name, v.name, self.expr(&Ty::StrArr, 1)),
                };
                vec![line]
            }
            // Pushing can reach the user's own array through an alias: that is a real mistake.
            1 if !arrays.is_empty() && self.in_loop == 0 => {
                let v = self.rng.pick(&arrays).clone();
                vec![format!("{}.push({});", v.name, self.expr(&Ty::Str, 1))]
            }
            2 if !objs.is_empty() => {
                let v = self.rng.pick(&objs).clone();
                let t = self.scalar_ty();
                let value = self.expr(&t, 1);
                match self.rng.below(3) {
                    0 => vec![format!(
                        "{}.{} = {value};",
                        v.name,
                        pick_str(&mut self.rng, CLAIM_NAMES)
                    )],
                    1 => vec![format!("{}[{}] = {value};", v.name, self.expr(&Ty::Str, 1))],
                    _ => vec![format!(
                        "delete {}.{};",
                        v.name,
                        pick_str(&mut self.rng, CLAIM_NAMES)
                    )],
                }
            }
            _ => self.decl(),
        }
    }

    fn try_stmt(&mut self) -> Lines {
        let mut out = vec!["try {".into()];
        match self.rng.below(3) {
            0 => {
                // Reading through a path that may not exist: a TypeError, caught.
                let t = self.fresh_for(&Ty::Str);
                let path = match self.kind {
                    Kind::Rule | Kind::PostLoginAction => {
                        format!("{}.app_metadata.plan.toUpperCase()", self.user)
                    }
                    Kind::Hook => "client.metadata.region.toUpperCase()".into(),
                    Kind::CredentialsExchangeAction => "event.client.metadata.region.toUpperCase()".into(),
                };
                out.insert(0, format!("let {t} = {};", q("unknown")));
                out.push(format!("  {t} = {path};"));
                out.push("} catch (e) {".into());
                out.push(format!("  {t} = {};", q("none")));
                out.push("}".into());
                self.bind(&t, Ty::Str, true, vec![]);
                let key = self.claim_key_expr();
                out.push(self.claim_write(&key, &t));
            }
            _ => {
                let n = self.rng.range(0, 2);
                out.extend(self.block(n));
                out.push(format!("  if ({}) {{", bare(self.bool_e(1))));
                out.push(format!("    throw new Error({});", q(self.rng.pick(MESSAGES))));
                out.push("  }".into());
                let n = self.rng.range(1, 2);
                out.extend(self.block(n));
                let key = self.claim_key_expr();
                match self.rng.below(4) {
                    0 => {
                        out.push("} catch ({ message }) {".into());
                        out.push(format!("  {}", self.claim_write(&key, "message")));
                    }
                    1 => {
                        out.push("} catch {".into());
                        out.push(format!("  {}", self.claim_write(&key, "'failed'")));
                    }
                    _ => {
                        let e = self.fresh("err");
                        out.push(format!("}} catch ({e}) {{"));
                        out.push(format!("  {}", self.claim_write(&key, &format!("{e}.message"))));
                    }
                }
                if self.rng.chance(50) {
                    out.push("} finally {".into());
                    out.extend(self.block(1));
                }
                out.push("}".into());
            }
        }
        out
    }

    fn guard_deny(&mut self) -> Lines {
        let cond = if self.rng.chance(50) {
            bare(self.cmp_str(0))
        } else {
            format!("{} && {}", self.cmp_str(0), self.bool_e(1))
        };
        let mut out = vec![format!("if ({cond}) {{")];
        let deny = self.deny();
        out.extend(indent(deny));
        out.push("}".into());
        out
    }

    fn guard_complete(&mut self) -> Lines {
        let cond = bare(self.bool_e(1));
        let mut out = vec![format!("if ({cond}) {{")];
        if self.rng.chance(50) {
            out.extend(indent(self.claim_stmt()));
        }
        let done = self.complete_early();
        out.extend(indent(done));
        out.push("}".into());
        out
    }

    /// An object pattern over `ty` that cannot throw, binding fresh names.
    fn pattern(&mut self, ty: &Ty, binds: &mut Vec<(String, Ty, Vec<String>)>, rest_ok: bool) -> String {
        let Ty::Rec(fields) = ty else { unreachable!() };
        let mut parts = Vec::new();
        for (field, fty, opt) in fields.clone() {
            if !self.rng.chance(45) {
                continue;
            }
            if let Ty::Rec(_) = fty {
                if self.rng.chance(60) {
                    let inner = self.pattern(&fty, binds, rest_ok);
                    parts.push(format!("{field}: {inner}{}", if opt { " = {}" } else { "" }));
                    continue;
                }
                if opt {
                    continue;
                }
            }
            let name = if self.used.contains(&field) || self.rng.chance(25) {
                let n = self.fresh_for(&fty);
                if n == field { n } else { format!("{field}: {n}") }
            } else {
                self.used.insert(field.clone());
                field.clone()
            };
            let bound = name.rsplit(": ").next().unwrap().to_owned();
            let default = if opt || self.rng.chance(15) {
                let lt = match &fty {
                    Ty::Rec(_) => Ty::Obj,
                    t => t.clone(),
                };
                format!(" = {}", self.lit(&lt))
            } else {
                String::new()
            };
            let domain = match field.as_str() {
                "plan" => dom(PLANS),
                "protocol" => dom(PROTOCOLS),
                "clientName" => strs(CLIENTS, false),
                "locale" => dom(LOCALES),
                "email" => dom(EMAILS),
                _ => vec![],
            };
            binds.push((bound, fty, domain));
            parts.push(format!("{name}{default}"));
        }
        if parts.is_empty() {
            let (field, fty, opt) = fields
                .iter()
                .find(|(_, t, _)| !matches!(t, Ty::Rec(_)))
                .unwrap()
                .clone();
            let n = self.fresh_for(&fty);
            let default = if opt {
                format!(" = {}", self.lit(&fty))
            } else {
                String::new()
            };
            binds.push((n.clone(), fty, vec![]));
            parts.push(format!("{field}: {n}{default}"));
        }
        if rest_ok && self.rng.chance(15) {
            let rest = self.fresh("rest");
            binds.push((rest.clone(), Ty::Obj, vec![]));
            parts.push(format!("...{rest}"));
        }
        format!("{{ {} }}", parts.join(", "))
    }

    fn destructure(&mut self) -> Lines {
        let kw = *self.rng.pick(&["const", "const", "let", "var"]);
        let mut binds = Vec::new();
        let line = if self.rng.chance(35) {
            // Array pattern with a default and a rest element.
            let arr = self.expr(&Ty::StrArr, 1);
            let (first, rest) = (self.fresh("first"), self.fresh("others"));
            let second = self.fresh("second");
            binds.push((first.clone(), Ty::Str, vec![]));
            binds.push((rest.clone(), Ty::StrArr, vec![]));
            match self.rng.below(3) {
                0 => format!("{kw} [{first} = 'none', ...{rest}] = {arr};"),
                1 => {
                    binds.push((second.clone(), Ty::Str, vec![]));
                    format!("{kw} [{first} = 'none', {second} = '', ...{rest}] = {arr};")
                }
                _ => format!("{kw} [, {first} = 'n/a', ...{rest}] = {arr};"),
            }
        } else {
            let recs: Vec<Fact> = if self.facts_on { self.recs.clone() } else { vec![] };
            let rec_vars: Vec<Var> = self
                .vars(&Ty::Obj)
                .into_iter()
                .filter(|v| matches!(v.ty, Ty::Rec(_)))
                .collect();
            let (src, ty) = if !rec_vars.is_empty() && (recs.is_empty() || self.rng.chance(40)) {
                let v = self.rng.pick(&rec_vars).clone();
                (v.name, v.ty)
            } else if !recs.is_empty() {
                let f = self.rng.pick(&recs).clone();
                (f.expr, f.ty)
            } else {
                return self.decl();
            };
            // `...rest` of `context` holds the tokens themselves: a claim made of it would be
            // circular.
            let pat = self.pattern(&ty, &mut binds, src != "context");
            format!("{kw} {pat} = {src};")
        };
        for (n, t, d) in binds {
            self.bind(&n, t, kw != "const", d);
        }
        vec![line]
    }

    /// `let a, b; ({ a, b } = obj);` and `[a, b] = [b, a];`.
    fn destructure_assign(&mut self) -> Lines {
        if self.rng.chance(50) {
            let (a, b) = (self.fresh_for(&Ty::Str), self.fresh_for(&Ty::Str));
            let (ea, eb) = (self.expr(&Ty::Str, 1), self.expr(&Ty::Str, 1));
            self.bind(&a, Ty::Str, true, vec![]);
            self.bind(&b, Ty::Str, true, vec![]);
            vec![
                format!("let {a} = {ea}, {b} = {eb};"),
                format!("[{a}, {b}] = [{b}, {a}];"),
            ]
        } else {
            let recs: Vec<Fact> = if self.facts_on { self.recs.clone() } else { vec![] };
            if recs.is_empty() {
                return self.decl();
            }
            let f = self.rng.pick(&recs).clone();
            let Ty::Rec(fields) = &f.ty else { unreachable!() };
            let req: Vec<(String, Ty, bool)> = fields
                .iter()
                .filter(|(_, t, _)| !matches!(t, Ty::Rec(_)))
                .cloned()
                .collect();
            let (f1, t1, o1) = self.rng.pick(&req).clone();
            let (f2, t2, o2) = self.rng.pick(&req).clone();
            if f1 == f2 {
                return self.decl();
            }
            let (a, b) = (self.fresh_for(&t1), self.fresh_for(&t2));
            let d1 = if o1 {
                format!(" = {}", self.lit(&t1))
            } else {
                String::new()
            };
            let d2 = if o2 {
                format!(" = {}", self.lit(&t2))
            } else {
                String::new()
            };
            self.bind(&a, t1, true, vec![]);
            self.bind(&b, t2, true, vec![]);
            vec![
                format!("let {a}, {b};"),
                format!("({{ {f1}: {a}{d1}, {f2}: {b}{d2} }} = {});", f.expr),
            ]
        }
    }

    /// An arrow or function expression that closes over what is in scope.
    fn arrow_helper(&mut self) -> Lines {
        let name = self.fresh_of(&["fmt", "pick", "toClaim", "normalize", "build", "describe"]);
        let pty = self.rng.pick(&[Ty::Str, Ty::StrArr, Ty::Num]).clone();
        let ret = self
            .rng
            .pick(&[Ty::Str, Ty::StrArr, Ty::Num, Ty::Obj, Ty::Bool])
            .clone();
        let p = self.fresh_for(&pty);
        self.push_scope();
        self.bind(&p, pty.clone(), false, vec![]);
        let body = self.sync(|g| g.expr(&ret, 2));
        self.pop_scope();
        let line = match self.rng.below(3) {
            0 => format!("const {name} = ({p}) => {};", wrap_obj(&body)),
            1 => format!("const {name} = function ({p}) {{ return {body}; }};"),
            _ => format!("const {name} = {p} => {{\n  return {body};\n}};"),
        };
        let level = self.scopes.len();
        self.funcs.push(Func {
            name: name.clone(),
            params: vec![pty.clone()],
            optional: 0,
            ret: ret.clone(),
            is_async: false,
            level,
        });
        let mut out: Lines = line.lines().map(str::to_owned).collect();
        if self.rng.chance(60) {
            let arg = self.expr(&pty, 1);
            let key = self.claim_key_expr();
            out.push(self.claim_write(&key, &format!("{name}({arg})")));
        }
        out
    }

    /// A closure that updates a counter in the enclosing scope.
    fn counter_closure(&mut self) -> Lines {
        let c = self.fresh_of(&["hits", "steps", "calls"]);
        let f = self.fresh_of(&["bump", "tick", "note"]);
        let k = self.fresh("k");
        let calls = self.rng.range(1, 3);
        let mut out = vec![
            format!("let {c} = 0;"),
            format!("const {f} = ({k} = 1) => {{ {c} += {k}; }};"),
        ];
        for _ in 0..calls {
            if self.rng.chance(50) {
                out.push(format!("{f}();"));
            } else {
                out.push(format!("{f}({});", self.rng.range(2, 5)));
            }
        }
        self.bind(&c, Ty::Num, true, vec![]);
        out
    }

    /// `let tier;` assigned on every branch.
    fn deferred_let(&mut self) -> Lines {
        let ty = self.rng.pick(&[Ty::Str, Ty::Num, Ty::StrArr]).clone();
        let name = self.fresh_for(&ty);
        let mut out = vec![format!("let {name};")];
        if self.rng.chance(60) {
            out.push(format!("if ({}) {{", bare(self.bool_e(1))));
            out.push(format!("  {name} = {};", self.expr(&ty, 1)));
            if self.rng.chance(40) {
                out.push(format!("}} else if ({}) {{", bare(self.bool_e(1))));
                out.push(format!("  {name} = {};", self.expr(&ty, 1)));
            }
            out.push("} else {".into());
            out.push(format!("  {name} = {};", self.expr(&ty, 1)));
            out.push("}".into());
        } else {
            let (e, domain) = self.leaf_dom(&Ty::Str);
            let labels = if domain.len() > 1 {
                domain
            } else {
                vec!["x".into(), "y".into()]
            };
            out.push(format!("switch ({e}) {{"));
            let first = q(&labels[0]);
            out.push(format!("  case {first}:"));
            out.push(format!("    {name} = {};", self.expr(&ty, 1)));
            out.push("    break;".into());
            let second = q(&labels[labels.len() - 1]);
            out.push(format!("  case {second}:"));
            out.push(format!("    {name} = {};", self.expr(&ty, 1)));
            // Falls through on purpose.
            out.push("  default:".into());
            out.push(format!("    {name} = {name} || {};", self.lit(&ty)));
            out.push("}".into());
        }
        self.bind(&name, ty, true, vec![]);
        out
    }

    /// A block whose `const` shadows an outer variable.
    fn shadow_block(&mut self) -> Lines {
        let all: Vec<Var> = self.scopes.iter().flatten().cloned().collect();
        if all.is_empty() {
            return self.decl();
        }
        let outer = self.rng.pick(&all).clone();
        let ty = self.any_ty();
        // The inner name is in its temporal dead zone in its own initialiser.
        let saved = (self.scopes.clone(), self.ns.clone());
        for s in self.scopes.iter_mut() {
            s.retain(|v| v.name != outer.name);
        }
        if self.ns.as_ref() == Some(&outer.name) {
            self.ns = None;
        }
        let init = self.expr(&ty, 1);
        let key = self.claim_key_expr();
        (self.scopes, self.ns) = saved;
        self.scopes.push(vec![]);
        self.bind(&outer.name, ty, false, vec![]);
        let write = self.claim_write(&key, &outer.name);
        self.scopes.pop();
        vec![
            "{".into(),
            format!("  const {} = {init};", outer.name),
            format!("  {write}"),
            "}".into(),
        ]
    }

    fn await_stmt(&mut self) -> Lines {
        let ty = self.any_ty();
        let name = self.fresh_for(&ty);
        let line = match self.rng.below(3) {
            0 => format!(
                "const {name} = await Promise.resolve({});",
                wrap_obj(&self.expr(&ty, 1))
            ),
            1 => {
                // The executor is not async.
                let e = self.sync(|g| g.expr(&ty, 1));
                format!(
                    "const {name} = await new Promise((resolve) => resolve({}));",
                    wrap_obj(&e)
                )
            }
            _ => format!("const {name} = await {};", wrap_obj(&self.expr(&ty, 1))),
        };
        self.bind(&name, ty, false, vec![]);
        vec![line]
    }

    // -- hoisted helpers -----------------------------------------------------------------------

    /// Function declarations written after their first use. `module_level` helpers (actions,
    /// hooks) see only their parameters and module constants.
    fn helpers(&mut self, module_level: bool) {
        // A claim-name helper: plain, taking the namespace as a parameter that shadows the
        // outer one, or shadowing it with a local of another value.
        if self.rng.chance(35) {
            let p = self.fresh("key");
            let variant = if self.ns.is_some() { self.rng.below(3) } else { 3 };
            let h = self.fresh(["claim", "claimName", "nsClaim", "claim"][variant]);
            let ns = self.ns.clone().unwrap_or_default();
            let decl = match variant {
                // Closes over the namespace constant.
                0 => format!("function {h}({p}) {{\n  return {ns} + {p};\n}}"),
                // A parameter that shadows it (called as `claimName(ns, 'x')`).
                1 => format!("function {h}({ns}, {p}) {{\n  return {ns} + {p};\n}}"),
                // A local of another value that shadows it.
                2 => format!(
                    "function {h}({p}) {{\n  const {ns} = {};\n  return {ns} + {p};\n}}",
                    q("https://other.example/")
                ),
                _ => format!("function {h}({p}) {{\n  return {} + {p};\n}}", q(NAMESPACES[1])),
            };
            self.claim_helper = Some(h);
            self.hoisted.push(decl);
        }
        self.general_helpers(module_level);
    }

    fn general_helpers(&mut self, module_level: bool) {
        let n = self.rng.range(0, 2);
        for _ in 0..n {
            let name = self.fresh_of(&[
                "getRoles",
                "formatName",
                "tierOf",
                "makeClaims",
                "summarize",
                "hasRole",
                "countOf",
            ]);
            let ret = self
                .rng
                .pick(&[Ty::Str, Ty::StrArr, Ty::Num, Ty::Obj, Ty::Bool])
                .clone();
            let is_async = self.is_async && self.rng.chance(30);
            let saved_scopes = std::mem::replace(&mut self.scopes, vec![Vec::new()]);
            let saved_funcs = std::mem::take(&mut self.funcs);
            let saved_facts = self.facts_on;
            let saved_async = self.is_async;
            self.facts_on = !module_level;
            self.is_async = is_async;
            // The namespace constant stays visible (callers hide one the helper cannot see).
            if let Some(ns) = self.ns.clone() {
                self.bind(&ns, Ty::Str, false, vec![]);
            }
            let mut params = Vec::new();
            let mut texts = Vec::new();
            let mut optional = 0;
            let mut shadowed = false;
            let np = self.rng.range(1, 2);
            for i in 0..np {
                let pty = if i == 0
                    && self.rng.chance(30)
                    && matches!(self.kind, Kind::Rule | Kind::PostLoginAction)
                {
                    user_rec()
                } else {
                    self.rng.pick(&[Ty::Str, Ty::StrArr, Ty::Num]).clone()
                };
                if let Ty::Rec(_) = pty {
                    let mut binds = Vec::new();
                    let pat = self.pattern(&pty, &mut binds, true);
                    for (n, t, d) in binds {
                        self.bind(&n, t, false, d);
                    }
                    texts.push(pat);
                } else if pty == Ty::StrArr && self.rng.chance(25) {
                    let (a, rest) = (self.fresh("head"), self.fresh("tail"));
                    self.bind(&a, Ty::Str, false, vec![]);
                    self.bind(&rest, Ty::StrArr, false, vec![]);
                    texts.push(format!("[{a} = 'none', ...{rest}] = []"));
                } else {
                    // A parameter named like the outer namespace shadows it.
                    let p = match &self.ns {
                        Some(ns) if !shadowed && pty == Ty::Str && self.rng.chance(15) => {
                            shadowed = true;
                            ns.clone()
                        }
                        _ => self.fresh_for(&pty),
                    };
                    self.bind(&p, pty.clone(), false, vec![]);
                    if i == np - 1 && self.rng.chance(30) {
                        texts.push(format!("{p} = {}", self.lit(&pty)));
                        optional = 1;
                    } else {
                        texts.push(p);
                    }
                }
                params.push(pty);
            }
            let mut body = Vec::new();
            if self.rng.chance(50) {
                let ty = self.any_ty();
                let v = self.fresh_for(&ty);
                let e = self.expr(&ty, 1);
                body.push(format!("  const {v} = {e};"));
                self.bind(&v, ty, false, vec![]);
            }
            if self.rng.chance(40) {
                body.push(format!("  if ({}) {{", bare(self.bool_e(1))));
                body.push(format!("    return {};", self.expr(&ret, 1)));
                body.push("  }".into());
            }
            body.push(format!("  return {};", self.expr(&ret, 2)));
            self.scopes = saved_scopes;
            self.funcs = saved_funcs;
            self.facts_on = saved_facts;
            self.is_async = saved_async;
            let kw = if is_async { "async function" } else { "function" };
            let mut decl = vec![format!("{kw} {name}({}) {{", texts.join(", "))];
            decl.extend(body);
            decl.push("}".into());
            self.hoisted.push(decl.join("\n"));
            self.funcs.push(Func {
                name,
                params,
                optional,
                ret,
                is_async,
                level: 0,
            });
        }
    }

    // -- whole scripts -------------------------------------------------------------------------

    fn ns_decl(&mut self, rhs: &[String]) -> Option<String> {
        if self.rng.chance(20) {
            return None;
        }
        let name = self.fresh_of(&["ns", "namespace", "NAMESPACE", "NS"]);
        let kw = *self.rng.pick(&["const", "var", "let"]);
        let rhs = self.rng.pick(rhs).clone();
        self.ns = Some(name.clone());
        Some(format!("{kw} {name} = {rhs};"))
    }

    fn body(&mut self) -> Lines {
        let mut out = Vec::new();
        while self.budget > 0 {
            out.extend(self.stmt());
        }
        out
    }

    fn script(mut self) -> String {
        match self.kind {
            Kind::Rule => {
                self.setup_facts();
                let mut out = vec!["function (user, context, callback) {".to_owned()];
                let ns = self.ns_decl(&[
                    q(NAMESPACES[0]),
                    "configuration.NS".into(),
                    format!("configuration.NS || {}", q(NAMESPACES[0])),
                ]);
                if let Some(ns) = ns {
                    out.push(format!("  {ns}"));
                    let name = self.ns.clone().unwrap();
                    self.bind(&name, Ty::Str, false, vec![]);
                }
                self.helpers(false);
                out.extend(indent(self.body()));
                match self.rng.below(20) {
                    0 => {} // never completes: "none" unless a branch did
                    1 => out.push("  return callback(null, user, context);".into()),
                    2 => {
                        out.push("  callback(null, user, context);".into());
                        // Too late: the callback already took the claims.
                        let key = self.claim_key_value();
                        out.push(format!("  context.idToken[{key}] = 'late';"));
                    }
                    _ => out.push("  callback(null, user, context);".into()),
                }
                for h in std::mem::take(&mut self.hoisted) {
                    out.push(String::new());
                    out.extend(indent(h.lines().map(str::to_owned).collect()));
                }
                out.push("}".into());
                out.join("\n")
            }
            Kind::PostLoginAction | Kind::CredentialsExchangeAction => {
                let post_login = self.kind == Kind::PostLoginAction;
                self.is_async = true;
                let mut out = Vec::new();
                let mut handler_prologue = Vec::new();
                if post_login && self.rng.chance(40) {
                    handler_prologue.push("const { user, client } = event;".to_owned());
                    self.used.insert("user".into());
                } else {
                    self.user = "event.user".into();
                }
                self.setup_facts();
                // The namespace: a module constant or a secret read in the handler.
                if self.rng.chance(40) {
                    if let Some(ns) = self.ns_decl(&[q(NAMESPACES[0]), q(NAMESPACES[2])]) {
                        out.push(ns);
                        let name = self.ns.clone().unwrap();
                        self.bind(&name, Ty::Str, false, vec![]);
                    }
                } else if let Some(ns) = self.ns_decl(&["event.secrets.NS".into()]) {
                    handler_prologue.push(ns);
                    let name = self.ns.clone().unwrap();
                    self.bind(&name, Ty::Str, false, vec![]);
                }
                // Module-level helpers cannot see a namespace read from the event.
                let module_ns = !out.is_empty();
                if !module_ns {
                    let ns = self.ns.take();
                    self.helpers(true);
                    self.ns = ns;
                } else {
                    self.helpers(true);
                }
                let handler = if post_login {
                    "onExecutePostLogin"
                } else {
                    "onExecuteCredentialsExchange"
                };
                let head = match self.rng.below(3) {
                    0 => format!("exports.{handler} = async function (event, api) {{"),
                    _ => format!("exports.{handler} = async (event, api) => {{"),
                };
                if !out.is_empty() {
                    out.push(String::new());
                }
                out.push(head);
                out.extend(indent(handler_prologue));
                out.extend(indent(self.body()));
                out.push("};".into());
                for h in std::mem::take(&mut self.hoisted) {
                    out.push(String::new());
                    out.extend(h.lines().map(str::to_owned));
                }
                out.join("\n")
            }
            Kind::Hook => {
                self.setup_facts();
                let mut out =
                    vec!["module.exports = function (client, scope, audience, context, cb) {".to_owned()];
                out.push("  var access_token = {};".into());
                let ns = self.ns_decl(&[q(NAMESPACES[0]), "context.webtask.secrets.NS".into()]);
                if let Some(ns) = ns {
                    out.push(format!("  {ns}"));
                    let name = self.ns.clone().unwrap();
                    self.bind(&name, Ty::Str, false, vec![]);
                }
                let ns = self.ns.take();
                self.helpers(true);
                self.ns = ns;
                out.extend(indent(self.body()));
                if self.rng.chance(50) {
                    out.push("  access_token.scope = scope;".into());
                }
                if self.rng.below(15) != 0 {
                    out.push("  cb(null, access_token);".into());
                }
                out.push("};".into());
                for h in std::mem::take(&mut self.hoisted) {
                    out.push(String::new());
                    out.extend(h.lines().map(str::to_owned));
                }
                out.join("\n")
            }
        }
    }
}

/// `(a === b)` as `a === b`, for a condition that has its own parentheses.
fn bare(e: String) -> String {
    let Some(inner) = e.strip_prefix('(').and_then(|x| x.strip_suffix(')')) else {
        return e;
    };
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return e;
        }
    }
    if depth == 0 { inner.to_owned() } else { e }
}

fn is_ident(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !s.starts_with(|c: char| c.is_ascii_digit())
}

fn obj_lit(parts: Vec<String>) -> String {
    if parts.is_empty() {
        "{}".into()
    } else {
        format!("{{ {} }}", parts.join(", "))
    }
}

/// An object literal as an arrow body must be parenthesised.
fn wrap_obj(e: &str) -> String {
    if e.starts_with('{') {
        format!("({e})")
    } else {
        e.to_owned()
    }
}

/// A human-readable listing of a case (for failure reports and `CLAIMLINT_DIFF_CASE`).
pub fn describe(label: &str, c: &Case) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "case {label} ({}):", c.kind.as_str());
    for (i, line) in c.source.lines().enumerate() {
        let _ = writeln!(s, "  {:>3} | {line}", i + 1);
    }
    let _ = writeln!(s, "  input: {}", c.input);
    s
}
