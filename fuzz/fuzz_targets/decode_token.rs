//! Any bytes as a bearer token: decoding must refuse or accept, never panic, hang or allocate
//! without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        if let Ok(decoded) = backend::auth::jwt::decode(token) {
            // What decoding promises: the signed part is a prefix of the token.
            assert!(token.as_bytes().starts_with(decoded.signing_input));
        }
    }
});
