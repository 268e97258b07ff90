//! [`TestApp`]: the real application on a loopback port, configured through the same variables as
//! production, with a [`KeyServer`] publishing the test keys at Entra's paths.

use std::{
    collections::HashMap, future::pending, net::SocketAddr, path::Path, sync::Arc, time::Duration,
};

use backend::{
    AppState, app,
    config::Config,
    serve,
    store::{Scope, TaskDraft, TaskStore},
};
use reqwest::{Method, header::HeaderMap};
use serde_json::Value;
use shared::Task;
use sqlx::{Connection, SqliteConnection, sqlite::SqliteConnectOptions};
pub use testkit::{KeyServer, TestKey};

/// The longest any test waits for a state change (keys loaded, ...).
const WAIT: Duration = Duration::from_secs(15);

pub struct TestApp {
    pub addr: SocketAddr,
    pub keys: KeyServer,
    pub primary: TestKey,
    pub store: Arc<dyn TaskStore>,
    client: reqwest::Client,
}

#[derive(Default)]
pub struct TestAppBuilder {
    vars: HashMap<String, String>,
    keys_down: bool,
}

impl TestAppBuilder {
    /// Sets a configuration variable as the environment would.
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The identity provider is down when the API starts.
    pub fn keys_down(mut self) -> Self {
        self.keys_down = true;
        self
    }

    pub async fn start(self) -> TestApp {
        let primary = TestKey::primary();
        let keys = KeyServer::start(&[&primary]).await;
        keys.set_available(!self.keys_down);
        let mut vars = self.vars;
        for (name, value) in [
            ("AZURE_TENANT_ID", testkit::TENANT_ID),
            ("AZURE_API_CLIENT_ID", testkit::CLIENT_ID),
            ("AZURE_AUTHORITY_HOST", keys.authority_host()),
            ("ALLOWED_ORIGINS", "http://localhost:8080"),
            // Tests that need a durable store set DATABASE_URL themselves.
            ("DATABASE_URL", "memory:"),
        ] {
            vars.entry(name.to_owned())
                .or_insert_with(|| value.to_owned());
        }
        let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
        let state = AppState::from_config(&config).await.expect("state");
        let store = state.store.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(serve(
            listener,
            app(state),
            pending(),
            Duration::from_secs(1),
        ));
        let app = TestApp {
            addr,
            keys,
            primary,
            store,
            client: reqwest::Client::builder()
                .timeout(WAIT)
                .no_proxy()
                .build()
                .expect("client"),
        };
        if !self.keys_down {
            app.wait_until_ready().await;
        }
        app
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub async fn spawn() -> TestApp {
        Self::builder().start().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A valid token from the primary key for user `oid` holding `roles`.
    pub fn token(&self, oid: &str, roles: &[&str]) -> String {
        testkit::sign(&self.primary, &self.keys.claims(oid, roles))
    }

    /// Sends a request; `body` is sent as JSON.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(body).expect("JSON"));
        }
        self.read(request).await
    }

    /// Sends a request built by the caller (odd headers, raw bodies).
    pub async fn read(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, None).await
    }

    /// Polls `/ready` until it answers 200.
    pub async fn wait_until_ready(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.get("/ready", None).await.status != 200 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "API not ready in {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Puts a task straight into the store (for users who may not create one themselves).
    pub async fn seed(&self, owner: &str, title: &str) -> Task {
        let draft = TaskDraft {
            title: title.to_owned(),
            owner_id: owner.to_owned(),
            owner_name: format!("User {owner}"),
        };
        self.store.create(draft).await.expect("seed")
    }

    pub async fn all_tasks(&self) -> Vec<Task> {
        self.store.list(Scope::All).await.expect("list")
    }
}

/// `WWW-Authenticate` of a refused token: RFC 6750 `invalid_token`.
pub fn assert_invalid_token(reply: &Reply, case: &str) {
    assert_eq!(reply.status, 401, "{case}: {reply:?}");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains(r#"error="invalid_token""#),
        "{case}: challenge {challenge:?}"
    );
    assert_eq!(reply.code(), "unauthorized", "{case}");
}

/// An `ApiError` reply with this status and code, whose message mentions `word`.
pub fn assert_error(reply: &Reply, status: u16, code: &str, word: &str, case: &str) {
    assert_eq!(
        (reply.status, reply.code()),
        (status, code),
        "{case}: {reply:?}"
    );
    assert!(
        reply.message().contains(word),
        "{case}: message {:?} should mention {word:?}",
        reply.message()
    );
}

/// SQLite's write lock on a database file, held by this test as another writer would hold it:
/// the API's writes wait for it (up to `DATABASE_TIMEOUT_SECS`), so a request is slow for real.
pub struct SqliteWriteLock(SqliteConnection);

impl SqliteWriteLock {
    pub async fn take(database: &Path) -> Self {
        let options = SqliteConnectOptions::new().filename(database);
        let mut connection = SqliteConnection::connect_with(&options)
            .await
            .expect("open the database");
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut connection)
            .await
            .expect("take the write lock");
        Self(connection)
    }

    pub async fn release(mut self) {
        sqlx::query("ROLLBACK")
            .execute(&mut self.0)
            .await
            .expect("release the write lock");
    }
}
