//! The token endpoint's answers and the decision, before each API call, of how to get an access
//! token: the cached one, a refresh-token grant, or an interactive sign-in.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{AuthError, cache};
use crate::codec;

/// A cached access token is used only if it stays valid this much longer (as MSAL's default), so
/// that it does not expire between being picked and reaching the API.
pub const RENEWAL_MARGIN_SECS: u64 = 5 * 60;

/// The largest token endpoint answer read (tokens with many claims are a few kilobytes).
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 256 * 1024;

/// A successful token endpoint answer (RFC 6749 §5.1).
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub token_type: String,
    pub access_token: SecretString,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
    pub refresh_token: Option<SecretString>,
    pub id_token: Option<SecretString>,
}

/// A refused token request (RFC 6749 §5.2).
#[derive(Deserialize)]
struct TokenErrorResponse {
    error: String,
    error_description: Option<String>,
}

impl TokenResponse {
    /// Interprets the token endpoint's answer: HTTP status and body.
    pub fn parse(status: u16, body: &str) -> Result<Self, AuthError> {
        if body.len() > MAX_TOKEN_RESPONSE_BYTES {
            return Err(AuthError::BadTokenResponse(
                "the answer is too large".into(),
            ));
        }
        if !(200..300).contains(&status) {
            return Err(match codec::from_str::<TokenErrorResponse>(body) {
                Ok(refused) => AuthError::Authority {
                    error: refused.error,
                    description: refused.error_description,
                },
                Err(_) => AuthError::BadTokenResponse(format!("HTTP {status}")),
            });
        }
        let response: Self = codec::from_str(body).map_err(AuthError::BadTokenResponse)?;
        if !response.token_type.eq_ignore_ascii_case("bearer")
            || response.access_token.expose_secret().is_empty()
        {
            return Err(AuthError::BadTokenResponse("no bearer access token".into()));
        }
        Ok(response)
    }
}

/// An access token for the API, as cached. The token is opaque here: only its lifetime, given by
/// the token endpoint, is used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessToken {
    #[serde(serialize_with = "cache::expose")]
    pub token: SecretString,
    /// Seconds since the Unix epoch.
    pub expires_at: u64,
}

impl AccessToken {
    pub fn from_response(response: &TokenResponse, now: u64) -> Self {
        Self {
            token: response.access_token.clone(),
            expires_at: now.saturating_add(response.expires_in),
        }
    }
}

/// How to get an access token for the next API call.
#[derive(Debug, Clone)]
pub enum Plan {
    /// The cached token.
    UseCached(SecretString),
    /// Renew with the refresh token.
    Refresh,
    /// Only the user can help: sign in again.
    Interactive,
}

