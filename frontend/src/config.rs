//! The runtime configuration, `/config.json`, fetched once at start-up so that one build deploys
//! anywhere (the original baked the API URL in at build time, and forgot to after deploying).
//!
//! Parsing is strict: an unknown field is usually a misspelt one, and every value is checked here
//! so that a mistake shows up as one sentence on the error page rather than as a failed sign-in.

use shared::SpaConfig;

use crate::auth::Authority;
use crate::codec;
use crate::url::HttpUrl;

/// The largest `config.json` accepted; the real one is a few hundred bytes.
const MAX_CONFIG_BYTES: usize = 16 * 1024;

/// The configuration, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The SPA's application (client) id on its Entra app registration.
    pub client_id: String,
    pub authority: Authority,
    /// The API's delegated scope, `api://{api-client-id}/access_as_user`.
    pub api_scope: String,
    /// Where the API is; paths such as `/api/me` are appended.
    pub api_base_url: HttpUrl,
    /// Where the authority sends the browser back to, after sign-in and after sign-out: a redirect
    /// URI registered on the SPA's app registration, on this page's origin.
    pub redirect_uri: String,
}

/// Why the app cannot start; shown on the configuration error page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("/config.json could not be loaded: {0}")]
    Unreachable(String),
    #[error("/config.json is missing (the server answered HTTP {0})")]
    Status(u16),
    #[error("/config.json is missing (the server answered with a web page instead of JSON)")]
    NotJson,
    #[error("/config.json is larger than {MAX_CONFIG_BYTES} bytes")]
    TooLarge,
    #[error("/config.json is not valid: {0}")]
    Invalid(String),
    #[error("/config.json: \"{field}\" {problem}")]
    Field {
        field: &'static str,
        problem: String,
    },
}

impl Config {
    /// Parses and validates `config.json` for a page served from `page_origin`
    /// (`scheme://host[:port]`).
    pub fn parse(json: &str, page_origin: &str) -> Result<Self, ConfigError> {
        if json.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge);
        }
        if json.trim_start().starts_with('<') {
            return Err(ConfigError::NotJson);
        }
        let file: SpaConfig = codec::from_str_strict(json).map_err(ConfigError::Invalid)?;

        let client_id = shared::normalize_guid(&file.client_id).ok_or_else(|| {
            field(
                "clientId",
                "must be the SPA registration's application (client) id, a GUID",
            )
        })?;
        let authority = HttpUrl::parse(&file.authority)
            .map(Authority::new)
            .map_err(|e| field("authority", e))?;
        let scope_suffix = format!("/{}", shared::API_SCOPE);
        if file.api_scope.len() <= scope_suffix.len()
            || !file.api_scope.ends_with(&scope_suffix)
            || file.api_scope.chars().any(char::is_whitespace)
        {
            return Err(field(
                "apiScope",
                format!("must be the API's scope, like api://<api-client-id>{scope_suffix}"),
            ));
        }
        let api_base_url =
            HttpUrl::parse(&file.api_base_url).map_err(|e| field("apiBaseUrl", e))?;
        let redirect_uri = match file.redirect_uri {
            None => format!("{page_origin}/"),
            Some(uri) => {
                let url = HttpUrl::parse(&uri).map_err(|e| field("redirectUri", e))?;
                if url.origin() != page_origin {
                    return Err(field(
                        "redirectUri",
                        format!("must be on this site's origin, {page_origin}"),
                    ));
                }
                uri
            }
        };
        Ok(Self {
            client_id,
            authority,
            api_scope: file.api_scope,
            api_base_url,
            redirect_uri,
        })
    }
}

fn field(field: &'static str, problem: impl ToString) -> ConfigError {
    ConfigError::Field {
        field,
        problem: problem.to_string(),
    }
}

