//! Reading the authority's answer from the URL fragment the browser came back with.

use super::{AuthError, Secret};

/// The longest fragment read as a response (codes are a few kilobytes at most).
const MAX_FRAGMENT_BYTES: usize = 16 * 1024;

/// What the authority answered to an authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthResponse {
    Code {
        code: Secret,
        state: Option<String>,
    },
    /// The authority refused (`access_denied`, a user without an app role assignment, ...).
    Error {
        error: String,
        description: Option<String>,
        state: Option<String>,
    },
}

impl AuthResponse {
    pub fn state(&self) -> Option<&str> {
        match self {
            AuthResponse::Code { state, .. } | AuthResponse::Error { state, .. } => {
                state.as_deref()
            }
        }
    }

    /// Parses `fragment` (without the `#`). `Ok(None)` when it is no authorization response
    /// (an ordinary in-page anchor); an error when it looks like one but cannot be trusted.
    pub fn from_fragment(fragment: &str) -> Result<Option<Self>, AuthError> {
        let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
        if fragment.len() > MAX_FRAGMENT_BYTES {
            return Err(AuthError::MalformedResponse("the response is too long"));
        }
        let mut code = None;
        let mut state = None;
        let mut error = None;
        let mut description = None;
        for (key, value) in form_urlencoded::parse(fragment.as_bytes()) {
            let slot = match key.as_ref() {
                "code" => &mut code,
                "state" => &mut state,
                "error" => &mut error,
                "error_description" => &mut description,
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(AuthError::MalformedResponse("a parameter appears twice"));
            }
        }
        Ok(match (code, error) {
            (_, Some(error)) => Some(AuthResponse::Error {
                error,
                description,
                state,
            }),
            (Some(code), None) if !code.is_empty() => Some(AuthResponse::Code {
                code: Secret::new(code),
                state,
            }),
            (Some(_), None) => return Err(AuthError::MalformedResponse("the code is empty")),
            (None, None) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_response() {
        let response = AuthResponse::from_fragment("#code=0.AAA%2Bb&state=xyz&session_state=s")
            .expect("valid")
            .expect("a response");
        assert_eq!(
            response,
            AuthResponse::Code {
                code: Secret::from("0.AAA+b"),
                state: Some("xyz".into())
            }
        );
        assert_eq!(response.state(), Some("xyz"));
    }

    #[test]
    fn error_response_keeps_the_description_readable() {
        let fragment = "error=access_denied&error_description=AADSTS50105%3A+The+signed+in+user+is+not+assigned+to+a+role.&state=xyz";
        let response = AuthResponse::from_fragment(fragment)
            .expect("valid")
            .expect("response");
        assert_eq!(
            response,
            AuthResponse::Error {
                error: "access_denied".into(),
                description: Some(
                    "AADSTS50105: The signed in user is not assigned to a role.".into()
                ),
                state: Some("xyz".into()),
            }
        );
    }

    #[test]
    fn ordinary_fragments_are_not_responses() {
        assert_eq!(AuthResponse::from_fragment(""), Ok(None));
        assert_eq!(AuthResponse::from_fragment("#main"), Ok(None));
        assert_eq!(AuthResponse::from_fragment("state=only"), Ok(None));
    }

    #[test]
    fn ambiguous_responses_are_refused() {
        assert!(AuthResponse::from_fragment("code=a&code=b&state=s").is_err());
        assert!(AuthResponse::from_fragment("code=a&state=s&state=t").is_err());
        assert!(AuthResponse::from_fragment("code=&state=s").is_err());
        let long = format!("code={}&state=s", "a".repeat(MAX_FRAGMENT_BYTES));
        assert!(AuthResponse::from_fragment(&long).is_err());
    }

    #[test]
    fn debug_never_shows_the_code() {
        let response = AuthResponse::Code {
            code: Secret::from("secret-code"),
            state: None,
        };
        assert!(!format!("{response:?}").contains("secret-code"));
    }
}
