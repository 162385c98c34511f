//! Builds model parts from spanned trees, for both formats.
//!
//! Each method takes one resource as parsed (its file, its tree and the pointer of the tree in
//! that file), checks the fields the checks rely on, and adds the resource to the tenant. A field
//! of the wrong type is an input error located at the field; the resource is still added with
//! what could be read, so the rest of the export is linted.

use super::*;
use crate::syntax::{Value, pointer_join};

/// A problem with the export's content, reported as CL001.
#[derive(Debug, Clone)]
pub struct InputError {
    pub loc: Loc,
    pub message: String,
}

/// Which kind of resource a script belongs to; loaders resolve each kind's paths differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptKind {
    Rule,
    Action,
    Hook,
    Database,
}

/// Where a script reference sits in the tenant, so the file can be filled in once read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Rule(usize),
    Action(usize),
    Hook(usize),
    Database { connection: usize, script: usize },
}

/// A script reference waiting to be read.
#[derive(Debug, Clone)]
pub struct PendingScript {
    pub kind: ScriptKind,
    /// The owning resource's name (actions fall back to `actions/<name>/code.js`).
    pub resource: String,
    pub reference: Spanned<String>,
    /// The folder the reference is relative to, as the loader set it.
    pub base: std::path::PathBuf,
    pub slot: Slot,
}

/// Collects a tenant's parts and the input errors found in them.
pub struct Builder {
    pub tenant: Tenant,
    pub errors: Vec<InputError>,
    /// Script references found so far, read by the loader after building.
    pub pending: Vec<PendingScript>,
    /// The folder that script references of the next resources are relative to.
    pub script_base: std::path::PathBuf,
    /// Whether clients keep their whole tree ([`Client::node`]); only policies that match
    /// arbitrary client fields read it, and a large export's client trees are a good part of
    /// its memory.
    pub keep_client_nodes: bool,
}

/// One resource's tree and where it is.
#[derive(Clone, Copy)]
pub struct Source<'n> {
    pub file: SourceId,
    pub node: &'n Node,
    pub pointer: &'n str,
}

impl<'n> Source<'n> {
    pub fn new(file: SourceId, node: &'n Node, pointer: &'n str) -> Self {
        Source { file, node, pointer }
    }

    fn loc(&self) -> Loc {
        Loc {
            file: self.file,
            span: self.node.span,
            pointer: self.pointer.to_string(),
        }
    }
}

impl Builder {
    pub fn new(format: ExportFormat) -> Self {
        Builder {
            tenant: Tenant::new(format),
            errors: Vec::new(),
            pending: Vec::new(),
            script_base: std::path::PathBuf::new(),
            keep_client_nodes: true,
        }
    }

    /// An empty builder for resources that will be [absorbed](Builder::absorb) into this one.
    pub fn part(&self) -> Builder {
        Builder {
            tenant: Tenant::new(self.tenant.format),
            errors: Vec::new(),
            pending: Vec::new(),
            script_base: self.script_base.clone(),
            keep_client_nodes: self.keep_client_nodes,
        }
    }

