//! `infra/` parsed as HCL: the wiring `terraform validate` would check, the security properties
//! of issue 7, and the Container App's contract with the API. Each check is also run on a broken
//! copy to show it can fail.

use std::fs;
use std::path::{Path, PathBuf};

use deploy_checks::repo_root;
use deploy_checks::security::security_problems;
use deploy_checks::terraform::{
    Module, attr, expr_text, module_problems, nested, string_value, wiring_problems,
};
use hcl::Block;

const MODULES: [&str; 6] = [
    "resource_group",
    "key_vault",
    "container_registry",
    "container_apps",
    "static_web_app",
    "postgres",
];

fn infra() -> PathBuf {
    repo_root().join("infra")
}

fn load(path: &Path) -> Module {
    Module::load(path).unwrap_or_else(|e| panic!("{e}"))
}

/// Copies `infra/` to a temp dir and applies `edit(relative path, text) -> text` to one file.
fn broken_copy(file: &str, edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&infra(), dir.path());
    let target = dir.path().join(file);
    let text = fs::read_to_string(&target).expect("file to break");
    let edited = edit(&text);
    assert_ne!(text, edited, "the edit of {file} changed nothing");
    fs::write(&target, edited).expect("write broken file");
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == ".terraform" {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(name));
        } else {
            fs::copy(&path, to.join(name)).expect("copy");
        }
    }
}

/// For each `(file, from, to, expected)`: a copy of `infra/` with `from` replaced by `to` in
/// `file` makes the security check report a problem containing `expected`.
fn assert_each_break_is_caught(cases: &[(&str, &str, &str, &str)]) {
    for (file, from, to, expected) in cases {
        let dir = broken_copy(file, |t| t.replace(from, to));
        let problems = security_problems(dir.path()).join("\n");
        assert!(
            problems.contains(expected),
            "{file}: wanted {expected:?} in {problems}"
        );
    }
}

fn container_app(module: &Module) -> &Block {
    module
        .resource("azurerm_container_app", "this")
        .expect("container_apps declares azurerm_container_app.this")
}

fn texts_of<'a>(blocks: impl Iterator<Item = &'a Block>, key: &str) -> Vec<String> {
    blocks
        .filter_map(|b| attr(b.body(), key).map(expr_text))
        .collect()
}

#[test]
fn modules_are_wired_inputs_declared_and_outputs_exist() {
    let root = load(&infra());
    let calls: Vec<String> = root.module_calls().into_iter().map(|c| c.name).collect();
    assert_eq!(calls.len(), MODULES.len(), "module calls: {calls:?}");
    for name in MODULES {
        assert!(
            calls.iter().any(|c| c == name),
            "module {name} is not called"
        );
    }
    assert_eq!(wiring_problems(&root), Vec::<String>::new());
}

#[test]
fn wiring_check_catches_an_undeclared_input_and_a_missing_output() {
    let dir = broken_copy("main.tf", |t| {
        t.replace(
            "  tags     = var.tags\n}",
            "  tags     = var.tags\n  colour   = \"blue\"\n}",
        )
        .replace("module.key_vault.vault_uri", "module.key_vault.uri")
    });
    let problems = wiring_problems(&load(dir.path())).join("\n");
    assert!(problems.contains("passes `colour`"), "{problems}");
    assert!(problems.contains("module.key_vault.uri"), "{problems}");
}

#[test]
fn wiring_check_catches_a_required_input_not_passed() {
    let dir = broken_copy("main.tf", |t| {
        t.replacen("  tenant_id ", "  # tenant_id ", 1)
    });
    let problems = wiring_problems(&load(dir.path())).join("\n");
    assert!(
        problems.contains("required input `tenant_id`"),
        "{problems}"
    );
}

