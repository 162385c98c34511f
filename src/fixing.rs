//! `claimlint fix`: proposing, evaluating and applying fixes over whole runs.
//!
//! It lives beside [`crate::check`]'s run because it is made of runs: the check before any
//! fix, one per round on the fixed files (read through a [`load::files::Overlay`]), and, when a
//! round objects, one per fix to find which. What a fix is and how its edits are made is
//! [`crate::repair`]'s; this module strings them together and writes the result.

use std::path::{Path, PathBuf};

use crate::finding::Finding;
use crate::fix::{Applicability, Fix};
use crate::load::discover::discover;
use crate::source::SourceMap;
use crate::syntax::keywords::KeywordMap;
use crate::{CheckOptions, CheckRun, Error, Selection, load, repair, source};

/// What `claimlint fix` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct FixOptions {
    /// The exports, configuration and policies, as for `check` (its `selection` says which
    /// policies run; every enabled one does by default, so a fix's new findings are seen).
    pub check: CheckOptions,
    /// `--select`/`--ignore`: which policies' findings are fixed.
    pub fix_selection: Selection,
    /// `--unsafe-fixes`: also apply fixes that change what Auth0 stores or issues.
    pub unsafe_fixes: bool,
    /// `--force`: apply fixes even when they add an error-level finding.
    pub force: bool,
    /// `--diff`: change no file of the export.
    pub dry_run: bool,
    /// `--emit-patch DIR`: write Management API bodies for the connections whose deny list
    /// changes.
    pub emit_patch: Option<PathBuf>,
}

/// The outcome of `claimlint fix`.
#[derive(Debug)]
pub struct FixRun {
    /// The check before any fix.
    pub before: CheckRun,
    /// The check of the fixed export (`None` when nothing was fixed).
    pub after: Option<CheckRun>,
    /// The files the fixes change, with their text before and after.
    pub files: Vec<repair::FileChange>,
    /// What was fixed, refused and left, and what it changes.
    pub report: repair::FixReport,
}

impl FixRun {
    /// The check that describes the export as it is after the command: the fixed export,
    /// or the unchanged one.
    pub fn result(&self) -> &CheckRun {
        self.after.as_ref().unwrap_or(&self.before)
    }
}

/// Rounds of fixing: fixes that touch each other wait for the next round, proposed again on
/// the new text (as in ruff).
const FIX_ROUNDS: usize = 10;

/// Fixes findings: proposes, evaluates and applies fixes, and says what they change.
pub fn fix(options: &FixOptions) -> Result<FixRun, Error> {
    let keywords = crate::load_keywords(options.check.keywords.as_deref())?;
    crate::worker_pool(options.check.jobs)?.install(|| fix_in_pool(options, &keywords))
}

