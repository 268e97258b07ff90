//! setup.sh against a fake tenant: what it registers, that a second run creates nothing, that
//! it keeps existing redirect URIs, that --dry-run changes nothing, and that passwords stay out
//! of the output.

use deploy_checks::harness::{DOMAIN, ME, Sandbox, TENANT_ID};
use serde_json::{Value, json};
use shared::SpaConfig;

fn sandbox() -> Sandbox {
    Sandbox::new(env!("CARGO_BIN_EXE_fake-cli").as_ref())
}

fn app<'a>(state: &'a Value, name: &str) -> &'a Value {
    state["applications"]
        .as_array()
        .and_then(|apps| apps.iter().find(|a| a["displayName"] == name))
        .unwrap_or_else(|| panic!("application {name} in {state}"))
}

fn writes(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .calls()
        .into_iter()
        .filter(|c| c.program == "az" && c.args.first().map(String::as_str) == Some("rest"))
        .filter(|c| !c.args.windows(2).any(|w| w == ["--method", "GET"]))
        .map(|c| c.line())
        .collect()
}

#[test]
fn registers_the_api_the_spa_the_test_users_and_writes_local_settings() {
    let sandbox = sandbox();
    let run = sandbox.run("setup.sh", &[], &[]);
    assert!(run.success, "{}", run.all_output());
    let state = sandbox.state();

    let api = app(&state, "entra-rbac-api");
    let api_id = api["appId"].as_str().expect("api appId");
    assert_eq!(api["identifierUris"], json!([format!("api://{api_id}")]));
    assert_eq!(
        api["api"]["oauth2PermissionScopes"][0]["value"],
        "access_as_user"
    );
    let roles: Vec<&str> = api["appRoles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|r| r["value"].as_str())
        .collect();
    assert_eq!(roles, ["Admin", "Editor", "Reader"]);
    assert_eq!(api["tags"], json!(["entra-rbac-reference"]));

    let spa = app(&state, "entra-rbac-spa");
    let spa_id = spa["appId"].as_str().expect("spa appId");
    assert_eq!(
        spa["spa"]["redirectUris"],
        json!(["http://localhost:8080/"])
    );
    let scope_id = &api["api"]["oauth2PermissionScopes"][0]["id"];
    assert!(
        spa["requiredResourceAccess"]
            .as_array()
            .expect("requiredResourceAccess")
            .iter()
            .any(|r| r["resourceAppId"] == api_id && r["resourceAccess"][0]["id"] == *scope_id)
    );
    assert_eq!(api["api"]["preAuthorizedApplications"][0]["appId"], spa_id);
    // The scope first, then the pre-authorization naming it: the fake Graph, like Graph, refuses
    // a pre-authorization of a scope the app does not have yet.
    let api_patches = writes(&sandbox)
        .into_iter()
        .filter(|w| w.contains("--method PATCH"))
        .filter(|w| {
            w.contains(&format!(
                "/applications/{} ",
                api["id"].as_str().unwrap_or("?")
            ))
        })
        .count();
    assert_eq!(api_patches, 2, "{:#?}", writes(&sandbox));

    // You are Admin; the two test users are Editor and Reader, by the roles' fixed ids.
    let role_id = |value: &str| {
        api["appRoles"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["value"] == value))
            .map(|r| r["id"].clone())
            .expect("role")
    };
    let assignments = state["app_role_assignments"]
        .as_array()
        .expect("assignments");
    let user_id = |upn: &str| {
        state["users"]
            .as_array()
            .and_then(|u| u.iter().find(|u| u["userPrincipalName"] == upn))
            .map(|u| u["id"].clone())
            .unwrap_or_else(|| panic!("user {upn}"))
    };
    for (principal, role) in [
        (json!(ME), "Admin"),
        (user_id(&format!("entra-rbac-editor@{DOMAIN}")), "Editor"),
        (user_id(&format!("entra-rbac-reader@{DOMAIN}")), "Reader"),
    ] {
        assert!(
            assignments
                .iter()
                .any(|a| a["principalId"] == principal && a["appRoleId"] == role_id(role)),
            "{role} for {principal}"
        );
    }

    let env = std::fs::read_to_string(sandbox.repo.join("backend/.env")).expect("backend/.env");
    assert!(
        env.contains(&format!("AZURE_TENANT_ID={TENANT_ID}\n")),
        "{env}"
    );
    assert!(
        env.contains(&format!("AZURE_API_CLIENT_ID={api_id}\n")),
        "{env}"
    );
    let config: SpaConfig = serde_json::from_str(
        &std::fs::read_to_string(sandbox.repo.join("frontend/config.local.json")).expect("config"),
    )
    .expect("config.local.json is a shared::SpaConfig");
    assert_eq!(
        config,
        SpaConfig {
            client_id: spa_id.to_string(),
            authority: format!("https://login.microsoftonline.com/{TENANT_ID}"),
            api_scope: format!("api://{api_id}/access_as_user"),
            api_base_url: "http://localhost:8000".into(),
            redirect_uri: Some("http://localhost:8080/".into()),
        }
    );
}

