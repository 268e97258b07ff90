//! JSON text to and from the app's types, through the types' own serde derives: the `shared` types
//! for the API and `config.json`, derived types for the token endpoint and the session cache.
//!
//! One module, so the format layer is chosen in one place (docs/decisions.md has the measured
//! candidates).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Parses `text` as a `T`: unknown, missing, mistyped and duplicate fields are refused by name.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|error| error.to_string())
}

/// `value` as JSON text.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    // Fails only for maps with non-string keys, which no type here has.
    serde_json::to_string(value).unwrap_or_default()
}
