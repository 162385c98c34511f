//! Hostile input: exports, configs and policies written to crash, exhaust, escape or inject.
//! Each case runs claimlint as a child process; the harness measures its wall time and peak
//! memory (`wait4`'s resource usage of that child, not the linter's own clock) and checks the
//! exit code, the located message, and that nothing from outside the export reaches the output.
//!
//! Small cases are committed under `tests/fixtures/hostile/<case>/`; large ones (megabytes of
//! nested JavaScript, YAML that repeats a large scalar) are written into a temporary folder.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FIXTURES: &str = "tests/fixtures/hostile";

/// Bounds for inputs up to about 10 MB. Wide enough for a debug build on a busy 2-core
/// machine; a crash, a hang or an unbounded allocation exceeds them by far.
const TIME_LIMIT: Duration = Duration::from_secs(30);
const MEMORY_LIMIT_KB: i64 = 300 * 1024;

/// A finished run: exit code, stdout, stderr, wall time, peak resident memory in KiB.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    wall: Duration,
    peak_kb: i64,
}

impl Run {
    fn assert_bounded(&self, case: &str) {
        assert!(self.wall < TIME_LIMIT, "{case}: took {:?}", self.wall);
        assert!(
            self.peak_kb < MEMORY_LIMIT_KB,
            "{case}: peak memory {} MiB",
            self.peak_kb / 1024
        );
    }

    fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs the binary in `dir` (reaped by `wait4`, which clippy cannot see); a death by signal (a stack overflow aborts) fails the test, and a
/// run past the time limit is killed and fails it.
#[allow(clippy::zombie_processes)]
fn claimlint(dir: &Path, args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_claimlint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("claimlint starts");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).ok();
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let pid = child.id() as libc::pid_t;
    let started = Instant::now();
    // A watchdog kills the child at the limit; `wait4` then returns.
    let watchdog = std::thread::spawn(move || {
        while started.elapsed() < TIME_LIMIT * 2 {
            std::thread::sleep(Duration::from_millis(50));
            // SAFETY: signal 0 only checks that the process exists.
            if unsafe { libc::kill(pid, 0) } != 0 {
                return;
            }
        }
        // SAFETY: plain kill of our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for this one child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    let _ = watchdog.join();
    assert!(
        libc::WIFEXITED(status),
        "claimlint died by signal {} in {}",
        libc::WTERMSIG(status),
        dir.display()
    );
    Run {
        code: libc::WEXITSTATUS(status),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        wall,
        peak_kb: usage.ru_maxrss,
    }
}

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURES).join(case)
}

const RULE_META: &str = r#"{"name": "hostile", "enabled": true, "order": 1}"#;

/// A directory export holding one rule with `script`.
fn export_with_rule(script: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("rules/hostile.js"), script).unwrap();
    std::fs::write(dir.path().join("rules/hostile.json"), RULE_META).unwrap();
    std::fs::write(dir.path().join("tenant.json"), "{}").unwrap();
    dir
}

/// Whether no control character but the line break reaches the output.
fn no_controls(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() && c != '\n')
}

/// `token` repeated to just under the 1 MiB script limit, then `end`.
fn chain(token: &str, end: &str) -> String {
    token.repeat((1_000_000 - end.len()) / token.len()) + end
}

#[test]
fn deep_javascript_without_brackets_is_refused_not_a_crash() {
    // Just under 1 MiB each: up to a million levels, past any parser stack.
    let chains = [
        ("arrow functions", chain("x => ", "1")),
        ("conditionals", chain("a ? a : ", "1")),
        ("new", chain("new ", "X")),
        ("unary operators", chain("!", "x")),
        ("assignments", chain("a = ", "x")),
        ("exponents", chain("a ** ", "a")),
        (
            "classes",
            format!("x = {}A{}", "class extends ".repeat(30_000), " {}".repeat(30_000)),
        ),
        ("decorators", chain("@", "x")),
        ("if statements", chain("if (a) ", "x;")),
        ("else if", chain("if (a) x; else ", "x;")),
    ];
    for (what, script) in chains {
        let export = export_with_rule(&script);
        let run = claimlint(export.path(), &["--format", "concise", "."]);
        run.assert_bounded(what);
        assert_eq!(run.code, 2, "{what}: {}", run.output());
        assert!(
            run.stdout.contains("rules/hostile.js:1:")
                && run
                    .stdout
                    .contains("deeper than 10000 levels; it was not analysed"),
            "{what}: {}",
            run.stdout
        );
    }
}

