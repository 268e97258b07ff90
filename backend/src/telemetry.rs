//! Logs: one subscriber for the process (text for people, JSON for log collectors) and one line
//! per request, carrying its request id.

use std::time::Instant;

use axum::{extract::Request, http::HeaderName, middleware::Next, response::Response};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::vars::{ConfigError, Vars, invalid};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id accepted from a client; longer or unusual ones are replaced.
const MAX_REQUEST_ID_LEN: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// What is logged, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// `LOG_FORMAT`: `text` (default) or `json` (for log collectors, e.g. in containers).
    pub format: LogFormat,
    /// `RUST_LOG` (default `info`): which lines are logged, checked here so that a typo stops the
    /// start instead of silently logging at another level.
    pub filter: String,
}

impl LogSettings {
    pub fn from_vars(vars: &Vars<'_>) -> Result<Self, ConfigError> {
        let format = match vars.choice("LOG_FORMAT", &["text", "json"])? {
            Some("json") => LogFormat::Json,
            _ => LogFormat::Text,
        };
        let filter = vars.get("RUST_LOG").unwrap_or_else(|| "info".into());
        EnvFilter::try_new(&filter).map_err(|e| {
            invalid(
                "RUST_LOG",
                &filter,
                format!(
                    "{e}; expected a level (info, debug...) or directives like warn,backend=debug"
                ),
            )
        })?;
        Ok(Self { format, filter })
    }
}

/// Installs the global subscriber.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::new(&settings.filter);
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match settings.format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        // Colours only on a terminal: escape codes in a file or a pipe are noise.
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
    }
}

/// Drops a client-sent `x-request-id` that is too long or has characters other than
/// `[A-Za-z0-9._-]`, so it cannot flood or forge log lines; a fresh UUID replaces it.
pub async fn sanitize_request_id(mut request: Request) -> Request {
    let acceptable = request.headers().get(&REQUEST_ID).is_some_and(|value| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID_LEN
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if !acceptable {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// Why a request could not be served as asked, attached to its response (never sent to the client)
/// so that the request's one log line carries the cause next to the request id.
#[derive(Debug, Clone)]
pub enum Failure {
    /// Passes without anyone acting: keys still loading, one slow request. Logged at warn.
    Transient(String),
    /// Needs an operator: the store is down, a handler panicked. Logged at error.
    Fault(String),
}

/// The task a request created, attached to its response so that the request's log line names it
/// (the path of a POST does not).
#[derive(Debug, Clone, Copy)]
pub struct CreatedTask(pub u64);

/// Longest path logged; a longer one is cut and marked, so a request cannot flood the log.
const MAX_LOGGED_PATH_LEN: usize = 256;

/// One line per request, when it has been answered: request id, method, path (no query string),
/// status, latency, the task it created and, for a failure, its cause. Never headers: the
/// `Authorization` header must not reach a log.
///
/// Level: error or warn as the response's [`Failure`] says; warn for any other 5xx, so no server
/// error passes at info; info for the rest.
///
/// One event rather than a span around the request keeps the log affordable at tens of
/// thousands of requests per second (docs/benchmarks.md). With `RUST_LOG=debug` a span carrying
/// the same request id wraps the request, so every line it causes (why a token was refused...)
/// can be found with it.
pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let method = method.as_str();
    let path = logged_path(request.uri().path());
    let request_id = request.headers().get(&REQUEST_ID).cloned();
    let request_id = request_id
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let span = tracing::debug_span!("request", method, path, request_id);
    tracing::debug!(parent: &span, "request started");

    let response = next.run(request).instrument(span).await;

    let status = response.status();
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    let task_id = response
        .extensions()
        .get::<CreatedTask>()
        .map(|task| task.0);
    // tracing needs the level at compile time: one call per level.
    macro_rules! finished {
        ($level:ident, $cause:expr) => {
            tracing::$level!(
                request_id,
                method,
                path,
                status = status.as_u16(),
                latency_ms,
                task_id,
                cause = $cause,
                "request finished"
            )
        };
    }
    match response.extensions().get::<Failure>() {
        Some(Failure::Fault(cause)) => finished!(error, cause.as_str()),
        Some(Failure::Transient(cause)) => finished!(warn, cause.as_str()),
        None if status.is_server_error() => finished!(warn, None::<&str>),
        None => finished!(info, None::<&str>),
    }
    response
}

fn logged_path(path: &str) -> String {
    match path.get(..MAX_LOGGED_PATH_LEN) {
        Some(start) if start.len() < path.len() => format!("{start}... (cut)"),
        _ => path.to_owned(),
    }
}
