//! JavaScript built-ins the interpreter knows: `Object.keys`, `JSON.stringify`, string and
//! list methods, `Math`, conversions. Each works exactly on known values and keeps what it can
//! (a known beginning, the user attribute a value derives from) on unknown ones; a built-in
//! that is not listed here is an unknown call.

use std::sync::Arc;

use super::domain::{Cond, ObjKind, Object, Opaque, Rest, State, Tail, Val, What, number_text};
use super::machine::{
    Machine, UNROLL_LIMIT, concat, may_be_replaced, may_be_replaced_from, put, to_number, truthy,
};
use crate::source::Span;

/// Calls the built-in `path` (`this` is the receiver of a method); `None` when it is not one.
pub fn call(
    m: &mut Machine,
    st: &mut State,
    path: &str,
    this: &Val,
    args: &[Val],
    span: Span,
) -> Option<Val> {
    let arg = |i: usize| args.get(i).cloned().unwrap_or(Val::Undef);
    if let Some(method) = path.strip_prefix("String.prototype.") {
        return Some(string_method(m, st, this, method, args, span));
    }
    if let Some(method) = path.strip_prefix("Set.prototype.") {
        return Some(set_method(m, st, this, method, args, span));
    }
    if let Some(method) = path.strip_prefix("Array.prototype.") {
        return Some(array_method(m, st, this, method, args, span));
    }
    if let Some(method) = path
        .strip_prefix("Object.prototype.")
        .or_else(|| path.strip_prefix("Number.prototype."))
    {
        return Some(object_method(m, st, this, method, args, span));
    }
    Some(match path {
        "Object.keys" | "Object.values" | "Object.entries" => {
            let which = &path[7..];
            entries(m, st, &arg(0), which)
        }
        "Object.assign" => {
            let target = arg(0);
            for source in args.iter().skip(1) {
                assign(m, st, &target, source, span);
            }
            target
        }
        "Object.freeze" | "Object.seal" => arg(0),
        "Promise.resolve" => {
            if matches!(&arg(0), Val::Obj(id) if st.obj(*id).is_some_and(|o| o.kind == ObjKind::Promise)) {
                return Some(arg(0));
            }
            m.alloc(
                st,
                Object {
                    kind: ObjKind::Promise,
                    ..Object::array(vec![arg(0)])
                },
            )
        }
        "Object.fromEntries" => {
            let mut object = Object::plain(Rest::Closed);
            match m.list_items(st, &arg(0)) {
                Some(pairs) => {
                    for pair in pairs {
                        let k = m.get(st, &pair, &Val::Num(0.0), span);
                        let v = m.get(st, &pair, &Val::Num(1.0), span);
                        match k.exact_text() {
                            Some(k) => put(&mut object, k, v, Some(m.site(span)), Cond::always(), true),
                            None => object.rest = Rest::unknown("entries with unknown names"),
                        }
                    }
                }
                None => object.rest = Rest::unknown("unknown entries"),
            }
            m.alloc(st, object)
        }
        "JSON.stringify" => match json_text(st, &arg(0), 0) {
            Some(Some(text)) => Val::Str(text.into()),
            Some(None) => Val::Undef,
            None => Val::derived("JSON text", &arg(0)),
        },
        "JSON.parse" => match arg(0) {
            Val::Str(s) => match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(v) => from_json(m, st, &v),
                Err(_) => {
                    let mut thrown = st.clone();
                    let error = m.alloc(&mut thrown, error_object("Unexpected token in JSON"));
                    m.throw(thrown, error);
                    st.alive = false;
                    Val::Undef
                }
            },
            other => {
                // Text claimlint does not know may not parse: the call may throw.
                let mut thrown = st.clone();
                let error = m.alloc(&mut thrown, error_object("Unexpected token in JSON"));
                m.throw_maybe(st, thrown, error, span);
                Val::derived("parsed JSON", &other)
            }
        },
        "Math.max" | "Math.min" => {
            let nums: Option<Vec<f64>> = args
                .iter()
                .map(|a| m.to_primitive(st, a))
                .map(|p| to_number(&p))
                .collect();
            match nums {
                Some(n) if path == "Math.max" => Val::Num(n.iter().fold(f64::NEG_INFINITY, |a, b| {
                    if a.is_nan() || b.is_nan() {
                        f64::NAN
                    } else {
                        a.max(*b)
                    }
                })),
                Some(n) => Val::Num(n.iter().fold(f64::INFINITY, |a, b| {
                    if a.is_nan() || b.is_nan() {
                        f64::NAN
                    } else {
                        a.min(*b)
                    }
                })),
                None => Val::unknown("a computed number"),
            }
        }
        "Math.floor" | "Math.ceil" | "Math.round" | "Math.abs" | "Math.trunc" | "Math.sign" | "Math.sqrt" => {
            match to_number(&arg(0)) {
                Some(n) => Val::Num(match path {
                    "Math.floor" => n.floor(),
                    "Math.ceil" => n.ceil(),
                    "Math.round" => (n + 0.5).floor(),
                    "Math.abs" => n.abs(),
                    "Math.trunc" => n.trunc(),
                    "Math.sqrt" => n.sqrt(),
                    _ if n == 0.0 || n.is_nan() => n,
                    _ => n.signum(),
                }),
                None => Val::unknown("a computed number"),
            }
        }
        "Math.pow" => match (to_number(&arg(0)), to_number(&arg(1))) {
            (Some(a), Some(b)) => Val::Num(a.powf(b)),
            _ => Val::unknown("a computed number"),
        },
        "Math.random" | "Date.now" => Val::unknown("a value that changes on every login"),
        "Array.isArray" => match arg(0) {
            Val::Obj(id) => Val::Bool(st.obj(id).is_some_and(|o| o.kind == ObjKind::Array)),
            v if v.is_primitive() || matches!(v, Val::Func(_) | Val::Native(_)) => Val::Bool(false),
            _ => Val::unknown("a list test"),
        },
        "Array.from" => match m.list_items(st, &arg(0)) {
            Some(items) => match args.get(1) {
                Some(f) => {
                    let mut out = Vec::new();
                    for (i, item) in items.into_iter().enumerate() {
                        out.push(m.call(st, f, Val::Undef, vec![item, Val::Num(i as f64)], span));
                    }
                    m.alloc_array(st, out)
                }
                None => m.alloc_array(st, items),
            },
            None => open_array(m, st),
        },
        "Array.of" | "Array" => m.alloc_array(st, args.to_vec()),
        "String" => match args.first() {
            None => Val::str(""),
            Some(v) => {
                let p = m.to_primitive(st, v);
                m.to_string_val(st, &p)
            }
        },
        "Number" => {
            let p = m.to_primitive(st, &args.first().cloned().unwrap_or(Val::Num(0.0)));
            to_number(&p).map_or_else(|| Val::derived("a number", &p), Val::Num)
        }
        "Boolean" => truthy(&arg(0)).map_or_else(|| Val::unknown("a boolean"), Val::Bool),
        "parseInt" => match arg(0) {
            Val::Str(s) => parse_int(&s, to_number(&arg(1)).unwrap_or(0.0)),
            Val::Num(n) => parse_int(&number_text(n), to_number(&arg(1)).unwrap_or(0.0)),
            other => Val::derived("a number", &other),
        },
        "parseFloat" => match arg(0) {
            Val::Str(s) => Val::Num(parse_float(&s)),
            Val::Num(n) => Val::Num(n),
            other => Val::derived("a number", &other),
        },
        "isNaN" => {
            to_number(&arg(0)).map_or_else(|| Val::unknown("a number test"), |n| Val::Bool(n.is_nan()))
        }
        "Number.isInteger" => match arg(0) {
            Val::Num(n) => Val::Bool(n.is_finite() && n.fract() == 0.0),
            v if v.is_primitive() => Val::Bool(false),
            _ => Val::unknown("a number test"),
        },
        p if p.starts_with("console.") => Val::Undef,
        "require" => Val::unknown(match arg(0) {
            Val::Str(s) => format!("the module `{s}`"),
            _ => "a module".into(),
        }),
        "setTimeout" | "setImmediate" | "process.nextTick" => {
            if let Some(f) = args.first() {
                let f = f.clone();
                m.call(st, &f, Val::Undef, Vec::new(), span);
            }
            Val::Undef
        }
        "Error" | "TypeError" | "RangeError" | "UnauthorizedError" => {
            let mut object = error_object("");
            if let Some(Val::Str(msg)) = args.first() {
                put(
                    &mut object,
                    "message".into(),
                    Val::Str(msg.clone()),
                    None,
                    Cond::always(),
                    false,
                );
            }
            m.alloc(st, object)
        }
        p if p.starts_with("Promise.resolver.") || p.starts_with("Promise.rejecter.") => {
            let fulfil = p.starts_with("Promise.resolver.");
            if let Some(Ok(id)) = p.rsplit('.').next().map(str::parse::<u32>)
                && let Some(o) = st.obj_mut(id)
                && o.kind == ObjKind::Promise
                && o.items.is_empty()
                && !o.open_items
            {
                if fulfil {
                    o.items.push(arg(0));
                } else {
                    // Rejections are not followed: the outcome is unknown.
                    o.open_items = true;
                }
            }
            Val::Undef
        }
        _ => return None,
    })
}

