//! What every handler shares: the configuration, the derived URLs, the keys, the clock and the
//! bounded stores of short-lived protocol state.

use std::{ops::Deref, sync::Arc};

use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
};
use uuid::Uuid;

use crate::{
    clock::Clock,
    error::Error,
    grants::{CodeGrant, RefreshGrant, Session},
    keys::KeyRing,
    request::AuthorizationRequest,
    settings::{Settings, Urls},
    store::BoundedStore,
};

/// Codes live one minute, as Entra's (a few minutes at most) do: long enough for a redirect and
/// a fetch, short enough that a leaked code is worthless soon.
pub(crate) const CODE_LIFETIME_SECS: u64 = 60;
/// A person gets ten minutes to pick a user on the sign-in page.
pub(crate) const SIGN_IN_LIFETIME_SECS: u64 = 600;
/// How long the browser session (what makes `prompt=none` work) lasts.
pub(crate) const SESSION_LIFETIME_SECS: u64 = 8 * 3600;
/// ID tokens live an hour, as Entra's do, whatever the access token lifetime.
pub(crate) const ID_TOKEN_LIFETIME_SECS: u64 = 3600;

const MAX_PENDING_SIGN_INS: usize = 1_000;
const MAX_CODES: usize = 1_000;
const MAX_REFRESH_TOKENS: usize = 10_000;
const MAX_SESSIONS: usize = 1_000;

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    pub(crate) urls: Urls,
    pub(crate) keys: KeyRing,
    pub(crate) clock: Clock,
    pub(crate) sign_ins: BoundedStore<AuthorizationRequest>,
    pub(crate) codes: BoundedStore<CodeGrant>,
    /// Codes already exchanged, kept until they would have expired, so a second redemption is
    /// told apart from a made-up code (Entra answers the two differently).
    pub(crate) redeemed_codes: BoundedStore<()>,
    pub(crate) refresh_tokens: BoundedStore<RefreshGrant>,
    /// Session cookie → the session.
    pub(crate) sessions: BoundedStore<Session>,
}

/// The handlers' state: cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl AppState {
    pub(crate) fn new(settings: Settings, urls: Urls, keys: KeyRing, clock: Clock) -> Self {
        AppState(Arc::new(Shared {
            settings,
            urls,
            keys,
            clock,
            sign_ins: BoundedStore::new(MAX_PENDING_SIGN_INS),
            codes: BoundedStore::new(MAX_CODES),
            redeemed_codes: BoundedStore::new(MAX_CODES),
            refresh_tokens: BoundedStore::new(MAX_REFRESH_TOKENS),
            sessions: BoundedStore::new(MAX_SESSIONS),
        }))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Proof that the request's `{tenant}` path segment is this provider's tenant: every route takes
/// it first, so a wrong authority fails with Entra's "tenant not found" before anything else.
#[derive(Debug)]
pub(crate) struct KnownTenant;

impl FromRequestParts<AppState> for KnownTenant {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let Path(tenant) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::TenantNotFound(String::new()))?;
        if tenant.parse::<Uuid>().ok() == Some(state.settings.tenant_id) {
            Ok(KnownTenant)
        } else {
            Err(Error::TenantNotFound(tenant.chars().take(64).collect()))
        }
    }
}
