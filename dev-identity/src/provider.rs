//! Starting a provider: the builder, the router, and the handle to a running instance.

use std::{
    io,
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    time::Duration,
};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{Request, StatusCode, Uri},
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tower_http::{timeout::TimeoutLayer, trace::TraceLayer};
use uuid::Uuid;

use crate::{
    authorize,
    clock::Clock,
    config::{
        DEFAULT_API_CLIENT_ID, DEFAULT_PUBLIC_CLIENT_ID, DEFAULT_PUBLIC_REDIRECT_URI,
        DEFAULT_REDIRECT_URI, DEFAULT_SPA_CLIENT_ID, DEFAULT_TENANT_ID, PublicUrl, RedirectUri,
        TokenVersion,
    },
    dev, discovery,
    error::Error,
    keys::{KeyError, KeyRing},
    session,
    settings::{Client, ClientKind, Settings, Urls},
    state::AppState,
    tls::{LocalCa, TlsError},
    token_endpoint,
    users::Users,
};

/// Token and sign-in requests are a few hundred bytes; nothing legitimate comes near this.
const MAX_BODY_BYTES: usize = 16 * 1024;
/// No request does real work for long: anything slower is stuck.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`RunningProvider::shutdown`] waits for open connections before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A local OpenID Connect provider that behaves like Microsoft Entra ID for a SPA + API app.
///
/// **Development and tests only**: it signs anyone in as made-up test users, without a password.
///
/// Start one in-process (it binds `127.0.0.1`, on a free port unless [`ProviderBuilder::port`]
/// says otherwise) and point the code under test at its [`RunningProvider::authority`]:
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use dev_identity::{Provider, TokenVersion};
///
/// let provider = Provider::builder()
///     .redirect_uris(["http://localhost:8080/".parse()?])
///     .access_token_version(TokenVersion::V2)
///     .spawn()
///     .await?;
/// // The API under test trusts it with these three variables (CONTRACTS.md):
/// for (name, value) in provider.api_environment() {
///     println!("{name}={value}");
/// }
/// // Sign in without a browser: GET {authority}/oauth2/v2.0/authorize?...&login_hint=editor
/// // answers 302 with a code, then POST {authority}/oauth2/v2.0/token with an Origin header.
/// println!("{}", provider.authority());
/// provider.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Provider;

impl Provider {
    /// A builder with the defaults of the binary, except the port: 0, a free one.
    pub fn builder() -> ProviderBuilder {
        ProviderBuilder::default()
    }
}

/// How to configure a [`Provider`]; every setting has a working default.
#[derive(Debug, Clone)]
pub struct ProviderBuilder {
    port: u16,
    tenant_id: Uuid,
    api_client_id: Uuid,
    spa_client_id: Uuid,
    redirect_uris: Vec<RedirectUri>,
    public_client_id: Uuid,
    public_redirect_uris: Vec<RedirectUri>,
    access_token_version: TokenVersion,
    access_token_lifetime: Duration,
    users: Users,
    /// HTTPS with the local CA kept in this folder.
    tls_data_dir: Option<PathBuf>,
    public_url: Option<PublicUrl>,
}

impl Default for ProviderBuilder {
    fn default() -> Self {
        ProviderBuilder {
            port: 0,
            tenant_id: DEFAULT_TENANT_ID,
            api_client_id: DEFAULT_API_CLIENT_ID,
            spa_client_id: DEFAULT_SPA_CLIENT_ID,
            redirect_uris: vec![
                DEFAULT_REDIRECT_URI
                    .parse()
                    .expect("the default redirect URI is valid"),
            ],
            public_client_id: DEFAULT_PUBLIC_CLIENT_ID,
            public_redirect_uris: vec![
                DEFAULT_PUBLIC_REDIRECT_URI
                    .parse()
                    .expect("the default public client redirect URI is valid"),
            ],
            access_token_version: TokenVersion::V1,
            access_token_lifetime: Duration::from_secs(3600),
            users: Users::default(),
            tls_data_dir: None,
            public_url: None,
        }
    }
}

