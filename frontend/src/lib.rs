//! The single-page app: sign-in (authorization code + PKCE) and the API client.

mod api;
pub mod auth;
mod browser;
pub mod config;
mod url;
