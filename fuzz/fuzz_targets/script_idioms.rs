//! Structure-aware script evaluation: the input bytes choose, one decision each, among the
//! idioms real rules use (namespaced and bare claims, conditions on the client, connection and
//! protocol, profile writes, loops, templates, early returns), so the evaluator is exercised on
//! JavaScript that parses rather than on noise.
#![no_main]
use libfuzzer_sys::fuzz_target;

struct Choices<'a> {
    bytes: &'a [u8],
}

impl Choices<'_> {
    fn pick(&mut self, n: usize) -> usize {
        match self.bytes.split_first() {
            Some((&b, rest)) => {
                self.bytes = rest;
                usize::from(b) % n
            }
            None => 0,
        }
    }
}

const KEYS: [&str; 6] = ["role", "plan", "email", "groups", "given_name", "tier"];

fn key(c: &mut Choices<'_>) -> &'static str {
    KEYS[c.pick(KEYS.len())]
}

fn expr(c: &mut Choices<'_>, depth: usize) -> String {
    let leaf = depth == 0;
    match c.pick(if leaf { 6 } else { 13 }) {
        0 => "user.email".into(),
        1 => format!("user.app_metadata.{}", key(c)),
        2 => "context.clientName".into(),
        3 => "context.connection".into(),
        4 => format!("'{}'", key(c)),
        5 => "v".into(),
        6 => format!("NS + '{}'", key(c)),
        7 => format!("{} || 'none'", expr(c, depth - 1)),
        8 => format!("{} ? {} : {}", cond(c, depth - 1), expr(c, depth - 1), expr(c, depth - 1)),
        9 => format!("[{}, {}]", expr(c, depth - 1), expr(c, depth - 1)),
        10 => format!("{{ a: {} }}", expr(c, depth - 1)),
        11 => format!("`${{{}}}-x`", expr(c, depth - 1)),
        _ => format!("JSON.stringify({})", expr(c, depth - 1)),
    }
}

fn cond(c: &mut Choices<'_>, depth: usize) -> String {
    match c.pick(if depth == 0 { 4 } else { 6 }) {
        0 => "context.clientName === 'Admin'".into(),
        1 => "user.email_verified".into(),
        2 => "context.protocol === 'oauth2-refresh-token'".into(),
        3 => "context.clientMetadata.tier === 'gold'".into(),
        4 => format!("!({})", cond(c, depth - 1)),
        _ => format!("{} && {}", cond(c, depth - 1), cond(c, depth - 1)),
    }
}

fn statements(c: &mut Choices<'_>, depth: usize, out: &mut String) {
    let count = 1 + c.pick(4);
    for _ in 0..count {
        match c.pick(if depth == 0 { 6 } else { 10 }) {
            0 => out.push_str(&format!("context.idToken[NS + '{}'] = {};\n", key(c), expr(c, 2))),
            1 => out.push_str(&format!("context.accessToken.{} = {};\n", key(c), expr(c, 2))),
            2 => out.push_str(&format!("v = {};\n", expr(c, 2))),
            3 => out.push_str(&format!("user.app_metadata.{} = {};\n", key(c), expr(c, 1))),
            4 => out.push_str(&format!("context.idToken['{}'] = {};\n", key(c), expr(c, 1))),
            5 => out.push_str("auth0.users.updateAppMetadata(user.user_id, user.app_metadata);\n"),
            6 => {
                out.push_str(&format!("if ({}) {{\n", cond(c, 2)));
                statements(c, depth - 1, out);
                out.push_str("} else {\n");
                statements(c, depth - 1, out);
                out.push_str("}\n");
            }
            7 => {
                out.push_str(&format!("if ({}) return callback(null, user, context);\n", cond(c, 1)));
            }
            8 => {
                out.push_str(&format!("for (const g of user.app_metadata.{} || []) {{\n", key(c)));
                statements(c, depth - 1, out);
                out.push_str("}\n");
            }
            _ => {
                out.push_str("(function () {\n");
                statements(c, depth - 1, out);
                out.push_str("})();\n");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut choices = Choices { bytes: data };
    let mut body = String::new();
    statements(&mut choices, 3, &mut body);
    let script = format!(
        "function (user, context, callback) {{\nconst NS = 'https://example.com/';\nlet v;\n{body}callback(null, user, context);\n}}\n"
    );
    assert!(claimlint::js::analyse(&script).errors.is_empty(), "generated script does not parse:\n{script}");
    claimlint_fuzz::lint_tree(
        &[("rules/fuzz.js", script.as_bytes()), ("rules/fuzz.json", claimlint_fuzz::RULE_META)],
        |_, _| {},
    );
});
