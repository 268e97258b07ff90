//! The command line: every flag with an environment fallback, parsed once by the binary into the
//! values the library's [`ProviderBuilder`] takes.

use std::{path::PathBuf, time::Duration};

use clap::Parser;
use uuid::Uuid;

use crate::{
    config::{
        DEFAULT_API_CLIENT_ID, DEFAULT_PORT, DEFAULT_PUBLIC_CLIENT_ID, DEFAULT_PUBLIC_REDIRECT_URI,
        DEFAULT_REDIRECT_URI, DEFAULT_SPA_CLIENT_ID, DEFAULT_TENANT_ID, PublicUrl, RedirectUri,
        TokenVersion,
    },
    provider::{Provider, ProviderBuilder},
    tls::default_data_dir,
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

    /// The SPA's application (client) id: a single-page app, which redeems codes cross-origin.
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

    /// The public client's application id: a desktop, mobile or command-line app (MSAL's
    /// PublicClientApplication), which sends no Origin.
    #[arg(
        long,
        env = "DEV_IDENTITY_PUBLIC_CLIENT_ID",
        default_value_t = DEFAULT_PUBLIC_CLIENT_ID
    )]
    pub public_client_id: Uuid,

    /// A redirect URI registered for the public client (repeatable; commas in the variable). A
    /// loopback one matches any port.
    #[arg(
        long = "public-client-redirect-uri",
        env = "DEV_IDENTITY_PUBLIC_CLIENT_REDIRECT_URIS",
        value_delimiter = ',',
        default_value = DEFAULT_PUBLIC_REDIRECT_URI
    )]
    pub public_redirect_uris: Vec<RedirectUri>,

    /// Serve HTTPS, with a local CA created on first use in the data folder (print how to trust
    /// it); every published URL is then https.
    #[arg(long, env = "DEV_IDENTITY_HTTPS")]
    pub https: bool,

    /// Where the local CA is kept [default: the user's data folder, e.g.
    /// ~/.local/share/dev-identity].
    #[arg(long, env = "DEV_IDENTITY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// The origin clients reach the provider at through a reverse proxy (https://host[:port]):
    /// discovery, issuers and endpoints name it.
    #[arg(long, env = "DEV_IDENTITY_PUBLIC_URL")]
    pub public_url: Option<PublicUrl>,

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

/// Why the command line's values cannot start a provider.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Users(#[from] UsersError),
    #[error(
        "--https needs a folder for its CA: set --data-dir (no HOME or XDG_DATA_HOME to default to)"
    )]
    NoDataDir,
}

impl Cli {
    /// A provider configured as the command line says (reading the users file, if any).
    pub fn into_builder(self) -> Result<ProviderBuilder, CliError> {
        let users = match &self.users {
            Some(path) => Users::load(path)?,
            None => Users::default(),
        };
        let mut builder = Provider::builder();
        if self.https {
            let dir = self
                .data_dir
                .or_else(default_data_dir)
                .ok_or(CliError::NoDataDir)?;
            builder = builder.https(dir);
        }
        if let Some(url) = self.public_url {
            builder = builder.public_url(url);
        }
        Ok(builder
            .port(self.port)
            .tenant_id(self.tenant_id)
            .api_client_id(self.api_client_id)
            .spa_client_id(self.spa_client_id)
            .redirect_uris(self.redirect_uris)
            .public_client_id(self.public_client_id)
            .public_redirect_uris(self.public_redirect_uris)
            .access_token_version(self.access_token_version)
            .access_token_lifetime(Duration::from_secs(self.access_token_lifetime_secs))
            .users(users))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_arguments_give_working_defaults() {
        let cli = Cli::try_parse_from(["dev-identity"]).expect("defaults");
        assert_eq!(cli.port, DEFAULT_PORT);
        assert_eq!(cli.tenant_id, DEFAULT_TENANT_ID);
        assert_eq!(cli.access_token_version, TokenVersion::V1);
        assert_eq!(cli.access_token_lifetime_secs, 3600);
        assert_eq!(cli.redirect_uris.len(), 1);
        assert_eq!(cli.redirect_uris[0].as_str(), DEFAULT_REDIRECT_URI);
        assert_eq!(cli.public_redirect_uris[0].as_str(), "http://localhost/");
        assert!(!cli.https && cli.public_url.is_none());
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
            &["--public-url", "http://proxy.example/"],
            &["--public-client-redirect-uri", "myapp://auth"],
        ] {
            let args = std::iter::once("dev-identity").chain(bad.iter().copied());
            assert!(
                Cli::try_parse_from(args).is_err(),
                "{bad:?} must be refused"
            );
        }
    }
}
