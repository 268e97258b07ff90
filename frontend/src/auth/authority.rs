//! The authority and the requests the SPA sends it: the authorization request, the token grants
//! and the end-session request, each to the endpoint the authority's OpenID configuration names
//! (`discovery.rs`).

use std::fmt;

use crate::url::{Endpoint, HttpUrl, form};

/// Where users sign in: `https://login.microsoftonline.com/{tenant}`, an Entra External ID or B2C
/// authority (`https://{tenant}.b2clogin.com/{tenant}/{policy}`), or any OpenID provider's issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority(HttpUrl);

impl Authority {
    pub fn new(url: HttpUrl) -> Self {
        Self(url)
    }

    /// `scheme://host[:port]`: where the browser connects for discovery and tokens, so the
    /// Content-Security-Policy's `connect-src` must name it.
    pub fn origin(&self) -> &str {
        self.0.origin()
    }

    /// Where the OpenID configuration may be, in the order to try. Microsoft's authorities (Entra
    /// ID in any cloud, External ID, B2C, and dev-identity on this machine, which speaks Entra's
    /// protocol) serve their v2.0 configuration at `{authority}/v2.0/.well-known/...`, where
    /// MSAL.js reads it; any other provider serves its configuration at
    /// `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery §4). The other
    /// place is tried when the first has none. An authority given as a v2.0 issuer (ending in
    /// `/v2.0`) has only the standard place.
    pub fn discovery_urls(&self) -> Vec<String> {
        let standard = format!("{self}/.well-known/openid-configuration");
        if self.0.path().ends_with("/v2.0") {
            return vec![standard];
        }
        let v2 = format!("{self}/v2.0/.well-known/openid-configuration");
        if is_microsoft_host(self.0.host()) {
            vec![v2, standard]
        } else {
            vec![standard, v2]
        }
    }
}

/// Whether `host` is one of Microsoft's sign-in hosts, or this machine (dev-identity).
fn is_microsoft_host(host: &str) -> bool {
    shared::is_loopback_host(host)
        || [
            "login.microsoftonline.com",
            "login.microsoftonline.us",
            "login.chinacloudapi.cn",
            "login.partner.microsoftonline.cn",
            "login.microsoft.com",
            "login.windows.net",
        ]
        .contains(&host)
        || [".ciamlogin.com", ".b2clogin.com"]
            .iter()
            .any(|suffix| host.ends_with(suffix))
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The scopes of every request: sign-in (`openid profile`), a refresh token (`offline_access`) and
/// the API's delegated scope.
pub fn scopes(api_scope: &str) -> String {
    format!("openid profile offline_access {api_scope}")
}

/// The parameters of one authorization request.
#[derive(Debug)]
pub struct AuthorizeRequest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub api_scope: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
    pub code_challenge: &'a str,
    /// Who to sign in again when a session ran out, so the authority can skip the account picker.
    pub login_hint: Option<&'a str>,
}

impl AuthorizeRequest<'_> {
    /// The URL the browser is sent to. The response comes back in the fragment, which browsers
    /// never send to a server, so the authorization code stays out of the static host's logs.
    pub fn url(&self, authorization_endpoint: &Endpoint) -> String {
        let scope = scopes(self.api_scope);
        let mut params = vec![
            ("client_id", self.client_id),
            ("response_type", "code"),
            ("redirect_uri", self.redirect_uri),
            ("response_mode", "fragment"),
            ("scope", &scope),
            ("state", self.state),
            ("nonce", self.nonce),
            ("code_challenge", self.code_challenge),
            ("code_challenge_method", "S256"),
        ];
        if let Some(hint) = self.login_hint {
            params.push(("login_hint", hint));
        }
        authorization_endpoint.with_query(&params)
    }
}

/// The token request redeeming an authorization code (form-encoded body).
pub fn code_grant(
    client_id: &str,
    api_scope: &str,
    redirect_uri: &str,
    code: &str,
    code_verifier: &str,
) -> String {
    form(&[
        ("client_id", client_id),
        ("grant_type", "authorization_code"),
        ("scope", &scopes(api_scope)),
        ("redirect_uri", redirect_uri),
        ("code", code),
        ("code_verifier", code_verifier),
    ])
}

/// The token request renewing tokens with a refresh token (form-encoded body).
pub fn refresh_grant(client_id: &str, api_scope: &str, refresh_token: &str) -> String {
    form(&[
        ("client_id", client_id),
        ("grant_type", "refresh_token"),
        ("scope", &scopes(api_scope)),
        ("refresh_token", refresh_token),
    ])
}

