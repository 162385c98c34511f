//! The tenant model: one format-agnostic picture of an Auth0 tenant.
//!
//! Both loaders fill the same [`Tenant`]. Every value a check can point at carries a [`Loc`]: the
//! file, the byte span and the JSON pointer of the value inside that file. Resources the checks
//! do not use yet are kept leniently as [`Node`] trees in [`Tenant::other`]. Serialising a tenant
//! (with locations left out) gives a format-independent view, which is how tests prove that the
//! YAML and directory forms of one tenant load into the same model.

mod build;

pub use build::{Builder, InputError, PendingScript, ScriptKind, Slot, Source};

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Serialize, Serializer};

use crate::source::{SourceId, Span};
use crate::syntax::Node;

/// Where a value is: file, byte span and JSON pointer inside that file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub file: SourceId,
    pub span: Span,
    pub pointer: String,
}

/// A value and where it was written.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Spanned<T> {
    pub value: T,
    #[serde(skip)]
    pub loc: Loc,
}

/// Which format an export is written in: one of a0deploy's, or loose scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportFormat {
    /// `tenant.yaml` plus side files.
    Yaml,
    /// `tenant.json` plus one folder per resource type.
    Directory,
    /// Loose rule, action and hook scripts (a folder of them, or one file), with no tenant
    /// configuration: no clients, no connections. Such a tenant is only seen through a generic
    /// login (see [`Tenant::is_loose_sources`]).
    Sources,
}

/// Serialises a kept-as-is tree as plain JSON.
fn node_as_json<S: Serializer>(node: &Node, serializer: S) -> Result<S::Ok, S::Error> {
    node.to_json().serialize(serializer)
}

fn option_node_as_json<S: Serializer>(node: &Option<Node>, s: S) -> Result<S::Ok, S::Error> {
    node.as_ref().map(Node::to_json).serialize(s)
}

#[derive(Debug, Clone, Serialize)]
pub struct Tenant {
    pub format: ExportFormat,
    /// Tenant settings (`tenant.json`, or `tenant:` in `tenant.yaml`).
    pub settings: Option<TenantSettings>,
    pub clients: Vec<Client>,
    /// Every connection, databases (`strategy: auth0`) included.
    pub connections: Vec<Connection>,
    pub rules: Vec<Rule>,
    pub actions: Vec<Action>,
    /// Action bindings per trigger, in binding order.
    pub triggers: Vec<TriggerBinding>,
    pub hooks: Vec<Hook>,
    pub guardian: Guardian,
    pub resource_servers: Vec<ResourceServer>,
    /// Resources the checks do not model, by a0deploy's YAML key (`roles`, `emailTemplates`...).
    pub other: Vec<OtherResource>,
    /// Lookups by name and pointer, built on first use; a tenant is not changed once loaded.
    #[serde(skip)]
    index: OnceLock<Index>,
}

/// What the tenant's lookups need, built once in linear time so that no lookup walks a list.
/// Names are not copied: each name's resources are a chain of indices, found through a hash
/// table that compares names in place (a large export has tens of thousands of clients, and a
/// map by name held a copy of every name and a list per name).
#[derive(Debug, Clone, Default)]
struct Index {
    /// The clients of each name, ascending.
    clients: Chains,
    /// The connections of each name, ascending.
    connections: Chains,
    /// Whether any connection lists its enabled clients (with none, every connection is enabled
    /// for every client).
    any_enabled_lists: bool,
    /// `(connection, position in its enabled clients)` of every listing, in connection order.
    listings: Vec<(u32, u32)>,
    /// The listings of each client name, once per connection, ascending.
    enabled: Chains,
    /// `(file, pointer of a named resource)` → the resource's kind and name.
    named: HashMap<(SourceId, String), (String, String)>,
}

const NO_LINK: u32 = u32::MAX;

/// Items grouped by name, each group a chain in item order: `(first, last)` by the name's hash
/// (seeded at random, so names chosen to collide cannot slow lookups down) and each item's
/// next of the same name.
#[derive(Debug, Clone, Default)]
struct Chains {
    table: hashbrown::HashTable<(u32, u32)>,
    next: Vec<u32>,
    state: foldhash::fast::RandomState,
}

