//! The `claimlint` binary: parse arguments, run, exit with 0, 1 or 2.

mod cli;
mod progress;

use clap::Parser;

fn main() -> std::process::ExitCode {
    cli::run(cli::Cli::parse())
}
