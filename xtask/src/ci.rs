//! `cargo xtask ci`: every check the project has, in the order that fails fastest, with a summary.
//!
//! This is the test command of README.md and docs/testing.md, and what `.ci/run` runs. It first
//! installs what its steps need (see [`crate::tools`]), then runs every step even when an earlier
//! one failed, so one run shows every problem; the exit status is non-zero if any step failed.
//!
//! **To add a check**: one more `Step` in [`steps`], with `.needs(&[&tools::…])` for the tools it
//! runs (add the tool to the catalog in `xtask/src/tools.rs` if it is new).

use std::{path::Path, process::Command, time::Instant};

use crate::{
    step::{self, Interrupted, Outcome, Report, Runner, Step, say},
    tools::{self, Plan, Source, Tool},
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Skip what needs the browser toolchain: the SPA's wasm32 lint and build, the browser and
    /// e2e tests, and the tests of `xtask dev`.
    #[arg(long)]
    no_browser: bool,
    /// Show every step's output as it comes, instead of a line per step.
    #[arg(long, short)]
    verbose: bool,
}

pub fn run(args: &Args) -> Result<(), String> {
    tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(run_steps(args))
}

/// Every tool the checks need (`cargo xtask install ci`).
pub fn needed_tools() -> Result<Vec<&'static Tool>, String> {
    Ok(tools_of(&steps(false)?))
}

fn tools_of(steps: &[Step]) -> Vec<&'static Tool> {
    steps
        .iter()
        .flat_map(|step| step.needed_tools().iter().copied())
        .collect()
}

async fn run_steps(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let runner = Runner::new("ci", args.verbose)?;
    let steps = steps(args.no_browser)?;
    let plan = Plan::new(&tools_of(&steps));
    say(&format!(
        "xtask ci: {} steps, each one's output in {}",
        steps.len(),
        runner.log_dir().display()
    ));
    for (i, step) in steps.iter().enumerate() {
        say(&format!(
            "  {:>2}  {:<20} {}",
            i + 1,
            step.name,
            step.short_command_line()
        ));
    }
    let skip = unavailable(&plan)?;
    let mut reports = Vec::new();
    if !plan.installs.is_empty() {
        say("xtask ci: first, the missing tools (what, why, roughly how long on 2 cores):");
        for line in plan.describe() {
            say(&line);
        }
        reports = tools::install(&runner, &plan)
            .await
            .map_err(|Interrupted| "interrupted".to_owned())?;
    }
    let total = steps.len();
    for (i, step) in steps.iter().enumerate() {
        let label = format!("[{}/{total}]", i + 1);
        if let Some((tool, fix)) = skip
            .iter()
            .find(|(tool, _)| step.needed_tools().contains(tool))
        {
            say(&format!("{label} {}: skipped: {fix}", step.name));
            reports.push(Report::skipped(&step.name, format!("no {}", tool.name)));
            continue;
        }
        let report = runner
            .run(&label, step)
            .await
            .map_err(|Interrupted| "interrupted".to_owned())?;
        reports.push(report);
    }
    summarize(&reports, started.elapsed())
}

/// The tools nothing here can install and that a step may go without outside CI (Terraform, for
/// its formatting check), each with its fix. Any other tool that cannot be installed, or any
/// tool in CI, is an error naming every fix, before anything runs.
fn unavailable(plan: &Plan) -> Result<Vec<(&'static Tool, String)>, String> {
    let in_ci = std::env::var_os("CI").is_some_and(|v| v == "true" || v == "1");
    let (skip, fail): (Vec<_>, Vec<_>) = plan
        .cannot
        .iter()
        .cloned()
        .partition(|(tool, _)| !in_ci && matches!(tool.source, Source::Manual { .. }));
    if fail.is_empty() {
        return Ok(skip);
    }
    Err(format!(
        "cannot run the checks, tools are missing:\n  - {}",
        fail.into_iter()
            .map(|(_, fix)| fix)
            .collect::<Vec<_>>()
            .join("\n  - ")
    ))
}

