//! Reading the authority's answer from the URL fragment the browser came back with.

use secrecy::SecretString;

use super::AuthError;

/// The longest fragment read as a response (codes are a few kilobytes at most).
const MAX_FRAGMENT_BYTES: usize = 16 * 1024;

/// What the authority answered to an authorization request.
#[derive(Debug, Clone)]
pub enum AuthResponse {
    Code {
        code: SecretString,
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
                code: SecretString::from(code),
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
            code: SecretString::from("secret-code"),
            state: None,
        };
        assert!(!format!("{response:?}").contains("secret-code"));
    }
}

/// Parsing, by the browser's `URLSearchParams`.
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests {
    use secrecy::ExposeSecret;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    /// [`AuthResponse`] with the code's value, to compare (secrets have no `PartialEq`).
    #[derive(Debug, PartialEq)]
    enum Read {
        Code(String, Option<String>),
        Error(String, Option<String>, Option<String>),
    }

    fn read(fragment: &str) -> Result<Option<Read>, AuthError> {
        let response = AuthResponse::from_fragment(fragment)?;
        Ok(response.map(|response| match response {
            AuthResponse::Code { code, state } => Read::Code(code.expose_secret().into(), state),
            AuthResponse::Error {
                error,
                description,
                state,
            } => Read::Error(error, description, state),
        }))
    }

    #[wasm_bindgen_test]
    fn code_response() {
        let fragment = "#code=0.AAA%2Bb&state=xyz&session_state=s";
        assert_eq!(
            read(fragment),
            Ok(Some(Read::Code("0.AAA+b".into(), Some("xyz".into()))))
        );
        let response = AuthResponse::from_fragment(fragment)
            .expect("valid")
            .expect("a response");
        assert_eq!(response.state(), Some("xyz"));
    }

    #[wasm_bindgen_test]
    fn error_response_keeps_the_description_readable() {
        let fragment = "error=access_denied&error_description=AADSTS50105%3A+The+signed+in+user+is+not+assigned+to+a+role.&state=xyz";
        assert_eq!(
            read(fragment),
            Ok(Some(Read::Error(
                "access_denied".into(),
                Some("AADSTS50105: The signed in user is not assigned to a role.".into()),
                Some("xyz".into()),
            )))
        );
    }

    /// `+` is a space, percent-escapes are UTF-8 (invalid bytes become U+FFFD), empty pairs are
    /// skipped and a pair without `=` is empty, as the `form_urlencoded` crate read them before.
    #[wasm_bindgen_test]
    fn values_are_decoded_as_forms_are() {
        assert_eq!(
            read("&&error=a+b%20c%2B&error_description=Zo%C3%AB+%E2%9C%93+%FF&state&x=%"),
            Ok(Some(Read::Error(
                "a b c+".into(),
                Some("Zoë ✓ \u{fffd}".into()),
                Some(String::new()),
            )))
        );
    }

    #[wasm_bindgen_test]
    fn ordinary_fragments_are_not_responses() {
        for fragment in [
            "",
            "#main",
            "state=only",
            "?code=a&state=s",
            "#?code=a&state=s",
        ] {
            assert_eq!(read(fragment), Ok(None), "{fragment}");
        }
    }

    #[wasm_bindgen_test]
    fn ambiguous_responses_are_refused() {
        let long = format!("code={}&state=s", "a".repeat(MAX_FRAGMENT_BYTES));
        for fragment in [
            "code=a&code=b&state=s",
            "code=a&state=s&state=t",
            "error=a&error=a",
            "error=a&error_description=&error_description=",
            "code=&state=s",
            &long,
        ] {
            assert!(read(fragment).is_err(), "{fragment}");
        }
        // Other parameters may repeat.
        assert_eq!(
            read("code=a&state=s&x=1&x=2"),
            Ok(Some(Read::Code("a".into(), Some("s".into()))))
        );
    }
}
