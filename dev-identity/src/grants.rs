//! What the provider remembers between requests: the browser sessions, and what an authorization
//! code and a refresh token stand for until they are redeemed.

use uuid::Uuid;

use crate::scope::Scopes;

/// A signed-in browser: who, since when, and the id the authorization response names it by.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) user: String,
    /// When the user signed in (seconds since the epoch): `auth_time`, checked against `max_age`.
    pub(crate) auth_time: u64,
    /// `session_state` in authorization responses: names the session without revealing the
    /// cookie.
    pub(crate) id: Uuid,
}

/// What an authorization code stands for, until it is redeemed at the token endpoint.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub(crate) client_id: Uuid,
    pub(crate) user: String,
    pub(crate) auth_time: u64,
    pub(crate) scopes: Scopes,
    /// The request's redirect URI, parsed and normalised: redemption must name the same one.
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) nonce: Option<String>,
}

/// What a refresh token stands for: the client, the user and the scopes their sign-in granted. A
/// refresh may ask for fewer, but the rotated token still carries the whole grant (RFC 6749
/// section 6: "the refresh token scope MUST be identical"; Entra's refresh tokens are bound to the
/// user and the client, not to what one request asked for), so narrowing once does not shrink
/// later refreshes.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: Uuid,
    pub(crate) user: String,
    pub(crate) auth_time: u64,
    pub(crate) scopes: Scopes,
    /// Seconds since the epoch: a SPA's rotated refresh token inherits it.
    pub(crate) expires_at: u64,
}
