//! JSON text to and from the app's types, through the types' own serde derives: the `shared` types
//! for the API and `config.json`, derived types for the token endpoint and the session cache.
//!
//! In the browser the text is parsed by the browser's own `JSON.parse` and the value read by
//! serde-wasm-bindgen: the smallest of the measured format layers (docs/decisions.md), because
//! the parser is the browser's. Native builds (the unit tests) read and write the same derives
//! with serde_json; `frontend/tests/browser.rs` runs the browser's layer.
//!
//! `JSON.parse` keeps the last of repeated keys without a word, where serde_json refuses them:
//! [`repeated_key`] restores that check where it matters (`config.json`, written by hand).

use serde::Serialize;
use serde::de::DeserializeOwned;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen::JsCast;

/// Parses `text` as a `T`: missing and mistyped fields are refused by name, and unknown ones where
/// the type says so.
#[cfg(target_arch = "wasm32")]
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|error| {
        error
            .dyn_ref::<js_sys::Error>()
            .map_or_else(|| "not JSON".to_owned(), |error| error.message().into())
    })?;
    serde_wasm_bindgen::from_value(value).map_err(|error| error.to_string())
}

/// `value` as JSON text.
#[cfg(target_arch = "wasm32")]
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    // Fails only for values JavaScript numbers cannot hold exactly; none of the app's do.
    serde_wasm_bindgen::to_value(value)
        .ok()
        .and_then(|value| js_sys::JSON::stringify(&value).ok())
        .map(String::from)
        .unwrap_or_default()
}

#[cfg(not(target_arch = "wasm32"))]
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|error| error.to_string())
}

#[cfg(not(target_arch = "wasm32"))]
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The first key that appears twice in the top-level object of `text`, a valid JSON document.
/// Keys are compared as written.
pub fn repeated_key(text: &str) -> Option<&str> {
    let mut keys: Vec<&str> = Vec::new();
    let mut depth = 0_usize;
    let mut at = 0;
    while let Some(&byte) = text.as_bytes().get(at) {
        match byte {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = at + 1;
                at = start;
                while let Some(&byte) = text.as_bytes().get(at) {
                    match byte {
                        b'"' => break,
                        b'\\' => at += 2,
                        _ => at += 1,
                    }
                }
                let string = text.get(start..at)?;
                let is_key = depth == 1 && text.get(at + 1..)?.trim_start().starts_with(':');
                if is_key {
                    if keys.contains(&string) {
                        return Some(string);
                    }
                    keys.push(string);
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_top_level_keys_are_found() {
        assert_eq!(repeated_key(r#"{"a":1,"b":2,"a":3}"#), Some("a"));
        assert_eq!(
            repeated_key(r#"{ "clientId" : "x", "authority":"y",  "clientId":"z" }"#),
            Some("clientId")
        );
        for unique in [
            r#"{"a":1,"b":{"a":2},"c":[{"a":3}]}"#,
            r#"{"a":"b","b":"a"}"#,
            r#"{"a":"x\"a\":1","b":"{\"a\":2}"}"#,
            r#"{"a\\":1,"a":2}"#,
            "[]",
            "{}",
        ] {
            assert_eq!(repeated_key(unique), None, "{unique}");
        }
    }
}
