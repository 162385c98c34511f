//! Reading export files: bytes to text, in parallel, confined to the export root.
//!
//! Files are read (and JSON files parsed) on rayon's pool, either ahead of use ([`FileCache`])
//! or, for resource folders, while each file's resource is built (`Files::build_each`); either
//! way they are registered in the loader's own order, so the output never depends on scheduling. A path is read only
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

/// The most files one parallel read task takes: a file is read in some microseconds, and a
/// large last part (rayon splits a list only until each thread has one) would leave the other
/// cores waiting.
pub(crate) const FILES_PER_TASK: usize = 64;

/// Largest file read; anything bigger is reported instead.
pub const MAX_FILE_BYTES: u64 = 32 << 20;

/// Reads one file as text, unless a symbolic link takes it (or a folder on its way) outside
/// `root_canonical`.
pub fn read(path: &Path, keywords: &KeywordMap, root_canonical: &Path) -> FileText {
    let parent_inside = path
        .parent()
        .is_none_or(|parent| parent.as_os_str().is_empty() || really_inside(root_canonical, parent));
    read_confined(path, keywords, parent_inside, root_canonical).unwrap_or_else(|| read_problem(path))
}

/// Why a path [`read_confined`] skipped cannot be read: it is missing or a folder.
fn read_problem(path: &Path) -> FileText {
    let problem = match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => "cannot read file: it is a folder, not a file".to_string(),
        Ok(_) => "cannot read file".to_string(),
        Err(error) => format!("cannot read file: {}", io_reason(&error)),
    };
    FileText {
        text: Arc::from(""),
        problem: Some((0, problem)),
        json: None,
    }
}

fn outside() -> FileText {
    // NOTE: the target is not named: nothing about what lies outside the export is reported.
    FileText {
        text: Arc::from(""),
        problem: Some((
            0,
            "this file is a symbolic link to outside the export root; it was not read".into(),
        )),
        json: None,
    }
}

/// Opens `path` for reading without following a symbolic link at its last component, and
/// without blocking on a FIFO (it is refused after the open, by its type).
fn open_nofollow(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Why a named file (see [`read_named`]) could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedReadError {
    pub message: String,
    /// The path leads outside the folder it had to stay in.
    pub outside: bool,
    /// For a file that is not UTF-8: its text decoded lossily and the offset of the first bad
    /// byte, so the problem can be shown in place.
    pub text: Option<(String, usize)>,
}

/// Reads a file the user or a config names (a config and what it `extends`, policy files, a
/// platform file, `--keywords`): one open that neither blocks on a FIFO nor reads a device,
/// regular files only, at most [`MAX_FILE_BYTES`], and UTF-8.
pub fn read_named(path: &Path) -> Result<String, NamedReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| named_error(io_reason(&e)))?;
    read_named_file(file)
}

fn named_error(message: String) -> NamedReadError {
    NamedReadError {
        message,
        outside: false,
        text: None,
    }
}

/// As [`read_named`], for a file that must stay inside `folder` (what a config `extends`, a
/// policy in a policy folder): opened beneath the folder's handle like export files (see
/// [`Root`]), so a link out of it is refused by the open itself.
pub fn read_named_beneath(folder: &Path, path: &Path) -> Result<String, NamedReadError> {
    let root = Root::new(folder);
    let outside = || NamedReadError {
        message: "outside the folder it must stay in".into(),
        outside: true,
        text: None,
    };
    match root.open(path) {
        Beneath::File(file) => read_named_file(file),
        Beneath::Outside => Err(outside()),
        Beneath::Missing => Err(named_error("file not found".into())),
        Beneath::Failed(error) => Err(named_error(io_reason(&error))),
        Beneath::Unsupported => {
            let inside = path
                .canonicalize()
                .is_ok_and(|real| real.starts_with(root.canonical()));
            if !inside && path.exists() {
                return Err(outside());
            }
            read_named(path)
        }
    }
}

