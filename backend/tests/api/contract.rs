//! The API's contract checked from outside: Schemathesis (a released tool, pinned in
//! `xtask/src/tools.rs` and installed by `cargo xtask install ci`) reads the OpenAPI document the
//! API serves, generates requests from it, valid and invalid, and checks every answer against
//! the document, as an Admin (who may do everything) and as a Reader (refused most of it).

use std::{path::PathBuf, time::Instant};

use tokio::process::Command;

use crate::helpers::TestApp;

/// Schemathesis's command; a run reproduces with the same seed.
const COMMAND: &str = "st";
const SEED: &str = "20261204";
/// Test cases per operation and phase: enough to find what the bodies' schemas allow and refuse,
/// few enough for the test command.
const MAX_EXAMPLES: &str = "40";

fn schemathesis() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(COMMAND))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "Schemathesis ({COMMAND}) is not on PATH: run `cargo xtask install ci` to install \
                 the pinned version (or `pip install schemathesis==4.32.5`)"
            )
        })
}

#[tokio::test]
async fn schemathesis_finds_nothing_as_admin_or_as_reader() {
    let st = schemathesis();
    let app = TestApp::spawn().await;
    let schema = app.url(shared::routes::OPENAPI);
    // Schemathesis keeps a Hypothesis database and a crash cache in its working folder: a fresh
    // one each run keeps the repository clean and the run reproducible from the seed alone.
    let workdir = tempfile::tempdir().expect("working folder");
    for (user, role) in [("admin", "Admin"), ("reader", "Reader")] {
        let token = app.token(user, &[role]);
        let started = Instant::now();
        let output = Command::new(&st)
            .args(["run", &schema, "--checks", "all", "--seed", SEED])
            .args(["--max-examples", MAX_EXAMPLES, "--workers", "1"])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .current_dir(workdir.path())
            .env("NO_COLOR", "1")
            .kill_on_drop(true)
            .output()
            .await
            .expect("run Schemathesis");
        let took = started.elapsed();
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "Schemathesis as {role} found problems ({:?}, {took:.0?}):\n{report}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
        );
        // A Reader is refused every write (403), which Schemathesis notes as a warning; an Admin
        // may do everything, so any warning there means part of the API went untested.
        if role == "Admin" {
            assert!(
                !report.contains("Warnings:"),
                "Schemathesis as Admin warned:\n{report}"
            );
        }
        let summary: Vec<&str> = report.lines().rev().take(8).collect();
        eprintln!("Schemathesis as {role}, {took:.0?}:");
        for line in summary.into_iter().rev() {
            eprintln!("  {line}");
        }
    }
}