/// Decides how to get an access token.
///
/// `rejected` is a token the API has just answered 401 to: it is not used again even if it looks
/// fresh. When another call has renewed the cache since, the renewed token is used instead of
/// renewing twice.
pub fn plan(
    cached: Option<&AccessToken>,
    has_refresh_token: bool,
    rejected: Option<&SecretString>,
    now: u64,
) -> Plan {
    let was_rejected =
        |token: &SecretString| rejected.is_some_and(|r| r.expose_secret() == token.expose_secret());
    match cached {
        Some(token)
            if !was_rejected(&token.token)
                && token.expires_at > now.saturating_add(RENEWAL_MARGIN_SECS) =>
        {
            Plan::UseCached(token.token.clone())
        }
        _ if has_refresh_token => Plan::Refresh,
        _ => Plan::Interactive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn token(secret: &str, expires_at: u64) -> AccessToken {
        AccessToken {
            token: SecretString::from(secret),
            expires_at,
        }
    }

    /// The plan, with the value of the token to use (secrets have no `PartialEq`).
    fn shown(plan: Plan) -> String {
        match plan {
            Plan::UseCached(token) => format!("use {}", token.expose_secret()),
            Plan::Refresh => "refresh".to_owned(),
            Plan::Interactive => "interactive".to_owned(),
        }
    }

    #[test]
    fn token_valid_for_more_than_five_minutes_is_used() {
        let fresh = token("a", NOW + RENEWAL_MARGIN_SECS + 1);
        assert_eq!(shown(plan(Some(&fresh), true, None, NOW)), "use a");
        assert_eq!(shown(plan(Some(&fresh), false, None, NOW)), "use a");
    }

    #[test]
    fn token_expiring_within_five_minutes_is_renewed() {
        let expiring = token("a", NOW + RENEWAL_MARGIN_SECS);
        assert_eq!(shown(plan(Some(&expiring), true, None, NOW)), "refresh");
        let expired = token("a", NOW - 1);
        assert_eq!(shown(plan(Some(&expired), true, None, NOW)), "refresh");
        assert_eq!(shown(plan(None, true, None, NOW)), "refresh");
    }

    #[test]
    fn without_refresh_token_the_user_signs_in() {
        let fresh = token("a", NOW + 10);
        assert_eq!(shown(plan(Some(&fresh), false, None, NOW)), "interactive");
        assert_eq!(shown(plan(None, false, None, NOW)), "interactive");
    }

    #[test]
    fn token_rejected_by_the_api_is_renewed_once_unless_already_renewed() {
        let fresh = token("a", NOW + 3600);
        let rejected = SecretString::from("a");
        assert_eq!(
            shown(plan(Some(&fresh), true, Some(&rejected), NOW)),
            "refresh"
        );
        assert_eq!(
            shown(plan(Some(&fresh), false, Some(&rejected), NOW)),
            "interactive"
        );
        // Another call renewed the cache while this one waited: use the new token.
        let old = SecretString::from("old");
        assert_eq!(shown(plan(Some(&fresh), true, Some(&old), NOW)), "use a");
    }

    #[test]
    fn successful_response() {
        let body = r#"{"token_type":"Bearer","scope":"api://a/access_as_user","expires_in":3599,
            "ext_expires_in":3599,"access_token":"at","refresh_token":"rt","id_token":"it"}"#;
        let response = TokenResponse::parse(200, body).expect("valid");
        let exposed = |secret: &Option<SecretString>| {
            secret
                .as_ref()
                .map(|secret| secret.expose_secret().to_owned())
        };
        assert_eq!(exposed(&response.refresh_token).as_deref(), Some("rt"));
        assert_eq!(exposed(&response.id_token).as_deref(), Some("it"));
        let cached = AccessToken::from_response(&response, NOW);
        assert_eq!(
            (cached.token.expose_secret(), cached.expires_at),
            ("at", NOW + 3599)
        );
        assert!(!format!("{response:?}").contains("\"at\""), "{response:?}");
    }

    /// The cache holds the token's value: serialized by `cache::expose`, read back as a secret.
    #[test]
    fn access_token_in_the_cache() {
        let json = codec::to_string(&token("at", NOW));
        assert_eq!(json, format!(r#"{{"token":"at","expires_at":{NOW}}}"#));
        let cached: AccessToken = codec::from_str(&json).expect("json");
        assert_eq!(cached.token.expose_secret(), "at");
        assert!(!format!("{cached:?}").contains("\"at\""), "{cached:?}");
    }

    #[test]
    fn refused_grants() {
        let expired = r#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired."}"#;
        let refused = TokenResponse::parse(400, expired).expect_err("refused");
        assert!(refused.needs_interaction(), "{refused:?}");

        let other =
            r#"{"error":"invalid_client","error_description":"AADSTS700025: Client is public."}"#;
        let refused = TokenResponse::parse(401, other).expect_err("refused");
        assert_eq!(
            refused,
            AuthError::Authority {
                error: "invalid_client".into(),
                description: Some("AADSTS700025: Client is public.".into())
            }
        );
        assert!(!refused.needs_interaction());
        assert_eq!(
            TokenResponse::parse(502, "<html>Bad gateway</html>").err(),
            Some(AuthError::BadTokenResponse("HTTP 502".into()))
        );
    }

    #[test]
    fn unusable_success_is_refused() {
        for body in [
            r#"{"token_type":"pop","access_token":"at","expires_in":10}"#,
            r#"{"token_type":"Bearer","access_token":"","expires_in":10}"#,
            r#"{"token_type":"Bearer","access_token":"at"}"#,
            r#"{"token_type":"Bearer","access_token":"at","expires_in":-1}"#,
        ] {
            assert!(
                matches!(
                    TokenResponse::parse(200, body),
                    Err(AuthError::BadTokenResponse(_))
                ),
                "{body}"
            );
        }
    }
}
