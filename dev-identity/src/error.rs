//! Every way a request can be refused, and how Entra ID would say it.
//!
//! Entra answers a protocol error with an OAuth `error` code plus an `error_description` that starts
//! with an `AADSTS` number, and repeats that number in `error_codes`. Client libraries (and people
//! reading a browser's address bar) key on those, so the stand-in uses the same shapes and, where a
//! matching Entra error is known, the same numbers. Rendering lives here, in one place: JSON for the
//! token and metadata endpoints ([`IntoResponse`]), an HTML page for sign-in requests that cannot be
//! trusted with a redirect ([`ErrorPage`]), and redirect parameters ([`Error::redirect_params`]).

use std::time::SystemTime;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use uuid::Uuid;

use crate::pages;

/// A refused request. The message of each variant is the text after `AADSTSnnnn: `.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error(
        "Tenant '{0}' not found. This dev-identity instance serves exactly one tenant; check the tenant id in the authority."
    )]
    TenantNotFound(String),
    #[error("The endpoint '{0}' does not exist on this identity provider.")]
    UnknownEndpoint(String),
    #[error("The request body must contain the following parameter: '{0}'.")]
    MissingParameter(&'static str),
    #[error("The parameter '{0}' is longer than {1} characters.")]
    ParameterTooLong(String, usize),
    #[error("The request is malformed or invalid: {0}")]
    Malformed(String),
    #[error(
        "Application with identifier '{0}' was not found in the directory. This provider knows only the SPA's and the public client's ids it was started with."
    )]
    UnknownClient(String),
    #[error(
        "The redirect URI '{0}' specified in the request does not match the redirect URIs configured for the application."
    )]
    RedirectUriNotRegistered(String),
    #[error(
        "The post logout redirect URI '{0}' does not match the redirect URIs configured for the application."
    )]
    LogoutRedirectNotRegistered(String),
    #[error(
        "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."
    )]
    SecretFromPublicClient,
    #[error("response_type '{0}' is not enabled for the application: only 'code' is supported.")]
    UnsupportedResponseType(String),
    #[error("response_mode '{0}' is not supported: use 'query', 'fragment' or 'form_post'.")]
    UnsupportedResponseMode(String),
    #[error("max_age '{0}' is not valid: it is a whole number of seconds.")]
    InvalidMaxAge(String),
    #[error("prompt '{0}' is not supported: use 'login', 'none', 'select_account' or 'consent'.")]
    UnsupportedPrompt(String),
    #[error("The provided value for the input parameter 'scope' is not valid. {0}")]
    InvalidScope(String),
    #[error(
        "The resource principal named {resource} was not found in the tenant. This provider issues tokens only for the API {api}."
    )]
    UnknownResource { resource: String, api: String },
    #[error(
        "Proof Key for Code Exchange is required for cross-origin authorization code redemption: send code_challenge with code_challenge_method=S256."
    )]
    PkceRequired,
    #[error(
        "code_challenge_method '{0}' is not accepted: only S256 is (the 'plain' method protects nothing)."
    )]
    PkceMethodRefused(String),
    #[error(
        "Invalid size of code_challenge parameter: an S256 challenge is 43 base64url characters."
    )]
    InvalidCodeChallenge,
    #[error("A silent sign-in request was sent but no user is signed in.")]
    LoginRequired,
    #[error(
        "This sign-in request is unknown or has expired. Go back to the app and sign in again."
    )]
    SignInRequestExpired,
    #[error("There is no test user named '{0}'.")]
    UnknownUser(String),
    #[error(
        "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests (send an Origin header)."
    )]
    CrossOriginRequired,
    #[error(
        "Cross-origin token redemption is permitted only for the origins of the registered redirect URIs. Request origin: '{0}'."
    )]
    OriginNotRegistered(String),
    #[error(
        "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type: this client is registered as a public (mobile and desktop) client. Request origin: '{0}'."
    )]
    CrossOriginFromPublicClient(String),
    #[error("The grant_type '{0}' is not supported: use 'authorization_code' or 'refresh_token'.")]
    UnsupportedGrantType(String),
    #[error("Provided grant is invalid or malformed.")]
    GrantNotFound,
    #[error("The provided grant was issued to another application.")]
    GrantOfOtherClient,
    #[error(
        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."
    )]
    CodeAlreadyRedeemed,
    #[error(
        "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."
    )]
    GrantExpired,
    #[error(
        "The reply address does not match the reply address provided when requesting the authorization code."
    )]
    RedirectUriMismatch,
    #[error("code_verifier must be 43 to 128 characters from [A-Za-z0-9-._~].")]
    InvalidCodeVerifier,
    #[error(
        "The code_verifier does not match the code_challenge supplied in the authorization request."
    )]
    CodeVerifierMismatch,
    #[error("The identity provider's signing keys failed; see its log.")]
    Signing,
    /// A browser page of another site called a dev hook (any site can make a browser POST).
    #[error(
        "The dev hooks answer scripts and the registered app only, not pages of other sites. Request origin: '{0}'."
    )]
    DevHookFromOtherSite(String),
}

