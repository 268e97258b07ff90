//! deploy.sh against fake CLIs: the order of the steps, the runtime config and CSP it writes,
//! the redirect-URI merge, that the SWA token never leaks, resuming, --dry-run, and failures.

use deploy_checks::harness::{ACR, BACKEND_URL, FRONTEND_URL, SWA_TOKEN, Sandbox, TENANT_ID};
use serde_json::{Value, json};
use shared::SpaConfig;

const API: &str = "44444444-4444-4444-8444-444444444444";
const SPA: &str = "55555555-5555-4555-8555-555555555555";
const SPA_OBJECT: &str = "66666666-6666-4666-8666-666666666666";

/// A sandbox as setup.sh and terraform apply leave it: local settings written, the SPA
/// registered with two redirect URIs.
fn deployed_sandbox() -> Sandbox {
    let sandbox = Sandbox::new(env!("CARGO_BIN_EXE_fake-cli").as_ref());
    sandbox.write_local_settings(API, SPA);
    let mut state = sandbox.state();
    state["applications"] = json!([{
        "id": SPA_OBJECT, "appId": SPA, "displayName": "entra-rbac-spa", "tags": ["entra-rbac-reference"],
        "spa": {"redirectUris": ["http://localhost:8080/", "https://staging.example.com/"]}
    }]);
    sandbox.set_state(state);
    sandbox
}

fn position(lines: &[String], needle: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no call with {needle:?} in {lines:#?}"))
}

fn mutating(sandbox: &Sandbox) -> Vec<String> {
    const MUTATING: [&str; 11] = [
        "secret set",
        "acr build",
        "acr login",
        "containerapp update",
        "--method PATCH",
        "--method POST",
        "docker build",
        "docker push",
        "trunk build",
        "deploy ",
        "OPTIONS",
    ];
    sandbox
        .calls()
        .iter()
        .map(|c| c.line())
        .filter(|l| MUTATING.iter().any(|m| l.contains(m)))
        .collect()
}

#[test]
fn runs_every_step_in_order_and_deploys_the_commit() {
    let sandbox = deployed_sandbox();
    let run = sandbox.run("deploy.sh", &[], &[]);
    assert!(run.success, "{}", run.all_output());
    let lines: Vec<String> = sandbox.calls().iter().map(|c| c.line()).collect();
    let order = [
        "keyvault secret set",
        "docker build --platform linux/amd64",
        "docker push",
        "containerapp update",
        "trunk build --release",
        "swa deploy",
        "--method PATCH",
        "curl",
        "OPTIONS",
    ];
    let positions: Vec<usize> = order.iter().map(|n| position(&lines, n)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "order {positions:?} in {lines:#?}"
    );

    let state = sandbox.state();
    assert_eq!(
        state["secrets"],
        json!({"azure-tenant-id": TENANT_ID, "azure-api-client-id": API})
    );
    let image = state["container_image"].as_str().expect("image").to_owned();
    assert!(
        image.starts_with(&format!("{ACR}/entra-rbac-api:")),
        "{image}"
    );
    let tag = image.rsplit(':').next().expect("tag");
    assert!(
        tag.len() == 12 && tag.chars().all(|c| c.is_ascii_hexdigit()),
        "git commit tag: {tag}"
    );
    assert_eq!(
        state["acr_images"],
        json!([format!("entra-rbac-api:{tag}")])
    );
}

/// dist/config.json, read as the SPA's configuration type.
fn deployed_config(sandbox: &Sandbox) -> SpaConfig {
    serde_json::from_str(
        &std::fs::read_to_string(sandbox.repo.join("dist/config.json")).expect("dist/config.json"),
    )
    .expect("dist/config.json is a shared::SpaConfig")
}

fn deployed_csp(sandbox: &Sandbox) -> String {
    let swa: Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.repo.join("dist/staticwebapp.config.json"))
            .expect("swa config"),
    )
    .expect("JSON");
    swa["globalHeaders"]["Content-Security-Policy"]
        .as_str()
        .expect("a CSP")
        .to_owned()
}

