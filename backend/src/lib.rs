//! The tasks API: Entra ID access tokens in, role-checked task operations out.
//!
//! [`app`] builds the whole HTTP application from an [`AppState`], so `main` and the integration
//! tests run exactly the same stack; [`AppState::from_config`] wires the production parts and
//! [`serve`] runs it with a bounded graceful shutdown.
//!
//! The modules import one way only (a test checks there is no cycle): this root assembles;
//! `state` and `config` wire the subsystems; the routes (`health`, `me`, `tasks`, `openapi`) and
//! `access` (the authentication layer and role extractors) sit on `error`, which maps every
//! failure to HTTP; under them the subsystems (`auth`, `key_vault`, `azure`, `store`, `cors`,
//! `server`, `telemetry`), each parsing its own settings; at the bottom the leaves (`vars`,
//! `validate`, `body`, `outbound`, `backoff`).

mod access;
pub mod auth;
pub mod azure;
mod backoff;
mod body;
pub mod config;
mod cors;
pub mod error;
mod health;
pub mod key_vault;
mod me;
mod openapi;
mod outbound;
mod server;
mod state;
pub mod store;
mod tasks;
pub mod telemetry;
mod validate;
mod vars;

use std::time::Duration;

use axum::{
    Router,
    extract::{Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use crate::{
    body::BODY_LIMIT_BYTES,
    server::serve,
    state::{AppState, StartError, WebSettings},
};
use crate::{error::AppError, openapi::ApiDoc, telemetry::REQUEST_ID};

/// The whole application: the routes (those that take a token behind the authentication layer),
/// their OpenAPI document, then the layers every request passes through (request id, request
/// log, panic guard, compression, CORS, timeout, the body read whole).
pub fn app(state: AppState) -> Router {
    let with_token = OpenApiRouter::new()
        .merge(me::routes())
        .merge(tasks::routes())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            access::authenticate,
        ));
    let (routes, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::routes())
        .merge(with_token)
        .split_for_parts();
    let cors = state.web.cors.layer();
    let timeout = state.web.request_timeout;

    routes
        .merge(openapi::route(document))
        .fallback(|| async { AppError::RouteNotFound })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .with_state(state)
        // One stack, listed outermost first (a request meets them top to bottom). The timeout
        // sits inside CORS so that a browser can read its answer.
        .layer(
            ServiceBuilder::new()
                .layer(middleware::map_request(telemetry::sanitize_request_id))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(middleware::from_fn(telemetry::log_request))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::custom(|_| {
                    AppError::Panicked.into_response()
                }))
                .layer(CompressionLayer::new())
                .layer(cors)
                .layer(middleware::from_fn_with_state(timeout, time_limit))
                .layer(middleware::from_fn(body::read_whole)),
        )
}

/// Answers [`AppError::RequestTimeout`] when the rest of the stack takes longer than `limit`
/// (tower-http's `TimeoutLayer` would answer an empty body, not an `ApiError`). The work in
/// flight is dropped with the future.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    tokio::time::timeout(limit, next.run(request))
        .await
        .unwrap_or_else(|_| AppError::RequestTimeout { limit }.into_response())
}
