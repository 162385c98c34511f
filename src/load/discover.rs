//! Finding export roots under the paths given on the command line.
//!
//! An a0deploy export root is a folder holding `tenant.yaml`/`tenant.yml` (YAML form) or
//! `tenant.json` (directory form); a folder holding, instead, YAML files whose top level is
//! a0deploy's (`prod.yaml`, `acme.yml`: a0deploy takes any `--input_file`), one YAML export per
//! file; or, for older and partial exports, a folder without a tenant file whose top level has
//! a0deploy resource folders with resource files in them. Folders are walked with the `ignore`
//! crate, as ruff and oxlint walk them: sorted, without following symlinks (so no loops and
//! nothing outside), skipping what `.gitignore`, `.ignore` and `.git/info/exclude` exclude,
//! hidden folders, `node_modules` and `target`; a path given on the command line is always
//! walked, even when ignored. An export's own subfolders are not searched for further exports.
//!
//! A file path stands for the export that contains it, which is what pre-commit passes; a YAML
//! file with a0deploy's top-level keys is an export of its own, whatever its name. Outside
//! a0deploy exports, a folder that directly holds rule, action or hook scripts (recognised by
//! [`sources::recognise`]) is a `sources` export of those scripts; a recognisable script named on
//! the command line that lies in no a0deploy export is a `sources` export of that one file, and
//! any other file in such a folder stands for that folder's export. A folder inside an a0deploy
//! export is never a `sources` export: its scripts belong to that export.
//!
//! A path that yields no export is [`Refused`], with the reason: the run reports it as an input
//! error, so nothing named on the command line passes without being read.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::WalkBuilder;
use rayon::prelude::*;

use super::files::{self, children, children_of_root, children_with_ext};
use super::shape;
use super::sources::{self, LooseScript};
use crate::model::ExportFormat;
use crate::syntax::keywords::KeywordMap;

/// One export found on disk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExportRoot {
    pub root: PathBuf,
    pub format: ExportFormat,
    /// The YAML file of the YAML form: `tenant.yaml`/`tenant.yml`, or another YAML file whose
    /// top level is a0deploy's.
    pub yaml_file: Option<PathBuf>,
    /// The scripts of a `sources` export, sorted by path: every recognised script directly in
    /// the root, or the one script named on the command line. Empty for other formats.
    pub scripts: Vec<LooseScript>,
}

impl ExportRoot {
    /// The YAML file read when it is not the folder's `tenant.yaml`/`tenant.yml`: claimlint says
    /// which file it read, since the folder alone does not tell.
    pub fn named_yaml_file(&self) -> Option<&Path> {
        let file = self.yaml_file.as_deref()?;
        let name = file.file_name()?.to_string_lossy();
        (!shape::is_tenant_yaml_name(&name)).then_some(file)
    }
}

/// What discovery found for the given paths.
#[derive(Debug, Default)]
pub struct Discovered {
    pub exports: Vec<ExportRoot>,
    /// Paths given that hold no export (folders) or are none and lie in none (files).
    pub refused: Vec<Refused>,
}

/// A path given on the command line that yields no export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub path: PathBuf,
    pub reason: Refusal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing exists at the path.
    Missing,
    /// A folder with no export in it or around it.
    FolderWithoutExport,
    /// A file that is in no export and is not a rule, action or hook script.
    FileOutsideExport,
    /// A YAML file in no export whose top level has none of a0deploy's keys.
    NotAnExport,
}

/// How far below a given folder `sources` exports are looked for (the given folder is depth 0).
pub const MAX_SOURCES_DEPTH: usize = 8;

/// Folders a0deploy's directory format writes, whose files make a folder an export.
const RESOURCE_FOLDERS: &[&str] = &[
    "clients",
    "connections",
    "resource-servers",
    "actions",
    "hooks",
    "rules",
    "triggers",
    "guardian",
    "grants",
    "roles",
];

/// The export rooted at `dir`, if `dir` is one (the first, for a folder of several YAML
/// exports).
pub fn export_at(dir: &Path) -> Option<ExportRoot> {
    exports_at(dir).into_iter().next()
}