fn fix_in_pool(options: &FixOptions, patch_keywords: &KeywordMap) -> Result<FixRun, Error> {
    let mut check_options = options.check.clone();
    check_options.behaviour = true;
    check_options.overlay = None;
    check_options.keywords = None;
    // Fixes edit the files as written, markers and all: the runs read them without keyword
    // values, which only fill in the update bodies of `--emit-patch`.
    let keywords = &KeywordMap::default();
    let before = crate::run(&check_options, keywords)?;
    let wanted = |f: &Finding| {
        f.suppression.is_none()
            && options.fix_selection.runs(&f.policy, &f.name)
            && f.fix
                .as_ref()
                .is_some_and(|fix| options.unsafe_fixes || fix.applicability == Applicability::Safe)
    };
    let unsafe_available = if options.unsafe_fixes {
        0
    } else {
        before
            .report
            .findings
            .iter()
            .filter(|f| {
                f.suppression.is_none()
                    && options.fix_selection.runs(&f.policy, &f.name)
                    && f.fix
                        .as_ref()
                        .is_some_and(|x| x.applicability == Applicability::Unsafe)
            })
            .count()
    };
    // A file whose text on disk is not the text linted (it changed since) is never edited: the
    // edits are positions in the linted text.
    let mut skipped = Vec::new();
    let mut uneditable: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for finding in before.report.findings.iter().filter(|f| wanted(f)) {
        for edit in finding.fix.iter().flat_map(|f| &f.edits) {
            let file = before.sources.get(edit.location.source);
            if uneditable.contains(&file.display) {
                continue;
            }
            // A symbolic link is not edited: writing through it would change its target, and
            // replacing it would change the export's layout.
            let linked = std::fs::symlink_metadata(&file.path).is_ok_and(|m| m.file_type().is_symlink());
            if linked || std::fs::read_to_string(&file.path).ok().as_deref() != Some(file.text()) {
                uneditable.insert(file.display.clone());
            }
        }
    }
    let editable = |f: &Finding, sources: &SourceMap| {
        f.fix
            .iter()
            .flat_map(|x| &x.edits)
            .all(|e| !uneditable.contains(&sources.get(e.location.source).display))
    };
    for finding in before.report.findings.iter().filter(|f| wanted(f)) {
        if !editable(finding, &before.sources) {
            skipped.push(repair::SkippedFix {
                finding: finding.clone(),
                reason: "the file is a symbolic link, or changed on disk while it was being checked".into(),
            });
        }
    }

    let mut overlay = load::files::Overlay::new();
    let mut current: Option<CheckRun> = None;
    let mut applied = Vec::new();
    let mut refused: Vec<repair::RefusedFix> = Vec::new();
    let mut refused_keys = std::collections::BTreeSet::new();
    // Every state the files went through: fixes that undo each other stop instead of cycling.
    let mut seen_states = vec![overlay.clone()];
    for _ in 0..FIX_ROUNDS {
        let now = current.as_ref().unwrap_or(&before);
        let candidates: Vec<&Finding> = now
            .report
            .findings
            .iter()
            .filter(|f| {
                wanted(f) && editable(f, &now.sources) && !refused_keys.contains(&repair::identity(f))
            })
            .collect();
        let fixes: Vec<&Fix> = candidates.iter().filter_map(|f| f.fix.as_ref()).collect();
        let plan = repair::plan(&fixes, &now.sources);
        if plan.taken.is_empty() {
            break;
        }
        let with = |texts: &std::collections::BTreeMap<source::SourceId, String>| {
            let mut next = overlay.clone();
            for (id, text) in texts {
                next.insert(now.sources.get(*id).path.clone(), text.clone());
            }
            next
        };
        let round_overlay = with(&plan.texts);
        if seen_states.contains(&round_overlay) {
            break;
        }
        let next = run_with_overlay(&check_options, keywords, &round_overlay)?;
        let consequences = repair::Consequences::between(
            &now.report.findings,
            &next.report.findings,
            &now.behaviours,
            &next.behaviours,
        );
        // Without --unsafe-fixes every fix taken is a safe one, and must change nothing Auth0
        // issues or stores; none may add an error-level finding without --force.
        let objection = |c: &repair::Consequences| -> Option<(String, Vec<Finding>, &'static str)> {
            let errors: Vec<Finding> = c.new_errors().cloned().collect();
            if !errors.is_empty() && !options.force {
                return Some(("it would add error-level findings".into(), errors, "--force"));
            }
            let changes = c.behaviour_changes();
            (!options.unsafe_fixes && !changes.is_empty()).then(|| {
                (
                    format!("it changes what Auth0 issues or stores here ({changes}), so it is not safe"),
                    Vec::new(),
                    "--unsafe-fixes",
                )
            })
        };
        if let Some(together) = objection(&consequences) {
            // Which of the round's fixes object: each is evaluated alone.
            let mut culprits = Vec::new();
            for &i in &plan.taken {
                let alone = repair::plan(&[fixes[i]], &now.sources);
                let single = run_with_overlay(&check_options, keywords, &with(&alone.texts))?;
                let c = repair::Consequences::between(
                    &now.report.findings,
                    &single.report.findings,
                    &now.behaviours,
                    &single.behaviours,
                );
                if let Some(why) = objection(&c) {
                    culprits.push((i, why));
                }
            }
            if culprits.is_empty() {
                // Only together do they object: none of this round's fixes is applied.
                culprits = plan.taken.iter().map(|&i| (i, together.clone())).collect();
            }
            for (i, (reason, would_add, overridden_by)) in culprits {
                refused_keys.insert(repair::identity(candidates[i]));
                refused.push(repair::RefusedFix {
                    finding: candidates[i].clone(),
                    reason,
                    would_add,
                    overridden_by,
                });
            }
            continue;
        }
        seen_states.push(round_overlay.clone());
        applied.extend(plan.taken.iter().map(|&i| repair::AppliedFix {
            finding: candidates[i].clone(),
        }));
        overlay = round_overlay;
        current = Some(next);
    }

    let mut files: Vec<repair::FileChange> = Vec::new();
    for (path, after) in &overlay {
        let Some(id) = (0..before.sources.len())
            .map(|i| source::SourceId(i as u32))
            .find(|&id| before.sources.get(id).path == *path)
        else {
            continue;
        };
        let file = before.sources.get(id);
        files.push(repair::FileChange {
            path: path.clone(),
            display: file.display.clone(),
            before: file.text().to_string(),
            after: after.clone(),
        });
    }
    files.sort_by(|a, b| a.display.cmp(&b.display));
    let consequences = match &current {
        Some(after) => repair::Consequences::between(
            &before.report.findings,
            &after.report.findings,
            &before.behaviours,
            &after.behaviours,
        ),
        None => repair::Consequences::default(),
    };
    let patches = match &options.emit_patch {
        Some(_) => patch_bodies(&check_options, patch_keywords, &overlay, &applied, &files),
        None => Vec::new(),
    };
    // With --diff nothing is written anywhere: a body sent for a change the export does not
    // have would put the tenant ahead of its repository.
    let written = !options.dry_run && !files.is_empty();
    if written {
        for file in &files {
            std::fs::write(&file.path, &file.after).map_err(|e| Error::Write {
                path: file.display.clone(),
                message: e.to_string(),
            })?;
        }
    }
    if let Some(dir) = options.emit_patch.as_ref().filter(|_| !options.dry_run) {
        write_patches(dir, &patches)?;
    }
    let report = repair::FixReport {
        applied,
        refused,
        skipped,
        unsafe_available,
        files: files.iter().map(|f| f.display.clone()).collect(),
        written,
        consequences,
        patches,
        remaining: current.as_ref().unwrap_or(&before).report.summary.clone(),
    };
    Ok(FixRun {
        before,
        after: current,
        files,
        report,
    })
}

