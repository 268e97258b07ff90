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
    grants::Session,
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

/// The browser's session and its user, if it has a live one.
pub(crate) fn signed_in<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
) -> Option<(&'a User, Session)> {
    let id = session_id(headers)?;
    match state.sessions.get(id, state.clock.now()) {
        Lookup::Found(session) => Some((state.settings.users.find(&session.user)?, session)),
        Lookup::Expired | Lookup::Missing => None,
    }
}

/// Starts a session for `user`, who has just signed in; returns it and its `Set-Cookie` header.
pub(crate) fn start(state: &AppState, user: &User) -> (Session, HeaderValue) {
    let cookie_value = secrets::random_token();
    let now = state.clock.now();
    let session = Session {
        user: user.name().to_owned(),
        auth_time: now,
        id: secrets::random_uuid(),
    };
    state
        .sessions
        .insert(&cookie_value, session.clone(), now + SESSION_LIFETIME_SECS);
    (session, cookie(state, &cookie_value, SESSION_LIFETIME_SECS))
}

/// `Set-Cookie` for the tenant's paths only; `Secure` when browsers reach the provider over
/// HTTPS (over plain HTTP on loopback they would not send it back).
fn cookie(state: &AppState, value: &str, max_age: u64) -> HeaderValue {
    let path = format!("/{}/", state.settings.tenant_id);
    let secure = if state.urls.is_https() {
        "; Secure"
    } else {
        ""
    };
    let text =
        format!("{COOKIE}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
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
        Some(uri) => match state.settings.registered_logout_redirect(&uri) {
            Some(registered) => Some(registered),
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
