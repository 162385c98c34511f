//! Source files and positions.
//!
//! Every file claimlint reads is registered once in a [`SourceMap`] and referred to by its
//! [`SourceId`]. Positions are byte [`Span`]s into the file's text; line and column are computed
//! on demand, in Unicode scalar values for people and in UTF-16 code units for SARIF.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in the [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(pub u32);

/// A half-open byte range `start..end` in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        let start = u32::try_from(start).unwrap_or(u32::MAX);
        let end = u32::try_from(end).unwrap_or(u32::MAX).max(start);
        Span { start, end }
    }

    pub fn empty(at: usize) -> Span {
        Span::new(at, at)
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// Reads again the text of a file whose text was let go after it was parsed (see
/// [`SourceFile::release`]): the same way, with the same confinement, as it was first read.
pub trait Reread: Send + Sync + std::fmt::Debug {
    /// The file's text now, or `None` when it cannot be read.
    fn reread(&self, path: &Path) -> Option<Arc<str>>;
}

/// A file's place in the export and in the output.
#[derive(Debug)]
pub struct SourceFile {
    /// Where the file is on disk (as given on the command line, joined with the export layout).
    pub path: PathBuf,
    /// The path shown to users: relative to the current directory where possible, forward slashes.
    pub display: String,
    /// The path relative to the export root, forward slashes (stable across checkouts).
    pub export_relative: String,
    /// The text as parsed (empty when the file could not be read); read again on first use
    /// after [`SourceFile::release`].
    text: std::sync::OnceLock<Arc<str>>,
    /// Where each line starts, found on first use: most files of a large export are never
    /// shown.
    line_starts: std::sync::OnceLock<Vec<u32>>,
    released: Option<Released>,
}

/// What is kept of a released text: where to read it again, and how to know it is the same.
#[derive(Debug)]
struct Released {
    from: Arc<dyn Reread>,
    len: usize,
    hash: u64,
}

/// A resolved position: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

fn text_hash(text: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0x636c_6169_6d6c_696e).hash_one(text.as_bytes())
}

/// Where each line of `text` starts: 0, and the offset after each `\n`.
///
/// Every file of an export gets one, and they are kept for the whole run: the list is sized
/// by a first count (memchr's, a fraction of a cycle per byte), and the newlines are found
/// eight bytes at a time, since pretty-printed JSON has one every twenty bytes or so, too
/// close together for a search per line to pay off.
fn line_starts_of(text: &[u8]) -> Vec<u32> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const LOW_SEVEN: u64 = ONES * 0x7f;
    const NEWLINES: u64 = ONES * b'\n' as u64;
    let offset = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    // Written in place, not pushed: the count is known, and a push in the loop kept its
    // length and capacity out of registers.
    let mut starts = vec![0; memchr::memchr_iter(b'\n', text).count() + 1];
    let mut next = 1;
    let mut words = text.chunks_exact(8);
    for (w, word) in (&mut words).enumerate() {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or_default()) ^ NEWLINES;
        // A byte of `word` is now zero where it held a newline; the sum carries into a byte's
        // top bit exactly when the byte's lower seven bits are not all zero.
        let mut newlines = !(((word & LOW_SEVEN) + LOW_SEVEN) | word) & !LOW_SEVEN;
        while newlines != 0 {
            if let Some(start) = starts.get_mut(next) {
                *start = offset(w * 8 + newlines.trailing_zeros() as usize / 8 + 1);
            }
            next += 1;
            newlines &= newlines - 1;
        }
    }
    let base = text.len() - words.remainder().len();
    for (i, _) in words.remainder().iter().enumerate().filter(|(_, b)| **b == b'\n') {
        if let Some(start) = starts.get_mut(next) {
            *start = offset(base + i + 1);
        }
        next += 1;
    }
    starts
}

impl SourceFile {
    pub fn new(path: PathBuf, display: String, export_relative: String, text: Arc<str>) -> Self {
        SourceFile {
            path,
            display,
            export_relative,
            text: std::sync::OnceLock::from(text),
            line_starts: std::sync::OnceLock::new(),
            released: None,
        }
    }

