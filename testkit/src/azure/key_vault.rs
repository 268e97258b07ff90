//! Key Vault's secrets API over TLS: `GET /secrets/{name}/{version}?api-version=...`, the 401
//! bearer challenge for requests without the expected token, and Key Vault's JSON for secrets
//! and errors.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
    serve::Listener,
};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, server::TlsStream};

use super::TestCa;

/// The vault's host name. It must end in `.vault.azure.net`: the SDK only answers a challenge
/// whose resource (`https://vault.azure.net`) is a parent domain of the vault's host.
pub const VAULT_HOST: &str = "testkit-vault.vault.azure.net";
/// The resource Key Vault's challenge names, and so the audience of the tokens it accepts.
pub const VAULT_RESOURCE: &str = "https://vault.azure.net";

/// The tenant Key Vault names in its challenge: the vault's own. Not [`crate::TENANT_ID`], so
/// tests can tell the API's configuration from what Key Vault announces to anyone.
pub const VAULT_TENANT_ID: &str = "7a017000-0000-4000-8000-0000000a0170";

/// Requests without the expected bearer token get this challenge (as Key Vault sends it).
fn challenge() -> String {
    format!(
        r#"Bearer authorization="https://login.microsoftonline.com/{VAULT_TENANT_ID}", resource="{VAULT_RESOURCE}""#
    )
}

/// A Key Vault on `127.0.0.1:<free port>` serving `https://{VAULT_HOST}` with a certificate from
/// a [`TestCa`], accepting one bearer token.
#[derive(Debug, Clone)]
pub struct KeyVaultServer {
    addr: SocketAddr,
    state: Arc<VaultState>,
}

#[derive(Debug)]
struct VaultState {
    token: String,
    secrets: Mutex<HashMap<String, String>>,
    /// Authorized reads still to refuse with 403 (`usize::MAX`: all of them).
    forbidden: AtomicUsize,
    delay_ms: AtomicU64,
    versions: AtomicU64,
    /// The `Authorization` headers received, in order (absent ones as "").
    authorizations: Mutex<Vec<String>>,
    /// Secret values served (200 answers).
    served: AtomicUsize,
}

impl KeyVaultServer {
    /// Starts the vault on the current Tokio runtime; it stops with that runtime. Only requests
    /// bearing `token` are authorized.
    pub async fn start(ca: &TestCa, token: &str) -> Self {
        let tcp = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind a loopback port");
        let addr = tcp.local_addr().expect("local address");
        let state = Arc::new(VaultState {
            token: token.to_owned(),
            secrets: Mutex::default(),
            forbidden: AtomicUsize::new(0),
            delay_ms: AtomicU64::new(0),
            versions: AtomicU64::new(0),
            authorizations: Mutex::default(),
            served: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/secrets/{name}", get(get_secret))
            .route("/secrets/{name}/", get(get_secret))
            .fallback(|| async { vault_error(StatusCode::BAD_REQUEST, "BadParameter", None) })
            .with_state(state.clone());
        let listener = TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(ca.server_config(&[VAULT_HOST])),
        };
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { addr, state }
    }

    /// Where the vault listens (what [`super::ConnectProxy`] tunnels `{VAULT_HOST}:443` to).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `AZURE_KEY_VAULT_URL` for the API.
    pub fn url(&self) -> String {
        format!("https://{VAULT_HOST}/")
    }

    pub fn set_secret(&self, name: &str, value: &str) {
        self.state
            .secrets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn remove_secret(&self, name: &str) {
        self.state
            .secrets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
    }

    /// Refuse the next `count` authorized reads with 403, as when the identity lacks its role
    /// (`usize::MAX`: until told otherwise).
    pub fn forbid(&self, count: usize) {
        self.state.forbidden.store(count, Ordering::SeqCst);
    }

    /// Delay before each answer.
    pub fn set_delay(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.state.delay_ms.store(millis, Ordering::SeqCst);
    }

    /// `Authorization` headers received so far ("" for requests without one).
    pub fn authorizations(&self) -> Vec<String> {
        self.state
            .authorizations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Secret values served so far.
    pub fn secrets_served(&self) -> usize {
        self.state.served.load(Ordering::SeqCst)
    }
}

/// Key Vault's error body.
fn vault_error(status: StatusCode, code: &str, inner: Option<&str>) -> Response {
    let mut error = json!({"code": code, "message": format!("testkit vault: {code}")});
    if let Some(inner) = inner {
        error["innererror"] = json!({ "code": inner });
    }
    (status, Json(json!({ "error": error }))).into_response()
}

async fn get_secret(
    State(state): State<Arc<VaultState>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    state
        .authorizations
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(authorization.clone());
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if query.get("api-version").is_none_or(String::is_empty) {
        return vault_error(StatusCode::BAD_REQUEST, "BadParameter", None);
    }
    if authorization != format!("Bearer {}", state.token) {
        let mut response = vault_error(StatusCode::UNAUTHORIZED, "Unauthorized", None);
        let value = challenge().parse().expect("challenge header");
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
        return response;
    }
    let refuse = state
        .forbidden
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| match left {
            0 => None,
            usize::MAX => Some(usize::MAX),
            left => Some(left - 1),
        })
        .is_ok();
    if refuse {
        return vault_error(StatusCode::FORBIDDEN, "Forbidden", Some("ForbiddenByRbac"));
    }
    let value = state
        .secrets
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&name)
        .cloned();
    let Some(value) = value else {
        return vault_error(StatusCode::NOT_FOUND, "SecretNotFound", None);
    };
    state.served.fetch_add(1, Ordering::SeqCst);
    let version = state.versions.fetch_add(1, Ordering::SeqCst);
    Json(secret_bundle(&name, &value, version)).into_response()
}

fn secret_bundle(name: &str, value: &str, version: u64) -> Value {
    json!({
        "value": value,
        "id": format!("https://{VAULT_HOST}/secrets/{name}/{version:032x}"),
        "attributes": {
            "enabled": true,
            "created": 1_700_000_000,
            "updated": 1_700_000_000,
            "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": 7,
        },
        "tags": {},
    })
}

/// TCP accepted, then the TLS handshake; connections whose handshake fails (a client that does
/// not trust the CA) are dropped.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            let handshake = self.acceptor.accept(stream);
            if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(5), handshake).await {
                return (stream, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
