//! [`TokenVerifier`]: a token judged for one tenant and API (at least as strict as
//! Microsoft.Identity.Web), and [`Authenticator`], the swappable holder of the verifier the app
//! uses.

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use arc_swap::ArcSwapOption;
use secrecy::{ExposeSecret, SecretString};
use shared::API_SCOPE;

use super::{
    error::{AuthError, TokenError},
    jwt::{self, Claims},
    keys::{EntraDiscovery, KeySource, KeyStore, refresh_periodically},
    principal::Principal,
    settings::{ApiIds, AuthSettings},
};

/// Validates tokens for one tenant and API: the rules plus that tenant's keys.
#[derive(Debug)]
pub struct TokenVerifier {
    ids: ApiIds,
    settings: AuthSettings,
    /// `api://{client}` (v1 tokens) and `{client}` (v2 tokens): secrets, as they spell out the
    /// client id.
    audiences: [SecretString; 2],
    keys: Arc<KeyStore>,
}

fn now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}

impl TokenVerifier {
    /// A verifier fetching keys from `source`; nothing is fetched until [`Self::spawn_refresh`]
    /// or a token arrives.
    pub fn new(ids: ApiIds, settings: AuthSettings, source: Box<dyn KeySource>) -> Self {
        let keys = KeyStore::new(
            source,
            settings.unknown_kid_cooldown,
            settings.token_cache_entries,
        );
        Self {
            audiences: [
                format!("api://{}", ids.client_id.expose_secret()).into(),
                ids.client_id.clone(),
            ],
            ids,
            settings,
            keys: Arc::new(keys),
        }
    }

    /// The production verifier: keys from the tenant's discovery endpoints, loaded now in the
    /// background and refreshed periodically for as long as the verifier lives. Needs a Tokio
    /// runtime.
    pub fn start(ids: ApiIds, settings: AuthSettings) -> Result<Arc<Self>, reqwest::Error> {
        let client = crate::outbound::http_client(settings.http_timeout)?;
        let source = EntraDiscovery::new(
            client,
            &settings.authority_host,
            ids.tenant_id.expose_secret(),
        );
        let verifier = Arc::new(Self::new(ids, settings, Box::new(source)));
        verifier.spawn_refresh();
        Ok(verifier)
    }

    /// Starts the load-then-refresh loop; it stops by itself once this verifier is dropped
    /// (e.g. replaced by one for new settings).
    pub fn spawn_refresh(&self) {
        let store = Arc::downgrade(&self.keys);
        tokio::spawn(refresh_periodically(
            store,
            self.settings.key_refresh_interval,
        ));
    }

    /// Keys loaded: tokens can be judged.
    pub fn is_ready(&self) -> bool {
        self.keys.current().is_some()
    }

    pub async fn verify(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        if token.len() > jwt::MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge.into());
        }
        let now = now();
        let current = self.keys.current();
        if let Some(hit) = current.as_ref().and_then(|s| s.verified.get(token, now)) {
            return Ok(hit);
        }
        let kid = jwt::header(token)?.kid;
        let snapshot = match current {
            Some(snapshot) if snapshot.keys.key(&kid).is_some() => snapshot,
            _ => self
                .keys
                .refresh_for_unknown_kid()
                .await
                .ok_or(AuthError::Unavailable)?,
        };
        let key = snapshot.keys.key(&kid).ok_or(TokenError::UnknownKid)?;
        let issuers = [
            snapshot.keys.v1_issuer.as_str(),
            snapshot.keys.v2_issuer.as_str(),
        ];
        let audiences = self
            .audiences
            .each_ref()
            .map(|audience| audience.expose_secret());
        let rules = jwt::rules(&audiences, &issuers, self.settings.clock_skew);
        let claims = jwt::decode(token, key, &rules)?;
        self.check_claims(&claims)?;
        let expires_at = claims.exp;
        let principal = Arc::new(Principal::from_claims(claims));
        snapshot
            .verified
            .insert(token, principal.clone(), expires_at, now);
        Ok(principal)
    }

    /// The rules jsonwebtoken does not know: the tenant, and what a token must grant.
    fn check_claims(&self, claims: &Claims) -> Result<(), TokenError> {
        if claims.tid != self.ids.tenant_id.expose_secret() {
            return Err(TokenError::Tenant);
        }
        match (&claims.scp, &claims.roles) {
            (Some(scp), _) if !scp.split_ascii_whitespace().any(|s| s == API_SCOPE) => {
                Err(TokenError::MissingScope)
            }
            (None, None) => Err(TokenError::NoScopeOrRoles),
            _ => Ok(()),
        }
    }
}

/// The verifier in use, replaceable at runtime: configuration loaded after start-up (or changed)
/// installs a new verifier, and requests in flight finish with the one they started with.
#[derive(Debug, Default)]
pub struct Authenticator {
    current: ArcSwapOption<TokenVerifier>,
}

impl Authenticator {
    /// `None`: configuration not loaded yet, every token is refused with 503 until
    /// [`Self::install`].
    pub fn new(verifier: Option<Arc<TokenVerifier>>) -> Self {
        Self {
            current: ArcSwapOption::new(verifier),
        }
    }

    pub fn install(&self, verifier: Arc<TokenVerifier>) {
        self.current.store(Some(verifier));
    }

    /// A verifier is installed: the tenant and client ids are known (keys may still be loading).
    pub fn is_configured(&self) -> bool {
        self.current.load().is_some()
    }

    /// Configuration and signing keys loaded.
    pub fn is_ready(&self) -> bool {
        self.current
            .load()
            .as_ref()
            .is_some_and(|verifier| verifier.is_ready())
    }

    pub async fn authenticate(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        let verifier = self.current.load_full().ok_or(AuthError::Unavailable)?;
        verifier.verify(token).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vars::Vars;

    #[test]
    fn debug_hides_the_ids_and_the_audiences() {
        let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let client = "11111111-2222-3333-4444-555555555555";
        let ids = ApiIds {
            tenant_id: tenant.into(),
            client_id: client.into(),
        };
        let settings = AuthSettings::from_vars(&Vars::new(&|_| None)).expect("defaults");
        let source = EntraDiscovery::new(reqwest::Client::new(), &settings.authority_host, tenant);
        let verifier = TokenVerifier::new(ids, settings, Box::new(source));
        let shown = format!("{verifier:?}");
        assert!(
            !shown.contains("72f988bf") && !shown.contains("11111111"),
            "{shown}"
        );
        assert!(
            shown.contains("https://login.microsoftonline.com/{tenant}/v2.0/"),
            "what an operator needs stays: {shown}"
        );
    }
}