/// Fetches and validates `/config.json`: the answer to index.html's preload of it. The file is
/// served with `Cache-Control: no-store` (staticwebapp.config.json), so a redeploy takes effect.
pub async fn load() -> Result<Config, ConfigError> {
    let request = crate::browser::preloaded("/config.json");
    let (status, body) = crate::browser::send(request, None)
        .await
        .map_err(ConfigError::Unreachable)?;
    if !(200..300).contains(&status) {
        return Err(ConfigError::Status(status));
    }
    Config::parse(&body, &crate::browser::origin())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "http://localhost:8080";
    const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

    fn json(authority: &str, api_base_url: &str, extra: &str) -> String {
        format!(
            r#"{{"clientId":"{CLIENT}","authority":"{authority}",
               "apiScope":"api://99999999-2222-3333-4444-555555555555/access_as_user",
               "apiBaseUrl":"{api_base_url}"{extra}}}"#
        )
    }

    fn problem(json: &str) -> (&'static str, String) {
        match Config::parse(json, ORIGIN) {
            Err(ConfigError::Field { field, problem }) => (field, problem),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn local_config_with_defaults() {
        let config = Config::parse(
            &json(
                "http://127.0.0.1:8081/common/",
                "http://localhost:8000/",
                "",
            ),
            ORIGIN,
        )
        .expect("valid");
        assert_eq!(config.client_id, CLIENT);
        assert_eq!(config.authority.to_string(), "http://127.0.0.1:8081/common");
        assert_eq!(config.api_base_url.to_string(), "http://localhost:8000");
        assert_eq!(config.redirect_uri, "http://localhost:8080/");
    }

    /// Any authority with an OpenID configuration: Entra ID, External ID, B2C with its policy.
    #[test]
    fn authorities_of_any_shape() {
        for authority in [
            "https://login.microsoftonline.com/contoso.onmicrosoft.com",
            "https://login.microsoftonline.us/72f988bf-86f1-41af-91ab-2d7cd011db47",
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com",
            "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin",
            "https://accounts.example.com",
        ] {
            let config = Config::parse(&json(authority, "https://api.example.com", ""), ORIGIN)
                .expect(authority);
            assert_eq!(config.authority.to_string(), authority);
        }
    }

    #[test]
    fn explicit_redirect_uri_on_the_same_origin() {
        let extra = r#","redirectUri":"http://localhost:8080/signed-in""#;
        let config = Config::parse(
            &json(
                "https://login.microsoftonline.com/contoso.com",
                "https://api.example.com",
                extra,
            ),
            ORIGIN,
        )
        .expect("valid");
        assert_eq!(config.redirect_uri, "http://localhost:8080/signed-in");

        let elsewhere = r#","redirectUri":"https://evil.example/""#;
        let (field, message) = problem(&json(
            "https://login.microsoftonline.com/x",
            "https://a.example",
            elsewhere,
        ));
        assert_eq!(field, "redirectUri");
        assert!(message.contains(ORIGIN), "{message}");
    }

    #[test]
    fn each_bad_field_is_named() {
        let good_authority = "https://login.microsoftonline.com/contoso.com";
        let cases = [
            (
                json(good_authority, "http://api.example.com", ""),
                "apiBaseUrl",
            ),
            (
                json(
                    "https://login.microsoftonline.com/tenant?p=policy",
                    "https://a.example",
                    "",
                ),
                "authority",
            ),
            (
                json(
                    "http://login.microsoftonline.com/x",
                    "https://a.example",
                    "",
                ),
                "authority",
            ),
            (
                json(good_authority, "https://a.example", "").replace(CLIENT, "my-spa"),
                "clientId",
            ),
            (
                json(good_authority, "https://a.example", "").replace("/access_as_user", "/read"),
                "apiScope",
            ),
            (
                json(good_authority, "https://a.example", "")
                    .replace("api://99999999-2222-3333-4444-555555555555", ""),
                "apiScope",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(problem(&input).0, expected, "{input}");
        }
    }

    #[test]
    fn unknown_missing_and_non_json_are_refused() {
        let typo = json(
            "https://login.microsoftonline.com/x",
            "https://a.example",
            r#","clientSecret":"x""#,
        );
        let err = Config::parse(&typo, ORIGIN).expect_err("unknown field");
        assert!(err.to_string().contains("clientSecret"), "{err}");

        let err = Config::parse(r#"{"clientId":"x"}"#, ORIGIN).expect_err("missing fields");
        assert!(err.to_string().contains("authority"), "{err}");

        let twice = json(
            "https://login.microsoftonline.com/x",
            "https://a.example",
            "",
        )
        .replacen('{', r#"{"apiBaseUrl":"https://b.example","#, 1);
        let err = Config::parse(&twice, ORIGIN).expect_err("a key given twice");
        assert!(err.to_string().contains("apiBaseUrl"), "{err}");

        // What a static host with an SPA fallback answers for a file it does not have.
        assert_eq!(
            Config::parse("<!DOCTYPE html><html></html>", ORIGIN),
            Err(ConfigError::NotJson)
        );
        let huge = " ".repeat(MAX_CONFIG_BYTES + 1);
        assert_eq!(Config::parse(&huge, ORIGIN), Err(ConfigError::TooLarge));
    }
}