/// The end-session request: the authority signs the user out, then sends the browser to
/// `post_logout_redirect_uri`.
pub fn logout_url(end_session_endpoint: &Endpoint, post_logout_redirect_uri: &str) -> String {
    end_session_endpoint.with_query(&[("post_logout_redirect_uri", post_logout_redirect_uri)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority(url: &str) -> Authority {
        Authority::new(HttpUrl::parse(url).expect("url"))
    }

    #[test]
    fn discovery_at_the_v2_path_then_the_standard_one() {
        assert_eq!(
            authority("https://login.microsoftonline.com/contoso.com/").discovery_urls(),
            [
                "https://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration",
                "https://login.microsoftonline.com/contoso.com/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            authority("https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin")
                .discovery_urls()[0],
            "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin/v2.0/.well-known/openid-configuration"
        );
        assert_eq!(
            authority("https://login.microsoftonline.com/t/v2.0").discovery_urls(),
            ["https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration"]
        );
        let issuer = authority("https://accounts.example.com/realms/staff");
        assert_eq!(
            issuer.discovery_urls(),
            [
                "https://accounts.example.com/realms/staff/.well-known/openid-configuration",
                "https://accounts.example.com/realms/staff/v2.0/.well-known/openid-configuration",
            ],
            "another provider's standard place first"
        );
        assert_eq!(issuer.origin(), "https://accounts.example.com");
        for microsoft in [
            "https://login.microsoftonline.us/t",
            "https://contoso.ciamlogin.com/contoso.onmicrosoft.com",
            "http://127.0.0.1:8081/t",
            "http://[::1]:8081/t",
        ] {
            assert!(
                authority(microsoft).discovery_urls()[0].contains("/v2.0/"),
                "{microsoft}"
            );
        }
        assert!(
            !authority("https://login.microsoftonline.com.evil.example/t").discovery_urls()[0]
                .contains("/v2.0/")
        );
    }
}

/// The requests, written by the browser's `URLSearchParams` (`crate::url::form`) and read back by
/// it here.
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests {
    use std::collections::HashMap;

    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    fn endpoint(url: &str) -> Endpoint {
        Endpoint::parse(url).expect("endpoint")
    }

    /// A form's pairs; a name given twice would be counted once, so tests compare the count too.
    fn decoded(form: &str) -> HashMap<String, String> {
        let params = web_sys::UrlSearchParams::new_with_str(form).expect("form");
        params
            .entries()
            .into_iter()
            .map(|entry| {
                let pair: js_sys::Array = entry.expect("entry").unchecked_into();
                let text = |i| pair.get(i).as_string().expect("text");
                (text(0), text(1))
            })
            .collect()
    }

    fn query(url: &str) -> HashMap<String, String> {
        let (_, query) = url.split_once('?').expect("query");
        decoded(query)
    }

    #[wasm_bindgen_test]
    fn authorization_request_has_pkce_state_nonce_and_scopes() {
        let endpoint = endpoint("https://login.example.com/contoso.com/oauth2/v2.0/authorize");
        let request = AuthorizeRequest {
            client_id: "client",
            redirect_uri: "http://localhost:8080/",
            api_scope: "api://api/access_as_user",
            state: "the state",
            nonce: "n&once",
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            login_hint: None,
        };
        let url = request.url(&endpoint);
        assert!(url.starts_with("https://login.example.com/contoso.com/oauth2/v2.0/authorize?"));
        let params = query(&url);
        let expected = [
            ("client_id", "client"),
            ("response_type", "code"),
            ("redirect_uri", "http://localhost:8080/"),
            ("response_mode", "fragment"),
            (
                "scope",
                "openid profile offline_access api://api/access_as_user",
            ),
            ("state", "the state"),
            ("nonce", "n&once"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ];
        assert_eq!(params.len(), expected.len());
        for (key, value) in expected {
            assert_eq!(params[key], value, "{key}");
        }

        let again = AuthorizeRequest {
            login_hint: Some("editor@contoso.com"),
            ..request
        };
        assert_eq!(
            query(&again.url(&endpoint))["login_hint"],
            "editor@contoso.com"
        );
    }

    #[wasm_bindgen_test]
    fn token_grants_and_logout() {
        let code = decoded(&code_grant(
            "c",
            "api://a/access_as_user",
            "http://localhost:8080/",
            "co+de",
            "ver",
        ));
        assert_eq!(code["grant_type"], "authorization_code");
        assert_eq!(code["code"], "co+de");
        assert_eq!(code["code_verifier"], "ver");
        assert_eq!(code["redirect_uri"], "http://localhost:8080/");
        assert_eq!(code["client_id"], "c");

        let refresh = decoded(&refresh_grant("c", "api://a/access_as_user", "r/t="));
        assert_eq!(refresh["grant_type"], "refresh_token");
        assert_eq!(refresh["refresh_token"], "r/t=");
        assert_eq!(
            refresh["scope"],
            "openid profile offline_access api://a/access_as_user"
        );

        let logout = logout_url(
            &endpoint("http://127.0.0.1:8081/t/oauth2/v2.0/logout"),
            "http://localhost:8080/",
        );
        assert_eq!(
            logout,
            "http://127.0.0.1:8081/t/oauth2/v2.0/logout?post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F"
        );
    }
}
