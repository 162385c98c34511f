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

/// A file's place in the export and in the output.
#[derive(Debug)]
pub struct SourceFile {
    /// Where the file is on disk (as given on the command line, joined with the export layout).
    pub path: PathBuf,
    /// The path shown to users: relative to the current directory where possible, forward slashes.
    pub display: String,
    /// The path relative to the export root, forward slashes (stable across checkouts).
    pub export_relative: String,
    /// The text as parsed. Empty when the file could not be read.
    pub text: Arc<str>,
    /// Where each line starts, found on first use: most files of a large export are never
    /// shown.
    line_starts: std::sync::OnceLock<Vec<u32>>,
}

/// A resolved position: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

impl SourceFile {
    pub fn new(path: PathBuf, display: String, export_relative: String, text: Arc<str>) -> Self {
        SourceFile {
            path,
            display,
            export_relative,
            text,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(
                self.text
                    .bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
            );
            starts
        })
    }

    /// Clamps `offset` into the text and back onto a character boundary.
    fn clamp(&self, offset: u32) -> usize {
        let mut at = (offset as usize).min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        at
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
        let column = self.text[start..at].chars().count() + 1;
        LineCol {
            line: line as u32 + 1,
            column: column as u32,
        }
    }

    /// Line and column of a byte offset; the column counts UTF-16 code units (SARIF's default).
    pub fn line_col_utf16(&self, offset: u32) -> LineCol {
        let at = self.clamp(offset);
        let line = self.line_index(at);
        let start = self.line_starts()[line] as usize;
        let column = self.text[start..at].encode_utf16().count() + 1;
        LineCol {
            line: line as u32 + 1,
            column: column as u32,
        }
    }

    /// Byte offset of a 1-based line and a 0-based character column (how YAML parsers count).
    pub fn offset_of(&self, line: usize, char_column: usize) -> usize {
        let Some(&start) = self.line_starts().get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start as usize..];
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
        let end = self
            .line_starts()
            .get(i + 1)
            .map_or(self.text.len(), |e| *e as usize);
        self.text[start as usize..end].trim_end_matches(['\n', '\r'])
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
    let shown = path.strip_prefix(cwd).unwrap_or(path);
    let text = shown.to_string_lossy().replace('\\', "/");
    let text = text.strip_prefix("./").unwrap_or(&text).to_string();
    if text.is_empty() { ".".into() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
