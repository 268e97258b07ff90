//! The whole product on loopback, on ports chosen at run time: the local identity provider, the API
//! and the SPA's release build behind the Static Web Apps stand-in, wired together the way
//! deploy.sh wires them in Azure (redirect URI, CORS origin, `config.json`, CSP `connect-src`).
//!
//! The API runs in this process, built by `backend::app` from a `Config` parsed from the same
//! variables `main` reads, rather than as the `backend` executable: cargo gives integration tests
//! the path of their own package's binaries only, and building or locating another package's
//! binary from a test either races the running cargo or runs a stale build. In-process, the code
//! under test is always the code just compiled, and stopping it closes its port like a crash would.
//! The binary's own start-up (environment, logging, signals) is tested in backend/tests/api/ops.rs.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use backend::{
    AppState, app,
    config::Config,
    serve,
    store::{TaskDraft, TaskStore},
};
use dev_identity::{Provider, RunningProvider, User};
use shared::{SpaConfig, Task};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::{
    Context, Failure, Outcome,
    other_paths::OtherPaths,
    site::{RunningSite, Site},
};

/// How long the API may take to load the provider's signing keys.
const API_READY: Duration = Duration::from_secs(15);
/// Requests in flight when the API is stopped get this long to finish.
const API_GRACE: Duration = Duration::from_secs(1);

/// How the provider issues access tokens, and where the SPA finds it.
#[derive(Debug, Clone, Copy)]
pub struct StackOptions {
    pub access_token_lifetime: Duration,
    /// Sign in through [`OtherPaths`], a provider whose endpoints are not at Entra's paths, in
    /// front of dev-identity, instead of through dev-identity's own authority.
    pub other_paths: bool,
}

impl Default for StackOptions {
    /// Entra's default lifetime (one hour), dev-identity as the authority.
    fn default() -> Self {
        Self {
            access_token_lifetime: Duration::from_secs(3600),
            other_paths: false,
        }
    }
}

/// Provider, API and site, stopped when dropped.
#[derive(Debug)]
pub struct Stack {
    pub provider: RunningProvider,
    pub api: Api,
    /// The authority with other paths, when the options ask for it.
    pub other_paths: Option<OtherPaths>,
    site: RunningSite,
}

impl Stack {
    /// Starts everything for the SPA build in `dist`.
    pub async fn start(dist: &Path, options: StackOptions) -> Outcome<Self> {
        // The site's origin must be known first: it is the provider's redirect URI and the
        // API's allowed origin.
        let site_listener = TcpListener::bind("127.0.0.1:0").await?;
        let site_origin = format!("http://{}", site_listener.local_addr()?);
        let provider = Provider::builder()
            .redirect_uris([format!("{site_origin}/")
                .parse()
                .context("the site's redirect URI")?])
            .access_token_lifetime(options.access_token_lifetime)
            .spawn()
            .await
            .context("starting dev-identity")?;
        let api = Api::start(&provider, &site_origin).await?;

        let other_paths = if options.other_paths {
            Some(OtherPaths::start(&provider).await?)
        } else {
            None
        };
        // As deploy.sh does: the SPA connects to the authority's origin and to the API's.
        let (authority, authority_origin) = match &other_paths {
            Some(other) => (other.authority(), other.origin().to_owned()),
            None => (
                provider.authority().to_owned(),
                provider.base_url().to_owned(),
            ),
        };
        let mut site = Site::load(dist)?;
        site.config_mut().allow_connect_src(&authority_origin)?;
        site.config_mut().allow_connect_src(&api.origin())?;
        let config = SpaConfig {
            client_id: provider.spa_client_id().to_string(),
            authority,
            api_scope: format!("api://{}/{}", provider.api_client_id(), shared::API_SCOPE),
            api_base_url: api.origin(),
            redirect_uri: Some(format!("{site_origin}/")),
        };
        site.put("/config.json", serde_json::to_vec_pretty(&config)?);
        let site = site.serve(site_listener)?;
        Ok(Self {
            provider,
            api,
            other_paths,
            site,
        })
    }