/// An object that holds itself, and one that holds the same object twice at each of 40
/// levels: written out naively, a claim set to either has billions of nodes.
#[test]
fn claims_holding_shared_or_cyclic_objects_are_bounded() {
    let export = export_with_rule(
        "function (user, context, callback) {
           var a = {}; a.x = a; a.y = a;
           context.idToken['https://example.com/a'] = a;
           var l = { v: user.email };
           for (var i = 0; i < 40; i++) { l = { x: l, y: l }; }
           context.idToken['https://example.com/l'] = l;
           context.idToken.plain = 1;
           callback(null, user, context);
         }",
    );
    let run = claimlint(export.path(), &["--format", "json", "."]);
    run.assert_bounded("shared objects");
    assert_eq!(run.code, 1, "{}", run.output());
    assert!(run.stdout.contains("\"plain\""), "{}", run.stdout);
}

#[test]
fn scripts_over_the_size_limit_are_refused_unparsed() {
    // Ten megabytes of flat statements: parsing would take hundreds of megabytes.
    let export = export_with_rule(&format!(
        "function (user, context, callback) {{\n{}callback(null, user, context);\n}}",
        "context.idToken['https://a.com/x'] = user.email;\n".repeat(200_000)
    ));
    let run = claimlint(export.path(), &["--format", "concise", "."]);
    run.assert_bounded("10 MB script");
    assert_eq!(run.code, 2, "{}", run.output());
    assert!(
        run.stdout.contains("rules/hostile.js:1:1: CL001 script is"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("over 1024 KiB are not analysed"),
        "{}",
        run.stdout
    );
}

#[test]
fn deep_javascript_in_a_file_no_rule_names_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("rules/lone.js"), chain("x => ", "1")).unwrap();
    std::fs::write(dir.path().join("tenant.json"), "{}").unwrap();
    let run = claimlint(dir.path(), &["--format", "concise", "."]);
    run.assert_bounded("lone script");
    assert_eq!(run.code, 2, "{}", run.output());
    assert!(run.stdout.contains("rules/lone.js:1:"), "{}", run.stdout);
}

#[test]
fn stray_characters_cost_bounded_diagnostics() {
    for (what, script) in [
        ("backslashes", "\\".repeat(1_000_000)),
        (
            "backslashes in a function",
            format!("function (u, c, cb) {{ {} }}", "\\".repeat(1_000_000)),
        ),
        ("control bytes", "\u{1}".repeat(1_000_000)),
    ] {
        let export = export_with_rule(&script);
        let run = claimlint(export.path(), &["--format", "concise", "."]);
        run.assert_bounded(what);
        assert_eq!(run.code, 2, "{what}: {}", run.output());
        assert!(
            run.stdout.contains("JavaScript does not allow"),
            "{what}: {}",
            run.stdout
        );
    }
}

#[test]
fn deep_javascript_just_under_the_limit_is_analysed() {
    // The limit leaves room: 9,000 levels of each kind parse and lower without harm.
    for script in [
        "x => ".repeat(9_000) + "1",
        "a ? a : ".repeat(9_000) + "1",
        "if (a) ".repeat(9_000) + "x;",
    ] {
        let export = export_with_rule(&script);
        let run = claimlint(export.path(), &["--format", "concise", "."]);
        run.assert_bounded(&script[..10]);
        assert!(!run.stdout.contains("not analysed"), "{}", run.stdout);
    }
}

