//! Project tasks in Rust, run as `cargo xtask <task>` (alias in `.cargo/config.toml`).

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

#[derive(Debug, Parser)]
#[command(about = "Project tasks: cargo xtask <task>")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Load-test `GET` and `POST /api/tasks` of the release API with wrk (any store) and report
    /// req/s, p99, peak RSS: runs the `bench` crate (`cargo xtask bench --help`).
    #[command(disable_help_flag = true)]
    Bench {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// Every check CI runs: formatting, lints, the SPA build, browser and workspace tests.
    Ci(ci::Args),
    /// The whole app locally, without an Azure tenant: dev-identity, the API and the SPA.
    Dev(dev::Args),
    /// Install the tools of a task (`ci` and `dev` install what they need by themselves).
    Install(install::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().task {
        Task::Bench { args } => bench(&args),
        Task::Ci(args) => ci::run(&args).map(|()| ExitCode::SUCCESS),
        Task::Dev(args) => dev::run(&args),
        Task::Install(args) => install::run(&args).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|message| {
        eprintln!("xtask: {message}");
        ExitCode::FAILURE
    })
}

/// `cargo run -p bench -- ARGS`: the load test lives in a crate of its own, so that the other
/// tasks do not compile the test kit it needs.
fn bench(args: &[std::ffi::OsString]) -> Result<ExitCode, String> {
    let status = std::process::Command::new(cargo())
        .args(["run", "--quiet", "--package", "bench", "--"])
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
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