#[test]
fn writes_the_runtime_config_and_allows_the_authority_and_the_api_in_the_csp() {
    let sandbox = deployed_sandbox();
    let run = sandbox.run("deploy.sh", &[], &[]);
    assert!(run.success, "{}", run.all_output());
    assert_eq!(
        deployed_config(&sandbox),
        SpaConfig {
            client_id: SPA.into(),
            authority: format!("https://login.microsoftonline.com/{TENANT_ID}"),
            api_scope: format!("api://{API}/access_as_user"),
            api_base_url: BACKEND_URL.into(),
            redirect_uri: Some(format!("{FRONTEND_URL}/")),
        }
    );
    // The config was in dist/ when it was uploaded.
    assert_eq!(
        sandbox.state()["swa_deployed_config"]
            .as_str()
            .map(|c| c.contains(SPA)),
        Some(true)
    );
    assert_eq!(
        deployed_csp(&sandbox),
        format!(
            "default-src 'self'; connect-src 'self' https://login.microsoftonline.com {BACKEND_URL}; frame-ancestors 'none'"
        )
    );
    let swa: Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.repo.join("dist/staticwebapp.config.json"))
            .expect("swa config"),
    )
    .expect("JSON");
    assert_eq!(
        swa["navigationFallback"]["rewrite"], "/index.html",
        "rest of the file kept"
    );
    // And that file, not the repo root's, is the one the upload used.
    let uploaded: Value = serde_json::from_str(
        sandbox.state()["swa_deployed_settings"]
            .as_str()
            .expect("settings uploaded"),
    )
    .expect("JSON");
    assert_eq!(uploaded, swa);
}

/// Any authority with an OpenID configuration: its origin, not Entra's, is in the CSP.
#[test]
fn another_authority_goes_into_the_config_and_the_csp() {
    let sandbox = deployed_sandbox();
    let authority = "https://contoso.ciamlogin.com/contoso.onmicrosoft.com";
    let run = sandbox.run(
        "deploy.sh",
        &[],
        &[("AZURE_SPA_AUTHORITY", &format!("{authority}/"))],
    );
    assert!(run.success, "{}", run.all_output());
    assert_eq!(deployed_config(&sandbox).authority, authority);
    assert_eq!(
        deployed_csp(&sandbox),
        format!(
            "default-src 'self'; connect-src 'self' https://contoso.ciamlogin.com {BACKEND_URL}; frame-ancestors 'none'"
        )
    );

    for refused in [
        "http://contoso.ciamlogin.com/t",
        "https://contoso.ciamlogin.com/t?p=x",
    ] {
        let sandbox = deployed_sandbox();
        let run = sandbox.run("deploy.sh", &[], &[("AZURE_SPA_AUTHORITY", refused)]);
        assert!(!run.success, "{refused}");
        assert!(
            run.stderr
                .contains("AZURE_SPA_AUTHORITY must be an https URL"),
            "{}",
            run.stderr
        );
        assert!(!sandbox.repo.join("dist/config.json").exists(), "{refused}");
    }
}

#[test]
fn merges_the_site_into_the_redirect_uris_without_dropping_any() {
    let sandbox = deployed_sandbox();
    assert!(sandbox.run("deploy.sh", &[], &[]).success);
    let uris = sandbox.state()["applications"][0]["spa"]["redirectUris"].clone();
    assert_eq!(
        uris,
        json!([
            "http://localhost:8080/",
            "https://staging.example.com/",
            format!("{FRONTEND_URL}/")
        ])
    );
    // Deploying again changes nothing: no PATCH, no duplicate.
    sandbox.clear_calls();
    assert!(sandbox.run("deploy.sh", &[], &[]).success);
    assert_eq!(
        sandbox.state()["applications"][0]["spa"]["redirectUris"],
        uris
    );
    let again = mutating(&sandbox);
    assert!(
        !again
            .iter()
            .any(|l| l.contains("PATCH") || l.contains("secret set") || l.contains("docker")),
        "{again:#?}"
    );
}

