//! The API's configuration, read once at start-up into [`Config`]: each subsystem parses its own
//! variables (`from_vars` next to its settings type); this module only finds the variables and
//! assembles the parts. A bad value stops the process with one line naming the variable (exit
//! code 2).
//!
//! Values come from the environment, then from `backend/.env` (or `.env` when started inside
//! `backend/`) for variables the environment does not set.
//!
//! The tenant and API client ids come from the environment, or, when `AZURE_KEY_VAULT_URL` is
//! set, from that vault ([`IdsSource`]); only the vault's settings are read here, the secrets
//! themselves after start-up (`crate::key_vault`).

use std::{collections::HashMap, path::Path};

use crate::{
    auth::{ApiIds, AuthSettings},
    cors::CorsSettings,
    key_vault::KeyVaultSettings,
    server::ServerSettings,
    store::StoreSettings,
    telemetry::LogSettings,
    vars::Vars,
};

pub use crate::vars::ConfigError;

#[derive(Debug, Clone)]
pub struct Config {
    /// Where the tenant and API client ids come from.
    pub ids: IdsSource,
    pub auth: AuthSettings,
    pub server: ServerSettings,
    pub cors: CorsSettings,
    pub log: LogSettings,
    /// Where tasks are kept.
    pub store: StoreSettings,
}

/// Where the API learns whose tokens to accept.
#[derive(Debug, Clone)]
pub enum IdsSource {
    /// `AZURE_TENANT_ID` and `AZURE_API_CLIENT_ID`: local development, or any host without Key
    /// Vault.
    Environment(ApiIds),
    /// `AZURE_KEY_VAULT_URL` is set: the vault's secrets, read with the app's Azure identity after
    /// start-up and re-read periodically.
    KeyVault(KeyVaultSettings),
}

impl Config {
    /// From the process environment, completed by the first `.env` file found.
    pub fn from_env() -> Result<Self, ConfigError> {
        let file = read_env_file(&["backend/.env", ".env"])?;
        Self::from_lookup(|name| std::env::var(name).ok().or_else(|| file.get(name).cloned()))
    }

    /// From any source of variables (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars::new(&get);
        let ids = match KeyVaultSettings::from_vars(&vars)? {
            Some(vault) => IdsSource::KeyVault(vault),
            None => IdsSource::Environment(ApiIds::from_vars(&vars)?),
        };
        Ok(Config {
            ids,
            auth: AuthSettings::from_vars(&vars)?,
            server: ServerSettings::from_vars(&vars)?,
            cors: CorsSettings::from_vars(&vars)?,
            log: LogSettings::from_vars(&vars)?,
            store: StoreSettings::from_vars(&vars)?,
        })
    }
}

