//! `std::path` queries answered from a path's bytes. `std::path` parses components for every
//! query, and an export of ten thousand files asks several per file. An extension is read from
//! the last name alone; a prefix is stripped by bytes when both paths are plain (names joined by
//! single `/`, none of them `.` or `..`, the form the loader makes every path of an export in).
//! Any other path is handed to `std::path`, so each answer is the one it gives.

use std::path::Path;

/// Whether `path`'s extension is `ext`, as `path.extension() == Some(ext)`.
pub fn has_extension(path: &Path, ext: &str) -> bool {
    let bytes = path.as_os_str().as_encoded_bytes();
    // Only the last name counts, unless it is empty, `.` or `..` (then `std::path` looks
    // further back).
    let name = memchr::memrchr(b'/', bytes).map_or(bytes, |slash| &bytes[slash + 1..]);
    if name.is_empty() || name == b"." || name == b".." {
        return path.extension().is_some_and(|e| e == ext);
    }
    // The extension follows the name's last dot, unless the name starts with it.
    match memchr::memrchr(b'.', name) {
        Some(dot) if dot > 0 => &name[dot + 1..] == ext.as_bytes(),
        _ => false,
    }
}

/// `path` relative to `prefix`, as `path.strip_prefix(prefix).ok()`.
pub fn below<'p>(path: &'p Path, prefix: &Path) -> Option<&'p Path> {
    let (bytes, head) = (
        path.as_os_str().as_encoded_bytes(),
        prefix.as_os_str().as_encoded_bytes(),
    );
    let rest = match bytes.strip_prefix(head) {
        Some(rest) if head.is_empty() || head.ends_with(b"/") => Some(rest),
        Some(rest) => rest.strip_prefix(b"/").or(rest.is_empty().then_some(rest)),
        None => None,
    };
    if let Some(rest) = rest
        && is_plain_head(head)
        && (rest.is_empty() || is_plain(rest))
        && let Ok(rest) = std::str::from_utf8(rest)
    {
        return Some(Path::new(rest));
    }
    path.strip_prefix(prefix).ok()
}

/// Whether `path` is plain (optionally absolute): then it is its own lexical form, and
/// component-wise comparisons of it agree with its bytes.
pub fn is_plain_path(path: &Path) -> bool {
    let bytes = path.as_os_str().as_encoded_bytes();
    is_plain(bytes.strip_prefix(b"/").unwrap_or(bytes))
}

/// Names joined by single slashes, none `.` or `..`, none empty.
fn is_plain(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes
            .split(|b| *b == b'/')
            .all(|name| !name.is_empty() && name != b"." && name != b"..")
}

/// A prefix `std::path` compares by components as its bytes read: plain, optionally absolute,
/// optionally ending in one `/`, or empty.
fn is_plain_head(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"/").unwrap_or(head);
    let head = head.strip_suffix(b"/").unwrap_or(head);
    head.is_empty() || is_plain(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn path_text() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            Just("a"),
            Just("b.json"),
            Just(".hidden"),
            Just("x."),
            Just("r.js"),
            Just("."),
            Just(".."),
            Just(""),
            Just("c.tar.gz"),
            Just("é.yaml"),
        ];
        (any::<bool>(), prop::collection::vec(name, 0..5), any::<bool>()).prop_map(
            |(absolute, names, trailing)| {
                let mut text = if absolute { "/".to_string() } else { String::new() };
                text.push_str(&names.join("/"));
                if trailing {
                    text.push('/');
                }
                text
            },
        )
    }

    proptest! {
        #[test]
        fn answers_as_std_path_does(path in path_text(), prefix in path_text(), ext in prop_oneof![Just("json"), Just("js"), Just("gz"), Just(""), Just("yaml")]) {
            let (path, prefix) = (Path::new(&path), Path::new(&prefix));
            prop_assert_eq!(has_extension(path, ext), path.extension().is_some_and(|e| e == ext));
            prop_assert_eq!(below(path, prefix), path.strip_prefix(prefix).ok());
            // A path below itself and below its own folder, the common case.
            if let Some(folder) = path.parent() {
                prop_assert_eq!(below(path, folder), path.strip_prefix(folder).ok());
            }
            prop_assert_eq!(below(path, path), path.strip_prefix(path).ok());
            let text = path.to_str().unwrap_or_default();
            let plain = !text.is_empty() && text.split('/').all(|n| !n.is_empty() && n != "." && n != "..");
            prop_assert_eq!(is_plain(text.as_bytes()), plain);
        }
    }

    #[test]
    fn plain_paths_are_read_by_their_bytes() {
        let path = Path::new("/tenant/rules/add-roles.js");
        assert!(has_extension(path, "js"));
        assert!(!has_extension(path, "json"));
        assert_eq!(
            below(path, Path::new("/tenant")),
            Some(Path::new("rules/add-roles.js"))
        );
        assert_eq!(
            below(path, Path::new("/tenant/")),
            Some(Path::new("rules/add-roles.js"))
        );
        assert_eq!(below(path, Path::new("/ten")), None);
        assert_eq!(below(path, Path::new("/tenant/rules/add-roles.js/x")), None);
        assert_eq!(
            below(Path::new("rules/a.js"), Path::new("")),
            Some(Path::new("rules/a.js"))
        );
        assert!(!has_extension(Path::new("rules/.js"), "js"));
    }
}