fn run_with_overlay(
    options: &CheckOptions,
    keywords: &KeywordMap,
    overlay: &load::files::Overlay,
) -> Result<CheckRun, Error> {
    let mut options = options.clone();
    options.overlay = Some(std::sync::Arc::new(overlay.clone()));
    crate::run(&options, keywords)
}

/// The update bodies of the connections whose deny list an applied fix changed, read from the
/// fixed export.
fn patch_bodies(
    options: &CheckOptions,
    keywords: &KeywordMap,
    overlay: &load::files::Overlay,
    applied: &[repair::AppliedFix],
    files: &[repair::FileChange],
) -> Vec<repair::patch::PatchBody> {
    let changed: std::collections::BTreeSet<&str> = applied
        .iter()
        .filter_map(|a| a.finding.fix.as_ref()?.connection.as_deref())
        .collect();
    let changed_files: std::collections::BTreeSet<&std::path::Path> =
        files.iter().map(|f| f.path.as_path()).collect();
    let paths = if options.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        options.paths.clone()
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut bodies = Vec::new();
    for export in &discover(&paths).exports {
        let mut sources = SourceMap::default();
        let load_options = load::LoadOptions {
            client_nodes: false,
            overlay: Some(std::sync::Arc::new(overlay.clone())),
            lower_scripts: None,
        };
        let loaded = load::load_export_with(export, keywords, &mut sources, &cwd, load_options);
        for connection in &loaded.tenant.connections {
            let file = sources.get(connection.loc.file).path.as_path();
            if changed.contains(connection.name.as_str()) && changed_files.contains(file) {
                bodies.extend(repair::patch::body_for(connection));
            }
        }
    }
    bodies.sort_by(|a, b| a.file.cmp(&b.file));
    // Names made safe for files can meet (`a/b` and `a-b`): later ones get a number.
    let mut taken = std::collections::BTreeSet::new();
    for body in &mut bodies {
        let stem = body.file.trim_end_matches(".json").to_string();
        let mut n = 1;
        while !taken.insert(body.file.clone()) {
            n += 1;
            body.file = format!("{stem}-{n}.json");
        }
        body.refile();
    }
    bodies
}

fn write_patches(dir: &Path, patches: &[repair::patch::PatchBody]) -> Result<(), Error> {
    let fail = |path: &Path, e: std::io::Error| Error::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    for patch in patches {
        if let Some(body) = &patch.body {
            let path = dir.join(&patch.file);
            std::fs::write(&path, body).map_err(|e| fail(&path, e))?;
            let path = dir.join(patch.script_file());
            std::fs::write(&path, patch.script()).map_err(|e| fail(&path, e))?;
        }
    }
    Ok(())
}