#[test]
fn every_variable_is_typed_and_described_and_every_output_described() {
    for dir in
        std::iter::once(infra()).chain(MODULES.iter().map(|m| infra().join("modules").join(m)))
    {
        assert_eq!(module_problems(&load(&dir)), Vec::<String>::new());
    }
    let dir = broken_copy("modules/key_vault/variables.tf", |t| {
        t.replacen("  type        = string\n", "", 1)
    });
    let problems = module_problems(&load(&dir.path().join("modules/key_vault"))).join("\n");
    assert!(problems.contains("variable name has no type"), "{problems}");
}

#[test]
fn validations_guard_names_sizes_and_replicas() {
    let expect = [
        ("key_vault", "name"),
        ("container_registry", "name"),
        ("container_apps", "backend_cpu"),
        ("container_apps", "backend_memory"),
        ("container_apps", "backend_min_replicas"),
        ("container_apps", "backend_max_replicas"),
        ("container_apps", "backend_app_name"),
        ("static_web_app", "location"),
    ];
    for (module, variable) in expect {
        let m = load(&infra().join("modules").join(module));
        let vars = m.variables();
        let block = vars
            .get(variable)
            .unwrap_or_else(|| panic!("{module} declares {variable}"));
        assert!(
            nested(block.body(), "validation").next().is_some(),
            "{module}.{variable} has no validation"
        );
    }
    // cpu and memory are validated as a pair where both are known: on the app itself.
    let apps = load(&infra().join("modules/container_apps"));
    let lifecycle = nested(container_app(&apps).body(), "lifecycle")
        .next()
        .expect("lifecycle block");
    let conditions = texts_of(nested(lifecycle.body(), "precondition"), "condition").join("\n");
    assert!(conditions.contains("local.memory_for_cpu"), "{conditions}");
    assert!(conditions.contains("var.backend_min_replicas <= var.backend_max_replicas"));
    let pairs = expr_text(
        apps.blocks("locals")
            .find_map(|b| attr(b.body(), "memory_for_cpu"))
            .expect("memory_for_cpu"),
    );
    assert!(
        pairs.contains("\"0.25\" = \"0.5Gi\"") && pairs.contains("\"2\" = \"4Gi\""),
        "{pairs}"
    );
}

#[test]
fn security_properties_hold() {
    assert_eq!(security_problems(&infra()), Vec::<String>::new());
}

#[test]
fn security_check_catches_access_policies_admin_user_and_registry_passwords() {
    let cases: [(&str, &str, &str, &str); 6] = [
        (
            "modules/key_vault/main.tf",
            "rbac_authorization_enabled = true",
            "rbac_authorization_enabled = false",
            "rbac_authorization_enabled must be true",
        ),
        (
            "modules/key_vault/main.tf",
            "  tags = var.tags\n}",
            "  tags = var.tags\n}\n\nresource \"azurerm_key_vault_access_policy\" \"app\" {\n  key_vault_id = azurerm_key_vault.this.id\n}",
            "access policies are forbidden",
        ),
        (
            "modules/key_vault/main.tf",
            "var.purge_protection_enabled",
            "false",
            "purge_protection_enabled must come from a variable",
        ),
        (
            "modules/container_registry/main.tf",
            "admin_enabled       = false",
            "admin_enabled       = true",
            "admin_enabled must be false",
        ),
        (
            "modules/container_apps/main.tf",
            "    identity = \"System\"\n",
            "    username             = \"admin\"\n    password_secret_name = \"acr-password\"\n",
            "registry must not set username",
        ),
        (
            "main.tf",
            "  principal_type       = each.value.principal_type",
            "  principal_type       = each.value.principal_type\n}\n\nresource \"azurerm_role_assignment\" \"owner\" {\n  scope = module.resource_group.id",
            "one azurerm_role_assignment",
        ),
    ];
    assert_each_break_is_caught(&cases);
    let dir = broken_copy("locals.tf", |t| {
        t.replace(
            "role           = \"AcrPull\"",
            "role           = \"Contributor\"",
        )
    });
    let problems = security_problems(dir.path()).join("\n");
    assert!(problems.contains("expected exactly"), "{problems}");
}

