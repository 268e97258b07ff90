//! Proof Key for Code Exchange (RFC 7636) with the S256 method: the authorization code is only
//! redeemable by whoever holds the verifier, which never leaves this browser tab until redemption.

use wasm_bindgen_futures::JsFuture;

use super::{AuthError, base64url};

/// The code verifier: 32 random bytes, base64url-encoded to 43 characters (RFC 7636 §4.1).
pub fn verifier(random: &[u8; 32]) -> String {
    base64url::encode(random)
}

/// The S256 code challenge: `BASE64URL(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2). The
/// browser's Web Crypto computes the hash, as in MSAL.js, so the bundle carries no SHA-256 of its
/// own. (`frontend/tests/browser.rs` checks it against RFC 7636's example.)
pub async fn challenge(verifier: &str) -> Result<String, AuthError> {
    let subtle = super::random::crypto()?.subtle();
    let digest = subtle
        .digest_with_str_and_u8_array("SHA-256", verifier.as_bytes())
        .map_err(|_| AuthError::NoCrypto)?;
    let digest = JsFuture::from(digest)
        .await
        .map_err(|_| AuthError::NoCrypto)?;
    Ok(base64url::encode(
        &js_sys::Uint8Array::new(&digest).to_vec(),
    ))
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    /// RFC 7636 appendix B (the challenge of this verifier: `frontend/tests/browser.rs`).
    #[wasm_bindgen_test]
    fn rfc_7636_appendix_b_verifier() {
        let octets = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        assert_eq!(
            verifier(&octets),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[wasm_bindgen_test]
    fn verifier_uses_only_unreserved_characters() {
        let verifier = verifier(&[0xff; 32]);
        assert_eq!(verifier.len(), 43);
        assert!(
            verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
}
