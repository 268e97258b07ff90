//! The token manager: completes the sign-in when the authority sends the browser back, hands out
//! access tokens (cached, else renewed silently, else by an interactive sign-in), and signs out.

use std::sync::Arc;

use futures_util::future::LocalBoxFuture;
use futures_util::lock::Mutex;
use gloo_net::http::Method;
use leptos::prelude::*;
use leptos::task::spawn_local;
use secrecy::{ExposeSecret, SecretString};

use super::authority::{self, AuthorizeRequest};
use super::discovery::OpenIdConfiguration;
use super::id_token::{self, Account, Expected};
use super::redirect::AuthResponse;
use super::request::{PendingRequest, may_start_automatically, safe_return_path};
use super::tokens::{self, AccessToken, Plan, TokenResponse};
use super::{AuthError, Key, SessionCache, pkce, random};
use crate::browser;
use crate::config::Config;

/// The app's sign-in state, provided as context to every component.
#[derive(Debug, Clone)]
pub struct Auth {
    config: Arc<Config>,
    cache: SessionCache,
    account: RwSignal<Option<Account>>,
    notice: RwSignal<Option<AuthError>>,
    /// Held while a token is acquired, so concurrent API calls renew the session once, not once
    /// each (a refresh token is rotated by every use).
    renewal: Arc<Mutex<()>>,
    /// The authority's OpenID configuration once read: once per page load, as MSAL.js does.
    openid: Arc<Mutex<Option<Arc<OpenIdConfiguration>>>>,
}

impl Auth {
    /// The session of this tab, as cached.
    pub fn new(config: Config) -> Self {
        let cache = SessionCache::new(&config.client_id);
        let account = cache.get::<Account>(Key::Account);
        Self {
            config: Arc::new(config),
            cache,
            account: RwSignal::new(account),
            notice: RwSignal::new(None),
            renewal: Arc::new(Mutex::new(())),
            openid: Arc::new(Mutex::new(None)),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The signed-in user, if any.
    pub fn account(&self) -> Signal<Option<Account>> {
        self.account.into()
    }

    /// The last sign-in problem, to show on the page until dismissed.
    pub fn notice(&self) -> RwSignal<Option<AuthError>> {
        self.notice
    }

    /// Reads the authority's OpenID configuration in the background, so that it is there when
    /// the user signs in or a token is renewed. A failure is reported when it is needed.
    pub fn prefetch_openid_configuration(&self) {
        let auth = self.clone();
        spawn_local(async move {
            let _ = auth.openid().await;
        });
    }

    /// Starts an interactive sign-in, coming back to the current page.
    pub fn sign_in(&self) {
        let auth = self.clone();
        spawn_local(async move {
            if let Err(error) = auth.start_sign_in(None).await {
                auth.notice.set(Some(error));
            }
        });
    }

    /// Forgets the session in this tab, then signs out at the authority, which sends the browser
    /// back to the redirect URI: registered for sign-in, so the authority accepts it (the site
    /// root may not be registered, and an unregistered address leaves the session there intact).
    /// An authority without an end-session endpoint keeps its own session; this tab's ends.
    pub fn sign_out(&self) {
        self.cache.clear();
        self.account.set(None);
        let auth = self.clone();
        spawn_local(async move {
            let redirect_uri = &auth.config.redirect_uri;
            match auth.openid().await {
                Ok(openid) => browser::go_to(&match &openid.end_session_endpoint {
                    Some(endpoint) => authority::logout_url(endpoint, redirect_uri),
                    None => redirect_uri.clone(),
                }),
                Err(error) => auth.notice.set(Some(error)),
            }
        });
    }

    /// The authority's OpenID configuration, read on first use and kept for the page's life; a
    /// failed read is tried again on the next use.
    async fn openid(&self) -> Result<Arc<OpenIdConfiguration>, AuthError> {
        let mut cached = self.openid.lock().await;
        if let Some(openid) = cached.as_ref() {
            return Ok(Arc::clone(openid));
        }
        let openid = Arc::new(OpenIdConfiguration::fetch(&self.config.authority).await?);
        *cached = Some(Arc::clone(&openid));
        Ok(openid)
    }

    /// Completes a sign-in if this page is the authority's redirect back: checks the response,
    /// redeems the code, and removes the response from the address bar. Problems become the notice.
    pub async fn complete_sign_in(&self) {
        let response = match AuthResponse::from_fragment(&browser::fragment()) {
            Ok(None) => return,
            Ok(Some(response)) => Ok(response),
            Err(error) => Err(error),
        };
        let pending = self.cache.take::<PendingRequest>(Key::Request);
        let return_path = pending
            .as_ref()
            .map_or_else(|| "/".to_owned(), |p| safe_return_path(&p.return_path));
        let outcome = match (response, pending) {
            (Err(error), _) => Err(error),
            (Ok(_), None) => Err(AuthError::NoPendingRequest),
            (Ok(response), Some(pending)) => self.finish(response, &pending).await,
        };
        browser::replace_url(&return_path);
        if let Err(error) = outcome {
            self.notice.set(Some(error));
        }
    }

    /// An access token for the API, valid for at least five more minutes when it comes from the
    /// cache. `rejected` is a token the API has just refused (401): it is renewed, once.
    ///
    /// Boxed: every API call awaits it, and one compiled copy keeps the bundle smaller.
    pub fn access_token<'a>(
        &'a self,
        rejected: Option<&'a SecretString>,
    ) -> LocalBoxFuture<'a, Result<SecretString, AuthError>> {
        Box::pin(self.acquire(rejected))
    }

