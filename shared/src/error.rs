//! The API's error answers: what went wrong as an [`ErrorCode`] that programs match on, and a
//! sentence for people.

use serde::{Deserialize, Serialize};

/// Every error the API answers with: a stable machine-readable `code` and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Why the API refused or failed a request. On the wire, the snake_case name (`"task_not_found"`);
/// the HTTP status each one comes with is in the comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 401: no bearer token, or one that is malformed, expired or not for this API
    /// (`WWW-Authenticate` tells the two apart).
    Unauthorized,
    /// 403: a valid token without any of the roles the request needs.
    Forbidden,
    /// 404: no such task (or, for a user who may not see every task, another user's).
    TaskNotFound,
    /// 404: no such route.
    NotFound,
    /// 405: the route does not take this method.
    MethodNotAllowed,
    /// 400: the body is not valid JSON.
    InvalidJson,
    /// 400: the body could not be read.
    InvalidBody,
    /// 400: the task id in the path is not an unsigned integer.
    InvalidId,
    /// 408: not answered within the API's time limit; a change may still have been applied.
    RequestTimeout,
    /// 413: the body is larger than the API accepts.
    BodyTooLarge,
    /// 415: the body is not sent as `application/json`.
    UnsupportedMediaType,
    /// 422: the body is not an object, or a field is missing, unknown or of the wrong type.
    InvalidField,
    /// 422: the title breaks the title rules ([`crate::normalize_title`]).
    InvalidTitle,
    /// 500: the API failed unexpectedly.
    Internal,
    /// 503 (with `Retry-After`): the API cannot check tokens yet (signing keys not loaded).
    KeysUnavailable,
    /// 503: the task store cannot be reached.
    StoreUnavailable,
    /// 503 from `/ready`: configuration or signing keys not loaded yet.
    NotReady,
    /// 507: the store holds as many tasks as it may.
    StoreFull,
    /// A code this build does not know, from a newer API: show the message. Only ever read,
    /// never sent (serializing it fails).
    #[serde(other, skip_serializing)]
    Unrecognized,
}

impl ErrorCode {
    /// Every code the API sends.
    pub const ALL: [ErrorCode; 18] = [
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::TaskNotFound,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::InvalidJson,
        ErrorCode::InvalidBody,
        ErrorCode::InvalidId,
        ErrorCode::RequestTimeout,
        ErrorCode::BodyTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::InvalidField,
        ErrorCode::InvalidTitle,
        ErrorCode::Internal,
        ErrorCode::KeysUnavailable,
        ErrorCode::StoreUnavailable,
        ErrorCode::NotReady,
        ErrorCode::StoreFull,
    ];

    /// The code as sent on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::TaskNotFound => "task_not_found",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::InvalidId => "invalid_id",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::InvalidTitle => "invalid_title",
            ErrorCode::Internal => "internal",
            ErrorCode::KeysUnavailable => "keys_unavailable",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::NotReady => "not_ready",
            ErrorCode::StoreFull => "store_full",
            ErrorCode::Unrecognized => "unrecognized",
        }
    }

    /// The code sent as `code`; [`ErrorCode::Unrecognized`] for one this build does not know.
    pub fn from_wire(code: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|known| known.as_str() == code)
            .unwrap_or(ErrorCode::Unrecognized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_the_serde_names() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).expect("serialize");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(
                serde_json::from_str::<ErrorCode>(&json).expect("read"),
                code
            );
            assert_eq!(ErrorCode::from_wire(code.as_str()), code);
        }
    }

    #[test]
    fn unknown_codes_are_read_but_never_sent() {
        let error: ApiError =
            serde_json::from_str(r#"{"code":"quota_exceeded","message":"Try tomorrow."}"#)
                .expect("a newer API's error still reads");
        assert_eq!(error.code, ErrorCode::Unrecognized);
        assert_eq!(error.message, "Try tomorrow.");
        assert_eq!(ErrorCode::from_wire("Forbidden"), ErrorCode::Unrecognized);
        assert!(serde_json::to_string(&ErrorCode::Unrecognized).is_err());
    }

    #[test]
    fn api_error_wire_shape() {
        let error = ApiError::new(ErrorCode::TaskNotFound, "no such task");
        assert_eq!(
            serde_json::to_string(&error).expect("serialize"),
            r#"{"code":"task_not_found","message":"no such task"}"#
        );
    }
}
