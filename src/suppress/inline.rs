//! Inline suppressions in scripts: `// claimlint-disable-next-line CL101 -- reason` and
//! `// claimlint-disable-line CL101, CL105 -- reason`.
//!
//! Policies are named by id or name, separated by commas or spaces; none means every policy.
//! The reason follows `--`. A suppression without a reason still suppresses and is reported
//! (CL004); one that matches nothing is reported as unused (CL003).

use crate::eval::Scripts;
use crate::model::Loc;
use crate::source::{SourceId, SourceMap, Span};

const NEXT_LINE: &str = "claimlint-disable-next-line";
const SAME_LINE: &str = "claimlint-disable-line";
/// Both directives begin with this: a text without it has no suppression, and is not read
/// line by line.
const DIRECTIVE: &str = "claimlint-disable-";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineSuppression {
    pub file: SourceId,
    /// The 1-based line whose findings it suppresses.
    pub line: u32,
    /// Policy ids or names; empty means every policy.
    pub policies: Vec<String>,
    pub reason: Option<String>,
    /// The comment.
    pub loc: Loc,
}

impl InlineSuppression {
    pub fn covers(&self, policy: &str, name: &str) -> bool {
        self.policies.is_empty()
            || self
                .policies
                .iter()
                .any(|p| p.eq_ignore_ascii_case(policy) || p == name)
    }

    /// The policies as written, for messages.
    pub fn named(&self) -> String {
        if self.policies.is_empty() {
            "every policy".into()
        } else {
            self.policies.join(", ")
        }
    }
}

/// Every inline suppression in the export's scripts.
pub fn collect(scripts: &Scripts, sources: &SourceMap) -> Vec<InlineSuppression> {
    let mut files: Vec<SourceId> = scripts
        .rules
        .iter()
        .chain(&scripts.actions)
        .chain(&scripts.hooks)
        .map(|(_, u)| u.file)
        .collect();
    files.sort();
    files.dedup();
    // On every core, in file order (`collect` keeps it).
    use rayon::prelude::*;
    files
        .into_par_iter()
        .flat_map_iter(|file| parse(file, sources.get(file).text()))
        .collect()
}

/// The suppressions in one script's text.
pub fn parse(file: SourceId, text: &str) -> Vec<InlineSuppression> {
    let mut out = Vec::new();
    if memchr::memmem::find(text.as_bytes(), DIRECTIVE.as_bytes()).is_none() {
        return out;
    }
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let line_number = index as u32 + 1;
        let start = offset;
        offset += line.len();
        let Some(comment) = line.find("//").or_else(|| line.find("/*")) else {
            continue;
        };
        let body = &line[comment + 2..];
        let (directive, target) = if let Some(at) = body.find(NEXT_LINE) {
            (&body[at + NEXT_LINE.len()..], line_number + 1)
        } else if let Some(at) = body.find(SAME_LINE) {
            (&body[at + SAME_LINE.len()..], line_number)
        } else {
            continue;
        };
        let directive = directive.trim_end().trim_end_matches("*/").trim_end();
        let (ids, reason) = match directive.split_once("--") {
            Some((ids, reason)) => (
                ids,
                Some(reason.trim()).filter(|r| !r.is_empty()).map(str::to_string),
            ),
            None => (directive, None),
        };
        let policies = ids
            .split([',', ' ', '\t'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let end = start + line.trim_end_matches(['\n', '\r']).len();
        out.push(InlineSuppression {
            file,
            line: target,
            policies,
            reason,
            loc: Loc {
                file,
                span: Span::new(start + comment, end),
                pointer: String::new(),
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_directives() {
        let text = "a();\n  // claimlint-disable-next-line CL101, non-namespaced-claim -- read by Portal only\nb();\nc(); // claimlint-disable-line\n/* claimlint-disable-line CL105 -- */\n";
        let found = parse(SourceId(0), text);
        assert_eq!(found.len(), 3);
        assert_eq!(
            (found[0].line, found[0].reason.as_deref()),
            (3, Some("read by Portal only"))
        );
        assert_eq!(found[0].policies, ["CL101", "non-namespaced-claim"]);
        assert!(found[0].covers("CL101", "x") && found[0].covers("CL999", "non-namespaced-claim"));
        assert_eq!(
            (found[1].line, found[1].policies.len(), found[1].reason.as_deref()),
            (4, 0, None)
        );
        assert_eq!((found[2].line, found[2].reason.as_deref()), (5, None));
        assert_eq!(
            &text[found[2].loc.span.start as usize..found[2].loc.span.end as usize],
            "/* claimlint-disable-line CL105 -- */"
        );
    }
}
