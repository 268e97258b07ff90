//! The provider's configuration, fixed at start-up: the tenant, the API, the two registered
//! clients, and the addresses it publishes.

use url::Url;
use uuid::Uuid;

use crate::{
    config::{RedirectUri, TokenVersion},
    users::Users,
};

/// Entra's fixed lifetime for refresh tokens issued to single-page apps.
const SPA_REFRESH_TOKEN_LIFETIME_SECS: u64 = 24 * 3600;
/// Entra's default lifetime for the refresh tokens of other clients (90 days).
const PUBLIC_REFRESH_TOKEN_LIFETIME_SECS: u64 = 90 * 24 * 3600;

/// The provider's configuration, fixed at start-up.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) tenant_id: Uuid,
    pub(crate) api_client_id: Uuid,
    pub(crate) spa: Client,
    pub(crate) public: Client,
    pub(crate) access_token_version: TokenVersion,
    pub(crate) access_token_lifetime_secs: u64,
    pub(crate) users: Users,
}

/// How Entra treats a redirect URI's application: the platform it is registered under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientKind {
    /// "Single-page application": redeems codes cross-origin only (with an `Origin` header).
    Spa,
    /// "Mobile and desktop applications": a native app, which sends no `Origin`.
    Public,
}

/// A registered application that may sign users in: public (no secret), as both of this
/// provider's are.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) id: Uuid,
    pub(crate) kind: ClientKind,
    pub(crate) redirect_uris: Vec<RedirectUri>,
}

impl Client {
    /// The request's redirect URI, parsed, if it matches a registered one; the answer goes to it
    /// (with its own port, for a loopback one).
    pub(crate) fn registered_redirect(&self, requested: &str) -> Option<Url> {
        let requested = Url::parse(requested).ok()?;
        self.redirect_uris
            .iter()
            .any(|uri| uri.matches(&requested))
            .then_some(requested)
    }

    /// When a refresh token issued `now` expires, `previous` being the expiry of the one redeemed
    /// for it (none after a code). A public client's lives 90 days from its issue, so an app in use
    /// stays signed in; a SPA's keeps the expiry of its sign-in's first one, as at Entra ("additional
    /// refresh tokens acquired using the initial refresh token carry over that expiration time"):
    /// a SPA must sign in again, interactively or with `prompt=none`, every 24 hours.
    pub(crate) fn refresh_token_expiry(&self, now: u64, previous: Option<u64>) -> u64 {
        match (self.kind, previous) {
            (ClientKind::Spa, Some(previous)) => previous,
            (ClientKind::Spa, None) => now + SPA_REFRESH_TOKEN_LIFETIME_SECS,
            (ClientKind::Public, _) => now + PUBLIC_REFRESH_TOKEN_LIFETIME_SECS,
        }
    }
}

impl Settings {
    /// The registered client with this id (any case), if there is one.
    pub(crate) fn client(&self, id: &str) -> Option<&Client> {
        let id = id.parse::<Uuid>().ok()?;
        [&self.spa, &self.public]
            .into_iter()
            .find(|client| client.id == id)
    }

    /// Whether `origin` is the SPA's: the browser origin of one of its redirect URIs.
    pub(crate) fn is_spa_origin(&self, origin: &str) -> bool {
        self.spa
            .redirect_uris
            .iter()
            .any(|uri| uri.accepts_origin(origin))
    }

    /// A `post_logout_redirect_uri` registered for either client, parsed.
    pub(crate) fn registered_logout_redirect(&self, requested: &str) -> Option<Url> {
        self.spa
            .registered_redirect(requested)
            .or_else(|| self.public.registered_redirect(requested))
    }
}

/// The provider's addresses, as they appear in metadata and tokens.
#[derive(Debug)]
pub(crate) struct Urls {
    /// `http://127.0.0.1:{port}`, `https://…` with TLS, or the public URL.
    pub(crate) base: String,
    /// `{base}/{tenant}`
    pub(crate) authority: String,
    /// `{base}/{tenant}/`: the local counterpart of `https://sts.windows.net/{tenant}/`.
    pub(crate) v1_issuer: String,
    /// `{base}/{tenant}/v2.0`
    pub(crate) v2_issuer: String,
}

impl Urls {
    pub(crate) fn new(base: String, tenant: Uuid) -> Self {
        let authority = format!("{base}/{tenant}");
        Urls {
            v1_issuer: format!("{authority}/"),
            v2_issuer: format!("{authority}/v2.0"),
            authority,
            base,
        }
    }

    /// Whether browsers reach the provider over HTTPS (its cookies are then `Secure`).
    pub(crate) fn is_https(&self) -> bool {
        self.base.starts_with("https://")
    }
}
