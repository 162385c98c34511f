//! The findings of each check that runs on the model alone (configuration settings, and code
//! patterns such as CL205's) on its fixtures, in both export formats.
//!
//! Each check runs through the public [`claimlint::check`] API with the built-in policies, on
//! `tests/fixtures/<check>/{yaml,directory}`. The findings of the policy bound to the check are
//! snapshotted (`tests/snapshots/checks__<check>_<format>.snap`), and the two formats must agree
//! on everything but the position in the file. `tests/fixtures/<check>/pass-{yaml,directory}`
//! are near misses on which the policy must find nothing.

use claimlint::finding::Finding;
use serde_json::{Value, json};
use support::{Case, findings_of, run};

mod support;

const NESTED_DENY_PATH: Case = Case {
    check: "nested-deny-path",
    policy: "CL201",
    name: "nested-deny-path",
};
const SAML_DEBUG_WITH_DENY_LIST: Case = Case {
    check: "saml-debug-with-deny-list",
    policy: "CL203",
    name: "saml-debug-logs-denied-attributes",
};
const DUPLICATE_DENY_ENTRY: Case = Case {
    check: "duplicate-deny-entry",
    policy: "CL206",
    name: "duplicate-deny-entry",
};
const PARTIAL_OPTIONS_UPDATE: Case = Case {
    check: "partial-options-update",
    policy: "CL205",
    name: "partial-options-update",
};
const TENANT_FLAG: Case = Case {
    check: "tenant-flag",
    policy: "CL301",
    name: "legacy-profile-enabled",
};
const NON_OIDC_CONFORMANT_CLIENT: Case = Case {
    check: "non-oidc-conformant-client",
    policy: "CL302",
    name: "non-oidc-conformant-client",
};
const LEGACY_GRANT_TYPE: Case = Case {
    check: "legacy-grant-type",
    policy: "CL304",
    name: "legacy-grant-type",
};

/// What the snapshots hold of a finding.
fn projection(f: &Finding) -> Value {
    json!({
        "policy": f.policy,
        "severity": f.severity,
        "message": f.message,
        "help": f.help,
        "file": f.location.file,
        "line": f.location.line,
        "column": f.location.column,
        "end_line": f.location.end_line,
        "end_column": f.location.end_column,
        "pointer": f.location.pointer,
        "subject": f.subject,
    })
}

/// A YAML pointer without the part that says where the resource sits in `tenant.yaml`
/// (`/connections/0`, `/clients/1`, `/tenant`), so it reads as the pointer inside the
/// resource's own file in the directory format.
fn resource_pointer(pointer: &str) -> String {
    if let Some(rest) = pointer.strip_prefix("/tenant/") {
        return format!("/{rest}");
    }
    let mut segments = pointer.splitn(4, '/').skip(1);
    match (segments.next(), segments.next(), segments.next()) {
        (Some(_kind), Some(index), rest) if index.parse::<usize>().is_ok() => {
            rest.map_or_else(String::new, |rest| format!("/{rest}"))
        }
        _ => pointer.to_string(),
    }
}

/// A finding without its position, for comparing the two formats; sorted, since the report
/// order follows the files, which differ.
fn positionless(findings: &[&Finding], yaml: bool) -> Vec<String> {
    let mut out: Vec<String> = findings
        .iter()
        .map(|f| {
            let pointer = f
                .location
                .pointer
                .as_deref()
                .map(|p| if yaml { resource_pointer(p) } else { p.to_string() });
            json!({
                "policy": f.policy,
                "severity": f.severity,
                "message": f.message,
                "help": f.help,
                "pointer": pointer,
                "subject": f.subject,
            })
            .to_string()
        })
        .collect();
    out.sort();
    out
}

/// Snapshots the findings of `case` on both fixtures and checks the formats agree.
fn snapshot_both_formats(case: &Case) {
    let yaml_run = run(case.check, "yaml");
    let directory_run = run(case.check, "directory");
    let yaml = findings_of(case, &yaml_run);
    let directory = findings_of(case, &directory_run);
    assert!(!yaml.is_empty(), "{}: the yaml fixture finds nothing", case.check);

    let snake = case.check.replace('-', "_");
    for (format, found) in [("yaml", &yaml), ("directory", &directory)] {
        let projected: Vec<Value> = found.iter().map(|f| projection(f)).collect();
        insta::assert_json_snapshot!(format!("{snake}_{format}"), projected);
    }

    assert_eq!(
        yaml.len(),
        directory.len(),
        "{}: same number of findings",
        case.check
    );
    assert_eq!(
        positionless(&yaml, true),
        positionless(&directory, false),
        "{}: the two formats disagree",
        case.check
    );
}

/// Checks that `case`'s policy finds nothing on the passing fixtures.
fn passes_in_both_formats(case: &Case) {
    for form in ["pass-yaml", "pass-directory"] {
        let run = run(case.check, form);
        let found: Vec<Value> = findings_of(case, &run).into_iter().map(projection).collect();
        assert!(found.is_empty(), "{}/{form}: {found:#?}", case.check);
    }
}

