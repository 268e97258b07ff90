//! The API client: every call carries an access token from the session, and a 401 gets exactly one
//! silent renewal and retry (the token may have been revoked or its key rotated), never a loop.

use gloo_net::http::Method;
use serde::de::DeserializeOwned;
use shared::{ApiError, Me, NewTask, Task, TaskPatch};

use crate::auth::{Auth, AuthError, Secret};
use crate::{browser, codec};

/// The largest API answer read.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Why an API call failed, worded for the person at the screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiFailure {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(
        "The API could not be reached ({0}). Check that it is running, that apiBaseUrl in \
         config.json points at it, and that it allows this site's origin."
    )]
    Unreachable(String),
    /// 403: signed in, but without the role the request needs.
    #[error("{0}")]
    Forbidden(String),
    /// 401 again after a renewed token.
    #[error("The API did not accept your sign-in: {0}")]
    Unauthorized(String),
    #[error("{message} (HTTP {status})")]
    Status { status: u16, message: String },
    #[error("The API's answer could not be read: {0}")]
    BadResponse(String),
}

impl ApiFailure {
    /// The failure for an error status, with the API's own message when it sent its JSON envelope.
    pub fn from_status(status: u16, body: &str) -> Self {
        let message = codec::from_str::<ApiError>(body)
            .map(|error| error.message)
            .unwrap_or_else(|_| "The API gave no details.".to_owned());
        match status {
            401 => ApiFailure::Unauthorized(message),
            403 => ApiFailure::Forbidden(message),
            _ => ApiFailure::Status { status, message },
        }
    }
}

/// Turns an API answer into a value or a failure. Nothing over [`MAX_RESPONSE_BYTES`] is parsed,
/// error bodies included: an oversized error keeps its status, without the details.
pub fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, ApiFailure> {
    let within_limit = body.len() <= MAX_RESPONSE_BYTES;
    if !(200..300).contains(&status) {
        return Err(ApiFailure::from_status(
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
        self.call(Method::GET, "/api/me", None).await
    }

    /// Every task (Admin) or the user's own.
    pub async fn tasks(&self) -> Result<Vec<Task>, ApiFailure> {
        self.call(Method::GET, "/api/tasks", None).await
    }

    pub async fn create_task(&self, title: String) -> Result<Task, ApiFailure> {
        let body = codec::to_string(&NewTask { title });
        self.call(Method::POST, "/api/tasks", Some(body)).await
    }

    pub async fn set_completed(&self, id: u64, completed: bool) -> Result<Task, ApiFailure> {
        let patch = TaskPatch {
            completed: Some(completed),
            ..TaskPatch::default()
        };
        let body = codec::to_string(&patch);
        self.call(Method::PATCH, &format!("/api/tasks/{id}"), Some(body))
            .await
    }

    pub async fn delete_task(&self, id: u64) -> Result<(), ApiFailure> {
        let path = format!("/api/tasks/{id}");
        let (status, body) = self.send_authorized(Method::DELETE, &path, None).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(ApiFailure::from_status(status, &body))
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
        token: &Secret,
    ) -> Result<(u16, String), ApiFailure> {
        let url = format!("{}{path}", self.auth.config().api_base_url);
        let mut request = browser::request(method, &url)
            .header("Authorization", &format!("Bearer {}", token.expose()));
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

    #[test]
    fn api_error_envelope_gives_the_message() {
        let body = r#"{"code":"forbidden","message":"This requires one of the roles: Admin, Editor, Reader."}"#;
        assert_eq!(
            ApiFailure::from_status(403, body),
            ApiFailure::Forbidden("This requires one of the roles: Admin, Editor, Reader.".into())
        );
        assert_eq!(
            ApiFailure::from_status(
                404,
                r#"{"code":"not_found","message":"Task 7 does not exist."}"#
            )
            .to_string(),
            "Task 7 does not exist. (HTTP 404)"
        );
    }

    #[test]
    fn foreign_error_bodies_still_read_as_sentences() {
        assert_eq!(
            ApiFailure::from_status(502, "<html>Bad Gateway</html>").to_string(),
            "The API gave no details. (HTTP 502)"
        );
        assert!(matches!(
            ApiFailure::from_status(401, ""),
            ApiFailure::Unauthorized(_)
        ));
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
            Err(ApiFailure::Status { status: 500, .. })
        ));
    }

    /// Roles are the exact, case-sensitive claim values, as in the API's own types.
    #[test]
    fn an_unknown_role_is_a_bad_answer() {
        let me = r#"{"id":"i","name":"n","email":"e","tenant_id":"t","roles":["admin"],"scopes":[]}"#;
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
        let huge_error = format!(r#"{{"code":"internal","message":"details"}}{padding}"#);
        assert_eq!(
            decode::<Task>(500, &huge_error)
                .expect_err("a failure")
                .to_string(),
            "The API gave no details. (HTTP 500)"
        );
        assert_eq!(
            decode::<Task>(401, &huge_error),
            Err(ApiFailure::Unauthorized("The API gave no details.".into())),
            "the status still counts"
        );
        assert!(matches!(
            decode::<Task>(200, &format!("{{}}{padding}")),
            Err(ApiFailure::BadResponse(_))
        ));
    }
}
