//! The directory format: `tenant.json` and one folder per resource type.
//!
//! Only direct children of each folder are read, as a0deploy reads them. Script references are
//! relative to `rules/`, `hooks/` or the database's own folder; action code is relative to the
//! export root. The older layouts of the Deployments extensions are read too: a rule as a `.js`
//! file with an optional same-named `.json` holding only its settings, and a database folder
//! with `settings.json` and scripts named after their function.

use std::path::{Path, PathBuf};

use super::files::{
    Listing, children, children_of_root, children_with_ext, entries_with_ext, io_reason, is_dir,
};
use super::{Files, shape};
use crate::model::{Builder, Loc, ScriptKind, Slot, Source, Spanned};
use crate::source::Span;
use crate::syntax::{Node, Value};

/// Custom-database script names a0deploy knows.
const DATABASE_SCRIPTS: &[&str] = &[
    "get_user",
    "create",
    "verify",
    "login",
    "change_password",
    "delete",
    "change_email",
];

/// Folders whose resources the model does not use yet, with the YAML key for their kind.
fn kind_of_folder(folder: &str) -> String {
    match folder {
        "emails" => "emailTemplates".into(),
        "grants" => "clientGrants".into(),
        "network-acls" => "networkACLs".into(),
        _ => {
            let mut out = String::new();
            let mut upper = false;
            for c in folder.chars() {
                if c == '-' || c == '_' {
                    upper = true;
                } else if upper {
                    out.extend(c.to_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What [`read_ahead`] learnt: the rules folder's listing, and the script files it read.
pub struct ReadAhead {
    rules_listing: Listing,
    /// The script files read ahead (rules, hooks, database scripts, actions' code).
    pub scripts: Vec<PathBuf>,
}

/// The first step of loading a directory export: checks the folders, lists the rules folder (thousands of files
/// in a large tenant) once, and reads ahead, in parallel, the files the loader opens one by one.
pub fn read_ahead(files: &mut Files<'_>, b: &mut Builder) -> ReadAhead {
    let root = files.root.clone();
    check_folders(files, b, &root);
    let rules_listing = Listing::of(&root.join("rules"));
    let scripts = prefetch(files, &root, &rules_listing);
    ReadAhead {
        rules_listing,
        scripts,
    }
}

/// The second step: builds every resource.
pub fn build(files: &mut Files<'_>, b: &mut Builder, read: &ReadAhead) {
    let root = files.root.clone();
    let rules_listing = &read.rules_listing;
    let tenant_json = root.join("tenant.json");
    // Anything named `tenant.json` is read, so a folder or a special file there is reported.
    if tenant_json.symlink_metadata().is_ok()
        && let Some((file, node)) = files.tree(&tenant_json, &mut b.errors)
    {
        match shape::not_an_export(&node, true) {
            Some(message) => b.error(
                Loc {
                    file,
                    span: shape::top_level_span(&node),
                    pointer: String::new(),
                },
                message,
            ),
            None => b.settings(Source::new(file, &node, "")),
        }
    }
    each_json(files, b, &root.join("clients"), |b, src, name| {
        if !name.ends_with(".meta") {
            b.client(src, Some(name));
        }
    });
    each_json(files, b, &root.join("connections"), |b, src, name| {
        b.connection(src, false, Some(name))
    });
    databases(files, b, &root.join("database-connections"));
    rules(files, b, &root.join("rules"), rules_listing);
    b.script_base = root.clone();
    each_json(files, b, &root.join("actions"), |b, src, name| {
        b.action(src, Some(name))
    });
    if let Some(first) = children_with_ext(&root.join("triggers"), "json").first()
        && let Some((file, node)) = files.tree(first, &mut b.errors)
    {
        b.triggers(Source::new(file, &node, ""));
    }
    b.script_base = root.join("hooks");
    each_json(files, b, &root.join("hooks"), |b, src, name| {
        b.hook(src, Some(name))
    });
    each_json(
        files,
        b,
        &root.join("guardian").join("factors"),
        |b, src, name| b.factor(src, Some(name)),
    );
    let policies = root.join("guardian").join("policies.json");
    if policies.is_file()
        && let Some((file, node)) = files.tree(&policies, &mut b.errors)
    {
        b.guardian_policies(Source::new(file, &node, ""));
    }
    each_json(files, b, &root.join("resource-servers"), |b, src, name| {
        b.resource_server(src, Some(name))
    });

    const MODELLED: &[&str] = &[
        "clients",
        "connections",
        "database-connections",
        "rules",
        "actions",
        "triggers",
        "hooks",
        "guardian",
        "resource-servers",
    ];
    for folder in children_of_root(&root) {
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !is_dir(&folder) || name.starts_with('.') || MODELLED.contains(&name.as_str()) {
            continue;
        }
        let kind = kind_of_folder(&name);
        each_json(files, b, &folder, |b, src, file_name| {
            let kind = if kind == "emailTemplates" && file_name == "provider" {
                "emailProvider"
            } else {
                &kind
            };
            b.other(kind, src, file_name);
        });
    }
}

/// Reports the folders the loader will not list: symbolic links to folders (never followed, so
/// nothing outside the export is listed) and folders that cannot be listed.
fn check_folders(files: &mut Files<'_>, b: &mut Builder, root: &Path) {
    // The root itself may be a link the user named; it is only checked for being listable.
    if let Err(error) = std::fs::read_dir(root) {
        let message = format!("cannot list this folder: {}", io_reason(&error));
        files.folder_problem(root, message, &mut b.errors);
    }
    let mut folders = children_of_root(root);
    folders.extend(children(&root.join("database-connections")));
    folders.extend(children(&root.join("actions")));
    for folder in folders {
        let Ok(meta) = std::fs::symlink_metadata(&folder) else {
            continue;
        };
        if meta.is_symlink() {
            if std::fs::metadata(&folder).is_ok_and(|m| m.is_dir()) {
                let message = "this folder is a symbolic link; claimlint does not follow links to folders, so it was not listed".to_string();
                files.folder_problem(&folder, message, &mut b.errors);
            }
        } else if meta.is_dir()
            && let Err(error) = std::fs::read_dir(&folder)
        {
            let message = format!("cannot list this folder: {}", io_reason(&error));
            files.folder_problem(&folder, message, &mut b.errors);
        }
    }
}

/// Reads ahead, in parallel, the files the loader opens one by one (settings, triggers,
/// databases, scripts); resource folders and rules are read as they are built (see `each_json`
/// and `rules`). Returns the script files among them.
fn prefetch(files: &mut Files<'_>, root: &Path, rules: &Listing) -> Vec<PathBuf> {
    let mut scripts = rules.files_with_ext("js");
    scripts.extend(children_with_ext(&root.join("hooks"), "js"));
    let mut paths = vec![
        root.join("tenant.json"),
        root.join("guardian").join("policies.json"),
    ];
    // The other folders' resource files, and the rules' `.json`, are read as they are built
    // (see `each_json` and `rules`).
    paths.extend(
        children_with_ext(&root.join("triggers"), "json")
            .into_iter()
            .take(1),
    );
    for db in children(&root.join("database-connections")) {
        paths.extend(children_with_ext(&db, "json"));
        scripts.extend(children_with_ext(&db, "js"));
    }
    for action in children(&root.join("actions")).into_iter().filter(|p| is_dir(p)) {
        scripts.push(action.join("code.js"));
    }
    paths.extend(scripts.iter().cloned());
    files.prefetch(paths);
    scripts
}

/// Hands each `*.json` directly inside `dir` to `each`, with its file name stem; the files are
/// read and built on every core.
fn each_json(
    files: &mut Files<'_>,
    b: &mut Builder,
    dir: &Path,
    each: impl Fn(&mut Builder, Source<'_>, &str) + Sync,
) {
    // NOTE: `actions/` also holds one code folder per action, and an action may be named `x.json`.
    let paths = if dir.file_name().is_some_and(|n| n == "actions") {
        children_with_ext(dir, "json")
    } else {
        entries_with_ext(dir, "json")
    };
    files.build_each(b, &paths, &|b, src, path| each(b, src, &stem(path)));
}

fn databases(files: &mut Files<'_>, b: &mut Builder, dir: &Path) {
    for db in children(dir).into_iter().filter(|p| is_dir(p)) {
        let name = db
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        b.script_base = db.clone();
        let database_json = db.join("database.json");
        let settings_json = db.join("settings.json");
        if database_json.is_file() {
            if let Some((file, node)) = files.tree(&database_json, &mut b.errors) {
                b.connection(Source::new(file, &node, ""), true, Some(&name));
            }
        } else if settings_json.is_file()
            && let Some((file, node)) = files.tree(&settings_json, &mut b.errors)
        {
            // Extension layout: scripts are picked up by file name.
            let connection = b.tenant.connections.len();
            b.connection(Source::new(file, &node, ""), true, Some(&name));
            if b.tenant.connections.len() == connection {
                // Not a connection object (reported): its scripts belong to nothing.
                continue;
            }
            let mut scripts = Vec::new();
            for script in DATABASE_SCRIPTS {
                let path = db.join(format!("{script}.js"));
                if path.is_file() {
                    let reference = implied_reference(file, &format!("./{script}.js"));
                    let slot = Slot::Database {
                        connection,
                        script: scripts.len(),
                    };
                    let loaded = b.implied_script(ScriptKind::Database, &name, reference, slot);
                    scripts.push(crate::model::NamedScript {
                        name: (*script).to_string(),
                        script: loaded,
                    });
                }
            }
            if let Some(added) = b.tenant.connections.get_mut(connection)
                && added.scripts.is_empty()
            {
                added.scripts = scripts;
            }
        }
    }
}

/// A script reference the layout implies rather than states; it points at the file that implies it.
fn implied_reference(file: crate::source::SourceId, reference: &str) -> Spanned<String> {
    Spanned {
        value: reference.to_string(),
        loc: Loc {
            file,
            span: Span::empty(0),
            pointer: String::new(),
        },
    }
}

fn rules(files: &mut Files<'_>, b: &mut Builder, dir: &Path, listing: &Listing) {
    b.script_base = dir.to_path_buf();
    let scripts: Vec<PathBuf> = listing.files_with_ext("js");
    let settings = listing.entries_with_ext("json");
    // Each `.json` claims its same-named `.js` (read or not) and the script it names.
    let mut claimed: foldhash::HashSet<PathBuf> = settings
        .iter()
        .map(|path| dir.join(format!("{}.js", stem(path))))
        .collect();
    let named = std::sync::Mutex::new(Vec::new());
    let root = files.root.clone();
    // Thousands of rules in a large tenant: read, parsed and built on every core.
    files.build_each(b, &settings, &|b, src, path| {
        let name = stem(path);
        let node = src.node;
        let script = match node.get("script") {
            Some(_) => None,
            None if listing.is_file(&dir.join(format!("{name}.js"))) && node.as_object().is_some() => {
                let rule_name = node
                    .get("name")
                    .and_then(Node::as_str)
                    .unwrap_or(&name)
                    .to_string();
                let slot = Slot::Rule(b.tenant.rules.len());
                Some(b.implied_script(
                    ScriptKind::Rule,
                    &rule_name,
                    implied_reference(src.file, &format!("./{name}.js")),
                    slot,
                ))
            }
            None => None,
        };
        if let Some(reference) = node.get("script").and_then(Node::as_str)
            && let Some(target) = super::files::join_inside(&root, dir, reference)
        {
            named.lock().unwrap_or_else(|e| e.into_inner()).push(target);
        }
        b.rule(src, Some(&name), script);
    });
    claimed.extend(named.into_inner().unwrap_or_else(|e| e.into_inner()));
    // Extension layout: a `.js` with no `.json` is an enabled rule named after the file.
    for path in scripts {
        if claimed.contains(&path) {
            continue;
        }
        let name = stem(&path);
        let file = files.open(&path, &mut b.errors);
        let node = Node::new(Span::empty(0), Value::Object(Vec::new()));
        let slot = Slot::Rule(b.tenant.rules.len());
        let text = files.text(file);
        let mut script = b.implied_script(
            ScriptKind::Rule,
            &name,
            implied_reference(file, &format!("./{name}.js")),
            slot,
        );
        // The file is already open: fill it in now instead of reading it twice.
        b.pending.pop();
        script.file = Some(file);
        script.text = text;
        b.rule(Source::new(file, &node, ""), Some(&name), Some(script));
    }
}
