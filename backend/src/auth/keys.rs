//! The tenant's signing keys and issuers, from OpenID discovery and the JWKS.
//!
//! Reads are lock-free ([`ArcSwapOption`]); refreshes are serialised by one async mutex, so
//! however many requests carry unknown key ids at once, at most one fetch is in flight, and
//! on-demand fetches are further limited to one per cooldown. A failed fetch keeps the last good
//! keys.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        Arc, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use arc_swap::ArcSwapOption;
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::DecodingKey;
use reqwest::Url;
use serde::{Deserialize, de::DeserializeOwned};

use super::{cache::TokenCache, jwt::ALGORITHM};
use crate::{backoff::spread as jittered, outbound::read_limited, validate::is_secure_endpoint};

/// Discovery documents are ~2 KiB and Entra's JWKS ~10 KiB; anything much larger is not one.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// A tenant publishes a handful of keys; more than this is refused as a whole.
const MAX_KEYS: usize = 64;
/// RSA moduli from 2048 to 8192 bits, the range the verification accepts.
const MIN_MODULUS_BYTES: usize = 256;
const MAX_MODULUS_BYTES: usize = 1024;
/// First retry delay when keys could not be loaded; doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(300);

/// What the API trusts for one tenant: its two issuers and its signing keys by `kid`.
pub struct TenantKeys {
    /// v1 issuer (`https://sts.windows.net/{tenant}/` on the public cloud).
    pub v1_issuer: String,
    /// v2 issuer (`https://login.microsoftonline.com/{tenant}/v2.0` on the public cloud).
    pub v2_issuer: String,
    keys: HashMap<String, DecodingKey>,
}

impl TenantKeys {
    pub fn key(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.get(kid)
    }

    fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        kids
    }
}

/// Not the issuers: they spell out the tenant id, which Key Vault mode keeps out of logs.
impl fmt::Debug for TenantKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantKeys")
            .field("kids", &self.kids())
            .finish_non_exhaustive()
    }
}