#[test]
fn uncommitted_changes_are_always_rebuilt_and_deployed() {
    let sandbox = deployed_sandbox();
    let change = |text: &str| {
        let path = sandbox.repo.join("setup.sh");
        let mut script = std::fs::read_to_string(&path).expect("setup.sh");
        script.push_str(text);
        std::fs::write(path, script).expect("edit setup.sh");
    };
    let deploy = || {
        sandbox.clear_calls();
        let run = sandbox.run("deploy.sh", &[], &[]);
        assert!(run.success, "{}", run.all_output());
        let built = mutating(&sandbox)
            .iter()
            .any(|l| l.starts_with("docker build"));
        let image = sandbox.state()["container_image"]
            .as_str()
            .expect("image")
            .to_owned();
        (built, image)
    };

    change("# first edit\n");
    let (built, first) = deploy();
    assert!(built, "not built");
    let tag = first.rsplit(':').next().expect("tag");
    assert!(tag.contains("-dirty-"), "{tag}");

    // The same tag is in the registry now, but the tree may differ in what the tag does not
    // cover (untracked files): built again.
    let (built, again) = deploy();
    assert!(built, "a dirty tag was reused from the registry");
    assert_eq!(again, first);

    // Another uncommitted tree: another tag, which the app switches to.
    change("# second edit\n");
    let (built, second) = deploy();
    assert!(built, "not built");
    assert_ne!(second, first, "two different trees deployed under one tag");
}

#[test]
fn never_prints_the_deployment_token_nor_puts_it_in_argv() {
    let sandbox = deployed_sandbox();
    let run = sandbox.run("deploy.sh", &[], &[]);
    assert!(run.success, "{}", run.all_output());
    assert!(!run.all_output().contains(SWA_TOKEN), "token printed");
    assert!(
        sandbox
            .all_calls()
            .iter()
            .all(|c| !c.line().contains(SWA_TOKEN)),
        "token on a command line"
    );
    let calls = sandbox.calls();
    // Only the upload sees it, in its environment.
    let with_token: Vec<String> = calls
        .iter()
        .filter(|c| c.token_in_env)
        .map(|c| c.line())
        .collect();
    assert_eq!(with_token.len(), 1, "{with_token:?}");
    assert!(with_token[0].starts_with("swa deploy"), "{with_token:?}");
}

#[test]
fn remote_build_needs_no_docker() {
    let sandbox = deployed_sandbox();
    sandbox.remove_tool("docker");
    let run = sandbox.run("deploy.sh", &["--remote-build"], &[]);
    assert!(run.success, "{}", run.all_output());
    let lines: Vec<String> = sandbox.calls().iter().map(|c| c.line()).collect();
    position(
        &lines,
        "acr build --registry acrentrarbac --image entra-rbac-api:",
    );
    assert!(!lines.iter().any(|l| l.starts_with("docker")));
}

#[test]
fn falls_back_to_npx_for_the_swa_cli() {
    let sandbox = deployed_sandbox();
    sandbox.remove_tool("swa");
    let run = sandbox.run("deploy.sh", &[], &[]);
    assert!(run.success, "{}", run.all_output());
    let lines: Vec<String> = sandbox.calls().iter().map(|c| c.line()).collect();
    position(&lines, "npx --yes @azure/static-web-apps-cli@2 deploy");
}

#[test]
fn dry_run_runs_nothing_mutating() {
    let sandbox = deployed_sandbox();
    let before = sandbox.state();
    let run = sandbox.run("deploy.sh", &["--dry-run"], &[]);
    assert!(run.success, "{}", run.all_output());
    assert_eq!(mutating(&sandbox), Vec::<String>::new());
    assert_eq!(before, sandbox.state());
    assert!(!sandbox.repo.join("dist").exists());
    for planned in [
        "[dry-run] docker build",
        "[dry-run] az containerapp update",
        "[dry-run] swa deploy",
    ] {
        assert!(run.stderr.contains(planned), "{planned} in {}", run.stderr);
    }
    assert!(!run.all_output().contains(SWA_TOKEN));
}

