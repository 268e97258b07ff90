//! The API client: every call carries an access token from the session, and a 401 gets exactly one
//! silent renewal and retry (the token may have been revoked or its key rotated), never a loop.

use gloo_net::http::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use shared::{ApiError, ErrorCode, Me, NewTask, Task, TaskPatch, routes};

use crate::auth::{Auth, AuthError};
use crate::{browser, codec};

/// The largest API answer read.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Why an API call failed. Shown as a sentence for the person at the screen; the technical cause
/// is in [`ApiFailure::details`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFailure {
    Auth(AuthError),
    /// No answer: the network, CORS or the time limit (the browser's reason).
    Unreachable(String),
    /// The API answered with an error: its code and sentence (`Unrecognized` when the answer was
    /// not the API's error envelope, as from a proxy), and the HTTP status.
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// A success that could not be read.
    BadResponse(String),
}

impl From<AuthError> for ApiFailure {
    fn from(error: AuthError) -> Self {
        ApiFailure::Auth(error)
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            ApiFailure::Auth(error) => return error.fmt(f),
            ApiFailure::Unreachable(_) => {
                "The task service could not be reached. Check your connection, then try again."
            }
            ApiFailure::Refused { code, message, .. } => match code {
                // The API's own sentences for what the user can fix or needs to know.
                ErrorCode::Forbidden
                | ErrorCode::TaskNotFound
                | ErrorCode::InvalidTitle
                | ErrorCode::StoreFull => message,
                ErrorCode::Unauthorized => {
                    "The task service did not accept your sign-in. Sign out, then sign in again."
                }
                _ => "The task service could not do this right now. Please try again in a moment.",
            },
            ApiFailure::BadResponse(_) => "The task service sent an answer this app cannot read.",
        };
        f.write_str(text)
    }
}

impl ApiFailure {
    /// The failure for an error status, with the API's code and message when it sent its JSON
    /// envelope.
    pub fn refused(status: u16, body: &str) -> Self {
        let error = codec::from_str::<ApiError>(body)
            .unwrap_or_else(|_| ApiError::new(ErrorCode::Unrecognized, "The API gave no details."));
        ApiFailure::Refused {
            status,
            code: error.code,
            message: error.message,
        }
    }

    /// The technical cause, for the "Details" of an error message.
    pub fn details(&self) -> Option<String> {
        match self {
            ApiFailure::Auth(_) => None,
            ApiFailure::Unreachable(reason) => Some(format!(
                "No answer from the API ({reason}). Check that it is running, that apiBaseUrl \
                 in config.json points at it, and that it allows this site's origin."
            )),
            ApiFailure::Refused {
                status,
                code,
                message,
            } => Some(format!("HTTP {status}, {}: {message}", code.as_str())),
            ApiFailure::BadResponse(reason) => Some(format!("The answer is not valid: {reason}")),
        }
    }
}

/// Turns an API answer into a value or a failure. Nothing over [`MAX_RESPONSE_BYTES`] is parsed,
/// error bodies included: an oversized error keeps its status, without the details.
pub fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, ApiFailure> {
    let within_limit = body.len() <= MAX_RESPONSE_BYTES;
    if !(200..300).contains(&status) {
        return Err(ApiFailure::refused(
            status,
            if within_limit { body } else { "" },
        ));
    }
    if !within_limit {
        return Err(ApiFailure::BadResponse("the answer is too large".into()));
    }
    codec::from_str(body).map_err(ApiFailure::BadResponse)
}

/// The API, called on behalf of the signed-in user.
#[derive(Debug, Clone)]
pub struct Api {
    auth: Auth,
}

impl Api {
    pub fn new(auth: Auth) -> Self {
        Self { auth }
    }

    /// Who the API says the user is, with their roles.
    pub async fn me(&self) -> Result<Me, ApiFailure> {
        self.call(Method::GET, routes::ME, None).await
    }

    /// Every task (Admin) or the user's own.
    pub async fn tasks(&self) -> Result<Vec<Task>, ApiFailure> {
        self.call(Method::GET, routes::TASKS, None).await
    }

    pub async fn create_task(&self, title: String) -> Result<Task, ApiFailure> {
        let body = codec::to_string(&NewTask { title });
        self.call(Method::POST, routes::TASKS, Some(body)).await
    }

    pub async fn set_completed(&self, id: u64, completed: bool) -> Result<Task, ApiFailure> {
        let patch = TaskPatch {
            completed: Some(completed),
            ..TaskPatch::default()
        };
        let body = codec::to_string(&patch);
        self.call(Method::PATCH, &routes::task(id), Some(body))
            .await
    }

