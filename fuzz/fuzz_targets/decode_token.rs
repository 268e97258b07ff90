//! A bearer token's path through the API's decoding: the header rules, then jsonwebtoken's
//! signature and claim checks. Either must refuse or accept, never panic, hang or allocate
//! without bound.
//!
//! The first byte picks the input's role: an even byte sends the rest as the whole token (what
//! anyone can send; it rarely gets past the signature), an odd byte as the claims of a token
//! signed with the published test key (what reaches the claim parsing and rules).
#![no_main]

use std::{sync::LazyLock, time::Duration};

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair},
};
use backend::auth::jwt;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, Validation};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    pair: RsaKeyPair,
    key: DecodingKey,
    rules: Validation,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let pair = RsaKeyPair::from_pkcs8(include_bytes!(
        "../../backend/tests/fixtures/primary.pk8.der"
    ))
    .expect("fixture key");
    let key = DecodingKey::from_rsa_der(pair.public_key().as_ref());
    let rules = jwt::rules(&["api"], &["issuer"], Duration::from_secs(60));
    Fixture { pair, key, rules }
});

/// `claims` (any bytes) as the payload of an RS256 token signed by the fixture key.
fn signed(claims: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"primary"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut signature = vec![0; FIXTURE.pair.public_modulus_len()];
    FIXTURE
        .pair
        .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature)
        .expect("signing");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fuzz_target!(|data: &[u8]| {
    let Some((&role, rest)) = data.split_first() else {
        return;
    };
    let token = if role % 2 == 0 {
        match std::str::from_utf8(rest) {
            Ok(token) => token.to_owned(),
            Err(_) => return,
        }
    } else {
        signed(rest)
    };
    if let Ok(header) = jwt::header(&token) {
        assert!(!header.kid.is_empty(), "a kid is required");
        if let Ok(claims) = jwt::decode(&token, &FIXTURE.key, &FIXTURE.rules) {
            // What decoding promises: the rules held.
            assert!(claims.exp >= 0 && claims.nbf >= 0);
            assert_eq!(claims.iss, "issuer");
        }
    }
});
