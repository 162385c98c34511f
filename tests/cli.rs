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