#[test]
fn container_app_matches_the_api_contract() {
    let apps = load(&infra().join("modules/container_apps"));
    let app = container_app(&apps);
    let body = app.body();
    let port = apps
        .blocks("locals")
        .find_map(|b| attr(b.body(), "backend_port"))
        .map(expr_text);
    assert_eq!(port.as_deref(), Some("8000"), "the API listens on 8000");

    let ingress = nested(body, "ingress").next().expect("ingress");
    assert_eq!(
        attr(ingress.body(), "external_enabled")
            .map(expr_text)
            .as_deref(),
        Some("true")
    );
    assert_eq!(
        attr(ingress.body(), "target_port")
            .map(expr_text)
            .as_deref(),
        Some("local.backend_port")
    );

    let template = nested(body, "template").next().expect("template");
    assert!(
        nested(template.body(), "http_scale_rule").next().is_some(),
        "HTTP scale rule"
    );
    let container = nested(template.body(), "container")
        .next()
        .expect("container");
    let probe = |kind: &str| {
        let block = nested(container.body(), kind)
            .next()
            .unwrap_or_else(|| panic!("{kind}"));
        (
            attr(block.body(), "path").and_then(string_value),
            attr(block.body(), "port").map(expr_text),
        )
    };
    assert_eq!(
        probe("liveness_probe"),
        (Some("/health".into()), Some("local.backend_port".into()))
    );
    assert_eq!(
        probe("readiness_probe"),
        (Some("/ready".into()), Some("local.backend_port".into()))
    );

    let env: Vec<(String, String)> = nested(container.body(), "env")
        .map(|e| {
            let name = attr(e.body(), "name")
                .and_then(string_value)
                .unwrap_or_default();
            (
                name,
                attr(e.body(), "value").map(expr_text).unwrap_or_default(),
            )
        })
        .collect();
    let names: Vec<&str> = env.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["AZURE_KEY_VAULT_URL", "ALLOWED_ORIGINS", "LOG_FORMAT"]
    );
    assert_eq!(env[2].1, "\"json\"");

    // The placeholder image must not be reverted to by a later apply.
    let lifecycle = nested(body, "lifecycle").next().expect("lifecycle");
    let ignored = attr(lifecycle.body(), "ignore_changes")
        .map(expr_text)
        .unwrap_or_default();
    assert!(
        ignored.contains("template[0].container[0].image"),
        "{ignored}"
    );

    // ALLOWED_ORIGINS: the Static Web App's origin and the local SPA.
    let root = load(&infra());
    let origins = root
        .blocks("locals")
        .find_map(|b| attr(b.body(), "allowed_origins"))
        .map(expr_text)
        .unwrap_or_default();
    assert!(
        origins.contains("https://${module.static_web_app.default_hostname}"),
        "{origins}"
    );
    assert!(origins.contains("\"http://localhost:8080\""), "{origins}");
}

#[test]
fn defaults_are_the_cheap_scale_to_zero_shape() {
    let root = load(&infra());
    let vars = root.variables();
    let default = |name: &str| {
        vars.get(name)
            .and_then(|b| attr(b.body(), "default"))
            .map(expr_text)
            .unwrap_or_else(|| panic!("{name} has a default"))
    };
    assert_eq!(default("backend_cpu"), "0.25");
    assert_eq!(default("backend_memory"), "\"0.5Gi\"");
    assert_eq!(default("backend_min_replicas"), "0");
    assert_eq!(default("key_vault_purge_protection_enabled"), "true");
    let swa = load(&infra().join("modules/static_web_app"));
    let tier = swa
        .variables()
        .get("sku_tier")
        .and_then(|b| attr(b.body(), "default"))
        .map(expr_text);
    assert_eq!(tier.as_deref(), Some("\"Free\""));
}

