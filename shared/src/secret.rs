//! [`Secret`]: the one redaction type of the workspace, for the API and the SPA alike.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A value that must never reach a log or an error message: tokens, passwords, the PKCE verifier,
/// the ids kept as Key Vault secrets. `Debug` and `Display` print `[redacted]`, and reading the
/// value takes a visible [`Secret::expose`]. In JSON it is the plain value (the SPA's session cache
/// and the token endpoint's answers carry tokens), so serialize it only where it belongs.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T = String>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself: whoever calls this decides where it may go.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[expect(dead_code, reason = "only formatted")]
    struct Holder {
        token: Secret,
    }

    #[test]
    fn formatting_never_shows_the_value() {
        let secret = Secret::new("eyJ0eXAi.token".to_owned());
        assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
        let holder = Holder {
            token: secret.clone(),
        };
        assert_eq!(format!("{holder:?}"), "Holder { token: [redacted] }");
        assert_eq!(secret.expose(), "eyJ0eXAi.token");
    }

    #[test]
    fn json_carries_the_plain_value() {
        let secret = Secret::new("t".to_owned());
        assert_eq!(serde_json::to_string(&secret).expect("json"), r#""t""#);
        assert_eq!(
            serde_json::from_str::<Secret>(r#""t""#).expect("json"),
            secret
        );
    }
}
