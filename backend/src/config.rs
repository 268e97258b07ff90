//! The API's configuration, parsed once at start-up into [`Config`]. Every variable is read and
//! documented here; a bad value stops the process with one line naming the variable (exit code 2).
//!
//! Values come from the environment, then from `backend/.env` (or `.env` when started inside
//! `backend/`) for variables the environment does not set.
//!
//! The tenant and API client ids come from the environment, or, when `AZURE_KEY_VAULT_URL` is
//! set, from that vault ([`IdsSource`]); only the vault's settings are read here, the secrets
//! themselves after start-up (`crate::key_vault`).

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::Path,
    time::Duration,
};

use axum::http::HeaderValue;
use reqwest::Url;
use tracing_subscriber::EnvFilter;

use crate::{
    auth::{ApiIds, AuthSettings},
    azure::{AzureSettings, CredentialKind},
    key_vault::KeyVaultSettings,
    store::{DEFAULT_DATABASE_URL, Database, PgAuth, StoreSettings},
    telemetry::LogFormat,
};

/// Discovery and JWKS requests give up after this long (each).
const DISCOVERY_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Each request to Azure (identity endpoint, Key Vault) gives up after this long.
const AZURE_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Key Vault DNS suffixes: public cloud, Azure China, Azure US Government. The SDK's challenge
/// check needs the vault's host under the audience Key Vault names, so other hosts would only
/// fail later, with a vaguer error.
const KEY_VAULT_DNS_SUFFIXES: [&str; 3] = [
    ".vault.azure.net",
    ".vault.azure.cn",
    ".vault.usgovcloudapi.net",
];
/// Variables that name the ids in the environment: ignored (with a warning) in Key Vault mode.
const ENV_ID_VARIABLES: [&str; 2] = ["AZURE_TENANT_ID", "AZURE_API_CLIENT_ID"];
/// Longest value echoed back in an error message.
const MAX_ECHO: usize = 80;

#[derive(Debug, Clone)]
pub struct Config {
    /// Where the tenant and API client ids come from.
    pub ids: IdsSource,
    pub auth: AuthSettings,
    /// `BIND_ADDRESS` (default `0.0.0.0`) and `PORT` (default 8000).
    pub listen: SocketAddr,
    /// `ALLOWED_ORIGINS`: browser origins allowed to call the API (CORS).
    pub allowed_origins: Vec<HeaderValue>,
    /// `LOG_FORMAT`: `text` (default) or `json` (for log collectors, e.g. in containers).
    pub log_format: LogFormat,
    /// `RUST_LOG` (default `info`): which lines are logged, checked here so that a typo stops the
    /// start instead of silently logging at another level.
    pub log_filter: String,
    /// `REQUEST_TIMEOUT_SECS` (default 10): a request still running then is answered 408.
    pub request_timeout: Duration,
    /// `SHUTDOWN_TIMEOUT_SECS` (default 10): how long requests in flight may finish after
    /// SIGTERM/SIGINT before the process exits anyway.
    pub shutdown_timeout: Duration,
    /// `DATABASE_URL` and friends: where tasks are kept (see [`Vars::store`]).
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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not set: {hint}")]
    Missing {
        name: &'static str,
        hint: &'static str,
    },
    #[error("{name}={value:?} is invalid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("cannot read {path}: {reason}")]
    EnvFile { path: String, reason: String },
}

fn invalid(name: &'static str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.chars().take(MAX_ECHO).collect(),
        reason: reason.into(),
    }
}

/// Whether an endpoint may be trusted to serve keys: https, or http to this machine (the local
/// identity provider, tests).
pub fn is_secure_endpoint(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => shared::is_loopback_host(url.host_str().unwrap_or_default()),
        _ => false,
    }
}

impl Config {
    /// From the process environment, completed by the first `.env` file found.
    pub fn from_env() -> Result<Self, ConfigError> {
        let file = read_env_file(&["backend/.env", ".env"])?;
        Self::from_lookup(|name| std::env::var(name).ok().or_else(|| file.get(name).cloned()))
    }

