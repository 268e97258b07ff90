//! JSON text to and from the app's types, through the types' own serde derives: the `shared` types
//! for the API and `config.json`, derived types for the token endpoint and the session cache.
//!
//! In the browser the text is parsed by the browser's own `JSON.parse` and the value read by
//! serde-wasm-bindgen: the smallest of the measured format layers (docs/decisions.md), because
//! the parser is the browser's. Native builds (the unit tests) read and write the same derives
//! with serde_json; `frontend/tests/browser.rs` runs the browser's layer.
//!
//! Two of serde_json's checks are not made in the browser: [`from_str_strict`] makes them where
//! they matter (`config.json`, written by hand).

use serde::Serialize;
use serde::de::{self, DeserializeOwned};
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

/// Parses `text`, a document written by hand, as a `T`, refusing what `JSON.parse` and
/// serde-wasm-bindgen let through and serde_json does not: a key given twice (`JSON.parse` keeps
/// the last) and a key `T` does not have (serde-wasm-bindgen reads only `T`'s own). Both are
/// usually a typing mistake in `config.json`.
pub fn from_str_strict<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    // A misspelt key also leaves a field missing: the key is the better explanation.
    match (from_str(text), known_keys_once::<T>(text)) {
        (_, Err(key_error)) => Err(key_error),
        (value, Ok(())) => value,
    }
}

/// Every top-level key of `text` is a field of `T`, given once.
fn known_keys_once<T: DeserializeOwned>(text: &str) -> Result<(), String> {
    let fields = field_names::<T>();
    let mut seen = Vec::new();
    for key in top_level_keys(text) {
        if !fields.contains(&key) {
            return Err(format!(
                "unknown field `{key}`, expected one of {}",
                fields.join(", ")
            ));
        }
        if seen.contains(&key) {
            return Err(format!("duplicate field `{key}`"));
        }
        seen.push(key);
    }
    Ok(())
}

/// The keys of the top-level object of `text`, a valid JSON document, as written.
fn top_level_keys(text: &str) -> Vec<&str> {
    let mut keys = Vec::new();
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
                let is_key = depth == 1
                    && text
                        .get(at + 1..)
                        .is_some_and(|rest| rest.trim_start().starts_with(':'));
                if let (true, Some(key)) = (is_key, text.get(start..at)) {
                    keys.push(key);
                }
            }
            _ => {}
        }
        at += 1;
    }
    keys
}

/// The field names serde's derive gives `T`: it hands them to `deserialize_struct`, which this
/// deserializer answers with them, as an error.
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    #[derive(Debug)]
    struct Fields(&'static [&'static str]);

    impl std::fmt::Display for Fields {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("fields")
        }
    }

    impl std::error::Error for Fields {}

    impl de::Error for Fields {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Fields(&[])
        }
    }

    struct Probe;

    impl<'de> de::Deserializer<'de> for Probe {
        type Error = Fields;

        fn deserialize_any<V: de::Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
            Err(Fields(&[]))
        }

        fn deserialize_struct<V: de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Fields> {
            Err(Fields(fields))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    T::deserialize(Probe)
        .err()
        .map_or(&[], |Fields(fields)| fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        client_id: String,
        count: u64,
    }

    #[test]
    fn the_fields_are_serdes_names() {
        assert_eq!(field_names::<Sample>(), ["clientId", "count"]);
    }

    #[test]
    fn top_level_keys_as_written() {
        assert_eq!(
            top_level_keys(r#"{ "a" : 1, "b":{"a":2},"c":[{"a":3}], "d":"x\"a\":1", "e\\":2}"#),
            ["a", "b", "c", "d", r"e\\"]
        );
        assert!(top_level_keys("[]").is_empty());
    }

    #[test]
    fn strict_documents_refuse_repeated_and_unknown_keys() {
        assert_eq!(
            from_str_strict::<Sample>(r#"{"clientId":"x","count":2}"#),
            Ok(Sample {
                client_id: "x".into(),
                count: 2
            })
        );
        for (text, expected) in [
            (r#"{"clientId":"x","count":2,"clientId":"y"}"#, "clientId"),
            (
                r#"{"clientId":"x","count":2,"clientSecret":"y"}"#,
                "clientSecret",
            ),
        ] {
            let error = from_str_strict::<Sample>(text).expect_err(text);
            assert!(error.contains(expected), "{error}");
        }
    }
}
