//! An authorization request, checked: the registered client and redirect URI first, then the
//! rest. Kept as is while the person picks a user, then answered with a code or an error.
//!
//! Order matters, as at Entra: until the client and its `redirect_uri` are known to be registered,
//! errors are shown on a page (a redirect would hand them to whoever forged the request); after
//! that, errors go back to the app, in the response mode it asked for, with its `state`.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use url::{Url, form_urlencoded};
use uuid::Uuid;

use crate::{
    error::Error,
    pages,
    params::required,
    scope::Scopes,
    settings::{Client, Settings},
};

/// An S256 challenge is base64url(SHA-256(verifier)) without padding: 43 characters.
const S256_CHALLENGE_CHARS: usize = 43;

#[derive(Debug, Deserialize)]
pub(crate) struct AuthorizeParams {
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
    max_age: Option<String>,
    /// MSAL asks for `client_info=1`: the user's ids, for its account cache.
    client_info: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseMode {
    Query,
    Fragment,
    /// A page that POSTs the answer to the redirect URI, so it stays out of URLs and logs.
    FormPost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prompt {
    /// Reuse the session if there is one, else ask.
    Default,
    /// Never show a page: the session's user or `login_required`.
    None,
    /// Ask even if there is a session (a `login_hint` still signs in directly).
    Login,
    /// Show the user picker.
    SelectAccount,
}

/// Where and how to answer the app: the request's redirect URI (known to be registered), the
/// response mode, its `state`.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) redirect_uri: Url,
    mode: ResponseMode,
    state: Option<String>,
}

impl Reply {
    /// The answer to the app, `params` plus `state`: a 302 with them in the query or the fragment,
    /// or (`form_post`) a page that posts them.
    pub(crate) fn send(&self, params: &[(&str, String)]) -> Response {
        let mut url = self.redirect_uri.clone();
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
            ResponseMode::FormPost => {
                let fields: Vec<(&str, String)> = pairs.collect();
                return pages::form_post(&url, &fields);
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

    pub(crate) fn error(&self, error: &Error) -> Response {
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
    pub(crate) client_id: Uuid,
    pub(crate) reply: Reply,
    pub(crate) scopes: Scopes,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: String,
    pub(crate) prompt: Prompt,
    pub(crate) login_hint: Option<String>,
    /// The longest a session may have lasted since its sign-in and still be used (OpenID Connect
    /// `max_age`, in seconds); an older one asks the user again.
    pub(crate) max_age: Option<u64>,
    /// Whether to add `client_info` to the answer.
    pub(crate) client_info: bool,
}

/// The client and redirect URI checks: failures here are shown, never redirected.
pub(crate) fn trusted_reply<'a>(
    settings: &'a Settings,
    params: &AuthorizeParams,
) -> Result<(&'a Client, Reply), Error> {
    let client_id = required(params.client_id.clone(), "client_id")?;
    let client = settings
        .client(&client_id)
        .ok_or(Error::UnknownClient(client_id))?;
    let requested = required(params.redirect_uri.clone(), "redirect_uri")?;
    let redirect_uri = client
        .registered_redirect(&requested)
        .ok_or(Error::RedirectUriNotRegistered(requested))?;
    let reply = Reply {
        redirect_uri,
        mode: ResponseMode::Query,
        state: params.state.clone().filter(|state| !state.is_empty()),
    };
    Ok((client, reply))
}

impl AuthorizationRequest {
    /// Checks the rest of the request; `reply` already has the trusted redirect URI, and gets the
    /// response mode here (errors before that is known go back in the query, the default).
    pub(crate) fn validate(
        settings: &Settings,
        client: &Client,
        reply: &mut Reply,
        params: AuthorizeParams,
    ) -> Result<Self, Error> {
        reply.mode = match params.response_mode.as_deref() {
            None | Some("query") => ResponseMode::Query,
            Some("fragment") => ResponseMode::Fragment,
            Some("form_post") => ResponseMode::FormPost,
            Some(other) => return Err(Error::UnsupportedResponseMode(other.to_owned())),
        };
        let response_type = required(params.response_type, "response_type")?;
        if response_type != "code" {
            return Err(Error::UnsupportedResponseType(response_type));
        }
        let scopes = Scopes::parse(&required(params.scope, "scope")?, settings.api_client_id)?;
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
        let max_age = params
            .max_age
            .filter(|max_age| !max_age.is_empty())
            .map(|max_age| {
                max_age
                    .parse::<u64>()
                    .map_err(|_| Error::InvalidMaxAge(max_age))
            })
            .transpose()?;
        Ok(AuthorizationRequest {
            client_id: client.id,
            reply: reply.clone(),
            scopes,
            nonce: params.nonce.filter(|nonce| !nonce.is_empty()),
            code_challenge,
            prompt,
            login_hint: params.login_hint.filter(|hint| !hint.is_empty()),
            max_age,
            client_info: params.client_info.as_deref() == Some("1"),
        })
    }
}