#[test]
fn yaml_prefixes_are_stripped_from_pointers() {
    assert_eq!(
        resource_pointer("/connections/0/options/non_persistent_attrs/1"),
        "/options/non_persistent_attrs/1"
    );
    assert_eq!(resource_pointer("/databases/12/options/x"), "/options/x");
    assert_eq!(
        resource_pointer("/tenant/flags/enable_legacy_profile"),
        "/flags/enable_legacy_profile"
    );
    assert_eq!(resource_pointer("/clients/1"), "");
    assert_eq!(resource_pointer("/flags/x"), "/flags/x");
}

#[test]
fn nested_deny_path() {
    snapshot_both_formats(&NESTED_DENY_PATH);
}

#[test]
fn saml_debug_with_deny_list() {
    snapshot_both_formats(&SAML_DEBUG_WITH_DENY_LIST);
}

#[test]
fn duplicate_deny_entry() {
    snapshot_both_formats(&DUPLICATE_DENY_ENTRY);
}

#[test]
fn partial_options_update() {
    snapshot_both_formats(&PARTIAL_OPTIONS_UPDATE);
}

#[test]
fn tenant_flag() {
    snapshot_both_formats(&TENANT_FLAG);
}

#[test]
fn non_oidc_conformant_client() {
    snapshot_both_formats(&NON_OIDC_CONFORMANT_CLIENT);
}

#[test]
fn legacy_grant_type() {
    snapshot_both_formats(&LEGACY_GRANT_TYPE);
}

#[test]
fn nested_deny_path_passes() {
    passes_in_both_formats(&NESTED_DENY_PATH);
}

#[test]
fn saml_debug_with_deny_list_passes() {
    passes_in_both_formats(&SAML_DEBUG_WITH_DENY_LIST);
}

#[test]
fn duplicate_deny_entry_passes() {
    passes_in_both_formats(&DUPLICATE_DENY_ENTRY);
}

/// CL206 and CL201 on the same list: a nested entry listed once is CL201's alone; listed twice,
/// both occurrences are CL201's and the later one is also a repeat.
#[test]
fn duplicate_deny_entry_does_not_double_report_nested_paths() {
    for form in ["yaml", "directory"] {
        let run = run("duplicate-deny-entry", form);
        let at = |policy: &str| -> Vec<String> {
            let mut pointers: Vec<String> = run
                .report
                .findings
                .iter()
                .filter(|f| f.policy == policy && f.subject.as_ref().is_some_and(|s| s.name == "corp-saml"))
                .map(|f| resource_pointer(f.location.pointer.as_deref().unwrap_or_default()))
                .collect();
            pointers.sort();
            pointers
        };
        let nested = at("CL201");
        let repeated = at("CL206");
        assert_eq!(
            nested,
            [
                "/options/non_persistent_attrs/0",
                "/options/non_persistent_attrs/4",
                "/options/non_persistent_attrs/5"
            ],
            "{form}"
        );
        assert_eq!(repeated, ["/options/non_persistent_attrs/4"], "{form}");
        // The repeat points back at the first occurrence.
        let first = run
            .report
            .findings
            .iter()
            .find(|f| f.policy == "CL206" && f.message.contains("address.street"))
            .and_then(|f| f.related.iter().find(|r| r.message.contains("first listed here")))
            .and_then(|r| r.location.pointer.as_deref())
            .map(resource_pointer);
        assert_eq!(
            first.as_deref(),
            Some("/options/non_persistent_attrs/0"),
            "{form}"
        );
    }
}

#[test]
fn partial_options_update_passes() {
    passes_in_both_formats(&PARTIAL_OPTIONS_UPDATE);
}

/// Facts the CL205 snapshots must keep: one finding per script that sends a partial `options`,
/// in rules, actions and hooks, each naming its call and keys, and none with a proof (a code
/// pattern, no login is evaluated).
#[test]
fn partial_options_update_names_the_call_and_the_keys() {
    let run = run("partial-options-update", "directory");
    let found = findings_of(&PARTIAL_OPTIONS_UPDATE, &run);
    let mut seen: Vec<(String, &str)> = found
        .iter()
        .map(|f| {
            assert!(f.proof.is_none(), "{}", f.message);
            let subject = f.subject.as_ref().expect("a script subject");
            let call = f.message.split('`').nth(3).unwrap_or_default();
            (format!("{} {}", subject.kind, subject.name), call)
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("action Hide gender".to_string(), "mgmt.connections.update"),
            ("hook Enable brute force protection".to_string(), "fetch"),
            ("rule Deny SSN".to_string(), "management.updateConnection"),
            ("rule Deny birthdate with request".to_string(), "request"),
            ("rule Turn off SAML debug".to_string(), "axios.patch"),
        ]
    );
}

#[test]
fn tenant_flag_passes() {
    passes_in_both_formats(&TENANT_FLAG);
}

#[test]
fn non_oidc_conformant_client_passes() {
    passes_in_both_formats(&NON_OIDC_CONFORMANT_CLIENT);
}

#[test]
fn legacy_grant_type_passes() {
    passes_in_both_formats(&LEGACY_GRANT_TYPE);
}