impl Error {
    /// The OAuth 2.0 / OpenID Connect `error` value.
    pub(crate) fn oauth_code(&self) -> &'static str {
        match self {
            Error::TenantNotFound(_)
            | Error::UnknownEndpoint(_)
            | Error::MissingParameter(_)
            | Error::ParameterTooLong(..)
            | Error::Malformed(_)
            | Error::RedirectUriNotRegistered(_)
            | Error::LogoutRedirectNotRegistered(_)
            | Error::UnsupportedResponseMode(_)
            | Error::InvalidMaxAge(_)
            | Error::UnsupportedPrompt(_)
            | Error::PkceRequired
            | Error::PkceMethodRefused(_)
            | Error::InvalidCodeChallenge
            | Error::SignInRequestExpired
            | Error::UnknownUser(_)
            | Error::CrossOriginRequired
            | Error::OriginNotRegistered(_)
            | Error::CrossOriginFromPublicClient(_)
            | Error::DevHookFromOtherSite(_)
            | Error::InvalidCodeVerifier => "invalid_request",
            Error::UnknownClient(_) => "unauthorized_client",
            Error::SecretFromPublicClient => "invalid_client",
            Error::UnsupportedResponseType(_) => "unsupported_response_type",
            Error::InvalidScope(_) => "invalid_scope",
            Error::UnknownResource { .. } => "invalid_resource",
            Error::LoginRequired => "login_required",
            Error::UnsupportedGrantType(_) => "unsupported_grant_type",
            Error::GrantNotFound
            | Error::GrantOfOtherClient
            | Error::CodeAlreadyRedeemed
            | Error::GrantExpired
            | Error::RedirectUriMismatch
            | Error::CodeVerifierMismatch => "invalid_grant",
            Error::Signing => "server_error",
        }
    }

    /// The `AADSTS` number: Entra's own where one is known for the same condition.
    pub(crate) fn aadsts(&self) -> u32 {
        match self {
            Error::TenantNotFound(_) => 90002,
            Error::UnknownEndpoint(_) => 90056,
            Error::MissingParameter(_) => 900144,
            Error::ParameterTooLong(..) => 90015,
            Error::Malformed(_)
            | Error::UnsupportedResponseMode(_)
            | Error::InvalidMaxAge(_)
            | Error::UnsupportedPrompt(_)
            | Error::SignInRequestExpired
            | Error::UnknownUser(_) => 9002313,
            Error::UnknownClient(_) => 700016,
            Error::RedirectUriNotRegistered(_) => 50011,
            Error::LogoutRedirectNotRegistered(_) => 50011,
            Error::SecretFromPublicClient => 700025,
            Error::UnsupportedResponseType(_) => 700054,
            Error::InvalidScope(_) => 70011,
            Error::UnknownResource { .. } => 500011,
            Error::PkceRequired | Error::PkceMethodRefused(_) => 9002325,
            Error::InvalidCodeChallenge => 501491,
            Error::LoginRequired => 50058,
            Error::CrossOriginRequired => 9002327,
            Error::OriginNotRegistered(_)
            | Error::CrossOriginFromPublicClient(_)
            | Error::DevHookFromOtherSite(_) => 9002326,
            Error::UnsupportedGrantType(_) => 70003,
            Error::GrantNotFound | Error::GrantOfOtherClient => 70000,
            Error::CodeAlreadyRedeemed => 54005,
            Error::GrantExpired => 70008,
            Error::RedirectUriMismatch => 500112,
            Error::InvalidCodeVerifier | Error::CodeVerifierMismatch => 501481,
            Error::Signing => 90033,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Error::TenantNotFound(_) | Error::UnknownEndpoint(_) => StatusCode::NOT_FOUND,
            Error::SecretFromPublicClient => StatusCode::UNAUTHORIZED,
            Error::DevHookFromOtherSite(_) => StatusCode::FORBIDDEN,
            Error::Signing => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// `AADSTSnnnn: message`, the first line of every rendering.
    pub(crate) fn description(&self) -> String {
        format!("AADSTS{}: {self}", self.aadsts())
    }

    /// The parameters of an error redirect to the client (`state` is added by the caller).
    pub(crate) fn redirect_params(&self) -> [(&'static str, String); 2] {
        [
            ("error", self.oauth_code().to_owned()),
            ("error_description", self.description()),
        ]
    }
}

/// Entra's JSON error body, trace and correlation ids included so logs can be matched up.
#[derive(Debug, Serialize)]
struct ErrorBody {
    error: &'static str,
    error_description: String,
    error_codes: [u32; 1],
    timestamp: String,
    trace_id: Uuid,
    correlation_id: Uuid,
}

impl ErrorBody {
    fn new(error: &Error) -> Self {
        let timestamp = entra_timestamp(SystemTime::now());
        let trace_id = crate::secrets::random_uuid();
        let correlation_id = crate::secrets::random_uuid();
        ErrorBody {
            error: error.oauth_code(),
            error_description: format!(
                "{}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                error.description()
            ),
            error_codes: [error.aadsts()],
            timestamp,
            trace_id,
            correlation_id,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if matches!(self, Error::Signing) {
            tracing::error!("answering server_error: {self}");
        } else {
            tracing::debug!(error = self.oauth_code(), "refused: {}", self.description());
        }
        let mut response = (self.status(), Json(ErrorBody::new(&self))).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// An error shown to the person in the browser: used when the request's `redirect_uri` cannot be
/// trusted, because redirecting there would hand the error (and the user) to an unknown site.
#[derive(Debug)]
pub(crate) struct ErrorPage(pub(crate) Error);

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        let ErrorPage(error) = self;
        tracing::debug!(
            error = error.oauth_code(),
            "sign-in refused: {}",
            error.description()
        );
        pages::error(error.status(), error.oauth_code(), &error.description())
    }
}

/// `2016-01-09 02:02:12Z`, the format of Entra's `timestamp` field.
fn entra_timestamp(at: SystemTime) -> String {
    let at = time::OffsetDateTime::from(at);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn timestamps_use_entras_format() {
        let at = UNIX_EPOCH + Duration::from_secs(1_452_304_932);
        assert_eq!(entra_timestamp(at), "2016-01-09 02:02:12Z");
    }

    #[test]
    fn descriptions_start_with_the_aadsts_number() {
        let error = Error::CodeAlreadyRedeemed;
        assert!(
            error
                .description()
                .starts_with("AADSTS54005: OAuth2 Authorization code")
        );
        assert_eq!(error.oauth_code(), "invalid_grant");
    }
}