fn error_object(message: &str) -> Object {
    let mut object = Object {
        kind: ObjKind::Error,
        ..Object::plain(Rest::Closed)
    };
    put(
        &mut object,
        "message".into(),
        Val::str(message),
        None,
        Cond::always(),
        false,
    );
    object
}

fn open_array(m: &mut Machine, st: &mut State) -> Val {
    let mut object = Object::array(Vec::new());
    object.open_items = true;
    m.alloc(st, object)
}

/// `Object.assign(target, source)`: each property of `source` is written to `target` as an
/// assignment would write it (so claim writes to a token keep their place).
pub fn assign(m: &mut Machine, st: &mut State, target: &Val, source: &Val, span: Span) {
    for alt in source.alts().to_vec() {
        match &alt {
            Val::Obj(id) => {
                let Some(src) = st.obj(*id).cloned() else { continue };
                if src.kind == ObjKind::Array {
                    for (i, item) in src.items.iter().enumerate() {
                        m.set(st, target, &Val::Num(i as f64), item.clone(), span);
                    }
                }
                for p in &src.props {
                    let at = p.site.map_or(span, |s| s.span);
                    let saved = st.pc.clone();
                    if !p.presence.is_always() {
                        st.pc = st.pc.and_cond(&p.presence);
                    }
                    m.set(st, target, &Val::Str(p.key.clone()), p.value.clone(), at);
                    st.pc = saved;
                }
                for w in &src.dyn_writes {
                    m.set(st, target, &w.key, w.value.clone(), w.site.span);
                }
                if src.rest != Rest::Closed {
                    if let Val::Obj(to) = target
                        && let Some(object) = st.obj_mut_unread(*to)
                    {
                        may_be_replaced_from(object, &alt, &src);
                    }
                    let what = format!("the other properties of {}", alt.described());
                    m.named_members_copied = true;
                    m.set(
                        st,
                        target,
                        &Val::unknown(what),
                        Val::derived("a copied value", &alt),
                        span,
                    );
                    m.named_members_copied = false;
                }
            }
            Val::Undef | Val::Null | Val::Bool(_) | Val::Num(_) | Val::Func(_) | Val::Native(_) => {}
            other => {
                if let Val::Obj(to) = target
                    && let Some(object) = st.obj_mut_unread(*to)
                {
                    may_be_replaced(object, other, |_| false);
                }
                let what = format!("the properties of {}", other.described());
                m.named_members_copied = true;
                m.set(
                    st,
                    target,
                    &Val::unknown(what),
                    Val::derived("a copied value", other),
                    span,
                );
                m.named_members_copied = false;
            }
        }
    }
}

