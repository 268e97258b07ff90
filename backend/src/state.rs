//! [`AppState`]: what every handler can reach, and its production wiring.

use std::{sync::Arc, time::Duration};

use crate::{
    auth::{Authenticator, TokenVerifier},
    config::{Config, IdsSource},
    cors::CorsSettings,
    store::{self, OpenError, TaskStore},
};

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub auth: Arc<Authenticator>,
    pub store: Arc<dyn TaskStore>,
    pub web: Arc<WebSettings>,
}

/// HTTP behaviour that is configuration, not code: the layers `app` builds read it.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub cors: CorsSettings,
    pub request_timeout: Duration,
}

/// Why the API could not start after its configuration was read.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot build the HTTP client for signing keys: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Store(#[from] OpenError),
}

impl AppState {
    /// The production wiring: a verifier for the configured tenant (keys loading in the
    /// background) and the task store `DATABASE_URL` names, opened and migrated before this
    /// returns. Needs a Tokio runtime. In Key Vault mode no verifier yet: `key_vault::run`
    /// installs one once the ids are read (until then `/ready` is 503 and tokens get 503).
    pub async fn from_config(config: &Config) -> Result<Self, StartError> {
        let store = store::open(&config.store).await?;
        let verifier = match &config.ids {
            IdsSource::Environment(ids) => {
                Some(TokenVerifier::start(ids.clone(), config.auth.clone())?)
            }
            IdsSource::KeyVault(_) => None,
        };
        Ok(Self {
            auth: Arc::new(Authenticator::new(verifier)),
            store,
            web: Arc::new(WebSettings {
                cors: config.cors.clone(),
                request_timeout: config.server.request_timeout,
            }),
        })
    }
}
