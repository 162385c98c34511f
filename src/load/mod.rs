//! From export roots on disk to loaded [`Tenant`] models.
//!
//! [`discover`] finds the exports; [`load_export`] reads one with the loader for its format
//! ([`yaml`], [`directory`], or [`sources`] for loose scripts), then reads every script the
//! export references. Problems become [`InputError`]s, located in
//! the file they are about, and loading goes on past them.

pub mod directory;
pub mod discover;
pub mod files;
pub mod shape;
pub mod sources;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::model::{Builder, ExportFormat, InputError, Loc, PendingScript, ScriptKind, Source, Tenant};
use crate::source::{SourceFile, SourceId, SourceMap, Span, display_path};
use crate::syntax::Node;
use crate::syntax::keywords::KeywordMap;
use discover::{ExportRoot, Refusal, Refused};
use files::{FileCache, join_inside, really_inside, sanitize};

/// One export, loaded.
#[derive(Debug)]
pub struct LoadedExport {
    pub root: PathBuf,
    /// The root as shown to users (relative to the current directory, forward slashes).
    pub display_root: String,
    /// The YAML file read, as shown to users, when it is not the folder's `tenant.yaml`.
    pub display_file: Option<String>,
    pub format: ExportFormat,
    pub tenant: Tenant,
    pub errors: Vec<InputError>,
    /// How many files were read.
    pub files: usize,
    /// The script files lowered while the rest of the export was built (when
    /// [`LoadOptions::lower_scripts`] asks), for `eval::lower_scripts_from` to take.
    pub lowered: crate::js::LoweredTexts,
}

/// What a load keeps beyond what every check needs, and what it reads.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Keep every client's whole tree ([`crate::model::Client::node`]).
    pub client_nodes: bool,
    /// New texts for some of the export's files, read instead of theirs.
    pub overlay: Option<Arc<files::Overlay>>,
    /// Lower the script files read ahead with these limits while the rest of the export is
    /// built (a directory export's): the cores stay busy through the loader's steps that run on
    /// one (listing the other folders, registering files, sorting), and the scripts are lowered
    /// no later.
    pub lower_scripts: Option<crate::js::prescan::Limits>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            client_nodes: true,
            overlay: None,
            lower_scripts: None,
        }
    }
}

/// Reads one export, keeping everything. Never fails: what cannot be read is an input error.
pub fn load_export(
    export: &ExportRoot,
    keywords: &KeywordMap,
    sources: &mut SourceMap,
    cwd: &Path,
) -> LoadedExport {
    load_export_with(export, keywords, sources, cwd, LoadOptions::default())
}

/// A directory export: its files read ahead, then its resources built and its scripts
/// located, while (with `lower`) the script files read ahead are lowered on the other cores.
fn load_directory(
    files: &mut Files<'_>,
    builder: &mut Builder,
    lower: Option<crate::js::prescan::Limits>,
) -> crate::js::LoweredTexts {
    let read = directory::read_ahead(files, builder);
    let Some(limits) = lower else {
        directory::build(files, builder, &read);
        resolve_scripts(files, builder);
        return crate::js::LoweredTexts::default();
    };
    let texts = read
        .scripts
        .iter()
        .filter_map(|path| files.cache.read_ahead_text(path))
        .collect();
    let build = || {
        directory::build(files, builder, &read);
        resolve_scripts(files, builder);
    };
    rayon::join(build, || crate::js::LoweredTexts::lower(texts, limits)).1
}

/// Reads one export, keeping what `options` asks for.
pub fn load_export_with(
    export: &ExportRoot,
    keywords: &KeywordMap,
    sources: &mut SourceMap,
    cwd: &Path,
    options: LoadOptions,
) -> LoadedExport {
    let mut files = Files::new(&export.root, keywords, sources, cwd, options.overlay.clone());
    let mut builder = Builder::new(export.format);
    builder.keep_client_nodes = options.client_nodes;
    let lowered = match (export.format, &export.yaml_file) {
        (ExportFormat::Sources, _) => {
            sources::load(&mut files, &export.scripts, &mut builder);
            resolve_scripts(&mut files, &mut builder);
            crate::js::LoweredTexts::default()
        }
        (_, Some(yaml_file)) => {
            yaml::load(&mut files, yaml_file, &mut builder);
            resolve_scripts(&mut files, &mut builder);
            crate::js::LoweredTexts::default()
        }
        (_, None) => load_directory(&mut files, &mut builder, options.lower_scripts),
    };
    let Builder {
        mut tenant, errors, ..
    } = builder;
    tenant.sort();
    tenant.shrink_to_fit();
    tenant.build_index();
    LoadedExport {
        root: export.root.clone(),
        display_root: display_path(&export.root, cwd),
        display_file: export.named_yaml_file().map(|f| display_path(f, cwd)),
        format: export.format,
        tenant,
        errors,
        files: files.count,
        lowered,
    }
}

