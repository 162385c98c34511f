//! Hand-written closed scripts for semantics the generator reaches only by chance: when the
//! claims are taken, JSON's spelling of odd numbers, hoisting, what a second callback does...

use serde_json::{Value, json};

use super::idiom_gen::{Case, Kind};

fn rule_input() -> Value {
    json!({
        "user": {
            "user_id": "auth0|1", "email": "alice@example.com", "email_verified": true,
            "name": "Alice", "logins_count": 3,
            "app_metadata": { "roles": ["admin"], "plan": "pro" },
        },
        "context": {
            "clientID": "cl_portal01", "clientName": "Portal", "connection": "google-oauth2",
            "connectionStrategy": "google-oauth2", "protocol": "oidc-basic-profile",
            "request": { "ip": "203.0.113.7", "geoip": { "country_code": "NZ" } },
            "stats": { "loginsCount": 3 }, "clientMetadata": {},
        },
        "configuration": { "NS": "https://example.com/" },
    })
}

fn event_input() -> Value {
    json!({ "event": {
        "user": { "user_id": "auth0|1", "email": "alice@example.com", "name": "Alice",
                  "app_metadata": { "roles": ["admin"] } },
        "client": { "client_id": "cl_portal01", "name": "Portal", "metadata": {} },
        "connection": { "id": "con_1", "name": "google-oauth2", "strategy": "google-oauth2" },
        "transaction": { "protocol": "oidc-basic-profile", "requested_scopes": ["openid"] },
        "secrets": { "NS": "https://example.com/" },
    }})
}

fn rule(body: &str) -> Case {
    Case {
        kind: Kind::Rule,
        source: format!("function (user, context, callback) {{\n{body}\n}}"),
        input: rule_input(),
    }
}

fn action(body: &str) -> Case {
    Case {
        kind: Kind::PostLoginAction,
        source: format!("exports.onExecutePostLogin = async (event, api) => {{\n{body}\n}};"),
        input: event_input(),
    }
}

