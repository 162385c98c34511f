//! The `sarif` format: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One run per invocation. `tool.driver.rules` lists every policy that ran (so a clean run still
//! describes what was checked); each finding becomes a result with a repo-relative location
//! (`%SRCROOT%`, percent-encoded, UTF-16 columns), a `primaryLocationLineHash` taken from the
//! finding's semantic fingerprint (so re-exporting a tenant does not reopen alerts), its proof as
//! a code flow and its related places as related locations, each linked from the message
//! (`[the deny list](1)`): GitHub shows a related location only where the message links to it.
//! Files embedded in the binary (`claimlint:` paths, e.g. the built-in policy files) are never
//! emitted as locations: they are not in the user's repository.
//!
//! Severity as GitHub reads it: a rule with a `security-severity` is a security rule, and a pull
//! request check fails on its alerts by that score (by default at 7.0, "high", and above); every
//! other rule fails it by `level` (by default at `error`). So only policies tagged `security`
//! carry the score, and it is kept within the band of the policy's level (error: 7.0 and above,
//! warning: 4.0-6.9, note: below 4.0): GitHub's default check then fails on the same findings as
//! `--fail-on error`, security rule or not, also after an override in `.claimlint.yaml`.
//!
//! Everything is built with the `serde-sarif` types; output is deterministic (findings arrive
//! sorted, every map is a `BTreeMap`).

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use serde_sarif::sarif;

use super::Report;
use crate::eval::{Outcome, Proof, TraceEntry};
use crate::finding::{Finding, Location, Severity};
use crate::policy::{BUILTIN_PREFIX, Policy};
use crate::source::{SourceId, SourceMap, Span};

/// The schema URI written to `$schema` (the OASIS 2.1.0 errata 01 schema, which GitHub and the
/// SARIF Multitool validate against).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The base every result URI is relative to: the folder claimlint ran in (the repository root
/// in CI).
pub const SRCROOT: &str = "%SRCROOT%";

/// The `partialFingerprints` key GitHub code scanning tracks alerts by.
pub const FINGERPRINT_KEY: &str = "primaryLocationLineHash";

