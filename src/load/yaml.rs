//! The YAML format: `tenant.yaml` (or another YAML file with a0deploy's top-level keys) and the
//! side files it references.
//!
//! Top-level keys are a0deploy's handler names; a file with none of them is reported as no
//! export. Side-file paths (rule `script`, action `code`, hook `script`, database
//! `options.customScripts.*`) are relative to the folder holding the YAML file, as a0deploy
//! resolves them.

use std::path::Path;

use super::Files;
use crate::model::{Builder, Source};
use crate::syntax::{Value, pointer_join};

pub fn load(files: &mut Files<'_>, yaml_file: &Path, b: &mut Builder) {
    let Some((file, root)) = files.tree(yaml_file, &mut b.errors) else {
        return;
    };
    let members = match &root.value {
        Value::Object(members) => members,
        Value::Null => return,
        _ => {
            let loc = crate::model::Loc {
                file,
                span: root.span,
                pointer: String::new(),
            };
            b.error(
                loc,
                format!(
                    "expected tenant.yaml to map resource types (`tenant`, `clients`, `rules`...) to their settings, found {}",
                    root.type_name()
                ),
            );
            return;
        }
    };
    if let Some(message) = super::shape::not_an_export(&root, false) {
        let loc = crate::model::Loc {
            file,
            span: super::shape::top_level_span(&root),
            pointer: String::new(),
        };
        b.error(loc, message);
        return;
    }
    b.script_base = files.root.clone();
    for member in members {
        let pointer = pointer_join("", &member.key);
        let src = Source::new(file, &member.value, &pointer);
        match member.key.as_str() {
            "tenant" => b.settings(src),
            "clients" => b.list(src, "clients", |b, item| b.client(item, None)),
            "connections" => b.list(src, "connections", |b, item| b.connection(item, false, None)),
            "databases" => b.list(src, "databases", |b, item| b.connection(item, true, None)),
            "rules" => b.list(src, "rules", |b, item| b.rule(item, None, None)),
            "actions" => b.list(src, "actions", |b, item| b.action(item, None)),
            "triggers" => b.triggers(src),
            "hooks" => b.list(src, "hooks", |b, item| b.hook(item, None)),
            "guardianFactors" => b.list(src, "guardianFactors", |b, item| b.factor(item, None)),
            "guardianPolicies" => b.guardian_policies(src),
            "resourceServers" => b.list(src, "resourceServers", |b, item| b.resource_server(item, None)),
            kind => match &member.value.value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let pointer = pointer_join(&pointer, &i.to_string());
                        b.other(kind, Source::new(file, item, &pointer), &i.to_string());
                    }
                }
                _ => b.other(kind, src, kind),
            },
        }
    }
}
