//! Project tasks in Rust, run as `cargo xtask <task>` (alias in `.cargo/config.toml`).

mod bench;
mod ci;
mod dev;
mod install;
mod step;
mod tools;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Parser, Subcommand};
// Where a program is on PATH (with the installed tools' folder first), for every task.
use tools::find as find_on_path;

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
    /// The whole app locally, without an Azure tenant: dev-identity, the API and the SPA.
    Dev(dev::Args),
    /// Install the tools of a task (`ci` and `dev` install what they need by themselves).
    Install(install::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().task {
        Task::Bench(args) => bench::run(&args).map(|()| ExitCode::SUCCESS),
        Task::Ci(args) => ci::run(&args).map(|()| ExitCode::SUCCESS),
        Task::Dev(args) => dev::run(&args),
        Task::Install(args) => install::run(&args).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|message| {
        eprintln!("xtask: {message}");
        ExitCode::FAILURE
    })
}

/// The workspace's root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Cargo's target folder: `$CARGO_TARGET_DIR`, else `target/` in the workspace.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The cargo running this task (so a `cargo +toolchain xtask` builds with that toolchain).
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