fn read_named_file(mut file: std::fs::File) -> Result<String, NamedReadError> {
    let fail = named_error;
    let meta = file.metadata().map_err(|e| fail(io_reason(&e)))?;
    if meta.is_dir() {
        return Err(fail("it is a folder, not a file".into()));
    }
    if !meta.is_file() {
        return Err(fail(
            "expected a regular file, found a special file (FIFO, socket or device)".into(),
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(format!(
            "file is {} MiB, over the {} MiB limit",
            meta.len() >> 20,
            MAX_FILE_BYTES >> 20
        )));
    }
    let bytes = read_sized(&mut file, meta.len()).map_err(|e| fail(io_reason(&e)))?;
    String::from_utf8(bytes).map_err(|error| {
        let at = error.utf8_error().valid_up_to();
        let byte = error.as_bytes()[at];
        NamedReadError {
            message: format!("expected UTF-8 text, found the byte 0x{byte:02X}; save the file as UTF-8"),
            outside: false,
            text: Some((String::from_utf8_lossy(error.as_bytes()).into_owned(), at)),
        }
    })
}

/// Reads one file whose folder is known to be (`parent_inside`) or not to be inside the root:
/// one open, one `fstat`, one read for the whole file. `None` when the path is missing or a
/// folder, which the caller reports when it needs the file.
pub fn read_confined(
    path: &Path,
    keywords: &KeywordMap,
    parent_inside: bool,
    root_canonical: &Path,
) -> Option<FileText> {
    if !parent_inside {
        return Some(outside());
    }
    let unreadable = |problem: String| FileText {
        text: Arc::from(""),
        problem: Some((0, problem)),
        json: None,
    };
    let file = match open_nofollow(path) {
        Ok(file) => file,
        // A symbolic link (`ELOOP` under `O_NOFOLLOW`): read it only if it resolves inside.
        #[cfg(unix)]
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {
            if !really_inside(root_canonical, path) {
                return Some(outside());
            }
            // Followed now, still without blocking on a FIFO it may lead to.
            let mut follow = std::fs::OpenOptions::new();
            follow.read(true);
            {
                use std::os::unix::fs::OpenOptionsExt;
                follow.custom_flags(libc::O_NONBLOCK);
            }
            match follow.open(path) {
                Ok(file) => file,
                Err(error) => {
                    return Some(unreadable(format!("cannot read file: {}", io_reason(&error))));
                }
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => return Some(unreadable(format!("cannot read file: {}", io_reason(&error)))),
    };
    read_open(path, file, keywords)
}

/// Reads an opened export file: one `fstat`, one read for the whole file. `None` for a folder.
fn read_open(path: &Path, mut file: std::fs::File, keywords: &KeywordMap) -> Option<FileText> {
    let unreadable = |problem: String| FileText {
        text: Arc::from(""),
        problem: Some((0, problem)),
        json: None,
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(error) => return Some(unreadable(format!("cannot read file: {}", io_reason(&error)))),
    };
    if meta.is_dir() {
        return None;
    }
    // A FIFO or device would block or never end; only regular files are read.
    if !meta.is_file() {
        return Some(unreadable(
            "expected a regular file, found a special file (FIFO, socket or device)".into(),
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Some(unreadable(format!(
            "file is {} MiB; an export file is never over {} MiB, so it was not read",
            meta.len() >> 20,
            MAX_FILE_BYTES >> 20
        )));
    }
    let bytes = match read_sized(&mut file, meta.len()) {
        Ok(bytes) => bytes,
        Err(error) => {
            return Some(unreadable(format!("cannot read file: {}", io_reason(&error))));
        }
    };
    Some(decode(path, bytes, keywords))
}

/// Reads a file of `len` bytes (as `fstat` gave it) in as few reads as it takes, without the
/// extra read that finds the end (what is appended after the `fstat` is not read); a file that
/// says it is empty is read to its end, never past the size limit.
fn read_sized(file: &mut std::fs::File, len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    // Read into the vector's spare room, which is not zeroed first; past `len` bytes the
    // `take` ends the read without asking the file again.
    let mut bytes = Vec::with_capacity(len as usize);
    (&mut *file).take(len).read_to_end(&mut bytes)?;
    if len == 0 {
        file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

fn decode(path: &Path, bytes: Vec<u8>, keywords: &KeywordMap) -> FileText {
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
    let limit = usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX);
    let (text, problem) = match keywords.apply(&text, limit) {
        Ok(expanded) => (expanded.unwrap_or(text), problem),
        Err(at) => {
            let message = format!(
                "keyword values from --keywords make this file longer than {} MiB; it was not read further",
                MAX_FILE_BYTES >> 20
            );
            (text, problem.or(Some((at, message))))
        }
    };
    let is_json = crate::plain_path::has_extension(path, "json");
    let json = (is_json && problem.is_none()).then(|| json::parse(&text));
    FileText {
        text: Arc::from(text),
        problem,
        json,
    }
}

pub fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "file not found".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a folder, not a file".into(),
        _ => error.to_string(),
    }
}

/// An export root held open as a folder handle. On Linux 5.6 and later every export file is
/// opened relative to it with `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`: the kernel
/// refuses any path that a symbolic link (in the file's name or in a folder on its way) or a
/// `..` takes out of the root, so checking and opening are one step and a file swapped for a
/// link between the two cannot lead outside. Elsewhere, paths are resolved and checked first.
pub struct Root {
    lexical: PathBuf,
    canonical: PathBuf,
    #[cfg(target_os = "linux")]
    dir: Option<std::fs::File>,
    /// Texts that stand in for files of the export (see [`Overlay`]).
    overlay: Option<Arc<Overlay>>,
}

/// New texts for some files of an export, by the path the loader reads them at: what `claimlint
/// fix` evaluates before it writes anything. A file is still opened and checked as always; only
/// its text is replaced.
pub type Overlay = HashMap<PathBuf, String>;

/// What opening a file beneath the root gave.
enum Beneath {
    File(std::fs::File),
    /// A symbolic link or `..` leads outside the root.
    Outside,
    Missing,
    Failed(std::io::Error),
    /// `openat2` is not available (old kernel, seccomp) or the path is not below the root.
    Unsupported,
}

impl Root {
    pub fn new(root: &Path) -> Root {
        let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        Root {
            lexical: lexical(root),
            canonical,
            #[cfg(target_os = "linux")]
            dir: open_root(root),
            overlay: None,
        }
    }

    /// The root, with `overlay` standing in for the files it names.
    pub fn with_overlay(root: &Path, overlay: Option<Arc<Overlay>>) -> Root {
        Root {
            overlay,
            ..Root::new(root)
        }
    }

    pub fn canonical(&self) -> &Path {
        &self.canonical
    }

    /// Whether files are opened with the kernel's confinement (else [`really_inside`] checks).
    pub fn confined_by_kernel(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            self.dir.is_some()
        }
        #[cfg(not(target_os = "linux"))]
        {
            false
        }
    }

    #[cfg(target_os = "linux")]
    fn open(&self, path: &Path) -> Beneath {
        use std::os::fd::{AsRawFd, FromRawFd};
        use std::os::unix::ffi::OsStrExt;
        let Some(dir) = &self.dir else {
            return Beneath::Unsupported;
        };
        let Ok(relative) = lexical(path).strip_prefix(&self.lexical).map(Path::to_path_buf) else {
            return Beneath::Unsupported;
        };
        let relative = if relative.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            relative
        };
        let Ok(name) = std::ffi::CString::new(relative.as_os_str().as_bytes()) else {
            return Beneath::Missing;
        };
        let fd = openat2(
            dir.as_raw_fd(),
            &name,
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
        );
        if fd >= 0 {
            // SAFETY: `fd` was just returned by the kernel and is owned by nothing else.
            return Beneath::File(unsafe { std::fs::File::from_raw_fd(fd) });
        }
        let error = std::io::Error::last_os_error();
        match error.raw_os_error() {
            Some(libc::EXDEV) => Beneath::Outside,
            Some(libc::ENOENT | libc::ENOTDIR) => Beneath::Missing,
            Some(libc::ENOSYS | libc::EPERM | libc::EINVAL | libc::E2BIG) => Beneath::Unsupported,
            _ => Beneath::Failed(error),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn open(&self, _path: &Path) -> Beneath {
        Beneath::Unsupported
    }
}

#[cfg(target_os = "linux")]
fn openat2(dir: std::os::fd::RawFd, name: &std::ffi::CStr, flags: libc::c_int) -> libc::c_int {
    // SAFETY: an all-zero `open_how` is valid; the fields set are plain integers.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: `name` is NUL-terminated and `how` lives across the call, its size passed.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            name.as_ptr(),
            &raw const how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    libc::c_int::try_from(fd).unwrap_or(-1)
}

/// The root folder as an `O_PATH` handle, if `openat2` works here (it is tried once on `.`).
#[cfg(target_os = "linux")]
fn open_root(root: &Path) -> Option<std::fs::File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(root)
        .ok()?;
    let fd = openat2(dir.as_raw_fd(), c".", libc::O_PATH | libc::O_CLOEXEC);
    if fd < 0 {
        return None;
    }
    // SAFETY: `fd` was just opened and is closed once here.
    unsafe { libc::close(fd) };
    Some(dir)
}

/// Files read ahead of use, confined to one export root.
pub struct FileCache {
    /// By the path's bytes: hashing a `Path` walks its components, and every path here is
    /// made the same way for the same file (a miss only reads the file again).
    files: foldhash::HashMap<std::ffi::OsString, FileText>,
    root: Root,
}

/// Reads export files again as they were first read (the root's confinement, its overlay and
/// the `--keywords` values): what a [`crate::source::SourceFile`] whose text was let go is
/// shown or edited from. It holds no open handle: the root is opened again for each read, so
/// a run over many exports keeps no folder open per export.
struct ExportReread {
    root: PathBuf,
    overlay: Option<Arc<Overlay>>,
    keywords: KeywordMap,
}

impl std::fmt::Debug for ExportReread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportReread")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl crate::source::Reread for ExportReread {
    fn reread(&self, path: &Path) -> Option<Arc<str>> {
        let root = Root::with_overlay(&self.root, self.overlay.clone());
        let parent_inside = root.confined_by_kernel()
            || path
                .parent()
                .is_none_or(|f| f.as_os_str().is_empty() || really_inside(root.canonical(), f));
        let read = read_beneath(&root, path, &self.keywords, parent_inside)?;
        read.problem.is_none().then_some(read.text)
    }
}

impl FileCache {
    pub fn new(root: Root) -> FileCache {
        FileCache {
            files: HashMap::default(),
            root,
        }
    }

    /// What reads this export's files again, with `keywords` as they were read with.
    pub fn reread(&self, keywords: &KeywordMap) -> Arc<dyn crate::source::Reread> {
        Arc::new(ExportReread {
            root: self.root.lexical.clone(),
            overlay: self.root.overlay.clone(),
            keywords: keywords.clone(),
        })
    }

    /// Reads `paths` in parallel, but for those read ahead already and not yet taken. Without
    /// the kernel's confinement, each folder's place inside the root is checked once first.
    pub fn prefetch(&mut self, mut paths: Vec<PathBuf>, keywords: &KeywordMap) {
        paths.retain(|p| !self.files.contains_key(p.as_os_str()));
        let root = &self.root;
        // By the folder's bytes, as `files` (every path of one folder is made the same way).
        let mut inside: foldhash::HashMap<&std::ffi::OsStr, bool> = HashMap::default();
        if !root.confined_by_kernel() {
            for folder in paths.iter().filter_map(|p| p.parent()) {
                inside.entry(folder.as_os_str()).or_insert_with(|| {
                    folder.as_os_str().is_empty() || really_inside(root.canonical(), folder)
                });
            }
        }
        let read: Vec<(PathBuf, FileText)> = paths
            .par_iter()
            .with_max_len(FILES_PER_TASK)
            .filter_map(|p| {
                let parent_inside = root.confined_by_kernel()
                    || p.parent()
                        .is_none_or(|f| inside.get(f.as_os_str()).copied().unwrap_or(false));
                read_beneath(root, p, keywords, parent_inside).map(|text| (p.clone(), text))
            })
            .collect();
        self.files
            .extend(read.into_iter().map(|(path, text)| (path.into_os_string(), text)));
    }

    /// Whether `path` was read ahead as a file inside the root (a regular file, or a link that
    /// resolves inside) without a problem: what a look at the disk would find, known without one.
    pub fn read_cleanly(&self, path: &Path) -> bool {
        self.files
            .get(path.as_os_str())
            .is_some_and(|text| text.problem.is_none())
    }

    /// The text of a file read ahead (shared: the same text its source file will hold).
    pub fn read_ahead_text(&self, path: &Path) -> Option<Arc<str>> {
        self.files.get(path.as_os_str()).map(|text| text.text.clone())
    }

    /// The file's text: from the cache, or read now.
    pub fn take(&mut self, path: &Path, keywords: &KeywordMap) -> FileText {
        match self.files.remove(path.as_os_str()) {
            Some(text) => text,
            None => {
                let parent_inside = path.parent().is_none_or(|parent| self.folder_inside(parent));
                self.read(path, keywords, parent_inside)
            }
        }
    }

    /// Whether files directly in `folder` may be read: always when the kernel confines
    /// opening; else when the folder resolves to a place inside the root.
    pub fn folder_inside(&self, folder: &Path) -> bool {
        self.root.confined_by_kernel()
            || folder.as_os_str().is_empty()
            || really_inside(self.root.canonical(), folder)
    }

    /// The file's text, read now (from any thread) without the cache; `parent_inside` is
    /// [`FileCache::folder_inside`] of its folder.
    pub fn read(&self, path: &Path, keywords: &KeywordMap, parent_inside: bool) -> FileText {
        read_beneath(&self.root, path, keywords, parent_inside).unwrap_or_else(|| read_problem(path))
    }
}

/// Reads one export file through the root's handle; without it (or for a path not below the
/// root), as [`read_confined`] does.
fn read_beneath(root: &Root, path: &Path, keywords: &KeywordMap, parent_inside: bool) -> Option<FileText> {
    let read = read_file_beneath(root, path, keywords, parent_inside);
    match (read, root.overlay.as_ref().and_then(|o| o.get(path))) {
        (Some(read), Some(text)) if read.problem.is_none() => {
            Some(decode(path, text.clone().into_bytes(), keywords))
        }
        (read, _) => read,
    }
}

fn read_file_beneath(
    root: &Root,
    path: &Path,
    keywords: &KeywordMap,
    parent_inside: bool,
) -> Option<FileText> {
    match root.open(path) {
        Beneath::File(file) => read_open(path, file, keywords),
        Beneath::Outside => Some(outside()),
        Beneath::Missing => None,
        Beneath::Failed(error) => Some(FileText {
            text: Arc::from(""),
            problem: Some((0, format!("cannot read file: {}", io_reason(&error)))),
            json: None,
        }),
        Beneath::Unsupported => read_confined(path, keywords, parent_inside, root.canonical()),
    }
}

/// Joins `reference` onto `base` without touching the disk, folding `.` and `..`.
/// `None` when the result leaves `root`.
pub fn join_inside(root: &Path, base: &Path, reference: &str) -> Option<PathBuf> {
    // The common reference, `./name.js` next to its `.json`, below a plain folder: the join is
    // already in lexical form, and it is inside the root when its folder is.
    let name = reference.strip_prefix("./").unwrap_or(reference);
    if !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && crate::plain_path::is_plain_path(base)
        && crate::plain_path::is_plain_path(root)
    {
        let joined = base.join(name);
        return crate::plain_path::below(&joined, root)
            .is_some()
            .then_some(joined);
    }
    join_inside_lexically(root, base, reference)
}

/// [`join_inside`] for any reference, component by component.
fn join_inside_lexically(root: &Path, base: &Path, reference: &str) -> Option<PathBuf> {
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

/// Whether `path` lies inside `folder`, symbolic links resolved (a path that does not exist is
/// judged by its words, so that the reader reports it missing).
pub fn inside(folder: &Path, path: &Path) -> bool {
    let folder = folder.canonicalize().unwrap_or_else(|_| lexical(folder));
    match path.canonicalize() {
        Ok(real) => real.starts_with(&folder),
        Err(_) => lexical(path).starts_with(&folder) || path.is_relative(),
    }
}

/// Whether an existing `path` still lies inside `root` once symlinks are resolved.
pub fn really_inside(root_canonical: &Path, path: &Path) -> bool {
    match path.canonicalize() {
        Ok(real) => real.starts_with(root_canonical),
        // A path that does not resolve is reported as missing by the reader.
        Err(_) => true,
    }
}

/// Direct children of `dir` (files and folders), sorted by name. Missing folders, and folders
/// that are symbolic links (never followed below an export root), are empty.
pub fn children(dir: &Path) -> Vec<PathBuf> {
    Listing::of(dir)
        .entries
        .into_iter()
        .map(|(path, _)| path)
        .collect()
}

/// Direct children of a folder the user named (an export root, which may be a link).
pub fn children_of_root(dir: &Path) -> Vec<PathBuf> {
    read_listing(dir).into_iter().map(|(path, _)| path).collect()
}

/// What a folder's listing says an entry is, without a `stat` (links not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Folder,
    /// A regular file.
    File,
    /// A symbolic link, a special file, or what the listing could not tell.
    Other,
}

/// The direct children of a folder, sorted by name, as one listing gave them: a folder the
/// loader looks at several times is listed once. A folder that is a symbolic link is not
/// listed (the loader reports it).
pub struct Listing {
    entries: Vec<(PathBuf, Entry)>,
}

impl Listing {
    pub fn of(dir: &Path) -> Listing {
        if std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_symlink()) {
            return Listing { entries: Vec::new() };
        }
        Listing {
            entries: read_listing(dir),
        }
    }

    /// The entries named `*.ext` that are no folders.
    pub fn files_with_ext(&self, ext: &str) -> Vec<PathBuf> {
        self.entries
            .iter()
            .filter(|(p, entry)| *entry != Entry::Folder && crate::plain_path::has_extension(p, ext))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// The entries named `*.ext`, folders included.
    pub fn entries_with_ext(&self, ext: &str) -> Vec<PathBuf> {
        self.entries
            .iter()
            .filter(|(p, _)| crate::plain_path::has_extension(p, ext))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// [`Path::is_file`] (links followed), asking the file system only for what the listing
    /// cannot tell: a link, or a path it does not hold.
    pub fn is_file(&self, path: &Path) -> bool {
        // By bytes: every entry is the folder's path and a name, so bytes sort as names do
        // (a path spelled otherwise is not found, and asked of the file system).
        let bytes = path.as_os_str().as_encoded_bytes();
        match self
            .entries
            .binary_search_by(|(p, _)| p.as_os_str().as_encoded_bytes().cmp(bytes))
        {
            Ok(at) if self.entries[at].1 == Entry::File => true,
            Ok(at) if self.entries[at].1 == Entry::Folder => false,
            _ => path.is_file(),
        }
    }
}

fn read_listing(dir: &Path) -> Vec<(PathBuf, Entry)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<(std::ffi::OsString, Entry)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let entry = match e.file_type() {
                Ok(t) if t.is_dir() => Entry::Folder,
                Ok(t) if t.is_file() => Entry::File,
                _ => Entry::Other,
            };
            Some((e.file_name(), entry))
        })
        .collect();
    // By name, as the paths would sort (they share the folder), without comparing paths
    // component by component.
    names.sort_unstable_by(|(a, _), (b, _)| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    names
        .into_iter()
        .map(|(name, entry)| (dir.join(name), entry))
        .collect()
}

/// Direct children of `dir` with the extension `ext`.
pub fn children_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    Listing::of(dir).files_with_ext(ext)
}

