//! What each part of the local stack is told so that the parts trust each other: pure functions
//! of the ports and of the running provider's settings.

use std::ffi::OsString;

use shared::SpaConfig;

/// The two names of this machine a browser may use for the SPA. Browsers treat them as different
/// origins, so both are registered: the app works whichever one the developer opens.
const SPA_HOSTS: [&str; 2] = ["localhost", "127.0.0.1"];

/// The ports of the stack, each used by one part only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub api: u16,
    pub identity: u16,
    pub spa: u16,
}

impl Ports {
    /// Refuses a port given to two parts, naming both flags.
    pub fn new(api: u16, identity: u16, spa: u16) -> Result<Self, String> {
        let ports = Ports { api, identity, spa };
        let all = ports.listening(true);
        for (i, (port, _, flag)) in all.iter().enumerate() {
            if let Some((_, _, other)) = all[i + 1..].iter().find(|(p, _, _)| p == port) {
                return Err(format!(
                    "{flag} and {other} are both {port}: each part needs its own port"
                ));
            }
        }
        Ok(ports)
    }

    /// The ports the stack listens on (the SPA's only if it is started), each with the part
    /// that listens on it and the flag that moves it.
    pub fn listening(&self, spa: bool) -> Vec<(u16, &'static str, &'static str)> {
        let mut ports = vec![
            (self.api, "the API", "--api-port"),
            (self.identity, "dev-identity", "--identity-port"),
        ];
        if spa {
            ports.push((self.spa, "the SPA (trunk serve)", "--spa-port"));
        }
        ports
    }

    /// The address to open in a browser.
    pub fn spa_url(&self) -> String {
        format!("http://localhost:{}/", self.spa)
    }

    /// The API's base URL, as the SPA calls it.
    pub fn api_url(&self) -> String {
        format!("http://localhost:{}", self.api)
    }

    /// The SPA's redirect URIs, registered at the provider.
    pub fn spa_redirect_uris(&self) -> Vec<String> {
        SPA_HOSTS
            .iter()
            .map(|host| format!("http://{host}:{}/", self.spa))
            .collect()
    }

    /// The SPA's origins, allowed by the API's CORS.
    fn spa_origins(&self) -> Vec<String> {
        SPA_HOSTS
            .iter()
            .map(|host| format!("http://{host}:{}", self.spa))
            .collect()
    }
}

/// The SPA's `/config.json` (`shared::SpaConfig`): the provider as authority, the API as resource.
/// `redirectUri` is left out so the SPA uses the origin it was opened at, both being registered.
pub fn spa_config(
    ports: &Ports,
    authority: &str,
    spa_client_id: &str,
    api_client_id: &str,
) -> SpaConfig {
    SpaConfig {
        client_id: spa_client_id.to_owned(),
        authority: authority.to_owned(),
        api_scope: format!("api://{api_client_id}/{}", shared::API_SCOPE),
        api_base_url: ports.api_url(),
        redirect_uri: None,
    }
}

/// The API's configuration: the provider's variables (from its banner), its port on loopback
/// only (like the provider), and CORS for the SPA.
pub fn api_environment(
    ports: &Ports,
    provider: impl IntoIterator<Item = (String, String)>,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = provider.into_iter().collect();
    vars.extend([
        ("BIND_ADDRESS".to_owned(), "127.0.0.1".to_owned()),
        ("PORT".to_owned(), ports.api.to_string()),
        ("ALLOWED_ORIGINS".to_owned(), ports.spa_origins().join(",")),
    ]);
    vars
}

/// Variables of this shell that must not reach the API: every `AZURE_*` one. The local stack's
/// API trusts dev-identity only, whatever tenant or Key Vault the shell is set up for.
pub fn foreign_azure_variables(inherited: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    inherited
        .into_iter()
        .filter(|name| name.to_string_lossy().starts_with("AZURE_"))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TENANT: &str = "00000000-0000-0000-0000-000000000001";
    const SPA: &str = "00000000-0000-0000-0000-000000000002";
    const API: &str = "00000000-0000-0000-0000-000000000003";

    fn ports() -> Ports {
        Ports::new(9000, 9001, 9002).expect("distinct ports")
    }

    #[test]
    fn a_port_cannot_serve_two_parts() {
        assert_eq!(
            Ports::new(8000, 8081, 8000),
            Err("--api-port and --spa-port are both 8000: each part needs its own port".into())
        );
        assert!(Ports::new(8000, 8000, 8080).is_err());
        assert!(Ports::new(8000, 8081, 8081).is_err());
    }

    #[test]
    fn the_spa_is_configured_for_the_provider_and_the_api() {
        let authority = format!("http://127.0.0.1:9001/{TENANT}");
        assert_eq!(
            serde_json::to_value(spa_config(&ports(), &authority, SPA, API)).expect("JSON"),
            json!({
                "clientId": "00000000-0000-0000-0000-000000000002",
                "authority": "http://127.0.0.1:9001/00000000-0000-0000-0000-000000000001",
                "apiScope": "api://00000000-0000-0000-0000-000000000003/access_as_user",
                "apiBaseUrl": "http://localhost:9000",
            })
        );
    }

    #[test]
    fn the_spa_is_registered_and_allowed_at_both_loopback_names() {
        assert_eq!(
            ports().spa_redirect_uris(),
            ["http://localhost:9002/", "http://127.0.0.1:9002/"]
        );
        assert_eq!(ports().spa_url(), "http://localhost:9002/");
    }

    #[test]
    fn the_api_trusts_the_provider_listens_on_loopback_and_allows_the_spa() {
        let provider = [
            ("AZURE_AUTHORITY_HOST", "http://127.0.0.1:9001"),
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_API_CLIENT_ID", API),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()));
        let vars = api_environment(&ports(), provider.clone());
        let get = |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.as_str())
        };
        for (name, value) in &provider {
            assert_eq!(get(name), Some(value.as_str()), "{name}");
        }
        assert_eq!(get("BIND_ADDRESS"), Some("127.0.0.1"));
        assert_eq!(get("PORT"), Some("9000"));
        assert_eq!(
            get("ALLOWED_ORIGINS"),
            Some("http://localhost:9002,http://127.0.0.1:9002")
        );
    }

    #[test]
    fn the_shells_azure_settings_are_kept_from_the_api() {
        let inherited =
            ["PATH", "AZURE_KEY_VAULT_URL", "AZURE_TENANT_ID", "RUST_LOG"].map(OsString::from);
        assert_eq!(
            foreign_azure_variables(inherited),
            ["AZURE_KEY_VAULT_URL", "AZURE_TENANT_ID"].map(OsString::from)
        );
    }
}