    /// From any source of variables (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(&get);
        let ids = match vars.get("AZURE_KEY_VAULT_URL") {
            Some(url) => IdsSource::KeyVault(vars.key_vault(&url)?),
            None => IdsSource::Environment(ApiIds {
                tenant_id: vars.guid(
                    "AZURE_TENANT_ID",
                    "the Directory (tenant) ID of your Entra tenant",
                )?,
                client_id: vars.guid(
                    "AZURE_API_CLIENT_ID",
                    "the Application (client) ID of the API's app registration",
                )?,
            }),
        };
        let auth = AuthSettings {
            authority_host: vars.authority_host()?,
            clock_skew: vars.seconds("TOKEN_CLOCK_SKEW_SECS", 60, 0..=300)?,
            key_refresh_interval: vars.seconds(
                "JWKS_REFRESH_INTERVAL_SECS",
                12 * 3600,
                60..=7 * 86_400,
            )?,
            unknown_kid_cooldown: vars.seconds("JWKS_REFRESH_COOLDOWN_SECS", 300, 0..=86_400)?,
            http_timeout: DISCOVERY_HTTP_TIMEOUT,
            token_cache_entries: usize::try_from(vars.number(
                "TOKEN_CACHE_ENTRIES",
                4096,
                0..=1_000_000,
            )?)
            .unwrap_or(usize::MAX),
        };
        let ip = match vars.get("BIND_ADDRESS") {
            None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Some(value) => value.parse().map_err(|_| {
                invalid(
                    "BIND_ADDRESS",
                    &value,
                    "expected an IP address such as 0.0.0.0 or 127.0.0.1",
                )
            })?,
        };
        let port = vars.number("PORT", 8000, 0..=u16::MAX.into())?;
        let port =
            u16::try_from(port).map_err(|_| invalid("PORT", &port.to_string(), "too large"))?;
        Ok(Config {
            ids,
            auth,
            listen: SocketAddr::new(ip, port),
            allowed_origins: vars.origins()?,
            log_format: match vars.get("LOG_FORMAT").as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => return Err(invalid("LOG_FORMAT", other, "expected text or json")),
            },
            log_filter: vars.log_filter()?,
            request_timeout: vars.seconds("REQUEST_TIMEOUT_SECS", 10, 1..=300)?,
            shutdown_timeout: vars.seconds("SHUTDOWN_TIMEOUT_SECS", 10, 1..=300)?,
            store: vars.store()?,
        })
    }
}

const GUID_EXPECTED: &str = "expected a GUID like 00000000-0000-0000-0000-000000000000";

