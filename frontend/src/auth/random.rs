//! Unguessable values for `state`, `nonce` and the PKCE verifier, from the browser's CSPRNG.

use super::{AuthError, base64url};

/// The browser's Web Crypto.
pub fn crypto() -> Result<web_sys::Crypto, AuthError> {
    web_sys::window()
        .and_then(|window| window.crypto().ok())
        .ok_or(AuthError::NoCrypto)
}

/// 32 bytes from `crypto.getRandomValues` (256 bits, as RFC 7636 §7.1 recommends for verifiers).
pub fn random_bytes() -> Result<[u8; 32], AuthError> {
    let mut bytes = [0_u8; 32];
    crypto()?
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|_| AuthError::NoCrypto)?;
    Ok(bytes)
}

/// 32 random bytes, base64url-encoded without padding (43 URL-safe characters).
pub fn random_token() -> Result<String, AuthError> {
    random_bytes().map(|bytes| base64url::encode(&bytes))
}
