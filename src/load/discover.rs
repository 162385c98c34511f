//! Finding export roots under the paths given on the command line.
//!
//! An a0deploy export root is a folder holding `tenant.yaml`/`tenant.yml` (YAML form) or
//! `tenant.json` (directory form), or, for older and partial exports, a folder without a tenant
//! file whose top level has a0deploy resource folders with resource files in them. Folders are
//! walked sorted, without following symlinks (so no loops), skipping `.git`, `node_modules` and
//! other hidden folders; an export's own subfolders are not searched for further exports. A file
//! path stands for the export that contains it, which is what pre-commit passes.
//!
//! Outside a0deploy exports, a folder that directly holds rule, action or hook scripts
//! (recognised by [`sources::recognise`]) is a `sources` export of those scripts; a recognisable
//! script named on the command line that lies in no a0deploy export is a `sources` export of
//! that one file. A folder inside an a0deploy export is never a `sources` export: its scripts
//! belong to that export.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use rayon::prelude::*;

use super::files::{self, children, children_with_ext, is_dir};
use super::sources::{self, LooseScript};
use crate::model::ExportFormat;
use crate::syntax::keywords::KeywordMap;

/// One export found on disk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExportRoot {
    pub root: PathBuf,
    pub format: ExportFormat,
    /// `tenant.yaml`/`tenant.yml` for the YAML form.
    pub yaml_file: Option<PathBuf>,
    /// The scripts of a `sources` export, sorted by path: every recognised script directly in
    /// the root, or the one script named on the command line. Empty for other formats.
    pub scripts: Vec<LooseScript>,
}

/// What discovery found for the given paths.
#[derive(Debug, Default)]
pub struct Discovered {
    pub exports: Vec<ExportRoot>,
    /// Paths that hold no export (folders) or lie in none (files), with the reason.
    pub empty: Vec<(PathBuf, EmptyReason)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyReason {
    Missing,
    FolderWithoutExport,
    FileOutsideExport,
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

/// The export rooted at `dir`, if `dir` is one.
pub fn export_at(dir: &Path) -> Option<ExportRoot> {
    for name in ["tenant.yaml", "tenant.yml"] {
        let file = dir.join(name);
        if file.is_file() {
            return Some(ExportRoot {
                root: dir.to_path_buf(),
                format: ExportFormat::Yaml,
                yaml_file: Some(file),
                scripts: Vec::new(),
            });
        }
    }
    let directory = ExportRoot {
        root: dir.to_path_buf(),
        format: ExportFormat::Directory,
        yaml_file: None,
        scripts: Vec::new(),
    };
    if dir.join("tenant.json").is_file() {
        return Some(directory);
    }
    let has_resources = RESOURCE_FOLDERS
        .iter()
        .any(|f| !children_with_ext(&dir.join(f), "json").is_empty())
        || children(&dir.join("database-connections"))
            .iter()
            .any(|db| db.join("database.json").is_file() || db.join("settings.json").is_file());
    // NOTE: a `rules/` folder of bare `.js` files with nothing else is not an a0deploy export
    // (it could be any repository's `src/`): that folder is a `sources` export of its own.
    has_resources.then_some(directory)
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

/// Finds every export under or around `paths`, sorted and without duplicates.
pub fn discover(paths: &[PathBuf]) -> Discovered {
    let mut found = Discovered::default();
    for path in paths {
        let before = found.exports.len();
        if !path.exists() {
            found.empty.push((path.clone(), EmptyReason::Missing));
            continue;
        }
        if is_dir(path) || path.is_dir() {
            walk(path, &mut found.exports);
            if found.exports.len() == before {
                found.empty.push((path.clone(), EmptyReason::FolderWithoutExport));
            }
        } else {
            match containing_export(path).or_else(|| single_script(path)) {
                Some(export) => found.exports.push(export),
                None => found.empty.push((path.clone(), EmptyReason::FileOutsideExport)),
            }
        }
    }
    found.exports.sort();
    // One root, one export: the scripts of `sources` exports found twice (a folder and a file
    // in it, or two files of one folder) are merged.
    let mut merged: Vec<ExportRoot> = Vec::with_capacity(found.exports.len());
    for export in std::mem::take(&mut found.exports) {
        match merged.last_mut() {
            Some(last) if last.root == export.root => {
                if last.format == ExportFormat::Sources && export.format == ExportFormat::Sources {
                    last.scripts.extend(export.scripts);
                    last.scripts.sort();
                    last.scripts.dedup_by(|a, b| a.path == b.path);
                }
            }
            _ => merged.push(export),
        }
    }
    found.exports = merged;
    found
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

fn walk(top: &Path, exports: &mut Vec<ExportRoot>) {
    // Scripts inside an a0deploy export belong to it, so nothing under `top` can be `sources`.
    let sources_allowed = !inside_export(top);
    let mut script_folders: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    let mut walker = WalkDir::new(top)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walker.next() {
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if entry.depth() > 0 && (name.starts_with('.') || name == "node_modules" || name == "target") {
            walker.skip_current_dir();
            continue;
        }
        if let Some(export) = export_at(entry.path()) {
            exports.push(export);
            walker.skip_current_dir();
        } else if sources_allowed && entry.depth() <= MAX_SOURCES_DEPTH {
            let scripts = children_with_ext(entry.path(), "js");
            if !scripts.is_empty() {
                script_folders.push((entry.path().to_path_buf(), scripts));
            }
        }
    }
    // Files are read to recognise them, in parallel; the order stays the walk's.
    let found: Vec<Option<ExportRoot>> = script_folders
        .par_iter()
        .map(|(dir, scripts)| sources_of(dir, scripts))
        .collect();
    exports.extend(found.into_iter().flatten());
}

/// Whether a folder lies inside an a0deploy export (below its root).
fn inside_export(dir: &Path) -> bool {
    let Ok(cwd) = std::env::current_dir() else {
        return false;
    };
    let absolute = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        cwd.join(dir)
    };
    let absolute = absolute.canonicalize().unwrap_or(absolute);
    absolute.ancestors().skip(1).any(|a| export_at(a).is_some())
}

/// The export a file belongs to: the nearest enclosing folder that is an export root.
fn containing_export(file: &Path) -> Option<ExportRoot> {
    let absolute = if file.is_absolute() {
        file.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(file)
    };
    absolute.ancestors().skip(1).find_map(export_at)
}
