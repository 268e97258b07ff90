//! Test-only stand-in for Microsoft Entra ID, shared by the API's integration tests and
//! `cargo xtask bench`: throwaway RSA keys (`backend/tests/fixtures/`), a local HTTP server that
//! publishes OpenID discovery documents and a JWKS at Entra's paths, and helpers to mint tokens,
//! well-formed or deliberately broken. [`SpaClient`] gets real tokens from `dev-identity` instead,
//! as the SPA does, for tests of the whole local stack.
//!
//! Nothing here is used by the API itself: it only ever trusts keys from the configured tenant.
//!
//! [`azure`] holds the stand-ins for Key Vault and the managed identity endpoint.

pub mod azure;
pub mod modules;

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::{
    hmac,
    rand::SystemRandom,
    signature::{KeyPair, RSA_PKCS1_SHA256, RSA_PKCS1_SHA512, RSA_PSS_SHA256, RsaKeyPair},
};
use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

pub mod postgres;
mod spa;
pub use spa::{SpaClient, Tokens};

/// The tenant and API the tests configure (any GUIDs would do).
pub const TENANT_ID: &str = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
pub const CLIENT_ID: &str = "0a1b2c3d-1111-4222-8333-944455566677";
/// The SPA's client id: the audience of its ID tokens, which the API must refuse.
pub const SPA_CLIENT_ID: &str = "5e6f7a8b-2222-4333-8444-a55566677788";

/// Signature algorithms the tests sign with (only RS256 is accepted by the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Rs512,
    Ps256,
}

impl Alg {
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Rs512 => "RS512",
            Alg::Ps256 => "PS256",
        }
    }
}

/// A test RSA key and the `kid` it is published (or presented) under.
#[derive(Debug)]
pub struct TestKey {
    kid: String,
    pair: RsaKeyPair,
}

impl TestKey {
    fn from_fixture(kid: &str, pkcs8: &[u8]) -> Self {
        let pair = RsaKeyPair::from_pkcs8(pkcs8).expect("fixture is a PKCS#8 RSA key");
        Self {
            kid: kid.to_owned(),
            pair,
        }
    }

    /// Published from the start.
    pub fn primary() -> Self {
        Self::from_fixture(
            "primary",
            include_bytes!("../../backend/tests/fixtures/primary.pk8.der"),
        )
    }

    /// Published later (rotation tests).
    pub fn rotated() -> Self {
        Self::from_fixture(
            "rotated",
            include_bytes!("../../backend/tests/fixtures/rotated.pk8.der"),
        )
    }

    /// Never published: an attacker's key.
    pub fn foreign() -> Self {
        Self::from_fixture(
            "foreign",
            include_bytes!("../../backend/tests/fixtures/foreign.pk8.der"),
        )
    }

    /// The same key presented under another `kid`.
    pub fn with_kid(mut self, kid: &str) -> Self {
        kid.clone_into(&mut self.kid);
        self
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWKS entry, the way Entra publishes it.
    pub fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// The public key's DER bytes (what an HS256 key-confusion attack would use as the secret).
    pub fn public_der(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    pub fn sign(&self, alg: Alg, message: &[u8]) -> Vec<u8> {
        let padding = match alg {
            Alg::Rs256 => &RSA_PKCS1_SHA256,
            Alg::Rs512 => &RSA_PKCS1_SHA512,
            Alg::Ps256 => &RSA_PSS_SHA256,
        };
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(padding, &SystemRandom::new(), message, &mut signature)
            .expect("signing with a test key");
        signature
    }
}

fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}

/// `base64url(header).base64url(claims)`: what a signature covers.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!("{}.{}", b64_json(header), b64_json(claims))
}

/// A compact JWS from its parts.
pub fn compact(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}",
        signing_input(header, claims),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// A token with `header` (`kid` taken from the key unless the header sets one) signed by `key`.
pub fn sign_with(key: &TestKey, alg: Alg, header: Value, claims: &Value) -> String {
    let mut header = header;
    header["alg"] = json!(alg.name());
    if header.get("kid").is_none() {
        header["kid"] = json!(key.kid());
    }
    let signature = key.sign(alg, signing_input(&header, claims).as_bytes());
    compact(&header, claims, &signature)
}

/// The usual token: RS256, `typ: JWT`, the key's `kid`.
pub fn sign(key: &TestKey, claims: &Value) -> String {
    sign_with(key, Alg::Rs256, json!({"typ": "JWT"}), claims)
}

/// HS256 with `secret`: the classic confusion attack when `secret` is the RSA public key.
pub fn sign_hs256(secret: &[u8], kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, signing_input(&header, claims).as_bytes());
    compact(&header, claims, tag.as_ref())
}

pub fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("seconds fit i64")
}

/// The local identity provider: discovery documents and a JWKS at Entra's paths on a loopback
/// port, with switches to rotate keys, fail, or slow down, and a count of JWKS downloads.
#[derive(Debug, Clone)]
pub struct KeyServer {
    base: String,
    state: Arc<ServerState>,
}

