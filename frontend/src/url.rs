//! The URL shapes the configuration accepts: an absolute `http(s)` origin with an optional path,
//! and the authority's endpoints, which may carry a query.
//!
//! A full URL parser (the `url` crate and its IDNA tables) would cost the bundle more than the
//! whole sign-in code, and every URL here comes from the operator's `config.json`, so this module
//! accepts a deliberately narrow subset and names what is wrong with anything else.

use std::fmt;

/// An absolute URL with scheme `https` (or `http` to a loopback host, for local development), no
/// credentials, query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    origin: String,
    /// Lower-cased; an IPv6 literal keeps its brackets.
    host: String,
    /// The path without its trailing slash: empty for the origin itself, else starting with `/`.
    path: String,
}

/// Why a configured URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("must start with https:// (http:// only for localhost or 127.0.0.1)")]
    Scheme,
    #[error("has no host name")]
    NoHost,
    #[error("must not contain a user name or password")]
    Credentials,
    #[error("must not contain a query (?) or fragment (#)")]
    QueryOrFragment,
    #[error("contains spaces or control characters")]
    InvalidCharacter,
    #[error("has an invalid port")]
    Port,
}

impl HttpUrl {
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlError::InvalidCharacter);
        }
        if input.contains(['?', '#']) {
            return Err(UrlError::QueryOrFragment);
        }
        let (scheme, rest) = input.split_once("://").ok_or(UrlError::Scheme)?;
        let scheme = scheme.to_ascii_lowercase();
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(UrlError::Credentials);
        }
        let host = host_of(authority)?;
        match scheme.as_str() {
            "https" => {}
            "http" if shared::is_loopback_host(&host) => {}
            _ => return Err(UrlError::Scheme),
        }
        Ok(Self {
            origin: format!("{scheme}://{}", authority.to_ascii_lowercase()),
            host,
            path: path.trim_end_matches('/').to_owned(),
        })
    }

    /// `scheme://host[:port]`, lower-cased, as browsers compare origins.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The path without a trailing slash (empty for the bare origin).
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// An endpoint from the authority's OpenID configuration: the [`HttpUrl`] rules, except that a
/// query is allowed (an authority may name a policy in it); request parameters are appended to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(String);

impl Endpoint {
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let base = input.split_once('?').map_or(input, |(base, _)| base);
        if input.contains('#') {
            return Err(UrlError::QueryOrFragment);
        }
        HttpUrl::parse(base)?;
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlError::InvalidCharacter);
        }
        Ok(Self(input.to_owned()))
    }

    /// The endpoint with `pairs` added to its query, form-encoded.
    pub fn with_query(&self, pairs: &[(&str, &str)]) -> String {
        let separator = if self.0.contains('?') { '&' } else { '?' };
        format!("{}{separator}{}", self.0, form(pairs))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `pairs` as `application/x-www-form-urlencoded` (a query string or a request body), written by
/// the browser's `URLSearchParams`: letters, digits and `*-._` as they are, spaces as `+`, every
/// other byte of the UTF-8 percent-encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let params =
        web_sys::UrlSearchParams::new().expect("URLSearchParams without arguments does not throw");
    for (name, value) in pairs {
        params.append(name, value);
    }
    params.to_string().into()
}

/// The URL without a trailing slash, ready to have a path appended.
impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin, self.path)
    }
}

/// The host of `host[:port]` (an IPv6 literal keeps its brackets), with the port checked.
fn host_of(authority: &str) -> Result<String, UrlError> {
    let (host, port) = if let Some(v6_end) = authority.strip_prefix('[').and(authority.find(']')) {
        (
            &authority[..=v6_end],
            authority[v6_end + 1..].strip_prefix(':'),
        )
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(UrlError::NoHost);
    }
    if let Some(port) = port {
        port.parse::<u16>().map_err(|_| UrlError::Port)?;
    }
    Ok(host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_loopback_http() {
        let url = HttpUrl::parse("https://Login.MicrosoftOnline.com/contoso.onmicrosoft.com/")
            .expect("valid");
        assert_eq!(url.origin(), "https://login.microsoftonline.com");
        assert_eq!(url.path(), "/contoso.onmicrosoft.com");
        assert_eq!(
            url.to_string(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com"
        );
        for local in [
            "http://localhost:8000",
            "http://127.0.0.1:8081/tenant",
            "http://[::1]:8080/",
        ] {
            assert!(HttpUrl::parse(local).is_ok(), "{local}");
        }
        let bare = HttpUrl::parse("https://api.example.com").expect("valid");
        assert_eq!(
            (bare.origin(), bare.path()),
            ("https://api.example.com", "")
        );
    }

    #[test]
    fn endpoints_may_have_a_query() {
        assert!(Endpoint::parse("https://login.example.com/t/authorize?p=b2c_1_signin").is_ok());
        for (input, expected) in [
            ("http://login.example.com/token", UrlError::Scheme),
            (
                "https://login.example.com/token#x",
                UrlError::QueryOrFragment,
            ),
            (
                "https://login.example.com/token?a=b c",
                UrlError::InvalidCharacter,
            ),
        ] {
            assert_eq!(Endpoint::parse(input), Err(expected), "{input}");
        }
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        let cases = [
            ("http://api.example.com", UrlError::Scheme),
            ("http://127.0.0.1.evil.example", UrlError::Scheme),
            ("ftp://localhost", UrlError::Scheme),
            ("login.microsoftonline.com/tenant", UrlError::Scheme),
            ("https://", UrlError::NoHost),
            ("https://:443/x", UrlError::NoHost),
            ("https://user:pw@example.com", UrlError::Credentials),
            ("https://example.com/?x=1", UrlError::QueryOrFragment),
            ("https://example.com/#x", UrlError::QueryOrFragment),
            ("https://example.com/a b", UrlError::InvalidCharacter),
            ("https://example.com:99999", UrlError::Port),
            ("https://example.com:", UrlError::Port),
        ];
        for (input, expected) in cases {
            assert_eq!(HttpUrl::parse(input), Err(expected), "{input}");
        }
    }
}

/// The query strings and request bodies, written by the browser.
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn endpoints_keep_their_query_and_take_parameters() {
        let plain = Endpoint::parse("https://login.example.com/t/authorize").expect("valid");
        assert_eq!(
            plain.with_query(&[("a", "1 2"), ("b", "&")]),
            "https://login.example.com/t/authorize?a=1+2&b=%26"
        );
        let policy =
            Endpoint::parse("https://login.example.com/t/authorize?p=b2c_1_signin").expect("valid");
        assert_eq!(
            policy.with_query(&[("a", "1")]),
            "https://login.example.com/t/authorize?p=b2c_1_signin&a=1"
        );
    }

    /// Byte for byte what the `form_urlencoded` crate wrote before: spaces, `+`, `&`, `=`,
    /// non-ASCII, the characters left as they are, repeated and empty names, in order.
    #[wasm_bindgen_test]
    fn form_encoding() {
        assert_eq!(
            form(&[
                ("a b", "1+2 & 3=4"),
                ("ключ", "Zoë ✓ 😀"),
                ("safe", "*-._~!'()/?:@,;%#[]"),
                ("a", "1"),
                ("a", "2"),
                ("", ""),
            ]),
            "a+b=1%2B2+%26+3%3D4&%D0%BA%D0%BB%D1%8E%D1%87=Zo%C3%AB+%E2%9C%93+%F0%9F%98%80\
             &safe=*-._%7E%21%27%28%29%2F%3F%3A%40%2C%3B%25%23%5B%5D&a=1&a=2&="
        );
        assert_eq!(form(&[]), "");
    }
}
