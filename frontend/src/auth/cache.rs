//! The session's tokens and sign-in state in `sessionStorage`, as MSAL does by default: they live
//! as long as the tab, are not shared with other tabs, and nothing goes to `localStorage`.

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};

use super::AuthError;
use crate::codec;

/// What is cached, one `sessionStorage` entry each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The signed-in user (from the ID token).
    Account,
    /// The API's access token with its expiry.
    AccessToken,
    RefreshToken,
    /// The sign-in request in flight (short-lived: consumed by the redirect back).
    Request,
    /// When the last interactive sign-in started, to never bounce the user to the authority in a loop.
    InteractiveAt,
}

impl Key {
    const ALL: [Key; 5] = [
        Key::Account,
        Key::AccessToken,
        Key::RefreshToken,
        Key::Request,
        Key::InteractiveAt,
    ];

    fn name(self) -> &'static str {
        match self {
            Key::Account => "account",
            Key::AccessToken => "access_token",
            Key::RefreshToken => "refresh_token",
            Key::Request => "request",
            Key::InteractiveAt => "interactive_at",
        }
    }
}

/// JSON values in `sessionStorage`, under keys namespaced by the app's client id (so two apps on
/// one origin, or a changed configuration, never read each other's tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCache {
    prefix: String,
}

impl SessionCache {
    pub fn new(client_id: &str) -> Self {
        Self {
            prefix: format!("entra-spa.{client_id}."),
        }
    }

    /// The entry under `key`; an entry that no longer parses is removed and treated as absent.
    pub fn get<T: DeserializeOwned>(&self, key: Key) -> Option<T> {
        let storage = storage().ok()?;
        let name = self.name(key);
        let raw = storage.get_item(&name).ok()??;
        let value = codec::from_str(&raw).ok();
        if value.is_none() {
            let _ = storage.remove_item(&name);
        }
        value
    }

    pub fn set<T: Serialize + ?Sized>(&self, key: Key, value: &T) -> Result<(), AuthError> {
        storage()?
            .set_item(&self.name(key), &codec::to_string(value))
            .map_err(|_| AuthError::Storage)
    }

    /// Writes a secret under `key` as its plain value (see [`expose`]).
    pub fn set_secret(&self, key: Key, secret: &SecretString) -> Result<(), AuthError> {
        self.set(key, secret.expose_secret())
    }

    pub fn remove(&self, key: Key) {
        if let Ok(storage) = storage() {
            let _ = storage.remove_item(&self.name(key));
        }
    }

    /// The entry under `key`, removed: for values that must be used at most once.
    pub fn take<T: DeserializeOwned>(&self, key: Key) -> Option<T> {
        let value = self.get(key);
        self.remove(key);
        value
    }

    /// Removes every entry of this app.
    pub fn clear(&self) {
        for key in Key::ALL {
            self.remove(key);
        }
    }

    fn name(&self, key: Key) -> String {
        format!("{}{}", self.prefix, key.name())
    }
}

/// A secret as its plain value, for the entries of this cache, which hold the session's tokens and
/// the PKCE verifier. `SecretString` has no `Serialize`: this module is where secrets are exposed
/// to be written, here for the secret fields of the cached types
/// (`#[serde(serialize_with = "cache::expose")]`) and in [`SessionCache::set_secret`].
pub fn expose<S: Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

fn storage() -> Result<web_sys::Storage, AuthError> {
    web_sys::window()
        .and_then(|window| window.session_storage().ok().flatten())
        .ok_or(AuthError::Storage)
}