    /// Lets go of the text of a file that was parsed and built, keeping where its lines
    /// start: positions in it are still found without the text, which is read again through
    /// `from` only when shown or edited. Most files of a large export are neither, and their
    /// texts were its largest part. Only ASCII texts are let go (a column is then a byte
    /// count); a text read again that is not the same as the first (the file changed during
    /// the run) reads as empty, so nothing is shown or edited at stale positions.
    pub fn release(&mut self, from: Arc<dyn Reread>) {
        let Some(text) = self.text.get() else { return };
        if text.is_empty() || !text.is_ascii() || self.released.is_some() {
            return;
        }
        self.line_starts();
        let (len, hash) = (text.len(), text_hash(text));
        self.text = std::sync::OnceLock::new();
        self.released = Some(Released { from, len, hash });
    }

    /// The file's text: as parsed, or, after [`SourceFile::release`], read again (empty when
    /// it is not the same any more).
    pub fn text(&self) -> &str {
        self.shared_text_ref()
    }

    /// [`SourceFile::text`], shared.
    pub fn shared_text(&self) -> Arc<str> {
        self.shared_text_ref().clone()
    }

    fn shared_text_ref(&self) -> &Arc<str> {
        self.text.get_or_init(|| {
            self.released
                .as_ref()
                .and_then(|r| {
                    r.from
                        .reread(&self.path)
                        .filter(|text| text.len() == r.len && text_hash(text) == r.hash)
                })
                .unwrap_or_else(|| Arc::from(""))
        })
    }

    /// The length of the text as parsed.
    fn len(&self) -> usize {
        match &self.released {
            Some(released) => released.len,
            None => self.text().len(),
        }
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts
            .get_or_init(|| line_starts_of(self.text().as_bytes()))
    }

    /// Clamps `offset` into the text and back onto a character boundary.
    fn clamp(&self, offset: u32) -> usize {
        let mut at = (offset as usize).min(self.len());
        // A released text is ASCII: every offset is a character boundary.
        if self.released.is_none() {
            let text = self.text();
            while !text.is_char_boundary(at) {
                at -= 1;
            }
        }
        at
    }

    /// The number of characters between a line's start and `at`, as `count` counts them in
    /// the text (in a released, ASCII text, one per byte).
    fn column(&self, start: usize, at: usize, count: impl Fn(&str) -> usize) -> u32 {
        let width = if self.released.is_some() {
            at - start
        } else {
            count(&self.text()[start..at])
        };
        width as u32 + 1
    }

    fn line_index(&self, offset: usize) -> usize {
        match self.line_starts().binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// Line and column of a byte offset; the column counts Unicode scalar values.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let at = self.clamp(offset);
        let line = self.line_index(at);
        let start = self.line_starts()[line] as usize;
        LineCol {
            line: line as u32 + 1,
            column: self.column(start, at, |s| s.chars().count()),
        }
    }

    /// Line and column of a byte offset; the column counts UTF-16 code units (SARIF's default).
    pub fn line_col_utf16(&self, offset: u32) -> LineCol {
        let at = self.clamp(offset);
        let line = self.line_index(at);
        let start = self.line_starts()[line] as usize;
        LineCol {
            line: line as u32 + 1,
            column: self.column(start, at, |s| s.encode_utf16().count()),
        }
    }

    /// Byte offset of a 1-based line and a 0-based character column (how YAML parsers count).
    pub fn offset_of(&self, line: usize, char_column: usize) -> usize {
        let text = self.text();
        let Some(&start) = self.line_starts().get(line.saturating_sub(1)) else {
            return text.len();
        };
        let rest = text.get(start as usize..).unwrap_or_default();
        let within = rest
            .char_indices()
            .take_while(|(_, c)| *c != '\n')
            .nth(char_column)
            .map(|(i, _)| i)
            .unwrap_or_else(|| rest.find('\n').unwrap_or(rest.len()));
        start as usize + within
    }

    /// The text of the 1-based line `line`, without its line break.
    pub fn line_text(&self, line: u32) -> &str {
        let i = (line as usize).saturating_sub(1);
        let Some(&start) = self.line_starts().get(i) else {
            return "";
        };
        let text = self.text();
        let end = self.line_starts().get(i + 1).map_or(text.len(), |e| *e as usize);
        // A text read again that changed reads as empty: no line of it is shown.
        text.get(start as usize..end)
            .unwrap_or_default()
            .trim_end_matches(['\n', '\r'])
    }
}