#[test]
fn yaml_aliases_repeating_a_large_scalar_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = "x".repeat(1 << 20);
    let aliases = vec!["*big"; 200].join(", ");
    let text = format!("tenant:\n  friendly_name: &big {big}\nrules: []\nclients:\n  - name: [{aliases}]\n");
    std::fs::write(dir.path().join("tenant.yaml"), text).unwrap();
    let run = claimlint(dir.path(), &["--format", "concise", "."]);
    run.assert_bounded("alias scalar");
    assert_eq!(run.code, 2, "{}", run.output());
    assert!(run.stdout.contains("tenant.yaml:"), "{}", run.stdout);
    assert!(run.stdout.contains("MiB of text"), "{}", run.stdout);
}

#[test]
fn keyword_values_cannot_grow_a_file_past_the_size_cap() {
    let export = export_with_rule(&"const a = '##BIG##';\n".repeat(400));
    // The keyword file is named on the command line, inside the export here for convenience.
    let keywords = export.path().join("keywords.json");
    let value = "y".repeat(1 << 20);
    std::fs::write(&keywords, format!(r#"{{"BIG": "{value}"}}"#)).unwrap();
    let run = claimlint(
        export.path(),
        &["--format", "concise", "--keywords", "keywords.json", "."],
    );
    run.assert_bounded("keyword expansion");
    assert_eq!(run.code, 2, "{}", run.output());
    assert!(run.stdout.contains("rules/hostile.js:"), "{}", run.stdout);
    assert!(run.stdout.contains("longer than 32 MiB"), "{}", run.stdout);
}

#[test]
fn claim_names_cannot_inject_into_terminals_or_ci_logs() {
    let export = fixture("output-injection");
    for format in ["human", "concise", "github"] {
        let run = claimlint(&export, &["--format", format, "."]);
        run.assert_bounded(format);
        assert_eq!(run.code, 1, "{format}: {}", run.output());
        assert!(no_controls(&run.stdout), "{format}: {:?}", run.stdout);
        assert!(run.stdout.contains("\\u{1b}[31m"), "{format}: {}", run.stdout);
    }
    // In a CI log, each finding is one workflow command: the newline in the claim name cannot
    // start a second one.
    let run = claimlint(&export, &["--format", "github", "."]);
    let commands = run.stdout.lines().filter(|l| l.starts_with("::")).count();
    assert_eq!(commands, 1, "{}", run.stdout);
}

#[test]
fn config_extends_cannot_leave_the_repository() {
    // Each case is copied out of this repository, and its `export/` made a repository of its
    // own (`.git`), so `../outside.env` and `/dev/zero` lie outside it.
    for case in ["extends-outside", "extends-device", "extends-proc"] {
        let copy = tempfile::tempdir().unwrap();
        copy_tree(&fixture(case), copy.path());
        let export = copy.path().join("export");
        std::fs::create_dir(export.join(".git")).unwrap();
        let run = claimlint(&export, &["--format", "concise", "."]);
        run.assert_bounded(case);
        assert_eq!(run.code, 2, "{case}: {}", run.output());
        assert!(
            run.stdout.contains(".claimlint.yaml:1:10: CL001 `extends` names"),
            "{case}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains("outside the repository"),
            "{case}: {}",
            run.stdout
        );
        assert!(
            !run.output().contains("OUTSIDE-SECRET"),
            "{case}: {}",
            run.output()
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_policy_file_that_is_not_utf8_is_a_located_error() {
    let export = export_with_rule(
        "function (user, context, callback) { context.idToken.role = 1; callback(null, user, context); }",
    );
    let dir = export.path();
    std::fs::create_dir(dir.join("policies")).unwrap();
    std::fs::write(dir.join("policies/bad.yaml"), b"id: CL900\nname: \xff\xfe\n").unwrap();
    std::fs::write(dir.join(".claimlint.yaml"), "policies: [policies]\n").unwrap();
    let run = claimlint(dir, &["--format", "concise", "."]);
    run.assert_bounded("policy not UTF-8");
    assert_eq!(run.code, 2, "{}", run.output());
    assert!(
        run.stdout.contains(
            "policies/bad.yaml:2:7: CL001 cannot read policy file: expected UTF-8 text, found the byte 0xFF"
        ),
        "{}",
        run.stdout
    );
    // The other policies still lint the export.
    assert!(run.stdout.contains("rules/hostile.js:1:"), "{}", run.stdout);
    assert!(run.stdout.contains("CL101"), "{}", run.stdout);
}

#[test]
fn a_tenant_json_that_is_a_folder_is_a_located_error() {
    let run = claimlint(&fixture("tenant-json-folder"), &["--format", "concise", "."]);
    run.assert_bounded("tenant.json folder");
    assert_eq!(run.code, 2, "{}", run.output());
    assert!(
        run.stdout
            .contains("tenant.json:1:1: CL001 cannot read file: it is a folder, not a file"),
        "{}",
        run.stdout
    );
    // The rest is linted: the rule's finding is still there.
    assert!(run.stdout.contains("CL101"), "{}", run.stdout);
}

#[cfg(unix)]
#[test]
fn folders_linked_out_of_the_export_are_reported_never_listed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("OUTSIDE-NAME.json"), r#"{"name": "x"}"#).unwrap();
    std::fs::write(outside.join("OUTSIDE-NAME.js"), "OUTSIDE-SECRET").unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir_all(export.join("database-connections")).unwrap();
    std::fs::write(export.join("tenant.json"), "{}").unwrap();
    std::os::unix::fs::symlink(&outside, export.join("rules")).unwrap();
    std::os::unix::fs::symlink(&outside, export.join("database-connections/linked")).unwrap();
    let run = claimlint(&export, &["--format", "concise", "."]);
    run.assert_bounded("linked folders");
    assert_eq!(run.code, 2, "{}", run.output());
    for folder in ["rules", "database-connections/linked"] {
        assert!(
            run.stdout
                .contains(&format!("{folder}:1:1: CL001 this folder is a symbolic link")),
            "{folder}: {}",
            run.stdout
        );
    }
    assert!(!run.output().contains("OUTSIDE"), "{}", run.output());
}

/// A script swapped, over and over while claimlint runs, between a real file and a symbolic
/// link to a file outside the export: whatever moment the swap hits, no run reads the outside
/// file (on Linux the open itself is confined; see `load::files::Root`).
#[cfg(unix)]
#[test]
fn a_script_swapped_for_an_outside_link_during_a_run_is_never_read() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside.js");
    std::fs::write(
        &outside,
        "function (user, context, callback) { context.idToken['OUTSIDE-SECRET'] = 1; callback(null, user, context); }",
    )
    .unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir_all(export.join("rules")).unwrap();
    std::fs::write(export.join("tenant.json"), "{}").unwrap();
    std::fs::write(export.join("rules/a.json"), RULE_META.replace("hostile", "a")).unwrap();
    let real = "function (user, context, callback) { context.idToken['https://example.com/inside'] = 1; callback(null, user, context); }";
    let script = export.join("rules/a.js");
    std::fs::write(&script, real).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, script, staged_real, staged_link) = (
            stop.clone(),
            script.clone(),
            export.join("rules/.real"),
            export.join("rules/.link"),
        );
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Renames replace the script atomically: it is always a file or a link.
                let _ = std::fs::remove_file(&staged_link);
                let _ = std::os::unix::fs::symlink(&outside, &staged_link);
                let _ = std::fs::rename(&staged_link, &script);
                let _ = std::fs::write(&staged_real, real);
                let _ = std::fs::rename(&staged_real, &script);
                swaps += 1;
            }
            swaps
        })
    };
    let mut saw_link = 0;
    for _ in 0..40 {
        let run = claimlint(&export, &["--format", "concise", "rules/a.js", "--all", "."]);
        assert!(!run.output().contains("OUTSIDE-SECRET"), "{}", run.output());
        if run.stdout.contains("symbolic link to outside the export root") {
            saw_link += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 40, "the script was swapped only {swaps} times");
    // Some runs met the link (else the race was never exercised).
    assert!(saw_link > 0, "no run met the link in {swaps} swaps");
}