    /// Makes room for what `parts` hold, so that absorbing a folder's parts grows each list
    /// at most once.
    pub fn reserve_for<'p>(&mut self, parts: impl Iterator<Item = &'p Builder> + Clone) {
        let total = |count: fn(&Tenant) -> usize| parts.clone().map(|p| count(&p.tenant)).sum::<usize>();
        let pending = parts.clone().map(|p| p.pending.len()).sum::<usize>();
        let tenant = &mut self.tenant;
        tenant.clients.reserve(total(|t| t.clients.len()));
        tenant.connections.reserve(total(|t| t.connections.len()));
        tenant.rules.reserve(total(|t| t.rules.len()));
        tenant.actions.reserve(total(|t| t.actions.len()));
        tenant.hooks.reserve(total(|t| t.hooks.len()));
        tenant
            .resource_servers
            .reserve(total(|t| t.resource_servers.len()));
        tenant.other.reserve(total(|t| t.other.len()));
        self.pending.reserve(pending);
    }

    /// Appends what `part` built (made by [`Builder::part`]) after what this builder holds:
    /// the same tenant, errors and pending scripts as building it here, so parts built on
    /// several threads and absorbed in order give the result of building in order.
    pub fn absorb(&mut self, part: Builder) {
        let Tenant {
            format: _,
            settings,
            clients,
            connections,
            rules,
            actions,
            triggers,
            hooks,
            guardian: Guardian { factors, policies },
            resource_servers,
            other,
            index: _,
        } = part.tenant;
        let tenant = &mut self.tenant;
        let (rule, action, hook, connection) = (
            tenant.rules.len(),
            tenant.actions.len(),
            tenant.hooks.len(),
            tenant.connections.len(),
        );
        self.pending.extend(part.pending.into_iter().map(|mut pending| {
            pending.slot = match pending.slot {
                Slot::Rule(i) => Slot::Rule(rule + i),
                Slot::Action(i) => Slot::Action(action + i),
                Slot::Hook(i) => Slot::Hook(hook + i),
                Slot::Database {
                    connection: c,
                    script,
                } => Slot::Database {
                    connection: connection + c,
                    script,
                },
            };
            pending
        }));
        if settings.is_some() {
            tenant.settings = settings;
        }
        tenant.clients.extend(clients);
        tenant.connections.extend(connections);
        tenant.rules.extend(rules);
        tenant.actions.extend(actions);
        tenant.triggers.extend(triggers);
        tenant.hooks.extend(hooks);
        tenant.guardian.factors.extend(factors);
        if policies.is_some() {
            tenant.guardian.policies = policies;
        }
        tenant.resource_servers.extend(resource_servers);
        tenant.other.extend(other);
        self.errors.extend(part.errors);
    }

    pub fn error(&mut self, loc: Loc, message: impl Into<String>) {
        self.errors.push(InputError {
            loc,
            message: message.into(),
        });
    }

    /// The resource's members, or an error when it is not an object.
    fn object(&mut self, src: Source<'_>, what: &str) -> bool {
        if src.node.as_object().is_some() {
            return true;
        }
        self.error(
            src.loc(),
            format!("expected {what} to be an object, found {}", src.node.type_name()),
        );
        false
    }

    /// A list of resources; each item is handed to `each` with its pointer.
    pub fn list(&mut self, src: Source<'_>, what: &str, mut each: impl FnMut(&mut Self, Source<'_>)) {
        match &src.node.value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let pointer = pointer_join(src.pointer, &i.to_string());
                    each(self, Source::new(src.file, item, &pointer));
                }
            }
            Value::Null | Value::Keyword(_) => {}
            _ => self.error(
                src.loc(),
                format!("expected `{what}` to be a list, found {}", src.node.type_name()),
            ),
        }
    }

    fn field<'n>(&self, src: Source<'n>, key: &str) -> Option<(Source<'n>, String)> {
        let node = src.node.get(key)?;
        Some((
            Source::new(src.file, node, src.pointer),
            pointer_join(src.pointer, key),
        ))
    }

    /// The node of field `key`, without its pointer (see [`Builder::loc_of`]).
    fn field_node<'n>(src: Source<'n>, key: &str) -> Option<Source<'n>> {
        let node = src.node.get(key)?;
        Some(Source::new(src.file, node, src.pointer))
    }

    fn loc_of(src: Source<'_>, key: &str) -> Option<Loc> {
        let node = src.node.get(key)?;
        Some(Loc {
            file: src.file,
            span: node.span,
            pointer: pointer_join(src.pointer, key),
        })
    }

    /// A string field; `None` when absent, null, a keyword, or of the wrong type (reported).
    pub fn string(&mut self, src: Source<'_>, key: &str) -> Option<Spanned<String>> {
        let field = Self::field_node(src, key)?;
        let loc = Self::loc_of(src, key)?;
        match &field.node.value {
            Value::String(s) => Some(Spanned {
                value: s.clone(),
                loc,
            }),
            Value::Null | Value::Keyword(_) => None,
            _ => {
                self.error(
                    loc,
                    format!(
                        "expected `{key}` to be a string, found {}",
                        field.node.type_name()
                    ),
                );
                None
            }
        }
    }

    /// A boolean field; `None` when absent, null, a keyword, or of the wrong type (reported).
    pub fn boolean(&mut self, src: Source<'_>, key: &str) -> Option<Spanned<bool>> {
        let field = Self::field_node(src, key)?;
        let loc = Self::loc_of(src, key)?;
        match &field.node.value {
            Value::Bool(b) => Some(Spanned { value: *b, loc }),
            Value::Null | Value::Keyword(_) => None,
            _ => {
                self.error(
                    loc,
                    format!(
                        "expected `{key}` to be true or false, found {}",
                        field.node.type_name()
                    ),
                );
                None
            }
        }
    }

    fn integer(&mut self, src: Source<'_>, key: &str) -> Option<i64> {
        let field = Self::field_node(src, key)?;
        let loc = Self::loc_of(src, key)?;
        match &field.node.value {
            Value::Number(n) => match n.parse::<i64>() {
                Ok(i) => Some(i),
                Err(_) => {
                    self.error(loc, format!("expected `{key}` to be a whole number, found `{n}`"));
                    None
                }
            },
            Value::Null | Value::Keyword(_) => None,
            _ => {
                self.error(
                    loc,
                    format!(
                        "expected `{key}` to be a number, found {}",
                        field.node.type_name()
                    ),
                );
                None
            }
        }
    }

    /// A list of strings; wrong items are reported one by one and skipped.
    pub fn strings(&mut self, src: Source<'_>, key: &str) -> Option<Spanned<Vec<Spanned<String>>>> {
        let (field, pointer) = self.field(src, key)?;
        let loc = Self::loc_of(src, key)?;
        let items = match &field.node.value {
            Value::Array(items) => items,
            Value::Null | Value::Keyword(_) => return None,
            _ => {
                self.error(
                    loc,
                    format!(
                        "expected `{key}` to be a list of strings, found {}",
                        field.node.type_name()
                    ),
                );
                return None;
            }
        };
        let mut values = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_loc = Loc {
                file: src.file,
                span: item.span,
                pointer: pointer_join(&pointer, &i.to_string()),
            };
            match &item.value {
                Value::String(s) => values.push(Spanned {
                    value: s.clone(),
                    loc: item_loc,
                }),
                Value::Keyword(_) => {}
                _ => self.error(
                    item_loc,
                    format!(
                        "expected every entry of `{key}` to be a string, found {}",
                        item.type_name()
                    ),
                ),
            }
        }
        Some(Spanned { value: values, loc })
    }

    /// The resource's `name`, or `fallback` (directory exports name files after resources).
    fn name(&mut self, src: Source<'_>, what: &str, fallback: Option<&str>) -> String {
        if let Some(name) = self.string(src, "name") {
            return name.value;
        }
        if let Some(fallback) = fallback {
            return fallback.to_string();
        }
        if src.node.get("name").is_none() {
            self.error(src.loc(), format!("expected {what} to have a `name`"));
        }
        format!(
            "(unnamed {what} at {})",
            if src.pointer.is_empty() { "/" } else { src.pointer }
        )
    }

    fn script(
        &mut self,
        src: Source<'_>,
        key: &str,
        kind: ScriptKind,
        resource: &str,
        slot: Slot,
    ) -> Option<Script> {
        let reference = self.string(src, key)?;
        Some(self.implied_script(kind, resource, reference, slot))
    }

    /// Records a script reference (also one the loader made up, for extension-layout rules).
    pub fn implied_script(
        &mut self,
        kind: ScriptKind,
        resource: &str,
        reference: Spanned<String>,
        slot: Slot,
    ) -> Script {
        self.pending.push(PendingScript {
            kind,
            resource: resource.to_string(),
            reference: reference.clone(),
            base: self.script_base.clone(),
            slot,
        });
        Script {
            reference,
            file: None,
            text: std::sync::Arc::from(""),
        }
    }

    /// The script a pending reference was made for.
    pub fn script_mut(tenant: &mut Tenant, slot: Slot) -> Option<&mut Script> {
        match slot {
            Slot::Rule(i) => tenant.rules.get_mut(i)?.script.as_mut(),
            Slot::Action(i) => tenant.actions.get_mut(i)?.code.as_mut(),
            Slot::Hook(i) => tenant.hooks.get_mut(i)?.script.as_mut(),
            Slot::Database { connection, script } => Some(
                &mut tenant
                    .connections
                    .get_mut(connection)?
                    .scripts
                    .get_mut(script)?
                    .script,
            ),
        }
    }

    pub fn settings(&mut self, src: Source<'_>) {
        if !self.object(src, "the tenant settings") {
            return;
        }
        let mut flags = Vec::new();
        if let Some((flags_src, pointer)) = self.field(src, "flags") {
            match flags_src.node.as_object() {
                Some(members) => {
                    for member in members {
                        let loc = Loc {
                            file: src.file,
                            span: Span::new(member.key_span.start as usize, member.value.span.end as usize),
                            pointer: pointer_join(&pointer, &member.key),
                        };
                        let value = match &member.value.value {
                            Value::Bool(b) => Some(*b),
                            Value::Keyword(_) | Value::Null => None,
                            _ => {
                                self.error(
                                    Loc {
                                        span: member.value.span,
                                        ..loc.clone()
                                    },
                                    format!(
                                        "expected tenant flag `{}` to be true or false, found {}",
                                        member.key,
                                        member.value.type_name()
                                    ),
                                );
                                None
                            }
                        };
                        flags.push(Flag {
                            name: member.key.clone(),
                            value,
                            loc,
                        });
                    }
                }
                None if flags_src.node.is_null() => {}
                None => self.error(
                    Self::loc_of(src, "flags").unwrap_or_else(|| src.loc()),
                    format!(
                        "expected `flags` to be an object, found {}",
                        flags_src.node.type_name()
                    ),
                ),
            }
        }
        self.tenant.settings = Some(TenantSettings {
            loc: src.loc(),
            flags,
            node: src.node.clone(),
        });
    }

    pub fn client(&mut self, src: Source<'_>, fallback_name: Option<&str>) {
        if !self.object(src, "a client") {
            return;
        }
        let name = self.name(src, "client", fallback_name);
        let client = Client {
            app_type: self.string(src, "app_type").map(|s| s.value),
            oidc_conformant: self.boolean(src, "oidc_conformant"),
            grant_types: self
                .strings(src, "grant_types")
                .map(|s| s.value)
                .unwrap_or_default(),
            sso: self.boolean(src, "sso"),
            client_id: src
                .node
                .get("client_id")
                .and_then(Node::as_str)
                .map(str::to_string),
            metadata: src
                .node
                .get("client_metadata")
                .map_or_else(|| "{}".to_string(), |m| m.to_json().to_string()),
            loc: src.loc(),
            node: if self.keep_client_nodes {
                src.node.clone()
            } else {
                Node {
                    span: src.node.span,
                    value: Value::Null,
                }
            },
            name,
        };
        self.tenant.clients.push(client);
    }

    pub fn connection(&mut self, src: Source<'_>, database: bool, fallback_name: Option<&str>) {
        let what = if database {
            "a database connection"
        } else {
            "a connection"
        };
        if !self.object(src, what) {
            return;
        }
        let name = self.name(src, "connection", fallback_name);
        let strategy = self.string(src, "strategy").map(|s| s.value);
        let enabled_clients = self
            .strings(src, "enabled_clients")
            .map(|s| s.value)
            .unwrap_or_default();
        let mut deny_list = None;
        let mut scripts = Vec::new();
        let options = match self.field(src, "options") {
            Some((options, pointer)) if options.node.as_object().is_some() => {
                let options = Source::new(src.file, options.node, &pointer);
                deny_list = self
                    .strings(options, "non_persistent_attrs")
                    .map(|list| DenyList {
                        loc: list.loc,
                        entries: list.value,
                    });
                if let Some((custom, pointer)) = self.field(options, "customScripts") {
                    let custom = Source::new(src.file, custom.node, &pointer);
                    scripts = self.database_scripts(custom, &name);
                }
                Some(options.node.clone())
            }
            Some((options, _)) if options.node.is_null() => None,
            Some((options, _)) => {
                let loc = Self::loc_of(src, "options").unwrap_or_else(|| src.loc());
                self.error(
                    loc,
                    format!(
                        "expected `options` to be an object, found {}",
                        options.node.type_name()
                    ),
                );
                None
            }
            None => None,
        };
        // a0deploy also accepts `customScripts` at the top level of `database.json`.
        if scripts.is_empty()
            && let Some((custom, pointer)) = self.field(src, "customScripts")
        {
            let custom = Source::new(src.file, custom.node, &pointer);
            scripts = self.database_scripts(custom, &name);
        }
        self.tenant.connections.push(Connection {
            name,
            loc: src.loc(),
            strategy,
            database,
            enabled_clients,
            options,
            deny_list,
            scripts,
            node: src.node.clone(),
        });
    }

    fn database_scripts(&mut self, src: Source<'_>, connection_name: &str) -> Vec<NamedScript> {
        let connection = self.tenant.connections.len();
        let Some(members) = src.node.as_object() else {
            if !src.node.is_null() {
                self.error(
                    src.loc(),
                    format!(
                        "expected `customScripts` to be an object, found {}",
                        src.node.type_name()
                    ),
                );
            }
            return Vec::new();
        };
        let mut scripts = Vec::new();
        for member in members {
            let slot = Slot::Database {
                connection,
                script: scripts.len(),
            };
            if let Some(script) = self.script(src, &member.key, ScriptKind::Database, connection_name, slot) {
                scripts.push(NamedScript {
                    name: member.key.clone(),
                    script,
                });
            }
        }
        scripts
    }

    /// A rule; `script` overrides the `script` field (extension layout: a `.js` beside the JSON).
    pub fn rule(&mut self, src: Source<'_>, fallback_name: Option<&str>, script: Option<Script>) {
        if !self.object(src, "a rule") {
            return;
        }
        let name = self.name(src, "rule", fallback_name);
        let script = match script {
            Some(script) => Some(script),
            None => self.script(
                src,
                "script",
                ScriptKind::Rule,
                &name,
                Slot::Rule(self.tenant.rules.len()),
            ),
        };
        let rule = Rule {
            enabled: self.boolean(src, "enabled").is_none_or(|b| b.value),
            order: self.integer(src, "order"),
            stage: self.string(src, "stage").map(|s| s.value),
            loc: src.loc(),
            script,
            name,
        };
        self.tenant.rules.push(rule);
    }

    pub fn action(&mut self, src: Source<'_>, fallback_name: Option<&str>) {
        if !self.object(src, "an action") {
            return;
        }
        let name = self.name(src, "action", fallback_name);
        let mut supported_triggers = Vec::new();
        if let Some((triggers, pointer)) = self.field(src, "supported_triggers") {
            let triggers = Source::new(src.file, triggers.node, &pointer);
            self.list(triggers, "supported_triggers", |b, item| {
                if b.object(item, "a supported trigger")
                    && let Some(id) = b.string(item, "id")
                {
                    supported_triggers.push(id.value);
                }
            });
        }
        let action = Action {
            deployed: self.boolean(src, "deployed").is_some_and(|b| b.value),
            status: self.string(src, "status").map(|s| s.value),
            runtime: self.string(src, "runtime").map(|s| s.value),
            code: self.script(
                src,
                "code",
                ScriptKind::Action,
                &name,
                Slot::Action(self.tenant.actions.len()),
            ),
            loc: src.loc(),
            supported_triggers,
            name,
        };
        self.tenant.actions.push(action);
    }

    /// The trigger bindings map: trigger id → `[{action_name, display_name}]`.
    pub fn triggers(&mut self, src: Source<'_>) {
        let Some(members) = src.node.as_object() else {
            if !src.node.is_null() {
                self.error(
                    src.loc(),
                    format!(
                        "expected the triggers to be an object, found {}",
                        src.node.type_name()
                    ),
                );
            }
            return;
        };
        for member in members {
            let pointer = pointer_join(src.pointer, &member.key);
            let list = Source::new(src.file, &member.value, &pointer);
            self.list(list, &member.key, |b, item| {
                if !b.object(item, "a trigger binding") {
                    return;
                }
                let Some(action_name) = b.string(item, "action_name") else {
                    if item.node.get("action_name").is_none() {
                        b.error(
                            item.loc(),
                            "expected the trigger binding to have an `action_name`",
                        );
                    }
                    return;
                };
                let display_name = b.string(item, "display_name").map(|s| s.value);
                b.tenant.triggers.push(TriggerBinding {
                    trigger: member.key.clone(),
                    action_name: action_name.value,
                    display_name,
                    loc: item.loc(),
                });
            });
        }
    }

    pub fn hook(&mut self, src: Source<'_>, fallback_name: Option<&str>) {
        if !self.object(src, "a hook") {
            return;
        }
        let name = self.name(src, "hook", fallback_name);
        let hook = Hook {
            trigger_id: self.string(src, "triggerId").map(|s| s.value),
            enabled: self.boolean(src, "enabled").is_none_or(|b| b.value),
            script: self.script(
                src,
                "script",
                ScriptKind::Hook,
                &name,
                Slot::Hook(self.tenant.hooks.len()),
            ),
            loc: src.loc(),
            name,
        };
        self.tenant.hooks.push(hook);
    }

    pub fn factor(&mut self, src: Source<'_>, fallback_name: Option<&str>) {
        if !self.object(src, "an MFA factor") {
            return;
        }
        let name = self.name(src, "MFA factor", fallback_name);
        let enabled = self.boolean(src, "enabled").is_some_and(|b| b.value);
        self.tenant.guardian.factors.push(Factor {
            name,
            enabled,
            loc: src.loc(),
        });
    }

    /// `guardianPolicies` / `guardian/policies.json`: `{policies: [...]}`.
    pub fn guardian_policies(&mut self, src: Source<'_>) {
        if !self.object(src, "the MFA policies") {
            return;
        }
        if let Some(list) = self.strings(src, "policies") {
            let values = list.value.into_iter().map(|s| s.value).collect();
            self.tenant.guardian.policies = Some(Spanned {
                value: values,
                loc: list.loc,
            });
        }
    }

    pub fn resource_server(&mut self, src: Source<'_>, fallback_name: Option<&str>) {
        if !self.object(src, "a resource server") {
            return;
        }
        let name = self.name(src, "resource server", fallback_name);
        let identifier = self.string(src, "identifier").map(|s| s.value);
        self.tenant.resource_servers.push(ResourceServer {
            name,
            identifier,
            loc: src.loc(),
            node: src.node.clone(),
        });
    }

    /// A resource kept as it is. `name` is its `name` field, else its file name or index.
    pub fn other(&mut self, kind: &str, src: Source<'_>, fallback_name: &str) {
        let name = match src.node.get("name").and_then(Node::as_str) {
            Some(name) => name.to_string(),
            None => fallback_name.to_string(),
        };
        self.tenant.other.push(OtherResource {
            kind: kind.to_string(),
            name,
            loc: src.loc(),
            node: src.node.clone(),
        });
    }
}
