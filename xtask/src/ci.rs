//! `cargo xtask ci`: every check the project has, in the order that fails fastest, with a summary.
//!
//! This is the test command of README.md and docs/testing.md and what `.ci/run` runs on a clean machine after installing the
//! tools. Every step runs even when an earlier one failed, so one run shows every problem; the exit
//! status is non-zero if any step failed.

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

/// Tools the checks need, and how to get each when it is missing.
const TOOLS: &[(&str, &str)] = &[
    ("trunk", ".ci/wasm-toolchain.sh install"),
    ("wasm-bindgen", ".ci/wasm-toolchain.sh install"),
    ("wasm-bindgen-test-runner", ".ci/wasm-toolchain.sh install"),
    ("wasm-opt", ".ci/wasm-toolchain.sh install"),
    ("chromedriver", "apt-get install chromium chromium-driver"),
    ("shellcheck", "apt-get install shellcheck"),
    ("jq", "apt-get install jq"),
    (
        "terraform",
        "https://developer.hashicorp.com/terraform/install",
    ),
];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Skip what needs the browser toolchain: the SPA's wasm32 lint and build, the browser and
    /// e2e tests, and the tests of `xtask dev` (for machines without trunk, wasm-bindgen or
    /// chromium).
    #[arg(long)]
    no_browser: bool,
}

/// One check: a name for the summary and the command that runs it.
#[derive(Debug)]
struct Step {
    name: &'static str,
    program: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, &'static str)>,
}

impl Step {
    fn new(name: &'static str, program: &'static str, args: &[&str]) -> Self {
        Self {
            name,
            program,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: Vec::new(),
        }
    }

    fn env(mut self, key: &'static str, value: &'static str) -> Self {
        self.env.push((key, value));
        self
    }
}

pub fn run(args: &Args) -> Result<(), String> {
    let missing = missing_tools(args.no_browser);
    if !missing.is_empty() {
        return Err(format!("missing tools: {}", missing.join("; ")));
    }
    let steps = steps(args.no_browser)?;
    let mut results = Vec::with_capacity(steps.len());
    for step in &steps {
        eprintln!(
            "\n==> {}: {} {}",
            step.name,
            step.program,
            step.args.join(" ")
        );
        let started = Instant::now();
        let ok = Command::new(step.program)
            .args(&step.args)
            .envs(step.env.iter().copied())
            .status()
            .map_err(|e| eprintln!("xtask ci: cannot run {}: {e}", step.program))
            .is_ok_and(|status| status.success());
        results.push((step.name, ok, started.elapsed()));
    }
    summarize(&results)
}

/// The checks, cheapest first. The SPA is built before the tests because the end-to-end tests
/// serve `dist/`.
fn steps(no_browser: bool) -> Result<Vec<Step>, String> {
    let mut steps = vec![
        Step::new("format", "cargo", &["fmt", "--all", "--", "--check"]),
        Step::new(
            "terraform format",
            "terraform",
            &["fmt", "-check", "-recursive", "infra"],
        ),
        shellcheck()?,
        Step::new(
            "clippy",
            "cargo",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
    ];
    if !no_browser {
        steps.extend([
            Step::new(
                "clippy (wasm32)",
                "cargo",
                &[
                    "clippy",
                    "-p",
                    "frontend",
                    "--target",
                    "wasm32-unknown-unknown",
                    "--",
                    "-D",
                    "warnings",
                ],
            ),
            Step::new("SPA release build", "trunk", &["build", "--release"]),
            Step::new(
                "SPA browser tests",
                "cargo",
                &[
                    "test",
                    "-p",
                    "frontend",
                    "--target",
                    "wasm32-unknown-unknown",
                ],
            )
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                "wasm-bindgen-test-runner",
            )
            .env("CHROMEDRIVER", "/usr/bin/chromedriver"),
        ]);
    }
    if no_browser {
        // Without the browser toolchain: the e2e crate has no `dist/` to serve, and `xtask dev`'s
        // tests need trunk to start the whole app; xtask's own unit tests still run.
        steps.extend([
            Step::new(
                "tests",
                "cargo",
                &[
                    "test",
                    "--workspace",
                    "--exclude",
                    "e2e",
                    "--exclude",
                    "xtask",
                ],
            ),
            Step::new(
                "xtask unit tests",
                "cargo",
                &["test", "-p", "xtask", "--bins"],
            ),
        ]);
    } else {
        steps.push(Step::new("tests", "cargo", &["test", "--workspace"]));
    }
    Ok(steps)
}

/// ShellCheck over every tracked shell script, found by name or by shebang so a new script cannot
/// escape the check.
fn shellcheck() -> Result<Step, String> {
    let output = Command::new("git")
        .args(["ls-files", "-z"])
        .output()
        .map_err(|e| format!("cannot list files with git: {e}"))?;
    let files = String::from_utf8_lossy(&output.stdout);
    let mut scripts: Vec<&str> = files
        .split('\0')
        .filter(|f| !f.is_empty() && is_shell_script(Path::new(f)))
        .collect();
    scripts.sort_unstable();
    let mut step = Step::new("shellcheck", "shellcheck", &["--external-sources"]);
    step.args.extend(scripts.into_iter().map(str::to_owned));
    Ok(step)
}

fn is_shell_script(path: &Path) -> bool {
    if path.extension().is_some_and(|ext| ext == "sh") {
        return true;
    }
    std::fs::read(path).is_ok_and(|bytes| {
        let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
        first_line.starts_with(b"#!")
            && (first_line.ends_with(b"bash") || first_line.ends_with(b"/sh"))
    })
}

fn missing_tools(no_browser: bool) -> Vec<String> {
    TOOLS
        .iter()
        .filter(|(tool, _)| !(no_browser && is_browser_tool(tool)))
        .filter(|(tool, _)| crate::find_on_path(tool).is_none())
        .map(|(tool, how)| format!("{tool} (install: {how})"))
        .collect()
}

fn is_browser_tool(tool: &str) -> bool {
    matches!(
        tool,
        "trunk" | "wasm-bindgen" | "wasm-bindgen-test-runner" | "wasm-opt" | "chromedriver"
    )
}

fn summarize(results: &[(&str, bool, Duration)]) -> Result<(), String> {
    eprintln!("\n==> summary");
    for (name, ok, took) in results {
        let verdict = if *ok { "ok    " } else { "FAILED" };
        eprintln!("  {verdict} {name} ({:.0} s)", took.as_secs_f64());
    }
    let failed: Vec<&str> = results
        .iter()
        .filter(|(_, ok, _)| !ok)
        .map(|(name, _, _)| *name)
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed: {}", failed.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_scripts_by_extension_and_shebang() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            path
        };
        assert!(is_shell_script(&write("setup.sh", "echo")));
        assert!(is_shell_script(&write(
            "run",
            "#!/usr/bin/env bash\nset -e\n"
        )));
        assert!(is_shell_script(&write("hook", "#!/bin/sh\n")));
        assert!(!is_shell_script(&write(
            "tool.py",
            "#!/usr/bin/env python3\n"
        )));
        assert!(!is_shell_script(&write("Cargo.toml", "[package]\n")));
    }

    #[test]
    fn summary_fails_when_any_step_failed() {
        let took = Duration::from_secs(1);
        assert!(summarize(&[("a", true, took), ("b", true, took)]).is_ok());
        let err = summarize(&[("a", true, took), ("b", false, took), ("c", false, took)])
            .expect_err("two steps failed");
        assert_eq!(err, "failed: b, c");
    }
}