/// The classes handled before this corpus, each now bounded in time and memory too: one
/// directory export per case, the file under test beside an ordinary rule that is still linted.
#[test]
fn already_handled_classes_stay_bounded_and_located() {
    let deep_json = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 9].join(", ")
        ));
    }
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "deep JSON",
            "clients/deep.json",
            deep_json.into_bytes(),
            "deeper than 128 levels",
        ),
        (
            "NUL bytes",
            "clients/nul.json",
            b"{\"name\": \"a\0b\"\0}".to_vec(),
            "clients/nul.json:1:",
        ),
        (
            "invalid UTF-8",
            "clients/latin1.json",
            b"{\"name\": \"caf\xe9\"}".to_vec(),
            "expected UTF-8 text",
        ),
        (
            "UTF-16 BOM",
            "clients/utf16.json",
            b"\xff\xfe{\0}\0".to_vec(),
            "clients/utf16.json:1:",
        ),
        // Duplicate keys are JSON that a0deploy reads (the last one wins): no error, no crash.
        (
            "duplicate keys",
            "clients/dup.json",
            br#"{"name": "a", "name": "b"}"#.to_vec(),
            "CL101",
        ),
        ("alias bomb", "tenant.yaml", bomb.into_bytes(), "alias bomb"),
        (
            "deep JS brackets",
            "rules/deep.js",
            "(".repeat(1_000_000).into_bytes(),
            "deeper than 256 levels",
        ),
    ];
    for (what, path, bytes, expected) in cases {
        let export = export_with_rule(
            "function (user, context, callback) { context.idToken.role = 1; callback(null, user, context); }",
        );
        let target = export.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        if path == "tenant.yaml" {
            std::fs::remove_file(export.path().join("tenant.json")).unwrap();
        }
        if path == "rules/deep.js" {
            std::fs::write(
                export.path().join("rules/deep.json"),
                r#"{"name": "deep", "enabled": true, "order": 2}"#,
            )
            .unwrap();
        }
        std::fs::write(&target, bytes).unwrap();
        let run = claimlint(export.path(), &["--format", "concise", "."]);
        run.assert_bounded(what);
        let code = if what == "duplicate keys" || what == "CRLF" {
            1
        } else {
            2
        };
        assert_eq!(run.code, code, "{what}: {}", run.output());
        assert!(
            run.stdout.contains(expected),
            "{what}: expected {expected:?} in\n{}",
            run.stdout
        );
        if path != "tenant.yaml" {
            // The rest of the export is linted: the rule's unnamespaced claim is reported.
            assert!(run.stdout.contains("CL101"), "{what}: {}", run.stdout);
        }
    }
}