/// `Object.keys/values/entries` of a value.
fn entries(m: &mut Machine, st: &mut State, v: &Val, which: &str) -> Val {
    let Val::Obj(id) = v else {
        return match v {
            Val::Str(s) if which == "keys" => {
                let keys = (0..s.encode_utf16().count())
                    .map(|i| Val::Str(i.to_string().into()))
                    .collect();
                m.alloc_array(st, keys)
            }
            v if v.is_primitive() => m.alloc_array(st, Vec::new()),
            _ => open_array(m, st),
        };
    };
    let Some(object) = st.obj(*id).cloned() else {
        return open_array(m, st);
    };
    let mut pairs: Vec<(Val, Val)> = Vec::new();
    if object.kind == ObjKind::Array {
        for (i, item) in object.items.iter().enumerate() {
            pairs.push((Val::Str(i.to_string().into()), item.clone()));
        }
    }
    let mut open = !object.is_closed();
    for p in object.ordered_props() {
        if !p.presence.is_always() && !st.pc.implies(&p.presence) {
            open = true;
            continue;
        }
        pairs.push((Val::Str(p.key.clone()), p.value.clone()));
    }
    let mut items = Vec::new();
    for (k, val) in pairs {
        items.push(match which {
            "keys" => k,
            "values" => val,
            _ => m.alloc_array(st, vec![k, val]),
        });
    }
    let mut array = Object::array(items);
    array.open_items = open;
    m.alloc(st, array)
}

/// `JSON.stringify` of a known value: `Some(None)` for `undefined`, `None` when not known.
fn json_text(st: &State, v: &Val, depth: usize) -> Option<Option<String>> {
    if depth > 32 {
        return None;
    }
    Some(Some(match v {
        Val::Undef | Val::Func(_) | Val::Native(_) => return Some(None),
        Val::Null => "null".into(),
        Val::Bool(b) => b.to_string(),
        Val::Num(n) if n.is_finite() => number_text(*n),
        Val::Num(_) => "null".into(),
        Val::Str(s) => serde_json::to_string(&**s).ok()?,
        Val::Obj(id) => {
            let object = st.obj(*id)?.clone();
            if !object.is_closed() || object.props.iter().any(|p| !p.presence.is_always()) {
                return None;
            }
            if object.kind == ObjKind::Array {
                let mut parts = Vec::new();
                for item in &object.items {
                    parts.push(json_text(st, item, depth + 1)?.unwrap_or_else(|| "null".into()));
                }
                format!("[{}]", parts.join(","))
            } else {
                let mut parts = Vec::new();
                for p in object.ordered_props() {
                    if let Some(text) = json_text(st, &p.value, depth + 1)? {
                        parts.push(format!("{}:{text}", serde_json::to_string(&*p.key).ok()?));
                    }
                }
                format!("{{{}}}", parts.join(","))
            }
        }
        _ => return None,
    }))
}

/// A value from JSON (a parsed string, a sample profile, a closed input).
pub fn from_json(m: &mut Machine, st: &mut State, v: &serde_json::Value) -> Val {
    use serde_json::Value as J;
    match v {
        J::Null => Val::Null,
        J::Bool(b) => Val::Bool(*b),
        J::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
        J::String(s) => Val::Str(s.as_str().into()),
        J::Array(items) => {
            let items = items.iter().map(|i| from_json(m, st, i)).collect();
            m.alloc_array(st, items)
        }
        J::Object(map) => {
            let mut object = Object::plain(Rest::Closed);
            for (k, v) in map {
                let v = from_json(m, st, v);
                put(&mut object, k.as_str().into(), v, None, Cond::always(), false);
            }
            m.alloc(st, object)
        }
    }
}

fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn from_utf16(units: &[u16]) -> Val {
    Val::Str(String::from_utf16_lossy(units).into())
}

