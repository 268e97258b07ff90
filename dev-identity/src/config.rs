//! The command line (every flag with an environment fallback) and the typed values it is parsed
//! into. The binary parses it once; the library's [`ProviderBuilder`] takes the same values.

use std::{fmt, path::PathBuf, str::FromStr, time::Duration};

use clap::Parser;
use url::Url;
use uuid::Uuid;

use crate::{Provider, ProviderBuilder, users::Users};

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

/// DEVELOPMENT ONLY: a local identity provider that speaks Microsoft Entra ID's protocol.
///
/// It signs in made-up test users without passwords. Never expose it or trust its tokens outside
/// a developer's machine or a test run.
#[derive(Debug, Parser)]
#[command(name = "dev-identity", version)]
pub struct Cli {
    /// Port to listen on; the provider binds 127.0.0.1 only.
    #[arg(long, env = "DEV_IDENTITY_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Tenant id: the `{tenant}` path segment and the `tid` claim.
    #[arg(long, env = "DEV_IDENTITY_TENANT_ID", default_value_t = DEFAULT_TENANT_ID)]
    pub tenant_id: Uuid,

    /// The API's application (client) id: the access tokens' audience.
    #[arg(long, env = "DEV_IDENTITY_API_CLIENT_ID", default_value_t = DEFAULT_API_CLIENT_ID)]
    pub api_client_id: Uuid,

    /// The SPA's application (client) id: the only client that may sign in.
    #[arg(long, env = "DEV_IDENTITY_SPA_CLIENT_ID", default_value_t = DEFAULT_SPA_CLIENT_ID)]
    pub spa_client_id: Uuid,

    /// A redirect URI registered for the SPA (repeat the flag, or separate with commas in the
    /// variable). Their origins may redeem codes cross-origin.
    #[arg(
        long = "redirect-uri",
        env = "DEV_IDENTITY_REDIRECT_URIS",
        value_delimiter = ',',
        default_value = DEFAULT_REDIRECT_URI
    )]
    pub redirect_uris: Vec<RedirectUri>,

    /// Access token version: 1 (Entra's default) or 2.
    #[arg(long, env = "DEV_IDENTITY_ACCESS_TOKEN_VERSION", default_value = "1")]
    pub access_token_version: TokenVersion,

    /// Access token lifetime in seconds (5 to 86400); short values make the SPA renew silently.
    #[arg(
        long,
        env = "DEV_IDENTITY_ACCESS_TOKEN_LIFETIME_SECS",
        default_value_t = 3600,
        value_parser = clap::value_parser!(u64).range(5..=86_400)
    )]
    pub access_token_lifetime_secs: u64,

    /// TOML or JSON file of test users, instead of admin, editor, reader and guest.
    #[arg(long, env = "DEV_IDENTITY_USERS")]
    pub users: Option<PathBuf>,
}

impl Cli {
    /// A provider configured as the command line says (reading the users file, if any).
    pub fn into_builder(self) -> Result<ProviderBuilder, crate::UsersError> {
        let users = match &self.users {
            Some(path) => Users::load(path)?,
            None => Users::default(),
        };
        Ok(Provider::builder()
            .port(self.port)
            .tenant_id(self.tenant_id)
            .api_client_id(self.api_client_id)
            .spa_client_id(self.spa_client_id)
            .redirect_uris(self.redirect_uris)
            .access_token_version(self.access_token_version)
            .access_token_lifetime(Duration::from_secs(self.access_token_lifetime_secs))
            .users(users))
    }
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
    fn no_arguments_give_working_defaults() {
        let cli = Cli::try_parse_from(["dev-identity"]).expect("defaults");
        assert_eq!(cli.port, DEFAULT_PORT);
        assert_eq!(cli.tenant_id, DEFAULT_TENANT_ID);
        assert_eq!(cli.access_token_version, TokenVersion::V1);
        assert_eq!(cli.access_token_lifetime_secs, 3600);
        assert_eq!(cli.redirect_uris.len(), 1);
        assert_eq!(cli.redirect_uris[0].as_str(), DEFAULT_REDIRECT_URI);
    }

    #[test]
    fn flags_are_parsed_and_checked() {
        let cli = Cli::try_parse_from([
            "dev-identity",
            "--redirect-uri",
            "http://localhost:3000/",
            "--redirect-uri",
            "http://127.0.0.1:8080/",
            "--access-token-version",
            "2",
            "--access-token-lifetime-secs",
            "30",
        ])
        .expect("valid flags");
        assert_eq!(cli.redirect_uris.len(), 2);
        assert_eq!(cli.access_token_version, TokenVersion::V2);
        assert_eq!(cli.access_token_lifetime_secs, 30);

        for bad in [
            &["--access-token-version", "3"][..],
            &["--access-token-lifetime-secs", "0"],
            &["--tenant-id", "not-a-guid"],
            &["--redirect-uri", "http://evil.example/"],
            &["--port", "70000"],
        ] {
            let args = std::iter::once("dev-identity").chain(bad.iter().copied());
            assert!(
                Cli::try_parse_from(args).is_err(),
                "{bad:?} must be refused"
            );
        }
    }
}
