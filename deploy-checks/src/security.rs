//! The security properties issue 7 asks of `infra/`: RBAC-only Key Vault, no registry password,
//! identity-based image pulls, no secrets in the Container App, and only resource-scoped grants;
//! those of issue 8: PostgreSQL signed in to with Entra ID only (no password authentication, no
//! administrator password), over TLS; and issue 17's: PostgreSQL on by default, so the default
//! deployment keeps tasks across scale to zero.

use std::collections::BTreeSet;
use std::path::Path;

use hcl::{Block, Expression, ObjectKey};

use crate::terraform::{Module, attr, expr_text, nested, string_value};

/// The grants the deployment must make, as `(role, scope)`; nothing else may be granted.
pub const EXPECTED_GRANTS: [(&str, &str); 3] = [
    ("Key Vault Secrets Officer", "module.key_vault.id"),
    ("Key Vault Secrets User", "module.key_vault.id"),
    ("AcrPull", "module.container_registry.id"),
];

/// Loads `infra_dir` and every module under `infra_dir/modules` and lists what breaks the
/// properties above; empty when all hold.
pub fn security_problems(infra_dir: &Path) -> Vec<String> {
    let mut modules = Vec::new();
    let mut problems = Vec::new();
    let module_dirs = std::fs::read_dir(infra_dir.join("modules"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_else(|_| Vec::new());
    for dir in std::iter::once(infra_dir.to_path_buf()).chain(module_dirs) {
        match Module::load(&dir) {
            Ok(module) => modules.push(module),
            Err(e) => problems.push(e),
        }
    }
    for module in &modules {
        for (kind, name, block) in module.resources() {
            let at = format!("{}: {kind}.{name}", module.dir.display());
            match kind.as_str() {
                "azurerm_key_vault_access_policy" => {
                    problems.push(format!("{at}: access policies are forbidden, use RBAC"));
                }
                "azurerm_key_vault" => problems.extend(key_vault_problems(&at, block)),
                "azurerm_container_registry" => problems.extend(registry_problems(&at, block)),
                "azurerm_container_app" => problems.extend(container_app_problems(&at, block)),
                "azurerm_postgresql_flexible_server" => {
                    problems.extend(postgres_server_problems(&at, block, module));
                }
                "azurerm_postgresql_flexible_server_active_directory_administrator"
                    if literal(block, "principal_type").as_deref()
                        != Some("\"ServicePrincipal\"") =>
                {
                    problems.push(format!(
                        "{at}: the Entra administrator must be the app's identity (ServicePrincipal)"
                    ));
                }
                _ => {}
            }
        }
        for (name, _) in module.variables() {
            if ["password", "secret", "token"]
                .iter()
                .any(|w| name.contains(w))
            {
                problems.push(format!(
                    "{}: variable {name} looks like a secret input",
                    module.dir.display()
                ));
            }
        }
    }
    if let Some(root) = modules.first() {
        problems.extend(grant_problems(root));
        problems.extend(durable_by_default_problems(root));
    }
    problems
}

fn literal(block: &Block, key: &str) -> Option<String> {
    attr(block.body(), key).map(expr_text)
}

fn key_vault_problems(at: &str, vault: &Block) -> Vec<String> {
    let mut problems = Vec::new();
    if literal(vault, "rbac_authorization_enabled").as_deref() != Some("true") {
        problems.push(format!("{at}: rbac_authorization_enabled must be true"));
    }
    if literal(vault, "enable_rbac_authorization").is_some() {
        problems.push(format!(
            "{at}: enable_rbac_authorization is the pre-4.42 name, use rbac_authorization_enabled"
        ));
    }
    if nested(vault.body(), "access_policy").next().is_some() {
        problems.push(format!("{at}: inline access_policy blocks are forbidden"));
    }
    if !literal(vault, "purge_protection_enabled").is_some_and(|e| e.starts_with("var.")) {
        problems.push(format!(
            "{at}: purge_protection_enabled must come from a variable"
        ));
    }
    if literal(vault, "soft_delete_retention_days").is_none() {
        problems.push(format!(
            "{at}: soft_delete_retention_days must be set (soft delete kept)"
        ));
    }
    problems
}

fn registry_problems(at: &str, registry: &Block) -> Vec<String> {
    let mut problems = Vec::new();
    if literal(registry, "admin_enabled").as_deref() != Some("false") {
        problems.push(format!("{at}: admin_enabled must be false"));
    }
    if literal(registry, "anonymous_pull_enabled").as_deref() == Some("true") {
        problems.push(format!("{at}: anonymous pull must stay disabled"));
    }
    problems
}

fn container_app_problems(at: &str, app: &Block) -> Vec<String> {
    let mut problems = Vec::new();
    let body = app.body();
    if nested(body, "secret").next().is_some() {
        problems.push(format!(
            "{at}: secret blocks are forbidden (read Key Vault at run time)"
        ));
    }
    let identity_type = nested(body, "identity")
        .next()
        .and_then(|i| attr(i.body(), "type"))
        .and_then(string_value);
    if !identity_type.is_some_and(|t| t.contains("SystemAssigned")) {
        problems.push(format!("{at}: needs a system-assigned identity"));
    }
    let registries: Vec<&Block> = nested(body, "registry").collect();
    if registries.is_empty() {
        problems.push(format!(
            "{at}: needs a registry block pulling with its identity"
        ));
    }
    for registry in registries {
        let identity = attr(registry.body(), "identity").and_then(string_value);
        if identity.as_deref() != Some("System") {
            problems.push(format!("{at}: registry must use identity = \"System\""));
        }
        for forbidden in ["username", "password_secret_name"] {
            if attr(registry.body(), forbidden).is_some() {
                problems.push(format!("{at}: registry must not set {forbidden}"));
            }
        }
    }
    for template in nested(body, "template") {
        for container in nested(template.body(), "container") {
            for env in nested(container.body(), "env") {
                if attr(env.body(), "secret_name").is_some() {
                    problems.push(format!("{at}: env vars must not reference secrets"));
                }
            }
        }
    }
    problems
}

/// Entra ID sign-in only, no administrator password, TLS enforced by server parameters.
fn postgres_server_problems(at: &str, server: &Block, module: &Module) -> Vec<String> {
    let mut problems = Vec::new();
    let authentication = nested(server.body(), "authentication").next();
    let setting = |key: &str| {
        authentication
            .and_then(|a| attr(a.body(), key))
            .map(expr_text)
    };
    if setting("active_directory_auth_enabled").as_deref() != Some("true") {
        problems.push(format!(
            "{at}: authentication.active_directory_auth_enabled must be true"
        ));
    }
    if setting("password_auth_enabled").as_deref() != Some("false") {
        problems.push(format!(
            "{at}: authentication.password_auth_enabled must be false"
        ));
    }
    for forbidden in [
        "administrator_login",
        "administrator_password",
        "administrator_password_wo",
    ] {
        if literal(server, forbidden).is_some() {
            problems.push(format!(
                "{at}: {forbidden} must not be set (no password exists)"
            ));
        }
    }
    let tls = module
        .blocks("locals")
        .find_map(|b| attr(b.body(), "tls_settings"))
        .map(expr_text)
        .unwrap_or_default();
    let configured = module
        .resource("azurerm_postgresql_flexible_server_configuration", "tls")
        .and_then(|b| literal(b, "for_each"))
        .is_some_and(|e| e == "local.tls_settings");
    if !configured || !tls.contains("require_secure_transport = \"on\"") {
        problems.push(format!(
            "{at}: TLS must be enforced (configuration require_secure_transport = \"on\" from local.tls_settings)"
        ));
    }
    problems
}

/// The root module calls `postgres` when `postgres_enabled`, which defaults to true: the default
/// deployment keeps tasks across scale to zero and redeploys (a container's disk does not), and
/// only an explicit `postgres_enabled = false` trades that for about $16/month.
fn durable_by_default_problems(root: &Module) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(call) = root
        .blocks("module")
        .find(|b| crate::terraform::label(b, 0) == "postgres")
    else {
        return vec!["root: module postgres is not called".into()];
    };
    if literal(call, "count").as_deref() != Some("var.postgres_enabled ? 1 : 0") {
        problems
            .push("root: module postgres must have count = var.postgres_enabled ? 1 : 0".into());
    }
    let default = root
        .variables()
        .get("postgres_enabled")
        .and_then(|v| attr(v.body(), "default"))
        .map(expr_text);
    if default.as_deref() != Some("true") {
        problems.push(
            "root: variable postgres_enabled must default to true (tasks in the container are lost at every scale to zero)".into(),
        );
    }
    problems
}

/// Checks the root module's role assignments: one `azurerm_role_assignment` driven by
/// `local.role_assignments`, whose entries are exactly [`EXPECTED_GRANTS`].
fn grant_problems(root: &Module) -> Vec<String> {
    let mut problems = Vec::new();
    let assignments: Vec<_> = root
        .resources()
        .into_iter()
        .filter(|(kind, _, _)| kind == "azurerm_role_assignment")
        .collect();
    let driven_by_local = assignments.len() == 1
        && literal(assignments[0].2, "for_each").as_deref() == Some("local.role_assignments")
        && literal(assignments[0].2, "scope").as_deref() == Some("each.value.scope")
        && literal(assignments[0].2, "role_definition_name").as_deref() == Some("each.value.role");
    if !driven_by_local {
        problems.push(
            "root: grants must be one azurerm_role_assignment over local.role_assignments".into(),
        );
        return problems;
    }
    let grants: BTreeSet<(String, String)> = root
        .blocks("locals")
        .filter_map(|b| attr(b.body(), "role_assignments"))
        .filter_map(|e| match e {
            Expression::Object(entries) => Some(entries),
            _ => None,
        })
        .flat_map(|entries| entries.values())
        .filter_map(|entry| match entry {
            Expression::Object(fields) => {
                let field = |name: &str| {
                    fields.iter().find_map(|(k, v)| match k {
                        ObjectKey::Identifier(id) if id.as_str() == name => Some(v),
                        _ => None,
                    })
                };
                let role = field("role").and_then(string_value)?;
                Some((role, field("scope").map(expr_text)?))
            }
            _ => None,
        })
        .collect();
    let expected: BTreeSet<(String, String)> = EXPECTED_GRANTS
        .iter()
        .map(|(r, s)| ((*r).to_owned(), (*s).to_owned()))
        .collect();
    if grants != expected {
        problems.push(format!(
            "root: grants are {grants:?}, expected exactly {expected:?} (each scoped to its resource)"
        ));
    }
    problems
}