#[test]
fn root_outputs_keep_the_original_names() {
    let outputs = load(&infra()).outputs();
    for name in [
        "backend_url",
        "frontend_url",
        "key_vault_name",
        "key_vault_uri",
        "acr_login_server",
        "swa_deployment_token",
        "resource_group_name",
        "backend_app_name",
    ] {
        assert!(outputs.contains(name), "missing output {name}");
    }
    let root = load(&infra());
    let token = root
        .blocks("output")
        .find(|b| deploy_checks::terraform::label(b, 0) == "swa_deployment_token")
        .expect("token output");
    assert_eq!(
        attr(token.body(), "sensitive").map(expr_text).as_deref(),
        Some("true")
    );
}

#[test]
fn layout_follows_azure_verified_modules() {
    for dir in
        std::iter::once(infra()).chain(MODULES.iter().map(|m| infra().join("modules").join(m)))
    {
        let module = load(&dir);
        let versions = module
            .file("terraform.tf")
            .unwrap_or_else(|| panic!("{}: terraform.tf", dir.display()));
        let blocks: Vec<&str> = versions.blocks().map(|b| b.identifier()).collect();
        assert_eq!(
            blocks,
            ["terraform"],
            "{}: terraform.tf holds versions only",
            dir.display()
        );
        assert_eq!(versions.attributes().count(), 0);
        let terraform = versions.blocks().next().expect("terraform block");
        let required = attr(terraform.body(), "required_version").and_then(string_value);
        assert_eq!(required.as_deref(), Some(">= 1.5.0"));
        let providers = nested(terraform.body(), "required_providers")
            .next()
            .expect("providers");
        let azurerm = attr(providers.body(), "azurerm")
            .map(expr_text)
            .unwrap_or_default();
        assert!(
            azurerm.contains("\"~> 4.42\""),
            "{}: azurerm 4.x: {azurerm}",
            dir.display()
        );
        for file in ["main.tf", "variables.tf", "outputs.tf"] {
            assert!(dir.join(file).is_file(), "{}/{file}", dir.display());
        }
    }
    for (module, kind) in [
        ("resource_group", "azurerm_resource_group"),
        ("key_vault", "azurerm_key_vault"),
        ("container_registry", "azurerm_container_registry"),
        ("container_apps", "azurerm_container_app"),
        ("static_web_app", "azurerm_static_web_app"),
        ("postgres", "azurerm_postgresql_flexible_server"),
    ] {
        let m = load(&infra().join("modules").join(module));
        assert!(
            m.resource(kind, "this").is_some(),
            "{module}: main resource {kind}.this"
        );
    }
    assert!(infra().join("terraform.tfvars.example").is_file());
}