    async fn acquire(&self, rejected: Option<&SecretString>) -> Result<SecretString, AuthError> {
        let _one_at_a_time = self.renewal.lock().await;
        let cached = self.cache.get::<AccessToken>(Key::AccessToken);
        let refresh_token = self.cache.get::<SecretString>(Key::RefreshToken);
        let now = browser::now_secs();
        match (
            tokens::plan(cached.as_ref(), refresh_token.is_some(), rejected, now),
            refresh_token,
        ) {
            (Plan::UseCached(token), _) => Ok(token),
            (Plan::Refresh, Some(refresh_token)) => match self.renew(&refresh_token).await {
                Err(error) if error.needs_interaction() => self.interaction_required().await,
                Err(error @ AuthError::IdToken(_)) => {
                    self.end_local_session(error.clone());
                    Err(error)
                }
                other => other,
            },
            _ => self.interaction_required().await,
        }
    }

    async fn finish(
        &self,
        response: AuthResponse,
        pending: &PendingRequest,
    ) -> Result<(), AuthError> {
        pending.check(response.state(), browser::now_secs())?;
        let code = match response {
            AuthResponse::Error {
                error, description, ..
            } => return Err(AuthError::Authority { error, description }),
            AuthResponse::Code { code, .. } => code,
        };
        let config = &self.config;
        let grant = authority::code_grant(
            &config.client_id,
            &config.api_scope,
            &config.redirect_uri,
            code.expose_secret(),
            pending.verifier.expose_secret(),
        );
        let openid = self.openid().await?;
        let response = self.token_request(&openid, grant).await?;
        let id_token = response
            .id_token
            .as_ref()
            .map(ExposeSecret::expose_secret)
            .ok_or_else(|| AuthError::BadTokenResponse("no ID token".into()))?;
        let expected = self.expected(&openid, Some(pending.nonce.expose_secret()), None);
        let account = id_token::check(id_token, expected)?;
        self.store(&response, account)
    }

    /// The refresh-token grant. A renewed ID token must name the same user.
    async fn renew(&self, refresh_token: &SecretString) -> Result<SecretString, AuthError> {
        let config = &self.config;
        let grant = authority::refresh_grant(
            &config.client_id,
            &config.api_scope,
            refresh_token.expose_secret(),
        );
        let openid = self.openid().await?;
        let response = self.token_request(&openid, grant).await?;
        let current = self
            .account
            .get_untracked()
            .ok_or(AuthError::InteractionRequired)?;
        let account = match response.id_token.as_ref().map(ExposeSecret::expose_secret) {
            Some(id_token) => {
                id_token::check(id_token, self.expected(&openid, None, Some(&current)))?
            }
            None => current,
        };
        self.store(&response, account)?;
        Ok(response.access_token)
    }