/// `(name, case)`: the name is what `CLAIMLINT_DIFF_CASE` takes.
pub fn cases() -> Vec<(&'static str, Case)> {
    vec![
        (
            "claim-after-callback",
            rule("  context.idToken.early = 1;\n  callback(null, user, context);\n  context.idToken.late = 2;"),
        ),
        (
            "rule-claim-is-a-reference",
            rule(
                "  const roles = ['a'];\n  context.idToken.roles = roles;\n  roles.push('b');\n  callback(null, user, context);",
            ),
        ),
        (
            "action-claim-is-a-copy",
            action(
                "  const roles = ['a'];\n  api.idToken.setCustomClaim('roles', roles);\n  roles.push('b');\n  api.idToken.setCustomClaim('n', roles.length);",
            ),
        ),
        (
            "action-never-settles",
            action("  api.idToken.setCustomClaim('a', 1);\n  await new Promise(() => {});"),
        ),
        (
            "json-number-spelling",
            rule(
                "  Object.assign(context.idToken, { nan: NaN, negzero: -0, big: 1e21, third: 1 / 3,\n    sum: 0.1 + 0.2, inf: 1 / 0, undef: undefined, fn: function () {}, nested: [undefined, NaN] });\n  context.accessToken.text = '' + 1e21 + ' ' + 0.000001 + ' ' + 1e-7 + ' ' + (-0);\n  callback(null, user, context);",
            ),
        ),
        (
            "stringify-key-order",
            rule(
                "  context.idToken.s = JSON.stringify({ b: 1, 2: 'x', a: [1, { d: null, c: true }], 1: 'y' });\n  context.idToken.k = Object.keys({ z: 1, 10: 2, 9: 3, y: 4 }).join();\n  callback(null, user, context);",
            ),
        ),
        (
            "hoisting",
            rule(
                "  context.idToken.before = typeof later;\n  context.idToken.fn = twice(21);\n  var later = 1;\n  callback(null, user, context);\n  function twice(n) { return n * 2; }",
            ),
        ),
        (
            "switch-fall-through",
            rule(
                "  let out = [];\n  switch (context.clientName) {\n    case 'Admin Console':\n      out.push('admin');\n    case 'Portal':\n      out.push('portal');\n    case 'Mobile App':\n      out.push('mobile');\n      break;\n    default:\n      out.push('default');\n  }\n  context.idToken.path = out;\n  callback(null, user, context);",
            ),
        ),
        (
            "second-callback-ignored",
            rule(
                "  context.idToken.a = 1;\n  callback(null, user, context);\n  callback(new UnauthorizedError('too late'));",
            ),
        ),
        (
            "throw-after-callback",
            rule("  context.idToken.a = 1;\n  callback(null, user, context);\n  throw new Error('ignored');"),
        ),
        (
            "callback-in-a-promise",
            rule(
                "  Promise.resolve(user.email).then((email) => {\n    context.idToken.email = email.toUpperCase();\n    callback(null, user, context);\n  });",
            ),
        ),
        (
            "callback-with-another-user",
            rule("  callback(null, Object.assign({}, user, { country: 'NZ', name: undefined }), context);"),
        ),
        (
            "user-alias-push",
            rule(
                "  const roles = user.app_metadata.roles;\n  roles.push('auditor');\n  user.app_metadata = { ...user.app_metadata, plan: 'gold' };\n  delete user.logins_count;\n  callback(null, user, context);",
            ),
        ),
        (
            "context-token-replaced",
            rule(
                "  context.idToken.a = 1;\n  context.idToken = { b: 2 };\n  context.accessToken = Object.assign({}, context.accessToken, { c: 3 });\n  callback(null, user, context);",
            ),
        ),
        (
            "loose-equality",
            rule(
                "  context.idToken.eq = [1 == '1', 0 == '', null == undefined, null == 0, '' == false,\n    NaN == NaN, [] == '', 'a' != 'a', undefined === null, typeof null, typeof undefined];\n  callback(null, user, context);",
            ),
        ),
        (
            "string-number-mix",
            rule(
                "  context.idToken.v = ['v' + 2, 1 + 2 + '3', '3' * '4', '10' / 4, '7' - 2, +'', +' 8 ',\n    String(1 / 4), (12.5).toString(), parseInt('08'), Number('0x10'), 2 ** 53 + 1];\n  callback(null, user, context);",
            ),
        ),
        (
            "closure-counter",
            rule(
                "  let hits = 0;\n  const bump = (k = 1) => { hits += k; };\n  bump(); bump(3);\n  function shadow(hits) { return hits + 100; }\n  context.idToken.hits = hits;\n  context.idToken.shadow = shadow(1);\n  callback(null, user, context);",
            ),
        ),
        (
            "try-finally-order",
            rule(
                "  const log = [];\n  try {\n    log.push('try');\n    throw new Error('x');\n  } catch ({ message }) {\n    log.push('catch ' + message);\n  } finally {\n    log.push('finally');\n  }\n  context.idToken.log = log;\n  callback(null, user, context);",
            ),
        ),
        (
            "deny-then-continue",
            action("  api.access.deny('no');\n  api.idToken.setCustomClaim('after', true);"),
        ),
        (
            "action-throws-after-claims",
            action("  api.idToken.setCustomClaim('a', 1);\n  throw new Error('boom');"),
        ),
        (
            "hook-scope-dropped",
            Case {
                kind: Kind::Hook,
                source: "module.exports = function (client, scope, audience, context, cb) {\n  var access_token = {};\n  access_token['https://example.com/aud'] = audience;\n  access_token.scope = scope;\n  cb(null, access_token);\n};".into(),
                input: json!({ "client": { "id": "c1", "name": "CLI", "tenant": "acme", "metadata": {} },
                               "scope": ["read:reports"], "audience": "urn:partner", "context": {} }),
            },
        ),
    ]
}
