//! DEV-ONLY hooks with no Entra counterpart, for tests of the programs that trust this provider.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, header},
    routing::post,
};
use serde::Serialize;

use crate::{
    error::Error,
    keys::KeyRing,
    state::{AppState, KnownTenant},
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/{tenant}/dev/rotate-signing-key", post(rotate_signing_key))
}

#[derive(Debug, Serialize)]
struct Rotated {
    /// The key that signs from now on.
    kid: String,
    /// Every published key id, newest first (the previous keys stay for a while).
    published: Vec<String>,
}

/// `POST /{tenant}/dev/rotate-signing-key`: sign with a new key from now on, as Entra does when it
/// rolls its keys, so an API's handling of an unknown `kid` can be tested end to end. Refused to
/// pages of other sites: tests and scripts send no `Origin`, browsers always do.
async fn rotate_signing_key(
    _: KnownTenant,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Rotated>, Error> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes());
        if !state.settings.is_spa_origin(&origin) {
            return Err(Error::DevHookFromOtherSite(
                origin.chars().take(256).collect(),
            ));
        }
    }
    let kid = rotate(state.clone()).await?;
    let published = state.keys.jwks().kids();
    tracing::info!(kid, "rotated the signing key (dev hook)");
    Ok(Json(Rotated { kid, published }))
}

/// Generates the new key off the async workers (RSA generation blocks for a while).
pub(crate) async fn rotate(state: AppState) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || KeyRing::rotate(&state.keys))
        .await
        .map_err(|err| {
            tracing::error!("key rotation task failed: {err}");
            Error::Signing
        })?
        .map_err(|err| {
            tracing::error!("key rotation failed: {err}");
            Error::Signing
        })
}