impl Chains {
    /// Chains of the items `0..count` by `name_of`, leaving out an item that `same` says
    /// repeats the last item of its chain.
    fn of<'s>(
        count: usize,
        name_of: impl Fn(usize) -> &'s str,
        same: impl Fn(usize, usize) -> bool,
    ) -> Chains {
        use std::hash::BuildHasher;
        let mut chains = Chains {
            next: vec![NO_LINK; count],
            ..Chains::default()
        };
        for i in 0..count {
            let name = name_of(i);
            let hash = chains.state.hash_one(name);
            let found = chains
                .table
                .find_mut(hash, |&(first, _)| name_of(first as usize) == name);
            match found {
                Some((_, last)) => {
                    if !same(*last as usize, i) {
                        chains.next[*last as usize] = position(i);
                        *last = position(i);
                    }
                }
                None => {
                    let state = &chains.state;
                    chains
                        .table
                        .insert_unique(hash, (position(i), position(i)), |&(first, _)| {
                            state.hash_one(name_of(first as usize))
                        });
                }
            }
        }
        chains
    }

    /// The items named `name`, in order.
    fn named<'s>(
        &'s self,
        name: &str,
        name_of: impl Fn(usize) -> &'s str,
    ) -> impl Iterator<Item = usize> + 's {
        use std::hash::BuildHasher;
        let first = self
            .table
            .find(self.state.hash_one(name), |&(first, _)| {
                name_of(first as usize) == name
            })
            .map_or(NO_LINK, |&(first, _)| first);
        std::iter::successors((first != NO_LINK).then_some(first), |&i| {
            let next = self.next[i as usize];
            (next != NO_LINK).then_some(next)
        })
        .map(|i| i as usize)
    }
}