/// A relative index as `slice` reads it.
fn rel_index(v: Option<&Val>, len: usize, default: usize) -> usize {
    match v.and_then(to_number) {
        None => default,
        Some(n) if n.is_nan() => 0,
        Some(n) if n < 0.0 => (len as f64 + n.trunc()).max(0.0) as usize,
        Some(n) => (n.trunc() as usize).min(len),
    }
}

fn clamp_index(v: Option<&Val>, len: usize, default: usize) -> usize {
    match v.and_then(to_number) {
        None => default,
        Some(n) if n.is_nan() || n < 0.0 => 0,
        Some(n) => (n.trunc() as usize).min(len),
    }
}

fn string_method(m: &mut Machine, st: &mut State, this: &Val, method: &str, args: &[Val], span: Span) -> Val {
    let arg_text = |i: usize| args.get(i).and_then(Val::exact_text);
    let s = match this {
        Val::Str(s) => s.clone(),
        Val::Prefix(p, tail) => {
            // The text after the unknown part is not kept through a change of the whole.
            let rest = || Tail::with_attr(tail.attribute());
            return match method {
                "toLowerCase" | "toLocaleLowerCase" => Val::Prefix(p.to_lowercase().into(), rest()),
                "toUpperCase" | "toLocaleUpperCase" => Val::Prefix(p.to_uppercase().into(), rest()),
                "trimEnd" | "concat" => Val::Prefix(p.clone(), rest()),
                "startsWith" => match arg_text(0) {
                    Some(x) if p.starts_with(&*x) => Val::Bool(true),
                    Some(x) if !x.starts_with(&**p) => Val::Bool(false),
                    _ => Val::unknown("a text test"),
                },
                "includes" => match arg_text(0) {
                    Some(x) if p.contains(&*x) => Val::Bool(true),
                    _ => Val::unknown("a text test"),
                },
                "toString" | "valueOf" => this.clone(),
                _ => Val::derived(format!("the result of .{method}()"), this),
            };
        }
        Val::Alt(items) => {
            let items = items.to_vec();
            let results: Vec<Val> = items
                .iter()
                .map(|i| string_method(m, st, i, method, args, span))
                .collect();
            return results
                .into_iter()
                .reduce(|a, b| a.join(&b))
                .unwrap_or(Val::Undef);
        }
        other => {
            return match method {
                "toString" | "valueOf" => other.clone(),
                "split" | "match" => {
                    let mut object = Object::array(Vec::new());
                    object.open_items = true;
                    m.alloc(st, object)
                }
                "startsWith" | "endsWith" | "includes" => Val::derived("a text test", other),
                _ => Val::Unknown(Arc::new(Opaque {
                    what: format!("{}.{method}()", other.described()).into(),
                    attr: other.attribute(),
                    truthy: None,
                })),
            };
        }
    };
    let units = utf16(&s);
    let len = units.len();
    match method {
        "toLowerCase" | "toLocaleLowerCase" => Val::Str(s.to_lowercase().into()),
        "toUpperCase" | "toLocaleUpperCase" => Val::Str(s.to_uppercase().into()),
        "trim" => Val::Str(s.trim_matches(is_js_space).into()),
        "trimStart" | "trimLeft" => Val::Str(s.trim_start_matches(is_js_space).into()),
        "trimEnd" | "trimRight" => Val::Str(s.trim_end_matches(is_js_space).into()),
        "toString" | "valueOf" | "normalize" => Val::Str(s),
        "concat" => {
            let mut acc = Val::Str(s);
            for a in args {
                let t = m.to_string_val(st, a);
                acc = concat(&acc, &t);
            }
            acc
        }
        "startsWith" | "endsWith" | "includes" => match arg_text(0) {
            Some(x) => Val::Bool(match method {
                "startsWith" => {
                    let from = clamp_index(args.get(1), len, 0);
                    units[from..].starts_with(&utf16(&x))
                }
                "endsWith" => {
                    let end = clamp_index(args.get(1), len, len);
                    units[..end].ends_with(&utf16(&x))
                }
                _ => s.contains(&*x),
            }),
            None => Val::unknown("a text test"),
        },
        "indexOf" | "lastIndexOf" => match arg_text(0) {
            Some(x) => {
                let needle = utf16(&x);
                let positions: Vec<usize> = (0..=len.saturating_sub(needle.len()))
                    .filter(|&i| i + needle.len() <= len && units[i..i + needle.len()] == needle[..])
                    .collect();
                let found = if method == "indexOf" {
                    positions.first()
                } else {
                    positions.last()
                };
                Val::Num(found.map_or(-1.0, |&i| i as f64))
            }
            None => Val::unknown("a position"),
        },
        "slice" => {
            let start = rel_index(args.first(), len, 0);
            let end = rel_index(args.get(1).filter(|v| !matches!(v, Val::Undef)), len, len);
            from_utf16(if start < end { &units[start..end] } else { &[] })
        }
        "substring" => {
            let a = clamp_index(args.first(), len, 0);
            let b = clamp_index(args.get(1).filter(|v| !matches!(v, Val::Undef)), len, len);
            let (x, y) = if a <= b { (a, b) } else { (b, a) };
            from_utf16(&units[x..y])
        }
        "substr" => {
            let start = rel_index(args.first(), len, 0);
            let count = args
                .get(1)
                .and_then(to_number)
                .map_or(len, |n| n.max(0.0) as usize);
            from_utf16(&units[start..(start + count).min(len)])
        }
        "charAt" => {
            let i = args.first().and_then(to_number).unwrap_or(0.0);
            if i >= 0.0 && (i as usize) < len {
                from_utf16(&units[i as usize..i as usize + 1])
            } else {
                Val::str("")
            }
        }
        "at" => {
            let i = args.first().and_then(to_number).unwrap_or(0.0).trunc();
            let i = if i < 0.0 { len as f64 + i } else { i };
            if i >= 0.0 && (i as usize) < len {
                from_utf16(&units[i as usize..i as usize + 1])
            } else {
                Val::Undef
            }
        }
        "split" => {
            let parts: Vec<Val> = match args.first() {
                None | Some(Val::Undef) => vec![Val::Str(s.clone())],
                Some(Val::Str(sep)) if sep.is_empty() => units.iter().map(|u| from_utf16(&[*u])).collect(),
                Some(Val::Str(sep)) => s.split(&**sep).map(|p| Val::Str(p.into())).collect(),
                _ => return open_array(m, st),
            };
            let limit = args
                .get(1)
                .and_then(to_number)
                .map_or(usize::MAX, |n| n.max(0.0) as usize);
            let parts = parts.into_iter().take(limit).collect();
            m.alloc_array(st, parts)
        }
        "replace" | "replaceAll" => match (args.first(), args.get(1)) {
            (Some(Val::Str(from)), Some(Val::Str(to))) if !to.contains('$') => {
                if method == "replace" {
                    Val::Str(s.replacen(&**from, to, 1).into())
                } else if from.is_empty() {
                    Val::unknown("a replaced text")
                } else {
                    Val::Str(s.replace(&**from, to).into())
                }
            }
            (Some(Val::Str(from)), Some(f @ (Val::Func(_) | Val::Native(_)))) if method == "replace" => {
                match s.find(&**from) {
                    None => Val::Str(s),
                    Some(at) => {
                        let f = f.clone();
                        let r = m.call(st, &f, Val::Undef, vec![Val::Str(from.clone())], span);
                        let r = m.to_string_val(st, &r);
                        let head = Val::Str(s[..at].into());
                        let tail = Val::Str(s[at + from.len()..].into());
                        concat(&concat(&head, &r), &tail)
                    }
                }
            }
            _ => Val::derived("a replaced text", this),
        },
        "repeat" => match args.first().and_then(to_number) {
            Some(n) if n >= 0.0 && (n as usize).saturating_mul(s.len()) <= super::domain::MAX_TEXT => {
                Val::Str(s.repeat(n as usize).into())
            }
            _ => Val::unknown("a repeated text"),
        },
        "padStart" | "padEnd" => {
            let target = args.first().and_then(to_number).unwrap_or(0.0).max(0.0) as usize;
            let fill = arg_text(1).unwrap_or_else(|| " ".into());
            if target <= len || fill.is_empty() || target > super::domain::MAX_TEXT {
                return Val::Str(s);
            }
            let fill16 = utf16(&fill);
            let pad: Vec<u16> = fill16.iter().cycle().take(target - len).copied().collect();
            let pad = String::from_utf16_lossy(&pad);
            Val::Str(
                if method == "padStart" {
                    format!("{pad}{s}")
                } else {
                    format!("{s}{pad}")
                }
                .into(),
            )
        }
        "charCodeAt" => {
            let i = args.first().and_then(to_number).unwrap_or(0.0);
            if i >= 0.0 && (i as usize) < len {
                Val::Num(f64::from(units[i as usize]))
            } else {
                Val::Num(f64::NAN)
            }
        }
        "localeCompare" => match arg_text(0) {
            Some(x) => Val::Num(match (*s).cmp(&*x) {
                std::cmp::Ordering::Less => -1.0,
                std::cmp::Ordering::Equal => 0.0,
                std::cmp::Ordering::Greater => 1.0,
            }),
            None => Val::unknown("a comparison"),
        },
        _ => Val::derived(format!("the result of .{method}()"), this),
    }
}