/// Issues 8 and 17: PostgreSQL is on by default (tasks survive scale to zero), reached with the
/// app's identity: the app is the server's Entra administrator, and gets a URL without a
/// password plus DATABASE_AUTH=entra. The server's globally unique name defaults to one derived
/// from the Key Vault's, so the default needs no extra input.
#[test]
fn postgres_is_the_default_and_wired_to_the_apps_identity() {
    let root = load(&infra());
    let call = root
        .module_calls()
        .into_iter()
        .find(|c| c.name == "postgres")
        .expect("module postgres");
    let input = |name: &str| {
        call.inputs
            .get(name)
            .map(|e| expr_text(e))
            .unwrap_or_default()
    };
    assert_eq!(input("name"), "local.postgres_server_name");
    let enabled = root
        .variables()
        .get("postgres_enabled")
        .and_then(|v| attr(v.body(), "default"))
        .map(expr_text);
    assert_eq!(enabled.as_deref(), Some("true"), "durable by default");
    let name = root
        .blocks("locals")
        .find_map(|b| attr(b.body(), "postgres_server_name"))
        .map(expr_text)
        .expect("local.postgres_server_name");
    assert!(
        name.contains("coalesce(var.postgres_server_name,")
            && name.contains("lower(\"psql-${var.key_vault_name}\")"),
        "{name}"
    );
    assert_eq!(
        input("administrator_object_id"),
        "module.container_apps.managed_identity_principal_id"
    );
    assert_eq!(
        input("administrator_name"),
        "module.container_apps.backend_app_name"
    );
    assert_eq!(input("database_name"), "local.postgres_database");

    // The URL the app gets: the same server, the app's role, no password, verified TLS; null
    // (SQLite in the container) when PostgreSQL is off.
    let url = root
        .blocks("locals")
        .find_map(|b| attr(b.body(), "database_url"))
        .map(expr_text)
        .expect("local.database_url");
    for part in [
        "var.postgres_enabled ?",
        "postgres://%s@%s.postgres.database.azure.com:5432/%s?sslmode=verify-full",
        "var.backend_app_name",
        "local.postgres_server_name",
        "local.postgres_database",
        ": null",
    ] {
        assert!(url.contains(part), "{part} in {url}");
    }
    let apps = root
        .module_calls()
        .into_iter()
        .find(|c| c.name == "container_apps");
    let passed = apps.and_then(|c| c.inputs.get("database_url").map(|e| expr_text(e)));
    assert_eq!(passed.as_deref(), Some("local.database_url"));

    let apps = load(&infra().join("modules/container_apps"));
    let template = nested(container_app(&apps).body(), "template")
        .next()
        .expect("template");
    let container = nested(template.body(), "container")
        .next()
        .expect("container");
    let dynamic = nested(container.body(), "dynamic")
        .find(|b| deploy_checks::terraform::label(b, 0) == "env")
        .expect("a dynamic env block for the database");
    let for_each = attr(dynamic.body(), "for_each")
        .map(expr_text)
        .unwrap_or_default();
    for part in [
        "var.database_url == null ? {}",
        "DATABASE_URL",
        "DATABASE_AUTH = \"entra\"",
    ] {
        assert!(for_each.contains(part), "{part} in {for_each}");
    }

    // The database belongs to the app's role only if it is created after the administrator.
    let postgres = load(&infra().join("modules/postgres"));
    let database = postgres
        .resource("azurerm_postgresql_flexible_server_database", "this")
        .expect("database");
    let depends = attr(database.body(), "depends_on")
        .map(expr_text)
        .unwrap_or_default();
    assert!(
        depends.contains("azurerm_postgresql_flexible_server_active_directory_administrator.app"),
        "{depends}"
    );
    let sku = postgres
        .variables()
        .get("sku_name")
        .and_then(|b| attr(b.body(), "default"))
        .map(expr_text);
    assert_eq!(
        sku.as_deref(),
        Some("\"B_Standard_B1ms\""),
        "the smallest burstable SKU"
    );
}

#[test]
fn security_check_catches_password_auth_plain_connections_and_a_default_that_loses_tasks() {
    let cases: [(&str, &str, &str, &str); 5] = [
        (
            "modules/postgres/main.tf",
            "password_auth_enabled         = false",
            "password_auth_enabled         = true",
            "password_auth_enabled must be false",
        ),
        (
            "modules/postgres/main.tf",
            "active_directory_auth_enabled = true",
            "active_directory_auth_enabled = false",
            "active_directory_auth_enabled must be true",
        ),
        (
            "modules/postgres/locals.tf",
            "require_secure_transport = \"on\"",
            "require_secure_transport = \"off\"",
            "TLS must be enforced",
        ),
        (
            "main.tf",
            "count  = var.postgres_enabled ? 1 : 0",
            "count  = 1",
            "count = var.postgres_enabled ? 1 : 0",
        ),
        (
            "variables.tf",
            "  type        = bool\n  default     = true\n  description = \"Keep tasks",
            "  type        = bool\n  default     = false\n  description = \"Keep tasks",
            "postgres_enabled must default to true",
        ),
    ];
    assert_each_break_is_caught(&cases);
}
