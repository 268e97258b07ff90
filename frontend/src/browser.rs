//! Thin wrappers over the browser APIs the app uses: the page's address, navigation, the clock and
//! request timeouts. Everything here needs a browser; the logic that uses it does not.

use futures_util::future::LocalBoxFuture;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortSignal, Headers, Location, Request, RequestCache, RequestInit, Response, Window,
};

/// How long any request (configuration, tokens, API) may take before it is abandoned.
const REQUEST_TIMEOUT_MS: u32 = 15_000;

fn window() -> Window {
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

/// Leaves the app for `url` (the authority's sign-in or sign-out page).
pub fn go_to(url: &str) {
    let _ = location().assign(url);
}

/// One HTTP request with `fetch`, never from the HTTP cache and abandoned after the request
/// timeout. Answers the status and the body, whatever the status; fails only when no answer came
/// (network, CORS, timeout), with the browser's reason.
///
/// Boxed: it is awaited from several places, and one compiled copy keeps the bundle smaller.
pub fn fetch<'a>(
    method: &'a str,
    url: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: Option<&'a str>,
) -> LocalBoxFuture<'a, Result<(u16, String), String>> {
    Box::pin(send(method, url, headers, body))
}

async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_cache(RequestCache::NoStore);
    init.set_signal(Some(&AbortSignal::timeout_with_u32(REQUEST_TIMEOUT_MS)));
    let header_map = Headers::new().map_err(reason)?;
    for (name, value) in headers {
        header_map.set(name, value).map_err(reason)?;
    }
    init.set_headers(&header_map);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(url, &init).map_err(reason)?;
    let response: Response = JsFuture::from(window().fetch_with_request(&request))
        .await
        .map_err(reason)?
        .unchecked_into();
    let text = JsFuture::from(response.text().map_err(reason)?)
        .await
        .map_err(reason)?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}

/// The message of a rejected promise (a `TypeError: Failed to fetch`, a timeout's `DOMException`).
fn reason(error: JsValue) -> String {
    error.dyn_ref::<js_sys::Error>().map_or_else(
        || "the request failed".to_owned(),
        |e| String::from(e.message()),
    )
}
