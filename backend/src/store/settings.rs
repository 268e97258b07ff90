//! Which store to open and how, parsed once at start-up from `DATABASE_URL` and friends, with the
//! rules about what a URL may say.

use std::{fmt, path::PathBuf, str::FromStr, time::Duration};

use reqwest::Url;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use shared::is_loopback_host;

use crate::{
    azure::AzureSettings,
    validate::redact_password,
    vars::{ConfigError, Vars, invalid},
};

/// `DATABASE_URL` when unset: an SQLite file in `data/` under the working directory (the image
/// sets `DATABASE_URL=sqlite:///data/tasks.db`, a folder its user owns).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tasks.db";

/// Everything the store needs, from configuration.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub database: Database,
    /// Most tasks the store holds (all users together); creating more answers 507.
    pub max_tasks: u64,
    /// Connections in the pool, at most.
    pub max_connections: u32,
    /// Longest wait for a connection, a lock (SQLite `busy_timeout`) or a statement (PostgreSQL
    /// `statement_timeout`): past it the request fails with 503 instead of hanging.
    pub timeout: Duration,
    /// How the writer groups concurrent writes into one transaction (see `store::batch`).
    pub batch: BatchLimits,
}

/// Bounds of one group commit: the writer takes the writes that are waiting, up to `max`, and
/// waits at most `wait` after the first for more to arrive (it stops waiting once it has as many
/// as it wants: see `store::pacing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Writes in one transaction, at most (`DATABASE_BATCH_MAX`).
    pub max: usize,
    /// Longest wait for more writes once one is waiting (`DATABASE_BATCH_WAIT_MICROS`); zero
    /// takes only what is already queued.
    pub wait: Duration,
}

impl BatchLimits {
    pub const DEFAULT_MAX: usize = 256;
    pub const DEFAULT_WAIT: Duration = Duration::from_millis(1);
}

impl Default for BatchLimits {
    fn default() -> Self {
        Self {
            max: Self::DEFAULT_MAX,
            wait: Self::DEFAULT_WAIT,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Database {
    /// `memory:`: tasks in this process only, lost on restart. For tests.
    Memory,
    /// `sqlite://PATH`: a file on this machine, created (with its folder) on first start.
    Sqlite { path: PathBuf },
    /// `postgres://…`: a server, with a password or an Entra ID token.
    Postgres(Box<PgTarget>),
}

/// A PostgreSQL server to connect to. Its `Debug` names the server and leaves the password out:
/// sqlx's own `Debug` of the options prints the password (from the URL or `PGPASSWORD`), and its
/// options cannot sit in a `secrecy::SecretBox`, which needs a type it can zero.
#[derive(Clone)]
pub struct PgTarget {
    pub options: PgConnectOptions,
    pub auth: PgAuth,
}

impl fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTarget")
            .field("host", &self.options.get_host())
            .field("port", &self.options.get_port())
            .field("database", &self.options.get_database())
            .field("user", &self.options.get_username())
            .field("ssl_mode", &self.options.get_ssl_mode())
            .field("auth", &self.auth)
            .finish()
    }
}

/// `DATABASE_AUTH`: how the API proves who it is to PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgAuth {
    /// `password` (default): the password in the URL (or `PGPASSWORD`, `~/.pgpass`), or none.
    Password,
    /// `entra`: an Entra ID access token of the app's Azure identity (the managed identity in
    /// Azure), refreshed before it expires.
    Entra { azure: AzureSettings },
}

