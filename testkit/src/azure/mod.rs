//! Test-only stand-ins for the Azure services the API reads its configuration from, speaking
//! their documented protocols on loopback:
//!
//! - [`TestCa`]: a throwaway certificate authority (rcgen) whose PEM file the API trusts through
//!   `SSL_CERT_FILE`;
//! - [`KeyVaultServer`]: Key Vault's secrets REST API over TLS, with the 401 bearer challenge;
//! - [`IdentityEndpoint`]: the managed identity endpoint of Container Apps and App Service
//!   (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`, api-version 2019-08-01);
//! - [`ConnectProxy`]: an HTTPS proxy (`HTTPS_PROXY`) that tunnels the vault's real host name,
//!   `*.vault.azure.net`, to the stand-in vault, so the API binary needs no test hook to reach it.

mod identity;
mod key_vault;
mod proxy;
mod tls;

pub use identity::IdentityEndpoint;
pub use key_vault::{KeyVaultServer, VAULT_HOST, VAULT_RESOURCE, VAULT_TENANT_ID};
pub use proxy::ConnectProxy;
pub use tls::TestCa;

/// A fresh, unmistakable access token for the identity endpoint to issue and the vault to
/// accept (tests search logs for it).
pub fn new_access_token() -> String {
    format!("testkit-mi-token-{}", random_hex(24))
}

/// A random lowercase hex string of `bytes` random bytes (tokens, header secrets, versions).
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("system randomness");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