/// `AZURE_KEY_VAULT_URL`: `https://{vault}.vault.azure.net` (or a sovereign cloud's suffix), as
/// Terraform's `vault_uri` writes it; normalised to end in `/`.
fn key_vault_url(value: &str) -> Result<Url, ConfigError> {
    const NAME: &str = "AZURE_KEY_VAULT_URL";
    let url = Url::parse(value).map_err(|e| invalid(NAME, value, e.to_string()))?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let vault_name = KEY_VAULT_DNS_SUFFIXES
        .iter()
        .find_map(|suffix| host.strip_suffix(suffix));
    let name_ok = vault_name.is_some_and(|name| {
        (3..=24).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let shape_ok = url.scheme() == "https"
        && url.port().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !(name_ok && shape_ok) {
        return Err(invalid(
            NAME,
            value,
            "expected a vault URI like https://my-vault.vault.azure.net/ (terraform output key_vault_uri)",
        ));
    }
    Ok(url)
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

/// `scheme://user:password@host` with the password replaced, so an error can echo the URL.
fn redact_password(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        // Unparsable: keep only what follows a possible `user:password@`.
        Err(_) => match url.rsplit_once('@') {
            Some((_, host)) => format!("…@{host}"),
            None => url.to_owned(),
        },
    }
}

/// Variable lookup where an empty value counts as unset.
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A GUID, lowercased (Entra writes `tid` and `aud` in lowercase).
    fn guid(&self, name: &'static str, hint: &'static str) -> Result<String, ConfigError> {
        self.optional_guid(name)?
            .ok_or(ConfigError::Missing { name, hint })
    }

    fn optional_guid(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        self.get(name)
            .map(|value| {
                shared::normalize_guid(&value).ok_or_else(|| invalid(name, &value, GUID_EXPECTED))
            })
            .transpose()
    }

    /// `AZURE_KEY_VAULT_URL` (already known to be set) and the variables that only matter with it.
    fn key_vault(&self, url: &str) -> Result<KeyVaultSettings, ConfigError> {
        Ok(KeyVaultSettings {
            url: key_vault_url(url)?,
            azure: self.azure()?,
            load_timeout: self.seconds("CONFIG_LOAD_TIMEOUT_SECS", 60, 1..=3600)?,
            refresh_interval: Some(self.seconds("KEY_VAULT_REFRESH_SECS", 300, 0..=86_400)?)
                .filter(|interval| !interval.is_zero()),
            ignored_env: ENV_ID_VARIABLES
                .into_iter()
                .filter(|name| self.get(name).is_some())
                .collect(),
        })
    }

    /// The app's Azure identity, for Key Vault and for PostgreSQL with Entra ID sign-in.
    fn azure(&self) -> Result<AzureSettings, ConfigError> {
        Ok(AzureSettings {
            credential: self.credential()?,
            http_timeout: AZURE_HTTP_TIMEOUT,
        })
    }

    /// `AZURE_CREDENTIAL`: `managed-identity`, `developer-tools`, or unset: the managed identity
    /// where Azure announces one (`IDENTITY_ENDPOINT`, set by Container Apps and App Service),
    /// else the developer's sign-in. `AZURE_MANAGED_IDENTITY_CLIENT_ID` picks a user-assigned
    /// identity.
    fn credential(&self) -> Result<CredentialKind, ConfigError> {
        const NAME: &str = "AZURE_CREDENTIAL";
        const CLIENT_ID: &str = "AZURE_MANAGED_IDENTITY_CLIENT_ID";
        let client_id = self.optional_guid(CLIENT_ID)?;
        let choice = self.get(NAME);
        let managed = match choice.as_deref() {
            Some("managed-identity") => true,
            Some("developer-tools") => false,
            None => self.get("IDENTITY_ENDPOINT").is_some(),
            Some(other) => {
                return Err(invalid(
                    NAME,
                    other,
                    "expected managed-identity or developer-tools",
                ));
            }
        };
        match (managed, client_id) {
            (true, client_id) => Ok(CredentialKind::ManagedIdentity { client_id }),
            (false, None) => Ok(CredentialKind::DeveloperTools),
            (false, Some(id)) => Err(invalid(
                CLIENT_ID,
                &id,
                if choice.is_some() {
                    "only used with AZURE_CREDENTIAL=managed-identity"
                } else {
                    "only used with a managed identity: no IDENTITY_ENDPOINT here, so set AZURE_CREDENTIAL=managed-identity (e.g. on a VM)"
                },
            )),
        }
    }

    fn number(
        &self,
        name: &'static str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<u64, ConfigError> {
        let Some(value) = self.get(name) else {
            return Ok(default);
        };
        value
            .parse()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                invalid(
                    name,
                    &value,
                    format!(
                        "expected a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            })
    }

    fn seconds(
        &self,
        name: &'static str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Duration, ConfigError> {
        self.number(name, default, range).map(Duration::from_secs)
    }

    /// `AZURE_AUTHORITY_HOST`: scheme and host (and port) only; https unless loopback.
    fn authority_host(&self) -> Result<Url, ConfigError> {
        const NAME: &str = "AZURE_AUTHORITY_HOST";
        let value = self
            .get(NAME)
            .unwrap_or_else(|| "https://login.microsoftonline.com".into());
        let url = Url::parse(&value).map_err(|e| invalid(NAME, &value, e.to_string()))?;
        if !is_secure_endpoint(&url) {
            return Err(invalid(
                NAME,
                &value,
                "must be https (http only for a loopback address)",
            ));
        }
        if url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
        {
            return Err(invalid(
                NAME,
                &value,
                "expected only a scheme and host, like https://login.microsoftonline.com",
            ));
        }
        Ok(url)
    }

    /// The task store:
    /// - `DATABASE_URL`: `sqlite://PATH` (default `sqlite://data/tasks.db`), `postgres://…` or
    ///   `memory:` (tests only);
    /// - `DATABASE_AUTH`: `password` (default) or `entra` (PostgreSQL with an access token of the
    ///   app's Azure identity as the password, chosen as for Key Vault: see [`Vars::credential`]);
    /// - `DATABASE_MAX_CONNECTIONS` (default 5), `DATABASE_TIMEOUT_SECS` (default 5): pool size,
    ///   and the longest wait for a connection, a lock or a statement;
    /// - `TASKS_MAX` (default 10,000): most tasks kept, so one list stays a bounded answer.
    fn store(&self) -> Result<StoreSettings, ConfigError> {
        let auth = match self.get("DATABASE_AUTH").as_deref() {
            None | Some("password") => PgAuth::Password,
            Some("entra") => PgAuth::Entra {
                azure: self.azure()?,
            },
            Some(other) => {
                return Err(invalid(
                    "DATABASE_AUTH",
                    other,
                    "expected password or entra",
                ));
            }
        };
        let url = self
            .get("DATABASE_URL")
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let database = Database::parse(&url, auth)
            // The echo stops before any password: only the scheme and what follows the '@'.
            .map_err(|reason| invalid("DATABASE_URL", &redact_password(&url), reason))?;
        let max_connections = self.number("DATABASE_MAX_CONNECTIONS", 5, 1..=100)?;
        Ok(StoreSettings {
            database,
            max_tasks: self.number("TASKS_MAX", 10_000, 1..=10_000_000)?,
            max_connections: u32::try_from(max_connections).unwrap_or(u32::MAX),
            timeout: self.seconds("DATABASE_TIMEOUT_SECS", 5, 1..=60)?,
        })
    }

    fn log_filter(&self) -> Result<String, ConfigError> {
        let filter = self.get("RUST_LOG").unwrap_or_else(|| "info".into());
        EnvFilter::try_new(&filter).map_err(|e| {
            invalid(
                "RUST_LOG",
                &filter,
                format!(
                    "{e}; expected a level (info, debug...) or directives like warn,backend=debug"
                ),
            )
        })?;
        Ok(filter)
    }

    /// `ALLOWED_ORIGINS`: comma-separated origins (`scheme://host[:port]`), default Trunk's dev
    /// server. `*` is refused: any site could then call the API with its users' tokens.
    fn origins(&self) -> Result<Vec<HeaderValue>, ConfigError> {
        const NAME: &str = "ALLOWED_ORIGINS";
        let value = self
            .get(NAME)
            .unwrap_or_else(|| "http://localhost:8080".into());
        value
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                if origin == "*" {
                    return Err(invalid(NAME, origin, "`*` would let any site call the API with its users' tokens: list the exact origins, like https://app.example.com"));
                }
                let url = Url::parse(origin).map_err(|e| invalid(NAME, origin, e.to_string()))?;
                let is_origin = matches!(url.scheme(), "http" | "https")
                    && url.path() == "/"
                    && !origin.ends_with('/')
                    && url.query().is_none()
                    && url.username().is_empty();
                if !is_origin {
                    return Err(invalid(NAME, origin, "expected origins like https://app.example.com (no path, no trailing slash)"));
                }
                HeaderValue::from_str(origin).map_err(|e| invalid(NAME, origin, e.to_string()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(ids.tenant_id, TENANT.to_ascii_lowercase());
        assert_eq!(
            config.auth.authority_host.as_str(),
            "https://login.microsoftonline.com/"
        );
        assert_eq!(config.listen, "0.0.0.0:8000".parse().expect("addr"));
        assert_eq!(
            config.allowed_origins,
            [HeaderValue::from_static("http://localhost:8080")]
        );
        assert_eq!(config.auth.clock_skew, Duration::from_secs(60));
        assert_eq!(
            config.auth.key_refresh_interval,
            Duration::from_secs(43_200)
        );
        assert_eq!(config.auth.unknown_kid_cooldown, Duration::from_secs(300));
        assert_eq!(config.log_format, LogFormat::Text);
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
        assert_eq!(parse(&[]).expect("default").log_filter, "info");
        let filter = "warn,backend=debug";
        assert_eq!(
            parse(&[("RUST_LOG", filter)]).expect("valid").log_filter,
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
        assert_eq!(config.allowed_origins.len(), 2);
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
        assert_eq!(settings.ignored_env, ENV_ID_VARIABLES);
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