/// Direct children of `dir` named `*.ext`, folders included: a folder named like a resource file
/// (`clients/X.json/`) is reported as unreadable rather than skipped without a word.
pub fn entries_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    Listing::of(dir).entries_with_ext(ext)
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

    proptest::proptest! {
        /// The shortcut for plain names gives what joining component by component gives.
        #[test]
        fn plain_references_join_as_any_reference_does(
            root in path_text(), below in path_text(), name in name_text(), dotted in proptest::bool::ANY,
        ) {
            let base = PathBuf::from(format!("{root}/{below}"));
            let reference = if dotted { format!("./{name}") } else { name };
            let root = Path::new(&root);
            proptest::prop_assert_eq!(
                join_inside(root, &base, &reference),
                join_inside_lexically(root, &base, &reference)
            );
            proptest::prop_assert_eq!(
                join_inside(root, root, &reference),
                join_inside_lexically(root, root, &reference)
            );
        }
    }

    fn name_text() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::prop_oneof![
            proptest::strategy::Just("a.js".to_string()),
            proptest::strategy::Just(".".to_string()),
            proptest::strategy::Just("..".to_string()),
            proptest::strategy::Just(String::new()),
            proptest::strategy::Just("x\\y.js".to_string()),
            proptest::strategy::Just("d/e.js".to_string()),
            proptest::strategy::Just("/abs.js".to_string()),
        ]
    }

    fn path_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::{Just, Strategy};
        let name = proptest::prop_oneof![Just("x"), Just("."), Just(".."), Just(""), Just("r.d")];
        (proptest::bool::ANY, proptest::collection::vec(name, 0..4))
            .prop_map(|(absolute, names)| format!("{}{}", if absolute { "/" } else { "" }, names.join("/")))
    }

    #[test]
    fn sanitizes_like_a0deploy() {
        assert_eq!(sanitize("My SPA"), "My SPA");
        assert_eq!(sanitize("a/b:c"), "a-b-c");
        assert_eq!(sanitize(""), "undefined");
    }
}
