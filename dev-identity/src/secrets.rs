//! Unguessable values: authorization codes, refresh tokens, session and sign-in request ids.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

/// 32 random bytes, base64url: 256 bits nobody can guess, safe in URLs, forms and cookies.
pub(crate) fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// A random (version 4) UUID, for token ids (`uti`) and error trace ids.
pub(crate) fn random_uuid() -> Uuid {
    uuid::Builder::from_random_bytes(random_bytes::<16>()).into_uuid()
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    // The system random source failing means the machine cannot do cryptography at all; no request
    // can be answered safely, so this is the one place a panic is the right answer.
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random number generator failed");
    bytes
}
