//! The command line: every flag with an environment fallback, parsed once by the binary into the
//! values the library's [`ProviderBuilder`] takes.

use std::{path::PathBuf, time::Duration};

use clap::Parser;
use uuid::Uuid;

use crate::{
    config::{
        DEFAULT_API_CLIENT_ID, DEFAULT_PORT, DEFAULT_REDIRECT_URI, DEFAULT_SPA_CLIENT_ID,
        DEFAULT_TENANT_ID, RedirectUri, TokenVersion,
    },
    provider::{Provider, ProviderBuilder},
    users::{Users, UsersError},
};

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
    pub fn into_builder(self) -> Result<ProviderBuilder, UsersError> {
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
    use crate::config::{DEFAULT_PORT, DEFAULT_REDIRECT_URI, DEFAULT_TENANT_ID};

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
