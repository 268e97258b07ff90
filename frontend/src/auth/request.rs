//! The sign-in request in flight: what this tab must remember across the round trip to the
//! authority (PKCE verifier, `state`, `nonce`, where the user was) and the checks on return.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{AuthError, cache};

/// How long a sign-in may take, from leaving for the authority to coming back. A response older
/// than this is refused, so a stale redirect (a bookmarked URL, a replayed link) cannot complete.
pub const MAX_AGE_SECS: u64 = 10 * 60;

/// A started authorization request, kept in `sessionStorage` (this tab only) until its response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingRequest {
    /// Anti-CSRF value echoed by the authority.
    #[serde(serialize_with = "cache::expose")]
    pub state: SecretString,
    /// Bound into the ID token, so a token minted for another request is refused.
    #[serde(serialize_with = "cache::expose")]
    pub nonce: SecretString,
    /// The PKCE code verifier.
    #[serde(serialize_with = "cache::expose")]
    pub verifier: SecretString,
    /// Where to put the user back after sign-in (a path on this site).
    pub return_path: String,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
}

impl PendingRequest {
    /// Checks that a response with `state` answers this request, in time.
    pub fn check(&self, state: Option<&str>, now: u64) -> Result<(), AuthError> {
        if state != Some(self.state.expose_secret()) {
            return Err(AuthError::StateMismatch);
        }
        if now.saturating_sub(self.created_at) > MAX_AGE_SECS {
            return Err(AuthError::RequestExpired);
        }
        Ok(())
    }
}

/// After an interactive sign-in has started, no other starts automatically for this long: if the
/// tokens it brings back cannot be used either, the user gets an error and a button rather than a
/// redirect loop.
pub const INTERACTIVE_COOLDOWN_SECS: u64 = 2 * 60;

/// Whether a sign-in may start without the user asking, given when the last one started.
pub fn may_start_automatically(last_started: Option<u64>, now: u64) -> bool {
    last_started.is_none_or(|at| now.saturating_sub(at) >= INTERACTIVE_COOLDOWN_SECS)
}

/// `path` if it is a path on this site, else `/`: the return path comes back through the browser's
/// storage, and an absolute or scheme-relative URL there would make the app an open redirector.
pub fn safe_return_path(path: &str) -> String {
    let on_this_site = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(char::is_control);
    if on_this_site { path } else { "/" }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> PendingRequest {
        PendingRequest {
            state: SecretString::from("s1"),
            nonce: SecretString::from("n1"),
            verifier: SecretString::from("v1"),
            return_path: "/dashboard".into(),
            created_at: 1_000,
        }
    }

    /// The request survives its round trip through the cache's JSON, secrets included.
    #[test]
    fn cached_request_keeps_its_values() {
        let json = crate::codec::to_string(&request());
        assert!(json.contains(r#""verifier":"v1""#), "{json}");
        let cached: PendingRequest = crate::codec::from_str(&json).expect("json");
        assert_eq!(cached.state.expose_secret(), "s1");
        assert_eq!(cached.nonce.expose_secret(), "n1");
        assert_eq!(cached.verifier.expose_secret(), "v1");
        assert_eq!(cached.check(Some("s1"), 1_001), Ok(()));
        assert!(!format!("{cached:?}").contains("v1"), "{cached:?}");
    }

    #[test]
    fn matching_state_in_time_passes() {
        assert_eq!(request().check(Some("s1"), 1_000 + MAX_AGE_SECS), Ok(()));
    }

    #[test]
    fn wrong_or_missing_state_is_refused() {
        assert_eq!(
            request().check(Some("s2"), 1_001),
            Err(AuthError::StateMismatch)
        );
        assert_eq!(
            request().check(Some(""), 1_001),
            Err(AuthError::StateMismatch)
        );
        assert_eq!(request().check(None, 1_001), Err(AuthError::StateMismatch));
    }

    #[test]
    fn late_response_is_refused() {
        assert_eq!(
            request().check(Some("s1"), 1_001 + MAX_AGE_SECS),
            Err(AuthError::RequestExpired)
        );
    }

    #[test]
    fn debug_hides_the_secrets() {
        let shown = format!("{:?}", request());
        assert!(
            !shown.contains("v1") && !shown.contains("s1") && !shown.contains("n1"),
            "{shown}"
        );
    }

    #[test]
    fn automatic_sign_in_at_most_once_per_cooldown() {
        assert!(may_start_automatically(None, 5_000));
        assert!(!may_start_automatically(
            Some(5_000),
            5_000 + INTERACTIVE_COOLDOWN_SECS - 1
        ));
        assert!(may_start_automatically(
            Some(5_000),
            5_000 + INTERACTIVE_COOLDOWN_SECS
        ));
        // A clock that went backwards does not unlock it.
        assert!(!may_start_automatically(Some(5_000), 4_000));
    }

    #[test]
    fn return_path_stays_on_this_site() {
        assert_eq!(safe_return_path("/dashboard?tab=1"), "/dashboard?tab=1");
        assert_eq!(safe_return_path("/"), "/");
        for hostile in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "",
            "dashboard",
            "/a\nb",
        ] {
            assert_eq!(safe_return_path(hostile), "/", "{hostile:?}");
        }
    }
}
