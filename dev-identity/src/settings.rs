//! The provider's configuration, fixed at start-up, and the addresses it publishes.

use uuid::Uuid;

use crate::{
    config::{RedirectUri, TokenVersion},
    users::Users,
};

/// The provider's configuration, fixed at start-up.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) tenant_id: Uuid,
    pub(crate) api_client_id: Uuid,
    pub(crate) spa_client_id: Uuid,
    pub(crate) redirect_uris: Vec<RedirectUri>,
    pub(crate) access_token_version: TokenVersion,
    pub(crate) access_token_lifetime_secs: u64,
    pub(crate) users: Users,
}

impl Settings {
    pub(crate) fn registered_redirect(&self, requested: &str) -> Option<&RedirectUri> {
        self.redirect_uris
            .iter()
            .find(|uri| uri.as_str() == requested)
    }

    pub(crate) fn is_registered_origin(&self, origin: &str) -> bool {
        self.redirect_uris.iter().any(|uri| uri.origin() == origin)
    }
}

/// The provider's addresses, as they appear in metadata and tokens.
#[derive(Debug)]
pub(crate) struct Urls {
    /// `http://127.0.0.1:{port}`
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
}
