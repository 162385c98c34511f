// The differential test's oracle: runs closed Auth0 scripts in node and reports what they did.
//
// Usage: node tests/oracle/run.mjs CASES.json [OUT.json]
//
// CASES.json is an array of { "kind": "rule" | "post-login-action" |
// "credentials-exchange-action" | "hook", "source": "...", "input": {...} }. The result (to
// OUT.json, or stdout) is an array of the same length, one object per case in the shape of
// `claimlint::eval::closed::ClosedRun` ({ outcome, id_token, access_token, user, exact }) plus
// two diagnostics the Rust side ignores when comparing:
//   harness_error  null, or why the case could not be run (the script does not compile, the
//                  handler is missing, the run timed out...): a bug in whatever wrote the case.
//   thrown         null, or "Name: message" of what the script threw and nobody caught.
//
// Each case runs in a fresh `node:vm` context (its own builtins: Object, Array, JSON...), with
// the inputs parsed inside that context, a time limit, and microtasks drained before the
// context is read (so an action's awaits settle; one that never settles counts as "none").
// This is test tooling: claimlint itself never runs tenant code.

import { readFileSync, writeFileSync } from 'node:fs';
import vm from 'node:vm';

const TIMEOUT_MS = 1000;

// Trusted code run first in every context: the mocks and the bookkeeping. Names start with
// `__` so that generated scripts cannot collide with them.
const PRELUDE = String.raw`
var __in = JSON.parse(__input);
var __pristine = JSON.parse(__input);
var __state = { done: false, outcome: 'none', id_token: {}, access_token: {}, user: {},
                denied: false, settled: false, thrown: null, harness_error: null };
var console = { log() {}, info() {}, warn() {}, error() {}, debug() {} };

class UnauthorizedError extends Error {
  constructor(message) { super(message); this.name = 'UnauthorizedError'; }
}

function __describe(e) {
  try {
    if (e !== null && typeof e === 'object') return String(e.name) + ': ' + String(e.message);
    return 'non-error: ' + String(e);
  } catch (_) { return 'unprintable'; }
}

// JSON round trip; undefined when the value has no JSON form (undefined, a function).
function __json(v) {
  const s = JSON.stringify(v);
  return s === undefined ? undefined : JSON.parse(s);
}

function __claims(v) {
  const c = __json(v);
  return c !== null && typeof c === 'object' && !Array.isArray(c) ? c : {};
}

// JSON text with object keys sorted: two values are the same JSON iff these are equal.
function __canon(v) {
  return JSON.stringify(v, function (k, x) {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) return x;
    const o = {};
    for (const key of Object.keys(x).sort()) o[key] = x[key];
    return o;
  });
}

// Root attributes of the user whose JSON differs from the input's (deleted -> null).
function __userDiff(before, after) {
  const out = {};
  if (after === null || typeof after !== 'object') return out;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const k of keys) {
    if (__canon(before[k]) !== __canon(after[k])) {
      const v = __json(after[k]);
      out[k] = v === undefined ? null : v;
    }
  }
  return out;
}

function __mockApi(idToken, accessToken) {
  const setter = (claims) => ({
    setCustomClaim(name, value) {
      const v = __json(value);
      if (v === undefined) delete claims[String(name)];
      else claims[String(name)] = v;
    },
    addScope() {}, removeScope() {},
  });
  return {
    idToken: setter(idToken),
    accessToken: setter(accessToken),
    access: { deny(reason) { __state.denied = true; } },
    multifactor: { enable() {} },
    redirect: { sendUserTo() {}, encodeToken() { return 'token'; }, validateToken() { return {}; } },
    user: { setAppMetadata() {}, setUserMetadata() {} },
    authentication: { challengeWith() {}, recordMethod() {} },
    cache: { get() { return undefined; }, set() { return { type: 'success' }; }, delete() {} },
  };
}

function __runAction(handler, withIdToken) {
  const idToken = {};
  const accessToken = {};
  const api = __mockApi(idToken, accessToken);
  const fn = __module.exports[handler];
  if (typeof fn !== 'function') {
    __state.harness_error = 'the script exports no ' + handler;
    return;
  }
  let result;
  try {
    result = fn(__in.event, api);
  } catch (e) {
    __state.settled = true;
    __state.thrown = __describe(e);
    return;
  }
  Promise.resolve(result).then(
    () => {
      __state.settled = true;
      __state.id_token = withIdToken ? __claims(idToken) : {};
      __state.access_token = __claims(accessToken);
    },
    (e) => { __state.settled = true; __state.thrown = __describe(e); },
  );
}

function __finishAction() {
  if (!__state.settled) return { outcome: 'none' };
  if (__state.thrown !== null || __state.denied) return { outcome: 'denied' };
  return { outcome: 'issued', id_token: __state.id_token, access_token: __state.access_token };
}

// Rules: the first call decides.
var __user = __in.user || {};
var __context = __in.context || {};
if (__context.idToken === undefined) __context.idToken = {};
if (__context.accessToken === undefined) __context.accessToken = {};
var configuration = __in.configuration || {};
function __callback(err, user, context) {
  if (__state.done) return;
  __state.done = true;
  if (err !== null && err !== undefined) { __state.outcome = 'denied'; return; }
  const u = user !== null && typeof user === 'object' ? user : __user;
  const c = context !== null && typeof context === 'object' ? context : __context;
  __state.outcome = 'issued';
  __state.id_token = __claims(c.idToken);
  __state.access_token = __claims(c.accessToken);
  __state.user = __userDiff(__pristine.user || {}, u);
}

// Hooks: cb(err) or cb(null, accessToken); the first call decides.
function __cb(err, accessToken) {
  if (__state.done) return;
  __state.done = true;
  if (err !== null && err !== undefined) { __state.outcome = 'denied'; return; }
  __state.outcome = 'issued';
  const claims = __claims(accessToken);
  delete claims.scope;
  __state.access_token = claims;
}

// An async rule or hook: a rejection is a throw.
function __settle(result) {
  if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
    result.then(undefined, (e) => { if (__state.thrown === null) __state.thrown = __describe(e); });
  }
}

function __finishCallback() {
  if (__state.done) {
    if (__state.outcome !== 'issued') return { outcome: __state.outcome };
    return { outcome: 'issued', id_token: __state.id_token, access_token: __state.access_token,
             user: __state.user };
  }
  return { outcome: __state.thrown !== null ? 'denied' : 'none' };
}

var __module = { exports: {} };
`;

