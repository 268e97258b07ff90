//! Who is calling: Entra ID access tokens validated against the tenant's published keys, turned
//! into a [`Principal`].
//!
//! - [`jwt`]: the header rules, then `jsonwebtoken`'s signature and registered-claim checks, the
//!   claims read into strict types (the fuzzed path).
//! - [`keys`]: the tenant's signing keys and issuers (OpenID discovery + JWKS), refreshed in the
//!   background and on unknown key ids, read without locks.
//! - [`verifier`]: the rules for one tenant and API, and [`Authenticator`], the swappable holder
//!   the app state keeps (configuration may arrive, or change, after start-up).
//! - [`cache`]: already-verified tokens, so a hot token skips the RSA verification.
//! - [`settings`]: whose tokens, and how to check them, from the configuration.
//! - [`principal`]: the caller; [`error`]: why a token was refused.
//!
//! The axum side (the authentication layer and the role extractors) is `crate::access`.

mod cache;
pub mod error;
pub mod jwt;
pub mod keys;
mod principal;
mod settings;
mod verifier;

pub use error::{AuthError, TokenError};
pub use principal::Principal;
pub use settings::{ApiIds, AuthSettings, ID_VARIABLES};
pub use verifier::{Authenticator, TokenVerifier};