/// checkov without its policy download (offline), printing only what failed and the totals.
const CHECKOV_OFFLINE: [&str; 3] = ["--skip-download", "--compact", "--quiet"];

/// The checks, cheapest first. The SPA is built before the tests because the end-to-end tests
/// serve `dist/`.
fn steps(no_browser: bool) -> Result<Vec<Step>, String> {
    let mut steps = vec![
        Step::cargo("format", &["fmt", "--all", "--", "--check"]).needs(&[&tools::RUSTFMT]),
        Step::new("terraform format", "terraform")
            .args(["fmt", "-check", "-recursive", "infra"])
            .needs(&[&tools::TERRAFORM]),
        shellcheck()?.needs(&[&tools::SHELLCHECK]),
        // The pipeline: workflows, image and infrastructure, then the dependency tree. Offline:
        // zizmor asks GitHub nothing, checkov downloads no policy, and cargo-deny's advisories
        // (which need the RustSec database) run in GitHub Actions only (ci.yml).
        Step::new("zizmor", "zizmor")
            .args(["--offline", "--no-progress", ".github"])
            .needs(&[&tools::ZIZMOR]),
        Step::new("hadolint", "hadolint")
            .args(["backend/Dockerfile"])
            .needs(&[&tools::HADOLINT]),
        // One run per target: given several, checkov prints each earlier target's results again.
        Step::new("checkov (infra)", "checkov")
            .args([
                "--directory",
                "infra",
                "--framework",
                "terraform",
                "secrets",
            ])
            .args(CHECKOV_OFFLINE)
            .needs(&[&tools::CHECKOV]),
        Step::new("checkov (Dockerfile)", "checkov")
            .args([
                "--file",
                "backend/Dockerfile",
                "--framework",
                "dockerfile",
                "secrets",
            ])
            .args(CHECKOV_OFFLINE)
            .needs(&[&tools::CHECKOV]),
        Step::cargo(
            "cargo-deny",
            &["deny", "check", "licenses", "bans", "sources"],
        )
        .needs(&[&tools::CARGO_DENY]),
        Step::cargo(
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        )
        .needs(&[&tools::CLIPPY]),
    ];
    if no_browser {
        // Without the browser toolchain: the e2e crate has no `dist/` to serve, and `xtask dev`'s
        // tests need trunk to start the whole app; xtask's own unit tests still run.
        steps.extend([
            Step::cargo(
                "tests",
                &[
                    "test",
                    "--workspace",
                    "--exclude",
                    "e2e",
                    "--exclude",
                    "xtask",
                ],
            )
            .needs(&[
                &tools::POSTGRES,
                &tools::JQ,
                &tools::MSAL_NODE,
                &tools::SCHEMATHESIS,
            ]),
            Step::cargo(
                "xtask tests",
                &["test", "-p", "xtask", "--bins", "--test", "docs"],
            ),
        ]);
        return Ok(steps);
    }
    steps.extend([
        Step::cargo(
            "clippy (wasm32)",
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
        )
        .envs(tools::wasm_env())
        .needs(&[&tools::CLIPPY, &tools::WASM32]),
        Step::new("SPA release build", "trunk")
            .args(["build", "--release"])
            .envs(tools::wasm_env())
            .needs(tools::BROWSER_BUILD),
        Step::cargo(
            "SPA browser tests",
            &[
                "test",
                "-p",
                "frontend",
                "--target",
                "wasm32-unknown-unknown",
            ],
        )
        .envs(tools::wasm_env())
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .needs(&[&tools::WASM32, &tools::WASM_BINDGEN, &tools::CHROMIUM]),
        Step::cargo("tests", &["test", "--workspace"]).needs(&[
            &tools::POSTGRES,
            &tools::JQ,
            &tools::MSAL_NODE,
            &tools::SCHEMATHESIS,
            &tools::CHROMIUM,
            // The e2e tests' axe-core and Lighthouse.
            &tools::AUDITS,
            // `xtask dev`'s tests start the whole app, the SPA with trunk.
            &tools::TRUNK,
            &tools::WASM_BINDGEN,
            &tools::WASM_OPT,
        ]),
    ]);
    Ok(steps)
}