fn is_js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

fn parse_int(s: &str, radix: f64) -> Val {
    let t = s.trim_matches(is_js_space);
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let mut radix = radix as u32;
    let mut t = t;
    if (radix == 0 || radix == 16)
        && let Some(r) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))
    {
        t = r;
        radix = 16;
    }
    if radix == 0 {
        radix = 10;
    }
    if !(2..=36).contains(&radix) {
        return Val::Num(f64::NAN);
    }
    let digits: String = t.chars().take_while(|c| c.is_digit(radix)).collect();
    if digits.is_empty() {
        return Val::Num(f64::NAN);
    }
    let mut n = 0f64;
    for c in digits.chars() {
        n = n * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0));
    }
    Val::Num(if neg { -n } else { n })
}

fn parse_float(s: &str) -> f64 {
    let t = s.trim_start_matches(is_js_space);
    let mut end = 0;
    let bytes = t.as_bytes();
    let mut seen_dot = false;
    let mut seen_digit = false;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    while end < bytes.len() {
        match bytes[end] {
            b'0'..=b'9' => seen_digit = true,
            b'.' if !seen_dot => seen_dot = true,
            _ => break,
        }
        end += 1;
    }
    if t[end..].starts_with("Infinity") || t.starts_with("Infinity") {
        return if t.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    if !seen_digit {
        return f64::NAN;
    }
    t[..end].parse().unwrap_or(f64::NAN)
}

fn object_method(m: &mut Machine, st: &mut State, this: &Val, method: &str, args: &[Val], span: Span) -> Val {
    match (method, this) {
        ("hasOwnProperty", Val::Obj(id)) => {
            let key = args.first().and_then(Val::exact_text);
            match (st.obj(*id), key) {
                (Some(o), Some(k)) if o.prop(&k).is_some_and(|p| p.presence.is_always()) => Val::Bool(true),
                (Some(o), Some(k)) if o.is_closed() && o.prop(&k).is_none() => {
                    Val::Bool(o.kind == ObjKind::Array && k.parse::<usize>().is_ok_and(|i| i < o.items.len()))
                }
                _ => Val::unknown("a property test"),
            }
        }
        ("toString", Val::Num(n)) => match args.first().and_then(to_number) {
            None | Some(10.0) => Val::Str(number_text(*n).into()),
            _ => Val::unknown("a number as text"),
        },
        ("toFixed", Val::Num(n)) => {
            let digits = args.first().and_then(to_number).unwrap_or(0.0).clamp(0.0, 20.0) as usize;
            Val::Str(format!("{n:.digits$}").into())
        }
        ("toString", other) => {
            let p = m.to_primitive(st, other);
            m.to_string_val(st, &p)
        }
        ("valueOf", other) => other.clone(),
        ("then", Val::Obj(id))
            if st
                .obj(*id)
                .is_some_and(|o| o.kind == ObjKind::Promise && !o.open_items) =>
        {
            let value = st.obj(*id).and_then(|o| o.items.first().cloned());
            match (args.first(), value) {
                (Some(f), Some(value)) => {
                    let f = f.clone();
                    let r = m.call(st, &f, Val::Undef, vec![value], span);
                    m.alloc(
                        st,
                        Object {
                            kind: ObjKind::Promise,
                            ..Object::array(vec![r])
                        },
                    )
                }
                _ => this.clone(),
            }
        }
        ("catch" | "finally", Val::Obj(id))
            if st
                .obj(*id)
                .is_some_and(|o| o.kind == ObjKind::Promise && !o.open_items) =>
        {
            if method == "finally"
                && let Some(f) = args.first()
            {
                let f = f.clone();
                m.call(st, &f, Val::Undef, Vec::new(), span);
            }
            this.clone()
        }
        ("then", receiver) => {
            if let Some(failed) = args.get(1)
                && matches!(receiver, Val::Unknown(_))
            {
                m.maybe_call(st, failed, vec![rejection()], span);
            }
            match args.first() {
                Some(f @ Val::Func(_)) if !matches!(receiver, Val::Unknown(_)) => {
                    let f = f.clone();
                    m.call(st, &f, Val::Undef, vec![receiver.clone()], span)
                }
                Some(f) => {
                    m.maybe_run(st, f, span);
                    Val::unknown("a promise")
                }
                None => receiver.clone(),
            }
        }
        ("catch", receiver) => {
            if let Some(f) = args.first()
                && matches!(receiver, Val::Unknown(_))
            {
                m.maybe_call(st, f, vec![rejection()], span);
            }
            receiver.clone()
        }
        ("finally", receiver) => {
            if let Some(f) = args.first()
                && matches!(receiver, Val::Unknown(_))
            {
                m.maybe_run(st, f, span);
            }
            receiver.clone()
        }
        _ => m.call_unknown(st, format_args!(".{method}()"), args.to_vec(), span),
    }
}

/// What a promise claimlint cannot follow fails with: unknown, but truthy, as the errors the
/// libraries scripts call reject with are (`.catch(callback)` denies the login).
fn rejection() -> Val {
    Val::Unknown(Arc::new(Opaque {
        what: What::Text("the error the promise failed with".into()),
        attr: None,
        truthy: Some(true),
    }))
}

fn array_method(m: &mut Machine, st: &mut State, this: &Val, method: &str, args: &[Val], span: Span) -> Val {
    let Val::Obj(id) = this else {
        return match method {
            "then" | "catch" | "finally" => object_method(m, st, this, method, args, span),
            "map" | "forEach" | "filter" | "find" | "some" | "every" | "reduce" | "flatMap" | "findIndex" => {
                // An unknown list: the callback may run for some item.
                if let Some(f) = args.first() {
                    m.maybe_run(st, f, span);
                }
                match method {
                    "map" | "filter" | "flatMap" => open_array(m, st),
                    "forEach" => Val::Undef,
                    _ => Val::derived(format!("the result of .{method}()"), this),
                }
            }
            _ => Val::derived(format!("the result of .{method}()"), this),
        };
    };
    let id = *id;
    let Some(object) = st.obj(id).cloned() else {
        return Val::unknown("a list");
    };
    if object.kind != ObjKind::Array {
        return object_method(m, st, this, method, args, span);
    }
    let known = !object.open_items && object.items.len() <= UNROLL_LIMIT;
    let items = object.items.clone();
    let callback = args.first().cloned().unwrap_or(Val::Undef);
    let each = |m: &mut Machine, st: &mut State, item: &Val, i: usize| -> Val {
        m.call(
            st,
            &callback,
            args.get(1).cloned().unwrap_or(Val::Undef),
            vec![item.clone(), Val::Num(i as f64), this.clone()],
            span,
        )
    };
    if !known
        && matches!(
            method,
            "map" | "forEach" | "filter" | "find" | "some" | "every" | "reduce" | "findIndex" | "flatMap"
        )
    {
        m.maybe_run(st, &callback, span);
        return match method {
            "map" | "filter" | "flatMap" => open_array(m, st),
            "forEach" => Val::Undef,
            _ => Val::unknown(format!("the result of .{method}()")),
        };
    }
    match method {
        "push" | "unshift" => {
            if let Some(o) = st.obj_mut(id) {
                if o.items.len() + args.len() <= super::machine::MAX_ENTRIES {
                    if method == "push" {
                        o.items.extend(args.iter().cloned());
                    } else {
                        let mut v = args.to_vec();
                        v.append(&mut o.items);
                        o.items = v;
                    }
                }
                if o.open_items {
                    return Val::unknown("a list's length");
                }
                return Val::Num(o.items.len() as f64);
            }
            Val::Undef
        }
        "pop" | "shift" => {
            if object.open_items {
                return Val::unknown("an item of a list");
            }
            match st.obj_mut(id) {
                Some(o) if method == "pop" => o.items.pop().unwrap_or(Val::Undef),
                Some(o) if !o.items.is_empty() => o.items.remove(0),
                _ => Val::Undef,
            }
        }
        "forEach" => {
            for (i, item) in items.iter().enumerate() {
                each(m, st, item, i);
            }
            Val::Undef
        }
        "map" => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                out.push(each(m, st, item, i));
            }
            m.alloc_array(st, out)
        }
        "flatMap" => {
            let mut out = Vec::new();
            let mut open = false;
            for (i, item) in items.iter().enumerate() {
                let r = each(m, st, item, i);
                match m.list_items(st, &r) {
                    Some(list) if matches!(r, Val::Obj(_)) => out.extend(list),
                    _ if matches!(r, Val::Obj(_) | Val::Unknown(_) | Val::Attr(_) | Val::Alt(_)) => {
                        open = true
                    }
                    _ => out.push(r),
                }
            }
            let mut array = Object::array(out);
            array.open_items = open;
            m.alloc(st, array)
        }
        "filter" | "find" | "findIndex" | "some" | "every" => {
            let mut kept = Vec::new();
            let mut undecided = false;
            for (i, item) in items.iter().enumerate() {
                let r = each(m, st, item, i);
                match truthy(&r) {
                    Some(true) => {
                        kept.push((i, item.clone()));
                        if matches!(method, "find" | "findIndex" | "some") && !undecided {
                            break;
                        }
                    }
                    Some(false) => {}
                    None => {
                        undecided = true;
                        kept.push((i, item.clone()));
                    }
                }
                if method == "every" && truthy(&r) == Some(false) && !undecided {
                    return Val::Bool(false);
                }
            }
            match method {
                "filter" if !undecided => {
                    let out = kept.into_iter().map(|(_, v)| v).collect();
                    m.alloc_array(st, out)
                }
                "filter" => {
                    let mut array = Object::array(Vec::new());
                    array.open_items = true;
                    m.alloc(st, array)
                }
                "find" if !undecided => kept.first().map_or(Val::Undef, |(_, v)| v.clone()),
                "findIndex" if !undecided => Val::Num(kept.first().map_or(-1.0, |(i, _)| *i as f64)),
                "some" if !undecided => Val::Bool(!kept.is_empty()),
                "every" if !undecided => Val::Bool(true),
                _ => Val::unknown(format!("the result of .{method}()")),
            }
        }
        "reduce" => {
            let mut iter = items.iter().enumerate();
            let mut acc = match args.get(1) {
                Some(init) => init.clone(),
                None => match iter.next() {
                    Some((_, first)) => first.clone(),
                    None => return Val::unknown("the reduction of an empty list"),
                },
            };
            for (i, item) in iter {
                acc = m.call(
                    st,
                    &callback,
                    Val::Undef,
                    vec![acc, item.clone(), Val::Num(i as f64), this.clone()],
                    span,
                );
            }
            acc
        }
        "includes" | "indexOf" => {
            let needle = args.first().cloned().unwrap_or(Val::Undef);
            let mut found: Option<usize> = None;
            let mut unsure = object.open_items;
            for (i, item) in items.iter().enumerate() {
                let eq = if method == "includes" {
                    match (item, &needle) {
                        (Val::Num(a), Val::Num(b)) if a.is_nan() && b.is_nan() => Some(true),
                        _ => super::machine::strict_equals(item, &needle),
                    }
                } else {
                    super::machine::strict_equals(item, &needle)
                };
                match eq {
                    Some(true) => {
                        found = Some(i);
                        break;
                    }
                    Some(false) => {}
                    None => unsure = true,
                }
            }
            match (found, unsure) {
                (Some(i), false) if method == "indexOf" => Val::Num(i as f64),
                (Some(_), _) if method == "includes" => Val::Bool(true),
                (None, false) if method == "includes" => Val::Bool(false),
                (None, false) => Val::Num(-1.0),
                _ => Val::unknown("a list lookup"),
            }
        }
        "join" => {
            if object.open_items {
                return Val::unknown("a joined list");
            }
            let sep = match args.first() {
                None | Some(Val::Undef) => Val::str(","),
                Some(v) => m.to_string_val(st, v),
            };
            let mut acc = Val::str("");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    acc = concat(&acc, &sep);
                }
                let t = match item {
                    Val::Undef | Val::Null => Val::str(""),
                    other => {
                        let p = m.to_primitive(st, other);
                        m.to_string_val(st, &p)
                    }
                };
                acc = concat(&acc, &t);
            }
            acc
        }
        "concat" => {
            let mut out = items.clone();
            let mut open = object.open_items;
            for a in args {
                match a {
                    Val::Obj(aid) if st.obj(*aid).is_some_and(|o| o.kind == ObjKind::Array) => {
                        if let Some(o) = st.obj(*aid) {
                            out.extend(o.items.iter().cloned());
                            open |= o.open_items;
                        }
                    }
                    Val::Unknown(_) | Val::Attr(_) | Val::Alt(_) => open = true,
                    other => out.push(other.clone()),
                }
            }
            out.truncate(super::machine::MAX_ENTRIES);
            let mut array = Object::array(out);
            array.open_items = open;
            m.alloc(st, array)
        }
        "slice" => {
            if object.open_items {
                return open_array(m, st);
            }
            let len = items.len();
            let start = rel_index(args.first(), len, 0);
            let end = rel_index(args.get(1).filter(|v| !matches!(v, Val::Undef)), len, len);
            let out = if start < end {
                items[start..end].to_vec()
            } else {
                Vec::new()
            };
            m.alloc_array(st, out)
        }
        "reverse" => {
            if let Some(o) = st.obj_mut(id) {
                o.items.reverse();
            }
            this.clone()
        }
        "sort" if args.is_empty() => {
            let texts: Option<Vec<(Vec<u16>, Val)>> = items
                .iter()
                .map(|v| v.exact_text().map(|t| (utf16(&t), v.clone())))
                .collect();
            if let (Some(mut texts), false) = (texts, object.open_items) {
                texts.sort_by(|a, b| a.0.cmp(&b.0));
                if let Some(o) = st.obj_mut(id) {
                    o.items = texts.into_iter().map(|(_, v)| v).collect();
                }
            }
            this.clone()
        }
        "flat" => {
            let mut out = Vec::new();
            let mut open = object.open_items;
            for item in &items {
                match item {
                    Val::Obj(i) if st.obj(*i).is_some_and(|o| o.kind == ObjKind::Array) => {
                        if let Some(o) = st.obj(*i) {
                            out.extend(o.items.iter().cloned());
                            open |= o.open_items;
                        }
                    }
                    other => out.push(other.clone()),
                }
            }
            let mut array = Object::array(out);
            array.open_items = open;
            m.alloc(st, array)
        }
        "keys" | "values" | "entries" => {
            let which = method.to_string();
            entries(m, st, this, &which)
        }
        _ => object_method(m, st, this, method, args, span),
    }
}

