//! The PostgreSQL store, with a password or with Entra ID access tokens as passwords.
//!
//! With tokens, the pool's connect options hold the current token; a background task fetches
//! the next one before the current one expires and swaps the options of the live pool
//! (`Pool::set_connect_options`), so every new connection signs in with a valid token.
//! Connections already open stay signed in: PostgreSQL checks the password only at sign-in.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::task::JoinHandle;

use crate::azure;

use super::{
    OpenError, PgAuth, PgTarget, StoreSettings, migrations,
    sql::{Pool, SqlStore},
    token::{DbToken, DbTokenSource, EntraTokenSource},
};

/// Longest wait for one token from the identity endpoint.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);
/// A token is replaced when this much of its life is left. azure_identity's cache hands out a new
/// token only when the cached one has less than 5 minutes left, so asking earlier would return
/// the same token again.
const REFRESH_MARGIN: Duration = Duration::from_secs(4 * 60);
/// Retries of a failed refresh back off up to this.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

pub(super) async fn open(
    target: &PgTarget,
    settings: &StoreSettings,
) -> Result<SqlStore, OpenError> {
    match &target.auth {
        PgAuth::Password => {
            let pool = pool_options(settings)
                .connect_with(connect_options(target, settings))
                .await
                .map_err(|e| cannot_connect(target, e))?;
            migrate(
                SqlStore::new(Pool::Postgres(pool), settings.max_tasks, None),
                target,
            )
            .await
        }
        PgAuth::Entra { azure } => {
            let identity = |e: &dyn std::fmt::Display| {
                OpenError(format!(
                    "cannot set up the Azure identity ({}): {e}",
                    azure.credential
                ))
            };
            let options = azure::client_options(azure).map_err(|e| identity(&e))?;
            let credential = azure::credential(azure, &options).map_err(|e| identity(&e))?;
            let tokens = Arc::new(EntraTokenSource::new(credential));
            open_with_tokens(target, settings, tokens).await
        }
    }
}

/// Opens the store signing in with passwords from `tokens`, refreshed before they expire.
pub(super) async fn open_with_tokens(
    target: &PgTarget,
    settings: &StoreSettings,
    tokens: Arc<dyn DbTokenSource>,
) -> Result<SqlStore, OpenError> {
    let first = fetch(tokens.as_ref())
        .await
        .map_err(|e| OpenError(format!("{} ({})", e, describe(target))))?;
    let base = connect_options(target, settings);
    let pool = pool_options(settings)
        .connect_with(base.clone().password(first.secret()))
        .await
        .map_err(|e| cannot_connect(target, e))?;
    let refresher = spawn_refresher(pool.clone(), base, tokens, first.expires_at);
    migrate(
        SqlStore::new(Pool::Postgres(pool), settings.max_tasks, Some(refresher)),
        target,
    )
    .await
}

fn pool_options(settings: &StoreSettings) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.timeout)
}

/// The URL's options, plus server-side bounds: no statement (and no transaction left idle) may
/// hold a connection longer than the store's timeout.
fn connect_options(target: &PgTarget, settings: &StoreSettings) -> PgConnectOptions {
    let millis = settings.timeout.as_millis().to_string();
    let mut options = target.options.clone().options([
        ("statement_timeout", millis.as_str()),
        ("idle_in_transaction_session_timeout", millis.as_str()),
    ]);
    if options.get_application_name().is_none() {
        options = options.application_name("tasks-api");
    }
    options
}

async fn migrate(store: SqlStore, target: &PgTarget) -> Result<SqlStore, OpenError> {
    // sqlx holds a PostgreSQL advisory lock while it migrates, so replicas starting together
    // take turns; the later ones find the migrations applied.
    store
        .migrate(&migrations::postgres())
        .await
        .map_err(|e| OpenError(format!("cannot migrate {}: {e}", describe(target))))?;
    Ok(store)
}

fn describe(target: &PgTarget) -> String {
    let options = &target.options;
    format!(
        "PostgreSQL {}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    )
}

fn cannot_connect(target: &PgTarget, error: sqlx::Error) -> OpenError {
    OpenError(format!("cannot connect to {}: {error}", describe(target)))
}

async fn fetch(tokens: &dyn DbTokenSource) -> Result<DbToken, super::token::TokenError> {
    match tokio::time::timeout(TOKEN_TIMEOUT, tokens.token()).await {
        Ok(result) => result,
        Err(_) => Err(super::token::TokenError(format!(
            "no answer within {} s",
            TOKEN_TIMEOUT.as_secs()
        ))),
    }
}

/// How long to wait before replacing a token that expires at `expires_at`: until
/// [`REFRESH_MARGIN`] is left, or half of what is left for tokens shorter than twice that.
fn refresh_delay(expires_at: SystemTime, now: SystemTime) -> Duration {
    let left = expires_at.duration_since(now).unwrap_or_default();
    left - (left / 2).min(REFRESH_MARGIN)
}

fn spawn_refresher(
    pool: PgPool,
    base: PgConnectOptions,
    tokens: Arc<dyn DbTokenSource>,
    mut expires_at: SystemTime,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(refresh_delay(expires_at, SystemTime::now())).await;
            let mut retry = Duration::from_secs(1);
            loop {
                match fetch(tokens.as_ref()).await {
                    Ok(token) if token.expires_at > expires_at => {
                        pool.set_connect_options(base.clone().password(token.secret()));
                        expires_at = token.expires_at;
                        let valid_for = expires_at
                            .duration_since(SystemTime::now())
                            .unwrap_or_default();
                        tracing::info!(
                            valid_for_secs = valid_for.as_secs(),
                            "database access token refreshed"
                        );
                        break;
                    }
                    Ok(_) => tracing::warn!(
                        "the token source returned no newer database access token; retrying"
                    ),
                    Err(error) => {
                        let expired = SystemTime::now() >= expires_at;
                        if expired {
                            tracing::error!(%error, "database access token expired and cannot be refreshed: new connections will fail");
                        } else {
                            tracing::warn!(%error, "cannot refresh the database access token yet; new connections use the current one");
                        }
                    }
                }
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(MAX_RETRY_DELAY);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_tokens_are_replaced_with_the_margin_left_short_ones_at_half_life() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hours = |h: u64| Duration::from_secs(h * 3600);
        assert_eq!(
            refresh_delay(now + hours(24), now),
            hours(24) - REFRESH_MARGIN
        );
        assert_eq!(
            refresh_delay(now + Duration::from_secs(4), now),
            Duration::from_secs(2)
        );
        assert_eq!(
            refresh_delay(now - hours(1), now),
            Duration::ZERO,
            "expired"
        );
    }
}
