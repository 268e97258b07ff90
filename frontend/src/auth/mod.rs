//! Sign-in with the authorization code flow and PKCE, done the way MSAL.js does it for SPAs, in
//! Rust: one concern per module, the browser-facing parts (`random`, `cache`, `session`, and the
//! encodings done by the browser: `base64url`, the redirect's parsing) kept thin around pure logic
//! that is unit-tested natively; what calls the browser is tested in it (wasm-bindgen tests).

mod authority;
mod base64url;
mod cache;
mod discovery;
mod id_token;
pub mod pkce;
mod random;
mod redirect;
mod request;
mod session;
mod tokens;

pub use authority::Authority;
pub use cache::{Key, SessionCache};
pub use id_token::{Account, IdTokenError};
pub use random::random_token;
pub use session::Auth;

/// Everything that can go wrong signing in or getting a token, worded for the person at the screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The authority refused: `error` and `error_description` as it sent them.
    #[error("Sign-in failed: {}", describe(error, description.as_deref()))]
    Authority {
        error: String,
        description: Option<String>,
    },
    #[error(
        "The sign-in response does not match the sign-in started in this tab. Please sign in again."
    )]
    StateMismatch,
    #[error("The sign-in took more than 10 minutes to complete. Please sign in again.")]
    RequestExpired,
    #[error(
        "A sign-in response arrived, but this tab did not start a sign-in. Please sign in again."
    )]
    NoPendingRequest,
    #[error("The sign-in response could not be read: {0}.")]
    MalformedResponse(&'static str),
    #[error("The sign-in service gave an answer this app cannot use: {0}.")]
    BadTokenResponse(String),
    #[error("The ID token from the sign-in service was refused: {0}.")]
    IdToken(#[from] IdTokenError),
    #[error("The sign-in service could not be reached: {0}")]
    Network(String),
    /// The authority's OpenID configuration could not be read.
    #[error("The sign-in service's settings could not be read: {0}.")]
    Discovery(String),
    #[error("Your session has ended. Please sign in again.")]
    InteractionRequired,
    #[error("Taking you to the sign-in page…")]
    Redirecting,
    #[error("This browser does not let the app keep its session (sessionStorage is unavailable).")]
    Storage,
    /// Web Crypto is missing: an old browser, or a page not served over https (browsers offer
    /// `crypto.subtle` to secure origins only: https, or http on this machine).
    #[error(
        "This browser cannot sign you in here: it offers no Web Crypto on this page. Open the app \
         over https in a current browser."
    )]
    NoCrypto,
}

impl AuthError {
    /// Whether only the user can fix this by signing in again: the token endpoint refused the
    /// refresh token (expired, revoked, rotated away) or wants consent or MFA.
    pub fn needs_interaction(&self) -> bool {
        match self {
            AuthError::InteractionRequired => true,
            AuthError::Authority { error, .. } => matches!(
                error.as_str(),
                "invalid_grant" | "interaction_required" | "login_required" | "consent_required"
            ),
            _ => false,
        }
    }
}

fn describe(error: &str, description: Option<&str>) -> String {
    match description {
        Some(description) if !description.trim().is_empty() => {
            format!("{} ({error})", description.trim())
        }
        _ => error.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_errors_read_as_sentences() {
        let refused = AuthError::Authority {
            error: "access_denied".into(),
            description: Some(
                "AADSTS50105: Your administrator has not assigned you a role.\r\n".into(),
            ),
        };
        assert_eq!(
            refused.to_string(),
            "Sign-in failed: AADSTS50105: Your administrator has not assigned you a role. (access_denied)"
        );
        let bare = AuthError::Authority {
            error: "server_error".into(),
            description: None,
        };
        assert_eq!(bare.to_string(), "Sign-in failed: server_error");
    }
}