impl StoreSettings {
    /// The task store:
    /// - `DATABASE_URL`: `sqlite://PATH` (default `sqlite://data/tasks.db`), `postgres://…` or
    ///   `memory:` (tests only);
    /// - `DATABASE_AUTH`: `password` (default) or `entra` (PostgreSQL with an access token of the
    ///   app's Azure identity as the password, chosen as for Key Vault: see `crate::azure`);
    /// - `DATABASE_MAX_CONNECTIONS` (default 5), `DATABASE_TIMEOUT_SECS` (default 5): pool size,
    ///   and the longest wait for a connection, a lock or a statement;
    /// - `TASKS_MAX` (default 10,000): most tasks kept, so one list stays a bounded answer;
    /// - `DATABASE_BATCH_MAX` (default 256), `DATABASE_BATCH_WAIT_MICROS` (default 1000): the
    ///   group commit's bounds, writes per transaction and the wait for more.
    pub fn from_vars(vars: &Vars<'_>) -> Result<Self, ConfigError> {
        let auth = match vars.choice("DATABASE_AUTH", &["password", "entra"])? {
            Some("entra") => PgAuth::Entra {
                azure: AzureSettings::from_vars(vars)?,
            },
            _ => PgAuth::Password,
        };
        let url = vars
            .get("DATABASE_URL")
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let database = Database::parse(&url, auth)
            // The echo stops before any password: only the scheme and what follows the '@'.
            .map_err(|reason| invalid("DATABASE_URL", &redact_password(&url), reason))?;
        let max_connections = vars.number("DATABASE_MAX_CONNECTIONS", 5, 1..=100)?;
        Ok(StoreSettings {
            database,
            max_tasks: vars.number("TASKS_MAX", 10_000, 1..=10_000_000)?,
            max_connections: u32::try_from(max_connections).unwrap_or(u32::MAX),
            timeout: vars.seconds("DATABASE_TIMEOUT_SECS", 5, 1..=60)?,
            batch: BatchLimits::from_vars(vars)?,
        })
    }
}

impl BatchLimits {
    fn from_vars(vars: &Vars<'_>) -> Result<Self, ConfigError> {
        let max = vars.number("DATABASE_BATCH_MAX", Self::DEFAULT_MAX as u64, 1..=10_000)?;
        let wait = vars.number(
            "DATABASE_BATCH_WAIT_MICROS",
            Self::DEFAULT_WAIT.as_micros() as u64,
            0..=1_000_000,
        )?;
        Ok(Self {
            max: usize::try_from(max).unwrap_or(usize::MAX),
            wait: Duration::from_micros(wait),
        })
    }
}

/// URL parameters accepted for PostgreSQL; anything else is refused rather than ignored.
const PG_PARAMETERS: [&str; 3] = ["sslmode", "sslrootcert", "application_name"];

impl Database {
    /// Parses `DATABASE_URL` for the authentication `auth`. The error is the reason, for a
    /// message that names the variable.
    pub fn parse(url: &str, auth: PgAuth) -> Result<Self, String> {
        let is_postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
        if !is_postgres && auth != PgAuth::Password {
            return Err("DATABASE_AUTH=entra needs a postgres:// URL".into());
        }
        if url == "memory:" {
            Ok(Database::Memory)
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            sqlite_path(path).map(|path| Database::Sqlite { path })
        } else if is_postgres {
            postgres_target(url, auth).map(|target| Database::Postgres(Box::new(target)))
        } else {
            Err("expected sqlite://PATH, postgres://USER@HOST:PORT/DATABASE or memory:".into())
        }
    }
}

fn sqlite_path(path: &str) -> Result<PathBuf, String> {
    if path.contains('?') {
        return Err("SQLite URLs take no parameters: the API sets WAL, its syncs, a busy timeout and foreign keys itself".into());
    }
    if path.is_empty() || path.contains(":memory:") {
        return Err("expected a file path, e.g. sqlite://data/tasks.db (use memory: for an in-memory store in tests)".into());
    }
    Ok(PathBuf::from(path))
}

