//! How reports reach the user: several formats in one run, colour decided by flags and the
//! environment (`NO_COLOR`, `FORCE_COLOR`, `CLICOLOR_FORCE`), and reports narrowed to the files
//! named on the command line (pre-commit) with the count of what was left out.

use std::process::{Command, Output};

use serde_json::Value;

const EXAMPLE: &str = "examples/tenant-export";

fn claimlint(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_claimlint"));
    command.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for name in ["NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "COLUMNS"] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("claimlint runs")
}

#[test]
fn several_reports_in_one_run_agree() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let sarif = dir.path().join("report.sarif");
    let output = claimlint(
        &[
            EXAMPLE,
            "--format",
            &format!("json={}", json.display()),
            "--output-format",
            &format!("sarif={}", sarif.display()),
            "--format",
            "concise",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let sarif: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap().len();
    assert!(findings > 5);
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), findings);
    // Concise: one line per finding, then the summary line.
    assert_eq!(stdout.lines().count(), findings + 1, "{stdout}");
    assert!(stdout.lines().next().unwrap().contains(": CL"), "{stdout}");
}

#[test]
fn output_flag_names_the_file_of_the_format_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let output = claimlint(
        &[EXAMPLE, "--format", "json", "--output", json.to_str().unwrap()],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["version"], 1);
}

fn has_escape(output: &Output) -> bool {
    output.stdout.contains(&0x1b)
}

#[test]
fn colour_follows_flags_then_force_then_no_color() {
    let human = [EXAMPLE, "--select", "CL201"];
    // Not a terminal: no colour unless forced.
    assert!(!has_escape(&claimlint(&human, &[])));
    assert!(has_escape(&claimlint(&human, &[("FORCE_COLOR", "1")])));
    assert!(has_escape(&claimlint(&human, &[("CLICOLOR_FORCE", "1")])));
    assert!(!has_escape(&claimlint(&human, &[("FORCE_COLOR", "0")])));
    assert!(has_escape(&claimlint(
        &human,
        &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]
    )));
    let never = [EXAMPLE, "--select", "CL201", "--color", "never"];
    assert!(!has_escape(&claimlint(&never, &[("FORCE_COLOR", "1")])));
    let always = [EXAMPLE, "--select", "CL201", "--color", "always"];
    assert!(has_escape(&claimlint(&always, &[("NO_COLOR", "1")])));
}

#[test]
fn human_output_fits_the_width_it_is_given() {
    for columns in [60usize, 80, 160] {
        let output = claimlint(
            &[EXAMPLE, "--color", "never", "--proof", "full"],
            &[("COLUMNS", &columns.to_string())],
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        for line in stdout.lines() {
            // Source lines are quoted as they are, and a path or claim name longer than the
            // width cannot be split; every other line fits.
            let quoted = line
                .trim_start()
                .starts_with(|c: char| c.is_ascii_digit() || matches!(c, '·' | '╭' | '╰'));
            let unbreakable = line.split_whitespace().any(|w| w.chars().count() > columns / 2);
            if !quoted && !unbreakable {
                assert!(line.chars().count() <= columns, "{columns} columns: {line:?}");
            }
        }
    }
}

#[test]
fn named_files_narrow_the_report_and_count_what_was_left_out() {
    let file = "examples/tenant-export/clients/Legacy Portal.json";
    let named: Value = serde_json::from_slice(&claimlint(&[file, "--format", "json"], &[]).stdout).unwrap();
    let all: Value =
        serde_json::from_slice(&claimlint(&[file, "--format", "json", "--all"], &[]).stdout).unwrap();
    let count = |report: &Value| report["findings"].as_array().unwrap().len();
    let left_out = named["summary"]["left_out"].as_u64().unwrap() as usize;
    assert!(left_out > 0);
    assert_eq!(count(&named) + left_out, count(&all));
    assert!(all["summary"].get("left_out").is_none());
    // Every finding kept involves the file: it is there, or its proof logs in with the client.
    for finding in named["findings"].as_array().unwrap() {
        let here = finding["location"]["file"] == file;
        let client = finding["proof"]["scenario"]["client"] == "Legacy Portal";
        assert!(here || client, "{finding}");
    }
}
