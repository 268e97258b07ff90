//! Outbound HTTP, one way for every service the API calls (Entra discovery, Azure): bounded
//! waits, no redirects, bodies read whole up to a limit.

use std::time::Duration;

/// A client with `timeout` per request (connecting: at most 5 s) that follows no redirects: a
/// redirect to another host would let that host answer for the one we chose (our keys, our
/// secrets). TLS trust is the platform's store (`SSL_CERT_FILE` replaces it); `HTTPS_PROXY` and
/// `NO_PROXY` are honoured.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tasks-api/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The body of `response`, or `None` when it is larger than `max` bytes (declared or sent).
pub async fn read_limited(
    response: &mut reqwest::Response,
    max: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response.content_length().unwrap_or(0) > max as u64 {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}