fn postgres_target(text: &str, auth: PgAuth) -> Result<PgTarget, String> {
    let url = Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or("the URL names no host")?;
    if url.path().trim_start_matches('/').is_empty() {
        return Err("the URL names no database, e.g. postgres://USER@HOST:5432/tasks".into());
    }
    for (key, _) in url.query_pairs() {
        if !PG_PARAMETERS.contains(&key.as_ref()) {
            return Err(format!(
                "unsupported parameter {key:?} (accepted: {})",
                PG_PARAMETERS.join(", ")
            ));
        }
    }
    if let PgAuth::Entra { .. } = auth {
        if url.password().is_some() {
            return Err("DATABASE_AUTH=entra uses an access token as the password: remove the password from the URL".into());
        }
        if url.username().is_empty() {
            return Err("DATABASE_AUTH=entra needs the database role of the managed identity as the user, e.g. postgres://my-api-app@…".into());
        }
    }
    let loopback = is_loopback_host(host);
    let mut options = PgConnectOptions::from_str(text).map_err(|e| e.to_string())?;
    let explicit_ssl = url.query_pairs().any(|(key, _)| key == "sslmode");
    if !loopback {
        if !explicit_ssl {
            options = options.ssl_mode(PgSslMode::VerifyFull);
        } else if !matches!(options.get_ssl_mode(), PgSslMode::VerifyFull) {
            return Err("a server that is not on this machine needs sslmode=verify-full (the default): weaker modes do not check whose certificate it is, so a password or token could be sent to an impostor".into());
        }
    }
    Ok(PgTarget { options, auth })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::CredentialKind;

    fn entra() -> PgAuth {
        PgAuth::Entra {
            azure: AzureSettings {
                credential: CredentialKind::DeveloperTools,
                http_timeout: Duration::from_secs(10),
            },
        }
    }

    fn pg(url: &str, auth: PgAuth) -> PgTarget {
        match Database::parse(url, auth) {
            Ok(Database::Postgres(target)) => *target,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn sqlite_paths() {
        for (url, path) in [
            ("sqlite://data/tasks.db", "data/tasks.db"),
            ("sqlite:///var/lib/tasks.db", "/var/lib/tasks.db"),
            ("sqlite:tasks.db", "tasks.db"),
        ] {
            match Database::parse(url, PgAuth::Password) {
                Ok(Database::Sqlite { path: parsed }) => assert_eq!(parsed, PathBuf::from(path)),
                other => panic!("{url}: {other:?}"),
            }
        }
        for bad in ["sqlite://", "sqlite::memory:", "sqlite://a.db?mode=ro"] {
            assert!(Database::parse(bad, PgAuth::Password).is_err(), "{bad}");
        }
    }

    #[test]
    fn memory_and_unknown_schemes() {
        assert!(matches!(
            Database::parse("memory:", PgAuth::Password),
            Ok(Database::Memory)
        ));
        for bad in ["mysql://h/db", "tasks.db", "", "memory"] {
            let error = Database::parse(bad, PgAuth::Password).expect_err(bad);
            assert!(error.starts_with("expected sqlite://"), "{bad}: {error}");
        }
        let error = Database::parse("sqlite://t.db", entra()).expect_err("entra");
        assert!(error.contains("postgres://"), "{error}");
    }

    #[test]
    fn remote_postgres_must_verify_the_server_certificate() {
        let azure = "postgres://api@srv.postgres.database.azure.com:5432/tasks";
        let target = pg(azure, entra());
        assert!(matches!(
            target.options.get_ssl_mode(),
            PgSslMode::VerifyFull
        ));
        assert_eq!(target.options.get_username(), "api");
        assert_eq!(target.options.get_database(), Some("tasks"));
        for weak in ["require", "verify-ca", "prefer", "disable"] {
            let error =
                Database::parse(&format!("{azure}?sslmode={weak}"), entra()).expect_err(weak);
            assert!(error.contains("verify-full"), "{weak}: {error}");
        }
        pg(&format!("{azure}?sslmode=verify-full"), entra());
        // A server on this machine may be reached without TLS (tests, a local PostgreSQL).
        let local = pg(
            "postgres://u:p@127.0.0.1:5433/t?sslmode=disable",
            PgAuth::Password,
        );
        assert!(matches!(local.options.get_ssl_mode(), PgSslMode::Disable));
        pg("postgresql://u@localhost/t", PgAuth::Password);
        pg("postgres://u@[::1]:5432/t", entra());
    }

    #[test]
    fn entra_urls_name_a_user_and_no_password() {
        let with_password = "postgres://api:secret@127.0.0.1/tasks";
        assert!(
            Database::parse(with_password, entra())
                .expect_err("password")
                .contains("remove the password")
        );
        assert!(
            Database::parse("postgres://127.0.0.1/tasks", entra())
                .expect_err("user")
                .contains("role of the managed identity")
        );
    }

    #[test]
    fn postgres_urls_are_complete_and_without_unknown_parameters() {
        for (bad, reason) in [
            ("postgres://u@h.example", "no database"),
            ("postgres:///tasks", "no host"),
            (
                "postgres://u@127.0.0.1/t?sslmod=require",
                "unsupported parameter",
            ),
            (
                "postgres://u@127.0.0.1/t?options=-c%20x%3D1",
                "unsupported parameter",
            ),
        ] {
            let error = Database::parse(bad, PgAuth::Password).expect_err(bad);
            assert!(error.contains(reason), "{bad}: {error}");
        }
    }

    #[test]
    fn debug_leaves_the_password_out() {
        let target = pg("postgres://u:hunter2@127.0.0.1/t", PgAuth::Password);
        let text = format!("{target:?}");
        assert!(
            !text.contains("hunter2") && text.contains("127.0.0.1"),
            "{text}"
        );
    }
}