/// What a URI path keeps as it is: RFC 3986's unreserved characters and `/`. Every other byte
/// (of the UTF-8 text) is percent-encoded.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Renders the report as a SARIF 2.1.0 log. `policies` are the policies that ran
/// ([`crate::CheckRun::policies`]); they become `tool.driver.rules` in that order.
pub fn render(report: &Report, sources: &SourceMap, policies: &[Policy]) -> String {
    let log = log(report, sources, policies);
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// The SARIF log as `serde-sarif` values.
pub fn log(report: &Report, sources: &SourceMap, policies: &[Policy]) -> sarif::Sarif {
    let rules = Rules::new(policies, &report.findings);
    let mut occurrences: BTreeMap<&str, usize> = BTreeMap::new();
    let results: Vec<sarif::Result> = report
        .findings
        .iter()
        .map(|finding| {
            let seen = occurrences.entry(finding.fingerprint.as_str()).or_default();
            *seen += 1;
            result(finding, *seen, sources, &rules)
        })
        .collect();

    let input_errors: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.policy == crate::INPUT_ERROR.0)
        .collect();
    // NOTE: a file with an input error was not linted, so the results are not complete. SARIF
    // says so with `executionSuccessful: false` and an error notification (which "SHALL mean
    // that the run failed"). GitHub code scanning ignores both (they are not among the
    // properties it reads), so each input error is also a CL001 result at level `error`: that
    // is what GitHub shows and what fails its pull request check.
    let mut invocation = sarif::Invocation::builder()
        .execution_successful(input_errors.is_empty())
        .build();
    let mut notifications: Vec<sarif::Notification> = input_errors
        .iter()
        .map(|f| notification(f, sources, &rules))
        .collect();
    // Which file a YAML export was read from, when the folder alone does not say.
    notifications.extend(report.exports.iter().filter_map(|e| e.file.as_ref()).map(|file| {
        let (uri, base) = uri_of(file);
        let artifact = match base {
            Some(base) => sarif::ArtifactLocation::builder()
                .uri(uri)
                .uri_base_id(base)
                .build(),
            None => sarif::ArtifactLocation::builder().uri(uri).build(),
        };
        let physical = sarif::PhysicalLocation::builder()
            .artifact_location(artifact)
            .build();
        let mut read = sarif::Notification::builder()
            .message(plain(format!("Read the YAML export {file}.")))
            .level(json!("note"))
            .build();
        read.locations = Some(vec![
            sarif::Location::builder().physical_location(physical).build(),
        ]);
        read
    }));
    if !notifications.is_empty() {
        invocation.tool_execution_notifications = Some(notifications);
    }

    let driver = sarif::ToolComponent::builder()
        .name(report.tool.name)
        .semantic_version(report.tool.version)
        .information_uri(report.tool.information_uri)
        .rules(rules.descriptors)
        .build();

    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .automation_details(
            sarif::RunAutomationDetails::builder()
                .id(automation_id(report))
                .build(),
        )
        .column_kind(json!("utf16CodeUnits"))
        .original_uri_base_ids(original_uri_base_ids())
        .invocations(vec![invocation])
        .results(results)
        .build();

    sarif::Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// `%SRCROOT%`, the base of every relative URI in the log: the folder claimlint ran in. Its
/// absolute path is left out (SARIF allows an entry without `uri`): it would differ from machine
/// to machine, and code scanning resolves relative URIs against the root of the checkout anyway.
fn original_uri_base_ids() -> BTreeMap<String, sarif::ArtifactLocation> {
    let srcroot = sarif::ArtifactLocation::builder()
        .description(plain(
            "The folder claimlint ran in; URIs relative to it are paths in the repository when \
             claimlint runs at its root, as in CI.",
        ))
        .build();
    BTreeMap::from([(SRCROOT.to_string(), srcroot)])
}

/// `claimlint/<export root>/` for a run over one export, `claimlint/` otherwise. GitHub uses it
/// as the analysis category, so the alerts of two exports in one repository do not close each
/// other.
pub fn automation_id(report: &Report) -> String {
    match report.exports.as_slice() {
        [one] => {
            // Two YAML exports can share a folder (`dev.yaml`, `prod.yaml`): the file tells them apart.
            let root = one.file.as_deref().unwrap_or(&one.root);
            let root = root.trim_start_matches("./").trim_matches('/');
            if root.is_empty() || root == "." {
                "claimlint/".to_string()
            } else {
                format!("claimlint/{root}/")
            }
        }
        _ => "claimlint/".to_string(),
    }
}

/// `tool.driver.rules` and where each policy id sits in it.
struct Rules {
    descriptors: Vec<sarif::ReportingDescriptor>,
    index: BTreeMap<String, usize>,
}

impl Rules {
    /// One descriptor per policy that ran, then one for any policy a finding names that is not
    /// among them (so every `ruleId` resolves, whatever produced the finding).
    fn new(policies: &[Policy], findings: &[Finding]) -> Rules {
        let mut rules = Rules {
            descriptors: Vec::new(),
            index: BTreeMap::new(),
        };
        for policy in policies {
            if !rules.index.contains_key(&policy.id) {
                rules.push(&policy.id, rule(policy));
            }
        }
        for finding in findings {
            if !rules.index.contains_key(&finding.policy) {
                rules.push(&finding.policy, rule_of_finding(finding));
            }
        }
        rules
    }

    fn push(&mut self, id: &str, descriptor: sarif::ReportingDescriptor) {
        self.index.insert(id.to_string(), self.descriptors.len());
        self.descriptors.push(descriptor);
    }

    fn reference(&self, id: &str) -> sarif::ReportingDescriptorReference {
        let builder = sarif::ReportingDescriptorReference::builder().id(id);
        match self.index.get(id) {
            Some(&i) => builder.index(i as i64).build(),
            None => builder.build(),
        }
    }
}

fn level(severity: Severity) -> sarif::ResultLevel {
    match severity {
        Severity::Error => sarif::ResultLevel::Error,
        Severity::Warning => sarif::ResultLevel::Warning,
        Severity::Note => sarif::ResultLevel::Note,
    }
}

/// A sentence ends with a full stop (SARIF2001: messages are complete sentences).
fn sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// The first paragraph of a policy's docs that is prose (not a heading, list or code block),
/// as one line.
fn first_paragraph(docs: &str) -> Option<String> {
    let mut paragraph: Vec<&str> = Vec::new();
    for line in docs.lines().map(str::trim) {
        let prose = !line.is_empty()
            && !line.starts_with('#')
            && !line.starts_with("```")
            && !line.starts_with("- ")
            && !line.starts_with("* ");
        if prose {
            paragraph.push(line);
        } else if !paragraph.is_empty() {
            break;
        }
    }
    (!paragraph.is_empty()).then(|| paragraph.join(" "))
}

fn rule(policy: &Policy) -> sarif::ReportingDescriptor {
    let summary = sentence(&policy.summary);
    let full = first_paragraph(&policy.docs).map_or_else(|| summary.clone(), |p| sentence(&p));
    let docs = policy.docs.trim_end();
    let docs = if docs.is_empty() { summary.as_str() } else { docs };
    let url = policy.docs_url();
    let (help_text, help_markdown) = match &url {
        Some(url) => (
            format!("{docs}\n\nMore: {url}"),
            format!("{docs}\n\n[More about {} ({})]({url})", policy.id, policy.name),
        ),
        None => (docs.to_string(), docs.to_string()),
    };
    let mut properties = BTreeMap::new();
    if let Some(precision) = &policy.precision {
        properties.insert("precision".to_string(), Value::String(precision.clone()));
    }
    if let Some(score) = security_severity(policy) {
        // GitHub reads `security-severity` only as a string holding a number.
        properties.insert("security-severity".to_string(), Value::String(score));
    }
    let bag = sarif::PropertyBag::builder()
        .tags(policy.tags.clone())
        .additional_properties(properties)
        .build();
    let configuration = sarif::ReportingConfiguration::builder()
        .level(json!(policy.severity.as_str()))
        .build();
    let builder = sarif::ReportingDescriptor::builder()
        .id(policy.id.as_str())
        .name(policy.name.as_str())
        .short_description(sarif::MultiformatMessageString::builder().text(summary).build())
        .full_description(sarif::MultiformatMessageString::builder().text(full).build())
        .help(
            sarif::MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_markdown)
                .build(),
        )
        .default_configuration(configuration)
        .properties(bag);
    match url {
        Some(url) => builder.help_uri(url).build(),
        None => builder.build(),
    }
}

