//! Passwords for PostgreSQL that are Entra ID access tokens (`DATABASE_AUTH=entra`).
//!
//! Azure Database for PostgreSQL accepts an access token for
//! `https://ossrdbms-aad.database.windows.net` as the password of the role named after the
//! identity. The store depends only on [`DbTokenSource`], so tests can hand it passwords of a
//! local PostgreSQL; production wraps the app's Azure credential (`crate::azure::credential`).

use std::{fmt, future::Future, pin::Pin, sync::Arc, time::SystemTime};

use azure_core::credentials::TokenCredential;

/// The scope of Azure Database for PostgreSQL (and MySQL) access tokens.
pub const OSSRDBMS_SCOPE: &str = "https://ossrdbms-aad.database.windows.net/.default";

/// A password that expires. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct DbToken {
    secret: String,
    pub expires_at: SystemTime,
}

impl DbToken {
    pub fn new(secret: impl Into<String>, expires_at: SystemTime) -> Self {
        Self {
            secret: secret.into(),
            expires_at,
        }
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for DbToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbToken")
            .field("secret", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let token = DbToken::new("hunter2", SystemTime::UNIX_EPOCH);
        assert!(!format!("{token:?}").contains("hunter2"));
        assert_eq!(token.secret(), "hunter2");
    }
}