/// Why a provider did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("cannot create the signing key: {0}")]
    Keys(#[from] KeyError),
    #[error("at least one redirect URI must be registered for each client")]
    NoRedirectUri,
    #[error("the SPA and the public client must have different client ids")]
    SameClientIds,
    #[error("the access token lifetime must be at least one second")]
    ZeroLifetime,
    #[error("HTTPS: {0}")]
    Tls(#[from] TlsError),
}

impl ProviderBuilder {
    /// The port on 127.0.0.1; 0 (the builder's default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    pub fn tenant_id(mut self, tenant_id: Uuid) -> Self {
        self.tenant_id = tenant_id;
        self
    }

    pub fn api_client_id(mut self, api_client_id: Uuid) -> Self {
        self.api_client_id = api_client_id;
        self
    }

    pub fn spa_client_id(mut self, spa_client_id: Uuid) -> Self {
        self.spa_client_id = spa_client_id;
        self
    }

    /// Replaces the SPA's registered redirect URIs (default `http://localhost:8080/`).
    pub fn redirect_uris(mut self, uris: impl IntoIterator<Item = RedirectUri>) -> Self {
        self.redirect_uris = uris.into_iter().collect();
        self
    }

    /// The public (desktop, mobile, CLI) client's application id.
    pub fn public_client_id(mut self, public_client_id: Uuid) -> Self {
        self.public_client_id = public_client_id;
        self
    }

    /// Replaces the public client's registered redirect URIs (default `http://localhost`, any
    /// port).
    pub fn public_redirect_uris(mut self, uris: impl IntoIterator<Item = RedirectUri>) -> Self {
        self.public_redirect_uris = uris.into_iter().collect();
        self
    }

    /// Serves HTTPS, with a local CA created in (or loaded from) `data_dir` on start; every
    /// published URL is `https://127.0.0.1:{port}/…`. See [`RunningProvider::ca_certificate`].
    pub fn https(mut self, data_dir: impl Into<PathBuf>) -> Self {
        self.tls_data_dir = Some(data_dir.into());
        self
    }

    /// The origin clients reach the provider at through a reverse proxy: discovery, issuers and
    /// endpoints name it instead of the provider's own address.
    pub fn public_url(mut self, url: PublicUrl) -> Self {
        self.public_url = Some(url);
        self
    }

    pub fn access_token_version(mut self, version: TokenVersion) -> Self {
        self.access_token_version = version;
        self
    }

    /// Access token lifetime, in whole seconds (default one hour).
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    pub fn users(mut self, users: Users) -> Self {
        self.users = users;
        self
    }

    /// Generates the signing key, binds 127.0.0.1 and serves until the handle is shut down or
    /// dropped.
    pub async fn spawn(self) -> Result<RunningProvider, StartError> {
        if self.redirect_uris.is_empty() || self.public_redirect_uris.is_empty() {
            return Err(StartError::NoRedirectUri);
        }
        if self.spa_client_id == self.public_client_id {
            return Err(StartError::SameClientIds);
        }
        let access_token_lifetime_secs = self.access_token_lifetime.as_secs();
        if access_token_lifetime_secs == 0 {
            return Err(StartError::ZeroLifetime);
        }
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let bind_error = |source| StartError::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let keys = tokio::task::spawn_blocking(KeyRing::generate)
            .await
            .map_err(|_| KeyError::Generate)??;
        let ca = match self.tls_data_dir {
            Some(dir) => {
                let path = dir.display().to_string();
                let loaded = tokio::task::spawn_blocking(move || LocalCa::load_or_create(&dir))
                    .await
                    .map_err(|err| TlsError::Io {
                        path,
                        source: io::Error::other(err),
                    })?;
                Some(loaded?)
            }
            None => None,
        };
        let settings = Settings {
            tenant_id: self.tenant_id,
            api_client_id: self.api_client_id,
            spa: Client {
                id: self.spa_client_id,
                kind: ClientKind::Spa,
                redirect_uris: self.redirect_uris,
            },
            public: Client {
                id: self.public_client_id,
                kind: ClientKind::Public,
                redirect_uris: self.public_redirect_uris,
            },
            access_token_version: self.access_token_version,
            access_token_lifetime_secs,
            users: self.users,
        };
        let base = match (&self.public_url, &ca) {
            (Some(public), _) => public.origin(),
            (None, Some(_)) => format!("https://{local_addr}"),
            (None, None) => format!("http://{local_addr}"),
        };
        let urls = Urls::new(base, self.tenant_id);
        let state = AppState::new(settings, urls, keys, Clock::default());
        let (stop, stopped) = oneshot::channel::<()>();
        // Resolves on `shutdown()` and also when the handle is dropped.
        let stopped = async {
            let _ = stopped.await;
        };
        let router = app(state.clone());
        let task = match &ca {
            Some(ca) => {
                let listener = ca.listener(listener).map_err(bind_error)?;
                let server = axum::serve(listener, router).with_graceful_shutdown(stopped);
                tokio::spawn(async move { server.await })
            }
            None => {
                let server = axum::serve(listener, router).with_graceful_shutdown(stopped);
                tokio::spawn(async move { server.await })
            }
        };
        Ok(RunningProvider {
            state,
            local_addr,
            ca,
            stop: Some(stop),
            task,
        })
    }
}