/// The exports rooted at `dir`: the tenant file's; else one per YAML file with a0deploy's top
/// level; else the directory export its resource folders make.
pub fn exports_at(dir: &Path) -> Vec<ExportRoot> {
    let yaml = |file: PathBuf| ExportRoot {
        root: dir.to_path_buf(),
        format: ExportFormat::Yaml,
        yaml_file: Some(file),
        scripts: Vec::new(),
    };
    for name in ["tenant.yaml", "tenant.yml"] {
        let file = dir.join(name);
        if file.is_file() {
            return vec![yaml(file)];
        }
    }
    let directory = ExportRoot {
        root: dir.to_path_buf(),
        format: ExportFormat::Directory,
        yaml_file: None,
        scripts: Vec::new(),
    };
    if dir.join("tenant.json").is_file() {
        return vec![directory];
    }
    let named: Vec<ExportRoot> = children_of_root(dir)
        .into_iter()
        .filter(|p| shape::is_yaml_export_file(p))
        .map(yaml)
        .collect();
    if !named.is_empty() {
        return named;
    }
    let has_resources = RESOURCE_FOLDERS
        .iter()
        .any(|f| !children_with_ext(&dir.join(f), "json").is_empty())
        || children(&dir.join("database-connections"))
            .iter()
            .any(|db| db.join("database.json").is_file() || db.join("settings.json").is_file());
    // NOTE: a `rules/` folder of bare `.js` files with nothing else is not an a0deploy export
    // (it could be any repository's `src/`): that folder is a `sources` export of its own.
    if has_resources {
        vec![directory]
    } else {
        Vec::new()
    }
}

/// The `sources` export rooted at `dir`, if `dir` directly holds recognisable Auth0 scripts.
/// Does not look at what contains `dir` (see [`discover`] for that).
pub fn sources_at(dir: &Path) -> Option<ExportRoot> {
    let candidates = children_with_ext(dir, "js");
    sources_of(dir, &candidates)
}

/// The recognised scripts among `candidates` (files in `dir`), as a `sources` export.
fn sources_of(dir: &Path, candidates: &[PathBuf]) -> Option<ExportRoot> {
    if candidates.is_empty() {
        return None;
    }
    let root_canonical = dir.canonicalize().ok()?;
    let scripts: Vec<LooseScript> = candidates
        .par_iter()
        .filter_map(|path| {
            recognise_file(path, &root_canonical).map(|kind| LooseScript {
                path: path.clone(),
                kind,
            })
        })
        .collect();
    (!scripts.is_empty()).then(|| ExportRoot {
        root: dir.to_path_buf(),
        format: ExportFormat::Sources,
        yaml_file: None,
        scripts,
    })
}

/// What Auth0 script the file is, read the way the loader reads it (regular files only, size
/// limit, nothing through a symbolic link out of `root_canonical`).
fn recognise_file(path: &Path, root_canonical: &Path) -> Option<sources::LooseKind> {
    if !sources::is_script_path(path) {
        return None;
    }
    let text = files::read(path, &KeywordMap::default(), root_canonical);
    sources::recognise(&text.text).map(|r| r.kind)
}

/// Finds every export under or around `paths`, sorted and without duplicates, and the paths
/// that yield none.
pub fn discover(paths: &[PathBuf]) -> Discovered {
    let mut found = Discovered::default();
    let mut folders = Folders::default();
    for path in paths {
        let refuse = |reason| Refused {
            path: path.clone(),
            reason,
        };
        if !path.exists() {
            found.refused.push(refuse(Refusal::Missing));
        } else if path.is_dir() {
            let before = found.exports.len();
            walk(path, &mut found.exports);
            if found.exports.len() == before {
                found.refused.push(refuse(Refusal::FolderWithoutExport));
            }
        } else {
            match exports_of_file(path, &mut folders) {
                Ok(exports) => found.exports.extend(exports),
                Err(reason) => found.refused.push(refuse(reason)),
            }
        }
    }
    found.exports.sort();
    found.exports.dedup();
    // One root, one `sources` export: the scripts of `sources` exports found twice (a folder and
    // a file in it, or two files of one folder) are merged.
    let mut merged: Vec<ExportRoot> = Vec::with_capacity(found.exports.len());
    for export in std::mem::take(&mut found.exports) {
        match merged.last_mut() {
            Some(last)
                if last.root == export.root
                    && last.format == ExportFormat::Sources
                    && export.format == ExportFormat::Sources =>
            {
                last.scripts.extend(export.scripts);
                last.scripts.sort();
                last.scripts.dedup_by(|a, b| a.path == b.path);
            }
            _ => merged.push(export),
        }
    }
    found.exports = merged;
    found
}

