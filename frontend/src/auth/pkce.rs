//! Proof Key for Code Exchange (RFC 7636) with the S256 method: the authorization code is only
//! redeemable by whoever holds the verifier, which never leaves this browser tab until redemption.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use wasm_bindgen_futures::JsFuture;

use super::AuthError;

/// The code verifier: 32 random bytes, base64url-encoded to 43 characters (RFC 7636 §4.1).
pub fn verifier(random: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(random)
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
    Ok(URL_SAFE_NO_PAD.encode(js_sys::Uint8Array::new(&digest).to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 appendix B (the challenge of this verifier is checked in the browser tests).
    #[test]
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

    #[test]
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
