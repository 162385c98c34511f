//! The abstract values scripts compute with.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::js::legacy_ir::Function;
use crate::source::Span;

/// A JavaScript value as far as claimlint can know it.
#[derive(Debug, Clone)]
pub enum Val {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Undef,
    /// A string whose beginning is known (`'https://x.com/' + something`).
    Partial {
        prefix: String,
        rest: String,
    },
    /// A value that cannot be known statically, described by where it comes from.
    Unknown(String),
    /// A user-profile attribute (`email`, `user_metadata.country`).
    Attr(String),
    /// A host object or one of its properties (`context`, `context.idToken`, `api.idToken`).
    Host(String),
    Obj(Arc<Mutex<Vec<Prop>>>),
    Array(Vec<Val>),
    Func(Arc<Function>),
}

/// One property of an object literal, with where its key was written.
#[derive(Debug, Clone)]
pub struct Prop {
    pub key: Val,
    pub value: Val,
    pub span: Span,
}

impl Val {
    pub fn obj(props: Vec<Prop>) -> Val {
        Val::Obj(Arc::new(Mutex::new(props)))
    }

    /// A known value from JSON (a sample user profile).
    pub fn from_json(value: &serde_json::Value) -> Val {
        use serde_json::Value as J;
        match value {
            J::Null => Val::Null,
            J::Bool(b) => Val::Bool(*b),
            J::Number(n) => Val::Num(n.as_f64().unwrap_or(0.0)),
            J::String(s) => Val::Str(s.clone()),
            J::Array(items) => Val::Array(items.iter().map(Val::from_json).collect()),
            J::Object(map) => Val::obj(
                map.iter()
                    .map(|(k, v)| Prop {
                        key: Val::Str(k.clone()),
                        value: Val::from_json(v),
                        span: Span::default(),
                    })
                    .collect(),
            ),
        }
    }

    /// The text of a value known to be a string (numbers and booleans as JavaScript prints them).
    pub fn known_text(&self) -> Option<String> {
        match self {
            Val::Str(s) => Some(s.clone()),
            Val::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some(format!("{}", *n as i64)),
            Val::Num(n) => Some(n.to_string()),
            Val::Bool(b) => Some(b.to_string()),
            Val::Null => Some("null".into()),
            Val::Undef => Some("undefined".into()),
            _ => None,
        }
    }

