//! What the provider remembers between requests: what an authorization code and a refresh token
//! stand for until they are redeemed.

use crate::scope::Scopes;

/// What an authorization code stands for, until it is redeemed at the token endpoint.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub(crate) user: String,
    pub(crate) scopes: Scopes,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) nonce: Option<String>,
}

/// What a refresh token stands for: the user and the scopes their sign-in granted. A refresh may
/// ask for fewer, but the rotated token still carries the whole grant (RFC 6749 section 6: "the
/// refresh token scope MUST be identical"; Entra's refresh tokens are bound to the user and the
/// client, not to what one request asked for), so narrowing once does not shrink later refreshes.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub(crate) user: String,
    pub(crate) scopes: Scopes,
}
