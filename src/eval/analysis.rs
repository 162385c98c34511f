//! The analysis of an export: each script summarised once per distinct set of login facts it
//! reads (a memo keyed by those facts), logins grouped by what their scripts do, and every
//! group's evaluation composed from the summaries.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rayon::prelude::*;

use super::pipeline::compose;
use super::*;

/// A script that runs in a login, with the kind it runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum UnitRef {
    Rule(usize),
    Action(usize, ScriptKind),
    Hook(usize),
}

fn run_list(tenant: &Tenant, scripts: &Scripts, scenario: &Scenario) -> Vec<UnitRef> {
    let mut out = Vec::new();
    let action_named = |name: &str| {
        scripts.actions.iter().position(|(i, _)| {
            let action = &tenant.actions[*i];
            action.name == name && action.deployed
        })
    };
    if scenario.protocol == CREDENTIALS_PROTOCOL {
        for (k, (i, _)) in scripts.hooks.iter().enumerate() {
            let hook = &tenant.hooks[*i];
            let trigger = hook.trigger_id.as_deref().unwrap_or("");
            if hook.enabled && (trigger == "credentials-exchange" || trigger == "client-credentials-exchange")
            {
                out.push(UnitRef::Hook(k));
            }
        }
        for binding in tenant
            .triggers
            .iter()
            .filter(|b| b.trigger == "credentials-exchange")
        {
            if let Some(k) = action_named(&binding.action_name) {
                out.push(UnitRef::Action(k, ScriptKind::CredentialsExchangeAction));
            }
        }
    } else {
        let mut rules: Vec<usize> = (0..scripts.rules.len())
            .filter(|&k| {
                let rule = &tenant.rules[scripts.rules[k].0];
                rule.enabled && rule.stage.as_deref().is_none_or(|s| s == "login_success")
            })
            .collect();
        rules.sort_by_key(|&k| {
            let rule = &tenant.rules[scripts.rules[k].0];
            (rule.order.unwrap_or(i64::MAX), rule.name.clone())
        });
        out.extend(rules.into_iter().map(UnitRef::Rule));
        for binding in tenant.triggers.iter().filter(|b| b.trigger == "post-login") {
            if let Some(k) = action_named(&binding.action_name) {
                out.push(UnitRef::Action(k, ScriptKind::PostLoginAction));
            }
        }
    }
    out
}

pub(crate) fn unit_of(scripts: &Scripts, r: UnitRef) -> (&ScriptUnit, ScriptKind) {
    match r {
        UnitRef::Rule(k) => (&scripts.rules[k].1, ScriptKind::Rule),
        UnitRef::Action(k, kind) => (&scripts.actions[k].1, kind),
        UnitRef::Hook(k) => (&scripts.hooks[k].1, ScriptKind::Hook),
    }
}

/// The scripts a login runs, in order, each with the summary that applies to it.
type RunSummaries = Vec<(UnitRef, Arc<Summary>)>;

/// Summaries of one script, one per distinct set of facts it read.
#[derive(Debug, Default)]
struct Memo {
    summaries: Vec<Arc<Summary>>,
}

impl Memo {
    fn get(&mut self, unit: &ScriptUnit, kind: ScriptKind, facts: &LoginFacts, signals: &Signals) -> usize {
        if let Some(i) = self.summaries.iter().position(|s| s.applies_to(facts)) {
            return i;
        }
        let summary = summary::run(
            &unit.lowered.ir,
            &unit.text,
            kind,
            Mode::Abstract(facts.clone()),
            machine::STEP_BUDGET,
            signals,
        );
        self.summaries.push(Arc::new(summary));
        self.summaries.len() - 1
    }
}

/// Everything the token checks need for one export: every script summarised once per
/// distinct set of facts it reads, and every login's evaluation built from those summaries.
#[derive(Debug)]
pub struct Analysis {
    /// One evaluation per group of logins that agree on everything the evaluation depends on.
    pub evaluations: Vec<Evaluation>,
    /// `(client, connection, protocol)` → index into `evaluations`.
    logins: HashMap<(String, Option<String>, String), usize>,
    /// Indices into `evaluations` by connection name.
    connections: HashMap<String, Vec<usize>>,
    /// Indices into `evaluations` in proof order: logins before refreshes, OIDC-conformant
    /// before legacy, clients by name.
    order: Vec<usize>,
    memos: Vec<std::sync::Mutex<(UnitRef, Memo)>>,
    /// The profile each custom-database script hands to its callback, by script.
    databases: Vec<Vec<(String, Span)>>,
}

