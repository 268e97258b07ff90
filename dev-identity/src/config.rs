//! The typed settings shared by the command line and the library's builder: default ids, the
//! redirect URI rule, the access token version.

use std::{fmt, str::FromStr};

use url::Url;
use uuid::Uuid;

/// The tenant id used when none is given.
pub const DEFAULT_TENANT_ID: Uuid = Uuid::from_u128(0x7e57_0000_0000_4000_8000_0000_0000_0001);
/// The API's application (client) id used when none is given.
pub const DEFAULT_API_CLIENT_ID: Uuid = Uuid::from_u128(0x7e57_0000_0000_4000_8000_0000_0000_0002);
/// The SPA's application (client) id used when none is given.
pub const DEFAULT_SPA_CLIENT_ID: Uuid = Uuid::from_u128(0x7e57_0000_0000_4000_8000_0000_0000_0003);
/// The public client's (desktop, mobile, CLI) application id used when none is given.
pub const DEFAULT_PUBLIC_CLIENT_ID: Uuid =
    Uuid::from_u128(0x7e57_0000_0000_4000_8000_0000_0000_0004);
/// The local SPA's redirect URI (`trunk serve`).
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost:8080/";
/// The public client's redirect URI: any port of it matches (RFC 8252 section 7.3), as MSAL's
/// desktop sign-in listens on a free one.
pub const DEFAULT_PUBLIC_REDIRECT_URI: &str = "http://localhost";
/// The port the binary listens on when none is given.
pub const DEFAULT_PORT: u16 = 8081;

/// Entra's limit on the length of a redirect URI.
const MAX_REDIRECT_URI_CHARS: usize = 256;

/// A registered redirect URI: absolute, `https`, or `http` on a loopback host (Entra's rule),
/// without fragment or credentials.
///
/// A request's `redirect_uri` matches it in parsed, normalised form (`http://localhost:8080` is
/// `http://localhost:8080/`), and for `http` on a loopback host whatever its port, as at Entra
/// (RFC 8252 section 7.3: native apps listen on a free port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(Url);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRedirectUri(String);

impl FromStr for RedirectUri {
    type Err = InvalidRedirectUri;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |why: &str| Err(InvalidRedirectUri(format!("redirect URI {text:?} {why}")));
        if text.chars().count() > MAX_REDIRECT_URI_CHARS {
            return fail(&format!(
                "is longer than {MAX_REDIRECT_URI_CHARS} characters"
            ));
        }
        let Ok(url) = Url::parse(text) else {
            return fail("is not an absolute URL");
        };
        if let Err(why) = check_browser_url(&url) {
            return fail(why);
        }
        if url.fragment().is_some() {
            return fail("must not have a fragment");
        }
        if text.contains('*') {
            return fail("must not contain wildcards");
        }
        Ok(RedirectUri(url))
    }
}

impl RedirectUri {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// `scheme://host[:port]`: the browser origin allowed to redeem codes (CORS).
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }

    /// Whether a request's `redirect_uri` is this one: equal once parsed, or, for `http` on a
    /// loopback host, equal but for the port.
    pub(crate) fn matches(&self, requested: &Url) -> bool {
        let registered = &self.0;
        registered == requested
            || (self.is_loopback_http()
                && requested.scheme() == "http"
                && requested.host_str() == registered.host_str()
                && requested.path() == registered.path()
                && requested.query() == registered.query()
                && requested.fragment().is_none()
                && requested.username().is_empty()
                && requested.password().is_none())
    }

    /// Whether a browser page of `origin` is this redirect URI's, by the same rule.
    pub(crate) fn accepts_origin(&self, origin: &str) -> bool {
        if self.origin() == origin {
            return true;
        }
        Url::parse(origin).is_ok_and(|parsed| {
            self.is_loopback_http()
                && parsed.scheme() == "http"
                && parsed.host_str() == self.0.host_str()
                // An origin as browsers send it, nothing more.
                && parsed.origin().ascii_serialization() == origin
        })
    }

    fn is_loopback_http(&self) -> bool {
        self.0.scheme() == "http" && is_loopback(&self.0)
    }
}

fn is_loopback(url: &Url) -> bool {
    matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

/// Entra's rule for an address browsers are sent to: `https`, or `http` on a loopback host
/// (nothing else can be reached without TLS safely), and no credentials.
fn check_browser_url(url: &Url) -> Result<(), &'static str> {
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) => {}
        "http" => return Err("must use https unless its host is localhost, 127.0.0.1 or [::1]"),
        _ => return Err("must use https, or http on localhost, 127.0.0.1 or [::1]"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials");
    }
    Ok(())
}