    /// What is known of a string's beginning.
    pub fn known_prefix(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::Partial { prefix, .. } => Some(prefix),
            _ => None,
        }
    }

    /// `a + b` as JavaScript would compute it, as far as known.
    pub fn concat(&self, other: &Val) -> Val {
        self.concat_unbounded(other).bounded()
    }

    fn concat_unbounded(&self, other: &Val) -> Val {
        match (self, other) {
            (Val::Num(a), Val::Num(b)) => Val::Num(a + b),
            _ => match (self.known_text(), other.known_text()) {
                (Some(a), Some(b)) => Val::Str(a + &b),
                // `'' + x` (a template that starts with `${x}`) knows no more than `x`: an
                // attribute stays the attribute, and nothing is known of the beginning.
                (Some(a), None) if a.is_empty() => match other {
                    Val::Partial { .. } | Val::Attr(_) | Val::Unknown(_) => other.clone(),
                    _ => Val::Unknown(other.describe()),
                },
                (Some(a), None) => match other {
                    Val::Partial { prefix, rest } => Val::Partial {
                        prefix: a + prefix,
                        rest: rest.clone(),
                    },
                    _ => Val::Partial {
                        prefix: a,
                        rest: other.describe(),
                    },
                },
                (None, _) => match self {
                    Val::Partial { prefix, rest } => Val::Partial {
                        prefix: prefix.clone(),
                        rest: format!("{rest} + {}", other.describe()),
                    },
                    _ => Val::Unknown(format!("{} + {}", self.describe(), other.describe())),
                },
            },
        }
    }

    /// JavaScript truthiness, when it can be known.
    pub fn truthy(&self) -> Option<bool> {
        match self {
            Val::Str(s) => Some(!s.is_empty()),
            Val::Num(n) => Some(*n != 0.0 && !n.is_nan()),
            Val::Bool(b) => Some(*b),
            Val::Null | Val::Undef => Some(false),
            Val::Partial { prefix, .. } if !prefix.is_empty() => Some(true),
            Val::Obj(_) | Val::Array(_) | Val::Func(_) => Some(true),
            Val::Host(path) => is_host_object(path).then_some(true),
            _ => None,
        }
    }

    /// Loose equality (`==`), when it can be known: like strict equality for values of one
    /// type, `null == undefined`, and undecided across other types (JavaScript converts them).
    pub fn loosely_equals(&self, other: &Val) -> Option<bool> {
        match (self, other) {
            (Val::Null | Val::Undef, Val::Null | Val::Undef) => Some(true),
            (Val::Null | Val::Undef, Val::Str(_) | Val::Num(_) | Val::Bool(_))
            | (Val::Str(_) | Val::Num(_) | Val::Bool(_), Val::Null | Val::Undef) => Some(false),
            (Val::Str(_), Val::Str(_)) | (Val::Num(_), Val::Num(_)) | (Val::Bool(_), Val::Bool(_)) => {
                self.equals(other)
            }
            (Val::Partial { .. }, Val::Str(_)) | (Val::Str(_), Val::Partial { .. }) => self.equals(other),
            _ => None,
        }
    }

    /// Strict equality (`===`), when it can be known.
    pub fn equals(&self, other: &Val) -> Option<bool> {
        match (self, other) {
            (Val::Null, Val::Undef) | (Val::Undef, Val::Null) => Some(false),
            (Val::Str(a), Val::Str(b)) => Some(a == b),
            (Val::Num(a), Val::Num(b)) => Some(a == b),
            (Val::Bool(a), Val::Bool(b)) => Some(a == b),
            (Val::Null | Val::Undef, Val::Null | Val::Undef) => Some(true),
            (Val::Partial { prefix, .. }, Val::Str(s)) | (Val::Str(s), Val::Partial { prefix, .. }) => {
                (!s.starts_with(prefix.as_str())).then_some(false)
            }
            (a, b) if a.is_primitive() && b.is_primitive() => Some(false),
            _ => None,
        }
    }

    fn is_primitive(&self) -> bool {
        matches!(
            self,
            Val::Str(_) | Val::Num(_) | Val::Bool(_) | Val::Null | Val::Undef
        )
    }

    /// A short description, used where a value is shown but unknown.
    pub fn describe(&self) -> String {
        match self {
            Val::Str(s) => format!("'{s}'"),
            Val::Partial { prefix, rest } => format!("'{prefix}' + {rest}"),
            Val::Unknown(what) => what.clone(),
            Val::Attr(path) => format!("user.{path}"),
            Val::Host(path) => path.clone(),
            Val::Obj(_) => "an object".into(),
            Val::Array(_) => "a list".into(),
            Val::Func(_) => "a function".into(),
            other => other.known_text().unwrap_or_default(),
        }
    }

    /// The value as it would appear in an issued token: known values as they are, others as
    /// `"<description>"`. Objects are copied out of their lock before descending, so a value
    /// that contains itself cannot deadlock, and nesting is cut at [`MAX_VALUE_DEPTH`].
    pub fn to_token_json(&self) -> serde_json::Value {
        self.to_json_at(0)
    }

    fn to_json_at(&self, depth: usize) -> serde_json::Value {
        use serde_json::Value as J;
        if depth > MAX_VALUE_DEPTH {
            return J::String("<nested too deeply>".into());
        }
        match self {
            Val::Str(s) => J::String(s.clone()),
            Val::Num(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
            Val::Bool(b) => J::Bool(*b),
            Val::Null | Val::Undef => J::Null,
            Val::Array(items) => J::Array(items.iter().map(|v| v.to_json_at(depth + 1)).collect()),
            Val::Obj(props) => {
                let props = lock(props).clone();
                J::Object(
                    props
                        .iter()
                        .filter_map(|p| Some((p.key.known_text()?, p.value.to_json_at(depth + 1))))
                        .collect(),
                )
            }
            other => J::String(format!("<{}>", other.describe())),
        }
    }

    /// Keeps values bounded: a string or description over [`MAX_TEXT`] bytes becomes unknown,
    /// so scripts that double a string in a loop cannot exhaust memory.
    pub fn bounded(self) -> Val {
        match &self {
            Val::Str(s) if s.len() > MAX_TEXT => Val::Unknown("a very long string".into()),
            Val::Partial { prefix, rest } if prefix.len() + rest.len() > MAX_TEXT => {
                Val::Unknown("a very long string".into())
            }
            Val::Unknown(what) if what.len() > MAX_TEXT => Val::Unknown("a very long expression".into()),
            _ => self,
        }
    }
}

