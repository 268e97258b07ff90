//! `dev-identity`: a local OpenID Connect provider that speaks Microsoft Entra ID's protocol, so
//! the SPA and the API run and are tested without an Azure tenant. **Development only.**
//!
//! It serves Entra's paths under `http://127.0.0.1:{port}/{tenant}` (or `https://` with its own
//! local CA): v2.0 and v1 discovery documents, the key set, the authorization endpoint (code flow,
//! PKCE S256 only; query, fragment or form_post answers), the token endpoint
//! (`authorization_code` and `refresh_token`) for a SPA and a public (desktop) client, and
//! sign-out. Test users sign in by a click on a plain page, or directly with `login_hint`.
//!
//! The binary parses [`Cli`]; tests and tools start one in-process with [`Provider::builder`].

mod authorize;
mod cli;
mod clock;
mod config;
mod dev;
mod discovery;
mod error;
mod grants;
mod jwt;
mod keys;
mod pages;
mod params;
mod provider;
mod request;
mod scope;
mod secrets;
mod session;
mod settings;
mod state;
mod store;
mod tls;
mod token_endpoint;
mod users;

pub use cli::{Cli, CliError};
pub use config::{
    DEFAULT_API_CLIENT_ID, DEFAULT_PORT, DEFAULT_PUBLIC_CLIENT_ID, DEFAULT_PUBLIC_REDIRECT_URI,
    DEFAULT_REDIRECT_URI, DEFAULT_SPA_CLIENT_ID, DEFAULT_TENANT_ID, InvalidPublicUrl,
    InvalidRedirectUri, PublicUrl, RedirectUri, TokenVersion,
};
pub use keys::KeyError;
pub use provider::{Provider, ProviderBuilder, RunningProvider, StartError};
pub use tls::{TlsError, default_data_dir};
pub use users::{User, Users, UsersError};
