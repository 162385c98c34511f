//! `tenant-flag` (CL301): a tenant flag set to a value the policy flags.
//!
//! ### What it flags
//! `tenant.flags.<flag>` equal to `value` (default `true`). The built-in policy CL301 uses it for
//! `enable_legacy_profile`, the legacy user profile that lets non-namespaced claims through for
//! non-OIDC-conformant clients; teams can add policies for other flags with no Rust.
//!
//! ### Options
//! `flag` (required) and `value` (default `true`).

use serde::Deserialize;

use super::{Context, Hit, options};

#[derive(Debug, Default, Deserialize)]
struct Options {
    #[serde(default)]
    flag: String,
    #[serde(default = "yes")]
    value: bool,
}

fn yes() -> bool {
    true
}

pub fn run(ctx: &Context<'_>, raw: &serde_json::Value) -> Vec<Hit> {
    let options: Options = options(raw);
    let Some(flag) = ctx.tenant.flag(&options.flag) else {
        return Vec::new();
    };
    if flag.value != Some(options.value) {
        return Vec::new();
    }
    vec![
        Hit::at(flag.loc.clone())
            .var("flag", flag.name.clone())
            .subject("tenant", "flags")
            .policy_entry("/options/flag"),
    ]
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::hits;
    use serde_json::json;

    #[test]
    fn flags_the_flag_in_both_formats() {
        let cases = [
            ("directory", "tenant.json", "/flags/enable_legacy_profile"),
            ("yaml", "tenant.yaml", "/tenant/flags/enable_legacy_profile"),
        ];
        for (form, file, pointer) in cases {
            let found = hits(
                "tenant-flag",
                form,
                "tenant-flag",
                json!({ "flag": "enable_legacy_profile" }),
            );
            assert_eq!(found.len(), 1, "{form}: {found:?}");
            assert_eq!(
                (found[0].0.as_str(), found[0].1, found[0].2.as_str()),
                (file, 6, pointer),
                "{form}"
            );
        }
    }

    #[test]
    fn a_flag_that_is_off_or_absent_is_quiet() {
        assert!(
            hits(
                "tenant-flag",
                "directory",
                "tenant-flag",
                json!({ "flag": "allow_legacy_ro_grant_types" })
            )
            .is_empty()
        );
        assert!(
            hits(
                "tenant-flag",
                "directory",
                "tenant-flag",
                json!({ "flag": "no_such_flag" })
            )
            .is_empty()
        );
        let off = hits(
            "tenant-flag",
            "directory",
            "tenant-flag",
            json!({ "flag": "allow_legacy_ro_grant_types", "value": false }),
        );
        assert_eq!(off.len(), 1);
    }
}
