//! Message templates: `{name}` placeholders filled in from a check's variables.

/// The placeholders a template uses, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                found.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    found
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
}

/// Fills `{name}` placeholders; unknown names stay as written.
pub fn render(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after
            .find('}')
            .filter(|close| is_name(&after[..*close]))
            .and_then(|close| {
                vars.iter()
                    .find(|(k, _)| *k == &after[..close])
                    .map(|(_, v)| (close, v))
            });
        match value {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_placeholders_only() {
        let vars = [("claim", "country".to_string())];
        assert_eq!(
            render("claim `{claim}` in {other} {x y}", &vars),
            "claim `country` in {other} {x y}"
        );
        assert_eq!(placeholders("{a} and {b_2} but not {B} or {}"), ["a", "b_2"]);
    }
}