/// ShellCheck over every tracked shell script, found by name or by shebang so a new script cannot
/// escape the check.
fn shellcheck() -> Result<Step, String> {
    let output = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(crate::workspace_root())
        .output()
        .map_err(|e| format!("cannot list files with git: {e}"))?;
    let files = String::from_utf8_lossy(&output.stdout);
    let mut scripts: Vec<&str> = files
        .split('\0')
        .filter(|f| !f.is_empty() && is_shell_script(Path::new(f)))
        .collect();
    scripts.sort_unstable();
    Ok(Step::new("shellcheck", "shellcheck")
        .args(["--external-sources"])
        .args(scripts))
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

/// Every step with its result and duration, the tests' totals, and the verdict.
fn summarize(reports: &[Report], took: std::time::Duration) -> Result<(), String> {
    say(&format!(
        "\nxtask ci: summary ({} in all)",
        step::duration(took)
    ));
    for report in reports {
        let verdict = match &report.outcome {
            Outcome::Passed => "ok     ".to_owned(),
            Outcome::Failed(_) => "FAILED ".to_owned(),
            Outcome::Skipped(why) => format!("skipped ({why})"),
        };
        say(&format!(
            "  {verdict} {:<28} {:>12}",
            report.name,
            step::duration(report.took)
        ));
    }
    if let Some(tests) = step::total_tests(reports) {
        // The line CI reads to know tests ran: "N passed, N failed, N skipped".
        println!(
            "tests: {} passed, {} failed, {} skipped",
            tests.passed, tests.failed, tests.ignored
        );
    }
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .map(|r| r.name.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed: {}", failed.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
    fn summary_fails_when_any_step_failed_and_not_when_one_was_skipped() {
        let report = |name: &str, outcome: Outcome| Report {
            name: name.into(),
            outcome,
            took: Duration::from_secs(1),
            tests: None,
            log: std::path::PathBuf::new(),
        };
        let took = Duration::from_secs(3);
        assert!(
            summarize(
                &[
                    report("a", Outcome::Passed),
                    report("b", Outcome::Skipped("no terraform".into()))
                ],
                took
            )
            .is_ok()
        );
        let err = summarize(
            &[
                report("a", Outcome::Passed),
                report("b", Outcome::Failed("exit status 1".into())),
                report("c", Outcome::Failed("exit status 101".into())),
            ],
            took,
        )
        .expect_err("two steps failed");
        assert_eq!(err, "failed: b, c");
    }

    #[test]
    fn every_step_that_runs_a_tool_says_it_needs_it() {
        let steps = steps(false).expect("steps");
        let needs = |name: &str| -> Vec<&str> {
            steps
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.needed_tools().iter().map(|t| t.name).collect())
                .unwrap_or_default()
        };
        assert!(needs("SPA release build").contains(&"trunk"));
        assert!(needs("SPA release build").contains(&"wasm-opt"));
        assert!(needs("SPA browser tests").contains(&"chromium"));
        assert!(needs("tests").contains(&"postgresql"));
        assert!(needs("tests").contains(&"st"));
        assert!(needs("shellcheck").contains(&"shellcheck"));
        assert!(needs("terraform format").contains(&"terraform"));
        assert!(needs("zizmor").contains(&"zizmor"));
        assert!(needs("hadolint").contains(&"hadolint"));
        assert!(needs("checkov (infra)").contains(&"checkov"));
        assert!(needs("checkov (Dockerfile)").contains(&"checkov"));
        assert!(needs("cargo-deny").contains(&"cargo-deny"));
        let quick = super::steps(true).expect("steps");
        assert!(
            quick
                .iter()
                .all(|s| !s.needed_tools().contains(&&tools::TRUNK)),
            "--no-browser needs no trunk"
        );
    }
}