impl Analysis {
    pub fn new(tenant: &Tenant, scripts: &Scripts, platform: &Platform, sources: &SourceMap) -> Analysis {
        let scenarios = scenarios(tenant, scripts, platform);
        let facts: Vec<LoginFacts> = scenarios.iter().map(|s| login_facts(tenant, s)).collect();
        let lists: Vec<Vec<UnitRef>> = scenarios.iter().map(|s| run_list(tenant, scripts, s)).collect();
        // Every (script, kind) that runs somewhere, summarised in parallel: each script's memo
        // sees the logins in order, so the result does not depend on threads.
        let mut units: Vec<UnitRef> = lists.iter().flatten().copied().collect();
        units.sort();
        units.dedup();
        let per_unit: Vec<(UnitRef, Memo, Vec<Option<usize>>)> = units
            .par_iter()
            .map(|&r| {
                let (unit, kind) = unit_of(scripts, r);
                let mut memo = Memo::default();
                let picks: Vec<Option<usize>> = lists
                    .iter()
                    .zip(&facts)
                    .map(|(list, f)| {
                        list.contains(&r)
                            .then(|| memo.get(unit, kind, f, platform.signals()))
                    })
                    .collect();
                // Summaries that read different facts but do the same (a rule that checks the
                // client name and does nothing for most clients) are one for composing logins.
                let mut canonical: Vec<usize> = Vec::with_capacity(memo.summaries.len());
                let mut keys: HashMap<String, usize> = HashMap::new();
                for (i, summary) in memo.summaries.iter().enumerate() {
                    canonical.push(*keys.entry(summary.effects_key()).or_insert(i));
                }
                let picks = picks.into_iter().map(|p| p.map(|i| canonical[i])).collect();
                (r, memo, picks)
            })
            .collect();
        // Logins that use the same summaries through the same connection and pipeline share
        // one evaluation.
        let mut representatives: Vec<(usize, RunSummaries)> = Vec::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        let mut logins = HashMap::new();
        let mut keys: Vec<(Scenario, Vec<(usize, usize)>)> = Vec::new();
        for (i, scenario) in scenarios.iter().enumerate() {
            let picks: Vec<(usize, usize)> = lists[i]
                .iter()
                .filter_map(|r| {
                    let u = units.binary_search(r).ok()?;
                    Some((u, per_unit[u].2[i]?))
                })
                .collect();
            // What the evaluation depends on besides the scripts: the login's shape, and of
            // the client only its Auth0-side SSO setting (a deny-list exclusion).
            let mut shape = scenario.clone();
            let sso = tenant
                .client(&scenario.client)
                .and_then(|c| c.sso.as_ref())
                .is_some_and(|s| s.value);
            shape.client = if sso { "sso".into() } else { String::new() };
            keys.push((shape, picks));
        }
        let mut by_shape: BTreeMap<(Scenario, Vec<(usize, usize)>), usize> = BTreeMap::new();
        for (i, key) in keys.into_iter().enumerate() {
            let group = match by_shape.get(&key) {
                Some(g) => *g,
                None => {
                    let g = representatives.len();
                    let summaries = key
                        .1
                        .iter()
                        .map(|(u, s)| (per_unit[*u].0, per_unit[*u].1.summaries[*s].clone()))
                        .collect();
                    representatives.push((i, summaries));
                    members.push(Vec::new());
                    by_shape.insert(key, g);
                    g
                }
            };
            members[group].push(i);
            let s = &scenarios[i];
            logins.insert(
                (s.client.clone(), s.connection.clone(), s.protocol.clone()),
                group,
            );
        }
        let evaluations: Vec<Evaluation> = representatives
            .par_iter()
            .enumerate()
            .map(|(g, (i, summaries))| {
                let mut e = compose(tenant, scripts, platform, sources, &scenarios[*i], summaries);
                e.members = members[g].iter().map(|&m| scenarios[m].client.clone()).collect();
                e
            })
            .collect();
        let mut connections: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, evaluation) in evaluations.iter().enumerate() {
            if let Some(name) = &evaluation.scenario.connection {
                connections.entry(name.clone()).or_default().push(i);
            }
        }
        let mut order: Vec<usize> = (0..evaluations.len()).collect();
        order.sort_by(|&a, &b| {
            let key = |e: &Evaluation| (e.scenario.is_refresh(), e.scenario.pipeline);
            let (ea, eb) = (&evaluations[a], &evaluations[b]);
            key(ea)
                .cmp(&key(eb))
                .then_with(|| ea.scenario.client.cmp(&eb.scenario.client))
                .then_with(|| ea.scenario.connection.cmp(&eb.scenario.connection))
        });
        let memos = per_unit
            .into_iter()
            .map(|(r, memo, _)| std::sync::Mutex::new((r, memo)))
            .collect();
        let databases = scripts
            .databases
            .par_iter()
            .map(|(_, unit)| {
                let facts = LoginFacts::default();
                summary::run(
                    &unit.lowered.ir,
                    &unit.text,
                    ScriptKind::Database,
                    Mode::Abstract(facts),
                    machine::STEP_BUDGET,
                    platform.signals(),
                )
                .profile
            })
            .collect();
        Analysis {
            databases,
            evaluations,
            logins,
            connections,
            order,
            memos,
        }
    }

    /// The custom-database scripts of connection `index`, each with the profile attributes it
    /// hands to its callback (and where each is written).
    pub fn database_profiles<'s>(
        &'s self,
        index: usize,
        scripts: &'s Scripts,
    ) -> Vec<(&'s ScriptUnit, &'s [(String, Span)])> {
        scripts
            .databases
            .iter()
            .zip(&self.databases)
            .filter(|((i, _), _)| *i == index)
            .map(|((_, unit), profile)| (unit, profile.as_slice()))
            .collect()
    }

    /// The evaluation of the login of `client` through `connection` on `protocol`.
    pub fn login(&self, client: &str, connection: Option<&str>, protocol: &str) -> Option<&Evaluation> {
        let key = (
            client.to_string(),
            connection.map(str::to_string),
            protocol.to_string(),
        );
        self.logins.get(&key).map(|&i| &self.evaluations[i])
    }

    /// Evaluates any scenario (a twin of an evaluated login, a `claimlint token` request),
    /// reusing the summaries already computed.
    pub fn evaluate(
        &self,
        tenant: &Tenant,
        scripts: &Scripts,
        platform: &Platform,
        sources: &SourceMap,
        scenario: &Scenario,
    ) -> Evaluation {
        let facts = login_facts(tenant, scenario);
        let mut summaries = Vec::new();
        for r in run_list(tenant, scripts, scenario) {
            let (unit, kind) = unit_of(scripts, r);
            let memo = self
                .memos
                .iter()
                .find(|m| m.lock().map(|g| g.0 == r).unwrap_or(false));
            let summary = match memo {
                Some(m) => {
                    let mut guard = m.lock().unwrap_or_else(|p| p.into_inner());
                    let i = guard.1.get(unit, kind, &facts, platform.signals());
                    guard.1.summaries[i].clone()
                }
                None => {
                    let mut memo = Memo::default();
                    let i = memo.get(unit, kind, &facts, platform.signals());
                    memo.summaries[i].clone()
                }
            };
            summaries.push((r, summary));
        }
        let mut e = compose(tenant, scripts, platform, sources, scenario, &summaries);
        e.members = vec![scenario.client.clone()];
        e
    }

    /// The evaluations of logins through connection `name`.
    pub fn by_connection<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Evaluation> + 'a {
        self.connections
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| &self.evaluations[i])
    }

    /// Evaluations in proof order: logins before refreshes, OIDC-conformant before legacy.
    pub fn ordered(&self) -> impl Iterator<Item = &Evaluation> {
        self.order.iter().map(|&i| &self.evaluations[i])
    }

    /// Each claim write once (by file, position, token and claim) with the first evaluation
    /// where `pick` accepts it, in proof order.
    pub fn first_writes(
        &self,
        mut pick: impl FnMut(&Evaluation, &ScriptWrite) -> bool,
    ) -> Vec<(&Evaluation, &ScriptWrite)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for evaluation in self.ordered() {
            for write in &evaluation.writes {
                if pick(evaluation, write) {
                    let key = (
                        write.file,
                        write.claim.span,
                        write.claim.token,
                        write.claim.key.label(),
                    );
                    if seen.insert(key) {
                        out.push((evaluation, write));
                    }
                }
            }
        }
        out.sort_by_key(|(_, w)| (w.file, w.claim.span.start));
        out
    }
}
