//! Logs: one subscriber for the process (text for people, JSON for log collectors) and the
//! per-request span carrying the request id, so every line of one request can be found together.
//!
//! The request span records method, path (no query string) and request id, never headers: the
//! `Authorization` header must not reach a log.

use axum::{extract::Request, http::HeaderName};
use tower_http::{
    classify::{ServerErrorsAsFailures, SharedClassifier},
    trace::{DefaultOnRequest, DefaultOnResponse, TraceLayer},
};
use tracing::{Level, Span};
use tracing_subscriber::EnvFilter;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id accepted from a client; longer or unusual ones are replaced.
const MAX_REQUEST_ID_LEN: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber. `RUST_LOG` filters (default `info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => builder.init(),
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

pub type HttpTrace = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    fn(&Request) -> Span,
    DefaultOnRequest,
    DefaultOnResponse,
>;

/// One span per request; the response (status, latency) is logged at info, and its start at
/// debug, so a request that hangs shows up before it ends.
pub fn http_trace() -> HttpTrace {
    TraceLayer::new_for_http()
        .make_span_with(request_span as fn(&Request) -> Span)
        .on_request(DefaultOnRequest::new().level(Level::DEBUG))
        .on_response(DefaultOnResponse::new().level(Level::INFO))
}

fn request_span(request: &Request) -> Span {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = request.uri().path(),
        request_id,
    )
}