/// The `security-severity` scores that go with a level, in GitHub's bands: error is "high" or
/// "critical" (7.0-10.0), warning "medium" (4.0-6.9), note "low" (0.1-3.9).
pub fn security_severity_band(severity: Severity) -> (f64, f64) {
    match severity {
        Severity::Error => (7.0, 10.0),
        Severity::Warning => (4.0, 6.9),
        Severity::Note => (0.1, 3.9),
    }
}

/// `properties.security-severity` of a policy: only for a policy tagged `security`, and its
/// score moved into the band of its level (see the module docs), with one decimal.
pub fn security_severity(policy: &Policy) -> Option<String> {
    if !policy.is_security() {
        return None;
    }
    let score: f64 = policy.security_severity.as_deref()?.parse().ok()?;
    let (low, high) = security_severity_band(policy.severity);
    Some(format!("{:.1}", score.clamp(low, high)))
}

/// A descriptor for a finding whose policy is not among those that ran (configuration
/// problems found before the policies were loaded).
fn rule_of_finding(finding: &Finding) -> sarif::ReportingDescriptor {
    let text = sentence(&format!("claimlint policy {} ({})", finding.policy, finding.name));
    sarif::ReportingDescriptor::builder()
        .id(finding.policy.as_str())
        .name(finding.name.as_str())
        .short_description(
            sarif::MultiformatMessageString::builder()
                .text(text.clone())
                .build(),
        )
        .full_description(
            sarif::MultiformatMessageString::builder()
                .text(text.clone())
                .build(),
        )
        .help(
            sarif::MultiformatMessageString::builder()
                .text(text.clone())
                .markdown(text)
                .build(),
        )
        .default_configuration(
            sarif::ReportingConfiguration::builder()
                .level(json!(finding.severity.as_str()))
                .build(),
        )
        .build()
}

