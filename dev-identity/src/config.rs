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
/// The local SPA's redirect URI (`trunk serve`).
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost:8080/";
/// The port the binary listens on when none is given.
pub const DEFAULT_PORT: u16 = 8081;

/// Entra's limit on the length of a redirect URI.
const MAX_REDIRECT_URI_CHARS: usize = 256;

/// A redirect URI registered for the SPA: absolute, `https`, or `http` on a loopback host (Entra's
/// rule), without fragment or credentials.
///
/// Requests must send it exactly as [`RedirectUri::as_str`] prints it (the parsed, normalised
/// form: `http://localhost:8080` is registered as `http://localhost:8080/`).
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
        let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return fail("must use https unless its host is localhost, 127.0.0.1 or [::1]");
            }
            _ => return fail("must use http or https"),
        }
        if url.fragment().is_some() {
            return fail("must not have a fragment");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return fail("must not contain credentials");
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

    pub(crate) fn url(&self) -> &Url {
        &self.0
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
}