#[test]
fn a_failed_step_stops_and_says_how_to_resume() {
    let sandbox = deployed_sandbox();
    let run = sandbox.run("deploy.sh", &[], &[("FAKE_FAIL", "docker push")]);
    assert!(!run.success);
    assert!(
        run.stderr.contains(
            "step 'image' failed; fix the cause above, then resume with: ./deploy.sh --from image"
        ),
        "{}",
        run.stderr
    );
    let lines: Vec<String> = sandbox.calls().iter().map(|c| c.line()).collect();
    assert!(
        !lines.iter().any(|l| l.contains("containerapp update")),
        "went on after the failure"
    );

    sandbox.clear_calls();
    let run = sandbox.run("deploy.sh", &["--from", "image"], &[]);
    assert!(run.success, "{}", run.all_output());
    let lines: Vec<String> = sandbox.calls().iter().map(|c| c.line()).collect();
    assert!(
        !lines.iter().any(|l| l.contains("keyvault")),
        "resumed step re-ran: {lines:#?}"
    );
    position(&lines, "docker push");
}

#[test]
fn refuses_to_switch_the_image_before_the_acr_pull_grant_exists() {
    let sandbox = deployed_sandbox();
    let mut state = sandbox.state();
    // A grant exists, but for another principal.
    state["acr_pull_principals"] = json!(["77777777-7777-4777-8777-777777777777"]);
    sandbox.set_state(state);
    let run = sandbox.run("deploy.sh", &[], &[]);
    assert!(!run.success);
    assert!(
        run.stderr.contains("no AcrPull on the registry"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--from app"), "{}", run.stderr);
}

#[test]
fn smoke_test_failures_are_reported() {
    let sandbox = deployed_sandbox();
    let mut state = sandbox.state();
    state["cors_allow_origin"] = json!("https://elsewhere.example");
    sandbox.set_state(state);
    let run = sandbox.run("deploy.sh", &[], &[]);
    assert!(!run.success);
    assert!(
        run.stderr
            .contains(&format!("does not allow CORS from {FRONTEND_URL}")),
        "{}",
        run.stderr
    );

    let sandbox = deployed_sandbox();
    let mut state = sandbox.state();
    state["health_ok"] = json!(false);
    sandbox.set_state(state);
    let run = sandbox.run("deploy.sh", &[], &[]);
    assert!(!run.success);
    assert!(
        run.stderr.contains("/health did not answer 2xx"),
        "{}",
        run.stderr
    );
}

#[test]
fn preflight_names_what_is_missing() {
    let sandbox = deployed_sandbox();
    sandbox.remove_tool("terraform");
    let run = sandbox.run("deploy.sh", &[], &[]);
    assert!(!run.success);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("'terraform' is required"),
        "{}",
        run.stderr
    );
    assert!(sandbox.calls().is_empty(), "ran something before failing");

    let sandbox = deployed_sandbox();
    std::fs::remove_file(sandbox.repo.join("backend/.env")).expect("rm");
    let run = sandbox.run("deploy.sh", &[], &[]);
    assert!(!run.success);
    assert!(run.stderr.contains("run ./setup.sh"), "{}", run.stderr);

    let sandbox = deployed_sandbox();
    let mut state = sandbox.state();
    state["terraform_outputs"] = json!({});
    sandbox.set_state(state);
    let run = sandbox.run("deploy.sh", &[], &[]);
    assert!(!run.success);
    assert!(
        run.stderr.contains("cannot read Terraform outputs"),
        "{}",
        run.stderr
    );

    let run = deployed_sandbox().run("deploy.sh", &[], &[("AZURE_API_CLIENT_ID", "not-a-guid")]);
    assert!(!run.success);
    assert!(
        run.stderr.contains("AZURE_API_CLIENT_ID must be a GUID"),
        "{}",
        run.stderr
    );
}