fn position(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Tenant {
    /// Frees every client's syntax tree (on every core), keeping the fields the checks and the
    /// evaluator use: the trees of a large export's clients are a sixth of its peak memory,
    /// and only policies that match arbitrary client fields read them.
    pub fn drop_client_nodes(&mut self) {
        use rayon::prelude::*;
        self.clients.par_iter_mut().for_each(|client| {
            client.node = Node {
                span: client.node.span,
                value: crate::syntax::Value::Null,
            };
        });
    }

    /// Gives back what the lists of a loaded tenant reserved beyond their length: they grow by
    /// doubling while files are read, and a large export's clients alone would keep several
    /// megabytes unused through the whole run.
    pub fn shrink_to_fit(&mut self) {
        self.clients.shrink_to_fit();
        self.connections.shrink_to_fit();
        self.resource_servers.shrink_to_fit();
        self.other.shrink_to_fit();
    }

    pub fn new(format: ExportFormat) -> Tenant {
        Tenant {
            format,
            settings: None,
            clients: Vec::new(),
            connections: Vec::new(),
            rules: Vec::new(),
            actions: Vec::new(),
            triggers: Vec::new(),
            hooks: Vec::new(),
            guardian: Guardian::default(),
            resource_servers: Vec::new(),
            other: Vec::new(),
            index: OnceLock::new(),
        }
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| self.make_index(false))
    }

    /// Builds the lookup index now, its parts on both cores (at tens of thousands of clients
    /// each takes a millisecond or more, and the analysis waits for them). The loader calls it
    /// once the tenant is complete. Built lazily instead, by the first lookup, the index is
    /// made on that one thread: a lookup may come from inside parallel work, and a `join` there
    /// could take on another job that waits for this same index.
    pub fn build_index(&self) {
        if self.index.get().is_none() {
            let _ = self.index.set(self.make_index(true));
        }
    }

    fn make_index(&self, parallel: bool) -> Index {
        fn both<A: Send, B: Send>(
            parallel: bool,
            a: impl FnOnce() -> A + Send,
            b: impl FnOnce() -> B + Send,
        ) -> (A, B) {
            if parallel { rayon::join(a, b) } else { (a(), b()) }
        }
        let listings: Vec<(u32, u32)> = self
            .connections
            .iter()
            .enumerate()
            .flat_map(|(i, c)| (0..c.enabled_clients.len()).map(move |k| (position(i), position(k))))
            .collect();
        let listed = |e: usize| {
            let (c, k) = listings[e];
            self.connections[c as usize].enabled_clients[k as usize]
                .value
                .as_str()
        };
        let ((clients, connections), (enabled, named)) = both(
            parallel,
            || {
                both(
                    parallel,
                    || {
                        Chains::of(
                            self.clients.len(),
                            |i| self.clients[i].name.as_str(),
                            |_, _| false,
                        )
                    },
                    || {
                        Chains::of(
                            self.connections.len(),
                            |i| self.connections[i].name.as_str(),
                            |_, _| false,
                        )
                    },
                )
            },
            || {
                both(
                    parallel,
                    // A connection that lists a name twice is enabled for it once.
                    || Chains::of(listings.len(), listed, |a, b| listings[a].0 == listings[b].0),
                    || self.named_resources(),
                )
            },
        );
        Index {
            clients,
            connections,
            any_enabled_lists: !listings.is_empty(),
            enabled,
            listings,
            named,
        }
    }

    /// `(file, pointer)` → kind and name of every resource with a pointer of its own (the
    /// resources of a YAML export; a directory export's files are one resource each).
    fn named_resources(&self) -> HashMap<(SourceId, String), (String, String)> {
        let mut resources = HashMap::new();
        let named = self
            .clients
            .iter()
            .map(|c| (&c.name, &c.loc))
            .chain(self.connections.iter().map(|c| (&c.name, &c.loc)))
            .chain(self.rules.iter().map(|r| (&r.name, &r.loc)))
            .chain(self.actions.iter().map(|a| (&a.name, &a.loc)))
            .chain(self.hooks.iter().map(|h| (&h.name, &h.loc)))
            .chain(self.resource_servers.iter().map(|r| (&r.name, &r.loc)))
            .chain(self.guardian.factors.iter().map(|f| (&f.name, &f.loc)))
            .chain(self.other.iter().map(|o| (&o.name, &o.loc)));
        for (name, loc) in named.filter(|(_, loc)| !loc.pointer.is_empty()) {
            let kind = loc
                .pointer
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default();
            resources
                .entry((loc.file, loc.pointer.clone()))
                .or_insert_with(|| (kind.to_string(), name.clone()));
        }
        resources
    }

    /// Orders every list by name, the order a0deploy's directory format lists files in, so that
    /// both formats compare equal and output never depends on file order.
    pub fn sort(&mut self) {
        self.index = OnceLock::new();
        self.clients.sort_by(|a, b| a.name.cmp(&b.name));
        self.connections.sort_by(|a, b| a.name.cmp(&b.name));
        for connection in &mut self.connections {
            connection.scripts.sort_by(|a, b| a.name.cmp(&b.name));
        }
        self.rules.sort_by(|a, b| a.name.cmp(&b.name));
        self.actions.sort_by(|a, b| a.name.cmp(&b.name));
        self.hooks.sort_by(|a, b| a.name.cmp(&b.name));
        self.guardian.factors.sort_by(|a, b| a.name.cmp(&b.name));
        self.resource_servers.sort_by(|a, b| a.name.cmp(&b.name));
        self.other
            .sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
    }

    /// Whether the tenant is loose scripts rather than an a0deploy export: it has rules,
    /// actions and hooks but no configuration (no clients, connections or settings).
    pub fn is_loose_sources(&self) -> bool {
        self.format == ExportFormat::Sources
    }

    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.settings
            .as_ref()?
            .flags
            .iter()
            .rev()
            .find(|f| f.name == name)
    }

    /// `pointer` (inside `file`) with list indices of named resources replaced by their names
    /// (`/clients/2/oidc_conformant` becomes `/clients/Legacy Portal/oidc_conformant`), so that
    /// reordering a YAML export does not change what a finding is about.
    pub fn stable_pointer(&self, file: SourceId, pointer: &str) -> String {
        let named = &self.index().named;
        // The shortest prefix that is a named resource's own pointer, at a `/` boundary.
        let boundaries = pointer
            .match_indices('/')
            .map(|(at, _)| at)
            .chain([pointer.len()]);
        for end in boundaries {
            let (prefix, rest) = pointer.split_at(end);
            if let Some((kind, name)) = named.get(&(file, prefix.to_string())) {
                return format!(
                    "{}{rest}",
                    crate::syntax::pointer_join(&crate::syntax::pointer_join("", kind), name)
                );
            }
        }
        pointer.to_string()
    }

    /// The first client named `name`.
    pub fn client(&self, name: &str) -> Option<&Client> {
        self.client_indices(name).next().map(|i| &self.clients[i])
    }

    /// Indices into `clients` of the clients named `name`, ascending.
    pub fn client_indices(&self, name: &str) -> impl Iterator<Item = usize> + '_ {
        self.index()
            .clients
            .named(name, |i| self.clients[i].name.as_str())
    }

    /// The first connection named `name`.
    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.connection_index(name).map(|i| &self.connections[i])
    }

    /// Whether `connection` is enabled for the client named `client`: listed in its enabled
    /// clients, or no connection lists any (the export then says nothing about it).
    pub fn enabled_for(&self, connection: &Connection, client: &str) -> bool {
        !self.index().any_enabled_lists || connection.enabled_clients.iter().any(|c| c.value == client)
    }

    /// Indices into `connections` of the connections enabled for the client named `client`,
    /// ascending.
    pub fn connections_enabled_for(&self, client: &str) -> Box<dyn Iterator<Item = usize> + '_> {
        let index = self.index();
        if !index.any_enabled_lists {
            return Box::new(0..self.connections.len());
        }
        let listed = |e: usize| {
            let (c, k) = index.listings[e];
            self.connections[c as usize].enabled_clients[k as usize]
                .value
                .as_str()
        };
        Box::new(
            index
                .enabled
                .named(client, listed)
                .map(|e| index.listings[e].0 as usize),
        )
    }

    /// Index into `connections` of the first connection named `name`.
    pub fn connection_index(&self, name: &str) -> Option<usize> {
        self.index()
            .connections
            .named(name, |i| self.connections[i].name.as_str())
            .next()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantSettings {
    #[serde(skip)]
    pub loc: Loc,
    pub flags: Vec<Flag>,
    #[serde(serialize_with = "node_as_json")]
    pub node: Node,
}

/// One entry of `tenant.flags`.
#[derive(Debug, Clone, Serialize)]
pub struct Flag {
    pub name: String,
    /// `None` when the value is not a boolean (reported as an input error) or is a keyword.
    pub value: Option<bool>,
    /// The flag's key and value, for labels.
    #[serde(skip)]
    pub loc: Loc,
}

#[derive(Debug, Clone, Serialize)]
pub struct Client {
    pub name: String,
    #[serde(skip)]
    pub loc: Loc,
    pub app_type: Option<String>,
    pub oidc_conformant: Option<Spanned<bool>>,
    pub grant_types: Vec<Spanned<String>>,
    /// "Use Auth0 instead of the IdP to do Single Sign-On".
    pub sso: Option<Spanned<bool>>,
    /// `client_id`, when it is a string.
    #[serde(skip)]
    pub client_id: Option<String>,
    /// `client_metadata` as JSON text (`{}` when there is none), as scripts read it.
    #[serde(skip)]
    pub metadata: String,
    /// The client as exported. Linting never keeps it (`null`, see
    /// `load::LoadOptions::client_nodes`) unless a policy reads arbitrary client fields.
    #[serde(serialize_with = "node_as_json")]
    pub node: Node,
}

#[derive(Debug, Clone, Serialize)]
pub struct Connection {
    pub name: String,
    #[serde(skip)]
    pub loc: Loc,
    pub strategy: Option<String>,
    /// Exported as a database (`strategy: auth0`).
    pub database: bool,
    pub enabled_clients: Vec<Spanned<String>>,
    /// `options` as exported; `None` when the export has none (it then says nothing about the
    /// deny list, since a0deploy leaves `options` out without `read:connections_options`).
    #[serde(serialize_with = "option_node_as_json")]
    pub options: Option<Node>,
    /// `options.non_persistent_attrs`, when it is a list.
    pub deny_list: Option<DenyList>,
    /// Custom-database scripts (`options.customScripts`), by script name.
    pub scripts: Vec<NamedScript>,
    #[serde(serialize_with = "node_as_json")]
    pub node: Node,
}

#[derive(Debug, Clone, Serialize)]
pub struct DenyList {
    #[serde(skip)]
    pub loc: Loc,
    pub entries: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NamedScript {
    pub name: String,
    pub script: Script,
}

/// A script file referenced by the export (rule script, action code, hook, database script).
#[derive(Debug, Clone, Serialize)]
pub struct Script {
    /// The reference as written (`./rules/x.js`).
    #[serde(skip)]
    pub reference: Spanned<String>,
    /// The file, once read; `None` when it is missing, unreadable or outside the export.
    #[serde(skip)]
    pub file: Option<SourceId>,
    /// The script's text (empty when it could not be read), for comparing models.
    pub text: std::sync::Arc<str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub name: String,
    #[serde(skip)]
    pub loc: Loc,
    pub enabled: bool,
    pub order: Option<i64>,
    pub stage: Option<String>,
    pub script: Option<Script>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Action {
    pub name: String,
    #[serde(skip)]
    pub loc: Loc,
    pub deployed: bool,
    pub status: Option<String>,
    pub runtime: Option<String>,
    /// `supported_triggers[].id`.
    pub supported_triggers: Vec<String>,
    pub code: Option<Script>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TriggerBinding {
    pub trigger: String,
    pub action_name: String,
    pub display_name: Option<String>,
    #[serde(skip)]
    pub loc: Loc,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hook {
    pub name: String,
    #[serde(skip)]
    pub loc: Loc,
    pub trigger_id: Option<String>,
    pub enabled: bool,
    pub script: Option<Script>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Guardian {
    pub factors: Vec<Factor>,
    /// `guardianPolicies.policies` (`[]`, `["all-applications"]`, `["confidence-score"]`).
    pub policies: Option<Spanned<Vec<String>>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Factor {
    pub name: String,
    pub enabled: bool,
    #[serde(skip)]
    pub loc: Loc,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceServer {
    pub name: String,
    pub identifier: Option<String>,
    #[serde(skip)]
    pub loc: Loc,
    #[serde(serialize_with = "node_as_json")]
    pub node: Node,
}

/// A resource kept as it is, for value-match policies.
#[derive(Debug, Clone, Serialize)]
pub struct OtherResource {
    /// a0deploy's YAML key for the resource type (`roles`, `emailTemplates`, `prompts`...).
    pub kind: String,
    pub name: String,
    #[serde(skip)]
    pub loc: Loc,
    #[serde(serialize_with = "node_as_json")]
    pub node: Node,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> Loc {
        Loc {
            file: SourceId(0),
            span: Span::default(),
            pointer: String::new(),
        }
    }

    fn node() -> Node {
        Node {
            span: Span::default(),
            value: crate::syntax::Value::Null,
        }
    }

    fn client(name: &str) -> Client {
        Client {
            name: name.into(),
            loc: loc(),
            app_type: None,
            oidc_conformant: None,
            grant_types: Vec::new(),
            sso: None,
            client_id: None,
            metadata: "{}".into(),
            node: node(),
        }
    }

    fn connection(name: &str, enabled: &[&str]) -> Connection {
        Connection {
            name: name.into(),
            loc: loc(),
            strategy: None,
            database: false,
            enabled_clients: enabled
                .iter()
                .map(|c| Spanned {
                    value: c.to_string(),
                    loc: loc(),
                })
                .collect(),
            options: None,
            deny_list: None,
            scripts: Vec::new(),
            node: node(),
        }
    }

    #[test]
    fn lookups_by_name_find_every_match_in_tenant_order() {
        let mut tenant = Tenant::new(ExportFormat::Directory);
        tenant.clients = ["b", "a", "b", "c"].map(client).to_vec();
        tenant.connections = vec![
            connection("db", &["b", "a", "b"]),
            connection("google", &["c"]),
            connection("db", &["a"]),
            connection("saml", &["a", "zz"]),
        ];
        assert_eq!(tenant.client_indices("b").collect::<Vec<_>>(), [0, 2]);
        assert_eq!(tenant.client_indices("a").collect::<Vec<_>>(), [1]);
        assert_eq!(tenant.client_indices("nobody").count(), 0);
        assert_eq!(tenant.client("c").map(|c| c.name.as_str()), Some("c"));
        // The first connection of a name.
        assert_eq!(tenant.connection_index("db"), Some(0));
        assert_eq!(tenant.connection_index("saml"), Some(3));
        assert_eq!(tenant.connection_index("nope"), None);
        // Each connection once, ascending, however often it lists the client.
        let enabled = |client: &str| tenant.connections_enabled_for(client).collect::<Vec<_>>();
        assert_eq!(enabled("a"), [0, 2, 3]);
        assert_eq!(enabled("b"), [0]);
        assert_eq!(enabled("zz"), [3]);
        assert_eq!(enabled("nobody"), Vec::<usize>::new());
    }

    #[test]
    fn without_enabled_lists_every_connection_is_enabled() {
        let mut tenant = Tenant::new(ExportFormat::Directory);
        tenant.clients = vec![client("a")];
        tenant.connections = vec![connection("x", &[]), connection("y", &[])];
        assert_eq!(tenant.connections_enabled_for("a").collect::<Vec<_>>(), [0, 1]);
    }
}