impl Val {
    /// Whether arrays and objects nest deeper than `limit` levels (looks no deeper than that).
    pub fn deeper_than(&self, limit: usize) -> bool {
        match self {
            _ if limit == 0 => matches!(self, Val::Array(_) | Val::Obj(_)),
            Val::Array(items) => items.iter().any(|v| v.deeper_than(limit - 1)),
            Val::Obj(props) => {
                let props = lock(props).clone();
                props.iter().any(|p| p.value.deeper_than(limit - 1))
            }
            _ => false,
        }
    }
}

/// Longest string or description a value keeps.
pub const MAX_TEXT: usize = 8 * 1024;
/// Deepest nesting of arrays and objects rendered into a token.
pub const MAX_VALUE_DEPTH: usize = 32;

/// Host paths that are objects (always truthy).
fn is_host_object(path: &str) -> bool {
    matches!(
        path,
        "context"
            | "context.idToken"
            | "context.accessToken"
            | "user"
            | "event"
            | "event.user"
            | "event.client"
            | "event.connection"
            | "event.transaction"
            | "event.secrets"
            | "api"
            | "api.idToken"
            | "api.accessToken"
            | "configuration"
    )
}

/// The properties of an object value (a poisoned lock still holds usable data).
pub fn lock(props: &Mutex<Vec<Prop>>) -> MutexGuard<'_, Vec<Prop>> {
    props.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenation_keeps_what_is_known() {
        let ns = Val::Str("https://x.com/".into());
        let unknown = Val::Unknown("configuration.NAME".into());
        let joined = ns.concat(&unknown);
        assert_eq!(joined.known_prefix(), Some("https://x.com/"));
        let joined = joined.concat(&Val::Str("/roles".into()));
        assert_eq!(joined.known_prefix(), Some("https://x.com/"));
        assert!(matches!(unknown.concat(&ns), Val::Unknown(_)));
        assert_eq!(
            Val::Num(2.0)
                .concat(&Val::Str("x".into()))
                .known_text()
                .as_deref(),
            Some("2x")
        );
    }

    #[test]
    fn an_empty_beginning_is_not_a_known_prefix() {
        // `${configuration.NS}/roles`: the template starts with an unknown.
        let empty = Val::Str(String::new());
        let joined = empty
            .concat(&Val::Unknown("configuration.NS".into()))
            .concat(&Val::Str("/roles".into()));
        assert!(
            matches!(&joined, Val::Unknown(what) if what == "configuration.NS + '/roles'"),
            "{joined:?}"
        );
        assert_eq!(joined.known_prefix(), None);
        // `${user.email}` is still the attribute.
        let attr = empty.concat(&Val::Attr("email".into()));
        assert!(matches!(&attr, Val::Attr(path) if path == "email"), "{attr:?}");
        // A known beginning is kept.
        let ns = Val::Str("https://x.com/".into()).concat(&Val::Unknown("configuration.X".into()));
        assert_eq!(ns.known_prefix(), Some("https://x.com/"));
    }

    #[test]
    fn equality_is_decided_only_when_known() {
        assert_eq!(Val::Str("a".into()).equals(&Val::Str("a".into())), Some(true));
        assert_eq!(Val::Str("a".into()).equals(&Val::Num(1.0)), Some(false));
        assert_eq!(Val::Unknown("x".into()).equals(&Val::Str("a".into())), None);
    }
}