/// The exports a file named on the command line stands for: itself, when it is a YAML file
/// with a0deploy's top-level keys; else the export that contains it; else itself as a loose
/// script; else the `sources` export of its folder.
fn exports_of_file(file: &Path, folders: &mut Folders) -> Result<Vec<ExportRoot>, Refusal> {
    let folder = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let yaml = shape::is_yaml_path(file);
    if yaml
        && !shape::is_tenant_yaml_name(&name)
        && let Some((_, parsed)) = shape::parse_named(file)
        && parsed.root.as_ref().is_some_and(shape::has_yaml_key)
    {
        return Ok(vec![ExportRoot {
            root: folder.clone(),
            format: ExportFormat::Yaml,
            yaml_file: Some(folder.join(&name)),
            scripts: Vec::new(),
        }]);
    }
    let containing = folders.containing_exports(file);
    if !containing.is_empty() {
        return Ok(containing);
    }
    if let Some(export) = single_script(file).or_else(|| folders.sources_at(&folder)) {
        return Ok(vec![export]);
    }
    Err(if yaml {
        Refusal::NotAnExport
    } else {
        Refusal::FileOutsideExport
    })
}

/// A recognisable script named on its own, in no a0deploy export: a `sources` export of just
/// that file, rooted at its folder.
fn single_script(file: &Path) -> Option<ExportRoot> {
    let name = file.file_name()?;
    let root = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let path = root.join(name);
    let root_canonical = root.canonicalize().ok()?;
    let kind = recognise_file(&path, &root_canonical)?;
    Some(ExportRoot {
        root,
        format: ExportFormat::Sources,
        yaml_file: None,
        scripts: vec![LooseScript { path, kind }],
    })
}

/// Folders never walked into (below the folder given): dependencies and build output.
const SKIPPED_FOLDERS: &[&str] = &["node_modules", "target"];

fn walk(top: &Path, exports: &mut Vec<ExportRoot>) {
    // Scripts inside an a0deploy export belong to it, so nothing under `top` can be `sources`.
    let sources_allowed = !inside_export(top);
    let mut script_folders: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    // The walk does not enter an export: its folders are its resources, not further exports.
    // The filter runs as each folder's entries are reached, after the folder itself was seen.
    let roots: Arc<Mutex<HashSet<PathBuf>>> = Arc::default();
    let skip = Arc::clone(&roots);
    let walker = WalkBuilder::new(top)
        .follow_links(false)
        .hidden(true)
        .parents(true)
        .ignore(true)
        .git_ignore(true)
        .git_global(true)
        .git_exclude(true)
        // A `.gitignore` is honoured in a copy of a repository without `.git` too, as in ruff.
        .require_git(false)
        // NOTE: not `sort_by_file_name`: a sorting walk lists every folder it reaches in full
        // before the filter can skip it, which read each resource folder of an export twice.
        // What the walk finds is sorted by path below, the order a sorted walk gives.
        .filter_entry(move |entry| {
            let skipped_name = entry.file_type().is_some_and(|t| t.is_dir())
                && SKIPPED_FOLDERS.iter().any(|n| entry.file_name() == *n);
            let in_export = entry
                .path()
                .parent()
                .is_some_and(|p| skip.lock().is_ok_and(|roots| roots.contains(p)));
            !skipped_name && !in_export
        })
        .build();
    let mut export_folders: Vec<(PathBuf, Vec<ExportRoot>)> = Vec::new();
    for entry in walker {
        // Unreadable folders are skipped, as before: what cannot be listed holds no export
        // claimlint could read.
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_some_and(|t| t.is_dir()) {
            continue;
        }
        let found = exports_at(entry.path());
        if !found.is_empty() {
            export_folders.push((entry.path().to_path_buf(), found));
            if let Ok(mut roots) = roots.lock() {
                roots.insert(entry.path().to_path_buf());
            }
        } else if sources_allowed && entry.depth() <= MAX_SOURCES_DEPTH {
            let scripts = children_with_ext(entry.path(), "js");
            if !scripts.is_empty() {
                script_folders.push((entry.path().to_path_buf(), scripts));
            }
        }
    }
    // Paths compare component by component: a folder before what it holds, names in order.
    export_folders.sort_by(|a, b| a.0.cmp(&b.0));
    exports.extend(export_folders.into_iter().flat_map(|(_, found)| found));
    script_folders.sort_by(|a, b| a.0.cmp(&b.0));
    // Files are read to recognise them, in parallel.
    let found: Vec<Option<ExportRoot>> = script_folders
        .par_iter()
        .map(|(dir, scripts)| sources_of(dir, scripts))
        .collect();
    exports.extend(found.into_iter().flatten());
}

