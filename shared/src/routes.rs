//! The API's paths, written once: the API routes them and documents them in its OpenAPI document,
//! the SPA calls them. Templates use `{name}` for a path parameter, the syntax of both axum and
//! OpenAPI.

/// Liveness probe.
pub const HEALTH: &str = "/health";
/// Readiness probe: configuration and signing keys loaded.
pub const READY: &str = "/ready";
/// Prefix of every route that takes an access token (and of the OpenAPI document, which does not).
pub const API: &str = "/api";
/// `GET`: the caller, from their access token.
pub const ME: &str = "/api/me";
/// `GET` (list) and `POST` (create).
pub const TASKS: &str = "/api/tasks";
/// `PATCH` and `DELETE` of one task; see [`task`].
pub const TASK: &str = "/api/tasks/{id}";
/// The OpenAPI document describing all of the above.
pub const OPENAPI: &str = "/api/openapi.json";

/// [`TASK`] for one task id.
pub fn task(id: u64) -> String {
    format!("{TASKS}/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_fills_the_template() {
        assert_eq!(task(42), TASK.replace("{id}", "42"));
    }

    #[test]
    fn api_routes_share_the_prefix() {
        for path in [ME, TASKS, TASK, OPENAPI] {
            assert!(path.starts_with(&format!("{API}/")), "{path}");
        }
    }
}
