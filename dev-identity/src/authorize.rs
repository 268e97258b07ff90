//! The authorization endpoint: authorization code flow with PKCE (S256) for the registered SPA.
//!
//! Order matters, as at Entra: until the client and its `redirect_uri` are known to be registered,
//! errors are shown on a page (a redirect would hand them to whoever forged the request); after
//! that, errors go back to the app, in the response mode it asked for, with its `state`.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use url::form_urlencoded;

use crate::{
    config::RedirectUri,
    error::{Error, ErrorPage},
    pages,
    params::{Form, PageQuery, required},
    scope::Scopes,
    secrets, session,
    state::{AppState, CODE_LIFETIME_SECS, KnownTenant, SIGN_IN_LIFETIME_SECS},
    store::Lookup,
    users::User,
};

/// An S256 challenge is base64url(SHA-256(verifier)) without padding: 43 characters.
const S256_CHALLENGE_CHARS: usize = 43;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
        .route("/{tenant}/login", post(pick_user))
}

#[derive(Debug, Deserialize)]
struct AuthorizeParams {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    response_mode: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    prompt: Option<String>,
    login_hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseMode {
    Query,
    Fragment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prompt {
    /// Reuse the session if there is one, else ask.
    Default,
    /// Never show a page: the session's user or `login_required`.
    None,
    /// Ask even if there is a session (a `login_hint` still signs in directly).
    Login,
    /// Show the user picker.
    SelectAccount,
}

/// Where and how to answer the app: a registered redirect URI, the response mode, its `state`.
#[derive(Debug, Clone)]
struct Reply {
    redirect_uri: RedirectUri,
    mode: ResponseMode,
    state: Option<String>,
}

impl Reply {
    /// A 302 to the app with `params` (plus `state`) in the query or the fragment.
    fn send(&self, params: &[(&str, String)]) -> Response {
        let mut url = self.redirect_uri.url().clone();
        let state = self.state.iter().map(|state| ("state", state.clone()));
        let pairs = params.iter().cloned().chain(state);
        match self.mode {
            ResponseMode::Query => {
                url.query_pairs_mut().extend_pairs(pairs);
            }
            ResponseMode::Fragment => {
                let fragment = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs)
                    .finish();
                url.set_fragment(Some(&fragment));
            }
        }
        let location =
            HeaderValue::from_str(url.as_str()).unwrap_or_else(|_| HeaderValue::from_static("/"));
        (
            StatusCode::FOUND,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response()
    }

    fn error(&self, error: &Error) -> Response {
        tracing::debug!(
            error = error.oauth_code(),
            "sign-in refused: {}",
            error.description()
        );
        self.send(&error.redirect_params())
    }
}

/// A validated authorization request, kept while the person picks a user.
#[derive(Debug, Clone)]
pub(crate) struct AuthorizationRequest {
    reply: Reply,
    scopes: Scopes,
    nonce: Option<String>,
    code_challenge: String,
    prompt: Prompt,
    login_hint: Option<String>,
}

/// What an authorization code stands for, until it is redeemed at the token endpoint.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub(crate) user: String,
    pub(crate) scopes: Scopes,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) nonce: Option<String>,
}

/// The client and redirect URI checks: failures here are shown, never redirected.
fn trusted_reply(state: &AppState, params: &AuthorizeParams) -> Result<Reply, Error> {
    let client_id = required(params.client_id.clone(), "client_id")?;
    if client_id.parse().ok() != Some(state.settings.spa_client_id) {
        return Err(Error::UnknownClient(client_id));
    }
    let requested = required(params.redirect_uri.clone(), "redirect_uri")?;
    let redirect_uri = state
        .settings
        .registered_redirect(&requested)
        .ok_or(Error::RedirectUriNotRegistered(requested))?
        .clone();
    Ok(Reply {
        redirect_uri,
        mode: ResponseMode::Query,
        state: params.state.clone().filter(|state| !state.is_empty()),
    })
}

