//! The API's configuration, parsed once at start-up into [`Config`]. Every variable is read and
//! documented here; a bad value stops the process with one line naming the variable (exit code 2).
//!
//! Values come from the environment, then from `backend/.env` (or `.env` when started inside
//! `backend/`) for variables the environment does not set.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::Path,
    time::Duration,
};

use axum::http::HeaderValue;
use reqwest::Url;

use crate::{
    auth::AuthSettings,
    store::{DEFAULT_DATABASE_URL, Database, PgAuth, StoreSettings},
    telemetry::LogFormat,
};

/// Discovery and JWKS requests give up after this long (each).
const DISCOVERY_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest value echoed back in an error message.
const MAX_ECHO: usize = 80;

#[derive(Debug, Clone)]
pub struct Config {
    pub auth: AuthSettings,
    /// `BIND_ADDRESS` (default `0.0.0.0`) and `PORT` (default 8000).
    pub listen: SocketAddr,
    /// `ALLOWED_ORIGINS`: browser origins allowed to call the API (CORS).
    pub allowed_origins: Vec<HeaderValue>,
    /// `LOG_FORMAT`: `text` (default) or `json` (for log collectors, e.g. in containers).
    pub log_format: LogFormat,
    /// `REQUEST_TIMEOUT_SECS` (default 10): a request still running then is answered 408.
    pub request_timeout: Duration,
    /// `SHUTDOWN_TIMEOUT_SECS` (default 10): how long requests in flight may finish after
    /// SIGTERM/SIGINT before the process exits anyway.
    pub shutdown_timeout: Duration,
    /// `DATABASE_URL` and friends: where tasks are kept (see [`Vars::store`]).
    pub store: StoreSettings,
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
        "http" => is_loopback_host(url.host_str().unwrap_or_default()),
        _ => false,
    }
}

/// Whether a URL's host (`localhost`, `127.0.0.1`, `[::1]`, ...) is this machine.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
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
        let tenant_id = vars.guid(
            "AZURE_TENANT_ID",
            "the Directory (tenant) ID of your Entra tenant",
        )?;
        let client_id = vars.guid(
            "AZURE_API_CLIENT_ID",
            "the Application (client) ID of the API's app registration",
        )?;
        let auth = AuthSettings {
            tenant_id,
            client_id,
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
            auth,
            listen: SocketAddr::new(ip, port),
            allowed_origins: vars.origins()?,
            log_format: match vars.get("LOG_FORMAT").as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => return Err(invalid("LOG_FORMAT", other, "expected text or json")),
            },
            request_timeout: vars.seconds("REQUEST_TIMEOUT_SECS", 10, 1..=300)?,
            shutdown_timeout: vars.seconds("SHUTDOWN_TIMEOUT_SECS", 10, 1..=300)?,
            store: vars.store()?,
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
        let value = self.get(name).ok_or(ConfigError::Missing { name, hint })?;
        let groups: Vec<&str> = value.split('-').collect();
        let lengths_ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]);
        if !lengths_ok
            || !groups
                .iter()
                .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(invalid(
                name,
                &value,
                "expected a GUID like 00000000-0000-0000-0000-000000000000",
            ));
        }
        Ok(value.to_ascii_lowercase())
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
    /// - `DATABASE_AUTH`: `password` (default) or `entra` (PostgreSQL with the managed identity's
    ///   access token as the password; `AZURE_MANAGED_IDENTITY_CLIENT_ID` picks a user-assigned
    ///   identity);
    /// - `DATABASE_MAX_CONNECTIONS` (default 5), `DATABASE_TIMEOUT_SECS` (default 5): pool size,
    ///   and the longest wait for a connection, a lock or a statement;
    /// - `TASKS_MAX` (default 10,000): most tasks kept, so one list stays a bounded answer.
    fn store(&self) -> Result<StoreSettings, ConfigError> {
        let auth = match self.get("DATABASE_AUTH") {
            None => PgAuth::Password,
            Some(value) => value
                .parse()
                .map_err(|reason: String| invalid("DATABASE_AUTH", &value, reason))?,
        };
        let auth = match auth {
            PgAuth::Entra { .. } => PgAuth::Entra {
                client_id: self.optional_guid("AZURE_MANAGED_IDENTITY_CLIENT_ID")?,
            },
            PgAuth::Password => PgAuth::Password,
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

    /// An optional GUID, lowercased.
    fn optional_guid(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(_) => self.guid(name, "").map(Some),
        }
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
        assert_eq!(config.auth.tenant_id, TENANT.to_ascii_lowercase());
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
    fn entra_auth_takes_an_optional_user_assigned_client_id() {
        let url = (
            "DATABASE_URL",
            "postgres://api@srv.postgres.database.azure.com/tasks",
        );
        let entra = ("DATABASE_AUTH", "entra");
        let Database::Postgres(target) = parse(&[url, entra]).expect("valid").store.database else {
            panic!("postgres");
        };
        assert_eq!(target.auth, PgAuth::Entra { client_id: None });
        let client = ("AZURE_MANAGED_IDENTITY_CLIENT_ID", CLIENT);
        let Database::Postgres(target) =
            parse(&[url, entra, client]).expect("valid").store.database
        else {
            panic!("postgres");
        };
        assert_eq!(
            target.auth,
            PgAuth::Entra {
                client_id: Some(CLIENT.to_owned())
            }
        );
        let bad = ("AZURE_MANAGED_IDENTITY_CLIENT_ID", "my-identity");
        assert_eq!(
            invalid_name(parse(&[url, entra, bad])),
            "AZURE_MANAGED_IDENTITY_CLIENT_ID"
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
}