/// The origin a provider behind a reverse proxy is reached at (`--public-url`): what its
/// discovery documents, issuers and endpoints name instead of its own address. `https`, or `http`
/// on a loopback host; an origin only (no path, query or fragment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(Url);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidPublicUrl(String);

impl FromStr for PublicUrl {
    type Err = InvalidPublicUrl;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |why: &str| Err(InvalidPublicUrl(format!("public URL {text:?} {why}")));
        let Ok(url) = Url::parse(text) else {
            return fail("is not an absolute URL");
        };
        if let Err(why) = check_browser_url(&url) {
            return fail(why);
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return fail("must be an origin only, like https://login.dev.example:8443");
        }
        Ok(PublicUrl(url))
    }
}

impl PublicUrl {
    /// `scheme://host[:port]`, without the trailing slash: the base of every published URL.
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The access token format: Entra issues v1 tokens unless the API's app registration sets
/// `accessTokenAcceptedVersion` to 2, whatever endpoint the SPA used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenVersion {
    /// `iss` `{authority}/`, `aud` `api://{api}`, `upn`, `unique_name`, `appid`, `ver` "1.0".
    #[value(name = "1")]
    V1,
    /// `iss` `{authority}/v2.0`, `aud` `{api}`, `preferred_username`, `azp`, `ver` "2.0".
    #[value(name = "2")]
    V2,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_entras_rules() {
        let ok = |text: &str| text.parse::<RedirectUri>().map(|uri| uri.to_string());
        assert_eq!(
            ok("http://localhost:8080").expect("loopback http"),
            "http://localhost:8080/"
        );
        assert_eq!(
            ok("https://app.example.com/cb?x=1").expect("https"),
            "https://app.example.com/cb?x=1"
        );
        for bad in [
            "http://app.example.com/",
            "ftp://localhost/",
            "http://localhost:8080/#x",
            "http://user:pw@localhost/",
            "https://*.example.com/",
            "/relative",
        ] {
            assert!(ok(bad).is_err(), "{bad} must be refused");
        }
        let uri: RedirectUri = "http://localhost:8080/app/".parse().expect("valid");
        assert_eq!(uri.origin(), "http://localhost:8080");
    }

    #[test]
    fn loopback_redirect_uris_match_any_port_and_others_only_themselves() {
        let url = |text: &str| Url::parse(text).expect("url");
        let loopback: RedirectUri = "http://localhost".parse().expect("valid");
        for ok in [
            "http://localhost",
            "http://localhost:53117/",
            "http://localhost:1",
        ] {
            assert!(loopback.matches(&url(ok)), "{ok}");
        }
        for bad in [
            "https://localhost:53117/",
            "http://127.0.0.1:53117/",
            "http://localhost:53117/callback",
            "http://localhost:53117/?x=1",
        ] {
            assert!(!loopback.matches(&url(bad)), "{bad}");
        }
        assert!(loopback.accepts_origin("http://localhost:3000"));
        assert!(!loopback.accepts_origin("https://localhost:3000"));
        assert!(!loopback.accepts_origin("http://localhost:3000/?x"));
        assert!(!loopback.accepts_origin("http://127.0.0.1:3000"));
        let remote: RedirectUri = "https://app.example.com/cb".parse().expect("valid");
        assert!(remote.matches(&url("https://app.example.com/cb")));
        assert!(!remote.matches(&url("https://app.example.com:8443/cb")));
        assert!(remote.accepts_origin("https://app.example.com"));
        assert!(!remote.accepts_origin("https://app.example.com:8443"));
    }

    #[test]
    fn a_public_url_is_an_https_origin() {
        let origin = |text: &str| text.parse::<PublicUrl>().map(|url| url.origin());
        assert_eq!(
            origin("https://login.dev.example:8443/").expect("valid"),
            "https://login.dev.example:8443"
        );
        assert_eq!(
            origin("http://localhost:9000").expect("loopback"),
            "http://localhost:9000"
        );
        for bad in [
            "http://login.dev.example/",
            "https://login.dev.example/prefix",
            "https://login.dev.example/?x",
            "login.dev.example",
        ] {
            assert!(origin(bad).is_err(), "{bad}");
        }
    }
}