#[cfg(unix)]
#[test]
fn special_files_and_link_loops_are_refused_without_blocking() {
    let export = export_with_rule(
        "function (user, context, callback) { context.idToken.role = 1; callback(null, user, context); }",
    );
    let clients = export.path().join("clients");
    std::fs::create_dir(&clients).unwrap();
    let fifo = std::ffi::CString::new(clients.join("fifo.json").display().to_string()).unwrap();
    // SAFETY: creates a FIFO at a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    std::os::unix::fs::symlink("loop-b.json", clients.join("loop-a.json")).unwrap();
    std::os::unix::fs::symlink("loop-a.json", clients.join("loop-b.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", clients.join("zero.json")).unwrap();
    // A sparse file of 40 GiB: its size is refused before a byte is read.
    let sparse = std::fs::File::create(clients.join("sparse.json")).unwrap();
    sparse.set_len(40 << 30).unwrap();
    let run = claimlint(export.path(), &["--format", "concise", "."]);
    run.assert_bounded("special files");
    assert_eq!(run.code, 2, "{}", run.output());
    for (file, expected) in [
        ("clients/fifo.json", "special file"),
        ("clients/loop-a.json", "clients/loop-a.json:1:1: CL001"),
        ("clients/zero.json", "outside the export root"),
        ("clients/sparse.json", "MiB"),
    ] {
        let line = run.stdout.lines().find(|l| l.contains(file)).unwrap_or_default();
        assert!(
            line.contains(expected),
            "{file}: expected {expected:?} in\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("CL101"), "{}", run.stdout);
}

#[test]
fn scripts_that_would_never_end_if_run_are_analysed_in_bounded_time() {
    for script in [
        "function (user, context, callback) { while (true) { context.idToken['https://a.com/x'] = user.email; } }",
        "function (user, context, callback) { for (;;) { user.app_metadata.n = (user.app_metadata.n || 0) + 1; } callback(null, user, context); }",
        "function (user, context, callback) { function f() { return f(); } f(); callback(null, user, context); }",
        "function (user, context, callback) { let s = 'a'; while (s.length > 0) { s = s + s; } callback(null, user, context); }",
    ] {
        let export = export_with_rule(script);
        let run = claimlint(export.path(), &["--format", "concise", "."]);
        run.assert_bounded(script);
        assert!(run.code <= 1, "{script}: {}", run.output());
    }
}

#[test]
fn hostile_patterns_in_configs_and_policies_cost_bounded_time() {
    let export = export_with_rule(
        "function (user, context, callback) { context.idToken.role = 1; callback(null, user, context); }",
    );
    let ignore = format!(
        "ignore:\n  - \"{}x\"\npolicies: [policies]\n",
        "**/".repeat(2_000)
    );
    std::fs::write(export.path().join(".claimlint.yaml"), ignore).unwrap();
    std::fs::create_dir(export.path().join("policies")).unwrap();
    // A pattern that backtracks exponentially in a backtracking engine, against a long name.
    std::fs::write(
        export.path().join("policies/ACME001-catastrophic.yaml"),
        "id: ACME001\nname: catastrophic\nseverity: warning\ncheck: value-match\noptions:\n  select: /clients/*/name\n  pattern: \"^(a+)+$\"\nsummary: x\nmessage: \"client `{value}` {problem}\"\n",
    )
    .unwrap();
    std::fs::create_dir(export.path().join("clients")).unwrap();
    let name = format!("{}b", "a".repeat(100_000));
    std::fs::write(
        export.path().join("clients/slow.json"),
        serde_json::json!({ "name": name }).to_string(),
    )
    .unwrap();
    let run = claimlint(export.path(), &["--format", "concise", "."]);
    run.assert_bounded("patterns");
    assert!(run.stdout.contains("ACME001"), "{}", run.output());
}

#[test]
fn a_rule_setting_thousands_of_claims_is_linted_in_bounded_time() {
    let body: String = (0..5_000)
        .map(|i| format!("context.idToken['https://example.com/c{i}'] = user.email;\n"))
        .collect();
    let export = export_with_rule(&format!(
        "function (user, context, callback) {{\n{body}callback(null, user, context);\n}}"
    ));
    let run = claimlint(export.path(), &["--format", "concise", "."]);
    run.assert_bounded("many claims");
    assert!(run.code <= 1, "{}", run.output());
}

#[test]
fn script_paths_that_leave_the_export_are_refused_in_both_forms() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("outside.js"), "OUTSIDE-SECRET").unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir_all(export.join("rules")).unwrap();
    let absolute = dir.path().join("outside.js").display().to_string();
    // YAML form: relative and absolute script paths.
    let yaml = serde_json::json!({"rules": [
        {"name": "up", "script": "../outside.js", "enabled": true, "order": 1},
        {"name": "abs", "script": absolute, "enabled": true, "order": 2},
    ]});
    std::fs::write(export.join("tenant.yaml"), yaml.to_string()).unwrap();
    let run = claimlint(&export, &["--format", "concise", "."]);
    run.assert_bounded("YAML script paths");
    assert_eq!(run.code, 2, "{}", run.output());
    assert_eq!(run.stdout.matches("tenant.yaml:1:").count(), 2, "{}", run.stdout);
    assert!(!run.output().contains("OUTSIDE-SECRET"), "{}", run.output());
    // Directory form: a database connection's custom script path.
    std::fs::remove_file(export.join("tenant.yaml")).unwrap();
    std::fs::write(export.join("tenant.json"), "{}").unwrap();
    let db = export.join("database-connections/db");
    std::fs::create_dir_all(&db).unwrap();
    let connection = serde_json::json!({"name": "db", "strategy": "auth0",
        "options": {"enabledDatabaseCustomization": true, "customScripts": {"login": "../../../outside.js"}}});
    std::fs::write(db.join("database.json"), connection.to_string()).unwrap();
    let run = claimlint(&export, &["--format", "concise", "."]);
    run.assert_bounded("directory script paths");
    assert_eq!(run.code, 2, "{}", run.output());
    assert!(
        run.stdout.contains("database-connections/db/database.json:1:"),
        "{}",
        run.stdout
    );
    assert!(!run.output().contains("OUTSIDE-SECRET"), "{}", run.output());
}

#[test]
fn many_clients_connections_and_rules_stay_bounded() {
    // 150 clients x 150 connections x 6 rules: 22,500 logins, each through every rule.
    let dir = tempfile::tempdir().unwrap();
    for folder in ["clients", "connections", "rules"] {
        std::fs::create_dir(dir.path().join(folder)).unwrap();
    }
    std::fs::write(dir.path().join("tenant.json"), "{}").unwrap();
    let names: Vec<String> = (0..150).map(|i| format!("App{i}")).collect();
    for name in &names {
        let client = serde_json::json!({"name": name, "app_type": "regular_web", "oidc_conformant": true,
            "grant_types": ["authorization_code", "refresh_token"]});
        std::fs::write(
            dir.path().join(format!("clients/{name}.json")),
            client.to_string(),
        )
        .unwrap();
    }
    for i in 0..150 {
        let connection =
            serde_json::json!({"name": format!("conn{i}"), "strategy": "oidc", "enabled_clients": names});
        std::fs::write(
            dir.path().join(format!("connections/conn{i}.json")),
            connection.to_string(),
        )
        .unwrap();
    }
    for i in 0..6 {
        let script = format!(
            "function (user, context, callback) {{\n  if (context.clientName === 'App{i}') context.idToken['https://a.com/c{i}'] = context.connection;\n  context.accessToken['https://a.com/n{i}'] = context.clientName;\n  callback(null, user, context);\n}}"
        );
        std::fs::write(dir.path().join(format!("rules/r{i}.js")), script).unwrap();
        std::fs::write(
            dir.path().join(format!("rules/r{i}.json")),
            format!(r#"{{"name": "r{i}", "enabled": true, "order": {i}}}"#),
        )
        .unwrap();
    }
    let run = claimlint(dir.path(), &["--format", "concise", "."]);
    run.assert_bounded("logins x rules");
    assert!(run.code <= 1, "{}", run.output());
}

#[cfg(unix)]
#[test]
fn a_folder_that_cannot_be_listed_is_a_located_error() {
    use std::os::unix::fs::PermissionsExt;
    let export = export_with_rule(
        "function (user, context, callback) { context.idToken.role = 1; callback(null, user, context); }",
    );
    let locked = export.path().join("clients");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // SAFETY: reads the effective user id.
    let root = unsafe { libc::geteuid() } == 0;
    let run = claimlint(export.path(), &["--format", "concise", "."]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    run.assert_bounded("locked folder");
    if root {
        // Permissions do not stop root: the folder is listed and the run is clean but for the
        // rule's finding.
        assert_eq!(run.code, 1, "{}", run.output());
    } else {
        assert_eq!(run.code, 2, "{}", run.output());
        assert!(
            run.stdout
                .contains("clients:1:1: CL001 cannot list this folder: permission denied"),
            "{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("CL101"), "{}", run.stdout);
}

#[test]
fn script_budgets_are_set_in_the_config() {
    let big = format!(
        "function (user, context, callback) {{\n{}callback(null, user, context);\n}}",
        "context.idToken['https://a.com/x'] = user.email;\n".repeat(30_000)
    );
    let export = export_with_rule(&big);
    let run = claimlint(export.path(), &["--format", "concise", "."]);
    assert!(
        run.stdout.contains("over 1024 KiB are not analysed"),
        "{}",
        run.stdout
    );
    // Raised, the same script is analysed; a lowered nesting budget refuses a shallow one.
    std::fs::write(
        export.path().join(".claimlint.yaml"),
        "limits:\n  script_kib: 2048\n",
    )
    .unwrap();
    let run = claimlint(export.path(), &["--format", "concise", "."]);
    run.assert_bounded("raised size budget");
    assert!(!run.stdout.contains("not analysed"), "{}", run.stdout);
    std::fs::write(
        export.path().join("rules/hostile.js"),
        chain("!", "x").get(..200).unwrap(),
    )
    .unwrap();
    std::fs::write(
        export.path().join(".claimlint.yaml"),
        "limits:\n  script_nesting: 50\n",
    )
    .unwrap();
    let run = claimlint(export.path(), &["--format", "concise", "."]);
    assert!(run.stdout.contains("deeper than 50 levels"), "{}", run.stdout);
    // A budget of the wrong type is a located config error.
    std::fs::write(
        export.path().join(".claimlint.yaml"),
        "limits:\n  script_kib: lots\n",
    )
    .unwrap();
    let run = claimlint(export.path(), &["--format", "concise", "."]);
    assert_eq!(run.code, 2, "{}", run.output());
    assert!(
        run.stdout.contains(".claimlint.yaml:2:15: CL001"),
        "{}",
        run.stdout
    );
}

#[cfg(unix)]
#[test]
fn links_in_configs_and_policy_folders_cannot_lead_outside() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("outside.yaml"), "OUTSIDE-SECRET: 1\n").unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir_all(export.join(".git")).unwrap();
    std::fs::create_dir_all(export.join("policies")).unwrap();
    std::fs::write(export.join("tenant.json"), "{}").unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.yaml"), export.join("base.yaml")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("outside.yaml"),
        export.join("policies/linked.yaml"),
    )
    .unwrap();
    std::fs::write(
        export.join(".claimlint.yaml"),
        "extends: base.yaml\npolicies: [policies]\n",
    )
    .unwrap();
    let run = claimlint(&export, &["--format", "concise", "."]);
    run.assert_bounded("links in configs");
    assert_eq!(run.code, 2, "{}", run.output());
    assert!(
        run.stdout.contains(".claimlint.yaml:1:10: CL001 `extends` names"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("policies/linked.yaml:1:1: CL001 cannot read policy file: a symbolic link to outside"),
        "{}",
        run.stdout
    );
    assert!(!run.output().contains("OUTSIDE-SECRET"), "{}", run.output());
}

#[cfg(unix)]
#[test]
fn policy_folders_platform_files_and_the_config_itself_stay_inside_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.yaml"), "password: OUTSIDE-SECRET\n").unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir_all(export.join(".git")).unwrap();
    std::fs::write(export.join("tenant.json"), "{}").unwrap();
    let config = format!(
        "policies: [{}]\nplatform: ../outside/secret.yaml\n",
        outside.display()
    );
    std::fs::write(export.join(".claimlint.yaml"), config).unwrap();
    let run = claimlint(&export, &["--format", "concise", "."]);
    run.assert_bounded("config paths");
    assert_eq!(run.code, 2, "{}", run.output());
    assert!(
        run.stdout
            .contains(".claimlint.yaml:1:12: CL001 `policies` names"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("platform file ../outside/secret.yaml is outside the repository"),
        "{}",
        run.stdout
    );
    assert!(!run.output().contains("OUTSIDE-SECRET"), "{}", run.output());
    // The config found beside the export may not be a link out of the repository either.
    std::fs::remove_file(export.join(".claimlint.yaml")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.yaml"), export.join(".claimlint.yaml")).unwrap();
    let run = claimlint(&export, &["--format", "concise", "."]);
    assert_eq!(run.code, 2, "{}", run.output());
    assert!(
        run.stderr.contains("link to outside the repository"),
        "{}",
        run.output()
    );
    assert!(!run.output().contains("OUTSIDE-SECRET"), "{}", run.output());
}
