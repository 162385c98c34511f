//! Validating spanned trees against JSON schemas, with every problem located.
//!
//! The jsonschema crate checks the plain-JSON view of a tree; each error's instance path is a
//! JSON pointer, which leads back to the node and so to file, line and column. Messages are
//! rewritten in plain words, naming the key or value at fault.

use jsonschema::error::ValidationErrorKind;

use crate::model::{InputError, Loc};
use crate::source::SourceId;
use crate::syntax::{Node, pointer_join};

/// A compiled schema.
pub struct Schema {
    validator: jsonschema::Validator,
    value: serde_json::Value,
}

impl Schema {
    /// Compiles an embedded schema. Embedded schemas are checked by the test suite.
    pub fn compile(text: &str) -> Result<Schema, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let validator = jsonschema::validator_for(&value).map_err(|e| e.to_string())?;
        Ok(Schema { validator, value })
    }

    /// Every problem with `node` (at `base` inside `file`), in document order.
    pub fn problems(&self, file: SourceId, node: &Node, base: &str, what: &str) -> Vec<InputError> {
        let instance = node.to_json();
        let mut problems: Vec<InputError> = self
            .validator
            .iter_errors(&instance)
            .map(|error| {
                let path = error.instance_path().as_str().to_string();
                let at = node.pointer(&path).unwrap_or(node);
                let pointer = format!("{base}{path}");
                let field = if path.is_empty() {
                    what.to_string()
                } else {
                    format!("`{}`", path.trim_start_matches('/').replace('/', "."))
                };
                let loc = |span| Loc {
                    file,
                    span,
                    pointer: pointer.clone(),
                };
                match error.kind() {
                    ValidationErrorKind::AdditionalProperties { unexpected } => {
                        let name = unexpected.first().cloned().unwrap_or_default();
                        let span = at.member(&name).map_or(at.span, |m| m.key_span);
                        let allowed = self.allowed_keys(error.schema_path().as_str());
                        InputError {
                            loc: Loc {
                                file,
                                span,
                                pointer: pointer_join(&pointer, &name),
                            },
                            message: format!("unknown key `{name}` in {field}{allowed}"),
                        }
                    }
                    ValidationErrorKind::Required { property } => InputError {
                        loc: loc(at.span),
                        message: format!(
                            "{field} is missing the required key `{}`",
                            property.as_str().unwrap_or_default()
                        ),
                    },
                    ValidationErrorKind::Enum { options } => InputError {
                        loc: loc(at.span),
                        message: format!(
                            "{field} must be one of {}, found {}",
                            list(options),
                            short(&at.to_json())
                        ),
                    },
                    ValidationErrorKind::Type { .. } => InputError {
                        loc: loc(at.span),
                        message: format!("{field} has the wrong type: {error}"),
                    },
                    _ => InputError {
                        loc: loc(at.span),
                        message: format!("{field}: {error}"),
                    },
                }
            })
            .collect();
        problems.sort_by_key(|p| p.loc.span);
        problems
    }
}

impl Schema {
    /// `; expected one of ...` listing the keys the schema object around `schema_path` allows.
    fn allowed_keys(&self, schema_path: &str) -> String {
        let parent = schema_path
            .strip_suffix("/additionalProperties")
            .unwrap_or(schema_path);
        let keys: Vec<String> = self
            .value
            .pointer(parent)
            .and_then(|s| s.get("properties"))
            .and_then(|p| p.as_object())
            .map(|p| p.keys().map(|k| format!("`{k}`")).collect())
            .unwrap_or_default();
        if keys.is_empty() {
            String::new()
        } else {
            format!("; expected one of {}", keys.join(", "))
        }
    }
}

fn list(options: &serde_json::Value) -> String {
    match options.as_array() {
        Some(items) => items.iter().map(short).collect::<Vec<_>>().join(", "),
        None => short(options),
    }
}

fn short(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => format!("`{s}`"),
        other => {
            let text = other.to_string();
            match text.char_indices().nth(40) {
                Some((cut, _)) => format!("{}...", &text[..cut]),
                None => text,
            }
        }
    }
}