fn read_env_file(candidates: &[&str]) -> Result<HashMap<String, String>, ConfigError> {
    let Some(path) = candidates.iter().map(Path::new).find(|p| p.is_file()) else {
        return Ok(HashMap::new());
    };
    let error = |reason: String| ConfigError::EnvFile {
        path: path.display().to_string(),
        reason,
    };
    dotenvy::from_path_iter(path)
        .map_err(|e| error(e.to_string()))?
        .map(|item| item.map_err(|e| error(e.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::HeaderValue;
    use secrecy::ExposeSecret;

    use super::*;
    use crate::{
        azure::CredentialKind,
        store::{Database, PgAuth},
        telemetry::LogFormat,
    };

    const TENANT: &str = "72F988BF-86F1-41AF-91AB-2D7CD011DB47";
    const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

    fn parse(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> =
            [("AZURE_TENANT_ID", TENANT), ("AZURE_API_CLIENT_ID", CLIENT)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        for (k, v) in vars {
            map.insert((*k).to_owned(), (*v).to_owned());
        }
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn invalid_name(result: Result<Config, ConfigError>) -> &'static str {
        match result {
            Err(ConfigError::Invalid { name, .. } | ConfigError::Missing { name, .. }) => name,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let config = parse(&[]).expect("valid");
        let IdsSource::Environment(ids) = &config.ids else {
            panic!("ids from the environment");
        };
        assert_eq!(ids.tenant_id.expose_secret(), TENANT.to_ascii_lowercase());
        assert_eq!(
            config.auth.authority_host.as_str(),
            "https://login.microsoftonline.com/"
        );
        assert_eq!(config.server.listen, "0.0.0.0:8000".parse().expect("addr"));
        assert_eq!(
            config.cors.allowed_origins,
            [HeaderValue::from_static("http://localhost:8080")]
        );
        assert_eq!(config.auth.clock_skew, Duration::from_secs(60));
        assert_eq!(
            config.auth.key_refresh_interval,
            Duration::from_secs(43_200)
        );
        assert_eq!(config.auth.unknown_kid_cooldown, Duration::from_secs(300));
        assert_eq!(config.log.format, LogFormat::Text);
    }

    #[test]
    fn ids_must_be_guids_and_present() {
        assert_eq!(
            invalid_name(parse(&[("AZURE_TENANT_ID", "")])),
            "AZURE_TENANT_ID"
        );
        assert_eq!(
            invalid_name(parse(&[("AZURE_TENANT_ID", "contoso.onmicrosoft.com")])),
            "AZURE_TENANT_ID"
        );
        assert_eq!(
            invalid_name(parse(&[("AZURE_API_CLIENT_ID", "api://x")])),
            "AZURE_API_CLIENT_ID"
        );
        let message = parse(&[("AZURE_API_CLIENT_ID", "  ")])
            .expect_err("empty")
            .to_string();
        assert!(
            message.starts_with("AZURE_API_CLIENT_ID is not set"),
            "{message}"
        );
    }

    #[test]
    fn authority_must_be_https_unless_loopback() {
        for bad in [
            "http://login.microsoftonline.com",
            "ftp://x",
            "https://h/tenant",
            "not a url",
        ] {
            assert_eq!(
                invalid_name(parse(&[("AZURE_AUTHORITY_HOST", bad)])),
                "AZURE_AUTHORITY_HOST",
                "{bad}"
            );
        }
        for good in [
            "https://login.microsoftonline.us/",
            "http://127.0.0.1:8081",
            "http://localhost:9",
            "http://[::1]:1",
        ] {
            assert!(parse(&[("AZURE_AUTHORITY_HOST", good)]).is_ok(), "{good}");
        }
    }

    #[test]
    fn bounded_numbers() {
        assert_eq!(
            parse(&[("TOKEN_CLOCK_SKEW_SECS", "300")])
                .expect("max")
                .auth
                .clock_skew
                .as_secs(),
            300
        );
        assert_eq!(
            invalid_name(parse(&[("TOKEN_CLOCK_SKEW_SECS", "301")])),
            "TOKEN_CLOCK_SKEW_SECS"
        );
        assert_eq!(invalid_name(parse(&[("PORT", "65536")])), "PORT");
        assert_eq!(invalid_name(parse(&[("PORT", "eighty")])), "PORT");
        assert_eq!(
            invalid_name(parse(&[("REQUEST_TIMEOUT_SECS", "0")])),
            "REQUEST_TIMEOUT_SECS"
        );
        assert_eq!(
            invalid_name(parse(&[("BIND_ADDRESS", "localhost")])),
            "BIND_ADDRESS"
        );
        assert_eq!(invalid_name(parse(&[("LOG_FORMAT", "xml")])), "LOG_FORMAT");
    }

    #[test]
    fn store_defaults_to_an_sqlite_file_under_data() {
        let store = parse(&[]).expect("valid").store;
        assert!(
            matches!(&store.database, Database::Sqlite { path } if path == Path::new("data/tasks.db")),
            "{store:?}"
        );
        assert_eq!(
            (store.max_tasks, store.max_connections, store.timeout),
            (10_000, 5, Duration::from_secs(5))
        );
    }

    #[test]
    fn entra_auth_signs_in_with_the_apps_azure_identity() {
        let url = (
            "DATABASE_URL",
            "postgres://api@srv.postgres.database.azure.com/tasks",
        );
        let entra = ("DATABASE_AUTH", "entra");
        let credential = |vars: &[(&str, &str)]| {
            let Database::Postgres(target) = parse(vars).expect("valid").store.database else {
                panic!("postgres");
            };
            match target.auth {
                PgAuth::Entra { azure } => azure.credential,
                PgAuth::Password => panic!("entra"),
            }
        };
        assert_eq!(credential(&[url, entra]), CredentialKind::DeveloperTools);
        let endpoint = ("IDENTITY_ENDPOINT", "http://localhost:42356/msi/token");
        let client = ("AZURE_MANAGED_IDENTITY_CLIENT_ID", CLIENT);
        assert_eq!(
            credential(&[url, entra, endpoint, client]),
            CredentialKind::ManagedIdentity {
                client_id: Some(CLIENT.to_owned())
            }
        );
        let bad = ("AZURE_MANAGED_IDENTITY_CLIENT_ID", "my-identity");
        assert_eq!(
            invalid_name(parse(&[url, entra, endpoint, bad])),
            "AZURE_MANAGED_IDENTITY_CLIENT_ID"
        );
        assert_eq!(
            invalid_name(parse(&[url, ("DATABASE_AUTH", "Entra")])),
            "DATABASE_AUTH"
        );
    }

    #[test]
    fn database_errors_name_the_variable_and_never_echo_a_password() {
        let message = parse(&[(
            "DATABASE_URL",
            "postgres://u:hunter2@db.example/t?sslmode=prefer",
        )])
        .expect_err("weak TLS")
        .to_string();
        assert!(message.starts_with("DATABASE_URL="), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        let message = parse(&[("DATABASE_URL", "not a url u:hunter2@x")])
            .expect_err("nonsense")
            .to_string();
        assert!(!message.contains("hunter2"), "{message}");
        for (name, value) in [
            ("DATABASE_MAX_CONNECTIONS", "0"),
            ("DATABASE_TIMEOUT_SECS", "61"),
            ("TASKS_MAX", "many"),
        ] {
            assert_eq!(invalid_name(parse(&[(name, value)])), name);
        }
    }

    #[test]
    fn log_filter_is_checked_at_start() {
        assert_eq!(parse(&[]).expect("default").log.filter, "info");
        let filter = "warn,backend=debug";
        assert_eq!(
            parse(&[("RUST_LOG", filter)]).expect("valid").log.filter,
            filter
        );
        assert_eq!(
            invalid_name(parse(&[("RUST_LOG", "backend=loud")])),
            "RUST_LOG"
        );
    }

    #[test]
    fn origins_are_exact_origins() {
        let config = parse(&[(
            "ALLOWED_ORIGINS",
            "https://a.example, http://localhost:8080",
        )])
        .expect("valid");
        assert_eq!(config.cors.allowed_origins.len(), 2);
        for bad in [
            "*",
            "https://a.example/",
            "https://a.example/app",
            "a.example",
        ] {
            assert_eq!(
                invalid_name(parse(&[("ALLOWED_ORIGINS", bad)])),
                "ALLOWED_ORIGINS",
                "{bad}"
            );
        }
    }

    const VAULT: &str = "https://kv-tasks-prod.vault.azure.net/";

    fn vault(vars: &[(&str, &str)]) -> Result<KeyVaultSettings, ConfigError> {
        let mut all = vec![("AZURE_KEY_VAULT_URL", VAULT)];
        all.extend_from_slice(vars);
        match parse(&all)?.ids {
            IdsSource::KeyVault(settings) => Ok(settings),
            IdsSource::Environment(_) => panic!("expected Key Vault mode"),
        }
    }

    #[test]
    fn key_vault_mode_defaults() {
        let settings = vault(&[]).expect("valid");
        assert_eq!(settings.url.as_str(), VAULT);
        assert_eq!(settings.azure.credential, CredentialKind::DeveloperTools);
        assert_eq!(settings.load_timeout, Duration::from_secs(60));
        assert_eq!(settings.refresh_interval, Some(Duration::from_secs(300)));
        // parse() sets both id variables: both are reported as ignored.
        assert_eq!(settings.ignored_env, crate::auth::ID_VARIABLES);
    }

    #[test]
    fn key_vault_mode_needs_no_ids_in_the_environment() {
        let map: HashMap<&str, &str> = [("AZURE_KEY_VAULT_URL", VAULT)].into_iter().collect();
        let config = Config::from_lookup(|name| map.get(name).map(|v| (*v).to_owned()))
            .expect("no ids needed");
        let IdsSource::KeyVault(settings) = config.ids else {
            panic!("expected Key Vault mode");
        };
        assert!(settings.ignored_env.is_empty());
        // Even unparsable ids are ignored, not validated.
        assert!(vault(&[("AZURE_TENANT_ID", "contoso")]).is_ok());
    }

    #[test]
    fn vault_urls_must_be_key_vault_uris() {
        for good in [
            "https://kv-tasks-prod.vault.azure.net",
            "https://KV1.vault.azure.net/",
            "https://kv-gov.vault.usgovcloudapi.net/",
            "https://kv-cn.vault.azure.cn/",
        ] {
            let settings = vault(&[("AZURE_KEY_VAULT_URL", good)]).expect(good);
            assert!(settings.url.as_str().ends_with('/'), "{good}");
        }
        for bad in [
            "http://kv-tasks.vault.azure.net/",
            "https://kv-tasks.vault.azure.net/secrets/x",
            "https://kv-tasks.vault.azure.net:8443/",
            "https://kv-tasks.vault.azure.net/?x=1",
            "https://user@kv-tasks.vault.azure.net/",
            "https://vault.azure.net/",
            "https://a.b.vault.azure.net/",
            "https://kv-tasks.vault.azure.net.evil.example/",
            "https://evil.example/",
            "kv-tasks",
        ] {
            assert_eq!(
                invalid_name(parse(&[("AZURE_KEY_VAULT_URL", bad)])),
                "AZURE_KEY_VAULT_URL",
                "{bad}"
            );
        }
    }

    #[test]
    fn credential_is_explicit_or_follows_identity_endpoint() {
        let kind = |vars: &[(&str, &str)]| vault(vars).map(|s| s.azure.credential);
        let system = CredentialKind::ManagedIdentity { client_id: None };
        let endpoint = ("IDENTITY_ENDPOINT", "http://localhost:42356/msi/token");
        assert_eq!(kind(&[endpoint]), Ok(system.clone()));
        assert_eq!(
            kind(&[("AZURE_CREDENTIAL", "managed-identity")]),
            Ok(system)
        );
        assert_eq!(
            kind(&[endpoint, ("AZURE_CREDENTIAL", "developer-tools")]),
            Ok(CredentialKind::DeveloperTools)
        );
        assert_eq!(
            kind(&[endpoint, ("AZURE_MANAGED_IDENTITY_CLIENT_ID", CLIENT)]),
            Ok(CredentialKind::ManagedIdentity {
                client_id: Some(CLIENT.into())
            })
        );
        for (vars, name) in [
            (vec![("AZURE_CREDENTIAL", "default")], "AZURE_CREDENTIAL"),
            (
                vec![endpoint, ("AZURE_MANAGED_IDENTITY_CLIENT_ID", "mi-name")],
                "AZURE_MANAGED_IDENTITY_CLIENT_ID",
            ),
            // A user-assigned identity without a managed identity credential is a mistake.
            (
                vec![("AZURE_MANAGED_IDENTITY_CLIENT_ID", CLIENT)],
                "AZURE_MANAGED_IDENTITY_CLIENT_ID",
            ),
        ] {
            let mut all = vec![("AZURE_KEY_VAULT_URL", VAULT)];
            all.extend(vars);
            assert_eq!(invalid_name(parse(&all)), name);
        }
    }

    #[test]
    fn key_vault_timings_are_bounded() {
        let settings = vault(&[
            ("CONFIG_LOAD_TIMEOUT_SECS", "5"),
            ("KEY_VAULT_REFRESH_SECS", "0"),
        ])
        .expect("valid");
        assert_eq!(settings.load_timeout, Duration::from_secs(5));
        assert_eq!(settings.refresh_interval, None, "0 turns refresh off");
        for (name, bad) in [
            ("CONFIG_LOAD_TIMEOUT_SECS", "0"),
            ("CONFIG_LOAD_TIMEOUT_SECS", "3601"),
            ("KEY_VAULT_REFRESH_SECS", "-1"),
            ("KEY_VAULT_REFRESH_SECS", "86401"),
        ] {
            let mut all = vec![("AZURE_KEY_VAULT_URL", VAULT)];
            all.push((name, bad));
            assert_eq!(invalid_name(parse(&all)), name, "{bad}");
        }
    }
}
