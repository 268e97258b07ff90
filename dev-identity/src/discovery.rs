//! OpenID Connect discovery: the v2.0 and v1 metadata documents and the signing key set, at
//! Entra's paths. An API configured with this provider's authority finds its issuers and keys
//! here, exactly as it would at `login.microsoftonline.com`.
//!
//! Like Entra's, these documents may be read from any origin (CORS `*`): SPAs fetch them.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderValue, Method, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;
use tower_http::cors::{Any, CorsLayer};

use crate::{
    settings::Urls,
    state::{AppState, KnownTenant},
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(v2_metadata),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(v1_metadata),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(keys))
        .route("/{tenant}/discovery/keys", get(keys))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET]),
        )
}

/// The fields of Entra's metadata that describe what this provider really does.
#[derive(Debug, Serialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    end_session_endpoint: String,
    jwks_uri: String,
    response_types_supported: [&'static str; 1],
    response_modes_supported: [&'static str; 3],
    grant_types_supported: [&'static str; 2],
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 1],
    token_endpoint_auth_methods_supported: [&'static str; 1],
    code_challenge_methods_supported: [&'static str; 1],
    scopes_supported: [&'static str; 4],
    claims_supported: &'static [&'static str],
    request_uri_parameter_supported: bool,
    tenant_region_scope: Option<&'static str>,
}

impl Metadata {
    /// Both versions share the v2.0 endpoints (the only ones this provider has) and differ in
    /// `issuer` and `jwks_uri`, the two fields an API reads.
    fn new(urls: &Urls, issuer: &str, jwks_path: &str) -> Self {
        let authority = &urls.authority;
        Metadata {
            issuer: issuer.to_owned(),
            authorization_endpoint: format!("{authority}/oauth2/v2.0/authorize"),
            token_endpoint: format!("{authority}/oauth2/v2.0/token"),
            end_session_endpoint: format!("{authority}/oauth2/v2.0/logout"),
            jwks_uri: format!("{authority}/{jwks_path}"),
            response_types_supported: ["code"],
            response_modes_supported: ["query", "fragment", "form_post"],
            grant_types_supported: ["authorization_code", "refresh_token"],
            subject_types_supported: ["pairwise"],
            id_token_signing_alg_values_supported: ["RS256"],
            token_endpoint_auth_methods_supported: ["none"],
            code_challenge_methods_supported: ["S256"],
            scopes_supported: ["openid", "profile", "email", "offline_access"],
            claims_supported: &[
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nbf",
                "auth_time",
                "name",
                "nonce",
                "oid",
                "preferred_username",
                "tid",
                "ver",
                "email",
            ],
            request_uri_parameter_supported: false,
            tenant_region_scope: None,
        }
    }
}

async fn v2_metadata(_: KnownTenant, State(state): State<AppState>) -> Json<Metadata> {
    Json(Metadata::new(
        &state.urls,
        &state.urls.v2_issuer,
        "discovery/v2.0/keys",
    ))
}

async fn v1_metadata(_: KnownTenant, State(state): State<AppState>) -> Json<Metadata> {
    Json(Metadata::new(
        &state.urls,
        &state.urls.v1_issuer,
        "discovery/keys",
    ))
}

/// The key set: no caching, so a rotation is visible at once to whoever asks.
async fn keys(_: KnownTenant, State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(state.keys.jwks()),
    )
        .into_response()
}
