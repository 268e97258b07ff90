//! Every error the API answers with, mapped to a status and an [`ApiError`] body in one place.
//!
//! Client errors say precisely what to fix; server errors (5xx) are answered with a generic
//! message, so internals never leak, and their cause goes to the request's log line.

use axum::{
    Json,
    extract::{
        FromRequest, Request,
        rejection::{JsonRejection, PathRejection},
    },
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use shared::{ApiError, ErrorCode, Role, TitleError};
use utoipa::IntoResponses;

use crate::{auth::AuthError, store::StoreError, telemetry::Failure};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Authenticated, but holding none of the roles the route needs.
    #[error("requires one of the roles {needs:?}")]
    Forbidden { needs: &'static [Role] },
    #[error("task not found")]
    TaskNotFound,
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error(transparent)]
    Title(#[from] TitleError),
    #[error(transparent)]
    Json(#[from] JsonRejection),
    #[error("body is not a JSON object")]
    NotAnObject,
    #[error(transparent)]
    Path(#[from] PathRejection),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request took longer than `REQUEST_TIMEOUT_SECS`.
    #[error("request timed out after {limit:?}")]
    RequestTimeout { limit: std::time::Duration },
    /// A handler asked for the caller on a route outside the authentication layer: a bug in the
    /// router, answered 500 rather than served unauthenticated.
    #[error("route outside the authentication layer")]
    NotAuthenticated,
    /// The body is larger than the API reads (`crate::body`).
    #[error("body over {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// The body could not be read to its end (the client went away, or broke the framing).
    #[error("body could not be read")]
    BodyUnreadable,
    /// A handler panicked; the request's log line says so.
    #[error("request handler panicked")]
    Panicked,
}

/// RFC 6750 §3: a bare challenge when no token was sent, `invalid_token` when one was refused.
/// The reason stays in the debug log: telling which rule failed helps forgers, not users.
const CHALLENGE_MISSING: &str = r#"Bearer realm="tasks-api""#;
const CHALLENGE_INVALID: &str = r#"Bearer realm="tasks-api", error="invalid_token", error_description="the access token is missing, malformed, expired or not issued for this API""#;

fn body(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Response {
    (status, Json(ApiError::new(code, message))).into_response()
}

/// A server-side failure: the client gets `code` and `message`, the log gets `failure`.
fn failed(
    failure: Failure,
    status: StatusCode,
    code: ErrorCode,
    message: impl Into<String>,
) -> Response {
    let mut response = body(status, code, message);
    response.extensions_mut().insert(failure);
    response
}

fn unauthorized(challenge: &'static str, message: &str) -> Response {
    let mut response = body(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

/// The message of a JSON rejection without axum's generic prefix: serde's own words, which name
/// the field ("title: invalid type: integer `42`, expected a string at line 1 column 11").
fn json_detail(rejection: &JsonRejection) -> String {
    std::error::Error::source(rejection).map_or_else(|| rejection.body_text(), ToString::to_string)
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Auth(AuthError::Missing) => unauthorized(
                CHALLENGE_MISSING,
                "sign in: this API needs a bearer access token",
            ),
            AppError::Auth(AuthError::Invalid(_)) => unauthorized(
                CHALLENGE_INVALID,
                "the access token is invalid or expired: sign in again",
            ),
            AppError::Auth(AuthError::Unavailable) => {
                let mut response = failed(
                    Failure::Transient("signing keys not loaded".into()),
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::KeysUnavailable,
                    "the API cannot check access tokens yet; retry shortly",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                response
            }
            AppError::Forbidden { needs } => {
                let roles: Vec<&str> = needs.iter().map(|role| role.as_str()).collect();
                body(
                    StatusCode::FORBIDDEN,
                    ErrorCode::Forbidden,
                    format!(
                        "this action requires one of the roles: {}",
                        roles.join(", ")
                    ),
                )
            }
            AppError::TaskNotFound => body(
                StatusCode::NOT_FOUND,
                ErrorCode::TaskNotFound,
                "no such task",
            ),
            AppError::RouteNotFound => {
                body(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such route")
            }
            AppError::MethodNotAllowed => body(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "this route does not accept that method",
            ),
            AppError::Title(err) => body(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidTitle,
                err.to_string(),
            ),
            AppError::Json(rejection) => {
                let (status, code, message) = match &rejection {
                    JsonRejection::JsonDataError(_) => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        ErrorCode::InvalidField,
                        json_detail(&rejection),
                    ),
                    JsonRejection::JsonSyntaxError(_) => (
                        StatusCode::BAD_REQUEST,
                        ErrorCode::InvalidJson,
                        json_detail(&rejection),
                    ),
                    JsonRejection::MissingJsonContentType(_) => (
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        ErrorCode::UnsupportedMediaType,
                        "send the body as Content-Type: application/json".into(),
                    ),
                    _ => (
                        rejection.status(),
                        ErrorCode::InvalidBody,
                        rejection.body_text(),
                    ),
                };
                body(status, code, message)
            }
            AppError::NotAnObject => body(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidField,
                "the body must be a JSON object, like {\"title\": \"...\"}",
            ),
            AppError::Path(rejection) => body(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidId,
                format!(
                    "the task id must be an unsigned integer ({})",
                    rejection.body_text()
                ),
            ),
            AppError::Store(StoreError::Full { limit }) => body(
                StatusCode::INSUFFICIENT_STORAGE,
                ErrorCode::StoreFull,
                format!("the task store holds at most {limit} tasks; delete some first"),
            ),
            AppError::RequestTimeout { limit } => failed(
                Failure::Transient(format!("no answer within {} s", limit.as_secs())),
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::RequestTimeout,
                format!(
                    "the request did not complete within {} s; a change may still have been applied, so reload before retrying",
                    limit.as_secs()
                ),
            ),
            AppError::NotAuthenticated => failed(
                Failure::Fault(
                    "a route that needs a caller is outside the authentication layer".into(),
                ),
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error",
            ),
            AppError::BodyTooLarge { limit } => body(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BodyTooLarge,
                format!("the body must be at most {limit} bytes"),
            ),
            AppError::BodyUnreadable => body(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidBody,
                "the body could not be read to its end",
            ),
            AppError::Panicked => failed(
                Failure::Fault("request handler panicked".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error",
            ),
            AppError::Store(err) => failed(
                Failure::Fault(err.to_string()),
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::StoreUnavailable,
                "tasks cannot be reached right now; retry shortly",
            ),
        }
    }
}

// ---- The same answers, described for the OpenAPI document ----------------------------------
// Each enum below lists answers [`AppError`] gives, for a route's `responses(...)`; they are never
// constructed.

/// Refusals of every route that needs a token (for the document only: never constructed).
#[derive(Debug, IntoResponses)]
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

/// `Json<T>` whose rejections come back as [`ApiError`] bodies like every other error.
#[derive(Debug)]
pub struct AppJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        // Json's own checks first (content type, size limit, syntax); then the body must be an
        // object: serde would otherwise accept `["a title"]` as a NewTask.
        let Json(raw) = Json::<Box<RawValue>>::from_request(req, state).await?;
        if !raw.get().starts_with('{') {
            return Err(AppError::NotAnObject);
        }
        let Json(value) = Json::<T>::from_bytes(raw.get().as_bytes())?;
        Ok(Self(value))
    }
}

/// Path parameters whose rejections are [`ApiError`] bodies.
#[derive(Debug)]
pub struct AppPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> axum::extract::FromRequestParts<S> for AppPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, AppError> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}
