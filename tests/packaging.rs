//! The ways claimlint is shipped agree with each other and with Cargo.toml: the PyPI package, the
//! pre-commit hook (this repository's and the mirror's), the GitHub Action, the README's snippets
//! and the schemas' `$id`s that editors fetch. A version bump that misses one of them fails here;
//! the release workflow refuses a tag that is not Cargo.toml's version.

use std::path::Path;

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Where every schema is published, by its path in this repository.
const SCHEMA_BASE: &str = "https://raw.githubusercontent.com/claimlint/claimlint/main/";
const MIRROR_REPO: &str = "https://github.com/claimlint/claimlint-pre-commit";

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The lines of `text` from the one equal to `start` up to the next line as little indented.
fn block<'a>(text: &'a str, start: &str) -> Vec<&'a str> {
    let mut lines = text.lines().skip_while(|line| *line != start);
    let first = lines.next().unwrap_or_else(|| panic!("no line `{start}`"));
    let indent = first.len() - first.trim_start().len();
    lines
        .take_while(|line| line.trim().is_empty() || line.len() - line.trim_start().len() > indent)
        .collect()
}

#[test]
fn the_wheel_is_the_binary_at_cargo_version_built_locked() {
    let pyproject = read("pyproject.toml");
    for line in [
        r#"build-backend = "maturin""#,
        r#"name = "claimlint-auth0""#,
        r#"dynamic = ["version"]"#,
        r#"bindings = "bin""#,
        "locked = true",
    ] {
        assert!(
            pyproject.lines().any(|l| l == line),
            "pyproject.toml lacks `{line}`"
        );
    }
    assert!(
        !pyproject.lines().any(|l| l.starts_with("version")),
        "pyproject.toml must take its version from Cargo.toml"
    );
}

#[test]
fn both_hook_definitions_are_the_same_python_hook() {
    let root = read(".pre-commit-hooks.yaml");
    assert_eq!(
        root,
        read("pre-commit-mirror/.pre-commit-hooks.yaml"),
        "pre-commit-mirror/.pre-commit-hooks.yaml must be a copy of .pre-commit-hooks.yaml"
    );
    assert!(root.lines().any(|l| l.trim() == "language: python"));
    assert!(root.lines().any(|l| l.trim() == "entry: claimlint"));
}

#[test]
fn the_mirror_pins_the_wheel_of_this_version() {
    let pin = format!(r#"dependencies = ["claimlint-auth0=={VERSION}"]"#);
    assert!(
        read("pre-commit-mirror/pyproject.toml").lines().any(|l| l == pin),
        "pre-commit-mirror/pyproject.toml must say `{pin}`"
    );
}

#[test]
fn the_action_installs_this_version_by_default() {
    let action = read("action.yml");
    let version_input = block(&action, "  version:");
    let default = format!(r#"default: "{VERSION}""#);
    assert!(
        version_input.iter().any(|l| l.trim() == default),
        "action.yml's `version` input must have `{default}`: {version_input:?}"
    );
    assert!(action.contains(r#"bash "$GITHUB_ACTION_PATH/.github/action/install.sh""#));
    assert!(action.contains(r#"bash "$GITHUB_ACTION_PATH/.github/action/run.sh" lint"#));
    assert!(action.contains(r#"bash "$GITHUB_ACTION_PATH/.github/action/run.sh" gate"#));
}

/// Every version the README pins (pre-commit `rev`, the action's tag, pip pins, the Docker build
/// tag) is this one, and the pre-commit snippets use the mirror, whose tags the release workflow
/// creates.
#[test]
fn the_readme_pins_this_version() {
    let readme = read("README.md");
    let tag = format!("v{VERSION}");
    let mut pins = 0;
    for (n, line) in readme.lines().enumerate() {
        let n = n + 1;
        if let Some(rev) = line.trim().strip_prefix("rev: ") {
            assert_eq!(rev, tag, "README.md:{n}: pre-commit rev");
            pins += 1;
        }
        for (marker, expected) in [
            ("claimlint/claimlint@", tag.as_str()),
            ("claimlint.git#", tag.as_str()),
            ("claimlint-auth0==", VERSION),
        ] {
            for (at, _) in line.match_indices(marker) {
                let rest = &line[at + marker.len()..];
                let pinned: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
                    .collect();
                assert_eq!(pinned, expected, "README.md:{n}: `{marker}{pinned}`");
                pins += 1;
            }
        }
        if line.trim().starts_with("- repo:") {
            assert!(
                line.trim() == format!("- repo: {MIRROR_REPO}")
                    || line.trim() == "- repo: https://github.com/claimlint/claimlint",
                "README.md:{n}: {line}"
            );
        }
    }
    assert!(pins >= 3, "the README pins no version");
    let snippet = format!("- repo: {MIRROR_REPO}\n    rev: {tag}\n");
    assert!(
        readme.contains(&snippet),
        "the README's pre-commit snippet must use the mirror at {tag}"
    );
}

#[test]
fn every_schema_id_is_its_published_url() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut folders = vec![root.join("schemas")];
    let mut seen = 0;
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let relative = path.strip_prefix(root).unwrap().to_str().unwrap();
            let relative = relative.replace('\\', "/");
            let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{relative}: {e}"));
            assert_eq!(
                schema["$id"].as_str(),
                Some(format!("{SCHEMA_BASE}{relative}").as_str()),
                "{relative}"
            );
            seen += 1;
        }
    }
    assert!(seen > 4);
}

#[test]
fn the_starter_config_names_its_schema_for_editors() {
    let schema: serde_json::Value = serde_json::from_str(&read("schemas/config.schema.json")).unwrap();
    let id = schema["$id"].as_str().unwrap();
    assert_eq!(
        claimlint::config::STARTER.lines().next(),
        Some(format!("# yaml-language-server: $schema={id}").as_str())
    );
    assert!(
        read("README.md").contains(&format!("$schema={id}")),
        "the README shows the modeline"
    );
}
