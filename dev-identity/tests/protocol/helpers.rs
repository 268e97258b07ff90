//! A provider on a free loopback port, an HTTP client that does not follow redirects, and the
//! client side of the protocol written from the specifications (PKCE, JWT verification), not
//! from the provider's code.

use std::time::Duration;

use aws_lc_rs::{
    digest,
    rand::{SecureRandom, SystemRandom},
    signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use dev_identity::{Provider, ProviderBuilder, RunningProvider};
use reqwest::{StatusCode, header};
use serde_json::Value;
use url::Url;

/// The registered SPA's origin, as the default builder registers it.
pub const SPA_ORIGIN: &str = "http://localhost:8080";
pub const REDIRECT_URI: &str = "http://localhost:8080/";

pub struct Harness {
    pub provider: RunningProvider,
    pub http: reqwest::Client,
}

/// A PKCE pair (RFC 7636, S256).
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Self {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).expect("random");
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        let challenge =
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }
}

/// Request parameters (query or form), adjustable per test.
#[derive(Debug, Clone)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn new(pairs: &[(&str, &str)]) -> Self {
        Params(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        )
    }

    /// Sets (or adds) a parameter.
    pub fn set(mut self, name: &str, value: &str) -> Self {
        self.0.retain(|(k, _)| k != name);
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn remove(mut self, name: &str) -> Self {
        self.0.retain(|(k, _)| k != name);
        self
    }
}

/// An authorization request as the SPA sends it, with the PKCE pair it made for it.
pub struct Authorize {
    pub params: Params,
    pub pkce: Pkce,
}

impl Authorize {
    /// The SPA's request: code flow, PKCE S256, the four scopes, a state and a nonce.
    pub fn spa(harness: &Harness) -> Self {
        Authorize::spa_for(&harness.provider)
    }

    pub fn spa_for(provider: &RunningProvider) -> Self {
        let pkce = Pkce::new();
        let client_id = provider.spa_client_id().to_string();
        let scope = format!(
            "openid profile offline_access api://{}/access_as_user",
            provider.api_client_id()
        );
        let params = Params::new(&[
            ("client_id", &client_id),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", &scope),
            ("state", "state-123"),
            ("nonce", "nonce-456"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ]);
        Authorize { params, pkce }
    }

    pub fn set(mut self, name: &str, value: &str) -> Self {
        self.params = self.params.set(name, value);
        self
    }

    pub fn remove(mut self, name: &str) -> Self {
        self.params = self.params.remove(name);
        self
    }
}

/// A finished sign-in: the code, the verifier that goes with it, the session cookie.
pub struct SignIn {
    pub code: String,
    pub verifier: String,
    pub cookie: Option<String>,
}

impl SignIn {
    /// From the provider's redirect to the app, which must carry a code and the state.
    pub fn from_redirect(response: &reqwest::Response, verifier: String) -> Self {
        assert_eq!(response.status(), StatusCode::FOUND, "sign-in redirects");
        let params = redirect_params(response);
        assert_eq!(param(&params, "state"), Some("state-123"));
        SignIn {
            code: param(&params, "code").expect("a code").to_owned(),
            verifier,
            cookie: session_cookie(response),
        }
    }
}

impl Harness {
    pub async fn start() -> Self {
        Harness::with(Provider::builder()).await
    }

    pub async fn with(builder: ProviderBuilder) -> Self {
        let provider = builder.spawn().await.expect("provider starts");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        Harness { provider, http }
    }

