//! The analysis of an export: each script summarised once per distinct set of login facts it
//! reads (a memo keyed by those facts; a fact the script only compares with known strings
//! counts by which of them it equals), logins grouped by what their scripts do, and every
//! group's evaluation composed from the summaries.

use std::collections::HashMap;

/// The maps of the analysis: hashed with foldhash (fast, and randomly seeded, so names chosen
/// to collide cannot slow a lookup down), never iterated for output.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type Set<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
use std::sync::Arc;

use rayon::prelude::*;

use super::pipeline::{self, ScriptOutcome, ScriptPart, assemble, compose, compose_part};
use super::profile::{self, ProfileClaims};
use super::scenario::{FactSource, LoginView};
use super::*;

/// A script that runs in a login, with the kind it runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum UnitRef {
    Rule(usize),
    Action(usize, ScriptKind),
    Hook(usize),
}

fn run_list(tenant: &Tenant, scripts: &Scripts, protocol: &str) -> Vec<UnitRef> {
    let mut out = Vec::new();
    let action_named = |name: &str| {
        scripts.actions.iter().position(|(i, _)| {
            let action = &tenant.actions[*i];
            action.name == name && action.deployed
        })
    };
    if protocol == CREDENTIALS_PROTOCOL {
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
        let key = |k: usize| {
            let rule = &tenant.rules[scripts.rules[k].0];
            (rule.order.unwrap_or(i64::MAX), rule.name.as_str())
        };
        rules.sort_by(|&a, &b| key(a).cmp(&key(b)));
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

/// For one list of facts read: the hash of what the runs learnt of them → the runs
/// (ascending) that learnt it.
type RunsBySeen = Map<u64, Vec<usize>>;

/// What a login's standard profile claims depend on: what they read of its scripts' outcome
/// (a [`profile::ProfileInputs`], by index), its connection, its scopes and its client's SSO
/// setting.
type ProfileKey<'s> = (usize, Option<&'s str>, &'s [String], bool);

/// The facts a run read, with what it learnt of each.
type Seen = Vec<(Fact, FactRead)>;

/// How a run reads one fact: its whole value, or only which of some texts it equals.
type ReadShape = (Fact, Option<Arc<[crate::js::ir::Text]>>);

/// A login's value of one fact as a run of that shape sees it: the value, or which of the
/// texts it equals (`None`: the value is unknown).
#[derive(Hash, PartialEq, Eq)]
enum SeenKey<'v> {
    Value(Option<&'v str>),
    Class(Option<Option<usize>>),
}

fn key_of<'v>(shape: &ReadShape, value: Option<&'v str>) -> SeenKey<'v> {
    match &shape.1 {
        None => SeenKey::Value(value),
        Some(texts) => SeenKey::Class(FactRead::class_of(texts, value)),
    }
}

fn seen_key(read: &FactRead) -> SeenKey<'_> {
    match read {
        FactRead::Value(v) => SeenKey::Value(v.as_deref()),
        FactRead::Among { matched, .. } => SeenKey::Class(Some(*matched)),
    }
}

fn shape_of(fact: Fact, read: &FactRead) -> ReadShape {
    match read {
        FactRead::Value(_) => (fact, None),
        FactRead::Among { texts, .. } => (fact, Some(texts.clone())),
    }
}

/// A login as a script's runs so far tell it apart from others: one word per fact they read
/// (see [`FactReads`]). Logins with one signature get the same summary.
type Signature = [u32; 6];

/// How a script's runs so far read each fact: only by comparing it with known texts (all the
/// texts of all the runs, sorted), or whole (`None`). In a [`Signature`], a fact of the first
/// kind counts by which of those texts its value equals, and one of the second kind by the
/// client, connection or protocol it comes from; two logins with equal signatures show every
/// run the same, so the memo picks the same run for both.
#[derive(Debug, Default, PartialEq)]
struct FactReads(Vec<(Fact, Option<Vec<crate::js::ir::Text>>)>);

impl FactReads {
    fn of(memo: &Memo) -> FactReads {
        let mut reads: Vec<(Fact, Option<Vec<crate::js::ir::Text>>)> = Vec::new();
        for (fact, texts) in memo.by_reads.iter().flat_map(|(shapes, _)| shapes) {
            let at = match reads.iter().position(|(f, _)| f == fact) {
                Some(at) => at,
                None => {
                    reads.push((*fact, Some(Vec::new())));
                    reads.len() - 1
                }
            };
            match (&mut reads[at].1, texts) {
                (Some(all), Some(texts)) => all.extend(texts.iter().cloned()),
                (all, _) => *all = None,
            }
        }
        for (_, texts) in &mut reads {
            if let Some(texts) = texts {
                texts.sort_unstable();
                texts.dedup();
            }
        }
        reads.sort_by_key(|(fact, _)| *fact);
        FactReads(reads)
    }

