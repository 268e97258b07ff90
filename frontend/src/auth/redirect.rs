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
        // Read as `application/x-www-form-urlencoded` by the browser's `URLSearchParams`, which
        // drops one leading `?` from its input: the one added here, so that the fragment is read
        // as it is (a `?code=` is no `code`).
        let params = web_sys::UrlSearchParams::new_with_str(&format!("?{fragment}"))
            .map_err(|_| AuthError::MalformedResponse("it is not form-encoded"))?;
        let param = |name| match params.get_all(name).length() {
            0 | 1 => Ok(params.get(name)),
            _ => Err(AuthError::MalformedResponse("a parameter appears twice")),
        };
        let (code, state) = (param("code")?, param("state")?);
        let (error, description) = (param("error")?, param("error_description")?);
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
    fn debug_never_shows_the_code() {
        let response = AuthResponse::Code {
            code: Secret::from("secret-code"),
            state: None,
        };
        assert!(!format!("{response:?}").contains("secret-code"));
    }
}

/// Parsing, by the browser's `URLSearchParams`.
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
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

    #[wasm_bindgen_test]
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

    /// `+` is a space, percent-escapes are UTF-8 (invalid bytes become U+FFFD), empty pairs and a
    /// pair without `=` are skipped or empty, as the `form_urlencoded` crate read them before.
    #[wasm_bindgen_test]
    fn values_are_decoded_as_forms_are() {
        let response = AuthResponse::from_fragment(
            "&&error=a+b%20c%2B&error_description=Zo%C3%AB+%E2%9C%93+%FF&state&x=%",
        )
        .expect("valid")
        .expect("response");
        assert_eq!(
            response,
            AuthResponse::Error {
                error: "a b c+".into(),
                description: Some("Zoë ✓ \u{fffd}".into()),
                state: Some(String::new()),
            }
        );
    }

    #[wasm_bindgen_test]
    fn ordinary_fragments_are_not_responses() {
        assert_eq!(AuthResponse::from_fragment(""), Ok(None));
        assert_eq!(AuthResponse::from_fragment("#main"), Ok(None));
        assert_eq!(AuthResponse::from_fragment("state=only"), Ok(None));
        assert_eq!(AuthResponse::from_fragment("?code=a&state=s"), Ok(None));
        assert_eq!(AuthResponse::from_fragment("#?code=a&state=s"), Ok(None));
    }

    #[wasm_bindgen_test]
    fn ambiguous_responses_are_refused() {
        assert!(AuthResponse::from_fragment("code=a&code=b&state=s").is_err());
        assert!(AuthResponse::from_fragment("code=a&state=s&state=t").is_err());
        assert!(AuthResponse::from_fragment("error=a&error=a").is_err());
        assert!(
            AuthResponse::from_fragment("error=a&error_description=&error_description=").is_err()
        );
        assert!(AuthResponse::from_fragment("code=&state=s").is_err());
        let long = format!("code={}&state=s", "a".repeat(MAX_FRAGMENT_BYTES));
        assert!(AuthResponse::from_fragment(&long).is_err());
        // Other parameters may repeat.
        assert!(
            AuthResponse::from_fragment("code=a&state=s&x=1&x=2")
                .expect("valid")
                .is_some()
        );
    }
}
