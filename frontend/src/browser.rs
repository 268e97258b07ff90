//! Thin wrappers over the browser APIs the app uses: the page's address, navigation, the clock and
//! HTTP requests (gloo-net's `fetch`, with a timeout). Everything here needs a browser; the logic
//! that uses it does not.

use futures_util::future::LocalBoxFuture;
use gloo_net::http::{Method, RequestBuilder};
use wasm_bindgen::JsValue;
use web_sys::{AbortSignal, Location, RequestCache, Window};

/// How long any request (configuration, tokens, API) may take before it is abandoned.
const REQUEST_TIMEOUT_MS: u32 = 15_000;

pub fn window() -> Window {
    web_sys::window().expect("the app runs in a browser window")
}

fn location() -> Location {
    window().location()
}

/// Seconds since the Unix epoch, by this device's clock.
pub fn now_secs() -> u64 {
    // `Date.now()` is a whole, positive number of milliseconds: the cast cannot truncate.
    (js_sys::Date::now() / 1000.0) as u64
}

/// This page's origin, `scheme://host[:port]`.
pub fn origin() -> String {
    location().origin().unwrap_or_default()
}

/// The path and query of this page, to come back to after sign-in.
pub fn current_path() -> String {
    let location = location();
    let path = location.pathname().unwrap_or_default();
    let query = location.search().unwrap_or_default();
    format!("{path}{query}")
}

/// The fragment of this page's URL, with its `#`.
pub fn fragment() -> String {
    location().hash().unwrap_or_default()
}

/// Replaces this page's URL (without a navigation or a history entry): used to remove the
/// authorization response from the address bar.
pub fn replace_url(path: &str) {
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(path));
    }
}

/// Removes the static shell of `index.html` (its header and skeleton), which the app's own pages
/// replace.
pub fn remove_shell() {
    if let Some(shell) = window()
        .document()
        .and_then(|document| document.get_element_by_id("shell"))
    {
        shell.remove();
    }
}

/// Leaves the app for `url` (the authority's sign-in or sign-out page).
pub fn go_to(url: &str) {
    let _ = location().assign(url);
}

/// A request to `url`, never answered from the HTTP cache and abandoned after the request timeout.
pub fn request(method: Method, url: &str) -> RequestBuilder {
    preloaded(url).method(method).cache(RequestCache::NoStore)
}

/// A `GET` of `url` that takes the answer to a `<link rel="preload" as="fetch">` of index.html:
/// the browser matches the preload only to a request in the default cache mode. The server keeps
/// such a file out of the HTTP cache with its own `Cache-Control`.
pub fn preloaded(url: &str) -> RequestBuilder {
    RequestBuilder::new(url).abort_signal(Some(&AbortSignal::timeout_with_u32(REQUEST_TIMEOUT_MS)))
}

/// Sends `request` with `body`. Answers the status and the body, whatever the status; fails only
/// when no answer came (network, CORS, timeout), with the browser's reason.
///
/// Boxed: it is awaited from several places, and one compiled copy keeps the bundle smaller.
pub fn send(
    request: RequestBuilder,
    body: Option<String>,
) -> LocalBoxFuture<'static, Result<(u16, String), String>> {
    Box::pin(async move {
        let request = match body {
            Some(body) => request.body(body),
            None => request.build(),
        }
        .map_err(|error| error.to_string())?;
        let response = request.send().await.map_err(|error| error.to_string())?;
        let text = response.text().await.map_err(|error| error.to_string())?;
        Ok((response.status(), text))
    })
}