#[test]
fn second_run_creates_nothing_new() {
    let sandbox = sandbox();
    assert!(sandbox.run("setup.sh", &[], &[]).success);
    let first = sandbox.state();
    sandbox.clear_calls();
    let run = sandbox.run("setup.sh", &[], &[]);
    assert!(run.success, "{}", run.all_output());
    let creates: Vec<String> = writes(&sandbox)
        .into_iter()
        .filter(|w| w.contains("--method POST"))
        .collect();
    assert_eq!(creates, Vec::<String>::new(), "second run created objects");
    let second = sandbox.state();
    for list in [
        "applications",
        "service_principals",
        "users",
        "app_role_assignments",
    ] {
        assert_eq!(
            first[list], second[list],
            "{list} changed on the second run"
        );
    }
}

#[test]
fn finds_its_role_assignments_past_the_first_page() {
    let sandbox = sandbox();
    assert!(sandbox.run("setup.sh", &[], &[]).success);
    // 150 other people were given roles on the API first: Graph lists 100 a page, so the
    // assignments setup.sh made are on the second page.
    let mut state = sandbox.state();
    let api_sp = state["app_role_assignments"][0]["resourceId"].clone();
    let others = (0..150).map(|i| {
        json!({"id": format!("other-{i}"), "principalId": format!("person-{i}"),
               "resourceId": api_sp, "appRoleId": "f39cdf30-ac3f-4825-beb4-4b75a17c7369"})
    });
    let assignments = state["app_role_assignments"]
        .as_array_mut()
        .expect("assignments");
    let mine = std::mem::take(assignments);
    assignments.extend(others.chain(mine));
    sandbox.set_state(state);
    sandbox.clear_calls();

    let run = sandbox.run("setup.sh", &[], &[]);
    assert!(run.success, "{}", run.all_output());
    let creates: Vec<String> = writes(&sandbox)
        .into_iter()
        .filter(|w| w.contains("appRoleAssignedTo"))
        .collect();
    assert_eq!(creates, Vec::<String>::new(), "duplicate role assignments");
    assert_eq!(
        sandbox.state()["app_role_assignments"]
            .as_array()
            .map(Vec::len),
        Some(153)
    );
    assert!(
        sandbox
            .calls()
            .iter()
            .any(|c| c.line().contains("appRoleAssignedTo?$skiptoken=100")),
        "the second page was not read"
    );
}

#[test]
fn keeps_redirect_uris_already_registered_on_the_spa() {
    let sandbox = sandbox();
    assert!(sandbox.run("setup.sh", &[], &[]).success);
    let mut state = sandbox.state();
    let deployed = "https://nice-sea-0123.azurestaticapps.net/";
    for a in state["applications"].as_array_mut().expect("apps") {
        if a["displayName"] == "entra-rbac-spa" {
            a["spa"]["redirectUris"] = json!([deployed, "http://localhost:8080/"]);
        }
    }
    sandbox.set_state(state);
    assert!(sandbox.run("setup.sh", &[], &[]).success);
    let state = sandbox.state();
    assert_eq!(
        app(&state, "entra-rbac-spa")["spa"]["redirectUris"],
        json!([deployed, "http://localhost:8080/"])
    );
}