/// All routes, with the limits every request is held to.
fn app(state: AppState) -> Router {
    Router::new()
        .merge(discovery::routes())
        .merge(authorize::routes())
        .merge(token_endpoint::routes(&state))
        .merge(session::routes())
        .merge(dev::routes())
        .fallback(unknown_endpoint)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // The path only: query strings carry codes and logout's `id_token_hint`, never logged.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}

async fn unknown_endpoint(uri: Uri) -> Error {
    Error::UnknownEndpoint(uri.path().chars().take(256).collect())
}

/// A provider serving on 127.0.0.1; it stops when shut down or dropped.
#[derive(Debug)]
pub struct RunningProvider {
    state: AppState,
    local_addr: SocketAddr,
    ca: Option<LocalCa>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl RunningProvider {
    /// `http://127.0.0.1:{port}` (`https://` with HTTPS, or the public URL): the
    /// `AZURE_AUTHORITY_HOST` of an API that trusts this provider.
    pub fn base_url(&self) -> &str {
        &self.state.urls.base
    }

    /// `{base_url}/{tenant}`: the SPA's `authority`.
    pub fn authority(&self) -> &str {
        &self.state.urls.authority
    }

    /// The issuer of v2.0 tokens (ID tokens, and access tokens when configured for v2):
    /// `{authority}/v2.0`.
    pub fn v2_issuer(&self) -> &str {
        &self.state.urls.v2_issuer
    }

    /// The issuer of v1.0 access tokens: `{authority}/`, the local counterpart of
    /// `https://sts.windows.net/{tenant}/`.
    pub fn v1_issuer(&self) -> &str {
        &self.state.urls.v1_issuer
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn tenant_id(&self) -> Uuid {
        self.state.settings.tenant_id
    }

    pub fn api_client_id(&self) -> Uuid {
        self.state.settings.api_client_id
    }

    pub fn spa_client_id(&self) -> Uuid {
        self.state.settings.spa.id
    }

    /// The SPA's redirect URIs.
    pub fn redirect_uris(&self) -> &[RedirectUri] {
        &self.state.settings.spa.redirect_uris
    }

    /// The public (desktop, mobile, CLI) client's application id.
    pub fn public_client_id(&self) -> Uuid {
        self.state.settings.public.id
    }

    pub fn public_redirect_uris(&self) -> &[RedirectUri] {
        &self.state.settings.public.redirect_uris
    }

    /// With HTTPS, the local CA's certificate (`ca.pem` in the data folder): what clients must
    /// trust (`NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, or the system's store).
    pub fn ca_certificate(&self) -> Option<&Path> {
        self.ca.as_ref().map(LocalCa::ca_cert)
    }

    /// Whether this start created the CA, which must then be trusted (again).
    pub fn ca_created(&self) -> bool {
        self.ca.as_ref().is_some_and(LocalCa::created)
    }

    pub fn access_token_version(&self) -> TokenVersion {
        self.state.settings.access_token_version
    }

    pub fn users(&self) -> &Users {
        &self.state.settings.users
    }

    /// The variables that make the API trust this provider (see CONTRACTS.md):
    /// `AZURE_AUTHORITY_HOST`, `AZURE_TENANT_ID`, `AZURE_API_CLIENT_ID`.
    pub fn api_environment(&self) -> [(&'static str, String); 3] {
        [
            ("AZURE_AUTHORITY_HOST", self.base_url().to_owned()),
            ("AZURE_TENANT_ID", self.tenant_id().to_string()),
            ("AZURE_API_CLIENT_ID", self.api_client_id().to_string()),
        ]
    }

    /// Moves the provider's clock forward: codes, sessions and refresh tokens expire, and tokens
    /// issued from now on carry later `iat`/`nbf`/`exp`. For tests that must not sleep.
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }

    /// DEV-ONLY: signs with a new key from now on, keeping the previous ones published for a
    /// while (like `POST {authority}/dev/rotate-signing-key`). Returns the new `kid`.
    pub async fn rotate_signing_key(&self) -> Result<String, KeyError> {
        dev::rotate(self.state.clone())
            .await
            .map_err(|_| KeyError::Generate)
    }

    /// Stops accepting connections and waits (a few seconds at most) for open ones to finish.
    pub async fn shutdown(mut self) -> io::Result<()> {
        self.stop.take();
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut self.task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join_error)) => Err(io::Error::other(join_error)),
            Err(_) => {
                self.task.abort();
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_builder_registers_the_local_spa() {
        let builder = ProviderBuilder::default();
        assert_eq!(builder.redirect_uris[0].as_str(), DEFAULT_REDIRECT_URI);
        assert_eq!(builder.port, 0);
    }
}
