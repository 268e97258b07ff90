//! The signing keys: RSA 2048 generated at start-up, published as a JWKS, used for RS256 tokens
//! (signed by `jsonwebtoken`, on aws-lc-rs like the rest of the tree).
//!
//! Keys live in memory only, so every start publishes new ones; an API that caches the key set
//! must refetch it on an unknown `kid`, exactly as it must for Entra's rotations. The dev-only
//! rotation hook ([`KeyRing::rotate`]) makes that testable without restarting the provider.

use std::{
    collections::VecDeque,
    sync::{Arc, PoisonError, RwLock},
};

use aws_lc_rs::{
    digest,
    encoding::AsDer,
    rsa::{KeyPair, KeySize, PublicKeyComponents},
    signature::KeyPair as _,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

/// How many retired keys stay published after a rotation, so tokens signed just before it keep
/// verifying until they expire (Entra, too, publishes a key before and after its use).
const RETIRED_KEYS_KEPT: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("RSA key generation failed")]
    Generate,
    #[error("RS256 signing failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// A public key as a JWK, with the fields Entra's key set has for RSA signing keys.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Jwk {
    kty: &'static str,
    #[serde(rename = "use")]
    usage: &'static str,
    kid: String,
    n: String,
    e: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Jwks {
    keys: Vec<Jwk>,
}

impl Jwks {
    /// The key ids, in publishing order.
    pub(crate) fn kids(&self) -> Vec<String> {
        self.keys.iter().map(|key| key.kid.clone()).collect()
    }
}

#[derive(Debug)]
struct SigningKey {
    encoding: EncodingKey,
    jwk: Jwk,
}

impl SigningKey {
    fn generate() -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
        let pkcs8 = pair.as_der().map_err(|_| KeyError::Generate)?;
        let pkcs1 = pkcs1_of_pkcs8(pkcs8.as_ref()).ok_or(KeyError::Generate)?;
        let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let n = URL_SAFE_NO_PAD.encode(&public.n);
        let e = URL_SAFE_NO_PAD.encode(&public.e);
        let kid = thumbprint(&n, &e);
        Ok(SigningKey {
            encoding: EncodingKey::from_rsa_der(pkcs1),
            jwk: Jwk {
                kty: "RSA",
                usage: "sig",
                kid,
                n,
                e,
            },
        })
    }
}

/// The RFC 7638 thumbprint of an RSA key: stable, unique per key, and what many providers use as
/// `kid` (Entra's kids are thumbprints too, of the key's certificate).
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (RFC 5208: a SEQUENCE of the
/// version, the algorithm and an OCTET STRING holding the key). aws-lc-rs exports PKCS#8 only and
/// `jsonwebtoken` signs with PKCS#1 DER; its PEM reader would do this too, at the price of two more
/// crates (`pem`, `simple_asn1`) for these few lines.
fn pkcs1_of_pkcs8(der: &[u8]) -> Option<&[u8]> {
    /// One DER element: its tag, its contents and what follows it.
    fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let (bytes, rest) = rest.split_at(count);
            let len = bytes
                .iter()
                .fold(0usize, |len, &byte| (len << 8) | usize::from(byte));
            (len, rest)
        };
        (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
    }
    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const OCTET_STRING: u8 = 0x04;
    let (SEQUENCE, info, _) = element(der)? else {
        return None;
    };
    let (INTEGER, _, rest) = element(info)? else {
        return None;
    };
    let (SEQUENCE, _, rest) = element(rest)? else {
        return None;
    };
    let (OCTET_STRING, key, _) = element(rest)? else {
        return None;
    };
    Some(key)
}

/// The current signing key and the recently retired ones.
#[derive(Debug)]
pub(crate) struct KeyRing {
    keys: RwLock<Keys>,
}

#[derive(Debug)]
struct Keys {
    current: Arc<SigningKey>,
    /// Newest first.
    retired: VecDeque<Arc<SigningKey>>,
}

impl KeyRing {
    /// Generates the first key. Blocking (RSA generation takes tens of milliseconds).
    pub(crate) fn generate() -> Result<Self, KeyError> {
        Ok(KeyRing {
            keys: RwLock::new(Keys {
                current: Arc::new(SigningKey::generate()?),
                retired: VecDeque::new(),
            }),
        })
    }

