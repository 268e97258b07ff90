//! cleanup.sh against fake CLIs: confirmation, what it deletes and what it leaves alone.

use deploy_checks::harness::{DOMAIN, Sandbox};
use serde_json::json;

fn sandbox_after_setup() -> Sandbox {
    let sandbox = Sandbox::new(env!("CARGO_BIN_EXE_fake-cli").as_ref());
    let run = sandbox.run("setup.sh", &[], &[]);
    assert!(run.success, "{}", run.all_output());
    let mut state = sandbox.state();
    // Someone else's application and user in the same tenant.
    state["applications"]
        .as_array_mut()
        .expect("apps")
        .push(json!({"id": "other", "appId": "other-app", "displayName": "payroll", "tags": []}));
    state["users"]
        .as_array_mut()
        .expect("users")
        .push(json!({"id": "alice", "userPrincipalName": format!("alice@{DOMAIN}")}));
    sandbox.set_state(state);
    sandbox.clear_calls();
    sandbox
}

#[test]
fn refuses_without_confirmation_when_not_interactive() {
    let sandbox = sandbox_after_setup();
    let before = sandbox.state();
    let run = sandbox.run("cleanup.sh", &[], &[]);
    assert!(!run.success);
    assert!(run.stderr.contains("re-run with --yes"), "{}", run.stderr);
    assert_eq!(before, sandbox.state());
    assert!(sandbox.repo.join("backend/.env").exists());
}

#[test]
fn deletes_what_setup_and_terraform_created_and_nothing_else() {
    let sandbox = sandbox_after_setup();
    let run = sandbox.run("cleanup.sh", &["--yes"], &[]);
    assert!(run.success, "{}", run.all_output());
    let state = sandbox.state();
    assert_eq!(state["terraform_state"], json!([]));
    assert_eq!(
        state["applications"],
        json!([{"id": "other", "appId": "other-app", "displayName": "payroll", "tags": []}])
    );
    assert_eq!(state["service_principals"], json!([]));
    assert_eq!(
        state["users"],
        json!([{"id": "alice", "userPrincipalName": format!("alice@{DOMAIN}")}])
    );
    for file in [
        "backend/.env",
        "frontend/config.local.json",
        ".dev/test-users.txt",
    ] {
        assert!(!sandbox.repo.join(file).exists(), "{file} kept");
    }
    let lines: Vec<String> = sandbox.calls().iter().map(|c| c.line()).collect();
    let destroy = lines
        .iter()
        .position(|l| l.contains("destroy -auto-approve"))
        .expect("destroy");
    let delete = lines
        .iter()
        .position(|l| l.contains("--method DELETE"))
        .expect("delete");
    assert!(destroy < delete, "infrastructure first: {lines:#?}");

    // Re-running finds nothing left and succeeds.
    sandbox.clear_calls();
    let run = sandbox.run("cleanup.sh", &["--yes"], &[]);
    assert!(run.success, "{}", run.all_output());
    assert!(
        !sandbox
            .calls()
            .iter()
            .any(|c| c.line().contains("DELETE") || c.line().contains("destroy"))
    );
}

#[test]
fn dry_run_deletes_nothing() {
    let sandbox = sandbox_after_setup();
    let before = sandbox.state();
    let run = sandbox.run("cleanup.sh", &["--dry-run"], &[]);
    assert!(run.success, "{}", run.all_output());
    assert_eq!(before, sandbox.state());
    assert!(sandbox.repo.join("backend/.env").exists());
    assert!(run.stderr.contains("[dry-run] terraform"), "{}", run.stderr);
    assert!(run.stderr.contains("--method DELETE"), "{}", run.stderr);
}

#[test]
fn every_script_explains_itself_and_runs_nothing_for_help() {
    let sandbox = Sandbox::new(env!("CARGO_BIN_EXE_fake-cli").as_ref());
    for script in ["setup.sh", "deploy.sh", "cleanup.sh"] {
        let run = sandbox.run(script, &["--help"], &[]);
        assert!(run.success, "{script}: {}", run.all_output());
        assert!(
            run.stdout.starts_with(&format!("Usage: ./{script}")),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("--dry-run"),
            "{script} documents --dry-run"
        );
        let run = sandbox.run(script, &["--bogus"], &[]);
        assert!(!run.success);
        assert_eq!(
            run.stderr.trim(),
            format!("{script}: error: unknown option '--bogus' (see --help)")
        );
    }
    assert!(sandbox.calls().is_empty(), "{:?}", sandbox.calls());
}
