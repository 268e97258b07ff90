//! The authorization endpoint: authorization code flow with PKCE (S256) for the registered
//! clients, and the sign-in page's form. The request itself is checked in [`crate::request`].

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    error::{Error, ErrorPage},
    grants::{CodeGrant, Session},
    jwt::client_info,
    pages,
    params::{Form, PageQuery, required},
    request::{AuthorizationRequest, AuthorizeParams, Prompt, trusted_reply},
    secrets, session,
    state::{AppState, CODE_LIFETIME_SECS, KnownTenant, SIGN_IN_LIFETIME_SECS},
    store::Lookup,
    users::User,
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
        .route("/{tenant}/login", post(pick_user))
}

/// Issues a code for `user` in `session` and sends it to the app, with `session_state` and, if
/// asked, `client_info`; `set_cookie` starts the session.
fn complete(
    request: AuthorizationRequest,
    state: &AppState,
    user: &User,
    session: &Session,
    set_cookie: Option<HeaderValue>,
) -> Response {
    let code = secrets::random_token();
    state.codes.insert(
        &code,
        CodeGrant {
            client_id: request.client_id,
            user: user.name().to_owned(),
            auth_time: session.auth_time,
            scopes: request.scopes,
            redirect_uri: request.reply.redirect_uri.as_str().to_owned(),
            code_challenge: request.code_challenge,
            nonce: request.nonce,
        },
        state.clock.now() + CODE_LIFETIME_SECS,
    );
    tracing::info!(user = user.name(), "signed in");
    let mut params = vec![("code", code)];
    if request.client_info {
        params.push(("client_info", client_info(state, user)));
    }
    params.push(("session_state", session.id.to_string()));
    let mut response = request.reply.send(&params);
    if let Some(cookie) = set_cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Signs `user` in now (a new session, a fresh `auth_time`) and answers with a code.
fn sign_in(request: AuthorizationRequest, state: &AppState, user: &User) -> Response {
    let (session, cookie) = session::start(state, user);
    complete(request, state, user, &session, Some(cookie))
}

/// Keeps the request and shows the user picker.
fn ask(request: AuthorizationRequest, state: &AppState, notice: Option<&str>) -> Response {
    let id = secrets::random_token();
    let redirect_origin = request.reply.redirect_uri.origin().ascii_serialization();
    state
        .sign_ins
        .insert(&id, request, state.clock.now() + SIGN_IN_LIFETIME_SECS);
    pages::sign_in(
        &format!("/{}/login", state.settings.tenant_id),
        &id,
        state.settings.users.iter(),
        notice,
        &redirect_origin,
    )
}

async fn authorize(
    _: KnownTenant,
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(params): PageQuery<AuthorizeParams>,
) -> Response {
    let (client, mut reply) = match trusted_reply(&state.settings, &params) {
        Ok(trusted) => trusted,
        Err(err) => return ErrorPage(err).into_response(),
    };
    let request = match AuthorizationRequest::validate(&state.settings, client, &mut reply, params)
    {
        Ok(request) => request,
        Err(err) => return reply.error(&err),
    };
    // A session older than `max_age` is as good as none: the user must sign in again. `max_age=0`
    // always asks again, even right after a sign-in (OpenID Connect Core 3.1.2.1, errata: it is
    // `prompt=login` whose effect the client can check in `auth_time`).
    let now = state.clock.now();
    let session = session::signed_in(&state, &headers).filter(|(_, session)| {
        request
            .max_age
            .is_none_or(|max_age| max_age > 0 && now.saturating_sub(session.auth_time) <= max_age)
    });
    let hinted = request
        .login_hint
        .as_deref()
        .map(|hint| state.settings.users.find(hint));
    match (request.prompt, hinted, session) {
        // Silent: the session's user, if the hint (if any) names them; never a page.
        (Prompt::None, None, Some((user, session))) => {
            complete(request, &state, user, &session, None)
        }
        (Prompt::None, Some(Some(hinted)), Some((user, session))) if hinted == user => {
            complete(request, &state, user, &session, None)
        }
        (Prompt::None, ..) => reply.error(&Error::LoginRequired),
        (Prompt::SelectAccount, ..) => ask(request, &state, None),
        // A hint naming a test user signs them in directly: the scripted way in.
        (_, Some(Some(user)), _) => sign_in(request, &state, user),
        (_, Some(None), _) => {
            let notice = format!(
                "There is no test user named {:?}: pick one below.",
                request.login_hint.as_deref().unwrap_or_default()
            );
            ask(request, &state, Some(&notice))
        }
        (Prompt::Default, None, Some((user, session))) => {
            complete(request, &state, user, &session, None)
        }
        (Prompt::Default | Prompt::Login, None, _) => ask(request, &state, None),
    }
}

#[derive(Debug, Deserialize)]
struct PickUserForm {
    /// The pending sign-in's id: whoever holds it may finish that sign-in.
    request: Option<SecretString>,
    user: Option<String>,
}

/// The sign-in page's form: the pending request's id and the chosen user.
async fn pick_user(
    _: KnownTenant,
    State(state): State<AppState>,
    form: Result<Form<PickUserForm>, Error>,
) -> Response {
    let picked = form.and_then(|Form(form)| {
        let name = required(form.user, "user")?;
        let user = state
            .settings
            .users
            .find(&name)
            .ok_or(Error::UnknownUser(name))?;
        let request_id = required(
            form.request.as_ref().map(ExposeSecret::expose_secret),
            "request",
        )?;
        match state.sign_ins.take(request_id, state.clock.now()) {
            Lookup::Found(request) => Ok((request, user)),
            Lookup::Expired | Lookup::Missing => Err(Error::SignInRequestExpired),
        }
    });
    match picked {
        Ok((request, user)) => sign_in(request, &state, user),
        Err(err) => ErrorPage(err).into_response(),
    }
}
