//! The OpenAPI document: what no single route says (title, the bearer scheme, the shared schemas)
//! is here; each route's own description sits on its handler and joins the document through the
//! same `routes!` that routes it, so the document cannot drift from the routes (a test checks
//! every route is listed and served).

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use shared::{ApiError, ErrorCode, Me, NewTask, Role, Task, TaskPatch, routes};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tasks API",
        description = "Tasks with Entra ID app roles: Admin manages every task, Editor creates and edits their own, Reader reads their own. Send an Entra ID access token for `api://<api-client-id>/access_as_user` as `Authorization: Bearer <token>`."
    ),
    components(schemas(Me, Task, NewTask, TaskPatch, ApiError, ErrorCode, Role)),
    modifiers(&BearerToken),
)]
#[derive(Debug)]
pub struct ApiDoc;

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

/// The document as served, serialized once.
#[derive(Debug, Clone)]
pub struct Document(Bytes);

/// The route of the document itself, for a `document` that describes every other route: its
/// own description is added before it is serialized, once.
pub fn route<S>(mut document: utoipa::openapi::OpenApi) -> Router<S> {
    let (router, own) = OpenApiRouter::new()
        .routes(routes!(openapi_json))
        .split_for_parts();
    document.merge(own);
    let json = serde_json::to_vec(&document).expect("an OpenAPI document serializes");
    router.with_state(Document(json.into()))
}

/// This document.
#[utoipa::path(get, path = routes::OPENAPI, tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json(State(document): State<Document>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document.0).into_response()
}
