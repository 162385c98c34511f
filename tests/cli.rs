//! End-to-end CLI cases, one `tests/cmd/<case>.toml` each (args, exit code, expected output),
//! with their input trees in `tests/cmd/<case>.in/`. `TRYCMD=overwrite cargo test --test cli`
//! rewrites the expected output after an intended change.

#[test]
fn cli_cases() {
    trycmd::TestCases::new()
        .register_bin(
            "claimlint",
            std::path::PathBuf::from(env!("CARGO_BIN_EXE_claimlint")),
        )
        .case("tests/cmd/*.toml");
}

/// `claimlint token` shows the example's non-namespaced `country` claim for the legacy client
/// and not for the OIDC-conformant one.
#[test]
fn token_shows_the_legacy_exception() {
    let id_token_of = |client: &str| -> serde_json::Value {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_claimlint"))
            .args([
                "token",
                "examples/tenant-export",
                "--format",
                "json",
                "--client",
                client,
            ])
            .args(["--connection", "Username-Password-Authentication"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("claimlint runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let evaluation: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        evaluation["tokens"]["id_token"].clone()
    };
    assert_eq!(
        id_token_of("Legacy Portal")["country"],
        "<user.user_metadata.country>"
    );
    assert!(id_token_of("Acme Dashboard").get("country").is_none());
}

/// `claimlint policies` lists every built-in policy and `claimlint explain` works for each id.
#[test]
fn every_policy_is_listed_and_explained() {
    let claimlint = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_claimlint"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("claimlint runs");
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let listed: serde_json::Value =
        serde_json::from_str(&claimlint(&["policies", "--format", "json"])).expect("JSON");
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    for id in [
        "CL001", "CL101", "CL102", "CL103", "CL104", "CL105", "CL106", "CL201", "CL202", "CL203", "CL204",
        "CL205", "CL206", "CL301", "CL302", "CL303", "CL304",
    ] {
        assert!(ids.contains(&id), "{id} is not listed");
    }
    for id in ids {
        let text = claimlint(&["explain", id]);
        assert!(
            text.starts_with(id) && text.contains("### What it flags"),
            "explain {id}:\n{text}"
        );
    }
}