/// Why keys could not be fetched. Logged at error level (operators must see it); never sent.
/// URLs are shown with the tenant id as `{tenant}` (see [`EntraDiscovery::shown`]).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("GET {url}: {}", crate::azure::error_chain(.source))]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("GET {url}: status {status}")]
    Status { url: String, status: u16 },
    #[error("GET {url}: response larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge { url: String },
    #[error("GET {url}: unexpected document: {source}")]
    Json {
        url: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a key store gets its keys: the tenant's discovery endpoints in production, a double in
/// unit tests.
pub trait KeySource: Send + Sync + fmt::Debug {
    fn fetch(&self) -> BoxFuture<'_, Result<TenantKeys, FetchError>>;
}

/// Entra's OpenID Connect discovery: the v2 document names the v2 issuer and the JWKS, the v1
/// document the v1 issuer.
pub struct EntraDiscovery {
    client: reqwest::Client,
    tenant_id: String,
    v2_metadata: Url,
    v1_metadata: Url,
}

impl fmt::Debug for EntraDiscovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraDiscovery")
            .field("v2_metadata", &self.shown(self.v2_metadata.as_str()))
            .field("v1_metadata", &self.shown(self.v1_metadata.as_str()))
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    #[serde(default)]
    jwks_uri: Option<String>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

/// One JWKS entry. `x5c` certificates are not read: `n` and `e` are the key.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

impl EntraDiscovery {
    /// `authority_host` is e.g. `https://login.microsoftonline.com` and `tenant_id` a GUID (both
    /// validated by the configuration).
    pub fn new(client: reqwest::Client, authority_host: &Url, tenant_id: &str) -> Self {
        let document = |path: &str| {
            authority_host
                .join(&format!("{tenant_id}/{path}"))
                .expect("a host URL and a GUID form a valid URL")
        };
        Self {
            client,
            tenant_id: tenant_id.to_owned(),
            v2_metadata: document("v2.0/.well-known/openid-configuration"),
            v1_metadata: document(".well-known/openid-configuration"),
        }
    }

    /// `url` for a log line, its tenant id segment replaced by `{tenant}`: Key Vault mode keeps
    /// the id in the vault, and the host and path shape are what an operator needs to act.
    fn shown(&self, url: &str) -> String {
        url.split('/')
            .map(|segment| {
                if segment.eq_ignore_ascii_case(&self.tenant_id) {
                    "{tenant}"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<T, FetchError> {
        let shown = || self.shown(url.as_str());
        // reqwest's own message repeats the full URL.
        let http = |source: reqwest::Error| FetchError::Http {
            url: shown(),
            source: source.without_url(),
        };
        let mut response = self.client.get(url.clone()).send().await.map_err(http)?;
        if !response.status().is_success() {
            return Err(FetchError::Status {
                url: shown(),
                status: response.status().as_u16(),
            });
        }
        let body = read_limited(&mut response, MAX_DOCUMENT_BYTES)
            .await
            .map_err(http)?
            .ok_or_else(|| FetchError::TooLarge { url: shown() })?;
        serde_json::from_slice(&body).map_err(|source| FetchError::Json {
            url: shown(),
            source,
        })
    }

    async fn fetch_keys(&self) -> Result<TenantKeys, FetchError> {
        let v2: Metadata = self.get_json(&self.v2_metadata).await?;
        let v1: Metadata = self.get_json(&self.v1_metadata).await?;
        let jwks_uri = v2
            .jwks_uri
            .ok_or_else(|| FetchError::Invalid("v2 discovery document has no jwks_uri".into()))?;
        let jwks_uri = Url::parse(&jwks_uri)
            .ok()
            .filter(is_secure_endpoint)
            .ok_or_else(|| {
                FetchError::Invalid(format!(
                    "jwks_uri {:?} is not an https URL (or http on loopback)",
                    self.shown(&jwks_uri)
                ))
            })?;
        if v1.issuer.is_empty() || v2.issuer.is_empty() {
            return Err(FetchError::Invalid(
                "discovery document with an empty issuer".into(),
            ));
        }
        let jwks: Jwks = self.get_json(&jwks_uri).await?;
        Ok(TenantKeys {
            v1_issuer: v1.issuer,
            v2_issuer: v2.issuer,
            keys: parse_jwks(jwks)?,
        })
    }
}

impl KeySource for EntraDiscovery {
    fn fetch(&self) -> BoxFuture<'_, Result<TenantKeys, FetchError>> {
        Box::pin(self.fetch_keys())
    }
}

/// RSA signing keys by `kid`. Keys for other uses or algorithms, or that do not parse, are
/// skipped; a set with no usable key, too many keys or a repeated kid is refused whole.
fn parse_jwks(jwks: Jwks) -> Result<HashMap<String, DecodingKey>, FetchError> {
    if jwks.keys.len() > MAX_KEYS {
        return Err(FetchError::Invalid(format!(
            "JWKS has {} keys (at most {MAX_KEYS} accepted)",
            jwks.keys.len()
        )));
    }
    let mut keys = HashMap::new();
    for jwk in jwks.keys {
        let usable = jwk.kty == "RSA"
            && jwk.use_.as_deref().is_none_or(|u| u == "sig")
            && jwk.alg.as_deref().is_none_or(|a| a == ALGORITHM);
        let (true, Some(kid), Some(n), Some(e)) = (usable, jwk.kid, jwk.n, jwk.e) else {
            continue;
        };
        let components = (URL_SAFE_NO_PAD.decode(n), URL_SAFE_NO_PAD.decode(e));
        let (Ok(n), Ok(e)) = components else {
            tracing::warn!(kid, "JWKS key with a malformed n or e skipped");
            continue;
        };
        if !(MIN_MODULUS_BYTES..=MAX_MODULUS_BYTES).contains(&n.len()) {
            tracing::warn!(
                kid,
                bits = n.len() * 8,
                "JWKS key of an unsupported size skipped"
            );
            continue;
        }
        // Parsed once here so that a broken key is skipped now rather than refuse every token.
        let components = RsaPublicKeyComponents { n: &n, e: &e };
        if components
            .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
            .is_err()
        {
            tracing::warn!(kid, "JWKS key that is not a valid RSA key skipped");
            continue;
        }
        let key = DecodingKey::from_rsa_raw_components(&n, &e);
        if keys.insert(kid.clone(), key).is_some() {
            return Err(FetchError::Invalid(format!("JWKS lists kid {kid:?} twice")));
        }
    }
    if keys.is_empty() {
        return Err(FetchError::Invalid("JWKS has no usable RS256 key".into()));
    }
    Ok(keys)
}

/// One loaded key set and the tokens it has verified: replacing the keys drops the cache with
/// them, so no token is trusted on the strength of a key that is gone.
#[derive(Debug)]
pub struct KeySnapshot {
    pub keys: TenantKeys,
    pub verified: TokenCache,
}

/// The current keys plus the refresh policy.
#[derive(Debug)]
pub struct KeyStore {
    current: ArcSwapOption<KeySnapshot>,
    source: Box<dyn KeySource>,
    /// Held while fetching: one fetch in flight at a time. Holds when the last on-demand fetch
    /// started.
    refresh: tokio::sync::Mutex<Option<Instant>>,
    /// Fetch attempts so far: a request that waited for the lock and sees this moved knows a
    /// fetch just happened and does not start another.
    attempts: AtomicU64,
    cooldown: Duration,
    cache_entries: usize,
}

impl KeyStore {
    pub fn new(source: Box<dyn KeySource>, cooldown: Duration, cache_entries: usize) -> Self {
        Self {
            current: ArcSwapOption::empty(),
            source,
            refresh: tokio::sync::Mutex::new(None),
            attempts: AtomicU64::new(0),
            cooldown,
            cache_entries,
        }
    }

    /// The keys in use, if any were ever loaded. Lock-free.
    pub fn current(&self) -> Option<Arc<KeySnapshot>> {
        self.current.load_full()
    }

    /// Fetch now, whatever the cooldown (start-up and the periodic refresh).
    pub async fn refresh(&self) -> Result<(), FetchError> {
        let _in_flight = self.refresh.lock().await;
        self.fetch_and_install().await
    }

    /// A token names a kid we do not have: maybe the tenant rotated its keys. Fetch, unless a
    /// fetch happened while we waited or the last on-demand fetch was within the cooldown; then
    /// answer with whatever keys are current.
    pub async fn refresh_for_unknown_kid(&self) -> Option<Arc<KeySnapshot>> {
        let seen = self.attempts.load(Ordering::Acquire);
        let mut last_on_demand = self.refresh.lock().await;
        let fetched_meanwhile = self.attempts.load(Ordering::Acquire) != seen;
        let cooling = last_on_demand.is_some_and(|at| at.elapsed() < self.cooldown);
        if !fetched_meanwhile && !cooling {
            *last_on_demand = Some(Instant::now());
            // The failure is already logged; the caller refuses the token either way.
            let _ = self.fetch_and_install().await;
        }
        self.current()
    }

    async fn fetch_and_install(&self) -> Result<(), FetchError> {
        self.attempts.fetch_add(1, Ordering::AcqRel);
        match self.source.fetch().await {
            Ok(keys) => {
                tracing::info!(kids = ?keys.kids(), "signing keys loaded");
                self.current.store(Some(Arc::new(KeySnapshot {
                    keys,
                    verified: TokenCache::new(self.cache_entries),
                })));
                Ok(())
            }
            Err(err) => {
                let keeping = self.current.load().is_some();
                tracing::error!(error = %err, keeping_last_good_keys = keeping, "signing keys could not be refreshed");
                Err(err)
            }
        }
    }
}

/// Loads the keys now, retrying with backoff until it works, then refreshes every `interval`
/// (±10 %, so replicas do not fetch in step). Ends once the store is dropped.
pub async fn refresh_periodically(store: Weak<KeyStore>, interval: Duration) {
    let mut retry = FIRST_RETRY;
    loop {
        let Some(owner) = store.upgrade() else { return };
        let wait = match owner.refresh().await {
            Ok(()) => {
                retry = FIRST_RETRY;
                jittered(interval)
            }
            Err(_) => {
                let wait = retry.min(interval);
                retry = (retry * 2).min(MAX_RETRY);
                wait
            }
        };
        drop(owner);
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Debug, Default)]
    struct CountingSource {
        fetches: AtomicU64,
        fail: Mutex<bool>,
    }

    fn test_keys() -> TenantKeys {
        let jwks: Jwks = serde_json::from_value(serde_json::json!({"keys": [{
            "kty": "RSA", "kid": "k1", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode([0xc5; 256]), "e": "AQAB"
        }]}))
        .expect("jwks");
        TenantKeys {
            v1_issuer: "v1".into(),
            v2_issuer: "v2".into(),
            keys: parse_jwks(jwks).expect("keys"),
        }
    }

    impl KeySource for Arc<CountingSource> {
        fn fetch(&self) -> BoxFuture<'_, Result<TenantKeys, FetchError>> {
            Box::pin(async move {
                self.fetches.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                if *self.fail.lock().expect("lock") {
                    Err(FetchError::Invalid("down".into()))
                } else {
                    Ok(test_keys())
                }
            })
        }
    }

    fn store(cooldown: Duration) -> (Arc<KeyStore>, Arc<CountingSource>) {
        let source = Arc::new(CountingSource::default());
        let store = KeyStore::new(Box::new(source.clone()), cooldown, 0);
        (Arc::new(store), source)
    }

    #[tokio::test]
    async fn concurrent_unknown_kids_share_one_fetch_and_respect_the_cooldown() {
        let (store, source) = store(Duration::from_secs(300));
        let waiters: Vec<_> = (0..50)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.refresh_for_unknown_kid().await })
            })
            .collect();
        for waiter in waiters {
            assert!(waiter.await.expect("join").is_some());
        }
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        store.refresh_for_unknown_kid().await;
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1, "cooldown");
        store
            .refresh()
            .await
            .expect("scheduled refresh ignores the cooldown");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_the_last_good_keys() {
        let (store, source) = store(Duration::ZERO);
        assert!(store.current().is_none(), "nothing loaded: fail closed");
        store.refresh().await.expect("first load");
        *source.fail.lock().expect("lock") = true;
        assert!(store.refresh().await.is_err());
        let kept = store.refresh_for_unknown_kid().await.expect("kept");
        assert!(kept.keys.key("k1").is_some());
    }

    #[test]
    fn jwks_parsing_skips_foreign_keys_and_refuses_bad_sets() {
        let rsa = |kid: &str| {
            serde_json::json!({"kty": "RSA", "kid": kid,
                "n": URL_SAFE_NO_PAD.encode([0xc5; 256]), "e": "AQAB"})
        };
        let parse = |keys: serde_json::Value| {
            parse_jwks(serde_json::from_value(serde_json::json!({ "keys": keys })).expect("jwks"))
        };
        let mixed = serde_json::json!([
            rsa("good"),
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "short", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        ]);
        let keys = parse(mixed).expect("one good key");
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["good"]);
        assert!(parse(serde_json::json!([rsa("a"), rsa("a")])).is_err());
        assert!(parse(serde_json::json!([])).is_err());
        let too_many: Vec<_> = (0..=MAX_KEYS).map(|i| rsa(&i.to_string())).collect();
        assert!(parse(serde_json::Value::from(too_many)).is_err());
    }

    #[test]
    fn debug_output_hides_the_tenant_id() {
        let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let host = Url::parse("https://login.microsoftonline.com").expect("host");
        let discovery = EntraDiscovery::new(reqwest::Client::new(), &host, tenant);
        let mut keys = test_keys();
        keys.v2_issuer = format!("https://login.microsoftonline.com/{tenant}/v2.0");
        let shown = format!("{discovery:?} {keys:?}");
        assert!(!shown.contains(tenant), "{shown}");
        assert!(
            shown.contains("https://login.microsoftonline.com/{tenant}/v2.0/.well-known/"),
            "{shown}"
        );
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let hour = Duration::from_secs(3600);
        for _ in 0..100 {
            let wait = jittered(hour);
            assert!(
                wait >= hour.mul_f64(0.9) && wait < hour.mul_f64(1.1),
                "{wait:?}"
            );
        }
    }
}
