//! The read+parse floor: what any tool that reads an export must spend, and nothing else.
//!
//! ```text
//! cargo run --release --example floor -- DIR [--jobs N]
//! ```
//!
//! Walks DIR the way claimlint does (the `ignore` crate: hidden folders, `node_modules`, `target`
//! and what `.gitignore` excludes are skipped), reads every file, and parses every `.js` file with
//! oxc_parser (as CommonJS, an anonymous rule function as the operand of `void`, as claimlint
//! does), every `.json` file with serde_json and every `.yaml`/`.yml` file with saphyr-parser's
//! event parser, in parallel with rayon. It builds no model, evaluates nothing and writes no
//! report. It prints the number of files and bytes, how many of them did not parse, and the
//! elapsed time; `benches/compare.sh` divides claimlint's time by this one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use oxc_allocator::Allocator;
use oxc_parser::Parser;
use oxc_span::SourceType;
use rayon::prelude::*;

/// Parses one file by its extension; returns whether it parsed without errors.
fn parse(path: &Path, text: &str) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        Some("js") => {
            let allocator = Allocator::default();
            // Rules parse as claimlint parses them (an anonymous function, wrapped).
            let (source, _) = claimlint::js::parseable(&allocator, text);
            let parsed = Parser::new(&allocator, source, SourceType::cjs()).parse();
            !parsed.panicked && parsed.diagnostics.errors().next().is_none()
        }
        Some("json") => serde_json::from_str::<serde_json::Value>(text).is_ok(),
        Some("yaml" | "yml") => saphyr_parser::Parser::new_from_str(text).all(|event| event.is_ok()),
        _ => true,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut root = None;
    let mut jobs = 0;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--jobs" | "-j" => jobs = args.next().and_then(|n| n.parse().ok()).unwrap_or(0),
            "-h" | "--help" => {
                println!("usage: floor DIR [--jobs N]");
                return;
            }
            _ => root = Some(PathBuf::from(arg)),
        }
    }
    let Some(root) = root else {
        eprintln!("usage: floor DIR [--jobs N]");
        std::process::exit(2);
    };
    if jobs > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build_global()
            .expect("the global thread pool is built once");
    }

    let started = Instant::now();
    let paths: Vec<PathBuf> = ignore::WalkBuilder::new(&root)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|e| !matches!(e.file_name().to_str(), Some("node_modules" | "target")))
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(ignore::DirEntry::into_path)
        .collect();
    let failed = AtomicUsize::new(0);
    let bytes: usize = paths
        .par_iter()
        .map(|path| match std::fs::read(path) {
            Ok(bytes) => {
                let ok = match std::str::from_utf8(&bytes) {
                    Ok(text) => parse(path, text),
                    Err(_) => false,
                };
                if !ok {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                bytes.len()
            }
            Err(_) => {
                failed.fetch_add(1, Ordering::Relaxed);
                0
            }
        })
        .sum();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "files {} bytes {} failed {} elapsed {:.4} s",
        paths.len(),
        bytes,
        failed.load(Ordering::Relaxed),
        elapsed
    );
}
