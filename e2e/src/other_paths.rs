//! An OpenID provider whose endpoints are not at Entra's paths: a stand-in on its own loopback
//! origin that serves a discovery document at `/idp/.well-known/openid-configuration` naming
//! `/idp/authorize`, `/idp/token` and `/idp/logout`, and passes each of those to dev-identity at
//! Entra's paths (a redirect for the browser's navigations, a forwarded request for the token
//! endpoint). `/idp/v2.0/.well-known/openid-configuration`, where Microsoft's authorities serve
//! theirs (and the SPA looks first, the stand-in being on this machine like dev-identity), answers
//! 404. The SPA signs in through it only if it finds every endpoint through discovery, and the
//! stand-in records which paths it was asked for.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use dev_identity::RunningProvider;
use serde_json::json;
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{Context, Outcome};

/// The authority path the SPA is configured with.
const AUTHORITY_PATH: &str = "/idp";

#[derive(Debug, Clone)]
struct Upstream {
    origin: String,
    /// dev-identity's authority (`{base}/{tenant}`), under which Entra's paths are.
    authority: String,
    issuer: String,
    client: reqwest::Client,
    /// The paths asked for, in order.
    asked: Arc<Mutex<Vec<String>>>,
}

/// The stand-in, stopped when dropped.
#[derive(Debug)]
pub struct OtherPaths {
    origin: String,
    asked: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl OtherPaths {
    /// Starts the stand-in in front of `provider`.
    pub async fn start(provider: &RunningProvider) -> Outcome<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let origin = format!("http://{}", listener.local_addr()?);
        let asked = Arc::new(Mutex::new(Vec::new()));
        let upstream = Upstream {
            origin: origin.clone(),
            authority: provider.authority().to_owned(),
            issuer: provider.v2_issuer().to_owned(),
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .context("an HTTP client")?,
            asked: Arc::clone(&asked),
        };
        let router = Router::new()
            .route("/idp/.well-known/openid-configuration", get(configuration))
            .route("/idp/authorize", get(authorize))
            .route("/idp/token", post(token))
            .route("/idp/logout", get(logout))
            .fallback(not_found)
            .with_state(upstream);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            origin,
            asked,
            task,
        })
    }

    /// The authority to configure the SPA with: `http://127.0.0.1:{port}/idp`.
    pub fn authority(&self) -> String {
        format!("{}{AUTHORITY_PATH}", self.origin)
    }

    /// `http://127.0.0.1:{port}`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The paths the stand-in was asked for, in order.
    pub fn asked(&self) -> Vec<String> {
        self.asked
            .lock()
            .map(|asked| asked.clone())
            .unwrap_or_default()
    }
}

impl Drop for OtherPaths {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Upstream {
    fn record(&self, path: &str) {
        if let Ok(mut asked) = self.asked.lock() {
            asked.push(path.to_owned());
        }
    }

    /// dev-identity's address for Entra's `endpoint` with this request's query.
    fn entra_path(&self, endpoint: &str, uri: &Uri) -> String {
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        format!("{}/oauth2/v2.0/{endpoint}{query}", self.authority)
    }
}

/// The discovery document, readable from any origin as Entra's is.
async fn configuration(State(upstream): State<Upstream>) -> Response {
    upstream.record("/idp/.well-known/openid-configuration");
    let base = format!("{}{AUTHORITY_PATH}", upstream.origin);
    (
        [(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        )],
        Json(json!({
            "issuer": upstream.issuer,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "end_session_endpoint": format!("{base}/logout"),
            "jwks_uri": format!("{}/discovery/v2.0/keys", upstream.authority),
            "response_types_supported": ["code"],
        })),
    )
        .into_response()
}

/// Any other path, among them `/idp/v2.0/.well-known/openid-configuration`: a 404 the SPA can
/// read (with CORS), as a provider's answer should be.
async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        )],
    )
        .into_response()
}

async fn authorize(State(upstream): State<Upstream>, uri: Uri) -> Redirect {
    upstream.record("/idp/authorize");
    Redirect::to(&upstream.entra_path("authorize", &uri))
}

async fn logout(State(upstream): State<Upstream>, uri: Uri) -> Redirect {
    upstream.record("/idp/logout");
    Redirect::to(&upstream.entra_path("logout", &uri))
}

/// The token request, sent on with the browser's `Origin` (dev-identity checks it against the
/// SPA's redirect URIs, as Entra does); the answer comes back with its CORS header.
async fn token(
    State(upstream): State<Upstream>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    upstream.record("/idp/token");
    let mut request = upstream.client.post(upstream.entra_path("token", &uri));
    for name in [header::ORIGIN, header::CONTENT_TYPE] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value);
        }
    }
    let answer = match request.body(body).send().await {
        Ok(answer) => answer,
        Err(error) => return (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    };
    let status = answer.status();
    let mut kept = HeaderMap::new();
    for name in [
        header::CONTENT_TYPE,
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::CACHE_CONTROL,
    ] {
        if let Some(value) = answer.headers().get(&name) {
            kept.insert(name, value.clone());
        }
    }
    match answer.bytes().await {
        Ok(body) => (status, kept, body).into_response(),
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}
