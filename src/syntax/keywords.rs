//! a0deploy keyword-replacement markers: `@@KEY@@` and `##KEY##`.
//!
//! a0deploy replaces markers textually before parsing: `@@KEY@@` (with any quotes around it) by
//! the JSON encoding of the value, `##KEY##` by the value's plain text. Without the values, a raw
//! export may not even parse (`"web_origins": @@ORIGINS@@`, or `value: ##SECRET##`, which YAML
//! reads as a comment). The parsers therefore swap markers in value position for placeholders of
//! the same length, so every span stays true to the file, and turn them into
//! [`Value::Keyword`](super::Value::Keyword). With `--keywords FILE` the markers are replaced
//! the way a0deploy replaces them.

use std::collections::BTreeMap;

/// One marker found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub start: usize,
    pub end: usize,
    pub name: String,
    /// `@@KEY@@` (JSON-encoded replacement) or `##KEY##` (plain text replacement).
    pub json: bool,
}

impl Marker {
    /// Rewrites the marker in `text` as a quoted placeholder of the same length: `@@KEY@@`
    /// becomes `"@KEY@"` and `##KEY##` becomes `"#KEY#"`, so it parses as a string and every
    /// span after it stays true to the file.
    pub fn quote_in(&self, text: &mut [u8]) {
        let sigil = if self.json { b'@' } else { b'#' };
        text[self.start] = b'"';
        text[self.start + 1] = sigil;
        text[self.end - 2] = sigil;
        text[self.end - 1] = b'"';
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Every `@@KEY@@` and `##KEY##` in `text`, in order, not overlapping.
pub fn find_markers(text: &str) -> Vec<Marker> {
    let bytes = text.as_bytes();
    let mut markers = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        // Markers are rare: jump to the next byte that could start one.
        match memchr::memchr2(b'@', b'#', &bytes[i..]) {
            Some(k) => i += k,
            None => break,
        }
        if i + 1 >= bytes.len() {
            break;
        }
        let c = bytes[i];
        if (c == b'@' || c == b'#') && bytes[i + 1] == c {
            let name_start = i + 2;
            let mut j = name_start;
            while j < bytes.len() && is_key_byte(bytes[j]) {
                j += 1;
            }
            if j > name_start && j + 1 < bytes.len() && bytes[j] == c && bytes[j + 1] == c {
                markers.push(Marker {
                    start: i,
                    end: j + 2,
                    name: text[name_start..j].to_string(),
                    json: c == b'@',
                });
                i = j + 2;
                continue;
            }
        }
        i += 1;
    }
    markers
}

/// If the whole of `s` is one `@@KEY@@` marker, its key.
pub fn whole_json_marker(s: &str) -> Option<&str> {
    let name = s.strip_prefix("@@")?.strip_suffix("@@")?;
    (!name.is_empty() && name.bytes().all(is_key_byte)).then_some(name)
}

/// Whether `s` holds a marker a0deploy would fill in at deploy time.
pub fn has_marker(s: &str) -> bool {
    !find_markers(s).is_empty()
}

/// The `AUTH0_KEYWORD_REPLACE_MAPPINGS` map given with `--keywords`.
#[derive(Debug, Clone, Default)]
pub struct KeywordMap {
    values: BTreeMap<String, serde_json::Value>,
}

impl KeywordMap {
    /// Reads the JSON object a0deploy takes as `AUTH0_KEYWORD_REPLACE_MAPPINGS`.
    pub fn from_json(text: &str) -> Result<KeywordMap, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        match value {
            serde_json::Value::Object(map) => Ok(KeywordMap {
                values: map.into_iter().collect(),
            }),
            other => Err(format!(
                "expected a JSON object mapping keyword names to values, found {}",
                json_type_name(&other)
            )),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Replaces the markers whose keys are known, as a0deploy does. `Ok(None)` when nothing
    /// changed; `Err(offset)` of the marker that would make the text longer than `limit` bytes.
    pub fn apply(&self, text: &str, limit: usize) -> Result<Option<String>, usize> {
        if self.values.is_empty() {
            return Ok(None);
        }
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for marker in find_markers(text) {
            let Some(value) = self.values.get(&marker.name) else {
                continue;
            };
            let (mut start, mut end) = (marker.start, marker.end);
            let replacement = if marker.json {
                // a0deploy's pattern swallows one quote on each side of `@@KEY@@`.
                if start > copied && matches!(bytes[start - 1], b'"' | b'\'') {
                    start -= 1;
                }
                if end < bytes.len() && matches!(bytes[end], b'"' | b'\'') {
                    end += 1;
                }
                value.to_string()
            } else {
                match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                }
            };
            let grown = out.len() + (start - copied) + replacement.len() + (text.len() - end);
            if grown > limit {
                return Err(marker.start);
            }
            out.push_str(&text[copied..start]);
            out.push_str(&replacement);
            copied = end;
        }
        if copied == 0 {
            return Ok(None);
        }
        out.push_str(&text[copied..]);
        Ok(Some(out))
    }
}

fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_both_marker_kinds() {
        let found = find_markers(r##"a @@ENV@@ "https://##HOST##/x" ## not ## @@@"##);
        let names: Vec<_> = found.iter().map(|m| (m.name.as_str(), m.json)).collect();
        assert_eq!(names, [("ENV", true), ("HOST", false)]);
    }

    #[test]
    fn replaces_like_a0deploy() {
        let map = KeywordMap::from_json(r#"{"ORIGINS": ["a", "b"], "HOST": "x.com", "N": 3}"#).unwrap();
        assert_eq!(
            map.apply(
                r###"{"o": "@@ORIGINS@@", "u": "https://##HOST##/", "n": @@N@@, "k": "##OTHER##"}"###,
                1 << 20
            )
            .unwrap()
            .unwrap(),
            r###"{"o": ["a","b"], "u": "https://x.com/", "n": 3, "k": "##OTHER##"}"###
        );
        assert_eq!(map.apply("nothing here", 1 << 20), Ok(None));
    }

    #[test]
    fn expansion_past_the_limit_is_refused_at_the_marker() {
        let map = KeywordMap::from_json(r#"{"BIG": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#).unwrap();
        let text = "a: ##BIG##\n".repeat(100);
        assert!(map.apply(&text, 10_000).unwrap().is_some());
        assert_eq!(map.apply(&text, 1_100 + 33 * 5), Err(3 + 11 * 5));
    }

    #[test]
    fn rejects_a_map_that_is_not_an_object() {
        assert!(KeywordMap::from_json("[1]").unwrap_err().contains("a list"));
    }
}
