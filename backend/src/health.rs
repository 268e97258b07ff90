//! Probes for the platform: liveness (`/health`) and readiness (`/ready`).

use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;
use shared::{ApiError, ErrorCode};
use utoipa::ToSchema;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `healthy` or `ready`.
    status: &'static str,
}

/// Liveness: the process serves requests.
#[utoipa::path(get, path = shared::routes::HEALTH, tag = "probes",
    responses((status = 200, description = "The process serves", body = Status)))]
pub async fn health() -> Json<Status> {
    Json(Status { status: "healthy" })
}

/// Readiness: configuration and the tenant's signing keys are loaded, so tokens can be checked.
#[utoipa::path(get, path = shared::routes::READY, tag = "probes",
    responses(
        (status = 200, description = "Ready to serve", body = Status),
        (status = 503, description = "Configuration or signing keys not loaded yet", body = ApiError),
    ))]
pub async fn ready(
    State(state): State<AppState>,
) -> Result<Json<Status>, (StatusCode, Json<ApiError>)> {
    if state.auth.is_ready() {
        Ok(Json(Status { status: "ready" }))
    } else {
        let message = if state.auth.is_configured() {
            "signing keys are not loaded yet"
        } else {
            "configuration is not loaded yet (Key Vault)"
        };
        let error = ApiError::new(ErrorCode::NotReady, message);
        Err((StatusCode::SERVICE_UNAVAILABLE, Json(error)))
    }
}
