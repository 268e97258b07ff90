//! The tasks API: Entra ID access tokens in, role-checked task operations out.
//!
//! [`app`] builds the whole HTTP application from an [`AppState`], so `main` and the integration
//! tests run exactly the same stack; [`AppState::from_config`] wires the production parts and
//! [`serve`] runs it with a bounded graceful shutdown.

pub mod auth;
pub mod azure;
mod backoff;
pub mod config;
pub mod error;
mod health;
pub mod key_vault;
mod me;
mod openapi;
mod outbound;
pub mod store;
mod tasks;
pub mod telemetry;

use std::{any::Any, future::Future, sync::Arc, time::Duration};

use axum::{
    Extension, Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
};

use crate::{
    auth::{Authenticator, TokenVerifier},
    config::{Config, IdsSource},
    error::AppError,
    store::{OpenError, TaskStore},
    telemetry::{Failure, REQUEST_ID},
};

pub use openapi::ApiDoc;

/// Largest request body accepted (a task is a title of at most 200 characters).
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub auth: Arc<Authenticator>,
    pub store: Arc<dyn TaskStore>,
    pub web: Arc<WebSettings>,
}

/// HTTP behaviour that is configuration, not code.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub allowed_origins: Vec<HeaderValue>,
    pub request_timeout: Duration,
}

/// Why the API could not start after its configuration was read.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot build the HTTP client for signing keys: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Store(#[from] OpenError),
}

impl AppState {
    /// The production wiring: a verifier for the configured tenant (keys loading in the
    /// background) and the task store `DATABASE_URL` names, opened and migrated before this
    /// returns. Needs a Tokio runtime. In Key Vault mode no verifier yet: [`key_vault::run`]
    /// installs one once the ids are read (until then `/ready` is 503 and tokens get 503).
    pub async fn from_config(config: &Config) -> Result<Self, StartError> {
        let store = store::open(&config.store).await?;
        let verifier = match &config.ids {
            IdsSource::Environment(ids) => {
                Some(TokenVerifier::start(ids.clone(), config.auth.clone())?)
            }
            IdsSource::KeyVault(_) => None,
        };
        Ok(Self {
            auth: Arc::new(Authenticator::new(verifier)),
            store,
            web: Arc::new(WebSettings {
                allowed_origins: config.allowed_origins.clone(),
                request_timeout: config.request_timeout,
            }),
        })
    }
}

/// The whole application: routes, then the layers every request passes through (request id,
/// request log, panic guard, compression, CORS, timeout, body limit).
pub fn app(state: AppState) -> Router {
    // A predicate over a shared list rather than `AllowOrigin::list`: the middleware stack is
    // cloned for every request, and a list would be copied each time.
    let origins: Arc<[HeaderValue]> = state.web.allowed_origins.clone().into();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origins.contains(origin)
        }))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([REQUEST_ID])
        .max_age(Duration::from_secs(600));
    let timeout = state.web.request_timeout;

    Router::new()
        .merge(health::routes())
        .merge(me::routes())
        .merge(tasks::routes())
        .merge(openapi::routes())
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
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(CompressionLayer::new())
                .layer(cors)
                .layer(middleware::from_fn_with_state(timeout, time_limit))
                .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES)),
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

/// A handler panicked: answer 500 without details; the request's log line says why.
fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    let error = shared::ApiError::new(shared::ErrorCode::Internal, "internal error");
    let failure = Failure::Fault("request handler panicked".into());
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Extension(failure),
        axum::Json(error),
    )
        .into_response()
}

/// Serves `router` until `shutdown` completes, then lets requests in flight finish for at most
/// `grace` before returning.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = stopping_tx.send(());
    };
    let server = axum::serve(listener, router).with_graceful_shutdown(signal);
    let deadline = async move {
        if stopping_rx.await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server.into_future() => result,
        () = deadline => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight at the shutdown deadline were dropped");
            Ok(())
        }
    }
}
