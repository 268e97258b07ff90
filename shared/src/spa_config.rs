//! The SPA's runtime configuration, `/config.json`, fetched by the SPA when it starts so that one
//! build deploys anywhere.
//!
//! Written by `cargo xtask dev` and the e2e tests through this type, by setup.sh and deploy.sh in
//! shell (deploy-checks parses what they write as this type), and read by the SPA, which checks
//! the values (frontend/src/config.rs).

use serde::{Deserialize, Serialize};

/// The file as written. An unknown field is refused: it is usually a misspelt one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SpaConfig {
    /// The SPA's application (client) id on its app registration, a GUID.
    pub client_id: String,
    /// The OpenID provider the SPA signs in with: `https://login.microsoftonline.com/{tenant}`,
    /// an Entra External ID or B2C authority, or any provider with an OpenID configuration.
    pub authority: String,
    /// The API's delegated scope, `api://{api-client-id}/access_as_user`.
    pub api_scope: String,
    /// Where the API is; paths such as `/api/me` are appended.
    pub api_base_url: String,
    /// Where the authority sends the browser back to after sign-in and sign-out; the page's
    /// origin with `/` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_uses_camel_case_names_and_refuses_unknown_fields() {
        let config = SpaConfig {
            client_id: "c".into(),
            authority: "https://login.microsoftonline.com/t".into(),
            api_scope: "api://a/access_as_user".into(),
            api_base_url: "https://api.example.com".into(),
            redirect_uri: None,
        };
        let json = serde_json::to_value(&config).expect("serialize");
        assert_eq!(
            json,
            serde_json::json!({
                "clientId": "c",
                "authority": "https://login.microsoftonline.com/t",
                "apiScope": "api://a/access_as_user",
                "apiBaseUrl": "https://api.example.com",
            })
        );
        let mut typo = json.clone();
        typo["clientSecret"] = "x".into();
        let error = serde_json::from_value::<SpaConfig>(typo).expect_err("unknown field");
        assert!(error.to_string().contains("clientSecret"), "{error}");
        assert_eq!(serde_json::from_value::<SpaConfig>(json).ok(), Some(config));
    }
}