    /// The signature of a login whose facts `facts` gives; `source` says which client,
    /// connection or protocol a fact comes from.
    fn signature(&self, facts: &impl FactSource, source: impl Fn(Fact) -> Option<u32>) -> Signature {
        const UNKNOWN: u32 = u32::MAX;
        const NONE_OF_THEM: u32 = u32::MAX - 1;
        let mut signature = [UNKNOWN; 6];
        for (word, (fact, texts)) in signature.iter_mut().zip(&self.0) {
            *word = match texts {
                Some(texts) => facts.fact(*fact).map_or(UNKNOWN, |value| {
                    texts
                        .iter()
                        .position(|t| **t == *value)
                        .map_or(NONE_OF_THEM, |k| k as u32)
                }),
                None => source(*fact).unwrap_or(UNKNOWN),
            };
        }
        signature
    }
}

/// The picks of one script by login signature: the two or three a script usually has in a
/// list looked through (cheaper than hashing), more in a map.
#[derive(Default)]
struct KnownPicks {
    few: Vec<(Signature, u32)>,
    many: Map<Signature, u32>,
}

impl KnownPicks {
    const FEW: usize = 8;

    fn get(&self, signature: &Signature) -> Option<u32> {
        if self.many.is_empty() {
            self.few
                .iter()
                .find(|(s, _)| s == signature)
                .map(|&(_, pick)| pick)
        } else {
            self.many.get(signature).copied()
        }
    }

    fn insert(&mut self, signature: Signature, pick: u32) {
        if self.many.is_empty() && self.few.len() < Self::FEW {
            self.few.push((signature, pick));
        } else {
            self.many.extend(self.few.drain(..));
            self.many.insert(signature, pick);
        }
    }

    fn clear(&mut self) {
        self.few.clear();
        self.many.clear();
    }
}

/// The summaries of one script: it runs once per distinct set of facts it reads (a fact it
/// only compares with known strings counts by which of them it equals), and runs that do the
/// same (a rule that checks the client name and does nothing for most clients) share one
/// summary, which is also one for composing logins.
#[derive(Debug, Default)]
struct Memo {
    /// Distinct summaries, by what they do, in the order first made.
    summaries: Vec<Arc<Summary>>,
    /// Each run: the facts it read with what it learnt of them, and its summary.
    runs: Vec<(Seen, usize)>,
    /// [`Summary::effects_hash`] → indices into `summaries` with that hash.
    by_effects: Map<u64, Vec<usize>>,
    /// The runs by how they read facts: for each list of read shapes, the hash of what was
    /// learnt → the runs that learnt it. A lookup costs one hash per list.
    by_reads: Vec<(Vec<ReadShape>, RunsBySeen)>,
    /// The seed of [`Memo::hash_keys`]: a fast hash, randomly seeded so that chosen client
    /// names cannot pile runs into one bucket.
    seed: foldhash::fast::RandomState,
}

impl Memo {
    /// One hash of what a run learnt (or a login would show), with this memo's seed.
    fn hash_keys<'k, 'v: 'k>(&self, keys: impl Iterator<Item = &'k SeenKey<'v>>) -> u64 {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut hasher = self.seed.build_hasher();
        for key in keys {
            key.hash(&mut hasher);
        }
        hasher.finish()
    }
}

impl Memo {
    /// The summary of the first run (in the order they were made) that applies to `facts`.
    fn find(&self, facts: &impl FactSource) -> Option<usize> {
        // A first run that read no fact applies to every login (most scripts).
        if let Some((seen, summary)) = self.runs.first()
            && seen.is_empty()
        {
            return Some(*summary);
        }
        let mut first: Option<usize> = None;
        let mut keys: Vec<SeenKey<'_>> = Vec::with_capacity(8);
        for (shapes, table) in &self.by_reads {
            keys.clear();
            keys.extend(shapes.iter().map(|shape| key_of(shape, facts.fact(shape.0))));
            let hash = self.hash_keys(keys.iter());
            let applies = table.get(&hash).into_iter().flatten().find(|&&run| {
                self.runs[run]
                    .0
                    .iter()
                    .zip(&keys)
                    .all(|((_, read), key)| *key == seen_key(read))
            });
            if let Some(&run) = applies {
                first = Some(first.map_or(run, |f| f.min(run)));
            }
        }
        first.map(|run| self.runs[run].1)
    }

    /// Index into `summaries` of the summary that applies to `facts`, running the script when
    /// none does yet.
    fn get(
        &mut self,
        unit: &ScriptUnit,
        kind: ScriptKind,
        facts: &impl FactSource,
        signals: &Signals,
    ) -> usize {
        if let Some(i) = self.find(facts) {
            return i;
        }
        let summary = summary::run(
            &unit.lowered.ir,
            &unit.text,
            kind,
            Mode::Abstract(facts.to_facts()),
            machine::STEP_BUDGET,
            signals,
        );
        let run = self.runs.len();
        let reads: Vec<ReadShape> = summary.facts.iter().map(|(f, read)| shape_of(*f, read)).collect();
        let seen: Vec<SeenKey<'_>> = summary.facts.iter().map(|(_, read)| seen_key(read)).collect();
        let hash = self.hash_keys(seen.iter());
        let position = match self.by_reads.iter().position(|(r, _)| *r == reads) {
            Some(position) => position,
            None => {
                self.by_reads.push((reads, Map::default()));
                self.by_reads.len() - 1
            }
        };
        self.by_reads[position].1.entry(hash).or_default().push(run);
        let seen = summary.facts.clone();
        use std::hash::BuildHasher;
        let effects = summary.effects_hash(self.seed.build_hasher());
        let same = self.by_effects.entry(effects).or_default();
        let i = match same.iter().find(|&&i| self.summaries[i].same_effects(&summary)) {
            Some(&i) => i,
            None => {
                same.push(self.summaries.len());
                self.summaries.push(Arc::new(summary));
                self.summaries.len() - 1
            }
        };
        self.runs.push((seen, i));
        i
    }
}