    fn current(&self) -> Arc<SigningKey> {
        Arc::clone(
            &self
                .keys
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .current,
        )
    }

    /// A compact JWS (`header.claims.signature`) of `claims`, signed RS256 with the current key,
    /// under the header Entra puts on its tokens (`typ`, `alg`, `kid`; no `x5t`: these keys have no
    /// certificate).
    pub(crate) fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let key = self.current();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.jwk.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &key.encoding)?)
    }

    /// The published key set: the current key first, then the retired ones still kept.
    pub(crate) fn jwks(&self) -> Jwks {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        Jwks {
            keys: std::iter::once(&keys.current)
                .chain(&keys.retired)
                .map(|key| key.jwk.clone())
                .collect(),
        }
    }

    /// Signs from now on with a new key, keeping the previous one published for a while.
    /// Blocking, like [`KeyRing::generate`]. Returns the new `kid`.
    pub(crate) fn rotate(&self) -> Result<String, KeyError> {
        let fresh = Arc::new(SigningKey::generate()?);
        let kid = fresh.jwk.kid.clone();
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        let previous = std::mem::replace(&mut keys.current, fresh);
        keys.retired.push_front(previous);
        keys.retired.truncate(RETIRED_KEYS_KEPT);
        Ok(kid)
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};

    use super::*;

    fn verify(jwk: &Jwk, token: &str) -> bool {
        let (signing_input, signature) = token.rsplit_once('.').expect("three parts");
        let key = RsaPublicKeyComponents {
            n: URL_SAFE_NO_PAD.decode(&jwk.n).expect("n"),
            e: URL_SAFE_NO_PAD.decode(&jwk.e).expect("e"),
        };
        let signature = URL_SAFE_NO_PAD.decode(signature).expect("signature");
        key.verify(
            &RSA_PKCS1_2048_8192_SHA256,
            signing_input.as_bytes(),
            &signature,
        )
        .is_ok()
    }

    #[test]
    fn tokens_verify_with_the_published_key_and_name_it() {
        let ring = KeyRing::generate().expect("key");
        let token = ring.sign(&serde_json::json!({"sub": "x"})).expect("sign");
        let jwks = ring.jwks();
        assert_eq!(jwks.keys.len(), 1);
        assert!(verify(&jwks.keys[0], &token));
        let header = token.split('.').next().expect("header");
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("b64")).expect("json");
        assert_eq!(
            header,
            serde_json::json!({"typ": "JWT", "alg": "RS256", "kid": jwks.kids()[0]})
        );
    }

    #[test]
    fn the_pkcs1_key_is_found_inside_pkcs8_and_malformed_input_is_refused() {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("key");
        let pkcs8 = pair.as_der().expect("pkcs8");
        let pkcs1 = pkcs1_of_pkcs8(pkcs8.as_ref()).expect("pkcs1");
        let parsed = KeyPair::from_der(pkcs1).expect("a PKCS#1 RSAPrivateKey");
        assert_eq!(
            parsed.public_key().as_ref(),
            pair.public_key().as_ref(),
            "the same key"
        );
        let bytes = pkcs8.as_ref();
        for bad in [
            &bytes[..bytes.len() / 2],
            &bytes[1..],
            &[][..],
            &[0x30, 0x85],
        ] {
            assert!(pkcs1_of_pkcs8(bad).is_none());
        }
    }

    #[test]
    fn rotation_publishes_the_new_key_first_and_drops_the_oldest() {
        let ring = KeyRing::generate().expect("key");
        let first = ring.jwks().kids().remove(0);
        let mut kids = vec![first.clone()];
        for _ in 0..RETIRED_KEYS_KEPT + 1 {
            kids.push(ring.rotate().expect("rotate"));
        }
        let published = ring.jwks().kids();
        let expected: Vec<String> = kids
            .iter()
            .rev()
            .take(RETIRED_KEYS_KEPT + 1)
            .cloned()
            .collect();
        assert_eq!(published, expected);
        assert!(!published.contains(&first), "the oldest key must be gone");
    }
}