/// Whether a display path names a file embedded in claimlint rather than one on disk.
fn is_embedded(display: &str) -> bool {
    display.starts_with(BUILTIN_PREFIX)
}

/// A URI reference for a display path: percent-encoded (RFC 3986; only unreserved characters
/// and `/` are kept). Relative paths are relative to `%SRCROOT%`; an absolute path (a file
/// outside the folder claimlint ran in) becomes a `file:` URI.
pub fn uri_of(display: &str) -> (String, Option<&'static str>) {
    let path = display.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    if let Some(rest) = path.strip_prefix('/') {
        return (format!("file:///{}", percent_encode(rest)), None);
    }
    if path.len() > 2 && path.as_bytes()[1] == b':' && path.as_bytes()[2] == b'/' {
        // A Windows drive path, `C:/...`.
        return (format!("file:///{}", percent_encode(path)), None);
    }
    (percent_encode(path), Some(SRCROOT))
}

fn percent_encode(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

/// A physical location for `span` in `source`, or `None` for an embedded file.
fn physical(sources: &SourceMap, source: SourceId, span: Span) -> Option<sarif::PhysicalLocation> {
    let file = sources.get(source);
    if is_embedded(&file.display) {
        return None;
    }
    let start = file.line_col_utf16(span.start);
    let end = file.line_col_utf16(span.end);
    let (uri, base) = uri_of(&file.display);
    let artifact = match base {
        Some(base) => sarif::ArtifactLocation::builder()
            .uri(uri)
            .uri_base_id(base)
            .build(),
        None => sarif::ArtifactLocation::builder().uri(uri).build(),
    };
    let region = sarif::Region::builder()
        .start_line(i64::from(start.line))
        .start_column(i64::from(start.column))
        .end_line(i64::from(end.line))
        .end_column(i64::from(end.column))
        .build();
    Some(
        sarif::PhysicalLocation::builder()
            .artifact_location(artifact)
            .region(region)
            .build(),
    )
}

fn located(sources: &SourceMap, location: &Location) -> Option<sarif::PhysicalLocation> {
    physical(sources, location.source, location.span)
}

fn plain(text: impl Into<String>) -> sarif::Message {
    sarif::Message::builder().text(text.into()).build()
}

/// The primary location of a finding: where it is, or (for a finding inside an embedded file)
/// the first related place on disk.
fn primary(finding: &Finding, sources: &SourceMap) -> Option<sarif::PhysicalLocation> {
    located(sources, &finding.location).or_else(|| {
        finding
            .related
            .iter()
            .find_map(|related| located(sources, &related.location))
    })
}

/// Link text of an embedded link (`[text](id)`): SARIF requires `[`, `]` and `\` in it to be
/// escaped with a backslash.
fn link_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim_end_matches('.').chars() {
        if matches!(c, '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The result's message: what is wrong, then a link to each related location (GitHub shows a
/// related location only where the message links to it), then the help.
fn result_text(finding: &Finding, links: &[(i64, &str)]) -> String {
    let mut text = sentence(&finding.message);
    if !links.is_empty() {
        let links: Vec<String> = links
            .iter()
            .map(|(id, label)| format!("[{}]({id})", link_text(label)))
            .collect();
        text.push_str(&format!(" Related: {}.", links.join("; ")));
    }
    if let Some(help) = &finding.help {
        text.push(' ');
        text.push_str(&sentence(help));
    }
    text
}

fn result(finding: &Finding, occurrence: usize, sources: &SourceMap, rules: &Rules) -> sarif::Result {
    let primary = primary(finding, sources);
    // Related places in the repository, numbered from 1 (`id`) in the finding's order.
    let places: Vec<(i64, &str, sarif::PhysicalLocation)> = finding
        .related
        .iter()
        .filter_map(|related| Some((related.message.as_str(), located(sources, &related.location)?)))
        .zip(1..)
        .map(|((message, physical), id)| (id, message, physical))
        .collect();
    let links: Vec<(i64, &str)> = places.iter().map(|(id, message, _)| (*id, *message)).collect();
    let text = result_text(finding, &links);
    let related: Vec<sarif::Location> = places
        .into_iter()
        .map(|(id, message, physical)| {
            sarif::Location::builder()
                .id(id)
                .message(plain(sentence(message)))
                .physical_location(physical)
                .build()
        })
        .collect();
    let mut fingerprints = BTreeMap::new();
    // GitHub's own hashes carry the occurrence after a colon; the same here keeps two findings
    // with one semantic key (rare: the same claim set twice in one script) two alerts.
    fingerprints.insert(
        FINGERPRINT_KEY.to_string(),
        format!("{}:{occurrence}", finding.fingerprint),
    );
    let rule_index = rules.index.get(&finding.policy).copied().unwrap_or_default() as i64;

    let mut result = sarif::Result::builder()
        .message(plain(text))
        .rule_id(finding.policy.as_str())
        .rule_index(rule_index)
        .level(level(finding.severity))
        .partial_fingerprints(fingerprints)
        .build();
    if let Some(physical) = &primary {
        result.locations = Some(vec![
            sarif::Location::builder()
                .physical_location(physical.clone())
                .build(),
        ]);
    }
    if !related.is_empty() {
        result.related_locations = Some(related);
    }
    if let (Some(proof), Some(physical)) = (&finding.proof, &primary) {
        result.code_flows = Some(vec![code_flow(proof, physical, sources)]);
    }
    if let Some(fix) = finding.fix.as_ref().and_then(|fix| sarif_fix(fix, sources)) {
        result.fixes = Some(vec![fix]);
    }
    if let Some(suppression) = &finding.suppression {
        let kind = if suppression.kind == "inline" {
            "inSource"
        } else {
            "external"
        };
        result.suppressions = Some(vec![
            sarif::Suppression::builder()
                .kind(json!(kind))
                .status(json!("accepted"))
                .justification(suppression.reason.as_str())
                .build(),
        ]);
    }
    result
}

/// A fix as SARIF `fixes`: one artifact change per file, each edit a replacement (an
/// insertion is an empty deleted region). Whether it is safe is in its description and in the
/// `applicability` property. `None` when an edit is in a file SARIF cannot name.
fn sarif_fix(fix: &crate::fix::Fix, sources: &SourceMap) -> Option<sarif::Fix> {
    let mut changes: Vec<(SourceId, sarif::ArtifactChange)> = Vec::new();
    for edit in &fix.edits {
        let physical = located(sources, &edit.location)?;
        let region = physical.region?;
        let replacement = sarif::Replacement::builder()
            .deleted_region(region)
            .inserted_content(
                sarif::ArtifactContent::builder()
                    .text(edit.content.as_str())
                    .build(),
            )
            .build();
        match changes.iter_mut().find(|(file, _)| *file == edit.location.source) {
            Some((_, change)) => change.replacements.push(replacement),
            None => {
                let artifact = physical.artifact_location?;
                changes.push((
                    edit.location.source,
                    sarif::ArtifactChange::builder()
                        .artifact_location(artifact)
                        .replacements(vec![replacement])
                        .build(),
                ));
            }
        }
    }
    let mut properties = BTreeMap::new();
    properties.insert(
        "applicability".to_string(),
        Value::String(fix.applicability.as_str().to_string()),
    );
    let description = format!(
        "{} fix: {}",
        capitalised(fix.applicability.as_str()),
        sentence(&fix.message)
    );
    Some(
        sarif::Fix::builder()
            .description(plain(description))
            .artifact_changes(changes.into_iter().map(|(_, change)| change).collect::<Vec<_>>())
            .properties(
                sarif::PropertyBag::builder()
                    .additional_properties(properties)
                    .build(),
            )
            .build(),
    )
}

fn outcome(entry: &TraceEntry) -> &'static str {
    match entry.outcome {
        Outcome::Kept => "kept",
        Outcome::Dropped => "dropped",
        Outcome::Unresolved => "unresolved",
    }
}

/// The proof as one thread flow: each trace entry at the script line that set the claim, naming
/// the platform filter and its verdict, then a last step naming the issued token(s).
fn code_flow(proof: &Proof, primary: &sarif::PhysicalLocation, sources: &SourceMap) -> sarif::CodeFlow {
    let mut steps = Vec::new();
    let mut last = primary.clone();
    for entry in &proof.trace {
        let at = entry
            .source
            .and_then(|source| physical(sources, source, entry.span))
            .unwrap_or_else(|| primary.clone());
        let may = entry.when.as_ref().map(|w| format!(" {w}")).unwrap_or_default();
        let text = format!(
            "`{}` set on the {} by {}; platform filter `{}`: {}{may} ({})",
            entry.claim,
            entry.token.label(),
            entry.script,
            entry.filter.as_str(),
            outcome(entry),
            entry.reason.trim_end_matches('.'),
        );
        steps.push(step(at.clone(), sentence(&text)));
        last = at;
    }
    let mut issued = Vec::new();
    for (token, claims) in &proof.tokens {
        let named = proof.trace.iter().any(|t| t.token == *token) || proof.trace.is_empty();
        if named {
            let claims = serde_json::to_string(claims).unwrap_or_default();
            issued.push(format!("issued {}: {claims}", token.label()));
        }
    }
    if let Some(profile) = &proof.profile {
        let stored: Vec<&str> = profile.stored.keys().map(String::as_str).collect();
        issued.push(format!(
            "stored profile through `{}`: {}",
            profile.connection,
            serde_json::to_string(&stored).unwrap_or_default()
        ));
    }
    issued.push(format!("so {}", proof.shows));
    let text = sentence(&capitalised(&issued.join("; ")));
    steps.push(step(last, text));
    let thread = sarif::ThreadFlow::builder().locations(steps).build();
    sarif::CodeFlow::builder()
        .message(plain(sentence(&capitalised(&proof.scenario.describe()))))
        .thread_flows(vec![thread])
        .build()
}

fn step(physical: sarif::PhysicalLocation, text: String) -> sarif::ThreadFlowLocation {
    sarif::ThreadFlowLocation::builder()
        .location(
            sarif::Location::builder()
                .physical_location(physical)
                .message(plain(text))
                .build(),
        )
        .build()
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An input error as a tool execution notification (besides its CL001 result).
fn notification(finding: &Finding, sources: &SourceMap, rules: &Rules) -> sarif::Notification {
    let mut notification = sarif::Notification::builder()
        .message(plain(sentence(&finding.message)))
        .level(json!("error"))
        .associated_rule(rules.reference(&finding.policy))
        .build();
    if let Some(physical) = primary(finding, sources) {
        notification.locations = Some(vec![
            sarif::Location::builder().physical_location(physical).build(),
        ]);
    }
    notification
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_and_relative() {
        assert_eq!(
            uri_of("examples/tenant-export/rules/Add country.js"),
            (
                "examples/tenant-export/rules/Add%20country.js".to_string(),
                Some(SRCROOT)
            )
        );
        assert_eq!(uri_of("./a/b(1)+é.json").0, "a/b%281%29%2B%C3%A9.json");
        assert_eq!(uri_of("a:b/c").0, "a%3Ab/c");
        assert_eq!(
            uri_of("/tmp/x y/t.json"),
            ("file:///tmp/x%20y/t.json".to_string(), None)
        );
    }

    #[test]
    fn first_paragraph_skips_headings() {
        let docs = "### What it flags\nA rule that\nsets things.\n\n### Why\nBecause.\n";
        assert_eq!(first_paragraph(docs).as_deref(), Some("A rule that sets things."));
        assert_eq!(first_paragraph("### Only a heading\n"), None);
    }

    use crate::finding::{Related, Suppression};
    use crate::model::{ExportFormat, Loc};
    use crate::report::{ExportSummary, OUTPUT_VERSION, Summary, Tool};
    use crate::source::SourceFile;

    fn add(sources: &mut SourceMap, display: &str, text: &str) -> SourceId {
        sources.add(SourceFile::new(
            display.into(),
            display.into(),
            display.rsplit('/').next().unwrap().into(),
            text.into(),
        ))
    }

    fn finding(sources: &SourceMap, file: SourceId, span: Span) -> Finding {
        let loc = Loc {
            file,
            span,
            pointer: "/x".into(),
        };
        Finding::new(
            "CL101",
            "non-namespaced-claim",
            Severity::Warning,
            "bad".into(),
            sources,
            &loc,
        )
        .seal("")
    }

    fn report(findings: Vec<Finding>, roots: &[&str]) -> Report {
        Report {
            version: OUTPUT_VERSION,
            tool: Tool::claimlint(),
            exports: roots
                .iter()
                .map(|r| ExportSummary {
                    root: r.to_string(),
                    file: None,
                    format: ExportFormat::Directory,
                })
                .collect(),
            summary: Summary::count(&findings, 1, roots.len()),
            findings,
        }
    }

    fn value(report: &Report, sources: &SourceMap) -> Value {
        serde_json::from_str(&render(report, sources, &[])).unwrap()
    }

    #[test]
    fn columns_count_utf16_code_units() {
        let mut sources = SourceMap::default();
        let text = "{\"😀\": \"é\", \"k\": 1}";
        let file = add(&mut sources, "t/tenant.json", text);
        let start = text.find("\"k\"").unwrap();
        let f = finding(&sources, file, Span::new(start, start + 3));
        let region = &value(&report(vec![f], &["t"]), &sources)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
            ["region"];
        // `{"😀": "é", ` is 12 UTF-16 code units (the emoji is two).
        assert_eq!(region["startColumn"], 13);
        assert_eq!(region["endColumn"], 16);
        assert_eq!(region["startLine"], 1);
    }

    #[test]
    fn embedded_files_never_become_locations() {
        let mut sources = SourceMap::default();
        let policy = add(&mut sources, "claimlint:policies/CL101.yaml", "id: CL101\n");
        let real = add(&mut sources, "t/connections/a b.json", "{}\n");
        let mut f = finding(&sources, real, Span::new(0, 2));
        for (message, file) in [("the policy", policy), ("the entry", real)] {
            f.related.push(Related {
                message: message.into(),
                location: Location::resolve(
                    &sources,
                    &Loc {
                        file,
                        span: Span::new(0, 1),
                        pointer: String::new(),
                    },
                ),
            });
        }
        // A finding located in an embedded file is shown at its first related place on disk.
        let mut inside = finding(&sources, policy, Span::new(0, 2));
        inside.related = f.related.clone();
        let out = value(&report(vec![f, inside], &["t"]), &sources);
        let text = out.to_string();
        assert!(!text.contains("claimlint:"), "{text}");
        for result in out["runs"][0]["results"].as_array().unwrap() {
            assert_eq!(result["relatedLocations"].as_array().unwrap().len(), 1);
            assert_eq!(result["relatedLocations"][0]["id"], 1);
            let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
            assert_eq!(artifact["uri"], "t/connections/a%20b.json");
            assert_eq!(artifact["uriBaseId"], SRCROOT);
        }
    }

    #[test]
    fn suppressed_findings_carry_a_sarif_suppression() {
        let mut sources = SourceMap::default();
        let file = add(&mut sources, "t/rules/r.js", "x\n");
        let mut inline = finding(&sources, file, Span::new(0, 1));
        inline.suppression = Some(Suppression {
            kind: "inline",
            reason: "legacy app reads it".into(),
        });
        let mut config = inline.clone();
        config.policy = "CL103".into();
        config.suppression = Some(Suppression {
            kind: "config",
            reason: "accepted risk".into(),
        });
        let out = value(&report(vec![inline, config], &["t"]), &sources);
        let results = &out["runs"][0]["results"];
        assert_eq!(
            results[0]["suppressions"],
            json!([{ "kind": "inSource", "status": "accepted", "justification": "legacy app reads it" }])
        );
        assert_eq!(results[1]["suppressions"][0]["kind"], "external");
        assert_eq!(results[1]["suppressions"][0]["justification"], "accepted risk");
    }

    #[test]
    fn rules_cover_every_result_and_fingerprints_count_occurrences() {
        let mut sources = SourceMap::default();
        let file = add(&mut sources, "t/rules/r.js", "x\ny\n");
        let first = finding(&sources, file, Span::new(0, 1));
        let second = finding(&sources, file, Span::new(2, 3));
        let hash = first.fingerprint.clone();
        let out = value(&report(vec![first, second], &["t"]), &sources);
        let run = &out["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "CL101");
        assert_eq!(run["results"][0]["ruleIndex"], 0);
        assert_eq!(
            run["results"][0]["partialFingerprints"][FINGERPRINT_KEY],
            format!("{hash}:1")
        );
        assert_eq!(
            run["results"][1]["partialFingerprints"][FINGERPRINT_KEY],
            format!("{hash}:2")
        );
    }

    #[test]
    fn automation_id_names_a_single_export() {
        let mut sources = SourceMap::default();
        add(&mut sources, "t/tenant.json", "{}");
        assert_eq!(
            automation_id(&report(vec![], &["examples/tenant-export"])),
            "claimlint/examples/tenant-export/"
        );
        assert_eq!(automation_id(&report(vec![], &["."])), "claimlint/");
        assert_eq!(automation_id(&report(vec![], &["a", "b"])), "claimlint/");
        let out = value(&report(vec![], &["a"]), &sources);
        assert_eq!(out["runs"][0]["results"], json!([]));
        assert_eq!(out["runs"][0]["invocations"][0]["executionSuccessful"], true);
    }

    #[test]
    fn related_places_are_linked_from_the_message() {
        assert_eq!(link_text(r"entry [0] of a\b."), r"entry \[0\] of a\\b");
        let mut sources = SourceMap::default();
        let file = add(&mut sources, "t/connections/c.json", "{}\n");
        let mut f = finding(&sources, file, Span::new(0, 2));
        f.help = Some("fix it".into());
        for message in ["the deny list", "entry [0]"] {
            f.related.push(Related {
                message: message.into(),
                location: f.location.clone(),
            });
        }
        let out = value(&report(vec![f], &["t"]), &sources);
        let result = &out["runs"][0]["results"][0];
        assert_eq!(
            result["message"]["text"],
            r"bad. Related: [the deny list](1); [entry \[0\]](2). fix it."
        );
        assert_eq!(result["relatedLocations"][1]["id"], 2);
        assert_eq!(result["relatedLocations"][1]["message"]["text"], "entry [0].");
    }

    #[test]
    fn sentences_end_with_a_full_stop() {
        assert_eq!(sentence("claim `x` is dropped"), "claim `x` is dropped.");
        assert_eq!(sentence("Done."), "Done.");
    }
}