/// Whether a folder lies inside an a0deploy export (below its root).
fn inside_export(dir: &Path) -> bool {
    let absolute = absolute(dir);
    absolute
        .canonicalize()
        .unwrap_or(absolute)
        .ancestors()
        .skip(1)
        .any(|a| export_at(a).is_some())
}

/// What [`discover`] has found of the folders around the files named on the command line,
/// so that each folder is looked at once however many of its files are named (pre-commit
/// passes every changed file, and `pre-commit run --all-files` thousands of one folder's: each
/// look lists the folder).
#[derive(Default)]
struct Folders {
    exports: HashMap<PathBuf, Vec<ExportRoot>>,
    sources: HashMap<PathBuf, Option<ExportRoot>>,
}

impl Folders {
    /// The exports a file belongs to: those of the nearest enclosing folder that is an export
    /// root.
    fn containing_exports(&mut self, file: &Path) -> Vec<ExportRoot> {
        for folder in absolute(file).ancestors().skip(1) {
            let found = self
                .exports
                .entry(folder.to_path_buf())
                .or_insert_with(|| exports_at(folder));
            if !found.is_empty() {
                return found.clone();
            }
        }
        Vec::new()
    }

    /// [`sources_at`] of `dir`.
    fn sources_at(&mut self, dir: &Path) -> Option<ExportRoot> {
        self.sources
            .entry(dir.to_path_buf())
            .or_insert_with(|| sources_at(dir))
            .clone()
    }
}

/// `path` made absolute against the current folder.
fn absolute(path: &Path) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) if !path.is_absolute() => cwd.join(path),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files of one folder named together (as pre-commit passes them) are one export, and the
    /// folders around them are each looked at once, not once per file.
    #[test]
    fn many_files_of_one_export_look_at_each_folder_once() {
        let dir = tempfile::tempdir().expect("a scratch folder");
        let root = dir.path().canonicalize().expect("its real path");
        std::fs::create_dir_all(root.join("clients")).expect("a clients folder");
        std::fs::write(root.join("tenant.json"), "{}").expect("tenant.json");
        let files: Vec<PathBuf> = (0..50)
            .map(|i| {
                let file = root.join(format!("clients/c{i}.json"));
                std::fs::write(&file, format!("{{\"name\": \"c{i}\"}}")).expect("a client file");
                file
            })
            .collect();
        let found = discover(&files);
        assert!(found.refused.is_empty(), "{:?}", found.refused);
        assert_eq!(found.exports.len(), 1);
        assert_eq!(found.exports[0].root, root);

        let mut folders = Folders::default();
        for file in &files {
            assert_eq!(folders.containing_exports(file).len(), 1);
        }
        // `clients/` (no export) and the root (the export): nothing further up is asked.
        assert_eq!(folders.exports.len(), 2, "{:?}", folders.exports.keys());
    }
}
