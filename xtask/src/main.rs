//! Project tasks in Rust, run as `cargo xtask <task>` (alias in `.cargo/config.toml`).

mod bench;
mod ci;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "Project tasks: cargo xtask <task>")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Load-test `GET` and `POST /api/tasks` of the release API with wrk (any store) and report req/s, p99, peak RSS.
    Bench(bench::Args),
    /// Every check CI runs: formatting, lints, the SPA build, browser and workspace tests.
    Ci(ci::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().task {
        Task::Bench(args) => bench::run(&args),
        Task::Ci(args) => ci::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
