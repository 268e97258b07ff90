//! What the authentication needs from the configuration: whose tokens to accept ([`ApiIds`]) and
//! how to check them and fetch keys ([`AuthSettings`]), each parsed from its own variables.

use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use crate::{
    validate,
    vars::{ConfigError, Vars, invalid},
};

/// Discovery and JWKS requests give up after this long (each).
const DISCOVERY_HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Whose tokens the API accepts: from the environment, or from Key Vault (where they may change
/// while the API runs). Kept as [`SecretString`]s: in Key Vault they are secrets, so logs never
/// show them.
#[derive(Debug, Clone)]
pub struct ApiIds {
    /// Directory (tenant) id, lowercase GUID.
    pub tenant_id: SecretString,
    /// The API's application (client) id, lowercase GUID.
    pub client_id: SecretString,
}

/// Variables that name the ids in the environment (ignored, with a warning, in Key Vault mode).
pub const ID_VARIABLES: [&str; 2] = ["AZURE_TENANT_ID", "AZURE_API_CLIENT_ID"];

impl ApiIds {
    /// `AZURE_TENANT_ID` and `AZURE_API_CLIENT_ID`, both required GUIDs.
    pub fn from_vars(vars: &Vars<'_>) -> Result<Self, ConfigError> {
        let [tenant, client] = ID_VARIABLES;
        Ok(Self {
            tenant_id: vars
                .guid(tenant, "the Directory (tenant) ID of your Entra tenant")?
                .into(),
            client_id: vars
                .guid(
                    client,
                    "the Application (client) ID of the API's app registration",
                )?
                .into(),
        })
    }
}

/// How tokens are checked and keys fetched, whatever the tenant.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `https://login.microsoftonline.com`, a sovereign cloud's host, or a local stand-in.
    pub authority_host: Url,
    /// Tolerated clock difference for `exp` and `nbf`.
    pub clock_skew: Duration,
    /// Periodic key refresh (jittered).
    pub key_refresh_interval: Duration,
    /// Minimum time between two refreshes caused by unknown key ids.
    pub unknown_kid_cooldown: Duration,
    /// Timeout of each discovery / JWKS request.
    pub http_timeout: Duration,
    /// Verified tokens remembered per key set; 0 disables the cache.
    pub token_cache_entries: usize,
}

impl AuthSettings {
    /// - `AZURE_AUTHORITY_HOST` (default `https://login.microsoftonline.com`): scheme and host
    ///   only, https unless loopback;
    /// - `TOKEN_CLOCK_SKEW_SECS` (default 60, at most 300): leeway for `exp` and `nbf`;
    /// - `JWKS_REFRESH_INTERVAL_SECS` (default 12 h), `JWKS_REFRESH_COOLDOWN_SECS` (default 300):
    ///   periodic key refresh, and the least time between refreshes for unknown key ids;
    /// - `TOKEN_CACHE_ENTRIES` (default 4096; 0 turns the cache off).
    pub fn from_vars(vars: &Vars<'_>) -> Result<Self, ConfigError> {
        const HOST: &str = "AZURE_AUTHORITY_HOST";
        let host = vars
            .get(HOST)
            .unwrap_or_else(|| "https://login.microsoftonline.com".into());
        let authority_host =
            validate::authority_host(&host).map_err(|reason| invalid(HOST, &host, reason))?;
        let cache_entries = vars.number("TOKEN_CACHE_ENTRIES", 4096, 0..=1_000_000)?;
        Ok(Self {
            authority_host,
            clock_skew: vars.seconds("TOKEN_CLOCK_SKEW_SECS", 60, 0..=300)?,
            key_refresh_interval: vars.seconds(
                "JWKS_REFRESH_INTERVAL_SECS",
                12 * 3600,
                60..=7 * 86_400,
            )?,
            unknown_kid_cooldown: vars.seconds("JWKS_REFRESH_COOLDOWN_SECS", 300, 0..=86_400)?,
            http_timeout: DISCOVERY_HTTP_TIMEOUT,
            token_cache_entries: usize::try_from(cache_entries).unwrap_or(usize::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_ids() {
        let ids = ApiIds {
            tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
        };
        let shown = format!("{ids:?}");
        assert!(
            !shown.contains("72f988bf") && !shown.contains("11111111"),
            "{shown}"
        );
    }
}
