//! base64url without padding (RFC 4648 §5), as PKCE and JWTs use it, by the browser's own `btoa`
//! and `atob` rather than a crate: the bundle carries only the swap of the two characters that
//! differ from base64 and a check of what `atob` lets through.
//!
//! `btoa` and `atob` work on byte strings, JavaScript strings whose every character is one byte
//! (U+0000 to U+00FF): bytes go in as such a string and come back out of one, so binary data and
//! UTF-8 pass through unchanged.

use crate::browser;

/// `bytes` in base64url, without padding.
pub fn encode(bytes: &[u8]) -> String {
    let byte_string: String = bytes.iter().copied().map(char::from).collect();
    let base64 = browser::window()
        .btoa(&byte_string)
        // `btoa` throws only for characters above U+00FF, which a byte string has none of.
        .expect("btoa encodes every byte string");
    base64
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect()
}

/// The bytes `text` encodes, or `None` unless it is base64url without padding as [`encode`]
/// writes it. `atob` alone would also take base64's `+` and `/`, padding, spaces and leftover
/// bits that are not zero; an encoding is the one [`encode`] gives for its bytes, so any of those
/// fails the comparison below, as the `base64` crate refused them before.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let base64: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    // `atob` throws for characters outside base64 and for a length of 4n + 1.
    let byte_string = browser::window().atob(&base64).ok()?;
    let bytes = byte_string
        .chars()
        .map(|c| u8::try_from(c).ok())
        .collect::<Option<Vec<u8>>>()?;
    (encode(&bytes) == text).then_some(bytes)
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    /// RFC 4648 §10's test vectors, in the URL-safe alphabet without padding.
    #[wasm_bindgen_test]
    fn rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), encoded, "{plain}");
            assert_eq!(
                decode(encoded).as_deref(),
                Some(plain.as_bytes()),
                "{encoded}"
            );
        }
    }

    /// The two characters of the URL-safe alphabet, and every byte value, both ways.
    #[wasm_bindgen_test]
    fn binary_and_utf8_pass_unchanged() {
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "-_-_");
        assert_eq!(decode("-_-_"), Some(vec![0xfb, 0xff, 0xbf]));
        let every_byte: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&every_byte)), Some(every_byte));
        let text = "Zoë Ærøskøbing: 東京 ✓ 😀";
        let encoded = encode(text.as_bytes());
        assert_eq!(encoded, "Wm_DqyDDhnLDuHNrw7hiaW5nOiDmnbHkuqwg4pyTIPCfmIA");
        assert_eq!(decode(&encoded).as_deref(), Some(text.as_bytes()));
    }

    /// What `atob` would take but base64url without padding does not: refused, never a panic.
    #[wasm_bindgen_test]
    fn refuses_anything_else() {
        for bad in [
            "Z",        // a length of 4n + 1
            "Zg==",     // padding
            "Zm9v+_",   // base64's alphabet
            "Zm9v/-",   // likewise
            "Zm9v Yg",  // spaces
            "Zm9vYg\n", // a line break
            "Zh",       // leftover bits not zero (Zg is "f")
            "Zm9",      // likewise (Zm8 is "fo")
            "Zm9vé",    // outside ASCII
            "!!!!",     // outside the alphabet
            "Zm9v.Yg",  // a JWT's separator
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}