    fn expected<'a>(
        &'a self,
        openid: &'a OpenIdConfiguration,
        nonce: Option<&'a str>,
        same_user: Option<&'a Account>,
    ) -> Expected<'a> {
        Expected {
            client_id: &self.config.client_id,
            issuer: &openid.issuer,
            nonce,
            same_user,
            now: browser::now_secs(),
        }
    }

    fn store(&self, response: &TokenResponse, account: Account) -> Result<(), AuthError> {
        let access_token = AccessToken::from_response(response, browser::now_secs());
        self.cache.set(Key::AccessToken, &access_token)?;
        match &response.refresh_token {
            Some(refresh_token) => self.cache.set_secret(Key::RefreshToken, refresh_token)?,
            None => self.cache.remove(Key::RefreshToken),
        }
        self.cache.set(Key::Account, &account)?;
        // Renewals usually name the same account: leave the pages that depend on it undisturbed
        // (re-rendering them would refetch their data, and could renew again).
        if self
            .account
            .with_untracked(|current| current.as_ref() != Some(&account))
        {
            self.account.set(Some(account));
        }
        Ok(())
    }

    /// POSTs a grant to the token endpoint. The body is form-encoded, a CORS "simple" request:
    /// Entra answers SPA redirect URIs' origins without a preflight.
    async fn token_request(
        &self,
        openid: &OpenIdConfiguration,
        grant: String,
    ) -> Result<TokenResponse, AuthError> {
        let endpoint = openid.token_endpoint.to_string();
        let request = browser::request(Method::POST, &endpoint)
            .header("Content-Type", "application/x-www-form-urlencoded");
        let (status, body) = browser::send(request, Some(grant))
            .await
            .map_err(AuthError::Network)?;
        TokenResponse::parse(status, &body)
    }

    /// The session cannot be renewed silently: sign in again, interactively, unless that was tried
    /// moments ago (then the user gets the message and the Sign in button instead of a loop).
    async fn interaction_required(&self) -> Result<SecretString, AuthError> {
        let last_started = self.cache.get::<u64>(Key::InteractiveAt);
        if !may_start_automatically(last_started, browser::now_secs()) {
            self.end_local_session(AuthError::InteractionRequired);
            return Err(AuthError::InteractionRequired);
        }
        let hint = self.account.get_untracked().map(|account| account.username);
        self.start_sign_in(hint.as_deref().filter(|hint| !hint.is_empty()))
            .await?;
        Err(AuthError::Redirecting)
    }

    fn end_local_session(&self, reason: AuthError) {
        for key in [Key::Account, Key::AccessToken, Key::RefreshToken] {
            self.cache.remove(key);
        }
        self.account.set(None);
        self.notice.set(Some(reason));
    }

    async fn start_sign_in(&self, login_hint: Option<&str>) -> Result<(), AuthError> {
        let openid = self.openid().await?;
        let now = browser::now_secs();
        let request = PendingRequest {
            state: SecretString::from(random::random_token()?),
            nonce: SecretString::from(random::random_token()?),
            verifier: SecretString::from(pkce::verifier(&random::random_bytes()?)),
            return_path: safe_return_path(&browser::current_path()),
            created_at: now,
        };
        let config = &self.config;
        let url = AuthorizeRequest {
            client_id: &config.client_id,
            redirect_uri: &config.redirect_uri,
            api_scope: &config.api_scope,
            state: request.state.expose_secret(),
            nonce: request.nonce.expose_secret(),
            code_challenge: &pkce::challenge(request.verifier.expose_secret()).await?,
            login_hint,
        }
        .url(&openid.authorization_endpoint);
        self.cache.set(Key::Request, &request)?;
        self.cache.set(Key::InteractiveAt, &now)?;
        browser::go_to(&url);
        Ok(())
    }
}