impl AuthorizationRequest {
    /// Checks the rest of the request; `reply` already has the trusted redirect URI, and gets the
    /// response mode here (errors before that is known go back in the query, the default).
    fn validate(
        state: &AppState,
        reply: &mut Reply,
        params: AuthorizeParams,
    ) -> Result<Self, Error> {
        reply.mode = match params.response_mode.as_deref() {
            None | Some("query") => ResponseMode::Query,
            Some("fragment") => ResponseMode::Fragment,
            Some(other) => return Err(Error::UnsupportedResponseMode(other.to_owned())),
        };
        let response_type = required(params.response_type, "response_type")?;
        if response_type != "code" {
            return Err(Error::UnsupportedResponseType(response_type));
        }
        let scopes = Scopes::parse(
            &required(params.scope, "scope")?,
            state.settings.api_client_id,
        )?;
        let code_challenge = params
            .code_challenge
            .filter(|challenge| !challenge.is_empty())
            .ok_or(Error::PkceRequired)?;
        match params.code_challenge_method.as_deref() {
            Some("S256") => {}
            None | Some("") => return Err(Error::PkceMethodRefused("plain (the default)".into())),
            Some(other) => return Err(Error::PkceMethodRefused(other.to_owned())),
        }
        let is_base64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if code_challenge.len() != S256_CHALLENGE_CHARS || !code_challenge.chars().all(is_base64url)
        {
            return Err(Error::InvalidCodeChallenge);
        }
        let prompt = match params.prompt.as_deref() {
            None | Some("") | Some("consent") => Prompt::Default,
            Some("none") => Prompt::None,
            Some("login") => Prompt::Login,
            Some("select_account") => Prompt::SelectAccount,
            Some(other) => return Err(Error::UnsupportedPrompt(other.to_owned())),
        };
        Ok(AuthorizationRequest {
            reply: reply.clone(),
            scopes,
            nonce: params.nonce.filter(|nonce| !nonce.is_empty()),
            code_challenge,
            prompt,
            login_hint: params.login_hint.filter(|hint| !hint.is_empty()),
        })
    }

    /// Issues a code for `user` and sends it to the app; `set_cookie` starts a session.
    fn complete(self, state: &AppState, user: &User, set_cookie: Option<HeaderValue>) -> Response {
        let code = secrets::random_token();
        state.codes.insert(
            code.clone(),
            CodeGrant {
                user: user.name().to_owned(),
                scopes: self.scopes,
                redirect_uri: self.reply.redirect_uri.as_str().to_owned(),
                code_challenge: self.code_challenge,
                nonce: self.nonce,
            },
            state.clock.now() + CODE_LIFETIME_SECS,
        );
        tracing::info!(user = user.name(), "signed in");
        let mut response = self.reply.send(&[("code", code)]);
        if let Some(cookie) = set_cookie {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
        response
    }

    /// Keeps the request and shows the user picker.
    fn ask(self, state: &AppState, notice: Option<&str>) -> Response {
        let id = secrets::random_token();
        let origins: Vec<String> = state
            .settings
            .redirect_uris
            .iter()
            .map(RedirectUri::origin)
            .collect();
        state
            .sign_ins
            .insert(id.clone(), self, state.clock.now() + SIGN_IN_LIFETIME_SECS);
        pages::sign_in(
            &format!("/{}/login", state.settings.tenant_id),
            &id,
            state.settings.users.iter(),
            notice,
            &origins,
        )
    }
}

async fn authorize(
    _: KnownTenant,
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(params): PageQuery<AuthorizeParams>,
) -> Response {
    let mut reply = match trusted_reply(&state, &params) {
        Ok(reply) => reply,
        Err(err) => return ErrorPage(err).into_response(),
    };
    let request = match AuthorizationRequest::validate(&state, &mut reply, params) {
        Ok(request) => request,
        Err(err) => return reply.error(&err),
    };
    let session_user = session::signed_in_user(&state, &headers);
    let hinted = request
        .login_hint
        .as_deref()
        .map(|hint| state.settings.users.find(hint));
    match (request.prompt, hinted, session_user) {
        // Silent: the session's user, if the hint (if any) names them; never a page.
        (Prompt::None, None, Some(user)) => request.complete(&state, user, None),
        (Prompt::None, Some(Some(hinted)), Some(user)) if hinted == user => {
            request.complete(&state, user, None)
        }
        (Prompt::None, ..) => reply.error(&Error::LoginRequired),
        (Prompt::SelectAccount, ..) => request.ask(&state, None),
        // A hint naming a test user signs them in directly: the scripted way in.
        (_, Some(Some(user)), _) => {
            let cookie = session::start(&state, user);
            request.complete(&state, user, Some(cookie))
        }
        (_, Some(None), _) => {
            let notice = format!(
                "There is no test user named {:?}: pick one below.",
                request.login_hint.as_deref().unwrap_or_default()
            );
            request.ask(&state, Some(&notice))
        }
        (Prompt::Default, None, Some(user)) => request.complete(&state, user, None),
        (Prompt::Default | Prompt::Login, None, _) => request.ask(&state, None),
    }
}

#[derive(Debug, Deserialize)]
struct PickUserForm {
    request: Option<String>,
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
        let request_id = required(form.request, "request")?;
        match state.sign_ins.take(&request_id, state.clock.now()) {
            Lookup::Found(request) => Ok((request, user)),
            Lookup::Expired | Lookup::Missing => Err(Error::SignInRequestExpired),
        }
    });
    match picked {
        Ok((request, user)) => {
            let cookie = session::start(&state, user);
            request.complete(&state, user, Some(cookie))
        }
        Err(err) => ErrorPage(err).into_response(),
    }
}