#[test]
fn test_user_passwords_go_to_a_private_file_never_to_the_output() {
    let sandbox = sandbox();
    let run = sandbox.run("setup.sh", &[], &[]);
    assert!(run.success, "{}", run.all_output());
    let path = sandbox.repo.join(".dev/test-users.txt");
    let file = std::fs::read_to_string(&path).expect(".dev/test-users.txt");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
    let state = sandbox.state();
    for user in state["users"].as_array().expect("users") {
        let password = user["passwordProfile"]["password"]
            .as_str()
            .expect("password");
        assert!(password.len() >= 16);
        assert!(file.contains(&format!(
            "{} {password}",
            user["userPrincipalName"].as_str().unwrap_or_default()
        )));
        assert!(!run.all_output().contains(password), "password printed");
        for call in sandbox.all_calls() {
            assert!(
                !call.line().contains(password),
                "password on a command line: {}",
                call.line()
            );
        }
    }
    // The real tools' command lines are among those checked: jq builds the request bodies.
    assert!(
        sandbox.all_calls().iter().any(|c| c.program == "jq"),
        "jq's command lines were not recorded"
    );
}

#[test]
fn dry_run_changes_nothing_and_prints_the_changes() {
    let sandbox = sandbox();
    let before = sandbox.state();
    let run = sandbox.run("setup.sh", &["--dry-run"], &[]);
    assert!(run.success, "{}", run.all_output());
    assert_eq!(writes(&sandbox), Vec::<String>::new());
    assert_eq!(before, sandbox.state());
    assert!(
        run.stderr.contains("[dry-run] az rest --method POST"),
        "{}",
        run.stderr
    );
    assert!(!sandbox.repo.join("backend/.env").exists());
    assert!(!sandbox.repo.join("frontend/config.local.json").exists());
}

#[test]
fn refuses_an_application_it_did_not_create() {
    let sandbox = sandbox();
    let mut state = sandbox.state();
    state["applications"] =
        json!([{"id": "x", "appId": "y", "displayName": "entra-rbac-api", "tags": []}]);
    sandbox.set_state(state);
    let run = sandbox.run("setup.sh", &[], &[]);
    assert!(!run.success);
    assert!(
        run.stderr
            .contains("'entra-rbac-api' exists but was not created by setup.sh"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_tool_or_login_fails_with_one_line() {
    let sandbox = sandbox();
    sandbox.remove_tool("jq");
    let run = sandbox.run("setup.sh", &[], &[]);
    assert!(!run.success);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("'jq' is required"), "{}", run.stderr);

    let sandbox = self::sandbox();
    let mut state = sandbox.state();
    state["signed_in"] = json!(false);
    sandbox.set_state(state);
    let run = sandbox.run("setup.sh", &[], &[]);
    assert!(!run.success);
    assert_eq!(
        run.stderr.trim(),
        "setup.sh: error: not signed in to Azure: run 'az login' (or azure/login in CI) first"
    );
}

#[test]
fn rejects_a_bad_prefix() {
    let run = sandbox().run("setup.sh", &["--prefix", "Bad Name"], &[]);
    assert!(!run.success);
    assert!(
        run.stderr.contains("--prefix needs a name"),
        "{}",
        run.stderr
    );
}

#[test]
fn keeps_other_settings_in_backend_env() {
    let sandbox = sandbox();
    std::fs::write(
        sandbox.repo.join("backend/.env"),
        "DATABASE_URL=sqlite://tasks.db\nAZURE_TENANT_ID=old\nRUST_LOG=debug\n",
    )
    .expect("write .env");
    assert!(sandbox.run("setup.sh", &[], &[]).success);
    let env = std::fs::read_to_string(sandbox.repo.join("backend/.env")).expect("read .env");
    assert!(
        env.starts_with("DATABASE_URL=sqlite://tasks.db\nRUST_LOG=debug\n"),
        "{env}"
    );
    assert!(
        env.contains(&format!("AZURE_TENANT_ID={TENANT_ID}\n")) && !env.contains("=old"),
        "{env}"
    );
}
