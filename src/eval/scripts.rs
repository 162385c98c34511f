//! The scripts of an export (rules, actions, hooks, database scripts), each parsed and lowered
//! once, in parallel.

use std::sync::Arc;

use rayon::prelude::*;

use super::*;

/// A script of the tenant, lowered, with what the evaluator needs to name it.
#[derive(Debug, Clone)]
pub struct ScriptUnit {
    /// `rule`, `action`, `hook` or `database script`.
    pub kind: &'static str,
    pub name: String,
    pub file: SourceId,
    pub lowered: Lowered,
    pub text: Arc<str>,
    /// [`ScriptUnit::label`] and the file's display path, made once: every login's part of
    /// the script carries both.
    pub shared_label: Arc<str>,
    pub shared_display: Arc<str>,
}

impl ScriptUnit {
    pub fn label(&self) -> String {
        self.shared_label.to_string()
    }
}

/// Every script of an export, lowered once.
#[derive(Debug, Clone, Default)]
pub struct Scripts {
    pub rules: Vec<(usize, ScriptUnit)>,
    pub actions: Vec<(usize, ScriptUnit)>,
    pub hooks: Vec<(usize, ScriptUnit)>,
    /// Custom-database scripts, by connection index.
    pub databases: Vec<(usize, ScriptUnit)>,
    /// The first script read from each file, as `(list, position)`: 0 rules, 1 actions,
    /// 2 hooks, 3 databases.
    by_file: std::collections::HashMap<SourceId, (u8, usize)>,
}

impl Scripts {
    /// Every script, in a stable order.
    pub fn all(&self) -> impl Iterator<Item = &ScriptUnit> {
        self.rules
            .iter()
            .chain(&self.actions)
            .chain(&self.hooks)
            .chain(&self.databases)
            .map(|(_, unit)| unit)
    }

    /// The first script (in [`Scripts::all`] order) read from `file`.
    pub fn by_file(&self, file: SourceId) -> Option<&ScriptUnit> {
        let &(list, position) = self.by_file.get(&file)?;
        let list = match list {
            0 => &self.rules,
            1 => &self.actions,
            2 => &self.hooks,
            _ => &self.databases,
        };
        list.get(position).map(|(_, unit)| unit)
    }

    /// Positions in `databases` of the custom-database scripts of the connection at `index`
    /// in the tenant (`databases` is in connection order).
    pub fn databases_of(&self, index: usize) -> std::ops::Range<usize> {
        let start = self.databases.partition_point(|(i, _)| *i < index);
        let end = self.databases.partition_point(|(i, _)| *i <= index);
        start..end
    }
}

/// Lowers every rule, action and hook of the export, in parallel.
pub fn lower_scripts(tenant: &Tenant, sources: &SourceMap) -> Scripts {
    lower_scripts_within(tenant, sources, crate::js::prescan::Limits::default())
}

/// As [`lower_scripts`], with the config's script budgets.
pub fn lower_scripts_within(
    tenant: &Tenant,
    sources: &SourceMap,
    limits: crate::js::prescan::Limits,
) -> Scripts {
    lower_scripts_from(tenant, sources, limits, crate::js::LoweredTexts::default())
}

/// As [`lower_scripts_within`], taking the scripts already lowered within the same `limits`
/// (by the loader, see [`crate::load::LoadedExport::lowered`]) from `early`.
pub fn lower_scripts_from(
    tenant: &Tenant,
    sources: &SourceMap,
    limits: crate::js::prescan::Limits,
    mut early: crate::js::LoweredTexts,
) -> Scripts {
    let unit = |kind: &'static str, name: &str, script: Option<&crate::model::Script>| {
        let file = script?.file?;
        Some(ScriptUnit {
            kind,
            name: name.to_string(),
            file,
            lowered: Lowered::default(),
            text: sources.get(file).shared_text(),
            shared_label: format!("{kind} `{name}`").into(),
            shared_display: sources.get(file).display.as_str().into(),
        })
    };
    let databases: usize = tenant.connections.iter().map(|c| c.scripts.len()).sum();
    let mut units: Vec<(char, usize, ScriptUnit)> =
        Vec::with_capacity(tenant.rules.len() + tenant.actions.len() + tenant.hooks.len() + databases);
    for (i, rule) in tenant.rules.iter().enumerate() {
        units.extend(unit("rule", &rule.name, rule.script.as_ref()).map(|u| ('r', i, u)));
    }
    for (i, action) in tenant.actions.iter().enumerate() {
        units.extend(unit("action", &action.name, action.code.as_ref()).map(|u| ('a', i, u)));
    }
    for (i, hook) in tenant.hooks.iter().enumerate() {
        units.extend(unit("hook", &hook.name, hook.script.as_ref()).map(|u| ('h', i, u)));
    }
    for (i, connection) in tenant.connections.iter().enumerate() {
        for named in &connection.scripts {
            let name = format!("{} {}", connection.name, named.name);
            units.extend(unit("database script", &name, Some(&named.script)).map(|u| ('d', i, u)));
        }
    }
    let ready: Vec<Option<Lowered>> = units
        .iter()
        .map(|(_, _, u)| early.take(&u.text, limits))
        .collect();
    // What is left (script files no script uses) is not kept through the lowering.
    drop(early);
    let lowered: Vec<Lowered> = units
        .par_iter()
        .zip(ready)
        .with_max_len(crate::js::SCRIPTS_PER_TASK)
        .map(|((_, _, u), ready)| ready.unwrap_or_else(|| crate::js::analyse_within(&u.text, limits)))
        .collect();
    // Each list is sized once: a unit is large, and a large list grown by doubling is copied
    // into fresh memory each time, on one core.
    let count = |k: char| units.iter().filter(|(kind, _, _)| *kind == k).count();
    let mut scripts = Scripts {
        rules: Vec::with_capacity(count('r')),
        actions: Vec::with_capacity(count('a')),
        hooks: Vec::with_capacity(count('h')),
        databases: Vec::with_capacity(count('d')),
        by_file: std::collections::HashMap::with_capacity(units.len()),
    };
    for ((kind, i, mut unit), lowered) in units.into_iter().zip(lowered) {
        unit.lowered = lowered;
        match kind {
            'r' => scripts.rules.push((i, unit)),
            'a' => scripts.actions.push((i, unit)),
            'd' => scripts.databases.push((i, unit)),
            _ => scripts.hooks.push((i, unit)),
        }
    }
    let lists = [
        &scripts.rules,
        &scripts.actions,
        &scripts.hooks,
        &scripts.databases,
    ];
    for (list, units) in lists.into_iter().enumerate() {
        for (position, (_, unit)) in units.iter().enumerate() {
            scripts.by_file.entry(unit.file).or_insert((list as u8, position));
        }
    }
    scripts
}