fn set_method(m: &mut Machine, st: &mut State, this: &Val, method: &str, args: &[Val], span: Span) -> Val {
    let Val::Obj(id) = this else {
        return m.call_unknown(st, format_args!(".{method}()"), args.to_vec(), span);
    };
    let id = *id;
    let Some(object) = st.obj(id).cloned() else {
        return Val::unknown("a set");
    };
    let arg = args.first().cloned().unwrap_or(Val::Undef);
    match method {
        "has" => {
            if object
                .items
                .iter()
                .any(|i| super::machine::same_value_zero(i, &arg))
            {
                Val::Bool(true)
            } else if object.open_items || object.items.iter().any(|i| !i.is_exact()) || !arg.is_exact() {
                Val::unknown("a set lookup")
            } else {
                Val::Bool(false)
            }
        }
        "add" => {
            if let Some(o) = st.obj_mut(id)
                && !o.items.iter().any(|i| super::machine::same_value_zero(i, &arg))
                && o.items.len() < super::machine::MAX_ENTRIES
            {
                o.items.push(arg);
            }
            this.clone()
        }
        "delete" => {
            let had = object
                .items
                .iter()
                .any(|i| super::machine::same_value_zero(i, &arg));
            if let Some(o) = st.obj_mut(id) {
                o.items.retain(|i| !super::machine::same_value_zero(i, &arg));
            }
            Val::Bool(had)
        }
        "forEach" => {
            let f = arg;
            for item in object.items.clone() {
                m.call(st, &f, Val::Undef, vec![item.clone(), item, this.clone()], span);
            }
            Val::Undef
        }
        "values" | "keys" => m.alloc_array(st, object.items.clone()),
        _ => m.call_unknown(st, format_args!(".{method}()"), args.to_vec(), span),
    }
}

/// A copy of a value as it is now (`api.idToken.setCustomClaim` keeps what it was given, not
/// a reference the action may change later).
pub fn snapshot(m: &mut Machine, st: &mut State, v: &Val, depth: usize) -> Val {
    let Val::Obj(id) = v else {
        return v.clone();
    };
    let Some(object) = st.obj(*id).cloned() else {
        return v.clone();
    };
    if depth > 16 {
        return Val::unknown("a deeply nested value");
    }
    let mut copy = object.clone();
    copy.items = object
        .items
        .iter()
        .map(|i| snapshot(m, st, i, depth + 1))
        .collect();
    for p in &mut copy.props {
        p.value = snapshot(m, st, &p.value, depth + 1);
    }
    m.alloc(st, copy)
}