    /// `{authority}{path}`
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.provider.authority())
    }

    /// GET the authorization endpoint, with the session cookie if given.
    pub async fn authorize(&self, request: &Authorize, cookie: Option<&str>) -> reqwest::Response {
        let mut get = self
            .http
            .get(self.url("/oauth2/v2.0/authorize"))
            .query(&request.params.0);
        if let Some(cookie) = cookie {
            get = get.header(header::COOKIE, cookie);
        }
        get.send().await.expect("authorize answers")
    }

    /// Signs `user` in with `login_hint`; the provider must redirect with a code and the state.
    pub async fn sign_in_as(&self, user: &str) -> SignIn {
        self.sign_in(Authorize::spa(self).set("login_hint", user))
            .await
    }

    pub async fn sign_in(&self, request: Authorize) -> SignIn {
        let response = self.authorize(&request, None).await;
        SignIn::from_redirect(&response, request.pkce.verifier)
    }

    /// POST the token endpoint from the SPA's origin.
    pub async fn token(&self, form: &Params) -> reqwest::Response {
        self.token_from(form, Some(SPA_ORIGIN)).await
    }

    pub async fn token_from(&self, form: &Params, origin: Option<&str>) -> reqwest::Response {
        let mut post = self.http.post(self.url("/oauth2/v2.0/token")).form(&form.0);
        if let Some(origin) = origin {
            post = post.header(header::ORIGIN, origin);
        }
        post.send().await.expect("token endpoint answers")
    }

    /// The SPA's code redemption form.
    pub fn redemption(&self, sign_in: &SignIn) -> Params {
        Params::new(&[
            ("grant_type", "authorization_code"),
            ("client_id", &self.provider.spa_client_id().to_string()),
            ("code", &sign_in.code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &sign_in.verifier),
        ])
    }

    /// The SPA's refresh form.
    pub fn refresh(&self, refresh_token: &str) -> Params {
        Params::new(&[
            ("grant_type", "refresh_token"),
            ("client_id", &self.provider.spa_client_id().to_string()),
            ("refresh_token", refresh_token),
        ])
    }

    /// Redeems a sign-in's code as the SPA does.
    pub async fn redeem(&self, sign_in: &SignIn) -> reqwest::Response {
        self.token(&self.redemption(sign_in)).await
    }

    /// Redeems and returns the token response, which must be a success.
    pub async fn tokens_for(&self, user: &str) -> Value {
        let sign_in = self.sign_in_as(user).await;
        let response = self.redeem(&sign_in).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }

    pub async fn get_json(&self, url: &str) -> Value {
        let response = self.http.get(url).send().await.expect("GET answers");
        assert_eq!(response.status(), StatusCode::OK, "GET {url}");
        response.json().await.expect("json")
    }

    /// The key set, found the way an API finds it: through the v2.0 discovery document.
    pub async fn published_keys(&self) -> Value {
        let metadata = self
            .get_json(&self.url("/v2.0/.well-known/openid-configuration"))
            .await;
        let jwks_uri = metadata["jwks_uri"].as_str().expect("jwks_uri");
        self.get_json(jwks_uri).await
    }

    /// Verifies a JWT's RS256 signature against the published keys; returns header and claims.
    pub async fn verify(&self, token: &str) -> (Value, Value) {
        verify(&self.published_keys().await, token)
    }
}

/// RS256 verification from the JWK's `n` and `e`, as the API does it.
pub fn verify(jwks: &Value, token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS has three parts");
    let decode_json = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
    };
    let header = decode_json(parts[0]);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    let kid = header["kid"].as_str().expect("kid");
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|key| key["kid"] == kid)
        .unwrap_or_else(|| panic!("kid {kid} is not published"));
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["use"], "sig");
    let component = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().expect(name))
            .expect(name)
    };
    let key = RsaPublicKeyComponents {
        n: component("n"),
        e: component("e"),
    };
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("signature");
    key.verify(
        &RSA_PKCS1_2048_8192_SHA256,
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &signature,
    )
    .expect("the signature verifies with the published key");
    (header, decode_json(parts[1]))
}

/// The claims of a JWT, unverified (for tests about claims only).
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json")
}

pub fn location(response: &reqwest::Response) -> Url {
    let location = response
        .headers()
        .get(header::LOCATION)
        .expect("a Location header")
        .to_str()
        .expect("ASCII");
    Url::parse(location).expect("absolute Location")
}

/// The parameters of a redirect to the app, from the query or, failing that, the fragment.
pub fn redirect_params(response: &reqwest::Response) -> Vec<(String, String)> {
    let url = location(response);
    assert!(
        url.as_str().starts_with(REDIRECT_URI),
        "redirects only to the registered URI, got {url}"
    );
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    if !query.is_empty() {
        return query;
    }
    url::form_urlencoded::parse(url.fragment().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// `name=value` of the session cookie the response sets, ready for a `Cookie` header.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::to_owned)
}

/// An OAuth error response: status, `error` and the AADSTS number, checked in the Entra shape.
pub async fn assert_oauth_error(
    response: reqwest::Response,
    status: StatusCode,
    error: &str,
    aadsts: u32,
) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("json error body");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], serde_json::json!([aadsts]), "{body}");
    let description = body["error_description"].as_str().expect("description");
    assert!(
        description.starts_with(&format!("AADSTS{aadsts}: ")),
        "{description}"
    );
    assert!(description.contains("Trace ID: "), "{description}");
    for field in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
    body
}

/// An error redirect: `error` and the AADSTS code in the description, with the state echoed.
pub fn assert_error_redirect(response: &reqwest::Response, error: &str, aadsts: u32) -> String {
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = redirect_params(response);
    assert_eq!(param(&params, "error"), Some(error), "{params:?}");
    assert_eq!(param(&params, "state"), Some("state-123"));
    assert!(param(&params, "code").is_none(), "no code with an error");
    let description = param(&params, "error_description").expect("description");
    assert!(
        description.starts_with(&format!("AADSTS{aadsts}: ")),
        "{description}"
    );
    description.to_owned()
}

/// An error page: no redirect at all, the AADSTS code shown.
pub async fn assert_error_page(response: reqwest::Response, aadsts: u32) -> String {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response.headers().get(header::LOCATION).is_none(),
        "no redirect"
    );
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.expect("page");
    assert!(page.contains(&format!("AADSTS{aadsts}: ")), "{page}");
    page
}