/// Everything the token checks need for one export: every script summarised once per
/// distinct set of facts it reads, and every login's evaluation built from those summaries.
#[derive(Debug)]
pub struct Analysis {
    /// One evaluation per group of logins that agree on everything the evaluation depends on.
    pub evaluations: Vec<Evaluation>,
    /// The protocols of the export's logins, sorted.
    protocols: Vec<&'static str>,
    /// `(client, connection, protocol)` → index into `evaluations`: the index of the first
    /// client and connection of the login's names (`u32::MAX`: a generic login's client, no
    /// connection) and the protocol's place in `protocols`.
    logins: Map<(u32, u32, u32), usize>,
    /// Indices into `evaluations` by connection name.
    connections: Map<String, Vec<usize>>,
    /// Indices into `evaluations` in proof order: logins before refreshes, OIDC-conformant
    /// before legacy, clients by name.
    order: Vec<usize>,
    /// Each script's memo, in `UnitRef` order.
    memos: Vec<(UnitRef, std::sync::Mutex<Memo>)>,
    /// The profile each custom-database script hands to its callback, by script.
    databases: Vec<Vec<(String, Span)>>,
}

impl Analysis {
    pub fn new(tenant: &Tenant, scripts: &Scripts, platform: &Platform, sources: &SourceMap) -> Analysis {
        let logins = scenario::logins(tenant, scripts);

        // A login of the export is the client and connection of the first of their names.
        let first_client: Vec<usize> = tenant
            .clients
            .iter()
            .enumerate()
            .map(|(i, c)| tenant.client_indices(&c.name).next().unwrap_or(i))
            .collect();
        let first_connection: Vec<usize> = tenant
            .connections
            .iter()
            .enumerate()
            .map(|(i, c)| tenant.connection_index(&c.name).unwrap_or(i))
            .collect();
        // Each login's facts, read off the tenant once for all the scripts that ask.
        let views: Vec<LoginView<'_>> = logins
            .par_iter()
            .map(|login| LoginView {
                protocol: login.protocol,
                client: login.client.map(|i| {
                    let client = &tenant.clients[first_client[i]];
                    (client, client.metadata.as_str())
                }),
                connection: login.connection.map(|i| &tenant.connections[first_connection[i]]),
            })
            .collect();
        // The scripts a login runs depend only on its protocol.
        let mut protocols: Vec<&'static str> = logins.iter().map(|l| l.protocol).collect();
        protocols.sort_unstable();
        protocols.dedup();
        let lists: Vec<Vec<UnitRef>> = protocols.iter().map(|p| run_list(tenant, scripts, p)).collect();
        let protocol_of: Vec<usize> = logins
            .iter()
            .map(|l| protocols.binary_search(&l.protocol).unwrap_or_default())
            .collect();
        // Every (script, kind) that runs somewhere, summarised in parallel: each script's memo
        // sees the logins in order, so the result does not depend on threads.
        let mut units: Vec<UnitRef> = lists.iter().flatten().copied().collect();
        units.sort();
        units.dedup();
        // Each protocol's list, sorted, to ask whether a unit runs in it.
        let sorted_lists: Vec<Vec<UnitRef>> = lists
            .iter()
            .map(|list| {
                let mut sorted = list.clone();
                sorted.sort_unstable();
                sorted
            })
            .collect();
        const NOT_RUN: u32 = u32::MAX;
        let per_unit: Vec<(UnitRef, Memo, Vec<u32>)> = units
            .par_iter()
            .with_max_len(crate::js::SCRIPTS_PER_TASK)
            .map(|&r| {
                let (unit, kind) = unit_of(scripts, r);
                let runs: Vec<bool> = sorted_lists
                    .iter()
                    .map(|list| list.binary_search(&r).is_ok())
                    .collect();
                let mut memo = Memo::default();
                // Made only once some login picks another summary than the first (only a
                // sixth of the scripts of a large export ever do): until then every pick is 0,
                // and `pick` reads a missing one as 0.
                let mut picks: Vec<u32> = Vec::new();
                let record = |picks: &mut Vec<u32>, at: usize, pick: u32| {
                    if picks.is_empty() && (pick == 0 || pick == NOT_RUN) {
                        return;
                    }
                    if picks.is_empty() {
                        picks.reserve_exact(logins.len());
                        picks.resize(at, 0);
                    }
                    picks.push(pick);
                };
                // The summary a login gets depends only on what the runs learn of its facts, so
                // logins with one signature (see `FactReads`) share one lookup. A lookup stays
                // right after later runs are made, since they come after it in the memo's order;
                // the signatures are remade whenever a run reads something new.
                let mut reads = FactReads::default();
                let mut known = KnownPicks::default();
                for (at, (login, &p)) in logins.iter().zip(&protocol_of).enumerate() {
                    if !runs[p] {
                        record(&mut picks, at, NOT_RUN);
                        continue;
                    }
                    let source = |fact: Fact| match fact {
                        Fact::ClientName | Fact::ClientId | Fact::ClientMetadata => {
                            login.client.map(|c| first_client[c] as u32)
                        }
                        Fact::Connection | Fact::Strategy => {
                            login.connection.map(|c| first_connection[c] as u32)
                        }
                        Fact::Protocol => Some(p as u32),
                    };
                    let signature = reads.signature(&views[at], source);
                    if let Some(pick) = known.get(&signature) {
                        record(&mut picks, at, pick);
                        continue;
                    }
                    let before = memo.runs.len();
                    let pick = memo.get(unit, kind, &views[at], platform.signals()) as u32;
                    record(&mut picks, at, pick);
                    // A first run that read no fact serves every login: there is nothing left
                    // to look up (and no list of picks to keep, as below).
                    if memo.runs.first().is_some_and(|(seen, _)| seen.is_empty()) {
                        break;
                    }
                    let mut signature = signature;
                    if memo.runs.len() > before {
                        let now = FactReads::of(&memo);
                        if now != reads {
                            reads = now;
                            known.clear();
                            signature = reads.signature(&views[at], source);
                        }
                    }
                    known.insert(signature, pick);
                }
                // Most scripts do the same in every login: one summary, no list of picks.
                if memo.summaries.len() <= 1 {
                    picks = Vec::new();
                }
                (r, memo, picks)
            })
            .collect();

        // Which summaries of each unit set a claim to the client's name or id (see
        // `ClaimValue::Fact`): their logins differ by client.
        let by_client: Vec<Vec<bool>> = per_unit
            .iter()
            .map(|(_, memo, _)| {
                memo.summaries
                    .iter()
                    .map(|summary| {
                        summary.claims.iter().any(|c| {
                            matches!(
                                c.value,
                                ClaimValue::Fact(Fact::ClientName | Fact::ClientId | Fact::ClientMetadata)
                            )
                        })
                    })
                    .collect()
            })
            .collect();

        // Logins that use the same summaries through the same connection and pipeline share
        // one evaluation. What the evaluation depends on besides the scripts: the login's
        // shape, of the client only its Auth0-side SSO setting (a deny-list exclusion), and
        // the client itself where a claim is set to its name or id.
        let unit_positions: Vec<Vec<usize>> = lists
            .iter()
            .map(|list| list.iter().filter_map(|r| units.binary_search(r).ok()).collect())
            .collect();
        // Which summary login `i` uses of the unit at position `u` of `units` (asked only of
        // logins that run the unit), and the summary.
        let pick = |u: usize, i: usize| -> u32 { per_unit[u].2.get(i).copied().unwrap_or(0) };
        let summary_of =
            |u: usize, i: usize| -> &Arc<Summary> { &per_unit[u].1.summaries[pick(u, i) as usize] };
        // For each group: its first login, which stands for it.
        let mut representatives: Vec<usize> = Vec::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        let mut group_of: Vec<u32> = Vec::with_capacity(logins.len());
        // The key of login `i`'s group: its shape, each script's pick, and maybe the client.
        // Per protocol, the scripts of its list with several summaries, and those with a
        // summary that sets a claim to the client's name or id: all a login's key looks at.
        let picked_units: Vec<Vec<usize>> = unit_positions
            .iter()
            .map(|list| {
                list.iter()
                    .copied()
                    .filter(|&u| !per_unit[u].2.is_empty())
                    .collect()
            })
            .collect();
        let client_units: Vec<Vec<usize>> = unit_positions
            .iter()
            .map(|list| {
                list.iter()
                    .copied()
                    .filter(|&u| by_client[u].contains(&true))
                    .collect()
            })
            .collect();
        let shape_key = |i: usize, key: &mut Vec<u32>| {
            let login = &logins[i];
            let sso = login.client.is_some_and(|c| {
                tenant.clients[first_client[c]]
                    .sso
                    .as_ref()
                    .is_some_and(|s| s.value)
            });
            key.extend([
                login.connection.map_or(u32::MAX, |c| first_connection[c] as u32),
                protocol_of[i] as u32,
                login.pipeline as u32,
                u32::from(sso),
                u32::from(login.client.is_none()),
            ]);
            // A script with one summary picks it in every login that runs it: the protocol
            // already says which those are.
            for &u in &picked_units[protocol_of[i]] {
                key.extend([u as u32, pick(u, i)]);
            }
            if let Some(c) = login.client
                && client_units[protocol_of[i]]
                    .iter()
                    .any(|&u| by_client[u].get(pick(u, i) as usize).copied().unwrap_or(false))
            {
                key.push(first_client[c] as u32);
            }
        };
        // Keys are made and hashed on every core, a chunk of logins at a time, into flat
        // blocks (no allocation per login); the groups are numbered in the order their first
        // login comes, as one loop would. Each group's key is kept once, in `stored`, until
        // the end of this block.
        {
            use std::hash::BuildHasher;
            #[derive(Default)]
            struct KeyBlock {
                hashes: Vec<u64>,
                ends: Vec<u32>,
                words: Vec<u32>,
            }
            const CHUNK: usize = 16384;
            let state = foldhash::fast::RandomState::default();
            // `(start in stored, length, group)` by the key's hash.
            let mut by_shape: hashbrown::HashTable<(u32, u32, u32)> = hashbrown::HashTable::new();
            let mut stored: Vec<u32> = Vec::new();
            for start in (0..logins.len()).step_by(CHUNK) {
                let end = logins.len().min(start + CHUNK);
                let blocks: Vec<KeyBlock> = (start..end)
                    .into_par_iter()
                    .with_min_len(512)
                    .fold(KeyBlock::default, |mut block, i| {
                        let from = block.words.len();
                        shape_key(i, &mut block.words);
                        block.hashes.push(state.hash_one(&block.words[from..]));
                        block.ends.push(block.words.len() as u32);
                        block
                    })
                    .collect();
                let mut i = start;
                for block in &blocks {
                    let mut from = 0;
                    for (&hash, &to) in block.hashes.iter().zip(&block.ends) {
                        let key = &block.words[from..to as usize];
                        from = to as usize;
                        let seen = |&(at, len, _): &(u32, u32, u32)| {
                            &stored[at as usize..(at + len) as usize] == key
                        };
                        let group = match by_shape.find(hash, seen) {
                            Some(&(_, _, group)) => group as usize,
                            None => {
                                let next = representatives.len();
                                let entry = (stored.len() as u32, key.len() as u32, next as u32);
                                stored.extend_from_slice(key);
                                let rehash = |&(at, len, _): &(u32, u32, u32)| {
                                    state.hash_one(&stored[at as usize..(at + len) as usize])
                                };
                                by_shape.insert_unique(hash, entry, rehash);
                                representatives.push(i);
                                members.push(Vec::new());
                                next
                            }
                        };
                        members[group].push(i);
                        group_of.push(group as u32);
                        i += 1;
                    }
                }
            }
        }

        // `(client, connection, protocol)` → group, as `login` is asked: the first client and
        // connection of each name, and the protocol's place in `protocols` (the last login of
        // equal names wins, as a map insert does).
        let mut login_groups = Map::with_capacity_and_hasher(logins.len(), Default::default());
        for ((login, &group), &protocol) in logins.iter().zip(&group_of).zip(&protocol_of) {
            let client = login.client.map_or(u32::MAX, |c| first_client[c] as u32);
            let connection = login.connection.map_or(u32::MAX, |c| first_connection[c] as u32);
            login_groups.insert((client, connection, protocol as u32), group as usize);
        }

        crate::memory::give_back_freed();
        let scenarios: Vec<Scenario> = representatives
            .par_iter()
            .map(|&i| logins[i].scenario(tenant, platform))
            .collect();

        // Each script's part in a login is composed once per summary and shape (protocol,
        // pipeline, and the connection only where its deny list drops one of the script's
        // claims), and groups of one protocol and pipeline made of the same parts share one
        // outcome.
        // Whether each summary has a claim from a user attribute, which only then a deny list
        // can drop.
        let from_attributes: Vec<Vec<bool>> = per_unit
            .iter()
            .map(|(_, memo, _)| {
                memo.summaries
                    .iter()
                    .map(|summary| summary.claims.iter().any(|c| !c.attributes.is_empty()))
                    .collect()
            })
            .collect();
        // Whether a connection's deny list drops one of a summary's claims: an entry denies a
        // path (`filters::denied_root`) when it is the path or the part of it before a `.` or
        // `[`. Each summary's set of those parts is made once, and each connection's entries
        // (a handful) are looked up in it, instead of splitting every claim's path again in
        // each of thousands of login groups.
        let deny_lists: Vec<Option<Vec<&str>>> = tenant
            .connections
            .iter()
            .map(|connection| {
                connection.deny_list.as_ref().map(|list| {
                    list.entries
                        .iter()
                        .map(|e| e.value.as_str())
                        .filter(|e| !e.is_empty() && !filters::is_nested_entry(e))
                        .collect()
                })
            })
            .collect();
        let attribute_roots: Vec<Vec<Set<&str>>> = per_unit
            .iter()
            .map(|(_, memo, _)| {
                memo.summaries
                    .iter()
                    .map(|summary| {
                        summary
                            .claims
                            .iter()
                            .flat_map(|claim| claim.attributes.iter().map(String::as_str))
                            .flat_map(|path| {
                                path.char_indices()
                                    .filter(|&(_, c)| matches!(c, '.' | '['))
                                    .map(|(k, _)| &path[..k])
                                    .chain([path])
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let drops_a_claim = |u: usize, pick: u32, connection: usize| {
            let Some(denied) = &deny_lists[connection] else {
                return false;
            };
            let roots = &attribute_roots[u][pick as usize];
            !roots.is_empty() && denied.iter().any(|entry| roots.contains(entry))
        };
        let mut part_ids: Map<[u32; 5], u32> = Map::default();
        // For each part: the group and position in its run list it is first composed from.
        let mut part_sources: Vec<(usize, usize)> = Vec::new();
        // For each outcome: the first group and its parts.
        let mut outcome_sources: Vec<(usize, Vec<u32>)> = Vec::new();
        // A script with one summary and no claim a deny list can drop has the same part in
        // every group of a protocol and pipeline: its part is looked up once for them.
        let same_part =
            |u: usize| per_unit[u].2.is_empty() && !from_attributes[u].first().copied().unwrap_or(true);
        // Per protocol, the positions whose part can differ between groups of one pipeline.
        let varying: Vec<Vec<usize>> = unit_positions
            .iter()
            .map(|list| (0..list.len()).filter(|&k| !same_part(list[k])).collect())
            .collect();
        // The key of the part login `i` gets at `position` of its run list: its script, the
        // summary it picks, the login's shape, and its connection where the connection's deny
        // list drops one of the summary's claims.
        let part_key = |i: usize, position: usize| -> [u32; 5] {
            let login = &logins[i];
            let u = unit_positions[protocol_of[i]][position];
            let connection = login
                .connection
                .map(|c| first_connection[c])
                .filter(|_| {
                    from_attributes[u]
                        .get(pick(u, i) as usize)
                        .copied()
                        .unwrap_or(true)
                })
                .filter(|&c| drops_a_claim(u, pick(u, i), c));
            [
                u as u32,
                pick(u, i),
                protocol_of[i] as u32,
                login.pipeline as u32,
                connection.map_or(u32::MAX, |c| c as u32),
            ]
        };
        // A group's parts at the positions that vary differ from another's only by the summary
        // a script with several picks, and by the connection where its deny list drops a claim
        // of the script's summary: the group's outcome key is those picks, then each position
        // with such a connection and the connection. It stands for the parts' keys one to one
        // within a protocol and pipeline, and costs nothing per script that cannot differ.
        // Per protocol, the positions that vary whose script `keep` accepts (by its index).
        let varying_where = |keep: &dyn Fn(usize) -> bool| -> Vec<Vec<usize>> {
            varying
                .iter()
                .zip(&unit_positions)
                .map(|(positions, list)| positions.iter().copied().filter(|&k| keep(list[k])).collect())
                .collect()
        };
        let multi_positions = varying_where(&|u| !per_unit[u].2.is_empty());
        let attribute_positions = varying_where(&|u| from_attributes[u].iter().any(|&b| b));
        let outcome_key = |i: usize| -> Vec<u32> {
            let p = protocol_of[i];
            let list = &unit_positions[p];
            let mut key: Vec<u32> = multi_positions[p].iter().map(|&k| pick(list[k], i)).collect();
            let denies = logins[i].connection.is_some_and(|c| {
                deny_lists[first_connection[c]]
                    .as_ref()
                    .is_some_and(|d| !d.is_empty())
            });
            if denies {
                for &k in &attribute_positions[p] {
                    let [.., connection] = part_key(i, k);
                    if connection != u32::MAX {
                        key.extend([k as u32, connection]);
                    }
                }
            }
            key
        };
        // Each group's key is made on every core, a chunk of groups at a time (so they never all
        // take memory at once). Groups with the same key have the same outcome: the loop looks
        // a group's key up first (there are as many distinct ones as outcomes) and makes part
        // ids, in the order they first appear, only for keys it has not seen.
        const CHUNK: usize = 1024;
        let mut outcome_by_keys: Map<(usize, u32, Vec<u32>), usize> = Map::default();
        // The parts of the first group of each protocol and pipeline.
        let mut shape_parts: Map<(usize, u32), Vec<u32>> = Map::default();
        let mut outcome_of: Vec<usize> = Vec::with_capacity(representatives.len());
        for (c, chunk) in representatives.chunks(CHUNK).enumerate() {
            let chunk_keys: Vec<Vec<u32>> = chunk.par_iter().map(|&i| outcome_key(i)).collect();
            for (offset, (&i, key)) in chunk.iter().zip(chunk_keys).enumerate() {
                let g = c * CHUNK + offset;
                let login = &logins[i];
                let p = protocol_of[i];
                let positions = &unit_positions[p];
                let shape = (p, login.pipeline as u32);
                let by_keys = (p, shape.1, key);
                if shape_parts.contains_key(&shape)
                    && let Some(&k) = outcome_by_keys.get(&by_keys)
                {
                    outcome_of.push(k);
                    continue;
                }
                let mut part_of = |position: usize, key: [u32; 5]| -> u32 {
                    let next = part_ids.len() as u32;
                    let id = *part_ids.entry(key).or_insert(next);
                    if id == next {
                        part_sources.push((g, position));
                    }
                    id
                };
                // The other positions' parts are those of the shape's first group.
                let varied: Vec<u32> = match shape_parts.get(&shape) {
                    Some(_) => varying[p].iter().map(|&k| part_of(k, part_key(i, k))).collect(),
                    None => {
                        let all: Vec<u32> =
                            (0..positions.len()).map(|k| part_of(k, part_key(i, k))).collect();
                        let varied = varying[p].iter().map(|&k| all[k]).collect();
                        shape_parts.insert(shape, all);
                        varied
                    }
                };
                // These keys were not seen (see above), and part ids stand for keys one to one:
                // the parts make a new outcome.
                let mut parts = shape_parts.get(&shape).cloned().unwrap_or_default();
                for (&k, &id) in varying[p].iter().zip(&varied) {
                    if let Some(part) = parts.get_mut(k) {
                        *part = id;
                    }
                }
                let k = outcome_sources.len();
                outcome_sources.push((g, parts));
                outcome_by_keys.insert(by_keys, k);
                outcome_of.push(k);
            }
        }

        let mut parts: Vec<Arc<ScriptPart>> = part_sources
            .par_iter()
            .map(|&(g, position)| {
                let login = filters::Login::new(tenant, platform, &scenarios[g]);
                let i = representatives[g];
                let u = unit_positions[protocol_of[i]][position];
                let summary = summary_of(u, i);
                Arc::new(compose_part(
                    scripts,
                    platform,
                    sources,
                    &login,
                    per_unit[u].0,
                    summary,
                ))
            })
            .collect();
        super::pipeline::rank_claims(&mut parts);
        // Every pick has been read: the lists (one entry per login for each script with
        // several summaries) go before outcomes and evaluations are built.
        let mut per_unit = per_unit;
        for (_, _, picks) in &mut per_unit {
            *picks = Vec::new();
        }

        let outcomes: Vec<Arc<ScriptOutcome>> = outcome_sources
            .par_iter()
            .map(|(g, ids)| {
                let machine = scenarios[*g].protocol == CREDENTIALS_PROTOCOL;
                let parts = ids.iter().map(|&id| parts[id as usize].clone()).collect();
                Arc::new(assemble(parts, machine))
            })
            .collect();

        // The profile's standard claims depend on the connection, the scopes, the client's
        // SSO setting and what they read of the scripts' outcome: groups that agree on those
        // share them.
        let mut input_ids: Map<profile::ProfileInputs, usize> = Map::default();
        let inputs_of: Vec<usize> = outcomes
            .iter()
            .map(|outcome| {
                let next = input_ids.len();
                *input_ids
                    .entry(profile::ProfileInputs::of(outcome))
                    .or_insert(next)
            })
            .collect();
        let mut profile_ids: Map<ProfileKey<'_>, usize> = Map::default();
        let mut profile_sources: Vec<usize> = Vec::new();
        // Each group's client looked up by name, on every core.
        let sso: Vec<_> = scenarios
            .par_iter()
            .map(|scenario| profile::client_sso(tenant, scenario))
            .collect();
        let profile_of: Vec<usize> = scenarios
            .iter()
            .zip(&outcome_of)
            .zip(sso)
            .enumerate()
            .map(|(g, ((scenario, &k), sso))| {
                let key = (
                    inputs_of[k],
                    scenario.connection.as_deref(),
                    &scenario.scopes[..],
                    sso,
                );
                let next = profile_sources.len();
                let id = *profile_ids.entry(key).or_insert(next);
                if id == next {
                    profile_sources.push(g);
                }
                id
            })
            .collect();
        let profiles: Vec<Arc<ProfileClaims>> = profile_sources
            .par_iter()
            .map(|&g| {
                let outcome = &outcomes[outcome_of[g]];
                Arc::new(pipeline::profile_of(
                    tenant,
                    platform,
                    sources,
                    &scenarios[g],
                    outcome,
                ))
            })
            .collect();

        let client_name = |login: &scenario::Login| {
            login
                .client
                .map_or(ANY_CLIENT, |c| tenant.clients[c].name.as_str())
        };
        let evaluations: Vec<Evaluation> = scenarios
            .par_iter()
            .zip(&outcome_of)
            .zip(&members)
            .zip(&profile_of)
            .map(|(((scenario, &k), members), &p)| {
                let mut e =
                    pipeline::with_shared_profile(tenant, scenario, outcomes[k].clone(), profiles[p].clone());
                e.members = members
                    .iter()
                    .map(|&m| client_name(&logins[m]).to_string())
                    .collect();
                e
            })
            .collect();

        let mut connections: Map<String, Vec<usize>> = Map::default();
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
            .map(|(r, memo, _)| (r, std::sync::Mutex::new(memo)))
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
            protocols,
            logins: login_groups,
            connections,
            order,
            memos,
        }
    }

    /// Frees the evaluations on every core: a large export's evaluations take as long to free
    /// as a good part of building them.
    pub fn drop_in_parallel(self) {
        let Analysis {
            evaluations, memos, ..
        } = self;
        rayon::join(
            || evaluations.into_par_iter().for_each(drop),
            || memos.into_par_iter().for_each(drop),
        );
    }

    /// The custom-database scripts of connection `index`, each with the profile attributes it
    /// hands to its callback (and where each is written).
    pub fn database_profiles<'s>(
        &'s self,
        index: usize,
        scripts: &'s Scripts,
    ) -> Vec<(&'s ScriptUnit, &'s [(String, Span)])> {
        let range = scripts.databases_of(index);
        scripts.databases[range.clone()]
            .iter()
            .zip(&self.databases[range])
            .map(|((_, unit), profile)| (unit, profile.as_slice()))
            .collect()
    }

    /// How many times each script ran (by label, in run-list order): once per distinct set of
    /// facts it reads, so a script that only compares the client name with known names runs
    /// once per name it knows plus once for every other client.
    pub fn script_runs(&self, scripts: &Scripts) -> Vec<(String, usize)> {
        self.memos
            .iter()
            .map(|(r, memo)| {
                let runs = memo.lock().map_or(0, |m| m.runs.len());
                (unit_of(scripts, *r).0.label(), runs)
            })
            .collect()
    }

    /// The evaluation of the login of `client` through `connection` on `protocol`, in
    /// `tenant`, the export analysed.
    pub fn login(
        &self,
        tenant: &Tenant,
        client: &str,
        connection: Option<&str>,
        protocol: &str,
    ) -> Option<&Evaluation> {
        let protocol = self.protocols.iter().position(|p| *p == protocol)? as u32;
        let connection = match connection {
            Some(name) => tenant.connection_index(name)? as u32,
            None => u32::MAX,
        };
        let find = |client: u32| self.logins.get(&(client, connection, protocol));
        let concrete = tenant.client_indices(client).next().and_then(|c| find(c as u32));
        // A generic login stands for any client (a client may even bear that name).
        let generic = || (client == ANY_CLIENT).then(|| find(u32::MAX)).flatten();
        concrete.or_else(generic).map(|&i| &self.evaluations[i])
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
        for r in run_list(tenant, scripts, &scenario.protocol) {
            let (unit, kind) = unit_of(scripts, r);
            let memo = self
                .memos
                .binary_search_by(|(m, _)| m.cmp(&r))
                .ok()
                .map(|i| &self.memos[i].1);
            let summary = match memo {
                Some(m) => {
                    let mut memo = m.lock().unwrap_or_else(|p| p.into_inner());
                    let i = memo.get(unit, kind, &facts, platform.signals());
                    memo.summaries[i].clone()
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

    /// Each claim write once (by file, position, token and claim) that `keep` accepts, with the
    /// first evaluation where `pick` accepts it, in proof order. `keep` looks at the write only,
    /// so it is asked once per script part, however many logins share the part; `pick` may
    /// look at the evaluation's tokens (its scripts' outcome and profile claims), nothing else
    /// of it, so it is asked once per outcome and profile.
    pub fn first_writes(
        &self,
        keep: impl Fn(&ScriptWrite) -> bool,
        mut pick: impl FnMut(&Evaluation, &ScriptWrite) -> bool,
    ) -> Vec<(&Evaluation, &ScriptWrite)> {
        // For each part, the writes `keep` accepts that no evaluation has taken yet. A write is
        // looked at until it is taken or another write of its name is: after that it would be
        // passed over in every later evaluation, so it leaves the list.
        let mut pending: Map<*const ScriptPart, Vec<usize>> = Map::default();
        // For each outcome, the positions of its parts whose list was not empty when last
        // looked at (lists only shrink), so that a part with nothing left costs nothing in the
        // many logins that share it.
        let mut live: Map<*const ScriptOutcome, Vec<usize>> = Map::default();
        // Evaluations with the same outcome and profile issue the same tokens: after the first
        // of them, the rest have nothing left to give.
        let mut visited: Set<(*const ScriptOutcome, *const profile::ProfileClaims)> = Set::default();
        // Writes are told apart by their name as shown; `seen_keys` skips, without making that
        // text, a write whose name (hence whose text) was already taken.
        let mut seen = Set::default();
        let mut seen_keys = Set::default();
        let mut out = Vec::new();
        for evaluation in self.ordered() {
            let outcome = Arc::as_ptr(&evaluation.scripts);
            if !visited.insert((outcome, Arc::as_ptr(&evaluation.profile))) {
                continue;
            }
            let positions = live
                .entry(outcome)
                .or_insert_with(|| (0..evaluation.parts.len()).collect());
            positions.retain(|&position| {
                let part = &evaluation.parts[position];
                let left = pending.entry(Arc::as_ptr(part)).or_insert_with(|| {
                    (0..part.writes.len())
                        .filter(|&i| keep(&part.writes[i]))
                        .collect()
                });
                left.retain(|&i| {
                    let write = &part.writes[i];
                    let at = (write.file, write.claim.span, write.claim.token);
                    if seen_keys.contains(&(at, &write.claim.key)) {
                        return false;
                    }
                    let key = (at, write.claim.key.label());
                    if seen.contains(&key) {
                        return false;
                    }
                    if !pick(evaluation, write) {
                        return true;
                    }
                    seen.insert(key);
                    seen_keys.insert((at, &write.claim.key));
                    out.push((evaluation, write));
                    false
                });
                !left.is_empty()
            });
        }
        out.sort_by_key(|(_, w)| (w.file, w.claim.span.start));
        out
    }
}