    /// `http://127.0.0.1:{port}`: where the browser opens the app.
    pub fn site_origin(&self) -> String {
        self.site.origin()
    }

    /// The provider's test user with this `login_hint` (`admin`, `editor`, `reader`, `guest`).
    pub fn user(&self, name: &str) -> Outcome<&User> {
        self.provider
            .users()
            .find(name)
            .ok_or_else(|| Failure::new(format!("dev-identity has no user {name:?}")))
    }

    /// The `sessionStorage` key under which the SPA caches `entry` (`access_token`, ...).
    pub fn cache_key(&self, entry: &str) -> String {
        format!("entra-spa.{}.{entry}", self.provider.spa_client_id())
    }
}

/// The API on a fixed loopback port; it can be stopped and started again on that port with the
/// same state (tasks, signing keys), as a restarted replica behind the same address.
#[derive(Debug)]
pub struct Api {
    state: AppState,
    /// The SQLite file the tasks live in, as in a deployment without PostgreSQL; removed with it.
    _database: tempfile::TempDir,
    addr: SocketAddr,
    running: Option<(oneshot::Sender<()>, JoinHandle<std::io::Result<()>>)>,
}

impl Api {
    async fn start(provider: &RunningProvider, site_origin: &str) -> Outcome<Self> {
        let database = tempfile::tempdir()?;
        let mut vars: Vec<(&str, String)> = provider.api_environment().into();
        vars.extend([
            (
                "DATABASE_URL",
                format!("sqlite://{}", database.path().join("tasks.db").display()),
            ),
            ("ALLOWED_ORIGINS", site_origin.to_owned()),
            ("BIND_ADDRESS", "127.0.0.1".to_owned()),
            ("PORT", "0".to_owned()),
            // No leeway for expired tokens, so an access token past its `exp` is really refused
            // and the token-expiry scenario proves the SPA renewed it.
            ("TOKEN_CLOCK_SKEW_SECS", "0".to_owned()),
        ]);
        let config = Config::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        })
        .context("the API's configuration")?;
        let listener = TcpListener::bind(config.server.listen).await?;
        let mut api = Self {
            state: AppState::from_config(&config)
                .await
                .context("the API's task store")?,
            _database: database,
            addr: listener.local_addr()?,
            running: None,
        };
        api.serve(listener);
        api.wait_until_ready().await?;
        Ok(api)
    }

    fn serve(&mut self, listener: TcpListener) {
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve(
            listener,
            app(self.state.clone()),
            shutdown,
            API_GRACE,
        ));
        self.running = Some((stop, task));
    }

    /// `http://127.0.0.1:{port}`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops listening: connections to the port are refused until [`Api::restart`].
    pub async fn stop(&mut self) -> Outcome {
        if let Some((stop, task)) = self.running.take() {
            let _ = stop.send(());
            tokio::time::timeout(API_GRACE * 5, task)
                .await
                .context("stopping the API")???;
        }
        Ok(())
    }

    /// Serves again on the same port.
    pub async fn restart(&mut self) -> Outcome {
        let listener = TcpListener::bind(self.addr)
            .await
            .context(format!("listening again on {}", self.addr))?;
        self.serve(listener);
        self.wait_until_ready().await
    }

    async fn wait_until_ready(&self) -> Outcome {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}/ready", self.origin());
        let deadline = tokio::time::Instant::now() + API_READY;
        loop {
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            crate::ensure!(
                tokio::time::Instant::now() < deadline,
                "the API did not load the provider's signing keys within {API_READY:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Puts a task straight into the API's store, for users who may not create tasks themselves.
    pub async fn seed(&self, owner: &User, title: &str) -> Outcome<Task> {
        let draft = TaskDraft {
            title: title.to_owned(),
            owner_id: owner.oid().to_string(),
            owner_name: owner.display_name().to_owned(),
        };
        Ok(self.store().create(draft).await?)
    }

    fn store(&self) -> &Arc<dyn TaskStore> {
        &self.state.store
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        if let Some((_, task)) = self.running.take() {
            task.abort();
        }
    }
}
