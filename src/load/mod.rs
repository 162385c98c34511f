//! From export roots on disk to loaded [`Tenant`] models.
//!
//! [`discover`] finds the exports; [`load_export`] reads one with the loader for its format
//! ([`yaml`], [`directory`], or [`sources`] for loose scripts), then reads every script the
//! export references. Problems become [`InputError`]s, located in
//! the file they are about, and loading goes on past them.

pub mod directory;
pub mod discover;
pub mod files;
pub mod sources;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::model::{Builder, ExportFormat, InputError, Loc, PendingScript, ScriptKind, Tenant};
use crate::source::{SourceFile, SourceId, SourceMap, Span, display_path};
use crate::syntax::keywords::KeywordMap;
use crate::syntax::{Node, Parsed};
use discover::ExportRoot;
use files::{FileCache, join_inside, really_inside, sanitize};

/// One export, loaded.
#[derive(Debug)]
pub struct LoadedExport {
    pub root: PathBuf,
    /// The root as shown to users (relative to the current directory, forward slashes).
    pub display_root: String,
    pub format: ExportFormat,
    pub tenant: Tenant,
    pub errors: Vec<InputError>,
    /// How many files were read.
    pub files: usize,
}

/// Reads one export. Never fails: what cannot be read is an input error.
pub fn load_export(
    export: &ExportRoot,
    keywords: &KeywordMap,
    sources: &mut SourceMap,
    cwd: &Path,
) -> LoadedExport {
    let mut files = Files::new(&export.root, keywords, sources, cwd);
    let mut builder = Builder::new(export.format);
    match (export.format, &export.yaml_file) {
        (ExportFormat::Sources, _) => sources::load(&mut files, &export.scripts, &mut builder),
        (_, Some(yaml_file)) => yaml::load(&mut files, yaml_file, &mut builder),
        (_, None) => directory::load(&mut files, &mut builder),
    }
    resolve_scripts(&mut files, &mut builder);
    let Builder {
        mut tenant, errors, ..
    } = builder;
    tenant.sort();
    LoadedExport {
        root: export.root.clone(),
        display_root: display_path(&export.root, cwd),
        format: export.format,
        tenant,
        errors,
        files: files.count,
    }
}

/// The files of one export: reading, registering and parsing them.
pub struct Files<'a> {
    pub root: PathBuf,
    root_canonical: PathBuf,
    cwd: &'a Path,
    keywords: &'a KeywordMap,
    pub cache: FileCache,
    sources: &'a mut SourceMap,
    count: usize,
}

impl<'a> Files<'a> {
    fn new(root: &Path, keywords: &'a KeywordMap, sources: &'a mut SourceMap, cwd: &'a Path) -> Self {
        let root_canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        Files {
            root: root.to_path_buf(),
            cache: FileCache::new(root_canonical.clone()),
            root_canonical,
            cwd,
            keywords,
            sources,
            count: 0,
        }
    }

    pub fn keywords(&self) -> &KeywordMap {
        self.keywords
    }

    /// Reads `paths` ahead, in parallel.
    pub fn prefetch(&mut self, paths: Vec<PathBuf>) {
        self.cache.prefetch(paths, self.keywords);
    }

    /// Registers a file, reporting a read problem. Returns its id and, for JSON, its parse.
    pub fn open(&mut self, path: &Path, errors: &mut Vec<InputError>) -> (SourceId, Option<Parsed>, bool) {
        let text = self.cache.take(path, self.keywords);
        let export_relative = display_path(path.strip_prefix(&self.root).unwrap_or(path), Path::new(""));
        let file = SourceFile::new(
            path.to_path_buf(),
            display_path(path, self.cwd),
            export_relative,
            text.text,
        );
        let id = self.sources.add(file);
        self.count += 1;
        let readable = text.problem.is_none();
        if let Some((at, message)) = text.problem {
            errors.push(InputError {
                loc: Loc {
                    file: id,
                    span: Span::new(at, at),
                    pointer: String::new(),
                },
                message,
            });
        }
        (id, text.json, readable)
    }

    /// Reads and parses a JSON or YAML file; `None` (with errors reported) when it has no tree.
    pub fn tree(&mut self, path: &Path, errors: &mut Vec<InputError>) -> Option<(SourceId, Node)> {
        let (id, parsed, readable) = self.open(path, errors);
        if !readable {
            return None;
        }
        let parsed = match parsed {
            Some(parsed) => parsed,
            None => crate::syntax::yaml::parse(&self.sources.get(id).text),
        };
        for error in parsed.errors {
            errors.push(InputError {
                loc: Loc {
                    file: id,
                    span: error.span,
                    pointer: String::new(),
                },
                message: error.message,
            });
        }
        parsed.root.map(|root| (id, root))
    }

    pub fn text(&self, id: SourceId) -> Arc<str> {
        self.sources.get(id).text.clone()
    }

    /// Where a script reference leads, or why it is not read.
    fn locate(&self, pending: &PendingScript) -> Result<PathBuf, String> {
        let reference = &pending.reference.value;
        let Some(path) = join_inside(&self.root, &pending.base, reference) else {
            return Err(format!(
                "script path `{reference}` leads outside the export root; it was not read"
            ));
        };
        let mut candidates = vec![path];
        if pending.kind == ScriptKind::Action {
            // Before a0deploy 8.5, action code paths carried the export folder as a prefix.
            let normalised = reference.replace('\\', "/");
            if let Some(i) = normalised.find("actions/") {
                candidates.extend(join_inside(&self.root, &self.root, &normalised[i..]));
            }
            candidates.push(
                self.root
                    .join("actions")
                    .join(sanitize(&pending.resource))
                    .join("code.js"),
            );
        }
        for candidate in &candidates {
            if candidate.is_file() {
                if !really_inside(&self.root_canonical, candidate) {
                    return Err(format!(
                        "script path `{reference}` leads through a symbolic link to outside the export root; it was not read"
                    ));
                }
                return Ok(candidate.clone());
            }
        }
        let looked = display_path(
            candidates[0].strip_prefix(&self.root).unwrap_or(&candidates[0]),
            Path::new(""),
        );
        Err(format!(
            "script file `{reference}` not found (looked for `{looked}` in the export)"
        ))
    }
}

/// Reads every script the builder found references to, in parallel, and fills them in.
fn resolve_scripts(files: &mut Files<'_>, builder: &mut Builder) {
    let pending = std::mem::take(&mut builder.pending);
    let located: Vec<Result<PathBuf, String>> = pending.iter().map(|p| files.locate(p)).collect();
    files.prefetch(located.iter().filter_map(|l| l.as_ref().ok().cloned()).collect());
    for (pending, location) in pending.into_iter().zip(located) {
        match location {
            Ok(path) => {
                let (id, _, _) = files.open(&path, &mut builder.errors);
                let text = files.text(id);
                if let Some(script) = Builder::script_mut(&mut builder.tenant, pending.slot) {
                    script.file = Some(id);
                    script.text = text;
                }
            }
            Err(message) => builder.error(pending.reference.loc.clone(), message),
        }
    }
}
