//! Reading export files: bytes to text, in parallel, confined to the export root.
//!
//! Files are read (and JSON files parsed) on rayon's pool before the model is built, then handed
//! out in the loader's own order, so the output never depends on scheduling. A path is read only
//! after it is known to stay inside the export root, lexically and after resolving symlinks.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::syntax::keywords::KeywordMap;
use crate::syntax::{Parsed, json};

/// A file's text, and what went wrong reading it.
#[derive(Debug)]
pub struct FileText {
    /// The text (lossily decoded when not UTF-8; empty when unreadable), markers replaced when
    /// `--keywords` gave values.
    pub text: Arc<str>,
    /// Byte offset and description of a read problem.
    pub problem: Option<(usize, String)>,
    /// The parsed tree, for JSON files.
    pub json: Option<Parsed>,
}

/// Largest file read; anything bigger is reported instead.
pub const MAX_FILE_BYTES: u64 = 32 << 20;

/// Reads one file as text, unless a symbolic link takes it outside `root_canonical`.
pub fn read(path: &Path, keywords: &KeywordMap, root_canonical: &Path) -> FileText {
    if !really_inside(root_canonical, path) {
        // NOTE: the target is not named: nothing about what lies outside the export is reported.
        return FileText {
            text: Arc::from(""),
            problem: Some((
                0,
                "this file is a symbolic link to outside the export root; it was not read".into(),
            )),
            json: None,
        };
    }
    let unreadable = |problem: String| FileText {
        text: Arc::from(""),
        problem: Some((0, problem)),
        json: None,
    };
    match std::fs::metadata(path) {
        // A FIFO or device would block or never end; only regular files are read.
        Ok(meta) if !meta.is_file() && !meta.is_dir() => {
            return unreadable(
                "expected a regular file, found a special file (FIFO, socket or device)".into(),
            );
        }
        Ok(meta) if meta.len() > MAX_FILE_BYTES => {
            return unreadable(format!(
                "file is {} MiB; an export file is never over {} MiB, so it was not read",
                meta.len() >> 20,
                MAX_FILE_BYTES >> 20
            ));
        }
        _ => {}
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            return FileText {
                text: Arc::from(""),
                problem: Some((0, format!("cannot read file: {}", io_reason(&error)))),
                json: None,
            };
        }
    };
    let (text, problem) = match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let byte = error.as_bytes()[at];
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            let message = format!("expected UTF-8 text, found the byte 0x{byte:02X}; save the file as UTF-8");
            (text, Some((at, message)))
        }
    };
    let text = keywords.apply(&text).unwrap_or(text);
    let is_json = path.extension().is_some_and(|e| e == "json");
    let json = (is_json && problem.is_none()).then(|| json::parse(&text));
    FileText {
        text: Arc::from(text),
        problem,
        json,
    }
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "file not found".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a folder, not a file".into(),
        _ => error.to_string(),
    }
}

/// Files read ahead of use, confined to one export root.
#[derive(Default)]
pub struct FileCache {
    files: HashMap<PathBuf, FileText>,
    /// The export root, symlinks resolved; files that resolve outside it are not read.
    root_canonical: PathBuf,
}

impl FileCache {
    pub fn new(root_canonical: PathBuf) -> FileCache {
        FileCache {
            files: HashMap::new(),
            root_canonical,
        }
    }

    /// Reads `paths` in parallel.
    pub fn prefetch(&mut self, paths: Vec<PathBuf>, keywords: &KeywordMap) {
        let root = &self.root_canonical;
        let read: Vec<(PathBuf, FileText)> = paths
            .into_par_iter()
            .filter(|p| p.is_file())
            .map(|p| {
                let text = read(&p, keywords, root);
                (p, text)
            })
            .collect();
        self.files.extend(read);
    }

    /// The file's text: from the cache, or read now.
    pub fn take(&mut self, path: &Path, keywords: &KeywordMap) -> FileText {
        match self.files.remove(path) {
            Some(text) => text,
            None => read(path, keywords, &self.root_canonical),
        }
    }
}

/// Joins `reference` onto `base` without touching the disk, folding `.` and `..`.
/// `None` when the result leaves `root`.
pub fn join_inside(root: &Path, base: &Path, reference: &str) -> Option<PathBuf> {
    let reference = reference.replace('\\', "/");
    let reference = Path::new(&reference);
    let mut joined = if reference.is_absolute() {
        PathBuf::new()
    } else {
        base.to_path_buf()
    };
    for component in reference.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !joined.pop() {
                    return None;
                }
            }
            Component::Normal(part) => joined.push(part),
            Component::RootDir | Component::Prefix(_) => joined = PathBuf::from(component.as_os_str()),
        }
    }
    let root_clean = lexical(root);
    let joined = lexical(&joined);
    joined.starts_with(&root_clean).then_some(joined)
}

fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether an existing `path` still lies inside `root` once symlinks are resolved.
pub fn really_inside(root_canonical: &Path, path: &Path) -> bool {
    match path.canonicalize() {
        Ok(real) => real.starts_with(root_canonical),
        // A path that does not resolve is reported as missing by the reader.
        Err(_) => true,
    }
}

/// Direct children of `dir` (files and folders), sorted by name. Missing folders are empty.
pub fn children(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
}

/// Direct children of `dir` with the extension `ext`.
pub fn children_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    children(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext) && !is_dir(p))
        .collect()
}

/// Direct children of `dir` named `*.ext`, folders included: a folder named like a resource file
/// (`clients/X.json/`) is reported as unreadable rather than skipped without a word.
pub fn entries_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    children(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect()
}

pub fn is_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// a0deploy's `sanitize()`: how resource names become file names.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | '?' | '<' | '>' | ':' | '*' | '|' | '"') || c.is_control() {
                '-'
            } else {
                c
            }
        })
        .collect();
    let trimmed = out.trim_end_matches(['.', ' ']).len();
    if trimmed < out.len() {
        out.truncate(trimmed);
        out.push('-');
    }
    if out.is_empty() { "undefined".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_stay_inside_the_root() {
        let root = Path::new("/x/export");
        assert_eq!(
            join_inside(root, &root.join("rules"), "./a.js"),
            Some(PathBuf::from("/x/export/rules/a.js"))
        );
        assert_eq!(join_inside(root, &root.join("rules"), "../../secret"), None);
        assert_eq!(join_inside(root, root, "/etc/passwd"), None);
        assert_eq!(
            join_inside(root, root, "rules\\a.js"),
            Some(PathBuf::from("/x/export/rules/a.js"))
        );
    }

    #[test]
    fn sanitizes_like_a0deploy() {
        assert_eq!(sanitize("My SPA"), "My SPA");
        assert_eq!(sanitize("a/b:c"), "a-b-c");
        assert_eq!(sanitize(""), "undefined");
    }
}