/// Every file read in one run, in registration order.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> SourceId {
        self.files.push(file);
        SourceId(u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX))
    }

    /// Makes room for `more` files, so that a large folder's files grow the map once.
    pub fn reserve(&mut self, more: usize) {
        self.files.reserve(more);
    }

    pub fn get(&self, id: SourceId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// `path` as users should see it: relative to `cwd` when inside it, with forward slashes.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    // Every file of an export is shown twice: the common case (no backslash) copies once.
    let shown = if cwd.as_os_str().is_empty() {
        path
    } else {
        crate::plain_path::below(path, cwd).unwrap_or(path)
    };
    let lossy = shown.to_string_lossy();
    let replaced;
    let text: &str = if lossy.contains('\\') {
        replaced = lossy.replace('\\', "/");
        &replaced
    } else {
        &lossy
    };
    match text.strip_prefix("./").unwrap_or(text) {
        "" => ".".into(),
        text => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Newlines found eight bytes at a time are the ones a plain scan finds, whatever
        /// the bytes around them (`\n` next to 0x0a's neighbours, 0x8a, 0x0b, and at either end).
        #[test]
        fn line_starts_are_after_each_newline(
            text in proptest::collection::vec(
                prop_oneof![Just(b'\n'), Just(0x0b_u8), Just(0x8a_u8), Just(0x09_u8), any::<u8>()],
                0..80,
            )
        ) {
            let plain: Vec<u32> = std::iter::once(0)
                .chain(text.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i as u32 + 1))
                .collect();
            prop_assert_eq!(line_starts_of(&text), plain);
        }
    }

    fn file(text: &str) -> SourceFile {
        SourceFile::new("f".into(), "f".into(), "f".into(), text.into())
    }

    #[test]
    fn line_and_column_are_one_based() {
        let f = file("ab\ncd\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(4), LineCol { line: 2, column: 2 });
        assert_eq!(f.line_col(6), LineCol { line: 3, column: 1 });
    }

    #[test]
    fn utf16_columns_count_surrogate_pairs() {
        let f = file("\"😀\": x");
        let at = "\"😀\": ".len() as u32;
        assert_eq!(f.line_col(at).column, 6);
        assert_eq!(f.line_col_utf16(at).column, 7);
    }

    #[test]
    fn offsets_inside_characters_are_clamped() {
        let f = file("é");
        assert_eq!(f.line_col(1).column, 1);
    }

    #[test]
    fn offset_of_counts_characters() {
        let f = file("x\né: y\n");
        assert_eq!(f.offset_of(2, 3), "x\né: ".len());
    }

    /// Gives back a fixed text, counting how often it is asked.
    #[derive(Debug)]
    struct Disk {
        text: &'static str,
        reads: std::sync::atomic::AtomicUsize,
    }

    impl Reread for Disk {
        fn reread(&self, _path: &Path) -> Option<Arc<str>> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Some(Arc::from(self.text))
        }
    }

    fn disk(text: &'static str) -> Arc<Disk> {
        Arc::new(Disk {
            text,
            reads: Default::default(),
        })
    }

    fn reads(disk: &Disk) -> usize {
        disk.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    const JSON: &str = "{\n  \"name\": \"a\",\n  \"x\": 1\n}\n";

    #[test]
    fn a_released_text_gives_positions_without_reading_and_is_read_again_when_shown() {
        let kept = file(JSON);
        let mut released = file(JSON);
        let from = disk(JSON);
        released.release(from.clone());
        for offset in [0, 5, 12, 20, 30, 99] {
            assert_eq!(released.line_col(offset), kept.line_col(offset));
            assert_eq!(released.line_col_utf16(offset), kept.line_col_utf16(offset));
        }
        assert_eq!(reads(&from), 0, "positions need no text");
        assert_eq!(released.line_text(2), "  \"name\": \"a\",");
        assert_eq!(released.text(), JSON);
        assert_eq!(reads(&from), 1, "read once, then kept");
    }

    #[test]
    fn a_text_that_changed_on_disk_reads_as_empty_but_keeps_its_positions() {
        let mut released = file(JSON);
        released.release(disk("{\n  \"name\": \"b\",\n  \"x\": 1\n}\n"));
        assert_eq!(released.line_col(12), LineCol { line: 2, column: 11 });
        assert_eq!(released.text(), "");
        assert_eq!(released.line_text(2), "");
    }

    #[test]
    fn only_ascii_texts_are_released() {
        let mut f = file("{\"é\": 1}");
        let from = disk("");
        f.release(from.clone());
        assert_eq!(f.text(), "{\"é\": 1}");
        assert_eq!(f.line_col(6).column, 6);
        assert_eq!(reads(&from), 0);
    }
}