    pub async fn delete_task(&self, id: u64) -> Result<(), ApiFailure> {
        let path = routes::task(id);
        let (status, body) = self.send_authorized(Method::DELETE, &path, None).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(ApiFailure::refused(status, &body))
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<T, ApiFailure> {
        let (status, body) = self.send_authorized(method, path, body).await?;
        decode(status, &body)
    }

    /// Sends with the session's token; on 401, once more with a renewed one.
    async fn send_authorized(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<(u16, String), ApiFailure> {
        let token = self.auth.access_token(None).await?;
        let answer = self
            .send(method.clone(), path, body.clone(), &token)
            .await?;
        if answer.0 != 401 {
            return Ok(answer);
        }
        let renewed = self.auth.access_token(Some(&token)).await?;
        self.send(method, path, body, &renewed).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        token: &SecretString,
    ) -> Result<(u16, String), ApiFailure> {
        let url = format!("{}{path}", self.auth.config().api_base_url);
        let mut request = browser::request(method, &url).header(
            "Authorization",
            &format!("Bearer {}", token.expose_secret()),
        );
        if body.is_some() {
            request = request.header("Content-Type", "application/json");
        }
        browser::send(request, body)
            .await
            .map_err(ApiFailure::Unreachable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: ErrorCode, message: &str) -> String {
        format!(r#"{{"code":"{}","message":"{message}"}}"#, code.as_str())
    }

    #[test]
    fn the_apis_error_code_and_message_are_kept() {
        let body = refused(
            ErrorCode::Forbidden,
            "This requires one of the roles: Admin, Editor, Reader.",
        );
        let failure = ApiFailure::refused(403, &body);
        assert_eq!(
            failure,
            ApiFailure::Refused {
                status: 403,
                code: ErrorCode::Forbidden,
                message: "This requires one of the roles: Admin, Editor, Reader.".into()
            }
        );
        assert_eq!(
            failure.to_string(),
            "This requires one of the roles: Admin, Editor, Reader."
        );
        assert_eq!(
            failure.details().as_deref(),
            Some("HTTP 403, forbidden: This requires one of the roles: Admin, Editor, Reader.")
        );
    }

    #[test]
    fn server_failures_read_as_sentences_with_the_cause_in_the_details() {
        let failure = ApiFailure::refused(503, &refused(ErrorCode::StoreUnavailable, "db down"));
        assert_eq!(
            failure.to_string(),
            "The task service could not do this right now. Please try again in a moment."
        );
        assert!(
            failure
                .details()
                .is_some_and(|d| d.contains("store_unavailable"))
        );

        let proxy = ApiFailure::refused(502, "<html>Bad Gateway</html>");
        assert!(matches!(
            &proxy,
            ApiFailure::Refused {
                status: 502,
                code: ErrorCode::Unrecognized,
                ..
            }
        ));
        assert!(proxy.details().is_some_and(|d| d.contains("HTTP 502")));

        let down = ApiFailure::Unreachable("TypeError: Failed to fetch".into());
        assert!(
            !down.to_string().contains("apiBaseUrl"),
            "no developer words"
        );
        assert!(
            down.details()
                .is_some_and(|d| d.contains("Failed to fetch") && d.contains("apiBaseUrl"))
        );
    }

    #[test]
    fn decode_values_and_failures() {
        let task = r#"{"id":1,"title":"Buy milk","completed":false,"owner_id":"o","owner_name":"Test Editor"}"#;
        let decoded: Task = decode(201, task).expect("task");
        assert_eq!(decoded.title, "Buy milk");
        assert!(matches!(
            decode::<Task>(200, "{}"),
            Err(ApiFailure::BadResponse(_))
        ));
        assert!(matches!(
            decode::<Task>(500, "{}"),
            Err(ApiFailure::Refused { status: 500, .. })
        ));
    }

    /// Roles are the exact, case-sensitive claim values, as in the API's own types.
    #[test]
    fn an_unknown_role_is_a_bad_answer() {
        let me =
            r#"{"id":"i","name":"n","email":"e","tenant_id":"t","roles":["admin"],"scopes":[]}"#;
        assert!(matches!(
            decode::<Me>(200, me),
            Err(ApiFailure::BadResponse(message)) if message.contains("admin")
        ));
        let me = me.replace("admin", "Admin");
        assert_eq!(
            decode::<Me>(200, &me).map(|me| me.roles),
            Ok(vec![shared::Role::Admin])
        );
    }

    #[test]
    fn oversized_answers_are_not_parsed() {
        let padding = " ".repeat(MAX_RESPONSE_BYTES);
        let huge_error = format!("{}{padding}", refused(ErrorCode::Forbidden, "details"));
        assert_eq!(
            decode::<Task>(403, &huge_error),
            Err(ApiFailure::Refused {
                status: 403,
                code: ErrorCode::Unrecognized,
                message: "The API gave no details.".into()
            }),
            "the status still counts"
        );
        assert!(matches!(
            decode::<Task>(200, &format!("{{}}{padding}")),
            Err(ApiFailure::BadResponse(_))
        ));
    }
}
