//! The validation rules (at least as strict as Microsoft.Identity.Web) and the swappable holder of
//! the verifier the app uses.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use arc_swap::ArcSwapOption;
use reqwest::Url;
use shared::{API_SCOPE, Me, Permission, Role};

use super::{
    AuthError, TokenError,
    jwt::{self, Claims},
    keys::{EntraDiscovery, KeySource, KeyStore, refresh_periodically},
};

/// Whose tokens the API accepts: from the environment, or from Key Vault (where they may change
/// while the API runs). Debug output hides the values: in Key Vault they are stored as secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiIds {
    /// Directory (tenant) id, lowercase GUID.
    pub tenant_id: String,
    /// The API's application (client) id, lowercase GUID.
    pub client_id: String,
}

impl fmt::Debug for ApiIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiIds")
            .field("tenant_id", &"[redacted]")
            .field("client_id", &"[redacted]")
            .finish()
    }
}

/// How tokens are checked and keys fetched, whatever the tenant: parsed from the configuration.
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

/// The caller, as the validated token describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `oid`: owner id of the caller's tasks.
    pub object_id: String,
    pub name: String,
    pub email: String,
    pub tenant_id: String,
    /// The app roles this API defines that the caller holds, most powerful first.
    pub roles: Vec<Role>,
    pub scopes: Vec<String>,
}

impl Principal {
    fn from_claims(claims: Claims) -> Self {
        Principal {
            object_id: claims.oid,
            name: claims.name.unwrap_or_default(),
            email: claims
                .preferred_username
                .or(claims.upn)
                .or(claims.unique_name)
                .unwrap_or_default(),
            tenant_id: claims.tid,
            roles: Role::from_claims(claims.roles.iter().flatten().map(String::as_str)),
            scopes: claims
                .scp
                .iter()
                .flat_map(|scp| scp.split_ascii_whitespace())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// Whether the caller holds any of `roles` (an empty list requires none).
    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.is_empty() || roles.iter().any(|role| self.roles.contains(role))
    }

    pub fn may(&self, permission: Permission) -> bool {
        permission.granted_to(&self.roles)
    }

    pub fn me(&self) -> Me {
        Me {
            id: self.object_id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            tenant_id: self.tenant_id.clone(),
            roles: self.roles.clone(),
            scopes: self.scopes.clone(),
        }
    }
}

/// Validates tokens for one tenant and API: the rules plus that tenant's keys.
pub struct TokenVerifier {
    ids: ApiIds,
    settings: AuthSettings,
    /// `api://{client}` (v1 tokens) and `{client}` (v2 tokens).
    audiences: [String; 2],
    keys: Arc<KeyStore>,
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the audiences: they spell out the (redacted) client id.
        f.debug_struct("TokenVerifier")
            .field("ids", &self.ids)
            .field("settings", &self.settings)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
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
            audiences: [format!("api://{}", ids.client_id), ids.client_id.clone()],
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
        let source = EntraDiscovery::new(client, &settings.authority_host, &ids.tenant_id);
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
        let rules = jwt::rules(&self.audiences, &issuers, self.settings.clock_skew);
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
        if claims.tid != self.ids.tenant_id {
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