/// Why a path given on the command line was not linted, as input errors located at it (the
/// file's own syntax errors too, for a YAML file that is no a0deploy export).
pub fn refusal_errors(refused: &Refused, sources: &mut SourceMap, cwd: &Path) -> Vec<InputError> {
    let path = &refused.path;
    let display = display_path(path, cwd);
    let mut register = |text: Arc<str>| {
        sources.add(SourceFile::new(
            path.clone(),
            display.clone(),
            display.clone(),
            text,
        ))
    };
    let at = |file: SourceId, span: Span, message: String| InputError {
        loc: Loc {
            file,
            span,
            pointer: String::new(),
        },
        message,
    };
    match refused.reason {
        Refusal::Missing => {
            let file = register(Arc::from(""));
            vec![at(file, Span::empty(0), "no such file or folder".into())]
        }
        Refusal::FolderWithoutExport => {
            let file = register(Arc::from(""));
            let mut message = String::from(
                "no Auth0 export in this folder: looked for tenant.yaml, tenant.yml or tenant.json, YAML files with a0deploy's top-level keys (`tenant`, `clients`, `rules`...), resource folders such as rules/ and clients/ with resource files, and rule, action or hook scripts such as rules/*.js; nothing was linted",
            );
            let near: Vec<String> = files::children_of_root(path)
                .into_iter()
                .filter(|p| shape::is_yaml_path(p) && !shape::is_yaml_export_file(p))
                .filter(|p| {
                    shape::parse_named(p)
                        .and_then(|(_, parsed)| parsed.root)
                        .is_some_and(|root| shape::has_yaml_key(&root))
                })
                .map(|p| format!("`{}`", display_path(&p, cwd)))
                .collect();
            if !near.is_empty() {
                message.push_str(&format!(
                    "; {} {} some of a0deploy's top-level keys beside others a0deploy does not write, so {} not taken for an export when a folder is searched: name the file to lint it",
                    near.join(", "),
                    if near.len() == 1 { "has" } else { "have" },
                    if near.len() == 1 { "it is" } else { "they are" },
                ));
            }
            vec![at(file, Span::empty(0), message)]
        }
        Refusal::FileOutsideExport => {
            let file = register(Arc::from(""));
            vec![at(
                file,
                Span::empty(0),
                "this file is in no Auth0 export and is not a rule, action or hook script; it was not linted"
                    .into(),
            )]
        }
        Refusal::NotAnExport => {
            let folder = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let root = folder.canonicalize().unwrap_or_else(|_| folder.to_path_buf());
            let read = files::read(path, &KeywordMap::default(), &root);
            let file = register(read.text.clone());
            if let Some((offset, problem)) = read.problem {
                return vec![at(file, Span::empty(offset), problem)];
            }
            let parsed = crate::syntax::yaml::parse(&read.text);
            let mut errors: Vec<InputError> = parsed
                .errors
                .into_iter()
                .map(|e| at(file, e.span, e.message))
                .collect();
            let empty = "not an a0deploy export: the file holds nothing, so no `tenant`, `clients`, `rules` or other a0deploy key";
            let (span, message) = match &parsed.root {
                Some(root) if root.is_null() || root.as_object().is_some_and(<[_]>::is_empty) => {
                    (root.span, empty.to_string())
                }
                Some(root) => (
                    shape::top_level_span(root),
                    shape::not_an_export(root, false).unwrap_or_else(|| {
                        format!(
                            "not an a0deploy export: its top level is {}, not a mapping of a0deploy keys such as `tenant`, `clients` and `rules`",
                            root.type_name()
                        )
                    }),
                ),
                None => (Span::empty(0), empty.to_string()),
            };
            errors.push(at(file, span, message));
            errors
        }
    }
}

/// The files of one export: reading, registering and parsing them.
pub struct Files<'a> {
    pub root: PathBuf,
    root_canonical: PathBuf,
    /// Folders of located scripts, and whether each really lies inside the root.
    folders_inside: std::sync::Mutex<std::collections::HashMap<PathBuf, bool>>,
    cwd: &'a Path,
    keywords: &'a KeywordMap,
    pub cache: FileCache,
    sources: &'a mut SourceMap,
    count: usize,
}

