//! `evaluation-incomplete` (CL005): the claim evaluator stopped short of a whole script.
//!
//! ### What it flags
//! A place where the evaluation of a rule, action or hook hit one of its bounds: the step
//! budget ran out, a loop over a very large known list was summarised instead of unrolled, or
//! calls nested too deeply to follow. What was proven before the cut still stands; what the
//! script does after it is known only approximately (claims it sets become *may*), and no
//! finding that rests on a claim's absence is drawn from such an evaluation.

use super::{Context, Hit};
use crate::model::Loc;

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    let Some(analysis) = ctx.analysis else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    // Logins that share their scripts' outcome share its bounds: each outcome is read once.
    let mut outcomes = std::collections::HashSet::new();
    let mut hits = Vec::new();
    for evaluation in analysis.ordered() {
        if !outcomes.insert(std::sync::Arc::as_ptr(&evaluation.scripts)) {
            continue;
        }
        for (script, file, span, what) in evaluation.bounds() {
            if !seen.insert((*file, *span, what.clone())) {
                continue;
            }
            hits.push(
                Hit::at(Loc {
                    file: *file,
                    span: *span,
                    pointer: String::new(),
                })
                .var("script", script.to_string())
                .var("what", what.clone()),
            );
        }
    }
    hits.sort_by_key(|h| (h.loc.file, h.loc.span.start));
    hits
}
