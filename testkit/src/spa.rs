//! The SPA's half of a sign-in, without a browser, for tests that need real tokens from the local
//! identity provider (`dev-identity`): the authorization code flow with PKCE S256 and a
//! `login_hint`, which `dev-identity` answers at once with a redirect carrying the code, then the
//! cross-origin code redemption Entra requires of single-page apps.

use std::time::Duration;

use aws_lc_rs::{
    digest,
    rand::{SecureRandom, SystemRandom},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{StatusCode, Url, header, redirect};
use serde_json::Value;

/// Every request of a sign-in gives up after this long.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The SPA as registered at the provider: what its `config.json` holds.
#[derive(Debug, Clone)]
pub struct SpaClient {
    /// `{host}/{tenant}`.
    pub authority: String,
    pub client_id: String,
    /// A registered redirect URI; its origin is the `Origin` of the code redemption.
    pub redirect_uri: String,
    /// The API's delegated permission, `api://{api}/access_as_user`.
    pub api_scope: String,
}

/// What the token endpoint returned.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// For the API.
    pub access_token: String,
    /// For the SPA only (its audience is the SPA): the API must refuse it.
    pub id_token: String,
}

impl SpaClient {
    /// Signs `user` (a `login_hint`: short name or user name) in and redeems the code as the SPA
    /// does. `Err` says which step failed and what the provider answered.
    pub async fn sign_in(&self, user: &str) -> Result<Tokens, String> {
        let http = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .timeout(TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        let verifier = random_base64url();
        let code = self.authorize(&http, user, &verifier).await?;
        self.redeem(&http, &code, &verifier).await
    }

    async fn authorize(
        &self,
        http: &reqwest::Client,
        user: &str,
        verifier: &str,
    ) -> Result<String, String> {
        let challenge =
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
        let state = random_base64url();
        let scope = format!("openid profile offline_access {}", self.api_scope);
        let url = Url::parse_with_params(
            &format!("{}/oauth2/v2.0/authorize", self.authority),
            [
                ("client_id", self.client_id.as_str()),
                ("response_type", "code"),
                ("redirect_uri", &self.redirect_uri),
                ("scope", &scope),
                ("state", &state),
                ("nonce", &random_base64url()),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("login_hint", user),
            ],
        )
        .map_err(|e| format!("authority {:?}: {e}", self.authority))?;
        let response = http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("authorize: {e}"))?;
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| Url::parse(value).ok())
            .filter(|_| response.status() == StatusCode::FOUND)
            .ok_or_else(|| {
                format!(
                    "authorize answered {} without a redirect",
                    response.status()
                )
            })?;
        let param = |name: &str| {
            location
                .query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        if param("state").as_deref() != Some(state.as_str()) {
            return Err(format!(
                "authorize redirected without our state: {location}"
            ));
        }
        param("code").ok_or_else(|| {
            format!(
                "authorize refused: {}",
                param("error_description").unwrap_or_default()
            )
        })
    }

    async fn redeem(
        &self,
        http: &reqwest::Client,
        code: &str,
        verifier: &str,
    ) -> Result<Tokens, String> {
        let origin = Url::parse(&self.redirect_uri)
            .map_err(|e| format!("redirect URI {:?}: {e}", self.redirect_uri))?
            .origin()
            .ascii_serialization();
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", &self.client_id),
            ("code", code),
            ("redirect_uri", &self.redirect_uri),
            ("code_verifier", verifier),
        ];
        let response = http
            .post(format!("{}/oauth2/v2.0/token", self.authority))
            .header(header::ORIGIN, origin)
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("token: {e}"))?;
        let status = response.status();
        let body: Value =
            serde_json::from_slice(&response.bytes().await.map_err(|e| format!("token: {e}"))?)
                .map_err(|e| {
                    format!("token answered {status} with a body that is not JSON: {e}")
                })?;
        let token = |name: &str| {
            body[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("token answered {status} without {name}: {body}"))
        };
        Ok(Tokens {
            access_token: token("access_token")?,
            id_token: token("id_token")?,
        })
    }
}

/// 32 random bytes, base64url: a PKCE verifier, a state or a nonce.
fn random_base64url() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}
