//! Fixes to connections' deny lists (`options.non_persistent_attrs`).
//!
//! - CL201 (`nested-deny-path`): a nested entry whose root is already denied does nothing and
//!   is removed (safe); otherwise it is replaced by its root attribute (unsafe: Auth0 then stops
//!   storing that attribute).
//! - CL206 (`duplicate-deny-entry`): a repeated entry is removed (safe).
//! - CL202 (`sensitive-attribute-not-denied`): the attribute is added, named as the connection
//!   receives it (unsafe). A connection exported without `options` gets no fix: the export does
//!   not say what its options are, and writing a deny list alone would stand for all of them.

use super::text::{ListText, Syntax, TextEdit, in_text, insert_list_member};
use super::{Proposal, Proposer};
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::model::{Connection, DenyList};

const DENY_LIST_KEY: &str = "non_persistent_attrs";

/// The connection and entry index a finding located at a deny-list entry points at.
fn entry_at<'t>(p: &Proposer<'t>, finding: &Finding) -> Option<(&'t Connection, &'t DenyList, usize)> {
    let at = &finding.location;
    p.tenant.connections.iter().find_map(|connection| {
        let list = connection.deny_list.as_ref()?;
        let index = list
            .entries
            .iter()
            .position(|e| e.loc.file == at.source && e.loc.span == at.span)?;
        Some((connection, list, index))
    })
}

fn list_text<'t>(p: &Proposer<'t>, list: &DenyList) -> Option<ListText<'t>> {
    let file = p.sources.get(list.loc.file);
    let mut spans = std::iter::once(list.loc.span).chain(list.entries.iter().map(|e| e.loc.span));
    if !spans.all(|span| in_text(file.text(), span)) {
        return None;
    }
    Some(ListText {
        text: file.text(),
        syntax: Syntax::of(&file.display),
        list: list.loc.span,
        items: list
            .entries
            .iter()
            .map(|e| trimmed(file.text(), e.loc.span))
            .collect(),
    })
}

/// `span` without the blanks a parser may count at its end (a quoted YAML scalar in a flow
/// list runs up to the next token).
fn trimmed(text: &str, span: crate::source::Span) -> crate::source::Span {
    let slice = text.get(span.start as usize..span.end as usize).unwrap_or("");
    let kept = slice.trim_end_matches([' ', '\t', '\r', '\n']).len();
    crate::source::Span::new(span.start as usize, span.start as usize + kept)
}

fn proposal(
    list_file: crate::source::SourceId,
    connection: &Connection,
    applicability: Applicability,
    message: String,
    edits: Vec<TextEdit>,
) -> Proposal {
    Proposal {
        applicability,
        message,
        file: list_file,
        edits,
        connection: Some(connection.name.clone()),
    }
}

/// CL201: remove the nested entry when its root is denied, else deny the root instead.
pub fn nested_entry(p: &Proposer<'_>, finding: &Finding) -> Option<Proposal> {
    let (connection, list, index) = entry_at(p, finding)?;
    let entry = list.entries[index].value.trim();
    let root = crate::checks::nested_deny_path_root(entry)?;
    let denied = |value: &str| list.entries.iter().any(|e| e.value.trim() == value);
    let text = list_text(p, list)?;
    if denied(&root) {
        let edit = text.remove(index)?;
        return Some(proposal(
            list.loc.file,
            connection,
            Applicability::Safe,
            format!("remove `{entry}`: `{root}` is already denied, and Auth0 ignores nested paths"),
            edit,
        ));
    }
    let edit = vec![text.replace(index, &root)?];
    Some(proposal(
        list.loc.file,
        connection,
        Applicability::Unsafe,
        format!("deny `{root}` instead of `{entry}`: Auth0 stops storing the whole `{root}` attribute"),
        edit,
    ))
}

/// CL206: remove the repeated entry.
pub fn duplicate_entry(p: &Proposer<'_>, finding: &Finding) -> Option<Proposal> {
    let (connection, list, index) = entry_at(p, finding)?;
    // Only an exact repeat goes: of `" birthdate"` and `"birthdate"`, which one Auth0 honours
    // is not known, so neither is removed.
    let entry = list.entries[index].value.as_str();
    let repeats = list.entries[..index].iter().any(|e| e.value == entry);
    if !repeats {
        return None;
    }
    let edit = list_text(p, list)?.remove(index)?;
    Some(proposal(
        list.loc.file,
        connection,
        Applicability::Safe,
        format!("remove the repeated entry `{entry}`"),
        edit,
    ))
}

/// CL202: add the attribute to the connection's deny list (creating the list when the
/// connection's options have none).
pub fn sensitive_attribute(p: &Proposer<'_>, finding: &Finding) -> Option<Proposal> {
    let subject = finding.subject.as_ref().filter(|s| s.kind == "connection")?;
    let attribute = finding.attribute.as_deref()?;
    // A mapped name with a dot would be a nested deny-list path, which denies nothing (CL201).
    if crate::checks::nested_deny_path_root(attribute).is_some() {
        return None;
    }
    let connection = p.tenant.connection(&subject.name)?;
    let options = connection.options.as_ref()?;
    let message = format!(
        "add `{attribute}` to the deny list of `{}`: Auth0 stops storing it for logins through it",
        connection.name
    );
    if let Some(list) = &connection.deny_list {
        if list.entries.iter().any(|e| e.value.trim() == attribute) {
            return None;
        }
        let edit = list_text(p, list)?.append(attribute)?;
        return Some(proposal(
            list.loc.file,
            connection,
            Applicability::Unsafe,
            message,
            vec![edit],
        ));
    }
    // A `non_persistent_attrs` that is not a list of strings is left for its own error.
    if options.member(DENY_LIST_KEY).is_some() {
        return None;
    }
    let file = connection_options_file(p, connection)?;
    let source = p.sources.get(file);
    let edit = insert_list_member(
        source.text(),
        Syntax::of(&source.display),
        options,
        DENY_LIST_KEY,
        attribute,
    )?;
    Some(proposal(
        file,
        connection,
        Applicability::Unsafe,
        message,
        vec![edit],
    ))
}

/// The file the connection's `options` are written in.
fn connection_options_file(p: &Proposer<'_>, connection: &Connection) -> Option<crate::source::SourceId> {
    let options = connection.options.as_ref()?;
    let file = connection.loc.file;
    let text = p.sources.get(file).text();
    // The options node and its keys must lie inside the connection's own file.
    let mut keys = options.as_object()?.iter().map(|m| m.key_span);
    (in_text(text, options.span) && keys.all(|k| in_text(text, k))).then_some(file)
}
