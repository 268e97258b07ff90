//! dev-identity as a part of the stack: its own executable (so xtask need not compile it to start),
//! told the stack's ports, and read back through the settings its start-up banner prints.

use std::{ffi::OsString, time::Duration};

use tokio::{sync::mpsc::UnboundedReceiver, time::timeout};

use super::wiring::Ports;

/// The access token version the API is given, as dev-identity's `--access-token-version` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenVersion {
    /// Entra's default: `aud` `api://{api}`, the v1 issuer.
    #[value(name = "1")]
    V1,
    /// `accessTokenAcceptedVersion: 2`: `iss` `{authority}/v2.0`, `aud` `{api}`.
    #[value(name = "2")]
    V2,
}

impl TokenVersion {
    pub fn number(self) -> u8 {
        match self {
            TokenVersion::V1 => 1,
            TokenVersion::V2 => 2,
        }
    }
}

/// How long dev-identity gets to print its settings (it generates a signing key at start).
const BANNER_TIMEOUT: Duration = Duration::from_secs(30);

/// dev-identity's arguments for this stack: its port, the SPA's redirect URIs at both loopback
/// names, and the token version.
pub fn arguments(ports: &Ports, version: TokenVersion) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["--port".into(), ports.identity.to_string().into()];
    for uri in ports.spa_redirect_uris() {
        args.extend(["--redirect-uri".into(), uri.into()]);
    }
    args.extend([
        "--access-token-version".into(),
        version.number().to_string().into(),
    ]);
    args
}

/// What the stack's other parts need to know of the running provider, from its banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub authority: String,
    pub spa_client_id: String,
    /// The public (desktop) client's id, for MSAL and other native apps.
    pub public_client_id: String,
    pub api_client_id: String,
    /// The variables that make the API trust it (`AZURE_AUTHORITY_HOST`, ...).
    pub api_environment: Vec<(String, String)>,
    /// `admin (Admin), editor (Editor), ...`
    pub users: String,
}

/// Reads dev-identity's output until its banner has named every setting.
pub async fn settings(lines: &mut UnboundedReceiver<String>) -> Result<Settings, String> {
    let mut banner = Banner::default();
    let read = async {
        while let Some(line) = lines.recv().await {
            banner.read(&line);
            if let Some(settings) = banner.settings() {
                return Ok(settings);
            }
        }
        Err("dev-identity exited before it printed its settings".to_owned())
    };
    timeout(BANNER_TIMEOUT, read).await.unwrap_or_else(|_| {
        Err(format!(
            "dev-identity printed no settings within {} s",
            BANNER_TIMEOUT.as_secs()
        ))
    })
}

/// The banner's lines of interest, as they come.
#[derive(Debug, Default)]
struct Banner {
    authority: Option<String>,
    spa_client_id: Option<String>,
    public_client_id: Option<String>,
    users: Option<String>,
    api_environment: Option<Vec<(String, String)>>,
}

impl Banner {
    fn read(&mut self, line: &str) {
        let line = line.trim();
        let value = |label: &str| line.strip_prefix(label).map(|rest| rest.trim().to_owned());
        if let Some(authority) = value("authority ") {
            self.authority = Some(authority);
        } else if let Some(id) = value("SPA client id ") {
            self.spa_client_id = Some(id);
        } else if let Some(id) = value("public client ") {
            self.public_client_id = Some(id);
        } else if let Some(users) = value("users ") {
            self.users = Some(users);
        } else if let Some(settings) = value("API settings ") {
            self.api_environment = Some(
                settings
                    .split_whitespace()
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect(),
            );
        }
    }

    fn settings(&self) -> Option<Settings> {
        let api_environment = self.api_environment.clone()?;
        let api_client_id = api_environment
            .iter()
            .find(|(name, _)| name == "AZURE_API_CLIENT_ID")?
            .1
            .clone();
        Some(Settings {
            authority: self.authority.clone()?,
            spa_client_id: self.spa_client_id.clone()?,
            public_client_id: self.public_client_id.clone()?,
            api_client_id,
            api_environment,
            users: self.users.clone()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// dev-identity's banner, as `dev-identity/src/main.rs` prints it.
    const BANNER: &str = "dev-identity: DEVELOPMENT ONLY. A local stand-in for Microsoft Entra ID that signs in made-up users without passwords; never expose it or trust its tokens outside development.
  authority      http://127.0.0.1:9001/7e570000-0000-4000-8000-000000000001
  SPA client id  7e570000-0000-4000-8000-000000000003
  redirect URIs  http://localhost:9002/ http://127.0.0.1:9002/
  public client  7e570000-0000-4000-8000-000000000004
  public URIs    http://localhost/ (loopback ones: any port)
  access tokens  v1, aud api://7e570000-0000-4000-8000-000000000002, scp access_as_user
  users          admin (Admin), editor (Editor), reader (Reader), guest (no role)
  API settings   AZURE_AUTHORITY_HOST=http://127.0.0.1:9001 AZURE_TENANT_ID=7e570000-0000-4000-8000-000000000001 AZURE_API_CLIENT_ID=7e570000-0000-4000-8000-000000000002
Press Ctrl-C to stop.";

    #[tokio::test]
    async fn reads_the_settings_from_the_banner() {
        let (sender, mut lines) = tokio::sync::mpsc::unbounded_channel();
        for line in BANNER.lines() {
            sender.send(line.to_owned()).expect("send");
        }
        let settings = super::settings(&mut lines).await.expect("settings");
        assert_eq!(
            settings.authority,
            "http://127.0.0.1:9001/7e570000-0000-4000-8000-000000000001"
        );
        assert_eq!(
            settings.spa_client_id,
            "7e570000-0000-4000-8000-000000000003"
        );
        assert_eq!(
            settings.public_client_id,
            "7e570000-0000-4000-8000-000000000004"
        );
        assert_eq!(
            settings.api_client_id,
            "7e570000-0000-4000-8000-000000000002"
        );
        assert_eq!(
            settings.users,
            "admin (Admin), editor (Editor), reader (Reader), guest (no role)"
        );
        assert_eq!(settings.api_environment.len(), 3);
        assert_eq!(
            settings.api_environment[0],
            (
                "AZURE_AUTHORITY_HOST".to_owned(),
                "http://127.0.0.1:9001".to_owned()
            )
        );
    }

    #[tokio::test]
    async fn a_provider_that_exits_first_is_an_error() {
        let (sender, mut lines) = tokio::sync::mpsc::unbounded_channel();
        sender
            .send("error: port 9001 is in use".to_owned())
            .expect("send");
        drop(sender);
        assert_eq!(
            super::settings(&mut lines).await,
            Err("dev-identity exited before it printed its settings".to_owned())
        );
    }

    #[test]
    fn it_is_told_the_stacks_ports_and_token_version() {
        let ports = Ports::new(9000, 9001, 9002).expect("ports");
        let args: Vec<String> = arguments(&ports, TokenVersion::V2)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "--port",
                "9001",
                "--redirect-uri",
                "http://localhost:9002/",
                "--redirect-uri",
                "http://127.0.0.1:9002/",
                "--access-token-version",
                "2"
            ]
        );
    }
}
