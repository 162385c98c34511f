//! Finding export roots under the paths given on the command line.
//!
//! An export root is a folder holding `tenant.yaml`/`tenant.yml` (YAML form) or `tenant.json`
//! (directory form), or, for older and partial exports, a folder without a tenant file whose top
//! level has a0deploy resource folders with resource files in them. Folders are walked sorted,
//! without following symlinks (so no loops), skipping `.git`, `node_modules` and other hidden
//! folders; an export's own subfolders are not searched for further exports. A file path stands
//! for the export that contains it, which is what pre-commit passes.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::files::{children, children_with_ext, is_dir};
use crate::model::ExportFormat;

/// One export found on disk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExportRoot {
    pub root: PathBuf,
    pub format: ExportFormat,
    /// `tenant.yaml`/`tenant.yml` for the YAML form.
    pub yaml_file: Option<PathBuf>,
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
            });
        }
    }
    let directory = ExportRoot {
        root: dir.to_path_buf(),
        format: ExportFormat::Directory,
        yaml_file: None,
    };
    if dir.join("tenant.json").is_file() {
        return Some(directory);
    }
    let has_resources = RESOURCE_FOLDERS
        .iter()
        .any(|f| !children_with_ext(&dir.join(f), "json").is_empty())
        || children(&dir.join("database-connections"))
            .iter()
            .any(|db| db.join("database.json").is_file() || db.join("settings.json").is_file())
        || (!children_with_ext(&dir.join("rules"), "js").is_empty() && !dir.join("package.json").exists());
    has_resources.then_some(directory)
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
            match containing_export(path) {
                Some(export) => found.exports.push(export),
                None => found.empty.push((path.clone(), EmptyReason::FileOutsideExport)),
            }
        }
    }
    found.exports.sort();
    found.exports.dedup_by(|a, b| a.root == b.root);
    found
}

fn walk(top: &Path, exports: &mut Vec<ExportRoot>) {
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
        }
    }
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
