/// A value that must never reach a log or an error message (tokens, the PKCE verifier, the
/// authorization code): its `Debug` prints `[redacted]`, and reading it takes a visible `expose()`.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
        assert_eq!(
            serde_json::to_string(&secret).expect("json"),
            "\"eyJ0eXAi.token\""
        );
        assert_eq!(secret.expose(), "eyJ0eXAi.token");
    }
}