const ACTIONS = {
  'post-login-action': ['onExecutePostLogin', true],
  'credentials-exchange-action': ['onExecuteCredentialsExchange', false],
};

function module_(source) {
  return `(function (exports, module, require) {\n${source}\n})(__module.exports, __module, undefined);\n`;
}

function wrap(kind, source) {
  switch (kind) {
    case 'rule':
      return `(function () {\nconst __rule = (${source}\n);\n__settle(__rule(__user, __context, __callback));\n})();\n`;
    case 'hook':
      return (
        module_(source) +
        `__settle(__module.exports(__in.client, __in.scope, __in.audience, __in.context, __cb));\n`
      );
    default: {
      const [handler, withIdToken] = ACTIONS[kind];
      return module_(source) + `__runAction(${JSON.stringify(handler)}, ${withIdToken});\n`;
    }
  }
}

function finish(kind) {
  return kind === 'rule' || kind === 'hook' ? '__finishCallback()' : '__finishAction()';
}

function runCase(c, index) {
  const result = {
    outcome: 'none', id_token: {}, access_token: {}, user: {}, exact: true,
    harness_error: null, thrown: null,
  };
  if (!['rule', 'hook', ...Object.keys(ACTIONS)].includes(c.kind)) {
    result.harness_error = `unknown kind ${JSON.stringify(c.kind)}`;
    return result;
  }
  const context = vm.createContext(
    { __input: JSON.stringify(c.input ?? {}) },
    { microtaskMode: 'afterEvaluate', codeGeneration: { strings: false, wasm: false } },
  );
  const opts = { timeout: TIMEOUT_MS };
  vm.runInContext(PRELUDE, context, { ...opts, filename: 'prelude.js' });
  let script;
  try {
    script = new vm.Script(wrap(c.kind, c.source), { filename: `case-${index}.js` });
  } catch (e) {
    result.harness_error = `does not compile: ${e}`;
    return result;
  }
  try {
    script.runInContext(context, opts);
  } catch (e) {
    if (e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      result.harness_error = `timed out after ${TIMEOUT_MS} ms`;
      return result;
    }
    // A synchronous throw out of the rule or hook (actions catch their own).
    context.__thrown = e;
    vm.runInContext('__state.thrown = __describe(__thrown);', context, opts);
  }
  try {
    const out = JSON.parse(vm.runInContext(`JSON.stringify(${finish(c.kind)})`, context, opts));
    const harness = vm.runInContext('__state.harness_error', context, opts);
    result.thrown = vm.runInContext('__state.thrown', context, opts);
    Object.assign(result, out);
    result.harness_error = harness;
  } catch (e) {
    result.harness_error = `could not read the result: ${e}`;
  }
  return result;
}

const [casesPath, outPath] = process.argv.slice(2);
if (!casesPath) {
  console.error('usage: node tests/oracle/run.mjs CASES.json [OUT.json]');
  process.exit(2);
}
const cases = JSON.parse(readFileSync(casesPath, 'utf8'));
const results = cases.map(runCase);
const text = JSON.stringify(results, null, 1) + '\n';
if (outPath) writeFileSync(outPath, text);
else process.stdout.write(text);
