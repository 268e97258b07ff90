//! The authority (`https://login.microsoftonline.com/{tenant}`, or the local stand-in) and the
//! requests the SPA sends it: endpoint URLs, the authorization request, the token grants and the
//! end-session request.

use std::fmt;

use crate::url::HttpUrl;

/// A tenant's authority: an origin plus one path segment naming the tenant (a GUID, a domain such
/// as `contoso.onmicrosoft.com`, or `common` / `organizations` / `consumers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    url: HttpUrl,
    tenant: String,
}

/// Why a URL is not an authority.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be the authority with the tenant as its only path segment, like \
     https://login.microsoftonline.com/<tenant-id>"
)]
pub struct NotAnAuthority;

impl Authority {
    pub fn new(url: HttpUrl) -> Result<Self, NotAnAuthority> {
        let tenant = url.path().strip_prefix('/').ok_or(NotAnAuthority)?;
        let valid_tenant = !tenant.is_empty()
            && tenant
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !valid_tenant {
            return Err(NotAnAuthority);
        }
        let tenant = tenant.to_owned();
        Ok(Self { url, tenant })
    }

    pub fn authorize_endpoint(&self) -> String {
        format!("{self}/oauth2/v2.0/authorize")
    }

    pub fn token_endpoint(&self) -> String {
        format!("{self}/oauth2/v2.0/token")
    }

    /// The v2 issuer of tokens for tenant `tid` from this authority's host
    /// (`https://login.microsoftonline.com/{tid}/v2.0`).
    pub fn issuer_for(&self, tid: &str) -> String {
        format!("{}/{tid}/v2.0", self.url.origin())
    }

    /// The tenant id every token must come from, when the authority names one by id; `None` for
    /// `common`, `organizations`, `consumers` or a domain name, which admit a tenant chosen at sign-in.
    pub fn fixed_tenant_id(&self) -> Option<&str> {
        crate::config::is_guid(&self.tenant).then_some(self.tenant.as_str())
    }

    /// The end-session request: the authority signs the user out, then sends the browser to
    /// `post_logout_redirect_uri`.
    pub fn logout_url(&self, post_logout_redirect_uri: &str) -> String {
        format!(
            "{self}/oauth2/v2.0/logout?{}",
            form(&[("post_logout_redirect_uri", post_logout_redirect_uri)])
        )
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.url.fmt(f)
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
    pub fn url(&self, authority: &Authority) -> String {
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
        format!("{}?{}", authority.authorize_endpoint(), form(&params))
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

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn authority(url: &str) -> Authority {
        Authority::new(HttpUrl::parse(url).expect("url")).expect("authority")
    }

    fn query(url: &str) -> HashMap<String, String> {
        let (_, query) = url.split_once('?').expect("query");
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    #[test]
    fn endpoints_and_issuer() {
        let entra =
            authority("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/");
        assert_eq!(
            entra.token_endpoint(),
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
        );
        assert_eq!(
            entra.fixed_tenant_id(),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
        assert_eq!(
            entra.issuer_for("abc"),
            "https://login.microsoftonline.com/abc/v2.0"
        );

        let local = authority("http://127.0.0.1:8081/organizations");
        assert_eq!(
            local.authorize_endpoint(),
            "http://127.0.0.1:8081/organizations/oauth2/v2.0/authorize"
        );
        assert_eq!(local.fixed_tenant_id(), None);
        assert_eq!(
            authority("https://login.microsoftonline.com/contoso.com").fixed_tenant_id(),
            None
        );
    }

    #[test]
    fn only_one_tenant_segment() {
        for url in [
            "https://login.microsoftonline.com",
            "https://login.microsoftonline.com/",
            "https://login.microsoftonline.com/tenant/v2.0",
            "https://login.microsoftonline.com/ten%20ant",
        ] {
            let parsed = HttpUrl::parse(url).expect("url");
            assert_eq!(Authority::new(parsed), Err(NotAnAuthority), "{url}");
        }
    }

    #[test]
    fn authorization_request_has_pkce_state_nonce_and_scopes() {
        let authority = authority("https://login.microsoftonline.com/contoso.com");
        let request = AuthorizeRequest {
            client_id: "client",
            redirect_uri: "http://localhost:8080/",
            api_scope: "api://api/access_as_user",
            state: "the state",
            nonce: "n&once",
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            login_hint: None,
        };
        let url = request.url(&authority);
        assert!(
            url.starts_with("https://login.microsoftonline.com/contoso.com/oauth2/v2.0/authorize?")
        );
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
            query(&again.url(&authority))["login_hint"],
            "editor@contoso.com"
        );
    }

    #[test]
    fn token_grants_and_logout() {
        let code: HashMap<String, String> = form_urlencoded::parse(
            code_grant(
                "c",
                "api://a/access_as_user",
                "http://localhost:8080/",
                "co+de",
                "ver",
            )
            .as_bytes(),
        )
        .into_owned()
        .collect();
        assert_eq!(code["grant_type"], "authorization_code");
        assert_eq!(code["code"], "co+de");
        assert_eq!(code["code_verifier"], "ver");
        assert_eq!(code["redirect_uri"], "http://localhost:8080/");
        assert_eq!(code["client_id"], "c");

        let refresh: HashMap<String, String> =
            form_urlencoded::parse(refresh_grant("c", "api://a/access_as_user", "r/t=").as_bytes())
                .into_owned()
                .collect();
        assert_eq!(refresh["grant_type"], "refresh_token");
        assert_eq!(refresh["refresh_token"], "r/t=");
        assert_eq!(
            refresh["scope"],
            "openid profile offline_access api://a/access_as_user"
        );

        let logout = authority("http://127.0.0.1:8081/t").logout_url("http://localhost:8080/");
        assert_eq!(
            logout,
            "http://127.0.0.1:8081/t/oauth2/v2.0/logout?post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F"
        );
    }
}
