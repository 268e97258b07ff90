//! `GET /api/openapi.json`: the API described from the handlers' own annotations, so the document
//! cannot drift from the routes (a test checks every route is listed).

use axum::{Json, Router, routing::get};
use shared::{ApiError, ErrorCode, Me, NewTask, Role, Task, TaskPatch, routes};
use utoipa::{
    IntoResponses, Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{AppState, health, me, tasks};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tasks API",
        description = "Tasks with Entra ID app roles: Admin manages every task, Editor creates and edits their own, Reader reads their own. Send an Entra ID access token for `api://<api-client-id>/access_as_user` as `Authorization: Bearer <token>`."
    ),
    paths(
        health::health, health::ready, me::me,
        tasks::list, tasks::create, tasks::update, tasks::remove,
        openapi_json,
    ),
    components(schemas(Me, Task, NewTask, TaskPatch, ApiError, ErrorCode, Role, health::Status)),
    modifiers(&BearerToken),
)]
#[derive(Debug)]
pub struct ApiDoc;

/// Refusals of every route that needs a token (for the document only: never constructed).
#[derive(Debug, IntoResponses)]
#[expect(
    dead_code,
    reason = "describes responses to OpenAPI; errors are built by AppError"
)]
pub enum TokenRefusals {
    /// Missing or invalid access token (`WWW-Authenticate` says which).
    #[response(status = 401)]
    Unauthorized(ApiError),
    /// Valid token without any of the roles the route needs (the message names them).
    #[response(status = 403)]
    Forbidden(ApiError),
}

/// Answers of every route that needs a token when the API cannot serve it (for the document
/// only: never constructed). The message is generic; the cause is in the API's log.
#[derive(Debug, IntoResponses)]
#[expect(
    dead_code,
    reason = "describes responses to OpenAPI; errors are built by AppError"
)]
pub enum ServerFailures {
    /// Not answered within `REQUEST_TIMEOUT_SECS` (`request_timeout`).
    #[response(status = 408)]
    Timeout(ApiError),
    /// A handler failed unexpectedly (`internal`).
    #[response(status = 500)]
    Internal(ApiError),
    /// Signing keys not loaded yet (`keys_unavailable`, with `Retry-After`) or the task store
    /// unreachable (`store_unavailable`).
    #[response(status = 503)]
    Unavailable(ApiError),
}

/// Refusals of a JSON request body (for the document only: never constructed).
#[derive(Debug, IntoResponses)]
#[expect(
    dead_code,
    reason = "describes responses to OpenAPI; errors are built by AppError"
)]
pub enum BodyRefusals {
    /// Malformed JSON (or, in a path, a task id that is not an unsigned integer).
    #[response(status = 400)]
    Malformed(ApiError),
    /// Body over 16 KiB.
    #[response(status = 413)]
    TooLarge(ApiError),
    /// Body not sent as `application/json`.
    #[response(status = 415)]
    NotJson(ApiError),
    /// Not an object, unknown or mistyped field, missing or invalid title.
    #[response(status = 422)]
    Invalid(ApiError),
}

#[derive(Debug)]
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Entra ID access token for this API"))
                    .build(),
            ),
        );
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route(routes::OPENAPI, get(openapi_json))
}

/// This document.
#[utoipa::path(get, path = routes::OPENAPI, tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