#[derive(Debug)]
struct ServerState {
    base: String,
    jwks: Mutex<Value>,
    available: AtomicBool,
    delay_ms: AtomicU64,
    jwks_fetches: AtomicUsize,
    requests: AtomicUsize,
}

impl KeyServer {
    /// Starts serving `keys` for [`TENANT_ID`] on `127.0.0.1:<free port>`, on the current Tokio
    /// runtime; it stops with that runtime.
    pub async fn start(keys: &[&TestKey]) -> Self {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let state = Arc::new(ServerState {
            base: base.clone(),
            jwks: Mutex::new(Value::Null),
            available: AtomicBool::new(true),
            delay_ms: AtomicU64::new(0),
            jwks_fetches: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route(
                "/{tenant}/v2.0/.well-known/openid-configuration",
                get(v2_metadata),
            )
            .route(
                "/{tenant}/.well-known/openid-configuration",
                get(v1_metadata),
            )
            .route("/{tenant}/discovery/v2.0/keys", get(jwks))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        let server = Self { base, state };
        server.publish(keys);
        server
    }

    /// `AZURE_AUTHORITY_HOST` for the API: `http://127.0.0.1:<port>`.
    pub fn authority_host(&self) -> &str {
        &self.base
    }

    /// Replaces the published key set.
    pub fn publish(&self, keys: &[&TestKey]) {
        let keys: Vec<Value> = keys.iter().map(|key| key.jwk()).collect();
        self.publish_raw(json!({ "keys": keys }));
    }

    /// Publishes any JSON as the JWKS.
    pub fn publish_raw(&self, jwks: Value) {
        *self
            .state
            .jwks
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = jwks;
    }

    /// `false`: every endpoint answers 503, as during an outage.
    pub fn set_available(&self, available: bool) {
        self.state.available.store(available, Ordering::SeqCst);
    }

    /// Delay before each answer (to make concurrent refreshes overlap).
    pub fn set_delay(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.state.delay_ms.store(millis, Ordering::SeqCst);
    }

    /// Requests of any document so far (answered or refused).
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// JWKS downloads so far (successful or not).
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// The v2 issuer, as Entra writes it: `{host}/{tenant}/v2.0`.
    pub fn v2_issuer(&self) -> String {
        v2_issuer(&self.base, TENANT_ID)
    }

    /// The v1 issuer, Entra's public-cloud value whatever the host: the API must take issuers
    /// from discovery, not derive them from the host.
    pub fn v1_issuer(&self) -> String {
        v1_issuer(TENANT_ID)
    }

    /// Claims of a valid v2 access token for [`CLIENT_ID`] from a user holding `roles`, with the
    /// delegated scope the SPA requests.
    pub fn claims(&self, oid: &str, roles: &[&str]) -> Value {
        self.claims_for(TENANT_ID, CLIENT_ID, oid, roles)
    }

    /// [`Self::claims`] for another tenant and API (the keys are served for any tenant).
    pub fn claims_for(&self, tenant: &str, client: &str, oid: &str, roles: &[&str]) -> Value {
        let now = now();
        json!({
            "aud": client,
            "iss": v2_issuer(&self.base, tenant),
            "iat": now - 60,
            "nbf": now - 60,
            "exp": now + 3600,
            "name": format!("User {oid}"),
            "oid": oid,
            "preferred_username": format!("{oid}@contoso.example"),
            "roles": roles,
            "scp": "access_as_user",
            "sub": format!("sub-{oid}"),
            "tid": tenant,
            "ver": "2.0",
        })
    }
}

fn v2_issuer(base: &str, tenant: &str) -> String {
    format!("{base}/{tenant}/v2.0")
}

fn v1_issuer(tenant: &str) -> String {
    format!("https://sts.windows.net/{tenant}/")
}

impl ServerState {
    /// Waits the configured delay; `Err` with 503 while unavailable.
    async fn gate(&self) -> Result<(), Response> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if self.available.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
    }

    fn metadata(&self, tenant: &str, issuer: String) -> Json<Value> {
        Json(json!({
            "issuer": issuer,
            "jwks_uri": format!("{}/{tenant}/discovery/v2.0/keys", self.base),
            "authorization_endpoint": format!("{}/{tenant}/oauth2/v2.0/authorize", self.base),
            "token_endpoint": format!("{}/{tenant}/oauth2/v2.0/token", self.base),
            "id_token_signing_alg_values_supported": ["RS256"],
        }))
    }
}

async fn v2_metadata(
    State(state): State<Arc<ServerState>>,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, Response> {
    state.gate().await?;
    Ok(state.metadata(&tenant, v2_issuer(&state.base, &tenant)))
}

async fn v1_metadata(
    State(state): State<Arc<ServerState>>,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, Response> {
    state.gate().await?;
    Ok(state.metadata(&tenant, v1_issuer(&tenant)))
}

async fn jwks(State(state): State<Arc<ServerState>>) -> Result<Json<Value>, Response> {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    state.gate().await?;
    let jwks = state
        .jwks
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Ok(Json(jwks))
}
