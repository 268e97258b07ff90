use serde::{Deserialize, Serialize};

/// A value that must never reach a log or an error message (tokens, the PKCE verifier, the
/// authorization code): its `Debug` prints `[redacted]`, and reading it takes a visible `expose()`.
/// In JSON (the session cache, the token endpoint's answers) it is a plain string.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value_but_json_keeps_it() {
        let secret = Secret::new("eyJ0eXAi.token");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(crate::codec::to_string(&secret), "\"eyJ0eXAi.token\"");
        assert_eq!(secret.expose(), "eyJ0eXAi.token");
    }
}
