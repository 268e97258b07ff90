//! `GET /api/me`: who the API thinks the caller is.

use axum::{Json, Router, routing::get};
use shared::{Me, routes};

use crate::{
    AppState,
    auth::{Authenticated, Authorized},
    openapi::ServerFailures,
};

pub fn routes() -> Router<AppState> {
    Router::new().route(routes::ME, get(me))
}

/// The caller's identity, roles and scopes, from their access token. Any valid token, even one
/// without roles, so the SPA can show "No role assigned".
#[utoipa::path(get, path = routes::ME, tag = "identity",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "Missing or invalid token", body = shared::ApiError),
        ServerFailures,
    ))]
pub async fn me(caller: Authorized<Authenticated>) -> Json<Me> {
    Json(caller.me())
}
