//! The managed identity endpoint as Container Apps (and App Service) expose it: `GET
//! $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=...` with the header
//! `X-IDENTITY-HEADER: $IDENTITY_HEADER`, answered with `access_token`, `expires_on` (a string of
//! epoch seconds), `resource` and `token_type`.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
};

use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;

use super::{VAULT_RESOURCE, random_hex};

/// The endpoint on `127.0.0.1:<free port>`, issuing one token for one resource.
#[derive(Debug, Clone)]
pub struct IdentityEndpoint {
    endpoint: String,
    state: Arc<EndpointState>,
}

#[derive(Debug)]
struct EndpointState {
    header: String,
    /// The one resource (audience) it issues tokens for; others are refused as Entra would.
    resource: String,
    token: String,
    /// Query strings of the token requests received.
    requests: Mutex<Vec<HashMap<String, String>>>,
}

impl IdentityEndpoint {
    /// Starts the endpoint on the current Tokio runtime, issuing `token` for Key Vault.
    pub async fn start(token: &str) -> Self {
        Self::for_resource(VAULT_RESOURCE, token).await
    }

    /// Starts the endpoint issuing `token` for `resource` (e.g.
    /// `https://ossrdbms-aad.database.windows.net` for Azure Database for PostgreSQL).
    pub async fn for_resource(resource: &str, token: &str) -> Self {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind a loopback port");
        let endpoint = format!(
            "http://{}/msi/token",
            listener.local_addr().expect("local address")
        );
        let state = Arc::new(EndpointState {
            header: random_hex(16),
            resource: resource.to_owned(),
            token: token.to_owned(),
            requests: Mutex::default(),
        });
        let router = Router::new()
            .route("/msi/token", get(issue))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { endpoint, state }
    }

    /// `IDENTITY_ENDPOINT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// `IDENTITY_HEADER`: the secret the platform shares with the app.
    pub fn header(&self) -> &str {
        &self.state.header
    }

    /// Query parameters of each token request so far.
    pub fn requests(&self) -> Vec<HashMap<String, String>> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

async fn issue(
    State(state): State<Arc<EndpointState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    state
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(query.clone());
    let refuse = |status: StatusCode, message: &str| {
        (
            status,
            Json(json!({"statusCode": status.as_u16(), "message": message})),
        )
            .into_response()
    };
    let header = headers
        .get("x-identity-header")
        .and_then(|v| v.to_str().ok());
    if header != Some(state.header.as_str()) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "missing or wrong X-IDENTITY-HEADER",
        );
    }
    if query.get("api-version").map(String::as_str) != Some("2019-08-01") {
        return refuse(StatusCode::BAD_REQUEST, "unsupported api-version");
    }
    let resource = query.get("resource").cloned().unwrap_or_default();
    if resource != state.resource {
        return refuse(StatusCode::BAD_REQUEST, "unknown resource");
    }
    let expires_on = crate::now() + 3600;
    Json(json!({
        "access_token": state.token,
        "expires_on": expires_on.to_string(),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": "9d2c3a0e-0000-4000-8000-00000000c11e",
    }))
    .into_response()
}
