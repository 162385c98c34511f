//! The `claimlint` binary: parse arguments, run, exit with 0, 1 or 2.

mod cli;
mod progress;

use clap::Parser;

// Evaluating many logins allocates many small strings and maps; glibc's allocator spent a
// third of a large export's run in malloc and free (benches/compare.sh), mimalloc a fraction.
// The library's allocator asks mimalloc for plain blocks where it can (see `claimlint::MiMalloc`).
#[global_allocator]
static ALLOCATOR: claimlint::MiMalloc = claimlint::MiMalloc;

fn main() -> std::process::ExitCode {
    claimlint::MiMalloc::keep_freed_pages();
    cli::run(cli::Cli::parse())
}