impl<'a> Files<'a> {
    fn new(
        root: &Path,
        keywords: &'a KeywordMap,
        sources: &'a mut SourceMap,
        cwd: &'a Path,
        overlay: Option<Arc<files::Overlay>>,
    ) -> Self {
        let root_canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        Files {
            root: root.to_path_buf(),
            cache: FileCache::new(files::Root::with_overlay(root, overlay)),
            root_canonical,
            folders_inside: std::sync::Mutex::default(),
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

    /// Registers a file, reporting a read problem. Returns its id.
    pub fn open(&mut self, path: &Path, errors: &mut Vec<InputError>) -> SourceId {
        let text = self.cache.take(path, self.keywords);
        let file = self.source_file(path, text.text);
        self.register(file, text.problem, errors)
    }

    /// Adds a file read as `file`, reporting its read problem. Returns its id.
    fn register(
        &mut self,
        file: SourceFile,
        problem: Option<(usize, String)>,
        errors: &mut Vec<InputError>,
    ) -> SourceId {
        let id = self.sources.add(file);
        self.count += 1;
        if let Some((at, message)) = problem {
            errors.push(read_error(id, at, message));
        }
        id
    }

    /// Reads, parses and builds the resource files `paths` (all in one folder) on every core,
    /// dropping each file's tree once `build` has made its resource, then adds sources,
    /// resources and errors in `paths` order: what opening and building them one by one with
    /// [`Files::tree`] gives, at a fraction of the time and memory.
    pub fn build_each(
        &mut self,
        b: &mut Builder,
        paths: &[PathBuf],
        build: &(dyn Fn(&mut Builder, Source<'_>, &Path) + Sync),
    ) {
        use rayon::prelude::*;
        let first = self.sources.len();
        let parent_inside = paths
            .first()
            .and_then(|p| p.parent())
            .is_none_or(|folder| self.cache.folder_inside(folder));
        let this = &*self;
        let template = &*b;
        let reread = self.cache.reread(self.keywords);
        // Each task builds its run of files into one part: a part per file held a whole
        // tenant, and its first resource a list grown for four, so that a folder of 39,000
        // clients took 80 MB more at its peak than the clients themselves.
        let per_part =
            (paths.len() / (4 * rayon::current_num_threads()).max(1)).clamp(1, files::FILES_PER_TASK);
        let built: Vec<(Vec<SourceFile>, Builder)> = paths
            .par_chunks(per_part)
            .enumerate()
            .map(|(c, run)| {
                let mut part = template.part();
                let mut read_files = Vec::with_capacity(run.len());
                for (j, path) in run.iter().enumerate() {
                    let read = this.cache.read(path, this.keywords, parent_inside);
                    let k = c * per_part + j;
                    let id = SourceId(u32::try_from(first + k).unwrap_or(u32::MAX));
                    let text = read.text.clone();
                    let read_well = read.problem.is_none();
                    let errors = part.errors.len();
                    if let Some(node) = tree_of(id, read, &mut part.errors) {
                        build(&mut part, Source::new(id, &node, ""), path);
                    }
                    let mut file = this.source_file(path, text);
                    // Built, the file is needed again only where a finding shows or edits it.
                    if read_well && part.errors.len() == errors {
                        file.release(Arc::clone(&reread));
                    }
                    read_files.push(file);
                }
                (read_files, part)
            })
            .collect();
        self.sources.reserve(paths.len());
        b.reserve_for(built.iter().map(|(_, part)| part));
        for (read_files, part) in built {
            for file in read_files {
                self.sources.add(file);
                self.count += 1;
            }
            b.absorb(part);
        }
    }

    fn source_file(&self, path: &Path, text: Arc<str>) -> SourceFile {
        let export_relative = display_path(path, &self.root);
        SourceFile::new(
            path.to_path_buf(),
            display_path(path, self.cwd),
            export_relative,
            text,
        )
    }

    /// Reports a problem with a folder (not a file) at `path`.
    pub fn folder_problem(&mut self, path: &Path, message: String, errors: &mut Vec<InputError>) {
        let export_relative = display_path(path, &self.root);
        let file = SourceFile::new(
            path.to_path_buf(),
            display_path(path, self.cwd),
            export_relative,
            Arc::from(""),
        );
        let id = self.sources.add(file);
        errors.push(InputError {
            loc: Loc {
                file: id,
                span: Span::new(0, 0),
                pointer: String::new(),
            },
            message,
        });
    }

    /// Reads and parses a JSON or YAML file; `None` (with errors reported) when it has no tree.
    pub fn tree(&mut self, path: &Path, errors: &mut Vec<InputError>) -> Option<(SourceId, Node)> {
        let text = self.cache.take(path, self.keywords);
        let id = self.sources.add(self.source_file(path, text.text.clone()));
        self.count += 1;
        tree_of(id, text, errors).map(|root| (id, root))
    }

    pub fn text(&self, id: SourceId) -> Arc<str> {
        self.sources.get(id).shared_text()
    }

    /// `None` when `path` is no file (as `is_file`); else whether it really lies inside the
    /// root (as [`really_inside`]). A file already read ahead answers without the disk; a
    /// regular file that is no link lies where its folder does, so it costs one `lstat`, and
    /// each folder is resolved once; a link is resolved in full.
    fn file_inside(&self, path: &Path) -> Option<bool> {
        if self.cache.read_cleanly(path) {
            return Some(true);
        }
        let folder = path.parent().filter(|f| !f.as_os_str().is_empty());
        match (std::fs::symlink_metadata(path), folder) {
            (Ok(meta), Some(folder)) if !meta.is_symlink() => {
                if !meta.is_file() {
                    return None;
                }
                let known = self
                    .folders_inside
                    .lock()
                    .ok()
                    .and_then(|m| m.get(folder).copied());
                Some(known.unwrap_or_else(|| {
                    let inside = really_inside(&self.root_canonical, folder);
                    if let Ok(mut folders) = self.folders_inside.lock() {
                        folders.insert(folder.to_path_buf(), inside);
                    }
                    inside
                }))
            }
            (Err(_), _) => None,
            _ => path.is_file().then(|| really_inside(&self.root_canonical, path)),
        }
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
            if let Some(inside) = self.file_inside(candidate) {
                if !inside {
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

fn read_error(file: SourceId, at: usize, message: String) -> InputError {
    InputError {
        loc: Loc {
            file,
            span: Span::new(at, at),
            pointer: String::new(),
        },
        message,
    }
}

/// The tree of file `id` as read (its JSON parse, else a YAML parse of its text), with the read
/// problem or the syntax errors reported; `None` when it has no tree.
fn tree_of(id: SourceId, read: files::FileText, errors: &mut Vec<InputError>) -> Option<Node> {
    if let Some((at, message)) = read.problem {
        errors.push(read_error(id, at, message));
        return None;
    }
    let parsed = match read.json {
        Some(parsed) => parsed,
        None => crate::syntax::yaml::parse(&read.text),
    };
    errors.extend(parsed.errors.into_iter().map(|error| InputError {
        loc: Loc {
            file: id,
            span: error.span,
            pointer: String::new(),
        },
        message: error.message,
    }));
    parsed.root
}

/// Reads every script the builder found references to, in parallel, and fills them in.
fn resolve_scripts(files: &mut Files<'_>, builder: &mut Builder) {
    let pending = std::mem::take(&mut builder.pending);
    // Locating a script asks the file system (is it a file, where do its links lead): on
    // every core, in order.
    let located: Vec<Result<PathBuf, String>> = {
        use rayon::prelude::*;
        let files = &*files;
        pending.par_iter().map(|p| files.locate(p)).collect()
    };
    files.prefetch(located.iter().filter_map(|l| l.as_ref().ok().cloned()).collect());
    // Texts are taken in order (a script named twice is read again for its second use), and
    // each file's record is made on every core.
    let taken: Vec<Result<(PathBuf, files::FileText), String>> = located
        .into_iter()
        .map(|l| {
            l.map(|path| {
                let text = files.cache.take(&path, files.keywords);
                (path, text)
            })
        })
        .collect();
    // A script's file record and its read problem, or why it was not read.
    type Record = Result<(SourceFile, Option<(usize, String)>), String>;
    let records: Vec<Record> = {
        use rayon::prelude::*;
        let files = &*files;
        taken
            .into_par_iter()
            .map(|taken| taken.map(|(path, text)| (files.source_file(&path, text.text), text.problem)))
            .collect()
    };
    files.sources.reserve(records.len());
    for (pending, record) in pending.into_iter().zip(records) {
        match record {
            Ok((file, problem)) => {
                let id = files.register(file, problem, &mut builder.errors);
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
