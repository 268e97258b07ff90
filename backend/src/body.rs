//! Request bodies, read whole before anything answers.
//!
//! A server that answers (413, 401, ...) and closes the connection while the client is still
//! sending leaves unread bytes in its socket; the kernel then resets the connection, and the
//! client loses the answer it was sent (a browser shows a network error, not "too large"). So
//! [`read_whole`] reads every body first: up to [`BODY_LIMIT_BYTES`] for the route, and past that
//! it reads and discards up to [`MAX_DRAINED_BYTES`] (within [`MAX_DRAIN_TIME`]) before answering
//! 413, so the client reads the answer. Beyond those bounds the 413 is sent with
//! `Connection: close` and the rest is not read.

use std::time::Duration;

use axum::{
    body::{Body, Bytes, HttpBody},
    extract::Request,
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures_util::{Stream, StreamExt};

use crate::error::AppError;

/// Largest request body accepted (a task is a title of at most 200 characters).
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;
/// Most bytes of a refused body read (and thrown away) so that its sender can read the 413.
pub const MAX_DRAINED_BYTES: u64 = 8 * 1024 * 1024;
/// Longest time spent reading a refused body.
pub const MAX_DRAIN_TIME: Duration = Duration::from_secs(5);

/// The body-reading layer: the rest of the stack gets the body in memory (at most
/// [`BODY_LIMIT_BYTES`]); a larger one is answered 413 here, once read as far as the bounds
/// allow. Requests without a body pass straight through.
pub async fn read_whole(request: Request, next: Next) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let declared = declared_length(&parts.headers);
    if declared.is_some_and(|length| length > BODY_LIMIT_BYTES as u64) {
        if expects_continue(&parts.headers) {
            // The client waits for "100 Continue" before sending: it will send nothing, and
            // reads the 413 at once.
            return AppError::BodyTooLarge {
                limit: BODY_LIMIT_BYTES,
            }
            .into_response();
        }
        let drained = declared.is_some_and(|length| length <= MAX_DRAINED_BYTES)
            && drain(body.into_data_stream(), 0).await;
        return too_large(drained);
    }
    let mut stream = body.into_data_stream();
    let mut buffer = Vec::with_capacity(declared.map_or(0, |length| length as usize));
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return AppError::BodyUnreadable.into_response();
        };
        if buffer.len() + chunk.len() > BODY_LIMIT_BYTES {
            let drained = drain(stream, (buffer.len() + chunk.len()) as u64).await;
            return too_large(drained);
        }
        buffer.extend_from_slice(&chunk);
    }
    let request = Request::from_parts(parts, Body::from(Bytes::from(buffer)));
    next.run(request).await
}

/// `Content-Length`, when the request declares one.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// Reads and discards the rest of a body, `already` bytes of it read; whether it ended within
/// the bounds.
async fn drain(
    mut stream: impl Stream<Item = Result<Bytes, axum::Error>> + Unpin,
    already: u64,
) -> bool {
    let mut read = already;
    let to_the_end = async {
        while let Some(chunk) = stream.next().await {
            let Ok(chunk) = chunk else { return false };
            read += chunk.len() as u64;
            if read > MAX_DRAINED_BYTES {
                return false;
            }
        }
        true
    };
    tokio::time::timeout(MAX_DRAIN_TIME, to_the_end)
        .await
        .unwrap_or(false)
}

/// 413; when the body was not read to its end, the connection is closed after the answer (what
/// is left of the body cannot be told apart from a next request).
fn too_large(drained: bool) -> Response {
    let mut response = AppError::BodyTooLarge {
        limit: BODY_LIMIT_BYTES,
    }
    .into_response();
    if !drained {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
