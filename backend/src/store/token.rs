//! Passwords for PostgreSQL that are Entra ID access tokens (`DATABASE_AUTH=entra`).
//!
//! Azure Database for PostgreSQL accepts an access token for
//! `https://ossrdbms-aad.database.windows.net` as the password of the role named after the
//! identity. The store depends only on [`DbTokenSource`], so tests can hand it passwords of a
//! local PostgreSQL; production wraps the app's Azure credential (`crate::azure::credential`).
//!
//! The pool's connect options hold the current token; a background task fetches the next one
//! before the current one expires and swaps the options of the live pool
//! (`Pool::set_connect_options`), so every new connection signs in with a valid token.
//! Connections already open stay signed in: PostgreSQL checks the password only at sign-in.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    time::{Duration, SystemTime},
};

use azure_core::credentials::TokenCredential;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgPool, postgres::PgConnectOptions};
use tokio::task::JoinHandle;

/// The scope of Azure Database for PostgreSQL (and MySQL) access tokens.
pub const OSSRDBMS_SCOPE: &str = "https://ossrdbms-aad.database.windows.net/.default";

/// A password that expires.
#[derive(Debug, Clone)]
pub struct DbToken {
    pub secret: SecretString,
    pub expires_at: SystemTime,
}

impl DbToken {
    pub fn new(secret: impl Into<String>, expires_at: SystemTime) -> Self {
        Self {
            secret: SecretString::from(secret.into()),
            expires_at,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot get a database access token: {0}")]
pub struct TokenError(pub String);

pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<DbToken, TokenError>> + Send + 'a>>;

/// Where the PostgreSQL store gets its passwords when they are tokens.
pub trait DbTokenSource: Send + Sync + fmt::Debug {
    /// A token valid now; called before the current one expires.
    fn token(&self) -> TokenFuture<'_>;
}

/// Tokens of an Azure credential for [`OSSRDBMS_SCOPE`].
#[derive(Debug)]
pub struct EntraTokenSource {
    credential: Arc<dyn TokenCredential>,
}

impl EntraTokenSource {
    pub fn new(credential: Arc<dyn TokenCredential>) -> Self {
        Self { credential }
    }
}

impl DbTokenSource for EntraTokenSource {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let token = self
                .credential
                .get_token(&[OSSRDBMS_SCOPE], None)
                .await
                .map_err(|e| TokenError(e.to_string()))?;
            Ok(DbToken::new(
                token.token.secret(),
                SystemTime::from(token.expires_on),
            ))
        })
    }
}

/// Longest wait for one token from the identity endpoint.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);
/// A token is replaced when this much of its life is left. azure_identity's cache hands out a new
/// token only when the cached one has less than 5 minutes left, so asking earlier would return
/// the same token again.
const REFRESH_MARGIN: Duration = Duration::from_secs(4 * 60);
/// Retries of a failed refresh back off up to this.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

pub(super) async fn fetch(tokens: &dyn DbTokenSource) -> Result<DbToken, TokenError> {
    match tokio::time::timeout(TOKEN_TIMEOUT, tokens.token()).await {
        Ok(result) => result,
        Err(_) => Err(TokenError(format!(
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

/// Replaces the password of `pool`'s new connections with a fresh token before the current one
/// expires (at `expires_at`), until the task is aborted.
pub(super) fn spawn_refresher(
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
                        pool.set_connect_options(
                            base.clone().password(token.secret.expose_secret()),
                        );
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
    fn debug_hides_the_secret() {
        let token = DbToken::new("hunter2", SystemTime::UNIX_EPOCH);
        let shown = format!("{token:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("expires_at"),
            "{shown}"
        );
        assert_eq!(token.secret.expose_secret(), "hunter2");
    }

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
