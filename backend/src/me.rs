//! `GET /api/me`: who the API thinks the caller is.

use axum::Json;
use shared::Me;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    access::{Authenticated, Authorized},
    error::ServerFailures,
    state::AppState,
};

/// Behind the authentication layer.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

/// The caller's identity, roles and scopes, from their access token. Any valid token, even one
/// without roles, so the SPA can show "No role assigned".
#[utoipa::path(get, path = shared::routes::ME, tag = "identity",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "Missing or invalid token", body = shared::ApiError),
        ServerFailures,
    ))]
pub async fn me(caller: Authorized<Authenticated>) -> Json<Me> {
    Json(caller.me())
}
