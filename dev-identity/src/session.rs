//! The browser session: a cookie naming the signed-in user, so `prompt=none` (silent sign-in)
//! works, and sign-out, which ends it.
//!
//! The cookie is `HttpOnly` and `SameSite=Lax`: it rides along on top-level navigations (the
//! redirect-based silent sign-in) but not on cross-site subrequests. Browsers treat `localhost`
//! and `127.0.0.1` as different sites, so silent sign-in in a hidden iframe of the SPA gets no
//! session, as it increasingly does with Entra under third-party cookie blocking; SPAs should renew
//! with refresh tokens.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use crate::{
    error::{Error, ErrorPage},
    pages,
    params::PageQuery,
    secrets,
    state::{AppState, KnownTenant, SESSION_LIFETIME_SECS},
    store::Lookup,
    users::User,
};

const COOKIE: &str = "dev_identity_session";

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/{tenant}/oauth2/v2.0/logout", get(logout))
}

/// The user of the browser's session, if it has a live one.
pub(crate) fn signed_in_user<'a>(state: &'a AppState, headers: &HeaderMap) -> Option<&'a User> {
    let id = session_id(headers)?;
    match state.sessions.get(id, state.clock.now()) {
        Lookup::Found(name) => state.settings.users.find(&name),
        Lookup::Expired | Lookup::Missing => None,
    }
}

/// Starts a session for `user`; the returned value is the `Set-Cookie` header.
pub(crate) fn start(state: &AppState, user: &User) -> HeaderValue {
    let id = secrets::random_token();
    let now = state.clock.now();
    state.sessions.insert(
        id.clone(),
        user.name().to_owned(),
        now + SESSION_LIFETIME_SECS,
    );
    cookie(state, &id, SESSION_LIFETIME_SECS)
}

/// `Set-Cookie` for the tenant's paths only. Not `Secure`: the provider speaks plain HTTP on
/// loopback.
fn cookie(state: &AppState, value: &str, max_age: u64) -> HeaderValue {
    let path = format!("/{}/", state.settings.tenant_id);
    let text = format!("{COOKIE}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    // The value is base64url (or empty) and the path a GUID, so the header is always valid ASCII.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

#[derive(Debug, Deserialize)]
struct LogoutParams {
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

/// Ends the session and returns to the app, but only to one of its registered redirect URIs:
/// anything else gets an error page (and the session stays), never a redirect.
async fn logout(
    _: KnownTenant,
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(params): PageQuery<LogoutParams>,
) -> Response {
    let target = match params
        .post_logout_redirect_uri
        .filter(|uri| !uri.is_empty())
    {
        Some(uri) => match state.settings.registered_redirect(&uri) {
            Some(registered) => Some(registered.url().clone()),
            None => return ErrorPage(Error::LogoutRedirectNotRegistered(uri)).into_response(),
        },
        None => None,
    };
    if let Some(id) = session_id(&headers) {
        state.sessions.remove(id);
    }
    let clear = cookie(&state, "", 0);
    match target {
        Some(mut url) => {
            if let Some(value) = params.state.filter(|value| !value.is_empty()) {
                url.query_pairs_mut().append_pair("state", &value);
            }
            let location = HeaderValue::from_str(url.as_str())
                .unwrap_or_else(|_| HeaderValue::from_static("/"));
            (
                StatusCode::FOUND,
                [(header::LOCATION, location), (header::SET_COOKIE, clear)],
            )
                .into_response()
        }
        None => ([(header::SET_COOKIE, clear)], pages::signed_out()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; dev_identity_session=abc"),
        );
        assert_eq!(session_id(&headers), Some("abc"));
        assert_eq!(session_id(&HeaderMap::new()), None);
    }
}
